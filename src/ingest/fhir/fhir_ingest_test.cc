#include "ingest/fhir/fhir_ingest.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "model/date.h"
#include "synth/synth.h"

namespace oncomesh::ingest {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kFhir = std::string(ONCOMESH_SHARED_DIR) + "/data/fhir";
const std::string kBulk = kFhir + "/synthea-bulk-10";
const std::string kSyntheaBundle =
    kFhir + "/synthea-r4/Clemente_Kreiger_1484a42d-0eaf-4654-9cbf-6b050a5cd73b.json";
const std::string kMcode = kFhir + "/mcode/patient_data.json";
const std::string kMcodeEom = kFhir + "/mcode/eom_patient_1.json";
const std::string kMcodeInvalid = kFhir + "/mcode/patient_data_missing_histology_morph.json";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::vector<json> ReadNdjson(const std::string& path) {
  std::vector<json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

std::vector<json> BundleResources(const std::string& path) {
  std::vector<json> out;
  const json bundle = json::parse(ReadAll(path));
  for (const json& e : bundle["entry"]) out.push_back(e["resource"]);
  return out;
}

int64_t CountType(const std::vector<json>& resources, const std::string& type) {
  int64_t n = 0;
  for (const json& r : resources) n += r.value("resourceType", "") == type ? 1 : 0;
  return n;
}

class FhirIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/oncomesh-fhir-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
    Result<node::NodeDir> node = node::NodeDir::Init(tmp_ + "/node", node::NodeConfig{});
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    node_ = std::make_unique<node::NodeDir>(std::move(*node));
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(tmp_);
  }

  void Reopen() {
    store_.reset();
    Result<std::unique_ptr<store::Store>> store = node_->OpenStore();
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }

  IngestReport Ingest(const std::vector<std::string>& paths, IngestOptions options = {}) {
    Result<IngestReport> report = IngestFhir(*node_, *store_, paths, options);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : IngestReport{};
  }

  // Rows of a table, read with SQLite directly (not through the Store).
  int64_t Rows(const std::string& table) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(node_->store_path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
              SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, ("SELECT count(*) FROM " + table).c_str(), -1, &s, nullptr),
              SQLITE_OK);
    EXPECT_EQ(sqlite3_step(s), SQLITE_ROW);
    const int64_t n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
  }

  // Every text value in every table of the store.
  std::vector<std::string> AllText() {
    std::vector<std::string> out;
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(node_->store_path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
              SQLITE_OK);
    std::vector<std::string> tables;
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type='table'", -1, &s, nullptr);
    while (sqlite3_step(s) == SQLITE_ROW) {
      tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
    }
    sqlite3_finalize(s);
    for (const std::string& t : tables) {
      sqlite3_prepare_v2(db, ("SELECT * FROM " + t).c_str(), -1, &s, nullptr);
      while (sqlite3_step(s) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(s); ++c) {
          if (sqlite3_column_type(s, c) == SQLITE_TEXT) {
            out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, c)));
          }
        }
      }
      sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return out;
  }

  int64_t AllRows() {
    return Rows("individuals") + Rows("diagnoses") + Rows("observations") + Rows("treatments") +
           Rows("biosamples") + Rows("imaging_studies") + Rows("source_files");
  }

  store::Seq LastSeq() {
    Result<store::Seq> seq = store_->LastSeq();
    EXPECT_TRUE(seq.ok());
    return seq.ok() ? *seq : -1;
  }

  std::string tmp_;
  std::unique_ptr<node::NodeDir> node_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(FhirIngestTest, SyntheaBulkExportGoesInWithExpectedCounts) {
  const auto patients = ReadNdjson(kBulk + "/Patient.000.ndjson");
  const auto conditions = ReadNdjson(kBulk + "/Condition.000.ndjson");
  const auto procedures = ReadNdjson(kBulk + "/Procedure.000.ndjson");
  const auto requests = ReadNdjson(kBulk + "/MedicationRequest.000.ndjson");
  int64_t rxnorm = 0;
  for (const json& r : requests) {
    if (r.contains("medicationCodeableConcept") &&
        r["medicationCodeableConcept"]["coding"][0]["system"] ==
            "http://www.nlm.nih.gov/research/umls/rxnorm") {
      ++rxnorm;
    }
  }

  const IngestReport report = Ingest({kBulk});
  ASSERT_EQ(report.files.size(), 8u);
  EXPECT_EQ(report.FilesFailed(), 0);
  for (const FileOutcome& f : report.files) EXPECT_TRUE(f.status.ok()) << f.status.message();
  EXPECT_NE(report.files[0].path.find("Patient.000.ndjson"), std::string::npos)
      << "Patient files go first";

  // Conditions that are not cancers are left out and counted (cancer_conditions_test.cc
  // checks which, against an oracle).
  int64_t conditions_left_out = 0;
  for (const auto& [why, n] : report.conditions_left_out) conditions_left_out += n;
  EXPECT_GT(conditions_left_out, 0);
  EXPECT_EQ(Rows("individuals"), static_cast<int64_t>(patients.size()));
  EXPECT_EQ(Rows("diagnoses"), static_cast<int64_t>(conditions.size()) - conditions_left_out);
  EXPECT_EQ(Rows("treatments"), static_cast<int64_t>(procedures.size() + requests.size()));
  EXPECT_EQ(Rows("source_files"), 8);
  EXPECT_EQ(report.RecordsAdded(), static_cast<int64_t>(patients.size() + conditions.size() +
                                                        procedures.size() + requests.size()) -
                                       conditions_left_out);

  EXPECT_EQ(report.unknown_resource_types.at("Immunization"),
            static_cast<int64_t>(ReadNdjson(kBulk + "/Immunization.000.ndjson").size()));
  EXPECT_EQ(report.unknown_resource_types.at("AllergyIntolerance"),
            static_cast<int64_t>(ReadNdjson(kBulk + "/AllergyIntolerance.000.ndjson").size()));
  EXPECT_EQ(report.unknown_resource_types.at("Device"),
            static_cast<int64_t>(ReadNdjson(kBulk + "/Device.000.ndjson").size()));
  EXPECT_EQ(report.unknown_resource_types.at("Organization"),
            static_cast<int64_t>(ReadNdjson(kBulk + "/Organization.000.ndjson").size()));
  EXPECT_EQ(report.unmapped_codings.at("MedicationRequest.medicationCodeableConcept "
                                       "http://www.nlm.nih.gov/research/umls/rxnorm"),
            rxnorm);
  EXPECT_GT(rxnorm, 0);
}

