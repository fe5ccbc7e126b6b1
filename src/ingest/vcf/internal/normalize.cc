#include "ingest/vcf/internal/normalize.h"

#include <cctype>

namespace oncomesh::ingest::vcf_internal {
namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::optional<NormalizedAllele> NormalizeAllele(int64_t position, std::string_view ref_in,
                                                std::string_view alt_in, int64_t info_end) {
  if (ref_in.empty() || alt_in.empty() || alt_in == "." || alt_in == "*") return std::nullopt;
  NormalizedAllele a;
  a.position = position;
  a.ref = Upper(ref_in);
  if (alt_in.front() == '<') {
    // Symbolic allele, VCF 4.3 section 1.4.5.
    const size_t close = alt_in.find('>');
    if (close == std::string_view::npos) return std::nullopt;
    std::string name = Upper(alt_in.substr(1, close - 1));
    const std::string type = name.substr(0, name.find(':'));
    if (type != "DEL" && type != "DUP" && type != "INV" && type != "CNV" && type != "INS") {
      return std::nullopt;  // <*>, <NON_REF>, <X>: not a variant
    }
    a.alt = std::string(alt_in);
    a.variant_type = type;
    a.end = info_end > 0 ? info_end : position + static_cast<int64_t>(a.ref.size()) - 1;
    return a;
  }
  if (alt_in.find_first_of("[]") != std::string_view::npos) {  // breakend, VCF 4.3 5.4
    a.alt = std::string(alt_in);
    a.variant_type = "BND";
    a.end = position;
    return a;
  }
  a.alt = Upper(alt_in);
  if (a.alt == a.ref) return std::nullopt;
  std::string& ref = a.ref;
  std::string& alt = a.alt;
  // 2. Shared suffix.
  size_t suffix = 0;
  while (ref.size() - suffix > 1 && alt.size() - suffix > 1 &&
         ref[ref.size() - 1 - suffix] == alt[alt.size() - 1 - suffix]) {
    ++suffix;
  }
  ref.resize(ref.size() - suffix);
  alt.resize(alt.size() - suffix);
  // 3. Shared prefix.
  size_t prefix = 0;
  while (ref.size() - prefix > 1 && alt.size() - prefix > 1 && ref[prefix] == alt[prefix]) {
    ++prefix;
  }
  ref.erase(0, prefix);
  alt.erase(0, prefix);
  a.position += static_cast<int64_t>(prefix);
  // 4. Type and end.
  if (ref.size() == alt.size()) {
    a.variant_type = ref.size() == 1 ? "SNP" : "MNP";
  } else if (ref.size() == 1 && alt.front() == ref.front()) {
    a.variant_type = "INS";
  } else if (alt.size() == 1 && ref.front() == alt.front()) {
    a.variant_type = "DEL";
  } else {
    a.variant_type = "INDEL";
  }
  a.end = a.position + static_cast<int64_t>(ref.size()) - 1;
  return a;
}

std::string CanonicalChromosome(std::string_view chrom) {
  if (chrom.size() > 3 &&
      (StartsWith(chrom, "chr") || StartsWith(chrom, "Chr") || StartsWith(chrom, "CHR"))) {
    chrom.remove_prefix(3);
  }
  if (chrom == "M") return "MT";
  return std::string(chrom);
}

}  // namespace oncomesh::ingest::vcf_internal
