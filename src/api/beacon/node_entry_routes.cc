// Query endpoints of a node's Beacon: /api/individuals and /api/biosamples, GET and POST.
// Every answer passes the gate: boolean or count granularity, counts rounded.
#include "api/node_service.h"
#include "query/beacon_request.h"

namespace oncomesh::api {

using nlohmann::json;

namespace {

http::Response Query(NodeService& service, http::Request& req, const std::string& entity) {
  const BeaconIdentity& id = service.identity();
  Result<query::BeaconRequest> parsed = req.method == "POST" ? query::ParseBeaconPost(req.body)
                                                             : query::ParseBeaconGet(req.query);
  if (!parsed.ok()) return ErrorResponse(id, parsed.status(), nullptr, entity);
  const query::BeaconRequest& request = *parsed;
  // Identity and permits arrive with passports (auth/); until then every caller is anonymous.
  const gate::AccessLevel level = gate::AccessLevel::kAnonymous;
  Result<model::Granularity> granularity = service.gate().Decide(level, request.requested_granularity);
  if (!granularity.ok()) return ErrorResponse(id, granularity.status(), &request, entity);

  const std::shared_ptr<const index::CohortIndex> idx = service.index();
  Result<index::Plan> plan = query::BuildPlan(request.filters, *idx);
  if (!plan.ok()) return ErrorResponse(id, plan.status(), &request, entity);
  const uint64_t exact = entity == "biosample" ? idx->CountBiosamples(*plan) : idx->Count(*plan);
  const gate::ReleasedCount released = service.gate().ReleaseCount(exact, level);

  json body = {{"meta", ResponseMeta(id, request, *granularity, entity)},
               {"info",
                {{"countPrecision", released.precision},
                 {"countAdjustedTo", released.adjusted_to},
                 {"accessLevel", gate::AccessLevelName(level)}}}};
  if (*granularity == model::Granularity::kCount) {
    body["responseSummary"] = {{"exists", released.exists}, {"numTotalResults", released.count}};
  } else {
    body["responseSummary"] = {{"exists", released.exists}};
  }
  return JsonResponse(body);
}

}  // namespace

void RegisterNodeEntryRoutes(NodeService& service, http::Router& router) {
  for (const char* method : {"GET", "POST"}) {
    router.AddSync(method, "/api/individuals", "Individuals matching the filters (count/boolean)",
                   [&service](http::Request& r) { return Query(service, r, "individual"); });
    router.AddSync(method, "/api/biosamples", "Biosamples of individuals matching the filters",
                   [&service](http::Request& r) { return Query(service, r, "biosample"); });
  }
}

}  // namespace oncomesh::api
