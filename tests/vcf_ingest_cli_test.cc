// `oncomesh ingest vcf` as a user runs it: a real node directory, clinical data first, then
// VCFs whose samples are the patients; what it prints and its exit code.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/process.h"

namespace oncomesh::testing {
namespace {

namespace fs = std::filesystem;

TEST(VcfIngestCliTest, IngestsReportsAndRefuses) {
  TempDir dir;
  const std::string node = dir.path() + "/node";
  const std::string vcf = SharedDir() + "/data/vcf";
  std::string out;
  ASSERT_EQ(RunCommand({OncomeshBinary(), "node", "init", "--dir", node}, &out), 0) << out;
  {
    std::ofstream p(dir.path() + "/Patient.000.ndjson");
    p << R"({"resourceType":"Patient","id":"NA00001","gender":"female"})"
      << "\n"
      << R"({"resourceType":"Patient","id":"NA00002","gender":"male"})"
      << "\n";
  }
  ASSERT_EQ(RunCommand({OncomeshBinary(), "ingest", "fhir", "--dir", node,
                        dir.path() + "/Patient.000.ndjson"},
                       &out),
            0)
      << out;

  // NA00003 has no Patient: not linked yet, reported; the file goes in.
  ASSERT_EQ(RunCommand({OncomeshBinary(), "ingest", "vcf", "--dir", node, "--assembly", "GRCh37",
                        vcf + "/spec-v4.3.vcf.gz"},
                       &out),
            0)
      << out;
  EXPECT_NE(out.find("OK      " + vcf + "/spec-v4.3.vcf.gz: 5 records, "), std::string::npos)
      << out;
  EXPECT_NE(out.find("Samples not linked yet"), std::string::npos) << out;
  EXPECT_NE(out.find("sample NA00003: 3"), std::string::npos) << out;
  EXPECT_NE(out.find("1 file(s) ingested, 0 refused"), std::string::npos) << out;
  size_t kept = 0;
  for (const auto& e : fs::directory_iterator(node + "/variants")) {
    kept += e.path().extension() == ".gz" ? 1 : 0;
  }
  EXPECT_EQ(kept, 1u);

  // Again: nothing added.
  ASSERT_EQ(RunCommand({OncomeshBinary(), "ingest", "vcf", "--dir", node, "--assembly", "GRCh37",
                        vcf + "/spec-v4.3.vcf.gz"},
                       &out),
            0);
  EXPECT_NE(out.find("already ingested"), std::string::npos) << out;

  // Strict: the BCF twin is refused for NA00003; a malformed file is refused with its line;
  // the exit code says so.
  const std::string bad = dir.path() + "/bad.vcf";
  {
    std::ofstream b(bad);
    b << "##fileformat=VCFv4.2\n##contig=<ID=1,length=249250621>\n"
         "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n1\tten\t.\tA\tC\t.\t.\t.\n";
  }
  EXPECT_EQ(RunCommand({OncomeshBinary(), "ingest", "vcf", "--dir", node, "--assembly", "GRCh37",
                        "--strict-references", vcf + "/spec-v4.3.bcf", bad},
                       &out),
            1);
  EXPECT_NE(out.find("REFUSED " + vcf + "/spec-v4.3.bcf"), std::string::npos) << out;
  EXPECT_NE(out.find("sample 'NA00003': no individual"), std::string::npos) << out;
  EXPECT_NE(out.find(bad + ":4: POS 'ten' is not a positive number"), std::string::npos) << out;
  EXPECT_NE(out.find("0 file(s) ingested, 2 refused"), std::string::npos) << out;

  // Bad usage.
  EXPECT_NE(RunCommand({OncomeshBinary(), "ingest", "vcf", "--dir", node, "--assembly", "hg19",
                        vcf + "/spec-v4.3.bcf"},
                       &out),
            0);
}

}  // namespace
}  // namespace oncomesh::testing
