// GA4GH Passports from a real HTTPS issuer whose tokens are made by an independent JWT library:
// tests/jose-issuer/issuer.mjs (Node.js, the npm package `jose`) publishes its OpenID
// configuration and JWKS over HTTPS with a certificate made here by the `openssl` command (a
// test CA and a server certificate for 127.0.0.1 and localhost), and mints passports and visas
// with jose's SignJWT under ES256 and RS256 keys jose generated at start-up. A real `oncomesh
// node serve` trusts that issuer by its https URL only (OpenID Connect Discovery), with the
// test CA as access.ca_file; the test talks HTTP to the node (counts on /api/individuals,
// variant records with their carriers on /api/g_variants). Also http::FetchHttps, directly,
// against the same server.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "http/http.h"
#include "node/node_dir.h"
#include "support/beacon_bodies.h"
#include "support/process.h"
#include "support/suite_fixture.h"

namespace oncomesh::testing {
namespace {

using nlohmann::json;

const char* const kGrant = "https://ega.jose.test/datasets/EGAD0001";
const char* const kBonaFide = "https://doi.org/10.1038/s41431-018-0219-y";

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string IssuerDir() { return std::string(ONCOMESH_SOURCE_DIR) + "/tests/jose-issuer"; }

// `openssl` with arguments; aborts the test (via the returned text) when it fails.
std::string OpenSsl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out;
  if (RunCommand(argv, &out) != 0) return "openssl failed: " + out;
  return "";
}

// A test CA and certificates it signs, made with the openssl command line.
class TestPki {
 public:
  explicit TestPki(std::string dir) : dir_(std::move(dir)) {}
  // A self-signed CA (EC P-256) as DIR/NAME.pem + DIR/NAME.key.
  std::string MakeCa(const std::string& name) {
    return OpenSsl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", Key(name), "-out", Pem(name), "-days", "2", "-subj",
                    "/CN=OncoMesh test CA " + name, "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
  }
  // A server certificate signed by CA `ca` with subjectAltName `san`
  // ("DNS:localhost,IP:127.0.0.1").
  std::string MakeServer(const std::string& name, const std::string& ca, const std::string& san) {
    const std::string ext = dir_ + "/" + name + ".ext";
    std::ofstream(ext) << "subjectAltName=" << san
                       << "\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
                       << "extendedKeyUsage=serverAuth\n";
    std::string err =
        OpenSsl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                 Key(name), "-out", dir_ + "/" + name + ".csr", "-subj", "/CN=" + name});
    if (!err.empty()) return err;
    return OpenSsl({"x509", "-req", "-in", dir_ + "/" + name + ".csr", "-CA", Pem(ca), "-CAkey",
                    Key(ca), "-CAcreateserial", "-out", Pem(name), "-days", "2", "-extfile", ext});
  }
  std::string Pem(const std::string& name) const { return dir_ + "/" + name + ".pem"; }
  std::string Key(const std::string& name) const { return dir_ + "/" + name + ".key"; }

 private:
  std::string dir_;
};

// tests/jose-issuer/issuer.mjs running with a certificate.
class JoseIssuer {
 public:
  JoseIssuer(const std::string& cert, const std::string& key, const std::string& host = "127.0.0.1")
      : process_({"/usr/bin/env", "node", IssuerDir() + "/issuer.mjs", "--cert", cert, "--key", key,
                  "--issuer-host", host}) {
    // "issuer https://HOST:PORT control http://127.0.0.1:PORT"
    std::istringstream line(process_.WaitForLine("issuer ", std::chrono::seconds(30)));
    std::string word, control;
    line >> word >> url_ >> word >> control;
    control_port_ = PortOf(control);
    port_ = PortOf(url_);
  }
  bool ok() const { return port_ != 0 && control_port_ != 0; }
  const std::string& url() const { return url_; }
  uint16_t port() const { return port_; }

