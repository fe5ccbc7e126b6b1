#include "api/beacon/responses.h"

namespace oncomesh::api {

using nlohmann::json;

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDeadlineExceeded:
      return 504;
    case StatusCode::kDataLoss:
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

http::Response JsonResponse(const json& body, int status) {
  http::Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

std::string SchemaFor(const std::string& entity_type) {
  if (entity_type == "individual") return "beacon-individual-v2.0.0";
  if (entity_type == "biosample") return "beacon-biosample-v2.0.0";
  if (entity_type == "genomicVariation") return "beacon-g_variant-v2.0.0";
  if (entity_type == "dataset") return "beacon-dataset-v2.0.0";
  if (entity_type == "cohort") return "beacon-cohort-v2.0.0";
  if (entity_type == "info") return "beacon-info-v2.0.0";
  if (entity_type == "configuration") return "beacon-configuration-v2.0.0";
  if (entity_type == "map") return "beacon-map-v2.0.0";
  if (entity_type == "entryType") return "beacon-entry-types-v2.0.0";
  if (entity_type == "filteringTerm") return "beacon-filtering-terms-v2.0.0";
  return "beacon-" + entity_type + "-v2.0.0";
}

json InformationalMeta(const BeaconIdentity& id, const std::string& entity_type,
                       const std::string& schema) {
  return {{"beaconId", id.id},
          {"apiVersion", kBeaconApiVersion},
          {"returnedSchemas", json::array({{{"entityType", entity_type}, {"schema", schema}}})}};
}

std::string FilterToString(const json& f) {
  if (f.contains("anyOf")) {
    std::string out;
    for (const json& c : f["anyOf"]) {
      if (!out.empty()) out += "|";
      out += FilterToString(c);
    }
    return out;
  }
  if (f.contains("not")) return "!" + FilterToString(f["not"]);
  std::string out = f.value("id", "");
  if (f.contains("operator")) {
    out += f["operator"].get<std::string>();
    out += f["value"].is_string() ? f["value"].get<std::string>() : f["value"].dump();
  }
  return out;
}

json ResponseMeta(const BeaconIdentity& id, const query::BeaconRequest& request,
                  model::Granularity returned, const std::string& entity_type) {
  json filters = json::array();
  for (const json& f : request.filters) filters.push_back(FilterToString(f));
  json requested_schemas = json::array();
  for (const std::string& s : request.requested_schemas) {
    requested_schemas.push_back({{"entityType", entity_type}, {"schema", s}});
  }
  json summary = {{"apiVersion", request.api_version},
                  {"requestedSchemas", requested_schemas},
                  {"pagination", {{"skip", request.skip}, {"limit", request.limit}}},
                  {"requestedGranularity", model::GranularityName(request.requested_granularity)},
                  {"includeResultsetResponses", request.include_resultset_responses},
                  {"testMode", request.test_mode}};
  if (!filters.empty()) summary["filters"] = filters;
  if (!request.request_parameters.empty())
    summary["requestParameters"] = request.request_parameters;
  return {{"beaconId", id.id},
          {"apiVersion", kBeaconApiVersion},
          {"returnedGranularity", model::GranularityName(returned)},
          {"receivedRequestSummary", summary},
          {"returnedSchemas",
           json::array({{{"entityType", entity_type}, {"schema", SchemaFor(entity_type)}}})}};
}

http::Response ErrorResponse(const BeaconIdentity& id, int http_status, const std::string& message,
                             const query::BeaconRequest* request, const std::string& entity_type) {
  const query::BeaconRequest fallback;
  const query::BeaconRequest& req = request ? *request : fallback;
  json body = {{"meta", ResponseMeta(id, req, model::Granularity::kBoolean, entity_type)},
               {"error", {{"errorCode", http_status}, {"errorMessage", message}}}};
  return JsonResponse(body, http_status);
}

http::Response ErrorResponse(const BeaconIdentity& id, const Status& status,
                             const query::BeaconRequest* request, const std::string& entity_type) {
  return ErrorResponse(id, HttpStatusFor(status.code()), status.message(), request, entity_type);
}

json InfoResponse(const BeaconIdentity& id) {
  json response = {{"id", id.id},
                   {"name", id.name},
                   {"apiVersion", kBeaconApiVersion},
                   {"environment", id.environment},
                   {"description", id.description},
                   {"version", ONCOMESH_VERSION},
                   {"organization", {{"id", id.organization_id}, {"name", id.organization_name}}},
                   {"info",
                    {{"software", "OncoMesh " ONCOMESH_VERSION},
                     {"extensions",
                      {{"filterLogic",
                        "query.filters elements may be {\"anyOf\": [...]} (OR) or {\"not\": {...}} "
                        "(NOT); see docs/beacon-extensions.md"}}}}}};
  return {{"meta", InformationalMeta(id, "info", SchemaFor("info"))}, {"response", response}};
}

json ServiceInfo(const BeaconIdentity& id) {
  return {
      {"id", id.id},
      {"name", id.name},
      {"type", {{"group", "org.ga4gh"}, {"artifact", "beacon"}, {"version", "2.0.1"}}},
      {"description", id.description},
      {"organization", {{"name", id.organization_name}, {"url", "https://oncomesh.example.org/"}}},
      {"version", ONCOMESH_VERSION},
      {"environment", id.environment}};
}

namespace {

json EntryTypeDefinition(const std::string& id, const std::string& name,
                         const std::string& ontology_id, const std::string& ontology_label,
                         const std::string& model_dir, bool collection) {
  json def = {{"id", id},
              {"name", name},
              {"partOfSpecification", "Beacon v2.0.0"},
              {"ontologyTermForThisType", {{"id", ontology_id}, {"label", ontology_label}}},
              {"defaultSchema",
               {{"id", SchemaFor(id)},
                {"name", "Default schema for " + name},
                {"referenceToSchemaDefinition",
                 "https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/main/models/json/"
                 "beacon-v2-default-model/" +
                     model_dir + "/defaultSchema.json"},
                {"schemaVersion", "v2.0.0"}}},
              {"nonFilteredQueriesAllowed", true}};
  if (collection)
    def["aCollectionOf"] = json::array({{{"id", "individual"}, {"name", "Individuals"}}});
  return def;
}

json EntryTypes() {
  return {{"individual", EntryTypeDefinition("individual", "Individuals", "NCIT:C25190", "Person",
                                             "individuals", false)},
          {"biosample", EntryTypeDefinition("biosample", "Biosamples", "NCIT:C70699", "Biospecimen",
                                            "biosamples", false)},
          {"genomicVariation",
           EntryTypeDefinition("genomicVariation", "Genomic variants", "ENSGLOSSARY:0000092",
                               "Variant", "genomicVariations", false)},
          {"dataset",
           EntryTypeDefinition("dataset", "Datasets", "NCIT:C47824", "Data set", "datasets", true)},
          {"cohort",
           EntryTypeDefinition("cohort", "Cohorts", "NCIT:C61512", "Cohort", "cohorts", true)}};
}

}  // namespace

json EntryTypesResponse(const BeaconIdentity& id) {
  return {{"meta", InformationalMeta(id, "entryType", SchemaFor("entryType"))},
          {"response", {{"entryTypes", EntryTypes()}}}};
}

json ConfigurationResponse(const BeaconIdentity& id) {
  json config = {{"$schema",
                  "https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/main/framework/json/"
                  "configuration/beaconConfigurationSchema.json"},
                 {"maturityAttributes", {{"productionStatus", "DEV"}}},
                 {"securityAttributes",
                  {{"defaultGranularity", "boolean"}, {"securityLevels", json::array({"PUBLIC"})}}},
                 {"entryTypes", EntryTypes()}};
  return {{"meta", InformationalMeta(id, "configuration", SchemaFor("configuration"))},
          {"response", config}};
}

json MapResponse(const BeaconIdentity& id, const std::string& base) {
  auto set = [&](const std::string& entry, const std::string& path) {
    return json{{"entryType", entry},
                {"rootUrl", base + "/api/" + path},
                {"singleEntryUrl", base + "/api/" + path + "/{id}"}};
  };
  json sets = {
      {"individual", {{"entryType", "individual"}, {"rootUrl", base + "/api/individuals"}}},
      {"biosample", {{"entryType", "biosample"}, {"rootUrl", base + "/api/biosamples"}}},
      {"genomicVariant",
       {{"entryType", "genomicVariation"}, {"rootUrl", base + "/api/g_variants"}}},
      {"dataset", set("dataset", "datasets")},
      {"cohort", set("cohort", "cohorts")}};
  return {{"meta", InformationalMeta(id, "map", SchemaFor("map"))},
          {"response",
           {{"$schema",
             "https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/main/framework/json/"
             "configuration/beaconMapSchema.json"},
            {"endpointSets", sets}}}};
}

std::string BaseUrl(const http::Request& request, const std::string& public_url) {
  return http::PublicBaseUrl(request, public_url);
}

}  // namespace oncomesh::api
