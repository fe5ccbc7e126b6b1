// Genomic discovery end to end: `oncomesh synth` (FHIR + genomes.vcf.gz) -> `ingest fhir` and
// `ingest vcf` -> `node serve` and `hub serve` -> Beacon v2 variant queries over HTTP. Answers
// are checked against an independent reading of the VCF by bcftools and of the FHIR files
// (fhir_oracle.h), and every response is validated with the official Beacon v2 schemas.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "fhir_oracle.h"
#include "support/beacon_bodies.h"
#include "support/process.h"
#include "support/suite_fixture.h"
#include "support/test_access.h"
#include "support/variant_files.h"

namespace oncomesh::testing {
namespace {

using nlohmann::json;

// Carriers (sample names) of each variant "CHROM:POS:REF:ALT" of a VCF, multi-allelic records
// split by bcftools itself.
std::map<std::string, std::set<std::string>> CarriersByBcftools(const std::string& vcf) {
  std::string out;
  EXPECT_EQ(RunCommand({"sh", "-c",
                        "bcftools norm -m- '" + vcf +
                            "' 2>/dev/null | bcftools query -f "
                            "'%CHROM\\t%POS\\t%REF\\t%ALT[\\t%SAMPLE=%GT]\\n'"},
                       &out),
            0);
  std::map<std::string, std::set<std::string>> carriers;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string chrom, pos, ref, alt, call;
    fields >> chrom >> pos >> ref >> alt;
    if (chrom.rfind("chr", 0) == 0) chrom = chrom.substr(3);
    std::set<std::string>& who = carriers[chrom + ":" + pos + ":" + ref + ":" + alt];
    while (fields >> call) {
      const size_t eq = call.find('=');
      const std::string gt = call.substr(eq + 1);
      if (gt.find('1') != std::string::npos) who.insert(call.substr(0, eq));
    }
  }
  return carriers;
}

constexpr const char* kGrant = "https://ega.oncomesh.test/datasets/EGAD0052";

const TestBroker& Broker() {
  static const TestBroker broker;
  return broker;
}
const std::string& Registered() {
  static const std::string passport = Broker().Registered();
  return passport;
}
const std::string& Token() {
  static const std::string passport = Broker().Permitted(kGrant);
  return passport;
}

class GenomicBeaconTest : public ::oncomesh::testing::SuiteFixture<GenomicBeaconTest> {
  friend class ::oncomesh::testing::SuiteFixture<GenomicBeaconTest>;  // calls SetUpSuite

 protected:
  static void SetUpSuite() {
    dir_ = new TempDir();
    const std::string fhir = dir_->path() + "/fhir";
    const std::string node = dir_->path() + "/node";
    std::string out;
    ASSERT_EQ(
        RunCommand({OncomeshBinary(), "synth", "--site", "gentest", "--individuals", "3000",
                    "--seed", "5", "--genomes", "600", "--genome-sites", "3000", "--out", fhir},
                   &out),
        0)
        << out;
    vcf_ = new std::string(fhir + "/genomes.vcf.gz");
    // Exact counts (count_step 1): the oracle comparisons must see an off-by-one (the rounding
    // is tested on its own in beacon_api_test.cc).
    ASSERT_EQ(RunCommand({OncomeshBinary(), "node", "init", "--dir", node, "--name", "gentest",
                          "--count-step", "1"},
                         &out),
              0)
        << out;
    // Record-level access for the tests that need it: a broker trusted for grants of the dataset.
    TrustBroker(node, Broker(), kGrant);
    std::ofstream(dir_->path() + "/token") << Token() << "\n";
    ASSERT_EQ(RunCommand({OncomeshBinary(), "ingest", "fhir", "--dir", node, fhir}, &out), 0)
        << out;
    ASSERT_EQ(RunCommand({OncomeshBinary(), "ingest", "vcf", "--dir", node, *vcf_}, &out), 0)
        << out;
    ASSERT_NE(HtsgetIdOfIngest(out), "") << out;
    htsget_id_ = HtsgetIdOfIngest(out);
    facts_ = new std::map<std::string, PatientFacts>(ReadFhirFacts(fhir));
    carriers_ = new std::map<std::string, std::set<std::string>>(CarriersByBcftools(*vcf_));
    node_ = new ChildProcess({OncomeshBinary(), "node", "serve", "--dir", node, "--port", "0"});
    std::string line = node_->WaitForLine("node ");
    ASSERT_FALSE(line.empty()) << "node did not start";
    port_ = PortOf(line);
    const std::string config = dir_->path() + "/hub.yaml";
    std::ofstream(config) << "name: test\naddress: 127.0.0.1\nport: 0\ndeadline_ms: 5000\nnodes:\n"
                          << "  - {name: gentest, url: http://127.0.0.1:" << port_ << "}\n";
    hub_ = new ChildProcess({OncomeshBinary(), "hub", "serve", "--config", config});
    line = hub_->WaitForLine("hub ");
    ASSERT_FALSE(line.empty()) << "hub did not start";
    hub_port_ = PortOf(line);
  }
  static void TearDownTestSuite() {
    delete hub_;
    delete node_;
    delete carriers_;
    delete facts_;
    delete vcf_;
    delete dir_;
  }

