#include "api/admin/admin_service.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <strings.h>

#include "api/beacon/responses.h"
#include "util/json.h"

namespace oncomesh::api::admin {

using nlohmann::json;

namespace {

http::Response Json(const json& body, int status = 200) {
  http::Response r;
  r.status = status;
  r.body = body.dump(2, ' ', false, json::error_handler_t::replace);
  return r;
}

http::Response Error(const Status& st) {
  const int status = HttpStatusFor(st.code());
  http::Response r = Json({{"error", {{"code", status}, {"message", st.message()}}}}, status);
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"oncomesh-admin\"");
  return r;
}

std::string Sha256(std::string_view s) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  return std::string(reinterpret_cast<char*>(d), sizeof d);
}

// The admin credential check; the digests make the comparison constant-time in the token.
// `presented` says what was sent, for the refusal's audit entry: "none", "not a bearer token"
// or "bearer token" (never the token itself).
Status CheckAdmin(const http::Request& req, const std::string& expected_digest,
                  std::string* presented) {
  const std::string* h = req.Header("authorization");
  *presented = "none";
  if (h == nullptr)
    return Unauthenticated("the admin API needs 'Authorization: Bearer <NODE_DIR/admin.token>'");
  *presented = "not a bearer token";
  if (h->size() < 8 || strncasecmp(h->c_str(), "Bearer ", 7) != 0) {
    return Unauthenticated("the admin API takes a bearer token");
  }
  *presented = "bearer token";
  const std::string digest = Sha256(std::string_view(*h).substr(7));
  if (CRYPTO_memcmp(digest.data(), expected_digest.data(), digest.size()) != 0) {
    return Unauthenticated("the admin token is not this node's");
  }
  return Status::Ok();
}

// The refusal entry of a request whose admin credential was refused: who (the client's
// address), what it asked (method, path, query; not the body, which an unauthenticated caller
// chose), the 401 and why, and what kind of credential came (not the credential).
audit::Entry AdminRefusalEntry(const http::Request& req, const Status& refused,
                               const std::string& presented) {
  audit::Entry e;
  e.type = audit::EntryType::kRefusal;
  e.caller.address = req.peer;
  e.caller.unverified = true;
  e.request.method = req.method;
  e.request.path = req.path;
  const size_t q = req.target.find('?');
  if (q != std::string::npos) e.request.query = req.target.substr(q + 1);
  e.outcome = {HttpStatusFor(refused.code()), refused.message()};
  e.details = {{"credentials", {{"admin_api", true}, {"presented", presented}}}};
  return e;
}

// An admin request is a permit request or decision: small and shallow (a DUO purpose is a few
// levels deep). Bounded at parse time, as every JSON from outside (util/json.h).
constexpr JsonLimits kAdminJsonLimits{/*max_depth=*/32, /*max_bytes=*/size_t{1} << 20};

Result<json> Body(const http::Request& req) {
  if (req.body.empty()) return json::object();
  ASSIGN_OR_RETURN(json j, ParseJson(req.body, "request body", kAdminJsonLimits));
  if (!j.is_object()) return InvalidArgument("the request body must be a JSON object");
  return j;
}

Result<std::string> Field(const json& j, const char* name, bool required) {
  const auto it = j.find(name);
  if (it == j.end() || it->is_null()) {
    if (required) return InvalidArgument(std::string("'") + name + "' is required");
    return std::string();
  }
  if (!it->is_string()) return InvalidArgument(std::string("'") + name + "' must be a string");
  return it->get<std::string>();
}

