// GA4GH Passports and their visas, as a node's PassportVerifier checks bearer tokens. The
// fuzzer cannot forge signatures, so most of what follows the signature check is reached by
// signing what it writes with a key the verifier trusts. The first byte picks the form:
//   0: the rest is a bearer token, verified as it is;
//   1: the rest is a passport's claims (JSON text), signed by the trusted broker;
//   2: the rest is a visa's claims, signed by the trusted broker and carried, with a valid
//      ResearcherStatus visa, in a valid passport;
//   3: the rest is the ga4gh_visa_v1 object of an otherwise valid visa in a valid passport.
// Each verified passport must name its issuer and subject.
#include <nlohmann/json.hpp>

#include "auth/issuer_keys.h"
#include "auth/jose.h"
#include "auth/passport.h"
#include "fuzz_support.h"

namespace {

using namespace oncomesh;
using nlohmann::json;

constexpr int64_t kNow = 1'800'000'000;
constexpr const char* kBroker = "https://broker.fuzz.test";
constexpr const char* kBonaFide = "https://doi.org/10.1038/s41431-018-0219-y";

struct Fixture {
  auth::Jwk key;
  std::unique_ptr<auth::PassportVerifier> verifier;
};

const Fixture& TheFixture() {
  static const Fixture* const fixture = [] {
    auto* f = new Fixture();
    Result<auth::Jwk> key = auth::Jwk::GenerateEs256();
    if (!key.ok()) fuzz::Fail("GenerateEs256: " + key.status().ToString());
    f->key = *key;
    auth::AccessConfig config;
    config.trusted_issuers = {
        {kBroker,
         "",
         "",
         true,
         {"ResearcherStatus", "AffiliationAndRole", "AcceptedTermsAndPolicies", "LinkedIdentities",
          "ControlledAccessGrants"}}};
    config.audiences = {"https://node.fuzz.test"};
    auto keys = std::make_shared<auth::IssuerKeys>(
        config.trusted_issuers, "",
        [](const std::string& url) -> Result<std::string> {
          return Unavailable("no network: " + url);
        },
        [] { return kNow; });
    keys->AddKeys(kBroker, {f->key});
    auth::PassportVerifier::Limits limits;
    limits.cache_entries = 64;  // distinct tokens every run: a large cache only costs memory
    f->verifier = std::make_unique<auth::PassportVerifier>(
        config, keys, [] { return kNow; }, limits);
    return f;
  }();
  return *fixture;
}

std::string Sign(std::string_view payload) {
  Result<std::string> token = auth::SignJws(TheFixture().key, payload);
  if (!token.ok()) fuzz::Fail("SignJws: " + token.status().ToString());
  return *token;
}

json VisaClaims(json visa_object) {
  return {{"iss", kBroker},     {"sub", "researcher-1"}, {"iat", kNow - 60},
          {"exp", kNow + 3600}, {"jti", "visa-1"},       {"ga4gh_visa_v1", std::move(visa_object)}};
}

std::string PassportWith(const std::string& visa) {
  const json researcher = VisaClaims({{"type", "ResearcherStatus"},
                                      {"asserted", kNow - 86400},
                                      {"value", kBonaFide},
                                      {"source", "https://source.fuzz.test"},
                                      {"by", "so"}});
  const json claims = {
      {"iss", kBroker},      {"sub", "researcher-1"},
      {"iat", kNow - 60},    {"exp", kNow + 3600},
      {"jti", "passport-1"}, {"ga4gh_passport_v1", {Sign(researcher.dump()), visa}}};
  return Sign(claims.dump());
}

}  // namespace

ONCOMESH_FUZZ_INITIALIZE { TheFixture(); }

ONCOMESH_FUZZ_TARGET(passport) {
  if (size == 0) return 0;
  const Fixture& f = TheFixture();
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string token;
  switch (data[0] % 4) {
    case 0:
      token = rest;
      break;
    case 1:
      token = Sign(rest);
      break;
    case 2:
      token = PassportWith(Sign(rest));
      break;
    default: {
      json object = json::parse(rest, nullptr, /*allow_exceptions=*/false);
      if (object.is_discarded()) return 0;
      token = PassportWith(
          Sign(VisaClaims(std::move(object)).dump(-1, ' ', false, json::error_handler_t::replace)));
    }
  }
  Result<std::shared_ptr<const auth::Passport>> passport = f.verifier->Verify(token);
  fuzz::CheckRefusal(passport.status(), "PassportVerifier::Verify");
  if (passport.ok() && ((*passport)->issuer != kBroker || (*passport)->subject.empty())) {
    fuzz::Fail("a verified passport without its issuer or subject");
  }
  if (passport.ok()) {
    for (const auth::VisaRefusal& r : (*passport)->refused) {
      if (r.reason.empty()) fuzz::Fail("a visa refused without a reason");
    }
  }
  return 0;
}
