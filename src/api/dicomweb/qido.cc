// QIDO-RS (PS3.18 10.6): query parsing, matching (PS3.4 C.2.2.2) and the DICOM JSON results.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctag.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <tuple>

#include "api/dicomweb/internal/dicomweb_internal.h"
#include "model/date.h"

namespace oncomesh::api::dicomweb::internal {

using nlohmann::json;

namespace {

enum class Kind { kUid, kString, kDate, kInteger, kReturnOnly };

// The attributes QIDO-RS answers with and matches on (PS3.18 Tables 10.6.3-3/-4/-5: those
// the store has). `level`: the lowest query level the attribute belongs to; an attribute is
// returned and matchable at its level and below (a series search also returns its study's
// attributes, as PS3.18 10.6.3.3.2 asks for /series).
struct Attribute {
  uint32_t tag;
  const char* keyword;
  const char* vr;
  Level level;
  Kind kind;
};

constexpr uint32_t kStudyInstanceUid = 0x0020000D;
constexpr uint32_t kStudyDate = 0x00080020;
constexpr uint32_t kPatientId = 0x00100020;
constexpr uint32_t kModalitiesInStudy = 0x00080061;
constexpr uint32_t kNumberOfStudyRelatedSeries = 0x00201206;
constexpr uint32_t kNumberOfStudyRelatedInstances = 0x00201208;
constexpr uint32_t kSeriesInstanceUid = 0x0020000E;
constexpr uint32_t kModality = 0x00080060;
constexpr uint32_t kBodyPartExamined = 0x00180015;
constexpr uint32_t kSeriesNumber = 0x00200011;
constexpr uint32_t kNumberOfSeriesRelatedInstances = 0x00201209;
constexpr uint32_t kSopClassUid = 0x00080016;
constexpr uint32_t kSopInstanceUid = 0x00080018;
constexpr uint32_t kInstanceNumber = 0x00200013;
constexpr uint32_t kInstanceAvailability = 0x00080056;
constexpr uint32_t kRetrieveUrl = 0x00081190;

constexpr Attribute kAttributes[] = {
    {kStudyInstanceUid, "StudyInstanceUID", "UI", Level::kStudy, Kind::kUid},
    {kStudyDate, "StudyDate", "DA", Level::kStudy, Kind::kDate},
    {kPatientId, "PatientID", "LO", Level::kStudy, Kind::kString},
    {kModalitiesInStudy, "ModalitiesInStudy", "CS", Level::kStudy, Kind::kString},
    {kNumberOfStudyRelatedSeries, "NumberOfStudyRelatedSeries", "IS", Level::kStudy,
     Kind::kReturnOnly},
    {kNumberOfStudyRelatedInstances, "NumberOfStudyRelatedInstances", "IS", Level::kStudy,
     Kind::kReturnOnly},
    {kSeriesInstanceUid, "SeriesInstanceUID", "UI", Level::kSeries, Kind::kUid},
    {kModality, "Modality", "CS", Level::kSeries, Kind::kString},
    {kBodyPartExamined, "BodyPartExamined", "CS", Level::kSeries, Kind::kString},
    {kSeriesNumber, "SeriesNumber", "IS", Level::kSeries, Kind::kInteger},
    {kNumberOfSeriesRelatedInstances, "NumberOfSeriesRelatedInstances", "IS", Level::kSeries,
     Kind::kReturnOnly},
    {kSopClassUid, "SOPClassUID", "UI", Level::kInstance, Kind::kUid},
    {kSopInstanceUid, "SOPInstanceUID", "UI", Level::kInstance, Kind::kUid},
    {kInstanceNumber, "InstanceNumber", "IS", Level::kInstance, Kind::kInteger},
};

const Attribute* FindByTag(uint32_t tag) {
  for (const Attribute& a : kAttributes) {
    if (a.tag == tag) return &a;
  }
  return nullptr;
}

const Attribute* FindAttribute(const std::string& key) {
  for (const Attribute& a : kAttributes) {
    if (key == a.keyword) return &a;
  }
  if (key.size() != 8) return nullptr;
  uint32_t tag = 0;
  for (char c : key) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return nullptr;
    tag = tag * 16 + static_cast<uint32_t>(std::stoi(std::string(1, c), nullptr, 16));
  }
  return FindByTag(tag);
}

// A DICOM attribute keyword or tag DCMTK's data dictionary knows (or any well-formed tag).
bool IsDicomAttribute(const std::string& key) {
  if (key.size() == 8 && std::all_of(key.begin(), key.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c)) != 0;
      })) {
    return true;
  }
  DcmTag tag;
  return DcmTag::findTagFromName(key.c_str(), tag).good();
}

