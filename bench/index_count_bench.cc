// Google Benchmark figures for the cohort index alone (no SQL, no HTTP): Count(plan) and
// parse+plan+count of bench_queries.h's two queries, over ONCOMESH_BENCH_INDIVIDUALS
// synthetic individuals (default 1,000,000; site "bench", seed 1, as cohort_bench and
// run.sh use). Also the target to profile: `perf record -g bench/index_count_bench`.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
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

// Where stats().memory_bytes goes, per individual (to stderr, before the benchmarks).
void PrintMemoryBreakdown(const index::CohortIndex& idx) {
  const double n = idx.num_rows();
  size_t exact = 0, descendants = 0, shared = 0;
  std::vector<std::pair<size_t, std::string>> largest;
  for (const index::TermInfo& t : idx.Terms()) {
    if (t.type == index::TermType::kAlphanumeric) continue;
    const index::Posting* e = idx.Find(t.id, false);
    const index::Posting* d = idx.Find(t.id, true);
    if (e != nullptr) exact += e->SizeInBytes();
    if (d != nullptr) {
      descendants += d->SizeInBytes();
      largest.emplace_back(d->SizeInBytes(), t.id);
      // A term without descendants has the same rows twice.
      if (e != nullptr && e->cardinality() == d->cardinality()) shared += d->SizeInBytes();
    }
  }
  std::fprintf(stderr, "index memory per individual (%.0f individuals): stats %.1f B\n", n,
               static_cast<double>(idx.stats().memory_bytes) / n);
  for (const char* name : {"ageAtDiagnosis", "dateOfDiagnosis"}) {
    const index::RangeAttribute* a = idx.FindAttribute(name);
    std::fprintf(stderr, "  range %-16s %5.1f B (of which the per-row value 4.0 B; %d buckets)\n",
                 name, static_cast<double>(a->SizeInBytes()) / n,
                 a->max_bucket() - a->min_bucket() + 1);
  }
  std::fprintf(stderr, "  exact postings        %5.1f B\n", static_cast<double>(exact) / n);
  std::fprintf(stderr,
               "  descendant postings   %5.1f B (%.1f B of them identical to the exact posting)\n",
               static_cast<double>(descendants) / n, static_cast<double>(shared) / n);
  std::fprintf(stderr, "  biosample counts      %5.1f B\n", 2.0);
  std::sort(largest.rbegin(), largest.rend());
  std::fprintf(stderr, "  largest descendant postings:");
  for (size_t i = 0; i < 8 && i < largest.size(); ++i) {
    std::fprintf(stderr, " %s %.2f", largest[i].second.c_str(),
                 static_cast<double>(largest[i].first) / n);
  }
  std::fprintf(stderr, "\n");
}

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
    Status added = Status::Ok();
    Status st = synth::GenerateRecords(options, [&](const model::RecordBatch& b) {
      if (added.ok()) added = builder.AddBatch(b);
    });
    if (st.ok()) st = added;
    if (!st.ok()) {
      std::cerr << st.ToString() << "\n";
      std::abort();
    }
    f->index = builder.Finish();
    PrintMemoryBreakdown(*f->index);
    // The three most frequent ICD-10 categories (three-character codes).
    std::vector<std::pair<uint64_t, std::string>> categories;
    for (const index::TermInfo& t : f->index->Terms()) {
      if (t.id.rfind("ICD10:C", 0) == 0 && t.id.size() == 9)
        categories.emplace_back(t.count, t.id.substr(6));
    }
    std::sort(categories.rbegin(), categories.rend());
    f->queries =
        bench::MakeQueries({categories[0].second, categories[1].second, categories[2].second});
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

// An experiment, not the node's code: the same two counts as one fused pass per 64K-row chunk
// ((a | b | c) & has_age & ~age_below & t1 & t2 & t3, popcounted in the same loop) over the
// same postings, array containers turned into bitsets per query. It shows what the plan
// evaluator's design costs (it materialises every node into a scratch bitset and counts
// afterwards); docs/benchmarks.md has the figures.
struct Shape {
  std::vector<const index::Posting*> any;  // the anyOf
  const index::RangeAttribute* age = nullptr;
  int32_t age_at_least = 0;                // whole years
  std::vector<const index::Posting*> all;  // the three terms
};

Shape ShapeOf(const Fixture& f, size_t q) {
  const nlohmann::json filters = nlohmann::json::parse(f.queries[q].body)["query"]["filters"];
  Shape s;
  for (const auto& t : filters[0]["anyOf"]) s.any.push_back(f.index->Find(t["id"], true));
  s.age = f.index->FindAttribute("ageAtDiagnosis");
  s.age_at_least = std::stoi(filters[1]["value"].get<std::string>().substr(1));
  for (size_t i = 2; i < filters.size(); ++i)
    s.all.push_back(f.index->Find(filters[i]["id"], true));
  return s;
}

__attribute__((target_clones("arch=x86-64-v3", "default"))) uint64_t FusedChunk(
    const uint64_t* const* any, size_t n_any, const uint64_t* has, const uint64_t* below,
    const uint64_t* const* all) {
  uint64_t n = 0;
  for (uint32_t i = 0; i < index::kChunkWords; ++i) {
    uint64_t x = 0;
    for (size_t k = 0; k < n_any; ++k) x |= any[k][i];
    x &= has[i] & ~below[i] & all[0][i] & all[1][i] & all[2][i];
    n += static_cast<uint64_t>(__builtin_popcountll(x));
  }
  return n;
}

