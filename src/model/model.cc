#include "model/model.h"

namespace oncomesh::model {

const char* SexName(Sex sex) {
  switch (sex) {
    case Sex::kFemale:
      return "female";
    case Sex::kMale:
      return "male";
    case Sex::kOther:
      return "other";
    case Sex::kUnknown:
      break;
  }
  return "unknown";
}

const char* VitalStatusName(VitalStatus v) {
  switch (v) {
    case VitalStatus::kAlive:
      return "alive";
    case VitalStatus::kDeceased:
      return "deceased";
    case VitalStatus::kUnknown:
      break;
  }
  return "unknown";
}

const char* TreatmentKindName(TreatmentKind kind) {
  switch (kind) {
    case TreatmentKind::kSurgery:
      return "surgery";
    case TreatmentKind::kRadiotherapy:
      return "radiotherapy";
    case TreatmentKind::kMedication:
      return "medication";
    case TreatmentKind::kOther:
      break;
  }
  return "other";
}

std::string VariantId(const std::string& assembly, const std::string& chrom, int64_t position,
                      const std::string& ref, const std::string& alt) {
  return assembly + ":" + chrom + ":" + std::to_string(position) + ":" + ref + ":" + alt;
}

}  // namespace oncomesh::model