  // A passport minted by jose (see issuer.mjs for `spec`); "" on failure.
  std::string Passport(const json& spec) const {
    Result<http::Response> r = FetchBeacon("127.0.0.1", control_port_, "POST", "/passport",
                                           spec.dump(), std::chrono::seconds(30));
    if (!r.ok() || r->status != 200) return "";
    return json::parse(r->body).value("token", "");
  }
  std::string Registered(const std::string& alg = "ES256") const {
    return Passport(
        {{"alg", alg},
         {"visas", {{{"type", "ResearcherStatus"}, {"value", kBonaFide}, {"by", "so"}}}}});
  }
  std::string Permitted(const std::string& alg = "ES256") const {
    return Passport({{"alg", alg},
                     {"visas",
                      {{{"type", "ResearcherStatus"}, {"value", kBonaFide}, {"by", "so"}},
                       {{"type", "AcceptedTermsAndPolicies"},
                        {"value", "https://jose.test/terms"},
                        {"by", "self"}},
                       {{"type", "ControlledAccessGrants"}, {"value", kGrant}, {"by", "dac"}}}}});
  }
  json Stats() const {
    Result<http::Response> r =
        FetchBeacon("127.0.0.1", control_port_, "GET", "/stats", "", std::chrono::seconds(10));
    return r.ok() ? json::parse(r->body, nullptr, false) : json();
  }
  json Rotate() const {
    Result<http::Response> r =
        FetchBeacon("127.0.0.1", control_port_, "POST", "/rotate", "", std::chrono::seconds(30));
    return r.ok() ? json::parse(r->body, nullptr, false) : json();
  }

 private:
  ChildProcess process_;
  std::string url_;
  uint16_t port_ = 0;
  uint16_t control_port_ = 0;
};

class PassportHttpsTest : public ::oncomesh::testing::SuiteFixture<PassportHttpsTest> {
  friend class ::oncomesh::testing::SuiteFixture<PassportHttpsTest>;  // calls SetUpSuite

 protected:
  static void SetUpSuite() {
    ASSERT_TRUE(std::filesystem::exists(IssuerDir() + "/node_modules/jose"))
        << "run scripts/install-deps.sh (npm ci in tests/jose-issuer)";
    dir_ = new TempDir();
    pki_ = new TestPki(dir_->path());
    ASSERT_EQ(pki_->MakeCa("ca"), "");
    ASSERT_EQ(pki_->MakeServer("server", "ca", "DNS:localhost,IP:127.0.0.1"), "");
    issuer_ = new JoseIssuer(pki_->Pem("server"), pki_->Key("server"));
    ASSERT_TRUE(issuer_->ok()) << "the jose issuer did not start";
    // A small node: synthetic FHIR and genomes (no images), ingested before serving.
    fhir_ = dir_->path() + "/fhir";
    std::string out;
    ASSERT_EQ(RunCommand({OncomeshBinary(), "synth", "--site", "josetest", "--individuals", "300",
                          "--seed", "5", "--genomes", "150", "--genome-sites", "200", "--images",
                          "0", "--out", fhir_},
                         &out),
              0)
        << out;
  }
  static void TearDownTestSuite() {
    delete node_;
    node_ = nullptr;
    delete issuer_;
    delete pki_;
    delete dir_;
  }
  void TearDown() override {
    SuiteFixture<PassportHttpsTest>::TearDown();
    delete node_;
    node_ = nullptr;
  }

  // Initialises, configures (trusting the jose issuer by URL only; the test CA as ca_file when
  // `with_ca`), ingests and serves a node; returns its port (0 on failure).
  static uint16_t StartNode(const std::string& name, bool with_ca) {
    const std::string node = dir_->path() + "/" + name;
    std::string out;
    if (RunCommand({OncomeshBinary(), "node", "init", "--dir", node, "--name", name}, &out) != 0) {
      ADD_FAILURE() << out;
      return 0;
    }
    std::stringstream text;
    text << std::ifstream(node + "/node.yaml").rdbuf();
    Result<node::NodeConfig> config = node::ParseNodeConfig(text.str(), node + "/node.yaml");
    if (!config.ok()) {
      ADD_FAILURE() << config.status().ToString();
      return 0;
    }
    auth::TrustedIssuerConfig trusted;
    trusted.issuer = issuer_->url();  // no jwks_uri, no jwks_file: discovery over HTTPS
    trusted.visa_types = {"ResearcherStatus", "AffiliationAndRole", "AcceptedTermsAndPolicies",
                          "LinkedIdentities", "ControlledAccessGrants"};
    config->access.trusted_issuers = {trusted};
    config->access.ca_file = with_ca ? pki_->Pem("ca") : "";
    config->datasets.at(0).grant_values = {kGrant};
    std::ofstream(node + "/node.yaml") << node::NodeConfigToYaml(*config);
    if (RunCommand({OncomeshBinary(), "ingest", "fhir", "--dir", node, fhir_}, &out) != 0 ||
        RunCommand({OncomeshBinary(), "ingest", "vcf", "--dir", node, fhir_ + "/genomes.vcf.gz"},
                   &out) != 0) {
      ADD_FAILURE() << out;
      return 0;
    }
    node_ = new ChildProcess({OncomeshBinary(), "node", "serve", "--dir", node, "--port", "0"});
    return PortOf(node_->WaitForLine("node "));
  }

