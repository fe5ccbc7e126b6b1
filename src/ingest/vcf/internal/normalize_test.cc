#include "ingest/vcf/internal/normalize.h"

#include <gtest/gtest.h>

namespace oncomesh::ingest::vcf_internal {
namespace {

struct Case {
  int64_t pos;
  const char* ref;
  const char* alt;
  int64_t info_end;
  // Expected; type "" means "not a variant".
  int64_t want_pos;
  const char* want_ref;
  const char* want_alt;
  int64_t want_end;
  const char* want_type;
};

// The table is the specification (vcf_ingest.h, normalize.h).
const Case kCases[] = {
    // SNPs, lower case.
    {100, "A", "T", 0, 100, "A", "T", 100, "SNP"},
    {100, "a", "g", 0, 100, "A", "G", 100, "SNP"},
    // Shared suffix and prefix of a SNP written long (as a split multi-allelic record leaves
    // them): GTC -> GTCT is an insertion, GTC -> G a deletion, GTC -> GAC a SNP.
    {1234567, "GTC", "G", 0, 1234567, "GTC", "G", 1234569, "DEL"},
    {1234567, "GTC", "GTCT", 0, 1234569, "C", "CT", 1234569, "INS"},
    {1234567, "GTC", "GAC", 0, 1234568, "T", "A", 1234568, "SNP"},
    // Suffix trimming left-aligns within the record; one anchor base stays.
    {3184885, "TAAAA", "TA", 0, 3184885, "TAAA", "T", 3184888, "DEL"},
    {3184885, "TAAAA", "T", 0, 3184885, "TAAAA", "T", 3184889, "DEL"},
    {3106154, "CAAA", "CAA", 0, 3106154, "CA", "C", 3106155, "DEL"},
    {4404404, "G", "GT", 0, 4404404, "G", "GT", 4404404, "INS"},
    {3199812, "GTT", "GTTTT", 0, 3199812, "G", "GTT", 3199812, "INS"},
    // MNP: shared bases trimmed completely.
    {1107718, "GG", "CC", 0, 1107718, "GG", "CC", 1107719, "MNP"},
    {200, "ATG", "ACC", 0, 201, "TG", "CC", 202, "MNP"},
    {200, "AGT", "ACT", 0, 201, "G", "C", 201, "SNP"},
    // Complex.
    {620255100, "AG", "T", 0, 620255100, "AG", "T", 620255101, "INDEL"},
    {300, "ACGT", "TT", 0, 300, "ACG", "T", 302, "INDEL"},
    // Symbolic alleles with END, and without (REF's last base).
    {1000, "G", "<DEL>", 1890, 1000, "G", "<DEL>", 1890, "DEL"},
    {1000, "G", "<DUP:TANDEM>", 5000, 1000, "G", "<DUP:TANDEM>", 5000, "DUP"},
    {1000, "N", "<INV>", 0, 1000, "N", "<INV>", 1000, "INV"},
    {1000, "A", "<CNV>", 2000, 1000, "A", "<CNV>", 2000, "CNV"},
    {1000, "A", "<INS>", 0, 1000, "A", "<INS>", 1000, "INS"},
    // Breakend.
    {321681, "G", "G]17:198982]", 0, 321681, "G", "G]17:198982]", 321681, "BND"},
    // Not variants.
    {100, "A", ".", 0, 0, "", "", 0, ""},
    {100, "A", "*", 0, 0, "", "", 0, ""},
    {100, "A", "<*>", 0, 0, "", "", 0, ""},
    {100, "A", "<NON_REF>", 0, 0, "", "", 0, ""},
    {100, "A", "<X>", 0, 0, "", "", 0, ""},
    {100, "AC", "ac", 0, 0, "", "", 0, ""},
};

TEST(NormalizeAlleleTest, Table) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(std::to_string(c.pos) + " " + c.ref + ">" + c.alt);
    const auto n = NormalizeAllele(c.pos, c.ref, c.alt, c.info_end);
    if (std::string(c.want_type).empty()) {
      EXPECT_FALSE(n.has_value());
      continue;
    }
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(n->position, c.want_pos);
    EXPECT_EQ(n->ref, c.want_ref);
    EXPECT_EQ(n->alt, c.want_alt);
    EXPECT_EQ(n->end, c.want_end);
    EXPECT_EQ(n->variant_type, c.want_type);
  }
}

// A multi-allelic record is split by calling NormalizeAllele once per ALT: each is trimmed on
// its own, so the shared REF of the record does not leave padding on the others.
TEST(NormalizeAlleleTest, MultiAllelicSplit) {
  const char* alts[] = {"TA", "T"};
  const auto a = NormalizeAllele(3184885, "TAAAA", alts[0], 0);
  const auto b = NormalizeAllele(3184885, "TAAAA", alts[1], 0);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->ref + ">" + a->alt, "TAAA>T");
  EXPECT_EQ(b->ref + ">" + b->alt, "TAAAA>T");
}

TEST(CanonicalChromosomeTest, Names) {
  EXPECT_EQ(CanonicalChromosome("chr17"), "17");
  EXPECT_EQ(CanonicalChromosome("17"), "17");
  EXPECT_EQ(CanonicalChromosome("chrX"), "X");
  EXPECT_EQ(CanonicalChromosome("chrM"), "MT");
  EXPECT_EQ(CanonicalChromosome("M"), "MT");
  EXPECT_EQ(CanonicalChromosome("MT"), "MT");
  EXPECT_EQ(CanonicalChromosome("GL000207.1"), "GL000207.1");
  EXPECT_EQ(CanonicalChromosome("chr"), "chr");
  EXPECT_EQ(CanonicalChromosome("1:1-1"), "1:1-1");
}

}  // namespace
}  // namespace oncomesh::ingest::vcf_internal
