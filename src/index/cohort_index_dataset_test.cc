// The dataset postings of the cohort index (model::Individual::dataset).
#include <gtest/gtest.h>

#include "index/cohort_index.h"

namespace oncomesh::index {
namespace {

TEST(CohortIndexDatasetTest, IndividualsWithoutADatasetCountUnderTheDefault) {
  Result<Vocabulary> vocab = Vocabulary::LoadEmbedded();
  ASSERT_TRUE(vocab.ok()) << vocab.status().ToString();
  IndexBuilder builder(*vocab);
  builder.SetDefaultDataset("registry");
  model::Individual a{"a"}, b{"b"}, c{"c"}, again{"a"};
  b.dataset = "trial";
  c.dataset = "registry";
  again.dataset = "trial";  // the same individual again: stays where it was first put
  for (const model::Individual& i : {a, b, c, again}) builder.AddIndividual(i);
  const std::unique_ptr<CohortIndex> idx = builder.Finish();
  ASSERT_EQ(idx->num_rows(), 3u);
  ASSERT_NE(idx->DatasetRows("registry"), nullptr);
  ASSERT_NE(idx->DatasetRows("trial"), nullptr);
  EXPECT_EQ(idx->DatasetRows("registry")->cardinality(), 2u);
  EXPECT_EQ(idx->DatasetRows("trial")->cardinality(), 1u);
  EXPECT_TRUE(roaring_bitmap_contains(idx->DatasetRows("trial")->bitmap(), 1));
  EXPECT_EQ(idx->DatasetRows(""), nullptr);
  EXPECT_EQ(idx->DatasetRows("other"), nullptr);
}

}  // namespace
}  // namespace oncomesh::index