  struct Answer {
    int status = 0;
    json body;
  };
  // POST /api/individuals with one filter at `granularity`, as `token` ("" = anonymous).
  static Answer Query(uint16_t port, const std::string& token,
                      const std::string& granularity = "count") {
    const json body = {{"meta", {{"apiVersion", "v2.0"}}},
                       {"query",
                        {{"filters", json::array({{{"id", "NCIT:C16576"}}})},
                         {"requestedGranularity", granularity}}}};
    std::vector<std::pair<std::string, std::string>> headers;
    if (!token.empty()) headers.push_back({"Authorization", "Bearer " + token});
    Result<http::Response> r = FetchBeacon("127.0.0.1", port, "POST", "/api/individuals",
                                           body.dump(), std::chrono::seconds(30), headers);
    if (!r.ok()) {
      ADD_FAILURE() << r.status().ToString();
      return {};
    }
    return {r->status, json::parse(r->body, nullptr, false)};
  }
  // GET /api/g_variants for KRAS's variants at record granularity, as `token`.
  static Answer KrasRecords(uint16_t port, const std::string& token) {
    Result<http::Response> r =
        FetchBeacon("127.0.0.1", port, "GET",
                    "/api/g_variants?geneId=KRAS&requestedGranularity=record&limit=100", "",
                    std::chrono::seconds(30), {{"Authorization", "Bearer " + token}});
    if (!r.ok()) {
      ADD_FAILURE() << r.status().ToString();
      return {};
    }
    return {r->status, json::parse(r->body, nullptr, false)};
  }
  static std::string ErrorMessage(const Answer& a) {
    return a.body.contains("error") ? a.body["error"].value("errorMessage", "")
                                    : "(no error: " + a.body.dump() + ")";
  }
  static std::string AccessLevel(const Answer& a) {
    return a.body.contains("info") ? a.body["info"].value("accessLevel", "") : "";
  }

  static TempDir* dir_;
  static TestPki* pki_;
  static JoseIssuer* issuer_;
  static std::string fhir_;
  static ChildProcess* node_;
};

TempDir* PassportHttpsTest::dir_ = nullptr;
TestPki* PassportHttpsTest::pki_ = nullptr;
JoseIssuer* PassportHttpsTest::issuer_ = nullptr;
std::string PassportHttpsTest::fhir_;
ChildProcess* PassportHttpsTest::node_ = nullptr;

