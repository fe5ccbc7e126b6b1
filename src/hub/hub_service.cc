#include "hub/hub_service.h"

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <map>
#include <set>

#include "query/beacon_request.h"
#include "util/json.h"

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
    const std::set<std::string> allowed = {"name",    "address",     "port",
                                           "threads", "deadline_ms", "nodes"};
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
      if (!n["name"] || !n["url"])
        return InvalidArgument(source + ": every node needs a name and a url");
      const std::string name = n["name"].as<std::string>();
      if (!names.insert(name).second)
        return InvalidArgument(source + ": node '" + name + "' listed twice");
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

// What the fan-out's answers amount to for the caller. It runs on the hub's io_context: an
// exception must not escape it (it would end the process), so FanOut turns one into a 500.
using Finish = std::function<http::Response(std::vector<NodeAnswer>)>;

// Sends one request to every node at once; `finish` gets all answers (each node's call ends by
// the deadline, by answer, refusal or timeout) and `respond` what it makes of them.
void FanOut(const NodeClients& clients, const std::string& method, const std::string& target,
            const std::string& body, std::chrono::milliseconds deadline,
            const std::string* authorization, const api::BeaconIdentity& identity, Finish finish,
            http::Responder respond) {
  struct State {
    std::vector<NodeAnswer> answers;
    std::atomic<size_t> remaining;
    Finish finish;
    http::Responder respond;
    const api::BeaconIdentity* identity;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();

    void Done() {
      http::Response response;
      try {
        response = finish(std::move(answers));
      } catch (const std::exception& e) {
        // A bug (every node answer is checked before use): the caller gets an error, the hub
        // keeps serving.
        spdlog::error("hub: combining the nodes' answers threw: {}", e.what());
        response = api::ErrorResponse(*identity, 500, "internal error");
      }
      respond(std::move(response));
    }
  };
  auto state = std::make_shared<State>();
  state->answers.resize(clients.size());
  state->remaining = clients.size();
  state->finish = std::move(finish);
  state->respond = std::move(respond);
  state->identity = &identity;
  if (clients.empty()) {
    state->Done();
    return;
  }
  // The caller's passport goes to every node unchanged: each node verifies it and decides
  // what its own data may show (the hub grants nothing).
  std::vector<std::pair<std::string, std::string>> headers = {{"accept", "application/json"}};
  if (authorization) headers.emplace_back("authorization", *authorization);
  for (size_t i = 0; i < clients.size(); ++i) {
    state->answers[i].node = clients[i]->endpoint.name;
    clients[i]->client->Send(
        method, target, body, headers, deadline, [state, i](Result<http::Response> r) {
          state->answers[i].response = std::move(r);
          state->answers[i].milliseconds = std::chrono::duration<double, std::milli>(
                                               std::chrono::steady_clock::now() - state->start)
                                               .count();
          if (state->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            state->Done();
          }
        });
  }
}

// ---- the shape of node answers ---------------------------------------------------------------

// A node's answer is untrusted input: each member the hub reads is checked for its type before
// it is read, so that a node answering `"exists": "yes"` or a numeric term id is reported as
// failed (with what was wrong, where) instead of making the hub throw.
enum class Expect { kObject, kBoolean, kString, kCount, kIdList };

struct Member {
  const char* pointer;  // RFC 6901; a member's parents come before it in a shape
  Expect expect;
  bool required;
};
using Shape = std::vector<Member>;

constexpr int64_t kMaxCount = 1'000'000'000'000;

// beaconBooleanResponse / beaconCountResponse / beaconResultsetsResponse, as far as the hub reads.
const Shape kQueryShape = {{"/meta", Expect::kObject, false},
                           {"/meta/returnedGranularity", Expect::kString, false},
                           {"/responseSummary", Expect::kObject, true},
                           {"/responseSummary/exists", Expect::kBoolean, true},
                           {"/responseSummary/numTotalResults", Expect::kCount, false},
                           {"/info", Expect::kObject, false},
                           {"/info/countPrecision", Expect::kString, false}};
// beaconFilteringTermsResponse
const Shape kFilteringTermsShape = {{"/response", Expect::kObject, true},
                                    {"/response/filteringTerms", Expect::kIdList, true},
                                    {"/response/resources", Expect::kIdList, false}};
