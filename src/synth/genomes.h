// Internal: synthetic genomes for `oncomesh synth` — a per-site multi-sample VCF (GRCh38,
// bgzipped, tabix-indexed) whose samples are the Patient.ids of the individuals with a genome.
// Background germline variation plus known cancer variants consistent with the clinical record.
// Positions, rates and their sources: docs/synth.md ("Genomes").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "synth/case_mix.h"
#include "util/status.h"

namespace oncomesh::synth::internal {

// A GRCh38 primary-assembly sequence (GCA_000001405.15) and its length.
struct Contig {
  const char* name;  // UCSC style, as the VCF's #CHROM: "chr1"
  int64_t length;
};

// chr1..chr22: the contigs of genomes.vcf.gz, in header (and record) order.
const std::vector<Contig>& GenomeContigs();

// Where a known variant comes from in the synthetic record.
enum class VariantOrigin {
  kClinicalFinding,  // written as an mCODE genomic variant Observation; carriers are exactly those
  kSomatic,          // tumour hotspot without a clinical Observation (TP53, PIK3CA)
  kGermline,         // inherited pathogenic variant (BRCA1, BRCA2)
};

// The known cancer variants the genome writer places, in the order of KnownVariantId.
enum KnownVariantId : int {
  kKrasG12C,
  kKrasG12D,
  kKrasG12V,
  kBrafV600E,
  kEgfrL858R,
  kEgfrE746A750del,
  kPik3caH1047R,
  kPik3caE545K,
  kTp53R175H,
  kTp53R273H,
  kBrca1C68del,
  kBrca2C5946del,
  kKnownVariantCount,
};

// A known variant on GRCh38 in VCF form (1-based POS, left-aligned, anchor base for indels).
struct KnownVariant {
  KnownVariantId id;
  const char* gene;    // HGNC symbol
  const char* hgnc;    // "HGNC:6407"
  const char* hgvs_c;  // on the gene's MANE Select transcript: "c.34G>T"
  const char* hgvs_p;  // as the FHIR Observation writes it: "p.Gly12Cys"
  const char* chrom;   // "chr12"
  int64_t pos;         // VCF POS (1-based)
  const char* ref;
  const char* alt;
  VariantOrigin origin;
};

// All known variants, indexed by KnownVariantId.
const std::vector<KnownVariant>& KnownVariants();

// What the genome writer needs to know of one individual with a genome: taken from the same
// simulated case that the FHIR resources are written from.
struct GenomeSubject {
  int64_t number = 0;  // n of "{site}-pat-{n}"
  Cancer cancer = Cancer::kBreast;
  int8_t er = -1;  // breast oestrogen receptor: -1 not tested, 0 negative, 1 positive
  // Known variants the clinical record names (mCODE genomic variant Observations).
  std::vector<KnownVariantId> findings;
};

struct GenomeOptions {
  std::string site;   // sample names are "{site}-pat-{n}"
  std::string path;   // the .vcf.gz to write; path + ".tbi" is its index
  int64_t sites = 0;  // background sites
  uint64_t key = 0;   // genome stream key (independent of every FHIR stream)
  int threads = 1;    // generation and compression threads; output does not depend on it
};

struct GenomeSummary {
  int64_t samples = 0;
  int64_t records = 0;        // all VCF records
  int64_t known_records = 0;  // of which known cancer variants
};

// Writes options.path (VCFv4.2, bgzip) and options.path + ".tbi". `subjects` must be sorted by
// number and non-empty. Deterministic for (options except threads, subjects). Returns Internal
// when a file cannot be written or indexed.
Result<GenomeSummary> WriteGenomes(const GenomeOptions& options,
                                   const std::vector<GenomeSubject>& subjects);

// The individuals (0-based indices into 0..individuals-1, sorted) that have a genome: a
// uniform random subset of `count`, drawn from `key`'s own stream.
std::vector<int64_t> ChooseGenomeIndividuals(int64_t individuals, int64_t count, uint64_t key);

}  // namespace oncomesh::synth::internal
