// For tests: a Passport Broker and Visa Issuer with a key made at test time (OpenSSL, through
// support/openssl_signer.h — not the node's own JOSE code), whose JWKS a node is configured to
// trust from a file. Mints passports and visas with chosen claims, including wrong ones.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/openssl_signer.h"

namespace oncomesh::testing {

inline constexpr const char* kBonaFide = "https://doi.org/10.1038/s41431-018-0219-y";

class TestBroker {
 public:
  explicit TestBroker(std::string issuer = "https://broker.oncomesh.test",
                      const std::string& alg = "ES256");

  const std::string& issuer() const { return issuer_; }
  const std::string& kid() const { return kid_; }
  nlohmann::json Jwks() const;
  // Writes the JWKS to `path`; aborts the test binary on failure.
  void WriteJwks(const std::string& path) const;
  // node.yaml `access:` block trusting this broker through `jwks_path` for every standard visa
  // type (grants included when `grants`), with `extra` YAML lines appended under access.
  std::string AccessYaml(const std::string& jwks_path, bool grants = true,
                         const std::string& extra = "") const;

  struct VisaSpec {
    std::string type = "ResearcherStatus";
    std::string value = kBonaFide;
    std::string source = "https://broker.oncomesh.test";
    std::string by = "system";
    std::string subject = "researcher-1";
    int64_t asserted_ago = 86400;
    int64_t expires_in = 3600;
    nlohmann::json conditions;  // null: none
    std::string issuer;         // "" -> the broker's
  };
  std::string Visa(const VisaSpec& spec) const;
  std::string Passport(const std::vector<std::string>& visas,
                       const std::string& subject = "researcher-1",
                       const nlohmann::json& extra_claims = nlohmann::json::object(),
                       int64_t expires_in = 3600) const;

  // A passport with a bona fide ResearcherStatus visa: registered access.
  std::string Registered(const std::string& subject = "researcher-1") const;
  // Registered, plus a ControlledAccessGrants visa for `grant_value`.
  std::string Permitted(const std::string& grant_value,
                        const std::string& subject = "researcher-1") const;

  // Signs arbitrary claims with the broker's key (and header), for malformed-token tests.
  std::string SignRaw(const nlohmann::json& header, const nlohmann::json& claims) const;

 private:
  std::string issuer_;
  std::string alg_;
  std::string kid_;
  OpenSslKey key_;
};

int64_t UnixNow();

}  // namespace oncomesh::testing
