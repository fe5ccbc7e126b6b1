// The node's admin HTTP API: the data access committee's permit workflow (the same operations
// as `oncomesh permit`), and the node's public keys.
//
//   GET  /admin/permits                      every permit (?status=requested|approved|…)
//   POST /admin/permits                      a request: {"researcher": {"sub", "iss"},
//                                            "datasets": [...], "purpose": {DUO purpose},
//                                            "projectTitle", "summary", "durationDays", "by"}
//   GET  /admin/permits/{id}                 one permit, with the DUO match of its purpose
//   POST /admin/permits/{id}/approve         {"by", "reason", "override"}
//   POST /admin/permits/{id}/reject          {"by", "reason"}
//   POST /admin/permits/{id}/revoke          {"by", "reason"}
//   GET  /.well-known/jwks.json              the node's public signing key (RFC 7517)
//   GET  /.well-known/openid-configuration   {"issuer", "jwks_uri"} (OpenID Connect
//                                            Discovery 1.0, the part a visa verifier needs)
//
// /admin/… needs "Authorization: Bearer <NODE_DIR/admin.token>" (compared in constant time);
// anything else is 401 and changes nothing, and is audited first as a refusal (the client's
// address, method, path and query, the reason, and whether no header, another scheme or a wrong
// bearer token came; never the token). If that entry cannot be written the answer is 503. Errors
// are {"error": {"code", "message"}} with the HTTP status of the code (FailedPrecondition 409: e.g.
// approving a permit whose purpose does not match, listing the matcher's reasons). Each decision is
// audited before it is made (auth/permits.h).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "audit/entry.h"
#include "auth/duo.h"
#include "auth/permits.h"
#include "http/http.h"
#include "node/node_dir.h"

namespace oncomesh::api::admin {

// The audit entry of a permit decision (type permit; caller = who decided).
audit::Entry PermitAuditEntry(const auth::PermitEvent& event);

// A permit service over a node: its datasets' conditions, its issuer and key, its store.
// `audit` appends an entry durably (AuditLog::AppendSync). `duo` and `matcher` must outlive it.
std::unique_ptr<auth::PermitService> MakePermitService(
    const node::NodeDir& node, const auth::DuoOntology& duo, const auth::DuoMatcher& matcher,
    std::function<Status(const audit::Entry&)> audit);

// The node's issuer name (node.yaml access.issuer, or "urn:oncomesh:node:<name>").
std::string OwnIssuer(const node::NodeDir& node);

// A permit as the API and `oncomesh permit show --json` print it.
nlohmann::json PermitDocument(const auth::Permit& permit);

// Adds the routes above. `permits` outlives the router's use; `admin_token` is the expected
// bearer token; `audit` appends a refused request's entry durably (AuditLog::AppendSync).
void AddAdminRoutes(http::Router& router, auth::PermitService& permits, const node::NodeDir& node,
                    std::string admin_token,
                    const std::function<Status(const audit::Entry&)>& audit);

}  // namespace oncomesh::api::admin
