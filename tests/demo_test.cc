// `oncomesh demo`, the README's first command, as a user runs it (small sizes): three nodes and a
// hub answer an anonymous question with a boolean only, a registered researcher's questions
// with rounded counts, a permitted one with records after the data access committee's permit,
// and refuse the same records without it; every node's audit trail verifies afterwards with the
// `oncomesh audit verify` a supervisor would run.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>

#include "support/process.h"

namespace oncomesh::testing {
namespace {

namespace fs = std::filesystem;

// The text between the line starting with `from` and the next line starting with `to`.
std::string Section(const std::string& text, const std::string& from, const std::string& to) {
  const size_t a = text.find("\n" + from);
  if (a == std::string::npos) return "";
  const size_t b = text.find("\n" + to, a + 1);
  return text.substr(a, b == std::string::npos ? std::string::npos : b - a);
}

TEST(DemoTest, AnswersAtEachAccessLevelAndEveryNodesAuditTrailVerifies) {
  TempDir dir;
  const std::string demo = dir.path() + "/demo";
  std::string out;
  ASSERT_EQ(
      RunCommand({OncomeshBinary(), "demo", "--dir", demo, "--sizes", "1500,800,400", "--no-wait"},
                 &out),
      0)
      << out;
  EXPECT_NE(out.find("\nready"), std::string::npos) << out;

  // Anonymous: a boolean from the federation, no total and no per-node count.
  const std::string anonymous = Section(out, "An anonymous question", "Example questions");
  ASSERT_FALSE(anonymous.empty()) << out;
  EXPECT_TRUE(std::regex_search(anonymous, std::regex(R"(\n    (exists|none) \()"))) << anonymous;
  EXPECT_EQ(anonymous.find("total"), std::string::npos) << anonymous;
  EXPECT_FALSE(std::regex_search(anonymous, std::regex(R"(-(hospital|centre|clinic)[a-z-]* \d)")))
      << anonymous;

  // Registered: totals, each node's count rounded up to a multiple of 10.
  const std::string registered = Section(out, "Example questions", "A data permit");
  ASSERT_FALSE(registered.empty()) << out;
  const std::regex total(R"(total (\d+) \(([^)]*)\))");
  int answers = 0;
  for (std::sregex_iterator it(registered.begin(), registered.end(), total), end; it != end; ++it) {
    ++answers;
    const std::string parts = (*it)[2];
    const std::regex count(R"([a-z-]+ (\d+))");
    int64_t sum = 0;
    for (std::sregex_iterator c(parts.begin(), parts.end(), count); c != end; ++c) {
      const int64_t n = std::stoll((*c)[1]);
      EXPECT_EQ(n % 10, 0) << parts;
      sum += n;
    }
    EXPECT_EQ(sum, std::stoll((*it)[1])) << (*it)[0];
  }
  EXPECT_GE(answers, 5) << registered;
  EXPECT_EQ(registered.find("error"), std::string::npos) << registered;

  // Permitted: the permit is approved by the DUO match, records come, and not without it.
  const std::string permit = Section(out, "A data permit", "The audit trail");
  ASSERT_FALSE(permit.empty()) << out;
  EXPECT_NE(permit.find("compatible, approved"), std::string::npos) << permit;
  EXPECT_TRUE(std::regex_search(
      permit, std::regex(R"(record level with the permit: [1-9]\d* TP53 variants? )")))
      << permit;
  const std::string refused = permit.substr(permit.find("without the permit"));
  EXPECT_NE(refused.find("403"), std::string::npos) << refused;
  EXPECT_EQ(refused.find("caseLevelData"), std::string::npos) << refused;
  EXPECT_TRUE(fs::exists(demo + "/passport.jwt"));
  EXPECT_TRUE(fs::exists(demo + "/passport-permitted.jwt"));

  // The audit trail: the demo's summary, then each node's log verified from outside.
  const std::string audit = Section(out, "The audit trail", "hub http");
  ASSERT_FALSE(audit.empty()) << out;
  EXPECT_NE(audit.find("approve"), std::string::npos) << audit;
  EXPECT_NE(audit.find("chain intact"), std::string::npos) << audit;
  int nodes = 0;
  for (const fs::directory_entry& node : fs::directory_iterator(demo + "/nodes")) {
    ++nodes;
    std::string verify;
    EXPECT_EQ(
        RunCommand({OncomeshBinary(), "audit", "verify", "--dir", node.path().string()}, &verify),
        0)
        << node.path() << ": " << verify;
    // Each node was asked the anonymous question and the registered ones through the hub.
    std::string exported;
    ASSERT_EQ(
        RunCommand({OncomeshBinary(), "audit", "export", "--dir", node.path().string(), "--from",
                    "2000-01-01", "--to", "2100-01-01", "--out", dir.path() + "/export.jsonl"},
                   &exported),
        0)
        << exported;
    std::string lines;
    ASSERT_EQ(
        RunCommand({"/usr/bin/grep", "-c", "\"type\":\"request\"", dir.path() + "/export.jsonl"},
                   &lines),
        0)
        << lines;
    EXPECT_GE(std::stoi(lines), 6) << node.path();
  }
  EXPECT_EQ(nodes, 3);
}

}  // namespace
}  // namespace oncomesh::testing
