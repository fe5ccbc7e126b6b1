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
  auto r = ParseBeaconPost(
      R"({"meta": {"apiVersion": "v2.0", "requestedSchemas": ["beacon-individual-v2.0.0"]},
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

namespace oncomesh::query {
namespace {

// Issue 12: an array 100,000 deep beside the variant parameters overflowed the stack when the
// parsed request was copied; it is refused at parse time, saying where.
TEST(BeaconRequestTest, ADeepArrayBesideTheVariantParametersIsRefusedAtParseTime) {
  const std::string deep(100000, '[');
  const std::string body =
      R"({"query": {"requestParameters": {"g_variant": {"geneId": "TP53"}, "x": )" + deep +
      std::string(100000, ']') + "}}}";
  auto r = ParseBeaconPost(body);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(
      r.status().message().rfind("request body: JSON nested deeper than 64 levels at byte ", 0), 0u)
      << r.status().message();
  EXPECT_NE(r.status().message().find("(/query/requestParameters/x/0/0/"), std::string::npos);
}

TEST(BeaconRequestTest, UnknownMembersAreRefusedByName) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"meta": {}, "qeury": {}})", "request body: unknown key 'qeury'"},
      {R"({"meta": {"apiVersion": "v2.0", "granularity": "count"}})",
       "meta: unknown key 'granularity'"},
      {R"({"query": {"filter": [], "limit": 5}})", "query: unknown keys 'filter', 'limit'"},
      {R"({"query": {"pagination": {"offset": 5}}})", "query.pagination: unknown key 'offset'"},
      {R"({"query": {"pagination": {"nextPage": "abc"}}})",
       "query.pagination.nextPage: page tokens are not supported"},
      {R"({"query": {"filters": [{"id": "NCIT:C1", "includeDescendants": false}]}})",
       "query.filters[0]: unknown key 'includeDescendants'"},
      {R"({"query": {"filters": [{"anyOf": [{"id": "A:1", "op": "="}]}]}})",
       "query.filters[0].anyOf[0]: unknown key 'op'"},
      {R"({"query": {"requestParameters": {"g_variant": {"geneId": "TP53"}, "datasets": {}}}})",
       "requestParameters: unknown parameter 'datasets' beside g_variant"},
  };
  for (const auto& [body, reason] : cases) {
    auto r = ParseBeaconPost(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_NE(r.status().message().find(reason), std::string::npos) << r.status().message();
  }
  // What the schemas list is accepted, "$schema" included.
  auto ok = ParseBeaconPost(
      R"({"$schema": "x", "meta": {"$schema": "y", "apiVersion": "v2.0", "requestedSchemas": []},
          "query": {"filters": [{"id": "NCIT:C1", "scope": "individual", "similarity": "exact"}],
                    "pagination": {"skip": 0, "limit": 5}, "includeResultsetResponses": "HIT",
                    "testMode": false, "requestedGranularity": "count",
                    "requestParameters": {"$schema": "z", "g_variant": {"geneId": "TP53"}}}})");
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
}

TEST(BeaconRequestTest, GetParametersMustBeUtf8) {
  auto r = ParseBeaconGet({{"filters", "NCIT:C1,ab\xff"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "filters: invalid UTF-8 at byte 10");
  EXPECT_FALSE(ParseBeaconGet({{"fil\xc3", "x"}}).ok());
  EXPECT_TRUE(ParseBeaconGet({{"filters", "NCIT:C1"}}).ok());
}

}  // namespace
}  // namespace oncomesh::query
