// The audit wrapper without sockets: handlers' answers go through a real audit log in a temp
// directory, and a responder that records what would have been sent.
#include "api/audited.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <vector>

#include "api/node_service.h"
#include "auth/jose.h"
#include "support/audit_entries.h"
#include "support/process.h"

namespace oncomesh::api {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// A node's caller policy in miniature: no header is anonymous, "Bearer good" is a verified
// registered researcher, anything else is refused as a forged token would be.
Result<auth::Caller> TestCaller(const http::Request& request) {
  const std::string* h = request.Header("authorization");
  auth::Caller caller;
  if (h == nullptr) {
    caller.datasets = {{"default", gate::AccessLevel::kAnonymous, "no passport"}};
    return caller;
  }
  if (*h != "Bearer good") return Unauthenticated("passport: the signature does not verify");
  auto passport = std::make_shared<auth::Passport>();
  passport->subject = "researcher-1";
  passport->issuer = "https://broker.example.org";
  caller.passport = passport;
  caller.datasets = {{"default", gate::AccessLevel::kRegistered, "no grant"}};
  return caller;
}

// A Beacon-like error format: {"error":{"errorCode":N,"errorMessage":M}}.
ErrorFormat TestFormat() {
  ErrorFormat f;
  f.error = [](const http::Request&, int status, const std::string& message) {
    http::Response r;
    r.status = status;
    r.body = json{{"error", {{"errorCode", status}, {"errorMessage", message}}}}.dump();
    return r;
  };
  f.message_of = [](const http::Response& r) { return JsonErrorMessage(r, "/error/errorMessage"); };
  return f;
}

// A handler's count answer with its disclosure.
Audited CountAnswer(const http::Request& request) {
  Audited a;
  a.caller = TestCaller(request);
  a.response.body = R"({"responseSummary":{"exists":true,"numTotalResults":130}})";
  a.disclosed.figures.push_back({"", "individuals", 130});
  a.disclosed.figures.push_back({"", "exists", 1});
  return a;
}

// Fails writes once told to (a full disk).
struct BreakableDisk {
  std::atomic<bool> broken{false};
  audit::FileOps ops() {
    return {[this](int fd, const void* data, size_t size) -> ssize_t {
              if (broken) {
                errno = ENOSPC;
                return -1;
              }
              return ::write(fd, data, size);
            },
            [](int fd) { return ::fdatasync(fd); }};
  }
};

class AuditedTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(audit::PosixFileOps()); }

  void Open(audit::FileOps ops) {
    log_.reset();
    audit::AuditOptions o;
    o.node_name = "test-node";
    o.signing_key = *auth::Jwk::GenerateEs256();
    o.request_durability = audit::Durability::kWritten;
    o.file_ops = std::move(ops);
    Result<std::unique_ptr<audit::AuditLog>> log = audit::AuditLog::Open(dir_.path() + "/audit", o);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(*log);
  }

  // Runs `handler` as a route would, and returns what was sent.
  http::Response Call(const Auditor& auditor, Auditor::Handler handler, http::Request request) {
    std::optional<http::Response> sent;
    int sends = 0;
    auditor.Wrap(std::move(handler))(request, [&](http::Response r) {
      sent = std::move(r);
      ++sends;
    });
    // Under kWritten, this thread wrote the entry and answered before Wrap returned; under a
    // failing log, it was answered at once too. Either way, exactly once.
    EXPECT_EQ(sends, 1);
    return sent.value_or(http::Response{});
  }

  static http::Request Request(const std::string& method, const std::string& target,
                               const std::string& authorization = "") {
    http::Request r;
    r.method = method;
    r.target = target;
    r.path = target.substr(0, target.find('?'));
    r.peer = "192.0.2.7:40123";
    if (!authorization.empty()) r.headers["authorization"] = authorization;
    return r;
  }

  // The log's entries of type request or refusal, in order.
  std::vector<json> Entries() {
    return oncomesh::testing::AuditRequestEntries(dir_.path() + "/audit");
  }

  Auditor MakeAuditor() { return Auditor(log_.get(), TestCaller, TestFormat()); }

  oncomesh::testing::TempDir dir_;
  std::unique_ptr<audit::AuditLog> log_;
};