TEST_F(FhirIngestTest, SyntheaTransactionBundleGoesIn) {
  const auto resources = BundleResources(kSyntheaBundle);
  const IngestReport report = Ingest({kSyntheaBundle});
  ASSERT_EQ(report.files.size(), 1u);
  ASSERT_TRUE(report.files[0].status.ok()) << report.files[0].status.message();
  EXPECT_EQ(report.files[0].resources, static_cast<int64_t>(resources.size()));
  EXPECT_EQ(Rows("individuals"), CountType(resources, "Patient"));
  // Its one Condition, obesity, is no cancer: left out and reported.
  EXPECT_EQ(CountType(resources, "Condition"), 1);
  EXPECT_EQ(Rows("diagnoses"), 0);
  EXPECT_EQ(report.conditions_left_out.size(), 1u);
  EXPECT_NE(report.conditions_left_out.begin()->first.find("162864005"), std::string::npos);
  EXPECT_EQ(Rows("observations"), CountType(resources, "Observation"));
  EXPECT_EQ(Rows("treatments"), CountType(resources, "Procedure"));
  EXPECT_EQ(report.unknown_resource_types.at("Encounter"), CountType(resources, "Encounter"));
  EXPECT_EQ(report.unknown_resource_types.at("Claim"), CountType(resources, "Claim"));
}

TEST_F(FhirIngestTest, McodeCollectionBundleGoesInWithMcodeFields) {
  const auto resources = BundleResources(kMcodeEom);
  const IngestReport report = Ingest({kMcodeEom});
  ASSERT_TRUE(report.files.at(0).status.ok()) << report.files[0].status.message();
  EXPECT_EQ(Rows("individuals"), CountType(resources, "Patient"));
  EXPECT_EQ(Rows("diagnoses"), CountType(resources, "Condition"));
  EXPECT_EQ(Rows("observations"), CountType(resources, "Observation"));
  EXPECT_EQ(Rows("treatments"), CountType(resources, "MedicationStatement"));

  std::vector<model::Diagnosis> dx;
  ASSERT_TRUE(
      store_->ScanDiagnoses(0, [&](store::Seq, const model::Diagnosis& d) { dx.push_back(d); })
          .ok());
  ASSERT_EQ(dx.size(), 2u);
  // conditionId-1: mcode-primary-cancer-condition with a SNOMED morphology extension.
  EXPECT_TRUE(dx[0].primary);
  EXPECT_EQ(dx[0].code.code, "372137005");
  EXPECT_EQ(dx[0].morphology, "1187425009");
  // conditionId-2: mcode-secondary-cancer-condition.
  EXPECT_FALSE(dx[1].primary);

  // Observations keep their focus Condition, resolved through the bundle's urn:uuid.
  int with_focus = 0;
  ASSERT_TRUE(store_
                  ->ScanObservations(0,
                                     [&](store::Seq, const model::Observation& o) {
                                       if (o.focus_id == dx[0].id) ++with_focus;
                                     })
                  .ok());
  EXPECT_EQ(with_focus, 2);
  EXPECT_EQ(report.unmapped_codings.at("MedicationStatement.medicationCodeableConcept "
                                       "http://www.nlm.nih.gov/research/umls/rxnorm"),
            2);
}

TEST_F(FhirIngestTest, McodeTransactionBundleWithForeignSubjects) {
  // patient_data.json holds four Observations about Patients it does not contain
  // (Patient/mCODEPatientExample01, Patient/mCODEMassiveBioPatientExample1004).
  IngestOptions strict_references;
  strict_references.strict_references = true;
  const IngestReport strict = Ingest({kMcode}, strict_references);
  ASSERT_FALSE(strict.files.at(0).status.ok());
  EXPECT_NE(strict.files[0].status.message().find("unknown subject Patient/mCODEPatientExample01"),
            std::string::npos)
      << strict.files[0].status.message();
  EXPECT_NE(strict.files[0].status.message().find("entry 7"), std::string::npos);
  EXPECT_TRUE(strict.skipped_unresolved_subjects.empty());
  EXPECT_EQ(LastSeq(), 0);

  // By default the file goes in without them, and they are counted per reference.
  const IngestReport report = Ingest({kMcode});
  ASSERT_TRUE(report.files.at(0).status.ok()) << report.files[0].status.message();
  EXPECT_EQ(report.skipped_unresolved_subjects.size(), 2u);
  EXPECT_EQ(report.skipped_unresolved_subjects.at("Patient/mCODEPatientExample01"), 2);
  EXPECT_EQ(report.skipped_unresolved_subjects.at("Patient/mCODEMassiveBioPatientExample1004"), 2);

  // Expected from the file: distinct resources whose subject is the bundle's Patient.
  const auto resources = BundleResources(kMcode);
  std::set<std::string> distinct;
  int64_t about_patient = 0;
  for (const json& r : resources) {
    const std::string type = r["resourceType"];
    if (type == "Patient") {
      distinct.insert(type + "/" + r["id"].get<std::string>());
      ++about_patient;
    } else if (r["subject"]["reference"] == "urn:uuid:" + resources[0]["id"].get<std::string>()) {
      distinct.insert(type + "/" + r["id"].get<std::string>());
      ++about_patient;
    }
  }
  EXPECT_EQ(report.files[0].records_added, static_cast<int64_t>(distinct.size()));
  EXPECT_EQ(report.files[0].records_skipped, about_patient - static_cast<int64_t>(distinct.size()));
  EXPECT_EQ(Rows("individuals"), 1);
  EXPECT_EQ(Rows("diagnoses"), 2);  // the primary, and the secondary listed twice

  int radiotherapy = 0, surgery = 0;
  ASSERT_TRUE(store_
                  ->ScanTreatments(0,
                                   [&](store::Seq, const model::Treatment& t) {
                                     radiotherapy += t.kind == model::TreatmentKind::kRadiotherapy;
                                     surgery += t.kind == model::TreatmentKind::kSurgery;
                                   })
                  .ok());
  EXPECT_EQ(radiotherapy, 3);  // 448385000 megavoltage photons, mcode radiation profile
  EXPECT_EQ(surgery, 3);
  std::vector<model::Diagnosis> dx;
  ASSERT_TRUE(
      store_->ScanDiagnoses(0, [&](store::Seq, const model::Diagnosis& d) { dx.push_back(d); })
          .ok());
  EXPECT_EQ(dx[0].stage_group, "c3A");  // stage.summary, AJCC coding
  EXPECT_TRUE(dx[0].primary);
  EXPECT_FALSE(dx[1].primary);
}

