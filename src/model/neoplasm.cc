#include "model/neoplasm.h"

#include <unordered_map>

#include "util/embedded_table.h"

namespace oncomesh::model {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

NeoplasmKind Icd10Kind(std::string_view code) {
  // A category is a letter and two characters: two digits, or ICD-10-CM's C7A / C7B / D3A.
  if (code.size() < 3 || (code.size() > 3 && code[3] != '.')) return NeoplasmKind::kNotCancer;
  const char chapter = code[0];
  if ((chapter != 'C' && chapter != 'D') || !IsDigit(code[1])) return NeoplasmKind::kNotCancer;
  if (chapter == 'C' && code[1] == '7' && (code[2] == 'A' || code[2] == 'B')) {
    return code[2] == 'A' ? NeoplasmKind::kPrimaryCancer : NeoplasmKind::kSecondaryCancer;
  }
  if (chapter == 'D' && code[1] == '3' && code[2] == 'A')
    return NeoplasmKind::kNotCancer;  // benign NET
  if (!IsDigit(code[2])) return NeoplasmKind::kNotCancer;
  const int category = (code[1] - '0') * 10 + (code[2] - '0');
  if (chapter == 'C') {
    if (category >= 77 && category <= 79) return NeoplasmKind::kSecondaryCancer;
    return category <= 97 ? NeoplasmKind::kPrimaryCancer : NeoplasmKind::kNotCancer;
  }
  if (category <= 9 || (category >= 37 && category <= 49)) return NeoplasmKind::kPrimaryCancer;
  return NeoplasmKind::kNotCancer;
}

std::optional<NeoplasmKind> IcdO3BehaviourKind(std::string_view morphology) {
  const size_t slash = morphology.find('/');
  if (slash == std::string_view::npos || slash + 2 != morphology.size()) return std::nullopt;
  switch (morphology[slash + 1]) {
    case '0':
      return NeoplasmKind::kNotCancer;
    case '1':
    case '2':
    case '3':
    case '9':
      return NeoplasmKind::kPrimaryCancer;
    case '6':
      return NeoplasmKind::kSecondaryCancer;
    default:
      return std::nullopt;
  }
}

std::optional<std::string> SnomedToIcd10(std::string_view snomed_code) {
  static const auto* map = [] {
    auto* m = new std::unordered_map<std::string, std::string>;
    for (auto& row : EmbeddedTableRows("data/vocab/snomed_icd10.tsv", 3)) {
      m->emplace(std::move(row[0]), std::move(row[1]));
    }
    return m;
  }();
  const auto it = map->find(std::string(snomed_code));
  if (it == map->end()) return std::nullopt;
  return it->second;
}

}  // namespace oncomesh::model
