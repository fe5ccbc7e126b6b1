// Bounded JSON parsing: the one way OncoMesh reads JSON that comes from outside the process
// (request bodies, node answers at the hub, tokens, issuers' documents, the admin API).
//
// nlohmann::json parses iteratively, but copying, comparing and dumping a value recurse once
// per nesting level: an array nested 100,000 deep parses fine and then overflows the stack of
// whoever copies it. So nesting depth and size are bounded before the document is built; a
// document beyond either bound is refused and never becomes a value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "util/status.h"

namespace oncomesh {

struct JsonLimits {
  // Arrays and objects open at once; a scalar at the top level is depth 0, `[1]` is depth 1.
  // 64 leaves room for every document the Beacon, htsget and GA4GH passport specifications
  // describe (a Beacon filter nested 16 times in anyOf/not is about 36 deep).
  int max_depth = 64;
  // Bytes of text. Request bodies are bounded again, lower, by the HTTP server.
  size_t max_bytes = size_t{64} << 20;
};

// Parses `text` as one JSON document within `limits`. On failure, InvalidArgument whose message
// starts with `what` (e.g. "request body") and names the problem and where it is:
//   "request body: JSON nested deeper than 64 levels at byte 70 (/query/requestParameters/a/0)"
//   "request body: not valid JSON at byte 12: syntax error while parsing value - ..."
//   "node answer: 70000000 bytes of JSON, more than the 67108864 allowed"
// Invalid UTF-8 inside strings is a syntax error. Thread-safe.
Result<nlohmann::json> ParseJson(std::string_view text, std::string_view what,
                                 JsonLimits limits = {});

// The nesting check alone: OK, or InvalidArgument as ParseJson's for depth (the byte offset and
// the JSON pointer of the array or object that goes one level too deep). Does not validate the
// rest of the syntax. Linear in the text, constant stack.
Status CheckJsonDepth(std::string_view text, std::string_view what, int max_depth);

// OK when `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
// above U+10FFFF); otherwise InvalidArgument "`what`: invalid UTF-8 at byte N".
Status CheckUtf8(std::string_view text, std::string_view what);

// A JSON value's type as a Beacon document would name it ("object", "array", "string",
// "number", "boolean", "null"): for error messages about the wrong shape.
const char* JsonTypeName(const nlohmann::json& value);

}  // namespace oncomesh
