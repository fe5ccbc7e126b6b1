#include "synth/case_mix.h"

namespace oncomesh::synth::internal {

const std::vector<CancerType>& CancerTypes() {
  // Relative incidence: ECIS (European Cancer Information System) 2022 EU-27 estimates of new
  // cases, both sexes, rounded (thousands): breast 375, colorectal 356, prostate 336, lung 318,
  // bladder 168, pancreas 110, kidney 88, melanoma 83, uterus (corpus) 71, stomach 69,
  // ovary 46; haematological types split from NHL 98 and leukaemia 78.
  // Stage mix: population cancer registry stage-at-diagnosis distributions (e.g. NCRAS England
  // 2019, rounded). Survival: cured share and median survival of the rest are chosen so that
  // 5-year survival by stage is close to registry (SEER / EUROCARE-6) figures.
  static const std::vector<CancerType> kTypes = {
      {Cancer::kBreast, "breast", 375, 0.99, 62, 13, true, {0.45, 0.36, 0.11, 0.08},
       {0.95, 0.87, 0.65, 0.10}, {96, 72, 48, 36}, true,
       {{"C50.4", "Upper-outer quadrant of breast", "C50.4", "Upper-outer quadrant of breast", 45},
        {"C50.2", "Upper-inner quadrant of breast", "C50.2", "Upper-inner quadrant of breast", 12},
        {"C50.5", "Lower-outer quadrant of breast", "C50.5", "Lower-outer quadrant of breast", 10},
        {"C50.3", "Lower-inner quadrant of breast", "C50.3", "Lower-inner quadrant of breast", 6},
        {"C50.1", "Central portion of breast", "C50.1", "Central portion of breast", 6},
        {"C50.8", "Overlapping lesion of breast", "C50.8", "Overlapping lesion of breast", 9},
        {"C50.9", "Breast, unspecified", "C50.9", "Breast, NOS", 12}},
       {{"8500/3", "Infiltrating duct carcinoma, NOS", 80},
        {"8520/3", "Lobular carcinoma, NOS", 15},
        {"8140/3", "Adenocarcinoma, NOS", 5}},
       "MG"},
      {Cancer::kProstate, "prostate", 336, 0.0, 69, 8, true, {0.25, 0.30, 0.25, 0.20},
       {0.98, 0.95, 0.85, 0.15}, {120, 96, 72, 42}, true,
       {{"C61", "Malignant neoplasm of prostate", "C61.9", "Prostate gland", 1}},
       {{"8140/3", "Adenocarcinoma, NOS", 1}},
       "MR"},
      {Cancer::kLung, "lung", 318, 0.40, 70, 9, true, {0.20, 0.10, 0.22, 0.48},
       {0.55, 0.35, 0.12, 0.01}, {48, 30, 18, 10}, true,
       {{"C34.1", "Upper lobe, bronchus or lung", "C34.1", "Upper lobe, lung", 55},
        {"C34.2", "Middle lobe, bronchus or lung", "C34.2", "Middle lobe, lung", 5},
        {"C34.3", "Lower lobe, bronchus or lung", "C34.3", "Lower lobe, lung", 28},
        {"C34.0", "Main bronchus", "C34.0", "Main bronchus", 4},
        {"C34.9", "Bronchus or lung, unspecified", "C34.9", "Lung, NOS", 8}},
       {{"8140/3", "Adenocarcinoma, NOS", 55},
        {"8070/3", "Squamous cell carcinoma, NOS", 27},
        {"8046/3", "Non-small cell carcinoma", 18}},
       "CT"},
      {Cancer::kColorectal, "colorectal", 356, 0.44, 70, 11, true, {0.20, 0.28, 0.30, 0.22},
       {0.92, 0.80, 0.60, 0.08}, {72, 48, 36, 24}, true,
       {{"C18.0", "Caecum", "C18.0", "Cecum", 12},
        {"C18.2", "Ascending colon", "C18.2", "Ascending colon", 10},
        {"C18.4", "Transverse colon", "C18.4", "Transverse colon", 6},
        {"C18.6", "Descending colon", "C18.6", "Descending colon", 5},
        {"C18.7", "Sigmoid colon", "C18.7", "Sigmoid colon", 25},
        {"C18.9", "Colon, unspecified", "C18.9", "Colon, NOS", 6},
        {"C19", "Malignant neoplasm of rectosigmoid junction", "C19.9", "Rectosigmoid junction", 6},
        {"C20", "Malignant neoplasm of rectum", "C20.9", "Rectum, NOS", 30}},
       {{"8140/3", "Adenocarcinoma, NOS", 1}},
       "CT"},
      {Cancer::kBladder, "bladder", 168, 0.23, 73, 10, true, {0.50, 0.20, 0.12, 0.18},
       {0.85, 0.60, 0.40, 0.05}, {60, 36, 24, 14}, true,
       {{"C67.2", "Lateral wall of bladder", "C67.2", "Lateral wall of bladder", 40},
        {"C67.0", "Trigone of bladder", "C67.0", "Trigone of bladder", 20},
        {"C67.9", "Bladder, unspecified", "C67.9", "Bladder, NOS", 40}},
       {{"8120/3", "Transitional cell carcinoma, NOS", 92}, {"8070/3", "Squamous cell carcinoma, NOS", 8}},
       "CT"},
      {Cancer::kMelanoma, "melanoma", 83, 0.52, 62, 15, true, {0.60, 0.20, 0.12, 0.08},
       {0.95, 0.80, 0.60, 0.20}, {84, 60, 36, 20}, false,
       {{"C43.5", "Malignant melanoma of trunk", "C44.5", "Skin of trunk", 38},
        {"C43.7", "Malignant melanoma of lower limb, including hip", "C44.7", "Skin of lower limb and hip", 25},
        {"C43.6", "Malignant melanoma of upper limb, including shoulder", "C44.6", "Skin of upper limb and shoulder", 18},
        {"C43.3", "Malignant melanoma of other and unspecified parts of face", "C44.3", "Skin of other and unspecified parts of face", 12},
        {"C43.4", "Malignant melanoma of scalp and neck", "C44.4", "Skin of scalp and neck", 7}},
       {{"8720/3", "Malignant melanoma, NOS", 1}},
       "PT"},
      {Cancer::kKidney, "kidney", 88, 0.37, 65, 11, true, {0.50, 0.10, 0.18, 0.22},
       {0.90, 0.80, 0.60, 0.10}, {84, 60, 36, 24}, true,
       {{"C64", "Malignant neoplasm of kidney, except renal pelvis", "C64.9", "Kidney, NOS", 1}},
       {{"8310/3", "Clear cell adenocarcinoma, NOS", 75}, {"8140/3", "Adenocarcinoma, NOS", 25}},
       "CT"},
      {Cancer::kPancreas, "pancreas", 110, 0.49, 71, 10, true, {0.10, 0.17, 0.18, 0.55},
       {0.30, 0.12, 0.04, 0.0}, {24, 18, 12, 6}, true,
       {{"C25.0", "Head of pancreas", "C25.0", "Head of pancreas", 65},
        {"C25.1", "Body of pancreas", "C25.1", "Body of pancreas", 12},
        {"C25.2", "Tail of pancreas", "C25.2", "Tail of pancreas", 10},
        {"C25.9", "Pancreas, unspecified", "C25.9", "Pancreas, NOS", 13}},
       {{"8500/3", "Infiltrating duct carcinoma, NOS", 85}, {"8140/3", "Adenocarcinoma, NOS", 15}},
       "CT"},
      {Cancer::kUterus, "uterus", 71, 1.0, 65, 11, true, {0.70, 0.08, 0.14, 0.08},
       {0.92, 0.80, 0.55, 0.10}, {60, 48, 30, 14}, true,
       {{"C54.1", "Endometrium", "C54.1", "Endometrium", 1}},
       {{"8380/3", "Endometrioid adenocarcinoma, NOS", 85}, {"8441/3", "Serous carcinoma, NOS", 15}},
       "MR"},
      {Cancer::kOvary, "ovary", 46, 1.0, 63, 12, true, {0.25, 0.08, 0.45, 0.22},
       {0.90, 0.70, 0.30, 0.10}, {60, 48, 36, 24}, true,
       {{"C56", "Malignant neoplasm of ovary", "C56.9", "Ovary", 1}},
       {{"8441/3", "Serous carcinoma, NOS", 75}, {"8380/3", "Endometrioid adenocarcinoma, NOS", 12},
        {"8310/3", "Clear cell adenocarcinoma, NOS", 13}},
       "CT"},
      {Cancer::kStomach, "stomach", 69, 0.38, 71, 11, true, {0.20, 0.16, 0.24, 0.40},
       {0.75, 0.50, 0.20, 0.02}, {36, 24, 16, 9}, true,
       {{"C16.0", "Cardia", "C16.0", "Cardia, NOS", 30},
        {"C16.3", "Pyloric antrum", "C16.3", "Gastric antrum", 35},
        {"C16.9", "Stomach, unspecified", "C16.9", "Stomach, NOS", 35}},
       {{"8140/3", "Adenocarcinoma, NOS", 1}},
       "CT"},
      {Cancer::kDlbcl, "dlbcl", 34, 0.45, 66, 14, false, {1, 0, 0, 0},
       {0.60, 0, 0, 0}, {18, 0, 0, 0}, false,
       {{"C83.3", "Diffuse large B-cell lymphoma", "C77.9", "Lymph node, NOS", 1}},
       {{"9680/3", "Malignant lymphoma, large B-cell, diffuse, NOS", 1}},
       "PT"},
      {Cancer::kCll, "cll", 30, 0.40, 71, 10, false, {1, 0, 0, 0},
       {0.30, 0, 0, 0}, {120, 0, 0, 0}, false,
       {{"C91.1", "Chronic lymphocytic leukaemia of B-cell type", "C42.1", "Bone marrow", 1}},
       {{"9823/3", "B-cell chronic lymphocytic leukemia/small lymphocytic lymphoma", 1}},
       nullptr},
      {Cancer::kAml, "aml", 20, 0.45, 68, 14, false, {1, 0, 0, 0},
       {0.25, 0, 0, 0}, {9, 0, 0, 0}, false,
       {{"C92.0", "Acute myeloblastic leukaemia", "C42.1", "Bone marrow", 1}},
       {{"9861/3", "Acute myeloid leukemia, NOS", 1}},
       nullptr},
  };
  return kTypes;
}

const std::vector<Profile>& Profiles() {
  //                              breast pros lung crc  blad mel  kid  panc ut   ov   sto  dlbcl cll aml
  static const std::vector<Profile> kProfiles = {
      {"general", {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1}, 0, 0.85, 0.40, 0.85},
      // A comprehensive cancer centre: referrals of advanced and rarer disease, younger
      // patients, near-complete molecular testing and imaging.
      {"comprehensive", {1.0, 0.8, 1.3, 1.0, 0.8, 1.4, 1.2, 1.4, 1.0, 1.4, 1.1, 1.6, 1.3, 1.8},
       {0.65, 0.9, 1.3, 1.8}, -3, 1.0, 0.80, 0.95},
      // A regional hospital: older patients, earlier-stage and common cancers, less testing.
      {"regional", {1.0, 1.1, 0.9, 1.1, 1.2, 0.8, 0.9, 0.8, 1.0, 0.8, 1.0, 0.7, 0.9, 0.5},
       {1.1, 1.05, 0.95, 0.85}, 4, 0.60, 0.30, 0.75},
  };
  return kProfiles;
}

const Profile* FindProfile(std::string_view name) {
  for (const Profile& p : Profiles()) {
    if (name == p.name) return &p;
  }
  return nullptr;
}

const std::vector<StageGroup>& StageGroups() {
  static const std::vector<StageGroup> kGroups = {
      {"1", "I", 1},     {"1A", "IA", 1},   {"1B", "IB", 1},   {"2", "II", 2},
      {"2A", "IIA", 2},  {"2B", "IIB", 2},  {"2C", "IIC", 2},  {"3", "III", 3},
      {"3A", "IIIA", 3}, {"3B", "IIIB", 3}, {"3C", "IIIC", 3}, {"4", "IV", 4},
      {"4A", "IVA", 4},  {"4B", "IVB", 4},
  };
  return kGroups;
}

}  // namespace oncomesh::synth::internal
