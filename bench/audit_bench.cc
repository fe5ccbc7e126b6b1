// Google Benchmark figures for the audit log (audit/audit_log.h), on the disk of the directory
// it is run in (set ONCOMESH_BENCH_AUDIT_DIR to put the log on a node's disk):
//
//   BM_Fdatasync            one 512-byte append + fdatasync: the floor of a durable append
//   BM_SealEntry            the CPU an entry costs (its JSON text, SHA-256), without I/O
//   BM_AppendSync/threads:N N appenders each waiting for its entry to be durable (group
//                           commit; Durability::kSync): items_per_second is the log's
//                           throughput at that concurrency, p50_us / p99_us the append latency
//                           an answer waits
//   BM_AppendWritten/threads:N  the same under Durability::kWritten (an answer waits for the
//                           write(); fdatasyncs paced at 20 ms, as a node's default)
//
// A count query's answer waits for one append; with N requests in flight the audited node's
// throughput is bounded by the appends/s at N, to compare with the unaudited req/s
// (docs/benchmarks.md).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "audit/internal/chain.h"

namespace {

using namespace oncomesh;
namespace fs = std::filesystem;

std::string BenchDir() {
  static const std::string dir = [] {
    const char* base = std::getenv("ONCOMESH_BENCH_AUDIT_DIR");
    const fs::path root = base != nullptr ? fs::path(base) : fs::current_path();
    const fs::path dir = root / ("audit-bench-" + std::to_string(getpid()));
    fs::create_directories(dir);
    std::atexit([] { fs::remove_all(BenchDir()); });
    return dir.string();
  }();
  return dir;
}

// A count query's entry, as the Beacon handler will write it.
audit::Entry CountEntry() {
  audit::Entry e;
  e.caller = {"researcher-1", "https://aai.example.org", "127.0.0.1:51234"};
  e.request = {"POST", "/api/individuals", ""};
  e.access = {{"default", "count"}};
  e.outcome = {200, ""};
  e.disclosed.figures.push_back({"default", "individuals", 146430});
  return e;
}

audit::AuditLog* OpenLog(const std::string& name, audit::Durability durability) {
  audit::AuditOptions o;
  o.node_name = "bench";
  o.signing_key = *auth::Jwk::GenerateEs256();
  o.request_durability = durability;
  o.sync_interval = std::chrono::milliseconds(durability == audit::Durability::kWritten ? 20 : 0);
  Result<std::unique_ptr<audit::AuditLog>> opened =
      audit::AuditLog::Open(BenchDir() + "/" + name, o);
  if (!opened.ok()) {
    std::fprintf(stderr, "audit_bench: %s\n", opened.status().ToString().c_str());
    std::abort();
  }
  return opened->release();
}

audit::AuditLog& Log() {
  static audit::AuditLog* log = OpenLog("audit", audit::Durability::kSync);
  return *log;
}

audit::AuditLog& WrittenLog() {
  static audit::AuditLog* log = OpenLog("audit-written", audit::Durability::kWritten);
  return *log;
}

void BM_Fdatasync(benchmark::State& state) {
  const std::string path = BenchDir() + "/fdatasync.bin";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0640);
  const std::string line(511, 'x');
  const std::string record = line + "\n";
  for (auto _ : state) {
    if (::write(fd, record.data(), record.size()) != static_cast<ssize_t>(record.size()) ||
        ::fdatasync(fd) != 0) {
      state.SkipWithError("write or fdatasync failed");
      break;
    }
  }
  ::close(fd);
}
BENCHMARK(BM_Fdatasync)->UseRealTime();

void BM_SealEntry(benchmark::State& state) {
  const audit::Entry entry = CountEntry();
  uint64_t seq = 0;
  std::string prev(audit::internal::kGenesisHash);
  for (auto _ : state) {
    // What AuditLog::Append and the writer do with an entry.
    audit::internal::Members members = audit::internal::EntryMembers(entry);
    members.emplace_back("type", "\"request\"");
    members.emplace_back("seq", std::to_string(++seq));
    members.emplace_back("time", "\"2025-03-01T12:00:00.000Z\"");
    members.emplace_back("prev", "\"" + prev + "\"");
    audit::internal::SealedLine sealed = audit::internal::SealMembers(std::move(members));
    prev = std::move(sealed.hash);
    benchmark::DoNotOptimize(sealed.text);
  }
}
BENCHMARK(BM_SealEntry);

void AppendLoop(benchmark::State& state, audit::AuditLog& log) {
  std::vector<double> us;
  us.reserve(4096);
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    Result<audit::Receipt> r = log.AppendSync(CountEntry());
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                     .count());
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  if (us.empty()) return;
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] =
      benchmark::Counter(us[(us.size() - 1) / 2], benchmark::Counter::kAvgThreads);
  state.counters["p99_us"] = benchmark::Counter(us[std::min(us.size() - 1, us.size() * 99 / 100)],
                                                benchmark::Counter::kAvgThreads);
}
void BM_AppendSync(benchmark::State& state) { AppendLoop(state, Log()); }
BENCHMARK(BM_AppendSync)->Threads(1)->Threads(8)->Threads(64)->UseRealTime()->MinTime(2.0);

void BM_AppendWritten(benchmark::State& state) { AppendLoop(state, WrittenLog()); }
BENCHMARK(BM_AppendWritten)->Threads(1)->Threads(8)->Threads(64)->UseRealTime()->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
