// The kept copy: header re-encoded, data blocks copied, index built from the records as read.
// Checked with the htslib tools on real files: the copy's records are the source's, and every
// region bcftools reads through the copy's index (.tbi or .csi) is the same as through the
// source's.
#include "ingest/vcf/internal/kept_copy.h"

#include <gtest/gtest.h>
#include <htslib/bgzf.h>
#include <htslib/vcf.h>

#include <filesystem>
#include <random>

#include "support/process.h"
#include "support/suite_fixture.h"
#include "support/variant_files.h"
#include "synth/genomes.h"

namespace oncomesh::ingest::vcf_internal {
namespace {

namespace fs = std::filesystem;
using testing::RecordsOfRegion;
using testing::Shell;
using testing::ShellQuote;

class KeptCopyTest : public ::oncomesh::testing::SuiteFixture<KeptCopyTest> {
  friend class ::oncomesh::testing::SuiteFixture<KeptCopyTest>;  // calls SetUpSuite

 protected:
  static void SetUpSuite() {
    dir_ = new testing::TempDir();
    const std::string shared = testing::SharedDir() + "/data/vcf/";
    std::string out;
    ASSERT_EQ(Shell("cp " + shared + "spec-v4.3.vcf.gz " + shared + "spec-v4.3.vcf.gz.tbi " +
                        shared + "spec-v4.3.bcf " + shared + "candig-test.vcf.gz " + shared +
                        "candig-test.vcf.gz.tbi " + ShellQuote(dir_->path()),
                    &out),
              0);
    ASSERT_EQ(testing::MakeLargeVariantFiles(dir_->path()), "");
    // Sparse and large enough for the coarser CSI bins: 60,000 sites over the genome.
    synth::internal::GenomeOptions options;
    options.site = "kc";
    options.path = File("sparse.vcf.gz");
    options.sites = 60000;
    options.key = 3;
    std::vector<synth::internal::GenomeSubject> subjects(4);
    for (int i = 0; i < 4; ++i) subjects[static_cast<size_t>(i)].number = i + 1;
    ASSERT_TRUE(synth::internal::WriteGenomes(options, subjects).ok());
    // A BCF of it whose header ends inside a block, as bcftools writes BCF.
    ASSERT_EQ(Shell("bcftools view --no-version -Ob -o " + ShellQuote(File("sparse.bcf")) + " " +
                        ShellQuote(File("sparse.vcf.gz")) + " && bcftools index -f " +
                        ShellQuote(File("sparse.bcf")) + " && bcftools index -f " +
                        ShellQuote(File("spec-v4.3.bcf")),
                    &out),
              0);
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string File(const std::string& name) { return dir_->path() + "/" + name; }

  // Copies `name` the way the VCF ingest does: Write, then every record pushed as read.
  // Returns the status of the first failing step.
  static Status Copy(
      const std::string& name, const std::string& dst,
      const KeptCopy::HeaderFilter& filter = [](std::string&) { return true; }) {
    const std::string src = File(name);
    htsFile* fp = hts_open(src.c_str(), "r");
    if (fp == nullptr) return NotFound(src);
    const bool is_bcf = hts_get_format(fp)->format == bcf;
    bcf_hdr_t* hdr = bcf_hdr_read(fp);
    bcf1_t* rec = bcf_init();
    Result<std::unique_ptr<KeptCopy>> copy = KeptCopy::Write(src, dst, is_bcf, filter);
    Status status = copy.status();
    while (status.ok() && bcf_read(fp, hdr, rec) == 0) {
      status = (*copy)->Push(rec->rid, bcf_seqname(hdr, rec), rec->pos, rec->pos + rec->rlen,
                             static_cast<uint64_t>(bgzf_tell(fp->fp.bgzf)));
    }
    if (status.ok()) status = (*copy)->Finish(static_cast<uint64_t>(bgzf_tell(fp->fp.bgzf)));
    bcf_destroy(rec);
    bcf_hdr_destroy(hdr);
    hts_close(fp);
    return status;
  }

  // Contig names and lengths of a file's header.
  static std::vector<std::pair<std::string, int64_t>> Contigs(const std::string& path) {
    std::vector<std::pair<std::string, int64_t>> out;
    htsFile* fp = hts_open(path.c_str(), "r");
    bcf_hdr_t* hdr = bcf_hdr_read(fp);
    for (int i = 0; i < hdr->n[BCF_DT_CTG]; ++i) {
      const bcf_idinfo_t* info = hdr->id[BCF_DT_CTG][i].val;
      out.emplace_back(hdr->id[BCF_DT_CTG][i].key,
                       info && info->info[0] > 0 ? info->info[0] : 250'000'000);
    }
    bcf_hdr_destroy(hdr);
    hts_close(fp);
    return out;
  }

  // The copy holds the source's records, and random regions (plus each whole contig) read
  // through its index hold the same records as through the source's.
  static void ExpectSameRegions(const std::string& source, const std::string& copy, int regions) {
    std::string a, b;
    ASSERT_EQ(Shell("bcftools view -H " + ShellQuote(source), &a), 0);
    ASSERT_EQ(Shell("bcftools view -H " + ShellQuote(copy), &b), 0);
    EXPECT_EQ(a, b);
    std::mt19937_64 rng(17);
    for (const auto& [name, length] : Contigs(source)) {
      EXPECT_EQ(RecordsOfRegion(copy, name), RecordsOfRegion(source, name)) << name;
    }
    const auto contigs = Contigs(source);
    for (int i = 0; i < regions; ++i) {
      const auto& [name, length] = contigs[rng() % contigs.size()];
      const int64_t start = 1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(length));
      const int64_t width = i % 3 == 0 ? 1 : static_cast<int64_t>(rng() % 2'000'000);
      const std::string region =
          name + ":" + std::to_string(start) + "-" + std::to_string(start + width);
      EXPECT_EQ(RecordsOfRegion(copy, region), RecordsOfRegion(source, region)) << region;
    }
  }

