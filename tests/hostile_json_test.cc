// Hostile JSON against real processes (issue 12, items 1 and 2).
//
// A node and a hub refuse a body nested 100,000 deep with a Beacon 400 that says where (the
// node audits the refusal), refuse unknown request keys by name, and keep serving. A hub with a
// fake node behind it (an in-process HTTP server answering malformed documents on every
// endpoint the hub fans out to) answers with the healthy node's results, reports the fake node
// failed with what was wrong in its answer, and keeps serving. The hub refuses invalid UTF-8
// in GET filters as a node does (400), and forged passports on /api/filtering_terms (401).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "http/http.h"
#include "support/audit_entries.h"
#include "support/process.h"
#include "support/test_access.h"
#include "support/test_broker.h"

namespace oncomesh::testing {
namespace {

using nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr size_t kDeep = 100000;

std::string Deep(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// A Beacon POST body with valid variant parameters and, beside them, an array 100,000 deep.
std::string DeepBeaconBody() {
  return R"({"meta":{"apiVersion":"v2.0"},"query":{"requestedGranularity":"count",)"
         R"("requestParameters":{"g_variant":{"geneId":"TP53"},"deep":)" +
         Deep(kDeep) + "}}}";
}

// A node's answer the fake node gives; `reason` is what the hub must report about it.
struct Malformed {
  std::string name;
  int status;
  std::string body;
  std::string reason;
};

// The fake node: answers every Beacon endpoint the hub calls with the answer set last.
class FakeNode {
 public:
  FakeNode() {
    http::Router router;
    for (const char* path :
         {"/api/individuals", "/api/biosamples", "/api/g_variants", "/api/filtering_terms",
          "/api/datasets", "/api/cohorts", "/api/info"}) {
      for (const char* method : {"GET", "POST"}) {
        router.AddSync(method, path, "fake", [this](http::Request&) {
          std::lock_guard<std::mutex> lock(mu_);
          return answer_;
        });
      }
    }
    http::ServerOptions options;
    options.address = "127.0.0.1";
    options.threads = 1;
    server_ = std::make_unique<http::Server>(std::move(router), options);
  }
  Status Start() { return server_->Start(); }
  uint16_t port() const { return server_->port(); }
  void Answer(int status, std::string body) {
    std::lock_guard<std::mutex> lock(mu_);
    answer_.status = status;
    answer_.body = std::move(body);
  }
  ~FakeNode() { server_->Stop(); }

 private:
  std::mutex mu_;
  http::Response answer_;
  std::unique_ptr<http::Server> server_;
};

// One healthy real node ("healthy"), the fake node ("fake") and a real hub over both. Built once;
// what failed is kept and reported by every test (a failed setup must not become a skip).
struct Federation {
  TempDir dir;
  std::string node_dir;
  std::unique_ptr<ChildProcess> node;
  uint16_t node_port = 0;
  FakeNode fake;
  std::unique_ptr<ChildProcess> hub;
  uint16_t hub_port = 0;
  std::string setup_error;

  Federation() { setup_error = Start(); }

  std::string Start() {
    const std::string fhir = dir.path() + "/fhir";
    node_dir = dir.path() + "/healthy";
    std::string out;
    if (RunCommand({OncomeshBinary(), "synth", "--site", "healthy", "--individuals", "300",
                    "--seed", "5", "--out", fhir},
                   &out) != 0) {
      return "synth: " + out;
    }
    if (RunCommand({OncomeshBinary(), "node", "init", "--dir", node_dir, "--name", "healthy"},
                   &out) != 0) {
      return "node init: " + out;
    }
    TrustBroker(node_dir, SharedBroker(), kSharedGrant);
    if (RunCommand({OncomeshBinary(), "ingest", "fhir", "--dir", node_dir, fhir}, &out) != 0) {
      return "ingest: " + out;
    }
    node = std::make_unique<ChildProcess>(std::vector<std::string>{
        OncomeshBinary(), "node", "serve", "--dir", node_dir, "--port", "0"});
    node_port = PortOf(node->WaitForLine("node "));
    if (node_port == 0) return "node serve: " + node->output();
    if (Status s = fake.Start(); !s.ok()) return "fake node: " + s.ToString();
    const std::string config = dir.path() + "/hub.yaml";
    std::ofstream(config)
        << "name: hostile\naddress: 127.0.0.1\nport: 0\ndeadline_ms: 5000\nnodes:\n"
        << "  - {name: healthy, url: http://127.0.0.1:" << node_port << "}\n"
        << "  - {name: fake, url: http://127.0.0.1:" << fake.port() << "}\n";
    hub = std::make_unique<ChildProcess>(
        std::vector<std::string>{OncomeshBinary(), "hub", "serve", "--config", config});
    hub_port = PortOf(hub->WaitForLine("hub "));
    if (hub_port == 0) return "hub serve: " + hub->output();
    return "";
  }
};

class HostileJsonTest : public ::testing::Test {
 protected:
  // Built once for the suite; what failed is reported by every test (not a skip).
  static void SetUpTestSuite() { federation_ = new Federation(); }
  static void TearDownTestSuite() {
    delete federation_;
    federation_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(Get().setup_error, ""); }
  static Federation& Get() { return *federation_; }

  static Federation* federation_;

  static http::Response Ask(uint16_t port, const std::string& method, const std::string& target,
                            const std::string& body = "", Headers headers = AsRegistered()) {
    Result<http::Response> r = http::Fetch("127.0.0.1", port, method, target, body,
                                           std::chrono::seconds(30), std::move(headers));
    EXPECT_TRUE(r.ok()) << method << " " << target << ": " << r.status().ToString();
    if (!r.ok()) return http::Response{0, "", "", {}};
    return *r;
  }

  static std::string ErrorMessage(const http::Response& r) {
    const json body = json::parse(r.body, nullptr, false);
    if (!body.is_object() || !body.contains("error")) return "";
    return body["error"].value("errorMessage", "");
  }

  static bool Running(const ChildProcess& p) {
    int status = 0;
    return waitpid(p.pid(), &status, WNOHANG) == 0;
  }

  // The server answers an ordinary question after the hostile one.
  static void ExpectServing(uint16_t port) {
    const http::Response r =
        Ask(port, "GET", "/api/individuals?filters=NCIT:C20197&requestedGranularity=count");
    EXPECT_EQ(r.status, 200) << r.body;
  }
};

Federation* HostileJsonTest::federation_ = nullptr;

TEST_F(HostileJsonTest, NodeRefusesADeeplyNestedBodyAuditsItAndKeepsServing) {
  Federation& f = Get();
  const int64_t before = [&] {
    const std::vector<json> entries = AuditRequestEntries(f.node_dir + "/audit");
    return entries.empty() ? int64_t{0} : entries.back()["seq"].get<int64_t>();
  }();
  const http::Response r = Ask(f.node_port, "POST", "/api/individuals", DeepBeaconBody());
  ASSERT_EQ(r.status, 400) << r.body.substr(0, 300);
  EXPECT_EQ(ValidateBeacon("framework/json/responses/beaconErrorResponse.json", r.body), "");
  const std::string message = ErrorMessage(r);
  EXPECT_NE(message.find("request body: JSON nested deeper than 64 levels at byte "),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("(/query/requestParameters/deep/0/0/0/"), std::string::npos) << message;
  EXPECT_TRUE(Running(*f.node));
  ExpectServing(f.node_port);

  // The refusal is in the audit log, with the node's reason.
  bool audited = false;
  for (const json& e : AuditRequestEntries(f.node_dir + "/audit", before)) {
    if (e["type"] == "refusal" && e["request"]["path"] == "/api/individuals" &&
        e["outcome"]["status"] == 400 && e["outcome"]["reason"] == message) {
      audited = true;
    }
  }
  EXPECT_TRUE(audited) << "no refusal entry for the deep body";
}

TEST_F(HostileJsonTest, HubRefusesADeeplyNestedBodyAndKeepsServing) {
  Federation& f = Get();
  f.fake.Answer(500, R"({"error":"boom"})");
  for (const char* path :
       {"/api/individuals", "/api/biosamples", "/api/g_variants", "/api/datasets"}) {
    SCOPED_TRACE(path);
    const http::Response r = Ask(f.hub_port, "POST", path, DeepBeaconBody());
    ASSERT_EQ(r.status, 400) << r.body.substr(0, 300);
    EXPECT_EQ(ValidateBeacon("framework/json/responses/beaconErrorResponse.json", r.body), "");
    EXPECT_NE(ErrorMessage(r).find("JSON nested deeper than 64 levels"), std::string::npos)
        << r.body;
  }
  EXPECT_TRUE(Running(*f.hub));
  ExpectServing(f.hub_port);
}

TEST_F(HostileJsonTest, UnknownRequestKeysAreRefusedByName) {
  Federation& f = Get();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"meta":{"apiVersion":"v2.0"},"qeury":{}})", "request body: unknown key 'qeury'"},
      {R"({"meta":{"apiVersion":"v2.0","requestedGranularity":"count"}})",
       "meta: unknown key 'requestedGranularity'"},
      {R"({"query":{"filter":[],"granularity":"count"}})",
       "query: unknown keys 'filter', 'granularity'"},
      {R"({"query":{"pagination":{"skip":0,"offset":5}}})",
       "query.pagination: unknown key 'offset'"},
      {R"({"query":{"filters":[{"id":"NCIT:C20197","operatr":"="}]}})",
       "query.filters[0]: unknown key 'operatr'"},
      {R"({"query":{"requestParameters":{"g_variant":{"geneId":"TP53"},"datasets":{}}}})",
       "requestParameters: unknown parameter 'datasets' beside g_variant"},
      {R"({"query":{"requestParameters":{"geneId":"TP53","gene":"TP53"}}})",
       "requestParameters: unknown parameter 'gene'"},
  };
  for (const uint16_t port : {f.node_port, f.hub_port}) {
    for (const auto& [body, reason] : cases) {
      SCOPED_TRACE(std::to_string(port) + " " + body);
      const http::Response r = Ask(port, "POST", "/api/individuals", body);
      EXPECT_EQ(r.status, 400) << r.body;
      EXPECT_NE(ErrorMessage(r).find(reason), std::string::npos) << r.body;
      EXPECT_EQ(ValidateBeacon("framework/json/responses/beaconErrorResponse.json", r.body), "");
    }
  }
}

