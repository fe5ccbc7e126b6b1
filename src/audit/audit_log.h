// The node's audit log: an append-only, hash-chained record of every request that reached the
// gate, what was granted, what left the node, and every permit decision (issue 5).
//
// Writing the entry is part of answering: a handler appends its entry and sends its answer
// only from the callback that says the entry is in the log. If the entry cannot be written, the
// callback gets an error and the answer must not be sent (answer 503 instead).
//
//   audit::Entry entry = ...;  // caller, request, access, outcome, what left (audit/entry.h)
//   log.Append(std::move(entry), [respond, response](Result<audit::Receipt> r) mutable {
//     if (!r.ok()) return respond(ServiceUnavailable(r.status()));
//     respond(std::move(response));  // the entry is in the log: the answer may leave
//   });
//
// (The node's data endpoints do exactly this in one place: api/audited.h.)
//
// ON DISK (NODE_DIR/audit/)
//   audit-<seq>.jsonl   segments, named by the seq of their first entry (12 digits, so names
//                       sort in seq order); a new one starts when the current one passes
//                       `segment_bytes` or the UTC day of its first entry has passed (so a day
//                       is a few whole files). The chain continues across files.
//   LOCK                held (flock) by the one process appending.
//   torn-<seq>.bin      the bytes of an incomplete last line dropped at open (see Recovery).
//   ANCHOR.json         after `oncomesh audit archive` moved the oldest segments away: the
//                       signed seq and hash the remaining chain starts from (audit/archive.h).
// Each segment is JSON lines (UTF-8, '\n'-terminated), one entry a line:
//   {"access":{...},"caller":{...},...,"prev":"<64
//   hex>","seq":17,"time":"2025-03-01T12:00:00.123Z",
//    "type":"request","hash":"<64 hex>"}
//   seq    1, 2, 3… with no gap; the order of the lines is the seq order.
//   time   when the writer sealed the entry: RFC 3339 UTC, milliseconds; never earlier than the
//          entry before (a clock stepping back is held at the last time), so a period of time is
//          a contiguous run of seqs.
//   type   request | refusal | permit (appended by handlers, fields in audit/entry.h),
//          open (the log was opened: node, software, key id, any torn tail dropped),
//          checkpoint (see below).
//   prev   the hash of entry seq-1; for seq 1, 64 zeros.
//   hash   SHA-256 (lowercase hex) of the canonical form of the entry without "hash".
// The canonical form is the exact bytes of the line without its `,"hash":"<64 hex>"` member:
// i.e. the line up to the last 75 bytes before '\n', followed by '}'. The writer produces it
// with nlohmann::json::dump() (members sorted by key bytes, no whitespace, non-ASCII as UTF-8,
// invalid UTF-8 replaced by U+FFFD) and appends the hash member last. A verifier never
// re-serialises: it hashes bytes, so it needs no JSON canonicalisation and can be written in
// any language (docs/audit.md has a ten-line Python one). The sorting is relied on for nothing
// but a stable, readable layout.
//
// CHECKPOINTS: an entry of type checkpoint carries "node" and "checkpoint": {"jws", "reason"},
// where jws is a compact JWS (ES256 with the node's key; header typ "oncomesh-audit-checkpoint",
// kid) over {"node", "seq": seq-1, "hash": prev, "time": the entry's time}: the node's signature
// over the whole chain before it. One is written after every `checkpoint_entries` entries, at
// most `checkpoint_interval` after an entry that no checkpoint covers yet, on Checkpoint(), and
// at Close() (reason "close": always, even when the entry before is itself a checkpoint, so
// that a log stopped cleanly ends with a close whatever checkpointed it last).
//
// WHAT THE CHAIN PROVES AND WHAT IT DOES NOT
//   Detected (by audit/verify.h): an edited entry (hash), a removed entry or file (seq gap), a
//   moved entry (seq order), an entry edited with its hash recomputed (the next prev), a chain
//   rewritten from some point with all hashes recomputed (the next checkpoint's signature no
//   longer matches), a forged or re-signed checkpoint (signature, key id), a cut mid-line.
//   Not detected from the files alone: removing whole lines at the END (back to any earlier
//   entry), or replacing the entries after the last checkpoint with others whose hashes are
//   recomputed: until a checkpoint signs them, the tail is proved by the chain only, and anyone
//   who can write the files can rewrite it. Checkpoints bound this to `checkpoint_entries`
//   entries or `checkpoint_interval`; verify reports the unsigned tail and whether the log ends
//   with a clean close. Only an anchor kept outside the node (a supervisor recording the last
//   checkpoint's seq and hash, which `audit verify` prints) detects a removed tail. And anyone
//   holding the node's private key (NODE_DIR/node_key.jwk) can rewrite everything and re-sign
//   it: the key file's protection is the log's protection, again short of an outside anchor.
//
// DURABILITY: what "in the log" means when a callback gets its Receipt.
//   Appends are queued; the appending thread that finds no write in progress becomes the
//   writer (as LevelDB's writer queue): it takes every entry queued, seals them and writes them
//   with one write() (group commit), and again while entries keep coming, then calls back those
//   acknowledged at once. One syncer thread fdatasync()s the file whenever something written is
//   not yet synced (the first entry of a new segment file also waits for the directory's
//   fsync), and writes the interval checkpoint when no append does. So entries are synced in
//   batches, and a batch is written while the previous one is synced. An fdatasync that an
//   appender waits for starts at once; one that nobody waits for (only kWritten entries are
//   unsynced) starts no sooner than `sync_interval` after the one before.
//   Durability::kSync (Receipt::synced): the callback comes after the fdatasync that covers the
//     entry. The entry survives a crash of the process, of the kernel and of the machine
//     (power loss), as far as the disk honours fdatasync. An answer waits for one fdatasync
//     (a few ms on this project's virtual disk: docs/audit.md), more under load.
//   Durability::kWritten (Receipt::synced false): the callback comes after the write() into the
//     file, before its fdatasync. The entry is in the kernel's page cache: it survives a crash
//     of the process (the kernel writes the file out by itself), NOT a crash of the kernel or of
//     the machine before its fdatasync completes. What a machine crash can lose is bounded: the
//     entries written in the last `sync_interval` plus two fdatasyncs (the one running and the
//     next), and never more than `max_unsynced_entries`: past that many written-but-unsynced
//     entries, new ones wait for the fdatasync as under kSync. On ext4 (data=ordered) what
//     survives of an unsynced tail is a prefix of it, whose cut last line Open drops
//     (RECOVERY); an entry lost so is an answer that left without a durable record, which is
//     the price of this mode.
//   `request_durability` chooses between them for entries of type request and refusal only.
//   Every other entry waits for its fdatasync whatever the option says: permit decisions, the
//   open entry, Checkpoint(), and Close() (which returns after the final fdatasync).
//   last_durable() is always the last synced entry.
//
// FAILURE: a failed write or sync fails every entry not yet acknowledged (their callbacks get
// the error) and every append after it: the log refuses further appends until it is reopened,
// because after a failed fdatasync the file's content is unknown (the kernel may have dropped
// the dirty pages) and a gap would break the chain. The writer then truncates the file back to
// the last acknowledged byte (synced, or written and acknowledged under kWritten), best effort;
// an entry of a failed batch may therefore remain on disk, saying an answer left that never
// did — an audit log may over-report, never under-report. Under kWritten, entries acknowledged
// before a failed fdatasync were answered; they are kept in the file, and whether they reach
// the disk is as uncertain as the failed fdatasync left it.
//
// RECOVERY at Open: the log is resumed from its last checkpoint, not re-read: the newest
// segment is searched from its end for its last checkpoint entry, and the chain is checked from
// that entry to the end of the file (the whole newest segment when it holds no checkpoint, then
// joined to the last line of the segment before it, or to the archive's anchor: audit/archive.h).
// So opening costs the tail since the last checkpoint (at most `checkpoint_entries` entries or
// `checkpoint_interval`), whatever the log's size (docs/audit.md, Figures). A last line
// without its '\n' (a crash in the middle of a write, or a machine crash that kept part of an
// unsynced tail) is cut off, saved as torn-<seq>.bin, logged, and recorded in the open entry
// ("dropped_tail"). Under kSync such a line was never acknowledged, so never answered; under
// kWritten it may have been (see DURABILITY), and the saved bytes are what is left of it.
// Anything else inconsistent (a bad hash, a gap, a malformed line) makes Open fail with
// DataLoss naming the file and line: an operator must look (oncomesh audit verify) before the
// node serves again.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "audit/entry.h"
#include "auth/jose.h"
#include "util/status.h"

