// Which FHIR Conditions count as cancers (issue 12, item 3), through the real ingest, store and
// cohort index, on real exports: Synthea's Bulk Data sample (hypertension, sinusitis, social
// findings… beside one lung and one breast cancer), a Synthea transaction bundle without cancer
// and the mCODE bundles. Before the fix every Condition was a primary cancer: age at
// diagnosis came from childhood sinusitis, and nearly everybody had "multiple primaries".
//
// The expected figures come from an oracle in this file that reads the JSON itself, with
// nothing of OncoMesh (its own date arithmetic too): a Condition is a cancer when it carries an
// mCODE cancer profile, or a SNOMED CT coding whose fully specified name is a "(disorder)"
// naming a malignancy, carcinoma, cancer or neoplasm; secondary when that name or profile says
// secondary or metastatic; its site is the organ its name names.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <tuple>

#include "index/cohort_index.h"
#include "index/evaluate.h"
#include "ingest/fhir/fhir_ingest.h"
#include "query/beacon_request.h"

namespace oncomesh::ingest {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kFhir = std::string(ONCOMESH_SHARED_DIR) + "/data/fhir";

// ---- The oracle ------------------------------------------------------------------------------

struct YearMonthDay {
  int year = 0, month = 0, day = 0;
  bool known = false;
};

// "YYYY-MM-DD…" (a FHIR date or dateTime); unknown when shorter or not digits.
YearMonthDay ParseYmd(const std::string& text) {
  static const std::regex kDate(R"(^(\d{4})-(\d{2})-(\d{2}))");
  std::smatch m;
  if (!std::regex_search(text, m, kDate)) return {};
  return {std::stoi(m[1]), std::stoi(m[2]), std::stoi(m[3]), true};
}

bool Before(const YearMonthDay& a, const YearMonthDay& b) {
  return std::tie(a.year, a.month, a.day) < std::tie(b.year, b.month, b.day);
}

// Whole years from `birth` to `on`.
int AgeInYears(const YearMonthDay& birth, const YearMonthDay& on) {
  int years = on.year - birth.year;
  if (std::tie(on.month, on.day) < std::tie(birth.month, birth.day)) --years;
  return years;
}

struct OraclePatient {
  YearMonthDay birth;
  int cancer_conditions = 0;
  std::set<std::string> codes;          // SNOMED CT codes of its cancer Conditions
  std::set<std::string> primary_sites;  // "lung", "breast"…
  YearMonthDay first_primary;           // earliest onset of a primary cancer
};

struct Oracle {
  std::map<std::string, OraclePatient> patients;  // by source id
  int64_t conditions = 0;
  int64_t cancer_conditions = 0;

  void Add(const json& r) {
    const std::string type = r.value("resourceType", "");
    if (type == "Patient") {
      patients[r["id"]].birth = ParseYmd(r.value("birthDate", ""));
      return;
    }
    if (type != "Condition") return;
    ++conditions;
    std::string subject = r["subject"]["reference"];
    subject = subject.substr(subject.find_last_of("/:") + 1);
    std::string profiles;
    if (r.contains("meta") && r["meta"].contains("profile")) profiles = r["meta"]["profile"].dump();
    static const std::regex kCancer("malignan|carcinoma|cancer|neoplas", std::regex::icase);
    static const std::regex kSecondary("secondary|metasta", std::regex::icase);
    static const std::regex kSite("breast|lung|colon|prostate", std::regex::icase);
    bool cancer = profiles.find("-cancer-condition") != std::string::npos;
    bool secondary = profiles.find("secondary-cancer-condition") != std::string::npos;
    std::string code, site;
    for (const json& c : r["code"]["coding"]) {
      const std::string display = c.value("display", "");
      if (c.value("system", "") != "http://snomed.info/sct") continue;
      const bool disorder = display.size() > 11 && display.ends_with("(disorder)");
      if (disorder && std::regex_search(display, kCancer)) cancer = true;
      if (std::regex_search(display, kSecondary)) secondary = true;
      std::smatch m;
      if (std::regex_search(display, m, kSite)) site = m.str();
      code = c.value("code", "");
    }
    if (!cancer) return;
    ++cancer_conditions;
    OraclePatient& p = patients[subject];
    ++p.cancer_conditions;
    p.codes.insert(code);
    if (secondary) return;
    p.primary_sites.insert(site.empty() ? code : site);
    YearMonthDay onset = ParseYmd(r.value("onsetDateTime", ""));
    if (!onset.known) onset = ParseYmd(r.value("recordedDate", ""));
    if (onset.known && (!p.first_primary.known || Before(onset, p.first_primary))) {
      p.first_primary = onset;
    }
  }