Result<auth::PermitRequest> ParseRequest(const json& j) {
  auth::PermitRequest r;
  const json researcher = j.value("researcher", json::object());
  if (!researcher.is_object()) return InvalidArgument("'researcher' must be {\"sub\", \"iss\"}");
  ASSIGN_OR_RETURN(r.researcher_subject, Field(researcher, "sub", true));
  ASSIGN_OR_RETURN(r.researcher_issuer, Field(researcher, "iss", true));
  const json datasets = j.value("datasets", json::array());
  if (!datasets.is_array()) return InvalidArgument("'datasets' must be a list of dataset ids");
  for (const json& d : datasets) {
    if (!d.is_string()) return InvalidArgument("'datasets' must be a list of dataset ids");
    r.datasets.push_back(d);
  }
  const auto purpose = j.find("purpose");
  if (purpose == j.end())
    return InvalidArgument("'purpose' (the research purpose in DUO terms) is required");
  r.purpose = purpose->is_string() ? purpose->get<std::string>() : purpose->dump();
  ASSIGN_OR_RETURN(r.project_title, Field(j, "projectTitle", true));
  ASSIGN_OR_RETURN(r.summary, Field(j, "summary", true));
  const auto days = j.find("durationDays");
  if (days != j.end()) {
    if (!days->is_number_integer()) return InvalidArgument("'durationDays' must be a whole number");
    r.duration_days = days->get<int>();
  }
  return r;
}

}  // namespace

audit::Entry PermitAuditEntry(const auth::PermitEvent& event) {
  audit::Entry e;
  e.type = audit::EntryType::kPermit;
  e.caller.subject = event.actor;
  audit::PermitDecision d;
  d.action = event.action == "request" ? audit::PermitAction::kRequest
             : event.action == "approve"
                 ? (event.permit->override_reason.empty() ? audit::PermitAction::kApprove
                                                          : audit::PermitAction::kOverride)
             : event.action == "reject"           ? audit::PermitAction::kReject
             : event.action == "approval-refused" ? audit::PermitAction::kApprovalRefused
                                                  : audit::PermitAction::kRevoke;
  d.permit_id = event.permit->id;
  d.researcher =
      event.permit->request.researcher_subject + " @ " + event.permit->request.researcher_issuer;
  d.datasets = event.permit->request.datasets;
  d.reason = event.reason;
  e.permit = d;
  e.details = {{"purpose", event.permit->purpose},
               {"projectTitle", event.permit->request.project_title}};
  if (!event.permit->match.is_null()) e.details["match"] = event.permit->match;
  if (event.permit->expires_at) e.details["expiresAt"] = event.permit->expires_at;
  return e;
}

std::string OwnIssuer(const node::NodeDir& node) {
  const std::string& issuer = node.config().access.issuer;
  return issuer.empty() ? "urn:oncomesh:node:" + node.config().name : issuer;
}

std::unique_ptr<auth::PermitService> MakePermitService(
    const node::NodeDir& node, const auth::DuoOntology& duo, const auth::DuoMatcher& matcher,
    std::function<Status(const audit::Entry&)> audit) {
  auth::PermitServiceOptions o;
  o.own_issuer = OwnIssuer(node);
  o.signing_key = node.signing_key();
  for (const node::DatasetConfig& d : node.config().datasets) o.datasets[d.id] = d.data_use;
  o.matcher = &matcher;
  o.duo = &duo;
  o.open_store = [node] { return node.OpenStore(); };
  o.audit = [audit = std::move(audit)](const auth::PermitEvent& e) {
    return audit(PermitAuditEntry(e));
  };
  o.clock = auth::SystemClock();
  return std::make_unique<auth::PermitService>(std::move(o));
}

json PermitDocument(const auth::Permit& permit) { return permit.ToJson(); }

