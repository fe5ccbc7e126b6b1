#include "audit/entry.h"

#include <cctype>
#include <cstdio>
#include <ctime>

namespace oncomesh::audit {

using nlohmann::json;

const char* EntryTypeName(EntryType type) {
  switch (type) {
    case EntryType::kRequest: return "request";
    case EntryType::kRefusal: return "refusal";
    case EntryType::kPermit: return "permit";
    case EntryType::kOpen: return "open";
    case EntryType::kCheckpoint: return "checkpoint";
  }
  return "request";
}

std::optional<EntryType> EntryTypeFromName(std::string_view name) {
  for (EntryType t : {EntryType::kRequest, EntryType::kRefusal, EntryType::kPermit,
                      EntryType::kOpen, EntryType::kCheckpoint}) {
    if (name == EntryTypeName(t)) return t;
  }
  return std::nullopt;
}

const char* RecordKindName(RecordKind kind) {
  switch (kind) {
    case RecordKind::kIndividual: return "individual";
    case RecordKind::kBiosample: return "biosample";
    case RecordKind::kGenomicVariation: return "genomicVariation";
    case RecordKind::kStudy: return "study";
    case RecordKind::kSeries: return "series";
    case RecordKind::kSopInstance: return "sopInstance";
  }
  return "individual";
}

const char* PermitActionName(PermitAction action) {
  switch (action) {
    case PermitAction::kRequest: return "request";
    case PermitAction::kApprove: return "approve";
    case PermitAction::kReject: return "reject";
    case PermitAction::kRevoke: return "revoke";
    case PermitAction::kOverride: return "override";
  }
  return "request";
}

Status ValidateEntry(const Entry& e) {
  const std::string what = std::string("audit entry (") + EntryTypeName(e.type) + ")";
  if (!e.details.is_object()) return InvalidArgument(what + ": details must be a JSON object");
  switch (e.type) {
    case EntryType::kOpen:
    case EntryType::kCheckpoint:
      return InvalidArgument(what + ": written by the log itself, not by callers");
    case EntryType::kPermit:
      if (!e.permit) return InvalidArgument(what + ": no permit decision");
      if (e.permit->permit_id.empty()) return InvalidArgument(what + ": no permit id");
      if (e.permit->reason.empty() && (e.permit->action == PermitAction::kReject ||
                                       e.permit->action == PermitAction::kRevoke ||
                                       e.permit->action == PermitAction::kOverride)) {
        return InvalidArgument(what + ": a " + PermitActionName(e.permit->action) +
                               " needs a reason");
      }
      if (!e.disclosed.empty()) return InvalidArgument(what + ": a permit decision discloses nothing");
      return Status::Ok();
    case EntryType::kRequest:
    case EntryType::kRefusal:
      break;
  }
  if (e.permit) return InvalidArgument(what + ": a permit decision belongs in a permit entry");
  if (e.request.method.empty() || e.request.path.empty()) {
    return InvalidArgument(what + ": no request method or path");
  }
  if (e.outcome.status < 100 || e.outcome.status > 599) {
    return InvalidArgument(what + ": HTTP status " + std::to_string(e.outcome.status) +
                           " is not one");
  }
  if (e.type == EntryType::kRefusal) {
    if (e.outcome.reason.empty()) return InvalidArgument(what + ": a refusal needs a reason");
    if (!e.disclosed.empty()) {
      return InvalidArgument(what + ": a refusal discloses nothing (use a request entry)");
    }
  }
  for (const ServedFile& f : e.disclosed.files) {
    if (f.file_id.empty()) return InvalidArgument(what + ": a served file without an id");
    for (const auto* ranges : {&f.ranges, &f.granted}) {
      for (const ByteRange& r : *ranges) {
        if (r.end < r.start) return InvalidArgument(what + ": byte range ends before it starts");
      }
    }
  }
  return Status::Ok();
}

json EntryFieldsToJson(const Entry& e) {
  json j = json::object();
  if (e.type == EntryType::kRequest || e.type == EntryType::kRefusal || e.type == EntryType::kPermit) {
    json caller = {{"address", e.caller.address}};
    if (e.caller.unverified) {
      caller["unverified"] = true;
    } else if (e.caller.subject.empty() && e.caller.issuer.empty()) {
      caller["anonymous"] = true;
    } else {
      caller["subject"] = e.caller.subject;
      caller["issuer"] = e.caller.issuer;
    }
    j["caller"] = std::move(caller);
  }
  if (e.type == EntryType::kRequest || e.type == EntryType::kRefusal) {
    j["request"] = {{"method", e.request.method}, {"path", e.request.path}, {"query", e.request.query}};
    if (!e.request.body.empty()) j["request"]["body"] = e.request.body;
    if (e.request.body_bytes > e.request.body.size()) {
      j["request"]["body_bytes"] = e.request.body_bytes;
      j["request"]["body_sha256"] = e.request.body_sha256;
    }
    j["access"] = e.access;
    j["outcome"] = {{"status", e.outcome.status}, {"reason", e.outcome.reason}};
    json figures = json::array(), records = json::array(), files = json::array();
    for (const ReleasedFigure& f : e.disclosed.figures) {
      figures.push_back({{"dataset", f.dataset}, {"name", f.name}, {"value", f.value}});
    }
    for (const ReleasedRecords& r : e.disclosed.records) {
      records.push_back({{"dataset", r.dataset}, {"kind", RecordKindName(r.kind)}, {"ids", r.ids}});
    }
    for (const ServedFile& f : e.disclosed.files) {
      json ranges = json::array();
      for (const ByteRange& r : f.ranges) ranges.push_back(json::array({r.start, r.end}));
      json file = {{"file", f.file_id}, {"ranges", std::move(ranges)}, {"bytes", f.bytes}};
      if (!f.granted.empty()) {
        json granted = json::array();
        for (const ByteRange& r : f.granted) granted.push_back(json::array({r.start, r.end}));
        file["granted"] = std::move(granted);
      }
      files.push_back(std::move(file));
    }
    j["disclosed"] = {{"figures", std::move(figures)}, {"records", std::move(records)},
                      {"files", std::move(files)}};
  }
  if (e.permit) {
    j["permit"] = {{"action", PermitActionName(e.permit->action)},
                   {"id", e.permit->permit_id},
                   {"researcher", e.permit->researcher},
                   {"datasets", e.permit->datasets},
                   {"reason", e.permit->reason}};
  }
  if (!e.details.empty()) j["details"] = e.details;
  return j;
}

std::string FormatTime(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  auto secs = static_cast<std::time_t>(ms / 1000);
  long frac = static_cast<long>(ms % 1000);
  if (frac < 0) {  // before 1970: floor, not truncate
    frac += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

namespace {

// Reads exactly `n` digits at text[*pos]; -1 when they are not there.
int Digits(std::string_view text, size_t* pos, int n) {
  int v = 0;
  for (int i = 0; i < n; ++i, ++*pos) {
    if (*pos >= text.size() || !std::isdigit(static_cast<unsigned char>(text[*pos]))) return -1;
    v = v * 10 + (text[*pos] - '0');
  }
  return v;
}

bool Expect(std::string_view text, size_t* pos, char c) {
  if (*pos >= text.size() || text[*pos] != c) return false;
  ++*pos;
  return true;
}

}  // namespace

Result<std::string> CanonicalTime(std::string_view text) {
  const auto bad = [&] {
    return InvalidArgument("'" + std::string(text) +
                           "' is not a time (YYYY-MM-DD or RFC 3339, e.g. 2025-03-01T12:00:00Z)");
  };
  size_t p = 0;
  std::tm tm{};
  const int year = Digits(text, &p, 4);
  if (year < 0 || !Expect(text, &p, '-')) return bad();
  const int month = Digits(text, &p, 2);
  if (month < 1 || month > 12 || !Expect(text, &p, '-')) return bad();
  const int day = Digits(text, &p, 2);
  if (day < 1 || day > 31) return bad();
  int hour = 0, minute = 0, second = 0, millis = 0, offset_minutes = 0;
  if (p < text.size()) {
    if (text[p] != 'T' && text[p] != 't' && text[p] != ' ') return bad();
    ++p;
    hour = Digits(text, &p, 2);
    if (hour < 0 || hour > 23 || !Expect(text, &p, ':')) return bad();
    minute = Digits(text, &p, 2);
    if (minute < 0 || minute > 59 || !Expect(text, &p, ':')) return bad();
    second = Digits(text, &p, 2);
    if (second < 0 || second > 60) return bad();
    if (p < text.size() && text[p] == '.') {
      ++p;
      int scale = 100, digits = 0;
      while (p < text.size() && std::isdigit(static_cast<unsigned char>(text[p]))) {
        millis += (text[p] - '0') * scale;  // sub-millisecond digits are dropped
        scale /= 10;
        ++p;
        ++digits;
      }
      if (digits == 0) return bad();
    }
    if (p >= text.size()) return bad();
    if (text[p] == 'Z' || text[p] == 'z') {
      ++p;
    } else if (text[p] == '+' || text[p] == '-') {
      const int sign = text[p] == '+' ? 1 : -1;
      ++p;
      const int oh = Digits(text, &p, 2);
      if (oh < 0 || !Expect(text, &p, ':')) return bad();
      const int om = Digits(text, &p, 2);
      if (om < 0) return bad();
      offset_minutes = sign * (oh * 60 + om);
    } else {
      return bad();
    }
    if (p != text.size()) return bad();
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t secs = timegm(&tm) - static_cast<std::time_t>(offset_minutes) * 60;
  return FormatTime(std::chrono::system_clock::from_time_t(secs) + std::chrono::milliseconds(millis));
}

}  // namespace oncomesh::audit