  // As a registered researcher by default (counts); `token` "-" sends no passport at all.
  static http::Response Fetch(uint16_t port, const std::string& method, const std::string& target,
                              const json& body = nullptr, const std::string& token = Registered()) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (token != "-") headers.emplace_back("Authorization", "Bearer " + token);
    auto r = FetchBeacon("127.0.0.1", port, method, target, body.is_null() ? "" : body.dump(),
                         std::chrono::seconds(30), headers);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::Response{};
  }
  // Sample names carrying a variant, per bcftools.
  static const std::set<std::string>& Carriers(const std::string& key) {
    static const std::set<std::string> none;
    auto it = carriers_->find(key);
    return it == carriers_->end() ? none : it->second;
  }

  static TempDir* dir_;
  static std::string* vcf_;
  static inline std::string htsget_id_;  // as `ingest vcf` printed it
  static std::map<std::string, PatientFacts>* facts_;
  static std::map<std::string, std::set<std::string>>* carriers_;
  static ChildProcess* node_;
  static ChildProcess* hub_;
  static uint16_t port_, hub_port_;
};

TempDir* GenomicBeaconTest::dir_ = nullptr;
std::string* GenomicBeaconTest::vcf_ = nullptr;
std::map<std::string, PatientFacts>* GenomicBeaconTest::facts_ = nullptr;
std::map<std::string, std::set<std::string>>* GenomicBeaconTest::carriers_ = nullptr;
ChildProcess* GenomicBeaconTest::node_ = nullptr;
ChildProcess* GenomicBeaconTest::hub_ = nullptr;
uint16_t GenomicBeaconTest::port_ = 0;
uint16_t GenomicBeaconTest::hub_port_ = 0;

const char* const kResponses = "framework/json/responses/";

TEST_F(GenomicBeaconTest, VariantQueriesValidateAgainstTheOfficialSchemas) {
  struct Case {
    std::string method, target;
    json body;
    int status;
    std::string schema;
  };
  const json kras = {{"query",
                      {{"requestParameters",
                        {{"g_variant",
                          {{"assemblyId", "GRCh38"},
                           {"referenceName", "12"},
                           {"start", {25245350}},
                           {"referenceBases", "C"},
                           {"alternateBases", "A"}}}}},
                       {"requestedGranularity", "count"}}}};
  const std::vector<Case> cases = {
      {"GET", "/api/g_variants?geneId=BRCA1&requestedGranularity=count", nullptr, 200,
       "beaconCountResponse.json"},
      {"GET", "/api/g_variants?geneId=KRAS", nullptr, 200, "beaconBooleanResponse.json"},
      {"GET",
       "/api/"
       "g_variants?referenceName=NC_000017.11&start=7660000&end=7690000&requestedGranularity=count",
       nullptr, 200, "beaconCountResponse.json"},
      {"POST", "/api/g_variants", kras, 200, "beaconCountResponse.json"},
      {"POST", "/api/individuals", kras, 200, "beaconCountResponse.json"},
      {"GET", "/api/biosamples?aminoacidChange=V600E&geneId=BRAF&requestedGranularity=count",
       nullptr, 200, "beaconCountResponse.json"},
      {"GET", "/api/g_variants?geneId=NOSUCHGENE", nullptr, 400, "beaconErrorResponse.json"},
      {"GET", "/api/g_variants?referenceName=17&start=100", nullptr, 400,
       "beaconErrorResponse.json"},
      {"GET", "/api/g_variants?referenceName=17&start=200&end=100", nullptr, 400,
       "beaconErrorResponse.json"},
      {"GET", "/api/g_variants?geneId=TP53&requestedGranularity=record", nullptr, 403,
       "beaconErrorResponse.json"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method + " " + c.target);
    for (uint16_t port : {port_, hub_port_}) {
      const http::Response r = Fetch(port, c.method, c.target, c.body);
      EXPECT_EQ(r.status, c.status) << r.body;
      EXPECT_EQ(ValidateBeacon(std::string(kResponses) + c.schema, r.body), "");
    }
  }
}

