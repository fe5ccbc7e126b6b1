#include "ingest/fhir/internal/hgvs.h"

#include <gtest/gtest.h>

namespace oncomesh::ingest::fhir_internal {
namespace {

TEST(NormalizeProteinChangeTest, TableOfForms) {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {"p.Leu858Arg", "p.Leu858Arg"},
      {"NP_005219.2:p.(Leu858Arg)", "p.Leu858Arg"},
      {"NP_005219.2:p.Leu858Arg", "p.Leu858Arg"},
      {"p.(Leu858Arg)", "p.Leu858Arg"},
      {"p.L858R", "p.Leu858Arg"},
      {"L858R", "p.Leu858Arg"},
      {" p.V600E ", "p.Val600Glu"},
      {"p.G12C", "p.Gly12Cys"},
      {"p.Glu746_Ala750del", "p.Glu746_Ala750del"},
      {"p.E746_A750del", "p.Glu746_Ala750del"},
      {"p.(E746_A750del)", "p.Glu746_Ala750del"},
      {"p.G12*", "p.Gly12Ter"},
      {"p.Arg97ProfsTer23", "p.Arg97ProfsTer23"},
      {"p.R97Pfs*23", "p.Arg97ProfsTer23"},
      {"p.D770_N771insSVD", "p.Asp770_Asn771insSerValAsp"},
      {"p.L747_P753delinsS", "p.Leu747_Pro753delinsSer"},
      {"p.(=)", "p.="},
      // Not readable as a protein change: kept as written.
      {"EGFR exon 19 deletion", "EGFR exon 19 deletion"},
      {"c.2573T>G", "c.2573T>G"},
      {"p.Leu858Xyz", "p.Leu858Xyz"},
      {"", ""},
  };
  for (const Case& c : cases) EXPECT_EQ(NormalizeProteinChange(c.in), c.out) << c.in;
}

}  // namespace
}  // namespace oncomesh::ingest::fhir_internal
