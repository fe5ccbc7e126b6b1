// The audit log on real files: concurrent appends in seq order, reopening, rotation, recovery
// of a torn tail, refusal of an inconsistent one, and what happens when a write or sync fails
// (injected through FileOps, and for real through RLIMIT_FSIZE, which needs no root).
#include "audit/audit_log.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "audit/internal/chain.h"
#include "audit/verify.h"
#include "support/audit_entries.h"
#include "support/process.h"

namespace oncomesh::audit {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const auth::Jwk& NodeKey() { return oncomesh::testing::AuditSigningKey(); }
std::vector<auth::Jwk> PublicKeys() { return oncomesh::testing::AuditPublicKeys(); }

AuditOptions Options() {
  AuditOptions o;
  o.node_name = "test-node";
  o.signing_key = NodeKey();
  o.checkpoint_entries = 50;
  return o;
}

// A count query's entry, as a Beacon handler would fill it.
Entry CountEntry(int i) {
  Entry e;
  e.type = EntryType::kRequest;
  e.caller = {"researcher-" + std::to_string(i % 7), "https://aai.example.org", "127.0.0.1:5000"};
  e.request = {"GET", "/api/individuals", "filters=NCIT:C4872&i=" + std::to_string(i)};
  e.access = {{"default", "count"}};
  e.outcome = {200, ""};
  e.disclosed.figures.push_back({"default", "individuals", 130});
  return e;
}

std::vector<std::string> Lines(const std::string& dir) {
  std::vector<std::string> lines;
  const std::vector<std::string> names = *internal::ListSegments(dir);
  for (const std::string& name : names) {
    std::ifstream in(dir + "/" + name);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  return lines;
}

// The entry without its "hash" member.
json Body(const std::string& line) {
  json body = json::parse(line);
  body.erase("hash");
  return body;
}

VerifyReport Verify(const std::string& dir) {
  Result<VerifyReport> r = VerifyLogDirectory(dir, PublicKeys());
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : VerifyReport{};
}

TEST(AuditLogTest, ConcurrentAppendsAreWrittenInSeqOrderAndVerify) {
  oncomesh::testing::TempDir tmp;
  const std::string dir = tmp.path() + "/audit";
  Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(dir, Options());
  ASSERT_TRUE(log.ok()) << log.status().ToString();

  constexpr int kThreads = 8, kPerThread = 150;
  std::mutex mu;
  std::set<uint64_t> seqs;
  std::atomic<int> callbacks{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      uint64_t last = 0;
      for (int i = 0; i < kPerThread; ++i) {
        if (i % 2 == 0) {  // synchronous: one thread's entries must get rising seqs
          Result<Receipt> r = (*log)->AppendSync(CountEntry(t * 1000 + i));
          if (!r.ok() || r->seq <= last) ++failures;
          if (r.ok()) {
            last = r->seq;
            std::lock_guard<std::mutex> lock(mu);
            seqs.insert(r->seq);
          }
          ++callbacks;
        } else {
          (*log)->Append(CountEntry(t * 1000 + i), [&](Result<Receipt> r) {
            if (!r.ok()) ++failures;
            std::lock_guard<std::mutex> lock(mu);
            if (r.ok()) seqs.insert(r->seq);
            ++callbacks;
          });
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE((*log)->Close().ok());
  EXPECT_EQ(callbacks, kThreads * kPerThread);
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(seqs.size(), static_cast<size_t>(kThreads * kPerThread));  // every seq once

  const VerifyReport report = Verify(dir);
  ASSERT_TRUE(report.ok()) << report.problem->ToString();
  // The open entry, the appends, a checkpoint every 50 entries and the closing one.
  EXPECT_EQ(report.entries, 1 + kThreads * kPerThread + report.checkpoints);
  EXPECT_GE(report.checkpoints, static_cast<uint64_t>((1 + kThreads * kPerThread) / 50));
  EXPECT_TRUE(report.ends_with_close);
  EXPECT_EQ(report.unsigned_tail, 0u);

  const std::vector<std::string> lines = Lines(dir);
  ASSERT_EQ(lines.size(), report.entries);
  EXPECT_EQ(Body(lines[0])["type"], "open");
  EXPECT_EQ(Body(lines[0])["key"], NodeKey().kid());
  const json request = Body(lines[1]);
  EXPECT_EQ(request["type"], "request");
  EXPECT_EQ(request["request"]["path"], "/api/individuals");
  EXPECT_EQ(request["access"]["default"], "count");
  EXPECT_EQ(request["disclosed"]["figures"][0]["value"], 130);
  EXPECT_EQ(request["caller"]["issuer"], "https://aai.example.org");
  // Canonical form: the line is the sorted dump with the hash member last.
  EXPECT_EQ(lines[1].rfind(",\"hash\":\"", std::string::npos), lines[1].size() - 75);
}

TEST(AuditLogTest, ReopeningContinuesTheChain) {
  oncomesh::testing::TempDir tmp;
  const std::string dir = tmp.path() + "/audit";
  uint64_t last = 0;
  for (int run = 0; run < 3; ++run) {
    Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(dir, Options());
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    EXPECT_GT((*log)->last_durable().seq, last);  // its open entry follows the last run's close
    for (int i = 0; i < 10; ++i) {
      Result<Receipt> r = (*log)->AppendSync(CountEntry(i));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
    last = (*log)->last_durable().seq;
  }  // closed by the destructor
  const VerifyReport report = Verify(dir);
  ASSERT_TRUE(report.ok()) << report.problem->ToString();
  EXPECT_EQ(report.entries, 3u * (1 + 10 + 1));  // open, 10 requests, close checkpoint
  EXPECT_TRUE(report.ends_with_close);
}

TEST(AuditLogTest, SecondOpenOfTheSameLogIsRefused) {
  oncomesh::testing::TempDir tmp;
  Result<std::unique_ptr<AuditLog>> first = AuditLog::Open(tmp.path(), Options());
  ASSERT_TRUE(first.ok());
  Result<std::unique_ptr<AuditLog>> second = AuditLog::Open(tmp.path(), Options());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
}

// Rotation while appenders and the syncer run: the writer drains the syncs before it closes a
// file, and only one fdatasync runs at a time (a second one on a closed file descriptor would
// fail the log, or sync another file).
TEST(AuditLogTest, RotationUnderConcurrentAppendsKeepsEveryAnsweredEntry) {
  for (Durability durability : {Durability::kSync, Durability::kWritten}) {
    SCOPED_TRACE(DurabilityName(durability));
    oncomesh::testing::TempDir tmp;
    AuditOptions o = Options();
    o.segment_bytes = 3000;  // a new file every few entries
    o.request_durability = durability;
    o.sync_interval = std::chrono::milliseconds(0);
    // fdatasyncs that take a while, counted while they run.
    std::atomic<int> in_flight{0}, most_in_flight{0};
    const FileOps posix = PosixFileOps();
    o.file_ops.sync = [&](int fd) {
      const int now = ++in_flight;
      int seen = most_in_flight;
      while (now > seen && !most_in_flight.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(std::chrono::microseconds(500));
      const int rc = posix.sync(fd);
      --in_flight;
      return rc;
    };
    Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(tmp.path(), o);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    constexpr int kThreads = 6, kPerThread = 80;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          if (!(*log)->AppendSync(CountEntry(t * 1000 + i)).ok()) ++failures;
        }
      });
    }
    for (std::thread& t : threads) t.join();
    ASSERT_TRUE((*log)->Close().ok());
    EXPECT_EQ(failures, 0);
    EXPECT_EQ(most_in_flight, 1);
    EXPECT_GE(internal::ListSegments(tmp.path())->size(), 20u);
    const VerifyReport report = Verify(tmp.path());
    ASSERT_TRUE(report.ok()) << report.problem->ToString();
    EXPECT_EQ(report.entries, 1 + kThreads * kPerThread + report.checkpoints);
    EXPECT_TRUE(report.ends_with_close);
  }
}

TEST(AuditLogTest, RotatesBySizeAndByDayAndTheChainCrossesFiles) {
  oncomesh::testing::TempDir tmp;
  std::atomic<int64_t> now_ms{1'740'787'200'000};  // 2025-03-01T00:00:00Z
  AuditOptions o = Options();
  o.segment_bytes = 4000;
  o.clock = [&] {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(now_ms));
  };
  {
    Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(tmp.path(), o);
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 40; ++i) {
      if (i == 30) now_ms += 24 * 3600 * 1000;  // the next day: a new file at once
      ASSERT_TRUE((*log)->AppendSync(CountEntry(i)).ok());
    }
  }
  const std::vector<std::string> names = *internal::ListSegments(tmp.path());
  ASSERT_GE(names.size(), 3u);
  for (const std::string& name : names) {
    std::ifstream in(tmp.path() + "/" + name);
    std::string first;
    std::getline(in, first);
    EXPECT_EQ(internal::SegmentFirstSeq(name), internal::ParseLine(first)->seq) << name;
  }
  // The first entry of 2 March starts its own file.
  bool day_starts_file = false;
  for (const std::string& name : names) {
    std::ifstream in(tmp.path() + "/" + name);
    std::string first;
    std::getline(in, first);
    day_starts_file |= internal::ParseLine(first)->time.rfind("2025-03-02", 0) == 0;
  }
  EXPECT_TRUE(day_starts_file);
  const VerifyReport report = Verify(tmp.path());
  EXPECT_TRUE(report.ok()) << report.problem->ToString();
  EXPECT_EQ(report.files.size(), names.size());
}

TEST(AuditLogTest, AClockSteppingBackIsHeldAtTheLastTime) {
  oncomesh::testing::TempDir tmp;
  std::atomic<int64_t> now_ms{1'740'787'200'000};
  AuditOptions o = Options();
  o.clock = [&] {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(now_ms));
  };
  Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(tmp.path(), o);
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->AppendSync(CountEntry(1)).ok());
  now_ms -= 3600 * 1000;
  ASSERT_TRUE((*log)->AppendSync(CountEntry(2)).ok());
  ASSERT_TRUE((*log)->Close().ok());
  const std::vector<std::string> lines = Lines(tmp.path());
  EXPECT_EQ(Body(lines[2])["time"], "2025-03-01T00:00:00.000Z");
  EXPECT_TRUE(Verify(tmp.path()).ok());
}

