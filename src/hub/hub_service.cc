#include "hub/hub_service.h"

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <map>
#include <set>

#include "query/beacon_request.h"

namespace oncomesh::hub {

using nlohmann::json;

// ---- configuration --------------------------------------------------------------------------

Result<NodeEndpoint> ParseNodeUrl(const std::string& name, const std::string& url) {
  const std::string prefix = "http://";
  if (url.rfind(prefix, 0) != 0) {
    return InvalidArgument("node '" + name + "': url must start with http:// (got '" + url + "')");
  }
  std::string rest = url.substr(prefix.size());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || rest.find('/') != std::string::npos) {
    return InvalidArgument("node '" + name + "': url must be http://IP:PORT (got '" + url + "')");
  }
  NodeEndpoint n;
  n.name = name;
  n.host = rest.substr(0, colon);
  try {
    const int port = std::stoi(rest.substr(colon + 1));
    if (port <= 0 || port > 65535) throw std::out_of_range("port");
    n.port = static_cast<uint16_t>(port);
  } catch (const std::exception&) {
    return InvalidArgument("node '" + name + "': bad port in '" + url + "'");
  }
  return n;
}

Result<HubConfig> ParseHubConfig(const std::string& text, const std::string& source) {
  HubConfig c;
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsMap()) return InvalidArgument(source + ": expected a mapping at the top");
    const std::set<std::string> allowed = {"name", "address", "port", "threads", "deadline_ms",
                                           "nodes"};
    for (const auto& kv : root) {
      const std::string key = kv.first.as<std::string>();
      if (!allowed.count(key)) return InvalidArgument(source + ": unknown key '" + key + "'");
    }
    if (root["name"]) c.name = root["name"].as<std::string>();
    if (root["address"]) c.address = root["address"].as<std::string>();
    if (root["port"]) c.port = root["port"].as<uint16_t>();
    if (root["threads"]) c.threads = root["threads"].as<int>();
    if (root["deadline_ms"]) c.deadline = std::chrono::milliseconds(root["deadline_ms"].as<int>());
    if (c.deadline.count() < 1) return InvalidArgument(source + ": deadline_ms must be positive");
    if (!root["nodes"] || !root["nodes"].IsSequence() || root["nodes"].size() == 0) {
      return InvalidArgument(source + ": 'nodes' must list at least one node");
    }
    std::set<std::string> names;
    for (const YAML::Node& n : root["nodes"]) {
      if (!n["name"] || !n["url"]) return InvalidArgument(source + ": every node needs a name and a url");
      const std::string name = n["name"].as<std::string>();
      if (!names.insert(name).second) return InvalidArgument(source + ": node '" + name + "' listed twice");
      ASSIGN_OR_RETURN(NodeEndpoint endpoint, ParseNodeUrl(name, n["url"].as<std::string>()));
      c.nodes.push_back(endpoint);
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(source + ": " + e.what());
  }
  return c;
}

// ---- fan-out ---------------------------------------------------------------------------------

struct HubService::NodeClient {
  NodeEndpoint endpoint;
  std::unique_ptr<http::Client> client;
};