// Array containers of at least kDenseArray rows kept as bitsets (variant 1): 8 KB a chunk,
// no more than the array's own 2 bytes a row at 4,096 rows.
constexpr int32_t kDenseArray = 1024;
using Prepared = std::unordered_map<uint64_t, std::vector<uint64_t>>;  // (posting, chunk)

uint64_t PreparedKey(const index::Posting* p, uint32_t chunk) {
  return reinterpret_cast<uintptr_t>(p) * 1'000'003u + chunk;
}

// Rows aged below the query's bound: the range-encoded group posting just under it (the
// bounds the queries use, P50Y and P80Y, fall on the index's five-year group edges).
const index::Posting* AgeBelow(const Shape& s) {
  return s.age->AtMostGroup(s.age->GroupOf(s.age_at_least) - 1);
}

uint64_t FusedCount(const Shape& s, uint32_t num_rows, Prepared* prepared) {
  alignas(64) static thread_local uint64_t scratch[8][index::kChunkWords];
  alignas(64) static const uint64_t kZero[index::kChunkWords] = {};
  const uint32_t chunks = (num_rows + index::kChunkBits - 1) / index::kChunkBits;
  const index::Posting* below = AgeBelow(s);
  uint64_t total = 0;
  for (uint32_t c = 0; c < chunks; ++c) {
    int slot = 0;
    // Words of a posting's chunk: the bitset itself, or an array/run container set into
    // scratch; nullptr when the chunk is empty.
    auto words = [&](const index::Posting* p) -> const uint64_t* {
      const index::ChunkView v = p != nullptr ? p->View(c) : index::ChunkView{};
      if (v.kind == index::ChunkView::kEmpty) return nullptr;
      if (v.kind == index::ChunkView::kBitset) return v.words;
      if (prepared != nullptr && v.kind == index::ChunkView::kArray && v.size >= kDenseArray) {
        std::vector<uint64_t>& dense = (*prepared)[PreparedKey(p, c)];
        if (!dense.empty()) return dense.data();
        dense.assign(index::kChunkWords, 0);
        for (int32_t i = 0; i < v.size; ++i)
          dense[v.array[i] >> 6] |= uint64_t{1} << (v.array[i] & 63);
        return dense.data();
      }
      uint64_t* w = scratch[slot++];
      std::fill(w, w + index::kChunkWords, 0);
      if (v.kind == index::ChunkView::kArray) {
        for (int32_t i = 0; i < v.size; ++i) w[v.array[i] >> 6] |= uint64_t{1} << (v.array[i] & 63);
      } else {
        for (int32_t i = 0; i < v.size; ++i) {
          for (uint32_t r = v.runs[i].value; r <= uint32_t{v.runs[i].value} + v.runs[i].length;
               ++r) {
            w[r >> 6] |= uint64_t{1} << (r & 63);
          }
        }
      }
      return w;
    };
    const uint64_t* all[3];
    bool empty = false;
    for (size_t k = 0; k < 3 && !empty; ++k) empty = (all[k] = words(s.all[k])) == nullptr;
    const uint64_t* has = empty ? nullptr : words(&s.age->has_value());
    if (empty || has == nullptr) continue;
    const uint64_t* any[8];
    size_t n_any = 0;
    for (const index::Posting* p : s.any) {
      if (const uint64_t* w = words(p)) any[n_any++] = w;
    }
    if (n_any == 0) continue;
    const uint64_t* b = words(below);
    total += FusedChunk(any, n_any, has, b != nullptr ? b : kZero, all);
  }
  return total;  // rows beyond num_rows are never set in any posting
}

void BM_FusedSketch(benchmark::State& state) {
  const Fixture& f = Get();
  const Shape shape = ShapeOf(f, static_cast<size_t>(state.range(0)));
  auto request = query::ParseBeaconPost(f.queries[static_cast<size_t>(state.range(0))].body);
  const uint64_t expected = f.index->Count(*query::BuildPlan(request->filters, *f.index));
  Prepared prepared;
  Prepared* use = state.range(1) == 1 ? &prepared : nullptr;
  uint64_t count = FusedCount(shape, f.index->num_rows(), use);  // fills `prepared`
  for (auto _ : state)
    benchmark::DoNotOptimize(count = FusedCount(shape, f.index->num_rows(), use));
  if (count != expected) state.SkipWithError("fused count differs from CohortIndex::Count");
  // Container kinds in chunk 0 (a: array, b: bitset, r: run, -: empty), in the order
  // anyOf | has_age below_age | terms: what the per-query array-to-bitset work is.
  auto kind = [](const index::Posting* p) { return p == nullptr ? '-' : "-abr"[p->View(0).kind]; };
  std::string kinds;
  for (const index::Posting* p : shape.any) kinds += kind(p);
  kinds += std::string(" | ") + kind(&shape.age->has_value()) + kind(AgeBelow(shape)) + " | ";
  for (const index::Posting* p : shape.all) kinds += kind(p);
  state.SetLabel(f.queries[static_cast<size_t>(state.range(0))].name + " (experiment), count " +
                 std::to_string(count) + ", chunk 0 containers " + kinds);
}
// Args: query (0 dense, 1 selective); 0: arrays set into scratch per query, 1: arrays of
// >= 1,024 rows prepared as bitsets once.
BENCHMARK(BM_FusedSketch)->ArgsProduct({{0, 1}, {0, 1}})->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
