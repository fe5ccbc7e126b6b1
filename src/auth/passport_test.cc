// PassportVerifier (GA4GH Passport v1.2, AAI OpenID Connect Profile v1.2) against tokens signed
// here with keys made at test time by OpenSSL directly (support/openssl_signer.h, independent of
// the cjose code under test), on a fake clock.
#include "auth/passport.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "auth/jose.h"
#include "support/openssl_signer.h"
#include "support/test_broker.h"

namespace oncomesh::auth {
namespace {

using nlohmann::json;
using oncomesh::testing::OpenSslKey;

constexpr int64_t kNow = 1'800'000'000;  // the fake clock's start
constexpr int64_t kSkew = 60;
const char* const kBonaFide = oncomesh::testing::kBonaFide;
const char* const kBroker = "https://broker.test";
const char* const kRsaBroker = "https://rsa-broker.test";
const char* const kVisaIssuer = "https://visas.test";       // visas only, grants included
const char* const kLimitedIssuer = "https://limited.test";  // visas only, no grants
const char* const kOddIssuer = "https://odd.test/a,b;c";    // ',' and ';' in its name
const char* const kUntrusted = "https://evil.test";

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// An issuer with an OpenSSL key; signs claims under a header it is told (tests lie in it).
struct Signer {
  Signer(std::string iss, std::string alg_name)
      : issuer(std::move(iss)),
        alg(std::move(alg_name)),
        kid("kid-" + alg),
        key(OpenSslKey::Generate(alg)) {}
  std::string Sign(const json& claims, json header = json::object()) const {
    json h = {{"alg", alg}, {"typ", "JWT"}, {"kid", kid}};
    for (const auto& [k, v] : header.items()) {
      if (v.is_null()) {
        h.erase(k);
      } else {
        h[k] = v;
      }
    }
    return key.SignClaims(h, claims);
  }
  std::vector<Jwk> Keys() const {
    Result<Jwk> jwk = Jwk::Parse(key.PublicJwk(kid));
    EXPECT_TRUE(jwk.ok()) << jwk.status().ToString();
    return {*jwk};
  }
  std::string issuer, alg, kid;
  OpenSslKey key;
};

// Visa claims (Visa Document Token format) about `sub`, issued by `iss`, on the fake clock.
json VisaClaims(const std::string& iss, const std::string& type, const std::string& value,
                const std::string& by = "system", const std::string& sub = "researcher-1") {
  json object = {{"type", type},
                 {"asserted", kNow - 86400},
                 {"value", value},
                 {"source", "https://source.test"}};
  if (!by.empty()) object["by"] = by;
  return {{"iss", iss},         {"sub", sub},         {"iat", kNow - 60},
          {"exp", kNow + 3600}, {"jti", "v-" + type}, {"ga4gh_visa_v1", object}};
}

json PassportClaims(const std::string& iss, const std::vector<std::string>& visas,
                    const std::string& sub = "researcher-1") {
  return {{"iss", iss},         {"sub", sub},   {"iat", kNow - 60},
          {"exp", kNow + 3600}, {"jti", "p-1"}, {"ga4gh_passport_v1", visas}};
}

class PassportTest : public ::testing::Test {
 protected:
  PassportTest()
      : now_(std::make_shared<std::atomic<int64_t>>(kNow)),
        broker_(kBroker, "ES256"),
        rsa_broker_(kRsaBroker, "RS256"),
        visa_issuer_(kVisaIssuer, "ES256"),
        limited_(kLimitedIssuer, "RS256"),
        odd_(kOddIssuer, "ES256"),
        untrusted_(kUntrusted, "ES256") {
    const std::vector<std::string> all = {"ResearcherStatus", "AffiliationAndRole",
                                          "AcceptedTermsAndPolicies", "LinkedIdentities",
                                          "ControlledAccessGrants"};
    config_.trusted_issuers = {
        {kBroker, "", "", true, all},
        {kRsaBroker, "", "", true, all},
        {kVisaIssuer, "", "", false, all},
        {kLimitedIssuer, "", "", false, TrustedIssuerConfig().visa_types},
        {kOddIssuer, "", "", false, all},
    };
    config_.clock_skew_seconds = kSkew;
  }

  Clock FakeClock() const {
    auto now = now_;
    return [now] { return now->load(); };
  }

  // A verifier over config_ whose issuers' keys are fixed (AddKeys), as a node's own key is.
  std::unique_ptr<PassportVerifier> Verifier(
      PassportVerifier::Limits limits = PassportVerifier::Limits()) {
    keys_ = std::make_shared<IssuerKeys>(
        config_.trusted_issuers, "",
        [](const std::string& url) -> Result<std::string> {
          return Unavailable("offline: " + url);
        },
        FakeClock());
    for (const Signer* s : {&broker_, &rsa_broker_, &visa_issuer_, &limited_, &odd_})
      keys_->AddKeys(s->issuer, s->Keys());
    return std::make_unique<PassportVerifier>(config_, keys_, FakeClock(), limits);
  }

  // A passport of the broker holding a bona fide ResearcherStatus visa and `more`.
  std::string WithStatus(std::vector<std::string> more,
                         const std::string& sub = "researcher-1") const {
    more.insert(more.begin(),
                broker_.Sign(VisaClaims(kBroker, "ResearcherStatus", kBonaFide, "so", sub)));
    return broker_.Sign(PassportClaims(kBroker, more, sub));
  }

