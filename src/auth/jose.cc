#include "auth/jose.h"

#include <cjose/cjose.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <limits>

#include "util/json.h"

namespace oncomesh::auth {

using nlohmann::json;

namespace {

std::string CjoseMessage(const cjose_err& err) {
  return err.message ? std::string(err.message)
                     : std::string("cjose error ") + std::to_string(err.code);
}

struct JwsDeleter {
  void operator()(cjose_jws_t* jws) const { cjose_jws_release(jws); }
};
using JwsPtr = std::unique_ptr<cjose_jws_t, JwsDeleter>;

struct HeaderDeleter {
  void operator()(cjose_header_t* h) const { cjose_header_release(h); }
};
using HeaderPtr = std::unique_ptr<cjose_header_t, HeaderDeleter>;

std::shared_ptr<_cjose_jwk_int> Own(cjose_jwk_t* key) {
  return std::shared_ptr<_cjose_jwk_int>(key, [](cjose_jwk_t* k) { cjose_jwk_release(k); });
}

// What a JWK's required members (RFC 7638 section 3.2) and key size say about it.
Status CheckKeyMembers(const json& jwk, JwsAlgorithm* alg) {
  if (!jwk.is_object()) return InvalidArgument("a JWK must be a JSON object");
  const auto kty = jwk.find("kty");
  if (kty == jwk.end() || !kty->is_string()) return InvalidArgument("JWK without \"kty\"");
  if (const auto use = jwk.find("use"); use != jwk.end() && *use != "sig") {
    return InvalidArgument("JWK \"use\" is not \"sig\"");
  }
  if (*kty == "RSA") {
    *alg = JwsAlgorithm::kRs256;
  } else if (*kty == "EC") {
    // Not jwk.value("crv", ""): it throws when "crv" is there but not a string.
    const auto crv = jwk.find("crv");
    if (crv == jwk.end() || !crv->is_string() || *crv != "P-256") {
      return InvalidArgument("EC JWK on curve " +
                             (crv == jwk.end() ? std::string("(none)") : crv->dump()) +
                             ": only P-256 (ES256) is accepted");
    }
    *alg = JwsAlgorithm::kEs256;
  } else {
    return InvalidArgument("JWK of type \"" + kty->get<std::string>() +
                           "\": only RSA (RS256) and EC P-256 (ES256) keys are accepted");
  }
  if (const auto a = jwk.find("alg"); a != jwk.end()) {
    if (!a->is_string() || *a != JwsAlgorithmName(*alg)) {
      return InvalidArgument("JWK \"alg\" " + a->dump() + " does not fit its key type");
    }
  }
  return Status::Ok();
}

}  // namespace

const char* JwsAlgorithmName(JwsAlgorithm alg) {
  return alg == JwsAlgorithm::kRs256 ? "RS256" : "ES256";
}

std::string Base64UrlEncode(std::string_view bytes) {
  char* out = nullptr;
  size_t len = 0;
  cjose_err err;
  if (!cjose_base64url_encode(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &out,
                              &len, &err)) {
    return "";
  }
  std::string s(out, len);
  cjose_get_dealloc()(out);
  return s;
}

Result<std::string> Base64UrlDecode(std::string_view text) {
  for (char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return InvalidArgument("not base64url: character '" + std::string(1, c) + "'");
  }
  uint8_t* out = nullptr;
  size_t len = 0;
  cjose_err err;
  if (!cjose_base64url_decode(text.data(), text.size(), &out, &len, &err)) {
    return InvalidArgument("not base64url: " + CjoseMessage(err));
  }
  std::string s(reinterpret_cast<char*>(out), len);
  cjose_get_dealloc()(out);
  return s;
}

Result<std::string> JwkThumbprint(const json& jwk) {
  JwsAlgorithm alg;
  RETURN_IF_ERROR(CheckKeyMembers(jwk, &alg));
  // RFC 7638 section 3.2: the required members only, in lexicographic order, no whitespace.
  json members = json::object();
  const std::vector<const char*> names = alg == JwsAlgorithm::kRs256
                                             ? std::vector<const char*>{"e", "kty", "n"}
                                             : std::vector<const char*>{"crv", "kty", "x", "y"};
  for (const char* name : names) {
    const auto it = jwk.find(name);
    if (it == jwk.end() || !it->is_string())
      return InvalidArgument(std::string("JWK without \"") + name + "\"");
    members[name] = *it;
  }
  const std::string canonical = members.dump();  // nlohmann sorts object keys
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(), digest);
  return Base64UrlEncode(std::string_view(reinterpret_cast<char*>(digest), sizeof digest));
}

