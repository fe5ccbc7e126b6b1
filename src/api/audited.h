// The audit trail of a node's data endpoints, in one place (issue 5; ARCHITECTURE.md principle 1:
// everything that leaves is audited).
//
// A data endpoint's handler returns its response together with what the audit entry must say
// about it (`Audited`): the caller as the handler resolved it and what the response disclosed
// (released figures, record ids, file bytes). Handlers know nothing of the log and take no
// socket, so tests call them directly. `Auditor::Wrap` makes them routes: for each request it runs
// the handler, builds the entry (caller, client address, method/path/query, the access level
// per dataset, HTTP status, the refusal's reason, the disclosure), appends it, and sends the
// response only from the log's callback, once the entry is in the log
// (audit/audit_log.h, DURABILITY). If the entry cannot be written, the response is dropped and
// a 503 in the endpoint family's own error format is sent instead: it names the audit log and
// nothing of the data.
//
// Which endpoints are audited is the node's choice (api/node_service.h, docs/audit.md).
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "api/caller.h"
#include "audit/audit_log.h"
#include "audit/entry.h"
#include "auth/access.h"
#include "http/http.h"
#include "util/status.h"

namespace oncomesh::api {

// A data endpoint's answer and what its audit entry says beyond the request itself.
struct Audited {
  http::Response response;
  // The caller as the handler resolved it: anonymous or a verified passport, or the error that
  // refused the credentials. nullopt when the handler answered before asking (a malformed
  // request): the wrapper then resolves it for the entry.
  std::optional<Result<auth::Caller>> caller;
  // Everything `response` carries of the data. Must be empty for an error response (4xx/5xx):
  // a refusal discloses nothing (an error response's disclosure is dropped).
  audit::Disclosure disclosed;
  // Anything else a reader of the entry wants (a JSON object), e.g. the collection ids shown.
  nlohmann::json details = nlohmann::json::object();
};

// How one family of endpoints (Beacon, htsget, DICOMweb) writes its errors.
struct ErrorFormat {
  // An error response of the family with this status and message.
  std::function<http::Response(const http::Request& request, int status,
                               const std::string& message)>
      error;
  // The message an error response of the family carries, for the entry's refusal reason; ""
  // when none can be read from it.
  std::function<std::string(const http::Response& response)> message_of;
};

// The message of a JSON error document at `pointer` (e.g. "/error/errorMessage"); "" when the
// body is not JSON or has no string there. For ErrorFormat::message_of.
std::string JsonErrorMessage(const http::Response& response, const std::string& pointer);

// The entry's caller and access parts for `caller`: subject and issuer of a verified passport
// (or anonymous), the level granted per dataset; for refused credentials, an unverified caller,
// with what the token claimed (issuer, subject: unverified, shortened) and its SHA-256 in
// entry->details["credentials"]. `request` gives the client's address and the token.
void DescribeCaller(const Result<auth::Caller>& caller, const http::Request& request,
                    audit::Entry* entry);

// The audit entry of `request` answered with `answer` (its method, path, query string and body,
// the body cut at audit::kMaxAuditedBody): a request entry for a status below 400,
// a refusal otherwise, whose reason is the error document's message (format.message_of) or
// "HTTP <status>". `answer.caller` must be set (AuditedRouter resolves it when the handler did
// not).
audit::Entry AuditEntryFor(const http::Request& request, const Audited& answer,
                           const ErrorFormat& format);

// Appends the entries of one family of endpoints and sends their answers. A cheap copyable value
// (what it needs is shared); thread-safe.
class Auditor {
 public:
  using Handler = std::function<Audited(http::Request& request)>;

  // Entries go to `log`; callers are resolved by `caller` when a handler did not; errors are
  // written in `format`. `log` null: answers are sent without an entry — only `oncomesh node
  // serve --unaudited-benchmark-only` does that. `log` must outlive the routes.
  Auditor(audit::AuditLog* log, CallerFn caller, ErrorFormat format);

  // A route handler (http::Router::Add) that runs `handler` and Send()s its answer. A handler
  // that throws is answered, and audited, as a 500 internal error.
  http::Handler Wrap(Handler handler) const;

  // Appends the entry of `answer` to `request`, and sends answer.response through `respond`
  // from the log's callback once the entry is in; if it cannot be written, a 503 in the
  // family's format instead. For answers made outside a handler too (the server's refusals of
  // the node's data paths: 404, 405, 413).
  void Send(http::Request& request, Audited answer, http::Responder respond) const;

  struct Core;

 private:
  std::shared_ptr<const Core> core_;
};

}  // namespace oncomesh::api
