// The hub: federates the Beacon v2 APIs of many nodes.
//
// It exposes the same Beacon endpoints as a node. A query is validated, then sent to every
// node in parallel with a per-node deadline; the answer has one result set per node that
// answered plus the total of their (already disclosure-controlled) counts. Nodes that are
// down, too slow or refuse are reported in `info.nodes` as unavailable or failed; the hub
// answers within its deadline whatever they do. A node's answer is untrusted input: it is
// parsed within util/json.h's bounds and its shape checked for each endpoint before the hub
// reads it, and a node whose answer is malformed (not JSON, `"exists": "yes"`, a numeric term
// id, a collection that is not an object, an error without a Beacon error document) is
// reported as failed with what was wrong and where; the others' answers are still combined. It
// holds no data and no state but its configuration, so several hubs can run behind a load balancer.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "api/beacon/responses.h"
#include "http/http.h"
#include "util/status.h"

namespace oncomesh::hub {

struct NodeEndpoint {
  std::string name;
  std::string host;  // an IP address
  uint16_t port = 0;
};

struct HubConfig {
  std::string name = "hub";
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  int threads = 2;
  std::chrono::milliseconds deadline{2000};  // per-node deadline for one query
  std::vector<NodeEndpoint> nodes;
};

// Parses hub.yaml text; nodes are given as {name, url: "http://IP:PORT"}. Errors name the key.
Result<HubConfig> ParseHubConfig(const std::string& yaml_text, const std::string& source_name);
// Parses "http://127.0.0.1:8080" (no path) into host and port.
Result<NodeEndpoint> ParseNodeUrl(const std::string& name, const std::string& url);

class HubService {
 public:
  explicit HubService(HubConfig config);
  ~HubService();

  // Adds the hub's routes. The clients to nodes run on `io` (the hub server's io_context), so
  // they must go before it: call Close() once the server has stopped, before it is destroyed.
  void Register(http::Router& router, boost::asio::io_context& io);

  // Closes the connections to the nodes and drops their clients. After the server stopped, before
  // its io_context is destroyed (a client's socket closed after that is a use after free).
  void Close();

  const api::BeaconIdentity& identity() const { return identity_; }
  const HubConfig& config() const { return config_; }
  http::Response RouterError(int status, const std::string& message) const;

  struct NodeClient;  // opaque: defined in hub_service.cc

 private:
  void Query(http::Request& req, http::Responder respond, const std::string& path,
             const std::string& entity);
  void FilteringTerms(http::Request& req, http::Responder respond);
  void Collections(http::Request& req, http::Responder respond, const std::string& path,
                   const std::string& entity, const std::string& only_id);
  void Nodes(http::Responder respond);

  HubConfig config_;
  api::BeaconIdentity identity_;
  std::vector<std::shared_ptr<NodeClient>> clients_;
};

}  // namespace oncomesh::hub
