// Side-by-side figures for genomic data (bench/run.sh --genomics runs it; docs/benchmarks.md):
//
//  1. decode: htslib's own read and full decode (bcf_read + bcf_unpack + genotypes) of the
//     VCF and BCF the node ingests, in this process: the parsing bound for `ingest vcf`.
//  2. region queries, single positions and 10-kb windows: the node's variant index (built
//     from the node's store as `node serve` builds it) against htslib's indexed region read
//     in this process (tabix index for .vcf.gz, CSI for .bcf) and against the `tabix` command.
//  3. a combined genomic + clinical count (KRAS G12C carriers AND colorectal cancer AND male)
//     over --individuals synthetic individuals, their carriers taken from the clinical
//     record's genomic findings as the synthetic genomes are.
#include <htslib/hts.h>
#include <htslib/tbx.h>
#include <htslib/vcf.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "bench_timing.h"
#include "genomics/reference.h"
#include "index/cohort_index.h"
#include "query/beacon_request.h"
#include "store/store.h"
#include "synth/synth.h"

namespace {

using namespace oncomesh;
using bench::Clock;
using bench::Seconds;
using bench::Timing;

[[noreturn]] void Die(const std::string& message) {
  std::cerr << "genomics_bench: " << message << "\n";
  std::exit(2);
}

std::string Ms(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, ms < 0.1 ? "%.4f" : "%.3f", ms);
  return buf;
}

void Row(const std::string& what, const std::string& system, const Timing& t, const Timing& base) {
  std::printf("%-24s %-36s %10s %10s %7zu %8.1fx\n", what.c_str(), system.c_str(),
              Ms(t.p50_ms).c_str(), Ms(t.p99_ms).c_str(), t.runs, t.p50_ms / base.p50_ms);
}

// Records of a VCF/BCF decoded fully (INFO, FORMAT and genotypes), per second.
double DecodeRate(const std::string& path, int64_t* records) {
  htsFile* f = hts_open(path.c_str(), "r");
  if (!f) Die("cannot open " + path);
  bcf_hdr_t* hdr = bcf_hdr_read(f);
  bcf1_t* rec = bcf_init();
  int32_t* gt = nullptr;
  int ngt = 0;
  int64_t n = 0, alt_copies = 0;
  const auto start = Clock::now();
  while (bcf_read(f, hdr, rec) == 0) {
    bcf_unpack(rec, BCF_UN_ALL);
    const int k = bcf_get_genotypes(hdr, rec, &gt, &ngt);
    for (int i = 0; i < k; ++i) alt_copies += !bcf_gt_is_missing(gt[i]) && bcf_gt_allele(gt[i]) > 0;
    ++n;
  }
  const double s = Seconds(start, Clock::now());
  free(gt);
  bcf_destroy(rec);
  bcf_hdr_destroy(hdr);
  hts_close(f);
  if (alt_copies == 0) Die(path + ": no ALT genotypes decoded");
  *records = n;
  return static_cast<double>(n) / s;
}

struct Region {
  std::string chrom;  // as in the file ("chr12")
  int64_t start0, end0;
};

// Reads every record of a region through the file's index; returns how many.
class IndexedReader {
 public:
  explicit IndexedReader(const std::string& path) {
    file_ = hts_open(path.c_str(), "r");
    if (!file_) Die("cannot open " + path);
    hdr_ = bcf_hdr_read(file_);
    rec_ = bcf_init();
    bcf_ = hts_get_format(file_)->format == bcf;
    if (bcf_) {
      idx_ = bcf_index_load(path.c_str());
    } else {
      tbx_ = tbx_index_load(path.c_str());
    }
    if (!idx_ && !tbx_) Die("no index for " + path);
  }
  ~IndexedReader() {
    if (tbx_) tbx_destroy(tbx_);
    if (idx_) hts_idx_destroy(idx_);
    bcf_destroy(rec_);
    bcf_hdr_destroy(hdr_);
    hts_close(file_);
    free(line_.s);
  }
  int64_t Read(const Region& r) {
    int64_t n = 0;
    if (bcf_) {
      const int tid = bcf_hdr_name2id(hdr_, r.chrom.c_str());
      hts_itr_t* itr = bcf_itr_queryi(idx_, tid, r.start0, r.end0);
      while (itr && bcf_itr_next(file_, itr, rec_) >= 0) {
        bcf_unpack(rec_, BCF_UN_STR);
        ++n;
      }
      hts_itr_destroy(itr);
    } else {
      const int tid = tbx_name2id(tbx_, r.chrom.c_str());
      hts_itr_t* itr = tbx_itr_queryi(tbx_, tid, r.start0, r.end0);
      while (itr && tbx_itr_next(file_, tbx_, itr, &line_) >= 0) {
        if (vcf_parse1(&line_, hdr_, rec_) == 0) ++n;
      }
      hts_itr_destroy(itr);
    }
    return n;
  }

