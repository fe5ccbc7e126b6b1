#include "util/json.h"

#include <vector>

namespace oncomesh {
namespace {

// One array or object open at the scan position: enough to name it with a JSON pointer.
struct Frame {
  bool array = false;
  size_t index = 0;        // arrays: the element being read
  std::string key;         // objects: the member being read, as written (escapes kept)
  bool expect_key = true;  // objects: the next string is a key
};

// RFC 6901 pointer of the open frames.
std::string Pointer(const std::vector<Frame>& frames) {
  std::string out;
  for (const Frame& f : frames) {
    out += '/';
    if (f.array) {
      out += std::to_string(f.index);
      continue;
    }
    for (const char c : f.key) {
      if (c == '~') {
        out += "~0";
      } else if (c == '/') {
        out += "~1";
      } else {
        out += c;
      }
    }
  }
  return out.empty() ? "/" : out;
}

// nlohmann's messages start with "[json.exception.parse_error.101] parse error at line 1,
// column 5: " or "[json.exception.out_of_range.406] "; the byte offset is given separately.
std::string ParseErrorText(const nlohmann::json::exception& e) {
  std::string text = e.what();
  const size_t cut = text.find(e.id == 406 ? "] " : ": ");
  if (cut != std::string::npos) text.erase(0, cut + 2);
  return text;
}

constexpr size_t kMaxKeyShown = 64;

}  // namespace

Status CheckJsonDepth(std::string_view text, std::string_view what, int max_depth) {
  std::vector<Frame> frames;
  bool in_string = false, escape = false, key = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escape) {
        escape = false;
      } else if (c == '\\') {
        escape = true;
      } else if (c == '"') {
        in_string = false;
        if (key) frames.back().expect_key = false;
        key = false;
        continue;
      }
      if (key && frames.back().key.size() < kMaxKeyShown) frames.back().key += c;
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        key = !frames.empty() && !frames.back().array && frames.back().expect_key;
        if (key) frames.back().key.clear();
        break;
      case '[':
      case '{':
        if (frames.size() >= static_cast<size_t>(max_depth)) {
          return InvalidArgument(std::string(what) + ": JSON nested deeper than " +
                                 std::to_string(max_depth) + " levels at byte " +
                                 std::to_string(i) + " (" + Pointer(frames) + ")");
        }
        frames.push_back(Frame{c == '[', 0, "", c == '{'});
        break;
      case ']':
      case '}':
        if (!frames.empty()) frames.pop_back();
        break;
      case ',':
        if (!frames.empty()) {
          if (frames.back().array) {
            ++frames.back().index;
          } else {
            frames.back().expect_key = true;
          }
        }
        break;
      default:
        break;
    }
  }
  return Status::Ok();
}

Result<nlohmann::json> ParseJson(std::string_view text, std::string_view what, JsonLimits limits) {
  if (text.size() > limits.max_bytes) {
    return InvalidArgument(std::string(what) + ": " + std::to_string(text.size()) +
                           " bytes of JSON, more than the " + std::to_string(limits.max_bytes) +
                           " allowed");
  }
  RETURN_IF_ERROR(CheckJsonDepth(text, what, limits.max_depth));
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    return InvalidArgument(std::string(what) + ": not valid JSON at byte " +
                           std::to_string(e.byte == 0 ? 0 : e.byte - 1) + ": " + ParseErrorText(e));
  } catch (const nlohmann::json::exception& e) {
    // out_of_range.406: a number too large for a double ("1E400"), which JSON's grammar allows.
    return InvalidArgument(std::string(what) + ": " + ParseErrorText(e));
  }
}

Status CheckUtf8(std::string_view text, std::string_view what) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    }
    bool valid = len != 0 && i + len <= n;
    for (size_t k = 1; valid && k < len; ++k) {
      valid = (s[i + k] & 0xC0) == 0x80;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    valid = valid && cp >= kMin[len] && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
    if (!valid)
      return InvalidArgument(std::string(what) + ": invalid UTF-8 at byte " + std::to_string(i));
    i += len;
  }
  return Status::Ok();
}

const char* JsonTypeName(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object:
      return "object";
    case nlohmann::json::value_t::array:
      return "array";
    case nlohmann::json::value_t::string:
      return "string";
    case nlohmann::json::value_t::boolean:
      return "boolean";
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return "number";
    default:
      return "not JSON";
  }
}

}  // namespace oncomesh
