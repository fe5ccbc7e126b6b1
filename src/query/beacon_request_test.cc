#include "query/beacon_request.h"

#include <gtest/gtest.h>

namespace oncomesh::query {
namespace {

using nlohmann::json;

TEST(BeaconRequestTest, GetFiltersUnderstandOrNotAndInlineAlphanumerics) {
  std::multimap<std::string, std::string> q = {
      {"filters", "ICD10:C50|ICD10:C34, !NCIT:C27971,age>=P40Y,stage<III"},
      {"requestedGranularity", "count"}};
  auto r = ParseBeaconGet(q);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->requested_granularity, model::Granularity::kCount);
  ASSERT_EQ(r->filters.size(), 4u);
  EXPECT_EQ(r->filters[0], json({{"anyOf", {{{"id", "ICD10:C50"}}, {{"id", "ICD10:C34"}}}}}));
  EXPECT_EQ(r->filters[1], json({{"not", {{"id", "NCIT:C27971"}}}}));
  EXPECT_EQ(r->filters[2], json({{"id", "age"}, {"operator", ">="}, {"value", "P40Y"}}));
  EXPECT_EQ(r->filters[3], json({{"id", "stage"}, {"operator", "<"}, {"value", "III"}}));
}

TEST(BeaconRequestTest, GetRefusesUnknownParametersAndBadValues) {
  EXPECT_FALSE(ParseBeaconGet({{"filter", "X:1"}}).ok());
  EXPECT_FALSE(ParseBeaconGet({{"skip", "-3"}}).ok());
  EXPECT_FALSE(ParseBeaconGet({{"limit", "ten"}}).ok());
  EXPECT_FALSE(ParseBeaconGet({{"requestedGranularity", "all"}}).ok());
}

TEST(BeaconRequestTest, PostAcceptsTheSpecFormsAndStrings) {
  auto r = ParseBeaconPost(R"({"meta": {"apiVersion": "v2.0", "requestedSchemas": ["beacon-individual-v2.0.0"]},
    "query": {"filters": ["NCIT:C16576", {"id": "ICD10:C50", "includeDescendantTerms": false, "scope": "individual"}],
              "requestedGranularity": "boolean", "pagination": {"skip": 0, "limit": 5}, "testMode": false}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->filters[0], json({{"id", "NCIT:C16576"}}));
  EXPECT_EQ(r->filters[1]["includeDescendantTerms"], false);
  EXPECT_EQ(r->limit, 5);
  EXPECT_EQ(r->requested_schemas, std::vector<std::string>{"beacon-individual-v2.0.0"});
}

TEST(BeaconRequestTest, AgeDurations) {
  bool whole = false;
  EXPECT_EQ(ParseAgeDuration("P70Y", &whole), 70 * index::kAgeYearSlot);
  EXPECT_TRUE(whole);
  EXPECT_EQ(ParseAgeDuration("P65Y6M", &whole), 65 * index::kAgeYearSlot + 182);
  EXPECT_FALSE(whole);
  EXPECT_EQ(ParseAgeDuration("P30D", &whole), 30);
  for (const char* bad : {"", "P", "70Y", "P7Q", "PY", "P-1Y", "P1M2Y", "P70Y junk"}) {
    EXPECT_FALSE(ParseAgeDuration(bad, &whole).has_value()) << bad;
  }
}

}  // namespace
}  // namespace oncomesh::query

namespace oncomesh::query {
namespace {

TEST(BeaconRequestTest, HostileNestingAndSizesAreRefused) {
  std::string deep = R"({"id": "NCIT:C16576"})";
  for (int i = 0; i < 5000; ++i) deep = R"({"not": )" + deep + "}";
  auto r = ParseBeaconPost(R"({"query": {"filters": [)" + deep + "]}}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nested"), std::string::npos);
  EXPECT_FALSE(ParseBeaconGet({{"filters", std::string(5000, '!') + "NCIT:C16576"}}).ok());
  std::string many = "[";
  for (int i = 0; i < 1000; ++i) many += std::string(i ? "," : "") + "\"NCIT:C16576\"";
  EXPECT_FALSE(ParseBeaconPost(R"({"query": {"filters": )" + many + "]}}").ok());
}

}  // namespace
}  // namespace oncomesh::query
