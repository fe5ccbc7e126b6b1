// Reference facts about the human genome that genomic queries need: the names of the
// GRCh37/GRCh38 chromosomes (RefSeq accessions), gene spans for `geneId` queries, and known
// cancer variants with their gene and protein change for `aminoacidChange` and HGVS queries.
// Loaded once from the tables under data/genes/ (compiled in; each names its source).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace oncomesh::genomics {

struct GeneSpan {
  std::string symbol;  // HGNC symbol
  std::string assembly;
  std::string chrom;
  int64_t start = 0;  // 1-based, inclusive
  int64_t end = 0;    // 1-based, inclusive
};

struct KnownVariant {
  std::string gene;
  std::string protein;  // one-letter form Beacon's aminoacidChange uses: "V600E"
  std::string hgvs_p;   // "p.Val600Glu"
  std::string hgvs_c;   // "NM_004333.6:c.1799T>A"
  std::string assembly, chrom;
  int64_t position = 0;  // VCF convention
  std::string ref, alt;
};

class GenomeReference {
 public:
  // The tables compiled into the binary. Aborts if they are malformed (a build defect).
  static const GenomeReference& Get();

  // "GRCh38" for "GRCh38", "GRCh38.p14", "hg38", "GCF_000001405.40"…; "GRCh37" likewise
  // (hg19, b37, GCF_000001405.25); nullopt when not recognised.
  static std::optional<std::string> NormalizeAssembly(std::string_view name);

  // A chromosome name without "chr" and with "M" as "MT": "chr17" -> "17".
  static std::string NormalizeChrom(std::string_view name);

  // Resolves a Beacon referenceName: a chromosome name ("17", "chr17") or a RefSeq accession
  // ("NC_000017.11", "refseq:NC_000017.11", which also fixes the assembly unless both
  // assemblies share it, as they share the mitochondrion's NC_012920.1). Returns {assembly or
  // "" when the name does not say, chrom}; nullopt for an unknown accession.
  std::optional<std::pair<std::string, std::string>> ResolveSequence(std::string_view name) const;

  // The RefSeq accession of a chromosome, or "" when unknown.
  std::string RefSeqAccession(const std::string& assembly, const std::string& chrom) const;

  // A gene's span on an assembly (symbols compared case-insensitively); nullptr when the table
  // has no span for it there.
  const GeneSpan* FindGene(std::string_view symbol, const std::string& assembly) const;
  // The gene whose span holds the position, or nullptr.
  const GeneSpan* GeneAt(const std::string& assembly, const std::string& chrom,
                         int64_t position) const;
  // True when the assembly has any gene spans at all.
  bool HasGenes(const std::string& assembly) const;

  // The known variant with these normalised coordinates, or nullptr.
  const KnownVariant* FindKnown(const std::string& assembly, const std::string& chrom,
                                int64_t position, const std::string& ref,
                                const std::string& alt) const;
  const std::vector<KnownVariant>& known_variants() const { return known_; }

 private:
  GenomeReference() = default;
  std::vector<GeneSpan> genes_;
  std::vector<KnownVariant> known_;
  std::map<std::string, std::pair<std::string, std::string>>
      by_accession_;  // NC_… -> (assembly, chrom)
  std::map<std::pair<std::string, std::string>, std::string> accession_of_;
};

}  // namespace oncomesh::genomics