TEST_F(FhirIngestTest, InvalidMcodeBundleIsRefusedAndChangesNothing) {
  ASSERT_TRUE(Ingest({kMcodeEom}).files.at(0).status.ok());
  const store::Seq seq_before = LastSeq();
  const int64_t rows_before = AllRows();

  const IngestReport report = Ingest({kMcodeInvalid});
  ASSERT_EQ(report.files.size(), 1u);
  const Status& st = report.files[0].status;
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  const std::string& m = st.message();
  EXPECT_NE(m.find("6 problems in 2 entries"), std::string::npos) << m;
  EXPECT_NE(m.find("entry 7: Observation/6556b6b3-678c-4fd6-9309-8df77xxxxxxx: not valid FHIR R4"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("Observation.interpretation: expected an array"), std::string::npos) << m;
  EXPECT_NE(m.find("Observation.component[0].interpretation: expected an array"), std::string::npos)
      << m;
  EXPECT_EQ(report.RecordsAdded(), 0);
  EXPECT_EQ(LastSeq(), seq_before);
  EXPECT_EQ(AllRows(), rows_before);
}

TEST_F(FhirIngestTest, MalformedLineRefusesOnlyItsFile) {
  const std::string dir = tmp_ + "/in";
  fs::create_directories(dir);
  WriteAll(dir + "/Patient.ndjson",
           R"({"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1960-02-03"})"
           "\n"
           R"({"resourceType":"Patient","id":"p2","gender":"male","birthDate":"1955-07-01"})"
           "\n");
  WriteAll(
      dir + "/Condition.ndjson",
      R"({"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"C50.9"}]}})"
      "\n"
      R"({"resourceType":"Condition","id":"c2","subject":{"reference":"Patient/p2"}})"
      "\n"
      R"({"resourceType":"Condition","id":"c3","subject":{"reference":"Patient/p1"})"
      "\n"
      R"({"resourceType":"Condition","id":"c4","subject":{"reference":"Patient/p2"}})"
      "\n"
      R"({"resourceType":"Condition","id":"c5","subject":{"reference":"Patient/p1"}})"
      "\n");
  WriteAll(
      dir + "/Observation.ndjson",
      R"({"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"48676-1"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2020-01-01"})"
      "\n");

  const IngestReport report = Ingest({dir});
  ASSERT_EQ(report.files.size(), 3u);
  EXPECT_EQ(report.FilesFailed(), 1);
  for (const FileOutcome& f : report.files) {
    if (f.path.find("Condition") != std::string::npos) {
      ASSERT_FALSE(f.status.ok());
      EXPECT_NE(f.status.message().find("Condition.ndjson:3: malformed JSON"), std::string::npos)
          << f.status.message();
      EXPECT_EQ(f.records_added, 0);
    } else {
      EXPECT_TRUE(f.status.ok()) << f.status.message();
    }
  }
  EXPECT_EQ(Rows("individuals"), 2);
  EXPECT_EQ(Rows("diagnoses"), 0);
  EXPECT_EQ(Rows("observations"), 1);
  EXPECT_EQ(Rows("source_files"), 2);
}

