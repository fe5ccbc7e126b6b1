#include "support/variant_files.h"

#include <htslib/bgzf.h>
#include <htslib/hts.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string_view>

namespace oncomesh::testing {

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

int Shell(const std::string& command, std::string* out) {
  const std::string full = "(" + command + ") 2>/dev/null";
  FILE* pipe = popen(full.c_str(), "r");
  if (!pipe) return -1;
  char buf[4096];
  size_t n;
  out->clear();
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out->append(buf, n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string MakeLargeVariantFiles(const std::string& dir) {
  std::mt19937 rng(20261129);
  const char* bases = "ACGT";
  auto random_bases = [&](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += bases[rng() % 4];
    return s;
  };
  const std::string text = dir + "/big.vcf";
  {
    std::ofstream out(text);
    out << "##fileformat=VCFv4.2\n"
        << "##contig=<ID=1,length=1000000>\n##contig=<ID=2,length=1000000>\n"
        << "##ALT=<ID=DEL,Description=\"Deletion\">\n"
        << "##INFO=<ID=END,Number=1,Type=Integer,Description=\"End position\">\n"
        << "##INFO=<ID=DP,Number=1,Type=Integer,Description=\"Depth\">\n"
        << "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
        << "##FORMAT=<ID=DP,Number=1,Type=Integer,Description=\"Depth\">\n"
        << "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT";
    for (int s = 0; s < 16; ++s) out << "\tS" << s;
    out << "\n";
    int id = 0;
    for (const char* chrom : {"1", "2"}) {
      int64_t pos = 1000;
      for (int i = 0; i < 3000; ++i) {
        pos += 1 + static_cast<int64_t>(rng() % 200);
        std::string ref = random_bases(1), alt, info = "DP=" + std::to_string(rng() % 90);
        const int kind = static_cast<int>(rng() % 40);
        if (kind == 0) {  // a long deletion, REF spelled out
          ref = random_bases(300 + static_cast<int>(rng() % 2500));
          alt = ref.substr(0, 1);
        } else if (kind == 1) {  // a symbolic deletion whose span comes from INFO/END
          alt = "<DEL>";
          info += ";END=" + std::to_string(pos + 1000 + rng() % 5000);
        } else {
          alt = std::string(1, bases[(std::string("ACGT").find(ref[0]) + 1 + rng() % 3) % 4]);
        }
        out << chrom << '\t' << pos << "\tv" << id++ << '\t' << ref << '\t' << alt << "\t50\tPASS\t"
            << info << "\tGT:DP";
        for (int s = 0; s < 16; ++s)
          out << '\t' << (rng() % 2) << '/' << (rng() % 2) << ':' << rng() % 60;
        out << '\n';
      }
    }
  }
  std::string out;
  const std::string q = ShellQuote(dir);
  if (Shell("bgzip -f " + q + "/big.vcf && tabix -f -p vcf " + q + "/big.vcf.gz", &out) != 0) {
    return "bgzip/tabix failed";
  }
  if (Shell("bcftools view -Ob -o " + q + "/big.bcf " + q + "/big.vcf.gz && bcftools index -f " +
                q + "/big.bcf",
            &out) != 0) {
    return "bcftools view -Ob / index failed";
  }
  // htslib's own writer ends blocks on record boundaries (bgzip does not).
  if (Shell("bcftools view -Oz -o " + q + "/big.aligned.vcf.gz " + q +
                "/big.vcf.gz && tabix -f -p vcf " + q + "/big.aligned.vcf.gz",
            &out) != 0) {
    return "bcftools view -Oz / tabix failed";
  }
  return "";
}

std::string RecordsOfStream(const std::string& bytes, const std::string& scratch_dir) {
  static std::atomic<int> counter{0};
  const std::string file = scratch_dir + "/stream-" + std::to_string(counter++);
  std::ofstream(file, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  std::string out;
  if (Shell("bcftools view -H " + ShellQuote(file), &out) != 0) return "<bcftools failed>";
  std::remove(file.c_str());
  return out;
}

std::string RecordsOfRegion(const std::string& file, const std::string& region) {
  std::string out;
  if (Shell("bcftools view -H -r " + ShellQuote(region) + " " + ShellQuote(file), &out) != 0) {
    return "<bcftools failed>";
  }
  return out;
}

std::string DecompressBgzf(const std::string& bytes, const std::string& scratch_dir) {
  static std::atomic<int> counter{0};
  const std::string file = scratch_dir + "/part-" + std::to_string(counter++) + ".gz";
  std::ofstream(file, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  std::string out;
  hts_set_log_level(HTS_LOG_ERROR);  // a part alone lacks the EOF block; that is expected
  BGZF* fp = bgzf_open(file.c_str(), "r");
  if (!fp) return "<not BGZF>";
  char buf[65536];
  ssize_t n;
  while ((n = bgzf_read(fp, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  if (n < 0) out += "<read error>";
  bgzf_close(fp);
  std::remove(file.c_str());
  return out;
}

std::string HtsgetIdOfIngest(const std::string& ingest_output) {
  static constexpr std::string_view kMark = "; htsget id ";
  std::string id;
  for (size_t at = ingest_output.find(kMark); at != std::string::npos;
       at = ingest_output.find(kMark, at + 1)) {
    if (!id.empty()) return "";
    const size_t start = at + kMark.size();
    id = ingest_output.substr(start, ingest_output.find_first_of(" \n", start) - start);
  }
  return id;
}

}  // namespace oncomesh::testing
