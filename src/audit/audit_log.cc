#include "audit/audit_log.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <future>
#include <sstream>
#include <utility>
#include <vector>

#include "audit/archive.h"
#include "audit/internal/chain.h"

namespace oncomesh::audit {

using nlohmann::json;

FileOps PosixFileOps() {
  return FileOps{[](int fd, const void* data, size_t size) { return ::write(fd, data, size); },
                 [](int fd) { return ::fdatasync(fd); }};
}

const char* DurabilityName(Durability durability) {
  return durability == Durability::kWritten ? "written" : "sync";
}

std::optional<Durability> DurabilityFromName(std::string_view name) {
  if (name == "sync") return Durability::kSync;
  if (name == "written") return Durability::kWritten;
  return std::nullopt;
}

namespace {

std::string Errno(const std::string& what, int err) { return what + ": " + std::strerror(err); }

Status SyncPath(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Unavailable(Errno("audit: cannot open " + path, errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return Unavailable(Errno("audit: cannot sync " + path, err));
  return Status::Ok();
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Unavailable("audit: cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Unavailable("audit: cannot read " + path);
  return ss.str();
}

}  // namespace

AuditLog::AuditLog(std::string dir, AuditOptions options)
    : dir_(std::move(dir)), options_(std::move(options)) {}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& dir, AuditOptions options) {
  if (options.node_name.empty()) return InvalidArgument("audit: no node name");
  if (!options.signing_key.has_private()) {
    return InvalidArgument("audit: the signing key has no private part");
  }
  if (options.checkpoint_entries == 0 || options.checkpoint_interval.count() <= 0 ||
      options.segment_bytes == 0 || options.max_queue == 0 || !options.file_ops.write ||
      !options.file_ops.sync || !options.clock || !options.open_details.is_object() ||
      options.sync_interval.count() < 0) {
    return InvalidArgument(
        "audit: checkpoint_entries, checkpoint_interval, segment_bytes, "
        "max_queue, file_ops and clock must be set, open_details an object");
  }
  std::unique_ptr<AuditLog> log(new AuditLog(dir, std::move(options)));
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) {
      return Unavailable(Errno("audit: cannot create " + dir, errno));
    }
    const size_t slash = dir.find_last_of('/');
    RETURN_IF_ERROR(SyncPath(slash == std::string::npos ? "." : dir.substr(0, slash + 1)));
  }
  const std::string lock = dir + "/LOCK";
  log->lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (log->lock_fd_ < 0) return Unavailable(Errno("audit: cannot open " + lock, errno));
  if (::flock(log->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return FailedPrecondition("audit: " + dir +
                              " is held by another process (is the node running?)");
  }
  RETURN_IF_ERROR(log->Recover());
  {
    std::lock_guard<std::mutex> lock(log->mu_);
    log->sync_fd_ = log->fd_;
    log->written_ = log->durable_;
    log->written_size_ = log->synced_size_ = log->acked_size_ = log->segment_size_;
  }
  log->syncer_ = std::thread([raw = log.get()] { raw->SyncLoop(); });

  // The open entry: the log starts by saying who opened it, and what recovery did.
  json body = {{"type", EntryTypeName(EntryType::kOpen)},
               {"node", log->options_.node_name},
               {"software", std::string("oncomesh ") + ONCOMESH_VERSION},
               {"key", log->options_.signing_key.kid()}};
  if (!log->dropped_tail_.is_null()) body["dropped_tail"] = log->dropped_tail_;
  if (!log->options_.open_details.empty()) body["details"] = log->options_.open_details;
  std::promise<Result<Receipt>> opened;
  log->Enqueue(Pending{internal::MembersOf(body), false, false,
                       [&opened](Result<Receipt> r) { opened.set_value(std::move(r)); }});
  Result<Receipt> receipt = opened.get_future().get();
  if (!receipt.ok()) return receipt.status();
  return log;
}

namespace {

// Where the writer resumes: the newest segment's text from its last checkpoint line (or whole,
// when it has none), read from the end in chunks.
struct SegmentTail {
  uint64_t offset = 0;  // of `text` in the file
  std::string text;
  bool from_checkpoint = false;
};

// The end of a checkpoint line, as the writer writes it (members sorted: "type" is the last
// before "hash"). Inside a JSON string a quote is escaped, so these bytes mark a member.
constexpr std::string_view kCheckpointEnd = "\"type\":\"checkpoint\",\"hash\":\"";

Result<SegmentTail> ReadSegmentTail(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Unavailable(Errno("audit: cannot read " + path, errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return Unavailable(Errno("audit: cannot stat " + path, errno));
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  SegmentTail tail;
  tail.offset = size;
  constexpr uint64_t kChunk = 1 << 20;
  Status failed;
  while (tail.offset > 0) {
    const uint64_t from = tail.offset > kChunk ? tail.offset - kChunk : 0;
    std::string chunk(tail.offset - from, '\0');
    size_t done = 0;
    while (done < chunk.size()) {
      const ssize_t n =
          ::pread(fd, chunk.data() + done, chunk.size() - done, static_cast<off_t>(from + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    if (done != chunk.size()) {
      failed = Unavailable(Errno("audit: cannot read " + path, errno == 0 ? EIO : errno));
      break;
    }
    tail.text.insert(0, chunk);
    tail.offset = from;
    // The last checkpoint line whose start is in what was read (the line before it ends there).
    for (size_t at = tail.text.rfind(kCheckpointEnd); at != std::string::npos;
         at = at == 0 ? std::string::npos : tail.text.rfind(kCheckpointEnd, at - 1)) {
      const size_t end = at + kCheckpointEnd.size() + 64 + 2;
      if (end >= tail.text.size() || tail.text.compare(end - 2, 3, "\"}\n") != 0) continue;
      const size_t nl = at == 0 ? std::string::npos : tail.text.rfind('\n', at - 1);
      if (nl == std::string::npos && tail.offset > 0) break;  // its start is in the next chunk
      const size_t line_start = nl == std::string::npos ? 0 : nl + 1;
      tail.text.erase(0, line_start);
      tail.offset += line_start;
      tail.from_checkpoint = true;
      ::close(fd);
      return tail;
    }
  }
  ::close(fd);
  if (!failed.ok()) return failed;
  return tail;  // no checkpoint: the whole file
}

// The last complete line of a segment, parsed and its hash checked.
Result<internal::ParsedLine> LastEntryOf(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  if (text.empty() || text.back() != '\n') {
    return DataLoss("audit: " + path + " does not end with a whole line");
  }
  const size_t nl = text.rfind('\n', text.size() - 2);
  const size_t start = nl == std::string::npos ? 0 : nl + 1;
  Result<internal::ParsedLine> e =
      internal::ParseLine(std::string_view(text).substr(start, text.size() - 1 - start));
  if (!e.ok() || e->hash != e->computed) {
    return DataLoss("audit: " + path + ": its last line is not an intact entry");
  }
  return e;
}

}  // namespace

Status AuditLog::Recover() {
  ASSIGN_OR_RETURN(std::vector<std::string> names, internal::ListSegments(dir_));
  last_hash_ = std::string(internal::kGenesisHash);
  if (names.empty()) return Status::Ok();
  // Resumed from the last checkpoint of the newest segment: the whole log is `oncomesh audit
  // verify`'s to check, not every start's (a start reading a large log took seconds).
  const std::string& newest = names.back();
  const std::string newest_path = dir_ + "/" + newest;
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(SegmentTail tail, ReadSegmentTail(newest_path));
    // What the tail's first entry must follow: nothing (a checkpoint line is taken as it is),
    // the last entry of the segment before, the archive's anchor, or the chain's start.
    uint64_t expect_seq = 0;
    std::string expect_prev, link_time;
    if (!tail.from_checkpoint) {
      expect_seq = 1;
      expect_prev = std::string(internal::kGenesisHash);
      ASSIGN_OR_RETURN(std::optional<Anchor> anchor, ReadAnchor(dir_));
      if (names.size() >= 2) {
        ASSIGN_OR_RETURN(internal::ParsedLine link,
                         LastEntryOf(dir_ + "/" + names[names.size() - 2]));
        expect_seq = link.seq + 1;
        expect_prev = link.hash;
        link_time = link.time;
      } else if (anchor && internal::SegmentFirstSeq(newest) == anchor->seq + 1) {
        expect_seq = anchor->seq + 1;
        expect_prev = anchor->hash;
        link_time = anchor->time;
      }
    }
    internal::ChainChecker checker(nullptr, expect_seq, expect_prev);
    checker.set_check_segment_names(tail.offset == 0);  // a tail's first line is not the file's
    const bool ok = checker.FeedFile(newest, tail.text);
    const VerifyReport& report = checker.report();
    if (!ok) {
      Problem p = *report.problem;
      p.offset += tail.offset;
      if (attempt > 0 || p.kind != ProblemKind::kTruncated) {
        // Lines are counted from where the read started (the last checkpoint): the byte offset
        // names the place in the file.
        const std::string where = p.file + " at byte " + std::to_string(p.offset) +
                                  (p.seq > 0 ? " (seq " + std::to_string(p.seq) + ")" : "");
        return DataLoss("audit: " + dir_ + "/" + where + ": " + ProblemKindName(p.kind) + ": " +
                        p.message +
                        "; the node will not append to a log it cannot continue: run 'oncomesh "
                        "audit verify' and have an operator look");
      }
      // A last line without its newline: a write cut off by a crash. Its batch was never
      // synced, so no answer waited on it; it is kept aside and the log continues before it.
      const std::string torn = tail.text.substr(p.offset - tail.offset);
      const std::string saved = "torn-" + newest + "-" + std::to_string(p.offset) + ".bin";
      {
        std::ofstream out(dir_ + "/" + saved, std::ios::binary | std::ios::trunc);
        out.write(torn.data(), static_cast<std::streamsize>(torn.size()));
        out.close();
        if (!out) return Unavailable("audit: cannot write " + dir_ + "/" + saved);
      }
      RETURN_IF_ERROR(SyncPath(dir_ + "/" + saved));
      if (::truncate(newest_path.c_str(), static_cast<off_t>(p.offset)) != 0) {
        return Unavailable(Errno("audit: cannot cut the torn line of " + newest_path, errno));
      }
      RETURN_IF_ERROR(SyncPath(newest_path));
      RETURN_IF_ERROR(SyncPath(dir_));
      spdlog::warn(
          "audit: {}: dropped an incomplete last line ({} bytes at offset {}), never "
          "acknowledged; kept as {}",
          newest_path, torn.size(), p.offset, saved);
      dropped_tail_ = {{"file", newest},
                       {"offset", p.offset},
                       {"bytes", torn.size()},
                       {"sha256", internal::Sha256Hex(torn)},
                       {"saved_as", saved}};
      continue;
    }
    last_seq_ = checker.last_seq();
    last_hash_ = checker.last_hash();
    last_time_ = report.entries > 0 ? checker.last_time() : link_time;
    if (last_seq_ == 0) last_hash_ = std::string(internal::kGenesisHash);
    unsigned_entries_ = report.unsigned_tail;
    first_unsigned_ = std::chrono::steady_clock::now();
    if (report.last_checkpoint_seq != 0 && report.unsigned_tail == 0) {
      last_checkpoint_ = {last_seq_, last_hash_};
    }
    // A file left empty by a crash right after it was made must be the next seq's.
    if (tail.text.empty() && internal::SegmentFirstSeq(newest) != last_seq_ + 1) {
      return DataLoss("audit: " + dir_ + "/" + newest + " is empty and named for seq " +
                      std::to_string(*internal::SegmentFirstSeq(newest)) +
                      ", but the chain ends at seq " + std::to_string(last_seq_));
    }
    break;
  }
  fd_ = ::open(newest_path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) return Unavailable(Errno("audit: cannot open " + newest_path, errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return Unavailable(Errno("audit: cannot stat " + newest_path, errno));
  segment_size_ = static_cast<uint64_t>(st.st_size);
  segment_day_ = last_time_.substr(0, 10);
  durable_ = {last_seq_, last_hash_};
  return Status::Ok();
}

AuditLog::~AuditLog() {
  if (syncer_.joinable()) {
    Status st = Close();
    if (!st.ok()) spdlog::error("audit: {}: closing: {}", dir_, st.message());
  }
  if (fd_ >= 0) ::close(fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

void AuditLog::Append(const Entry& entry, Callback done) {
  if (Status st = ValidateEntry(entry); !st.ok()) {
    done(std::move(st));
    return;
  }
  // The entry becomes its JSON text before the queue's lock is taken: the writer only numbers,
  // hashes and writes.
  internal::Members members = internal::EntryMembers(entry);
  members.emplace_back("type", std::string("\"") + EntryTypeName(entry.type) + "\"");
  const bool may_ack_written =
      options_.request_durability == Durability::kWritten &&
      (entry.type == EntryType::kRequest || entry.type == EntryType::kRefusal);
  Enqueue(Pending{std::move(members), false, may_ack_written, std::move(done)});
}

void AuditLog::Enqueue(Pending pending) {
  Status refused;
  std::unique_lock<std::mutex> lock(mu_);
  if (closing_) {
    refused = FailedPrecondition("audit: the log is closed");
  } else if (!failure_.ok()) {
    refused = failure_;
  } else if (queue_.size() >= options_.max_queue) {
    refused = Unavailable("audit: " + std::to_string(queue_.size()) +
                          " entries are waiting to be written; try again");
  }
  if (!refused.ok()) {
    lock.unlock();
    pending.done(std::move(refused));  // outside the lock: it may append again
    return;
  }
  queue_.push_back(std::move(pending));
  if (writing_) return;  // the thread writing now takes it in its next round
  // This thread writes (LevelDB's writer queue): no hand-over to another thread, whose wake-up
  // cost more than the write itself (docs/audit.md).
  writing_ = true;
  WriteRounds(lock, /*closing=*/false);
}

Result<Receipt> AuditLog::AppendSync(const Entry& entry) {
  std::promise<Result<Receipt>> promise;
  std::future<Result<Receipt>> future = promise.get_future();
  Append(entry, [&promise](Result<Receipt> r) { promise.set_value(std::move(r)); });
  return future.get();
}

Result<Receipt> AuditLog::Checkpoint() {
  std::promise<Result<Receipt>> promise;
  std::future<Result<Receipt>> future = promise.get_future();
  Enqueue(
      Pending{{}, true, false, [&promise](Result<Receipt> r) { promise.set_value(std::move(r)); }});
  return future.get();
}

Status AuditLog::Close() {
  std::unique_lock<std::mutex> lock(mu_);
  if (closing_) {  // another Close() does it, or did
    writer_cv_.wait(lock, [this] { return closed_; });
    return close_status_;
  }
  closing_ = true;  // appends are refused from now on
  writer_cv_.wait(lock, [this] { return !writing_; });
  writing_ = true;
  WriteRounds(lock, /*closing=*/true);  // what is queued, and the closing checkpoint
  (void)DrainSync(lock);                // the final fdatasync; a failure is in failure_
  CutBack(lock);
  std::deque<SyncWaiter> left;  // normally none: the syncs answered them, or failed them
  left.swap(sync_waiters_);
  closed_ = true;
  close_status_ = failure_;
  stop_syncer_ = true;
  sync_cv_.notify_all();
  writer_cv_.notify_all();
  Status status = close_status_;
  lock.unlock();
  for (SyncWaiter& w : left) w.done(status.ok() ? Result<Receipt>(w.receipt) : status);
  std::lock_guard<std::mutex> join(join_mu_);
  if (syncer_.joinable() && syncer_.get_id() != std::this_thread::get_id()) syncer_.join();
  return status;
}

Status AuditLog::health() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failure_;
}

Receipt AuditLog::last_durable() const {
  std::lock_guard<std::mutex> lock(mu_);
  return durable_;
}

Receipt AuditLog::SealNext(internal::Members members, const std::string& time, std::string* out) {
  members.emplace_back("seq", std::to_string(last_seq_ + 1));
  members.emplace_back("time", "\"" + time + "\"");  // RFC 3339: nothing to escape
  members.emplace_back("prev", "\"" + last_hash_ + "\"");
  internal::SealedLine sealed = internal::SealMembers(std::move(members));
  ++last_seq_;
  last_hash_ = sealed.hash;
  last_time_ = time;
  out->append(sealed.text);
  return {last_seq_, std::move(sealed.hash)};
}

std::string AuditLog::NextTime() const {
  // Never earlier than the entry before: a clock stepped back must not make a period of time a
  // broken run of seqs (export relies on it, and verify checks it).
  std::string now = FormatTime(options_.clock());
  return now < last_time_ ? last_time_ : now;
}

Status AuditLog::SealCheckpoint(const char* reason, std::string* out, Receipt* receipt) {
  const std::string time = NextTime();
  const json claims = {
      {"node", options_.node_name}, {"seq", last_seq_}, {"hash", last_hash_}, {"time", time}};
  Result<std::string> jws =
      auth::SignJws(options_.signing_key, claims.dump(), internal::kCheckpointTyp);
  if (!jws.ok()) return jws.status().WithContext("audit: signing a checkpoint");
  json body = {{"type", EntryTypeName(EntryType::kCheckpoint)},
               {"node", options_.node_name},
               {"checkpoint", {{"jws", *jws}, {"reason", reason}}}};
  *receipt = SealNext(internal::MembersOf(body), time, out);
  last_checkpoint_ = *receipt;
  unsigned_entries_ = 0;
  return Status::Ok();
}

Status AuditLog::OpenSegment(uint64_t first_seq) {
  {
    // The old file is closed only once all of it is synced and the syncer has let go of it.
    std::unique_lock<std::mutex> lock(mu_);
    RETURN_IF_ERROR(DrainSync(lock));
    sync_fd_ = -1;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  const std::string path = dir_ + "/" + internal::SegmentName(first_seq);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0 && errno == EEXIST) {
    // Made by a run that crashed before its first entry was durable: empty, and ours to use.
    fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    struct stat st {};
    if (fd >= 0 && (::fstat(fd, &st) != 0 || st.st_size != 0)) {
      ::close(fd);
      return DataLoss("audit: " + path + " exists and is not empty");
    }
  }
  if (fd < 0) return Unavailable(Errno("audit: cannot create " + path, errno));
  fd_ = fd;
  segment_size_ = 0;
  segment_day_.clear();
  {
    // Sizes of the new file from now on: a failure below cuts it back to 0, not to the old
    // file's size (CutBack).
    std::lock_guard<std::mutex> lock(mu_);
    written_size_ = synced_size_ = acked_size_ = 0;
  }
  // The new file's name must be durable before an entry in it is acknowledged.
  RETURN_IF_ERROR(SyncPath(dir_));
  std::lock_guard<std::mutex> lock(mu_);
  sync_fd_ = fd_;
  return Status::Ok();
}

Status AuditLog::WriteBatch(const std::string& bytes, uint64_t first_seq,
                            const std::string& first_time) {
  const std::string day = first_time.substr(0, 10);
  if (fd_ < 0 || segment_size_ >= options_.segment_bytes ||
      (!segment_day_.empty() && day != segment_day_)) {
    RETURN_IF_ERROR(OpenSegment(first_seq));
  }
  const std::string file = dir_ + "/" + internal::SegmentName(first_seq);
  size_t done = 0;
  Status failed;
  while (done < bytes.size()) {
    const ssize_t n = options_.file_ops.write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      failed = Unavailable(Errno("audit: cannot write to " + dir_, n < 0 ? errno : EIO));
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (!failed.ok()) return failed;  // Run cuts the file back (CutBack)
  segment_size_ += bytes.size();
  if (segment_day_.empty()) segment_day_ = day;
  return Status::Ok();
}

Status AuditLog::DrainSync(std::unique_lock<std::mutex>& lock) {
  while (failure_.ok() && (syncing_ || durable_.seq < written_.seq)) {
    if (syncing_) {
      synced_cv_.wait(lock);
    } else {
      SyncOnce(lock);  // here: the syncer may be the thread waiting (an interval checkpoint)
    }
  }
  return failure_;
}

void AuditLog::CutBack(std::unique_lock<std::mutex>& lock) {
  if (cut_back_ || failure_.ok()) return;
  cut_back_ = true;
  const uint64_t keep = std::max(synced_size_, acked_size_);
  lock.unlock();
  // Best effort: leave only what was acknowledged (see FAILURE in the header).
  if (fd_ >= 0 && ::ftruncate(fd_, static_cast<off_t>(keep)) == 0) (void)::fdatasync(fd_);
  lock.lock();
}

void AuditLog::SyncOnce(std::unique_lock<std::mutex>& lock) {
  const Receipt target = written_;
  const uint64_t target_size = written_size_;
  const int fd = sync_fd_;
  syncing_ = true;
  last_sync_start_ = std::chrono::steady_clock::now();
  lock.unlock();
  const int rc = options_.file_ops.sync(fd);
  const int err = errno;
  lock.lock();
  syncing_ = false;
  std::deque<SyncWaiter> done;
  Status failed;
  if (rc != 0) {
    failed = Unavailable(Errno("audit: cannot sync the log in " + dir_, err));
    if (failure_.ok()) {
      failure_ = failed;
      spdlog::error("{}; the audit log refuses appends until it is reopened", failed.message());
    }
    done.swap(sync_waiters_);
    if (!writing_) {  // no writer to cut the file back: this thread does
      writing_ = true;
      CutBack(lock);
      writing_ = false;
      writer_cv_.notify_all();
    }
  } else {
    durable_ = target;
    durable_.synced = true;
    synced_size_ = target_size;
    while (!sync_waiters_.empty() && sync_waiters_.front().seq <= target.seq) {
      done.push_back(std::move(sync_waiters_.front()));
      sync_waiters_.pop_front();
    }
  }
  synced_cv_.notify_all();
  lock.unlock();
  for (SyncWaiter& w : done) {
    if (failed.ok()) {
      w.receipt.synced = true;
      w.done(std::move(w.receipt));
    } else {
      w.done(failed);
    }
  }
  lock.lock();
}

void AuditLog::SyncLoop() {
  using Clock = std::chrono::steady_clock;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    syncer_wait_ = SyncerWait::kNone;
    const bool sync_work = failure_.ok() && written_.seq > durable_.seq && sync_fd_ >= 0;
    if (sync_work && syncing_) {
      // A writer drains the syncs itself before it rotates the segment (DrainSync): one
      // fdatasync at a time, or an older one finishing last would move durable_ back and the
      // file could be closed under it.
      synced_cv_.wait(lock);
      continue;
    }
    if (sync_work) {
      // Paced when nobody waits for this sync (Durability::kWritten): an fdatasync costs the
      // node CPU and context switches whatever it covers (docs/audit.md).
      const Clock::time_point next = last_sync_start_ + options_.sync_interval;
      if (sync_waiters_.empty() && !closing_ && !stop_syncer_ && Clock::now() < next) {
        syncer_wait_ = SyncerWait::kPacing;
        sync_cv_.wait_until(lock, next);
        continue;
      }
      SyncOnce(lock);
      continue;
    }
    if (stop_syncer_) return;
    // The interval checkpoint, when no append has written it: this thread writes it.
    const bool due = failure_.ok() && !closing_ && checkpoint_due_ <= Clock::now();
    if (due && !writing_) {
      writing_ = true;
      WriteRounds(lock, /*closing=*/false);
      continue;
    }
    if (due) {
      syncer_wait_ = SyncerWait::kWriter;  // the writer notifies when it is done
      sync_cv_.wait(lock);
    } else if (checkpoint_due_ == Clock::time_point::max() || !failure_.ok()) {
      syncer_wait_ = SyncerWait::kIdle;
      sync_cv_.wait(lock);
    } else {
      syncer_wait_ = SyncerWait::kIdle;
      sync_cv_.wait_until(lock, checkpoint_due_);
    }
  }
}

void AuditLog::WriteRounds(std::unique_lock<std::mutex>& lock, bool closing) {
  using Clock = std::chrono::steady_clock;
  bool final_round = closing;
  // A clean close is always signed, even when the log already ends with a checkpoint (an
  // interval one on an idle node): verify says a log is closed only when its last entry is the
  // checkpoint of reason "close".
  bool close_due = closing;
  for (;;) {
    CutBack(lock);  // after a failure, once
    const bool interval_due =
        unsigned_entries_ > 0 && Clock::now() >= first_unsigned_ + options_.checkpoint_interval;
    if (queue_.empty() && !final_round && !(interval_due && failure_.ok())) break;
    final_round = false;
    std::deque<Pending> batch;
    batch.swap(queue_);
    Status failure = failure_;
    lock.unlock();

    // Each appender's receipt, in the batch's order (those of a failed batch stay unused).
    std::vector<Receipt> receipts(batch.size());
    bool wrote = false;
    if (failure.ok()) {
      std::string bytes;
      const uint64_t first_seq = last_seq_ + 1;
      std::string first_time;
      for (size_t i = 0; i < batch.size() && failure.ok(); ++i) {
        Pending& p = batch[i];
        if (p.checkpoint) {
          if (unsigned_entries_ > 0 || last_checkpoint_.hash.empty()) {
            failure = SealCheckpoint("request", &bytes, &receipts[i]);
          } else {
            receipts[i] = last_checkpoint_;
          }
        } else {
          receipts[i] = SealNext(std::move(p.members), NextTime(), &bytes);
          if (unsigned_entries_++ == 0) first_unsigned_ = Clock::now();
          if (unsigned_entries_ >= options_.checkpoint_entries) {
            Receipt cp;
            failure = SealCheckpoint("entries", &bytes, &cp);
          }
        }
        if (first_time.empty()) first_time = last_time_;
      }
      if (failure.ok() && close_due) {
        Receipt cp;
        failure = SealCheckpoint("close", &bytes, &cp);
        close_due = false;
        if (first_time.empty()) first_time = last_time_;
      } else if (failure.ok() && unsigned_entries_ > 0 &&
                 Clock::now() >= first_unsigned_ + options_.checkpoint_interval) {
        Receipt cp;
        failure = SealCheckpoint("interval", &bytes, &cp);
        if (first_time.empty()) first_time = last_time_;
      }
      if (failure.ok() && !bytes.empty()) {
        failure = WriteBatch(bytes, first_seq, first_time);
        wrote = failure.ok();
      }
      if (!failure.ok()) {
        spdlog::error("{}; the audit log refuses appends until it is reopened", failure.message());
      }
    }

    // Acknowledge now (written, under kWritten) or hand to the syncer; fail on any failure.
    std::vector<std::pair<Callback, Result<Receipt>>> answers;
    answers.reserve(batch.size());
    lock.lock();
    if (failure.ok() && !failure_.ok()) failure = failure_;  // a sync failed meanwhile
    if (!failure.ok()) {
      if (failure_.ok()) failure_ = failure;
      for (Pending& p : batch) answers.emplace_back(std::move(p.done), failure);
      for (SyncWaiter& w : sync_waiters_) answers.emplace_back(std::move(w.done), failure);
      sync_waiters_.clear();
      CutBack(lock);
    } else {
      if (wrote) {
        written_ = {last_seq_, last_hash_, false};
        written_size_ = segment_size_;
      }
      const bool within_bound = written_.seq - durable_.seq <= options_.max_unsynced_entries;
      for (size_t i = 0; i < batch.size(); ++i) {
        Receipt& r = receipts[i];
        if (r.seq <= durable_.seq) {  // e.g. Checkpoint() with nothing new: already synced
          r.synced = true;
          answers.emplace_back(std::move(batch[i].done), std::move(r));
        } else if (batch[i].may_ack_written && within_bound) {
          r.synced = false;
          acked_size_ = segment_size_;
          answers.emplace_back(std::move(batch[i].done), std::move(r));
        } else {
          sync_waiters_.push_back({r.seq, std::move(batch[i].done), std::move(r)});
        }
      }
    }
    checkpoint_due_ = unsigned_entries_ > 0 && failure_.ok()
                          ? first_unsigned_ + options_.checkpoint_interval
                          : Clock::time_point::max();
    // Wake the syncer only when it has to act: something to sync or a new checkpoint deadline
    // while it idles, an appender waiting while it paces, a failure. (A wake per append cost
    // a context switch per answer.)
    // A syncer waiting for this writer to finish (to write the interval checkpoint) is woken
    // too when there is something to sync: a writer kept busy by a full queue must not hold
    // the fdatasyncs back.
    if (((syncer_wait_ == SyncerWait::kIdle || syncer_wait_ == SyncerWait::kWriter) &&
         (wrote || !failure_.ok())) ||
        (syncer_wait_ == SyncerWait::kPacing && (!sync_waiters_.empty() || !failure_.ok()))) {
      sync_cv_.notify_one();
    }
    lock.unlock();
    for (auto& [done, result] : answers) done(std::move(result));
    lock.lock();
  }
  writing_ = false;
  writer_cv_.notify_all();
  if (syncer_wait_ == SyncerWait::kWriter) sync_cv_.notify_one();  // it waits for this writer
}

}  // namespace oncomesh::audit
