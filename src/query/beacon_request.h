// Beacon v2 requests: the GET query string and the POST body (framework
// requests/beaconRequestBody.json) parsed into one form, and their filters turned into a plan
// over the cohort index.
//
// Filters (Beacon v2 framework, requests/filteringTerms.json): every element of
// `query.filters` must hold (AND). Ontology filters `{"id": CURIE, "includeDescendantTerms":
// true}` (descendants included by default, at any depth); alphanumeric filters `{"id":
// "ageAtDiagnosis" | "age" | "dateOfDiagnosis" | "stage", "operator": "=|<|<=|>|>=|!",
// "value": ...}` with ISO 8601 durations such as "P70Y" for ages, ISO dates for dates and
// AJCC stage groups (0, I…IV, IIIA…) for stage; custom filters `{"id": "progressed"}`, `{"id":
// "multiplePrimaryCancers"}`.
//
// OncoMesh extension (documented in docs/beacon-extensions.md; backward compatible, as
// requested in ga4gh-beacon/beacon-v2 issues 63 and 100): a filter may also be
// `{"anyOf": [filter, ...]}` (OR) or `{"not": filter}` (NOT), nested freely. In a GET query
// string, `a|b` inside one comma-separated element means anyOf, a leading `!` means not, and
// `age>=P70Y` is an alphanumeric filter.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "index/cohort_index.h"
#include "index/plan.h"
#include "model/granularity.h"
#include "util/status.h"

namespace oncomesh::query {

using model::Granularity;
using model::GranularityName;

struct BeaconRequest {
  std::string api_version = "v2.0";
  std::vector<std::string> requested_schemas;
  nlohmann::json filters = nlohmann::json::array();  // normalised filter objects
  Granularity requested_granularity = Granularity::kCount;
  bool granularity_given = false;
  int64_t skip = 0;
  int64_t limit = 10;
  std::string include_resultset_responses = "HIT";
  bool test_mode = false;
  nlohmann::json request_parameters = nlohmann::json::object();  // as received, for the echo
  // Genomic variant parameters (query/variant_request.h), when the request has any.
  std::optional<index::VariantQuery> variant;
};

// Parses a POST body. InvalidArgument naming the element that is wrong: a body that is not
// JSON, nested deeper than 64 levels or over 1 MiB (util/json.h, with the byte offset and
// JSON pointer), and members the Beacon v2 request schemas do not list (at the top, in `meta`,
// `query`, `query.pagination`, each filter and `requestParameters`), all named.
Result<BeaconRequest> ParseBeaconPost(const std::string& body);

// Parses GET parameters (filters, requestedGranularity, skip, limit, testMode,
// includeResultsetResponses, and the g_variant parameters). Unknown parameters are an error,
// as are names or values that are not UTF-8 once percent-decoded.
Result<BeaconRequest> ParseBeaconGet(const std::multimap<std::string, std::string>& query);

// Turns the filters into a plan over `index`. An unknown term is InvalidArgument naming it
// ("unknown filtering term 'XYZ:1'"); a known term no individual has yields an empty plan.
Result<index::Plan> BuildPlan(const nlohmann::json& filters, const index::CohortIndex& index);

// The whole request as a plan: the filters, AND the carriers of the variants its g_variant
// parameters name (when it has any). Errors as BuildPlan's and VariantIndex::Match's.
Result<index::Plan> BuildRequestPlan(const BeaconRequest& request, const index::CohortIndex& index);

// Parses an ISO 8601 duration of years, months and days ("P70Y", "P65Y6M", "P30D") into the
// index's age value (years * index::kAgeYearSlot + days, see cohort_index.h). nullopt when
// malformed.
std::optional<int64_t> ParseAgeDuration(std::string_view text, bool* whole_years);

}  // namespace oncomesh::query