TEST_F(FhirIngestTest, UnknownSubjectIsLeftOutOrWithStrictReferencesRefusesTheFile) {
  const std::string dir = tmp_ + "/in";
  fs::create_directories(dir);
  WriteAll(dir + "/Patient.ndjson", R"({"resourceType":"Patient","id":"p1"})"
                                    "\n");
  WriteAll(
      dir + "/Condition.ndjson",
      R"({"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"C50.9"}]}})"
      "\n"
      R"({"resourceType":"Condition","id":"c2","subject":{"reference":"Patient/abc"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"C50.9"}]}})"
      "\n"
      R"({"resourceType":"Condition","id":"c5","subject":{"reference":"Patient/abc"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"C50.9"}]}})"
      "\n");
  IngestOptions strict_references;
  strict_references.strict_references = true;
  const IngestReport report = Ingest({dir}, strict_references);
  ASSERT_EQ(report.files.size(), 2u);
  EXPECT_TRUE(report.files[0].status.ok());
  ASSERT_FALSE(report.files[1].status.ok());
  EXPECT_NE(report.files[1].status.message().find(
                "Condition.ndjson:2: Condition/c2: unknown subject Patient/abc"),
            std::string::npos)
      << report.files[1].status.message();
  EXPECT_EQ(Rows("diagnoses"), 0);

  // The default: the file goes in without the two Conditions about Patient/abc.
  const IngestReport lenient = Ingest({dir + "/Condition.ndjson"});
  ASSERT_TRUE(lenient.files.at(0).status.ok()) << lenient.files[0].status.message();
  EXPECT_EQ(lenient.files[0].resources, 3);
  EXPECT_EQ(lenient.files[0].records_added, 1);
  EXPECT_EQ(lenient.skipped_unresolved_subjects.size(), 1u);
  EXPECT_EQ(lenient.skipped_unresolved_subjects.at("Patient/abc"), 2);
  EXPECT_EQ(Rows("diagnoses"), 1);

  // The subject may come later in the same file (a mixed NDJSON), or be in the store already.
  WriteAll(
      dir + "/mixed.ndjson",
      R"({"resourceType":"Condition","id":"c3","subject":{"reference":"Patient/late"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"C50.9"}]}})"
      "\n"
      R"({"resourceType":"Condition","id":"c4","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"C50.9"}]}})"
      "\n"
      R"({"resourceType":"Patient","id":"late"})"
      "\n");
  const IngestReport mixed = Ingest({dir + "/mixed.ndjson"}, strict_references);
  ASSERT_TRUE(mixed.files.at(0).status.ok()) << mixed.files[0].status.message();
  EXPECT_EQ(mixed.files[0].records_added, 3);
  EXPECT_EQ(Rows("diagnoses"), 3);
}

TEST_F(FhirIngestTest, StructuralErrorsNameLineResourceAndElement) {
  const std::string path = tmp_ + "/Procedure.ndjson";
  WriteAll(tmp_ + "/Patient.ndjson", R"({"resourceType":"Patient","id":"p1"})"
                                     "\n");
  ASSERT_TRUE(Ingest({tmp_ + "/Patient.ndjson"}).files.at(0).status.ok());
  struct Case {
    std::string line;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {R"({"resourceType":"Procedure","id":"x","subject":{"reference":"Patient/p1"},"category":[{"text":"a"}]})",
       "Procedure/x: not valid FHIR R4: Procedure.category: expected a single value"},
      {R"({"resourceType":"Procedure","id":"x","subject":{"reference":"Patient/p1"},"bodySite":{"text":"a"}})",
       "Procedure.bodySite: expected an array"},
      {R"({"resourceType":"Procedure","id":"x","subject":{"reference":"Patient/p1"},"code":{"coding":[{"code":5}]}})",
       "Procedure.code.coding[0].code: expected a string, found a number"},
      {R"({"resourceType":"Procedure","id":"x","subject":{"reference":"Patient/p1"},"performedDateTime":"yesterday"})",
       "Procedure.performed: not a FHIR date"},
      {R"({"resourceType":"Procedure","id":"x","subject":{"reference":"Patient/p1"},"identifier":{"value":"1"}})",
       "Procedure.identifier: expected an array"},
      {R"({"resourceType":"Procedure","id":"x"})", "Procedure/x: no subject"},
      {R"({"resourceType":"Procedure","subject":{"reference":"Patient/p1"}})", "has no id"},
      {R"(["not","a","resource"])", "expected a FHIR resource"},
  };
  for (const Case& c : cases) {
    WriteAll(path, c.line + "\n");
    const IngestReport report = Ingest({path});
    ASSERT_FALSE(report.files.at(0).status.ok()) << c.line;
    const std::string& m = report.files[0].status.message();
    EXPECT_NE(m.find(path + ":1: "), std::string::npos) << m;
    EXPECT_NE(m.find(c.expected), std::string::npos) << m;
  }
  EXPECT_EQ(Rows("treatments"), 0);
}

TEST_F(FhirIngestTest, ReingestAddsNothing) {
  const IngestReport first = Ingest({kBulk});
  ASSERT_EQ(first.FilesFailed(), 0);
  const int64_t rows = AllRows();
  const store::Seq seq = LastSeq();

  const IngestReport second = Ingest({kBulk});
  EXPECT_EQ(second.FilesFailed(), 0);
  EXPECT_EQ(second.RecordsAdded(), 0);
  for (const FileOutcome& f : second.files) EXPECT_TRUE(f.already_ingested) << f.path;
  EXPECT_EQ(AllRows(), rows);
  EXPECT_EQ(LastSeq(), seq);

  // The same resources in other bytes (reordered lines): a new file, but no new records.
  auto lines = ReadNdjson(kBulk + "/Condition.000.ndjson");
  std::reverse(lines.begin(), lines.end());
  std::string text;
  for (const json& l : lines) text += l.dump() + "\n";
  WriteAll(tmp_ + "/Condition.reordered.ndjson", text);
  const IngestReport third = Ingest({tmp_ + "/Condition.reordered.ndjson"});
  ASSERT_TRUE(third.files.at(0).status.ok()) << third.files[0].status.message();
  EXPECT_FALSE(third.files[0].already_ingested);
  EXPECT_EQ(third.files[0].records_added, 0);
  int64_t left_out = 0;  // not cancers: not stored (cancer_conditions_test.cc)
  for (const auto& [why, n] : third.conditions_left_out) left_out += n;
  EXPECT_EQ(third.files[0].records_skipped, static_cast<int64_t>(lines.size()) - left_out);
  EXPECT_EQ(Rows("diagnoses"), static_cast<int64_t>(lines.size()) - left_out);
  EXPECT_GT(Rows("diagnoses"), 0);
  EXPECT_EQ(Rows("source_files"), 9);
}

