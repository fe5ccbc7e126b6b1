// VCF/BCF ingest driver: one file at a time, htslib reading on this thread, records streamed
// into one store transaction per file. See vcf_ingest.h for the rules.
#include "ingest/vcf/vcf_ingest.h"

#include <htslib/bgzf.h>
#include <htslib/faidx.h>
#include <htslib/hfile.h>
#include <htslib/hts.h>
#include <htslib/kseq.h>
#include <htslib/kstring.h>
#include <htslib/tbx.h>
#include <htslib/vcf.h>
#include <sys/file.h>
#include <unistd.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_set>
#include <utility>

#include "deid/pseudonym.h"
#include "ingest/vcf/internal/kept_copy.h"
#include "ingest/vcf/internal/normalize.h"
#include "model/variant_block.h"
#include "node/leftovers.h"

namespace oncomesh::ingest {
namespace fs = std::filesystem;
using vcf_internal::CanonicalChromosome;
using vcf_internal::NormalizeAllele;
using vcf_internal::NormalizedAllele;

namespace {

// A block (one store row) holds this many variants, or fewer when it reaches kBlockBytes:
// small enough that the block and SQLite's record buffer for it stay below glibc's mmap
// threshold (128 kB), so their memory is reused rather than mapped afresh for every block
// (in a virtual machine each new page costs a fault of some 15 us).
constexpr uint32_t kBlockVariants = 2048;
constexpr size_t kBlockBytes = size_t{96} * 1024;
constexpr auto kProgressInterval = std::chrono::milliseconds(250);
constexpr int64_t kGrch37Chr1 = 249250621;
constexpr int64_t kGrch38Chr1 = 248956422;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// ---- Sample map (--samples).

struct SampleMapping {
  std::string patient_id;
  std::string biosample_id;  // may be empty
};
using SampleMap = std::map<std::string, SampleMapping>;

Result<SampleMap> ReadSampleMap(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("ingest: cannot read the samples map " + path);
  SampleMap map;
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    size_t start = 0;
    for (;;) {
      const size_t tab = line.find('\t', start);
      fields.push_back(
          line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    if (number == 1 && fields[0] == "vcf_sample") continue;  // a header line
    const std::string where = path + ":" + std::to_string(number) + ": ";
    if (fields.size() < 2 || fields.size() > 3 || fields[0].empty() || fields[1].empty() ||
        (fields.size() == 3 && fields[2].empty())) {
      return InvalidArgument(where +
                             "expected vcf_sample<TAB>patient_id[<TAB>biosample_id], found " +
                             std::to_string(fields.size()) + " field(s)");
    }
    SampleMapping m{fields[1], fields.size() == 3 ? fields[2] : ""};
    if (!map.emplace(fields[0], std::move(m)).second) {
      return InvalidArgument(where + "sample '" + fields[0] + "' is mapped twice");
    }
  }
  return map;
}

// ---- Header: assembly and tumour/normal samples.

// "GRCh37", "GRCh38" or "" from free text such as a ##reference path.
std::string AssemblyInText(const std::string& text) {
  const std::string t = Lower(text);
  for (const char* k : {"grch38", "hg38", "b38", "hs38"}) {
    if (t.find(k) != std::string::npos) return "GRCh38";
  }
  for (const char* k : {"grch37", "hg19", "b37", "hs37", "_v37"}) {
    if (t.find(k) != std::string::npos) return "GRCh37";
  }
  return "";
}

std::string HrecValue(const bcf_hrec_t* h, const char* key) {
  for (int i = 0; i < h->nkeys; ++i) {
    if (std::strcmp(h->keys[i], key) == 0 && h->vals[i] != nullptr) {
      std::string v = h->vals[i];
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
  }
  return "";
}

// The file's assembly, or an error saying why it cannot be told.
Result<std::string> FileAssembly(const bcf_hdr_t* hdr, const std::string& given,
                                 const std::string& path) {
  std::string from_header;
  int64_t chr1_length = 0;
  for (int i = 0; i < hdr->nhrec; ++i) {
    const bcf_hrec_t* h = hdr->hrec[i];
    if (h->value != nullptr &&
        (std::strcmp(h->key, "reference") == 0 || std::strcmp(h->key, "assembly") == 0)) {
      if (from_header.empty()) from_header = AssemblyInText(h->value);
    }
    if (h->type == BCF_HL_CTG) {
      const std::string id = HrecValue(h, "ID");
      if (from_header.empty()) from_header = AssemblyInText(HrecValue(h, "assembly"));
      if (id == "1" || id == "chr1") {
        const std::string length = HrecValue(h, "length");
        if (!length.empty()) chr1_length = std::strtoll(length.c_str(), nullptr, 10);
      }
    }
  }
  const std::string from_length = chr1_length == kGrch37Chr1   ? "GRCh37"
                                  : chr1_length == kGrch38Chr1 ? "GRCh38"
                                                               : "";
  std::string assembly = !given.empty() ? given : !from_header.empty() ? from_header : from_length;
  if (assembly.empty()) {
    return InvalidArgument(path +
                           ": cannot tell the assembly (no ##reference or ##assembly naming "
                           "GRCh37/hg19/b37 or GRCh38/hg38, and no contig 1 of a known "
                           "length); give it with --assembly GRCh37|GRCh38");
  }
  if (!from_length.empty() && from_length != assembly) {
    return InvalidArgument(path + ": contig " + (chr1_length ? "1" : "") + " has length " +
                           std::to_string(chr1_length) + ", which is " + from_length + "'s, not " +
                           assembly + "'s");
  }
  return assembly;
}

enum class SampleRole { kUnknown, kTumour, kNormal };

bool NameEndsWithWord(const std::string& lower, const std::string& word) {
  if (lower == word) return true;
  if (!EndsWith(lower, word) || lower.size() == word.size()) return false;
  const char sep = lower[lower.size() - word.size() - 1];
  return sep == '_' || sep == '-' || sep == '.';
}

std::vector<SampleRole> SampleRoles(const bcf_hdr_t* hdr) {
  const int n = bcf_hdr_nsamples(hdr);
  std::vector<SampleRole> roles(static_cast<size_t>(n), SampleRole::kUnknown);
  auto set_role = [&](const std::string& name, SampleRole role) {
    const int i = bcf_hdr_id2int(hdr, BCF_DT_SAMPLE, name.c_str());
    if (i >= 0 && i < n) roles[static_cast<size_t>(i)] = role;
  };
  bool found = false;
  // 1. Mutect2's ##tumor_sample / ##normal_sample.
  for (int i = 0; i < hdr->nhrec; ++i) {
    const bcf_hrec_t* h = hdr->hrec[i];
    if (h->value == nullptr) continue;
    const std::string key = Lower(h->key);
    if (key == "tumor_sample" || key == "tumour_sample") {
      set_role(h->value, SampleRole::kTumour);
      found = true;
    } else if (key == "normal_sample") {
      set_role(h->value, SampleRole::kNormal);
      found = true;
    }
  }
  if (found) return roles;
  // 2. ##SAMPLE=<ID=...,Genomes=...,Description=...>.
  for (int i = 0; i < hdr->nhrec; ++i) {
    const bcf_hrec_t* h = hdr->hrec[i];
    if (Lower(h->key) != "sample" || h->value != nullptr) continue;
    std::string id, rest;
    for (int k = 0; k < h->nkeys; ++k) {
      if (std::strcmp(h->keys[k], "ID") == 0) {
        id = h->vals[k] ? h->vals[k] : "";
      } else if (h->vals[k] != nullptr) {
        rest += Lower(h->vals[k]) + " ";
      }
    }
    if (rest.find("tumor") != std::string::npos || rest.find("tumour") != std::string::npos ||
        rest.find("cancer") != std::string::npos) {
      set_role(id, SampleRole::kTumour);
      found = true;
    } else if (rest.find("normal") != std::string::npos ||
               rest.find("germline") != std::string::npos) {
      set_role(id, SampleRole::kNormal);
      found = true;
    }
  }
  if (found) return roles;
  // 3. Two samples named as a tumour/normal pair.
  if (n == 2) {
    auto role_by_name = [&](int i) {
      const std::string name = Lower(hdr->samples[i]);
      if (NameEndsWithWord(name, "tumor") || NameEndsWithWord(name, "tumour")) {
        return SampleRole::kTumour;
      }
      if (NameEndsWithWord(name, "normal")) return SampleRole::kNormal;
      return SampleRole::kUnknown;
    };
    const SampleRole a = role_by_name(0), b = role_by_name(1);
    if ((a == SampleRole::kTumour && b == SampleRole::kNormal) ||
        (a == SampleRole::kNormal && b == SampleRole::kTumour)) {
      roles[0] = a;
      roles[1] = b;
    }
  }
  return roles;
}

// ---- Reference FASTA.

class Reference {
 public:
  static Result<std::unique_ptr<Reference>> Open(const std::string& path) {
    if (!fs::exists(path)) return NotFound("ingest: reference FASTA not found: " + path);
    faidx_t* fai = fai_load3(path.c_str(), nullptr, nullptr, FAI_CREATE);
    if (fai == nullptr) {
      return InvalidArgument("ingest: cannot read the reference FASTA " + path +
                             " (nor build its .fai index)");
    }
    auto r = std::unique_ptr<Reference>(new Reference(fai));
    return r;
  }
  ~Reference() { fai_destroy(fai_); }
  Reference(const Reference&) = delete;
  Reference& operator=(const Reference&) = delete;

  // The reference's name for a VCF contig, or "" if it has none.
  const std::string& NameFor(const std::string& chrom) {
    auto it = names_.find(chrom);
    if (it != names_.end()) return it->second;
    const std::string canonical = CanonicalChromosome(chrom);
    std::vector<std::string> candidates = {chrom, canonical, "chr" + canonical};
    if (canonical == "MT") candidates.push_back("chrM");
    std::string found;
    for (const std::string& c : candidates) {
      if (faidx_has_seq(fai_, c.c_str())) {
        found = c;
        break;
      }
    }
    return names_.emplace(chrom, found).first->second;
  }

  // Bases [pos0, pos0 + length) of `name`, upper case; shorter when past the end.
  std::string Fetch(const std::string& name, int64_t pos0, int64_t length) const {
    hts_pos_t len = 0;
    char* seq = faidx_fetch_seq64(fai_, name.c_str(), pos0, pos0 + length - 1, &len);
    std::string out;
    if (seq != nullptr && len > 0) out.assign(seq, static_cast<size_t>(len));
    std::free(seq);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
  }

 private:
  explicit Reference(faidx_t* fai) : fai_(fai) {}
  faidx_t* fai_;
  std::map<std::string, std::string> names_;
};

bool RefMatches(std::string_view vcf_ref, std::string_view reference) {
  if (vcf_ref.size() != reference.size()) return false;
  for (size_t i = 0; i < vcf_ref.size(); ++i) {
    const char a = static_cast<char>(std::toupper(static_cast<unsigned char>(vcf_ref[i])));
    if (a != 'N' && a != reference[i]) return false;
  }
  return true;
}

// ---- htslib handles.

struct HtsCloser {
  void operator()(htsFile* f) const { hts_close(f); }
};
struct HdrCloser {
  void operator()(bcf_hdr_t* h) const { bcf_hdr_destroy(h); }
};
struct RecCloser {
  void operator()(bcf1_t* r) const { bcf_destroy(r); }
};

Result<std::string> FileSha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Unavailable("ingest: cannot open " + path + ": " + std::strerror(errno));
  deid::Sha256 sha;
  std::vector<char> buf(size_t{64} * 1024);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    sha.Update(buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return Unavailable("ingest: reading " + path + " failed");
  return sha.HexDigest();
}

// The header of a VCF file, parsed by htslib from its lines, leaving `fp` at the first data
// line. Not bcf_hdr_read: for a bgzipped VCF it also loads the file's tabix index to add
// contigs the header does not declare (60 ms for the 1-MB index of 200,000 records), and
// this ingest refuses undeclared contigs when any are declared anyway. Null when the lines
// end before #CHROM or htslib cannot parse them.
bcf_hdr_t* ReadVcfHeader(htsFile* fp) {
  std::string text;
  bool complete = false;
  while (hts_getline(fp, KS_SEP_LINE, &fp->line) >= 0) {
    const std::string_view line(fp->line.s, fp->line.l);
    if (line.empty() || line[0] != '#') break;
    text.append(line);
    text.push_back('\n');
    if (line.rfind("#CHROM", 0) == 0) {
      complete = true;
      break;
    }
  }
  if (!complete) return nullptr;
  bcf_hdr_t* hdr = bcf_hdr_init("r");
  if (hdr != nullptr && bcf_hdr_parse(hdr, text.data()) != 0) {
    bcf_hdr_destroy(hdr);
    return nullptr;
  }
  return hdr;
}

std::string ParseErrorReason(int errcode) {
  std::string r;
  auto add = [&](const char* s) { r += r.empty() ? s : std::string("; ") + s; };
  if (errcode & BCF_ERR_NCOLS) add("wrong number of columns");
  if (errcode & BCF_ERR_LIMITS) add("a value exceeds htslib's limits");
  if (errcode & BCF_ERR_CHAR) add("invalid characters");
  if (errcode & BCF_ERR_CTG_INVALID) add("invalid contig name");
  if (errcode & BCF_ERR_TAG_INVALID) add("invalid INFO or FORMAT tag");
  if (r.empty())
    r = "not a valid VCF record (htslib could not parse a column; check the "
        "FORMAT fields and genotypes)";
  return r;
}

// First columns of a VCF data line, checked before htslib parses it: htslib reads POS "abc"
// as -1 and a record on an undeclared contig silently adds the contig. Called once a line:
// no allocation unless the line is wrong or names a new contig.
class VcfLineChecker {
 public:
  explicit VcfLineChecker(std::unordered_set<std::string> declared)
      : declared_(std::move(declared)) {}

  // `where` names the line in an error.
  Status Check(const kstring_t& line, const std::function<std::string()>& where) {
    const std::string_view text(line.s, line.l);
    std::string_view cols[8];
    size_t n = 0, start = 0;
    while (n < 8) {
      const size_t tab = text.find('\t', start);
      cols[n++] =
          text.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start);
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (n < 8) {
      return InvalidArgument(where() + ": expected at least 8 tab-separated columns, found " +
                             std::to_string(n));
    }
    if (cols[0].empty()) return InvalidArgument(where() + ": CHROM is empty");
    const std::string_view pos = cols[1];
    // At most 18 digits, so the value fits in int64_t; nothing is accumulated past a bad one.
    bool digits = !pos.empty() && pos.size() <= 18;
    int64_t value = 0;
    for (size_t i = 0; digits && i < pos.size(); ++i) {
      digits = pos[i] >= '0' && pos[i] <= '9';
      if (digits) value = value * 10 + (pos[i] - '0');
    }
    if (!digits || value < 1) {
      return InvalidArgument(where() + ": POS '" + std::string(pos) + "' is not a positive number");
    }
    if (!declared_.empty() && cols[0] != last_contig_) {
      if (!declared_.count(std::string(cols[0]))) {
        return InvalidArgument(
            where() + ": contig '" + std::string(cols[0]) +
            "' is not declared in the header (no ##contig=<ID=" + std::string(cols[0]) + ">)");
      }
      last_contig_.assign(cols[0]);
    }
    if (cols[3].empty() || cols[4].empty()) {
      return InvalidArgument(where() + ": REF or ALT is empty");
    }
    return Status::Ok();
  }

 private:
  std::unordered_set<std::string> declared_;
  std::string last_contig_;
};

// The sample columns carrying each ALT allele of one record, from its GT field as htslib
// keeps it (BCF-encoded integers of the record's width; no copy into int32). An encoded GT
// value is (allele + 1) << 1 | phased, so a value >= 4 is a copy of an ALT allele; missing
// alleles (0, 1) and the vector end (negative) are below.
class GenotypeReader {
 public:
  // carriers[a] for ALT allele a (1-based; [0] unused); `somatic(s)` decides a call's origin.
  template <typename SomaticFn>
  static void Read(const bcf_fmt_t& gt, int nsamples, int n_allele,
                   std::vector<std::vector<model::VariantCarrier>>& carriers,
                   const SomaticFn& somatic) {
    switch (gt.type) {
      case BCF_BT_INT8:
        ReadInt8(gt, nsamples, n_allele, carriers, somatic);
        break;
      case BCF_BT_INT16:
        for (int s = 0; s < nsamples; ++s) {
          Sample<int16_t>(gt, s, n_allele, bcf_int16_vector_end, carriers, somatic);
        }
        break;
      case BCF_BT_INT32:
        for (int s = 0; s < nsamples; ++s) {
          Sample<int32_t>(gt, s, n_allele, bcf_int32_vector_end, carriers, somatic);
        }
        break;
      default:
        break;  // GT is always an integer vector; anything else carries nothing
    }
  }

 private:
  // Most genotypes are homozygous reference: find the bytes >= 4 sixteen at a time (SSE2,
  // part of every x86-64), and look closer only at the samples they belong to.
  template <typename SomaticFn>
  static void ReadInt8(const bcf_fmt_t& gt, int nsamples, int n_allele,
                       std::vector<std::vector<model::VariantCarrier>>& carriers,
                       const SomaticFn& somatic) {
    const auto* p = reinterpret_cast<const int8_t*>(gt.p);
    const auto size = static_cast<uint32_t>(gt.size);
    const size_t n = size_t{size} * static_cast<size_t>(nsamples);
    const bool diploid = gt.n == 2 && size == 2;
    int last = -1;
    auto visit = [&](size_t byte) {
      const int s = static_cast<int>(diploid ? byte >> 1 : static_cast<uint32_t>(byte) / size);
      if (s == last) return;
      last = s;
      if (diploid) {
        Diploid(p[ptrdiff_t{2} * s], p[ptrdiff_t{2} * s + 1], s, n_allele, carriers, somatic);
      } else {
        Sample<int8_t>(gt, s, n_allele, bcf_int8_vector_end, carriers, somatic);
      }
    };
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i three = _mm_set1_epi8(3);
    for (; i + 16 <= n; i += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
      auto mask = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpgt_epi8(v, three)));
      while (mask != 0) {
        visit(i + static_cast<size_t>(__builtin_ctz(mask)));
        mask &= mask - 1;
      }
    }
#endif
    for (; i < n; ++i) {
      if (p[i] > 3) visit(i);
    }
  }

  // The common case: two alleles a sample (the second may be the vector end: haploid).
  template <typename SomaticFn>
  static void Diploid(int8_t g0, int8_t g1, int s, int n_allele,
                      std::vector<std::vector<model::VariantCarrier>>& carriers,
                      const SomaticFn& somatic) {
    const int a0 = bcf_gt_is_missing(g0) ? -1 : bcf_gt_allele(g0);
    if (g1 == bcf_int8_vector_end) {
      if (a0 > 0 && a0 < n_allele) Add(carriers, a0, s, model::Zygosity::kHemizygous, somatic);
      return;
    }
    const int a1 = bcf_gt_is_missing(g1) ? -1 : bcf_gt_allele(g1);
    if (a0 == a1) {
      if (a0 > 0 && a0 < n_allele) Add(carriers, a0, s, model::Zygosity::kHomozygous, somatic);
      return;
    }
    if (a0 > 0 && a0 < n_allele) Add(carriers, a0, s, model::Zygosity::kHeterozygous, somatic);
    if (a1 > 0 && a1 < n_allele) Add(carriers, a1, s, model::Zygosity::kHeterozygous, somatic);
  }

  template <typename SomaticFn>
  static void Add(std::vector<std::vector<model::VariantCarrier>>& carriers, int allele, int s,
                  model::Zygosity zygosity, const SomaticFn& somatic) {
    carriers[static_cast<size_t>(allele)].push_back(
        {static_cast<uint32_t>(s), zygosity,
         somatic(s) ? model::VariantOrigin::kSomatic : model::VariantOrigin::kGermline});
  }

  template <typename T, typename SomaticFn>
  static void Sample(const bcf_fmt_t& gt, int s, int n_allele, T vector_end,
                     std::vector<std::vector<model::VariantCarrier>>& carriers,
                     const SomaticFn& somatic) {
    // BCF packs values without alignment: read each through memcpy, not a T pointer.
    const uint8_t* g = gt.p + static_cast<size_t>(s) * gt.size;
    int alleles[64];
    int ploidy = 0;
    bool any = false;
    for (int k = 0; k < gt.n; ++k) {
      T value;
      std::memcpy(&value, g + static_cast<size_t>(k) * sizeof(T), sizeof(T));
      if (value == vector_end) break;
      const int allele = bcf_gt_is_missing(value) ? -1 : bcf_gt_allele(value);
      if (ploidy < 64) alleles[ploidy++] = allele;
      any |= allele > 0 && allele < n_allele;
    }
    if (!any) return;
    for (int k = 0; k < ploidy; ++k) {
      const int a = alleles[k];
      if (a <= 0 || a >= n_allele) continue;
      bool earlier = false;
      int copies = 0;
      for (int j = 0; j < ploidy; ++j) {
        if (alleles[j] != a) continue;
        if (j < k) earlier = true;
        ++copies;
      }
      if (earlier) continue;
      Add(carriers, a, s,
          ploidy == 1        ? model::Zygosity::kHemizygous
          : copies == ploidy ? model::Zygosity::kHomozygous
                             : model::Zygosity::kHeterozygous,
          somatic);
    }
  }
};

// Reads a BCF file's records on a thread of its own, a few batches ahead of the caller:
// decompressing and copying them (bcf_read) is half of the work of ingesting BCF. Reading
// BCF never changes the header, so the caller may use the header meanwhile. (VCF text is not
// read ahead: htslib's parser adds undeclared tags to the header as it meets them.)
class BcfReadAhead {
 public:
  BcfReadAhead(htsFile* fp, bcf_hdr_t* hdr) : fp_(fp), hdr_(hdr) {
    for (Batch& b : batches_) {
      for (bcf1_t*& r : b.records) r = bcf_init();
      free_.push_back(&b);
    }
    thread_ = std::thread([this] { Run(); });
  }
  ~BcfReadAhead() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
    for (Batch& b : batches_) {
      for (bcf1_t* r : b.records) bcf_destroy(r);
    }
  }
  BcfReadAhead(const BcfReadAhead&) = delete;
  BcfReadAhead& operator=(const BcfReadAhead&) = delete;

