#include "audit/entry.h"

#include <cctype>
#include <cstdio>
#include <ctime>

#include "audit/internal/chain.h"

namespace oncomesh::audit {

using nlohmann::json;

const char* EntryTypeName(EntryType type) {
  switch (type) {
    case EntryType::kRequest:
      return "request";
    case EntryType::kRefusal:
      return "refusal";
    case EntryType::kPermit:
      return "permit";
    case EntryType::kOpen:
      return "open";
    case EntryType::kCheckpoint:
      return "checkpoint";
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
    case RecordKind::kIndividual:
      return "individual";
    case RecordKind::kBiosample:
      return "biosample";
    case RecordKind::kGenomicVariation:
      return "genomicVariation";
    case RecordKind::kStudy:
      return "study";
    case RecordKind::kSeries:
      return "series";
    case RecordKind::kSopInstance:
      return "sopInstance";
  }
  return "individual";
}

const char* PermitActionName(PermitAction action) {
  switch (action) {
    case PermitAction::kRequest:
      return "request";
    case PermitAction::kApprove:
      return "approve";
    case PermitAction::kReject:
      return "reject";
    case PermitAction::kRevoke:
      return "revoke";
    case PermitAction::kOverride:
      return "override";
    case PermitAction::kApprovalRefused:
      return "approval-refused";
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
      if (e.permit->reason.empty() &&
          (e.permit->action == PermitAction::kReject || e.permit->action == PermitAction::kRevoke ||
           e.permit->action == PermitAction::kOverride ||
           e.permit->action == PermitAction::kApprovalRefused)) {
        return InvalidArgument(what + ": a " + PermitActionName(e.permit->action) +
                               " needs a reason");
      }
      if (!e.disclosed.empty())
        return InvalidArgument(what + ": a permit decision discloses nothing");
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

namespace {

// Small writers of JSON text in dump()'s form; every object's keys are written in sorted order.
void Str(std::string* out, std::string_view s) { internal::AppendJsonString(out, s); }

void Key(std::string* out, std::string_view key, bool first = false) {
  if (!first) out->push_back(',');
  Str(out, key);
  out->push_back(':');
}

void Num(std::string* out, uint64_t v) { out->append(std::to_string(v)); }
void Num(std::string* out, int64_t v) { out->append(std::to_string(v)); }
void Num(std::string* out, int v) { out->append(std::to_string(v)); }

void Ranges(std::string* out, const std::vector<ByteRange>& ranges) {
  out->push_back('[');
  for (size_t i = 0; i < ranges.size(); ++i) {
    if (i > 0) out->push_back(',');
    out->push_back('[');
    Num(out, ranges[i].start);
    out->push_back(',');
    Num(out, ranges[i].end);
    out->push_back(']');
  }
  out->push_back(']');
}

void Strings(std::string* out, const std::vector<std::string>& items) {
  out->push_back('[');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out->push_back(',');
    Str(out, items[i]);
  }
  out->push_back(']');
}

std::string CallerText(const Caller& c) {
  std::string out = "{";
  Key(&out, "address", true);
  Str(&out, c.address);
  if (c.unverified) {
    Key(&out, "unverified");
    out.append("true");
  } else if (c.subject.empty() && c.issuer.empty()) {
    Key(&out, "anonymous");
    out.append("true");
  } else {
    Key(&out, "issuer");
    Str(&out, c.issuer);
    Key(&out, "subject");
    Str(&out, c.subject);
  }
  out.push_back('}');
  return out;
}

std::string RequestText(const RequestLine& r) {
  std::string out = "{";
  bool first = true;
  if (!r.body.empty()) {
    Key(&out, "body", first);
    Str(&out, r.body);
    first = false;
  }
  if (r.body_bytes > r.body.size()) {
    Key(&out, "body_bytes", first);
    Num(&out, r.body_bytes);
    Key(&out, "body_sha256");
    Str(&out, r.body_sha256);
    first = false;
  }
  Key(&out, "method", first);
  Str(&out, r.method);
  Key(&out, "path");
  Str(&out, r.path);
  Key(&out, "query");
  Str(&out, r.query);
  out.push_back('}');
  return out;
}

std::string DisclosedText(const Disclosure& d) {
  std::string out = "{";
  Key(&out, "figures", true);
  out.push_back('[');
  for (size_t i = 0; i < d.figures.size(); ++i) {
    const ReleasedFigure& f = d.figures[i];
    out.append(i > 0 ? ",{" : "{");
    Key(&out, "dataset", true);
    Str(&out, f.dataset);
    Key(&out, "name");
    Str(&out, f.name);
    Key(&out, "value");
    Num(&out, f.value);
    out.push_back('}');
  }
  out.push_back(']');
  Key(&out, "files");
  out.push_back('[');
  for (size_t i = 0; i < d.files.size(); ++i) {
    const ServedFile& f = d.files[i];
    out.append(i > 0 ? ",{" : "{");
    Key(&out, "bytes", true);
    Num(&out, f.bytes);
    Key(&out, "file");
    Str(&out, f.file_id);
    if (!f.granted.empty()) {
      Key(&out, "granted");
      Ranges(&out, f.granted);
    }
    Key(&out, "ranges");
    Ranges(&out, f.ranges);
    out.push_back('}');
  }
  out.push_back(']');
  Key(&out, "records");
  out.push_back('[');
  for (size_t i = 0; i < d.records.size(); ++i) {
    const ReleasedRecords& r = d.records[i];
    out.append(i > 0 ? ",{" : "{");
    Key(&out, "dataset", true);
    Str(&out, r.dataset);
    Key(&out, "ids");
    Strings(&out, r.ids);
    Key(&out, "kind");
    Str(&out, RecordKindName(r.kind));
    out.push_back('}');
  }
  out.push_back(']');
  out.push_back('}');
  return out;
}

}  // namespace

namespace internal {

Members EntryMembers(const Entry& e) {
  Members m;
  m.reserve(8);
  const bool has_request = e.type == EntryType::kRequest || e.type == EntryType::kRefusal;
  if (has_request || e.type == EntryType::kPermit) m.emplace_back("caller", CallerText(e.caller));
  if (has_request) {
    m.emplace_back("request", RequestText(e.request));
    std::string access = "{";
    for (const auto& [dataset, level] : e.access) {  // a std::map: sorted
      Key(&access, dataset, access.size() == 1);
      Str(&access, level);
    }
    access.push_back('}');
    m.emplace_back("access", std::move(access));
    std::string outcome = "{";
    Key(&outcome, "reason", true);
    Str(&outcome, e.outcome.reason);
    Key(&outcome, "status");
    Num(&outcome, e.outcome.status);
    outcome.push_back('}');
    m.emplace_back("outcome", std::move(outcome));
    m.emplace_back("disclosed", DisclosedText(e.disclosed));
  }
  if (e.permit) {
    std::string permit = "{";
    Key(&permit, "action", true);
    Str(&permit, PermitActionName(e.permit->action));
    Key(&permit, "datasets");
    Strings(&permit, e.permit->datasets);
    Key(&permit, "id");
    Str(&permit, e.permit->permit_id);
    Key(&permit, "reason");
    Str(&permit, e.permit->reason);
    Key(&permit, "researcher");
    Str(&permit, e.permit->researcher);
    permit.push_back('}');
    m.emplace_back("permit", std::move(permit));
  }
  if (e.details.is_object() && !e.details.empty()) {
    m.emplace_back("details", e.details.dump(-1, ' ', false, json::error_handler_t::replace));
  }
  return m;
}

}  // namespace internal

json EntryFieldsToJson(const Entry& e) {
  json j = json::object();
  for (const auto& [key, text] : internal::EntryMembers(e)) j[key] = json::parse(text);
  return j;
}

std::string FormatTime(std::chrono::system_clock::time_point t) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
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
  std::tm date{};
  date.tm_year = tm.tm_year;
  date.tm_mon = tm.tm_mon;
  date.tm_mday = day;
  const std::time_t midnight = timegm(&date);
  std::tm back{};
  if (gmtime_r(&midnight, &back) == nullptr || back.tm_mday != day || back.tm_mon != month - 1) {
    return InvalidArgument("'" + std::string(text) + "' is not a date (day " + std::to_string(day) +
                           " of month " + std::to_string(month) + ")");
  }
  // The log's clock (std::chrono::system_clock in nanoseconds) reaches the year 2262.
  if (year < 1970 || year > 2261) {
    return InvalidArgument("'" + std::string(text) + "': a time between 1970 and 2261 is needed");
  }
  const std::time_t secs = timegm(&tm) - static_cast<std::time_t>(offset_minutes) * 60;
  return FormatTime(std::chrono::system_clock::from_time_t(secs) +
                    std::chrono::milliseconds(millis));
}

}  // namespace oncomesh::audit
