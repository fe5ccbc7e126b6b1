// The audit log at scale (issue 12 item 17): a node's log of millions of entries, how fast it is
// verified and how fast it is opened. bench/audit_scale.sh drives it and times `oncomesh audit
// verify` and `oncomesh node serve` against the same log.
//
//   audit_scale_bench generate NODE_DIR N   appends N request entries of ~816 bytes (a Beacon
//                                           POST with its body, as the 5-minute soak wrote
//                                           them) to NODE_DIR/audit with the node's key, from 4
//                                           threads, and closes the log
//   audit_scale_bench verify NODE_DIR       VerifyLogDirectory in process: entries/s
//   audit_scale_bench open NODE_DIR         AuditLog::Open (recovery) then Close: seconds
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_log.h"
#include "audit/verify.h"
#include "node/node_dir.h"

namespace {

using namespace oncomesh;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// A registered caller's count query, body included: ~816 bytes on disk with seq, time, hashes.
audit::Entry SoakEntry(uint64_t i) {
  audit::Entry e;
  e.caller = {"researcher-" + std::to_string(i % 97), "https://broker.oncomesh.test",
              "127.0.0.1:" + std::to_string(30000 + i % 30000)};
  e.request.method = "POST";
  e.request.path = "/api/individuals";
  e.request.body =
      R"({"meta":{"apiVersion":"v2.0"},"query":{"filters":[{"id":"NCIT:C20197"},{"id":"NCIT:C4872"},)"
      R"({"id":"age","operator":">=","value":"P60Y"}],"requestParameters":{"g_variant":)"
      R"({"referenceName":"17","start":[7661779],"end":[7687538],"assemblyId":"GRCh38"}},)"
      R"("requestedGranularity":"count","includeResultsetResponses":"HIT"}})";
  e.access = {{"default", "registered"}};
  e.outcome = {200, ""};
  e.disclosed.figures.push_back({"", "individuals", static_cast<int64_t>(10 * (i % 50))});
  return e;
}

Result<node::NodeDir> OpenNode(const char* dir) {
  Result<node::NodeDir> node = node::NodeDir::Open(dir);
  if (!node.ok()) std::fprintf(stderr, "audit_scale_bench: %s\n", node.status().ToString().c_str());
  return node;
}

audit::AuditOptions Options(const node::NodeDir& node) {
  audit::AuditOptions o;
  o.node_name = node.config().name;
  o.signing_key = node.signing_key();
  o.request_durability = audit::Durability::kWritten;
  o.sync_interval = std::chrono::milliseconds(1000);
  o.max_unsynced_entries = 1u << 30;
  return o;
}

int Generate(const char* dir, uint64_t n) {
  Result<node::NodeDir> node = OpenNode(dir);
  if (!node.ok()) return 1;
  Result<std::unique_ptr<audit::AuditLog>> log =
      audit::AuditLog::Open(node->audit_dir(), Options(*node));
  if (!log.ok()) {
    std::fprintf(stderr, "audit_scale_bench: %s\n", log.status().ToString().c_str());
    return 1;
  }
  const Clock::time_point start = Clock::now();
  constexpr unsigned kThreads = 4;
  std::vector<std::thread> threads;
  std::atomic<bool> failed{false};
  for (unsigned t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t i = t; i < n && !failed; i += kThreads) {
        if (!(*log)->AppendSync(SoakEntry(i)).ok()) failed = true;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const Status closed = (*log)->Close();
  if (failed || !closed.ok()) {
    std::fprintf(stderr, "audit_scale_bench: appending failed: %s\n", closed.ToString().c_str());
    return 1;
  }
  std::printf("generated %llu entries in %.1f s\n", static_cast<unsigned long long>(n),
              Seconds(start));
  return 0;
}

int Verify(const char* dir) {
  Result<node::NodeDir> node = OpenNode(dir);
  if (!node.ok()) return 1;
  Result<std::vector<auth::Jwk>> keys = audit::ParseJwks(audit::PublicJwks({node->signing_key()}));
  const Clock::time_point start = Clock::now();
  Result<audit::VerifyReport> report = audit::VerifyLogDirectory(node->audit_dir(), *keys);
  const double s = Seconds(start);
  if (!report.ok() || !report->ok()) {
    std::fprintf(stderr, "audit_scale_bench: the log does not verify\n");
    return 1;
  }
  std::printf("verified %llu entries in %.2f s: %.0f entries/s\n",
              static_cast<unsigned long long>(report->entries), s,
              static_cast<double>(report->entries) / s);
  return 0;
}

int OpenClose(const char* dir) {
  Result<node::NodeDir> node = OpenNode(dir);
  if (!node.ok()) return 1;
  const Clock::time_point start = Clock::now();
  Result<std::unique_ptr<audit::AuditLog>> log =
      audit::AuditLog::Open(node->audit_dir(), Options(*node));
  const double s = Seconds(start);
  if (!log.ok()) {
    std::fprintf(stderr, "audit_scale_bench: %s\n", log.status().ToString().c_str());
    return 1;
  }
  if (!(*log)->Close().ok()) return 1;
  std::printf("opened the log in %.3f s\n", s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  if (command == "generate" && argc == 4)
    return Generate(argv[2], std::strtoull(argv[3], nullptr, 10));
  if (command == "verify" && argc == 3) return Verify(argv[2]);
  if (command == "open" && argc == 3) return OpenClose(argv[2]);
  std::fprintf(stderr,
               "usage: audit_scale_bench generate NODE_DIR N | verify NODE_DIR | open NODE_DIR\n");
  return 2;
}
