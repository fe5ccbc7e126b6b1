#include "query/beacon_request.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "model/date.h"
#include "query/variant_request.h"
#include "util/json.h"

namespace oncomesh::query {
namespace {

using nlohmann::json;

const char* const kOperators[] = {">=", "<=", "=", "<", ">", "!"};

bool IsOperator(const std::string& op) {
  return std::find(std::begin(kOperators), std::end(kOperators), op) != std::end(kOperators);
}

// Nesting of anyOf/not and the number of filters are bounded so that a hostile request cannot
// exhaust the stack or the CPU of a node.
constexpr int kMaxFilterDepth = 16;
constexpr size_t kMaxFilters = 256;

// Refuses the members of `object` that `known` does not list, naming them all. The Beacon v2
// request schemas list the members of each object; a member we do not know would otherwise
// be ignored silently and answer a question the caller did not ask.
Status OnlyKnownKeys(const json& object, std::initializer_list<std::string_view> known,
                     const std::string& where) {
  std::string unknown;
  size_t count = 0;
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    unknown += (count++ ? ", '" : "'") + key + "'";
  }
  if (count == 0) return Status::Ok();
  std::string allowed;
  for (const std::string_view k : known) allowed += (allowed.empty() ? "" : ", ") + std::string(k);
  return InvalidArgument(where + ": unknown " + (count == 1 ? "key " : "keys ") + unknown +
                         " (known: " + allowed + ")");
}

Result<json> NormalizeFilter(const json& f, const std::string& where, int depth = 0) {
  if (depth > kMaxFilterDepth) {
    return InvalidArgument(where + ": filters nested deeper than " +
                           std::to_string(kMaxFilterDepth) + " levels");
  }
  if (f.is_string()) {
    if (f.get<std::string>().empty()) return InvalidArgument(where + ": empty filter id");
    return json{{"id", f}};
  }
  if (!f.is_object()) return InvalidArgument(where + ": a filter must be an object or a string");
  // requests/filteringTerms.json (ontology, alphanumeric and custom filters) and our anyOf/not.
  RETURN_IF_ERROR(OnlyKnownKeys(
      f,
      {"id", "operator", "value", "includeDescendantTerms", "similarity", "scope", "anyOf", "not"},
      where));
  if (f.contains("anyOf")) {
    const json& any = f["anyOf"];
    if (!any.is_array() || any.empty()) {
      return InvalidArgument(where + ".anyOf: must be a non-empty array of filters");
    }
    json out = json::array();
    for (size_t i = 0; i < any.size(); ++i) {
      ASSIGN_OR_RETURN(
          json n, NormalizeFilter(any[i], where + ".anyOf[" + std::to_string(i) + "]", depth + 1));
      out.push_back(std::move(n));
    }
    return json{{"anyOf", std::move(out)}};
  }
  if (f.contains("not")) {
    ASSIGN_OR_RETURN(json n, NormalizeFilter(f["not"], where + ".not", depth + 1));
    return json{{"not", std::move(n)}};
  }
  if (!f.contains("id") || !f["id"].is_string() || f["id"].get<std::string>().empty()) {
    return InvalidArgument(where + ": a filter needs a non-empty string 'id' (or 'anyOf'/'not')");
  }
  json out = {{"id", f["id"]}};
  if (f.contains("operator") || f.contains("value")) {
    if (!f.contains("operator") || !f["operator"].is_string() ||
        !IsOperator(f["operator"].get<std::string>())) {
      return InvalidArgument(where + ": 'operator' must be one of =, <, <=, >, >=, !");
    }
    if (!f.contains("value") || !(f["value"].is_string() || f["value"].is_number())) {
      return InvalidArgument(where + ": an alphanumeric filter needs a string or number 'value'");
    }
    out["operator"] = f["operator"];
    out["value"] = f["value"];
  }
  if (f.contains("includeDescendantTerms")) {
    if (!f["includeDescendantTerms"].is_boolean()) {
      return InvalidArgument(where + ".includeDescendantTerms: must be true or false");
    }
    out["includeDescendantTerms"] = f["includeDescendantTerms"];
  }
  if (f.contains("similarity")) {
    const json& s = f["similarity"];
    if (!s.is_string() || (s != "exact" && s != "high" && s != "medium" && s != "low")) {
      return InvalidArgument(where + ".similarity: must be exact, high, medium or low");
    }
    out["similarity"] = s;
  }
  if (f.contains("scope")) {
    if (!f["scope"].is_string()) return InvalidArgument(where + ".scope: must be a string");
    out["scope"] = f["scope"];
  }
  return out;
}

Result<Granularity> ParseGranularity(const std::string& g) {
  if (g == "boolean") return Granularity::kBoolean;
  if (g == "count") return Granularity::kCount;
  if (g == "record") return Granularity::kRecord;
  return InvalidArgument("requestedGranularity: '" + g + "' is not one of boolean, count, record");
}

Result<int64_t> ParseNonNegative(const std::string& text, const std::string& name) {
  int64_t v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < 0) {
    return InvalidArgument(name + ": '" + text + "' is not a non-negative integer");
  }
  return v;
}

