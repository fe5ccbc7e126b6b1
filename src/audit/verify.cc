#include "audit/verify.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "audit/archive.h"
#include "audit/entry.h"
#include "audit/internal/chain.h"
#include "util/json.h"

namespace oncomesh::audit {

using nlohmann::json;
namespace fs = std::filesystem;

const char* ProblemKindName(ProblemKind kind) {
  switch (kind) {
    case ProblemKind::kMalformed:
      return "malformed";
    case ProblemKind::kEdited:
      return "edited";
    case ProblemKind::kRemoved:
      return "removed";
    case ProblemKind::kReordered:
      return "reordered";
    case ProblemKind::kPrevMismatch:
      return "chain broken";
    case ProblemKind::kBadCheckpoint:
      return "bad checkpoint";
    case ProblemKind::kTruncated:
      return "truncated";
  }
  return "malformed";
}

std::string Problem::ToString() const {
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line);
  if (seq > 0) s += " (seq " + std::to_string(seq) + ")";
  return s + ": " + ProblemKindName(kind) + ": " + message;
}

Result<std::vector<auth::Jwk>> ParseJwks(const json& jwks) {
  if (!jwks.is_object() || !jwks.contains("keys") || !jwks["keys"].is_array() ||
      jwks["keys"].empty()) {
    return InvalidArgument("not a JWKS: expected {\"keys\": [at least one JWK]}");
  }
  std::vector<auth::Jwk> keys;
  for (size_t i = 0; i < jwks["keys"].size(); ++i) {
    Result<auth::Jwk> key = auth::Jwk::Parse(jwks["keys"][i]);
    if (!key.ok()) return key.status().WithContext("JWKS key " + std::to_string(i + 1));
    // Only the public half is kept: verifying needs nothing else.
    ASSIGN_OR_RETURN(auth::Jwk pub, auth::Jwk::Parse(key->PublicJson()));
    keys.push_back(std::move(pub));
  }
  return keys;
}

json PublicJwks(const std::vector<auth::Jwk>& keys) {
  json out = {{"keys", json::array()}};
  for (const auth::Jwk& k : keys) out["keys"].push_back(k.PublicJson());
  return out;
}

namespace {

Result<std::string> ReadText(const fs::path& path) {
  // One read into a buffer of the file's size: a segment is tens of MB, a log thousands.
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return NotFound("cannot read " + path.string());
  std::string text;
  char buffer[1 << 16];
  std::error_code ec;
  const uintmax_t size = fs::file_size(path, ec);
  if (!ec) text.reserve(static_cast<size_t>(size));
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, f)) > 0;) text.append(buffer, n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return Unavailable("cannot read " + path.string());
  return text;
}

// Calls `line_fn(file, line)` for every complete line of every segment, in order, until it
// returns false.
template <typename Fn>
Status ForEachLine(const std::string& dir, const std::vector<std::string>& names, Fn&& line_fn) {
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(std::string text, ReadText(fs::path(dir) / name));
    size_t pos = 0;
    for (size_t nl; (nl = text.find('\n', pos)) != std::string::npos; pos = nl + 1) {
      if (!line_fn(std::string_view(text).substr(pos, nl - pos))) return Status::Ok();
    }
  }
  return Status::Ok();
}

}  // namespace

