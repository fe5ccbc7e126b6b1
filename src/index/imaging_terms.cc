#include "index/imaging_terms.h"

#include <cctype>
#include <unordered_map>
#include <utility>

#include "util/embedded_table.h"

namespace oncomesh::index {
namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// body_part<TAB>sctid<TAB>meaning.
std::unordered_map<std::string, BodyPartTerm> LoadBodyParts() {
  std::unordered_map<std::string, BodyPartTerm> table;
  for (std::vector<std::string>& row : EmbeddedTableRows("data/dicom/body_parts.tsv", 3)) {
    table[Upper(row[0])] = {"SNOMED:" + row[1], std::move(row[2])};
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