  // The next record and the file's virtual offset after it; false at the end, with `*status`
  // bcf_read's last result (-1 at the end of the file, below -1 for an error).
  bool Next(bcf1_t** record, uint64_t* end_offset, int* status) {
    if (current_ != nullptr && next_ == current_->count && current_->status != 0) {
      *status = current_->status;  // the batch that ended the file (the thread has stopped)
      return false;
    }
    if (current_ == nullptr || next_ == current_->count) {
      std::unique_lock<std::mutex> lock(mu_);
      if (current_ != nullptr) {
        free_.push_back(current_);
        changed_.notify_all();
      }
      changed_.wait(lock, [&] { return !full_.empty(); });
      current_ = full_.front();
      full_.pop_front();
      next_ = 0;
    }
    if (next_ == current_->count) {
      *status = current_->status;
      return false;
    }
    *record = current_->records[next_];
    *end_offset = current_->offsets[next_];
    ++next_;
    return true;
  }

 private:
  static constexpr int kBatch = 512;
  struct Batch {
    bcf1_t* records[kBatch];
    uint64_t offsets[kBatch];
    int count = 0;
    int status = 0;  // bcf_read's result that ended the batch early (0: full)
  };

  void Run() {
    for (;;) {
      Batch* b;
      {
        std::unique_lock<std::mutex> lock(mu_);
        changed_.wait(lock, [&] { return stop_ || !free_.empty(); });
        if (stop_) return;
        b = free_.front();
        free_.pop_front();
      }
      b->count = 0;
      b->status = 0;
      while (b->count < kBatch) {
        const int ret = bcf_read(fp_, hdr_, b->records[b->count]);
        if (ret != 0) {
          b->status = ret;
          break;
        }
        b->offsets[b->count++] = static_cast<uint64_t>(bgzf_tell(fp_->fp.bgzf));
      }
      const bool last = b->status != 0;
      {
        std::lock_guard<std::mutex> lock(mu_);
        full_.push_back(b);
      }
      changed_.notify_all();
      if (last) return;
    }
  }