// One element of a GET `filters` list.
Result<json> ParseGetFilter(std::string element, int depth = 0) {
  if (element.empty()) return InvalidArgument("filters: empty element");
  if (depth > kMaxFilterDepth)
    return InvalidArgument("filters: '" + element + "' is nested too deeply");
  if (element.front() == '!' && element.find_first_of("<>=") == std::string::npos) {
    ASSIGN_OR_RETURN(json inner, ParseGetFilter(element.substr(1), depth + 1));
    return json{{"not", std::move(inner)}};
  }
  if (element.find('|') != std::string::npos) {
    json any = json::array();
    size_t start = 0;
    for (;;) {
      const size_t bar = element.find('|', start);
      ASSIGN_OR_RETURN(
          json part,
          ParseGetFilter(element.substr(start, bar == std::string::npos ? bar : bar - start),
                         depth + 1));
      any.push_back(std::move(part));
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
    return json{{"anyOf", std::move(any)}};
  }
  const size_t op_pos = element.find_first_of("<>=!");
  if (op_pos != std::string::npos && op_pos > 0) {
    size_t op_len = 1;
    if (op_pos + 1 < element.size() && element[op_pos + 1] == '=' && element[op_pos] != '=') {
      op_len = 2;
    }
    return json{{"id", element.substr(0, op_pos)},
                {"operator", element.substr(op_pos, op_len)},
                {"value", element.substr(op_pos + op_len)}};
  }
  return json{{"id", element}};
}

}  // namespace

// A request body is at most the HTTP server's limit; nesting deeper than a Beacon request
// needs is refused before the document is built (a deep array would overflow the stack of
// whatever copies it).
constexpr JsonLimits kRequestJsonLimits{/*max_depth=*/64, /*max_bytes=*/size_t{1} << 20};

