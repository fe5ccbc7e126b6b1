// The audit log's line format and chain checking, shared by the writer (audit_log.cc: sealing
// lines, checking the tail at open) and the readers (verify.cc). Not a public contract: the
// format is specified in audit/audit_log.h.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/entry.h"
#include "audit/verify.h"
#include "auth/jose.h"
#include "util/status.h"

namespace oncomesh::audit::internal {

// The prev of seq 1.
inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";
// The JWS "typ" of checkpoints: a checkpoint must never pass for a visa signed by the same key.
inline constexpr std::string_view kCheckpointTyp = "oncomesh-audit-checkpoint";
// What every line ends with before the hash's 64 hex digits and `"}`.
inline constexpr std::string_view kHashMember = ",\"hash\":\"";
inline constexpr size_t kHashSuffixBytes = 9 + 64 + 2;

// Lowercase hex SHA-256.
std::string Sha256Hex(std::string_view bytes);

struct SealedLine {
  std::string text;  // the line, '\n' included
  std::string hash;
};
// body: the entry without "hash" (an object). Its compact dump() (keys sorted, no spaces,
// invalid UTF-8 replaced by U+FFFD) is hashed, and the line is that text with the hash member
// put before the closing brace.
SealedLine Seal(const nlohmann::json& body);

// An entry as its top-level members: each key with its value's JSON text, written as dump()
// writes it (compact, keys sorted). The writer serialises request entries straight into this
// form (EntryMembers), without a JSON tree: a tree's allocations cost more than the write.
using Members = std::vector<std::pair<std::string, std::string>>;
// The members of a JSON object.
Members MembersOf(const nlohmann::json& object);
// The same line as Seal(the object of `members`): the members sorted by key and joined.
SealedLine SealMembers(Members members);
// Appends `text` as a JSON string, as dump() writes it (invalid UTF-8 replaced by U+FFFD).
void AppendJsonString(std::string* out, std::string_view text);

// The members of an entry's own fields, what EntryFieldsToJson returns, in this form.
Members EntryMembers(const Entry& entry);

// What the chain checks read of an entry. Only these members are extracted (simdjson, no
// JSON tree): verifying millions of entries is bound by this parse (docs/audit.md, Figures).
struct ParsedLine {
  std::string hash;      // as written
  std::string computed;  // SHA-256 of the bytes it covers
  uint64_t seq = 0;
  std::string prev, time, type;
  std::string node;             // "node", when a string (open and checkpoint entries)
  bool has_checkpoint = false;  // a "checkpoint" object with a string "jws"
  std::string checkpoint_jws, checkpoint_reason;
};
// Parses one line (without its '\n'): the whole line must be one JSON object (UTF-8) without
// a repeated top-level member, ending with its "hash" member. An error message says what is
// malformed. Thread-safe.
Result<ParsedLine> ParseLine(std::string_view line);
// ParseLine of each line, spread over up to `threads` threads (hashing and parsing are
// per line; only the links between lines are sequential).
std::vector<Result<ParsedLine>> ParseLines(const std::vector<std::string_view>& lines,
                                           unsigned threads);
// The threads verification uses: the machine's cores, at most 8.
unsigned VerifyThreads();

// Segment files: "audit-<first seq, 12 digits>.jsonl".
std::string SegmentName(uint64_t first_seq);
// The first seq a segment name claims; nullopt for other names.
std::optional<uint64_t> SegmentFirstSeq(std::string_view name);
// The segment files of a directory, in seq order (names only). Error when it cannot be read.
Result<std::vector<std::string>> ListSegments(const std::string& dir);

// Walks entries in order, checking the chain (see verify.h for the checks), and keeps the
// figures of a VerifyReport.
class ChainChecker {
 public:
  // `keys`: checkpoint keys; nullptr: checkpoints are not signature-checked (the writer's own
  // tail check at open). `expect_seq`/`expect_prev`: what the first entry must carry; with
  // `expect_seq` 0 the first entry is taken as it is (the writer reading only the newest
  // segments).
  ChainChecker(const std::vector<auth::Jwk>* keys, uint64_t expect_seq, std::string expect_prev);

  // Called with each entry that passed the checks; a message makes it a problem of `kind`.
  using EntryCheck = std::function<std::optional<std::string>(const ParsedLine&)>;
  void set_entry_check(ProblemKind kind, EntryCheck check) {
    entry_check_kind_ = kind;
    entry_check_ = std::move(check);
  }
  // Whether a file named like a segment must start with the seq its name says (default yes).
  void set_check_segment_names(bool check) { check_segment_names_ = check; }

  // Checks the lines of one file (its whole text). Returns false at the first problem, which
  // report().problem then holds; a last line without '\n' is kTruncated.
  bool FeedFile(const std::string& name, std::string_view text);
  // Checks one line (no '\n'); `entry` receives the parsed line. False on a problem.
  bool FeedLine(const std::string& name, int64_t line_no, uint64_t offset, std::string_view line,
                ParsedLine* entry);
  // Threads FeedFile parses a file's lines with (default VerifyThreads()).
  void set_threads(unsigned threads) { threads_ = threads; }

  VerifyReport& report() { return report_; }
  uint64_t last_seq() const { return last_seq_; }
  const std::string& last_hash() const { return last_hash_; }
  const std::string& last_time() const { return last_time_; }

 private:
  bool Fail(ProblemKind kind, const std::string& file, int64_t line, uint64_t offset, uint64_t seq,
            std::string message);
  bool CheckCheckpoint(const ParsedLine& e, std::string* why) const;
  // FeedLine's checks of a line already parsed (or the error that it is malformed).
  bool Check(const std::string& name, int64_t line_no, uint64_t offset, Result<ParsedLine> parsed,
             ParsedLine* entry);

  const std::vector<auth::Jwk>* keys_;
  uint64_t last_seq_;
  std::string last_hash_;
  std::string last_time_;
  bool started_;
  bool check_segment_names_ = true;
  unsigned threads_ = VerifyThreads();
  ProblemKind entry_check_kind_ = ProblemKind::kMalformed;
  EntryCheck entry_check_;
  VerifyReport report_;
};

}  // namespace oncomesh::audit::internal
