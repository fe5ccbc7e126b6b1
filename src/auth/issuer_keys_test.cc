// IssuerKeys: trusted issuers' keys from JWKS files and from OpenID Connect Discovery (through
// an injected fetch, as http::FetchHttps would answer), cached, refreshed on unknown kids at a
// bounded rate, kept while the provider is down. Keys made at test time by OpenSSL.
#include "auth/issuer_keys.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/openssl_signer.h"

namespace oncomesh::auth {
namespace {

using nlohmann::json;
using oncomesh::testing::OpenSslKey;

constexpr int64_t kNow = 1'800'000'000;
const char* const kIdp = "https://idp.test";
const char* const kConfigUrl = "https://idp.test/.well-known/openid-configuration";
const char* const kJwksUrl = "https://idp.test/oidc/jwks";

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// An identity provider as the fetch seam sees it: documents by URL, or a failure; counts GETs.
class FakeIdp {
 public:
  FakeIdp() { Serve(kConfigUrl, json{{"issuer", kIdp}, {"jwks_uri", kJwksUrl}}.dump()); }
  void Serve(const std::string& url, Result<std::string> body) {
    std::lock_guard<std::mutex> lock(mu_);
    docs_.insert_or_assign(url, std::move(body));
  }
  void ServeKeys(const std::vector<json>& jwks) { Serve(kJwksUrl, json{{"keys", jwks}}.dump()); }
  void Down() {
    std::lock_guard<std::mutex> lock(mu_);
    down_ = true;
  }
  int Gets(const std::string& url) {
    std::lock_guard<std::mutex> lock(mu_);
    return gets_[url];
  }
  HttpsFetch Fetch() {
    return [this](const std::string& url) -> Result<std::string> {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
      std::lock_guard<std::mutex> lock(mu_);
      ++gets_[url];
      if (down_) return Unavailable("GET " + url + ": Connection refused");
      auto it = docs_.find(url);
      if (it == docs_.end()) return Unavailable("GET " + url + ": HTTP 404");
      return it->second;
    };
  }
  int delay_ms_ = 0;

 private:
  std::mutex mu_;
  bool down_ = false;
  std::map<std::string, Result<std::string>> docs_;
  std::map<std::string, int> gets_;
};

class IssuerKeysTest : public ::testing::Test {
 protected:
  IssuerKeysTest() : now_(std::make_shared<std::atomic<int64_t>>(kNow)) {}
  Clock FakeClock() const {
    auto now = now_;
    return [now] { return now->load(); };
  }
  std::unique_ptr<IssuerKeys> Keys(std::vector<TrustedIssuerConfig> issuers = {{kIdp}},
                                   IssuerKeys::Options options = IssuerKeys::Options()) {
    return std::make_unique<IssuerKeys>(std::move(issuers), dir_, idp_.Fetch(), FakeClock(),
                                        options);
  }
  static std::vector<std::string> Kids(const Result<std::vector<Jwk>>& keys) {
    std::vector<std::string> out;
    if (keys.ok()) {
      for (const Jwk& k : *keys) out.push_back(k.kid());
    }
    return out;
  }

  std::shared_ptr<std::atomic<int64_t>> now_;
  FakeIdp idp_;
  std::string dir_;
  const OpenSslKey ec_a_ = OpenSslKey::Generate("ES256");
  const OpenSslKey ec_b_ = OpenSslKey::Generate("ES256");
  const OpenSslKey rsa_ = OpenSslKey::Generate("RS256");
};

TEST(ParseJwksTest, KeepsSigningKeysAndSaysWhyNoneIsUsable) {
  const OpenSslKey ec = OpenSslKey::Generate("ES256");
  const OpenSslKey rsa = OpenSslKey::Generate("RS256");
  const OpenSslKey small_rsa = OpenSslKey::Generate("RS256", 1024);
  json enc = rsa.PublicJwk("enc-1");
  enc["use"] = "enc";
  json p384 = ec.PublicJwk("p384");
  p384["crv"] = "P-384";
  json crv_number = ec.PublicJwk("crv-number");
  crv_number["crv"] = 256;
  const json oct = {{"kty", "oct"}, {"kid", "hmac"}, {"k", "c2VjcmV0"}};

  Result<std::vector<Jwk>> keys = ParseJwks(json{
      {"keys",
       {enc, oct, ec.PublicJwk("ec-1"), p384, crv_number, rsa.PublicJwk("rsa-1"),
        small_rsa.PublicJwk("rsa-small")}}}.dump());
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].kid(), "ec-1");
  EXPECT_EQ((*keys)[0].algorithm(), JwsAlgorithm::kEs256);
  EXPECT_EQ((*keys)[1].kid(), "rsa-1");
  EXPECT_EQ((*keys)[1].algorithm(), JwsAlgorithm::kRs256);