  std::shared_ptr<std::atomic<int64_t>> now_;
  AccessConfig config_;
  std::shared_ptr<IssuerKeys> keys_;
  Signer broker_, rsa_broker_, visa_issuer_, limited_, odd_, untrusted_;
};

std::vector<std::string> Types(const Passport& p) {
  std::vector<std::string> out;
  for (const Visa& v : p.visas) out.push_back(v.object.type);
  return out;
}

TEST_F(PassportTest, VerifiesEs256AndRs256Passports) {
  auto verifier = Verifier();
  for (const Signer* s : {&broker_, &rsa_broker_}) {
    SCOPED_TRACE(s->alg);
    const std::string token = s->Sign(PassportClaims(
        s->issuer, {s->Sign(VisaClaims(s->issuer, "ResearcherStatus", kBonaFide, "so")),
                    visa_issuer_.Sign(VisaClaims(kVisaIssuer, "ControlledAccessGrants",
                                                 "https://ega.test/D1", "dac"))}));
    Result<std::shared_ptr<const Passport>> p = verifier->Verify(token);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ((*p)->issuer, s->issuer);
    EXPECT_EQ((*p)->subject, "researcher-1");
    EXPECT_EQ((*p)->Identity(), "researcher-1 @ " + s->issuer);
    EXPECT_EQ((*p)->expires, kNow + 3600);
    ASSERT_EQ(Types(**p), (std::vector<std::string>{"ResearcherStatus", "ControlledAccessGrants"}));
    EXPECT_TRUE((*p)->refused.empty()) << (*p)->refused[0].reason;
    const Visa& grant = (*p)->visas[1];
    EXPECT_EQ(grant.issuer, kVisaIssuer);
    EXPECT_EQ(grant.subject, "researcher-1");
    EXPECT_EQ(grant.jwt_id, "v-ControlledAccessGrants");
    EXPECT_EQ(grant.issued_at, kNow - 60);
    EXPECT_EQ(grant.expires, kNow + 3600);
    EXPECT_EQ(grant.object.value, "https://ega.test/D1");
    EXPECT_EQ(grant.object.by, "dac");
    EXPECT_EQ(grant.object.source, "https://source.test");
    EXPECT_EQ(grant.object.asserted, kNow - 86400);
    EXPECT_TRUE(grant.object.conditions.is_null());
  }
}

TEST_F(PassportTest, VerifiesTheTestBrokersPassportsOnTheSystemClock) {
  // The helper other tests rely on (support/test_broker.h), both algorithms, real time.
  for (const char* alg : {"ES256", "RS256"}) {
    SCOPED_TRACE(alg);
    oncomesh::testing::TestBroker broker("https://test-broker.test", alg);
    AccessConfig config;
    config.trusted_issuers.push_back(
        {broker.issuer(),
         "",
         "",
         true,
         {"ResearcherStatus", "ControlledAccessGrants", "LinkedIdentities"}});
    auto keys = std::make_shared<IssuerKeys>(config.trusted_issuers, "", nullptr, SystemClock());
    keys->AddKeys(broker.issuer(), *ParseJwks(broker.Jwks().dump()));
    PassportVerifier verifier(config, keys, SystemClock());
    Result<std::shared_ptr<const Passport>> p =
        verifier.Verify(broker.Permitted("https://ega.test/D1"));
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(Types(**p), (std::vector<std::string>{"ResearcherStatus", "ControlledAccessGrants"}));
  }
}

TEST_F(PassportTest, RefusesForgedAndAlgorithmConfusedSignatures) {
  auto verifier = Verifier();
  const json claims =
      PassportClaims(kBroker, {broker_.Sign(VisaClaims(kBroker, "ResearcherStatus", kBonaFide))});
  const std::string good = broker_.Sign(claims);
  ASSERT_TRUE(verifier->Verify(good).ok());
  const std::string body = Base64UrlEncode(claims.dump());
  auto hmac = [&](const std::string& secret, const std::string& input) {
    unsigned char mac[32];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
    return input + "." + Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), len));
  };
  const OpenSslKey other_ec = OpenSslKey::Generate("ES256");
  const OpenSslKey other_rsa = OpenSslKey::Generate("RS256");
  const std::string tampered = [&] {
    json c = claims;
    c["sub"] = "admin";
    const size_t dot1 = good.find('.'), dot2 = good.rfind('.');
    return good.substr(0, dot1 + 1) + Base64UrlEncode(c.dump()) + good.substr(dot2);
  }();
  struct Case {
    const char* name;
    std::string token;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"another key under the broker's kid",
       other_ec.SignClaims({{"alg", "ES256"}, {"kid", broker_.kid}}, claims), "does not verify"},
      {"another key, no kid", other_ec.SignClaims({{"alg", "ES256"}}, claims), "does not verify"},
      {"payload changed after signing", tampered, "does not verify"},
      {"alg none", Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." + body + ".",
       "\"none\" is refused"},
      {"HS256 keyed with the public JWK",
       hmac(broker_.key.PublicJwk(broker_.kid).dump(),
            Base64UrlEncode(json{{"alg", "HS256"}, {"kid", broker_.kid}}.dump()) + "." + body),
       "\"HS256\" is refused"},
      {"HS512", hmac("secret", Base64UrlEncode(R"({"alg":"HS512"})") + "." + body),
       "\"HS512\" is refused"},
      {"RS256 header on an issuer with an EC key",
       other_rsa.SignClaims({{"alg", "RS256"}, {"kid", broker_.kid}}, claims), "has no RS256 key"},
      {"PS256", other_rsa.SignClaims({{"alg", "PS256"}, {"kid", broker_.kid}}, claims),
       "\"PS256\" is refused"},
      {"unknown kid", broker_.Sign(claims, {{"kid", "nope"}}), "has no ES256 key \"nope\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Result<std::shared_ptr<const Passport>> p = verifier->Verify(c.token);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), StatusCode::kUnauthenticated);
    EXPECT_TRUE(Contains(p.status().message(), c.reason)) << p.status().message();
    EXPECT_TRUE(Contains(p.status().message(), "passport")) << p.status().message();
  }
  // A token without a kid is checked with every key of its algorithm.
  EXPECT_TRUE(verifier->Verify(broker_.Sign(claims, {{"kid", nullptr}})).ok());
}

TEST_F(PassportTest, PassportsOnlyFromIssuersTrustedToSignThem) {
  auto verifier = Verifier();
  const std::string status = broker_.Sign(VisaClaims(kBroker, "ResearcherStatus", kBonaFide));
  Result<std::shared_ptr<const Passport>> p =
      verifier->Verify(untrusted_.Sign(PassportClaims(kUntrusted, {status})));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(p.status().message(),
            "passport is signed by 'https://evil.test', an issuer this node does not trust");

  p = verifier->Verify(visa_issuer_.Sign(PassportClaims(kVisaIssuer, {status})));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(Contains(p.status().message(), "trusts for visas but not to sign passports"))
      << p.status().message();

  // An untrusted key claiming a trusted issuer's name does not verify.
  p = verifier->Verify(untrusted_.Sign(PassportClaims(kBroker, {status}), {{"kid", broker_.kid}}));
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(Contains(p.status().message(), "does not verify")) << p.status().message();
  // No iss at all.
  json claims = PassportClaims(kBroker, {status});
  claims.erase("iss");
  p = verifier->Verify(broker_.Sign(claims));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), "passport has no \"iss\"");
}

