// For tests: keys made with OpenSSL at test time and JWTs signed with them by OpenSSL's EVP
// API directly — a signer independent of auth/jose.h (which uses cjose), so the verifier is
// not only checked against our own signing code.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

struct evp_pkey_st;

namespace oncomesh::testing {

class OpenSslKey {
 public:
  // A new key: "RS256" (RSA, `bits` bits) or "ES256" (EC P-256). Aborts on failure.
  static OpenSslKey Generate(const std::string& alg, int bits = 2048);

  // The public key as a JWK with the given kid.
  nlohmann::json PublicJwk(const std::string& kid) const;
  // A compact JWS of `payload` (JSON text) under `header`, signed with this key's algorithm
  // (the header is taken as given, so tests can lie in it).
  std::string Sign(const nlohmann::json& header, const std::string& payload) const;
  std::string SignClaims(const nlohmann::json& header, const nlohmann::json& claims) const {
    return Sign(header, claims.dump());
  }

  // Verifies a compact ES256/RS256 JWS with a public JWK through OpenSSL alone.
  static bool VerifyWithJwk(const std::string& token, const nlohmann::json& jwk);

 private:
  std::shared_ptr<evp_pkey_st> key_;
  std::string alg_;
};

}  // namespace oncomesh::testing
