// Access levels per dataset (issue 5, point 2): a node whose individuals are split between two
// datasets, each with its own ControlledAccessGrants value. A researcher permitted on one gets
// that dataset's records only — Beacon genomic variants and their carriers, htsget, DICOMweb —
// and nothing of the other's; counts stay those of a registered researcher (they are of the
// whole node); a researcher permitted on both gets both result sets.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "node/node_dir.h"
#include "support/beacon_bodies.h"
#include "support/process.h"
#include "support/suite_fixture.h"
#include "support/test_access.h"
#include "support/variant_files.h"

namespace oncomesh::testing {
namespace {

using nlohmann::json;

constexpr const char* kGrantA = "https://ega.oncomesh.test/datasets/CLINIC-A";
constexpr const char* kGrantB = "https://ega.oncomesh.test/datasets/CLINIC-B";

class DatasetsTest : public ::oncomesh::testing::SuiteFixture<DatasetsTest> {
  friend class ::oncomesh::testing::SuiteFixture<DatasetsTest>;  // calls SetUpSuite

 protected:
  static void SetUpSuite() {
    dir_ = new TempDir();
    const std::string node = dir_->path() + "/node";
    std::string out;
    ASSERT_EQ(
        RunCommand({OncomeshBinary(), "node", "init", "--dir", node, "--name", "split"}, &out), 0)
        << out;
    TrustBroker(node, SharedBroker(), kSharedGrant);
    {
      std::ifstream in(node + "/node.yaml");
      std::stringstream text;
      text << in.rdbuf();
      Result<node::NodeConfig> config = node::ParseNodeConfig(text.str(), node + "/node.yaml");
      ASSERT_TRUE(config.ok()) << config.status().ToString();
      config->datasets = {node::DatasetConfig{"clinic-a", "Clinic A", "", {kGrantA}, std::nullopt},
                          node::DatasetConfig{"clinic-b", "Clinic B", "", {kGrantB}, std::nullopt}};
      std::ofstream(node + "/node.yaml") << node::NodeConfigToYaml(*config);
    }
    // Each clinic's patients, genomes and images; --dataset puts the patients (and with them
    // everything recorded of them) in a dataset.
    for (const char* site : {"a", "b"}) {
      const std::string fhir = dir_->path() + "/fhir-" + site;
      ASSERT_EQ(
          RunCommand({OncomeshBinary(), "synth", "--site", std::string("clinic-") + site,
                      "--individuals", "300", "--seed", site[0] == 'a' ? "5" : "6", "--genomes",
                      "60", "--genome-sites", "4000", "--images", "3", "--out", fhir},
                     &out),
          0)
          << out;
      ASSERT_EQ(RunCommand({OncomeshBinary(), "ingest", "fhir", "--dir", node, "--dataset",
                            std::string("clinic-") + site, fhir},
                           &out),
                0)
          << out;
      // htsget ids: as `ingest vcf` prints them (keyed digests of the content).
      ASSERT_EQ(
          RunCommand({OncomeshBinary(), "ingest", "vcf", "--dir", node, fhir + "/genomes.vcf.gz"},
                     &out),
          0)
          << out;
      (site[0] == 'a' ? genomes_a_ : genomes_b_) = "/variants/" + HtsgetIdOfIngest(out);
      ASSERT_NE(HtsgetIdOfIngest(out), "") << out;
      ASSERT_EQ(
          RunCommand({OncomeshBinary(), "ingest", "dicom", "--dir", node, fhir + "/dicom"}, &out),
          0)
          << out;
    }
    // Genomes of people the node does not know (no FHIR for them): of no dataset.
    const std::string unknown = dir_->path() + "/fhir-c";
    ASSERT_EQ(
        RunCommand({OncomeshBinary(), "synth", "--site", "clinic-c", "--individuals", "50",
                    "--seed", "7", "--genomes", "20", "--genome-sites", "200", "--out", unknown},
                   &out),
        0)
        << out;
    ASSERT_EQ(
        RunCommand({OncomeshBinary(), "ingest", "vcf", "--dir", node, unknown + "/genomes.vcf.gz"},
                   &out),
        0)
        << out;
    genomes_c_ = "/variants/" + HtsgetIdOfIngest(out);
    ASSERT_NE(HtsgetIdOfIngest(out), "") << out;
    // A dataset node.yaml does not have: refused, and nothing of the files goes in (they are
    // new: clinic C's patients).
    EXPECT_NE(RunCommand({OncomeshBinary(), "ingest", "fhir", "--dir", node, "--dataset",
                          "clinic-x", unknown},
                         &out),
              0);
    EXPECT_NE(out.find("no dataset 'clinic-x'"), std::string::npos) << out;
    // A patient of clinic A again, from another source, into clinic B: refused (a patient
    // belongs to one dataset; their records would otherwise join A's).
    {
      std::ifstream patients(dir_->path() + "/fhir-a/Patient.ndjson");
      std::string first;
      std::getline(patients, first);
      ASSERT_FALSE(first.empty());
      std::ofstream(dir_->path() + "/again.ndjson") << first << "\n";
    }
    EXPECT_NE(RunCommand({OncomeshBinary(), "ingest", "fhir", "--dir", node, "--dataset",
                          "clinic-b", dir_->path() + "/again.ndjson"},
                         &out),
              0)
        << out;
    EXPECT_NE(out.find("is in dataset 'clinic-a', not 'clinic-b'"), std::string::npos) << out;
    node_ = new ChildProcess({OncomeshBinary(), "node", "serve", "--dir", node, "--port", "0"});
    port_ = PortOf(node_->WaitForLine("node "));
    ASSERT_NE(port_, 0) << node_->output();
  }
  static void TearDownTestSuite() {
    delete node_;
    delete dir_;
  }

