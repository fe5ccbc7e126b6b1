// A node's service: its Beacon v2 API over the cohort index, behind the gate.
//
// Owns the node directory, the vocabulary, the gate and the current index. The index is
// immutable; a refresher thread watches the store's sequence number and, when an ingest has
// committed something new, builds a new index and swaps it in, so requests never wait for an
// ingest and always see one consistent snapshot.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

#include "api/beacon/responses.h"
#include "api/htsget/htsget_service.h"
#include "api/caller.h"
#include "auth/access.h"
#include "auth/issuer_keys.h"
#include "auth/passport.h"
#include "audit/audit_log.h"
#include "auth/duo.h"
#include "auth/permits.h"
#include "gate/gate.h"
#include "http/http.h"
#include "index/cohort_index.h"
#include "node/node_dir.h"

namespace oncomesh::api {

class NodeService {
 public:
  // Opens the node directory, loads the vocabularies and builds the first index. Every
  // dataset's data_use is checked against DUO and kept with its codes as DUO ids; a bad one
  // fails here, naming node.yaml and the field.
  static Result<std::unique_ptr<NodeService>> Open(const std::string& node_dir);
  ~NodeService();

  // Adds every route of the node's API to `router`.
  void Register(http::Router& router);

  // Starts watching the store every `interval` (returns at once). Stop() ends it.
  void StartRefresher(std::chrono::milliseconds interval);
  void Stop();
  // Rebuilds the index now if the store has changed since the last build.
  Status RefreshIfChanged();

  std::shared_ptr<const index::CohortIndex> index() const;
  const node::NodeDir& node() const { return node_; }
  const BeaconIdentity& identity() const { return identity_; }
  const gate::Gate& gate() const { return gate_; }
  const index::Vocabulary& vocabulary() const { return vocab_; }
  const auth::DuoOntology& duo() const { return duo_; }

  // Who is asking (api/caller.h): anonymous without an Authorization header; from a verified
  // GA4GH Passport sent as "Bearer <JWT>"; Unauthenticated naming what is wrong with any other
  // credentials. Thread-safe.
  Result<auth::Caller> CallerFor(const http::Request& request) const;
  const auth::AccessPolicy& access_policy() const { return *access_policy_; }
  // The node's data permits (auth/permits.h) and audit trail (audit/audit_log.h).
  auth::PermitService& permits() { return *permits_; }
  audit::AuditLog& audit() { return *audit_; }

  // Error document for requests the router refuses (404, 405, 413…).
  http::Response RouterError(int status, const std::string& message) const;

 private:
  NodeService(node::NodeDir node, index::Vocabulary vocab, auth::DuoOntology duo);

  node::NodeDir node_;
  index::Vocabulary vocab_;
  auth::DuoOntology duo_;
  gate::Gate gate_;
  std::shared_ptr<auth::IssuerKeys> issuer_keys_;
  std::unique_ptr<auth::PassportVerifier> passports_;
  std::unique_ptr<auth::AccessPolicy> access_policy_;
  auth::Clock clock_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<auth::DuoMatcher> matcher_;
  std::unique_ptr<auth::PermitService> permits_;
  std::shared_ptr<const htsget::HtsgetService> htsget_;
  BeaconIdentity identity_;
  mutable std::mutex mu_;
  std::shared_ptr<const index::CohortIndex> index_;  // guarded by mu_
  std::atomic<bool> stop_{false};
  std::thread refresher_;
};

// Route registration, one function per resource family (api/beacon/*.cc).
void RegisterNodeInfoRoutes(NodeService& service, http::Router& router);
void RegisterNodeCollectionRoutes(NodeService& service, http::Router& router);
void RegisterNodeEntryRoutes(NodeService& service, http::Router& router);

}  // namespace oncomesh::api
