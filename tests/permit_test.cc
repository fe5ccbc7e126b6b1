// The permit workflow end to end: `oncomesh permit` on a node directory and through a serving
// node's admin API; DUO matching decides approval (or an audited override); an approved
// permit's visas, put in a broker's passport, open record-level results; revocation closes
// them at once; the node's JWKS verifies its visas with OpenSSL alone; the audit trail holds
// every decision and verifies.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "node/node_dir.h"
#include "support/openssl_signer.h"
#include "support/process.h"
#include "support/test_access.h"

namespace oncomesh::testing {
namespace {

using nlohmann::json;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Sets the first dataset's data-use conditions in node.yaml.
void SetDataUse(const std::string& node_dir, const std::string& yaml) {
  Result<node::NodeConfig> config =
      node::ParseNodeConfig(ReadAll(node_dir + "/node.yaml"), "node.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  std::string text = node::NodeConfigToYaml(*config);
  const std::string marker = "  - id: " + config->datasets[0].id + "\n";
  const size_t at = text.find(marker);
  ASSERT_NE(at, std::string::npos) << text;
  text.insert(at + marker.size(), yaml);
  std::ofstream(node_dir + "/node.yaml") << text;
  ASSERT_TRUE(node::ParseNodeConfig(text, "node.yaml").ok()) << text;
}

std::string PermitId(const std::string& output) {
  const size_t at = output.find("permit-");
  return at == std::string::npos ? "" : output.substr(at, 23);
}

class PermitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = dir_.path() + "/node";
    const std::string fhir = dir_.path() + "/fhir";
    std::string out;
    ASSERT_EQ(RunCommand({OncomeshBinary(), "synth", "--site", "permits", "--individuals", "300",
                          "--seed", "11", "--genomes", "60", "--genome-sites", "400", "--images",
                          "0", "--out", fhir},
                         &out),
              0)
        << out;
    ASSERT_EQ(
        RunCommand({OncomeshBinary(), "node", "init", "--dir", node_, "--name", "permits"}, &out),
        0)
        << out;
    TrustBroker(node_, broker_, "https://ega.oncomesh.test/datasets/UNUSED");
    // Carcinoma research only, not for profit (DUO DS + NPU).
    SetDataUse(node_, "    data_use: {id: DS, diseases: [NCIT:C2916], modifiers: [NPU]}\n");
    ASSERT_EQ(RunCommand({OncomeshBinary(), "ingest", "fhir", "--dir", node_, fhir}, &out), 0)
        << out;
    ASSERT_EQ(
        RunCommand({OncomeshBinary(), "ingest", "vcf", "--dir", node_, fhir + "/genomes.vcf.gz"},
                   &out),
        0)
        << out;
  }

  int Permit(std::vector<std::string> args, std::string* out) {
    args.insert(args.begin(), {OncomeshBinary(), "permit"});
    args.insert(args.begin() + 3, {"--dir", node_});
    return RunCommand(args, out);
  }
  std::string Request(const std::string& purpose) {
    std::string out;
    EXPECT_EQ(
        Permit({"request", "--sub", "researcher-1", "--iss", broker_.issuer(), "--dataset",
                "default", "--purpose", purpose, "--project", "Lung cancer drivers", "--summary",
                "KRAS and EGFR carriers in NSCLC", "--days", "90", "--by", "alice"},
               &out),
        0)
        << out;
    return PermitId(out);
  }