namespace {

using NodeClients = std::vector<std::shared_ptr<HubService::NodeClient>>;

struct NodeAnswer {
  std::string node;
  Result<http::Response> response = Unavailable("not asked");
  double milliseconds = 0;
};

// Sends one request to every node at once; `done` gets all answers (each node's call ends by
// the deadline, by answer, refusal or timeout).
void FanOut(const NodeClients& clients, const std::string& method, const std::string& target,
            const std::string& body, std::chrono::milliseconds deadline,
            std::function<void(std::vector<NodeAnswer>)> done, const std::string* authorization = nullptr) {
  struct State {
    std::vector<NodeAnswer> answers;
    std::atomic<size_t> remaining;
    std::function<void(std::vector<NodeAnswer>)> done;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  };
  auto state = std::make_shared<State>();
  state->answers.resize(clients.size());
  state->remaining = clients.size();
  state->done = std::move(done);
  if (clients.empty()) {
    state->done({});
    return;
  }
  // The caller's passport goes to every node unchanged: each node verifies it and decides
  // what its own data may show (the hub grants nothing).
  std::vector<std::pair<std::string, std::string>> headers = {{"accept", "application/json"}};
  if (authorization) headers.emplace_back("authorization", *authorization);
  for (size_t i = 0; i < clients.size(); ++i) {
    state->answers[i].node = clients[i]->endpoint.name;
    clients[i]->client->Send(method, target, body, headers, deadline,
                             [state, i](Result<http::Response> r) {
                               state->answers[i].response = std::move(r);
                               state->answers[i].milliseconds =
                                   std::chrono::duration<double, std::milli>(
                                       std::chrono::steady_clock::now() - state->start)
                                       .count();
                               if (state->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                                 state->done(std::move(state->answers));
                               }
                             });
  }
}

// What one node's answer amounts to: its JSON body when it answered 200, else why not, and
// the entry for `info.nodes` either way.
struct Outcome {
  std::string status;  // "ok", "unavailable", "timeout" or "error"
  std::string error;
  int http_status = 0;
  json body;           // null unless status is "ok"
  json info;

  bool ok() const { return status == "ok"; }
};

Outcome Examine(const NodeAnswer& a) {
  Outcome o;
  if (!a.response.ok()) {
    o.status = a.response.status().code() == StatusCode::kDeadlineExceeded ? "timeout" : "unavailable";
    o.error = a.response.status().message();
  } else {
    o.http_status = a.response->status;
    json body = json::parse(a.response->body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      o.status = "error";
      o.error = "node answered with something that is not JSON";
    } else if (a.response->status != 200) {
      o.status = "error";
      o.error = body.contains("error") ? body["error"].value("errorMessage", "error")
                                       : "HTTP " + std::to_string(a.response->status);
    } else {
      o.status = "ok";
      o.body = std::move(body);
    }
  }
  o.info = {{"name", a.node},
            {"status", o.ok() ? "available" : o.status == "error" ? "failed" : "unavailable"},
            {"milliseconds", std::round(a.milliseconds * 10) / 10}};
  if (!o.error.empty()) o.info["error"] = o.error;
  return o;
}

// When no node answered: if every node that was reached refused the request the same way (a
// 4xx, e.g. a passport no node accepts, an unknown term), the request is at fault and the hub
// refuses it likewise; otherwise the federation is down (503).
std::pair<int, std::string> NoAnswerStatus(const std::vector<Outcome>& outcomes, const std::string& unavailable) {
  std::map<int, std::string> refusals;
  for (const Outcome& o : outcomes) {
    if (o.status == "error") refusals.emplace(o.http_status, o.error);
  }
  if (refusals.size() == 1 && refusals.begin()->first >= 400 && refusals.begin()->first < 500) {
    return {refusals.begin()->first, refusals.begin()->second};
  }
  return {503, unavailable};
}

}  // namespace

// ---- service ---------------------------------------------------------------------------------

HubService::HubService(HubConfig config) : config_(std::move(config)) {
  identity_.id = "org.oncomesh.hub." + config_.name;
  identity_.name = "OncoMesh hub " + config_.name;
  identity_.description = "Federated Beacon v2 over " + std::to_string(config_.nodes.size()) +
                          " OncoMesh nodes; every count is the nodes' own disclosure-controlled one.";
  identity_.organization_id = config_.name;
  identity_.organization_name = "OncoMesh network " + config_.name;
}

HubService::~HubService() = default;

http::Response HubService::RouterError(int status, const std::string& message) const {
  return api::ErrorResponse(identity_, status, message);
}