Result<BeaconRequest> ParseBeaconPost(const std::string& body) {
  BeaconRequest r;
  if (body.empty()) return r;
  ASSIGN_OR_RETURN(const json doc, ParseJson(body, "request body", kRequestJsonLimits));
  if (!doc.is_object()) return InvalidArgument("request body must be a JSON object");
  // framework requests/beaconRequestBody.json
  RETURN_IF_ERROR(OnlyKnownKeys(doc, {"$schema", "meta", "query"}, "request body"));
  if (doc.contains("meta")) {
    const json& meta = doc["meta"];
    if (!meta.is_object()) return InvalidArgument("meta: must be an object");
    // framework requests/beaconRequestMeta.json
    RETURN_IF_ERROR(OnlyKnownKeys(meta, {"$schema", "apiVersion", "requestedSchemas"}, "meta"));
    if (meta.contains("apiVersion")) {
      if (!meta["apiVersion"].is_string())
        return InvalidArgument("meta.apiVersion: must be a string");
      r.api_version = meta["apiVersion"];
    }
    if (meta.contains("requestedSchemas")) {
      if (!meta["requestedSchemas"].is_array()) {
        return InvalidArgument("meta.requestedSchemas: must be an array");
      }
      for (const json& s : meta["requestedSchemas"]) {
        if (s.is_string()) {
          r.requested_schemas.push_back(s);
        } else if (s.is_object() && s.contains("schema") && s["schema"].is_string()) {
          r.requested_schemas.push_back(s["schema"]);
        } else {
          return InvalidArgument("meta.requestedSchemas: entries must be schema names");
        }
      }
    }
  }
  if (!doc.contains("query")) return r;
  const json& q = doc["query"];
  if (!q.is_object()) return InvalidArgument("query: must be an object");
  // framework requests/beaconRequestBody.json, $defs/BeaconQuery
  RETURN_IF_ERROR(OnlyKnownKeys(q,
                                {"filters", "includeResultsetResponses", "pagination",
                                 "requestParameters", "requestedGranularity", "testMode"},
                                "query"));
  if (q.contains("filters")) {
    if (!q["filters"].is_array()) return InvalidArgument("query.filters: must be an array");
    if (q["filters"].size() > kMaxFilters) {
      return InvalidArgument("query.filters: more than " + std::to_string(kMaxFilters) +
                             " filters");
    }
    for (size_t i = 0; i < q["filters"].size(); ++i) {
      ASSIGN_OR_RETURN(
          json f, NormalizeFilter(q["filters"][i], "query.filters[" + std::to_string(i) + "]"));
      r.filters.push_back(std::move(f));
    }
  }
  if (q.contains("requestedGranularity")) {
    if (!q["requestedGranularity"].is_string()) {
      return InvalidArgument("query.requestedGranularity: must be a string");
    }
    ASSIGN_OR_RETURN(r.requested_granularity, ParseGranularity(q["requestedGranularity"]));
    r.granularity_given = true;
  }
  if (q.contains("pagination")) {
    const json& p = q["pagination"];
    if (!p.is_object()) return InvalidArgument("query.pagination: must be an object");
    // common/beaconCommonComponents.json, $defs/Pagination: page tokens are not issued here.
    for (const char* token : {"currentPage", "nextPage", "previousPage"}) {
      if (p.contains(token)) {
        return InvalidArgument(std::string("query.pagination.") + token +
                               ": page tokens are not supported; use skip and limit");
      }
    }
    RETURN_IF_ERROR(OnlyKnownKeys(p, {"skip", "limit"}, "query.pagination"));
    for (const char* key : {"skip", "limit"}) {
      if (!p.contains(key)) continue;
      if (!p[key].is_number_integer() || p[key].get<int64_t>() < 0) {
        return InvalidArgument(std::string("query.pagination.") + key +
                               ": must be a non-negative integer");
      }
      (std::string(key) == "skip" ? r.skip : r.limit) = p[key].get<int64_t>();
    }
  }
  if (q.contains("includeResultsetResponses")) {
    const json& v = q["includeResultsetResponses"];
    if (!v.is_string() || (v != "HIT" && v != "MISS" && v != "ALL" && v != "NONE")) {
      return InvalidArgument("query.includeResultsetResponses: must be HIT, MISS, ALL or NONE");
    }
    r.include_resultset_responses = v;
  }
  if (q.contains("testMode")) {
    if (!q["testMode"].is_boolean())
      return InvalidArgument("query.testMode: must be true or false");
    r.test_mode = q["testMode"];
  }
  if (q.contains("requestParameters")) {
    const json& rp = q["requestParameters"];
    if (!rp.is_object() && !rp.is_array()) {
      return InvalidArgument("query.requestParameters: must be an object");
    }
    if (!rp.empty()) {
      ASSIGN_OR_RETURN(r.variant, ParseVariantParameters(rp));
      r.request_parameters = rp.contains("g_variant") ? rp : json{{"g_variant", rp}};
    }
  }
  return r;
}