TEST_F(FhirIngestTest, NothingIdentifyingReachesTheStore) {
  // Everything the samples say about who a person is.
  std::set<std::string> forbidden;
  std::vector<json> resources = ReadNdjson(kBulk + "/Patient.000.ndjson");
  for (const json& r : ReadNdjson(kBulk + "/Condition.000.ndjson")) resources.push_back(r);
  for (const json& r : BundleResources(kSyntheaBundle)) resources.push_back(r);
  for (const json& r : BundleResources(kMcodeEom)) resources.push_back(r);
  std::vector<std::pair<std::string, std::string>> birth_dates;  // (patient id, birthDate)
  for (const json& r : resources) {
    if (r.contains("id")) forbidden.insert(r["id"].get<std::string>());
    if (r["resourceType"] != "Patient") continue;
    for (const json& id : r.value("identifier", json::array())) {
      if (id.contains("value")) forbidden.insert(id["value"].get<std::string>());
    }
    for (const json& name : r.value("name", json::array())) {
      if (name.contains("family")) forbidden.insert(name["family"].get<std::string>());
      for (const json& g : name.value("given", json::array()))
        forbidden.insert(g.get<std::string>());
    }
    for (const json& t : r.value("telecom", json::array())) {
      if (t.contains("value")) forbidden.insert(t["value"].get<std::string>());
    }
    for (const json& a : r.value("address", json::array())) {
      for (const json& l : a.value("line", json::array())) forbidden.insert(l.get<std::string>());
    }
    if (r.contains("birthDate")) {
      forbidden.insert(r["birthDate"].get<std::string>());
      birth_dates.emplace_back(r["id"], r["birthDate"]);
    }
  }
  forbidden.insert("Clemente");  // the bundle's file name is the patient's name
  forbidden.insert("Kreiger");
  ASSERT_GT(forbidden.size(), 50u);

  const IngestReport report = Ingest(
      {kBulk + "/Patient.000.ndjson", kBulk + "/Condition.000.ndjson", kSyntheaBundle, kMcodeEom});
  ASSERT_EQ(report.FilesFailed(), 0);

  for (const std::string& text : AllText()) {
    for (const std::string& f : forbidden) {
      ASSERT_EQ(text.find(f), std::string::npos) << "'" << f << "' stored in '" << text << "'";
    }
  }
  store_.reset();  // closing the last connection checkpoints the WAL into the file
  for (const std::string& file : {node_->store_path(), node_->store_path() + "-wal"}) {
    if (!fs::exists(file)) continue;
    const std::string bytes = ReadAll(file);
    ASSERT_FALSE(bytes.empty());
    for (const std::string& f : forbidden) {
      // Strings of a few characters ("CC", an initial) turn up by chance in the binary pages
      // of any file; they are checked in every text column above. Longer ones must not be here.
      if (f.size() < 5) continue;
      ASSERT_EQ(bytes.find(f), std::string::npos) << "'" << f << "' found in " << file;
    }
  }
  Reopen();

  // Dates are shifted by a non-zero whole number of days, the same for all of one person.
  std::map<std::string, model::Individual> individuals;
  ASSERT_TRUE(store_
                  ->ScanIndividuals(
                      0, [&](store::Seq, const model::Individual& i) { individuals[i.id] = i; })
                  .ok());
  const deid::Pseudonymizer& p = node_->pseudonymizer();
  int checked = 0;
  for (const auto& [source_id, birth] : birth_dates) {
    const auto it = individuals.find(p.Pseudonym("Patient", source_id));
    ASSERT_NE(it, individuals.end()) << source_id;
    const model::Date original = *model::ParseDate(birth);
    EXPECT_NE(it->second.birth_date, original);
    EXPECT_EQ(it->second.birth_date - original, p.DateShiftDays(source_id));
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(birth_dates.size()));

  // Birth-to-diagnosis intervals are preserved; a Condition from another file than its
  // Patient links to the same individual.
  std::map<std::string, model::Date> original_birth;
  for (const json& r : ReadNdjson(kBulk + "/Patient.000.ndjson")) {
    original_birth[r["id"]] = *model::ParseDate(r["birthDate"].get<std::string>());
  }
  std::map<std::string, model::Diagnosis> diagnoses;
  ASSERT_TRUE(
      store_->ScanDiagnoses(0, [&](store::Seq, const model::Diagnosis& d) { diagnoses[d.id] = d; })
          .ok());
  int intervals = 0;
  for (const json& c : ReadNdjson(kBulk + "/Condition.000.ndjson")) {
    const std::string patient = c["subject"]["reference"].get<std::string>().substr(8);
    // Only the cancers are stored (cancer_conditions_test.cc).
    const auto stored = diagnoses.find(p.Pseudonym("Condition", c["id"].get<std::string>()));
    if (stored == diagnoses.end()) continue;
    const model::Diagnosis& d = stored->second;
    ASSERT_EQ(d.individual_id, p.Pseudonym("Patient", patient));
    const model::Individual& ind = individuals.at(d.individual_id);
    const model::Date onset = *model::ParseDate(c["onsetDateTime"].get<std::string>());
    EXPECT_EQ(d.onset_date - ind.birth_date, onset - original_birth.at(patient));
    ++intervals;
  }
  EXPECT_EQ(intervals, static_cast<int>(diagnoses.size()) - 2);  // the mCODE bundle's two
  EXPECT_GE(intervals, 3);
}

TEST_F(FhirIngestTest, ProgressReportsEachFileToItsEnd) {
  std::map<std::string, std::pair<uint64_t, uint64_t>> last;
  IngestOptions options;
  options.progress = [&](const std::string& path, uint64_t done, uint64_t total, int64_t) {
    last[path] = {done, total};
  };
  const IngestReport report = Ingest({kBulk}, options);
  ASSERT_EQ(last.size(), report.files.size());
  for (const auto& [path, dt] : last) EXPECT_EQ(dt.first, dt.second) << path;
}

