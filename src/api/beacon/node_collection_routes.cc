// Collections of a node's Beacon: /api/datasets(/{id}) and /api/cohorts(/{id}).
#include "api/node_service.h"

namespace oncomesh::api {

using nlohmann::json;

namespace {

// A dataset in the Beacon v2 default model (datasets/defaultSchema.json), with its consent as
// `dataUseConditions` when node.yaml declares one.
json DatasetDocument(const NodeService& service, const node::DatasetConfig& d) {
  json doc = {
      {"id", d.id}, {"name", d.name.empty() ? d.id : d.name}, {"description", d.description}};
  if (d.data_use) {
    doc["dataUseConditions"] = auth::BeaconDataUseConditions(
        *d.data_use, service.duo(), auth::DiseaseHierarchyOf(service.vocabulary()));
  }
  return doc;
}

// A cohort per dataset: everyone in it. Its size leaves the node, so it passes the gate.
json CohortDocument(const node::DatasetConfig& d, const gate::ReleasedCount& size) {
  return {
      {"id", "cohort-" + d.id},
      {"name", "All individuals of " + (d.name.empty() ? d.id : d.name)},
      {"cohortType", "beacon-defined"},
      {"cohortSize", size.count},
      {"cohortDataTypes", json::array({{{"id", "OGMS:0000015"}, {"label", "clinical history"}}})}};
}

// The collections shown (their ids in the entry's details) and, for cohorts, each cohort's size
// as released: a figure of its dataset.
Audited Collections(NodeService& service, http::Request& req, const std::string& entity,
                    const std::string* only_id) {
  Audited out;
  query::BeaconRequest request;
  Result<query::BeaconRequest> parsed =
      req.method == "POST" ? query::ParseBeaconPost(req.body) : query::ParseBeaconGet(req.query);
  if (!parsed.ok()) {
    out.response = ErrorResponse(service.identity(), parsed.status(), nullptr, entity);
    return out;
  }
  request = std::move(*parsed);
  // A cohort's size is a count: it leaves only to registered callers, disclosure-controlled.
  out.caller = service.CallerFor(req);
  const Result<auth::Caller>& caller = *out.caller;
  if (!caller.ok()) {
    out.response = ErrorResponse(service.identity(), caller.status(), &request, entity);
    return out;
  }
  const gate::AccessLevel level = caller->NodeLevel();
  if (!request.filters.empty()) {
    out.response =
        ErrorResponse(service.identity(), 400,
                      "filters are not supported on " + entity + " collections", &request, entity);
    return out;
  }
  json collections = json::array();
  json shown = json::array();
  const auto idx = service.index();
  for (const node::DatasetConfig& d : service.node().config().datasets) {
    if (only_id && d.id != *only_id && "cohort-" + d.id != *only_id) continue;
    if (entity == "dataset") {
      collections.push_back(DatasetDocument(service, d));
    } else {
      // The dataset's individuals (ingest fhir --dataset), released at the caller's level on it.
      gate::AccessLevel on_dataset = level;
      for (const auth::DatasetAccess& a : caller->datasets) {
        if (a.dataset_id == d.id) on_dataset = a.level;
      }
      const index::Posting* rows = idx->DatasetRows(d.id);
      const gate::ReleasedCount size =
          service.gate().ReleaseCount(rows ? rows->cardinality() : 0, on_dataset);
      json cohort = CohortDocument(d, size);
      if (on_dataset < gate::AccessLevel::kRegistered) {
        cohort.erase("cohortSize");
      } else {
        out.disclosed.figures.push_back({d.id, "cohortSize", size.count});
      }
      collections.push_back(std::move(cohort));
    }
    shown.push_back(collections.back()["id"]);
  }
  if (only_id && collections.empty()) {
    out.response = ErrorResponse(service.identity(), 404, "no " + entity + " '" + *only_id + "'",
                                 &request, entity);
    return out;
  }
  out.details["collections"] = std::move(shown);
  json body = {
      {"meta", ResponseMeta(service.identity(), request, model::Granularity::kRecord, entity)},
      {"responseSummary",
       {{"exists", !collections.empty()},
        {"numTotalResults", static_cast<int64_t>(collections.size())}}},
      {"response", {{"collections", collections}}}};
  out.response = JsonResponse(body);
  return out;
}

}  // namespace

void RegisterNodeCollectionRoutes(NodeService& service, http::Router& router,
                                  const Auditor& auditor) {
  for (const char* method : {"GET", "POST"}) {
    router.Add(method, "/api/datasets", "Datasets of this node",
               auditor.Wrap([&service](http::Request& r) {
                 return Collections(service, r, "dataset", nullptr);
               }));
    router.Add(method, "/api/datasets/{id}", "One dataset",
               auditor.Wrap([&service](http::Request& r) {
                 return Collections(service, r, "dataset", &r.path_params["id"]);
               }));
    router.Add(method, "/api/cohorts", "Cohorts of this node",
               auditor.Wrap([&service](http::Request& r) {
                 return Collections(service, r, "cohort", nullptr);
               }));
    router.Add(method, "/api/cohorts/{id}", "One cohort",
               auditor.Wrap([&service](http::Request& r) {
                 return Collections(service, r, "cohort", &r.path_params["id"]);
               }));
  }
}

}  // namespace oncomesh::api
