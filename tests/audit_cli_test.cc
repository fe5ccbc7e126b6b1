// `oncomesh audit verify|export|jwks` as an operator and a supervisory authority run them, on a
// node whose audit log is written by the audit module (as the node's handlers will write it).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "audit/entry.h"
#include "node/node_dir.h"
#include "support/process.h"

namespace oncomesh::testing {
namespace {

namespace fs = std::filesystem;

class AuditCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_dir_ = tmp_.path() + "/node";
    std::string output;
    ASSERT_EQ(RunCommand({OncomeshBinary(), "node", "init", "--dir", node_dir_, "--name", "site-a"},
                         &output),
              0)
        << output;
    Result<node::NodeDir> node = node::NodeDir::Open(node_dir_);
    ASSERT_TRUE(node.ok());
    audit::AuditOptions options;
    options.node_name = "site-a";
    options.signing_key = node->signing_key();
    options.checkpoint_entries = 10;
    Result<std::unique_ptr<audit::AuditLog>> log =
        audit::AuditLog::Open(node->audit_dir(), options);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (int i = 0; i < 30; ++i) {
      audit::Entry e;
      e.caller = {"researcher-1", "https://aai.example.org", "127.0.0.1:40000"};
      e.request = {"GET", "/api/individuals", "filters=NCIT:C4872"};
      e.access = {{"default", "count"}};
      e.outcome = {200, ""};
      e.disclosed.figures.push_back({"default", "individuals", 20});
      ASSERT_TRUE((*log)->AppendSync(e).ok());
    }
    ASSERT_TRUE((*log)->Close().ok());
    segment_ = node->audit_dir() + "/audit-000000000001.jsonl";
    ASSERT_TRUE(fs::exists(segment_));
    today_ = audit::FormatTime(std::chrono::system_clock::now()).substr(0, 10);
    const auto tomorrow = std::chrono::system_clock::now() + std::chrono::hours(24);
    tomorrow_ = audit::FormatTime(tomorrow).substr(0, 10);
  }

  int Run(const std::vector<std::string>& args, std::string* output) {
    std::vector<std::string> argv = {OncomeshBinary(), "audit"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, output);
  }

  TempDir tmp_;
  std::string node_dir_, segment_, today_, tomorrow_;
};

TEST_F(AuditCliTest, VerifyExportAndVerifyTheExportWithTheNodesJwks) {
  std::string output;
  ASSERT_EQ(Run({"verify", "--dir", node_dir_}, &output), 0) << output;
  EXPECT_NE(output.find("OK audit log"), std::string::npos) << output;
  EXPECT_NE(output.find("ends with the checkpoint of a clean close"), std::string::npos) << output;

  const std::string jwks = tmp_.path() + "/site-a.jwks.json";
  ASSERT_EQ(Run({"jwks", "--dir", node_dir_, "--out", jwks}, &output), 0) << output;
  std::ifstream in(jwks);
  const nlohmann::json keys = nlohmann::json::parse(in);
  ASSERT_EQ(keys["keys"].size(), 1u);
  EXPECT_FALSE(keys["keys"][0].contains("d"));  // the public half only

  const std::string exported = tmp_.path() + "/export.jsonl";
  ASSERT_EQ(
      Run({"export", "--dir", node_dir_, "--from", today_, "--to", tomorrow_, "--out", exported},
          &output),
      0)
      << output;
  EXPECT_NE(output.find("signed to its end"), std::string::npos) << output;
  ASSERT_EQ(Run({"verify", "--file", exported, "--jwks", jwks}, &output), 0) << output;
  EXPECT_NE(output.find("OK audit export"), std::string::npos) << output;

  // Another node's key does not verify it.
  const std::string other = tmp_.path() + "/other";
  ASSERT_EQ(RunCommand({OncomeshBinary(), "node", "init", "--dir", other}, &output), 0);
  const std::string other_jwks = tmp_.path() + "/other.jwks.json";
  ASSERT_EQ(Run({"jwks", "--dir", other, "--out", other_jwks}, &output), 0);
  EXPECT_EQ(Run({"verify", "--file", exported, "--jwks", other_jwks}, &output), 1) << output;
  EXPECT_NE(output.find("bad checkpoint"), std::string::npos) << output;
}

