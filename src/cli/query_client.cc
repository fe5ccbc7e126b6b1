#include "cli/query_client.h"

#include <map>

#include "http/http.h"
#include "query/beacon_request.h"
#include "util/json.h"

namespace oncomesh::cli {

using nlohmann::json;

Result<QueryAnswer> PostBeaconQuery(const std::string& host, uint16_t port,
                                    const std::string& entry,
                                    const std::vector<std::string>& filters,
                                    const std::string& granularity,
                                    const std::multimap<std::string, std::string>& variant,
                                    const std::string& passport) {
  std::multimap<std::string, std::string> params = variant;
  for (const std::string& f : filters) params.emplace("filters", f);
  ASSIGN_OR_RETURN(query::BeaconRequest request, query::ParseBeaconGet(params));
  json body = {{"meta", {{"apiVersion", "v2.0"}}},
               {"query", {{"filters", request.filters}, {"requestedGranularity", granularity}}}};
  if (!request.request_parameters.empty())
    body["query"]["requestParameters"] = request.request_parameters;
  ASSIGN_OR_RETURN(
      http::Response response,
      http::Fetch(host, port, "POST", "/api/" + entry, body.dump(), std::chrono::seconds(30),
                  passport.empty() ? std::vector<std::pair<std::string, std::string>>{}
                                   : std::vector<std::pair<std::string, std::string>>{
                                         {"Authorization", "Bearer " + passport}}));
  QueryAnswer answer;
  Result<json> parsed = ParseJson(response.body, "the answer");
  if (!parsed.ok())
    return Internal(parsed.status().message() + ": " + response.body.substr(0, 200));
  answer.body = std::move(*parsed);
  if (response.status != 200) {
    std::string message = "HTTP " + std::to_string(response.status);
    const json* error =
        answer.body.is_object() && answer.body.contains("error") ? &answer.body["error"] : nullptr;
    if (error && error->is_object() && error->contains("errorMessage") &&
        (*error)["errorMessage"].is_string()) {
      message += ": " + (*error)["errorMessage"].get<std::string>();
    }
    return Status(response.status >= 500   ? StatusCode::kUnavailable
                  : response.status == 401 ? StatusCode::kUnauthenticated
                  : response.status == 403 ? StatusCode::kPermissionDenied
                                           : StatusCode::kInvalidArgument,
                  message);
  }
  const json summary = answer.body.value("responseSummary", json::object());
  answer.exists = summary.value("exists", false);
  answer.total = summary.value("numTotalResults", int64_t{-1});
  if (answer.body.contains("info") && answer.body["info"].contains("nodes")) {
    for (const json& n : answer.body["info"]["nodes"]) {
      QueryAnswer::Part part;
      part.name = n.value("name", "");
      part.status = n.value("status", "");
      part.count = n.value("count", int64_t{-1});
      part.error = n.value("error", "");
      answer.parts.push_back(part);
    }
  }
  return answer;
}

void PrintAnswer(std::ostream& out, const QueryAnswer& answer) {
  if (answer.total >= 0) {
    out << "total " << answer.total;
  } else {
    out << (answer.exists ? "exists" : "none");
  }
  if (!answer.parts.empty()) {
    out << " (";
    for (size_t i = 0; i < answer.parts.size(); ++i) {
      const auto& p = answer.parts[i];
      if (i) out << ", ";
      out << p.name << " ";
      if (p.status != "available") {
        out << p.status;
      } else if (p.count >= 0) {
        out << p.count;
      } else {
        out << "answered";
      }
    }
    out << ")";
  }
  out << "\n";
}

}  // namespace oncomesh::cli
