// A node's service: its Beacon v2 API over the cohort index, behind the gate, with htsget and
// DICOMweb, every data answer audited.
//
// Owns the node directory, the vocabulary, the gate, the current index and the audit log. The
// index is immutable; a refresher thread watches the store's sequence number and, when an
// ingest has committed something new, builds a new index and swaps it in, so requests never
// wait for an ingest and always see one consistent snapshot.
//
// AUDIT: the node's audit log (NODE_DIR/audit, audit/audit_log.h) is opened by Open, signed
// with the node's key, and closed (a closing checkpoint) by Stop or the destructor. Every
// request to a data endpoint is appended to it before its answer leaves (api/audited.h): the
// Beacon query and collection endpoints and /api/filtering_terms, htsget tickets and blocks,
// every DICOMweb route, and the server's own refusals (404, 405, 413…) of paths under those
// (IsAuditedPath). Exempt, because they describe the service, are the same for every caller and
// derive nothing from the data: /api, /api/info, /api/service-info, /api/configuration,
// /api/map, /api/entry_types, /variants/service-info, and anything outside /api, /variants and
// /dicomweb (such as /.well-known/*). Answers wait for their entry as node.yaml
// audit.durability says (node/node_dir.h).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>

#include "api/audited.h"
#include "api/beacon/responses.h"
#include "api/caller.h"
#include "api/htsget/htsget_service.h"
#include "audit/audit_log.h"
#include "auth/access.h"
#include "auth/duo.h"
#include "auth/issuer_keys.h"
#include "auth/passport.h"
#include "auth/permits.h"
#include "gate/gate.h"
#include "http/http.h"
#include "index/cohort_index.h"
#include "node/node_dir.h"

namespace oncomesh::api {

struct NodeServiceOptions {
  // false: the data endpoints answer WITHOUT audit entries. Only for measuring what auditing
  // costs (`oncomesh node serve --unaudited-benchmark-only`); the audit log is still opened,
  // says so in its open entry, and takes everything else (permit decisions).
  bool audit_requests = true;
  // The audit log's file operations: a seam for tests to make its writes or syncs fail.
  audit::FileOps audit_file_ops = audit::PosixFileOps();
};

class NodeService {
 public:
  // Opens the node directory and its audit log, loads the vocabularies and builds the first
  // index. Every dataset's data_use is checked against DUO and kept with its codes as DUO ids;
  // a bad one fails here, naming node.yaml and the field. The audit log's errors as
  // audit::AuditLog::Open gives them (FailedPrecondition when another process serves the node).
  static Result<std::unique_ptr<NodeService>> Open(const std::string& node_dir,
                                                   NodeServiceOptions options = {});
  // Stop()s.
  ~NodeService();

  // Adds every route of the node's API to `router`.
  void Register(http::Router& router);
  // Sets the server options the node's routes rely on: its error documents and the auditing of
  // the server's own refusals. The service must outlive the server.
  void ConfigureServer(http::ServerOptions* options);

  // Starts watching the store every `interval` (returns at once).
  void StartRefresher(std::chrono::milliseconds interval);
  // Ends the refresher and closes the audit log (its closing checkpoint); answers appended
  // after it get 503. Call it once the server has stopped. Idempotent.
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
  // The node's data permits (auth/permits.h).
  auth::PermitService& permits() { return *permits_; }

  // The node's audit log, for everything else that must be audited (permit decisions: always
  // synced, audit/audit_log.h). Valid until the service is destroyed; closed by Stop().
  audit::AuditLog& audit() { return *audit_; }
  // Whether data requests are audited (false only with NodeServiceOptions::audit_requests).
  bool audits_requests() const { return audit_requests_; }

  // Error document for requests the router refuses (404, 405, 413…).
  http::Response RouterError(int status, const std::string& message) const;
  // Sends a refusal of the server's (ServerOptions::on_refusal), audited when the request's
  // path is a data path.
  void SendRefusal(http::Request& request, http::Response refusal, http::Responder respond) const;

 private:
  NodeService(node::NodeDir node, index::Vocabulary vocab, auth::DuoOntology duo,
              std::unique_ptr<audit::AuditLog> audit, bool audit_requests);
  // The auditor of a family of routes, writing errors in `format`.
  Auditor AuditorFor(ErrorFormat format) const;

  node::NodeDir node_;
  index::Vocabulary vocab_;
  auth::DuoOntology duo_;
  gate::Gate gate_;
  std::shared_ptr<auth::IssuerKeys> issuer_keys_;
  std::unique_ptr<auth::PassportVerifier> passports_;
  std::unique_ptr<auth::AccessPolicy> access_policy_;
  auth::Clock clock_;
  std::unique_ptr<audit::AuditLog> audit_;
  const bool audit_requests_;
  std::unique_ptr<auth::DuoMatcher> matcher_;
  std::unique_ptr<auth::PermitService> permits_;
  std::shared_ptr<const htsget::HtsgetService> htsget_;
  BeaconIdentity identity_;
  mutable std::mutex mu_;
  std::shared_ptr<const index::CohortIndex> index_;  // guarded by mu_
  std::atomic<bool> stop_{false};
  std::thread refresher_;
  std::mutex stop_mu_;
  bool audit_closed_ = false;  // guarded by stop_mu_
};

// Whether requests to `path` are audited (see AUDIT above).
bool IsAuditedPath(std::string_view path);

// Beacon's errors for the audit wrapper: a beaconErrorResponse of `identity`, the reason read
// from error.errorMessage.
ErrorFormat BeaconErrorFormat(const BeaconIdentity& identity);

// Route registration, one function per resource family (api/beacon/*.cc); the audited routes'
// answers go through `auditor`.
void RegisterNodeInfoRoutes(NodeService& service, http::Router& router, const Auditor& auditor);
void RegisterNodeCollectionRoutes(NodeService& service, http::Router& router,
                                  const Auditor& auditor);
void RegisterNodeEntryRoutes(NodeService& service, http::Router& router, const Auditor& auditor);

}  // namespace oncomesh::api