TEST_F(PassportTest, TimesWithinAndBeyondTheClockSkew) {
  auto verifier = Verifier();
  const std::string status = broker_.Sign(VisaClaims(kBroker, "ResearcherStatus", kBonaFide));
  struct Case {
    const char* name;
    std::function<void(json&)> change;
    const char* reason;  // "" = accepted
  };
  const std::vector<Case> cases = {
      {"exp just inside the skew", [](json& c) { c["exp"] = kNow - kSkew + 1; }, ""},
      {"exp just outside the skew", [](json& c) { c["exp"] = kNow - kSkew; },
       "passport expired 60 s ago"},
      {"exp long ago", [](json& c) { c["exp"] = kNow - 86400; }, "passport expired 86400 s ago"},
      {"iat just inside the skew", [](json& c) { c["iat"] = kNow + kSkew; }, ""},
      {"iat just outside the skew", [](json& c) { c["iat"] = kNow + kSkew + 1; },
       "passport is issued in the future (iat 61 s ahead)"},
      {"nbf just inside the skew", [](json& c) { c["nbf"] = kNow + kSkew; }, ""},
      {"nbf just outside the skew", [](json& c) { c["nbf"] = kNow + kSkew + 1; },
       "passport is not valid yet (nbf in 61 s)"},
      {"nbf not a number", [](json& c) { c["nbf"] = "soon"; }, "passport \"nbf\" is not a number"},
      {"no sub", [](json& c) { c.erase("sub"); }, "passport has no \"sub\""},
      {"empty sub", [](json& c) { c["sub"] = ""; }, "passport \"sub\" is not a non-empty string"},
      {"no exp", [](json& c) { c.erase("exp"); }, "passport has no \"exp\""},
      {"no iat", [](json& c) { c.erase("iat"); }, "passport has no \"iat\""},
      {"exp not a number", [](json& c) { c["exp"] = "tomorrow"; },
       "passport \"exp\" is not a number"},
      {"exp out of range", [](json& c) { c["exp"] = 1e300; }, "passport \"exp\" is out of range"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    json claims = PassportClaims(kBroker, {status});
    c.change(claims);
    Result<std::shared_ptr<const Passport>> p = verifier->Verify(broker_.Sign(claims));
    if (std::string(c.reason).empty()) {
      EXPECT_TRUE(p.ok()) << p.status().ToString();
    } else {
      ASSERT_FALSE(p.ok());
      EXPECT_EQ(p.status().code(), StatusCode::kUnauthenticated);
      EXPECT_EQ(p.status().message(), c.reason);
    }
  }
}

TEST_F(PassportTest, AudienceMustNameThisNodeWhenPresent) {
  const std::string status = broker_.Sign(VisaClaims(kBroker, "ResearcherStatus", kBonaFide));
  struct Case {
    std::vector<std::string> node_audiences;
    json aud;  // null: no aud claim
    const char* reason;
  };
  const std::vector<Case> cases = {
      {{}, nullptr, ""},
      {{"https://node.test"}, nullptr, ""},
      {{"https://node.test"}, "https://node.test", ""},
      {{"https://node.test", "https://hub.test"},
       json::array({"https://other.test", "https://hub.test"}),
       ""},
      {{"https://node.test"},
       "https://other.test",
       "passport is for audience \"https://other.test\", not this node"},
      {{"https://node.test"}, json::array({"https://a.test", "https://b.test"}), "is for audience"},
      {{"https://node.test"}, json::array(), "is for audience []"},
      {{}, "https://node.test", "(which accepts no audience-restricted tokens)"},
      {{"https://node.test"}, 42, "passport \"aud\" is neither a string nor a list"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.aud.dump());
    config_.audiences = c.node_audiences;
    auto verifier = Verifier();
    json claims = PassportClaims(kBroker, {status});
    if (!c.aud.is_null()) claims["aud"] = c.aud;
    Result<std::shared_ptr<const Passport>> p = verifier->Verify(broker_.Sign(claims));
    if (std::string(c.reason).empty()) {
      EXPECT_TRUE(p.ok()) << p.status().ToString();
    } else {
      ASSERT_FALSE(p.ok());
      EXPECT_EQ(p.status().code(), StatusCode::kUnauthenticated);
      EXPECT_TRUE(Contains(p.status().message(), c.reason)) << p.status().message();
    }
  }
}

TEST_F(PassportTest, SizeAndVisaCountLimits) {
  PassportVerifier::Limits limits;
  limits.max_passport_bytes = size_t{8} * 1024;
  limits.max_visas = 3;
  auto verifier = Verifier(limits);
  const std::string status = broker_.Sign(VisaClaims(kBroker, "ResearcherStatus", kBonaFide));

  json claims = PassportClaims(kBroker, {status});
  claims["padding"] = std::string(size_t{8} * 1024, 'x');
  const std::string big = broker_.Sign(claims);
  Result<std::shared_ptr<const Passport>> p = verifier->Verify(big);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(p.status().message(),
            "passport of " + std::to_string(big.size()) + " bytes is over the limit of 8192");

  p = verifier->Verify(broker_.Sign(PassportClaims(kBroker, {status, status, status, status})));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), "passport holds 4 visas, over the limit of 3");
  EXPECT_TRUE(
      verifier->Verify(broker_.Sign(PassportClaims(kBroker, {status, status, status}))).ok());

  // One visa over the visa limit is refused on its own.
  limits = PassportVerifier::Limits();
  limits.max_visa_bytes = 1024;
  verifier = Verifier(limits);
  json fat = VisaClaims(kBroker, "AffiliationAndRole", "faculty@uni.test");
  fat["padding"] = std::string(1024, 'x');
  p = verifier->Verify(WithStatus({broker_.Sign(fat)}));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ((*p)->refused.size(), 1u);
  EXPECT_TRUE(Contains((*p)->refused[0].reason, "over the limit of 1024"))
      << (*p)->refused[0].reason;
}

TEST_F(PassportTest, PassportsLargerThanOneVisaLimitVerify) {
  // The default limits: 64 KiB a passport, 16 KiB a visa. A passport of some forty visas is
  // over 16 KiB and must still verify (it once failed: the signature check decoded the token
  // under the 16 KiB visa default).
  auto verifier = Verifier();
  std::vector<std::string> visas;
  visas.reserve(40);
  for (int i = 0; i < 40; ++i) {
    visas.push_back(broker_.Sign(
        VisaClaims(kBroker, "AffiliationAndRole", "member" + std::to_string(i) + "@uni.test")));
  }
  const std::string token = WithStatus(visas);
  ASSERT_GT(token.size(), 16u * 1024);
  ASSERT_LT(token.size(), 64u * 1024);
  Result<std::shared_ptr<const Passport>> p = verifier->Verify(token);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->visas.size(), 41u);
}

