// The variant part of the cohort index: annotation from the reference tables, every Beacon
// query kind, and variant carriers combined with clinical filters in one plan.
#include "index/variant_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "index/cohort_index.h"
#include "model/variant_block.h"
#include "query/beacon_request.h"

namespace oncomesh::index {
namespace {

model::Variant V(const std::string& assembly, const std::string& chrom, int64_t pos,
                 const std::string& ref, const std::string& alt, const std::string& type,
                 int64_t end = 0) {
  model::Variant v;
  v.assembly = assembly;
  v.chrom = chrom;
  v.position = pos;
  v.ref = ref;
  v.alt = alt;
  v.variant_type = type;
  v.end = end ? end : pos + static_cast<int64_t>(ref.size()) - 1;
  v.id = model::VariantId(assembly, chrom, pos, ref, alt);
  return v;
}

model::VariantCall Call(const model::Variant& v, const std::string& individual,
                        model::Zygosity z = model::Zygosity::kHeterozygous) {
  model::VariantCall c;
  c.variant_id = v.id;
  c.individual_id = individual;
  c.biosample_id = "bs-" + individual;
  c.zygosity = z;
  return c;
}

// The variants and calls as the VCF ingest stores them: one file with a sample column per
// individual, each variant in an encoded block (of its own: a block has one assembly).
void AddAsStored(model::RecordBatch& b, const std::vector<model::Variant>& variants,
                 const std::vector<model::VariantCall>& calls) {
  std::map<std::string, uint32_t> column;
  std::map<std::string, std::vector<model::VariantCarrier>> carriers;
  for (const model::VariantCall& c : calls) {
    const auto [it, added] = column.emplace(c.individual_id, static_cast<uint32_t>(column.size()));
    if (added) b.variant_samples.push_back({"test", it->second, c.individual_id, c.biosample_id});
    carriers[c.variant_id].push_back({it->second, c.zygosity, c.origin});
  }
  for (const model::Variant& v : variants) {
    std::vector<model::VariantCarrier>& mine = carriers[v.id];
    std::sort(mine.begin(), mine.end(),
              [](const auto& x, const auto& y) { return x.column < y.column; });
    mine.erase(std::unique(mine.begin(), mine.end(),
                           [](const auto& x, const auto& y) { return x.column == y.column; }),
               mine.end());
    model::VariantBlockEncoder encoder(v.assembly);
    encoder.Add(v.chrom, v.position, v.end, v.ref, v.alt, v.variant_type, mine);
    b.variant_blocks.push_back({"test", 1, encoder.Take()});
  }
}

struct Fixture {
  Vocabulary vocab;
  std::unique_ptr<CohortIndex> index;
};

// Six individuals: p0-p2 women, p3-p5 men. Variants: BRCA1 c.68_69del (known, GRCh38) in p0 and
// p3; KRAS G12C (known) in p1; a 500-base deletion starting before the BRCA1 one in p2; a
// symbolic deletion on 17 in p4; an SNV on GRCh37 chromosome 7 in p5; an SNV no one carries.
Fixture Make() {
  Fixture f{*Vocabulary::LoadEmbedded(), nullptr};
  model::RecordBatch b;
  for (int i = 0; i < 6; ++i) {
    model::Individual ind;
    ind.id = "p" + std::to_string(i);
    ind.sex = i < 3 ? model::Sex::kFemale : model::Sex::kMale;
    b.individuals.push_back(ind);
  }
  const model::Variant brca1 = V("GRCh38", "17", 43124027, "ACT", "A", "DEL");
  const model::Variant kras = V("GRCh38", "12", 25245351, "C", "A", "SNP");
  const model::Variant long_del =
      V("GRCh38", "17", 43123600, std::string(501, 'A').replace(0, 1, "G"), "G", "DEL");
  const model::Variant sv = V("GRCh38", "17", 7660000, "N", "<DEL>", "DEL", 7700000);
  const model::Variant grch37 = V("GRCh37", "7", 140453136, "A", "T", "SNP");
  const model::Variant nobody = V("GRCh38", "7", 140753336, "A", "T", "SNP");
  AddAsStored(
      b, {brca1, kras, long_del, sv, grch37, nobody},
      {Call(brca1, "p0"), Call(brca1, "p3", model::Zygosity::kHomozygous), Call(kras, "p1"),
       Call(long_del, "p2"), Call(sv, "p4"), Call(grch37, "p5"), Call(kras, "unknown-person")});
  IndexBuilder builder(f.vocab);
  EXPECT_TRUE(builder.AddBatch(b).ok());
  f.index = builder.Finish();
  return f;
}

std::vector<std::string> Ids(const Fixture& f, const VariantQuery& q) {
  auto m = f.index->variants().Match(q);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  std::vector<std::string> out;
  if (m.ok()) {
    for (uint32_t i : *m) out.push_back(f.index->variants().entry(i).variant.id);
  }
  return out;
}

TEST(VariantIndexTest, AnnotatesGenesProteinChangesAndHgvs) {
  const Fixture f = Make();
  const VariantIndex& v = f.index->variants();
  ASSERT_EQ(v.size(), 6u);
  EXPECT_EQ(f.index->stats().variants, 6u);
  EXPECT_EQ(f.index->stats().skipped_records, 1u);  // the call of an unknown individual
  bool saw_brca1 = false, saw_kras = false;
  for (uint32_t i = 0; i < v.size(); ++i) {
    const VariantIndex::Entry& e = v.entry(i);
    if (e.variant.id == "GRCh38:17:43124027:ACT:A") {
      saw_brca1 = true;
      EXPECT_EQ(e.variant.gene, "BRCA1");
      EXPECT_EQ(e.hgvs_g, "NC_000017.11:g.43124028_43124029del");
      EXPECT_EQ(e.hgvs_c, "NM_007294.4:c.68_69del");
      EXPECT_EQ(e.carriers.cardinality(), 2u);
      EXPECT_EQ(e.start0, 43124026);
      EXPECT_EQ(e.end0, 43124029);
    }
    if (e.variant.id == "GRCh38:12:25245351:C:A") {
      saw_kras = true;
      EXPECT_EQ(e.variant.gene, "KRAS");
      EXPECT_EQ(e.protein, "G12C");
      EXPECT_EQ(e.hgvs_g, "NC_000012.12:g.25245351C>A");
    }
  }
  EXPECT_TRUE(saw_brca1 && saw_kras);
}

TEST(VariantIndexTest, SequenceRangeBracketGeneProteinAndHgvsQueries) {
  const Fixture f = Make();
  const std::string brca1 = "GRCh38:17:43124027:ACT:A", kras = "GRCh38:12:25245351:C:A";
  const std::string long_del = "GRCh38:17:43123600:G" + std::string(500, 'A') + ":G";
  const std::string sv = "GRCh38:17:7660000:N:<DEL>", grch37 = "GRCh37:7:140453136:A:T";
  using Ids_ = std::vector<std::string>;

  VariantQuery seq;  // sequence: VCF-style alleles at a 0-based start; N matches any base
  seq.assembly = "GRCh38";
  seq.chrom = "17";
  seq.start = 43124026;
  seq.reference_bases = "ACT";
  seq.alternate_bases = "A";
  EXPECT_EQ(Ids(f, seq), Ids_{brca1});
  seq.alternate_bases = "N";
  EXPECT_EQ(Ids(f, seq), Ids_{brca1});
  seq.alternate_bases = "C";
  EXPECT_EQ(Ids(f, seq), Ids_{});

  VariantQuery range;  // any overlap with [start, end), including a long deletion from before
  range.chrom = "17";
  range.start = 43124000;
  range.end = 43124010;
  EXPECT_EQ(Ids(f, range), Ids_{long_del});
  range.start = 43124020;
  range.end = 43124030;
  EXPECT_EQ(Ids(f, range), (Ids_{long_del, brca1}));
  range.start = 7600000;
  range.end = 7700001;
  EXPECT_EQ(Ids(f, range), Ids_{sv});

  VariantQuery bracket;
  bracket.chrom = "17";
  bracket.start = 43123000;
  bracket.start_max = 43124030;
  bracket.end = 43124000;
  bracket.end_max = 43124050;
  EXPECT_EQ(Ids(f, bracket), Ids_{brca1});

  VariantQuery gene;
  gene.gene = "brca1";
  EXPECT_EQ(Ids(f, gene), (Ids_{long_del, brca1}));
  gene.gene = "TP53";
  EXPECT_EQ(Ids(f, gene), Ids_{});
  gene.gene = "NOSUCHGENE";
  EXPECT_FALSE(f.index->variants().Match(gene).ok());

  VariantQuery protein;
  protein.aminoacid_change = "G12C";
  EXPECT_EQ(Ids(f, protein), Ids_{kras});
  protein.aminoacid_change = "p.Gly12Cys";
  protein.gene = "KRAS";
  EXPECT_EQ(Ids(f, protein), Ids_{kras});
  protein.gene = "BRAF";
  EXPECT_EQ(Ids(f, protein), Ids_{});

  VariantQuery hgvs;
  hgvs.hgvs = "NC_000017.11:g.43124028_43124029del";
  EXPECT_EQ(Ids(f, hgvs), Ids_{brca1});
  hgvs.hgvs = "NM_007294.3:c.68_69del";  // another version of the same transcript
  EXPECT_EQ(Ids(f, hgvs), Ids_{brca1});
  hgvs.hgvs = "NM_007294.4:c.68del";
  EXPECT_EQ(Ids(f, hgvs), Ids_{});

  VariantQuery type;  // Beacon's EFO term for a deletion = DEL; lengths in bases
  type.chrom = "17";
  type.variant_type = "EFO:0030067";
  EXPECT_EQ(Ids(f, type), (Ids_{sv, long_del, brca1}));
  type.min_length = 100;
  EXPECT_EQ(Ids(f, type), (Ids_{sv, long_del}));
  type.min_length.reset();
  type.max_length = 10;
  EXPECT_EQ(Ids(f, type), Ids_{brca1});

  VariantQuery on37;  // assemblies are kept apart
  on37.chrom = "7";
  on37.start = 140453135;
  on37.end = 140453136;
  on37.assembly = "GRCh37";
  EXPECT_EQ(Ids(f, on37), Ids_{grch37});
  on37.assembly = "GRCh38";
  EXPECT_EQ(Ids(f, on37), Ids_{});
}

TEST(VariantIndexTest, RangeQueriesAgreeWithBruteForce) {
  Fixture f{*Vocabulary::LoadEmbedded(), nullptr};
  std::mt19937_64 rng(7);
  model::RecordBatch b;
  model::Individual person;
  person.id = "p";
  b.individuals.push_back(person);
  std::vector<std::pair<int64_t, int64_t>> spans;  // 0-based [start, end)
  std::vector<model::Variant> variants;
  std::vector<model::VariantCall> calls;
  for (int i = 0; i < 3000; ++i) {
    const int64_t pos = 1 + static_cast<int64_t>(rng() % 1'000'000);
    const int64_t len = rng() % 50 == 0 ? 1 + static_cast<int64_t>(rng() % 20000)
                                        : 1 + static_cast<int64_t>(rng() % 4);
    model::Variant v = V("GRCh38", "3", pos, std::string(static_cast<size_t>(len), 'C'), "C",
                         len == 1 ? "SNP" : "DEL");
    if (len == 1) v.alt = "T", v.id = model::VariantId("GRCh38", "3", pos, v.ref, "T");
    variants.push_back(v);
    calls.push_back(Call(v, "p"));
  }
  AddAsStored(b, variants, calls);
  IndexBuilder builder(f.vocab);
  const Status added = builder.AddBatch(b);
  EXPECT_TRUE(added.ok()) << added.ToString();
  f.index = builder.Finish();
  const VariantIndex& vi = f.index->variants();
  for (int k = 0; k < 300; ++k) {
    VariantQuery q;
    q.chrom = "3";
    q.start = static_cast<int64_t>(rng() % 1'000'000);
    q.end = *q.start + 1 + static_cast<int64_t>(rng() % 5000);
    size_t expected = 0;
    for (uint32_t i = 0; i < vi.size(); ++i) {
      const VariantIndex::Entry& e = vi.entry(i);
      expected += e.start0 < *q.end && e.end0 > *q.start;
    }
    auto m = vi.Match(q);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->size(), expected) << "[" << *q.start << ", " << *q.end << ")";
  }
}

TEST(VariantIndexTest, CarriersCombineWithClinicalFiltersInOnePlan) {
  const Fixture f = Make();
  // Women carrying BRCA1 c.68_69del: p0 (p3 is a man).
  auto women = query::ParseBeaconPost(R"({"query": {"filters": [{"id": "NCIT:C16576"}],
      "requestParameters": {"g_variant": {"assemblyId": "GRCh38", "referenceName": "NC_000017.11",
        "start": [43124026], "referenceBases": "ACT", "alternateBases": "A"}}}})");
  ASSERT_TRUE(women.ok()) << women.status().ToString();
  auto plan = query::BuildRequestPlan(*women, *f.index);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(f.index->Count(*plan), 1u);
  // Carriers of anything in BRCA1, whoever they are: p0, p2, p3.
  auto gene = query::ParseBeaconGet({{"geneId", "BRCA1"}});
  ASSERT_TRUE(gene.ok()) << gene.status().ToString();
  EXPECT_EQ(f.index->Count(*query::BuildRequestPlan(*gene, *f.index)), 3u);
  // A gene query for a gene without coordinates is refused, naming it.
  auto unknown = query::ParseBeaconGet({{"geneId", "NOSUCHGENE"}});
  ASSERT_TRUE(unknown.ok());
  auto refused = query::BuildRequestPlan(*unknown, *f.index);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("NOSUCHGENE"), std::string::npos);
}

}  // namespace
}  // namespace oncomesh::index