  int AgeAtDiagnosis(const OraclePatient& p) const {
    return p.birth.known && p.first_primary.known ? AgeInYears(p.birth, p.first_primary) : -1;
  }
};

void ReadResources(const std::string& path, Oracle& oracle) {
  if (fs::is_directory(path)) {
    for (const auto& e : fs::directory_iterator(path)) {
      if (e.path().extension() == ".ndjson") ReadResources(e.path().string(), oracle);
    }
    return;
  }
  std::ifstream in(path);
  if (path.ends_with(".ndjson")) {
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) oracle.Add(json::parse(line));
    }
    return;
  }
  const json bundle = json::parse(in);
  for (const json& e : bundle["entry"]) oracle.Add(e["resource"]);
}

// ---- The test ------------------------------------------------------------------------------

class CancerConditionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/oncomesh-cancer-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
    Result<node::NodeDir> node = node::NodeDir::Init(tmp_ + "/node", node::NodeConfig{});
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    node_ = std::make_unique<node::NodeDir>(std::move(*node));
    Result<std::unique_ptr<store::Store>> store = node_->OpenStore();
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    Result<index::Vocabulary> vocab = index::Vocabulary::LoadEmbedded();
    ASSERT_TRUE(vocab.ok()) << vocab.status().ToString();
    vocab_ = std::make_unique<index::Vocabulary>(std::move(*vocab));
  }
  void TearDown() override {
    index_.reset();
    store_.reset();
    fs::remove_all(tmp_);
  }

  void IngestAll(const std::vector<std::string>& paths) {
    for (const std::string& p : paths) ReadResources(p, oracle_);
    Result<IngestReport> report = IngestFhir(*node_, *store_, paths);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    for (const FileOutcome& f : report->files) ASSERT_TRUE(f.status.ok()) << f.status.message();
    report_ = *report;
    Result<std::unique_ptr<index::CohortIndex>> idx = index::CohortIndex::Build(*store_, *vocab_);
    ASSERT_TRUE(idx.ok()) << idx.status().ToString();
    index_ = std::move(*idx);
  }

  // Individuals matching Beacon filters, counted exactly by the index.
  int64_t Count(std::initializer_list<json> filter_list) {
    json filters = json::array();
    for (const json& f : filter_list) filters.push_back(f);
    Result<index::Plan> plan = query::BuildPlan(filters, *index_);
    EXPECT_TRUE(plan.ok()) << plan.status().ToString() << " for " << filters.dump();
    return plan.ok() ? static_cast<int64_t>(index_->Count(*plan)) : -1;
  }

  template <typename Pred>
  int64_t Expected(Pred pred) const {
    int64_t n = 0;
    for (const auto& [id, p] : oracle_.patients) n += pred(p) ? 1 : 0;
    return n;
  }

  std::string tmp_;
  std::unique_ptr<node::NodeDir> node_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<index::Vocabulary> vocab_;
  std::unique_ptr<index::CohortIndex> index_;
  Oracle oracle_;
  IngestReport report_;
};

json Age(const char* op, const char* value) {
  return {{"id", "ageAtDiagnosis"}, {"operator", op}, {"value", value}};
}