// beaconCollectionsResponse
const Shape kCollectionsShape = {{"/response", Expect::kObject, true},
                                 {"/response/collections", Expect::kIdList, true}};
// beaconInfoResponse: only that it is an object.
const Shape kInfoShape = {};

const char* ExpectName(Expect e) {
  switch (e) {
    case Expect::kObject:
      return "an object";
    case Expect::kBoolean:
      return "a boolean";
    case Expect::kString:
      return "a string";
    case Expect::kCount:
      return "a count (an integer from 0 to 10^12)";
    case Expect::kIdList:
      return "an array of objects with a string 'id'";
  }
  return "?";
}

// The member at `pointer`, walking objects only; nullptr when absent.
const json* Find(const json& doc, const std::string& pointer) {
  const json* at = &doc;
  size_t pos = 1;
  while (pos <= pointer.size()) {
    const size_t slash = pointer.find('/', pos);
    const std::string key = pointer.substr(pos, slash == std::string::npos ? slash : slash - pos);
    if (!at->is_object()) return nullptr;
    const auto it = at->find(key);
    if (it == at->end()) return nullptr;
    at = &*it;
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  return at;
}

// Why `value` is not what `expect` says, naming the pointer (of the item, for lists); "" if it is.
std::string Mismatch(const json& value, Expect expect, const std::string& pointer) {
  const std::string got = std::string(", got ") + JsonTypeName(value);
  switch (expect) {
    case Expect::kObject:
      if (value.is_object()) return "";
      break;
    case Expect::kBoolean:
      if (value.is_boolean()) return "";
      break;
    case Expect::kString:
      if (value.is_string()) return "";
      break;
    case Expect::kCount:
      // Bounded, so that the hub's sum of any number of nodes' counts cannot overflow.
      if (value.is_number_integer() && value.get<int64_t>() >= 0 &&
          value.get<int64_t>() <= kMaxCount) {
        return "";
      }
      break;
    case Expect::kIdList:
      if (!value.is_array()) break;
      for (size_t i = 0; i < value.size(); ++i) {
        const json& item = value[i];
        const std::string at = pointer + "/" + std::to_string(i);
        if (!item.is_object()) return at + ": expected an object, got " + JsonTypeName(item);
        const auto id = item.find("id");
        if (id == item.end()) return at + ": no 'id'";
        if (!id->is_string()) return at + "/id: expected a string, got " + JsonTypeName(*id);
      }
      return "";
  }
  return pointer + ": expected " + ExpectName(expect) + got;
}

// "" when `body` has the shape, else what is wrong and where.
std::string CheckShape(const json& body, const Shape& shape) {
  if (!body.is_object()) return std::string("expected a JSON object, got ") + JsonTypeName(body);
  for (const Member& m : shape) {
    const json* value = Find(body, m.pointer);
    if (value == nullptr) {
      if (m.required) return std::string(m.pointer) + ": missing";
      continue;
    }
    std::string wrong = Mismatch(*value, m.expect, m.pointer);
    if (!wrong.empty()) return wrong;
  }
  return "";
}

// What a node's error answer says: a Beacon error's errorMessage when it has one.
std::string ErrorReason(const json& body, int http_status) {
  const std::string status = "HTTP " + std::to_string(http_status);
  const json* message = Find(body, "/error/errorMessage");
  if (message && message->is_string()) return message->get<std::string>();
  return status + " without a Beacon error document";
}

// What one node's answer amounts to: its JSON body when it answered 200 with `shape`, else why
// not, and the entry for `info.nodes` either way. (NOLINT: clang-tidy 14 takes nlohmann::json's
// noexcept move for one that throws.)
struct Outcome {       // NOLINT(bugprone-exception-escape)
  std::string status;  // "ok", "unavailable", "timeout" or "error"
  std::string error;
  int http_status = 0;
  json body;  // null unless status is "ok"
  json info;

  bool ok() const { return status == "ok"; }
};

Outcome Examine(const NodeAnswer& a, const Shape& shape) {
  Outcome o;
  if (!a.response.ok()) {
    o.status =
        a.response.status().code() == StatusCode::kDeadlineExceeded ? "timeout" : "unavailable";
    o.error = a.response.status().message();
  } else {
    o.http_status = a.response->status;
    Result<json> body = ParseJson(a.response->body, "node answer");
    o.status = "error";
    if (!body.ok()) {
      o.error = body.status().message();
      if (a.response->status != 200)
        o.error = "HTTP " + std::to_string(a.response->status) + ": " + o.error;
    } else if (a.response->status != 200) {
      o.error = ErrorReason(*body, a.response->status);
    } else if (std::string wrong = CheckShape(*body, shape); !wrong.empty()) {
      o.error = "node answer: " + wrong;
    } else {
      o.status = "ok";
      o.body = std::move(*body);
    }
  }
  o.info = {{"name", a.node},
            {"status", o.ok()                ? "available"
                       : o.status == "error" ? "failed"
                                             : "unavailable"},
            {"milliseconds", std::round(a.milliseconds * 10) / 10}};
  if (!o.error.empty()) o.info["error"] = o.error;
  return o;
}

// When no node answered: if the nodes that refused the request (a 4xx, e.g. a passport no node
// accepts, an unknown term) all refused it the same way, the request is at fault and the hub
// refuses it likewise; otherwise (nodes down, timing out or failing) the federation is down (503).
std::pair<int, std::string> NoAnswerStatus(const std::vector<Outcome>& outcomes,
                                           const std::string& unavailable) {
  std::map<int, std::string> refusals;
  for (const Outcome& o : outcomes) {
    if (o.status == "error" && o.http_status >= 400 && o.http_status < 500) {
      refusals.emplace(o.http_status, o.error);
    }
  }
  if (refusals.size() == 1) return {refusals.begin()->first, refusals.begin()->second};
  return {503, unavailable};
}

// One query's answers, combined (every body read here passed kQueryShape).
http::Response CombineQuery(const api::BeaconIdentity& identity,
                            const query::BeaconRequest& request, const std::string& entity,
                            const std::vector<NodeAnswer>& answers) {
  json result_sets = json::array();
  json nodes = json::array();
  int64_t total = 0;
  bool exists = false;
  size_t answered = 0;
  // What the hub may say is what every answering node said: a node that answered a count
  // question with a boolean (an anonymous caller) leaves the total unknown.
  model::Granularity granularity = request.requested_granularity;
  std::vector<Outcome> outcomes;
  bool all_exact = true;
  for (const NodeAnswer& a : answers) {
    outcomes.push_back(Examine(a, kQueryShape));
    const Outcome& o = outcomes.back();
    json info = o.info;
    if (o.ok()) {
      ++answered;
      const json& summary = o.body["responseSummary"];
      const bool node_exists = summary["exists"].get<bool>();
      const bool counted = summary.contains("numTotalResults");
      const int64_t count = counted ? summary["numTotalResults"].get<int64_t>() : 0;
      exists = exists || node_exists;
      total += count;
      const json* returned = Find(o.body, "/meta/returnedGranularity");
      if ((returned ? returned->get<std::string>() : "boolean") == "boolean" || !counted) {
        granularity = model::Granularity::kBoolean;
      }
      json set_info = o.body.value("info", json::object());
      // A node's exact figures (records for a permitted caller) are summed as such.
      if (set_info.value("countPrecision", "rounded") != "exact") all_exact = false;
      set_info["node"] = a.node;
      info["exists"] = node_exists;
      if (counted) info["count"] = count;
      json set = {{"id", a.node},
                  {"setType", "dataset"},
                  {"exists", node_exists},
                  {"results", json::array()},
                  {"info", set_info}};
      if (counted) set["resultsCount"] = count;
      result_sets.push_back(std::move(set));
    }
    nodes.push_back(std::move(info));
  }
  if (answered == 0) {
    // No node could answer. If those that refused the query all refused it the same way (e.g.
    // an unknown term: every node has the same vocabularies), the query is at fault and the
    // hub refuses it likewise; otherwise the federation is down.
    const auto [status, message] =
        NoAnswerStatus(outcomes, "no node could answer within the deadline");
    auto r = api::ErrorResponse(identity, status, message, &request, entity);
    json body = json::parse(r.body);  // our own document
    body["info"] = {{"nodes", nodes}};
    return api::JsonResponse(body, status);
  }
  if (granularity == model::Granularity::kBoolean) {
    // Counts some nodes sent must not be summed into a total the caller may not see from the
    // others, nor shown per node beside booleans.
    for (json& n : nodes) n.erase("count");
  }
  if (granularity == model::Granularity::kRecord) granularity = model::Granularity::kCount;
  json body = {
      {"meta", api::ResponseMeta(identity, request, granularity, entity)},
      {"info",
       {{"nodes", nodes},
        {"nodesAnswered", answered},
        {"nodesAsked", answers.size()},
        {"countPrecision", all_exact ? "exact" : "rounded"},
        {"note", all_exact
                     ? "each node's count is exact (the caller is permitted there); "
                       "the total is their sum"
                     : "each node's count is rounded by that node; the total is their sum"}}}};
  if (granularity == model::Granularity::kCount) {
    body["responseSummary"] = {{"exists", exists}, {"numTotalResults", total}};
    body["response"] = {{"resultSets", result_sets}};
  } else {
    body["responseSummary"] = {{"exists", exists}};
  }
  return api::JsonResponse(body);
}

}  // namespace