  htsFile* fp_;
  bcf_hdr_t* hdr_;
  Batch batches_[4];
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Batch*> free_, full_;
  bool stop_ = false;
  Batch* current_ = nullptr;
  int next_ = 0;
  std::thread thread_;
};

// Sample name as in the file -> its pseudonym in the kept copy.
using PseudonymOf = std::map<std::string, std::string>;

// One sample column, as it will be stored.
struct Sample {
  std::string name;        // as in the file
  std::string patient_id;  // source system's id; empty when not mapped
  std::string individual_id;
  std::string biosample_id;
  bool linked = false;  // individual in the store
  SampleRole role = SampleRole::kUnknown;
  std::string report_key;  // for skipped_unresolved_subjects
};

class VcfIngester {
 public:
  VcfIngester(const node::NodeDir& node, store::Store& store, const VcfIngestOptions& options,
              const SampleMap* samples_map, Reference* reference, std::string reference_path)
      : node_(node),
        store_(store),
        options_(options),
        samples_map_(samples_map),
        reference_(reference),
        reference_path_(std::move(reference_path)) {}

  FileOutcome IngestFile(const std::string& path, IngestReport& report) {
    FileOutcome outcome;
    outcome.path = path;
    std::map<std::string, int64_t> unresolved;
    Result<store::IngestCounts> counts = Ingest(path, outcome, unresolved);
    if (!counts.ok()) {
      outcome.status = counts.status();
      outcome.served_as.clear();
      return outcome;
    }
    outcome.records_added = counts->added;
    outcome.records_skipped = counts->skipped;
    outcome.already_ingested = counts->file_already_ingested;
    for (const auto& [k, v] : unresolved) report.skipped_unresolved_subjects[k] += v;
    return outcome;
  }