TEST(AuditLogTest, ATornLastLineIsCutAtOpenKeptAsideAndRecorded) {
  oncomesh::testing::TempDir tmp;
  {
    Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(tmp.path(), Options());
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE((*log)->AppendSync(CountEntry(i)).ok());
  }
  const std::vector<std::string> before = Lines(tmp.path());
  const std::string segment = tmp.path() + "/" + internal::ListSegments(tmp.path())->back();
  // A crash in the middle of a write: half of a line, no newline.
  const std::string half = before[3].substr(0, before[3].size() / 2);
  { std::ofstream(segment, std::ios::app) << half; }
  VerifyReport torn = Verify(tmp.path());
  ASSERT_FALSE(torn.ok());
  EXPECT_EQ(torn.problem->kind, ProblemKind::kTruncated);
  EXPECT_EQ(torn.problem->line, static_cast<int64_t>(before.size()) + 1);

  Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(tmp.path(), Options());
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_TRUE((*log)->Close().ok());
  const std::vector<std::string> after = Lines(tmp.path());
  const json open = Body(after[before.size()]);
  ASSERT_EQ(open["type"], "open");
  EXPECT_EQ(open["dropped_tail"]["bytes"], half.size());
  EXPECT_EQ(open["dropped_tail"]["sha256"], internal::Sha256Hex(half));
  const std::string saved = tmp.path() + "/" + open["dropped_tail"]["saved_as"].get<std::string>();
  std::ifstream in(saved, std::ios::binary);
  std::string kept((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(kept, half);
  EXPECT_TRUE(Verify(tmp.path()).ok());
}

TEST(AuditLogTest, AnInconsistentLogIsNotContinued) {
  oncomesh::testing::TempDir tmp;
  {
    Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(tmp.path(), Options());
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE((*log)->AppendSync(CountEntry(i)).ok());
  }
  const std::string segment = tmp.path() + "/" + internal::ListSegments(tmp.path())->back();
  std::vector<std::string> lines = Lines(tmp.path());
  ASSERT_EQ(lines.size(), 7u);  // open, 5 requests, the closing checkpoint
  // The tail from the last checkpoint is what Open checks: an edit there stops it.
  lines[6].replace(lines[6].find("\"close\""), 7, "\"CLOSE\"");
  uint64_t offset = 0;
  {
    std::ofstream out(segment, std::ios::trunc);
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i < 6) offset += lines[i].size() + 1;
      out << lines[i] << "\n";
    }
  }
  Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(tmp.path(), Options());
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(log.status().message().find("audit-000000000001.jsonl at byte " +
                                        std::to_string(offset) + " (seq 7): edited"),
            std::string::npos)
      << log.status().message();
}

