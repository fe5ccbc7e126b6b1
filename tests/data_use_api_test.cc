// Datasets' consent end to end: data_use in node.yaml -> `oncomesh node serve` -> /api/datasets
// (Beacon v2 `dataUseConditions`, validated with the official schemas) -> a hub's /api/datasets.
// A node.yaml whose data_use misuses DUO does not serve.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "node/node_dir.h"
#include "support/beacon_bodies.h"
#include "support/process.h"
#include "support/suite_fixture.h"

namespace oncomesh::testing {
namespace {

using nlohmann::json;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Makes a node directory whose node.yaml declares `datasets`.
void InitNode(const std::string& dir, std::vector<node::DatasetConfig> datasets) {
  std::string out;
  ASSERT_EQ(RunCommand({OncomeshBinary(), "node", "init", "--dir", dir, "--name", "consent"}, &out),
            0)
      << out;
  Result<node::NodeConfig> config = node::ParseNodeConfig(Slurp(dir + "/node.yaml"), "node.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  config->datasets = std::move(datasets);
  std::ofstream(dir + "/node.yaml") << node::NodeConfigToYaml(*config);
}

model::DataUseModifier Modifier(std::string id) {
  model::DataUseModifier m;
  m.id = std::move(id);
  return m;
}

class DataUseApiTest : public ::oncomesh::testing::SuiteFixture<DataUseApiTest> {
  friend class ::oncomesh::testing::SuiteFixture<DataUseApiTest>;  // calls SetUpSuite

 protected:
  static void SetUpSuite() {
    dir_ = new TempDir();
    const std::string node_dir = dir_->path() + "/node";
    node::DatasetConfig registry{"registry", "Cancer registry",
                                 "Carcinomas, consented for cancer research"};
    model::DataUseCondition use;
    use.permission = "DS";  // written as shorthands; the node shows ids
    use.diseases = {"NCIT:C2916"};
    model::DataUseModifier gs = Modifier("GS");
    gs.countries = {"de", "FR"};
    model::DataUseModifier us = Modifier("US");
    us.users = {"ada@uni.example"};
    use.modifiers = {Modifier("npu"), gs, us};
    registry.data_use = use;
    node::DatasetConfig open{"open", "Open data", ""};
    open.data_use = model::DataUseCondition{"DUO:0000004", {}, {}};
    InitNode(node_dir,
             {registry, open, node::DatasetConfig{"undeclared", "No consent stated", ""}});
    node_ = new ChildProcess({OncomeshBinary(), "node", "serve", "--dir", node_dir, "--port", "0"});
    const std::string line = node_->WaitForLine("node ");
    ASSERT_FALSE(line.empty()) << node_->output();
    node_port_ = PortOf(line);

    const std::string hub_config = dir_->path() + "/hub.yaml";
    std::ofstream(hub_config)
        << "name: test\naddress: 127.0.0.1\nport: 0\ndeadline_ms: 5000\nnodes:\n"
        << "  - {name: consent, url: http://127.0.0.1:" << node_port_ << "}\n";
    hub_ = new ChildProcess({OncomeshBinary(), "hub", "serve", "--config", hub_config});
    const std::string hub_line = hub_->WaitForLine("hub ");
    ASSERT_FALSE(hub_line.empty()) << hub_->output();
    hub_port_ = PortOf(hub_line);
  }
  static void TearDownTestSuite() {
    delete hub_;
    delete node_;
    delete dir_;
  }

  static http::Response Get(uint16_t port, const std::string& target) {
    auto r = FetchBeacon("127.0.0.1", port, "GET", target);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::Response{};
  }

  static TempDir* dir_;
  static ChildProcess* node_;
  static ChildProcess* hub_;
  static uint16_t node_port_;
  static uint16_t hub_port_;
};

TempDir* DataUseApiTest::dir_ = nullptr;
ChildProcess* DataUseApiTest::node_ = nullptr;
ChildProcess* DataUseApiTest::hub_ = nullptr;
uint16_t DataUseApiTest::node_port_ = 0;
uint16_t DataUseApiTest::hub_port_ = 0;

const char* const kCollections = "framework/json/responses/beaconCollectionsResponse.json";
const char* const kDataset = "models/json/beacon-v2-default-model/datasets/defaultSchema.json";

const json kRegistryUse = json::parse(R"({"duoDataUse": [{
    "id": "DUO:0000007", "label": "disease specific research", "version": "2021-02-23",
    "modifiers": [
      {"id": "NCIT:C2916", "label": "Carcinoma"},
      {"id": "DUO:0000045", "label": "not for profit organisation use only"},
      {"id": "DUO:0000022", "label": "geographical restriction", "countries": ["DE", "FR"]},
      {"id": "DUO:0000026", "label": "user specific restriction"}]}]})");