std::optional<size_t> ParseCount(const std::string& text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  size_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<size_t>(c - '0');
  }
  return v;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  for (char c : text) {
    if (c == ',' || c == '\\') {
      if (!item.empty()) out.push_back(item);
      item.clear();
    } else {
      item.push_back(c);
    }
  }
  if (!item.empty()) out.push_back(item);
  return out;
}

// "YYYYMMDD" as a date; nullopt when malformed.
std::optional<model::Date> ParseDicomDate(const std::string& text) {
  if (text.size() != 8 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  const int y = std::stoi(text.substr(0, 4));
  const int m = std::stoi(text.substr(4, 2));
  const int d = std::stoi(text.substr(6, 2));
  if (m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  const model::Date date =
      model::DateFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  const model::Civil back = model::CivilFromDays(date);
  if (back.day != static_cast<unsigned>(d)) return std::nullopt;  // 20240231
  return date;
}

// DA matching (PS3.4 C.2.2.2.5): "D", "D1-D2", "-D2", "D1-".
std::optional<std::pair<model::Date, model::Date>> ParseDateRange(const std::string& text) {
  const size_t dash = text.find('-');
  if (dash == std::string::npos) {
    auto d = ParseDicomDate(text);
    if (!d) return std::nullopt;
    return std::make_pair(*d, *d);
  }
  const std::string from = text.substr(0, dash), to = text.substr(dash + 1);
  if (from.empty() && to.empty()) return std::nullopt;
  std::pair<model::Date, model::Date> range{std::numeric_limits<model::Date>::min() + 1,
                                            std::numeric_limits<model::Date>::max()};
  if (!from.empty()) {
    auto d = ParseDicomDate(from);
    if (!d) return std::nullopt;
    range.first = *d;
  }
  if (!to.empty()) {
    auto d = ParseDicomDate(to);
    if (!d) return std::nullopt;
    range.second = *d;
  }
  if (range.first > range.second) return std::nullopt;
  return range;
}

// Wildcard matching (PS3.4 C.2.2.2.4): '*' any run of characters, '?' one character.
bool WildcardMatch(const std::string& pattern, const std::string& value) {
  size_t p = 0, v = 0, star = std::string::npos, resume = 0;
  while (v < value.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == value[v])) {
      ++p;
      ++v;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = v;
    } else if (star != std::string::npos) {
      p = star + 1;
      v = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// PS3.18 F.2.1.1.2: the key of an attribute is its tag as eight upper-case hex digits.
std::string TagKey(uint32_t tag) {
  char key[9];
  std::snprintf(key, sizeof key, "%08X", tag);
  return key;
}

struct StudySummary {
  std::string uid;
  std::string patient_id;
  model::Date date = model::kNoDate;
  std::set<std::string> modalities;
  std::set<std::string> series;
  int64_t instances = 0;
};

struct SeriesSummary {
  std::string uid;
  std::string modality;
  std::string body_part;
  int series_number = 0;
  int64_t instances = 0;
};

// One result: a study, a series of it, or an instance of that series.
struct Row {
  const StudySummary* study = nullptr;
  const SeriesSummary* series = nullptr;
  const model::DicomInstance* instance = nullptr;
};

// The values of an attribute for a row (empty: no value).
std::vector<std::string> ValuesOf(const Row& row, uint32_t tag) {
  auto one = [](const std::string& v) {
    return v.empty() ? std::vector<std::string>{} : std::vector<std::string>{v};
  };
  switch (tag) {
    case kStudyInstanceUid:
      return one(row.study->uid);
    case kStudyDate:
      return one(DicomDate(row.study->date));
    case kPatientId:
      return one(row.study->patient_id);
    case kModalitiesInStudy:
      return {row.study->modalities.begin(), row.study->modalities.end()};
    case kNumberOfStudyRelatedSeries:
      return {std::to_string(row.study->series.size())};
    case kNumberOfStudyRelatedInstances:
      return {std::to_string(row.study->instances)};
    case kSeriesInstanceUid:
      return one(row.series->uid);
    case kModality:
      return one(row.series->modality);
    case kBodyPartExamined:
      return one(row.series->body_part);
    case kSeriesNumber:
      return {std::to_string(row.series->series_number)};
    case kNumberOfSeriesRelatedInstances:
      return {std::to_string(row.series->instances)};
    case kSopClassUid:
      return one(row.instance->sop_class_uid);
    case kSopInstanceUid:
      return one(row.instance->id);
    case kInstanceNumber:
      return {std::to_string(row.instance->instance_number)};
    default:
      return {};
  }
}

bool Matches(const Row& row, const Condition& c, Kind kind) {
  if (kind == Kind::kDate) {
    if (row.study->date == model::kNoDate) return false;
    return row.study->date >= c.date_range->first && row.study->date <= c.date_range->second;
  }
  if (c.values.empty()) return true;  // universal matching
  const std::vector<std::string> have = ValuesOf(row, c.tag);
  for (const std::string& want : c.values) {
    for (const std::string& v : have) {
      if (kind == Kind::kString ? WildcardMatch(want, v) : want == v) return true;
    }
  }
  return false;
}

json ToJson(const Row& row, Level level, const std::string& base_url) {
  json out = json::object();
  for (const Attribute& a : kAttributes) {
    if (a.level > level) continue;
    const std::string key = TagKey(a.tag);
    json element = {{"vr", a.vr}};
    const std::vector<std::string> values = ValuesOf(row, a.tag);
    if (!values.empty()) {
      json list = json::array();
      for (const std::string& v : values) {
        // PS3.18 F.2.3: IS values are JSON numbers.
        if (std::string(a.vr) == "IS") {
          list.push_back(std::stoll(v));
        } else {
          list.push_back(v);
        }
      }
      element["Value"] = std::move(list);
    }
    out[key] = std::move(element);
  }
  out[TagKey(kInstanceAvailability)] = {{"vr", "CS"}, {"Value", {"ONLINE"}}};
  if (!base_url.empty()) {
    std::string url = base_url + "/dicomweb/studies/" + row.study->uid;
    if (level >= Level::kSeries) url += "/series/" + row.series->uid;
    if (level >= Level::kInstance) url += "/instances/" + row.instance->id;
    out[TagKey(kRetrieveUrl)] = {{"vr", "UR"}, {"Value", {url}}};
  }
  return out;
}

}  // namespace

std::string DicomDate(model::Date date) {
  if (date == model::kNoDate) return "";
  const model::Civil c = model::CivilFromDays(date);
  char text[16];
  std::snprintf(text, sizeof text, "%04d%02u%02u", c.year, c.month, c.day);
  return text;
}

Result<QidoQuery> ParseQidoQuery(Level level,
                                 const std::multimap<std::string, std::string>& params) {
  QidoQuery query;
  query.level = level;
  for (const auto& [key, value] : params) {
    if (key == "limit" || key == "offset") {
      std::optional<size_t> n = ParseCount(value);
      if (!n) {
        std::string message = key;
        message += " must be a non-negative integer, not '" + value + "'";
        return InvalidArgument(message);
      }
      (key == "limit" ? query.limit : query.offset) = *n;
      continue;
    }
    if (key == "includefield") {
      for (const std::string& field : SplitList(value)) {
        if (field != "all" && !IsDicomAttribute(field)) {
          return InvalidArgument("includefield: '" + field +
                                 "' is not a DICOM attribute keyword or tag");
        }
      }
      continue;
    }
    if (key == "fuzzymatching") {
      if (value != "true" && value != "false") {
        return InvalidArgument("fuzzymatching must be true or false, not '" + value + "'");
      }
      query.fuzzy_matching_requested = value == "true";
      continue;
    }
    const Attribute* a = FindAttribute(key);
    if (a == nullptr || a->kind == Kind::kReturnOnly || a->level > level) {
      if (a != nullptr || IsDicomAttribute(key)) {
        return InvalidArgument("matching on '" + key + "' is not supported at this query level");
      }
      return InvalidArgument("unknown query parameter '" + key + "'");
    }
    Condition c;
    c.tag = a->tag;
    if (a->kind == Kind::kDate) {
      c.date_range = ParseDateRange(value);
      if (!value.empty() && !c.date_range) {
        return InvalidArgument(std::string(a->keyword) +
                               " must be YYYYMMDD or a range YYYYMMDD-YYYYMMDD, not '" + value +
                               "'");
      }
      if (!c.date_range) continue;  // an empty value matches everything
    } else if (a->kind == Kind::kInteger) {
      for (const std::string& v : SplitList(value)) {
        const std::optional<size_t> n = ParseCount(v);
        if (!n)
          return InvalidArgument(std::string(a->keyword) + " must be an integer, not '" + v + "'");
        c.values.push_back(std::to_string(*n));  // "007" matches 7
      }
    } else {
      c.values = SplitList(value);
      if (a->kind == Kind::kString && c.values.size() == 1 && c.values[0] == "*") c.values.clear();
    }
    query.conditions.push_back(std::move(c));
  }
  return query;
}

std::vector<json> Search(const QidoQuery& query, const std::vector<model::DicomInstance>& instances,
                         const std::string& base_url, size_t* total) {
  std::map<std::string, StudySummary> studies;
  std::map<std::string, SeriesSummary> series;
  for (const model::DicomInstance& i : instances) {
    StudySummary& st = studies[i.study_uid];
    st.uid = i.study_uid;
    if (st.patient_id.empty()) st.patient_id = i.individual_id;
    if (st.date == model::kNoDate) st.date = i.study_date;
    if (!i.modality.empty()) st.modalities.insert(i.modality);
    st.series.insert(i.series_uid);
    ++st.instances;
    SeriesSummary& se = series[i.series_uid];
    se.uid = i.series_uid;
    if (se.modality.empty()) se.modality = i.modality;
    if (se.body_part.empty()) se.body_part = i.body_part;
    if (se.series_number == 0) se.series_number = i.series_number;
    ++se.instances;
  }

  std::vector<Row> rows;
  if (query.level == Level::kStudy) {
    for (const auto& [uid, st] : studies) rows.push_back({&st, nullptr, nullptr});
  } else if (query.level == Level::kSeries) {
    std::set<std::string> seen;
    for (const model::DicomInstance& i : instances) {
      if (seen.insert(i.series_uid).second) {
        rows.push_back({&studies.at(i.study_uid), &series.at(i.series_uid), nullptr});
      }
    }
  } else {
    for (const model::DicomInstance& i : instances) {
      rows.push_back({&studies.at(i.study_uid), &series.at(i.series_uid), &i});
    }
  }

  std::vector<Row> matched;
  for (const Row& row : rows) {
    bool all = true;
    for (const Condition& c : query.conditions) {
      all = all && Matches(row, c, FindByTag(c.tag)->kind);
    }
    if (all) matched.push_back(row);
  }
  auto order = [](const Row& r) {
    return std::make_tuple(r.study->uid, r.series ? r.series->series_number : 0,
                           r.series ? r.series->uid : std::string(),
                           r.instance ? r.instance->instance_number : 0,
                           r.instance ? r.instance->id : std::string());
  };
  std::sort(matched.begin(), matched.end(),
            [&](const Row& a, const Row& b) { return order(a) < order(b); });
  *total = matched.size();
  std::vector<json> out;
  for (size_t i = query.offset; i < matched.size() && out.size() < query.limit; ++i) {
    out.push_back(ToJson(matched[i], query.level, base_url));
  }
  return out;
}

}  // namespace oncomesh::api::dicomweb::internal