 private:
  // Resolves the header's samples; fails with strict_references if one cannot be linked.
  Result<std::vector<Sample>> ResolveSamples(const bcf_hdr_t* hdr, const std::string& path,
                                             std::map<std::string, int64_t>& unresolved) {
    const std::vector<SampleRole> roles = SampleRoles(hdr);
    const deid::Pseudonymizer& p = node_.pseudonymizer();
    std::vector<Sample> samples;
    for (int i = 0; i < bcf_hdr_nsamples(hdr); ++i) {
      Sample s;
      s.name = hdr->samples[i];
      s.role = roles[static_cast<size_t>(i)];
      std::string specimen;
      if (samples_map_ != nullptr) {
        auto it = samples_map_->find(s.name);
        if (it != samples_map_->end()) {
          s.patient_id = it->second.patient_id;
          specimen = it->second.biosample_id;
        }
      } else {
        s.patient_id = s.name;
      }
      if (s.patient_id.empty()) {
        s.report_key = path + ": sample " + s.name + " (not in the samples map)";
        if (options_.strict_references) {
          return InvalidArgument(path + ": sample '" + s.name + "' is not in the samples map " +
                                 options_.samples_map);
        }
      } else {
        s.individual_id = p.IndividualPseudonym(s.patient_id);
        ASSIGN_OR_RETURN(s.linked, store_.HasIndividual(s.individual_id));
        s.report_key = path + ": sample " + s.name +
                       (s.patient_id == s.name ? "" : " (patient " + s.patient_id + ")");
        if (!s.linked && options_.strict_references) {
          return InvalidArgument(path + ": sample '" + s.name +
                                 "': no individual with patient id '" + s.patient_id +
                                 "' in the store (ingest the clinical data first, "
                                 "or map the sample with --samples)");
        }
        s.biosample_id = !specimen.empty() ? p.Pseudonym("Specimen", specimen)
                                           : p.Pseudonym("VcfSample", s.patient_id + '\0' + s.name);
      }
      if (!s.linked) unresolved[s.report_key] += 0;
      samples.push_back(std::move(s));
    }
    return samples;
  }