TEST_F(HostileJsonTest, AdminApiRefusesADeeplyNestedPurpose) {
  Federation& f = Get();
  std::ifstream in(f.node_dir + "/admin.token");
  std::string token;
  std::getline(in, token);
  ASSERT_FALSE(token.empty());
  const Headers admin = {{"Authorization", "Bearer " + token}};
  const std::string request_start =
      R"({"researcher":{"sub":"r1","iss":"https://broker.oncomesh.test"},"datasets":["default"],)"
      R"("projectTitle":"t","summary":"s","by":"dac","purpose":)";
  // As a JSON value, and as text holding JSON (or YAML flow) nested as deep.
  for (const std::string& purpose : {Deep(kDeep), json(Deep(kDeep)).dump()}) {
    const http::Response r =
        Ask(f.node_port, "POST", "/admin/permits", request_start + purpose + "}", admin);
    EXPECT_EQ(r.status, 400) << r.body.substr(0, 300);
    EXPECT_NE(r.body.find("nested deeper than 32 levels"), std::string::npos)
        << r.body.substr(0, 300);
  }
  EXPECT_TRUE(Running(*f.node));
  const http::Response list = Ask(f.node_port, "GET", "/admin/permits", "", admin);
  EXPECT_EQ(list.status, 200) << list.body;
}

