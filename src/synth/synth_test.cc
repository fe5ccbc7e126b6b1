#include "synth/synth.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "model/date.h"
#include "support/suite_fixture.h"
#include "synth/case_mix.h"

namespace oncomesh::synth {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string> kTypes = {
    "Patient",   "Condition",           "Observation",
    "Procedure", "MedicationStatement", "MedicationAdministration",
    "Specimen",  "ImagingStudy"};

fs::path TempDir(const std::string& name) {
  fs::path dir =
      fs::temp_directory_path() / ("oncomesh_synth_test_" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  return dir;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

fs::path Generate(const std::string& name, int64_t n, uint64_t seed, const std::string& profile,
                  int threads = 0) {
  SynthOptions options;
  options.site = "test-site";
  options.individuals = n;
  options.seed = seed;
  options.out_dir = TempDir(name).string();
  options.profile = profile;
  options.threads = threads;
  const Status status = WriteSyntheticSite(options);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return options.out_dir;
}

// Everything the assertions need, read back from the NDJSON.
struct Cohort {
  std::map<std::string, std::vector<json>> resources;  // by resourceType
  std::set<std::string> ids;                           // "Type/id"
  std::map<std::string, std::string> gender;           // patient id -> gender
  std::map<std::string, int> birth_year;
  std::map<std::string, std::string> cancer_of;                      // patient id -> ICD-10 3-char
  std::map<std::string, std::string> stage_of;                       // patient id -> AJCC code
  std::map<std::string, std::string> her2_of;                        // patient id -> SNOMED value
  std::map<std::string, std::string> msi_of;                         // patient id -> LOINC answer
  std::map<std::string, std::set<std::string>> variants_of;          // patient id -> "HGNC:n p.X"
  std::map<std::string, std::map<std::string, std::string>> tnm_of;  // id -> LOINC -> value
  std::map<std::string, model::Date> diagnosis_of, death_of;
};

std::string PatientOf(const json& r) {
  return r["subject"]["reference"].get<std::string>().substr(8);  // "Patient/"
}

// "HGNC:3236 p.Leu858Arg" (or "HGNC:427 *" without an amino acid change) of a genomic
// variant Observation.
std::string VariantKey(const json& r) {
  std::string gene, change = "*";
  for (const json& component : r["component"]) {
    const std::string code = component["code"]["coding"][0]["code"];
    const std::string value = component["valueCodeableConcept"]["coding"][0]["code"];
    if (code == "48018-6") gene = value;
    if (code == "48005-3") change = value;
  }
  return gene + " " + change;
}

Cohort Load(const fs::path& dir) {
  Cohort c;
  for (const std::string& type : kTypes) {
    std::ifstream in(dir / (type + ".ndjson"));
    EXPECT_TRUE(in.good()) << type;
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
      ++lineno;
      json r = json::parse(line, nullptr, /*allow_exceptions=*/false);
      EXPECT_FALSE(r.is_discarded()) << type << ".ndjson:" << lineno;
      if (r.is_discarded()) continue;
      EXPECT_EQ(r.value("resourceType", ""), type) << type << ".ndjson:" << lineno;
      const std::string key = type + "/" + r["id"].get<std::string>();
      EXPECT_TRUE(c.ids.insert(key).second) << "duplicate " << key;
      c.resources[type].push_back(std::move(r));
    }
  }
  for (const json& p : c.resources["Patient"]) {
    const std::string id = p["id"];
    c.gender[id] = p["gender"];
    c.birth_year[id] = model::YearOf(*model::ParseDate(p["birthDate"].get<std::string>()));
    if (p.contains("deceasedDateTime")) {
      c.death_of[id] = *model::ParseDate(p["deceasedDateTime"].get<std::string>());
    }
  }
  for (const json& r : c.resources["Condition"]) {
    const std::string pid = PatientOf(r);
    c.cancer_of[pid] = r["code"]["coding"][0]["code"].get<std::string>().substr(0, 3);
    c.diagnosis_of[pid] = *model::ParseDate(r["onsetDateTime"].get<std::string>());
  }
  for (const json& r : c.resources["Observation"]) {
    const std::string code = r["code"]["coding"][0]["code"];
    const std::string value = r["valueCodeableConcept"]["coding"][0]["code"];
    if (code == "21908-9" || code == "21902-2") c.stage_of[PatientOf(r)] = value;
    if (code == "48676-1") c.her2_of[PatientOf(r)] = value;
    if (code == "81695-9") c.msi_of[PatientOf(r)] = value;
    if (code == "69548-6") c.variants_of[PatientOf(r)].insert(VariantKey(r));
    for (const char* tnm : {"21905-5", "21906-3", "21907-1", "21899-0", "21900-6", "21901-4"}) {
      if (code == tnm) c.tnm_of[PatientOf(r)][code] = value;
    }
  }
  return c;
}

class SynthCohortTest : public ::oncomesh::testing::SuiteFixture<SynthCohortTest> {
  friend class ::oncomesh::testing::SuiteFixture<SynthCohortTest>;  // calls SetUpSuite

 protected:
  static void SetUpSuite() {
    cohort_ = new Cohort(Load(Generate("general", kIndividuals, 7, "general")));
  }
  static void TearDownTestSuite() {
    delete cohort_;
    fs::remove_all(fs::temp_directory_path() /
                   ("oncomesh_synth_test_" + std::to_string(::getpid())));
  }
  static constexpr int kIndividuals = 20000;
  static Cohort* cohort_;
};
Cohort* SynthCohortTest::cohort_ = nullptr;

TEST(SynthTest, SameSeedIsByteIdenticalWhateverTheThreads) {
  const fs::path a = Generate("a", 3000, 42, "comprehensive", 1);
  const fs::path b = Generate("b", 3000, 42, "comprehensive", 2);
  const fs::path c = Generate("c", 3000, 43, "comprehensive", 2);
  bool any_difference = false;
  for (const std::string& type : kTypes) {
    const std::string text_a = ReadFile(a / (type + ".ndjson"));
    EXPECT_EQ(text_a, ReadFile(b / (type + ".ndjson"))) << type;
    any_difference |= text_a != ReadFile(c / (type + ".ndjson"));
  }
  EXPECT_TRUE(any_difference) << "another seed gave the same files";
}

TEST(SynthTest, RejectsBadOptions) {
  SynthOptions options;
  options.site = "bad site!";
  options.individuals = 10;
  options.out_dir = TempDir("bad").string();
  EXPECT_EQ(WriteSyntheticSite(options).code(), StatusCode::kInvalidArgument);
  options.site = "ok";
  options.profile = "nonsense";
  EXPECT_EQ(WriteSyntheticSite(options).code(), StatusCode::kInvalidArgument);
  options.profile = "";
  options.individuals = 0;
  EXPECT_EQ(WriteSyntheticSite(options).code(), StatusCode::kInvalidArgument);
}

TEST_F(SynthCohortTest, EveryFileHasResourcesAndEveryPatientACondition) {
  for (const std::string& type : kTypes) EXPECT_FALSE(cohort_->resources[type].empty()) << type;
  EXPECT_EQ(cohort_->resources["Patient"].size(), static_cast<size_t>(kIndividuals));
  EXPECT_EQ(cohort_->resources["Condition"].size(), static_cast<size_t>(kIndividuals));
  for (const json& p : cohort_->resources["Patient"]) {
    ASSERT_TRUE(p.contains("identifier") && p.contains("name") && p.contains("address") &&
                p.contains("telecom") && p.contains("birthDate"));
  }
}

TEST_F(SynthCohortTest, EveryReferenceResolves) {
  auto check = [&](const json& ref) {
    ASSERT_TRUE(cohort_->ids.count(ref["reference"].get<std::string>()))
        << ref["reference"].get<std::string>();
  };
  for (const auto& [type, list] : cohort_->resources) {
    for (const json& r : list) {
      if (r.contains("subject")) check(r["subject"]);
      for (const char* field : {"focus", "reasonReference"}) {
        if (r.contains(field)) {
          for (const json& ref : r[field]) check(ref);
        }
      }
      if (type != "Patient") {
        ASSERT_TRUE(r.contains("subject")) << type;
      }
    }
  }
}

// Reads a vocab TSV: rows of tab-separated fields, '#' lines skipped.
std::vector<std::vector<std::string>> ReadTsv(const std::string& name) {
  std::ifstream in(std::string(ONCOMESH_SOURCE_DIR) + "/data/vocab/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    std::stringstream s(line);
    std::string field;
    while (std::getline(s, field, '\t')) fields.push_back(field);
    if (!line.empty() && line.back() == '\t') fields.emplace_back();
    rows.push_back(fields);
  }
  return rows;
}

TEST_F(SynthCohortTest, EveryCodeWrittenIsInTheVocabularyTables) {
  std::set<std::string> terms;
  for (const auto& row : ReadTsv("terms.tsv")) {
    ASSERT_EQ(row.size(), 3u) << row[0];
    terms.insert(row[0]);
  }
  // Every parent is itself a term.
  for (const auto& row : ReadTsv("terms.tsv")) {
    std::stringstream s(row[2]);
    std::string parent;
    while (std::getline(s, parent, ',')) {
      EXPECT_TRUE(terms.count(parent)) << row[0] << " -> " << parent;
    }
  }
  std::set<std::string> observation_rows;
  for (const auto& row : ReadTsv("observation_terms.tsv")) {
    ASSERT_EQ(row.size(), 5u);
    EXPECT_TRUE(terms.count(row[4])) << row[4];
    observation_rows.insert(row[1] + "|" + row[2] + "|" + row[3]);
  }
  std::set<std::string> procedure_codes;
  for (const auto& row : ReadTsv("procedure_terms.tsv")) {
    ASSERT_EQ(row.size(), 4u);
    EXPECT_TRUE(row[2] == "surgery" || row[2] == "radiotherapy") << row[2];
    EXPECT_TRUE(terms.count(row[3])) << row[3];
    procedure_codes.insert(row[1]);
  }
  std::map<std::string, std::string> genomic;  // "gene protein_change" -> curie
  for (const auto& row : ReadTsv("genomic_terms.tsv")) {
    ASSERT_EQ(row.size(), 3u);
    EXPECT_TRUE(terms.count(row[2])) << row[2];
    genomic[row[0] + " " + row[1]] = row[2];
  }
  std::set<std::string> mapped_icd10;
  for (const auto& row : ReadTsv("icd10_ncit.tsv")) {
    ASSERT_EQ(row.size(), 3u);
    EXPECT_TRUE(terms.count(row[2])) << row[2];
    if (row[1].empty()) mapped_icd10.insert(row[0]);
  }

  for (const json& r : cohort_->resources["Condition"]) {
    const std::string icd10 = r["code"]["coding"][0]["code"];
    EXPECT_TRUE(terms.count("ICD10:" + icd10)) << icd10;
    EXPECT_TRUE(mapped_icd10.count(icd10.substr(0, 3))) << icd10;
    const std::string topography = r["bodySite"][0]["coding"][0]["code"];
    EXPECT_TRUE(terms.count("ICDO3:" + topography)) << topography;
    const std::string morphology = r["extension"][0]["valueCodeableConcept"]["coding"][0]["code"];
    EXPECT_TRUE(terms.count("ICDO3:" + morphology)) << morphology;
  }
  for (const json& r : cohort_->resources["Observation"]) {
    const std::string code = r["code"]["coding"][0]["code"];
    const json& value = r["valueCodeableConcept"]["coding"][0];
    // 97509-4 (CancerDiseaseStatus) sets the diagnosis' progression date; it is not a filter.
    if (code == "97509-4") continue;
    // PD-L1 (83052-1): no verified filtering term yet (data/vocab/observation_terms.tsv).
    if (code == "83052-1") continue;
    if (code == "69548-6") {
      EXPECT_EQ(value["code"], "LA9633-4");
      const std::string key = VariantKey(r);
      const std::string gene_row = key.substr(0, key.find(' ')) + " *";
      EXPECT_TRUE(genomic.count(key) || genomic.count(gene_row)) << key;
      continue;
    }
    const std::string key =
        code + "|" + value["system"].get<std::string>() + "|" + value["code"].get<std::string>();
    EXPECT_TRUE(observation_rows.count(key) ||
                observation_rows.count(code + "|" + value["system"].get<std::string>() + "|*"))
        << key;
  }
  for (const json& r : cohort_->resources["Procedure"]) {
    EXPECT_TRUE(procedure_codes.count(r["code"]["coding"][0]["code"].get<std::string>()));
  }
  for (const char* type : {"MedicationStatement", "MedicationAdministration"}) {
    for (const json& r : cohort_->resources[type]) {
      const json& coding = r["medicationCodeableConcept"]["coding"][0];
      EXPECT_EQ(coding["system"], "http://www.whocc.no/atc");
      EXPECT_TRUE(terms.count("ATC:" + coding["code"].get<std::string>())) << coding["code"];
    }
  }
}

TEST_F(SynthCohortTest, SexFollowsTheCancer) {
  int breast = 0, breast_female = 0, prostate = 0, prostate_male = 0;
  for (const auto& [pid, icd] : cohort_->cancer_of) {
    if (icd == "C50") {
      ++breast;
      breast_female += cohort_->gender.at(pid) == "female";
    } else if (icd == "C61") {
      ++prostate;
      prostate_male += cohort_->gender.at(pid) == "male";
    } else if (icd == "C56" || icd == "C54") {
      EXPECT_EQ(cohort_->gender.at(pid), "female");
    }
  }
  ASSERT_GT(breast, 1000);
  EXPECT_GE(breast_female, 0.98 * breast);
  EXPECT_EQ(prostate_male, prostate);
}

TEST_F(SynthCohortTest, CancerTypeFrequenciesMatchTheConfiguredIncidence) {
  const auto& types = internal::CancerTypes();
  double total = 0;
  for (const auto& t : types) total += t.weight;
  std::map<std::string, int> counts;  // by the first 3 chars of the type's first ICD-10 code
  for (const auto& [pid, icd] : cohort_->cancer_of) {
    counts[icd == "C19" || icd == "C20" ? std::string("C18") : icd]++;
  }
  for (const auto& t : types) {
    const std::string icd = std::string(t.sites[0].icd10).substr(0, 3);
    const double expected = t.weight / total;
    const double observed = counts[icd] / static_cast<double>(kIndividuals);
    EXPECT_NEAR(observed, expected, std::max(0.012, 0.1 * expected)) << t.name;
  }
}

TEST_F(SynthCohortTest, FiveYearMortalityRisesWithStage) {
  const model::Date cutoff = model::DateFromCivil(2020, 6, 30);
  std::array<int, 5> n{}, dead{};
  for (const auto& [pid, stage] : cohort_->stage_of) {
    const model::Date dx = cohort_->diagnosis_of.at(pid);
    if (dx > cutoff) continue;
    const int s = stage[0] - '0';
    ++n[s];
    auto death = cohort_->death_of.find(pid);
    if (death != cohort_->death_of.end() && death->second - dx <= 1826) ++dead[s];
  }
  double previous = -1;
  for (int s = 1; s <= 4; ++s) {
    ASSERT_GT(n[s], 300) << "stage " << s;
    const double mortality = static_cast<double>(dead[s]) / n[s];
    EXPECT_GT(mortality, previous + 0.05) << "stage " << s;
    previous = mortality;
  }
  EXPECT_LT(static_cast<double>(dead[1]) / n[1], 0.3);  // stage I: mostly alive at 5 years
  EXPECT_GT(static_cast<double>(dead[4]) / n[4], 0.6);  // stage IV: mostly dead
}

TEST_F(SynthCohortTest, TrastuzumabOnlyForHer2Positive) {
  int given = 0;
  for (const json& r : cohort_->resources["MedicationAdministration"]) {
    if (r["medicationCodeableConcept"]["coding"][0]["code"] != "L01FD01") continue;
    ++given;
    auto her2 = cohort_->her2_of.find(PatientOf(r));
    ASSERT_NE(her2, cohort_->her2_of.end());
    EXPECT_EQ(her2->second, "10828004");
  }
  EXPECT_GT(given, 100);
  int positive = 0;
  for (const auto& [pid, value] : cohort_->her2_of) positive += value == "10828004";
  const double share = static_cast<double>(positive) / cohort_->her2_of.size();
  EXPECT_GT(share, 0.13);
  EXPECT_LT(share, 0.22);
}

// Every drug with a marker is given only with that marker's Observation.
TEST_F(SynthCohortTest, TargetedDrugsOnlyWithTheirGenomicFinding) {
  const std::map<std::string, std::vector<std::string>> required = {
      {"L01EB04", {"HGNC:3236 p.Leu858Arg", "HGNC:3236 p.Glu746_Ala750del"}},  // osimertinib
      {"L01XX73", {"HGNC:6407 p.Gly12Cys"}},                                   // sotorasib
      {"L01EC02", {"HGNC:1097 p.Val600Glu"}},                                  // dabrafenib
      {"L01ED03", {"HGNC:427 *"}},                                             // alectinib
  };
  std::map<std::string, int> given;
  for (const char* type : {"MedicationStatement", "MedicationAdministration"}) {
    for (const json& r : cohort_->resources[type]) {
      const std::string atc = r["medicationCodeableConcept"]["coding"][0]["code"];
      auto it = required.find(atc);
      if (it == required.end()) continue;
      ++given[atc];
      auto found = cohort_->variants_of.find(PatientOf(r));
      ASSERT_NE(found, cohort_->variants_of.end()) << atc;
      bool any = false;
      for (const std::string& v : it->second) any |= found->second.count(v) > 0;
      EXPECT_TRUE(any) << atc << " without its finding";
    }
  }
  for (const auto& [atc, variants] : required) EXPECT_GT(given[atc], 5) << atc;
}

TEST_F(SynthCohortTest, MsiHighShareOfColorectalCancerIsInTolerance) {
  int tested = 0, high = 0, endometrial_tested = 0;
  for (const auto& [pid, value] : cohort_->msi_of) {
    const std::string& icd = cohort_->cancer_of.at(pid);
    EXPECT_TRUE(icd == "C18" || icd == "C19" || icd == "C20" || icd == "C54") << icd;
    if (icd == "C54") {
      ++endometrial_tested;
      continue;
    }
    ++tested;
    high += value == "LA26203-2";
  }
  ASSERT_GT(tested, 1000);
  EXPECT_GT(endometrial_tested, 50);
  const double share = static_cast<double>(high) / tested;
  EXPECT_GT(share, 0.11);  // 17% in stages I-III, 5% in stage IV: ~14% overall
  EXPECT_LT(share, 0.18);
}

TEST_F(SynthCohortTest, TnmCategoriesAgreeWithTheStageGroup) {
  int checked = 0;
  for (const auto& [pid, stage] : cohort_->stage_of) {
    auto it = cohort_->tnm_of.find(pid);
    ASSERT_NE(it, cohort_->tnm_of.end()) << pid;
    const auto& tnm = it->second;
    ASSERT_EQ(tnm.size(), 3u) << pid;
    std::string t, n, m;
    for (const auto& [code, value] : tnm) {
      if (code == "21905-5" || code == "21899-0") t = value;
      if (code == "21906-3" || code == "21900-6") n = value;
      if (code == "21907-1" || code == "21901-4") m = value;
    }
    ASSERT_FALSE(t.empty() || n.empty() || m.empty()) << pid;
    const bool m1 = m.substr(1) == "M1";
    const bool n0 = n.substr(1) == "N0";
    EXPECT_EQ(m1, stage[0] == '4') << pid << " " << stage << " " << m;
    if (stage[0] == '1' || stage[0] == '2') {
      EXPECT_TRUE(n0) << pid << " " << stage << " " << n;
    }
    if (stage[0] == '3') {
      EXPECT_TRUE(!n0 || t.substr(1) == "T4") << pid << " " << stage;
    }
    ++checked;
  }
  EXPECT_GT(checked, 10000);
}

TEST(SynthProfileTest, ComprehensiveCentreSeesMoreStageIvAndYoungerPatients) {
  struct Summary {
    double stage_iv = 0, mean_age = 0;
  };
  auto summarise = [](const std::string& profile) {
    const Cohort c = Load(Generate(profile, 5000, 11, profile));
    Summary s;
    int iv = 0;
    for (const auto& [pid, stage] : c.stage_of) iv += stage[0] == '4';
    s.stage_iv = static_cast<double>(iv) / c.stage_of.size();
    double age = 0;
    for (const auto& [pid, dx] : c.diagnosis_of) age += model::YearOf(dx) - c.birth_year.at(pid);
    s.mean_age = age / c.diagnosis_of.size();
    return s;
  };
  const Summary comprehensive = summarise("comprehensive");
  const Summary general = summarise("general");
  const Summary regional = summarise("regional");
  EXPECT_GT(comprehensive.stage_iv, general.stage_iv + 0.04);
  EXPECT_GT(general.stage_iv, regional.stage_iv);
  EXPECT_GT(regional.mean_age, comprehensive.mean_age + 4);
  EXPECT_EQ(DefaultProfileForSite("x"), DefaultProfileForSite("x"));
}

}  // namespace
}  // namespace oncomesh::synth