// Issue 12 item 17: Open resumes from the last checkpoint and reads nothing before it (a start
// with a log of millions of entries took 10 s re-reading it). What lies before is `audit
// verify`'s to check: an edit there does not stop the node, and verify finds it.
TEST(AuditLogTest, OpenResumesFromTheLastCheckpointWithoutRereadingTheLog) {
  oncomesh::testing::TempDir tmp;
  {
    Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(tmp.path(), Options());
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 120; ++i) ASSERT_TRUE((*log)->AppendSync(CountEntry(i)).ok());
  }
  const std::string segment = tmp.path() + "/" + internal::ListSegments(tmp.path())->back();
  std::vector<std::string> lines = Lines(tmp.path());
  lines[2].replace(lines[2].find("\"GET\""), 5, "\"PUT\"");
  {
    std::ofstream out(segment, std::ios::trunc);
    for (const std::string& l : lines) out << l << "\n";
  }
  Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(tmp.path(), Options());
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  const Result<Receipt> next = (*log)->AppendSync(CountEntry(999));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->seq, lines.size() + 2);  // after the open entry, the chain continues
  ASSERT_TRUE((*log)->Close().ok());
  const VerifyReport report = Verify(tmp.path());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.problem->kind, ProblemKind::kEdited);
  EXPECT_EQ(report.problem->seq, 3u);
}

