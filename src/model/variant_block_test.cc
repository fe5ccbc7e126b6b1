// The variant block encoding: what goes in comes out, and data that is not a block is refused
// with DataLoss, never read past its end.
#include "model/variant_block.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace oncomesh::model {
namespace {

struct Decoded {
  Variant variant;
  std::vector<VariantCarrier> carriers;
};

std::vector<Decoded> Decode(const std::string& data, Status* status) {
  std::vector<Decoded> out;
  *status = DecodeVariantBlock(data, [&](const Variant& v, std::span<const VariantCarrier> c) {
    out.push_back({v, {c.begin(), c.end()}});
  });
  return out;
}

bool Same(const VariantCarrier& a, const VariantCarrier& b) {
  return a.column == b.column && a.zygosity == b.zygosity && a.origin == b.origin;
}

TEST(VariantBlockTest, RoundTripsVariantsAndCarriers) {
  VariantBlockEncoder encoder("GRCh38");
  const std::vector<VariantCarrier> none;
  const std::vector<VariantCarrier> some = {
      {0, Zygosity::kHeterozygous, VariantOrigin::kGermline},
      {1, Zygosity::kHomozygous, VariantOrigin::kSomatic},
      {130, Zygosity::kHemizygous, VariantOrigin::kGermline},
      {70000, Zygosity::kHeterozygous, VariantOrigin::kSomatic}};
  encoder.Add("17", 43124027, 43124029, "ACT", "A", "DEL", some);
  encoder.Add("17", 43124027, 43124027, "A", "G", "SNP", none);  // same position again
  encoder.Add("17", 100, 100, "C", "T", "SNP", some);            // going back (new contig order)
  encoder.Add("X", 7660000, 7700000, "N", "<DUP:TANDEM>", "DUP", some);  // a written-out type
  encoder.Add("GL000207.1", 5, 5, "G", "GTTT", "INS", none);
  EXPECT_EQ(encoder.variants(), 5u);
  const std::string data = encoder.Take();
  EXPECT_EQ(encoder.variants(), 0u);

  Status status;
  const std::vector<Decoded> got = Decode(data, &status);
  ASSERT_TRUE(status.ok()) << status.ToString();
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0].variant.id, "GRCh38:17:43124027:ACT:A");
  EXPECT_EQ(got[0].variant.assembly, "GRCh38");
  EXPECT_EQ(got[0].variant.end, 43124029);
  EXPECT_EQ(got[0].variant.variant_type, "DEL");
  ASSERT_EQ(got[0].carriers.size(), some.size());
  for (size_t i = 0; i < some.size(); ++i) EXPECT_TRUE(Same(got[0].carriers[i], some[i])) << i;
  EXPECT_TRUE(got[1].carriers.empty());
  EXPECT_EQ(got[1].variant.id, "GRCh38:17:43124027:A:G");
  EXPECT_EQ(got[2].variant.position, 100);
  EXPECT_EQ(got[3].variant.chrom, "X");
  EXPECT_EQ(got[3].variant.alt, "<DUP:TANDEM>");
  EXPECT_EQ(got[3].variant.variant_type, "DUP");
  EXPECT_EQ(got[3].variant.end, 7700000);
  EXPECT_EQ(got[4].variant.chrom, "GL000207.1");
  EXPECT_EQ(got[4].variant.variant_type, "INS");
  EXPECT_TRUE(got[4].variant.gene.empty());

  // The encoder starts afresh after Take().
  encoder.Add("1", 10, 10, "A", "C", "SNP", none);
  const std::vector<Decoded> next = Decode(encoder.Take(), &status);
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].variant.chrom, "1");
  EXPECT_EQ(next[0].variant.position, 10);
}

TEST(VariantBlockTest, CarriersOutOfOrderAreLeftOut) {
  VariantBlockEncoder encoder("GRCh37");
  const std::vector<VariantCarrier> carriers = {
      {5, Zygosity::kHeterozygous, VariantOrigin::kGermline},
      {5, Zygosity::kHomozygous, VariantOrigin::kGermline},
      {2, Zygosity::kHeterozygous, VariantOrigin::kGermline},
      {9, Zygosity::kHeterozygous, VariantOrigin::kGermline}};
  encoder.Add("7", 1, 1, "A", "T", "SNP", carriers);
  Status status;
  const std::vector<Decoded> got = Decode(encoder.Take(), &status);
  ASSERT_TRUE(status.ok()) << status.ToString();
  ASSERT_EQ(got[0].carriers.size(), 2u);
  EXPECT_EQ(got[0].carriers[0].column, 5u);
  EXPECT_EQ(got[0].carriers[1].column, 9u);
}