namespace oncomesh::audit {

// Where an appended entry landed.
struct Receipt {
  uint64_t seq = 0;
  std::string hash;
  bool synced = true;  // false: written, its fdatasync still to come (Durability::kWritten)
};

// When an appender is called back (see DURABILITY above).
enum class Durability {
  kSync,     // after the fdatasync covering the entry: survives a machine crash
  kWritten,  // after its write(): survives a process crash; the fdatasync follows at once
};
// "sync" / "written".
const char* DurabilityName(Durability durability);
// The durability named `name`; nullopt for any other name.
std::optional<Durability> DurabilityFromName(std::string_view name);

// The file operations the writer uses, with the POSIX calls' contracts (return -1 and set errno
// on failure). A seam for fault injection (as LevelDB's Env): tests swap in a write that stops
// after N bytes with ENOSPC or a sync that fails with EIO. Default: ::write and ::fdatasync.
struct FileOps {
  std::function<ssize_t(int fd, const void* data, size_t size)> write;
  std::function<int(int fd)> sync;
};
FileOps PosixFileOps();

struct AuditOptions {
  std::string node_name;               // in open and checkpoint entries (required)
  auth::Jwk signing_key;               // signs checkpoints; must hold its private part
  uint64_t checkpoint_entries = 1000;  // a checkpoint after this many entries
  std::chrono::milliseconds checkpoint_interval{60'000};  // or this long after an unsigned one
  uint64_t segment_bytes = 64ull << 20;                   // a new file past this size (or day)
  size_t max_queue = 100'000;  // appends waiting beyond this are refused (Unavailable)
  // For request and refusal entries (every other type is always kSync).
  Durability request_durability = Durability::kSync;
  // kWritten: once this many written entries await their fdatasync, new ones wait for it too.
  uint64_t max_unsynced_entries = 4096;
  // An fdatasync that no appender waits for (only kWritten entries written) starts at least
  // this long after the one before; one that an appender waits for starts at once. 0: back to
  // back.
  std::chrono::milliseconds sync_interval{0};
  // Added to the open entry as "details" when not empty (e.g. how the node audits requests).
  nlohmann::json open_details = nlohmann::json::object();
  FileOps file_ops = PosixFileOps();
  // The clock that stamps entries (tests set it; default the system clock).
  std::function<std::chrono::system_clock::time_point()> clock = std::chrono::system_clock::now;
};

class AuditLog {
 public:
  // Called once, on one of the log's threads, when the entry is in the log as DURABILITY says
  // (a Receipt) or failed (an error: the answer must not be sent). It must not block: no
  // AppendSync, Checkpoint or Close from it (they wait for these threads); Append is fine.
  using Callback = std::function<void(Result<Receipt>)>;