TEST(AuditLogTest, InvalidEntriesAreRefusedAndNotWritten) {
  oncomesh::testing::TempDir tmp;
  Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(tmp.path(), Options());
  ASSERT_TRUE(log.ok());
  Entry no_status = CountEntry(1);
  no_status.outcome.status = 0;
  Entry refusal_with_data = CountEntry(2);
  refusal_with_data.type = EntryType::kRefusal;
  refusal_with_data.outcome = {403, "record-level access needs a permit"};
  Entry refusal_without_reason = CountEntry(3);
  refusal_without_reason.type = EntryType::kRefusal;
  refusal_without_reason.disclosed = {};
  refusal_without_reason.outcome = {403, ""};
  Entry permit_without_decision;
  permit_without_decision.type = EntryType::kPermit;
  Entry revoke_without_reason;
  revoke_without_reason.type = EntryType::kPermit;
  revoke_without_reason.permit =
      PermitDecision{PermitAction::kRevoke, "permit-1", "r1", {"default"}, ""};
  Entry forged_checkpoint = CountEntry(4);
  forged_checkpoint.type = EntryType::kCheckpoint;
  for (Entry* e : {&no_status, &refusal_with_data, &refusal_without_reason,
                   &permit_without_decision, &revoke_without_reason, &forged_checkpoint}) {
    Result<Receipt> r = (*log)->AppendSync(*e);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << EntryTypeName(e->type);
  }
  EXPECT_TRUE((*log)->health().ok());
  EXPECT_EQ((*log)->last_durable().seq, 1u);  // the open entry only

  // And the valid forms of each.
  Entry refusal = refusal_without_reason;
  refusal.outcome.reason = "record-level access needs a permit";
  Entry permit;
  permit.type = EntryType::kPermit;
  permit.caller = {"dac-chair", "https://aai.example.org", "10.0.0.5:4431"};
  permit.permit =
      PermitDecision{PermitAction::kApprove, "permit-1", "researcher-1", {"default"}, ""};
  Entry files = CountEntry(5);
  files.disclosed.files.push_back({"3f2a", {{0, 65536}, {131072, 140000}}, 74464});
  files.disclosed.records.push_back({"default", RecordKind::kSopInstance, {"1.2.3.4"}});
  for (const Entry& e : {refusal, permit, files}) {
    Result<Receipt> r = (*log)->AppendSync(e);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
  }
  ASSERT_TRUE((*log)->Close().ok());
  const std::vector<std::string> lines = Lines(tmp.path());
  EXPECT_EQ(Body(lines[1])["outcome"]["reason"], "record-level access needs a permit");
  EXPECT_EQ(Body(lines[2])["permit"]["action"], "approve");
  EXPECT_EQ(Body(lines[3])["disclosed"]["files"][0]["ranges"][1], json::array({131072, 140000}));
  EXPECT_EQ(Body(lines[3])["disclosed"]["records"][0]["kind"], "sopInstance");
}