Result<Jwk> Jwk::Parse(const json& jwk) {
  JwsAlgorithm alg;
  RETURN_IF_ERROR(CheckKeyMembers(jwk, &alg));
  const std::string text = jwk.dump();
  cjose_err err;
  cjose_jwk_t* key = cjose_jwk_import(text.data(), text.size(), &err);
  if (key == nullptr) return InvalidArgument("JWK not usable: " + CjoseMessage(err));
  Jwk out;
  out.key_ = Own(key);
  out.alg_ = alg;
  if (alg == JwsAlgorithm::kRs256 && cjose_jwk_get_keysize(key, &err) < 2048) {
    return InvalidArgument("RSA JWK of " + std::to_string(cjose_jwk_get_keysize(key, &err)) +
                           " bits: at least 2048 are required");
  }
  out.has_private_ = jwk.contains("d");
  if (const auto kid = jwk.find("kid");
      kid != jwk.end() && kid->is_string() && !kid->get<std::string>().empty()) {
    out.kid_ = *kid;
  } else {
    ASSIGN_OR_RETURN(out.kid_, JwkThumbprint(jwk));
    if (!cjose_jwk_set_kid(key, out.kid_.data(), out.kid_.size(), &err)) {
      return Internal("cannot set kid: " + CjoseMessage(err));
    }
  }
  return out;
}

// A JOSE header, JWK or passport payload (GA4GH Passport v1.2: visas are strings in an array)
// is a few levels deep; the bound leaves room for identity providers' extra claims.
constexpr JsonLimits kJoseJsonLimits{/*max_depth=*/16, /*max_bytes=*/size_t{1} << 20};

Result<Jwk> Jwk::ParseText(std::string_view text) {
  ASSIGN_OR_RETURN(const json j, ParseJson(text, "JWK", kJoseJsonLimits));
  return Parse(j);
}

Result<Jwk> Jwk::GenerateEs256() {
  cjose_err err;
  cjose_jwk_t* key = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &err);
  if (key == nullptr) return Internal("cannot generate an EC P-256 key: " + CjoseMessage(err));
  std::shared_ptr<_cjose_jwk_int> owned = Own(key);
  char* text = cjose_jwk_to_json(key, true, &err);
  if (text == nullptr) return Internal("cannot export the new key: " + CjoseMessage(err));
  json j = json::parse(text, nullptr, false);
  cjose_get_dealloc()(text);
  return Parse(j);
}

json Jwk::PublicJson() const {
  cjose_err err;
  char* text = cjose_jwk_to_json(key_.get(), false, &err);
  json j = text ? json::parse(text, nullptr, false) : json::object();
  if (text) cjose_get_dealloc()(text);
  j["kid"] = kid_;
  j["alg"] = JwsAlgorithmName(alg_);
  j["use"] = "sig";
  return j;
}

std::string Jwk::PrivateJsonText() const {
  cjose_err err;
  char* text = cjose_jwk_to_json(key_.get(), true, &err);
  if (text == nullptr) return "";
  json j = json::parse(text, nullptr, false);
  cjose_get_dealloc()(text);
  j["kid"] = kid_;
  j["alg"] = JwsAlgorithmName(alg_);
  j["use"] = "sig";
  return j.dump(2) + "\n";
}