void HubService::Register(http::Router& router, boost::asio::io_context& io) {
  for (const NodeEndpoint& n : config_.nodes) {
    auto c = std::make_shared<NodeClient>();
    c->endpoint = n;
    c->client = std::make_unique<http::Client>(io, n.host, n.port);
    clients_.push_back(c);
  }
  const api::BeaconIdentity& id = identity_;
  auto info = [&id](http::Request&) { return api::JsonResponse(api::InfoResponse(id)); };
  router.AddSync("GET", "/api", "Hub information", info);
  router.AddSync("GET", "/api/info", "Hub information", info);
  router.AddSync("GET", "/api/service-info", "GA4GH service-info",
                 [&id](http::Request&) { return api::JsonResponse(api::ServiceInfo(id)); });
  router.AddSync("GET", "/api/configuration", "Beacon configuration",
                 [&id](http::Request&) { return api::JsonResponse(api::ConfigurationResponse(id)); });
  router.AddSync("GET", "/api/entry_types", "Entry types",
                 [&id](http::Request&) { return api::JsonResponse(api::EntryTypesResponse(id)); });
  router.AddSync("GET", "/api/map", "Map of endpoints", [this](http::Request& req) {
    return api::JsonResponse(api::MapResponse(identity_, api::BaseUrl(req, "")));
  });

  // Queries: /api/individuals, /api/biosamples and /api/g_variants.
  for (const char* method : {"GET", "POST"}) {
    for (const auto& [path, entity] : {std::pair<std::string, std::string>{"individuals", "individual"},
                                       {"biosamples", "biosample"},
                                       {"g_variants", "genomicVariation"}}) {
      router.Add(method, "/api/" + path, "Federated " + entity + " query",
                 [this, path = path, entity = entity](http::Request& req, http::Responder respond) {
                   Query(req, std::move(respond), path, entity);
                 });
    }
  }
  router.Add("GET", "/api/filtering_terms", "Filtering terms of every node, merged",
             [this](http::Request&, http::Responder respond) { FilteringTerms(std::move(respond)); });
  for (const char* method : {"GET", "POST"}) {
    for (const auto& [path, entity] : {std::pair<std::string, std::string>{"datasets", "dataset"},
                                       {"cohorts", "cohort"}}) {
      router.Add(method, "/api/" + path, "Collections of every node",
                 [this, path = path, entity = entity](http::Request& req, http::Responder respond) {
                   Collections(req, std::move(respond), path, entity, "");
                 });
      router.Add(method, "/api/" + path + "/{id}", "One collection (id NODE:ID)",
                 [this, path = path, entity = entity](http::Request& req, http::Responder respond) {
                   Collections(req, std::move(respond), path, entity, req.path_params["id"]);
                 });
    }
  }
  router.Add("GET", "/hub/nodes", "The nodes and whether they answer now",
             [this](http::Request&, http::Responder respond) { Nodes(std::move(respond)); });
}

