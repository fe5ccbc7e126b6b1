// Beacon filters in both forms, planned over the fuzz node's cohort index: the input as the
// value of a GET `filters` parameter (comma-separated terms, `a|b` anyOf, leading `!` not,
// `age>=P70Y` alphanumeric filters), and as the JSON of a POST body's `query.filters`. Also
// the ISO 8601 age durations of alphanumeric filters on their own.
#include <nlohmann/json.hpp>

#include "fuzz_support.h"
#include "index/evaluate.h"
#include "query/beacon_request.h"

namespace {

void PlanAndCount(const oncomesh::Result<oncomesh::query::BeaconRequest>& request,
                  const char* what) {
  using namespace oncomesh;
  const fuzz::FuzzNode& node = fuzz::SharedNode();
  fuzz::CheckRefusal(request.status(), what);
  if (!request.ok()) return;
  Result<index::Plan> plan = query::BuildRequestPlan(*request, *node.index);
  fuzz::CheckRefusal(plan.status(), "BuildRequestPlan");
  if (plan.ok() && index::CountMatches(*plan, node.index->num_rows()) > node.index->num_rows()) {
    fuzz::Fail("a plan matched more individuals than the index has");
  }
}

}  // namespace

ONCOMESH_FUZZ_INITIALIZE { oncomesh::fuzz::SharedNode(); }

ONCOMESH_FUZZ_TARGET(filters) {
  using namespace oncomesh;
  const std::string text(reinterpret_cast<const char*>(data), size);
  PlanAndCount(query::ParseBeaconGet({{"filters", text}}), "ParseBeaconGet(filters)");
  bool whole_years = false;
  (void)query::ParseAgeDuration(text, &whole_years);
  // The same bytes as the JSON of query.filters (when they are JSON at all).
  nlohmann::json filters = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!filters.is_discarded()) {
    const std::string body = nlohmann::json{{"query", {{"filters", filters}}}}.dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
    PlanAndCount(query::ParseBeaconPost(body), "ParseBeaconPost(filters)");
  }
  return 0;
}