  // Opens (creating when needed) the log in `dir` (NODE_DIR/audit), recovers a torn tail (see
  // above), takes the directory's lock, starts the writer and appends a durable open entry.
  // FailedPrecondition when another process holds the log; DataLoss when the newest files are
  // inconsistent; InvalidArgument for bad options; Unavailable when it cannot be written.
  [[nodiscard]] static Result<std::unique_ptr<AuditLog>> Open(const std::string& dir,
                                                              AuditOptions options);
  // Close()s the log.
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Queues `entry`; `done` is called as described above. When no other thread is writing, this
  // one writes what is queued before returning (a write(), never an fdatasync), so callbacks —
  // this append's and others' — may run on this thread before Append returns. An entry that
  // ValidateEntry refuses, an append after a write failure or after Close(), or one beyond
  // `max_queue`, is refused by calling `done` with the error before Append returns.
  // Thread-safe; entries get their seq in the order Append is called.
  void Append(const Entry& entry, Callback done);

  // Append and wait for the callback (so, under kWritten, a request entry's AppendSync returns
  // once it is written). Thread-safe; not from a Callback.
  [[nodiscard]] Result<Receipt> AppendSync(const Entry& entry);

  // Writes a checkpoint now (if any entry is not yet covered by one) and waits until it is
  // durable. Returns its receipt, or the last checkpoint's when nothing new needed signing.
  [[nodiscard]] Result<Receipt> Checkpoint();

  // Writes what is queued and a closing checkpoint, waits for the final fdatasync and stops the
  // log's threads. Later appends fail with FailedPrecondition. Returns the first write or sync
  // failure, if any. Idempotent.
  [[nodiscard]] Status Close();

  // OK, or the failure that made the log refuse appends (sticky until reopened).
  [[nodiscard]] Status health() const;

  // The seq and hash of the last synced entry.
  [[nodiscard]] Receipt last_durable() const;

  const std::string& dir() const { return dir_; }