void HubService::Query(http::Request& req, http::Responder respond, const std::string& path,
                       const std::string& entity) {
  Result<query::BeaconRequest> parsed = req.method == "POST" ? query::ParseBeaconPost(req.body)
                                                             : query::ParseBeaconGet(req.query);
  if (!parsed.ok()) {
    respond(api::ErrorResponse(identity_, parsed.status(), nullptr, entity));
    return;
  }
  auto request = std::make_shared<query::BeaconRequest>(std::move(*parsed));
  json forward = {{"meta", {{"apiVersion", request->api_version}}},
                  {"query",
                   {{"filters", request->filters},
                    {"requestedGranularity", model::GranularityName(request->requested_granularity)},
                    {"pagination", {{"skip", request->skip}, {"limit", request->limit}}},
                    {"testMode", request->test_mode}}}};
  if (!request->request_parameters.empty()) forward["query"]["requestParameters"] = request->request_parameters;
  FanOut(clients_, "POST", "/api/" + path, forward.dump(), config_.deadline,
         [this, request, entity, respond = std::move(respond)](std::vector<NodeAnswer> answers) {
           json result_sets = json::array();
           json nodes = json::array();
           int64_t total = 0;
           bool exists = false;
           size_t answered = 0;
           // What the hub may say is what every answering node said: a node that answered a
           // count question with a boolean (an anonymous caller) leaves the total unknown.
           model::Granularity granularity = request->requested_granularity;
           std::map<int, std::pair<size_t, std::string>> refusals;  // http status -> count, message
           bool all_exact = true;
           for (const NodeAnswer& a : answers) {
             Outcome o = Examine(a);
             json& body = o.body;
             json info = o.info;
             if (o.ok()) {
               ++answered;
               const json& summary = body.value("responseSummary", json::object());
               const bool node_exists = summary.value("exists", false);
               const int64_t count = summary.value("numTotalResults", int64_t{0});
               exists = exists || node_exists;
               total += count;
               const std::string returned =
                   body.value("meta", json::object()).value("returnedGranularity", "boolean");
               if (returned == "boolean" || !summary.contains("numTotalResults")) {
                 granularity = model::Granularity::kBoolean;
               }
               json set_info = body.value("info", json::object());
               // A node's exact figures (records for a permitted caller) are summed as such.
               if (set_info.value("countPrecision", "rounded") != "exact") all_exact = false;
               set_info["node"] = a.node;
               info["exists"] = node_exists;
               if (summary.contains("numTotalResults")) info["count"] = count;
               json set = {{"id", a.node}, {"setType", "dataset"}, {"exists", node_exists},
                           {"results", json::array()}, {"info", set_info}};
               if (summary.contains("numTotalResults")) set["resultsCount"] = count;
               result_sets.push_back(std::move(set));
             } else if (o.status == "error") {
               auto& r = refusals[o.http_status];
               ++r.first;
               if (r.second.empty()) r.second = o.error;
             }
             nodes.push_back(std::move(info));
           }
           if (answered == 0) {
             // No node could answer. If those that were reached all refused the query the same
             // way (e.g. an unknown term: every node has the same vocabularies), the query is
             // at fault and the hub refuses it likewise; otherwise the federation is down.
             int status = 503;
             std::string message = "no node could answer within the deadline";
             if (refusals.size() == 1 && refusals.begin()->first >= 400 &&
                 refusals.begin()->first < 500) {
               status = refusals.begin()->first;
               message = refusals.begin()->second.second;
             }
             auto r = api::ErrorResponse(identity_, status, message, request.get(), entity);
             json body = json::parse(r.body);
             body["info"] = {{"nodes", nodes}};
             respond(api::JsonResponse(body, status));
             return;
           }
           if (granularity == model::Granularity::kBoolean) {
             // Counts some nodes sent must not be summed into a total the caller may not see
             // from the others, nor shown per node beside booleans.
             for (json& n : nodes) n.erase("count");
           }
           if (granularity == model::Granularity::kRecord) granularity = model::Granularity::kCount;
           json body = {{"meta", api::ResponseMeta(identity_, *request, granularity, entity)},
                        {"info",
                         {{"nodes", nodes},
                          {"nodesAnswered", answered},
                          {"nodesAsked", answers.size()},
                          {"countPrecision", all_exact ? "exact" : "rounded"},
                          {"note", all_exact ? "each node's count is exact (the caller is permitted there); "
                                               "the total is their sum"
                                             : "each node's count is rounded by that node; the total is their sum"}}}};
           if (granularity == model::Granularity::kCount) {
             body["responseSummary"] = {{"exists", exists}, {"numTotalResults", total}};
             body["response"] = {{"resultSets", result_sets}};
           } else {
             body["responseSummary"] = {{"exists", exists}};
           }
           respond(api::JsonResponse(body));
         },
         req.Header("authorization"));
}