// FileOps that fail once told to: a write makes a short write of 10 bytes and then fails with
// ENOSPC (a disk filling up in the middle of a batch); a sync fails with EIO.
struct Faults {
  std::atomic<bool> write_broken{false}, sync_broken{false};
  std::atomic<int> broken_writes{0};
  FileOps ops() {
    return {[this](int fd, const void* data, size_t size) -> ssize_t {
              if (!write_broken) return ::write(fd, data, size);
              if (broken_writes++ == 0) return ::write(fd, data, std::min<size_t>(size, 10));
              errno = ENOSPC;
              return -1;
            },
            [this](int fd) {
              if (!sync_broken) return ::fdatasync(fd);
              errno = EIO;
              return -1;
            }};
  }
};

TEST(AuditLogTest, AFailedWriteFailsTheAppendAndEveryOneAfterUntilReopened) {
  for (const bool sync_fails : {false, true}) {
    SCOPED_TRACE(sync_fails ? "fdatasync fails (EIO)" : "write fails (short write, ENOSPC)");
    oncomesh::testing::TempDir tmp;
    Faults faults;
    AuditOptions o = Options();
    o.file_ops = faults.ops();
    Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(tmp.path(), o);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->AppendSync(CountEntry(1)).ok());
    const Receipt durable = (*log)->last_durable();
    (sync_fails ? faults.sync_broken : faults.write_broken) = true;

    Result<Receipt> failed = (*log)->AppendSync(CountEntry(2));
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
    EXPECT_NE(failed.status().message().find(sync_fails ? "Input/output error" : "No space left"),
              std::string::npos)
        << failed.status().message();
    EXPECT_FALSE((*log)->health().ok());
    EXPECT_EQ((*log)->last_durable().seq, durable.seq);  // nothing reported durable
    // Every later append is refused at once, with the same reason: a gap would break the chain.
    std::atomic<bool> called{false};
    (*log)->Append(CountEntry(3), [&](Result<Receipt> r) {
      EXPECT_FALSE(r.ok());
      called = true;
    });
    EXPECT_TRUE(called);
    EXPECT_FALSE((*log)->Close().ok());
    log->reset();

    // Reopened with a working disk: the log holds the durable entries and goes on.
    Result<std::unique_ptr<AuditLog>> reopened = AuditLog::Open(tmp.path(), Options());
    ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
    ASSERT_TRUE((*reopened)->Close().ok());
    const VerifyReport report = Verify(tmp.path());
    EXPECT_TRUE(report.ok()) << report.problem->ToString();
    const std::vector<std::string> lines = Lines(tmp.path());
    EXPECT_EQ(Body(lines[durable.seq])["type"], "open");  // the failed entry was cut back
  }
}

TEST(AuditLogTest, AFileSizeLimitMakesTheAppendFailForReal) {
  // RLIMIT_FSIZE: writes past the limit fail with EFBIG (SIGXFSZ ignored), no root needed.
  oncomesh::testing::TempDir tmp;
  Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(tmp.path(), Options());
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->AppendSync(CountEntry(1)).ok());
  const std::string segment = tmp.path() + "/" + internal::ListSegments(tmp.path())->back();
  const auto size = fs::file_size(segment);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit limited = old;
  limited.rlim_cur = size + 100;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
  Result<Receipt> failed = (*log)->AppendSync(CountEntry(2));
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
  std::signal(SIGXFSZ, old_handler);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("too large"), std::string::npos)
      << failed.status().message();
  EXPECT_FALSE((*log)->AppendSync(CountEntry(3)).ok());
  log->reset();
  EXPECT_EQ(fs::file_size(segment), size);  // cut back to what was durable
  EXPECT_TRUE(Verify(tmp.path()).ok());
}

TEST(AuditLogTest, ACheckpointIsWrittenAfterTheIntervalWithoutTraffic) {
  oncomesh::testing::TempDir tmp;
  AuditOptions o = Options();
  o.checkpoint_interval = std::chrono::milliseconds(20);
  Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(tmp.path(), o);
  ASSERT_TRUE(log.ok());
  const uint64_t seq = (*log)->AppendSync(CountEntry(1))->seq;
  // Waits for the writer's timer (no timing asserted: only that it happens).
  for (int i = 0; i < 1000 && (*log)->last_durable().seq == seq; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ((*log)->last_durable().seq, seq + 1);
  const std::vector<std::string> lines = Lines(tmp.path());
  EXPECT_EQ(Body(lines.back())["checkpoint"]["reason"], "interval");
  // An explicit checkpoint with nothing new to sign is the last one.
  Result<Receipt> cp = (*log)->Checkpoint();
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->seq, seq + 1);
  const VerifyReport report = Verify(tmp.path());
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.unsigned_tail, 0u);
}

