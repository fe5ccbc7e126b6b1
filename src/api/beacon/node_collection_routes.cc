// Collections of a node's Beacon: /api/datasets(/{id}) and /api/cohorts(/{id}).
#include "api/node_service.h"

namespace oncomesh::api {

using nlohmann::json;

namespace {

// A dataset in the Beacon v2 default model (datasets/defaultSchema.json), with its consent as
// `dataUseConditions` when node.yaml declares one.
json DatasetDocument(const NodeService& service, const node::DatasetConfig& d) {
  json doc = {{"id", d.id},
              {"name", d.name.empty() ? d.id : d.name},
              {"description", d.description}};
  if (d.data_use) {
    doc["dataUseConditions"] = auth::BeaconDataUseConditions(
        *d.data_use, service.duo(), auth::DiseaseHierarchyOf(service.vocabulary()));
  }
  return doc;
}

// A cohort per dataset: everyone in it. Its size leaves the node, so it passes the gate.
json CohortDocument(const node::DatasetConfig& d, const gate::ReleasedCount& size) {
  return {{"id", "cohort-" + d.id},
          {"name", "All individuals of " + (d.name.empty() ? d.id : d.name)},
          {"cohortType", "beacon-defined"},
          {"cohortSize", size.count},
          {"cohortDataTypes", json::array({{{"id", "OGMS:0000015"}, {"label", "clinical history"}}})}};
}

http::Response Collections(NodeService& service, http::Request& req, const std::string& entity,
                           const std::string* only_id) {
  query::BeaconRequest request;
  Result<query::BeaconRequest> parsed = req.method == "POST" ? query::ParseBeaconPost(req.body)
                                                             : query::ParseBeaconGet(req.query);
  if (!parsed.ok()) return ErrorResponse(service.identity(), parsed.status(), nullptr, entity);
  request = std::move(*parsed);
  // A cohort's size is a count: it leaves only to registered callers, disclosure-controlled.
  const Result<auth::Caller> caller = service.CallerFor(req);
  if (!caller.ok()) return ErrorResponse(service.identity(), caller.status(), &request, entity);
  const gate::AccessLevel level = caller->NodeLevel();
  if (!request.filters.empty()) {
    return ErrorResponse(service.identity(), 400,
                         "filters are not supported on " + entity + " collections", &request, entity);
  }
  json collections = json::array();
  const auto idx = service.index();
  for (const node::DatasetConfig& d : service.node().config().datasets) {
    if (only_id && d.id != *only_id && "cohort-" + d.id != *only_id) continue;
    if (entity == "dataset") {
      collections.push_back(DatasetDocument(service, d));
    } else {
      // Until datasets partition individuals, every dataset holds the whole node.
      json cohort = CohortDocument(d, service.gate().ReleaseCount(idx->num_rows(), level));
      if (level < gate::AccessLevel::kRegistered) cohort.erase("cohortSize");
      collections.push_back(std::move(cohort));
    }
  }
  if (only_id && collections.empty()) {
    return ErrorResponse(service.identity(), 404, "no " + entity + " '" + *only_id + "'", &request,
                         entity);
  }
  json body = {{"meta", ResponseMeta(service.identity(), request, model::Granularity::kRecord, entity)},
               {"responseSummary",
                {{"exists", !collections.empty()},
                 {"numTotalResults", static_cast<int64_t>(collections.size())}}},
               {"response", {{"collections", collections}}}};
  return JsonResponse(body);
}

}  // namespace

void RegisterNodeCollectionRoutes(NodeService& service, http::Router& router) {
  for (const char* method : {"GET", "POST"}) {
    router.AddSync(method, "/api/datasets", "Datasets of this node", [&service](http::Request& r) {
      return Collections(service, r, "dataset", nullptr);
    });
    router.AddSync(method, "/api/datasets/{id}", "One dataset", [&service](http::Request& r) {
      return Collections(service, r, "dataset", &r.path_params["id"]);
    });
    router.AddSync(method, "/api/cohorts", "Cohorts of this node", [&service](http::Request& r) {
      return Collections(service, r, "cohort", nullptr);
    });
    router.AddSync(method, "/api/cohorts/{id}", "One cohort", [&service](http::Request& r) {
      return Collections(service, r, "cohort", &r.path_params["id"]);
    });
  }
}

}  // namespace oncomesh::api