TEST_F(GenomicBeaconTest, GenomicAndClinicalFiltersCombineAsTheFilesSay) {
  // Women carrying KRAS G12C: bcftools' carriers of 12:25245351:C:A whose Patient is female.
  const std::set<std::string>& kras = Carriers("12:25245351:C:A");
  ASSERT_FALSE(kras.empty()) << "the synthetic genomes carry no KRAS G12C";
  int64_t women = 0;
  for (const std::string& sample : kras) {
    auto it = facts_->find(sample);
    ASSERT_NE(it, facts_->end()) << sample << " is no patient of the FHIR files";
    women += it->second.gender == "female";
    // The clinical record names the same variant (synth keeps the two consistent).
    EXPECT_TRUE(it->second.genomic.count("HGNC:6407|p.Gly12Cys")) << sample;
  }
  const json body = {{"query",
                      {{"filters", json::array({{{"id", "NCIT:C16576"}}})},
                       {"requestParameters",
                        {{"g_variant",
                          {{"referenceName", "NC_000012.12"},
                           {"start", {25245350}},
                           {"referenceBases", "C"},
                           {"alternateBases", "A"}}}}},
                       {"requestedGranularity", "count"}}}};
  const json node = json::parse(Fetch(port_, "POST", "/api/individuals", body).body);
  EXPECT_EQ(node["responseSummary"]["numTotalResults"], women) << node.dump();
  EXPECT_EQ(node["info"]["countPrecision"], "exact") << node.dump();
  const json hub = json::parse(Fetch(hub_port_, "POST", "/api/individuals", body).body);
  EXPECT_EQ(hub["responseSummary"]["numTotalResults"], women) << hub.dump();

  // Everyone carrying anything in TP53's span (GRCh38 17:7,668,402-7,687,550 per data/genes/).
  std::set<std::string> tp53;
  for (const auto& [key, who] : *carriers_) {
    std::istringstream k(key);
    std::string chrom, pos;
    std::getline(k, chrom, ':');
    std::getline(k, pos, ':');
    const int64_t p = std::stoll(pos);
    if (chrom == "17" && p >= 7668402 && p <= 7687550) tp53.insert(who.begin(), who.end());
  }
  const json gene = json::parse(
      Fetch(port_, "GET", "/api/individuals?geneId=TP53&requestedGranularity=count").body);
  EXPECT_EQ(gene["responseSummary"]["numTotalResults"], static_cast<int64_t>(tp53.size()))
      << gene.dump();
}

TEST_F(GenomicBeaconTest, RecordLevelVariantsForPermittedCallersValidateAndNameTheCarriers) {
  const std::string target = "/api/g_variants?geneId=KRAS&requestedGranularity=record&limit=100";
  const http::Response r = Fetch(port_, "GET", target, nullptr, Token());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ValidateBeacon(std::string(kResponses) + "beaconResultsetsResponse.json", r.body), "");
  const json body = json::parse(r.body);
  const json& results = body["response"]["resultSets"][0]["results"];
  ASSERT_FALSE(results.empty());
  bool saw_g12c = false;
  for (const json& v : results) {
    EXPECT_EQ(
        ValidateBeacon("models/json/beacon-v2-default-model/genomicVariations/defaultSchema.json",
                       v.dump()),
        "")
        << v.dump();
    EXPECT_EQ(v["molecularAttributes"]["geneIds"][0], "KRAS");
    if (v["variantInternalId"] == "GRCh38:12:25245351:C:A") {
      saw_g12c = true;
      EXPECT_EQ(v["caseLevelData"].size(), Carriers("12:25245351:C:A").size());
      EXPECT_EQ(v["molecularAttributes"]["aminoacidChanges"][0], "G12C");
    }
  }
  EXPECT_TRUE(saw_g12c);
  // Other credentials are refused, not downgraded; no credentials: records are not for anonymous
  // callers.
  EXPECT_EQ(Fetch(port_, "GET", target, nullptr, "not-the-token-000000000000").status, 401);
  EXPECT_EQ(Fetch(port_, "GET", target, nullptr, "-").status, 403);
  EXPECT_EQ(Fetch(port_, "GET", target).status, 403);  // registered, without the grant
}

TEST_F(GenomicBeaconTest, HtsgetOfTheIngestedFileGivesWhatBcftoolsReadsFromTheSource) {
  // The ingest kept the file under the htsget id it printed; bcftools follows the node's ticket.
  const std::string url = "http://127.0.0.1:" + std::to_string(port_) + "/variants/" + htsget_id_ +
                          "?referenceName=chr12&start=25000000&end=26000000";
  std::string via_htsget, direct;
  ASSERT_EQ(RunCommand({"sh", "-c",
                        "HTS_AUTH_LOCATION='" + dir_->path() +
                            "/token' "
                            "HTS_ALLOW_UNENCRYPTED_AUTHORIZATION_HEADER='I understand the risks' "
                            "bcftools view -H '" +
                            url + "' 2>/dev/null"},
                       &via_htsget),
            0)
      << via_htsget;
  ASSERT_EQ(RunCommand({"sh", "-c",
                        "bcftools view -H -r chr12:25000001-26000000 '" + *vcf_ + "' 2>/dev/null"},
                       &direct),
            0)
      << direct;
  EXPECT_FALSE(direct.empty());
  EXPECT_EQ(via_htsget, direct);
  std::string refused;
  EXPECT_NE(RunCommand({"bcftools", "view", "-H", url}, &refused), 0);  // no token: 403
}

}  // namespace
}  // namespace oncomesh::testing
