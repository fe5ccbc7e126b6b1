#include "node/node_dir.h"

#include <gtest/gtest.h>

namespace oncomesh::node {
namespace {

TEST(NodeConfigTest, GenomicsReferenceFasta) {
  Result<NodeConfig> c = ParseNodeConfig("name: a\ngenomics:\n  reference_fasta: ref/GRCh38.fa\n",
                                         "node.yaml");
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

}  // namespace
}  // namespace oncomesh::node