TEST_F(HostileJsonTest, HubReportsAMalformedNodeFailedAndAnswersWithTheHealthyOne) {
  Federation& f = Get();
  // Answers wrong for any endpoint, then answers wrong for one family of endpoints only.
  const std::vector<Malformed> everywhere = {
      {"500 without a Beacon error", 500, R"({"error":"boom"})",
       "HTTP 500 without a Beacon error document"},
      {"not JSON", 200, "<html>boom</html>", "node answer: not valid JSON at byte 0"},
      {"nested 100,000 deep", 200, Deep(kDeep),
       "node answer: JSON nested deeper than 64 levels at byte 64 (/"},
      {"an array", 200, "[1,2]", "node answer: expected a JSON object, got array"},
      {"a string", 200, R"("ok")", "node answer: expected a JSON object, got string"},
  };
  const std::vector<Malformed> queries = {
      {"exists yes", 200, R"({"responseSummary":{"exists":"yes"}})",
       "node answer: /responseSummary/exists: expected a boolean, got string"},
      {"no summary", 200, R"({"meta":{}})", "node answer: /responseSummary: missing"},
      {"summary an array", 200, R"({"responseSummary":[]})",
       "node answer: /responseSummary: expected an object, got array"},
      {"count a string", 200, R"({"responseSummary":{"exists":true,"numTotalResults":"12"}})",
       "node answer: /responseSummary/numTotalResults: expected a count (an integer from 0 to "
       "10^12), got string"},
      {"count beyond any cohort", 200,
       R"({"responseSummary":{"exists":true,"numTotalResults":18446744073709551615}})",
       "node answer: /responseSummary/numTotalResults: expected a count (an integer from 0 to "
       "10^12), got number"},
      {"count negative", 200, R"({"responseSummary":{"exists":true,"numTotalResults":-10}})",
       "node answer: /responseSummary/numTotalResults: expected a count (an integer from 0 to "
       "10^12), got number"},
      {"granularity a number", 200,
       R"({"meta":{"returnedGranularity":2},"responseSummary":{"exists":true}})",
       "node answer: /meta/returnedGranularity: expected a string, got number"},
      {"precision a number", 200,
       R"({"responseSummary":{"exists":true},"info":{"countPrecision":1}})",
       "node answer: /info/countPrecision: expected a string, got number"},
  };
  const std::vector<Malformed> terms = {
      {"numeric term id", 200, R"({"response":{"filteringTerms":[{"id":"A:1"},{"id":12}]}})",
       "node answer: /response/filteringTerms/1/id: expected a string, got number"},
      {"term not an object", 200, R"({"response":{"filteringTerms":["NCIT:C20197"]}})",
       "node answer: /response/filteringTerms/0: expected an object, got string"},
      {"terms an object", 200, R"({"response":{"filteringTerms":{}}})",
       "node answer: /response/filteringTerms: expected an array of objects with a string 'id', "
       "got object"},
      {"resource without id", 200,
       R"({"response":{"filteringTerms":[],"resources":[{"name":"x"}]}})",
       "node answer: /response/resources/0: no 'id'"},
  };
  const std::vector<Malformed> collections = {
      {"collection a number", 200, R"({"response":{"collections":[1]}})",
       "node answer: /response/collections/0: expected an object, got number"},
      {"collection id a number", 200, R"({"response":{"collections":[{"id":5}]}})",
       "node answer: /response/collections/0/id: expected a string, got number"},
      {"response a string", 200, R"({"response":"x"})",
       "node answer: /response: expected an object, got string"},
      {"no collections", 200, R"({"response":{}})", "node answer: /response/collections: missing"},
  };

  struct Endpoint {
    std::string method, target, body;
    const std::vector<Malformed>* own;
    std::string schema;
  };
  const std::string count =
      R"({"query":{"filters":[{"id":"NCIT:C20197"}],"requestedGranularity":"count"}})";
  const std::string gene =
      R"({"query":{"requestParameters":{"geneId":"TP53"},"requestedGranularity":"count"}})";
  const std::vector<Endpoint> endpoints = {
      {"POST", "/api/individuals", count, &queries, "beaconResultsetsResponse.json"},
      {"GET", "/api/individuals?filters=NCIT:C20197&requestedGranularity=count", "", &queries,
       "beaconResultsetsResponse.json"},
      {"POST", "/api/biosamples", count, &queries, "beaconResultsetsResponse.json"},
      {"POST", "/api/g_variants", gene, &queries, "beaconResultsetsResponse.json"},
      {"GET", "/api/filtering_terms", "", &terms, "beaconFilteringTermsResponse.json"},
      {"GET", "/api/datasets", "", &collections, "beaconCollectionsResponse.json"},
      {"GET", "/api/cohorts", "", &collections, "beaconCollectionsResponse.json"},
      {"GET", "/api/datasets/healthy:default", "", &collections, "beaconCollectionsResponse.json"},
  };
  for (const Endpoint& e : endpoints) {
    // The healthy node's own answer, asked directly (collections by their unprefixed path).
    const std::string direct =
        e.target.rfind("/api/datasets/", 0) == 0 ? "/api/datasets" : e.target;
    const http::Response own = Ask(f.node_port, e.method, direct, e.body);
    ASSERT_EQ(own.status, 200) << e.target << ": " << own.body;
    const json healthy = json::parse(own.body);
    std::vector<Malformed> cases = everywhere;
    cases.insert(cases.end(), e.own->begin(), e.own->end());
    for (const Malformed& m : cases) {
      SCOPED_TRACE(e.method + " " + e.target + ": " + m.name);
      f.fake.Answer(m.status, m.body);
      const http::Response r = Ask(f.hub_port, e.method, e.target, e.body);
      ASSERT_EQ(r.status, 200) << r.body;
      EXPECT_EQ(ValidateBeacon("framework/json/responses/" + e.schema, r.body), "");
      const json hub = json::parse(r.body);
      std::map<std::string, json> nodes;
      for (const json& n : hub["info"]["nodes"]) nodes[n["name"]] = n;
      EXPECT_EQ(nodes["healthy"]["status"], "available");
      EXPECT_EQ(nodes["fake"]["status"], "failed");
      EXPECT_NE(nodes["fake"].value("error", "").find(m.reason), std::string::npos)
          << nodes["fake"].dump();
      // The healthy node's results, as it gave them.
      if (e.own == &queries) {
        EXPECT_EQ(hub["responseSummary"]["numTotalResults"],
                  healthy["responseSummary"]["numTotalResults"]);
        ASSERT_EQ(hub["response"]["resultSets"].size(), 1u);
        EXPECT_EQ(hub["response"]["resultSets"][0]["id"], "healthy");
        EXPECT_EQ(hub["info"]["nodesAnswered"], 1);
      } else if (e.own == &terms) {
        EXPECT_EQ(hub["response"]["filteringTerms"].size(),
                  healthy["response"]["filteringTerms"].size());
        EXPECT_GT(hub["response"]["filteringTerms"].size(), 0u);
      } else {
        std::set<std::string> expected, got;
        for (const json& c : healthy["response"]["collections"]) {
          if (e.target == direct || c["id"] == "default")
            expected.insert("healthy:" + c["id"].get<std::string>());
        }
        for (const json& c : hub["response"]["collections"]) got.insert(c["id"]);
        EXPECT_FALSE(expected.empty());
        EXPECT_EQ(got, expected);
      }
    }
  }
  // And the hub's own node list, which asks /api/info.
  for (const Malformed& m : everywhere) {
    SCOPED_TRACE("/hub/nodes: " + m.name);
    f.fake.Answer(m.status, m.body);
    const http::Response r = Ask(f.hub_port, "GET", "/hub/nodes");
    ASSERT_EQ(r.status, 200) << r.body;
    std::map<std::string, json> nodes;
    const json answer = json::parse(r.body);
    for (const json& n : answer["nodes"]) nodes[n["name"]] = n;
    EXPECT_EQ(nodes["healthy"]["status"], "available");
    EXPECT_EQ(nodes["fake"]["status"], "failed");
    EXPECT_NE(nodes["fake"].value("error", "").find(m.reason), std::string::npos)
        << nodes["fake"].dump();
  }
  EXPECT_TRUE(Running(*f.hub));
  ExpectServing(f.hub_port);
}

