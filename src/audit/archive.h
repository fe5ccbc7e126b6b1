// Retention of the audit log: moving its oldest segments out of the node (to an archive, then to
// whatever storage and retention period the node's rules say) without losing what the chain
// proves. The log's format is in audit/audit_log.h; docs/audit.md ("Retention") is the policy.
//
// THE ANCHOR. When segments are archived, NODE_DIR/audit/ANCHOR.json records where the chain
// that remains starts: the seq, hash and time of the last archived entry, signed by the node's
// key as a compact JWS (ES256, header typ "oncomesh-audit-anchor", kid) over
// {"node", "seq", "hash", "time"}:
//   {"anchor": {"node", "seq", "hash", "time"}, "jws": "<compact JWS>",
//    "archived": [{"file", "first_seq", "last_seq", "bytes", "sha256"}, ...]}
// "anchor" repeats the signed payload for people; the JWS is what counts. "archived" lists every
// segment archived so far, oldest first (unsigned: the chain itself proves the files). A copy,
// ANCHOR-<seq, 12 digits>.json, is written into the archive beside the segments.
//
// WHAT STAYS PROVED
//   - Only whole segments are archived, oldest first, never the newest (the one being written),
//     and only segments whose every entry is signed by a checkpoint later in the log: the
//     anchor's (seq, hash) is then the `prev` of the first remaining entry, which that
//     checkpoint's signature covers too. So the remaining log verifies on its own, from the
//     anchor (VerifyLogDirectory), and a segment removed without an anchor is a seq gap.
//   - The archived segments verify on their own too (from seq 1, or from an older anchor copy
//     in the archive when the oldest were deleted at the end of their retention), and must end
//     exactly at the anchor's seq and hash: given the archive, VerifyLogDirectory checks both
//     halves and their join.
//   - Not proved: what someone holding the node's key does (as for checkpoints), and that an
//     archive deleted at the end of its retention existed (the anchor says only where the
//     remaining chain starts).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "audit/verify.h"
#include "auth/jose.h"
#include "util/status.h"

namespace oncomesh::audit {

struct ArchivedSegment {
  std::string file;  // segment name, audit-<first seq>.jsonl
  uint64_t first_seq = 0, last_seq = 0;
  uint64_t bytes = 0;
  std::string sha256;  // of the file's bytes, lowercase hex
};

struct Anchor {
  std::string node;
  uint64_t seq = 0;  // the last archived entry
  std::string hash;  // its hash: the prev of entry seq + 1
  std::string time;  // its time
  std::string jws;   // the node's signature over {node, seq, hash, time}
  std::vector<ArchivedSegment> archived;
};

// The JWS "typ" of anchors (a checkpoint's signature must never pass for one, nor the reverse).
inline constexpr const char* kAnchorTyp = "oncomesh-audit-anchor";

// `path`'s anchor (ANCHOR.json, or an ANCHOR-<seq>.json copy); nullopt when the file does not
// exist; InvalidArgument naming what is malformed. The signature is not checked here.
Result<std::optional<Anchor>> ReadAnchorFile(const std::string& path);
// NODE_DIR/audit/ANCHOR.json's anchor, as ReadAnchorFile.
Result<std::optional<Anchor>> ReadAnchor(const std::string& audit_dir);
// OK when `anchor.jws` verifies with one of `keys`, is of typ kAnchorTyp and signs exactly the
// anchor's node, seq, hash and time; Unauthenticated saying what does not hold otherwise.
Status VerifyAnchor(const Anchor& anchor, const std::vector<auth::Jwk>& keys);

struct ArchiveSummary {
  std::vector<ArchivedSegment> moved;  // segments archived by this call (none: nothing was due)
  std::optional<Anchor> anchor;        // the anchor now in force
  std::string why_not;                 // when nothing was moved, why the oldest segment stayed
};

// Moves the oldest segments of `audit_dir` whose entries are all older than `before` (a
// CanonicalTime) into `archive_dir` (created, mode 0750), as described above, and writes the
// new anchor signed with `signing_key`. The log is verified first (VerifyLogDirectory with
// `keys`); a log that does not verify is refused (DataLoss naming where). Safe while the node
// appends (it never touches the newest segment). Each step is durable before the next: the copy
// and its fsync, the anchor's atomic rename, then the removal; after a crash, running it again
// completes it (a segment already archived is recognised by its SHA-256 and removed).
Result<ArchiveSummary> ArchiveSegments(const std::string& audit_dir, const std::string& archive_dir,
                                       const std::string& before, const auth::Jwk& signing_key,
                                       const std::string& node_name,
                                       const std::vector<auth::Jwk>& keys);

}  // namespace oncomesh::audit