 private:
  struct Pending {
    // The entry's members without seq, time, prev, hash (audit/internal/chain.h: Members).
    std::vector<std::pair<std::string, std::string>> members;
    bool checkpoint = false;       // an explicit Checkpoint() request (body unused)
    bool may_ack_written = false;  // a request/refusal entry under Durability::kWritten
    Callback done;
  };
  // An appender waiting for the fdatasync that covers its entry.
  struct SyncWaiter {
    uint64_t seq = 0;
    Callback done;
    Receipt receipt;
  };

  AuditLog(std::string dir, AuditOptions options);
  Status Recover();
  void Enqueue(Pending pending);
  std::string NextTime() const;
  // Seals `members` as the next entry, appends its line to `out` and returns its receipt.
  Receipt SealNext(std::vector<std::pair<std::string, std::string>> members,
                   const std::string& time, std::string* out);
  Status SealCheckpoint(const char* reason, std::string* out, Receipt* receipt);
  Status OpenSegment(uint64_t first_seq);
  Status WriteBatch(const std::string& bytes, uint64_t first_seq, const std::string& first_time);
  // The writer's work, by the thread that holds writing_ (with `lock` on mu_): rounds of
  // sealing and writing what is queued, acknowledging or handing to the syncer, until nothing is
  // queued or due; `closing` adds the closing checkpoint. Clears writing_.
  void WriteRounds(std::unique_lock<std::mutex>& lock, bool closing);
  // Waits (holding `lock`) until everything written is synced or the log failed.
  Status DrainSync(std::unique_lock<std::mutex>& lock);
  // One fdatasync of what is written, then its waiters' callbacks (holding `lock` around).
  void SyncOnce(std::unique_lock<std::mutex>& lock);
  // Truncates the current segment back to the last acknowledged byte, once, after a failure
  // (by the thread holding writing_).
  void CutBack(std::unique_lock<std::mutex>& lock);
  // The syncer thread: syncs whatever is written, and writes the interval checkpoint.
  void SyncLoop();

  const std::string dir_;
  const AuditOptions options_;
  int lock_fd_ = -1;

  // The chain and the current file: only the thread holding writing_ touches them.
  int fd_ = -1;
  std::string segment_day_;    // UTC day (YYYY-MM-DD) of the segment's first entry
  uint64_t segment_size_ = 0;  // bytes written into the current segment
  uint64_t last_seq_ = 0;
  std::string last_hash_;
  std::string last_time_;
  uint64_t unsigned_entries_ = 0;  // entries since the last checkpoint
  std::chrono::steady_clock::time_point first_unsigned_;
  Receipt last_checkpoint_;
  nlohmann::json dropped_tail_;  // for the open entry, when Recover cut a torn line

  mutable std::mutex mu_;
  std::condition_variable writer_cv_;  // writing_ was cleared, or the log closed
  std::condition_variable sync_cv_;    // wakes the syncer
  std::condition_variable synced_cv_;  // a sync ended (DrainSync waits on it)
  std::deque<Pending> queue_;          // guarded by mu_
  bool writing_ = false;               // guarded by mu_: a thread is the writer (WriteRounds)
  // guarded by mu_: when the interval checkpoint is due (max: nothing unsigned)
  std::chrono::steady_clock::time_point checkpoint_due_ =
      std::chrono::steady_clock::time_point::max();
  bool closing_ = false;   // guarded by mu_
  bool closed_ = false;    // guarded by mu_
  Status failure_;         // guarded by mu_: sticky write or sync failure
  bool cut_back_ = false;  // guarded by mu_: CutBack done
  Receipt durable_;        // guarded by mu_: the last synced entry
  Status close_status_;    // guarded by mu_
  // The file as the syncer sees it (guarded by mu_). Sizes are of the current segment.
  int sync_fd_ = -1;
  Receipt written_;  // the last entry written
  uint64_t written_size_ = 0;
  uint64_t synced_size_ = 0;
  uint64_t acked_size_ = 0;  // through the last entry acknowledged before its sync
  bool syncing_ = false;     // an fdatasync is running
  std::chrono::steady_clock::time_point last_sync_start_;
  // What the syncer waits for, so the writer wakes it only when it must.
  enum class SyncerWait { kNone, kIdle, kPacing, kWriter };
  SyncerWait syncer_wait_ = SyncerWait::kNone;
  bool stop_syncer_ = false;
  std::deque<SyncWaiter> sync_waiters_;  // in seq order
  std::mutex join_mu_;                   // one Close() joins the syncer
  std::thread syncer_;
};

}  // namespace oncomesh::audit
