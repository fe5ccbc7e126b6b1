// `oncomesh ingest vcf` as a user runs it: a real node directory, clinical data first, then
// VCFs whose samples are the patients; what it prints and its exit code.
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "node/leftovers.h"
#include "node/node_dir.h"
#include "store/store.h"
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

// The files under NODE/variants/, relative to the node ("variants/<sha>.vcf.gz").
std::set<std::string> VariantFolder(const std::string& node) {
  std::set<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(node + "/variants", ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file(ec)) out.insert("variants/" + it->path().filename().string());
  }
  return out;
}

// The kept copies the store names, with the index beside each.
std::set<std::string> ReferencedVariantFiles(const std::string& node_dir) {
  std::set<std::string> out;
  Result<node::NodeDir> node = node::NodeDir::Open(node_dir);
  EXPECT_TRUE(node.ok()) << node.status().ToString();
  if (!node.ok()) return out;
  Result<std::unique_ptr<store::Store>> store = node->OpenStore();
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return out;
  Result<std::vector<model::VariantFile>> files = (*store)->ListVariantFiles();
  EXPECT_TRUE(files.ok()) << files.status().ToString();
  if (!files.ok()) return out;
  for (const model::VariantFile& f : *files) {
    out.insert(f.path);
    for (const char* ext : {".tbi", ".csi"}) {
      if (fs::exists(node_dir + "/" + f.path + ext)) out.insert(f.path + ext);
    }
  }
  return out;
}

// A plain VCF of `records` records and 8 samples; `tag` makes its content (and so its kept
// copy's name) its own.
void WriteVcf(const std::string& path, int records, int tag) {
  std::ofstream out(path);
  out << "##fileformat=VCFv4.2\n##contig=<ID=1,length=249250621>\n##tag=" << tag
      << "\n##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
      << "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT";
  for (int s = 0; s < 8; ++s) out << "\tS" << s;
  out << "\n";
  const char* alts[] = {"C", "G", "T"};
  for (int i = 0; i < records; ++i) {
    out << "1\t" << 1000 + i * 7 << "\t.\tA\t" << alts[i % 3] << "\t50\tPASS\t.\tGT";
    for (int s = 0; s < 8; ++s) out << ((i + s) % 5 == 0 ? "\t0/1" : "\t0/0");
    out << "\n";
  }
}

// kill -9 during `ingest vcf` (issue 12, item 13) left a whole pseudonymised copy that no store
// row names. The next VCF ingest removes it: afterwards NODE/variants/ holds exactly the copies
// (and indexes) the store names.
TEST(VcfIngestCliTest, TheCopyAKilledIngestLeftIsRemovedByTheNextOne) {
  TempDir dir;
  const std::string node = dir.path() + "/node";
  std::string out;
  ASSERT_EQ(RunCommand({OncomeshBinary(), "node", "init", "--dir", node}, &out), 0) << out;
  std::set<std::string> leftovers;
  for (int attempt = 0; attempt < 8 && leftovers.empty(); ++attempt) {
    const std::string vcf = dir.path() + "/big" + std::to_string(attempt) + ".vcf";
    WriteVcf(vcf, 300000, attempt);
    const std::set<std::string> before = VariantFolder(node);
    ChildProcess ingest(
        {OncomeshBinary(), "ingest", "vcf", "--dir", node, "--assembly", "GRCh37", vcf});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (VariantFolder(node) == before && !Exited(ingest.pid()) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // polling the folder
    }
    if (Exited(ingest.pid())) continue;  // it finished first: its copy is the store's
    ASSERT_EQ(::kill(ingest.pid(), SIGKILL), 0);
    while (!Exited(ingest.pid())) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const std::set<std::string> referenced = ReferencedVariantFiles(node);
    for (const std::string& f : VariantFolder(node)) {
      if (!referenced.count(f)) leftovers.insert(f);
    }
  }
  ASSERT_FALSE(leftovers.empty()) << "no run was killed while it wrote its copy";

  ASSERT_EQ(RunCommand({OncomeshBinary(), "ingest", "vcf", "--dir", node, "--assembly", "GRCh37",
                        SharedDir() + "/data/vcf/spec-v4.3.vcf.gz"},
                       &out),
            0)
      << out;
  const std::set<std::string> referenced = ReferencedVariantFiles(node);
  EXPECT_FALSE(referenced.empty());
  EXPECT_EQ(VariantFolder(node), referenced);
}

// While an ingest holds NODE/variants.lock, its copy is not a leftover: a sweep leaves the folder
// alone, and the next one without the lock held removes what no row names.
TEST(VcfIngestCliTest, AWritingIngestsCopyIsNotSwept) {
  TempDir dir;
  const std::string node_dir = dir.path() + "/node";
  std::string out;
  ASSERT_EQ(RunCommand({OncomeshBinary(), "node", "init", "--dir", node_dir}, &out), 0) << out;
  fs::create_directories(node_dir + "/variants");
  std::ofstream(node_dir + "/variants/being-written.vcf.gz") << "partial";
  Result<node::NodeDir> node = node::NodeDir::Open(node_dir);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  Result<int> lock = node::LockWriters(*node, "variants", LOCK_SH);
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  ASSERT_GE(*lock, 0);
  const std::vector<std::string> ingest = {
      OncomeshBinary(), "ingest",     "vcf",    "--dir",
      node_dir,         "--assembly", "GRCh37", SharedDir() + "/data/vcf/spec-v4.3.vcf.gz"};
  ASSERT_EQ(RunCommand(ingest, &out), 0) << out;
  EXPECT_TRUE(VariantFolder(node_dir).count("variants/being-written.vcf.gz"));
  ::close(*lock);
  ASSERT_EQ(RunCommand(ingest, &out), 0) << out;  // already ingested; the sweep runs first
  EXPECT_FALSE(VariantFolder(node_dir).count("variants/being-written.vcf.gz"));
  EXPECT_EQ(VariantFolder(node_dir), ReferencedVariantFiles(node_dir));
}

}  // namespace
}  // namespace oncomesh::testing
