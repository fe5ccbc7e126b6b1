// `oncomesh synth` as a user runs it: the genome and image options, what it prints, a VCF that
// bcftools and tabix read, and the DICOM folders.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "support/process.h"

namespace oncomesh::testing {
namespace {

namespace fs = std::filesystem;

int CountLines(const std::string& text) {
  int n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

TEST(SynthCliTest, WritesAnIndexedVcfOfTheRequestedSizeAndSaysSo) {
  TempDir dir;
  const std::string out = dir.path() + "/site";
  std::string output;
  ASSERT_EQ(RunCommand({OncomeshBinary(), "synth", "--site", "cli", "--individuals", "300",
                        "--seed", "3", "--out", out, "--genomes", "40", "--genome-sites", "700"},
                       &output),
            0)
      << output;
  EXPECT_NE(output.find("genomes.vcf.gz"), std::string::npos) << output;
  EXPECT_NE(output.find("40 samples"), std::string::npos) << output;
  ASSERT_TRUE(fs::exists(out + "/genomes.vcf.gz.tbi"));

  std::string samples;
  ASSERT_EQ(RunCommand({"/usr/bin/bcftools", "query", "-l", out + "/genomes.vcf.gz"}, &samples), 0)
      << samples;
  EXPECT_EQ(CountLines(samples), 40);
  EXPECT_EQ(samples.rfind("cli-pat-", 0), 0u) << samples;

  std::string records;
  ASSERT_EQ(RunCommand({"/usr/bin/sh", "-c",
                        "/usr/bin/bcftools view -H " + out + "/genomes.vcf.gz | wc -l"},
                       &records),
            0);
  EXPECT_GE(std::stoi(records), 700);
  // An indexed region query over chr1 answers from the index.
  std::string chr1;
  ASSERT_EQ(RunCommand({"/usr/bin/tabix", out + "/genomes.vcf.gz", "chr1"}, &chr1), 0) << chr1;
  EXPECT_GT(CountLines(chr1), 20);
}

TEST(SynthCliTest, NoGenomesWithZero) {
  TempDir dir;
  std::string output;
  ASSERT_EQ(RunCommand({OncomeshBinary(), "synth", "--site", "cli", "--individuals", "50", "--seed",
                        "3", "--out", dir.path(), "--genomes", "0"},
                       &output),
            0)
      << output;
  EXPECT_TRUE(fs::exists(dir.path() + "/Patient.ndjson"));
  EXPECT_FALSE(fs::exists(dir.path() + "/genomes.vcf.gz"));
  EXPECT_NE(output.find("no genomes"), std::string::npos) << output;
  // More genomes than individuals is a usage error.
  EXPECT_EQ(RunCommand({OncomeshBinary(), "synth", "--site", "cli", "--individuals", "50", "--seed",
                        "3", "--out", dir.path(), "--genomes", "51"},
                       &output),
            2)
      << output;
}

TEST(SynthCliTest, HelpDocumentsTheGenomeAndImageOptions) {
  std::string output;
  RunCommand({OncomeshBinary(), "synth", "--help"}, &output);
  EXPECT_NE(output.find("--genomes"), std::string::npos) << output;
  EXPECT_NE(output.find("--genome-sites"), std::string::npos) << output;
  EXPECT_NE(output.find("--images"), std::string::npos) << output;
  EXPECT_NE(output.find("SEG"), std::string::npos) << output;
}

TEST(SynthCliTest, WritesOneDicomFolderPerStudyAndNoneWithZero) {
  TempDir dir;
  std::string output;
  ASSERT_EQ(RunCommand({OncomeshBinary(), "synth", "--site", "cli", "--individuals", "200",
                        "--seed", "3", "--out", dir.path(), "--genomes", "0", "--images", "4"},
                       &output),
            0)
      << output;
  EXPECT_NE(output.find("wrote 4 DICOM studies"), std::string::npos) << output;
  int studies = 0;
  for (const auto& study : fs::directory_iterator(dir.path() + "/dicom")) {
    ++studies;
    EXPECT_EQ(study.path().filename().string().rfind("2.25.", 0), 0u) << study.path();
    EXPECT_TRUE(fs::exists(study.path() / "SEG-0001.dcm")) << study.path();
  }
  EXPECT_EQ(studies, 4);
  ASSERT_EQ(RunCommand({OncomeshBinary(), "synth", "--site", "cli", "--individuals", "200",
                        "--seed", "3", "--out", dir.path(), "--genomes", "0", "--images", "0"},
                       &output),
            0)
      << output;
  EXPECT_NE(output.find("no DICOM studies"), std::string::npos) << output;
  EXPECT_FALSE(fs::exists(dir.path() + "/dicom"));
}

}  // namespace
}  // namespace oncomesh::testing