TEST_F(FhirIngestTest, MissingPathIsAnError) {
  Result<IngestReport> report = IngestFhir(*node_, *store_, {tmp_ + "/nope"});
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace oncomesh::ingest

namespace oncomesh::ingest {
namespace {

TEST_F(FhirIngestTest, StreamingStoreTransactionRollsBackUnlessCommitted) {
  model::RecordBatch batch;
  batch.individuals.push_back({"0123456789abcdef0123456789abcdef"});
  {
    Result<std::unique_ptr<store::IngestTransaction>> txn =
        store_->BeginIngest({"a.ndjson", "", "fhir-ndjson"});
    ASSERT_TRUE(txn.ok()) << txn.status().ToString();
    ASSERT_TRUE((*txn)->Add(batch).ok());
    Result<bool> visible = store_->HasIndividual(batch.individuals[0].id);
    ASSERT_TRUE(visible.ok());
    EXPECT_TRUE(*visible) << "lookups inside the transaction see what it added";
    EXPECT_FALSE(store_->BeginIngest({"b.ndjson", "", "fhir-ndjson"}).ok())
        << "one ingest transaction at a time";
  }  // destroyed without Commit: rolled back
  EXPECT_EQ(LastSeq(), 0);
  EXPECT_EQ(Rows("individuals"), 0);

  Result<std::unique_ptr<store::IngestTransaction>> txn =
      store_->BeginIngest({"a.ndjson", "", "fhir-ndjson"});
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE((*txn)->Add(batch).ok());
  Result<store::IngestCounts> counts = (*txn)->Commit(std::string(64, 'a'));
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->added, 1);
  EXPECT_EQ(LastSeq(), 1);

  // Same content hash again: rolled back and reported as already ingested.
  txn = store_->BeginIngest({"a-copy.ndjson", "", "fhir-ndjson"});
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE((*txn)->Add(batch).ok());
  counts = (*txn)->Commit(std::string(64, 'a'));
  ASSERT_TRUE(counts.ok());
  EXPECT_TRUE(counts->file_already_ingested);
  EXPECT_EQ(counts->added, 0);
  EXPECT_EQ(Rows("source_files"), 1);

  // IngestBatch still works as before (the index code uses it).
  Result<store::IngestCounts> again =
      store_->IngestBatch({"b.ndjson", std::string(64, 'b'), "fhir-ndjson"}, batch);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->skipped, 1);
  EXPECT_EQ(Rows("source_files"), 2);
}

}  // namespace
}  // namespace oncomesh::ingest

