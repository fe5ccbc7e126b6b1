#include "api/audited.h"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>
#include <strings.h>

#include <exception>
#include <utility>

#include "auth/jose.h"
#include "util/json.h"

namespace oncomesh::api {

using nlohmann::json;

struct Auditor::Core {
  audit::AuditLog* log = nullptr;
  CallerFn caller;
  ErrorFormat format;
};

namespace {

// What the client reads when its answer could not be audited: the reason, nothing of the data.
constexpr const char* kNotAudited =
    "the node cannot write its audit log, so it does not answer (nothing was disclosed); "
    "try again later";

// Strings a token claims are the sender's: kept short in the entry.
constexpr size_t kClaimChars = 200;

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr) != 1) return "";
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

// The bearer token of the Authorization header ("" when there is none).
std::string_view BearerToken(const http::Request& request) {
  const std::string* h = request.Header("authorization");
  if (h == nullptr) return {};
  std::string_view token(*h);
  if (token.size() >= 7 && strncasecmp(token.data(), "Bearer ", 7) == 0) token.remove_prefix(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

// What refused credentials say about themselves: never trusted, only recorded.
json Credentials(const http::Request& request) {
  const std::string_view token = BearerToken(request);
  json out = {{"verified", false}};
  if (token.empty()) return out;
  out["token_sha256"] = Sha256Hex(token);
  const size_t first = token.find('.');
  const size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || second - first - 1 > size_t{64} * 1024) return out;
  Result<std::string> payload = auth::Base64UrlDecode(token.substr(first + 1, second - first - 1));
  if (!payload.ok()) return out;
  const Result<json> parsed = ParseJson(*payload, "token payload");
  if (!parsed.ok() || !parsed->is_object()) return out;
  const json& claims = *parsed;
  json claimed = json::object();
  for (const char* name : {"iss", "sub"}) {
    auto it = claims.find(name);
    if (it != claims.end() && it->is_string()) {
      claimed[name] = it->get<std::string>().substr(0, kClaimChars);
    }
  }
  if (!claimed.empty()) out["claimed"] = std::move(claimed);
  return out;
}

}  // namespace

std::string JsonErrorMessage(const http::Response& response, const std::string& pointer) {
  const json body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return "";
  const json::json_pointer p(pointer);
  if (!body.contains(p) || !body.at(p).is_string()) return "";
  return body.at(p).get<std::string>();
}

void DescribeCaller(const Result<auth::Caller>& caller, const http::Request& request,
                    audit::Entry* entry) {
  entry->caller.address = request.peer;
  if (!caller.ok()) {
    entry->caller.unverified = true;
    entry->details["credentials"] = Credentials(request);
    return;
  }
  if (caller->passport) {
    entry->caller.subject = caller->passport->subject;
    entry->caller.issuer = caller->passport->issuer;
  }
  for (const auth::DatasetAccess& d : caller->datasets) {
    entry->access[d.dataset_id] = gate::AccessLevelName(d.level);
  }
}

audit::Entry AuditEntryFor(const http::Request& request, const Audited& answer,
                           const ErrorFormat& format) {
  audit::Entry entry;
  const int status = answer.response.status;
  entry.type = status < 400 ? audit::EntryType::kRequest : audit::EntryType::kRefusal;
  entry.details = answer.details.is_object() ? answer.details : json::object();
  if (answer.caller) DescribeCaller(*answer.caller, request, &entry);
  entry.request.method = request.method.empty() ? "-" : request.method;
  entry.request.path = request.path.empty() ? "-" : request.path;
  const size_t q = request.target.find('?');
  if (q != std::string::npos) entry.request.query = request.target.substr(q + 1);
  entry.request.body = request.body.substr(0, audit::kMaxAuditedBody);
  if (request.body.size() > audit::kMaxAuditedBody) {
    entry.request.body_bytes = request.body.size();
    entry.request.body_sha256 = Sha256Hex(request.body);
  }
  entry.outcome.status = status;
  if (entry.type == audit::EntryType::kRefusal) {
    entry.outcome.reason = format.message_of ? format.message_of(answer.response) : "";
    if (entry.outcome.reason.empty()) entry.outcome.reason = "HTTP " + std::to_string(status);
  } else {
    entry.disclosed = answer.disclosed;
  }
  return entry;
}

Auditor::Auditor(audit::AuditLog* log, CallerFn caller, ErrorFormat format)
    : core_(std::make_shared<Core>(Core{log, std::move(caller), std::move(format)})) {}

http::Handler Auditor::Wrap(Handler handler) const {
  return [self = *this, handler = std::move(handler)](http::Request& request,
                                                      http::Responder respond) {
    Audited answer;
    try {
      answer = handler(request);
    } catch (const std::exception& e) {
      spdlog::error("handler for {} {} threw: {}", request.method, request.path, e.what());
      answer = Audited{};
      answer.response = self.core_->format.error(request, 500, "internal error");
    }
    self.Send(request, std::move(answer), std::move(respond));
  };
}

void Auditor::Send(http::Request& request, Audited answer, http::Responder respond) const {
  const Core& core = *core_;
  if (core.log == nullptr) {  // --unaudited-benchmark-only
    respond(std::move(answer.response));
    return;
  }
  audit::Entry entry;
  try {
    if (!answer.caller) answer.caller = core.caller(request);
    entry = AuditEntryFor(request, answer, core.format);
  } catch (const std::exception& e) {
    // No entry, no answer: the family's 503, as when the log cannot be written.
    spdlog::error("audit entry for {} {}: {}", request.method, request.path, e.what());
    respond(core.format.error(request, 503, kNotAudited));
    return;
  }
  // The callback may run after `request` is gone: the 503, made only when needed, gets a copy
  // of what an error document may echo.
  http::Request echo;
  echo.method = request.method;
  echo.target = request.target;
  echo.path = request.path;
  core.log->Append(entry, [core_ = core_, echo = std::move(echo), respond = std::move(respond),
                           response = std::move(answer.response)](
                              const Result<audit::Receipt>& receipt) mutable {
    if (receipt.ok()) {
      respond(std::move(response));
      return;
    }
    respond(core_->format.error(echo, 503, kNotAudited));
  });
}

}  // namespace oncomesh::api