TEST_F(HostileJsonTest, HubRefusesInvalidUtf8InGetFiltersAsANodeDoes) {
  Federation& f = Get();
  f.fake.Answer(500, R"({"error":"boom"})");
  for (const char* target :
       {"/api/individuals?filters=%FF", "/api/biosamples?filters=NCIT:C20197,ab%C3",
        "/api/datasets?filters=%ED%A0%80"}) {
    SCOPED_TRACE(target);
    const http::Response node = Ask(f.node_port, "GET", target);
    const http::Response hub = Ask(f.hub_port, "GET", target);
    EXPECT_EQ(node.status, 400) << node.body;
    EXPECT_EQ(hub.status, 400) << hub.body;
    EXPECT_NE(ErrorMessage(hub).find("filters: invalid UTF-8 at byte "), std::string::npos)
        << hub.body;
    EXPECT_EQ(ErrorMessage(hub), ErrorMessage(node));
    EXPECT_EQ(ValidateBeacon("framework/json/responses/beaconErrorResponse.json", hub.body), "");
  }
  ExpectServing(f.hub_port);
}

TEST_F(HostileJsonTest, HubFilteringTermsRefusesAForgedPassportAsTheNodeDoes) {
  Federation& f = Get();
  f.fake.Answer(500, R"({"error":"boom"})");
  const TestBroker forger(SharedBroker().issuer());  // same issuer name and kid, another key
  const Headers forged = {{"Authorization", "Bearer " + forger.Registered()}};
  const http::Response node = Ask(f.node_port, "GET", "/api/filtering_terms", "", forged);
  const http::Response hub = Ask(f.hub_port, "GET", "/api/filtering_terms", "", forged);
  EXPECT_EQ(node.status, 401) << node.body;
  EXPECT_EQ(hub.status, 401) << hub.body;
  EXPECT_FALSE(ErrorMessage(node).empty());
  EXPECT_EQ(ErrorMessage(hub), ErrorMessage(node));
  EXPECT_EQ(ValidateBeacon("framework/json/responses/beaconErrorResponse.json", hub.body), "");
  // Without credentials the terms are public, at the hub as at the node.
  EXPECT_EQ(Ask(f.hub_port, "GET", "/api/filtering_terms", "", {}).status, 200);
}

}  // namespace
}  // namespace oncomesh::testing
