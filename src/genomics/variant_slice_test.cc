// The slicer against the htslib tools: for many regions, the records in the concatenated parts
// are exactly what `bcftools view -r` returns on the source file, and no part holds a byte of a
// record outside the region.
#include "genomics/variant_slice.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "support/process.h"
#include "support/suite_fixture.h"
#include "support/variant_files.h"

namespace oncomesh::genomics {
namespace {

using testing::DecompressBgzf;
using testing::RecordsOfRegion;
using testing::RecordsOfStream;
using testing::Shell;
using testing::ShellQuote;
using testing::TempDir;

std::string ReadRange(const std::string& path, int64_t offset, int64_t length) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(offset);
  std::string out(static_cast<size_t>(length), '\0');
  in.read(out.data(), length);
  EXPECT_EQ(in.gcount(), length);
  return out;
}

// The response as a client gets it: every part's bytes, in order.
std::string Concatenate(const std::string& path, const Slice& slice) {
  std::string out;
  for (const SlicePart& p : slice.parts) {
    out += p.is_range() ? ReadRange(path, p.file_offset, p.length) : p.bytes;
  }
  return out;
}

SliceRequest Region(const std::string& name, std::optional<int64_t> start = std::nullopt,
                    std::optional<int64_t> end = std::nullopt) {
  SliceRequest r;
  r.regions.push_back({name, start, end});
  return r;
}

// bcftools' region for htsget's [start, end): 1-based, closed.
std::string BcftoolsRegion(const GenomicRegion& r) {
  if (!r.start && !r.end) return r.reference_name;
  return r.reference_name + ":" + std::to_string(r.start.value_or(0) + 1) + "-" +
         std::to_string(*r.end);
}

class VariantSliceTest : public ::oncomesh::testing::SuiteFixture<VariantSliceTest> {
  friend class ::oncomesh::testing::SuiteFixture<VariantSliceTest>;  // calls SetUpSuite

 protected:
  static void SetUpSuite() {
    dir_ = new TempDir();
    const std::string shared = testing::SharedDir() + "/data/vcf/";
    std::string out;
    // Copies, with an index beside each (spec-v4.3.bcf ships without one).
    ASSERT_EQ(Shell("cp " + shared + "spec-v4.3.vcf.gz " + shared + "spec-v4.3.vcf.gz.tbi " +
                        shared + "spec-v4.3.bcf " + shared + "candig-test.vcf.gz " + shared +
                        "candig-test.vcf.gz.tbi " + ShellQuote(dir_->path()) +
                        " && bcftools index " + ShellQuote(dir_->path() + "/spec-v4.3.bcf"),
                    &out),
              0);
    ASSERT_EQ(testing::MakeLargeVariantFiles(dir_->path()), "");
  }
  static void TearDownTestSuite() { delete dir_; }

  static std::string File(const std::string& name) { return dir_->path() + "/" + name; }

  // The parts for `request` hold exactly bcftools' records for the same region.
  // Returns the number of records served.
  static int64_t ExpectSameRecords(const std::string& file, const SliceRequest& request,
                                   const SliceOptions& options = {}) {
    Result<Slice> slice = SliceVariantFile(file, request, options);
    if (!slice.ok()) {
      ADD_FAILURE() << slice.status().ToString();
      return 0;
    }
    const std::string bytes = Concatenate(file, *slice);
    if (bytes.size() < 28 || bytes.substr(bytes.size() - 28) != BgzfEofBlock()) {
      ADD_FAILURE() << "the response does not end with the BGZF EOF block";
    }
    const std::string got = RecordsOfStream(bytes, dir_->path());
    const std::string want = RecordsOfRegion(file, BcftoolsRegion(request.regions.at(0)));
    EXPECT_EQ(got, want) << file << " " << BcftoolsRegion(request.regions.at(0));
    EXPECT_EQ(slice->records, std::count(want.begin(), want.end(), '\n'));
    return slice->records;
  }