namespace {

VerifyReport ProblemReport(ProblemKind kind, const std::string& file, std::string message) {
  VerifyReport report;
  report.problem = Problem{kind, file, 0, 0, 0, std::move(message)};
  return report;
}

// Feeds `names` of `dir` to `checker` (skipping those whose first seq is at most `skip_through`)
// until a problem.
Status FeedSegments(const std::string& dir, const std::vector<std::string>& names,
                    uint64_t skip_through, internal::ChainChecker* checker) {
  for (const std::string& name : names) {
    if (internal::SegmentFirstSeq(name).value_or(0) <= skip_through) continue;
    ASSIGN_OR_RETURN(std::string text, ReadText(fs::path(dir) / name));
    if (!checker->FeedFile(name, text)) break;
  }
  return Status::Ok();
}

// The archived segments in `archive_dir`, verified from seq 1 or from an anchor copy there, up to
// exactly `anchor`.
Result<VerifyReport> VerifyArchive(const std::string& archive_dir, const Anchor& anchor,
                                   const std::vector<auth::Jwk>& keys) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, internal::ListSegments(archive_dir));
  std::erase_if(names, [&](const std::string& n) {
    return internal::SegmentFirstSeq(n).value_or(0) > anchor.seq;
  });
  if (names.empty()) return NotFound("no archived segments in " + archive_dir);
  const uint64_t first = *internal::SegmentFirstSeq(names.front());
  uint64_t expect_seq = 1;
  std::string expect_prev(internal::kGenesisHash);
  if (first != 1) {
    // The oldest were deleted at the end of their retention: the anchor written when the
    // archive's oldest remaining segment was archived says where it starts.
    const std::string copy = "ANCHOR-" + internal::SegmentName(first - 1).substr(6, 12) + ".json";
    ASSIGN_OR_RETURN(std::optional<Anchor> older, ReadAnchorFile(archive_dir + "/" + copy));
    if (!older || older->seq != first - 1) {
      return ProblemReport(ProblemKind::kRemoved, names.front(),
                           "the archive starts at seq " + std::to_string(first) +
                               " and holds no anchor " + copy + " for the seq before it");
    }
    if (Status st = VerifyAnchor(*older, keys); !st.ok()) {
      return ProblemReport(ProblemKind::kBadCheckpoint, copy, "anchor: " + st.message());
    }
    expect_seq = older->seq + 1;
    expect_prev = older->hash;
  }
  internal::ChainChecker checker(&keys, expect_seq, expect_prev);
  RETURN_IF_ERROR(FeedSegments(archive_dir, names, 0, &checker));
  VerifyReport report = std::move(checker.report());
  if (report.ok() && (report.last_seq != anchor.seq || report.last_hash != anchor.hash)) {
    report.problem =
        Problem{ProblemKind::kRemoved,
                names.back(),
                0,
                0,
                report.last_seq,
                "the archive ends at seq " + std::to_string(report.last_seq) +
                    ", but the anchor says entries up to seq " + std::to_string(anchor.seq) +
                    " (hash " + anchor.hash.substr(0, 16) + "…) were archived"};
  }
  return report;
}

}  // namespace

Result<VerifyReport> VerifyLogDirectory(const std::string& audit_dir,
                                        const std::vector<auth::Jwk>& keys,
                                        const std::string& archive_dir) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, internal::ListSegments(audit_dir));
  if (names.empty()) return NotFound("no audit log in " + audit_dir);
  ASSIGN_OR_RETURN(std::optional<Anchor> anchor, ReadAnchor(audit_dir));
  if (!anchor && !archive_dir.empty()) {
    return FailedPrecondition(audit_dir + " has no ANCHOR.json: nothing was archived from it");
  }
  if (anchor) {
    if (Status st = VerifyAnchor(*anchor, keys); !st.ok()) {
      return ProblemReport(ProblemKind::kBadCheckpoint, "ANCHOR.json", "anchor: " + st.message());
    }
  }
  VerifyReport archived;
  if (!archive_dir.empty()) {
    ASSIGN_OR_RETURN(archived, VerifyArchive(archive_dir, *anchor, keys));
    if (!archived.ok()) return archived;
  }
  internal::ChainChecker checker(&keys, anchor ? anchor->seq + 1 : 1,
                                 anchor ? anchor->hash : std::string(internal::kGenesisHash));
  const uint64_t skip = anchor ? anchor->seq : 0;
  RETURN_IF_ERROR(FeedSegments(audit_dir, names, skip, &checker));
  VerifyReport report = std::move(checker.report());
  if (!anchor) return report;
  report.anchor_seq = anchor->seq;
  const size_t left_over =
      static_cast<size_t>(std::count_if(names.begin(), names.end(), [&](const std::string& n) {
        return internal::SegmentFirstSeq(n).value_or(0) <= skip;
      }));
  if (left_over > 0) {
    report.notes.push_back(std::to_string(left_over) +
                           " segment(s) before the anchor are still here (an archive run was "
                           "interrupted): run 'oncomesh audit archive' again to remove them");
  }
  if (archive_dir.empty()) {
    report.notes.push_back("entries up to seq " + std::to_string(anchor->seq) +
                           " are archived; the log was verified from the signed anchor at seq " +
                           std::to_string(anchor->seq) + " (" + anchor->time +
                           "); give --archive DIR to verify the archived segments too");
    return report;
  }
  // Both halves, as one report.
  report.archive_verified = true;
  report.entries += archived.entries;
  report.first_seq = archived.first_seq;
  report.first_time = archived.first_time;
  report.checkpoints += archived.checkpoints;
  if (report.last_checkpoint_seq == 0) report.last_checkpoint_seq = archived.last_checkpoint_seq;
  report.files.insert(report.files.begin(), archived.files.begin(), archived.files.end());
  return report;
}

