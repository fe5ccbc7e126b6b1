// The node's Beacon v2 API end to end: synthetic FHIR -> `oncomesh ingest fhir` -> `oncomesh
// node serve` -> HTTP. Every response is validated with the official Beacon v2 schemas, and
// every count is checked against an independent reading of the FHIR files (fhir_oracle.h).
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "fhir_oracle.h"
#include "support/beacon_bodies.h"
#include "support/process.h"
#include "support/suite_fixture.h"
#include "support/test_access.h"
#include "support/variant_files.h"

namespace oncomesh::testing {
namespace {

using nlohmann::json;

class BeaconApiTest : public ::oncomesh::testing::SuiteFixture<BeaconApiTest> {
  friend class ::oncomesh::testing::SuiteFixture<BeaconApiTest>;  // calls SetUpSuite

 protected:
  static void SetUpSuite() {
    dir_ = new TempDir();
    const std::string fhir = dir_->path() + "/fhir";
    const std::string node = dir_->path() + "/node";
    std::string out;
    ASSERT_EQ(RunCommand({OncomeshBinary(), "synth", "--site", "apitest", "--individuals", "4000",
                          "--seed", "7", "--out", fhir},
                         &out),
              0)
        << out;
    // Exact counts (count_step 1), so that the oracle comparisons see an off-by-one; the rounding
    // has its own test (CountsAreRoundedUpToTheNodesStep) on a copy served with the default step.
    ASSERT_EQ(RunCommand({OncomeshBinary(), "node", "init", "--dir", node, "--name", "apitest",
                          "--count-step", "1"},
                         &out),
              0)
        << out;
    TrustBroker(node, SharedBroker(), kSharedGrant);
    ASSERT_EQ(RunCommand({OncomeshBinary(), "ingest", "fhir", "--dir", node, fhir}, &out), 0)
        << out;
    facts_ = new std::map<std::string, PatientFacts>(ReadFhirFacts(fhir));
    server_ = new ChildProcess({OncomeshBinary(), "node", "serve", "--dir", node, "--port", "0"});
    const std::string line = server_->WaitForLine("node ");
    ASSERT_FALSE(line.empty()) << "node did not start";
    port_ = PortOf(line);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete facts_;
    delete dir_;
  }

  static http::Response Get(const std::string& target) {
    auto r = FetchBeacon("127.0.0.1", port_, "GET", target, "", std::chrono::seconds(30),
                         AsRegistered());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::Response{};
  }
  static http::Response Post(const std::string& target, const json& body) {
    auto r = FetchBeacon("127.0.0.1", port_, "POST", target, body.dump(), std::chrono::seconds(30),
                         AsRegistered());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::Response{};
  }
  static json CountQuery(const json& filters) {
    return {{"meta", {{"apiVersion", "v2.0"}}},
            {"query", {{"filters", filters}, {"requestedGranularity", "count"}}}};
  }
  static int64_t Expected(const std::function<bool(const PatientFacts&)>& match) {
    int64_t n = 0;
    for (const auto& [id, f] : *facts_) n += match(f) ? 1 : 0;
    return n;
  }