namespace oncomesh::index {
namespace {

// The mitochondrion's RefSeq accession, NC_012920.1, is the same sequence (rCRS) in GRCh37 and
// GRCh38 (data/genes/chromosomes.tsv lists it for both): as a referenceName it names MT without
// choosing an assembly (issue 12: it found nothing on a GRCh37 node, though the node's own
// records print NC_012920.1:g.73A>C).
TEST(VariantIndexTest, TheMitochondrialAccessionFindsMtOnEitherAssembly) {
  Fixture f{*Vocabulary::LoadEmbedded(), nullptr};
  model::RecordBatch b;
  for (const char* id : {"m37", "m38"}) b.individuals.push_back(model::Individual{id});
  const model::Variant mt37 = V("GRCh37", "MT", 73, "A", "C", "SNP");
  const model::Variant mt38 = V("GRCh38", "MT", 73, "A", "G", "SNP");
  AddAsStored(b, {mt37, mt38}, {Call(mt37, "m37"), Call(mt38, "m38")});
  IndexBuilder builder(f.vocab);
  ASSERT_TRUE(builder.AddBatch(b).ok());
  f.index = builder.Finish();
  for (uint32_t i = 0; i < f.index->variants().size(); ++i) {
    const VariantIndex::Entry& e = f.index->variants().entry(i);
    if (e.variant.id == mt37.id) {
      EXPECT_EQ(e.hgvs_g, "NC_012920.1:g.73A>C");
    }
  }
  auto count = [&](const std::multimap<std::string, std::string>& get) -> int64_t {
    auto request = query::ParseBeaconGet(get);
    EXPECT_TRUE(request.ok()) << request.status().ToString();
    if (!request.ok()) return -1;
    auto plan = query::BuildRequestPlan(*request, *f.index);
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    return plan.ok() ? static_cast<int64_t>(f.index->Count(*plan)) : -1;
  };
  for (const char* name : {"NC_012920.1", "refseq:NC_012920.1", "MT", "chrM"}) {
    EXPECT_EQ(
        count({{"assemblyId", "GRCh37"}, {"referenceName", name}, {"start", "72"}, {"end", "73"}}),
        1)
        << name;
    EXPECT_EQ(
        count({{"assemblyId", "GRCh38"}, {"referenceName", name}, {"start", "72"}, {"end", "73"}}),
        1)
        << name;
    EXPECT_EQ(count({{"referenceName", name}, {"start", "72"}, {"end", "73"}}), 2) << name;
  }
  EXPECT_EQ(count({{"referenceName", "NC_012920.1"},
                   {"start", "72"},
                   {"referenceBases", "A"},
                   {"alternateBases", "C"}}),
            1);
}

}  // namespace
}  // namespace oncomesh::index
