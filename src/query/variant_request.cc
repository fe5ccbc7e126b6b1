#include "query/variant_request.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "genomics/reference.h"

namespace oncomesh::query {
namespace {

using genomics::GenomeReference;
using nlohmann::json;

constexpr const char* kParameters[] = {"assemblyId",
                                       "referenceName",
                                       "start",
                                       "end",
                                       "referenceBases",
                                       "alternateBases",
                                       "variantType",
                                       "geneId",
                                       "aminoacidChange",
                                       "genomicAlleleShortForm",
                                       "variantMinLength",
                                       "variantMaxLength",
                                       "mateName"};

std::optional<int64_t> ParseInt(const std::string& s) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// One or two non-negative positions, from a number or an array of numbers.
Result<std::vector<int64_t>> Positions(const json& v, const char* name) {
  std::vector<int64_t> out;
  const json items = v.is_array() ? v : json::array({v});
  for (const json& item : items) {
    if (!item.is_number_integer() || item.get<int64_t>() < 0) {
      return InvalidArgument(std::string(name) +
                             ": must be a non-negative integer or an array of one or two");
    }
    out.push_back(item.get<int64_t>());
  }
  if (out.empty() || out.size() > 2) {
    return InvalidArgument(std::string(name) + ": must hold one or two positions");
  }
  return out;
}

Result<std::string> Bases(const json& v, const char* name) {
  if (!v.is_string()) return InvalidArgument(std::string(name) + ": must be a string");
  std::string s = v.get<std::string>();
  for (char& c : s) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (c != 'A' && c != 'C' && c != 'G' && c != 'T' && c != 'N') {
      return InvalidArgument(std::string(name) + ": '" + v.get<std::string>() +
                             "' is not a sequence of A, C, G, T and N");
    }
  }
  return s;
}

Result<std::string> Text(const json& v, const char* name) {
  if (!v.is_string() || v.get<std::string>().empty()) {
    return InvalidArgument(std::string(name) + ": must be a non-empty string");
  }
  return v.get<std::string>();
}

}  // namespace

bool IsVariantParameter(const std::string& name) {
  return std::any_of(std::begin(kParameters), std::end(kParameters),
                     [&](const char* p) { return name == p; });
}

