#include "ingest/fhir/internal/hgvs.h"

#include <cstring>
#include <optional>

namespace oncomesh::ingest::fhir_internal {
namespace {

// IUPAC one-letter codes of the 20 standard amino acids, selenocysteine and pyrrolysine, and
// '*' for a stop (HGVS: "Ter").
const char* ThreeLetter(char one) {
  switch (one) {
    case 'A':
      return "Ala";
    case 'R':
      return "Arg";
    case 'N':
      return "Asn";
    case 'D':
      return "Asp";
    case 'C':
      return "Cys";
    case 'Q':
      return "Gln";
    case 'E':
      return "Glu";
    case 'G':
      return "Gly";
    case 'H':
      return "His";
    case 'I':
      return "Ile";
    case 'L':
      return "Leu";
    case 'K':
      return "Lys";
    case 'M':
      return "Met";
    case 'F':
      return "Phe";
    case 'P':
      return "Pro";
    case 'S':
      return "Ser";
    case 'T':
      return "Thr";
    case 'W':
      return "Trp";
    case 'Y':
      return "Tyr";
    case 'V':
      return "Val";
    case 'U':
      return "Sec";
    case 'O':
      return "Pyl";
    case '*':
      return "Ter";
    default:
      return nullptr;
  }
}

bool IsThreeLetter(std::string_view s) {
  static const char* const kCodes[] = {"Ala", "Arg", "Asn", "Asp", "Cys", "Gln", "Glu", "Gly",
                                       "His", "Ile", "Leu", "Lys", "Met", "Phe", "Pro", "Ser",
                                       "Thr", "Trp", "Tyr", "Val", "Sec", "Pyl", "Ter", "Xaa"};
  for (const char* c : kCodes) {
    if (s == c) return true;
  }
  return false;
}

// Lower-case words of the HGVS protein syntax, longest first so "delins" wins over "del".
constexpr const char* kKeywords[] = {"delins", "del", "ins", "dup", "ext", "fs"};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::string> Normalize(std::string_view s) {
  // Reference sequence: "NP_005219.2:p.…".
  if (const size_t colon = s.find(':'); colon != std::string_view::npos) s.remove_prefix(colon + 1);
  if (s.substr(0, 2) == "p.") s.remove_prefix(2);
  if (s.size() >= 2 && s.front() == '(' && s.back() == ')') {
    s.remove_prefix(1);
    s.remove_suffix(1);
  }
  if (s.empty()) return std::nullopt;
  std::string out = "p.";
  size_t i = 0;
  bool saw_position = false;
  while (i < s.size()) {
    const char c = s[i];
    if (c >= '0' && c <= '9') {
      saw_position = true;
      out.push_back(c);
      ++i;
    } else if (c == '_' || c == '=' || c == '?' || c == '-' || c == '+') {
      out.push_back(c);
      ++i;
    } else if (c >= 'A' && c <= 'Z') {
      if (i + 3 <= s.size() && IsThreeLetter(s.substr(i, 3))) {
        out.append(s.substr(i, 3));
        i += 3;
      } else if (const char* three = ThreeLetter(c)) {
        out.append(three);
        ++i;
      } else {
        return std::nullopt;
      }
    } else if (c == '*') {
      out.append("Ter");
      ++i;
    } else if (c >= 'a' && c <= 'z') {
      const char* word = nullptr;
      for (const char* k : kKeywords) {
        if (s.substr(i, std::strlen(k)) == k) {
          word = k;
          break;
        }
      }
      if (word == nullptr) return std::nullopt;
      out.append(word);
      i += std::strlen(word);
    } else {
      return std::nullopt;
    }
  }
  if (!saw_position && s != "=" && s != "?" && s != "0") return std::nullopt;
  return out;
}

}  // namespace

std::string NormalizeProteinChange(std::string_view text) {
  text = Trim(text);
  std::optional<std::string> n = Normalize(text);
  return n ? std::move(*n) : std::string(text);
}

}  // namespace oncomesh::ingest::fhir_internal
