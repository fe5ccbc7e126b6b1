#include "index/imaging_terms.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>
#include <utility>

#include "util/embedded_data.h"

namespace oncomesh::index {
namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// body_part<TAB>sctid<TAB>meaning rows, after '#' comments and a header row.
std::unordered_map<std::string, BodyPartTerm> LoadBodyParts() {
  constexpr const char* kName = "data/dicom/body_parts.tsv";
  const std::optional<std::string_view> text = EmbeddedFile(kName);
  if (!text) {
    std::fprintf(stderr, "imaging terms: %s is not compiled in\n", kName);
    std::abort();
  }
  std::unordered_map<std::string, BodyPartTerm> table;
  bool header = true;
  size_t pos = 0;
  while (pos < text->size()) {
    size_t eol = text->find('\n', pos);
    if (eol == std::string_view::npos) eol = text->size();
    const std::string_view line = text->substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty() || line[0] == '#') continue;
    if (header) {
      header = false;
      continue;
    }
    const size_t a = line.find('\t');
    const size_t b = a == std::string_view::npos ? a : line.find('\t', a + 1);
    if (b == std::string_view::npos || line.find('\t', b + 1) != std::string_view::npos) {
      std::fprintf(stderr, "imaging terms: %s: a row without three fields\n", kName);
      std::abort();
    }
    table[Upper(line.substr(0, a))] = {"SNOMED:" + std::string(line.substr(a + 1, b - a - 1)),
                                      std::string(line.substr(b + 1))};
  }
  return table;
}

}  // namespace

const BodyPartTerm* FindBodyPartTerm(std::string_view body_part_examined) {
  static const auto* table = new std::unordered_map<std::string, BodyPartTerm>(LoadBodyParts());
  const auto it = table->find(Upper(body_part_examined));
  return it == table->end() ? nullptr : &it->second;
}

const char* ModalityLabel(std::string_view modality) {
  // DICOM PS3.16 CID 29 / CID 33 code meanings.
  static const std::pair<const char*, const char*> kLabels[] = {
      {"CT", "Computed Tomography"},
      {"MR", "Magnetic Resonance"},
      {"MG", "Mammography"},
      {"PT", "Positron emission tomography (PET)"},
      {"US", "Ultrasound"},
      {"CR", "Computed Radiography"},
      {"DX", "Digital Radiography"},
      {"NM", "Nuclear Medicine"},
      {"SM", "Slide Microscopy"},
      {"XA", "X-Ray Angiography"},
      {"SEG", "Segmentation"},
      {"RTSTRUCT", "Radiotherapy Structure Set"},
      {"RTDOSE", "Radiotherapy Dose"},
      {"RTPLAN", "Radiotherapy Plan"},
      {"SR", "SR Document"},
      {"PR", "Presentation State"},
      {"OT", "Other"}};
  for (const auto& [code, label] : kLabels) {
    if (modality == code) return label;
  }
  return nullptr;
}

}  // namespace oncomesh::index