TEST_F(PassportTest, MalformedTokensAreRefusedWithTheirReason) {
  auto verifier = Verifier();
  const std::string payload = Base64UrlEncode(PassportClaims(kBroker, {}).dump());
  const std::string header = Base64UrlEncode(R"({"alg":"ES256","kid":"kid-ES256"})");
  struct Case {
    const char* name;
    std::string token;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"empty", "", "not a compact JWS"},
      {"not a JWT", "not-a-passport", "not a compact JWS"},
      {"two parts", header + "." + payload, "not a compact JWS"},
      {"four parts", header + "." + payload + ".sig.more", "not a compact JWS"},
      {"bad base64 in the header", "e30!." + payload + ".c2ln",
       "JWS header: not base64url: character '!'"},
      {"standard base64 padding", header + "." + payload + "=.c2ln",
       "not base64url: character '='"},
      {"header not JSON", Base64UrlEncode("{alg:ES256") + "." + payload + ".c2ln",
       "JWS header is not a JSON object"},
      {"payload not JSON", header + "." + Base64UrlEncode("passport, please") + ".c2ln",
       "JWS payload is not a JSON object"},
      {"payload a JSON list", header + "." + Base64UrlEncode("[1,2]") + ".c2ln",
       "JWS payload is not a JSON object"},
      {"no alg", Base64UrlEncode(R"({"kid":"kid-ES256"})") + "." + payload + ".c2ln",
       "JWS header without \"alg\""},
      {"kid not a string", Base64UrlEncode(R"({"alg":"ES256","kid":7})") + "." + payload + ".c2ln",
       "\"kid\" is not a string"},
      {"crit header", broker_.Sign(PassportClaims(kBroker, {}), {{"crit", json::array({"exp"})}}),
       "critical extensions (\"crit\")"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Result<std::shared_ptr<const Passport>> p = verifier->Verify(c.token);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), StatusCode::kUnauthenticated);
    EXPECT_TRUE(Contains(p.status().message(), c.reason)) << p.status().message();
  }
}

TEST_F(PassportTest, AnAccessTokenWithoutPassportClaimGetsAClearMessage) {
  auto verifier = Verifier();
  json claims = PassportClaims(kBroker, {});
  claims.erase("ga4gh_passport_v1");
  claims["scope"] = "openid ga4gh_passport_v1";
  Result<std::shared_ptr<const Passport>> p = verifier->Verify(broker_.Sign(claims));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(
      Contains(p.status().message(), "no ga4gh_passport_v1 claim: present a GA4GH Passport JWT"))
      << p.status().message();
  EXPECT_TRUE(Contains(p.status().message(), "/userinfo")) << p.status().message();

  claims["ga4gh_passport_v1"] = "not a list";
  p = verifier->Verify(broker_.Sign(claims));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), "passport \"ga4gh_passport_v1\" is not a list");

  // An empty list is a passport without visas: valid, and grants nothing.
  p = verifier->Verify(broker_.Sign(PassportClaims(kBroker, {})));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE((*p)->visas.empty());
}

