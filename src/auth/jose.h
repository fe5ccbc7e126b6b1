// JSON Web Keys (RFC 7517) and compact JSON Web Signatures (RFC 7515), over cjose (the JOSE
// library of mod_auth_openidc, Debian's libcjose).
//
// Only the two algorithms GA4GH AAI requires of passport and visa issuers are accepted:
// RS256 (RSA PKCS#1 v1.5 with SHA-256, keys of at least 2048 bits) and ES256 (ECDSA on P-256
// with SHA-256). `alg: none`, HMAC algorithms and everything else are refused before any key
// is touched, and a key only verifies the algorithm of its type (an RSA key never checks an
// ES256 or HS256 signature): the algorithm-confusion attacks on JWT libraries need one or the
// other.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "util/status.h"

struct _cjose_jwk_int;

namespace oncomesh::auth {

enum class JwsAlgorithm { kRs256, kEs256 };
const char* JwsAlgorithmName(JwsAlgorithm alg);

// One key: public, or private with its public part. Cheap to copy (shared, immutable).
class Jwk {
 public:
  // Parses one JWK object (RFC 7517 section 4). Only RSA (>= 2048 bits) and EC P-256 keys are
  // accepted; InvalidArgument naming what is wrong otherwise. A missing "kid" is set to the
  // RFC 7638 thumbprint.
  static Result<Jwk> Parse(const nlohmann::json& jwk);
  static Result<Jwk> ParseText(std::string_view text);
  // A new random EC P-256 key (for ES256), kid = its RFC 7638 thumbprint.
  static Result<Jwk> GenerateEs256();

  const std::string& kid() const { return kid_; }
  JwsAlgorithm algorithm() const { return alg_; }
  bool has_private() const { return has_private_; }
  // The public key as a JWK object, with "kid", "alg" and "use": "sig".
  nlohmann::json PublicJson() const;
  // The whole key, private part included (for the key file only).
  std::string PrivateJsonText() const;

  const _cjose_jwk_int* get() const { return key_.get(); }

 private:
  std::shared_ptr<_cjose_jwk_int> key_;
  std::string kid_;
  JwsAlgorithm alg_ = JwsAlgorithm::kEs256;
  bool has_private_ = false;
};

// RFC 7638 JWK thumbprint (SHA-256, base64url) of a public key's required members.
Result<std::string> JwkThumbprint(const nlohmann::json& jwk);

// A compact JWS split and decoded, not verified: what is needed to pick the key.
struct JwsParts {
  nlohmann::json header;   // the protected header
  nlohmann::json payload;  // the payload, parsed as JSON (JWT claims)
  std::string alg;         // header "alg"
  std::string kid;         // header "kid" ("" when absent)
};

// Splits "header.payload.signature" and decodes the header and payload (both must be JSON
// objects). InvalidArgument naming the part otherwise. Refuses tokens over `max_bytes`.
Result<JwsParts> DecodeJws(std::string_view token, size_t max_bytes = 16 * 1024);

// Verifies the signature of `token` with `key`: Unauthenticated when the header's algorithm is
// not RS256/ES256, does not belong to the key's type, or the signature does not verify;
// InvalidArgument when it is not a compact JWS. Imposes no size limit (bound tokens first).
Status VerifyJws(std::string_view token, const Jwk& key);

// Signs `payload` (JSON text) as a compact JWS with the key's algorithm; header
// {"alg", "typ", "kid"}. The key must hold its private part.
Result<std::string> SignJws(const Jwk& key, std::string_view payload, std::string_view typ = "JWT");

// base64url without padding (RFC 7515 section 2).
std::string Base64UrlEncode(std::string_view bytes);
Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace oncomesh::auth
