// Google Benchmark figures for the cohort index alone (no SQL, no HTTP): Count(plan) and
// parse+plan+count of bench_queries.h's two queries, over ONCOMESH_BENCH_INDIVIDUALS
// synthetic individuals (default 1,000,000; site "bench", seed 1, as cohort_bench and
// run.sh use). Also the target to profile: `perf record -g bench/index_count_bench`.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "bench_queries.h"
#include "index/cohort_index.h"
#include "query/beacon_request.h"
#include "synth/synth.h"

namespace {

using namespace oncomesh;

struct Fixture {
  std::unique_ptr<index::Vocabulary> vocab;
  std::unique_ptr<index::CohortIndex> index;
  std::vector<bench::Query> queries;
};

const Fixture& Get() {
  static const Fixture* fixture = [] {
    auto* f = new Fixture;
    auto vocab = index::Vocabulary::LoadEmbedded();
    if (!vocab.ok()) std::abort();
    f->vocab = std::make_unique<index::Vocabulary>(std::move(*vocab));
    synth::SynthOptions options;
    options.site = "bench";
    options.seed = 1;
    const char* n = std::getenv("ONCOMESH_BENCH_INDIVIDUALS");
    options.individuals = n != nullptr ? std::atoll(n) : 1'000'000;
    index::IndexBuilder builder(*f->vocab);
    const Status st = synth::GenerateRecords(options, [&](const model::RecordBatch& b) {
      for (const auto& r : b.individuals) builder.AddIndividual(r);
      for (const auto& r : b.diagnoses) builder.AddDiagnosis(r);
      for (const auto& r : b.observations) builder.AddObservation(r);
      for (const auto& r : b.treatments) builder.AddTreatment(r);
      for (const auto& r : b.biosamples) builder.AddBiosample(r);
      for (const auto& r : b.imaging_studies) builder.AddImagingStudy(r);
    });
    if (!st.ok()) {
      std::cerr << st.ToString() << "\n";
      std::abort();
    }
    f->index = builder.Finish();
    // The three most frequent ICD-10 categories (three-character codes).
    std::vector<std::pair<uint64_t, std::string>> categories;
    for (const index::TermInfo& t : f->index->Terms()) {
      if (t.id.rfind("ICD10:C", 0) == 0 && t.id.size() == 9) categories.emplace_back(t.count, t.id.substr(6));
    }
    std::sort(categories.rbegin(), categories.rend());
    f->queries = bench::MakeQueries({categories[0].second, categories[1].second, categories[2].second});
    return f;
  }();
  return *fixture;
}

void BM_Count(benchmark::State& state) {
  const Fixture& f = Get();
  const bench::Query& q = f.queries[static_cast<size_t>(state.range(0))];
  auto request = query::ParseBeaconPost(q.body);
  auto plan = query::BuildPlan(request->filters, *f.index);
  uint64_t count = 0;
  for (auto _ : state) benchmark::DoNotOptimize(count = f.index->Count(*plan));
  state.SetLabel(q.name + ", " + std::to_string(f.index->num_rows()) + " individuals, count " +
                 std::to_string(count));
}
BENCHMARK(BM_Count)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_ParsePlanCount(benchmark::State& state) {
  const Fixture& f = Get();
  const bench::Query& q = f.queries[static_cast<size_t>(state.range(0))];
  for (auto _ : state) {
    auto request = query::ParseBeaconPost(q.body);
    auto plan = query::BuildPlan(request->filters, *f.index);
    benchmark::DoNotOptimize(f.index->Count(*plan));
  }
  state.SetLabel(q.name);
}
BENCHMARK(BM_ParsePlanCount)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
