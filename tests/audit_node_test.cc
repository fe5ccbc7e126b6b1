// The audit log of a real `oncomesh node serve` process (issue 12): a clean stop after an
// interval checkpoint still closes the log, and refused admin credentials are audited without
// the credential.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "http/http.h"
#include "support/audit_entries.h"
#include "support/process.h"

namespace oncomesh::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Every complete line of the log's segments, in name (so seq) order, parsed; a line being
// written ends the read.
std::vector<json> AllEntries(const std::string& audit_dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(audit_dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("audit-", 0) == 0 && name.size() > 6 + 6 &&
        name.substr(name.size() - 6) == ".jsonl") {
      names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  std::vector<json> out;
  for (const std::string& name : names) {
    std::ifstream in(audit_dir + "/" + name);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t pos = 0;
    for (size_t nl; (nl = text.find('\n', pos)) != std::string::npos; pos = nl + 1) {
      json e = json::parse(text.substr(pos, nl - pos), nullptr, false);
      if (e.is_discarded()) return out;
      out.push_back(std::move(e));
    }
  }
  return out;
}

// Replaces `from` (which must occur) by `to` in NODE_DIR/node.yaml.
void EditNodeYaml(const std::string& node, const std::string& from, const std::string& to) {
  std::ifstream in(node + "/node.yaml");
  std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = yaml.find(from);
  ASSERT_NE(at, std::string::npos) << yaml;
  yaml.replace(at, from.size(), to);
  std::ofstream(node + "/node.yaml") << yaml;
}

class AuditNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_dir_ = tmp_.path() + "/node";
    std::string out;
    ASSERT_EQ(
        RunCommand({OncomeshBinary(), "node", "init", "--dir", node_dir_, "--name", "a"}, &out), 0)
        << out;
  }
  void Serve() {
    node_ = std::make_unique<ChildProcess>(std::vector<std::string>{
        OncomeshBinary(), "node", "serve", "--dir", node_dir_, "--port", "0"});
    port_ = PortOf(node_->WaitForLine("node "));
    ASSERT_NE(port_, 0) << node_->output();
  }
  http::Response Get(const std::string& target,
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
    Result<http::Response> r = http::Fetch("127.0.0.1", port_, "GET", target, "",
                                           std::chrono::seconds(30), std::move(headers));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::Response{};
  }

  TempDir tmp_;
  std::string node_dir_;
  std::unique_ptr<ChildProcess> node_;
  uint16_t port_ = 0;
};

// Issue 12 item 16: an idle node whose log ends with an interval checkpoint, stopped by
// SIGTERM, still ends its log with the checkpoint of a clean close.
TEST_F(AuditNodeTest, SigtermAfterAnIntervalCheckpointClosesTheLog) {
  EditNodeYaml(node_dir_, "checkpoint_interval_ms: 60000", "checkpoint_interval_ms: 50");
  Serve();
  ASSERT_EQ(Get("/api/individuals?requestedGranularity=boolean").status, 200);
  const std::string audit_dir = node_dir_ + "/audit";
  // Polls (deadline 60 s) until the interval checkpoint after the request is in the log.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool checkpointed = false;
  while (!checkpointed && std::chrono::steady_clock::now() < deadline) {
    const std::vector<json> entries = AllEntries(audit_dir);
    checkpointed = entries.size() >= 2 && entries.back().value("type", "") == "checkpoint" &&
                   entries.back()["checkpoint"].value("reason", "") == "interval" &&
                   entries[entries.size() - 2].value("type", "") == "request";
    if (!checkpointed) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(checkpointed) << "no interval checkpoint after the request within 60 s";

  EXPECT_EQ(node_->Terminate(), 0);
  std::string out;
  EXPECT_EQ(RunCommand({OncomeshBinary(), "audit", "verify", "--dir", node_dir_}, &out), 0) << out;
  EXPECT_NE(out.find("ends with the checkpoint of a clean close"), std::string::npos) << out;
  EXPECT_EQ(out.find("not closed"), std::string::npos) << out;
  const std::vector<json> entries = AllEntries(audit_dir);
  ASSERT_GE(entries.size(), 2u);
  const auto reason = [](const json& e) {
    return e.value("checkpoint", json::object()).value("reason", std::string());
  };
  EXPECT_EQ(reason(entries[entries.size() - 2]), "interval");
  EXPECT_EQ(reason(entries.back()), "close");
}

// Issue 12 item 15: every refused admin credential is a refusal entry (address, request,
// reason, what kind of credential came), and the presented token is nowhere in the log.
TEST_F(AuditNodeTest, RefusedAdminCredentialsAreAuditedWithoutTheToken) {
  Serve();
  const std::string wrong = "0123456789abcdef0123456789abcdef0123456789abcdef-not-this-nodes";
  struct Case {
    std::vector<std::pair<std::string, std::string>> headers;
    std::string target, presented, reason;
  };
  const std::vector<Case> cases = {
      {{}, "/admin/permits", "none", "the admin API needs"},
      {{{"Authorization", "Basic " + wrong}},
       "/admin/permits?status=approved",
       "not a bearer token",
       "takes a bearer token"},
      {{{"Authorization", "Bearer " + wrong}},
       "/admin/permits/p-1",
       "bearer token",
       "the admin token is not this node's"},
  };
  for (const Case& c : cases) EXPECT_EQ(Get(c.target, c.headers).status, 401) << c.target;
  // The right token is not a refusal, and a read is not audited.
  std::ifstream token_file(node_dir_ + "/admin.token");
  std::string token;
  std::getline(token_file, token);
  EXPECT_EQ(Get("/admin/permits", {{"Authorization", "Bearer " + token}}).status, 200);
  EXPECT_EQ(node_->Terminate(), 0);

  const std::vector<json> refusals = AuditRequestEntries(node_dir_ + "/audit");
  ASSERT_EQ(refusals.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(refusals[i].dump());
    const json& e = refusals[i];
    EXPECT_EQ(e["type"], "refusal");
    EXPECT_EQ(e["outcome"]["status"], 401);
    EXPECT_NE(e["outcome"]["reason"].get<std::string>().find(cases[i].reason), std::string::npos);
    EXPECT_EQ(e["caller"]["unverified"], true);
    EXPECT_EQ(e["caller"]["address"].get<std::string>().rfind("127.0.0.1:", 0), 0u);
    EXPECT_EQ(e["request"]["method"], "GET");
    const std::string target = cases[i].target;
    const size_t q = target.find('?');
    EXPECT_EQ(e["request"]["path"], target.substr(0, q));
    EXPECT_EQ(e["request"]["query"], q == std::string::npos ? "" : target.substr(q + 1));
    EXPECT_EQ(e["details"]["credentials"]["presented"], cases[i].presented);
  }
  // Neither the wrong token nor the node's own appears in any file of the log.
  for (const auto& f : fs::directory_iterator(node_dir_ + "/audit")) {
    std::ifstream in(f.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find(wrong.substr(0, 32)), std::string::npos) << f.path();
    EXPECT_EQ(bytes.find(token), std::string::npos) << f.path();
  }
  std::string out;
  EXPECT_EQ(RunCommand({OncomeshBinary(), "audit", "verify", "--dir", node_dir_}, &out), 0) << out;
}

}  // namespace
}  // namespace oncomesh::testing