TEST(VariantBlockTest, ManyRandomVariantsRoundTrip) {
  std::mt19937_64 rng(11);
  VariantBlockEncoder encoder("GRCh38");
  std::vector<Decoded> expected;
  int64_t position = 1;
  for (int i = 0; i < 5000; ++i) {
    const std::string chrom = std::to_string(1 + i / 1000);
    position = i % 1000 == 0 ? 1 + static_cast<int64_t>(rng() % 1000)
                             : position + static_cast<int64_t>(rng() % 30000);
    Decoded d;
    d.variant.assembly = "GRCh38";
    d.variant.chrom = chrom;
    d.variant.position = position;
    d.variant.ref = std::string(1 + rng() % 5, "ACGT"[rng() % 4]);
    d.variant.alt = "T";
    d.variant.end = position + static_cast<int64_t>(d.variant.ref.size()) - 1;
    d.variant.variant_type = d.variant.ref.size() == 1 ? "SNP" : "INDEL";
    uint32_t column = 0;
    for (int k = 0; k < static_cast<int>(rng() % 40); ++k) {
      column += 1 + static_cast<uint32_t>(rng() % 300);
      d.carriers.push_back({column, static_cast<Zygosity>(1 + rng() % 3),
                            rng() % 2 ? VariantOrigin::kSomatic : VariantOrigin::kGermline});
    }
    encoder.Add(d.variant.chrom, d.variant.position, d.variant.end, d.variant.ref, d.variant.alt,
                d.variant.variant_type, d.carriers);
    expected.push_back(d);
  }
  Status status;
  const std::vector<Decoded> got = Decode(encoder.Take(), &status);
  ASSERT_TRUE(status.ok()) << status.ToString();
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].variant.chrom, expected[i].variant.chrom);
    EXPECT_EQ(got[i].variant.position, expected[i].variant.position);
    EXPECT_EQ(got[i].variant.end, expected[i].variant.end);
    EXPECT_EQ(got[i].variant.ref, expected[i].variant.ref);
    EXPECT_EQ(got[i].variant.variant_type, expected[i].variant.variant_type);
    ASSERT_EQ(got[i].carriers.size(), expected[i].carriers.size());
    for (size_t k = 0; k < got[i].carriers.size(); ++k) {
      EXPECT_TRUE(Same(got[i].carriers[k], expected[i].carriers[k]));
    }
  }
}

TEST(VariantBlockTest, DataThatIsNotABlockIsDataLoss) {
  VariantBlockEncoder encoder("GRCh38");
  const std::vector<VariantCarrier> carriers = {
      {3, Zygosity::kHeterozygous, VariantOrigin::kGermline}};
  encoder.Add("12", 25245351, 25245351, "C", "A", "SNP", carriers);
  encoder.Add("12", 25245350, 25245350, "C", "T", "SNP", carriers);
  const std::string data = encoder.Take();

  // Every truncation: an error, and no variant past the cut.
  for (size_t n = 0; n < data.size(); ++n) {
    Status status;
    const std::vector<Decoded> got = Decode(data.substr(0, n), &status);
    EXPECT_EQ(status.code(), StatusCode::kDataLoss) << "cut at " << n;
    EXPECT_LT(got.size(), 2u);
  }
  Status status;
  Decode(data + "x", &status);
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_NE(status.message().find("after the last"), std::string::npos) << status.message();
  std::string version2 = data;
  version2[4] = '\x02';
  Decode(version2, &status);
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_NE(status.message().find("version"), std::string::npos);
  // A zygosity of 0 is no call.
  std::string bad = data;
  bad[bad.size() - 1] = static_cast<char>(3 << 3);
  Decode(bad, &status);
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  // Random bytes after a valid header never crash.
  std::mt19937_64 rng(5);
  for (int i = 0; i < 2000; ++i) {
    std::string junk = data.substr(0, 12);
    for (int k = 0; k < 40; ++k) junk.push_back(static_cast<char>(rng()));
    Decode(junk, &status);
  }
}

}  // namespace
}  // namespace oncomesh::model