TEST_F(CancerConditionsTest, OnlyCancersCountOnRealSyntheaAndMcodeExports) {
  IngestAll({kFhir + "/synthea-bulk-10",
             kFhir + "/synthea-r4/Clemente_Kreiger_1484a42d-0eaf-4654-9cbf-6b050a5cd73b.json",
             kFhir + "/mcode/eom_patient_1.json", kFhir + "/mcode/patient_data.json"});
  // The samples hold cancers and many more other Conditions: the test means something.
  ASSERT_GE(oracle_.cancer_conditions, 5);
  ASSERT_GE(oracle_.conditions - oracle_.cancer_conditions, 100);

  // Only the cancers are stored; every other Condition is in the report, none silently lost.
  int64_t stored = 0;
  ASSERT_TRUE(
      store_->ScanDiagnoses(0, [&](store::Seq, const model::Diagnosis&) { ++stored; }).ok());
  int64_t left_out = 0;
  for (const auto& [why, n] : report_.conditions_left_out) left_out += n;
  // patient_data.json lists its secondary cancer twice, with one id: one record.
  EXPECT_EQ(stored, oracle_.cancer_conditions - 1);
  EXPECT_EQ(left_out, oracle_.conditions - oracle_.cancer_conditions);
  const std::string hypertension =
      "unmapped, no ICD-10 map for this SNOMED CT code: http://snomed.info/sct|59621000 "
      "Essential hypertension (disorder)";
  EXPECT_EQ(report_.conditions_left_out.count(hypertension)
                ? report_.conditions_left_out.at(hypertension)
                : 0,
            2);

  // The examination's three queries, on these exports (its own bundles are not in the shared
  // data): a cancer code with an age at diagnosis, a young age at diagnosis, multiple primaries.
  const int64_t breast_55 = Expected([&](const OraclePatient& p) {
    return p.codes.count("254837009") && oracle_.AgeAtDiagnosis(p) >= 55;
  });
  EXPECT_EQ(breast_55, 1) << "the Synthea patient with lung cancer at 57 and breast cancer at 61";
  EXPECT_EQ(Count({{{"id", "SNOMED:254837009"}}, Age(">=", "P55Y")}), breast_55);

  const int64_t under_20 = Expected([&](const OraclePatient& p) {
    const int age = oracle_.AgeAtDiagnosis(p);
    return age >= 0 && age < 20;
  });
  EXPECT_EQ(under_20, 0);
  EXPECT_EQ(Count({Age("<", "P20Y")}), under_20);

  const int64_t multiple =
      Expected([](const OraclePatient& p) { return p.primary_sites.size() >= 2; });
  EXPECT_EQ(multiple, 1) << "lung and breast; lung recorded twice is one primary";
  EXPECT_EQ(Count({{{"id", "multiplePrimaryCancers"}}}), multiple);

  // Every individual with a cancer is under the ICD-10 neoplasms chapter, through the SNOMED CT
  // codes' ICD-10 map; the lung cancer under C34 and its NCIt concept.
  EXPECT_EQ(Count({{{"id", "ICD10:C00-D48"}}}),
            Expected([](const OraclePatient& p) { return p.cancer_conditions > 0; }));
  EXPECT_EQ(Count({{{"id", "ICD10:C34"}}}),
            Expected([](const OraclePatient& p) { return p.codes.count("254637007") > 0; }));
  EXPECT_EQ(Count({{{"id", "NCIT:C4878"}}}), Count({{{"id", "ICD10:C34"}}}));
  // Ages at diagnosis, each one: the oracle's age of every patient with a dated primary.
  for (const auto& [id, p] : oracle_.patients) {
    const int age = oracle_.AgeAtDiagnosis(p);
    if (age < 0) continue;
    const std::string years = "P" + std::to_string(age) + "Y";
    const int64_t expected =
        Expected([&](const OraclePatient& q) { return oracle_.AgeAtDiagnosis(q) == age; });
    EXPECT_EQ(Count({Age("=", years.c_str())}), expected) << years;
  }
}

}  // namespace
}  // namespace oncomesh::ingest