// ---- service ---------------------------------------------------------------------------------

HubService::HubService(HubConfig config) : config_(std::move(config)) {
  identity_.id = "org.oncomesh.hub." + config_.name;
  identity_.name = "OncoMesh hub " + config_.name;
  identity_.description =
      "Federated Beacon v2 over " + std::to_string(config_.nodes.size()) +
      " OncoMesh nodes; every count is the nodes' own disclosure-controlled one.";
  identity_.organization_id = config_.name;
  identity_.organization_name = "OncoMesh network " + config_.name;
}

HubService::~HubService() = default;

http::Response HubService::RouterError(int status, const std::string& message) const {
  return api::ErrorResponse(identity_, status, message);
}

void HubService::Close() { clients_.clear(); }

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
  router.AddSync("GET", "/api/configuration", "Beacon configuration", [&id](http::Request&) {
    return api::JsonResponse(api::ConfigurationResponse(id));
  });
  router.AddSync("GET", "/api/entry_types", "Entry types",
                 [&id](http::Request&) { return api::JsonResponse(api::EntryTypesResponse(id)); });
  router.AddSync("GET", "/api/map", "Map of endpoints", [this](http::Request& req) {
    return api::JsonResponse(api::MapResponse(identity_, api::BaseUrl(req, "")));
  });

  // Queries: /api/individuals, /api/biosamples and /api/g_variants.
  for (const char* method : {"GET", "POST"}) {
    for (const auto& [path, entity] :
         {std::pair<std::string, std::string>{"individuals", "individual"},
          {"biosamples", "biosample"},
          {"g_variants", "genomicVariation"}}) {
      router.Add(method, "/api/" + path, "Federated " + entity + " query",
                 [this, path = path, entity = entity](http::Request& req, http::Responder respond) {
                   Query(req, std::move(respond), path, entity);
                 });
    }
  }
  router.Add("GET", "/api/filtering_terms", "Filtering terms of every node, merged",
             [this](http::Request& req, http::Responder respond) {
               FilteringTerms(req, std::move(respond));
             });
  for (const char* method : {"GET", "POST"}) {
    for (const auto& [path, entity] :
         {std::pair<std::string, std::string>{"datasets", "dataset"}, {"cohorts", "cohort"}}) {
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
  Result<query::BeaconRequest> parsed =
      req.method == "POST" ? query::ParseBeaconPost(req.body) : query::ParseBeaconGet(req.query);
  if (!parsed.ok()) {
    respond(api::ErrorResponse(identity_, parsed.status(), nullptr, entity));
    return;
  }
  auto request = std::make_shared<query::BeaconRequest>(std::move(*parsed));
  json forward = {
      {"meta", {{"apiVersion", request->api_version}}},
      {"query",
       {{"filters", request->filters},
        {"requestedGranularity", model::GranularityName(request->requested_granularity)},
        {"pagination", {{"skip", request->skip}, {"limit", request->limit}}},
        {"testMode", request->test_mode}}}};
  if (!request->request_parameters.empty())
    forward["query"]["requestParameters"] = request->request_parameters;
  FanOut(
      clients_, "POST", "/api/" + path, forward.dump(), config_.deadline,
      req.Header("authorization"), identity_,
      [this, request, entity](const std::vector<NodeAnswer>& answers) {
        return CombineQuery(identity_, *request, entity, answers);
      },
      std::move(respond));
}

void HubService::FilteringTerms(http::Request& req, http::Responder respond) {
  // The caller's credentials go to the nodes, which refuse what is not a valid passport (401
  // with the reason) as they do on every endpoint; the hub then refuses it likewise.
  FanOut(
      clients_, "GET", "/api/filtering_terms", "", config_.deadline, req.Header("authorization"),
      identity_,
      [this](const std::vector<NodeAnswer>& answers) {
        std::map<std::string, json> terms;
        std::map<std::string, json> resources;
        json nodes = json::array();
        std::vector<Outcome> outcomes;
        size_t answered = 0;
        for (const NodeAnswer& a : answers) {
          outcomes.push_back(Examine(a, kFilteringTermsShape));
          const Outcome& o = outcomes.back();
          nodes.push_back(o.info);
          if (!o.ok()) continue;
          ++answered;
          const json& response = o.body["response"];
          for (const json& t : response["filteringTerms"])
            terms.emplace(t["id"].get<std::string>(), t);
          for (const json& r : response.value("resources", json::array())) {
            resources.emplace(r["id"].get<std::string>(), r);
          }
        }
        if (answered == 0) {
          const auto [status, message] =
              NoAnswerStatus(outcomes, "no node answered within the deadline");
          http::Response r = api::ErrorResponse(identity_, status, message);
          if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
          return r;
        }
        json term_list = json::array(), resource_list = json::array();
        for (auto& [k, v] : terms) term_list.push_back(std::move(v));
        for (auto& [k, v] : resources) resource_list.push_back(std::move(v));
        return api::JsonResponse(
            {{"meta",
              api::InformationalMeta(identity_, "filteringTerm", api::SchemaFor("filteringTerm"))},
             {"response", {{"filteringTerms", term_list}, {"resources", resource_list}}},
             {"info", {{"nodes", nodes}}}});
      },
      std::move(respond));
}

void HubService::Collections(http::Request& req, http::Responder respond, const std::string& path,
                             const std::string& entity, const std::string& only_id) {
  Result<query::BeaconRequest> parsed =
      req.method == "POST" ? query::ParseBeaconPost(req.body) : query::ParseBeaconGet(req.query);
  if (!parsed.ok()) {
    respond(api::ErrorResponse(identity_, parsed.status(), nullptr, entity));
    return;
  }
  auto request = std::make_shared<query::BeaconRequest>(std::move(*parsed));
  FanOut(
      clients_, "GET", "/api/" + path, "", config_.deadline, req.Header("authorization"), identity_,
      [this, request, entity, only_id](const std::vector<NodeAnswer>& answers) {
        json collections = json::array();
        json nodes = json::array();
        size_t answered = 0;
        std::vector<Outcome> outcomes;
        for (const NodeAnswer& a : answers) {
          outcomes.push_back(Examine(a, kCollectionsShape));
          const Outcome& o = outcomes.back();
          nodes.push_back(o.info);
          if (!o.ok()) continue;
          ++answered;
          for (json c : o.body["response"]["collections"]) {
            c["id"] = a.node + ":" + c["id"].get<std::string>();
            c["info"] = {{"node", a.node}};
            if (!only_id.empty() && c["id"] != only_id) continue;
            collections.push_back(std::move(c));
          }
        }
        if (answered == 0) {
          const auto [status, message] =
              NoAnswerStatus(outcomes, "no node answered within the deadline");
          return api::ErrorResponse(identity_, status, message, request.get(), entity);
        }
        if (!only_id.empty() && collections.empty()) {
          return api::ErrorResponse(identity_, 404, "no " + entity + " '" + only_id + "'",
                                    request.get(), entity);
        }
        json body = {
            {"meta", api::ResponseMeta(identity_, *request, model::Granularity::kRecord, entity)},
            {"responseSummary",
             {{"exists", !collections.empty()},
              {"numTotalResults", static_cast<int64_t>(collections.size())}}},
            {"response", {{"collections", collections}}},
            {"info", {{"nodes", nodes}}}};
        return api::JsonResponse(body);
      },
      std::move(respond));
}

void HubService::Nodes(http::Responder respond) {
  FanOut(
      clients_, "GET", "/api/info", "", config_.deadline, nullptr, identity_,
      [](const std::vector<NodeAnswer>& answers) {
        json nodes = json::array();
        for (const NodeAnswer& a : answers) nodes.push_back(Examine(a, kInfoShape).info);
        return api::JsonResponse({{"nodes", nodes}});
      },
      std::move(respond));
}

}  // namespace oncomesh::hub