  // VcfIngestOptions::relink for a file ingested before (`file_id`): a sample row and biosample
  // for each sample column that has none and now names a patient (a samples map given now);
  // the calls of every column are in the file's blocks already. Recorded as a source file of
  // its own (the file's digest and the new links), so the same relink adds nothing twice.
  Result<store::IngestCounts> Relink(const std::string& path, const std::string& sha256,
                                     const std::string& file_id,
                                     std::map<std::string, int64_t>& unresolved) {
    std::unique_ptr<htsFile, HtsCloser> fp(hts_open(path.c_str(), "r"));
    if (!fp) return Unavailable("ingest: cannot open " + path + ": " + std::strerror(errno));
    const bool is_bcf = hts_get_format(fp.get())->format == bcf;
    std::unique_ptr<bcf_hdr_t, HdrCloser> hdr(is_bcf ? bcf_hdr_read(fp.get())
                                                     : ReadVcfHeader(fp.get()));
    if (!hdr) return InvalidArgument(path + ": cannot read the header");
    ASSIGN_OR_RETURN(std::vector<Sample> samples, ResolveSamples(hdr.get(), path, unresolved));
    std::set<uint32_t> have;
    RETURN_IF_ERROR(store_.ScanVariantSamples(0, [&](store::Seq, const model::VariantSample& s) {
      if (s.file_id == file_id) have.insert(s.column);
    }));
    model::RecordBatch batch;
    std::string links = "relink\n" + sha256 + "\n";
    for (uint32_t i = 0; i < samples.size(); ++i) {
      const Sample& s = samples[i];
      if (s.individual_id.empty() || have.count(i) > 0) continue;
      model::Biosample b;
      b.id = s.biosample_id;
      b.individual_id = s.individual_id;
      b.tumour = s.role == SampleRole::kTumour;
      batch.biosamples.push_back(std::move(b));
      batch.variant_samples.push_back({file_id, i, s.individual_id, s.biosample_id});
      links += std::to_string(i) + "\t" + s.individual_id + "\n";
    }
    store::IngestCounts counts;
    counts.file_already_ingested = true;
    if (batch.variant_samples.empty()) return counts;
    ASSIGN_OR_RETURN(std::unique_ptr<store::IngestTransaction> txn,
                     store_.BeginIngest({"(name withheld) vcf links", "", "vcf-links"}));
    RETURN_IF_ERROR(txn->Add(batch));
    return txn->Commit(deid::Sha256Hex(links));
  }

  // `src_offset`: for BGZF input the virtual offset after the last record handled (its
  // compressed part is the bytes read; the read-ahead thread owns the file meanwhile), else 0
  // and the file's position is asked.
  void Progress(const std::string& path, htsFile* fp, uint64_t src_offset, uint64_t total,
                int64_t records, bool force) {
    if (!options_.progress) return;
    const auto now = std::chrono::steady_clock::now();
    if (!force && now - last_progress_ < kProgressInterval) return;
    last_progress_ = now;
    uint64_t done = src_offset >> 16;
    if (src_offset == 0) {
      hFILE* h = (fp->format.format == bcf || fp->format.compression != no_compression)
                     ? fp->fp.bgzf->fp
                     : fp->fp.hfile;
      done = h != nullptr ? static_cast<uint64_t>(std::max<off_t>(htell(h), 0)) : 0;
    }
    options_.progress(path, force ? total : done, total, records);
  }