  struct Case {
    const char* name;
    std::string text;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"not JSON", "<html>", "not a JWKS (a JSON object with a \"keys\" array)"},
      {"a list", "[]", "not a JWKS"},
      {"keys not a list", R"({"keys":{}})", "not a JWKS"},
      {"no keys", R"({"keys":[]})", "the JWKS holds no usable signing key"},
      {"only an encryption key", json{{"keys", {enc}}}.dump(), "(JWK \"use\" is not \"sig\")"},
      {"only an HMAC key", json{{"keys", {oct}}}.dump(),
       "JWK of type \"oct\": only RSA (RS256) and EC P-256"},
      {"only P-384", json{{"keys", {p384}}}.dump(),
       "EC JWK on curve \"P-384\": only P-256 (ES256) is accepted"},
      {"crv not a string", json{{"keys", {crv_number}}}.dump(), "EC JWK on curve 256"},
      {"only a 1024-bit RSA key", json{{"keys", {small_rsa.PublicJwk("s")}}}.dump(),
       "RSA JWK of 1024 bits"},
      {"alg of another key type",
       json{{"keys", {[&] {
               json k = ec.PublicJwk("e");
               k["alg"] = "RS256";
               return k;
             }()}}}
           .dump(),
       "JWK \"alg\" \"RS256\" does not fit its key type"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Result<std::vector<Jwk>> r = ParseJwks(c.text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(Contains(r.status().message(), c.reason)) << r.status().message();
  }
}

TEST_F(IssuerKeysTest, JwksFilesAreReadAtLoadAndErrorsNameTheFile) {
  oncomesh::testing::OpenSslKey key = OpenSslKey::Generate("ES256");
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("issuer-keys-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  dir_ = dir.string();
  std::ofstream(dir / "good.jwks.json") << json{{"keys", {key.PublicJwk("file-key")}}}.dump();
  std::ofstream(dir / "broken.jwks.json") << "{\"keys\": [";
  std::ofstream(dir / "empty.jwks.json") << R"({"keys": []})";

  // A relative path is relative to the node directory; an absolute one is taken as is.
  for (const std::string& file :
       {std::string("good.jwks.json"), (dir / "good.jwks.json").string()}) {
    SCOPED_TRACE(file);
    auto keys = Keys({{"https://file-issuer.test", "", file}});
    ASSERT_TRUE(keys->LoadFiles().ok());
    EXPECT_EQ(Kids(keys->KeysFor("https://file-issuer.test", "file-key", "ES256")),
              std::vector<std::string>{"file-key"});
    // Keys from a file are never fetched, however old, and an unknown kid is simply unknown.
    now_->store(kNow + int64_t{10} * 86400);
    Result<std::vector<Jwk>> unknown =
        keys->KeysFor("https://file-issuer.test", "rotated", "ES256");
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
    EXPECT_EQ(unknown.status().message(),
              "issuer 'https://file-issuer.test' has no ES256 key \"rotated\"");
    EXPECT_EQ(Kids(keys->KeysFor("https://file-issuer.test", "file-key", "ES256")),
              std::vector<std::string>{"file-key"});
    EXPECT_EQ(keys->JwksUri("https://file-issuer.test"), "");
    now_->store(kNow);
  }
  EXPECT_EQ(idp_.Gets(kConfigUrl), 0);

  struct Case {
    const char* file;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"missing.jwks.json", "trusted issuer 'https://file-issuer.test': cannot read jwks_file " +
                                (dir / "missing.jwks.json").string()},
      {"broken.jwks.json", "trusted issuer 'https://file-issuer.test': " +
                               (dir / "broken.jwks.json").string() + ": not a JWKS"},
      {"empty.jwks.json",
       "trusted issuer 'https://file-issuer.test': " + (dir / "empty.jwks.json").string() +
           ": the JWKS holds no usable signing key"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    auto keys = Keys({{"https://file-issuer.test", "", c.file}});
    Status st = keys->LoadFiles();
    EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
    EXPECT_TRUE(Contains(st.message(), c.message)) << st.message();
  }
  std::filesystem::remove_all(dir);
}

TEST_F(IssuerKeysTest, DiscoversTheJwksUriThenFetchesTheKeys) {
  idp_.ServeKeys({ec_a_.PublicJwk("a"), rsa_.PublicJwk("r"), ec_b_.PublicJwk("b")});
  auto keys = Keys();
  EXPECT_EQ(keys->JwksUri(kIdp), "");
  EXPECT_EQ(Kids(keys->KeysFor(kIdp, "a", "ES256")), std::vector<std::string>{"a"});
  EXPECT_EQ(keys->JwksUri(kIdp), kJwksUrl);
  EXPECT_EQ(idp_.Gets(kConfigUrl), 1);
  EXPECT_EQ(idp_.Gets(kJwksUrl), 1);
  // Cached: no more GETs. No kid: every key of the token's algorithm; a kid of another
  // algorithm is not a match.
  EXPECT_EQ(Kids(keys->KeysFor(kIdp, "", "ES256")), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Kids(keys->KeysFor(kIdp, "r", "RS256")), std::vector<std::string>{"r"});
  EXPECT_EQ(Kids(keys->KeysFor(kIdp, "", "RS256")), std::vector<std::string>{"r"});
  EXPECT_EQ(idp_.Gets(kJwksUrl), 1);
  now_->store(kNow + 30);
  Result<std::vector<Jwk>> confused = keys->KeysFor(kIdp, "r", "ES256");
  ASSERT_FALSE(confused.ok());
  EXPECT_EQ(confused.status().code(), StatusCode::kNotFound);
  // The discovered jwks_uri is used from then on.
  EXPECT_EQ(idp_.Gets(kConfigUrl), 1);
  EXPECT_EQ(idp_.Gets(kJwksUrl), 2);

  Result<std::vector<Jwk>> untrusted = keys->KeysFor("https://other.test", "a", "ES256");
  ASSERT_FALSE(untrusted.ok());
  EXPECT_EQ(untrusted.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(untrusted.status().message(),
            "issuer 'https://other.test' is not trusted by this node");
}

TEST_F(IssuerKeysTest, AConfiguredJwksUriSkipsDiscoveryAndATrailingSlashIsDropped) {
  idp_.ServeKeys({ec_a_.PublicJwk("a")});
  auto keys = Keys({{kIdp, kJwksUrl}});
  EXPECT_EQ(keys->JwksUri(kIdp), kJwksUrl);
  EXPECT_EQ(Kids(keys->KeysFor(kIdp, "a", "ES256")), std::vector<std::string>{"a"});
  EXPECT_EQ(idp_.Gets(kConfigUrl), 0);

  // OIDC Discovery section 4: "<issuer>/.well-known/…" without doubling a trailing slash; the
  // configuration must still name the issuer exactly as configured.
  idp_.Serve(kConfigUrl, json{{"issuer", "https://idp.test/"}, {"jwks_uri", kJwksUrl}}.dump());
  auto slash = Keys({{"https://idp.test/"}});
  EXPECT_EQ(Kids(slash->KeysFor("https://idp.test/", "a", "ES256")), std::vector<std::string>{"a"});
  EXPECT_EQ(idp_.Gets(kConfigUrl), 1);
}

TEST_F(IssuerKeysTest, BadDiscoveryAnswersAreRefusedWithTheirReason) {
  const std::string good_jwks = json{{"keys", {ec_a_.PublicJwk("a")}}}.dump();
  json enc = rsa_.PublicJwk("enc");
  enc["use"] = "enc";
  struct Case {
    const char* name;
    Result<std::string> config;
    Result<std::string> jwks;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"configuration unreachable",
       Unavailable("GET " + std::string(kConfigUrl) + ": TLS: certificate verify failed"),
       good_jwks,
       "keys of issuer 'https://idp.test': GET https://idp.test/.well-known/openid-configuration: "
       "TLS: "
       "certificate verify failed"},
      {"configuration not JSON", std::string("<html>"), good_jwks,
       "its OpenID configuration has no jwks_uri"},
      {"configuration without jwks_uri", json{{"issuer", kIdp}}.dump(), good_jwks,
       "has no jwks_uri"},
      {"jwks_uri not a string", json{{"issuer", kIdp}, {"jwks_uri", 1}}.dump(), good_jwks,
       "has no jwks_uri"},
      {"another issuer", json{{"issuer", "https://evil.test"}, {"jwks_uri", kJwksUrl}}.dump(),
       good_jwks, "its OpenID configuration names issuer \"https://evil.test\""},
      {"issuer with a trailing slash",
       json{{"issuer", "https://idp.test/"}, {"jwks_uri", kJwksUrl}}.dump(), good_jwks,
       "names issuer \"https://idp.test/\""},
      {"no issuer", json{{"jwks_uri", kJwksUrl}}.dump(), good_jwks, "names issuer none"},
      {"issuer not a string", json{{"issuer", 42}, {"jwks_uri", kJwksUrl}}.dump(), good_jwks,
       "names issuer 42"},
      {"http jwks_uri", json{{"issuer", kIdp}, {"jwks_uri", "http://idp.test/jwks"}}.dump(),
       good_jwks, "jwks_uri 'http://idp.test/jwks' is not https"},
      {"JWKS unreachable", json{{"issuer", kIdp}, {"jwks_uri", kJwksUrl}}.dump(),
       Unavailable("HTTP 500"), "HTTP 500"},
      {"JWKS not a JWKS", json{{"issuer", kIdp}, {"jwks_uri", kJwksUrl}}.dump(), std::string("{}"),
       "keys of issuer 'https://idp.test' at https://idp.test/oidc/jwks: not a JWKS"},
      {"JWKS of encryption keys only", json{{"issuer", kIdp}, {"jwks_uri", kJwksUrl}}.dump(),
       json{{"keys", {enc}}}.dump(), "holds no usable signing key"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    idp_.Serve(kConfigUrl, c.config);
    idp_.Serve(kJwksUrl, c.jwks);
    auto keys = Keys();
    Result<std::vector<Jwk>> r = keys->KeysFor(kIdp, "a", "ES256");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
    EXPECT_TRUE(Contains(r.status().message(), c.reason)) << r.status().message();
    // Within the refresh interval the same error comes back without asking again.
    const int gets = idp_.Gets(kConfigUrl);
    Result<std::vector<Jwk>> again = keys->KeysFor(kIdp, "a", "ES256");
    EXPECT_EQ(again.status().message(), r.status().message());
    EXPECT_EQ(idp_.Gets(kConfigUrl), gets);
  }
  // Encryption keys beside a signing key are skipped, not fatal.
  idp_.Serve(kConfigUrl, json{{"issuer", kIdp}, {"jwks_uri", kJwksUrl}}.dump());
  idp_.ServeKeys({enc, ec_a_.PublicJwk("a")});
  EXPECT_EQ(Kids(Keys()->KeysFor(kIdp, "", "ES256")), std::vector<std::string>{"a"});
  EXPECT_FALSE(Keys()->KeysFor(kIdp, "enc", "RS256").ok());
}

TEST_F(IssuerKeysTest, AnUnknownKidRefreshesAtMostOncePerInterval) {
  IssuerKeys::Options options;
  options.min_refresh_seconds = 10;
  idp_.ServeKeys({ec_a_.PublicJwk("a")});
  auto keys = Keys({{kIdp}}, options);
  ASSERT_EQ(Kids(keys->KeysFor(kIdp, "a", "ES256")), std::vector<std::string>{"a"});
  ASSERT_EQ(idp_.Gets(kJwksUrl), 1);

  // The provider rotates to "b". Within 10 s of the last fetch, a flood of tokens with unknown
  // (made-up or new) kids makes no request at all.
  idp_.ServeKeys({ec_b_.PublicJwk("b")});
  for (int i = 0; i < 100; ++i) {
    now_->store(kNow + i / 11);  // 0..9 s later
    Result<std::vector<Jwk>> r = keys->KeysFor(kIdp, "made-up-" + std::to_string(i), "ES256");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  }
  EXPECT_FALSE(keys->KeysFor(kIdp, "b", "ES256").ok());
  EXPECT_EQ(idp_.Gets(kJwksUrl), 1);
  // The old key still works meanwhile.
  EXPECT_EQ(Kids(keys->KeysFor(kIdp, "a", "ES256")), std::vector<std::string>{"a"});

  // 10 s on, the first unknown kid fetches again (once) and finds the new key; the old one is gone.
  now_->store(kNow + 10);
  EXPECT_EQ(Kids(keys->KeysFor(kIdp, "b", "ES256")), std::vector<std::string>{"b"});
  EXPECT_EQ(idp_.Gets(kJwksUrl), 2);
  Result<std::vector<Jwk>> old = keys->KeysFor(kIdp, "a", "ES256");
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.status().message(), "issuer 'https://idp.test' has no ES256 key \"a\"");
  for (int i = 0; i < 50; ++i)
    EXPECT_FALSE(keys->KeysFor(kIdp, "x" + std::to_string(i), "ES256").ok());
  EXPECT_EQ(idp_.Gets(kJwksUrl), 2);
  EXPECT_EQ(idp_.Gets(kConfigUrl), 1);
}

TEST_F(IssuerKeysTest, ConcurrentUnknownKidsMakeOneFetch) {
  idp_.ServeKeys({ec_a_.PublicJwk("a")});
  idp_.delay_ms_ = 50;  // every caller arrives while the first fetch is under way
  auto keys = Keys();
  std::vector<std::thread> threads;
  std::atomic<int> found{0};
  threads.reserve(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      if (keys->KeysFor(kIdp, i % 2 ? "a" : "unknown", "ES256").ok()) ++found;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(found.load(), 4);
  EXPECT_EQ(idp_.Gets(kConfigUrl), 1);
  EXPECT_EQ(idp_.Gets(kJwksUrl), 1);
}

TEST_F(IssuerKeysTest, KeysAreRefreshedWhenOldAndKeptWhileTheProviderIsDown) {
  IssuerKeys::Options options;
  options.max_age_seconds = 3600;
  idp_.ServeKeys({ec_a_.PublicJwk("a")});
  auto keys = Keys({{kIdp}}, options);
  ASSERT_TRUE(keys->KeysFor(kIdp, "a", "ES256").ok());
  now_->store(kNow + 3599);
  ASSERT_TRUE(keys->KeysFor(kIdp, "a", "ES256").ok());
  EXPECT_EQ(idp_.Gets(kJwksUrl), 1);
  // Older than max_age: fetched again on next use, even for a known kid.
  now_->store(kNow + 3600);
  ASSERT_TRUE(keys->KeysFor(kIdp, "a", "ES256").ok());
  EXPECT_EQ(idp_.Gets(kJwksUrl), 2);

  // The provider goes down: the keys it last published keep working, a new kid cannot be had.
  idp_.Down();
  now_->store(kNow + int64_t{2} * 3600 + 1);
  EXPECT_EQ(Kids(keys->KeysFor(kIdp, "a", "ES256")), std::vector<std::string>{"a"});
  EXPECT_EQ(idp_.Gets(kJwksUrl), 3);
  now_->store(kNow + int64_t{2} * 3600 + 20);
  Result<std::vector<Jwk>> unknown = keys->KeysFor(kIdp, "new", "ES256");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(unknown.status().message(), "Connection refused"))
      << unknown.status().message();
  EXPECT_EQ(Kids(keys->KeysFor(kIdp, "a", "ES256")), std::vector<std::string>{"a"});
}

TEST_F(IssuerKeysTest, AddedKeysAreFixed) {
  auto keys = Keys({{kIdp}});
  keys->AddKeys(kIdp, {*Jwk::Parse(ec_a_.PublicJwk("own"))});
  keys->AddKeys("urn:oncomesh:node:n1", {*Jwk::Parse(ec_b_.PublicJwk("node"))});
  EXPECT_EQ(Kids(keys->KeysFor(kIdp, "own", "ES256")), std::vector<std::string>{"own"});
  EXPECT_EQ(Kids(keys->KeysFor("urn:oncomesh:node:n1", "", "ES256")),
            std::vector<std::string>{"node"});
  Result<std::vector<Jwk>> r = keys->KeysFor(kIdp, "other", "ES256");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(idp_.Gets(kConfigUrl), 0);
}

}  // namespace
}  // namespace oncomesh::auth
