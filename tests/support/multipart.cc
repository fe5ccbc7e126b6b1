#include "support/multipart.h"

#include <cctype>

namespace oncomesh::testing {

std::string BoundaryOf(const std::string& content_type) {
  const size_t at = content_type.find("boundary=");
  if (at == std::string::npos) return "";
  std::string value = content_type.substr(at + 9);
  const size_t end = value.find(';');
  if (end != std::string::npos) value = value.substr(0, end);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  return value;
}

std::vector<MultipartPart> ParseMultipart(const std::string& body, const std::string& boundary) {
  std::vector<MultipartPart> parts;
  const std::string delimiter = "--" + boundary;
  size_t at = body.find(delimiter);
  if (at != 0) return {};
  while (true) {
    at += delimiter.size();
    if (body.compare(at, 2, "--") == 0) return parts;  // the close delimiter
    if (body.compare(at, 2, "\r\n") != 0) return {};
    at += 2;
    const size_t headers_end = body.find("\r\n\r\n", at);
    if (headers_end == std::string::npos) return {};
    MultipartPart part;
    size_t line = at;
    while (line < headers_end) {
      size_t eol = body.find("\r\n", line);
      if (eol > headers_end) eol = headers_end;
      const std::string header = body.substr(line, eol - line);
      const size_t colon = header.find(':');
      if (colon != std::string::npos) {
        std::string name = header.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t v = colon + 1;
        while (v < header.size() && header[v] == ' ') ++v;
        if (name == "content-type") part.content_type = header.substr(v);
      }
      line = eol + 2;
    }
    const size_t content = headers_end + 4;
    const size_t next = body.find("\r\n" + delimiter, content);
    if (next == std::string::npos) return {};
    part.body = body.substr(content, next - content);
    parts.push_back(std::move(part));
    at = next + 2;
  }
}

}  // namespace oncomesh::testing
