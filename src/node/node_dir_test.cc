#include "node/node_dir.h"

#include <gtest/gtest.h>

namespace oncomesh::node {
namespace {

TEST(NodeConfigTest, GenomicsReferenceFasta) {
  Result<NodeConfig> c =
      ParseNodeConfig("name: a\ngenomics:\n  reference_fasta: ref/GRCh38.fa\n", "node.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->reference_fasta, "ref/GRCh38.fa");
  Result<NodeConfig> again = ParseNodeConfig(NodeConfigToYaml(*c), "node.yaml");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->reference_fasta, "ref/GRCh38.fa");
  // Not configured: not written.
  EXPECT_EQ(NodeConfigToYaml(NodeConfig{}).find("genomics"), std::string::npos);

  Result<NodeConfig> typo = ParseNodeConfig("genomics:\n  reference: x.fa\n", "node.yaml");
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.status().message(), "node.yaml: genomics: unknown key 'reference'");
}

TEST(NodeConfigTest, DicomAddressAndAllowedCallingAeTitles) {
  Result<NodeConfig> c = ParseNodeConfig(
      "imaging:\n  dicom_port: 11112\n  dicom_address: 10.0.0.5\n"
      "  allowed_calling_ae_titles: [PACS, CT01]\n",
      "node.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->imaging.dicom_address, "10.0.0.5");
  EXPECT_EQ(c->imaging.allowed_calling_ae_titles, (std::vector<std::string>{"PACS", "CT01"}));
  Result<NodeConfig> again = ParseNodeConfig(NodeConfigToYaml(*c), "node.yaml");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->imaging.dicom_address, "10.0.0.5");
  EXPECT_EQ(again->imaging.allowed_calling_ae_titles, c->imaging.allowed_calling_ae_titles);
  // Not configured: the node's address, any sender; not written.
  EXPECT_EQ(NodeConfigToYaml(NodeConfig{}).find("allowed_calling"), std::string::npos);
  for (const auto& [yaml, message] : std::vector<std::pair<std::string, std::string>>{
           {"imaging:\n  allowed_calling_ae_titles: PACS\n",
            "node.yaml: imaging.allowed_calling_ae_titles must be a list"},
           {"imaging:\n  allowed_calling_ae_titles: [A_TITLE_LONGER_THAN_16]\n",
            "node.yaml: imaging.allowed_calling_ae_titles: 'A_TITLE_LONGER_THAN_16' is not an AE "
            "title of 1 to 16 characters"}}) {
    Result<NodeConfig> bad = ParseNodeConfig(yaml, "node.yaml");
    ASSERT_FALSE(bad.ok()) << yaml;
    EXPECT_EQ(bad.status().message(), message);
  }
}

TEST(NodeConfigTest, AuditDurabilityAndSyncInterval) {
  // Defaults: written, 20 ms between unawaited fdatasyncs; written out for operators to see.
  EXPECT_EQ(NodeConfig{}.audit.durability, audit::Durability::kWritten);
  EXPECT_EQ(NodeConfig{}.audit.sync_interval, std::chrono::milliseconds(20));
  EXPECT_NE(NodeConfigToYaml(NodeConfig{}).find("durability: written"), std::string::npos);
  Result<NodeConfig> c =
      ParseNodeConfig("audit:\n  durability: sync\n  sync_interval_ms: 0\n", "node.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->audit.durability, audit::Durability::kSync);
  EXPECT_EQ(c->audit.sync_interval, std::chrono::milliseconds(0));
  Result<NodeConfig> again = ParseNodeConfig(NodeConfigToYaml(*c), "node.yaml");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->audit.durability, audit::Durability::kSync);
  EXPECT_EQ(again->audit.sync_interval, std::chrono::milliseconds(0));

  for (const auto& [yaml, message] : std::vector<std::pair<std::string, std::string>>{
           {"audit:\n  durability: fsync\n",
            "node.yaml: audit.durability must be 'written' or 'sync', not 'fsync'"},
           {"audit:\n  sync_interval_ms: 5000\n",
            "node.yaml: audit.sync_interval_ms must be between 0 and 1000"},
           {"audit:\n  off: true\n", "node.yaml: audit: unknown key 'off'"}}) {
    Result<NodeConfig> bad = ParseNodeConfig(yaml, "node.yaml");
    ASSERT_FALSE(bad.ok()) << yaml;
    EXPECT_EQ(bad.status().message(), message);
  }
}

TEST(NodeConfigTest, AuditCheckpointInterval) {
  EXPECT_EQ(NodeConfig{}.audit.checkpoint_interval, std::chrono::milliseconds(60'000));
  Result<NodeConfig> c = ParseNodeConfig("audit:\n  checkpoint_interval_ms: 250\n", "node.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->audit.checkpoint_interval, std::chrono::milliseconds(250));
  Result<NodeConfig> again = ParseNodeConfig(NodeConfigToYaml(*c), "node.yaml");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->audit.checkpoint_interval, std::chrono::milliseconds(250));
  Result<NodeConfig> bad = ParseNodeConfig("audit:\n  checkpoint_interval_ms: 0\n", "node.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "node.yaml: audit.checkpoint_interval_ms must be between 10 and 3600000");
}

TEST(NodeConfigTest, PublicUrlIsAnHttpUrlWithoutItsTrailingSlash) {
  EXPECT_EQ(NodeConfig{}.public_url, "");
  Result<NodeConfig> c =
      ParseNodeConfig("public_url: https://node.example.org:8443/beacon/\n", "node.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->public_url, "https://node.example.org:8443/beacon");
  Result<NodeConfig> again = ParseNodeConfig(NodeConfigToYaml(*c), "node.yaml");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->public_url, c->public_url);
  for (const std::string url : {"node.example.org", "ftp://node.example.org", "https://",
                                "https://:8080", "https://a.example/?x=1", "https://u@a.example",
                                "https://a.example/#f", "https://a example"}) {
    Result<NodeConfig> bad = ParseNodeConfig("public_url: '" + url + "'\n", "node.yaml");
    ASSERT_FALSE(bad.ok()) << url;
    EXPECT_EQ(bad.status().message().rfind("node.yaml: public_url '" + url + "' ", 0), 0u)
        << bad.status().message();
  }
}

TEST(NodeConfigTest, DatasetDataUseIsReadAsWrittenAndWrittenBack) {
  const std::string yaml =
      "datasets:\n"
      "  - id: registry\n"
      "    data_use:\n"
      "      id: DS\n"
      "      diseases: [NCIT:C2916]\n"
      "      modifiers: [NPU, {id: GS, countries: [DE, FR]}, {id: TS, months: 24},\n"
      "                  {id: MOR, date: 2026-01-01}]\n"
      "  - id: images\n";
  Result<NodeConfig> c = ParseNodeConfig(yaml, "node.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->datasets.size(), 2u);
  ASSERT_TRUE(c->datasets[0].data_use.has_value());
  const model::DataUseCondition& use = *c->datasets[0].data_use;
  // Codes stay as written: node/ does not know DUO (auth::ResolveDataUseCondition does).
  EXPECT_EQ(use.permission, "DS");
  EXPECT_EQ(use.diseases, std::vector<std::string>{"NCIT:C2916"});
  ASSERT_EQ(use.modifiers.size(), 4u);
  EXPECT_EQ(use.modifiers[0].id, "NPU");
  EXPECT_EQ(use.modifiers[1].countries, (std::vector<std::string>{"DE", "FR"}));
  EXPECT_EQ(use.modifiers[2].months, 24);
  EXPECT_EQ(use.modifiers[3].date, "2026-01-01");
  EXPECT_FALSE(c->datasets[1].data_use.has_value());

  Result<NodeConfig> again = ParseNodeConfig(NodeConfigToYaml(*c), "node.yaml");
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << NodeConfigToYaml(*c);
  EXPECT_EQ(again->datasets[0].data_use, c->datasets[0].data_use);
  EXPECT_FALSE(again->datasets[1].data_use.has_value());
  // None declared by default, and none written.
  EXPECT_FALSE(NodeConfig{}.datasets[0].data_use.has_value());
  EXPECT_EQ(NodeConfigToYaml(NodeConfig{}).find("data_use"), std::string::npos);
}

TEST(NodeConfigTest, MalformedDataUseNamesTheDatasetAndField) {
  struct Case {
    const char* yaml;
    const char* error;
  };
  const Case cases[] = {
      {"datasets:\n  - {id: a, consent: GRU}\n", "node.yaml: datasets: unknown key 'consent'"},
      {"datasets:\n  - {id: a, data_use: GRU}\n",
       "node.yaml: datasets[0].data_use: expected a mapping with 'id'"},
      {"datasets:\n  - {id: a}\n"
       "  - {id: b, data_use: {id: GRU, modifiers: [{id: GS, country: DE}]}}\n",
       "node.yaml: datasets[1].data_use.modifiers[0]: unknown key 'country'"},
      {"datasets:\n  - {id: a, data_use: {id: GRU, modifiers: [{id: TS, months: soon}]}}\n",
       "node.yaml: datasets[0].data_use.modifiers[0].months: expected a whole number, not 'soon'"},
      {"datasets:\n  - {id: a, data_use: {modifiers: [NPU]}}\n",
       "node.yaml: datasets[0].data_use: 'id' (the DUO data use permission) is missing"},
  };
  for (const Case& c : cases) {
    Result<NodeConfig> r = ParseNodeConfig(c.yaml, "node.yaml");
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_EQ(r.status().message(), c.error);
  }
}

}  // namespace
}  // namespace oncomesh::node
