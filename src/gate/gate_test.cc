#include "gate/gate.h"

#include <gtest/gtest.h>

namespace oncomesh::gate {

TEST(GateTest, CountsAreRoundedUpToTheStep) {
  const Gate gate(GateConfig{10});
  const std::pair<uint64_t, int64_t> cases[] = {{0, 0},   {1, 10},  {9, 10},  {10, 10},
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
  for (AccessLevel level :
       {AccessLevel::kAnonymous, AccessLevel::kRegistered, AccessLevel::kPermitted}) {
    auto r = gate.Decide(level, model::Granularity::kRecord);
    if (level == AccessLevel::kPermitted) {
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(*r, model::Granularity::kRecord);
    } else {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
    }
  }
}

TEST(GateTest, CountsGoToRegisteredCallersAndAnonymousOnesGetABoolean) {
  const Gate gate(GateConfig{10});
  struct Case {
    AccessLevel level;
    model::Granularity requested, granted;
  };
  const Case cases[] = {
      {AccessLevel::kAnonymous, model::Granularity::kCount, model::Granularity::kBoolean},
      {AccessLevel::kAnonymous, model::Granularity::kBoolean, model::Granularity::kBoolean},
      {AccessLevel::kRegistered, model::Granularity::kCount, model::Granularity::kCount},
      {AccessLevel::kRegistered, model::Granularity::kBoolean, model::Granularity::kBoolean},
      {AccessLevel::kPermitted, model::Granularity::kCount, model::Granularity::kCount},
      {AccessLevel::kPermitted, model::Granularity::kBoolean, model::Granularity::kBoolean},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(AccessLevelName(c.level)) + " asking " +
                 std::to_string(static_cast<int>(c.requested)));
    const Result<model::Granularity> r = gate.Decide(c.level, c.requested);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, c.granted);
  }
  // The refusal says what the caller can ask for instead.
  const Result<model::Granularity> anonymous =
      gate.Decide(AccessLevel::kAnonymous, model::Granularity::kRecord);
  ASSERT_FALSE(anonymous.ok());
  EXPECT_NE(anonymous.status().message().find("'boolean'"), std::string::npos)
      << anonymous.status().ToString();
  EXPECT_EQ(anonymous.status().message().find("'count'"), std::string::npos)
      << anonymous.status().ToString();
  const Result<model::Granularity> registered =
      gate.Decide(AccessLevel::kRegistered, model::Granularity::kRecord);
  ASSERT_FALSE(registered.ok());
  EXPECT_NE(registered.status().message().find("'count' or 'boolean'"), std::string::npos)
      << registered.status().ToString();
}

TEST(GateTest, AStepOfOneReleasesExactCounts) {
  const Gate gate(GateConfig{1});
  for (uint64_t exact : {0u, 1u, 9u, 11u, 12345u}) {
    const ReleasedCount r = gate.ReleaseCount(exact, AccessLevel::kRegistered);
    EXPECT_EQ(r.count, static_cast<int64_t>(exact));
    EXPECT_EQ(r.exists, exact > 0);
    EXPECT_STREQ(r.precision, "exact");
    EXPECT_EQ(r.adjusted_to, 1);
  }
}

}  // namespace oncomesh::gate