  static testing::TempDir* dir_;
};

testing::TempDir* KeptCopyTest::dir_ = nullptr;

TEST_F(KeptCopyTest, VcfAndBcfCopiesReadTheSameThroughTheirIndexes) {
  struct Case {
    std::string name;
    std::string index;  // the index the copy gets
  };
  for (const Case& c : std::vector<Case>{{"spec-v4.3.vcf.gz", ".tbi"},
                                         {"spec-v4.3.bcf", ".csi"},
                                         {"candig-test.vcf.gz", ".tbi"},
                                         {"big.vcf.gz", ".tbi"},
                                         {"big.aligned.vcf.gz", ".tbi"},
                                         {"big.bcf", ".csi"},
                                         {"sparse.vcf.gz", ".csi"},
                                         {"sparse.bcf", ".csi"}}) {
    SCOPED_TRACE(c.name);
    const std::string dst = File("copies/" + c.name);
    const Status st = Copy(c.name, dst);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_TRUE(fs::exists(dst + c.index));
    EXPECT_FALSE(fs::exists(dst + (c.index == ".tbi" ? ".csi" : ".tbi")));
    ExpectSameRegions(File(c.name), dst, 25);
    std::string out;
    EXPECT_EQ(Shell("bgzip -t " + ShellQuote(dst), &out), 0);  // whole blocks, EOF marker
  }
}

TEST_F(KeptCopyTest, TheHeaderIsTheFilteredOne) {
  const std::string dst = File("copies/filtered.bcf");
  const Status st = Copy("spec-v4.3.bcf", dst, [](std::string& line) {
    if (line.rfind("##source", 0) == 0) return false;
    if (line.rfind("#CHROM", 0) == 0) {
      for (const char* name : {"NA00001", "NA00002", "NA00003"}) {
        line.replace(line.find(name), std::string(name).size(), std::string("S-") + (name + 4));
      }
    }
    return true;
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::string samples, header;
  ASSERT_EQ(Shell("bcftools query -l " + ShellQuote(dst), &samples), 0);
  EXPECT_EQ(samples, "S-001\nS-002\nS-003\n");
  ASSERT_EQ(Shell("bcftools view -h " + ShellQuote(dst), &header), 0);
  EXPECT_EQ(header.find("##source"), std::string::npos);
  ExpectSameRegions(File("spec-v4.3.bcf"), dst, 10);
}

TEST_F(KeptCopyTest, UnsortedRecordsAndTruncatedFilesAreRefused) {
  const std::string src = File("big.vcf.gz");
  auto copy = KeptCopy::Write(src, File("copies/unsorted.vcf.gz"), false,
                              [](std::string&) { return true; });
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_TRUE((*copy)->Push(0, "1", 1000, 1001, 1 << 16).ok());
  Status st = (*copy)->Push(0, "1", 999, 1000, 2 << 16);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("not sorted"), std::string::npos) << st.message();
  EXPECT_TRUE((*copy)->Push(0, "2", 5, 6, 3 << 16).ok());
  st = (*copy)->Push(0, "1", 2000, 2001, 4 << 16);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("'1'"), std::string::npos) << st.message();
  KeptCopy::Remove(File("copies/unsorted.vcf.gz"));
  EXPECT_FALSE(fs::exists(File("copies/unsorted.vcf.gz")));

  std::string out;
  ASSERT_EQ(
      Shell("head -c -28 " + ShellQuote(src) + " > " + ShellQuote(File("truncated.vcf.gz")), &out),
      0);
  auto truncated = KeptCopy::Write(File("truncated.vcf.gz"), File("copies/truncated.vcf.gz"), false,
                                   [](std::string&) { return true; });
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(truncated.status().message().find("end-of-file marker"), std::string::npos);
}

}  // namespace
}  // namespace oncomesh::ingest::vcf_internal