TEST_F(DataUseApiTest, DatasetsShowTheirDataUseConditionsInTheBeaconModel) {
  const http::Response r = Get(node_port_, "/api/datasets");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ValidateBeacon(kCollections, r.body), "");
  const json collections = json::parse(r.body)["response"]["collections"];
  ASSERT_EQ(collections.size(), 3u);
  for (const json& d : collections) {
    EXPECT_EQ(ValidateBeacon(kDataset, d.dump()), "") << d.dump();
  }
  EXPECT_EQ(collections[0]["dataUseConditions"], kRegistryUse);
  EXPECT_EQ(collections[1]["dataUseConditions"],
            json::parse(R"({"duoDataUse": [{"id": "DUO:0000004", "label": "no restriction",
                            "version": "2021-02-23"}]})"));
  // Nothing declared, nothing shown (Beacon's duoDataUse needs at least one item).
  EXPECT_FALSE(collections[2].contains("dataUseConditions"));
  // The approved users are the node's business, not the public's.
  EXPECT_EQ(r.body.find("ada@uni.example"), std::string::npos);

  const http::Response one = Get(node_port_, "/api/datasets/registry");
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(ValidateBeacon(kCollections, one.body), "");
  EXPECT_EQ(json::parse(one.body)["response"]["collections"][0]["dataUseConditions"], kRegistryUse);
}

TEST_F(DataUseApiTest, TheHubPassesDataUseConditionsThrough) {
  const http::Response r = Get(hub_port_, "/api/datasets");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ValidateBeacon(kCollections, r.body), "");
  const json collections = json::parse(r.body)["response"]["collections"];
  ASSERT_EQ(collections.size(), 3u);
  EXPECT_EQ(collections[0]["id"], "consent:registry");
  EXPECT_EQ(collections[0]["dataUseConditions"], kRegistryUse);
  for (const json& d : collections) EXPECT_EQ(ValidateBeacon(kDataset, d.dump()), "") << d.dump();
}

TEST_F(DataUseApiTest, NodeDoesNotServeDataUseThatMisusesDuo) {
  struct Case {
    model::DataUseCondition use;
    std::string error;
  };
  model::DataUseCondition ds_without_disease{"DS", {}, {}};
  model::DataUseCondition gs_without_countries{"GRU", {}, {Modifier("GS")}};
  const std::vector<Case> cases = {
      {{"HMBX", {}, {}}, "datasets[0].data_use.id: unknown DUO code 'HMBX'"},
      {ds_without_disease, "datasets[0].data_use: DS (DUO:0000007) needs 'diseases'"},
      {gs_without_countries,
       "datasets[0].data_use.modifiers[0]: GS (DUO:0000022) needs 'countries'"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string dir = dir_->path() + "/bad" + std::to_string(i);
    node::DatasetConfig d;
    d.data_use = cases[i].use;
    InitNode(dir, {d});
    std::string out;
    EXPECT_NE(RunCommand({OncomeshBinary(), "node", "serve", "--dir", dir, "--port", "0"}, &out),
              0);
    EXPECT_NE(out.find(dir + "/node.yaml: " + cases[i].error), std::string::npos) << out;
  }
}

}  // namespace
}  // namespace oncomesh::testing
