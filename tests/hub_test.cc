// The hub end to end: real node processes (two healthy, one dead, one alive but frozen) behind
// a real hub process. Answers validate with the official Beacon v2 schemas; the hub's numbers
// are the nodes' own rounded numbers, and it answers within its deadline whatever nodes do.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/beacon_bodies.h"
#include "support/process.h"
#include "support/suite_fixture.h"
#include "support/test_access.h"

namespace oncomesh::testing {
namespace {

using nlohmann::json;

// A loopback port with nothing listening on it.
uint16_t DeadPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

class HubTest : public ::oncomesh::testing::SuiteFixture<HubTest> {
  friend class ::oncomesh::testing::SuiteFixture<HubTest>;  // calls SetUpSuite

 protected:
  static constexpr int kDeadlineMs = 700;

  static void SetUpSuite() {
    dir_ = new TempDir();
    const std::vector<std::pair<std::string, int>> sites = {
        {"north", 1500}, {"south", 700}, {"frozen", 300}};
    for (const auto& [name, size] : sites) {
      const std::string fhir = dir_->path() + "/fhir-" + name;
      const std::string node = dir_->path() + "/" + name;
      std::string out;
      ASSERT_EQ(RunCommand({OncomeshBinary(), "synth", "--site", name, "--individuals",
                            std::to_string(size), "--seed", "11", "--out", fhir},
                           &out),
                0)
          << out;
      ASSERT_EQ(RunCommand({OncomeshBinary(), "node", "init", "--dir", node, "--name", name}, &out),
                0)
          << out;
      TrustBroker(node, SharedBroker(), kSharedGrant);
      ASSERT_EQ(RunCommand({OncomeshBinary(), "ingest", "fhir", "--dir", node, fhir}, &out), 0)
          << out;
      auto* process =
          new ChildProcess({OncomeshBinary(), "node", "serve", "--dir", node, "--port", "0"});
      const std::string line = process->WaitForLine("node ");
      ASSERT_FALSE(line.empty());
      nodes_->push_back(process);
      ports_->push_back(PortOf(line));
    }
    nodes_->back()->Pause();  // "frozen": accepts connections (the kernel does), never answers
    const uint16_t dead_port = DeadPort();
    // Two hubs over the same nodes. The one most tests ask has a generous deadline, so that a
    // healthy node slowed by a loaded machine (-j2, ASan) is not reported down; the frozen node
    // sits only behind the second, whose short deadline its test measures.
    const std::string config = dir_->path() + "/hub.yaml";
    std::ofstream(config) << "name: test\naddress: 127.0.0.1\nport: 0\ndeadline_ms: 30000\nnodes:\n"
                          << "  - {name: north, url: http://127.0.0.1:" << (*ports_)[0] << "}\n"
                          << "  - {name: south, url: http://127.0.0.1:" << (*ports_)[1] << "}\n"
                          << "  - {name: dead, url: http://127.0.0.1:" << dead_port << "}\n";
    hub_ = new ChildProcess({OncomeshBinary(), "hub", "serve", "--config", config});
    hub_port_ = PortOf(hub_->WaitForLine("hub "));
    ASSERT_NE(hub_port_, 0) << hub_->output();
    const std::string frozen_config = dir_->path() + "/hub-frozen.yaml";
    std::ofstream(frozen_config) << "name: test\naddress: 127.0.0.1\nport: 0\ndeadline_ms: "
                                 << kDeadlineMs << "\nnodes:\n"
                                 << "  - {name: north, url: http://127.0.0.1:" << (*ports_)[0]
                                 << "}\n"
                                 << "  - {name: south, url: http://127.0.0.1:" << (*ports_)[1]
                                 << "}\n"
                                 << "  - {name: frozen, url: http://127.0.0.1:" << (*ports_)[2]
                                 << "}\n"
                                 << "  - {name: dead, url: http://127.0.0.1:" << dead_port << "}\n";
    frozen_hub_ = new ChildProcess({OncomeshBinary(), "hub", "serve", "--config", frozen_config});
    frozen_hub_port_ = PortOf(frozen_hub_->WaitForLine("hub "));
    ASSERT_NE(frozen_hub_port_, 0) << frozen_hub_->output();
  }
  static void TearDownTestSuite() {
    delete frozen_hub_;
    frozen_hub_ = nullptr;
    delete hub_;
    for (ChildProcess* p : *nodes_) delete p;
    nodes_->clear();
    ports_->clear();
    delete dir_;
  }