TEST_F(PassportTest, EachBadVisaIsLeftOutWithItsReason) {
  auto verifier = Verifier();
  auto grant = [](const std::string& iss) {
    return VisaClaims(iss, "ControlledAccessGrants", "https://ega.test/D1", "dac");
  };
  auto with = [](json claims, const std::function<void(json&)>& change) {
    change(claims);
    return claims;
  };
  struct Case {
    const char* name;
    json visa;  // a string: sent as is; an object: claims signed by `signer`
    const Signer* signer;
    const char* type;  // the refusal's type ("" when it could not be read)
    const char* reason;
  };
  const json aar = VisaClaims(kVisaIssuer, "AffiliationAndRole", "faculty@uni.test");
  const std::vector<Case> cases = {
      {"untrusted visa issuer", grant(kUntrusted), &untrusted_, "ControlledAccessGrants",
       "visa is signed by 'https://evil.test', an issuer this node does not trust"},
      {"issuer not trusted for grants", grant(kLimitedIssuer), &limited_, "ControlledAccessGrants",
       "'https://limited.test' is not trusted to assert ControlledAccessGrants visas"},
      {"signed by another key", grant(kVisaIssuer), &untrusted_, "ControlledAccessGrants",
       "does not verify"},
      {"expired", with(grant(kVisaIssuer), [](json& c) { c["exp"] = kNow - kSkew; }), &visa_issuer_,
       "ControlledAccessGrants", "visa expired 60 s ago"},
      {"not yet valid", with(grant(kVisaIssuer), [](json& c) { c["nbf"] = kNow + 3600; }),
       &visa_issuer_, "ControlledAccessGrants", "visa is not valid yet"},
      {"issued in the future", with(grant(kVisaIssuer), [](json& c) { c["iat"] = kNow + 3600; }),
       &visa_issuer_, "ControlledAccessGrants", "visa is issued in the future"},
      {"asserted in the future",
       with(grant(kVisaIssuer), [](json& c) { c["ga4gh_visa_v1"]["asserted"] = kNow + kSkew + 1; }),
       &visa_issuer_, "ControlledAccessGrants", "visa is asserted in the future"},
      {"grant without by",
       with(grant(kVisaIssuer), [](json& c) { c["ga4gh_visa_v1"].erase("by"); }), &visa_issuer_,
       "ControlledAccessGrants", "ControlledAccessGrants visa without \"by\""},
      {"terms without by",
       VisaClaims(kVisaIssuer, "AcceptedTermsAndPolicies", "https://terms.test", ""), &visa_issuer_,
       "AcceptedTermsAndPolicies", "AcceptedTermsAndPolicies visa without \"by\""},
      {"by not a string", with(aar, [](json& c) { c["ga4gh_visa_v1"]["by"] = 1; }), &visa_issuer_,
       "AffiliationAndRole", "visa object \"by\" is not a string"},
      {"custom type", VisaClaims(kVisaIssuer, "https://example.test/CustomVisa", "x"),
       &visa_issuer_, "https://example.test/CustomVisa",
       "custom visa type 'https://example.test/CustomVisa' is not supported"},
      {"visa access token",
       with(aar,
            [](json& c) {
              c.erase("ga4gh_visa_v1");
              c["scope"] = "openid";
            }),
       &visa_issuer_, "", "a Visa Access Token (not supported"},
      {"no visa object", with(aar, [](json& c) { c.erase("ga4gh_visa_v1"); }), &visa_issuer_, "",
       "no ga4gh_visa_v1 claim"},
      {"visa object not an object", with(aar, [](json& c) { c["ga4gh_visa_v1"] = "x"; }),
       &visa_issuer_, "", "ga4gh_visa_v1 is not an object"},
      {"no type", with(aar, [](json& c) { c["ga4gh_visa_v1"].erase("type"); }), &visa_issuer_, "",
       "visa object has no \"type\""},
      {"no value", with(aar, [](json& c) { c["ga4gh_visa_v1"].erase("value"); }), &visa_issuer_,
       "AffiliationAndRole", "visa object has no \"value\""},
      {"no source", with(aar, [](json& c) { c["ga4gh_visa_v1"].erase("source"); }), &visa_issuer_,
       "AffiliationAndRole", "visa object has no \"source\""},
      {"no asserted", with(aar, [](json& c) { c["ga4gh_visa_v1"].erase("asserted"); }),
       &visa_issuer_, "AffiliationAndRole", "visa object has no \"asserted\""},
      {"no sub", with(aar, [](json& c) { c.erase("sub"); }), &visa_issuer_, "AffiliationAndRole",
       "visa has no \"sub\""},
      {"no exp", with(aar, [](json& c) { c.erase("exp"); }), &visa_issuer_, "AffiliationAndRole",
       "visa has no \"exp\""},
      {"jti not a string", with(aar, [](json& c) { c["jti"] = 12345; }), &visa_issuer_,
       "AffiliationAndRole", "visa \"jti\" is not a string"},
      {"another subject", with(aar, [](json& c) { c["sub"] = "someone-else"; }), &visa_issuer_,
       "AffiliationAndRole",
       "visa of 'someone-else' at 'https://visas.test', an identity not linked"},
      {"not a string", 42, nullptr, "", "not a JWT string"},
      {"not a JWT", "visa", nullptr, "", "visa: not a compact JWS"},
      {"alg none", Base64UrlEncode(R"({"alg":"none"})") + "." + Base64UrlEncode(aar.dump()) + ".",
       nullptr, "AffiliationAndRole", "visa: signature algorithm \"none\" is refused"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    json list = json::array({broker_.Sign(VisaClaims(kBroker, "ResearcherStatus", kBonaFide))});
    if (c.signer) {
      list.push_back(c.signer->Sign(c.visa));
    } else {
      list.push_back(c.visa);
    }
    json claims = PassportClaims(kBroker, {});
    claims["ga4gh_passport_v1"] = list;
    Result<std::shared_ptr<const Passport>> p = verifier->Verify(broker_.Sign(claims));
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(Types(**p), std::vector<std::string>{"ResearcherStatus"});
    ASSERT_EQ((*p)->refused.size(), 1u);
    EXPECT_EQ((*p)->refused[0].index, 1u);
    EXPECT_EQ((*p)->refused[0].type, c.type);
    EXPECT_TRUE(Contains((*p)->refused[0].reason, c.reason)) << (*p)->refused[0].reason;
  }
  // Just inside the skew, a visa asserted a little ahead of the node's clock still counts.
  Result<std::shared_ptr<const Passport>> p = verifier->Verify(WithStatus({visa_issuer_.Sign(
      with(grant(kVisaIssuer), [](json& c) { c["ga4gh_visa_v1"]["asserted"] = kNow + kSkew; }))}));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(Types(**p), (std::vector<std::string>{"ResearcherStatus", "ControlledAccessGrants"}));
  // RefusalsOf lists the reasons of one type.
  p = verifier->Verify(WithStatus(
      {visa_issuer_.Sign(with(grant(kVisaIssuer), [](json& c) { c["exp"] = kNow - 3600; })),
       limited_.Sign(grant(kLimitedIssuer))}));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(
      (*p)->RefusalsOf("ControlledAccessGrants"),
      "visa 1: visa expired 3600 s ago; visa 2: 'https://limited.test' is not trusted to assert "
      "ControlledAccessGrants visas");
  EXPECT_EQ((*p)->RefusalsOf("ResearcherStatus"), "");
}

TEST_F(PassportTest, VisaJkuMustBeTheIssuersKeySetWhenTheNodeFetchesIt) {
  // The visa issuer is known by its URL: its keys come from discovery, through the fetch seam.
  const std::string jwks =
      json{{"keys", json::array({visa_issuer_.key.PublicJwk(visa_issuer_.kid)})}}.dump();
  const std::string jwks_uri = std::string(kVisaIssuer) + "/keys.json";
  std::map<std::string, std::string> served = {
      {std::string(kVisaIssuer) + "/.well-known/openid-configuration",
       json{{"issuer", kVisaIssuer}, {"jwks_uri", jwks_uri}}.dump()},
      {jwks_uri, jwks}};
  auto keys = std::make_shared<IssuerKeys>(
      config_.trusted_issuers, "",
      [&served](const std::string& url) -> Result<std::string> {
        auto it = served.find(url);
        if (it == served.end()) return Unavailable("HTTP 404");
        return it->second;
      },
      FakeClock());
  keys->AddKeys(kBroker, broker_.Keys());
  PassportVerifier verifier(config_, keys, FakeClock());
  const json grant =
      VisaClaims(kVisaIssuer, "ControlledAccessGrants", "https://ega.test/D1", "dac");
  // The first visa of this issuer the node sees already has its jku checked (the jwks_uri is
  // discovered first).
  for (const char* jku : {"https://evil.test/jwks.json", "https://visas.test/other.json"}) {
    SCOPED_TRACE(jku);
    json other = grant;
    other["jti"] = jku;  // a distinct token each time
    Result<std::shared_ptr<const Passport>> p =
        verifier.Verify(WithStatus({visa_issuer_.Sign(other, {{"jku", jku}})}));
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    ASSERT_EQ((*p)->refused.size(), 1u);
    EXPECT_EQ((*p)->refused[0].reason, "visa: header jku \"" + std::string(jku) +
                                           "\" is not the key set of 'https://visas.test'");
  }
  Result<std::shared_ptr<const Passport>> p =
      verifier.Verify(WithStatus({visa_issuer_.Sign(grant, {{"jku", jwks_uri}})}));
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE((*p)->refused.empty()) << (*p)->refused[0].reason;
  p = verifier.Verify(WithStatus({visa_issuer_.Sign(grant, {{"jku", 7}})}));
  ASSERT_TRUE(p.ok());
  ASSERT_EQ((*p)->refused.size(), 1u);
  EXPECT_TRUE(Contains((*p)->refused[0].reason, "header jku 7")) << (*p)->refused[0].reason;

  // With keys from a file there is no URL to compare: the jku is not used, and not refused.
  auto fixed = Verifier();
  p = fixed->Verify(
      WithStatus({visa_issuer_.Sign(grant, {{"jku", "https://elsewhere.test/jwks"}})}));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(Types(**p), (std::vector<std::string>{"ResearcherStatus", "ControlledAccessGrants"}));
}

TEST_F(PassportTest, LinkedIdentitiesBringInVisasOfOtherIdentities) {
  auto verifier = Verifier();
  const std::string grant_alt = visa_issuer_.Sign(
      VisaClaims(kVisaIssuer, "ControlledAccessGrants", "https://ega.test/D1", "dac", "alt-1"));
  const std::string odd_grant = odd_.Sign(
      VisaClaims(kOddIssuer, "ControlledAccessGrants", "https://ega.test/D2", "dac", "alt 2"));
  // A LinkedIdentities visa of the user (at the broker), or of alt-1 (at the visa issuer).
  auto link = [&](const std::string& sub, const std::string& value) {
    const Signer& s = sub == "researcher-1" ? broker_ : visa_issuer_;
    return s.Sign(VisaClaims(s.issuer, "LinkedIdentities", value, "system", sub));
  };
  // kOddIssuer = "https://odd.test/a,b;c" URL-encoded, as the value's grammar requires.
  const std::string odd_encoded = "https%3A%2F%2Fodd.test%2Fa%2Cb%3Bc";
  struct Case {
    const char* name;
    std::vector<std::string> visas;
    std::vector<std::string> accepted;  // types after ResearcherStatus
    const char* refusal;                // "" = none
  };
  const std::vector<Case> cases = {
      {"not linked",
       {grant_alt},
       {},
       "visa of 'alt-1' at 'https://visas.test', an identity not linked"},
      {"linked directly",
       {link("researcher-1", "alt-1,https%3A%2F%2Fvisas.test"), grant_alt},
       {"LinkedIdentities", "ControlledAccessGrants"},
       ""},
      {"linked among others",
       {link("researcher-1", "x,https%3A%2F%2Fx.test;alt-1,https%3A%2F%2Fvisas.test"), grant_alt},
       {"LinkedIdentities", "ControlledAccessGrants"},
       ""},
      {"linked through a chain, odd issuer name, encoded space",
       {link("alt-1", "alt%202," + odd_encoded),
        link("researcher-1", "alt-1,https%3A%2F%2Fvisas.test"), odd_grant},
       {"LinkedIdentities", "LinkedIdentities", "ControlledAccessGrants"},
       ""},
      {"a chain that does not start at the user links nothing",
       {link("alt-1", "alt%202," + odd_encoded), odd_grant},
       {},
       "an identity not linked"},
      {"same sub, another issuer than linked",
       {link("researcher-1", "alt-1,https%3A%2F%2Fother.test"), grant_alt},
       {"LinkedIdentities"},
       "an identity not linked"},
      {"malformed value",
       {link("researcher-1", "alt-1 https://visas.test"), grant_alt},
       {},
       "LinkedIdentities value entry 'alt-1 https://visas.test' is not \"sub,iss\""},
      {"empty entry",
       {link("researcher-1", "alt-1,https%3A%2F%2Fvisas.test;"), grant_alt},
       {},
       "LinkedIdentities value entry '' is not \"sub,iss\""},
      {"too many commas",
       {link("researcher-1", "a,b,c")},
       {},
       "LinkedIdentities value entry 'a,b,c'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Result<std::shared_ptr<const Passport>> p = verifier->Verify(WithStatus(c.visas));
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    std::vector<std::string> want = {"ResearcherStatus"};
    want.insert(want.end(), c.accepted.begin(), c.accepted.end());
    EXPECT_EQ(Types(**p), want);
    if (std::string(c.refusal).empty()) {
      EXPECT_TRUE((*p)->refused.empty()) << (*p)->refused[0].reason;
    } else {
      ASSERT_FALSE((*p)->refused.empty());
      EXPECT_TRUE(Contains((*p)->refused[0].reason, c.refusal)) << (*p)->refused[0].reason;
    }
  }
  // The linked grant keeps its own identity.
  Result<std::shared_ptr<const Passport>> p = verifier->Verify(
      WithStatus({link("researcher-1", "alt-1,https%3A%2F%2Fvisas.test"), grant_alt}));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)->visas.back().subject, "alt-1");
  EXPECT_EQ((*p)->subject, "researcher-1");
}