TEST_F(AuditedTest, AnAnswerLeavesAfterItsEntryWhichSaysWhoAskedWhatAndWhatLeft) {
  const http::Response sent =
      Call(MakeAuditor(), CountAnswer,
           Request("GET", "/api/individuals?filters=NCIT:C4872", "Bearer good"));
  EXPECT_EQ(sent.status, 200);
  EXPECT_NE(sent.body.find("130"), std::string::npos);
  const std::vector<json> entries = Entries();
  ASSERT_EQ(entries.size(), 1u);
  const json& e = entries[0];
  EXPECT_EQ(e["type"], "request");
  EXPECT_EQ(e["caller"], json({{"address", "192.0.2.7:40123"},
                               {"subject", "researcher-1"},
                               {"issuer", "https://broker.example.org"}}));
  EXPECT_EQ(
      e["request"],
      json({{"method", "GET"}, {"path", "/api/individuals"}, {"query", "filters=NCIT:C4872"}}));
  EXPECT_EQ(e["access"], json({{"default", "registered"}}));
  EXPECT_EQ(e["outcome"], json({{"status", 200}, {"reason", ""}}));
  EXPECT_EQ(e["disclosed"]["figures"],
            json::parse(R"([{"dataset":"","name":"individuals","value":130},
                            {"dataset":"","name":"exists","value":1}])"));
}

TEST_F(AuditedTest, ARefusalIsAuditedWithItsReasonAndNoDisclosure) {
  auto refuse = [](http::Request& r) {
    Audited a = CountAnswer(r);  // a disclosure a refusal must not carry
    a.response = TestFormat().error(r, 403, "record-level data needs a data permit: no grant");
    return a;
  };
  const http::Response sent =
      Call(MakeAuditor(), refuse, Request("GET", "/api/g_variants", "Bearer good"));
  EXPECT_EQ(sent.status, 403);
  const json e = Entries().at(0);
  EXPECT_EQ(e["type"], "refusal");
  EXPECT_EQ(e["outcome"]["reason"], "record-level data needs a data permit: no grant");
  EXPECT_EQ(
      e["disclosed"],
      json({{"figures", json::array()}, {"records", json::array()}, {"files", json::array()}}));
}

TEST_F(AuditedTest, TheWrapperResolvesTheCallerWhenTheHandlerDidNot) {
  auto malformed = [](http::Request& r) {
    Audited a;  // refused before the caller was looked at
    a.response = TestFormat().error(r, 400, "malformed body");
    return a;
  };
  Call(MakeAuditor(), malformed, Request("POST", "/api/individuals"));
  const json e = Entries().at(0);
  EXPECT_EQ(e["caller"], json({{"address", "192.0.2.7:40123"}, {"anonymous", true}}));
  EXPECT_EQ(e["access"], json({{"default", "anonymous"}}));
  EXPECT_EQ(e["outcome"]["reason"], "malformed body");
}

TEST_F(AuditedTest, RefusedCredentialsAreUnverifiedWithWhatTheTokenClaimed) {
  const std::string forged =
      auth::Base64UrlEncode(R"({"alg":"ES256"})") + "." +
      auth::Base64UrlEncode(R"({"iss":"https://evil.example","sub":"admin"})") + ".c2lnbmF0dXJl";
  auto handler = [](http::Request& r) {
    Audited a;
    a.caller = TestCaller(r);
    a.response = TestFormat().error(r, 401, a.caller->status().message());
    return a;
  };
  Call(MakeAuditor(), handler, Request("GET", "/api/individuals", "Bearer " + forged));
  const json e = Entries().at(0);
  EXPECT_EQ(e["caller"], json({{"address", "192.0.2.7:40123"}, {"unverified", true}}));
  EXPECT_EQ(e["outcome"]["status"], 401);
  EXPECT_EQ(e["outcome"]["reason"], "passport: the signature does not verify");
  EXPECT_EQ(e["details"]["credentials"]["claimed"],
            json({{"iss", "https://evil.example"}, {"sub", "admin"}}));
  EXPECT_EQ(e["details"]["credentials"]["verified"], false);
  EXPECT_EQ(e["details"]["credentials"]["token_sha256"].get<std::string>().size(), 64u);
  EXPECT_TRUE(e["access"].empty());
}

TEST_F(AuditedTest, APostBodyIsRecordedAndALongOneCutWithItsSizeAndHash) {
  http::Request small = Request("POST", "/api/individuals");
  small.body = R"({"query":{"filters":[{"id":"NCIT:C4872"}]}})";
  Call(MakeAuditor(), CountAnswer, small);
  http::Request large = Request("POST", "/api/individuals");
  large.body = std::string(10000, 'x');
  Call(MakeAuditor(), CountAnswer, large);
  const std::vector<json> entries = Entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0]["request"]["body"], small.body);
  EXPECT_FALSE(entries[0]["request"].contains("body_bytes"));
  EXPECT_EQ(entries[1]["request"]["body"].get<std::string>().size(), audit::kMaxAuditedBody);
  EXPECT_EQ(entries[1]["request"]["body_bytes"], 10000);
  EXPECT_EQ(entries[1]["request"]["body_sha256"].get<std::string>().size(), 64u);
}

