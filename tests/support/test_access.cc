#include "support/test_access.h"

#include <strings.h>

#include <cstdlib>

#include "auth/issuer_keys.h"
#include "auth/passport.h"

namespace oncomesh::testing {

api::CallerFn BrokerCallerFn(const TestBroker& broker, const std::string& grant_value,
                             const std::string& dataset_id) {
  auth::AccessConfig config;
  config.trusted_issuers.push_back(
      {broker.issuer(),
       "",
       "",
       true,
       {"ResearcherStatus", "AffiliationAndRole", "AcceptedTermsAndPolicies", "LinkedIdentities",
        "ControlledAccessGrants"}});
  auto keys = std::make_shared<auth::IssuerKeys>(
      config.trusted_issuers, "",
      [](const std::string& url) -> Result<std::string> { return Unavailable("offline: " + url); },
      auth::SystemClock());
  Result<std::vector<auth::Jwk>> jwks = auth::ParseJwks(broker.Jwks().dump());
  if (!jwks.ok()) std::abort();
  keys->AddKeys(broker.issuer(), *jwks);
  auto verifier = std::make_shared<auth::PassportVerifier>(config, keys, auth::SystemClock());
  auto policy = std::make_shared<auth::AccessPolicy>(
      config, "urn:oncomesh:node:test",
      std::vector<auth::DatasetGrants>{{dataset_id, {grant_value}}}, nullptr);
  return [verifier, policy](const http::Request& r) -> Result<auth::Caller> {
    const std::string* h = r.Header("authorization");
    if (h == nullptr) return policy->Evaluate(nullptr, auth::SystemClock()());
    if (h->size() < 8 || strncasecmp(h->c_str(), "Bearer ", 7) != 0)
      return Unauthenticated("not a bearer token");
    ASSIGN_OR_RETURN(auto passport, verifier->Verify(std::string_view(*h).substr(7)));
    return policy->Evaluate(passport, auth::SystemClock()());
  };
}

}  // namespace oncomesh::testing

#include <fstream>
#include <sstream>

#include "node/node_dir.h"

namespace oncomesh::testing {

void TrustBroker(const std::string& node_dir, const TestBroker& broker,
                 const std::string& grant_value) {
  std::ifstream in(node_dir + "/node.yaml");
  std::stringstream text;
  text << in.rdbuf();
  Result<node::NodeConfig> config = node::ParseNodeConfig(text.str(), node_dir + "/node.yaml");
  if (!config.ok()) {
    std::fprintf(stderr, "TrustBroker: %s\n", config.status().ToString().c_str());
    std::abort();
  }
  broker.WriteJwks(node_dir + "/broker.jwks.json");
  config->access.trusted_issuers.push_back(
      {broker.issuer(),
       "",
       "broker.jwks.json",
       true,
       {"ResearcherStatus", "AffiliationAndRole", "AcceptedTermsAndPolicies", "LinkedIdentities",
        "ControlledAccessGrants"}});
  config->datasets.at(0).grant_values = {grant_value};
  std::ofstream(node_dir + "/node.yaml") << node::NodeConfigToYaml(*config);
}

}  // namespace oncomesh::testing

namespace oncomesh::testing {

const TestBroker& SharedBroker() {
  static const TestBroker broker("https://shared-broker.oncomesh.test");
  return broker;
}

std::vector<std::pair<std::string, std::string>> AsRegistered() {
  static const std::string passport = SharedBroker().Registered();
  return {{"Authorization", "Bearer " + passport}};
}

std::vector<std::pair<std::string, std::string>> AsPermitted() {
  static const std::string passport = SharedBroker().Permitted(kSharedGrant);
  return {{"Authorization", "Bearer " + passport}};
}

}  // namespace oncomesh::testing