TEST_F(PassportTest, ALinkedIdentitiesVisaWhoseConditionsFailLinksNothing) {
  auto verifier = Verifier();
  json link = VisaClaims(kBroker, "LinkedIdentities", "alt-1,https%3A%2F%2Fvisas.test");
  link["ga4gh_visa_v1"]["conditions"] = json::array(
      {json::array({{{"type", "AffiliationAndRole"}, {"value", "const:faculty@uni.test"}}})});
  const std::string grant_alt = visa_issuer_.Sign(
      VisaClaims(kVisaIssuer, "ControlledAccessGrants", "https://ega.test/D1", "dac", "alt-1"));
  Result<std::shared_ptr<const Passport>> p =
      verifier->Verify(WithStatus({broker_.Sign(link), grant_alt}));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(Types(**p), std::vector<std::string>{"ResearcherStatus"});
  EXPECT_TRUE(Contains((*p)->RefusalsOf("LinkedIdentities"), "its conditions are not met"))
      << (*p)->RefusalsOf("LinkedIdentities");
  EXPECT_TRUE(Contains((*p)->RefusalsOf("ControlledAccessGrants"), "an identity not linked"))
      << (*p)->RefusalsOf("ControlledAccessGrants");
}

TEST_F(PassportTest, ConditionsInDisjunctiveNormalForm) {
  auto verifier = Verifier();
  auto aar = [&](const std::string& value, const std::string& by = "so") {
    return visa_issuer_.Sign(VisaClaims(kVisaIssuer, "AffiliationAndRole", value, by));
  };
  auto clause = [](const std::string& type, const std::string& field, const std::string& spec) {
    return json{{"type", type}, {field, spec}};
  };
  const json faculty = clause("AffiliationAndRole", "value", "const:faculty@uni.test");
  const json bona_fide = clause("ResearcherStatus", "value", std::string("const:") + kBonaFide);
  struct Case {
    const char* name;
    json conditions;
    std::vector<std::string> others;  // besides the ResearcherStatus visa
    const char* reason;               // "" = the grant is accepted
  };
  const std::vector<Case> cases = {
      {"const met", json::array({json::array({faculty})}), {aar("faculty@uni.test")}, ""},
      {"const not met",
       json::array({json::array({faculty})}),
       {aar("student@uni.test")},
       "its conditions are not met by the other visas"},
      {"const on by",
       json::array({json::array({clause("AffiliationAndRole", "by", "const:so")})}),
       {aar("faculty@uni.test", "so")},
       ""},
      {"by absent never matches",
       json::array({json::array({clause("AffiliationAndRole", "by", "pattern:*")})}),
       {aar("faculty@uni.test", "")},
       "not met"},
      {"const on source",
       json::array(
           {json::array({clause("AffiliationAndRole", "source", "const:https://source.test")})}),
       {aar("x@y")},
       ""},
      {"pattern with *",
       json::array({json::array({clause("AffiliationAndRole", "value", "pattern:*@uni.test")})}),
       {aar("faculty@uni.test")},
       ""},
      {"pattern with ?",
       json::array(
           {json::array({clause("AffiliationAndRole", "value", "pattern:faculty@uni.tes?")})}),
       {aar("faculty@uni.test")},
       ""},
      {"pattern is a full match",
       json::array({json::array({clause("AffiliationAndRole", "value", "pattern:faculty@")})}),
       {aar("faculty@uni.test")},
       "not met"},
      {"split_pattern matches one part",
       json::array(
           {json::array({clause("AffiliationAndRole", "value", "split_pattern:faculty@*")})}),
       {aar("staff@a.test;faculty@uni.test")},
       ""},
      {"pattern does not split",
       json::array({json::array({clause("AffiliationAndRole", "value", "pattern:faculty@*")})}),
       {aar("staff@a.test;faculty@uni.test")},
       "not met"},
      {"AND within a group, all met",
       json::array({json::array({faculty, bona_fide})}),
       {aar("faculty@uni.test")},
       ""},
      {"AND within a group, one unmet",
       json::array({json::array(
           {faculty, clause("ResearcherStatus", "value", "const:https://other.test")})}),
       {aar("faculty@uni.test")},
       "not met"},
      {"OR across groups, second met",
       json::array({json::array({clause("AffiliationAndRole", "value", "const:dean@uni.test")}),
                    json::array({faculty})}),
       {aar("faculty@uni.test")},
       ""},
      {"OR across groups, none met",
       json::array({json::array({clause("AffiliationAndRole", "value", "const:dean@uni.test")}),
                    json::array({faculty})}),
       {aar("student@uni.test")},
       "not met"},
      {"unknown prefix fails",
       json::array({json::array({clause("AffiliationAndRole", "value", "regex:.*")})}),
       {aar("faculty@uni.test")},
       "not met"},
      {"no prefix fails",
       json::array({json::array({clause("AffiliationAndRole", "value", "faculty@uni.test")})}),
       {aar("faculty@uni.test")},
       "not met"},
      {"clause naming asserted",
       json::array({json::array({clause("AffiliationAndRole", "asserted", "const:1")})}),
       {aar("faculty@uni.test")},
       "a condition clause names \"asserted\" (only value, source and by may be matched)"},
      {"clause on type only",
       json::array({json::array({json{{"type", "AffiliationAndRole"}}})}),
       {aar("faculty@uni.test")},
       "a condition clause matches on \"type\" only"},
      {"clause without type",
       json::array({json::array({json{{"value", "const:x"}}})}),
       {},
       "a condition clause has no \"type\""},
      {"clause value not a string",
       json::array({json::array({json{{"type", "AffiliationAndRole"}, {"value", 1}}})}),
       {},
       "condition clause claim \"value\" is not a string"},
      {"conditions not a list",
       json{{"type", "AffiliationAndRole"}},
       {},
       "conditions is not a list of lists"},
      {"an empty group",
       json::array({json::array()}),
       {},
       "every OR entry must be a non-empty list of clauses"},
      {"a group not a list",
       json::array({faculty}),
       {},
       "every OR entry must be a non-empty list of clauses"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    json grant = VisaClaims(kVisaIssuer, "ControlledAccessGrants", "https://ega.test/D1", "dac");
    grant["ga4gh_visa_v1"]["conditions"] = c.conditions;
    std::vector<std::string> visas = c.others;
    visas.push_back(visa_issuer_.Sign(grant));
    Result<std::shared_ptr<const Passport>> p = verifier->Verify(WithStatus(visas));
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    const std::vector<std::string> types = Types(**p);
    const bool accepted =
        std::find(types.begin(), types.end(), "ControlledAccessGrants") != types.end();
    if (std::string(c.reason).empty()) {
      EXPECT_TRUE(accepted) << (*p)->RefusalsOf("ControlledAccessGrants");
      if (accepted) {
        EXPECT_EQ((*p)->visas.back().object.conditions, c.conditions);
      }
    } else {
      EXPECT_FALSE(accepted);
      EXPECT_TRUE(Contains((*p)->RefusalsOf("ControlledAccessGrants"), c.reason))
          << (*p)->RefusalsOf("ControlledAccessGrants");
    }
  }
}

TEST_F(PassportTest, ConditionsAreMetWhateverTheOrderOfTheVisas) {
  // The conditional grant before, between and after the visas that meet it (conditions were
  // once only met by visas listed after the conditional one).
  auto verifier = Verifier();
  json grant = VisaClaims(kVisaIssuer, "ControlledAccessGrants", "https://ega.test/D1", "dac");
  grant["ga4gh_visa_v1"]["conditions"] = json::array({json::array(
      {{{"type", "AffiliationAndRole"}, {"value", "const:faculty@uni.test"}},
       {{"type", "ResearcherStatus"}, {"value", std::string("const:") + kBonaFide}}})});
  const std::string g = visa_issuer_.Sign(grant);
  const std::string s = broker_.Sign(VisaClaims(kBroker, "ResearcherStatus", kBonaFide));
  const std::string a =
      visa_issuer_.Sign(VisaClaims(kVisaIssuer, "AffiliationAndRole", "faculty@uni.test"));
  for (const std::vector<std::string>& order :
       std::vector<std::vector<std::string>>{{g, s, a}, {s, g, a}, {s, a, g}}) {
    Result<std::shared_ptr<const Passport>> p =
        verifier->Verify(broker_.Sign(PassportClaims(kBroker, order)));
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ((*p)->visas.size(), 3u) << (*p)->RefusalsOf("ControlledAccessGrants");
  }
}

TEST_F(PassportTest, AClauseIsOnlyMetByVisasWithoutConditionsOfTheirOwn) {
  auto verifier = Verifier();
  // The affiliation is itself conditional (and its condition is met); the grant's clause names
  // it, which does not count: conditions are not chained.
  json aar = VisaClaims(kVisaIssuer, "AffiliationAndRole", "faculty@uni.test");
  aar["ga4gh_visa_v1"]["conditions"] = json::array({json::array(
      {{{"type", "ResearcherStatus"}, {"value", std::string("const:") + kBonaFide}}})});
  json grant = VisaClaims(kVisaIssuer, "ControlledAccessGrants", "https://ega.test/D1", "dac");
  grant["ga4gh_visa_v1"]["conditions"] = json::array(
      {json::array({{{"type", "AffiliationAndRole"}, {"value", "const:faculty@uni.test"}}})});
  Result<std::shared_ptr<const Passport>> p =
      verifier->Verify(WithStatus({visa_issuer_.Sign(aar), visa_issuer_.Sign(grant)}));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(Types(**p), (std::vector<std::string>{"ResearcherStatus", "AffiliationAndRole"}));
  EXPECT_TRUE(Contains((*p)->RefusalsOf("ControlledAccessGrants"), "its conditions are not met"));
  // A visa of another, unlinked identity does not meet a clause either.
  aar = VisaClaims(kVisaIssuer, "AffiliationAndRole", "faculty@uni.test", "so", "someone-else");
  p = verifier->Verify(WithStatus({visa_issuer_.Sign(aar), visa_issuer_.Sign(grant)}));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(Types(**p), std::vector<std::string>{"ResearcherStatus"});
}

TEST(VisaPatternMatchesTest, FullStringGlobWithoutEscapes) {
  struct Case {
    const char* pattern;
    const char* text;
    bool match;
  };
  const std::vector<Case> cases = {
      {"", "", true},
      {"", "a", false},
      {"*", "", true},
      {"*", "anything", true},
      {"?", "", false},
      {"?", "a", true},
      {"?", "ab", false},
      {"a*", "a", true},
      {"a*", "ba", false},
      {"*a", "ba", true},
      {"*a", "ab", false},
      {"a*b*c", "abc", true},
      {"a*b*c", "aXbYc", true},
      {"a*b*c", "aXbY", false},
      {"a*b*c", "acb", false},
      {"a**b", "ab", true},
      {"*?", "", false},
      {"*?", "x", true},
      {"a?c", "abc", true},
      {"a?c", "ac", false},
      {"*ab", "aaab", true},
      {"*aab", "aaaab", true},
      {"ab*ab", "abab", true},
      {"ab*ab", "aba", false},
      {"abc", "ABC", false},
      {"\\*", "*", false},
      {"\\*", "\\x", true},
      {"https://*.test/*", "https://ega.test/datasets/D1", true},
      {"https://*.test/*", "http://ega.test/datasets/D1", false},
      {"*@uni.test", "faculty@uni.test;staff@a.test", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(VisaPatternMatches(c.pattern, c.text), c.match)
        << "'" << c.pattern << "' vs '" << c.text << "'";
  }
  // Long runs of stars do not blow up (backtracking to the last star only).
  EXPECT_FALSE(VisaPatternMatches(std::string(1000, '*') + "b", std::string(10000, 'a')));
  EXPECT_TRUE(VisaPatternMatches("*a*a*a*a*a*b", std::string(5000, 'a') + "b"));
}

TEST_F(PassportTest, AVerifiedPassportIsCachedUntilItOrAVisaExpires) {
  auto verifier = Verifier();
  json grant = VisaClaims(kVisaIssuer, "ControlledAccessGrants", "https://ega.test/D1", "dac");
  grant["exp"] = kNow + 200;  // expires before the passport (kNow + 3600) and cache_seconds (300)
  const std::string token = WithStatus({visa_issuer_.Sign(grant)});
  Result<std::shared_ptr<const Passport>> first = verifier->Verify(token);
  ASSERT_TRUE(first.ok()) << first.status().ToString();

  // The broker's key is replaced: a fresh token no longer verifies, the cached one does not
  // need to (the same object comes back, nothing is checked again).
  const OpenSslKey replacement = OpenSslKey::Generate("ES256");
  keys_->AddKeys(kBroker, {*Jwk::Parse(replacement.PublicJwk(broker_.kid))});
  keys_->AddKeys(kVisaIssuer, {*Jwk::Parse(replacement.PublicJwk(visa_issuer_.kid))});
  now_->store(kNow + 199);
  Result<std::shared_ptr<const Passport>> second = verifier->Verify(token);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->get(), first->get());
  EXPECT_FALSE(verifier->Verify(WithStatus({})).ok());

  // When the grant expires the entry goes, and the token is verified again (and now fails).
  now_->store(kNow + 200);
  Result<std::shared_ptr<const Passport>> third = verifier->Verify(token);
  ASSERT_FALSE(third.ok());
  EXPECT_TRUE(Contains(third.status().message(), "does not verify")) << third.status().message();
}

TEST_F(PassportTest, AnExpiredCachedPassportIsVerifiedAgainAndRefused) {
  auto verifier = Verifier();
  json claims =
      PassportClaims(kBroker, {broker_.Sign(VisaClaims(kBroker, "ResearcherStatus", kBonaFide))});
  claims["exp"] = kNow + 100;
  const std::string token = broker_.Sign(claims);
  ASSERT_TRUE(verifier->Verify(token).ok());
  now_->store(kNow + 99);
  ASSERT_TRUE(verifier->Verify(token).ok());
  now_->store(kNow + 100 + kSkew);
  Result<std::shared_ptr<const Passport>> p = verifier->Verify(token);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(p.status().message(), "passport expired 60 s ago");
}

TEST_F(PassportTest, TheCacheSavesKeyLookupsAndFetches) {
  // Keys from discovery with max_age 0: every key lookup fetches the JWKS again, so the fetch
  // count shows how often keys were looked up.
  std::map<std::string, int> fetches;
  const std::string jwks = json{{"keys", json::array({broker_.key.PublicJwk(broker_.kid)})}}.dump();
  auto fetch = [&](const std::string& url) -> Result<std::string> {
    ++fetches[url];
    if (url == std::string(kBroker) + "/.well-known/openid-configuration") {
      return json{{"issuer", kBroker}, {"jwks_uri", std::string(kBroker) + "/jwks"}}.dump();
    }
    if (url == std::string(kBroker) + "/jwks") return jwks;
    return Unavailable("HTTP 404");
  };
  IssuerKeys::Options options;
  options.min_refresh_seconds = 0;
  options.max_age_seconds = 0;
  auto keys =
      std::make_shared<IssuerKeys>(config_.trusted_issuers, "", fetch, FakeClock(), options);
  PassportVerifier::Limits limits;
  limits.cache_seconds = 300;
  PassportVerifier verifier(config_, keys, FakeClock(), limits);
  const std::string token =
      WithStatus({broker_.Sign(VisaClaims(kBroker, "AffiliationAndRole", "faculty@uni.test"))});
  ASSERT_TRUE(verifier.Verify(token).ok());
  const int after_first = fetches[std::string(kBroker) + "/jwks"];
  EXPECT_EQ(after_first, 3);  // the passport and its two visas
  EXPECT_EQ(fetches[std::string(kBroker) + "/.well-known/openid-configuration"], 1);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(verifier.Verify(token).ok());
  EXPECT_EQ(fetches[std::string(kBroker) + "/jwks"], after_first);
  // cache_seconds bounds reuse even of a long-lived passport.
  now_->store(kNow + 300);
  ASSERT_TRUE(verifier.Verify(token).ok());
  EXPECT_EQ(fetches[std::string(kBroker) + "/jwks"], after_first + 3);
}

TEST_F(PassportTest, KeysThatCannotBeFetchedMakeThePassportUnavailableNotForged) {
  bool up = false;
  const std::string jwks = json{{"keys", json::array({broker_.key.PublicJwk(broker_.kid)})}}.dump();
  auto fetch = [&](const std::string& url) -> Result<std::string> {
    if (!up) return Unavailable("GET " + url + ": Connection refused");
    if (url == std::string(kBroker) + "/.well-known/openid-configuration") {
      return json{{"issuer", kBroker}, {"jwks_uri", std::string(kBroker) + "/jwks"}}.dump();
    }
    return jwks;
  };
  auto keys = std::make_shared<IssuerKeys>(config_.trusted_issuers, "", fetch, FakeClock());
  PassportVerifier verifier(config_, keys, FakeClock());
  const std::string token = WithStatus({});
  Result<std::shared_ptr<const Passport>> p = verifier.Verify(token);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(p.status().message(), "keys of issuer 'https://broker.test'"))
      << p.status().message();
  EXPECT_TRUE(Contains(p.status().message(), "Connection refused")) << p.status().message();
  // A failure is not cached as a verdict: once the issuer answers (and the refresh interval
  // has passed) the same token verifies.
  up = true;
  now_->store(kNow + 10);
  p = verifier.Verify(token);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
}

}  // namespace
}  // namespace oncomesh::auth