 private:
  htsFile* file_ = nullptr;
  bcf_hdr_t* hdr_ = nullptr;
  bcf1_t* rec_ = nullptr;
  bool bcf_ = false;
  hts_idx_t* idx_ = nullptr;
  tbx_t* tbx_ = nullptr;
  kstring_t line_ = {0, 0, nullptr};
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"OncoMesh genomic benchmarks (see bench/run.sh)"};
  std::string vcf, bcf_path, node_dir;
  int queries = 2000, tabix_runs = 40;
  int64_t individuals = 1'000'000;
  app.add_option("--vcf", vcf, "bgzipped, tabix-indexed VCF (the synthetic genomes)")->required();
  app.add_option("--bcf", bcf_path, "the same as BCF with a CSI index")->required();
  app.add_option("--node", node_dir, "a node directory that ingested the VCF")->required();
  app.add_option("--queries", queries, "region queries of each kind");
  app.add_option("--tabix-runs", tabix_runs, "`tabix` processes per query kind");
  app.add_option("--individuals", individuals, "individuals for the combined count (0: skip)");
  CLI11_PARSE(app, argc, argv);

  // 1. Decode bound.
  int64_t records = 0;
  const double vcf_rate = DecodeRate(vcf, &records);
  const double bcf_rate = DecodeRate(bcf_path, &records);
  std::printf(
      "decode: %lld records; htslib in-process full decode: VCF.gz %.0f records/s, BCF %.0f "
      "records/s\n",
      static_cast<long long>(records), vcf_rate, bcf_rate);
  std::printf("RESULT htslib_decode_vcf_per_s %.0f\nRESULT htslib_decode_bcf_per_s %.0f\n",
              vcf_rate, bcf_rate);

  // 2. Region queries.
  auto vocab = index::Vocabulary::LoadEmbedded();
  if (!vocab.ok()) Die(vocab.status().ToString());
  auto store = store::OpenSqliteStore(node_dir + "/store.sqlite");
  if (!store.ok()) Die(store.status().ToString());
  const auto build_start = Clock::now();
  auto idx = index::CohortIndex::Build(**store, *vocab);
  if (!idx.ok()) Die(idx.status().ToString());
  const index::VariantIndex& variants = (*idx)->variants();
  std::printf("node index: %zu variants, %u individuals, built from the store in %.1f s, %.1f MB\n",
              variants.size(), (*idx)->num_rows(), Seconds(build_start, Clock::now()),
              static_cast<double>(variants.SizeInBytes()) / 1e6);
  if (variants.size() == 0) Die("the node has no variants");
  std::mt19937_64 rng(42);
  IndexedReader vcf_reader(vcf), bcf_reader(bcf_path);
  std::printf("\n%-24s %-36s %10s %10s %7s %9s\n", "query", "system", "p50 ms", "p99 ms", "runs",
              "vs index");
  for (const int64_t width : {int64_t{1}, int64_t{10'000}}) {
    std::vector<index::VariantQuery> qs;
    std::vector<Region> regions;
    for (int i = 0; i < queries; ++i) {
      const index::VariantIndex::Entry& e =
          variants.entry(static_cast<uint32_t>(rng() % variants.size()));
      index::VariantQuery q;
      q.assembly = e.variant.assembly;
      q.chrom = e.variant.chrom;
      q.start = width == 1 ? e.start0 : std::max<int64_t>(0, e.start0 - width / 2);
      q.end = *q.start + width;
      qs.push_back(q);
      regions.push_back({"chr" + e.variant.chrom, *q.start, *q.end});
    }
    const std::string what = width == 1 ? "single position" : "10-kb window";
    size_t k = 0;
    int64_t found_index = 0, found_vcf = 0, found_bcf = 0;
    const Timing t_index = bench::TimeRuns(50, queries, 0.5, [&] {
      const auto m = variants.Match(qs[k++ % qs.size()]);
      found_index += static_cast<int64_t>(m->size());
    });
    k = 0;
    const Timing t_bcf = bench::TimeRuns(
        20, queries, 0.5, [&] { found_bcf += bcf_reader.Read(regions[k++ % regions.size()]); });
    k = 0;
    const Timing t_vcf = bench::TimeRuns(
        20, queries, 0.5, [&] { found_vcf += vcf_reader.Read(regions[k++ % regions.size()]); });
    k = 0;
    const Timing t_tabix = bench::TimeRuns(2, tabix_runs, 0, [&] {
      const Region& r = regions[k++ % regions.size()];
      const std::string cmd = "tabix '" + vcf + "' " + r.chrom + ":" +
                              std::to_string(r.start0 + 1) + "-" + std::to_string(r.end0) +
                              " > /dev/null";
      if (std::system(cmd.c_str()) != 0) Die("tabix failed: " + cmd);
    });
    Row(what, "node variant index", t_index, t_index);
    Row(what, "htslib in-process, BCF + CSI", t_bcf, t_index);
    Row(what, "htslib in-process, VCF.gz + tabix", t_vcf, t_index);
    Row(what, "tabix command (process per query)", t_tabix, t_index);
    std::printf(
        "RESULT %s_index_p50_ms %.5f\nRESULT %s_htslib_bcf_p50_ms %.5f\nRESULT "
        "%s_htslib_vcf_p50_ms %.5f\n"
        "RESULT %s_tabix_p50_ms %.3f\n",
        width == 1 ? "position" : "window10k", t_index.p50_ms,
        width == 1 ? "position" : "window10k", t_bcf.p50_ms, width == 1 ? "position" : "window10k",
        t_vcf.p50_ms, width == 1 ? "position" : "window10k", t_tabix.p50_ms);
    (void)found_index, (void)found_bcf, (void)found_vcf;
  }
  idx->reset();

  // 3. Combined genomic + clinical count.
  if (individuals <= 0) return 0;
  const genomics::GenomeReference& ref = genomics::GenomeReference::Get();
  index::IndexBuilder builder(*vocab);
  for (const genomics::KnownVariant& k : ref.known_variants()) {
    model::Variant v;
    v.assembly = k.assembly;
    v.chrom = k.chrom;
    v.position = k.position;
    v.ref = k.ref;
    v.alt = k.alt;
    v.end = k.position + static_cast<int64_t>(k.ref.size()) - 1;
    v.variant_type = k.ref.size() == k.alt.size() ? "SNP" : "DEL";
    v.id = model::VariantId(v.assembly, v.chrom, v.position, v.ref, v.alt);
    builder.AddVariant(v);
  }
  synth::SynthOptions options;
  options.site = "bench";
  options.seed = 1;
  options.individuals = individuals;
  int64_t calls = 0;
  const auto gen_start = Clock::now();
  const Status st = synth::GenerateRecords(options, [&](const model::RecordBatch& b) {
    if (const Status added = builder.AddBatch(b); !added.ok()) Die(added.ToString());
    for (const model::Observation& o : b.observations) {
      if (o.amino_acid_change.empty()) continue;
      for (const genomics::KnownVariant& k : ref.known_variants()) {
        if (k.hgvs_p != o.amino_acid_change) continue;
        model::VariantCall c;
        c.variant_id = model::VariantId(k.assembly, k.chrom, k.position, k.ref, k.alt);
        c.individual_id = o.individual_id;
        c.biosample_id = "bs-" + o.individual_id;
        builder.AddVariantCall(c);
        ++calls;
      }
    }
  });
  if (!st.ok()) Die(st.ToString());
  auto clinical = builder.Finish();
  std::printf(
      "\ncombined count: %lld individuals, %lld carrier calls from the clinical genomic findings, "
      "built in %.1f s\n",
      static_cast<long long>(individuals), static_cast<long long>(calls),
      Seconds(gen_start, Clock::now()));
  auto request =
      query::ParseBeaconPost(R"({"query": {"filters": [{"id": "ICD10:C18"}, {"id": "NCIT:C20197"}],
      "requestParameters": {"g_variant": {"assemblyId": "GRCh38", "referenceName": "12", "start": [25245350],
        "referenceBases": "C", "alternateBases": "A"}}, "requestedGranularity": "count"}})");
  if (!request.ok()) Die(request.status().ToString());
  uint64_t count = 0;
  const Timing t = bench::TimeRuns(50, 2000, 1.0, [&] {
    auto plan = query::BuildRequestPlan(*request, *clinical);
    count = clinical->Count(*plan);
  });
  std::printf(
      "KRAS G12C carriers AND ICD10:C18 AND male: count %llu, plan+count p50 %s ms, p99 %s ms (%zu "
      "runs)\n",
      static_cast<unsigned long long>(count), Ms(t.p50_ms).c_str(), Ms(t.p99_ms).c_str(), t.runs);
  std::printf("RESULT combined_count_p50_ms %.5f\n", t.p50_ms);
  return 0;
}