  Result<store::IngestCounts> Ingest(const std::string& path, FileOutcome& outcome,
                                     std::map<std::string, int64_t>& unresolved) {
    ASSIGN_OR_RETURN(const std::string sha256, FileSha256(path));
    ASSIGN_OR_RETURN(bool known, store_.HasSourceFile(sha256));
    if (known) {
      ASSIGN_OR_RETURN(std::vector<model::VariantFile> files, store_.ListVariantFiles());
      for (const model::VariantFile& f : files) {
        if (f.content_sha256 == sha256) outcome.served_as = f.id;
      }
      if (options_.relink && !outcome.served_as.empty()) {
        return Relink(path, sha256, outcome.served_as, unresolved);
      }
      store::IngestCounts counts;
      counts.file_already_ingested = true;
      return counts;
    }
    std::error_code ec;
    const uint64_t total = fs::file_size(path, ec);

    std::unique_ptr<htsFile, HtsCloser> fp(hts_open(path.c_str(), "r"));
    if (!fp) return Unavailable("ingest: cannot open " + path + ": " + std::strerror(errno));
    const htsFormat format = *hts_get_format(fp.get());
    if (format.format != vcf && format.format != bcf) {
      char* d = hts_format_description(&format);
      const std::string desc = d ? d : "unknown";
      std::free(d);
      return InvalidArgument(path + ": not a VCF or BCF file (htslib reads it as " + desc + ")");
    }
    const bool is_bcf = format.format == bcf;
    if (format.compression == bgzf && hts_check_EOF(fp.get()) == 0) {
      return InvalidArgument(path +
                             ": truncated bgzip file (the BGZF end-of-file marker is "
                             "missing)");
    }
    std::unique_ptr<bcf_hdr_t, HdrCloser> hdr(is_bcf ? bcf_hdr_read(fp.get())
                                                     : ReadVcfHeader(fp.get()));
    if (!hdr) {
      return InvalidArgument(path + ":" + std::to_string(fp->lineno + 1) +
                             (format.compression != no_compression
                                  ? ": cannot read the header (truncated or corrupt compressed "
                                    "data)"
                                  : ": cannot read the VCF header"));
    }
    ASSIGN_OR_RETURN(const std::string assembly, FileAssembly(hdr.get(), options_.assembly, path));
    std::unordered_set<std::string> declared;
    for (int i = 0; i < hdr->n[BCF_DT_CTG]; ++i) {
      // IDX= in a ##contig line can leave holes (modhdr.vcf.gz declares only IDX=1).
      const char* name = hdr->id[BCF_DT_CTG][i].key;
      if (name != nullptr) declared.insert(name);
    }
    VcfLineChecker line_checker(std::move(declared));
    ASSIGN_OR_RETURN(std::vector<Sample> samples, ResolveSamples(hdr.get(), path, unresolved));
    const int nsamples = static_cast<int>(samples.size());
    int normal_index = -1;
    for (int i = 0; i < nsamples; ++i) {
      if (samples[static_cast<size_t>(i)].role == SampleRole::kNormal) normal_index = i;
    }

    // The htsget id: a keyed digest of the content, never the file's name (a name can carry
    // a sample's or a patient's: candig-NA18537.vcf.gz). The store keeps no name either.
    // Unique among the node's files (lookups see this transaction's records).
    const std::string id_base = node_.pseudonymizer().Pseudonym("VariantFile", sha256);
    ASSIGN_OR_RETURN(std::unique_ptr<store::IngestTransaction> txn,
                     store_.BeginIngest({is_bcf ? "(name withheld) bcf" : "(name withheld) vcf", "",
                                         is_bcf ? "bcf" : "vcf"}));
    std::string file_id = id_base;
    for (int n = 2;; ++n) {
      Result<model::VariantFile> existing = store_.FindVariantFile(file_id);
      if (!existing.ok() && existing.status().code() == StatusCode::kNotFound) break;
      if (!existing.ok()) return existing.status();
      file_id = id_base + "-" + std::to_string(n);
    }

    outcome.served_as = file_id;
    const deid::Pseudonymizer& pseudonymizer = node_.pseudonymizer();
    {
      model::RecordBatch head;
      for (int i = 0; i < nsamples; ++i) {
        const Sample& s = samples[static_cast<size_t>(i)];
        // A sample whose individual is not in the store yet is kept too: its column, biosample
        // and calls count once that individual's clinical data are ingested (the link is the
        // individual's pseudonym, the same from FHIR). Only a sample without a patient id
        // (not in the samples map) links to no one.
        if (s.individual_id.empty()) continue;
        model::Biosample b;
        b.id = s.biosample_id;
        b.individual_id = s.individual_id;
        b.tumour = s.role == SampleRole::kTumour;
        head.biosamples.push_back(std::move(b));
        head.variant_samples.push_back(
            {file_id, static_cast<uint32_t>(i), s.individual_id, s.biosample_id});
      }
      RETURN_IF_ERROR(txn->Add(head));
    }

    // The kept copy. From BGZF input it is written now, block for block, and indexed from
    // the records as they are read; other input (plain or gzip VCF, uncompressed BCF) is
    // compressed and indexed after the read.
    model::VariantFile file;
    file.id = file_id;
    file.format = is_bcf ? "BCF" : "VCF";
    file.path = "variants/" + sha256 + (is_bcf ? ".bcf" : ".vcf.gz");
    file.assembly = assembly;
    file.content_sha256 = sha256;
    file.samples = nsamples;
    const std::string copy = node_.dir() + "/" + file.path;
    PseudonymOf pseudonym_of;
    for (const Sample& s : samples) {
      pseudonym_of[s.name] = !s.biosample_id.empty()
                                 ? s.biosample_id
                                 : pseudonymizer.Pseudonym("VcfSample", '\0' + s.name);
    }
    struct CopyGuard {
      const std::string& path;
      bool keep = false;
      ~CopyGuard() {
        if (!keep) vcf_internal::KeptCopy::Remove(path);
      }
    } copy_guard{copy};
    BGZF* const bgzf_in = format.compression == bgzf ? fp->fp.bgzf : nullptr;
    std::unique_ptr<vcf_internal::KeptCopy> kept;
    if (bgzf_in != nullptr) {
      Result<std::unique_ptr<vcf_internal::KeptCopy>> written = vcf_internal::KeptCopy::Write(
          path, copy, is_bcf,
          [&](std::string& line) { return DeidentifiedHeaderLine(line, pseudonym_of); });
      if (!written.ok()) {
        txn->Rollback();
        return written.status().WithContext(path);
      }
      kept = std::move(*written);
    }

    std::unique_ptr<bcf1_t, RecCloser> own_record(bcf_init());
    bcf1_t* rec = own_record.get();  // or the read-ahead's
    uint64_t end_offset = 0;         // the source's virtual offset after `rec`
    int64_t records = 0;
    int64_t max_end = 0;
    std::vector<std::optional<NormalizedAllele>> alleles;
    std::vector<int64_t> unlinked_calls(static_cast<size_t>(nsamples), 0);
    const bool any_unlinked =
        std::any_of(samples.begin(), samples.end(), [](const Sample& s) { return !s.linked; });
    std::vector<std::string> chrom_of_rid;  // canonical names, by the header's contig id
    model::VariantBlockEncoder encoder(assembly);
    // A record's carriers, by ALT allele.
    int ids_seen = hdr->n[BCF_DT_ID];
    int gt_id = bcf_hdr_id2int(hdr.get(), BCF_DT_ID, "GT");
    int somatic_id = bcf_hdr_id2int(hdr.get(), BCF_DT_ID, "SOMATIC");
    const auto read_carriers = [&](bcf1_t* r,
                                   std::vector<std::vector<model::VariantCarrier>>& out) {
      if (out.size() < static_cast<size_t>(r->n_allele))
        out.resize(static_cast<size_t>(r->n_allele));
      for (int a = 1; a < r->n_allele; ++a) out[static_cast<size_t>(a)].clear();
      if (nsamples == 0 || gt_id < 0) return;
      const bcf_fmt_t* gt = bcf_get_fmt_id(r, gt_id);
      if (gt == nullptr) return;
      int somatic_flag = -1;  // read from INFO at the first carrier
      GenotypeReader::Read(*gt, nsamples, r->n_allele, out, [&](int s) {
        const Sample& sample = samples[static_cast<size_t>(s)];
        if (sample.role == SampleRole::kTumour) return true;
        if (somatic_flag < 0) {
          somatic_flag = somatic_id >= 0 && bcf_unpack(r, BCF_UN_INFO) == 0 &&
                         bcf_get_info_id(r, somatic_id) != nullptr;
        }
        return somatic_flag == 1 && s != normal_index;
      });
    };
    std::vector<std::vector<model::VariantCarrier>> carriers;
    auto fail = [&](Status st) {
      txn->Rollback();
      return st;
    };
    model::RecordBatch block_batch;  // one block, its memory reused
    block_batch.variant_blocks.resize(1);
    auto flush = [&]() -> Status {
      model::VariantBlock& block = block_batch.variant_blocks[0];
      block.file_id = file_id;
      block.variants = encoder.variants();
      encoder.Take(&block.data);
      return txn->Add(block_batch);
    };

    std::optional<BcfReadAhead> read_ahead;
    if (is_bcf && bgzf_in != nullptr) read_ahead.emplace(fp.get(), hdr.get());
    for (;;) {
      // Where the record is, for errors only (built when needed).
      const auto where = [&]() -> std::string {
        if (!is_bcf) return path + ":" + std::to_string(fp->lineno);
        const char* name = bcf_seqname(hdr.get(), rec);
        return path + ": record " + std::to_string(records) + " (" + (name ? name : "?") + ":" +
               std::to_string(rec->pos + 1) + ")";
      };
      if (!is_bcf) {
        const int ret = hts_getline(fp.get(), KS_SEP_LINE, &fp->line);
        if (ret == -1) break;
        if (ret < -1) {
          return fail(
              InvalidArgument(where() + ": read error (truncated or corrupt compressed data)"));
        }
        if (fp->line.l == 0) continue;  // tolerated, as bcftools does
        Status st = line_checker.Check(fp->line, where);
        if (st.ok() && vcf_parse(&fp->line, hdr.get(), rec) < 0) {
          st = InvalidArgument(where() + ": " + ParseErrorReason(rec->errcode));
        }
        if (!st.ok()) return fail(st);
        ++records;
      } else {
        int ret = 0;
        if (read_ahead) {
          if (!read_ahead->Next(&rec, &end_offset, &ret)) ret = ret == 0 ? -1 : ret;
        } else {
          ret = bcf_read(fp.get(), hdr.get(), rec);
        }
        if (ret == -1) break;
        ++records;
        if (ret < -1) {
          return fail(InvalidArgument(path + ": record " + std::to_string(records) +
                                      ": read error (truncated or corrupt BCF data)"));
        }
      }
      if (bcf_unpack(rec, BCF_UN_STR) < 0) {
        return fail(InvalidArgument(where() + ": cannot unpack the record"));
      }
      const int64_t pos = rec->pos + 1;
      const std::string_view ref = rec->n_allele > 0 ? rec->d.allele[0] : "";
      if (reference_ != nullptr) {
        const char* chrom_name = bcf_seqname(hdr.get(), rec);
        const std::string chrom_in = chrom_name ? chrom_name : "";
        const std::string& name = reference_->NameFor(chrom_in);
        if (name.empty()) {
          return fail(InvalidArgument(where() + ": contig '" + chrom_in +
                                      "' is not in the reference FASTA " + ReferenceName()));
        }
        const std::string expected =
            reference_->Fetch(name, rec->pos, static_cast<int64_t>(ref.size()));
        if (!RefMatches(ref, expected)) {
          return fail(InvalidArgument(where() + ": REF '" + std::string(ref) +
                                      "' does not match the reference at " + chrom_in + ":" +
                                      std::to_string(pos) + " ('" + expected + "')"));
        }
      }
      if (rec->rid < 0) return fail(InvalidArgument(where() + ": no contig"));
      if (chrom_of_rid.size() <= static_cast<size_t>(rec->rid)) {
        chrom_of_rid.resize(static_cast<size_t>(rec->rid) + 1);
      }
      std::string& chrom = chrom_of_rid[static_cast<size_t>(rec->rid)];
      if (chrom.empty()) chrom = CanonicalChromosome(bcf_seqname(hdr.get(), rec));

      const int64_t info_end = rec->pos + rec->rlen;  // htslib sets rlen from INFO/END
      max_end = std::max(max_end, info_end);
      if (kept) {
        if (!read_ahead) end_offset = static_cast<uint64_t>(bgzf_tell(bgzf_in));
        Status st =
            kept->Push(rec->rid, bcf_seqname(hdr.get(), rec), rec->pos, info_end, end_offset);
        if (!st.ok()) return fail(st.WithContext(where()));
      }
      alleles.resize(static_cast<size_t>(rec->n_allele));
      bool any = false;
      for (int a = 1; a < rec->n_allele; ++a) {
        alleles[static_cast<size_t>(a)] = NormalizeAllele(pos, ref, rec->d.allele[a], info_end);
        any |= alleles[static_cast<size_t>(a)].has_value();
      }
      if (!any) continue;

      // Undeclared FORMAT and INFO tags get ids as htslib meets them: look again when the
      // header's dictionary has grown.
      if (hdr->n[BCF_DT_ID] != ids_seen) {
        ids_seen = hdr->n[BCF_DT_ID];
        gt_id = bcf_hdr_id2int(hdr.get(), BCF_DT_ID, "GT");
        somatic_id = bcf_hdr_id2int(hdr.get(), BCF_DT_ID, "SOMATIC");
      }
      read_carriers(rec, carriers);
      for (int a = 1; a < rec->n_allele; ++a) {
        const std::optional<NormalizedAllele>& n = alleles[static_cast<size_t>(a)];
        std::vector<model::VariantCarrier>& c = carriers[static_cast<size_t>(a)];
        if (!n) continue;
        // Every sample's calls are kept (the index counts those of known individuals); the
        // calls of samples not linked yet are counted for the report.
        if (any_unlinked) {
          for (const model::VariantCarrier& x : c) {
            if (!samples[x.column].linked) ++unlinked_calls[x.column];
          }
        }
        encoder.Add(chrom, n->position, n->end, n->ref, n->alt, n->variant_type, c);
      }
      if (encoder.variants() >= kBlockVariants || encoder.size_bytes() >= kBlockBytes) {
        Status st = flush();
        if (!st.ok()) return st;
      }
      if ((records & 4095) == 0) {
        const uint64_t at = read_ahead           ? end_offset
                            : bgzf_in != nullptr ? static_cast<uint64_t>(bgzf_tell(bgzf_in))
                                                 : 0;
        Progress(path, fp.get(), at, total, records, false);
      }
    }
    if (encoder.variants() > 0) RETURN_IF_ERROR(flush());
    outcome.resources = records;
    for (int i = 0; i < nsamples; ++i) {
      const Sample& s = samples[static_cast<size_t>(i)];
      if (unlinked_calls[static_cast<size_t>(i)] > 0) {
        unresolved[s.report_key] += unlinked_calls[static_cast<size_t>(i)];
      }
    }
    Progress(path, fp.get(), 0, total, records, true);

    file.records = records;
    read_ahead.reset();  // its thread has reached the end of the file
    Status st = kept ? kept->Finish(static_cast<uint64_t>(bgzf_tell(bgzf_in)))
                     : WriteCopy(path, copy, is_bcf, max_end, pseudonym_of);
    if (!st.ok()) return fail(st.WithContext(path));
    model::RecordBatch tail;
    tail.variant_files.push_back(file);
    RETURN_IF_ERROR(txn->Add(tail));
    Result<store::IngestCounts> counts = txn->Commit(sha256);
    copy_guard.keep = counts.ok() && !counts->file_already_ingested;
    return counts;
  }