Result<BeaconRequest> ParseBeaconGet(const std::multimap<std::string, std::string>& query) {
  BeaconRequest r;
  for (const auto& [name, value] : query) {
    // Percent-decoding can yield any bytes; what is echoed or forwarded must be UTF-8 text.
    RETURN_IF_ERROR(CheckUtf8(name, "query parameter name"));
    RETURN_IF_ERROR(CheckUtf8(value, name));
    if (name == "filters") {
      size_t start = 0;
      for (;;) {
        const size_t comma = value.find(',', start);
        std::string element =
            value.substr(start, comma == std::string::npos ? comma : comma - start);
        element.erase(0, element.find_first_not_of(' '));
        element.erase(element.find_last_not_of(' ') + 1);
        if (!element.empty()) {
          ASSIGN_OR_RETURN(json raw, ParseGetFilter(element));
          ASSIGN_OR_RETURN(json f, NormalizeFilter(raw, "filters '" + element + "'"));
          r.filters.push_back(std::move(f));
          if (r.filters.size() > kMaxFilters) {
            return InvalidArgument("filters: more than " + std::to_string(kMaxFilters) +
                                   " filters");
          }
        }
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else if (name == "requestedGranularity") {
      ASSIGN_OR_RETURN(r.requested_granularity, ParseGranularity(value));
      r.granularity_given = true;
    } else if (name == "skip") {
      ASSIGN_OR_RETURN(r.skip, ParseNonNegative(value, "skip"));
    } else if (name == "limit") {
      ASSIGN_OR_RETURN(r.limit, ParseNonNegative(value, "limit"));
    } else if (name == "testMode") {
      if (value != "true" && value != "false")
        return InvalidArgument("testMode: must be true or false");
      r.test_mode = value == "true";
    } else if (name == "includeResultsetResponses") {
      if (value != "HIT" && value != "MISS" && value != "ALL" && value != "NONE") {
        return InvalidArgument("includeResultsetResponses: must be HIT, MISS, ALL or NONE");
      }
      r.include_resultset_responses = value;
    } else if (name == "apiVersion") {
      r.api_version = value;
    } else if (!IsVariantParameter(name)) {
      return InvalidArgument("unknown query parameter '" + name + "'");
    }
  }
  ASSIGN_OR_RETURN(json variant, VariantParametersFromGet(query));
  if (!variant.empty()) {
    ASSIGN_OR_RETURN(r.variant, ParseVariantParameters(variant));
    r.request_parameters = json{{"g_variant", variant}};
  }
  return r;
}

Result<index::Plan> BuildRequestPlan(const BeaconRequest& request,
                                     const index::CohortIndex& index) {
  ASSIGN_OR_RETURN(index::Plan plan, BuildPlan(request.filters, index));
  if (!request.variant) return plan;
  ASSIGN_OR_RETURN(const std::vector<uint32_t> matches, index.variants().Match(*request.variant));
  const uint32_t chunks = (index.num_rows() + index::kChunkBits - 1) / index::kChunkBits;
  std::vector<index::Plan> both;
  both.push_back(std::move(plan));
  both.push_back(index::Plan::Term(index.variants().Carriers(matches, chunks)));
  return index::Plan::And(std::move(both));
}

std::optional<int64_t> ParseAgeDuration(std::string_view text, bool* whole_years) {
  // PnYnMnD (weeks and times are not used for ages at diagnosis).
  if (text.size() < 3 || text[0] != 'P') return std::nullopt;
  int64_t years = 0, months = 0, days = 0;
  bool any = false;
  size_t i = 1;
  char last = 0;
  while (i < text.size()) {
    int64_t v = 0;
    const auto [p, ec] = std::from_chars(text.data() + i, text.data() + text.size(), v);
    if (ec != std::errc() || p == text.data() + text.size() || v < 0 || v > 100000)
      return std::nullopt;
    const char unit = *p;
    const auto order = [](char u) { return u == 'Y' ? 1 : u == 'M' ? 2 : u == 'D' ? 3 : 0; };
    if (order(unit) == 0 || order(unit) <= order(last)) return std::nullopt;
    if (unit == 'Y') years = v;
    if (unit == 'M') months = v;
    if (unit == 'D') days = v;
    last = unit;
    any = true;
    i = static_cast<size_t>(p - text.data()) + 1;
  }
  if (!any) return std::nullopt;
  // Months and days beyond whole years: at 30.436875 days a month (the Gregorian mean).
  const int64_t extra_days = static_cast<int64_t>(static_cast<double>(months) * 30.436875) + days;
  years += extra_days / index::kAgeYearSlot;
  const int64_t rest = extra_days % index::kAgeYearSlot;
  *whole_years = rest == 0;
  return years * index::kAgeYearSlot + rest;
}

namespace {

struct PlanBuilder {
  const index::CohortIndex& index;

  Result<index::Plan> Build(const json& f) {
    if (f.contains("anyOf")) {
      std::vector<index::Plan> children;
      for (const json& c : f["anyOf"]) {
        ASSIGN_OR_RETURN(index::Plan p, Build(c));
        children.push_back(std::move(p));
      }
      return index::Plan::Or(std::move(children));
    }
    if (f.contains("not")) {
      ASSIGN_OR_RETURN(index::Plan p, Build(f["not"]));
      return index::Plan::Not(std::move(p));
    }
    const std::string id = f["id"];
    if (f.contains("operator")) return Alphanumeric(id, f["operator"], f["value"]);
    if (id == "age" || id == "ageAtDiagnosis" || id == "dateOfDiagnosis" || id == "stage" ||
        id == index::kSliceThicknessAttribute) {
      return InvalidArgument("filter '" + id +
                             "' is alphanumeric: it needs an operator and a value");
    }
    const bool descendants = f.value("includeDescendantTerms", true);
    if (const index::Posting* p = index.Find(id, descendants)) return index::Plan::Term(p);
    if (index.vocabulary().Find(id) || index.IsKnownCustomTerm(id) || id.rfind("DCM:", 0) == 0 ||
        id.rfind(index::kManufacturerTermPrefix, 0) == 0) {
      return index::Plan::None();  // a term we know, that no individual here has
    }
    return InvalidArgument("unknown filtering term '" + id + "' (see /api/filtering_terms)");
  }

  static void Bounds(const std::string& op, int64_t v, int64_t* lo, int64_t* hi) {
    *lo = INT32_MIN;
    *hi = INT32_MAX;
    if (op == "=" || op == "!") *lo = *hi = v;
    if (op == "<") *hi = v - 1;
    if (op == "<=") *hi = v;
    if (op == ">") *lo = v + 1;
    if (op == ">=") *lo = v;
  }

  Result<index::Plan> Alphanumeric(const std::string& id, const std::string& op,
                                   const json& value) {
    const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    if (id == "age" || id == "ageAtDiagnosis") {
      const index::RangeAttribute* a = index.FindAttribute("ageAtDiagnosis");
      bool whole = true;
      std::optional<int64_t> v;
      if (value.is_number_integer()) {
        v = value.get<int64_t>() * index::kAgeYearSlot;
      } else {
        v = ParseAgeDuration(text, &whole);
      }
      if (!v || *v < 0) {
        return InvalidArgument("filter '" + id + "': value '" + text +
                               "' is not an ISO 8601 duration such as P70Y");
      }
      int64_t lo, hi;
      index::Plan range;
      if (whole) {
        Bounds(op, *v / index::kAgeYearSlot, &lo, &hi);
        range = index::Plan::Range(a, lo, hi, /*in_buckets=*/true);
      } else {
        Bounds(op, *v, &lo, &hi);
        range = index::Plan::Range(a, lo, hi, /*in_buckets=*/false);
      }
      return Negate(op, std::move(range), a);
    }
    if (id == "dateOfDiagnosis") {
      const index::RangeAttribute* a = index.FindAttribute("dateOfDiagnosis");
      const auto d = model::ParseDate(text);
      if (!d || text.size() != 10) {
        return InvalidArgument("filter 'dateOfDiagnosis': value '" + text +
                               "' is not an ISO 8601 date (YYYY-MM-DD)");
      }
      int64_t lo, hi;
      Bounds(op, *d, &lo, &hi);
      return Negate(op, index::Plan::Range(a, lo, hi, false), a);
    }
    if (id == "stage") return Stage(op, text);
    if (id == index::kSliceThicknessAttribute) {
      // Millimetres, as DICOM Slice Thickness: individuals with a series at least that thin
      // ("<=") or thick; the index keeps each individual's thinnest, in micrometres.
      char* end = nullptr;
      const double mm = std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size() || !(mm > 0) || mm >= 1000) {
        return InvalidArgument("filter 'sliceThickness': value '" + text +
                               "' is not a thickness in millimetres (e.g. 1.5)");
      }
      const index::RangeAttribute* a = index.FindAttribute(index::kSliceThicknessAttribute);
      int64_t lo, hi;
      Bounds(op, std::llround(mm * 1000), &lo, &hi);
      return Negate(op, index::Plan::Range(a, lo, hi, false), a);
    }
    return InvalidArgument(
        "unknown alphanumeric filter '" + id +
        "' (known: age, ageAtDiagnosis, dateOfDiagnosis, stage, sliceThickness)");
  }

  index::Plan Negate(const std::string& op, index::Plan range, const index::RangeAttribute* a) {
    if (op != "!") return range;
    std::vector<index::Plan> both;
    both.push_back(index::Plan::Term(&a->has_value()));
    both.push_back(index::Plan::Not(std::move(range)));
    return index::Plan::And(std::move(both));
  }

  index::Plan StagePosting(const std::string& group) {
    const auto curie = index.vocabulary().StageTerm(group);
    const index::Posting* p = curie ? index.Find(*curie, true) : nullptr;
    return p ? index::Plan::Term(p) : index::Plan::None();
  }

  Result<index::Plan> Stage(const std::string& op, const std::string& value) {
    static const char* const kGroups[] = {"0", "I", "II", "III", "IV"};
    std::string group = value;
    std::string sub;
    while (!group.empty() && group.back() >= 'A' && group.back() <= 'C') {
      sub.insert(sub.begin(), group.back());
      group.pop_back();
    }
    const auto it = std::find(std::begin(kGroups), std::end(kGroups), group);
    if (it == std::end(kGroups) || (!sub.empty() && sub.size() != 1)) {
      return InvalidArgument("filter 'stage': '" + value +
                             "' is not an AJCC stage group (0, I, "
                             "IA, II, IIB, III, IIIC, IV…)");
    }
    if (!index.vocabulary().StageTerm(value)) {
      return InvalidArgument("filter 'stage': '" + value + "' is not an AJCC stage group");
    }
    const int rank = static_cast<int>(it - std::begin(kGroups));
    if (op == "=") return StagePosting(value);
    if (op == "!") return index::Plan::Not(StagePosting(value));
    if (!sub.empty()) {
      return InvalidArgument("filter 'stage': use a main stage group (I, II, III, IV) with " + op);
    }
    std::vector<index::Plan> any;
    for (int g = 0; g < 5; ++g) {
      const bool take = (op == "<" && g < rank) || (op == "<=" && g <= rank) ||
                        (op == ">" && g > rank) || (op == ">=" && g >= rank);
      if (take) any.push_back(StagePosting(kGroups[g]));
    }
    if (any.empty()) return index::Plan::None();
    return index::Plan::Or(std::move(any));
  }
};

}  // namespace

Result<index::Plan> BuildPlan(const json& filters, const index::CohortIndex& index) {
  PlanBuilder builder{index};
  std::vector<index::Plan> all;
  for (const json& f : filters) {
    ASSIGN_OR_RETURN(index::Plan p, builder.Build(f));
    all.push_back(std::move(p));
  }
  if (all.empty()) return index::Plan::All();
  if (all.size() == 1) return std::move(all.front());
  return index::Plan::And(std::move(all));
}

}  // namespace oncomesh::query