TEST_F(PassportHttpsTest, JoseSignedPassportsGetCountsAndRecords) {
  const uint16_t port = StartNode("node-ca", true);
  ASSERT_NE(port, 0);
  // Anonymous: a boolean only.
  Answer anonymous = Query(port, "");
  EXPECT_EQ(anonymous.status, 200);
  EXPECT_EQ(AccessLevel(anonymous), "anonymous");

  for (const char* alg : {"ES256", "RS256"}) {
    SCOPED_TRACE(alg);
    const std::string registered = issuer_->Registered(alg);
    ASSERT_FALSE(registered.empty());
    Answer count = Query(port, registered);
    EXPECT_EQ(count.status, 200) << count.body.dump();
    EXPECT_EQ(AccessLevel(count), "registered");
    EXPECT_GT(count.body["responseSummary"].value("numTotalResults", 0), 0) << count.body.dump();
    // Registered is not permitted: records are refused, and the caller is told which grant
    // would do.
    Answer records = KrasRecords(port, registered);
    EXPECT_EQ(records.status, 403);
    EXPECT_TRUE(Contains(ErrorMessage(records), "record-level results need a data permit"))
        << ErrorMessage(records);
    EXPECT_TRUE(Contains(ErrorMessage(records), kGrant)) << ErrorMessage(records);

    const std::string permitted = issuer_->Permitted(alg);
    ASSERT_FALSE(permitted.empty());
    Answer granted = Query(port, permitted, "record");
    EXPECT_EQ(granted.status, 200) << granted.body.dump();
    EXPECT_EQ(AccessLevel(granted), "permitted");
    // Records: KRAS variants with the calls of their carriers.
    Answer variants = KrasRecords(port, permitted);
    ASSERT_EQ(variants.status, 200) << variants.body.dump();
    EXPECT_EQ(variants.body["meta"].value("returnedGranularity", ""), "record");
    const json& results = variants.body["response"]["resultSets"][0]["results"];
    ASSERT_FALSE(results.empty()) << variants.body.dump();
    size_t calls = 0;
    for (const json& v : results) {
      EXPECT_EQ(v["molecularAttributes"]["geneIds"][0], "KRAS") << v.dump();
      calls += v.value("caseLevelData", json::array()).size();
    }
    EXPECT_GT(calls, 0u) << variants.body.dump();
  }
  // Keys came from discovery once and were then reused for every token.
  const json stats = issuer_->Stats();
  EXPECT_EQ(stats.value("config_fetches", -1), 1) << stats.dump();
  EXPECT_EQ(stats.value("jwks_fetches", -1), 1) << stats.dump();
}