  const std::string& ReferenceName() const { return reference_path_; }

  // Writes the kept copy of `src` to `dst` (BGZF VCF or BCF) and indexes it. The copy is
  // de-identified: the header's sample names become `pseudonyms` (see DeidentifiedHeader);
  // data lines are copied as they are (VCF text) or record by record (BCF).
  // `max_end`: the last position any record covers (TBI indexes positions below 2^29 only).
  static Status WriteCopy(const std::string& src, const std::string& dst, bool is_bcf,
                          int64_t max_end, const PseudonymOf& pseudonyms) {
    std::error_code ec;
    fs::create_directories(fs::path(dst).parent_path(), ec);
    if (ec)
      return Unavailable("cannot create " + fs::path(dst).parent_path().string() + ": " +
                         ec.message());
    RETURN_IF_ERROR(is_bcf ? CopyBcf(src, dst, pseudonyms) : CopyVcf(src, dst, pseudonyms));
    if (is_bcf) {
      if (bcf_index_build(dst.c_str(), 14) != 0) {
        return InvalidArgument(
            "cannot index the file for htsget (is it sorted by position? "
            "'bcftools sort' sorts it)");
      }
    } else if (tbx_index_build(dst.c_str(), max_end < (int64_t{1} << 29) ? 0 : 14, &tbx_conf_vcf) !=
               0) {
      return InvalidArgument(
          "cannot index the file for htsget (is it sorted by position? "
          "'bcftools sort' sorts it)");
    }
    return Status::Ok();
  }

