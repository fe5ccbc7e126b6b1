// GA4GH Passports and their visas (GA4GH Passport v1.2; AAI OpenID Connect Profile v1.2), as a
// Passport Clearinghouse checks them.
//
// A passport is a JWT (the bearer token) whose `ga4gh_passport_v1` claim lists visas, each a
// JWT of its own (Visa Document Token format) with a `ga4gh_visa_v1` object. Checked here:
//  - signatures, RS256 or ES256 only (auth/jose.h), against the keys of issuers the node
//    trusts (auth/issuer_keys.h): the passport's issuer must be trusted to sign passports, each
//    visa's issuer to assert that visa type;
//  - exp and iat required, nbf when present, all within the configured clock skew; aud when
//    present must name one of the node's audiences;
//  - the visa object: type, asserted (not in the future), value, source required; by required
//    for ControlledAccessGrants and AcceptedTermsAndPolicies (Passport v1.2, "Visa Types");
//  - whose the visa is: its {sub, iss} is the passport's user when its sub equals the
//    passport's sub, or when a trusted LinkedIdentities visa of the user without conditions
//    links it (chains are followed);
//  - conditions (disjunctive normal form of clauses, const:/pattern:/split_pattern:) are met by
//    other accepted visas without conditions.
// A passport that fails its own checks is refused (Unauthenticated, naming why). A visa that
// fails is left out and listed with its reason in Passport::refused, so a caller can be told
// why a grant did not count. Visa Access Tokens (visas held at a /userinfo endpoint) and
// unknown custom visa types are ignored, as the specification requires of clearinghouses that
// do not support them.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/access_config.h"
#include "auth/issuer_keys.h"
#include "util/status.h"

namespace oncomesh::auth {

// The ga4gh_visa_v1 object of a visa.
struct VisaObject {
  std::string type;  // "ResearcherStatus", "ControlledAccessGrants"…
  int64_t asserted = 0;
  std::string value;
  std::string source;
  std::string by;             // "" when absent ("unknown" authority)
  nlohmann::json conditions;  // null when absent
};

struct Visa {
  std::string issuer;   // iss
  std::string subject;  // sub
  std::string jwt_id;   // jti ("" when absent)
  int64_t issued_at = 0;
  int64_t expires = 0;
  VisaObject object;
};

struct VisaRefusal {
  size_t index = 0;  // position in ga4gh_passport_v1
  std::string type;  // the visa type when it could be read, else ""
  std::string reason;
};

struct Passport {
  std::string issuer;
  std::string subject;
  int64_t expires = 0;
  std::vector<Visa> visas;  // accepted, conditions met
  std::vector<VisaRefusal> refused;

  // "sub @ iss", for logs and the audit trail.
  std::string Identity() const { return subject + " @ " + issuer; }
  // Why visas of a type did not count, joined ("" when none was refused).
  std::string RefusalsOf(std::string_view type) const;
};

// Full-string pattern matching of Passport v1.2 "Pattern Matching": '?' any one character, '*'
// any run (also empty); no escapes.
bool VisaPatternMatches(std::string_view pattern, std::string_view text);

class PassportVerifier {
 public:
  struct Limits {
    size_t max_passport_bytes = 48 * 1024;  // under the HTTP server's 64 KB header limit
    size_t max_visa_bytes = 16 * 1024;
    size_t max_visas = 200;
    size_t cache_entries = 10000;
    int64_t cache_seconds = 300;  // a verified passport is reused this long at most
  };
  PassportVerifier(AccessConfig config, std::shared_ptr<IssuerKeys> keys, Clock clock,
                   Limits limits);
  PassportVerifier(AccessConfig config, std::shared_ptr<IssuerKeys> keys, Clock clock)
      : PassportVerifier(std::move(config), std::move(keys), std::move(clock), Limits()) {}

  // Verifies a passport JWT. Unauthenticated naming what is wrong (forged, expired, not yet
  // valid, wrong audience, untrusted issuer, malformed, oversized); Unavailable when a trusted
  // issuer's keys cannot be fetched. A verified passport is cached by the SHA-256 of the token
  // until the earliest expiry among it and its visas (or cache_seconds), so a repeated bearer
  // token costs a hash and a lookup. Thread-safe.
  Result<std::shared_ptr<const Passport>> Verify(std::string_view token) const;

  const AccessConfig& config() const { return config_; }

 private:
  Result<std::shared_ptr<const Passport>> VerifyUncached(std::string_view token) const;
  Status CheckTimes(const nlohmann::json& claims, int64_t now, const char* what) const;
  Result<nlohmann::json> VerifiedClaims(std::string_view token, size_t max_bytes,
                                        const char* what) const;
  const TrustedIssuerConfig* Trusted(const std::string& issuer) const;

  AccessConfig config_;
  std::shared_ptr<IssuerKeys> keys_;
  Clock clock_;
  Limits limits_;
  struct Cached {
    std::shared_ptr<const Passport> passport;
    int64_t valid_until = 0;
  };
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, Cached>
      cache_;  // guarded by mu_; key: SHA-256 of the token
};

}  // namespace oncomesh::auth
