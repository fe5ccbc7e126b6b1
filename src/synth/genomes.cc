#include "synth/genomes.h"

#include <htslib/hts.h>
#include <htslib/tbx.h>
#include <htslib/vcf.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>
#include <unordered_set>

#include "synth/random.h"

namespace oncomesh::synth::internal {
namespace {

// Sub-streams of the genome key. The genome key itself is derived so that it cannot coincide
// with any per-individual FHIR stream (synth.cc), which therefore stays untouched.
constexpr uint64_t kChooseStream = 1;
constexpr uint64_t kSubjectStream = 2;
constexpr uint64_t kPositionStream = 3;
constexpr uint64_t kSiteStream = 4;

// Background sites keep this distance (bp) from every known variant, so that no background
// record, indel included (REF at most 11 bp), touches a known variant's position.
constexpr int64_t kKnownVariantMargin = 100;
// Telomeric N runs of GRCh38 (the first and last 10 kb of every chromosome) get no sites.
constexpr int64_t kTelomere = 10'000;

struct Rates {
  double brca1, brca2;  // germline pathogenic variant carriers among patients with this cancer
  double tp53;          // tumours with a somatic TP53 mutation
};

// Per cancer type, indexed by Cancer. Sources in docs/synth.md ("Genomes"): BRCA1/2 in ovarian
// cancer from Zhang et al. 2011 (1,342 unselected invasive ovarian cancers, Ontario: BRCA1 8.1%,
// BRCA2 5.1%); BRCA2 in prostate cancer from Kote-Jarai et al. 2011 (1.2%, cases <= 65 y);
// other cancers and the population background (BRCA1/2 together about 1 in 140 to 1 in 400,
// e.g. BioMe 2019: 1 in 139) rounded down for unselected cases. TP53 mutation shares are
// rounded TCGA pan-cancer figures (from memory; to be re-checked before citing).
Rates CancerRates(Cancer cancer) {
  switch (cancer) {
    case Cancer::kBreast:
      return {0.010, 0.015, 0.30};
    case Cancer::kProstate:
      return {0.004, 0.012, 0.10};
    case Cancer::kLung:
      return {0.002, 0.003, 0.55};
    case Cancer::kColorectal:
      return {0.002, 0.003, 0.55};
    case Cancer::kBladder:
      return {0.002, 0.003, 0.50};
    case Cancer::kMelanoma:
      return {0.002, 0.003, 0.15};
    case Cancer::kKidney:
      return {0.002, 0.003, 0.03};
    case Cancer::kPancreas:
      return {0.005, 0.020, 0.70};
    case Cancer::kUterus:
      return {0.002, 0.003, 0.25};
    case Cancer::kOvary:
      return {0.080, 0.050, 0.95};
    case Cancer::kStomach:
      return {0.002, 0.003, 0.45};
    case Cancer::kDlbcl:
      return {0.002, 0.003, 0.20};
    case Cancer::kCll:
      return {0.002, 0.003, 0.08};
    case Cancer::kAml:
      return {0.002, 0.003, 0.08};
  }
  return {0.002, 0.003, 0.0};
}
// Shares of all TP53 mutations (IARC TP53 database hotspots, rounded): R175H 5%, R273H 4%.
constexpr double kTp53R175hShare = 0.05;
constexpr double kTp53R273hShare = 0.04;
// Breast cancer PIK3CA mutations (more frequent in ER-positive tumours) and the hotspot shares
// among them: H1047R 35%, E545K 17%.
constexpr double kPik3caErPositive = 0.40;
constexpr double kPik3caErNegative = 0.15;
constexpr double kPik3caErUnknown = 0.34;
constexpr double kPik3caH1047rShare = 0.35;
constexpr double kPik3caE545kShare = 0.17;

// The known variants an individual's genome carries: those of the clinical record, plus
// germline BRCA1/2 and somatic TP53/PIK3CA hotspots drawn from the individual's own stream.
std::vector<KnownVariantId> VariantsOf(const GenomeSubject& s, uint64_t subject_key) {
  std::vector<KnownVariantId> out = s.findings;
  Rng rng(MixKey(subject_key, static_cast<uint64_t>(s.number)));
  const Rates rates = CancerRates(s.cancer);
  // Always four draws in this order, so one rate change does not reshuffle the others.
  const double u_brca1 = rng.Uniform(), u_brca2 = rng.Uniform();
  const double u_tp53 = rng.Uniform(), u_pik3ca = rng.Uniform();
  if (u_brca1 < rates.brca1) out.push_back(kBrca1C68del);
  if (u_brca2 < rates.brca2) out.push_back(kBrca2C5946del);
  if (u_tp53 < rates.tp53 * kTp53R175hShare) {
    out.push_back(kTp53R175H);
  } else if (u_tp53 < rates.tp53 * (kTp53R175hShare + kTp53R273hShare)) {
    out.push_back(kTp53R273H);
  }
  if (s.cancer == Cancer::kBreast) {
    const double p =
        s.er == 1 ? kPik3caErPositive : (s.er == 0 ? kPik3caErNegative : kPik3caErUnknown);
    if (u_pik3ca < p * kPik3caH1047rShare) {
      out.push_back(kPik3caH1047R);
    } else if (u_pik3ca < p * (kPik3caH1047rShare + kPik3caE545kShare)) {
      out.push_back(kPik3caE545K);
    }
  }
  return out;
}

// ---------------------------------------------------------------- background sites
struct Site {
  int32_t rid;    // contig index
  int64_t pos;    // 1-based
  int32_t known;  // KnownVariantId, or -1 for a background site
};

// Integer in [0, n), n >= 1 (modulo bias below 2^-32 for the n used here, n < 2^32).
int64_t Below64(Rng& rng, int64_t n) {
  return static_cast<int64_t>(rng.Next() % static_cast<uint64_t>(n));
}

// `total` background positions spread over the contigs by length (largest remainder), uniform
// within each contig, sorted, distinct, none within kKnownVariantMargin of a known variant.
std::vector<Site> BackgroundPositions(int64_t total, uint64_t key) {
  const auto& contigs = GenomeContigs();
  int64_t genome = 0;
  for (const Contig& c : contigs) genome += c.length - 2 * kTelomere;
  std::vector<int64_t> count(contigs.size());
  std::vector<std::pair<double, size_t>> remainders;
  int64_t assigned = 0;
  for (size_t c = 0; c < contigs.size(); ++c) {
    const double quota = static_cast<double>(total) *
                         static_cast<double>(contigs[c].length - 2 * kTelomere) /
                         static_cast<double>(genome);
    count[c] = static_cast<int64_t>(quota);
    assigned += count[c];
    remainders.emplace_back(quota - static_cast<double>(count[c]), c);
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t k = 0; assigned < total; ++k, ++assigned) ++count[remainders[k].second];

  std::vector<Site> sites;
  sites.reserve(static_cast<size_t>(total));
  for (size_t c = 0; c < contigs.size(); ++c) {
    std::vector<int64_t> known;
    for (const KnownVariant& v : KnownVariants()) {
      if (contigs[c].name == std::string_view(v.chrom)) known.push_back(v.pos);
    }
    auto near_known = [&](int64_t pos) {
      return std::any_of(known.begin(), known.end(), [&](int64_t k) {
        return pos > k - kKnownVariantMargin && pos < k + kKnownVariantMargin;
      });
    };
    Rng rng(MixKey(key, c));
    const int64_t span = contigs[c].length - 2 * kTelomere;
    std::vector<int64_t> positions;
    positions.reserve(static_cast<size_t>(count[c]));
    while (static_cast<int64_t>(positions.size()) < count[c]) {
      const size_t missing = static_cast<size_t>(count[c]) - positions.size();
      for (size_t k = 0; k < missing; ++k) {
        const int64_t pos = kTelomere + 1 + Below64(rng, span);
        if (!near_known(pos)) positions.push_back(pos);
      }
      std::sort(positions.begin(), positions.end());
      positions.erase(std::unique(positions.begin(), positions.end()), positions.end());
    }
    for (int64_t pos : positions) sites.push_back({static_cast<int32_t>(c), pos, -1});
  }
  return sites;
}

// Allele frequency of a background ALT allele: density proportional to 1/x on [0.001, 0.5]
// (log-uniform), the neutral site-frequency spectrum (Watterson 1975) folded at 0.5: most sites
// rare, a minority common. P(AF < 0.01) = ln 10 / ln 500 = 0.37, P(AF > 0.1) = ln 5 / ln 500 =
// 0.26 (docs/synth.md).
double DrawFrequency(Rng& rng) { return 0.001 * std::pow(500.0, rng.Uniform()); }

char Base(int b) { return "ACGT"[b]; }

// Site content: 86% SNV (transitions twice as likely as transversions), 6% deletion, 6%
// insertion (1-10 bp, mostly 1-2), 2% multi-allelic SNV (two ALTs). REF bases are random:
// no reference sequence is shipped (docs/synth.md).
std::string DrawAlleles(Rng& rng, int* n_alt) {
  const double kind = rng.Uniform();
  const int ref = rng.Below(4);
  // Transition partner: A<->G, C<->T.
  const int transition = ref ^ 2;
  auto other = [&](int avoid1, int avoid2) {
    int b;
    do b = rng.Below(4);
    while (b == avoid1 || b == avoid2);
    return b;
  };
  std::string alleles;
  alleles.push_back(Base(ref));
  if (kind < 0.86) {
    *n_alt = 1;
    const int alt = rng.Uniform() < 2.0 / 3.0 ? transition : other(ref, transition);
    alleles += ',';
    alleles.push_back(Base(alt));
  } else if (kind < 0.98) {
    *n_alt = 1;
    int length = 1;
    while (length < 10 && rng.Bernoulli(0.5)) ++length;
    std::string extra;
    for (int k = 0; k < length; ++k) extra.push_back(Base(rng.Below(4)));
    if (kind < 0.92) {
      alleles += extra;  // deletion: REF = anchor + deleted bases, ALT = anchor
      alleles += ',';
      alleles.push_back(Base(ref));
    } else {
      alleles += ',';  // insertion: REF = anchor, ALT = anchor + inserted bases
      alleles.push_back(Base(ref));
      alleles += extra;
    }
  } else {
    *n_alt = 2;
    const int alt1 = transition;
    const int alt2 = other(ref, transition);
    alleles += ',';
    alleles.push_back(Base(alt1));
    alleles += ',';
    alleles.push_back(Base(alt2));
  }
  return alleles;
}

// One VCF record's content before it becomes a bcf1_t.
struct Record {
  std::string alleles;  // comma-separated, REF first
  int n_alt = 1;
  std::vector<int32_t> gt;  // 2 per sample, htslib encoding
  int32_t ac[2] = {0, 0};
  int32_t an = 0;
};

void CountAlleles(Record& r) {
  r.ac[0] = r.ac[1] = 0;
  r.an = 0;
  for (int32_t g : r.gt) {
    if (bcf_gt_is_missing(g)) continue;
    ++r.an;
    const int a = bcf_gt_allele(g);
    if (a > 0) ++r.ac[a - 1];
  }
}

// Genotypes in Hardy-Weinberg proportions for the site's allele frequencies. 10% of sites have
// a poorly covered region where each genotype is missing (./.) with probability 5%. An ALT
// allele no genotype carries is dropped (as `bcftools view --trim-alt-alleles` would), and a
// site left without any ALT gets one heterozygous carrier: a cohort VCF has no AC=0 records.
void DrawBackground(uint64_t key, int rid, int64_t pos, int samples, Record& r) {
  Rng rng(MixKey(MixKey(key, static_cast<uint64_t>(rid)), static_cast<uint64_t>(pos)));
  r.alleles = DrawAlleles(rng, &r.n_alt);
  double af[2] = {DrawFrequency(rng), 0};
  if (r.n_alt == 2) af[1] = 0.5 * DrawFrequency(rng);
  const bool patchy = rng.Bernoulli(0.10);
  r.gt.resize(static_cast<size_t>(2 * samples));
  const int32_t missing = bcf_gt_missing;
  if (r.n_alt == 1) {
    const double q = 1.0 - af[0];
    const double hom_ref = q * q, het = hom_ref + 2.0 * af[0] * q;
    for (int s = 0; s < samples; ++s) {
      int32_t* g = &r.gt[static_cast<size_t>(2 * s)];
      if (patchy && rng.Bernoulli(0.05)) {
        g[0] = g[1] = missing;
        continue;
      }
      const double u = rng.Uniform();
      const int alt = u < hom_ref ? 0 : (u < het ? 1 : 2);
      g[0] = bcf_gt_unphased(alt == 2 ? 1 : 0);
      g[1] = bcf_gt_unphased(alt >= 1 ? 1 : 0);
    }
  } else {
    for (int s = 0; s < samples; ++s) {
      int32_t* g = &r.gt[static_cast<size_t>(2 * s)];
      if (patchy && rng.Bernoulli(0.05)) {
        g[0] = g[1] = missing;
        continue;
      }
      int a[2];
      for (int& x : a) {
        const double u = rng.Uniform();
        x = u < af[0] ? 1 : (u < af[0] + af[1] ? 2 : 0);
      }
      if (a[0] > a[1]) std::swap(a[0], a[1]);
      g[0] = bcf_gt_unphased(a[0]);
      g[1] = bcf_gt_unphased(a[1]);
    }
  }
  CountAlleles(r);
  if (r.n_alt == 2 && (r.ac[0] == 0 || r.ac[1] == 0)) {
    // Drop the unseen ALT: keep REF and the other one, renumbered 1.
    const int keep = r.ac[0] > 0 ? 1 : 2;
    const size_t first = r.alleles.find(','), second = r.alleles.find(',', first + 1);
    r.alleles = r.alleles.substr(0, first) + ',' +
                (keep == 1 ? r.alleles.substr(first + 1, second - first - 1)
                           : r.alleles.substr(second + 1));
    for (int32_t& g : r.gt) {
      if (!bcf_gt_is_missing(g) && bcf_gt_allele(g) == keep) g = bcf_gt_unphased(1);
    }
    r.n_alt = 1;
    CountAlleles(r);
  }
  if (r.ac[0] == 0) {
    // Every called genotype is 0/0 here: make one sample (a called one if any) heterozygous.
    const int start = static_cast<int>(Below64(rng, samples));
    int chosen = start;
    for (int k = 0; k < samples; ++k) {
      const int s = (start + k) % samples;
      if (!bcf_gt_is_missing(r.gt[static_cast<size_t>(2 * s)])) {
        chosen = s;
        break;
      }
    }
    r.gt[static_cast<size_t>(2 * chosen)] = bcf_gt_unphased(0);
    r.gt[static_cast<size_t>(2 * chosen + 1)] = bcf_gt_unphased(1);
    CountAlleles(r);
  }
}

struct HeaderDeleter {
  void operator()(bcf_hdr_t* h) const { bcf_hdr_destroy(h); }
};
struct RecordDeleter {
  void operator()(bcf1_t* r) const { bcf_destroy(r); }
};
using RecordPtr = std::unique_ptr<bcf1_t, RecordDeleter>;

std::unique_ptr<bcf_hdr_t, HeaderDeleter> MakeHeader(const GenomeOptions& options,
                                                     const std::vector<GenomeSubject>& subjects) {
  std::unique_ptr<bcf_hdr_t, HeaderDeleter> hdr(bcf_hdr_init("w"));  // VCFv4.2 and PASS
  if (!hdr) return hdr;
  std::vector<std::string> lines = {
      "##reference=GRCh38",
      "##source=oncomesh synth: synthetic genomes of synthetic individuals (site " + options.site +
          ")",
  };
  // GRCh38 primary assembly (GCA_000001405.15) sequence lengths.
  for (const Contig& c : GenomeContigs()) {
    lines.push_back(std::string("##contig=<ID=") + c.name + ",length=" + std::to_string(c.length) +
                    ",assembly=GRCh38>");
  }
  lines.insert(
      lines.end(),
      {"##INFO=<ID=AC,Number=A,Type=Integer,Description=\"Allele count in genotypes, for each "
       "ALT allele\">",
       "##INFO=<ID=AN,Number=1,Type=Integer,Description=\"Total number of alleles in called "
       "genotypes\">",
       "##INFO=<ID=AF,Number=A,Type=Float,Description=\"Allele frequency in called genotypes, "
       "for each ALT allele (AC/AN)\">",
       "##INFO=<ID=SOMATIC,Number=0,Type=Flag,Description=\"Somatic mutation of the "
       "individual's tumour\">",
       "##INFO=<ID=GENE,Number=1,Type=String,Description=\"HGNC symbol of the gene (known "
       "cancer variants only)\">",
       "##INFO=<ID=HGVSC,Number=1,Type=String,Description=\"HGVS c. on the gene's MANE Select "
       "transcript (known cancer variants only)\">",
       "##INFO=<ID=HGVSP,Number=1,Type=String,Description=\"HGVS p. (known cancer variants "
       "only)\">",
       "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">"});
  for (const std::string& line : lines) {
    if (bcf_hdr_append(hdr.get(), line.c_str()) != 0) return nullptr;
  }
  for (const GenomeSubject& s : subjects) {
    const std::string name = options.site + "-pat-" + std::to_string(s.number);
    if (bcf_hdr_add_sample(hdr.get(), name.c_str()) != 0) return nullptr;
  }
  if (bcf_hdr_sync(hdr.get()) != 0) return nullptr;
  return hdr;
}

// Fills `rec` for one site. Uses the header read-only, so workers may call it concurrently.
bool FillRecord(const bcf_hdr_t* hdr, const Site& site, uint64_t site_key,
                const std::vector<std::vector<int>>& carriers, int samples, Record& r,
                bcf1_t* rec) {
  bcf_clear1(rec);
  rec->rid = site.rid;
  rec->pos = site.pos - 1;
  const KnownVariant* known = nullptr;
  if (site.known < 0) {
    DrawBackground(site_key, site.rid, site.pos, samples, r);
  } else {
    known = &KnownVariants()[static_cast<size_t>(site.known)];
    r.alleles = std::string(known->ref) + ',' + known->alt;
    r.n_alt = 1;
    r.gt.assign(static_cast<size_t>(2 * samples), bcf_gt_unphased(0));
    for (int s : carriers[static_cast<size_t>(site.known)]) {
      r.gt[static_cast<size_t>(2 * s + 1)] = bcf_gt_unphased(1);
    }
    CountAlleles(r);
  }
  if (bcf_update_alleles_str(hdr, rec, r.alleles.c_str()) < 0) return false;
  int32_t pass = bcf_hdr_id2int(hdr, BCF_DT_ID, "PASS");
  if (bcf_update_filter(hdr, rec, &pass, 1) < 0) return false;
  float af[2];
  for (int a = 0; a < r.n_alt; ++a) {
    af[a] = r.an > 0 ? static_cast<float>(r.ac[a]) / static_cast<float>(r.an) : 0.0F;
  }
  if (bcf_update_info_int32(hdr, rec, "AC", r.ac, r.n_alt) < 0 ||
      bcf_update_info_int32(hdr, rec, "AN", &r.an, 1) < 0 ||
      bcf_update_info_float(hdr, rec, "AF", af, r.n_alt) < 0) {
    return false;
  }
  if (known != nullptr) {
    if (known->origin != VariantOrigin::kGermline &&
        bcf_update_info_flag(hdr, rec, "SOMATIC", nullptr, 1) < 0) {
      return false;
    }
    if (bcf_update_info_string(hdr, rec, "GENE", known->gene) < 0 ||
        bcf_update_info_string(hdr, rec, "HGVSC", known->hgvs_c) < 0 ||
        bcf_update_info_string(hdr, rec, "HGVSP", known->hgvs_p) < 0) {
      return false;
    }
  }
  return bcf_update_genotypes(hdr, rec, r.gt.data(), static_cast<int>(r.gt.size())) >= 0;
}

struct Chunk {
  std::vector<RecordPtr> records;
  Record scratch;
  size_t used = 0;
  bool ok = true;
};

}  // namespace

const std::vector<Contig>& GenomeContigs() {
  // GRCh38 primary assembly (GCA_000001405.15) chromosome lengths, as in its UCSC chrom.sizes.
  static const std::vector<Contig> kContigs = {
      {"chr1", 248956422},  {"chr2", 242193529},  {"chr3", 198295559},  {"chr4", 190214555},
      {"chr5", 181538259},  {"chr6", 170805979},  {"chr7", 159345973},  {"chr8", 145138636},
      {"chr9", 138394717},  {"chr10", 133797422}, {"chr11", 135086622}, {"chr12", 133275309},
      {"chr13", 114364328}, {"chr14", 107043718}, {"chr15", 101991189}, {"chr16", 90338345},
      {"chr17", 83257441},  {"chr18", 80373285},  {"chr19", 58617616},  {"chr20", 64444167},
      {"chr21", 46709983},  {"chr22", 50818468},
  };
  return kContigs;
}

const std::vector<KnownVariant>& KnownVariants() {
  // GRCh38, VCF form (ClinVar / COSMIC records; indels left-aligned with their anchor base).
  // docs/synth.md keeps the same table.
  static const std::vector<KnownVariant> kVariants = {
      {kKrasG12C, "KRAS", "HGNC:6407", "c.34G>T", "p.Gly12Cys", "chr12", 25245351, "C", "A",
       VariantOrigin::kClinicalFinding},
      {kKrasG12D, "KRAS", "HGNC:6407", "c.35G>A", "p.Gly12Asp", "chr12", 25245350, "C", "T",
       VariantOrigin::kClinicalFinding},
      {kKrasG12V, "KRAS", "HGNC:6407", "c.35G>T", "p.Gly12Val", "chr12", 25245350, "C", "A",
       VariantOrigin::kClinicalFinding},
      {kBrafV600E, "BRAF", "HGNC:1097", "c.1799T>A", "p.Val600Glu", "chr7", 140753336, "A", "T",
       VariantOrigin::kClinicalFinding},
      {kEgfrL858R, "EGFR", "HGNC:3236", "c.2573T>G", "p.Leu858Arg", "chr7", 55191822, "T", "G",
       VariantOrigin::kClinicalFinding},
      {kEgfrE746A750del, "EGFR", "HGNC:3236", "c.2235_2249del", "p.Glu746_Ala750del", "chr7",
       55174771, "AGGAATTAAGAGAAGC", "A", VariantOrigin::kClinicalFinding},
      {kPik3caH1047R, "PIK3CA", "HGNC:8975", "c.3140A>G", "p.His1047Arg", "chr3", 179234297, "A",
       "G", VariantOrigin::kSomatic},
      {kPik3caE545K, "PIK3CA", "HGNC:8975", "c.1633G>A", "p.Glu545Lys", "chr3", 179218303, "G", "A",
       VariantOrigin::kSomatic},
      {kTp53R175H, "TP53", "HGNC:11998", "c.524G>A", "p.Arg175His", "chr17", 7675088, "C", "T",
       VariantOrigin::kSomatic},
      {kTp53R273H, "TP53", "HGNC:11998", "c.818G>A", "p.Arg273His", "chr17", 7673802, "C", "T",
       VariantOrigin::kSomatic},
      {kBrca1C68del, "BRCA1", "HGNC:1100", "c.68_69del", "p.Glu23fs", "chr17", 43124027, "ACT", "A",
       VariantOrigin::kGermline},
      // The brief gave POS 32340301; the VCF form of c.5946del (rs80359550) is POS 32340300
      // GT>G (the T deleted at 32340301 = NC_000013.11:g.32340301del, anchored on the G before).
      {kBrca2C5946del, "BRCA2", "HGNC:1101", "c.5946del", "p.Ser1982fs", "chr13", 32340300, "GT",
       "G", VariantOrigin::kGermline},
  };
  return kVariants;
}

std::vector<int64_t> ChooseGenomeIndividuals(int64_t individuals, int64_t count, uint64_t key) {
  std::vector<int64_t> chosen;
  count = std::clamp<int64_t>(count, 0, individuals);
  if (count == individuals) {
    chosen.resize(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) chosen[static_cast<size_t>(i)] = i;
    return chosen;
  }
  // Floyd's algorithm: a uniform subset of `count` in O(count) draws.
  Rng rng(MixKey(key, kChooseStream));
  std::unordered_set<int64_t> set;
  set.reserve(static_cast<size_t>(count) * 2);
  for (int64_t j = individuals - count; j < individuals; ++j) {
    const int64_t t = Below64(rng, j + 1);
    set.insert(set.count(t) != 0 ? j : t);
  }
  chosen.assign(set.begin(), set.end());
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

Result<GenomeSummary> WriteGenomes(const GenomeOptions& options,
                                   const std::vector<GenomeSubject>& subjects) {
  namespace fs = std::filesystem;
  if (subjects.empty()) return Internal("synth: no individuals with a genome");
  const int samples = static_cast<int>(subjects.size());
  auto hdr = MakeHeader(options, subjects);
  if (!hdr) return Internal("synth: cannot build the VCF header for " + options.path);

  // Known variants: who carries which (sample indices, ascending).
  std::vector<std::vector<int>> carriers(kKnownVariantCount);
  const uint64_t subject_key = MixKey(options.key, kSubjectStream);
  for (int s = 0; s < samples; ++s) {
    for (KnownVariantId id : VariantsOf(subjects[static_cast<size_t>(s)], subject_key)) {
      auto& list = carriers[static_cast<size_t>(id)];
      if (list.empty() || list.back() != s) list.push_back(s);
    }
  }
  std::vector<Site> sites =
      BackgroundPositions(options.sites, MixKey(options.key, kPositionStream));
  int64_t known_records = 0;
  for (const KnownVariant& v : KnownVariants()) {
    if (carriers[static_cast<size_t>(v.id)].empty()) continue;  // no AC=0 records
    const int rid = bcf_hdr_name2id(hdr.get(), v.chrom);
    sites.push_back({rid, v.pos, static_cast<int32_t>(v.id)});
    ++known_records;
  }
  // Known variants sharing a POS (KRAS G12D / G12V) stay in table order.
  std::sort(sites.begin(), sites.end(), [](const Site& a, const Site& b) {
    if (a.rid != b.rid) return a.rid < b.rid;
    if (a.pos != b.pos) return a.pos < b.pos;
    return a.known < b.known;
  });

  const std::string tmp = options.path + ".tmp";
  std::error_code ec;
  fs::remove(options.path + ".tbi", ec);
  // BGZF at deflate level 2: 5x less compression time than the default level 6 for about 20%
  // more bytes (GT columns are highly repetitive); measured on 200,000 sites x 100 samples.
  htsFile* fp = hts_open(tmp.c_str(), "wz2");
  if (fp == nullptr) return Internal("synth: cannot write " + tmp);
  const int threads = std::clamp(options.threads, 1, 64);
  if (threads > 1) hts_set_threads(fp, threads);
  auto fail = [&](const std::string& what) -> Status {
    hts_close(fp);
    fs::remove(tmp, ec);
    return Internal("synth: " + what + " " + tmp);
  };
  if (bcf_hdr_write(fp, hdr.get()) != 0) return fail("cannot write the header of");

  // Records are made `threads` chunks at a time, the next group while the current one is
  // written; each site's content comes from its own stream, so the bytes do not depend on it.
  const size_t per_chunk =
      static_cast<size_t>(std::clamp<int64_t>((int64_t{1} << 21) / samples, 16, 4096));
  const uint64_t site_key = MixKey(options.key, kSiteStream);
  const size_t n_chunks = (sites.size() + per_chunk - 1) / per_chunk;
  std::vector<Chunk> current(static_cast<size_t>(threads)), next(static_cast<size_t>(threads));
  auto generate = [&](size_t base, std::vector<Chunk>& out) {
    auto run = [&](size_t k) {
      Chunk& chunk = out[k];
      const size_t first = (base + k) * per_chunk;
      const size_t last = std::min(first + per_chunk, sites.size());
      chunk.used = last > first ? last - first : 0;
      chunk.ok = true;
      while (chunk.records.size() < chunk.used) chunk.records.emplace_back(bcf_init());
      for (size_t i = 0; i < chunk.used && chunk.ok; ++i) {
        chunk.ok = chunk.records[i] != nullptr &&
                   FillRecord(hdr.get(), sites[first + i], site_key, carriers, samples,
                              chunk.scratch, chunk.records[i].get());
      }
    };
    const size_t batch = std::min<size_t>(static_cast<size_t>(threads), n_chunks - base);
    std::vector<std::thread> workers;
    for (size_t k = 1; k < batch; ++k) workers.emplace_back(run, k);
    run(0);
    for (auto& w : workers) w.join();
    for (size_t k = batch; k < out.size(); ++k) out[k].used = 0;
  };
  if (n_chunks > 0) generate(0, current);
  for (size_t base = 0; base < n_chunks; base += static_cast<size_t>(threads)) {
    std::thread ahead;
    if (base + static_cast<size_t>(threads) < n_chunks) {
      ahead = std::thread(generate, base + static_cast<size_t>(threads), std::ref(next));
    }
    bool ok = true;
    for (Chunk& chunk : current) {
      ok = ok && chunk.ok;
      for (size_t i = 0; ok && i < chunk.used; ++i) {
        ok = bcf_write(fp, hdr.get(), chunk.records[i].get()) == 0;
      }
    }
    if (ahead.joinable()) ahead.join();
    if (!ok) return fail("cannot write a record to");
    std::swap(current, next);
  }
  if (hts_close(fp) != 0) {
    fs::remove(tmp, ec);
    return Internal("synth: write failed for " + tmp);
  }
  fs::rename(tmp, options.path, ec);
  if (ec) return Internal("synth: cannot rename " + tmp + ": " + ec.message());
  if (tbx_index_build(options.path.c_str(), 0, &tbx_conf_vcf) != 0) {
    return Internal("synth: cannot build the tabix index of " + options.path);
  }
  GenomeSummary summary;
  summary.samples = samples;
  summary.records = static_cast<int64_t>(sites.size());
  summary.known_records = known_records;
  return summary;
}

}  // namespace oncomesh::synth::internal