  // VCF text: header lines through DeidentifiedHeaderLine, the rest byte for byte.
  static Status CopyVcf(const std::string& src, const std::string& dst,
                        const PseudonymOf& pseudonyms) {
    BGZF* in = bgzf_open(src.c_str(), "r");  // plain, gzip or BGZF
    BGZF* out = in != nullptr ? bgzf_open(dst.c_str(), "w") : nullptr;
    bool ok = in != nullptr && out != nullptr;
    kstring_t line = KS_INITIALIZE;
    bool header = true;
    while (ok) {
      const int n = bgzf_getline(in, '\n', &line);
      if (n < -1) ok = false;
      if (n < 0) break;
      std::string text(line.s, line.l);
      if (header && !text.empty() && text[0] == '#') {
        if (!DeidentifiedHeaderLine(text, pseudonyms)) continue;
      } else {
        header = false;
      }
      text.push_back('\n');
      if (bgzf_write(out, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
        ok = false;
      }
    }
    ks_free(&line);
    if (in != nullptr && bgzf_close(in) != 0) ok = false;
    if (out != nullptr && bgzf_close(out) != 0) ok = false;
    return ok ? Status::Ok() : Unavailable("cannot write the bgzipped copy " + dst);
  }

  // BCF: the header's text through DeidentifiedHeaderLine (IDX= kept, so the dictionaries
  // and the records' references into them stay the same), records copied through htslib.
  static Status CopyBcf(const std::string& src, const std::string& dst,
                        const PseudonymOf& pseudonyms) {
    std::unique_ptr<htsFile, HtsCloser> in(hts_open(src.c_str(), "r"));
    if (!in) return Unavailable("cannot reopen " + src);
    std::unique_ptr<bcf_hdr_t, HdrCloser> hdr(bcf_hdr_read(in.get()));
    if (!hdr) return Unavailable("cannot reread the header of " + src);
    kstring_t text = KS_INITIALIZE;
    if (bcf_hdr_format(hdr.get(), 1, &text) != 0) return Internal("bcf_hdr_format failed");
    std::string out_text;
    size_t start = 0;
    const std::string_view all(text.s, text.l);
    while (start < all.size()) {
      size_t nl = all.find('\n', start);
      if (nl == std::string_view::npos) nl = all.size();
      std::string line(all.substr(start, nl - start));
      start = nl + 1;
      while (!line.empty() && line.back() == '\0') line.pop_back();
      if (line.empty()) continue;
      if (DeidentifiedHeaderLine(line, pseudonyms)) out_text += line + "\n";
    }
    ks_free(&text);
    std::unique_ptr<bcf_hdr_t, HdrCloser> out_hdr(bcf_hdr_init("r"));
    std::vector<char> buf(out_text.begin(), out_text.end());
    buf.push_back('\0');
    if (!out_hdr || bcf_hdr_parse(out_hdr.get(), buf.data()) != 0) {
      return Internal("cannot build the de-identified BCF header");
    }
    std::unique_ptr<htsFile, HtsCloser> out(hts_open(dst.c_str(), "wb"));
    if (!out || bcf_hdr_write(out.get(), out_hdr.get()) != 0) {
      return Unavailable("cannot write " + dst);
    }
    std::unique_ptr<bcf1_t, RecCloser> rec(bcf_init());
    int ret = 0;
    while ((ret = bcf_read(in.get(), hdr.get(), rec.get())) >= 0) {
      if (bcf_write(out.get(), out_hdr.get(), rec.get()) != 0) {
        return Unavailable("cannot write " + dst);
      }
    }
    if (ret < -1) return InvalidArgument("cannot reread " + src);
    if (hts_close(out.release()) != 0) return Unavailable("cannot write " + dst);
    return Status::Ok();
  }

  // One header line of the kept copy, de-identified in place; false to leave it out.
  //  - #CHROM: each sample column becomes the sample's pseudonym (its biosample id);
  //  - ##tumor_sample= / ##normal_sample=: the name becomes its pseudonym;
  //  - ##SAMPLE=<...> lines (free-text descriptions of samples) and command-line provenance
  //    (##bcftools_viewCommand, ##GATKCommandLine…: paths and arguments name files, and files
  //    are often named after people) are left out.
  static bool DeidentifiedHeaderLine(std::string& line, const PseudonymOf& pseudonym_of) {
    auto pseudonym = [&](const std::string& name) {
      auto it = pseudonym_of.find(name);
      return it != pseudonym_of.end() ? it->second : std::string();
    };
    if (line.rfind("#CHROM", 0) == 0) {
      std::string out;
      size_t start = 0;
      for (int col = 0;; ++col) {
        const size_t tab = line.find('\t', start);
        std::string value = line.substr(start, tab == std::string::npos ? tab : tab - start);
        if (col >= 9) value = pseudonym(value);
        out += (col ? "\t" : "") + value;
        if (tab == std::string::npos) break;
        start = tab + 1;
      }
      line = out;
      return true;
    }
    const size_t eq = line.find('=');
    if (eq == std::string::npos) return true;
    const std::string key = Lower(line.substr(0, eq));
    if (key == "##sample" || key.find("command") != std::string::npos) return false;
    if (key == "##tumor_sample" || key == "##tumour_sample" || key == "##normal_sample") {
      const std::string p = pseudonym(line.substr(eq + 1));
      if (p.empty()) return false;
      line = line.substr(0, eq + 1) + p;
    }
    return true;
  }

  const node::NodeDir& node_;
  store::Store& store_;
  const VcfIngestOptions& options_;
  const SampleMap* samples_map_;
  Reference* reference_;
  std::string reference_path_;
  std::chrono::steady_clock::time_point last_progress_{};
};

}  // namespace

Result<IngestReport> IngestVcf(const node::NodeDir& node, store::Store& store,
                               const std::vector<std::string>& paths,
                               const VcfIngestOptions& options) {
  for (const std::string& p : paths) {
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) return NotFound("ingest: no such file: " + p);
  }
  if (!options.assembly.empty() && options.assembly != "GRCh37" && options.assembly != "GRCh38") {
    return InvalidArgument("ingest: --assembly must be GRCh37 or GRCh38, not '" + options.assembly +
                           "'");
  }
  std::optional<SampleMap> samples_map;
  if (!options.samples_map.empty()) {
    ASSIGN_OR_RETURN(samples_map, ReadSampleMap(options.samples_map));
  }
  const std::string fasta =
      !options.reference_fasta.empty() ? options.reference_fasta : node.ReferenceFastaPath();
  std::unique_ptr<Reference> reference;
  if (!fasta.empty()) {
    ASSIGN_OR_RETURN(reference, Reference::Open(fasta));
  }
  RETURN_IF_ERROR(SweepVariantLeftovers(node, store).status());
  ASSIGN_OR_RETURN(const int lock, node::LockWriters(node, "variants", LOCK_SH));
  VcfIngester ingester(node, store, options, samples_map ? &*samples_map : nullptr, reference.get(),
                       fasta);
  IngestReport report;
  for (const std::string& p : paths) report.files.push_back(ingester.IngestFile(p, report));
  ::close(lock);
  return report;
}

Result<int64_t> SweepVariantLeftovers(const node::NodeDir& node, store::Store& store) {
  ASSIGN_OR_RETURN(const int lock, node::LockWriters(node, "variants", LOCK_EX | LOCK_NB));
  if (lock < 0) return int64_t{0};  // an ingest is writing: its copy is not a leftover
  Result<std::vector<model::VariantFile>> files = store.ListVariantFiles();
  int64_t removed = 0;
  if (files.ok()) {
    std::set<std::string> kept;
    for (const model::VariantFile& f : *files) {
      for (const char* ext : {"", ".tbi", ".csi"}) kept.insert(f.path + ext);
    }
    removed = node::RemoveUnreferenced(node, "variants", kept);
  }
  ::close(lock);
  RETURN_IF_ERROR(files.status());
  return removed;
}

}  // namespace oncomesh::ingest