  static TempDir* dir_;
};

TempDir* VariantSliceTest::dir_ = nullptr;

TEST_F(VariantSliceTest, FormatsAreDetected) {
  EXPECT_EQ(*DetectVariantFormat(File("spec-v4.3.vcf.gz")), VariantFormat::kVcf);
  EXPECT_EQ(*DetectVariantFormat(File("spec-v4.3.bcf")), VariantFormat::kBcf);
  EXPECT_FALSE(DetectVariantFormat(testing::SharedDir() + "/data/vcf/index.vcf").ok());
}

TEST_F(VariantSliceTest, SpecExampleRegionsMatchBcftools) {
  for (const char* f : {"spec-v4.3.vcf.gz", "spec-v4.3.bcf"}) {
    SCOPED_TRACE(f);
    ExpectSameRecords(File(f), Region("20"));
    ExpectSameRecords(File(f), Region("20", 14369, 17330));
    ExpectSameRecords(File(f), Region("20", 14369, 14370));  // POS 14370 exactly
    ExpectSameRecords(File(f), Region("20", 14368, 14369));  // just before it: nothing
    ExpectSameRecords(File(f), Region("20", 1234567, 1234568));
    ExpectSameRecords(File(f), Region("20", 1234568, 1234570));  // inside the GTC deletion
    ExpectSameRecords(File(f), Region("20", 0, 4294967295));
  }
}

TEST_F(VariantSliceTest, WholeFileHasEveryRecordAndHeaderOnlyOnlyTheHeader) {
  for (const char* f :
       {"spec-v4.3.vcf.gz", "spec-v4.3.bcf", "candig-test.vcf.gz", "big.vcf.gz", "big.bcf"}) {
    SCOPED_TRACE(f);
    Result<Slice> whole = SliceVariantFile(File(f), SliceRequest{});
    ASSERT_TRUE(whole.ok()) << whole.status().ToString();
    std::string all;
    ASSERT_EQ(Shell("bcftools view -H " + ShellQuote(File(f)), &all), 0);
    EXPECT_EQ(RecordsOfStream(Concatenate(File(f), *whole), dir_->path()), all);
    EXPECT_TRUE(whole->parts.front().header);

    SliceRequest header_only;
    header_only.header_only = true;
    Result<Slice> header = SliceVariantFile(File(f), header_only);
    ASSERT_TRUE(header.ok()) << header.status().ToString();
    for (const SlicePart& p : header->parts) EXPECT_TRUE(p.header);
    const std::string bytes = Concatenate(File(f), *header);
    EXPECT_EQ(bytes.substr(bytes.size() - 28), BgzfEofBlock());
    EXPECT_EQ(RecordsOfStream(bytes, dir_->path()), "");
    // Exactly the stored header: the same bytes as the source's decompressed prefix.
    const std::string header_text = DecompressBgzf(bytes, dir_->path());
    const std::string source =
        DecompressBgzf(ReadRange(File(f), 0, std::filesystem::file_size(File(f))), dir_->path());
    EXPECT_EQ(source.substr(0, header_text.size()), header_text);
    std::string want_header, got_header;
    Shell("bcftools view -h --no-version " + ShellQuote(File(f)), &want_header);
    const std::string tmp = dir_->path() + "/hdr.bin";
    std::ofstream(tmp, std::ios::binary) << bytes;
    Shell("bcftools view -h --no-version " + ShellQuote(tmp), &got_header);
    EXPECT_EQ(got_header, want_header);
  }
}

TEST_F(VariantSliceTest, CandigRegionsMatchBcftools) {
  std::string names;
  ASSERT_EQ(Shell("tabix -l " + ShellQuote(File("candig-test.vcf.gz")), &names), 0);
  std::istringstream in(names);
  std::string name;
  std::mt19937 rng(3);
  while (std::getline(in, name)) {
    ExpectSameRecords(File("candig-test.vcf.gz"), Region(name));
    std::string positions;
    Shell("bcftools query -f '%POS\\n' -r " + ShellQuote(name) + " " +
              ShellQuote(File("candig-test.vcf.gz")),
          &positions);
    std::vector<int64_t> pos;
    std::istringstream ps(positions);
    for (int64_t p; ps >> p;) pos.push_back(p);
    for (int i = 0; i < 8 && !pos.empty(); ++i) {
      const int64_t a = pos[rng() % pos.size()] - 1 + static_cast<int64_t>(rng() % 3) - 1;
      const int64_t b =
          std::max<int64_t>(a + 1, pos[rng() % pos.size()] + static_cast<int64_t>(rng() % 3) - 1);
      ExpectSameRecords(File("candig-test.vcf.gz"), Region(name, std::max<int64_t>(a, 0), b));
    }
  }
}

TEST_F(VariantSliceTest, RandomRegionsOfALargeFileMatchBcftools) {
  std::mt19937 rng(11);
  for (const char* f : {"big.vcf.gz", "big.bcf", "big.aligned.vcf.gz"}) {
    SCOPED_TRACE(f);
    int64_t served = 0, nonempty = 0;
    for (int i = 0; i < 40; ++i) {
      const std::string chrom = rng() % 2 ? "1" : "2";
      const int64_t start = rng() % 330000;
      const int64_t length = 1 + (i % 4 == 0 ? rng() % 150000 : rng() % 8000);
      // Small parts too, so splitting is exercised.
      SliceOptions options;
      if (i % 5 == 0) {
        options.max_range_bytes = 70000;
        options.max_inline_bytes = 3000;
      }
      const int64_t n = ExpectSameRecords(File(f), Region(chrom, start, start + length), options);
      if (::testing::Test::HasFailure()) return;
      served += n;
      nonempty += n > 0;
    }
    EXPECT_GT(served, 2000);  // the regions are not trivially empty
    EXPECT_GT(nonempty, 30);
    ExpectSameRecords(File(f), Region("1"));
    ExpectSameRecords(File(f), Region("2", 0, 4294967295));
  }
}

TEST_F(VariantSliceTest, InnerBlocksOfALargeRegionAreServedAsRanges) {
  for (const char* f : {"big.vcf.gz", "big.bcf", "big.aligned.vcf.gz"}) {
    Result<Slice> slice = SliceVariantFile(File(f), Region("1", 30000, 250000));
    ASSERT_TRUE(slice.ok());
    int64_t ranged = 0, inline_body = 0;
    for (const SlicePart& p : slice->parts) {
      if (p.is_range()) {
        ranged += p.size();
      } else if (!p.header) {
        inline_body += p.size();
      }
    }
    // Most of the region's bytes are stored blocks; only its edges are re-encoded.
    EXPECT_GT(ranged, 2 * inline_body) << f;
    EXPECT_GT(inline_body, 0) << f;
  }
}

TEST_F(VariantSliceTest, ErrorsForUnknownSequencesAndBadRanges) {
  EXPECT_EQ(SliceVariantFile(File("spec-v4.3.vcf.gz"), Region("21")).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(SliceVariantFile(File("spec-v4.3.bcf"), Region("chr20")).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(SliceVariantFile(File("spec-v4.3.vcf.gz"), Region("20", 10, 5)).status().code(),
            StatusCode::kInvalidArgument);
  // start == end is a legal, empty range: header and EOF only.
  Result<Slice> empty = SliceVariantFile(File("spec-v4.3.vcf.gz"), Region("20", 14369, 14369));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(RecordsOfStream(Concatenate(File("spec-v4.3.vcf.gz"), *empty), dir_->path()), "");
  // No index: refused, not scanned.
  std::string out;
  Shell("cp " + ShellQuote(File("spec-v4.3.vcf.gz")) + " " + ShellQuote(File("noindex.vcf.gz")),
        &out);
  EXPECT_EQ(SliceVariantFile(File("noindex.vcf.gz"), Region("20")).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(VariantSliceTest, SeveralRegionsAreMergedAndEachRecordServedOnce) {
  SliceRequest r;
  r.regions = {{"2", 5000, 90000}, {"1", 100000, 130000}, {"1", 120000, 160000}};
  Result<Slice> slice = SliceVariantFile(File("big.vcf.gz"), r);
  ASSERT_TRUE(slice.ok());
  std::string want;
  Shell("bcftools view -H -r 1:100001-160000,2:5001-90000 " + ShellQuote(File("big.vcf.gz")),
        &want);
  EXPECT_EQ(RecordsOfStream(Concatenate(File("big.vcf.gz"), *slice), dir_->path()), want);
}

// Records just outside both edges of a region share BGZF blocks with records inside it; no part
// of the response may hold a byte of them.
TEST_F(VariantSliceTest, NoRecordOutsideTheRegionReachesAnyPart) {
  const std::string text = File("edges.vcf");
  {
    std::ofstream out(text);
    out << "##fileformat=VCFv4.2\n##contig=<ID=7,length=100000>\n"
           "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n";
    for (int pos = 1000; pos < 1100; ++pos) {
      out << "7\t" << pos << "\t" << (pos < 1040 || pos >= 1060 ? "OUTSIDE_" : "inside_") << pos
          << "\tA\tC\t.\t.\t.\n";
    }
  }
  std::string sh;
  ASSERT_EQ(
      Shell("bgzip -f " + ShellQuote(text) + " && tabix -p vcf " + ShellQuote(text + ".gz") +
                " && bcftools view -Ob -o " + ShellQuote(File("edges.bcf")) + " " +
                ShellQuote(text + ".gz") + " && bcftools index " + ShellQuote(File("edges.bcf")),
            &sh),
      0);
  for (const std::string& f : {text + ".gz", File("edges.bcf")}) {
    SCOPED_TRACE(f);
    // The whole file is one block, holding records on both sides.
    Result<Slice> slice = SliceVariantFile(f, Region("7", 1039, 1059));  // POS 1040..1059
    ASSERT_TRUE(slice.ok());
    std::string all;
    for (const SlicePart& p : slice->parts) {
      const std::string plain = DecompressBgzf(
          p.is_range() ? ReadRange(f, p.file_offset, p.length) : p.bytes, dir_->path());
      EXPECT_EQ(plain.find("OUTSIDE"), std::string::npos);
      all += plain;
    }
    for (int pos = 1040; pos < 1060; ++pos) {
      EXPECT_NE(all.find("inside_" + std::to_string(pos)), std::string::npos) << pos;
    }
    EXPECT_EQ(slice->records, 20);
  }
}

// A long deletion that overlaps the region is followed, in the same blocks, by records that do
// not: the decoded check keeps them out even where the blocks lie inside the record run.
TEST_F(VariantSliceTest, ALongDeletionDoesNotPullInTheRecordsAfterIt) {
  const std::string text = File("longdel.vcf");
  {
    std::ofstream out(text);
    out << "##fileformat=VCFv4.2\n##contig=<ID=3,length=1000000>\n"
           "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n";
    out << "3\t100\tBIGDEL\t" << std::string(60000, 'A') << "\tA\t.\t.\t.\n";
    for (int pos = 101; pos < 3000; ++pos) {
      out << "3\t" << pos << "\t" << (pos >= 2000 ? "inside_" : "OUTSIDE_") << pos
          << "\tA\tC\t.\t.\t.\n";
    }
    out << "3\t70000\tIN_AFTER\tA\tC\t.\t.\t.\n";
  }
  std::string sh;
  ASSERT_EQ(
      Shell("bgzip -f " + ShellQuote(text) + " && tabix -p vcf " + ShellQuote(text + ".gz"), &sh),
      0);
  // [1999, 2000) overlaps BIGDEL (100..60099) and POS 2000 only; [60000, 80000) BIGDEL and
  // IN_AFTER.
  for (auto [start, end] : {std::pair<int64_t, int64_t>{1999, 2000}, {60000, 80000}}) {
    Result<Slice> slice = SliceVariantFile(text + ".gz", Region("3", start, end));
    ASSERT_TRUE(slice.ok());
    std::string all;
    for (const SlicePart& p : slice->parts) {
      const std::string plain = DecompressBgzf(
          p.is_range() ? ReadRange(text + ".gz", p.file_offset, p.length) : p.bytes, dir_->path());
      EXPECT_EQ(plain.find("OUTSIDE"), std::string::npos);
      all += plain;
    }
    EXPECT_NE(all.find("BIGDEL"), std::string::npos);
    ExpectSameRecords(text + ".gz", Region("3", start, end));
  }
}

}  // namespace
}  // namespace oncomesh::genomics
