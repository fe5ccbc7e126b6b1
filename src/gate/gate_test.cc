#include "gate/gate.h"

#include <gtest/gtest.h>

namespace oncomesh::gate {

TEST(GateTest, CountsAreRoundedUpToTheStep) {
  const Gate gate(GateConfig{10});
  const std::pair<uint64_t, int64_t> cases[] = {{0, 0},   {1, 10},  {9, 10},   {10, 10},
                                                {11, 20}, {20, 20}, {21, 30}, {12345, 12350}};
  for (const auto& [exact, released] : cases) {
    const ReleasedCount r = gate.ReleaseCount(exact, AccessLevel::kAnonymous);
    EXPECT_EQ(r.count, released) << exact;
    EXPECT_EQ(r.exists, exact > 0) << exact;
    EXPECT_STREQ(r.precision, "rounded");
    EXPECT_EQ(r.adjusted_to, 10);
  }
  const Gate step5(GateConfig{5});
  EXPECT_EQ(step5.ReleaseCount(6, AccessLevel::kAnonymous).count, 10);
  EXPECT_EQ(step5.ReleaseCount(4, AccessLevel::kAnonymous).count, 5);
}

TEST(GateTest, RecordLevelOnlyForPermittedCallers) {
  const Gate gate(GateConfig{10});
  for (AccessLevel level : {AccessLevel::kAnonymous, AccessLevel::kRegistered, AccessLevel::kPermitted}) {
    auto r = gate.Decide(level, model::Granularity::kRecord);
    if (level == AccessLevel::kPermitted) {
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(*r, model::Granularity::kRecord);
    } else {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
    }
    EXPECT_TRUE(gate.Decide(level, model::Granularity::kCount).ok());
    EXPECT_TRUE(gate.Decide(level, model::Granularity::kBoolean).ok());
  }
}

}  // namespace oncomesh::gate