// Issue 12 item 16: a log whose last entry is a checkpoint (nothing left unsigned) still gets
// its closing checkpoint, or verify calls a clean stop "not closed".
TEST(AuditLogTest, CloseSignsALogThatAlreadyEndsWithACheckpoint) {
  oncomesh::testing::TempDir tmp;
  Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(tmp.path(), Options());
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->AppendSync(CountEntry(1)).ok());
  Result<Receipt> cp = (*log)->Checkpoint();
  ASSERT_TRUE(cp.ok());
  ASSERT_TRUE((*log)->Close().ok());
  const std::vector<std::string> lines = Lines(tmp.path());
  ASSERT_EQ(lines.size(), 4u);  // open, request, checkpoint, close
  EXPECT_EQ(Body(lines[2])["checkpoint"]["reason"], "request");
  EXPECT_EQ(Body(lines[3])["checkpoint"]["reason"], "close");
  const VerifyReport report = Verify(tmp.path());
  EXPECT_TRUE(report.ok());
  EXPECT_TRUE(report.ends_with_close);
}

}  // namespace
}  // namespace oncomesh::audit

namespace oncomesh::audit {
namespace {

// A sync that can be held: while held, every fdatasync blocks until released (or fails once
// released, if told to), so the tests see what is acknowledged before its sync without timing.
struct HeldSync {
  std::mutex mu;
  std::condition_variable cv;
  bool held = false, fail = false;
  int waiting = 0;
  FileOps ops() {
    return {[](int fd, const void* data, size_t size) { return ::write(fd, data, size); },
            [this](int fd) {
              std::unique_lock<std::mutex> lock(mu);
              ++waiting;
              cv.notify_all();
              cv.wait(lock, [this] { return !held; });
              --waiting;
              if (fail) {
                errno = EIO;
                return -1;
              }
              return ::fdatasync(fd);
            }};
  }
  void Hold() {
    std::lock_guard<std::mutex> lock(mu);
    held = true;
  }
  void Release(bool then_fail = false) {
    std::lock_guard<std::mutex> lock(mu);
    held = false;
    fail = then_fail;
    cv.notify_all();
  }
  // Waits until the syncer is blocked in a held sync.
  void WaitBlocked() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [this] { return waiting > 0; });
  }
};

Entry PermitEntry() {
  Entry e;
  e.type = EntryType::kPermit;
  e.caller = {"dac-chair", "https://aai.example.org", "10.0.0.5:4431"};
  e.permit = PermitDecision{PermitAction::kApprove, "permit-1", "researcher-1", {"default"}, ""};
  return e;
}

TEST(AuditLogDurabilityTest, DurabilityNamesRoundTrip) {
  for (Durability d : {Durability::kSync, Durability::kWritten}) {
    EXPECT_EQ(DurabilityFromName(DurabilityName(d)), d);
  }
  EXPECT_FALSE(DurabilityFromName("fsync").has_value());
}

TEST(AuditLogDurabilityTest, WrittenAcknowledgesRequestsBeforeTheirSyncButPermitsAfter) {
  oncomesh::testing::TempDir tmp;
  HeldSync sync;
  AuditOptions o = Options();
  o.request_durability = Durability::kWritten;
  o.file_ops = sync.ops();
  Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(tmp.path(), o);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  const uint64_t opened = (*log)->last_durable().seq;

  sync.Hold();
  Result<Receipt> request = (*log)->AppendSync(CountEntry(1));  // returns while no sync can end
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_FALSE(request->synced);
  EXPECT_EQ((*log)->last_durable().seq, opened);  // written, not yet synced
  // Its line is in the file (the page cache) already.
  EXPECT_EQ(Body(Lines(tmp.path()).back())["seq"], request->seq);

  std::atomic<bool> permit_done{false};
  Result<Receipt> permit = Internal("not yet");
  std::thread t([&] {
    permit = (*log)->AppendSync(PermitEntry());
    permit_done = true;
  });
  sync.WaitBlocked();
  EXPECT_FALSE(permit_done);  // a permit decision waits for its fdatasync
  sync.Release();
  t.join();
  ASSERT_TRUE(permit.ok()) << permit.status().ToString();
  EXPECT_TRUE(permit->synced);
  EXPECT_GE((*log)->last_durable().seq, permit->seq);
  ASSERT_TRUE((*log)->Close().ok());
  EXPECT_TRUE(Verify(tmp.path()).ok());
}