namespace oncomesh::ingest {
namespace {

TEST_F(FhirIngestTest, MapsTheFieldsTheProfileLists) {
  const std::string path = tmp_ + "/mixed.ndjson";
  WriteAll(
      path,
      R"({"resourceType":"Patient","id":"p","gender":"female","birthDate":"1960-01-01","deceasedDateTime":"2021-06-30"})"
      "\n"
      R"({"resourceType":"Condition","id":"c","subject":{"reference":"Patient/p"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"254837009"},{"system":"http://hl7.org/fhir/sid/icd-10","code":"C50.4"}]},"bodySite":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/icd-o-3","code":"C50.4"}]}],"extension":[{"url":"http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior","valueCodeableConcept":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/icd-o-3","code":"8500/3"}]}}],"onsetDateTime":"2019-03-04T10:00:00+01:00","stage":[{"summary":{"coding":[{"system":"http://cancerstaging.org","code":"IIIA"}]}}]})"
      "\n"
      R"({"resourceType":"Condition","id":"m","subject":{"reference":"Patient/p"},"category":[{"coding":[{"system":"http://example.org","code":"metastasis"}]}],"code":{"coding":[{"system":"http://example.org/local","code":"X1"}]},"recordedDate":"2020-01-01"})"
      "\n"
      R"({"resourceType":"Observation","id":"o","status":"final","subject":{"reference":"Patient/p"},"focus":[{"reference":"Condition/c"}],"code":{"coding":[{"system":"http://loinc.org","code":"2857-1"}]},"valueQuantity":{"value":4.5,"unit":"ng/mL"},"effectivePeriod":{"start":"2019-03-05"}})"
      "\n"
      R"({"resourceType":"Procedure","id":"r","status":"completed","subject":{"reference":"Patient/p"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"33195004"}]},"performedPeriod":{"start":"2019-05-01","end":"2019-06-01"}})"
      "\n"
      R"({"resourceType":"MedicationAdministration","id":"a","status":"completed","subject":{"reference":"Patient/p"},"medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"L01FD01"}]},"effectiveDateTime":"2019-04-01"})"
      "\n"
      R"({"resourceType":"Specimen","id":"s","subject":{"reference":"Patient/p"},"type":{"coding":[{"system":"http://snomed.info/sct","code":"258435002"}]},"collection":{"collectedDateTime":"2019-03-01","bodySite":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/icd-o-3","code":"C50.4"}]}}})"
      "\n"
      R"({"resourceType":"ImagingStudy","id":"i","status":"available","subject":{"reference":"Patient/p"},"started":"2019-02-20","numberOfInstances":120,"series":[{"uid":"1.2","modality":{"system":"http://dicom.nema.org/resources/ontology/DCM","code":"MG"},"bodySite":{"system":"http://snomed.info/sct","code":"76752008"}},{"uid":"1.3","modality":{"system":"http://dicom.nema.org/resources/ontology/DCM","code":"MG"}}]})"
      "\n");
  const IngestReport report = Ingest({path});
  ASSERT_TRUE(report.files.at(0).status.ok()) << report.files[0].status.message();
  EXPECT_EQ(report.files[0].records_added, 8);
  EXPECT_EQ(report.unmapped_codings.at("Condition.code http://example.org/local"), 1);

  const deid::Pseudonymizer& p = node_->pseudonymizer();
  const int shift = p.DateShiftDays("p");
  const std::string person = p.Pseudonym("Patient", "p");
  std::vector<model::Individual> ind;
  ASSERT_TRUE(
      store_->ScanIndividuals(0, [&](store::Seq, const model::Individual& i) { ind.push_back(i); })
          .ok());
  ASSERT_EQ(ind.size(), 1u);
  EXPECT_EQ(ind[0].id, person);
  EXPECT_EQ(ind[0].sex, model::Sex::kFemale);
  EXPECT_EQ(ind[0].vital_status, model::VitalStatus::kDeceased);
  EXPECT_EQ(ind[0].death_date, model::DateFromCivil(2021, 6, 30) + shift);

  std::vector<model::Diagnosis> dx;
  ASSERT_TRUE(
      store_->ScanDiagnoses(0, [&](store::Seq, const model::Diagnosis& d) { dx.push_back(d); })
          .ok());
  ASSERT_EQ(dx.size(), 2u);
  EXPECT_EQ(dx[0].id, p.Pseudonym("Condition", "c"));
  EXPECT_EQ(dx[0].individual_id, person);
  EXPECT_EQ(dx[0].code.system, model::system::kIcd10);  // ICD-10 preferred over SNOMED
  EXPECT_EQ(dx[0].code.code, "C50.4");
  EXPECT_EQ(dx[0].topography, "C50.4");
  EXPECT_EQ(dx[0].morphology, "8500/3");
  EXPECT_EQ(dx[0].stage_group, "IIIA");
  EXPECT_TRUE(dx[0].primary);
  EXPECT_EQ(dx[0].onset_date, model::DateFromCivil(2019, 3, 4) + shift);
  EXPECT_FALSE(dx[1].primary);  // category says metastasis
  EXPECT_EQ(dx[1].onset_date, model::DateFromCivil(2020, 1, 1) + shift);  // recordedDate

  std::vector<model::Observation> obs;
  ASSERT_TRUE(
      store_
          ->ScanObservations(0, [&](store::Seq, const model::Observation& o) { obs.push_back(o); })
          .ok());
  ASSERT_EQ(obs.size(), 1u);
  EXPECT_EQ(obs[0].focus_id, dx[0].id);
  EXPECT_DOUBLE_EQ(obs[0].value_number, 4.5);
  EXPECT_EQ(obs[0].value_unit, "ng/mL");
  EXPECT_EQ(obs[0].effective_date, model::DateFromCivil(2019, 3, 5) + shift);

  std::vector<model::Treatment> tx;
  ASSERT_TRUE(
      store_->ScanTreatments(0, [&](store::Seq, const model::Treatment& t) { tx.push_back(t); })
          .ok());
  ASSERT_EQ(tx.size(), 2u);
  EXPECT_EQ(tx[0].kind, model::TreatmentKind::kRadiotherapy);
  EXPECT_EQ(tx[0].end_date - tx[0].start_date, 31);
  EXPECT_EQ(tx[1].kind, model::TreatmentKind::kMedication);
  EXPECT_EQ(tx[1].code.code, "L01FD01");

  std::vector<model::Biosample> bs;
  ASSERT_TRUE(
      store_->ScanBiosamples(0, [&](store::Seq, const model::Biosample& b) { bs.push_back(b); })
          .ok());
  ASSERT_EQ(bs.size(), 1u);
  EXPECT_TRUE(bs[0].tumour);
  EXPECT_EQ(bs[0].body_site.code, "C50.4");
  EXPECT_EQ(bs[0].collection_date, model::DateFromCivil(2019, 3, 1) + shift);

  std::vector<model::ImagingStudy> im;
  ASSERT_TRUE(store_
                  ->ScanImagingStudies(
                      0, [&](store::Seq, const model::ImagingStudy& s) { im.push_back(s); })
                  .ok());
  ASSERT_EQ(im.size(), 1u);
  EXPECT_EQ(im[0].modality, "MG");
  EXPECT_EQ(im[0].body_site.code, "76752008");
  EXPECT_EQ(im[0].number_of_series, 2);
  EXPECT_EQ(im[0].number_of_instances, 120);
  EXPECT_EQ(im[0].started, model::DateFromCivil(2019, 2, 20) + shift);
}

}  // namespace
}  // namespace oncomesh::ingest

