#include "genomics/reference.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "util/embedded_table.h"

namespace oncomesh::genomics {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

const GenomeReference& GenomeReference::Get() {
  static const GenomeReference* reference = [] {
    auto* r = new GenomeReference;
    for (auto& f : EmbeddedTableRows("data/genes/chromosomes.tsv", 3)) {
      // An accession of both assemblies (the mitochondrion's NC_012920.1, the revised
      // Cambridge Reference Sequence in GRCh37 and GRCh38) names its chromosome, not an
      // assembly.
      const auto [it, added] = r->by_accession_.try_emplace(f[2], f[0], f[1]);
      if (!added && it->second.first != f[0]) it->second.first.clear();
      r->accession_of_[{f[0], f[1]}] = f[2];
    }
    for (auto& f : EmbeddedTableRows("data/genes/grch38_genes.tsv", 6)) {
      r->genes_.push_back({f[0], "GRCh38", f[2], std::stoll(f[3]), std::stoll(f[4])});
    }
    for (auto& f : EmbeddedTableRows("data/genes/grch38_known_variants.tsv", 8)) {
      r->known_.push_back({f[0], f[1], f[2], f[3], "GRCh38", f[4], std::stoll(f[5]), f[6], f[7]});
    }
    return r;
  }();
  return *reference;
}

std::optional<std::string> GenomeReference::NormalizeAssembly(std::string_view name) {
  const std::string n = Lower(name);
  auto starts = [&](std::string_view p) { return n.rfind(p, 0) == 0; };
  if (starts("grch38") || n == "hg38") return "GRCh38";
  if (starts("grch37") || n == "hg19" || n == "b37" || n == "hs37d5") return "GRCh37";
  // NCBI's assembly accessions: GCF_000001405.13 to .25 are GRCh37 and its patches, .26 on GRCh38.
  constexpr std::string_view kGcf = "gcf_000001405.";
  if (starts(kGcf) && n.size() > kGcf.size()) {
    const int version = std::atoi(n.c_str() + kGcf.size());
    if (version >= 26) return "GRCh38";
    if (version >= 13) return "GRCh37";
  }
  return std::nullopt;
}

std::string GenomeReference::NormalizeChrom(std::string_view name) {
  std::string_view n = name;
  if (n.size() > 3 && Lower(n.substr(0, 3)) == "chr") n.remove_prefix(3);
  if (n == "M") return "MT";
  if (n == "x") return "X";
  if (n == "y") return "Y";
  return std::string(n);
}

std::optional<std::pair<std::string, std::string>> GenomeReference::ResolveSequence(
    std::string_view name) const {
  std::string_view n = name;
  if (Lower(n.substr(0, std::min<size_t>(n.size(), 7))) == "refseq:") n.remove_prefix(7);
  if (n.rfind("NC_", 0) == 0) {
    if (n.find('.') != std::string_view::npos) {
      const auto it = by_accession_.find(std::string(n));
      if (it == by_accession_.end()) return std::nullopt;
      return it->second;
    }
    // Without a version the accession names the chromosome but not the assembly.
    for (const auto& [accession, where] : by_accession_) {
      if (accession.compare(0, accession.find('.'), n) == 0)
        return std::make_pair(std::string(), where.second);
    }
    return std::nullopt;
  }
  return std::make_pair(std::string(), NormalizeChrom(n));
}

std::string GenomeReference::RefSeqAccession(const std::string& assembly,
                                             const std::string& chrom) const {
  const auto it = accession_of_.find({assembly, chrom});
  return it == accession_of_.end() ? std::string() : it->second;
}

const GeneSpan* GenomeReference::FindGene(std::string_view symbol,
                                          const std::string& assembly) const {
  const std::string wanted = Lower(symbol);
  for (const GeneSpan& g : genes_) {
    if (g.assembly == assembly && Lower(g.symbol) == wanted) return &g;
  }
  return nullptr;
}

const GeneSpan* GenomeReference::GeneAt(const std::string& assembly, const std::string& chrom,
                                        int64_t position) const {
  for (const GeneSpan& g : genes_) {
    if (g.assembly == assembly && g.chrom == chrom && g.start <= position && position <= g.end)
      return &g;
  }
  return nullptr;
}

bool GenomeReference::HasGenes(const std::string& assembly) const {
  return std::any_of(genes_.begin(), genes_.end(),
                     [&](const GeneSpan& g) { return g.assembly == assembly; });
}

const KnownVariant* GenomeReference::FindKnown(const std::string& assembly,
                                               const std::string& chrom, int64_t position,
                                               const std::string& ref,
                                               const std::string& alt) const {
  for (const KnownVariant& k : known_) {
    if (k.assembly == assembly && k.chrom == chrom && k.position == position && k.ref == ref &&
        k.alt == alt) {
      return &k;
    }
  }
  return nullptr;
}

}  // namespace oncomesh::genomics