TEST(AuditLogDurabilityTest, SyncIsTheDefaultAndWaitsForTheFdatasync) {
  oncomesh::testing::TempDir tmp;
  Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(tmp.path(), Options());
  ASSERT_TRUE(log.ok());
  Result<Receipt> r = (*log)->AppendSync(CountEntry(1));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->synced);
  EXPECT_GE((*log)->last_durable().seq, r->seq);
}

TEST(AuditLogDurabilityTest, PastMaxUnsyncedEntriesRequestsWaitForTheSync) {
  oncomesh::testing::TempDir tmp;
  HeldSync sync;
  AuditOptions o = Options();
  o.request_durability = Durability::kWritten;
  o.max_unsynced_entries = 2;
  o.file_ops = sync.ops();
  Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(tmp.path(), o);
  ASSERT_TRUE(log.ok());
  sync.Hold();
  ASSERT_FALSE((*log)->AppendSync(CountEntry(1))->synced);
  ASSERT_FALSE((*log)->AppendSync(CountEntry(2))->synced);
  std::atomic<bool> third_done{false};
  Result<Receipt> third = Internal("not yet");
  std::thread t([&] {
    third = (*log)->AppendSync(CountEntry(3));
    third_done = true;
  });
  sync.WaitBlocked();
  // Wait until the third is in the file: released before that, the sync would make room under
  // the bound and the third could rightly be acknowledged as written.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto third_written = [&] {
    for (const std::string& line : Lines(tmp.path())) {
      if (line.find("i=3\"") != std::string::npos) return true;
    }
    return false;
  };
  while (!third_written() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(third_written());
  // Its writer decides between acknowledging and waiting just after the write(), under the log's
  // lock, before it takes its next batch. A fourth entry appended now is in a later batch: once
  // it is in the file, the third's decision has been made (no sleep that a slow machine outruns).
  Result<Receipt> fourth = Internal("not yet");
  std::thread t4([&] { fourth = (*log)->AppendSync(CountEntry(4)); });
  auto fourth_written = [&] {
    for (const std::string& line : Lines(tmp.path())) {
      if (line.find("i=4\"") != std::string::npos) return true;
    }
    return false;
  };
  while (!fourth_written() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(fourth_written());
  // The third is written, but two entries already wait for their sync: it waits too.
  EXPECT_FALSE(third_done);
  sync.Release();
  t.join();
  t4.join();
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(third->synced);
  ASSERT_TRUE(fourth.ok());
  EXPECT_TRUE(fourth->synced);
}

TEST(AuditLogDurabilityTest, AFailedSyncUnderWrittenKeepsWhatWasAnsweredAndRefusesTheRest) {
  oncomesh::testing::TempDir tmp;
  HeldSync sync;
  AuditOptions o = Options();
  o.request_durability = Durability::kWritten;
  o.file_ops = sync.ops();
  Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(tmp.path(), o);
  ASSERT_TRUE(log.ok());
  sync.Hold();
  Result<Receipt> answered = (*log)->AppendSync(CountEntry(1));
  ASSERT_TRUE(answered.ok());
  std::atomic<bool> permit_done{false};
  Result<Receipt> permit = Internal("not yet");
  std::thread t([&] {
    permit = (*log)->AppendSync(PermitEntry());
    permit_done = true;
  });
  sync.WaitBlocked();
  sync.Release(/*then_fail=*/true);
  t.join();
  ASSERT_FALSE(permit.ok());
  EXPECT_NE(permit.status().message().find("Input/output error"), std::string::npos);
  EXPECT_FALSE((*log)->health().ok());
  EXPECT_FALSE((*log)->AppendSync(CountEntry(2)).ok());
  EXPECT_FALSE((*log)->Close().ok());
  log->reset();
  // The answered request stays in the file: its answer left.
  bool found = false;
  for (const std::string& line : Lines(tmp.path())) found |= Body(line)["seq"] == answered->seq;
  EXPECT_TRUE(found);
}

TEST(AuditLogDurabilityTest, APacedSyncNeverDelaysAnAppenderWhoWaitsForIt) {
  oncomesh::testing::TempDir tmp;
  AuditOptions o = Options();
  o.request_durability = Durability::kWritten;
  o.sync_interval = std::chrono::hours(1);  // unawaited syncs: practically never
  Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(tmp.path(), o);
  ASSERT_TRUE(log.ok());
  for (int i = 0; i < 3; ++i) ASSERT_FALSE((*log)->AppendSync(CountEntry(i))->synced);
  // A permit waits for its fdatasync, which starts at once and covers the requests too.
  Result<Receipt> permit = (*log)->AppendSync(PermitEntry());
  ASSERT_TRUE(permit.ok());
  EXPECT_TRUE(permit->synced);
  EXPECT_EQ((*log)->last_durable().seq, permit->seq);
  ASSERT_FALSE((*log)->AppendSync(CountEntry(4))->synced);
  ASSERT_TRUE((*log)->Checkpoint().ok());  // so does a checkpoint
  EXPECT_EQ((*log)->last_durable().seq, (*log)->Checkpoint()->seq);
  ASSERT_FALSE((*log)->AppendSync(CountEntry(5))->synced);
  ASSERT_TRUE((*log)->Close().ok());  // and the close: everything synced
  const VerifyReport report = Verify(tmp.path());
  EXPECT_TRUE(report.ok());
  EXPECT_TRUE(report.ends_with_close);
}

TEST(AuditLogDurabilityTest, OpenDetailsAreInTheOpenEntry) {
  oncomesh::testing::TempDir tmp;
  AuditOptions o = Options();
  o.open_details = {{"requests_audited", false}};
  Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(tmp.path(), o);
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->Close().ok());
  EXPECT_EQ(Body(Lines(tmp.path())[0])["details"]["requests_audited"], false);
  EXPECT_TRUE(Verify(tmp.path()).ok());
}

}  // namespace
}  // namespace oncomesh::audit