  TempDir dir_;
  std::string node_;
  TestBroker broker_;
};

TEST_F(PermitTest, DuoDecidesApprovalVisasOpenRecordsAndRevocationClosesThemAtOnce) {
  std::string out;
  // 1. A purpose the consent does not allow: approval is refused with the matcher's reasons,
  //    an explicit override is recorded.
  const std::string commercial =
      Request(R"({"id": "DS", "diseases": ["NCIT:C4878"], "commercial": true})");
  ASSERT_FALSE(commercial.empty());
  EXPECT_EQ(Permit({"approve", commercial, "--by", "dac-chair"}, &out), 1) << out;
  EXPECT_NE(out.find("does not match"), std::string::npos) << out;
  EXPECT_NE(out.find("NPU"), std::string::npos) << out;
  ASSERT_EQ(Permit({"show", commercial, "--json"}, &out), 0) << out;
  EXPECT_EQ(json::parse(out)["status"], "requested");
  ASSERT_EQ(Permit({"approve", commercial, "--by", "dac-chair", "--override",
                    "academic spin-off, board decision 12"},
                   &out),
            0)
      << out;
  EXPECT_NE(out.find("OVERRIDE:   academic spin-off"), std::string::npos) << out;
  ASSERT_EQ(
      Permit({"revoke", commercial, "--by", "dac-chair", "--reason", "board decision withdrawn"},
             &out),
      0);

  // 2. Lung carcinoma research under DS carcinoma (the disease hierarchy), not for profit.
  const std::string id =
      Request(R"({"id": "DS", "diseases": ["NCIT:C4878"], "not_for_profit_organisation": true})");
  ASSERT_EQ(Permit({"show", id}, &out), 0) << out;
  EXPECT_NE(out.find("DUO match default: compatible"), std::string::npos) << out;
  ASSERT_EQ(Permit({"approve", id, "--by", "dac-chair", "--reason", "consent allows it"}, &out), 0)
      << out;
  EXPECT_EQ(Permit({"approve", id, "--by", "dac-chair"}, &out), 1);  // not twice
  EXPECT_NE(out.find("is approved"), std::string::npos) << out;
  ASSERT_EQ(Permit({"visas", id}, &out), 0) << out;
  const std::string visa = out.substr(0, out.find('\n'));
  ASSERT_EQ(std::count(visa.begin(), visa.end(), '.'), 2) << out;

  // 3. Serve; the node's JWKS verifies the visa with OpenSSL alone.
  ChildProcess server({OncomeshBinary(), "node", "serve", "--dir", node_, "--port", "0"});
  const uint16_t port = PortOf(server.WaitForLine("node "));
  ASSERT_NE(port, 0) << server.output();
  Result<http::Response> jwks = http::Fetch("127.0.0.1", port, "GET", "/.well-known/jwks.json");
  ASSERT_TRUE(jwks.ok());
  EXPECT_TRUE(OpenSslKey::VerifyWithJwk(visa, json::parse(jwks->body)["keys"][0]));
  Result<http::Response> discovery =
      http::Fetch("127.0.0.1", port, "GET", "/.well-known/openid-configuration");
  ASSERT_TRUE(discovery.ok());
  EXPECT_EQ(json::parse(discovery->body)["issuer"], "urn:oncomesh:node:permits");

  // 4. The broker's passport carrying the node's visa: record-level results.
  TestBroker::VisaSpec status;
  const std::string passport = broker_.Passport({broker_.Visa(status), visa});
  const std::string records = "/api/g_variants?requestedGranularity=record&limit=5";
  auto get = [&](const std::string& bearer) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!bearer.empty()) headers.emplace_back("Authorization", "Bearer " + bearer);
    Result<http::Response> r =
        http::Fetch("127.0.0.1", port, "GET", records, "", std::chrono::seconds(30), headers);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : http::Response{};
  };
  http::Response granted = get(passport);
  ASSERT_EQ(granted.status, 200) << granted.body;
  EXPECT_EQ(json::parse(granted.body)["meta"]["returnedGranularity"], "record");
  EXPECT_FALSE(json::parse(granted.body)["response"]["resultSets"][0]["results"].empty());
  // Without the node's visa: registered only.
  EXPECT_EQ(get(broker_.Registered()).status, 403);

  // 5. The admin API: refused without the token; revocation through `oncomesh permit` goes
  //    to the serving node (it holds the audit log) and applies at once to the same passport.
  Result<http::Response> anonymous_admin = http::Fetch("127.0.0.1", port, "GET", "/admin/permits");
  ASSERT_TRUE(anonymous_admin.ok());
  EXPECT_EQ(anonymous_admin->status, 401);
  Result<http::Response> wrong_admin =
      http::Fetch("127.0.0.1", port, "GET", "/admin/permits", "", std::chrono::seconds(30),
                  {{"Authorization", "Bearer 00"}});
  ASSERT_TRUE(wrong_admin.ok());
  EXPECT_EQ(wrong_admin->status, 401);
  ASSERT_EQ(
      Permit({"revoke", id, "--by", "dac-chair", "--reason", "consent withdrawn by the biobank"},
             &out),
      0)
      << out;
  http::Response revoked = get(passport);
  EXPECT_EQ(revoked.status, 403) << revoked.body;
  EXPECT_NE(revoked.body.find("revoked"), std::string::npos) << revoked.body;
  EXPECT_EQ(revoked.body.find("caseLevelData"), std::string::npos);
  ASSERT_EQ(Permit({"list", "--json"}, &out), 0) << out;
  EXPECT_EQ(json::parse(out)["permits"].size(), 2u);
  server.Terminate();

  // 6. The audit trail holds every decision, the override with its reason, and verifies.
  ASSERT_EQ(RunCommand({OncomeshBinary(), "audit", "verify", "--dir", node_}, &out), 0) << out;
  std::string log;
  for (const auto& f : std::filesystem::directory_iterator(node_ + "/audit")) {
    if (f.path().extension() == ".jsonl") log += ReadAll(f.path().string());
  }
  EXPECT_NE(log.find("\"override\""), std::string::npos);
  // The refused approval attempt (no override) is recorded with the matcher's reason.
  EXPECT_NE(log.find("\"approval-refused\""), std::string::npos);
  EXPECT_NE(log.find("purpose does not match:"), std::string::npos);
  EXPECT_NE(log.find("academic spin-off, board decision 12"), std::string::npos);
  EXPECT_NE(log.find("consent withdrawn by the biobank"), std::string::npos);
  size_t decisions = 0;
  for (size_t at = log.find("\"type\":\"permit\""); at != std::string::npos;
       at = log.find("\"type\":\"permit\"", at + 1)) {
    ++decisions;
  }
  EXPECT_EQ(decisions,
            7u);  // two requests, the refused approval, the override, the approval, two revocations
}

TEST_F(PermitTest, BadRequestsAreRefusedNamingTheField) {
  std::string out;
  EXPECT_EQ(Permit({"request", "--sub", "r", "--iss", "i", "--dataset", "nope", "--purpose",
                    "{\"id\":\"HMB\"}", "--project", "p", "--summary", "s"},
                   &out),
            1);
  EXPECT_NE(out.find("no dataset 'nope'"), std::string::npos) << out;
  EXPECT_EQ(Permit({"request", "--sub", "r", "--iss", "i", "--dataset", "default", "--purpose",
                    "{\"id\":\"XYZ\"}", "--project", "p", "--summary", "s"},
                   &out),
            1);
  EXPECT_NE(out.find("purpose"), std::string::npos) << out;
  EXPECT_NE(out.find("XYZ"), std::string::npos) << out;
  EXPECT_EQ(Permit({"approve", "permit-0000000000000000"}, &out), 1);
  EXPECT_NE(out.find("permit-0000000000000000"), std::string::npos) << out;
  EXPECT_EQ(Permit({"reject", "permit-0000000000000000", "--reason", ""}, &out), 1);
}

}  // namespace
}  // namespace oncomesh::testing