TEST_F(AuditCliTest, ATamperedLogIsRefusedWithWhereAndWhat) {
  std::vector<std::string> lines;
  {
    std::ifstream in(segment_);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
  }
  lines[4].replace(lines[4].find("\"value\":20"), 10, "\"value\":40");
  {
    std::ofstream out(segment_, std::ios::trunc);
    for (const std::string& l : lines) out << l << "\n";
  }
  std::string output;
  EXPECT_EQ(Run({"verify", "--dir", node_dir_}, &output), 1) << output;
  EXPECT_NE(output.find("FAILED"), std::string::npos) << output;
  EXPECT_NE(output.find("audit-000000000001.jsonl:5 (seq 5): edited"), std::string::npos) << output;
  EXPECT_NE(output.find("the 4 entries before it verify"), std::string::npos) << output;

  // Nothing is exported from a broken chain, and no file is left behind.
  const std::string exported = tmp_.path() + "/export.jsonl";
  EXPECT_EQ(
      Run({"export", "--dir", node_dir_, "--from", today_, "--to", tomorrow_, "--out", exported},
          &output),
      1)
      << output;
  EXPECT_NE(output.find("does not verify"), std::string::npos) << output;
  EXPECT_NE(output.find("seq 5"), std::string::npos) << output;
  EXPECT_FALSE(fs::exists(exported));
  EXPECT_FALSE(fs::exists(exported + ".part"));
}

// Issue 12 item 17: `audit archive` moves the oldest segments out and leaves a log that
// `audit verify` verifies from its anchor, and with --archive as a whole.
TEST_F(AuditCliTest, ArchiveLeavesALogThatVerifiesFromItsAnchor) {
  Result<node::NodeDir> node = node::NodeDir::Open(node_dir_);
  ASSERT_TRUE(node.ok());
  audit::AuditOptions options;
  options.node_name = "site-a";
  options.signing_key = node->signing_key();
  options.checkpoint_entries = 10;
  options.segment_bytes = 4000;  // a few entries a segment
  {
    Result<std::unique_ptr<audit::AuditLog>> log =
        audit::AuditLog::Open(node->audit_dir(), options);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (int i = 0; i < 30; ++i) {
      audit::Entry e;
      e.request = {"GET", "/api/individuals", "i=" + std::to_string(i)};
      e.outcome = {200, ""};
      ASSERT_TRUE((*log)->AppendSync(e).ok());
    }
    ASSERT_TRUE((*log)->Close().ok());
  }
  size_t segments = 0;
  for (const auto& f : fs::directory_iterator(node->audit_dir())) {
    segments += f.path().extension() == ".jsonl" ? 1 : 0;
  }
  ASSERT_GE(segments, 3u);
  const std::string archive = tmp_.path() + "/archive";
  std::string output;
  ASSERT_EQ(Run({"archive", "--dir", node_dir_, "--before", tomorrow_, "--to", archive}, &output),
            0)
      << output;
  EXPECT_NE(output.find("anchor: seq "), std::string::npos) << output;
  EXPECT_FALSE(fs::exists(segment_));  // the first segment left the node
  EXPECT_TRUE(fs::exists(archive + "/audit-000000000001.jsonl"));
  ASSERT_EQ(Run({"verify", "--dir", node_dir_}, &output), 0) << output;
  EXPECT_NE(output.find("starts after the signed archive anchor"), std::string::npos) << output;
  ASSERT_EQ(Run({"verify", "--dir", node_dir_, "--archive", archive}, &output), 0) << output;
  EXPECT_NE(output.find("the archived segments verify and join it"), std::string::npos) << output;
  EXPECT_NE(output.find(", seq 1 to "), std::string::npos) << output;
  EXPECT_EQ(Run({"archive", "--dir", node_dir_, "--before", "last week", "--to", archive}, &output),
            1);
  EXPECT_NE(output.find("--before"), std::string::npos) << output;
}

TEST_F(AuditCliTest, BadArgumentsAreRefused) {
  std::string output;
  EXPECT_EQ(Run({"verify"}, &output), 1) << output;
  EXPECT_NE(output.find("either --dir"), std::string::npos) << output;
  EXPECT_EQ(Run({"verify", "--file", segment_}, &output), 1) << output;
  EXPECT_NE(output.find("--jwks"), std::string::npos) << output;
  EXPECT_EQ(Run({"export", "--dir", node_dir_, "--from", "last week", "--to", tomorrow_}, &output),
            1)
      << output;
  EXPECT_NE(output.find("--from"), std::string::npos) << output;
  EXPECT_EQ(Run({"export", "--dir", node_dir_, "--from", tomorrow_, "--to", today_}, &output), 1)
      << output;
  EXPECT_NE(Run({"export", "--dir", node_dir_}, &output), 0) << output;  // --from/--to required
  EXPECT_NE(output.find("--from is required"), std::string::npos) << output;
  // A log file given as an export is not one.
  const std::string jwks = tmp_.path() + "/k.json";
  ASSERT_EQ(Run({"jwks", "--dir", node_dir_, "--out", jwks}, &output), 0);
  EXPECT_EQ(Run({"verify", "--file", segment_, "--jwks", jwks}, &output), 1) << output;
  EXPECT_NE(output.find("not an OncoMesh audit export"), std::string::npos) << output;
}

}  // namespace
}  // namespace oncomesh::testing