namespace oncomesh::audit {
namespace {

// The writer serialises entries itself (internal::EntryMembers): its text must be exactly what
// nlohmann's dump() writes for the same value, whatever the strings hold.
TEST(EntryMembersTest, TheTextIsDumpsTextForEveryField) {
  Entry e = CountEntry(1);
  e.caller.subject = "r\xC3\xA9searcher \"1\"\n\t\x01\x7F";
  e.caller.issuer = "https://aai.example.org/\\path";
  e.request.body = R"({"query":{"filters":[{"id":"NCIT:C4872"}]}})";
  e.request.body_bytes = 9000;
  e.request.body_sha256 = std::string(64, 'a');
  e.request.path = "/api/\xFF\xFEinvalid";  // invalid UTF-8: replaced, as dump() does
  e.access = {{"b-set", "registered"}, {"a-set", "permitted"}};
  e.disclosed.records.push_back(
      {"default", RecordKind::kGenomicVariation, {"v1", "v\xE2\x82\xAC"}});
  e.disclosed.files.push_back({"genomes", {{0, 10}}, 25, {{10, 100}, {200, 300}}});
  e.details = {{"collections", {"x", "y"}}, {"credentials", {{"verified", false}}}};
  Entry permit;
  permit.type = EntryType::kPermit;
  permit.caller = {"dac", "https://aai.example.org", "10.0.0.1:1"};
  permit.permit = PermitDecision{PermitAction::kRevoke, "p-1", "r1", {"a", "b"}, "ended \"early\""};
  Entry anonymous_refusal = CountEntry(2);
  anonymous_refusal.type = EntryType::kRefusal;
  anonymous_refusal.caller = {"", "", "127.0.0.1:1", true};
  anonymous_refusal.disclosed = {};
  anonymous_refusal.outcome = {401, "forged"};
  for (const Entry* entry : {&e, &permit, &anonymous_refusal}) {
    internal::Members members = internal::EntryMembers(*entry);
    members.emplace_back("type", std::string("\"") + EntryTypeName(entry->type) + "\"");
    members.emplace_back("seq", "7");
    members.emplace_back("prev", "\"" + std::string(internal::kGenesisHash) + "\"");
    json object = json::object();
    for (const auto& [key, text] : members) {
      const json value = json::parse(text);
      EXPECT_EQ(value.dump(-1, ' ', false, json::error_handler_t::replace), text) << key;
      object[key] = value;
    }
    EXPECT_EQ(internal::SealMembers(members).text, internal::Seal(object).text);
  }
}

}  // namespace
}  // namespace oncomesh::audit