  static http::Response Get(const std::string& target, const std::string& passport,
                            const std::string& method = "GET", const std::string& body = "",
                            const std::string& accept = "application/dicom+json") {
    std::vector<std::pair<std::string, std::string>> headers = {
        {"Authorization", "Bearer " + passport}};
    if (target.rfind("/dicomweb", 0) == 0) headers.emplace_back("Accept", accept);
    Result<http::Response> r =
        FetchBeacon("127.0.0.1", port_, method, target, body, std::chrono::seconds(30), headers);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::Response{};
  }

  static std::string OnlyA() { return SharedBroker().Permitted(kGrantA); }
  static std::string Both() {
    const TestBroker& b = SharedBroker();
    TestBroker::VisaSpec status, a, bb;
    a.type = bb.type = "ControlledAccessGrants";
    a.by = bb.by = "dac";
    a.value = kGrantA;
    bb.value = kGrantB;
    return b.Passport({b.Visa(status), b.Visa(a), b.Visa(bb)});
  }

  static TempDir* dir_;
  static ChildProcess* node_;
  static uint16_t port_;
  // htsget targets of the genomes of clinics A, B, and of people of no known dataset.
  static inline std::string genomes_a_, genomes_b_, genomes_c_;
};

TempDir* DatasetsTest::dir_ = nullptr;
ChildProcess* DatasetsTest::node_ = nullptr;
uint16_t DatasetsTest::port_ = 0;

// The individual ids of each result set of a g_variants record answer.
std::map<std::string, std::set<std::string>> CarriersBySet(const json& body) {
  std::map<std::string, std::set<std::string>> out;
  for (const json& set : body["response"]["resultSets"]) {
    std::set<std::string>& ids = out[set["id"].get<std::string>()];
    for (const json& r : set["results"]) {
      for (const json& c : r.value("caseLevelData", json::array()))
        ids.insert(c["individualId"].get<std::string>());
    }
  }
  return out;
}

TEST_F(DatasetsTest, RecordsOnlyFromTheDatasetsOfThePermit) {
  const std::string query =
      R"({"meta":{"apiVersion":"v2.0"},"query":{"requestedGranularity":"record","pagination":{"skip":0,"limit":1000}}})";
  const http::Response both = Get("/api/g_variants", Both(), "POST", query);
  ASSERT_EQ(both.status, 200) << both.body;
  const auto all = CarriersBySet(json::parse(both.body));
  ASSERT_EQ(all.size(), 2u) << both.body;
  ASSERT_FALSE(all.at("clinic-a").empty());
  ASSERT_FALSE(all.at("clinic-b").empty());
  for (const std::string& id : all.at("clinic-a"))
    EXPECT_EQ(all.at("clinic-b").count(id), 0u) << id;

  const http::Response only_a = Get("/api/g_variants", OnlyA(), "POST", query);
  ASSERT_EQ(only_a.status, 200) << only_a.body;
  const json a = json::parse(only_a.body);
  const auto carriers = CarriersBySet(a);
  ASSERT_EQ(carriers.size(), 1u) << only_a.body;
  EXPECT_EQ(carriers.at("clinic-a"), all.at("clinic-a"));
  EXPECT_EQ(a["response"]["resultSets"][0]["resultsCount"],
            json::parse(both.body)["response"]["resultSets"][0]["resultsCount"]);
  for (const json& set : a["response"]["resultSets"]) EXPECT_EQ(set["id"], "clinic-a");
  EXPECT_EQ(a["info"]["countPrecision"], "exact");  // records are counted as they are
  for (const json& r : a["response"]["resultSets"][0]["results"])
    EXPECT_TRUE(r.contains("caseLevelData")) << r.dump();

  // Registered on both, permitted on A: a count of the whole node is rounded, as for anyone
  // registered, even when records were asked for.
  const http::Response count =
      Get("/api/individuals", OnlyA(), "POST",
          R"({"meta":{"apiVersion":"v2.0"},"query":{"requestedGranularity":"record"}})");
  ASSERT_EQ(count.status, 200) << count.body;
  const json c = json::parse(count.body);
  EXPECT_EQ(c["meta"]["returnedGranularity"], "count");
  EXPECT_EQ(c["info"]["accessLevel"], "registered") << count.body;
  EXPECT_EQ(c["info"]["countPrecision"], "rounded") << count.body;

  // Each dataset's cohort is its own individuals (300 each, not the node's 600).
  const http::Response cohorts = Get("/api/cohorts", OnlyA());
  ASSERT_EQ(cohorts.status, 200) << cohorts.body;
  std::map<std::string, int64_t> sizes;
  const json cohort_doc = json::parse(cohorts.body);
  for (const json& co : cohort_doc["response"]["collections"]) {
    sizes[co["id"].get<std::string>()] = co.value("cohortSize", -1);
  }
  EXPECT_EQ(sizes,
            (std::map<std::string, int64_t>{{"cohort-clinic-a", 300}, {"cohort-clinic-b", 300}}))
      << cohorts.body;

  // Registered only: no records at all.
  EXPECT_EQ(Get("/api/g_variants", SharedBroker().Registered(), "POST", query).status, 403);
  // A grant the node does not list (kSharedGrant was the old first dataset's): none either.
  EXPECT_EQ(Get("/api/g_variants", SharedBroker().Permitted(kSharedGrant), "POST", query).status,
            403);
}

TEST_F(DatasetsTest, HtsgetServesOnlyFilesOfPermittedDatasets) {
  const http::Response a = Get(genomes_a_, OnlyA());
  EXPECT_EQ(a.status, 200) << a.body;
  EXPECT_NE(a.body.find("\"urls\""), std::string::npos) << a.body;
  // Clinic B's file, to a researcher permitted on A, is as absent as an unknown id.
  const http::Response b = Get(genomes_b_, OnlyA());
  EXPECT_EQ(b.status, 404) << b.body;
  EXPECT_EQ(b.body.find("\"urls\""), std::string::npos) << b.body;
  const http::Response none = Get("/variants/no-such-file", OnlyA());
  EXPECT_EQ(none.status, 404) << none.body;
  EXPECT_EQ(json::parse(b.body)["htsget"]["error"], json::parse(none.body)["htsget"]["error"]);
  // A block URL of B's file, issued to a researcher permitted on both, is no use with A's.
  const http::Response ticket = Get(genomes_b_ + "?referenceName=chr1", Both());
  ASSERT_EQ(ticket.status, 200) << ticket.body;
  std::string block;
  const json ticket_doc = json::parse(ticket.body);
  for (const json& u : ticket_doc["htsget"]["urls"]) {
    const std::string url = u["url"];
    if (url.rfind("http://", 0) == 0) block = url.substr(url.find('/', 7));
  }
  ASSERT_FALSE(block.empty()) << ticket.body;
  EXPECT_EQ(Get(block, Both()).status, 200);
  EXPECT_EQ(Get(block, OnlyA()).status, 404);
  // Genomes of people of no known dataset could be anyone's: only for a caller permitted on
  // every dataset.
  EXPECT_EQ(Get(genomes_c_, OnlyA()).status, 404);
  EXPECT_EQ(Get(genomes_c_, Both()).status, 200);
}

TEST_F(DatasetsTest, DicomwebShowsOnlyStudiesOfPermittedDatasets) {
  const http::Response all = Get("/dicomweb/studies", Both());
  ASSERT_EQ(all.status, 200) << all.body;
  const http::Response only_a = Get("/dicomweb/studies", OnlyA());
  ASSERT_EQ(only_a.status, 200) << only_a.body;
  std::set<std::string> every, of_a;
  for (const json& s : json::parse(all.body))
    every.insert(s["0020000D"]["Value"][0].get<std::string>());
  for (const json& s : json::parse(only_a.body))
    of_a.insert(s["0020000D"]["Value"][0].get<std::string>());
  ASSERT_FALSE(of_a.empty());
  ASSERT_LT(of_a.size(), every.size());
  std::string other;  // a study of clinic B
  for (const std::string& s : every) {
    if (!of_a.count(s)) other = s;
  }
  for (const std::string& s : of_a) EXPECT_EQ(every.count(s), 1u) << s;
  // Clinic B's study is, to a researcher permitted on A, as absent as an unknown one.
  const http::Response hidden = Get("/dicomweb/studies/" + other + "/metadata", OnlyA());
  EXPECT_EQ(hidden.status, 404) << hidden.body;
  const http::Response unknown = Get("/dicomweb/studies/9.9.9/metadata", OnlyA());
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_EQ(Get("/dicomweb/studies/" + other + "/metadata", Both()).status, 200);
  const std::string wado = "multipart/related; type=\"application/dicom\"";
  EXPECT_EQ(Get("/dicomweb/studies/" + other, OnlyA(), "GET", "", wado).status, 404);
  EXPECT_EQ(Get("/dicomweb/studies/" + other, Both(), "GET", "", wado).status, 200);
  EXPECT_EQ(Get("/dicomweb/studies/" + other + "/series", OnlyA()).status, 204);
  EXPECT_EQ(Get("/dicomweb/instances?StudyInstanceUID=" + other, OnlyA()).status, 204);
  EXPECT_EQ(Get("/dicomweb/studies?StudyInstanceUID=" + other, OnlyA()).status, 204);
}

}  // namespace
}  // namespace oncomesh::testing