Result<ExportSummary> ExportPeriod(const std::string& audit_dir, const std::vector<auth::Jwk>& keys,
                                   const std::string& from, const std::string& to,
                                   const std::string& node_name, std::ostream& out) {
  if (!(from < to)) return InvalidArgument("audit export: the period is empty (from >= to)");
  ASSIGN_OR_RETURN(VerifyReport verified, VerifyLogDirectory(audit_dir, keys));
  if (!verified.ok()) {
    return DataLoss("audit export: the log does not verify, nothing exported: " +
                    verified.problem->ToString());
  }
  ASSIGN_OR_RETURN(std::vector<std::string> names, internal::ListSegments(audit_dir));
  // Times never go back along the chain (verified), so the period is one run of seqs: keep
  // the entry before it, the run, and what follows up to the first checkpoint.
  std::string before;
  std::vector<std::string> lines;
  ExportSummary summary;
  uint64_t period_first = 0, period_last = 0;
  std::string first_prev;
  Status scanned = ForEachLine(audit_dir, names, [&](std::string_view line) {
    Result<internal::ParsedLine> e = internal::ParseLine(line);
    if (!e.ok() || e->seq > verified.last_seq) return false;  // appended since it was verified
    if (e->time < from) {
      before = std::string(line);
      return true;
    }
    if (e->time < to) {
      if (period_first == 0) period_first = e->seq;
      period_last = e->seq;
      ++summary.period_entries;
      lines.emplace_back(line);
      return true;
    }
    lines.emplace_back(line);
    if (e->type == "checkpoint") {
      summary.signed_to_end = true;
      return false;
    }
    return true;
  });
  RETURN_IF_ERROR(scanned);
  if (!before.empty()) lines.insert(lines.begin(), before);
  if (lines.empty()) {
    return FailedPrecondition("audit export: the log has no entry at or after " + from);
  }
  Result<internal::ParsedLine> first = internal::ParseLine(lines.front());
  Result<internal::ParsedLine> last = internal::ParseLine(lines.back());
  if (!first.ok() || !last.ok()) return Internal("audit export: a verified line does not parse");
  summary.first_seq = first->seq;
  summary.last_seq = last->seq;
  // A checkpoint last, in the period or after it, signs every line before it.
  summary.signed_to_end = last->type == "checkpoint";
  const json header = {
      {"oncomesh_audit_export", 1},
      {"node", node_name},
      {"from", from},
      {"to", to},
      {"exported", FormatTime(std::chrono::system_clock::now())},
      {"first_seq", summary.first_seq},
      {"last_seq", summary.last_seq},
      {"prev", first->prev},
      {"period",
       {{"first_seq", period_first},
        {"last_seq", period_last},
        {"entries", summary.period_entries}}},
      {"signed_to_end", summary.signed_to_end},
      {"note",
       "entries are verbatim lines of the node's audit log; those outside the period "
       "are context: the one before shows where the period starts, those after it reach "
       "the checkpoint whose signature covers the whole export"}};
  out << header.dump() << "\n";
  for (const std::string& line : lines) out << line << "\n";
  out.flush();
  if (!out) return Unavailable("audit export: cannot write the export");
  return summary;
}

