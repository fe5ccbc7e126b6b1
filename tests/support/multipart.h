// Test support: reading a multipart/related response (RFC 2046 5.1, RFC 2387) back into its
// parts, independently of the node's own writer.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace oncomesh::testing {

struct MultipartPart {
  std::string content_type;
  std::string body;
};

// The boundary parameter of a Content-Type ("" when none).
std::string BoundaryOf(const std::string& content_type);

// The parts of `body` delimited by `boundary`; empty when the body is malformed.
std::vector<MultipartPart> ParseMultipart(const std::string& body, const std::string& boundary);

}  // namespace oncomesh::testing
