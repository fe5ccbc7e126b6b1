#include "support/test_broker.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace oncomesh::testing {

using nlohmann::json;

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TestBroker::TestBroker(std::string issuer, const std::string& alg)
    : issuer_(std::move(issuer)), alg_(alg), kid_("test-" + alg), key_(OpenSslKey::Generate(alg)) {}

json TestBroker::Jwks() const { return {{"keys", json::array({key_.PublicJwk(kid_)})}}; }

void TestBroker::WriteJwks(const std::string& path) const {
  std::ofstream out(path);
  out << Jwks().dump(2);
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::abort();
  }
}

std::string TestBroker::AccessYaml(const std::string& jwks_path, bool grants,
                                   const std::string& extra) const {
  std::string yaml =
      "access:\n  trusted_issuers:\n    - issuer: " + issuer_ + "\n      jwks_file: " + jwks_path +
      "\n      visa_types: [ResearcherStatus, AffiliationAndRole, AcceptedTermsAndPolicies, "
      "LinkedIdentities" +
      std::string(grants ? ", ControlledAccessGrants" : "") + "]\n";
  return yaml + extra;
}

std::string TestBroker::SignRaw(const json& header, const json& claims) const {
  return key_.SignClaims(header, claims);
}

std::string TestBroker::Visa(const VisaSpec& spec) const {
  const int64_t now = UnixNow();
  json object = {{"type", spec.type},
                 {"asserted", now - spec.asserted_ago},
                 {"value", spec.value},
                 {"source", spec.source}};
  if (!spec.by.empty()) object["by"] = spec.by;
  if (!spec.conditions.is_null()) object["conditions"] = spec.conditions;
  json claims = {{"iss", spec.issuer.empty() ? issuer_ : spec.issuer},
                 {"sub", spec.subject},
                 {"iat", now - 60},
                 {"exp", now + spec.expires_in},
                 {"jti", "visa-" + std::to_string(now) + "-" + spec.type},
                 {"ga4gh_visa_v1", object}};
  return key_.SignClaims({{"alg", alg_}, {"typ", "JWT"}, {"kid", kid_}}, claims);
}

std::string TestBroker::Passport(const std::vector<std::string>& visas, const std::string& subject,
                                 const json& extra_claims, int64_t expires_in) const {
  const int64_t now = UnixNow();
  json claims = {{"iss", issuer_},
                 {"sub", subject},
                 {"iat", now - 60},
                 {"exp", now + expires_in},
                 {"jti", "passport-" + std::to_string(now)},
                 {"ga4gh_passport_v1", visas}};
  for (const auto& [k, v] : extra_claims.items()) claims[k] = v;
  return key_.SignClaims({{"alg", alg_}, {"typ", "vnd.ga4gh.passport+jwt"}, {"kid", kid_}}, claims);
}

std::string TestBroker::Registered(const std::string& subject) const {
  VisaSpec status;
  status.subject = subject;
  return Passport({Visa(status)}, subject);
}

std::string TestBroker::Permitted(const std::string& grant_value,
                                  const std::string& subject) const {
  VisaSpec status;
  status.subject = subject;
  VisaSpec grant;
  grant.type = "ControlledAccessGrants";
  grant.value = grant_value;
  grant.by = "dac";
  grant.subject = subject;
  return Passport({Visa(status), Visa(grant)}, subject);
}

}  // namespace oncomesh::testing