Result<VerifyReport> VerifyExportFile(const std::string& path, const std::vector<auth::Jwk>& keys) {
  ASSIGN_OR_RETURN(std::string text, ReadText(path));
  const std::string name = path.substr(path.find_last_of('/') + 1);
  const size_t nl = text.find('\n');
  const Result<json> parsed_header =
      ParseJson(std::string_view(text).substr(0, nl), "export header");
  const json header = parsed_header.ok() ? *parsed_header : json();
  const auto header_problem = [&](const std::string& why) {
    VerifyReport report;
    report.problem = Problem{ProblemKind::kMalformed, name, 1, 0, 0, "export header: " + why};
    return report;
  };
  if (nl == std::string::npos || header.is_discarded() || !header.is_object() ||
      header.value("oncomesh_audit_export", 0) != 1) {
    return header_problem("not an OncoMesh audit export (its first line is not the header)");
  }
  const json& period = header.value("period", json::object());
  if (!header["first_seq"].is_number_unsigned() || !header["last_seq"].is_number_unsigned() ||
      !header["prev"].is_string() || !header["from"].is_string() || !header["to"].is_string() ||
      !period.is_object() || !period["first_seq"].is_number_unsigned() ||
      !period["last_seq"].is_number_unsigned()) {
    return header_problem("first_seq, last_seq, prev, from, to or period missing");
  }
  const uint64_t first_seq = header["first_seq"], last_seq = header["last_seq"];
  const uint64_t period_first = period["first_seq"], period_last = period["last_seq"];
  const std::string from = header["from"], to = header["to"];
  internal::ChainChecker checker(&keys, first_seq, header["prev"].get<std::string>());
  checker.set_check_segment_names(false);
  // Every entry must be where the header puts it: before, in or after the period.
  checker.set_entry_check(ProblemKind::kMalformed, [&](const internal::ParsedLine& e) {
    const bool in_period = period_first != 0 && e.seq >= period_first && e.seq <= period_last;
    const bool before = period_first != 0 ? e.seq < period_first : e.time < from;
    std::optional<std::string> wrong;
    const bool time_in_period = !(e.time < from) && e.time < to;
    if (in_period && !time_in_period) {
      wrong = "its time " + e.time + " is outside the period [" + from + ", " + to + ")";
    } else if (!in_period && time_in_period) {
      wrong = "its time " + e.time + " is in the period, but the export leaves it out of it";
    } else if (!in_period && !before && e.time < from) {
      wrong = "its time " + e.time + " is before the period, but it follows the period's entries";
    }
    return wrong;
  });
  const std::string body = text.substr(nl + 1);
  checker.FeedFile(name, body);
  VerifyReport report = std::move(checker.report());
  if (report.problem) {
    ++report.problem->line;  // the header is line 1
    report.problem->offset += nl + 1;
    return report;
  }
  if (report.entries == 0 || report.last_seq != last_seq) {
    report.problem = Problem{ProblemKind::kRemoved,
                             name,
                             static_cast<int64_t>(report.entries) + 1,
                             text.size(),
                             last_seq,
                             "the header says the export ends at seq " + std::to_string(last_seq) +
                                 ", its entries end at seq " + std::to_string(report.last_seq)};
    return report;
  }
  if (report.unsigned_tail > 0) {
    report.notes.emplace_back(
        "the export ends " + std::to_string(report.unsigned_tail) +
        " entries after its last checkpoint: the log had not been checkpointed past the period "
        "yet, so those entries are proved by the chain only, and the period may have had entries "
        "after seq " +
        std::to_string(report.last_seq));
  } else if (period_first != 0 && report.last_seq == period_last) {
    report.notes.emplace_back("the export ends with the period: the log had no entry after it yet");
  }
  return report;
}

}  // namespace oncomesh::audit