TEST_F(PassportHttpsTest, RefusedTokensSayWhy) {
  const uint16_t port = StartNode("node-refusals", true);
  ASSERT_NE(port, 0);
  struct Case {
    const char* name;
    json spec;
    int status;
    const char* reason;
  };
  const json status_visa = {{"type", "ResearcherStatus"}, {"value", kBonaFide}, {"by", "so"}};
  const std::vector<Case> cases = {
      {"expired",
       {{"expires_in", -3600}, {"visas", {status_visa}}},
       401,
       "passport expired 3600 s ago"},
      {"issued in the future",
       {{"iat_offset", 3600}, {"visas", {status_visa}}},
       401,
       "passport is issued in the future"},
      {"expired visa: not registered",
       {{"visas",
         {{{"type", "ResearcherStatus"},
           {"value", kBonaFide},
           {"by", "so"},
           {"expires_in", -3600}}}}},
       403,
       "visa expired 3600 s ago"},
      {"grant for another dataset",
       {{"visas",
         {status_visa,
          {{"type", "ControlledAccessGrants"},
           {"value", "https://ega.jose.test/datasets/OTHER"},
           {"by", "dac"}}}}},
       403,
       "no valid ControlledAccessGrants visa for"},
      {"visa of another subject",
       {{"visas",
         {status_visa,
          {{"type", "ControlledAccessGrants"},
           {"value", kGrant},
           {"by", "dac"},
           {"sub", "mallory"}}}}},
       403,
       "visa of 'mallory'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string token = issuer_->Passport(c.spec);
    ASSERT_FALSE(token.empty());
    Answer a = Query(port, token, "record");
    EXPECT_EQ(a.status, c.status) << a.body.dump();
    EXPECT_TRUE(Contains(ErrorMessage(a), c.reason)) << ErrorMessage(a);
    EXPECT_FALSE(a.body.contains("response")) << a.body.dump();
  }
  // A jose token carrying the signature of another jose token (its payload changed after signing).
  const std::string good = issuer_->Registered();
  const std::string other = issuer_->Registered();  // same header, another jti
  const std::string forged = good.substr(0, good.rfind('.')) + other.substr(other.rfind('.'));
  Answer a = Query(port, forged);
  EXPECT_EQ(a.status, 401);
  EXPECT_TRUE(Contains(ErrorMessage(a), "does not verify")) << ErrorMessage(a);
}

TEST_F(PassportHttpsTest, AfterKeyRotationTheNodeFetchesTheNewKeys) {
  const uint16_t port = StartNode("node-rotation", true);
  ASSERT_NE(port, 0);
  ASSERT_EQ(Query(port, issuer_->Registered()).status, 200);
  const auto first_fetch = std::chrono::steady_clock::now();
  ASSERT_EQ(issuer_->Stats().value("jwks_fetches", -1), 1);

  // The issuer rotates: new kids, the old keys are gone from its JWKS.
  const json rotated = issuer_->Rotate();
  ASSERT_EQ(rotated["kids"], json({"jose-es256-2", "jose-rs256-2"})) << rotated.dump();
  const std::string fresh = issuer_->Registered();
  // Within the node's refresh interval (10 s) an unknown kid makes no request: the token is
  // refused, saying which key is missing.
  Answer early = Query(port, fresh);
  EXPECT_EQ(early.status, 401) << early.body.dump();
  EXPECT_TRUE(Contains(ErrorMessage(early), "has no ES256 key \"jose-es256-2\""))
      << ErrorMessage(early);
  EXPECT_EQ(issuer_->Stats().value("jwks_fetches", -1), 1);

  // Once the interval is over, the same token makes the node fetch the new keys. Asked until
  // then (a poll with a deadline, not a sleep that a slow machine could outrun): every answer
  // before is the same refusal, and none of those asks makes a fetch. The node counts whole
  // seconds, so the interval may end up to a second early by this test's clock.
  Answer later = early;
  const auto deadline = first_fetch + std::chrono::seconds(40);
  while (later.status == 401 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    later = Query(port, fresh);
    if (later.status == 401) {
      EXPECT_TRUE(Contains(ErrorMessage(later), "has no ES256 key \"jose-es256-2\""))
          << ErrorMessage(later);
    }
  }
  EXPECT_GE(std::chrono::steady_clock::now() - first_fetch, std::chrono::seconds(9))
      << "the node fetched the keys again within its refresh interval";
  EXPECT_EQ(later.status, 200) << later.body.dump();
  EXPECT_EQ(AccessLevel(later), "registered");
  Answer rsa = Query(port, issuer_->Registered("RS256"));
  EXPECT_EQ(rsa.status, 200) << rsa.body.dump();
  const json stats = issuer_->Stats();
  EXPECT_EQ(stats.value("jwks_fetches", -1), 2) << stats.dump();
  EXPECT_EQ(stats.value("config_fetches", -1), 1) << stats.dump();
}

TEST_F(PassportHttpsTest, AnIssuerWhoseCertificateIsNotTrustedIsUnavailable) {
  // No ca_file: the test CA is not among the system's, so the node cannot fetch the keys.
  const uint16_t port = StartNode("node-no-ca", false);
  ASSERT_NE(port, 0);
  Answer a = Query(port, issuer_->Registered());
  EXPECT_EQ(a.status, 503) << a.body.dump();
  const std::string message = ErrorMessage(a);
  EXPECT_TRUE(Contains(message, "keys of issuer '" + issuer_->url() + "'")) << message;
  EXPECT_TRUE(Contains(message, issuer_->url() + "/.well-known/openid-configuration")) << message;
  EXPECT_TRUE(
      Contains(message, "certificate verify failed: unable to get local issuer certificate"))
      << message;
  EXPECT_EQ(issuer_->Stats().value("config_fetches", -1), 0);
}

TEST_F(PassportHttpsTest, FetchHttpsChecksTheCertificateTheStatusTheSizeAndTheTime) {
  const std::string ca = pki_->Pem("ca");
  const std::string& base = issuer_->url();
  const std::string by_name = "https://localhost:" + std::to_string(issuer_->port());

  Result<std::string> config = http::FetchHttps(base + "/.well-known/openid-configuration", ca);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(json::parse(*config)["jwks_uri"], base + "/jwks");
  Result<std::string> jwks = http::FetchHttps(by_name + "/jwks", ca);
  ASSERT_TRUE(jwks.ok()) << jwks.status().ToString();
  EXPECT_EQ(json::parse(*jwks)["keys"].size(), 2u);

  // Another CA, and the system's CAs alone, do not vouch for the server.
  ASSERT_EQ(pki_->MakeCa("rogue"), "");
  for (const std::string& other : {pki_->Pem("rogue"), std::string()}) {
    SCOPED_TRACE(other);
    Result<std::string> r = http::FetchHttps(base + "/jwks", other);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
    EXPECT_TRUE(
        Contains(r.status().message(), "GET " + base +
                                           "/jwks: TLS: certificate verify failed: unable to "
                                           "get local issuer certificate"))
        << r.status().message();
  }
  // A certificate of the right CA for another name.
  ASSERT_EQ(pki_->MakeServer("elsewhere", "ca", "DNS:elsewhere.test"), "");
  JoseIssuer elsewhere(pki_->Pem("elsewhere"), pki_->Key("elsewhere"));
  ASSERT_TRUE(elsewhere.ok());
  const std::string by_ip = elsewhere.url() + "/jwks";
  const std::string by_host = "https://localhost:" + std::to_string(elsewhere.port()) + "/jwks";
  for (const auto& [url, reason] :
       {std::pair{by_ip, "IP address mismatch"}, std::pair{by_host, "hostname mismatch"}}) {
    SCOPED_TRACE(url);
    Result<std::string> wrong_name = http::FetchHttps(url, ca);
    ASSERT_FALSE(wrong_name.ok());
    EXPECT_EQ(wrong_name.status().code(), StatusCode::kUnavailable);
    EXPECT_TRUE(Contains(wrong_name.status().message(),
                         std::string("TLS: certificate verify failed: ") + reason))
        << wrong_name.status().message();
  }

  for (int code : {404, 500, 301}) {
    Result<std::string> r = http::FetchHttps(base + "/status/" + std::to_string(code), ca);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
    EXPECT_EQ(r.status().message(),
              "GET " + base + "/status/" + std::to_string(code) + ": HTTP " + std::to_string(code));
  }
  Result<std::string> small =
      http::FetchHttps(base + "/big?bytes=1000", ca, std::chrono::seconds(5), 1000);
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  EXPECT_EQ(small->size(), 1000u);
  Result<std::string> big =
      http::FetchHttps(base + "/big?bytes=1001", ca, std::chrono::seconds(5), 1000);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(big.status().message(), "body limit exceeded")) << big.status().message();
  // The default limit (1 MiB) against a body of 3 MB, which arrives over many reads.
  Result<std::string> huge = http::FetchHttps(base + "/big?bytes=3000000", ca);
  ASSERT_FALSE(huge.ok());
  EXPECT_TRUE(Contains(huge.status().message(), "body limit exceeded")) << huge.status().message();

  Result<std::string> hang = http::FetchHttps(base + "/hang", ca, std::chrono::milliseconds(500));
  ASSERT_FALSE(hang.ok());
  EXPECT_EQ(hang.status().code(), StatusCode::kDeadlineExceeded) << hang.status().ToString();
  EXPECT_EQ(hang.status().message(), "GET " + base + "/hang: no answer within 500 ms");

  Result<std::string> plain =
      http::FetchHttps("http://127.0.0.1:" + std::to_string(issuer_->port()) + "/jwks", ca);
  EXPECT_EQ(plain.status().code(), StatusCode::kInvalidArgument);
  Result<std::string> userinfo =
      http::FetchHttps("https://user@127.0.0.1:" + std::to_string(issuer_->port()), ca);
  EXPECT_EQ(userinfo.status().code(), StatusCode::kInvalidArgument);
  Result<std::string> no_ca = http::FetchHttps(base + "/jwks", dir_->path() + "/missing-ca.pem");
  EXPECT_EQ(no_ca.status().code(), StatusCode::kFailedPrecondition);
  Result<std::string> refused =
      http::FetchHttps("https://127.0.0.1:" + std::to_string(FreePort()) + "/jwks", ca);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(refused.status().message(), "refused")) << refused.status().message();
}

}  // namespace
}  // namespace oncomesh::testing
