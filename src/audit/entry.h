// What one audit entry says: who asked what, what they were allowed, what was answered and
// what left the node (ARCHITECTURE.md principle 1: everything that leaves is audited).
//
// Handlers fill an `Entry` and give it to AuditLog::Append (audit/audit_log.h). The entry is a
// plain struct rather than free JSON so that a handler cannot forget a part: every request
// entry carries its caller, request, access levels, outcome and disclosure, even when the
// disclosure is empty ("nothing left" is a fact a supervisor wants to read). What does not fit
// goes in `details`.
//
// The JSON form of each part is fixed here (EntryFieldsToJson) and documented in
// docs/audit.md; the log adds seq, time, type, prev and hash (audit/audit_log.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace oncomesh::audit {

enum class EntryType {
  kRequest,     // a request that was answered (2xx/3xx), with what left the node
  kRefusal,     // a request refused (4xx/5xx): nothing left but the refusal
  kPermit,      // a data-permit decision: request, approve, reject, revoke, override
  kOpen,        // written by the log itself when it is opened (node start)
  kCheckpoint,  // written by the log itself: a signature over the chain so far
};
const char* EntryTypeName(EntryType type);
// The type named by `name`; nullopt for a name not in this list.
std::optional<EntryType> EntryTypeFromName(std::string_view name);

// Who asked. From a verified passport: its subject and issuer; without credentials both are
// empty and the JSON says "anonymous": true. Credentials that were sent but not accepted (a
// forged, expired or malformed token, or an issuer whose keys could not be had) make the caller
// neither: subject and issuer empty, `unverified` true, and the JSON says "unverified": true
// (what the token claimed, if anything, goes in the entry's details, marked as unverified).
struct Caller {
  std::string subject;  // passport "sub"
  std::string issuer;   // passport "iss"
  std::string address;  // the client's address as the server saw it ("127.0.0.1:51234")
  bool unverified = false;
};

// What was asked, as received.
struct RequestLine {
  std::string method;  // "GET", "POST"
  std::string path;    // the decoded path, without the query
  std::string query;   // the raw query string (after '?'), "" when none
  // The body (a POST's query: Beacon filters, htsget regions), at most kMaxAuditedBody bytes of
  // it; when it was longer, body_bytes is its full size and body_sha256 its SHA-256 (hex).
  std::string body;
  uint64_t body_bytes = 0;
  std::string body_sha256;
};
inline constexpr size_t kMaxAuditedBody = 4096;

// How the request ended.
struct Outcome {
  int status = 0;      // the HTTP status sent (required: 100..599)
  std::string reason;  // why a refusal was refused (required for kRefusal); "" otherwise
};

// A figure that left the node, as released by the gate (never the exact one, unless the
// caller's level allowed it). A boolean answer is recorded as name "exists", value 0 or 1.
struct ReleasedFigure {
  std::string dataset;  // the dataset id
  std::string name;     // "individuals", "biosamples", "exists", "count:<statistic>"…
  int64_t value = 0;
};

// Kinds of record, spelled as the standards spell them.
enum class RecordKind {
  kIndividual,        // Beacon v2 individual
  kBiosample,         // Beacon v2 biosample
  kGenomicVariation,  // Beacon v2 genomicVariation (variant id)
  kStudy,             // DICOM StudyInstanceUID
  kSeries,            // DICOM SeriesInstanceUID
  kSopInstance,       // DICOM SOPInstanceUID
};
const char* RecordKindName(RecordKind kind);

// Records returned by id (record-level answers: Beacon records, QIDO results, WADO instances).
struct ReleasedRecords {
  std::string dataset;
  RecordKind kind = RecordKind::kIndividual;
  std::vector<std::string> ids;  // the ids as the caller received them (pseudonyms)
};

// [start, end) in bytes of a file.
struct ByteRange {
  uint64_t start = 0;
  uint64_t end = 0;
};

// Bytes of a stored file that were served (htsget, WADO-RS).
struct ServedFile {
  std::string file_id;             // the node's id of the file (htsget id, SOP Instance UID)
  std::vector<ByteRange> ranges;   // byte ranges of the stored file sent as they are stored
                                   // (a whole file is the range [0, size))
  uint64_t bytes = 0;              // every byte sent from this file: the ranges, plus any bytes
                                   // re-encoded from it (an htsget ticket's inline header and
                                   // region edges), so bytes - the ranges' sizes = re-encoded
  std::vector<ByteRange> granted;  // ranges an htsget ticket's signed block URLs may fetch
                                   // later (not yet sent: each fetch is an entry of its own)
};

// Everything that left the node in the answer.
struct Disclosure {
  std::vector<ReleasedFigure> figures;
  std::vector<ReleasedRecords> records;
  std::vector<ServedFile> files;

  bool empty() const { return figures.empty() && records.empty() && files.empty(); }
};

// kApprovalRefused: an approval the node refused because the research purpose does not match
// the datasets' data-use conditions and no override was given (nothing changed).
enum class PermitAction { kRequest, kApprove, kReject, kRevoke, kOverride, kApprovalRefused };
const char* PermitActionName(PermitAction action);

// A data-permit decision (type kPermit). `Entry::caller` is who made it.
struct PermitDecision {
  PermitAction action = PermitAction::kRequest;
  std::string permit_id;              // required
  std::string researcher;             // whom the permit is for (passport subject)
  std::vector<std::string> datasets;  // datasets it covers
  std::string reason;                 // why: required for reject, revoke and override
};

// One audit entry as a handler describes it. The log adds seq, time, prev and hash.
struct Entry {
  EntryType type = EntryType::kRequest;
  Caller caller;
  RequestLine request;                                // required for kRequest and kRefusal
  std::map<std::string, std::string> access;          // dataset id -> access level granted
  Outcome outcome;                                    // required for kRequest and kRefusal
  Disclosure disclosed;                               // must be empty for kRefusal and kPermit
  std::optional<PermitDecision> permit;               // required for kPermit, absent otherwise
  nlohmann::json details = nlohmann::json::object();  // anything else; must be an object
};

// InvalidArgument naming the missing or contradictory part (a request without method or
// status, a refusal without reason or with a disclosure, a permit without a decision, a
// type the log writes itself…). AuditLog::Append refuses such entries.
Status ValidateEntry(const Entry& entry);

// The entry's own fields as a JSON object (without seq, time, type, prev, hash).
nlohmann::json EntryFieldsToJson(const Entry& entry);

// Times in entries: RFC 3339, UTC, milliseconds, "2025-03-01T12:00:00.123Z". Strings of this
// one form sort as the times they name, which export relies on.
std::string FormatTime(std::chrono::system_clock::time_point t);
// Parses "YYYY-MM-DD", "YYYY-MM-DDThh:mm:ss[.fff]Z" or with an offset "+hh:mm"/"-hh:mm" and
// returns it in FormatTime's form (a date means its midnight, UTC). InvalidArgument otherwise.
Result<std::string> CanonicalTime(std::string_view text);

}  // namespace oncomesh::audit