Result<JwsParts> DecodeJws(std::string_view token, size_t max_bytes) {
  if (token.size() > max_bytes) {
    return InvalidArgument("token of " + std::to_string(token.size()) +
                           " bytes is over the limit of " + std::to_string(max_bytes));
  }
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return InvalidArgument("not a compact JWS (three base64url parts separated by '.')");
  }
  JwsParts parts;
  Result<std::string> header = Base64UrlDecode(token.substr(0, dot1));
  if (!header.ok()) return header.status().WithContext("JWS header");
  Result<json> header_json = ParseJson(*header, "JWS header", kJoseJsonLimits);
  if (!header_json.ok()) {
    return InvalidArgument("JWS header is not a JSON object (" + header_json.status().message() +
                           ")");
  }
  parts.header = std::move(*header_json);
  if (!parts.header.is_object()) return InvalidArgument("JWS header is not a JSON object");
  Result<std::string> payload = Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload.ok()) return payload.status().WithContext("JWS payload");
  Result<json> payload_json = ParseJson(*payload, "JWS payload", kJoseJsonLimits);
  if (!payload_json.ok()) {
    return InvalidArgument("JWS payload is not a JSON object (" + payload_json.status().message() +
                           ")");
  }
  parts.payload = std::move(*payload_json);
  if (!parts.payload.is_object()) return InvalidArgument("JWS payload is not a JSON object");
  Result<std::string> signature = Base64UrlDecode(token.substr(dot2 + 1));
  if (!signature.ok()) return signature.status().WithContext("JWS signature");
  const auto alg = parts.header.find("alg");
  if (alg == parts.header.end() || !alg->is_string())
    return InvalidArgument("JWS header without \"alg\"");
  parts.alg = *alg;
  if (const auto kid = parts.header.find("kid"); kid != parts.header.end()) {
    if (!kid->is_string()) return InvalidArgument("JWS header \"kid\" is not a string");
    parts.kid = *kid;
  }
  if (parts.header.contains("crit")) {
    // RFC 7515 section 4.1.11: extensions we do not understand must make the JWS invalid.
    return InvalidArgument(
        "JWS header lists critical extensions (\"crit\"), none of which are supported");
  }
  return parts;
}

Status VerifyJws(std::string_view token, const Jwk& key) {
  // No size limit here: callers bound their tokens (a passport may be larger than
  // DecodeJws's default, which fits one visa).
  ASSIGN_OR_RETURN(JwsParts parts, DecodeJws(token, std::numeric_limits<size_t>::max()));
  if (parts.alg != "RS256" && parts.alg != "ES256") {
    return Unauthenticated("signature algorithm \"" + parts.alg +
                           "\" is refused (only RS256 and ES256)");
  }
  if (parts.alg != JwsAlgorithmName(key.algorithm())) {
    return Unauthenticated("signature algorithm " + parts.alg + " does not fit key \"" + key.kid() +
                           "\" (" + JwsAlgorithmName(key.algorithm()) + ")");
  }
  cjose_err err;
  JwsPtr jws(cjose_jws_import(token.data(), token.size(), &err));
  if (!jws) return Unauthenticated("malformed JWS: " + CjoseMessage(err));
  if (!cjose_jws_verify(jws.get(), key.get(), &err)) {
    return Unauthenticated("signature does not verify with key \"" + key.kid() + "\"");
  }
  return Status::Ok();
}

Result<std::string> SignJws(const Jwk& key, std::string_view payload, std::string_view typ) {
  if (!key.has_private())
    return FailedPrecondition("key \"" + key.kid() + "\" has no private part");
  cjose_err err;
  HeaderPtr header(cjose_header_new(&err));
  if (!header) return Internal("cjose: " + CjoseMessage(err));
  const std::string typ_text(typ);
  if (!cjose_header_set(header.get(), CJOSE_HDR_ALG, JwsAlgorithmName(key.algorithm()), &err) ||
      !cjose_header_set(header.get(), "typ", typ_text.c_str(), &err) ||
      !cjose_header_set(header.get(), CJOSE_HDR_KID, key.kid().c_str(), &err)) {
    return Internal("cjose: " + CjoseMessage(err));
  }
  JwsPtr jws(cjose_jws_sign(key.get(), header.get(),
                            reinterpret_cast<const uint8_t*>(payload.data()), payload.size(),
                            &err));
  if (!jws) return Internal("cannot sign: " + CjoseMessage(err));
  const char* compact = nullptr;
  if (!cjose_jws_export(jws.get(), &compact, &err))
    return Internal("cannot export JWS: " + CjoseMessage(err));
  return std::string(compact);
}

}  // namespace oncomesh::auth
