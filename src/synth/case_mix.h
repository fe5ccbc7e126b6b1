// Internal: the cancer types, their distributions and the site profiles the generator draws
// from. Figures and their sources are documented in docs/synth.md; every code here is listed
// in data/vocab/ (synth_test.cc checks it).
#pragma once

#include <array>
#include <string_view>
#include <vector>

namespace oncomesh::synth::internal {

enum class Cancer {
  kBreast,
  kProstate,
  kLung,
  kColorectal,
  kBladder,
  kMelanoma,
  kKidney,
  kPancreas,
  kUterus,
  kOvary,
  kStomach,
  kDlbcl,
  kCll,
  kAml,
};
inline constexpr int kCancerCount = 14;

struct CodedSite {
  const char* icd10;  // WHO ICD-10 code written in Condition.code
  const char* icd10_display;
  const char* topography;  // ICD-O-3 topography written in Condition.bodySite
  const char* topography_display;
  double weight;
};

struct Morphology {
  const char* code;  // ICD-O-3 morphology/behaviour, e.g. "8500/3"
  const char* display;
  double weight;
};

struct CancerType {
  Cancer cancer;
  const char* name;  // short name used in docs and tests
  double weight;     // relative incidence (ECIS 2022 EU-27, rounded; docs/synth.md)
  double female_fraction;
  double age_mean, age_sd;      // age at diagnosis, normal, truncated to [18, 95]
  bool staged;                  // AJCC TNM stage group applies
  std::array<double, 4> stage;  // share of stage I..IV at diagnosis (general profile)
  std::array<double, 4> cured;  // share not dying of the cancer, by stage (index 0 if unstaged)
  std::array<double, 4> median_months;  // median survival of the others (Weibull, shape 1.1)
  bool graded;                          // histologic grade G1-G3 reported
  std::vector<CodedSite> sites;
  std::vector<Morphology> morphologies;
  const char* imaging_modality;  // DICOM modality of the typical staging study
};

// All cancer types, indexed by static_cast<int>(Cancer).
const std::vector<CancerType>& CancerTypes();

struct Profile {
  const char* name;
  std::array<double, kCancerCount> type_multiplier;  // multiplies CancerType::weight
  std::array<double, 4> stage_multiplier;            // multiplies stage shares I..IV
  double age_offset;                                 // years added to mean age at diagnosis
  double biomarker_testing;  // share of eligible patients with receptor/molecular testing
  double imaging;            // share with an ImagingStudy
  double specimen;           // share with a Specimen
};

// "general", "comprehensive", "regional"; nullptr when unknown.
const Profile* FindProfile(std::string_view name);
const std::vector<Profile>& Profiles();

// AJCC stage groups as mCODE writes them (system http://cancerstaging.org).
struct StageGroup {
  const char* code;     // "3A"
  const char* display;  // "IIIA"
  int main;             // 1..4
};
const std::vector<StageGroup>& StageGroups();

}  // namespace oncomesh::synth::internal
