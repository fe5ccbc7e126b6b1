// What a node's operators configure about access (node.yaml `access:`): the issuers it trusts
// and what a passport must hold for each access level. Plain data; node/ parses it from YAML,
// auth/ acts on it.
#pragma once

#include <string>
#include <vector>

namespace oncomesh::auth {

// access.trusted_issuers[]: an identity provider, broker or visa issuer whose signatures the node
// accepts (GA4GH Passport: Passport Clearinghouse policy).
struct TrustedIssuerConfig {
  std::string issuer;  // the "iss" of its tokens, exactly
  std::string
      jwks_uri;  // https URL of its keys; "" -> from <issuer>/.well-known/openid-configuration
  std::string jwks_file;  // its keys from a file instead (offline); relative to the node directory
  bool passports = true;  // may sign passports (it is a Passport Broker)
  // Visa types it is trusted to assert. ControlledAccessGrants only when listed.
  std::vector<std::string> visa_types = {"ResearcherStatus", "AffiliationAndRole",
                                         "AcceptedTermsAndPolicies", "LinkedIdentities"};
};

// access: who the node believes, and what a passport must hold for each access level.
struct AccessConfig {
  // The node's own issuer name: the "iss" of the visas it signs for permits and the prefix of
  // its datasets' grant values. "" -> "urn:oncomesh:node:<name>". Set it to the node's public
  // https URL so others can fetch its keys from /.well-known/jwks.json.
  std::string issuer;
  std::vector<TrustedIssuerConfig> trusted_issuers;
  // Accepted "aud" values; a token that names an audience must name one of these.
  std::vector<std::string> audiences;
  int clock_skew_seconds = 60;  // tolerance on exp, iat, nbf
  std::string ca_file;          // extra trusted CAs (PEM) for fetching issuers' keys
  // Registered access (GA4GH Passport: Registered Access): a ResearcherStatus visa with one of
  // these values, and an AcceptedTermsAndPolicies visa with each of `accepted_terms`.
  std::vector<std::string> researcher_status = {"https://doi.org/10.1038/s41431-018-0219-y"};
  std::vector<std::string> accepted_terms;
};

}  // namespace oncomesh::auth