void HubService::FilteringTerms(http::Responder respond) {
  FanOut(clients_, "GET", "/api/filtering_terms", "", config_.deadline,
         [this, respond = std::move(respond)](std::vector<NodeAnswer> answers) {
           std::map<std::string, json> terms;
           std::map<std::string, json> resources;
           json nodes = json::array();
           size_t answered = 0;
           for (const NodeAnswer& a : answers) {
             Outcome o = Examine(a);
             nodes.push_back(o.info);
             if (!o.ok()) continue;
             ++answered;
             const json& body = o.body;
             const json& response = body.value("response", json::object());
             for (const json& t : response.value("filteringTerms", json::array())) {
               if (t.contains("id")) terms.emplace(t["id"].get<std::string>(), t);
             }
             for (const json& r : response.value("resources", json::array())) {
               if (r.contains("id")) resources.emplace(r["id"].get<std::string>(), r);
             }
           }
           if (answered == 0) {
             respond(api::ErrorResponse(identity_, 503, "no node answered within the deadline"));
             return;
           }
           json term_list = json::array(), resource_list = json::array();
           for (auto& [k, v] : terms) term_list.push_back(std::move(v));
           for (auto& [k, v] : resources) resource_list.push_back(std::move(v));
           respond(api::JsonResponse(
               {{"meta", api::InformationalMeta(identity_, "filteringTerm", api::SchemaFor("filteringTerm"))},
                {"response", {{"filteringTerms", term_list}, {"resources", resource_list}}},
                {"info", {{"nodes", nodes}}}}));
         });
}

void HubService::Collections(http::Request& req, http::Responder respond, const std::string& path,
                             const std::string& entity, const std::string& only_id) {
  Result<query::BeaconRequest> parsed = req.method == "POST" ? query::ParseBeaconPost(req.body)
                                                             : query::ParseBeaconGet(req.query);
  if (!parsed.ok()) {
    respond(api::ErrorResponse(identity_, parsed.status(), nullptr, entity));
    return;
  }
  auto request = std::make_shared<query::BeaconRequest>(std::move(*parsed));
  FanOut(clients_, "GET", "/api/" + path, "", config_.deadline,
         [this, request, entity, only_id, respond = std::move(respond)](std::vector<NodeAnswer> answers) {
           json collections = json::array();
           json nodes = json::array();
           size_t answered = 0;
           std::vector<Outcome> outcomes;
           for (const NodeAnswer& a : answers) {
             outcomes.push_back(Examine(a));
             const Outcome& o = outcomes.back();
             nodes.push_back(o.info);
             if (!o.ok()) continue;
             ++answered;
             const json& body = o.body;
             for (json c : body.value("response", json::object()).value("collections", json::array())) {
               c["id"] = a.node + ":" + c.value("id", "");
               c["info"] = {{"node", a.node}};
               if (!only_id.empty() && c["id"] != only_id) continue;
               collections.push_back(std::move(c));
             }
           }
           if (answered == 0) {
             const auto [status, message] = NoAnswerStatus(outcomes, "no node answered within the deadline");
             respond(api::ErrorResponse(identity_, status, message, request.get(), entity));
             return;
           }
           if (!only_id.empty() && collections.empty()) {
             respond(api::ErrorResponse(identity_, 404, "no " + entity + " '" + only_id + "'",
                                        request.get(), entity));
             return;
           }
           json body = {{"meta", api::ResponseMeta(identity_, *request, model::Granularity::kRecord, entity)},
                        {"responseSummary",
                         {{"exists", !collections.empty()},
                          {"numTotalResults", static_cast<int64_t>(collections.size())}}},
                        {"response", {{"collections", collections}}},
                        {"info", {{"nodes", nodes}}}};
           respond(api::JsonResponse(body));
         },
         req.Header("authorization"));
}

void HubService::Nodes(http::Responder respond) {
  FanOut(clients_, "GET", "/api/info", "", config_.deadline,
         [respond = std::move(respond)](std::vector<NodeAnswer> answers) {
           json nodes = json::array();
           for (const NodeAnswer& a : answers) {
             nodes.push_back(Examine(a).info);
           }
           respond(api::JsonResponse({{"nodes", nodes}}));
         });
}

}  // namespace oncomesh::hub