  static json Count(uint16_t port, const json& filters, int* status = nullptr) {
    const json body = {{"query", {{"filters", filters}, {"requestedGranularity", "count"}}}};
    auto r = FetchBeacon("127.0.0.1", port, "POST", "/api/individuals", body.dump(),
                         std::chrono::seconds(30), AsRegistered());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return json();
    if (status) *status = r->status;
    return json::parse(r->body);
  }

  static TempDir* dir_;
  static std::vector<ChildProcess*>* nodes_;
  static std::vector<uint16_t>* ports_;
  static ChildProcess* hub_;
  static uint16_t hub_port_;
  static ChildProcess* frozen_hub_;
  static uint16_t frozen_hub_port_;
};

TempDir* HubTest::dir_ = nullptr;
std::vector<ChildProcess*>* HubTest::nodes_ = new std::vector<ChildProcess*>();
std::vector<uint16_t>* HubTest::ports_ = new std::vector<uint16_t>();
ChildProcess* HubTest::hub_ = nullptr;
uint16_t HubTest::hub_port_ = 0;
ChildProcess* HubTest::frozen_hub_ = nullptr;
uint16_t HubTest::frozen_hub_port_ = 0;

TEST_F(HubTest, TotalIsTheSumOfTheNodesOwnRoundedCountsAndDownNodesAreReported) {
  const json filters =
      json::array({{{"id", "NCIT:C16576"}}, {{"anyOf", json::array({"ICD10:C50", "ICD10:C34"})}}});
  int status = 0;
  const json hub = Count(hub_port_, filters, &status);
  ASSERT_EQ(status, 200) << hub.dump();
  EXPECT_EQ(ValidateBeacon("framework/json/responses/beaconResultsetsResponse.json", hub.dump()),
            "");

  const int64_t north = Count((*ports_)[0], filters)["responseSummary"]["numTotalResults"];
  const int64_t south = Count((*ports_)[1], filters)["responseSummary"]["numTotalResults"];
  EXPECT_GT(north, 0);
  EXPECT_GT(south, 0);
  EXPECT_EQ(hub["responseSummary"]["numTotalResults"].get<int64_t>(), north + south);
  std::map<std::string, json> sets;
  for (const json& s : hub["response"]["resultSets"]) sets[s["id"]] = s;
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(sets["north"]["resultsCount"].get<int64_t>(), north);
  EXPECT_EQ(sets["south"]["resultsCount"].get<int64_t>(), south);
  EXPECT_EQ(sets["north"]["resultsCount"].get<int64_t>() % 10, 0);
  EXPECT_EQ(sets["north"]["info"]["countPrecision"], "rounded");

  std::map<std::string, json> nodes;
  for (const json& n : hub["info"]["nodes"]) nodes[n["name"]] = n;
  EXPECT_EQ(nodes["north"]["status"], "available");
  EXPECT_EQ(nodes["south"]["status"], "available");
  EXPECT_EQ(nodes["dead"]["status"], "unavailable");
  EXPECT_EQ(hub["info"]["nodesAnswered"], 2);
  EXPECT_EQ(hub["info"]["nodesAsked"], 3);
}

TEST_F(HubTest, AFrozenNodeCannotHoldTheAnswerBackBeyondTheDeadline) {
  const json filters = json::array({{{"id", "NCIT:C16576"}}});
  const auto start = std::chrono::steady_clock::now();
  int status = 0;
  const json hub = Count(frozen_hub_port_, filters, &status);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(status, 200) << hub.dump();
  EXPECT_EQ(ValidateBeacon("framework/json/responses/beaconResultsetsResponse.json", hub.dump()),
            "");
  // The frozen node accepts the connection and never answers (generous margin for CI).
  EXPECT_LT(seconds, kDeadlineMs / 1000.0 + 2.0);
  std::map<std::string, json> nodes;
  for (const json& n : hub["info"]["nodes"]) nodes[n["name"]] = n;
  EXPECT_EQ(nodes["dead"]["status"], "unavailable");
  EXPECT_EQ(nodes["frozen"]["status"], "unavailable");
  EXPECT_NE(nodes["frozen"]["error"].get<std::string>().find("in time"), std::string::npos)
      << hub.dump();
  EXPECT_EQ(hub["info"]["nodesAsked"], 4);
  // Whether north and south made the short deadline depends on the machine's load; the total
  // is theirs either way (the sums are checked behind the generous deadline above).
  int64_t answered = 0;
  for (const char* name : {"north", "south"}) answered += nodes[name]["status"] == "available";
  EXPECT_EQ(hub["info"]["nodesAnswered"], answered);
}

TEST_F(HubTest, AQueryEveryNodeRefusesIsRefusedWithTheirReason) {
  int status = 0;
  const json hub = Count(hub_port_, json::array({{{"id", "NCIT:C00000000"}}}), &status);
  // Every node that could be reached refused it (the vocabularies are the same everywhere),
  // so the hub refuses it too, with their reason, and still lists every node.
  EXPECT_EQ(status, 400) << hub.dump();
  EXPECT_NE(hub["error"]["errorMessage"].get<std::string>().find("NCIT:C00000000"),
            std::string::npos);
  EXPECT_EQ(ValidateBeacon("framework/json/responses/beaconErrorResponse.json", hub.dump()), "");
  std::map<std::string, json> nodes;
  for (const json& n : hub["info"]["nodes"]) nodes[n["name"]] = n;
  EXPECT_EQ(nodes["north"]["status"], "failed");
  EXPECT_NE(nodes["north"]["error"].get<std::string>().find("NCIT:C00000000"), std::string::npos);
}

TEST_F(HubTest, MalformedRequestsAreRefusedByTheHubItself) {
  auto r = FetchBeacon("127.0.0.1", hub_port_, "POST", "/api/individuals", "{not json",
                       std::chrono::seconds(30), AsRegistered());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(ValidateBeacon("framework/json/responses/beaconErrorResponse.json", r->body), "");
}

TEST_F(HubTest, InformationalEndpointsValidate) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/api/info", "beaconInfoResponse.json"},
      {"/api/service-info", "ga4gh-service-info-1-0-0-schema.json"},
      {"/api/configuration", "beaconConfigurationResponse.json"},
      {"/api/map", "beaconMapResponse.json"},
      {"/api/entry_types", "beaconEntryTypesResponse.json"},
      {"/api/filtering_terms", "beaconFilteringTermsResponse.json"},
      {"/api/datasets", "beaconCollectionsResponse.json"},
      {"/api/cohorts", "beaconCollectionsResponse.json"},
      {"/api/individuals?filters=NCIT:C20197", "beaconBooleanResponse.json"},
  };
  for (const auto& [target, schema] : cases) {
    SCOPED_TRACE(target);
    auto r = FetchBeacon("127.0.0.1", hub_port_, "GET", target, "", std::chrono::seconds(30),
                         AsRegistered());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(ValidateBeacon("framework/json/responses/" + schema, r->body), "");
  }
  // The datasets of both answering nodes, each named by its node.
  auto r = FetchBeacon("127.0.0.1", hub_port_, "GET", "/api/datasets", "", std::chrono::seconds(30),
                       AsRegistered());
  const json body = json::parse(r->body);
  std::set<std::string> ids;
  for (const json& c : body["response"]["collections"]) ids.insert(c["id"]);
  EXPECT_TRUE(ids.count("north:default"));
  EXPECT_TRUE(ids.count("south:default"));
}

}  // namespace
}  // namespace oncomesh::testing
