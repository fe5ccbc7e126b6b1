// Verifying an audit log or an export of it, and exporting a period for a supervisory
// authority. The on-disk format and what verification proves are specified in
// audit/audit_log.h; this header is the reader's side.
//
// What verification checks, entry by entry, in file order (the first problem is reported,
// naming the file, line, byte offset and seq):
//   - every line is a complete JSON object ending in the `"hash"` member    (kTruncated,
//   kMalformed)
//   - its hash is the SHA-256 of its bytes without that member              (kEdited)
//   - its seq is the previous seq plus one                                  (kRemoved, kReordered)
//   - its prev is the previous entry's hash                                 (kPrevMismatch)
//   - times never go backwards                                              (kReordered)
//   - a checkpoint's JWS verifies with one of the given public keys, is of
//     typ "oncomesh-audit-checkpoint", and signs this entry's seq-1, prev,
//     time and node                                                         (kBadCheckpoint)
//   - segment files are named by their first seq                            (kMalformed)
// and then reports how many entries follow the last checkpoint (proved by the chain, not yet by
// a signature) and whether the log ends with the checkpoint of a clean close.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "auth/jose.h"
#include "util/status.h"

namespace oncomesh::audit {

enum class ProblemKind {
  kMalformed,      // not an entry: bad JSON, missing seq/prev/time/hash, bad file name or header
  kEdited,         // the entry's bytes do not hash to its "hash"
  kRemoved,        // a seq is missing (an entry or a whole file was removed)
  kReordered,      // entries out of seq order, or time going backwards
  kPrevMismatch,   // "prev" is not the previous entry's hash: it was edited and re-hashed, or
                   // replaced
  kBadCheckpoint,  // a checkpoint whose signature or signed content does not hold
  kTruncated,      // the last line is incomplete (a write cut off, or the file cut mid-line)
};
const char* ProblemKindName(ProblemKind kind);

struct Problem {
  ProblemKind kind = ProblemKind::kMalformed;
  std::string file;     // file name (not the full path)
  int64_t line = 0;     // 1-based line in `file`; 0 when the problem is the file itself
  uint64_t offset = 0;  // byte offset of that line in the file
  uint64_t seq = 0;     // the seq the line claims, or 0 when unknown
  std::string message;  // what is wrong, for a person

  // "audit-000000000001.jsonl:17 (seq 17): edited: ..."
  std::string ToString() const;
};

struct VerifyReport {
  std::optional<Problem> problem;  // the first problem; none when the chain holds
  uint64_t entries = 0;            // entries checked (up to the problem)
  uint64_t first_seq = 0, last_seq = 0;
  std::string last_hash;  // hash of entry last_seq
  std::string first_time, last_time;
  uint64_t checkpoints = 0;
  uint64_t last_checkpoint_seq = 0;  // 0: none
  uint64_t unsigned_tail = 0;        // entries after the last checkpoint
  bool ends_with_close = false;      // the last entry is the checkpoint of a clean close
  std::vector<std::string> files;    // the files read, in order
  std::vector<std::string> notes;    // what holds but limits the proof (an export's open end)
  uint64_t anchor_seq = 0;        // the live log was verified from the archive anchor at this seq
  bool archive_verified = false;  // the archived segments were verified and join the anchor

  bool ok() const { return !problem.has_value(); }
};

// A JWKS ({"keys": [...]}) as keys; InvalidArgument naming the bad key. Private parts are
// ignored; at least one key is required.
Result<std::vector<auth::Jwk>> ParseJwks(const nlohmann::json& jwks);
// {"keys": [public JWK, ...]}.
nlohmann::json PublicJwks(const std::vector<auth::Jwk>& keys);

// Verifies every segment of the log in `audit_dir` (NODE_DIR/audit) against `keys` (the node's
// public keys). The chain must start at seq 1 with the all-zero prev, or, when segments were
// archived (audit/archive.h), right after the anchor in ANCHOR.json, whose signature must
// verify. With `archive_dir`, the archived segments there are verified too (from seq 1 or an
// anchor copy in the archive) and must end exactly at the anchor; the report then covers both.
// A Status error only when a directory cannot be read or holds no log; tampering is a report
// with a problem. Reads files being appended to safely (a line in the middle of being written
// shows as kTruncated). Lines are parsed and hashed on up to internal::VerifyThreads() threads.
Result<VerifyReport> VerifyLogDirectory(const std::string& audit_dir,
                                        const std::vector<auth::Jwk>& keys,
                                        const std::string& archive_dir = "");

// Verifies an export written by ExportPeriod: its header, the chain from the header's prev, the
// checkpoints, and that the entries marked as the period are all of the period (the context
// entries before and after it show that none of it was left out, as far as the log reached).
Result<VerifyReport> VerifyExportFile(const std::string& path, const std::vector<auth::Jwk>& keys);

struct ExportSummary {
  uint64_t period_entries = 0;           // entries whose time is in [from, to)
  uint64_t first_seq = 0, last_seq = 0;  // all lines written, context included
  bool signed_to_end = false;  // a checkpoint follows the period: the whole export is signed
};

// Writes the entries with time in [from, to) (times in CanonicalTime form) to `out` as an
// export: a header line, then the entries exactly as they are in the log, with as context the
// one entry before the period (its time shows the period starts after it) and the entries after
// the period up to and including the next checkpoint (its signature covers the whole slice).
// The log is verified first, as VerifyLogDirectory does: a broken chain is refused (DataLoss
// naming where), so is a period that reaches past it. InvalidArgument when from >= to.
Result<ExportSummary> ExportPeriod(const std::string& audit_dir, const std::vector<auth::Jwk>& keys,
                                   const std::string& from, const std::string& to,
                                   const std::string& node_name, std::ostream& out);

}  // namespace oncomesh::audit
