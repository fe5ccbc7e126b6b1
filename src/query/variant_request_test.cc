#include "query/variant_request.h"

#include <gtest/gtest.h>

#include "query/beacon_request.h"

namespace oncomesh::query {
namespace {

using nlohmann::json;

TEST(VariantRequestTest, ResolvesRefSeqAccessionsAssembliesAndBrackets) {
  auto q = ParseVariantParameters(json{{"g_variant",
                                        {{"referenceName", "refseq:NC_000017.11"},
                                         {"start", {5000000, 7676592}},
                                         {"end", {7669607, 10000000}},
                                         {"variantType", "DEL"}}}});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->assembly, "GRCh38");
  EXPECT_EQ(q->chrom, "17");
  EXPECT_EQ(*q->start, 5000000);
  EXPECT_EQ(*q->start_max, 7676592);
  EXPECT_EQ(*q->end_max, 10000000);

  auto flat = ParseVariantParameters(json{
      {"assemblyId", "hg19"}, {"referenceName", "chr7"}, {"start", 140453135}, {"end", 140453136}});
  ASSERT_TRUE(flat.ok()) << flat.status().ToString();
  EXPECT_EQ(flat->assembly, "GRCh37");
  EXPECT_EQ(flat->chrom, "7");
}

TEST(VariantRequestTest, GetParametersAreTheSame) {
  auto r = ParseBeaconGet({{"referenceName", "NC_000007.14"},
                           {"start", "140753335"},
                           {"referenceBases", "a"},
                           {"alternateBases", "T"},
                           {"filters", "NCIT:C16576"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->variant.has_value());
  EXPECT_EQ(r->variant->reference_bases, "A");
  EXPECT_EQ(r->request_parameters["g_variant"]["start"], json::array({140753335}));
  EXPECT_EQ(r->filters.size(), 1u);
}

TEST(VariantRequestTest, BadParametersAreRefusedNamingThem) {
  auto message = [](const json& p) {
    auto q = ParseVariantParameters(p);
    return q.ok() ? std::string("accepted") : q.status().message();
  };
  EXPECT_NE(message({{"referenceName", "17"}, {"start", 10}}).find("alternateBases"),
            std::string::npos);
  EXPECT_NE(message({{"start", 10}, {"end", 20}}).find("referenceName"), std::string::npos);
  EXPECT_NE(message({{"referenceName", "17"}, {"start", 20}, {"end", 10}}).find("end"),
            std::string::npos);
  EXPECT_NE(message({{"referenceName", "17"}, {"start", -1}, {"end", 10}}).find("start"),
            std::string::npos);
  EXPECT_NE(
      message({{"referenceName", "NC_000017.99"}, {"start", 1}, {"end", 2}}).find("NC_000017.99"),
      std::string::npos);
  EXPECT_NE(
      message(
          {{"assemblyId", "GRCh38"}, {"referenceName", "NC_000017.10"}, {"start", 1}, {"end", 2}})
          .find("GRCh37"),
      std::string::npos);
  EXPECT_NE(message({{"assemblyId", "CHM13"}, {"geneId", "TP53"}}).find("CHM13"),
            std::string::npos);
  EXPECT_NE(message({{"referenceName", "17"}, {"start", 1}, {"alternateBases", "XYZ"}})
                .find("alternateBases"),
            std::string::npos);
  EXPECT_NE(message({{"geneId", "TP53"}, {"frobnicate", 1}}).find("frobnicate"), std::string::npos);
  EXPECT_NE(message({{"mateName", "chr2"}}).find("mateName"), std::string::npos);
  EXPECT_NE(message(json::object()).find("no variant parameter"), std::string::npos);
  EXPECT_FALSE(ParseBeaconGet({{"start", "12,x"}, {"referenceName", "1"}, {"end", "20"}}).ok());
}

}  // namespace
}  // namespace oncomesh::query