Result<index::VariantQuery> ParseVariantParameters(const json& parameters) {
  const json* p = &parameters;
  if (p->is_object() && p->contains("g_variant")) {
    // Beside g_variant, only the schema's own "$schema" (framework
    // requests/requestParameters.json).
    for (const auto& [name, value] : p->items()) {
      if (name != "g_variant" && name != "$schema") {
        return InvalidArgument("requestParameters: unknown parameter '" + name +
                               "' beside g_variant");
      }
    }
    p = &(*p)["g_variant"];
  }
  if (!p->is_object()) return InvalidArgument("requestParameters: must be an object");
  index::VariantQuery q;
  std::string reference_name;
  for (const auto& [name, value] : p->items()) {
    if (name == "$schema") continue;
    if (!IsVariantParameter(name)) {
      return InvalidArgument("requestParameters: unknown parameter '" + name + "'");
    }
    if (name == "mateName") {
      return InvalidArgument("mateName: fusion (mate) queries are not supported by this node");
    } else if (name == "assemblyId") {
      ASSIGN_OR_RETURN(std::string a, Text(value, "assemblyId"));
      std::optional<std::string> normal = GenomeReference::NormalizeAssembly(a);
      if (!normal) return InvalidArgument("assemblyId: '" + a + "' is not GRCh37 or GRCh38");
      q.assembly = *normal;
    } else if (name == "referenceName") {
      ASSIGN_OR_RETURN(reference_name, Text(value, "referenceName"));
    } else if (name == "start" || name == "end") {
      ASSIGN_OR_RETURN(std::vector<int64_t> v, Positions(value, name.c_str()));
      (name == "start" ? q.start : q.end) = v[0];
      if (v.size() == 2) (name == "start" ? q.start_max : q.end_max) = v[1];
    } else if (name == "referenceBases") {
      ASSIGN_OR_RETURN(q.reference_bases, Bases(value, "referenceBases"));
    } else if (name == "alternateBases") {
      ASSIGN_OR_RETURN(q.alternate_bases, Bases(value, "alternateBases"));
    } else if (name == "variantType") {
      ASSIGN_OR_RETURN(q.variant_type, Text(value, "variantType"));
    } else if (name == "geneId") {
      ASSIGN_OR_RETURN(q.gene, Text(value, "geneId"));
    } else if (name == "aminoacidChange") {
      ASSIGN_OR_RETURN(q.aminoacid_change, Text(value, "aminoacidChange"));
    } else if (name == "genomicAlleleShortForm") {
      ASSIGN_OR_RETURN(q.hgvs, Text(value, "genomicAlleleShortForm"));
    } else {  // variantMinLength / variantMaxLength
      if (!value.is_number_integer() || value.get<int64_t>() < 0) {
        return InvalidArgument(name + ": must be a non-negative integer");
      }
      (name == "variantMinLength" ? q.min_length : q.max_length) = value.get<int64_t>();
    }
  }
  if (!reference_name.empty()) {
    const auto where = GenomeReference::Get().ResolveSequence(reference_name);
    if (!where) return InvalidArgument("referenceName: unknown sequence '" + reference_name + "'");
    if (!where->first.empty()) {
      if (!q.assembly.empty() && q.assembly != where->first) {
        return InvalidArgument("referenceName: " + reference_name + " is on " + where->first +
                               ", not on assemblyId " + q.assembly);
      }
      q.assembly = where->first;
    }
    q.chrom = where->second;
  }
  if ((q.start || q.end) && q.chrom.empty()) {
    return InvalidArgument("start/end: a position query needs referenceName");
  }
  if (q.end && !q.start) return InvalidArgument("end: needs start");
  if (q.start_max.has_value() != q.end_max.has_value() && q.end) {
    return InvalidArgument("start/end: a bracket query gives two values for both start and end");
  }
  if (q.start_max && *q.start_max < *q.start)
    return InvalidArgument("start: the first value is above the second");
  if (q.end_max && *q.end_max < *q.end)
    return InvalidArgument("end: the first value is above the second");
  if (q.start && q.end && !q.start_max && *q.end <= *q.start) {
    return InvalidArgument("end: must be greater than start (0-based, end exclusive)");
  }
  if (q.start && !q.end && !q.start_max && q.alternate_bases.empty()) {
    return InvalidArgument("start: a sequence query (start without end) needs alternateBases");
  }
  if (q.min_length && q.max_length && *q.min_length > *q.max_length) {
    return InvalidArgument("variantMinLength: above variantMaxLength");
  }
  if (q.empty()) return InvalidArgument("requestParameters: no variant parameter given");
  return q;
}

Result<json> VariantParametersFromGet(const std::multimap<std::string, std::string>& query) {
  json out = json::object();
  for (const auto& [name, value] : query) {
    if (!IsVariantParameter(name)) continue;
    if (out.contains(name)) return InvalidArgument(name + ": given more than once");
    if (name == "start" || name == "end" || name == "variantMinLength" ||
        name == "variantMaxLength") {
      json values = json::array();
      size_t from = 0;
      for (;;) {
        const size_t comma = value.find(',', from);
        const std::string item =
            value.substr(from, comma == std::string::npos ? comma : comma - from);
        const std::optional<int64_t> v = ParseInt(item);
        if (!v)
          return InvalidArgument(name + ": '" + value +
                                 "' is not a number (or two, comma-separated)");
        values.push_back(*v);
        if (comma == std::string::npos) break;
        from = comma + 1;
      }
      out[name] = (name == "start" || name == "end") ? values : values[0];
      if ((name == "variantMinLength" || name == "variantMaxLength") && values.size() != 1) {
        return InvalidArgument(name + ": one number");
      }
    } else {
      out[name] = value;
    }
  }
  return out;
}

}  // namespace oncomesh::query