  static TempDir* dir_;
  static ChildProcess* server_;
  static std::map<std::string, PatientFacts>* facts_;
  static uint16_t port_;
};

TempDir* BeaconApiTest::dir_ = nullptr;
ChildProcess* BeaconApiTest::server_ = nullptr;
std::map<std::string, PatientFacts>* BeaconApiTest::facts_ = nullptr;
uint16_t BeaconApiTest::port_ = 0;

const char* const kResponses = "framework/json/responses/";

TEST_F(BeaconApiTest, EveryEndpointValidatesAgainstTheOfficialSchemas) {
  struct Case {
    std::string method, target;
    json body;
    int status;
    std::string schema;
  };
  const json count = CountQuery(json::array({{{"id", "NCIT:C16576"}}}));
  const json boolean = {
      {"query", {{"filters", json::array({"ICD10:C50"})}, {"requestedGranularity", "boolean"}}}};
  const std::vector<Case> cases = {
      {"GET", "/api", nullptr, 200, "beaconInfoResponse.json"},
      {"GET", "/api/info", nullptr, 200, "beaconInfoResponse.json"},
      {"GET", "/api/service-info", nullptr, 200, "ga4gh-service-info-1-0-0-schema.json"},
      {"GET", "/api/configuration", nullptr, 200, "beaconConfigurationResponse.json"},
      {"GET", "/api/map", nullptr, 200, "beaconMapResponse.json"},
      {"GET", "/api/entry_types", nullptr, 200, "beaconEntryTypesResponse.json"},
      {"GET", "/api/filtering_terms", nullptr, 200, "beaconFilteringTermsResponse.json"},
      {"GET", "/api/datasets", nullptr, 200, "beaconCollectionsResponse.json"},
      {"GET", "/api/datasets/default", nullptr, 200, "beaconCollectionsResponse.json"},
      {"GET", "/api/cohorts", nullptr, 200, "beaconCollectionsResponse.json"},
      {"POST", "/api/datasets", json::object(), 200, "beaconCollectionsResponse.json"},
      {"GET", "/api/individuals?filters=NCIT:C16576&requestedGranularity=count", nullptr, 200,
       "beaconCountResponse.json"},
      {"GET", "/api/individuals", nullptr, 200, "beaconBooleanResponse.json"},
      {"POST", "/api/individuals", count, 200, "beaconCountResponse.json"},
      {"POST", "/api/individuals", boolean, 200, "beaconBooleanResponse.json"},
      {"POST", "/api/biosamples", count, 200, "beaconCountResponse.json"},
      {"GET", "/api/biosamples?requestedGranularity=count&filters=age%3E%3DP60Y", nullptr, 200,
       "beaconCountResponse.json"},
      {"GET", "/api/individuals?filters=NOPE:123", nullptr, 400, "beaconErrorResponse.json"},
      {"POST",
       "/api/individuals",
       {{"query", {{"requestedGranularity", "record"}}}},
       403,
       "beaconErrorResponse.json"},
      {"GET", "/api/datasets/no-such-dataset", nullptr, 404, "beaconErrorResponse.json"},
      {"GET", "/api/no_such_endpoint", nullptr, 404, "beaconErrorResponse.json"},
      {"DELETE", "/api/individuals", nullptr, 405, "beaconErrorResponse.json"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method + " " + c.target);
    auto r =
        FetchBeacon("127.0.0.1", port_, c.method, c.target, c.body.is_null() ? "" : c.body.dump(),
                    std::chrono::seconds(30), AsRegistered());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, c.status) << r->body;
    EXPECT_EQ(ValidateBeacon(std::string(kResponses) + c.schema, r->body), "");
  }
  // The collections' items validate against the default model too.
  const json datasets = json::parse(Get("/api/datasets").body);
  for (const json& d : datasets["response"]["collections"]) {
    EXPECT_EQ(
        ValidateBeacon("models/json/beacon-v2-default-model/datasets/defaultSchema.json", d.dump()),
        "");
  }
  const json cohorts = json::parse(Get("/api/cohorts").body);
  for (const json& c : cohorts["response"]["collections"]) {
    EXPECT_EQ(
        ValidateBeacon("models/json/beacon-v2-default-model/cohorts/defaultSchema.json", c.dump()),
        "");
  }
}

TEST_F(BeaconApiTest, CountsMatchAnIndependentReadingOfTheFhirFilesExactly) {
  struct Case {
    const char* name;
    json filters;
    std::function<bool(const PatientFacts&)> match;
  };
  const std::vector<Case> cases = {
      {"everyone", json::array(), [](const PatientFacts&) { return true; }},
      {"women", json::array({{{"id", "NCIT:C16576"}}}),
       [](const PatientFacts& f) { return f.gender == "female"; }},
      {"men with lung cancer", json::array({{{"id", "NCIT:C20197"}}, {{"id", "ICD10:C34"}}}),
       [](const PatientFacts& f) { return f.gender == "male" && f.HasIcd10Prefix("C34"); }},
      {"ICD-10 chapter II block C30-C39", json::array({{{"id", "ICD10:C30-C39"}}}),
       [](const PatientFacts& f) {
         for (const char* c :
              {"C30", "C31", "C32", "C33", "C34", "C35", "C36", "C37", "C38", "C39"}) {
           if (f.HasIcd10Prefix(c)) return true;
         }
         return false;
       }},
      {"breast or lung, not stage IV",
       json::array({{{"anyOf", json::array({{{"id", "ICD10:C50"}}, {{"id", "ICD10:C34"}}})}},
                    {{"not", {{"id", "NCIT:C27971"}}}}}),
       [](const PatientFacts& f) {
         return (f.HasIcd10Prefix("C50") || f.HasIcd10Prefix("C34")) && !f.HasStageGroup('4');
       }},
      {"stage III (any sub-group)", json::array({{{"id", "NCIT:C27970"}}}),
       [](const PatientFacts& f) { return f.HasStageGroup('3'); }},
      {"stage >= III", json::array({{{"id", "stage"}, {"operator", ">="}, {"value", "III"}}}),
       [](const PatientFacts& f) { return f.HasStageGroup('3') || f.HasStageGroup('4'); }},
      {"HER2-positive breast cancer on trastuzumab",
       json::array({{{"id", "ICD10:C50"}}, {{"id", "NCIT:C68748"}}, {{"id", "ATC:L01FD01"}}}),
       [](const PatientFacts& f) {
         return f.HasIcd10Prefix("C50") && f.observations.count("48676-1|10828004") &&
                f.atc.count("L01FD01");
       }},
      {"any antineoplastic agent (ATC L01, descendants at depth 4)",
       json::array({{{"id", "ATC:L01"}}}),
       [](const PatientFacts& f) { return f.HasAtcPrefix("L01"); }},
      {"aged 40 to 60 at diagnosis",
       json::array({{{"id", "age"}, {"operator", ">="}, {"value", "P40Y"}},
                    {{"id", "age"}, {"operator", "<="}, {"value", "P60Y"}}}),
       [](const PatientFacts& f) { return f.AgeAtDiagnosis() >= 40 && f.AgeAtDiagnosis() <= 60; }},
      {"older than 70",
       json::array({{{"id", "ageAtDiagnosis"}, {"operator", ">"}, {"value", "P70Y"}}}),
       [](const PatientFacts& f) { return f.AgeAtDiagnosis() > 70; }},
      {"EGFR L858R (CIViC variant 33)", json::array({{{"id", "civic.vid:33"}}}),
       [](const PatientFacts& f) { return f.genomic.count("HGNC:3236|p.Leu858Arg") > 0; }},
      {"any KRAS finding (gene HGNC:6407)", json::array({{{"id", "HGNC:6407"}}}),
       [](const PatientFacts& f) {
         for (const auto& g : f.genomic) {
           if (g.rfind("HGNC:6407|", 0) == 0) return true;
         }
         return false;
       }},
      {"KRAS G12C (custom term)", json::array({{{"id", "KRAS:p.Gly12Cys"}}}),
       [](const PatientFacts& f) { return f.genomic.count("HGNC:6407|p.Gly12Cys") > 0; }},
      {"MSI-high colorectal", json::array({{{"id", "LOINC:LA26203-2"}}, {{"id", "ICD10:C18"}}}),
       [](const PatientFacts& f) {
         return f.observations.count("81695-9|LA26203-2") && f.HasIcd10Prefix("C18");
       }},
      {"PD-L1 positive lung cancer",
       json::array({{{"id", "PD-L1:positive"}}, {{"id", "ICD10:C34"}}}),
       [](const PatientFacts& f) {
         return f.observations.count("83052-1|10828004") && f.HasIcd10Prefix("C34");
       }},
      {"deceased", json::array({{{"id", "NCIT:C28554"}}}),
       [](const PatientFacts& f) { return f.deceased || f.observations.count("75186-7|C28554"); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const http::Response r = Post("/api/individuals", CountQuery(c.filters));
    ASSERT_EQ(r.status, 200) << r.body;
    const json body = json::parse(r.body);
    const int64_t exact = Expected(c.match);
    EXPECT_GT(exact, 0) << "the synthetic data should hold such individuals";
    EXPECT_EQ(body["responseSummary"]["numTotalResults"].get<int64_t>(), exact);
    EXPECT_EQ(body["responseSummary"]["exists"].get<bool>(), exact > 0);
    EXPECT_EQ(body["info"]["countPrecision"], "exact");
    EXPECT_EQ(body["info"]["countAdjustedTo"], 1);
  }
}

// The disclosure rounding on its own: a copy of the node served with the default count_step (10)
// answers every count rounded up to a multiple of 10 (0 stays 0) of the exact node's count.
TEST_F(BeaconApiTest, CountsAreRoundedUpToTheNodesStep) {
  const std::string copy = dir_->path() + "/rounded";
  std::string out;
  ASSERT_EQ(Shell("rm -rf " + ShellQuote(copy) + " && cp -a " + ShellQuote(dir_->path() + "/node") +
                      " " + ShellQuote(copy) + " && sed -i 's/count_step: 1$/count_step: 10/' " +
                      ShellQuote(copy + "/node.yaml") + " && grep -q 'count_step: 10$' " +
                      ShellQuote(copy + "/node.yaml"),
                  &out),
            0)
      << out;
  ChildProcess rounded({OncomeshBinary(), "node", "serve", "--dir", copy, "--port", "0"});
  const uint16_t rounded_port = PortOf(rounded.WaitForLine("node "));
  ASSERT_NE(rounded_port, 0) << rounded.output();
  const auto ask = [](uint16_t port, const json& filters) {
    auto r = FetchBeacon("127.0.0.1", port, "POST", "/api/individuals", CountQuery(filters).dump(),
                         std::chrono::seconds(30), AsRegistered());
    EXPECT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
    return r.ok() && r->status == 200 ? json::parse(r->body) : json::object();
  };
  bool saw_a_count_off_the_step = false;
  for (const json& filters :
       {json::array(), json::array({{{"id", "NCIT:C16576"}}}), json::array({{{"id", "ICD10:C34"}}}),
        json::array({{{"id", "ICD10:C50"}}, {{"id", "NCIT:C27971"}}}),
        json::array({{{"id", "ICD10:C50"}, {"includeDescendantTerms", false}}})}) {
    SCOPED_TRACE(filters.dump());
    const json exact = ask(port_, filters);
    const json released = ask(rounded_port, filters);
    ASSERT_TRUE(exact.contains("responseSummary") && released.contains("responseSummary"));
    const int64_t n = exact["responseSummary"]["numTotalResults"].get<int64_t>();
    saw_a_count_off_the_step |= n % 10 != 0;
    EXPECT_EQ(released["responseSummary"]["numTotalResults"].get<int64_t>(), RoundedUp(n))
        << "exact " << n;
    EXPECT_EQ(released["responseSummary"]["exists"].get<bool>(), n > 0);
    EXPECT_EQ(released["info"]["countPrecision"], "rounded");
    EXPECT_EQ(released["info"]["countAdjustedTo"], 10);
  }
  EXPECT_TRUE(saw_a_count_off_the_step)
      << "every count was a multiple of 10: the rounding went untested";
}

TEST_F(BeaconApiTest, GetAndPostFormsAgree) {
  const http::Response get =
      Get("/api/"
          "individuals?requestedGranularity=count&filters=ICD10:C50%7CICD10:C34,!NCIT:C27971,age%"
          "3E%3DP50Y");
  const http::Response post = Post(
      "/api/individuals",
      CountQuery(
          json::array({{{"anyOf", json::array({{{"id", "ICD10:C50"}}, {{"id", "ICD10:C34"}}})}},
                       {{"not", {{"id", "NCIT:C27971"}}}},
                       {{"id", "age"}, {"operator", ">="}, {"value", "P50Y"}}})));
  ASSERT_EQ(get.status, 200) << get.body;
  ASSERT_EQ(post.status, 200) << post.body;
  const json g = json::parse(get.body), p = json::parse(post.body);
  EXPECT_EQ(g["responseSummary"], p["responseSummary"]);
  EXPECT_GT(g["responseSummary"]["numTotalResults"].get<int64_t>(), 0);
  EXPECT_EQ(g["meta"]["receivedRequestSummary"]["filters"],
            json::array({"ICD10:C50|ICD10:C34", "!NCIT:C27971", "age>=P50Y"}));
}

TEST_F(BeaconApiTest, DescendantsAreIncludedByDefaultAndOnlyThen) {
  // The generator codes breast cancers at subcategory level (C50.x), never as plain C50.
  const auto count = [&](const json& filter) {
    const json body = json::parse(Post("/api/individuals", CountQuery(json::array({filter}))).body);
    return body["responseSummary"]["numTotalResults"].get<int64_t>();
  };
  EXPECT_EQ(count({{"id", "ICD10:C50"}, {"includeDescendantTerms", false}}), 0);
  EXPECT_EQ(count({{"id", "ICD10:C50"}}),
            Expected([](const PatientFacts& f) { return f.HasIcd10Prefix("C50"); }));
  // The chapter "Neoplasms" covers every cancer patient.
  EXPECT_EQ(count({{"id", "ICD10:C00-D48"}}),
            Expected([](const PatientFacts& f) { return !f.icd10.empty(); }));
}

TEST_F(BeaconApiTest, BiosamplesAreCountedForTheMatchingIndividuals) {
  int64_t expected = 0;
  for (const auto& [id, f] : *facts_) {
    if (f.gender == "female") expected += f.biosamples;
  }
  const json body =
      json::parse(Post("/api/biosamples", CountQuery(json::array({{{"id", "NCIT:C16576"}}}))).body);
  EXPECT_EQ(body["responseSummary"]["numTotalResults"].get<int64_t>(), expected);
}

TEST_F(BeaconApiTest, BadRequestsGetABeaconErrorThatSaysWhatWasWrong) {
  struct Case {
    std::string body;
    int status;
    std::string says;
  };
  const std::vector<Case> cases = {
      {R"({"query": {"filters": [{"id": "NCIT:C99999999"}]}})", 400, "NCIT:C99999999"},
      {R"({"query": {"filters": [{"id": "age", "operator": ">=", "value": "seventy"}]}})", 400,
       "seventy"},
      {R"({"query": {"filters": [{"id": "age", "operator": "~", "value": "P70Y"}]}})", 400,
       "operator"},
      {R"({"query": {"filters": [{"id": "stage", "operator": "=", "value": "VII"}]}})", 400, "VII"},
      {R"({"query": {"filters": [{"id": "dateOfDiagnosis", "operator": ">", "value": "2015-13-45"}]}})",
       400, "2015-13-45"},
      {R"({"query": {"filters": [{"anyOf": []}]}})", 400, "anyOf"},
      {R"({"query": {"filters": "ICD10:C50"}})", 400, "query.filters"},
      {R"({"query": {"requestedGranularity": "everything"}})", 400, "everything"},
      {R"({"query": {"pagination": {"skip": -1}}})", 400, "skip"},
      {R"({"query": )", 400, "JSON"},
      {R"([1, 2, 3])", 400, "object"},
      {R"({"query": {"requestedGranularity": "record"}})", 403, "permit"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    auto r = FetchBeacon("127.0.0.1", port_, "POST", "/api/individuals", c.body,
                         std::chrono::seconds(30), AsRegistered());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, c.status) << r->body;
    const json body = json::parse(r->body);
    EXPECT_EQ(body["error"]["errorCode"], c.status);
    EXPECT_NE(body["error"]["errorMessage"].get<std::string>().find(c.says), std::string::npos)
        << body["error"]["errorMessage"];
  }
  // And the server is still there.
  EXPECT_EQ(Get("/api/info").status, 200);
}

TEST_F(BeaconApiTest, FilteringTermsListEveryTermPresentWithItsLabel) {
  const json body = json::parse(Get("/api/filtering_terms").body);
  std::map<std::string, json> terms;
  for (const json& t : body["response"]["filteringTerms"]) terms[t["id"]] = t;
  ASSERT_TRUE(terms.count("NCIT:C16576"));
  EXPECT_EQ(terms["NCIT:C16576"]["label"], "Female");
  EXPECT_EQ(terms["NCIT:C16576"]["type"], "ontologyTerm");
  EXPECT_EQ(terms["ageAtDiagnosis"]["type"], "alphanumeric");
  // Every ICD-10 code in the files is listed, with its ancestors.
  for (const auto& [id, f] : *facts_) {
    for (const std::string& code : f.icd10) {
      EXPECT_TRUE(terms.count("ICD10:" + code)) << code;
      EXPECT_TRUE(terms.count("ICD10:" + code.substr(0, 3))) << code;
    }
  }
  EXPECT_TRUE(terms.count("ICD10:C00-D48"));
  // And every listed ontology term can be queried.
  for (const auto& [id, t] : terms) {
    if (t["type"] != "ontologyTerm") continue;
    const http::Response r = Post("/api/individuals", CountQuery(json::array({{{"id", id}}})));
    EXPECT_EQ(r.status, 200) << id << ": " << r.body;
  }
}

}  // namespace
}  // namespace oncomesh::testing
