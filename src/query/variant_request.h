// Beacon v2 genomic variant parameters (genomicVariations/requestParameters.json, the
// `g_variant` request parameters): parsed from a POST body's query.requestParameters (flat or
// under "g_variant") or from GET parameters, checked, and resolved into an index::VariantQuery.
//
// Query kinds (Beacon v2 "variant queries"): sequence (referenceName, start, referenceBases,
// alternateBases), range (referenceName, start, end [, variantType | alternateBases |
// aminoacidChange]), bracket (referenceName, start=[min,max], end=[min,max]), gene (geneId,
// optionally with variantType, aminoacidChange, variantMin/MaxLength), aminoacidChange,
// genomicAlleleShortForm (HGVS). Positions are 0-based, start inclusive, end exclusive.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "index/variant_index.h"
#include "util/status.h"

namespace oncomesh::query {

// True for the names of g_variant parameters (as GET query parameters).
bool IsVariantParameter(const std::string& name);

// Parses and checks the parameters (a JSON object of parameter -> value, values as in a POST
// body). InvalidArgument naming the parameter and what is wrong with it.
Result<index::VariantQuery> ParseVariantParameters(const nlohmann::json& parameters);

// The same from GET parameters (start/end comma-separated, numbers as text).
Result<nlohmann::json> VariantParametersFromGet(
    const std::multimap<std::string, std::string>& query);

}  // namespace oncomesh::query