void AddAdminRoutes(http::Router& router, auth::PermitService& permits, const node::NodeDir& node,
                    std::string admin_token,
                    const std::function<Status(const audit::Entry&)>& audit) {
  while (!admin_token.empty() && (admin_token.back() == '\n' || admin_token.back() == ' '))
    admin_token.pop_back();
  const std::string digest = Sha256(admin_token);
  auth::PermitService* service = &permits;
  auto guarded = [digest, audit](std::function<http::Response(http::Request&)> handler) {
    return [digest, audit, handler = std::move(handler)](http::Request& req) {
      std::string presented;
      if (Status st = CheckAdmin(req, digest, &presented); !st.ok()) {
        // Audited before the 401 leaves, as every refusal is; unwritten, no answer but a 503.
        if (Status logged = audit(AdminRefusalEntry(req, st, presented)); !logged.ok()) {
          return Error(Unavailable("the node cannot write its audit log, so it does not answer: " +
                                   logged.message()));
        }
        return Error(st);
      }
      return handler(req);
    };
  };
  router.AddSync("GET", "/admin/permits", "Data permits (admin)",
                 guarded([service](http::Request& req) {
                   json list = json::array();
                   const std::string* status = req.Query("status");
                   for (const auth::Permit& p : service->List()) {
                     if (status && *status != auth::PermitStatusName(p.status)) continue;
                     list.push_back(PermitDocument(p));
                   }
                   return Json({{"permits", list}});
                 }));
  router.AddSync("POST", "/admin/permits", "Record a permit request (admin)",
                 guarded([service](http::Request& req) {
                   Result<json> body = Body(req);
                   if (!body.ok()) return Error(body.status());
                   Result<auth::PermitRequest> request = ParseRequest(*body);
                   if (!request.ok()) return Error(request.status());
                   Result<std::string> by = Field(*body, "by", true);
                   if (!by.ok()) return Error(by.status());
                   Result<auth::Permit> p = service->Request(*request, *by);
                   if (!p.ok()) return Error(p.status());
                   return Json(PermitDocument(*p), 201);
                 }));
  router.AddSync("GET", "/admin/permits/{id}", "One permit with its DUO match (admin)",
                 guarded([service](http::Request& req) {
                   Result<auth::Permit> p = service->Find(req.path_params["id"]);
                   if (!p.ok()) return Error(p.status());
                   json doc = PermitDocument(*p);
                   bool compatible = false;
                   if (Result<json> m = service->MatchPurpose(*p, &compatible); m.ok()) {
                     doc["currentMatch"] = {{"compatible", compatible}, {"datasets", *m}};
                   }
                   return Json(doc);
                 }));
  for (const char* action : {"approve", "reject", "revoke"}) {
    router.AddSync("POST", std::string("/admin/permits/{id}/") + action,
                   std::string("Permit: ") + action + " (admin)",
                   guarded([service, action = std::string(action)](http::Request& req) {
                     Result<json> body = Body(req);
                     if (!body.ok()) return Error(body.status());
                     Result<std::string> by = Field(*body, "by", true);
                     Result<std::string> reason = Field(*body, "reason", false);
                     Result<std::string> override_reason = Field(*body, "override", false);
                     for (const auto* r : {&by, &reason, &override_reason}) {
                       if (!r->ok()) return Error(r->status());
                     }
                     const std::string& id = req.path_params["id"];
                     Result<auth::Permit> p =
                         action == "approve"  ? service->Approve(id, *by, *reason, *override_reason)
                         : action == "reject" ? service->Reject(id, *by, *reason)
                                              : service->Revoke(id, *by, *reason);
                     if (!p.ok()) return Error(p.status());
                     return Json(PermitDocument(*p));
                   }));
  }

  const std::string issuer = OwnIssuer(node);
  const json jwks = {{"keys", json::array({node.signing_key().PublicJson()})}};
  router.AddSync("GET", "/.well-known/jwks.json", "The node's public signing key (JWKS)",
                 [jwks](http::Request&) { return Json(jwks); });
  router.AddSync(
      "GET", "/.well-known/openid-configuration", "Issuer and key location of the node's visas",
      [issuer, public_url = node.config().public_url](http::Request& req) {
        // A node with a public https issuer serves its keys under it; otherwise where
        // it is reached.
        const std::string base =
            issuer.rfind("https://", 0) == 0 ? issuer : BaseUrl(req, public_url);
        std::string trimmed = base;
        while (!trimmed.empty() && trimmed.back() == '/') trimmed.pop_back();
        return Json({{"issuer", issuer}, {"jwks_uri", trimmed + "/.well-known/jwks.json"}});
      });
}

}  // namespace oncomesh::api::admin