TEST_F(AuditedTest, WhenTheEntryCannotBeWrittenA503LeavesAndNothingOfTheData) {
  BreakableDisk disk;
  Open(disk.ops());
  const Auditor auditor = MakeAuditor();
  ASSERT_EQ(Call(auditor, CountAnswer, Request("GET", "/api/individuals", "Bearer good")).status,
            200);
  disk.broken = true;
  for (int i = 0; i < 2; ++i) {  // the failing append, then one refused by the failed log
    const http::Response sent =
        Call(auditor, CountAnswer, Request("GET", "/api/individuals", "Bearer good"));
    EXPECT_EQ(sent.status, 503);
    EXPECT_EQ(sent.body.find("130"), std::string::npos) << sent.body;
    EXPECT_EQ(sent.body.find("numTotalResults"), std::string::npos) << sent.body;
    EXPECT_NE(JsonErrorMessage(sent, "/error/errorMessage").find("audit log"), std::string::npos);
  }
  EXPECT_FALSE(log_->health().ok());
}

TEST_F(AuditedTest, AHandlerThatThrowsIsAnsweredAndAuditedAs500) {
  auto throws = [](http::Request&) -> Audited { throw std::runtime_error("boom"); };
  const http::Response sent = Call(MakeAuditor(), throws, Request("GET", "/api/individuals"));
  EXPECT_EQ(sent.status, 500);
  const json e = Entries().at(0);
  EXPECT_EQ(e["type"], "refusal");
  EXPECT_EQ(e["outcome"]["reason"], "internal error");
}

TEST_F(AuditedTest, WithoutALogAnswersPassUnaudited) {
  const Auditor unaudited(nullptr, TestCaller, TestFormat());
  EXPECT_EQ(Call(unaudited, CountAnswer, Request("GET", "/api/individuals")).status, 200);
  EXPECT_TRUE(Entries().empty());
}

// Which paths the node audits (api/node_service.h, AUDIT).
TEST(IsAuditedPathTest, DataPathsAreAuditedAndDescriptionsAreNot) {
  const std::vector<std::pair<std::string, bool>> table = {
      {"/api/individuals", true},
      {"/api/biosamples", true},
      {"/api/g_variants", true},
      {"/api/datasets", true},
      {"/api/datasets/default", true},
      {"/api/cohorts/cohort-default", true},
      {"/api/filtering_terms", true},
      {"/api/nosuch", true},
      {"/api/info/extra", true},
      {"/variants/genomes", true},
      {"/variants/genomes/block", true},
      {"/variants/nosuch/x/y", true},
      {"/dicomweb/studies", true},
      {"/dicomweb", true},
      {"/api", false},
      {"/api/", false},
      {"/api/info", false},
      {"/api/info/", false},
      {"/api/service-info", false},
      {"/api/configuration", false},
      {"/api/map", false},
      {"/api/entry_types", false},
      {"/variants/service-info", false},
      {"/.well-known/jwks.json", false},
      {"/", false},
      {"/favicon.ico", false},
      {"/apis", false},
      {"/dicomwebx", false},
  };
  for (const auto& [path, audited] : table) EXPECT_EQ(IsAuditedPath(path), audited) << path;
}

}  // namespace
}  // namespace oncomesh::api