namespace oncomesh::ingest {
namespace {

TEST_F(FhirIngestTest, GenomicVariantComponentsFromAnMcodeStyleObservation) {
  const std::string path = tmp_ + "/genomics.ndjson";
  WriteAll(
      path,
      R"({"resourceType":"Patient","id":"p"})"
      "\n"
      // mCODE STU2 style: reference sequence and parentheses, https HGNC system, DNA change.
      R"j({"resourceType":"Observation","id":"v1","status":"final","subject":{"reference":"Patient/p"},"code":{"coding":[{"system":"http://loinc.org","code":"69548-6"}]},"valueCodeableConcept":{"coding":[{"system":"http://loinc.org","code":"LA9633-4"}]},"component":[{"code":{"coding":[{"system":"http://loinc.org","code":"48018-6"}]},"valueCodeableConcept":{"coding":[{"system":"https://www.genenames.org/geneId","code":"HGNC:3236","display":"EGFR"}]}},{"code":{"coding":[{"system":"http://loinc.org","code":"48005-3"}]},"valueCodeableConcept":{"coding":[{"system":"http://varnomen.hgvs.org","code":"NP_005219.2:p.(Leu858Arg)"}]}},{"code":{"coding":[{"system":"http://loinc.org","code":"48004-6"}]},"valueCodeableConcept":{"coding":[{"system":"http://varnomen.hgvs.org","code":"NM_005228.5:c.2573T>G"}]}}]})j"
      "\n"
      // One-letter protein change as a valueString, a gene id without its prefix.
      R"({"resourceType":"Observation","id":"v2","status":"final","subject":{"reference":"Patient/p"},"code":{"coding":[{"system":"http://loinc.org","code":"69548-6"}]},"component":[{"code":{"coding":[{"system":"http://loinc.org","code":"48018-6"}]},"valueCodeableConcept":{"coding":[{"system":"http://www.genenames.org/geneId","code":"1097"}]}},{"code":{"coding":[{"system":"http://loinc.org","code":"48005-3"}]},"valueString":"p.V600E"}]})"
      "\n"
      // A deletion kept in its form; a change that cannot be read kept as written.
      R"({"resourceType":"Observation","id":"v3","status":"final","subject":{"reference":"Patient/p"},"code":{"coding":[{"system":"http://loinc.org","code":"69548-6"}]},"component":[{"code":{"coding":[{"system":"http://loinc.org","code":"48005-3"}]},"valueString":"p.E746_A750del"},{"code":{"coding":[{"system":"http://loinc.org","code":"48004-6"}]},"valueString":" c.2235_2249del "}]})"
      "\n"
      R"({"resourceType":"Observation","id":"v4","status":"final","subject":{"reference":"Patient/p"},"code":{"coding":[{"system":"http://loinc.org","code":"69548-6"}]},"component":[{"code":{"coding":[{"system":"http://loinc.org","code":"48018-6"}]},"valueCodeableConcept":{"coding":[{"system":"http://example.org/genes","code":"ALK"}]}},{"code":{"coding":[{"system":"http://loinc.org","code":"48005-3"}]},"valueString":"exon 19 deletion"}]})"
      "\n");
  const IngestReport report = Ingest({path});
  ASSERT_TRUE(report.files.at(0).status.ok()) << report.files[0].status.message();
  EXPECT_EQ(
      report.unmapped_codings.at("Observation.component:geneStudied http://example.org/genes"), 1);

  const deid::Pseudonymizer& p = node_->pseudonymizer();
  std::map<std::string, model::Observation> obs;
  ASSERT_TRUE(
      store_->ScanObservations(0, [&](store::Seq, const model::Observation& o) { obs[o.id] = o; })
          .ok());
  ASSERT_EQ(obs.size(), 4u);
  const model::Observation& v1 = obs.at(p.Pseudonym("Observation", "v1"));
  EXPECT_EQ(v1.gene_studied.system, "http://www.genenames.org/geneId");
  EXPECT_EQ(v1.gene_studied.code, "HGNC:3236");
  EXPECT_EQ(v1.amino_acid_change, "p.Leu858Arg");
  EXPECT_EQ(v1.dna_change, "NM_005228.5:c.2573T>G");
  const model::Observation& v2 = obs.at(p.Pseudonym("Observation", "v2"));
  EXPECT_EQ(v2.gene_studied.code, "HGNC:1097");
  EXPECT_EQ(v2.amino_acid_change, "p.Val600Glu");
  EXPECT_EQ(v2.dna_change, "");
  const model::Observation& v3 = obs.at(p.Pseudonym("Observation", "v3"));
  EXPECT_TRUE(v3.gene_studied.empty());
  EXPECT_EQ(v3.amino_acid_change, "p.Glu746_Ala750del");
  EXPECT_EQ(v3.dna_change, "c.2235_2249del");
  const model::Observation& v4 = obs.at(p.Pseudonym("Observation", "v4"));
  EXPECT_EQ(v4.gene_studied.system, "http://example.org/genes");
  EXPECT_EQ(v4.gene_studied.code, "ALK");
  EXPECT_EQ(v4.amino_acid_change, "exon 19 deletion");
}

TEST_F(FhirIngestTest, GenomicVariantComponentsFromSynth) {
  synth::SynthOptions options;
  options.site = "genomics";
  options.individuals = 400;
  options.seed = 1;
  options.out_dir = tmp_ + "/synth";
  ASSERT_TRUE(synth::WriteSyntheticSite(options).ok());

  // Expected, read from the file: observation id -> (gene, protein change).
  const deid::Pseudonymizer& p = node_->pseudonymizer();
  std::map<std::string, std::pair<std::string, std::string>> expected;
  for (const json& r : ReadNdjson(options.out_dir + "/Observation.ndjson")) {
    if (r["code"]["coding"][0]["code"] != "69548-6") continue;
    std::pair<std::string, std::string> v;
    for (const json& c : r["component"]) {
      const std::string loinc = c["code"]["coding"][0]["code"];
      const std::string value = c["valueCodeableConcept"]["coding"][0]["code"];
      if (loinc == "48018-6") v.first = value;
      if (loinc == "48005-3") v.second = value;
    }
    expected[p.Pseudonym("Observation", r["id"].get<std::string>())] = v;
  }
  ASSERT_GT(expected.size(), 5u);

  const IngestReport report = Ingest({options.out_dir});
  ASSERT_EQ(report.FilesFailed(), 0);
  size_t seen = 0;
  ASSERT_TRUE(store_
                  ->ScanObservations(0,
                                     [&](store::Seq, const model::Observation& o) {
                                       const auto it = expected.find(o.id);
                                       if (it == expected.end()) {
                                         EXPECT_TRUE(o.gene_studied.empty()) << o.code.code;
                                         EXPECT_EQ(o.amino_acid_change, "");
                                         return;
                                       }
                                       ++seen;
                                       EXPECT_EQ(o.gene_studied.system,
                                                 "http://www.genenames.org/geneId");
                                       EXPECT_EQ(o.gene_studied.code, it->second.first);
                                       EXPECT_EQ(o.amino_acid_change, it->second.second);
                                     })
                  .ok());
  EXPECT_EQ(seen, expected.size());
}

}  // namespace
}  // namespace oncomesh::ingest
