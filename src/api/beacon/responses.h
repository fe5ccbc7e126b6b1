// Building blocks of Beacon v2 responses (framework/json/responses/*), shared by the node's
// and the hub's Beacon APIs, and the one table from Status codes to HTTP statuses.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "http/http.h"
#include "model/granularity.h"
#include "query/beacon_request.h"
#include "util/status.h"

namespace oncomesh::api {

inline constexpr const char* kBeaconApiVersion = "v2.0.1";

// Who is answering: a node or the hub.
struct BeaconIdentity {
  std::string id;  // reverse-domain beacon id, e.g. "org.oncomesh.node.oslo"
  std::string name;
  std::string description;
  std::string organization_id;
  std::string organization_name;
  std::string environment = "dev";
};

// The HTTP status for a Status code (errors are values until here).
int HttpStatusFor(StatusCode code);

// A JSON response.
http::Response JsonResponse(const nlohmann::json& body, int status = 200);

// meta for informational endpoints (info, configuration, map, entry_types, filtering_terms).
nlohmann::json InformationalMeta(const BeaconIdentity& id, const std::string& entity_type,
                                 const std::string& schema);
// meta for query endpoints, echoing the request.
nlohmann::json ResponseMeta(const BeaconIdentity& id, const query::BeaconRequest& request,
                            model::Granularity returned, const std::string& entity_type);

// A beaconErrorResponse with the given HTTP status and message; `request` may be null when the
// request could not be parsed.
http::Response ErrorResponse(const BeaconIdentity& id, int http_status, const std::string& message,
                             const query::BeaconRequest* request = nullptr,
                             const std::string& entity_type = "individual");
http::Response ErrorResponse(const BeaconIdentity& id, const Status& status,
                             const query::BeaconRequest* request = nullptr,
                             const std::string& entity_type = "individual");

// A normalised filter in the GET form used to echo it ("ICD10:C50", "!X", "a|b", "age>=P70Y").
std::string FilterToString(const nlohmann::json& filter);

// The response documents of the informational endpoints. `base_url` is "http://host:port".
nlohmann::json InfoResponse(const BeaconIdentity& id);
nlohmann::json ServiceInfo(const BeaconIdentity& id);
nlohmann::json EntryTypesResponse(const BeaconIdentity& id);
nlohmann::json ConfigurationResponse(const BeaconIdentity& id);
nlohmann::json MapResponse(const BeaconIdentity& id, const std::string& base_url);

// http::PublicBaseUrl: `public_url` or where the request reached the server (never its Host).
std::string BaseUrl(const http::Request& request, const std::string& public_url);

// Beacon entity names and their default-model schema names.
std::string SchemaFor(const std::string& entity_type);

}  // namespace oncomesh::api
