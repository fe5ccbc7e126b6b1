// The htsget handlers called directly (no sockets), the record tokens and their node.yaml key.
#include "api/htsget/htsget_service.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "node/node_dir.h"
#include "support/process.h"
#include "support/variant_files.h"

namespace oncomesh::api::htsget {
namespace {

using nlohmann::json;

constexpr const char* kToken = "unit-test-token-0123456789";

class OneFile : public VariantFileSource {
 public:
  Result<model::VariantFile> Find(const std::string& id) const override {
    if (id != "spec") return NotFound("no " + id);
    return model::VariantFile{"spec", "spec-v4.3.vcf.gz", "VCF", "GRCh37"};
  }
};

http::Request Get(const std::string& id, std::multimap<std::string, std::string> query,
                  const char* token = kToken) {
  http::Request r;
  r.method = "GET";
  r.path = "/variants/" + id;
  r.path_params["id"] = id;
  r.query = std::move(query);
  r.headers["host"] = "node.test:8080";
  if (token) r.headers["authorization"] = std::string("Bearer ") + token;
  return r;
}

std::string ErrorOf(const http::Response& r) {
  json body = json::parse(r.body, nullptr, false);
  return body.is_object() ? body["htsget"]["error"].get<std::string>() : "<not json>";
}

TEST(HtsgetServiceTest, HandlersAnswerWithoutASocket) {
  HtsgetConfig config;
  config.node_dir = testing::SharedDir() + "/data/vcf";
  config.files = std::make_shared<OneFile>();
  config.tokens = auth::RecordTokens({kToken});
  HtsgetService service(std::move(config));

  http::Response ok = service.Ticket(Get("spec", {{"referenceName", "20"}, {"start", "14369"}, {"end", "17330"}}));
  ASSERT_EQ(ok.status, 200) << ok.body;
  json ticket = json::parse(ok.body);
  EXPECT_EQ(ticket["htsget"]["format"], "VCF");
  EXPECT_EQ(ticket["htsget"]["urls"][0]["class"], "header");

  struct Case {
    std::multimap<std::string, std::string> query;
    const char* token;
    int status;
    const char* error;
  };
  const std::vector<Case> cases = {
      {{}, nullptr, 403, "PermissionDenied"},
      {{}, "wrong-token-000000000000", 401, "InvalidAuthentication"},
      {{{"start", "1"}}, kToken, 400, "InvalidInput"},
      {{{"referenceName", "20"}, {"start", "x"}}, kToken, 400, "InvalidInput"},
      {{{"referenceName", "20"}, {"start", "9"}, {"end", "8"}}, kToken, 400, "InvalidRange"},
      {{{"format", "CRAM"}}, kToken, 400, "UnsupportedFormat"},
      {{{"format", "BCF"}}, kToken, 400, "UnsupportedFormat"},
      {{{"class", "header"}, {"start", "1"}}, kToken, 400, "InvalidInput"},
      {{{"referenceName", "chrUn"}}, kToken, 404, "NotFound"},
  };
  for (const Case& c : cases) {
    http::Response r = service.Ticket(Get("spec", c.query, c.token));
    EXPECT_EQ(r.status, c.status) << r.body;
    EXPECT_EQ(ErrorOf(r), c.error) << r.body;
  }
  EXPECT_EQ(ErrorOf(service.Ticket(Get("other", {}))), "NotFound");
  EXPECT_EQ(ErrorOf(service.Ticket(Get("spec.tbi", {}))), "NotFound");
}

TEST(RecordTokensTest, OnlyAConfiguredBearerTokenGrantsRecords) {
  auth::RecordTokens tokens({"first-token-abcdefgh", "second-token-abcdefgh"});
  EXPECT_EQ(*tokens.LevelFor(nullptr), gate::AccessLevel::kAnonymous);
  const std::string ok = "Bearer second-token-abcdefgh", lower = "bearer first-token-abcdefgh";
  EXPECT_EQ(*tokens.LevelFor(&ok), gate::AccessLevel::kPermitted);
  EXPECT_EQ(*tokens.LevelFor(&lower), gate::AccessLevel::kPermitted);
  for (const std::string bad : {"Bearer second-token-abcdefg", "Bearer second-token-abcdefghi",
                                "Basic c2Vjb25kLXRva2Vu", "Bearer ", "second-token-abcdefgh"}) {
    EXPECT_EQ(tokens.LevelFor(&bad).status().code(), StatusCode::kUnauthenticated) << bad;
  }
}

TEST(RecordTokensTest, NodeYamlTakesThemUnderAccess) {
  auto c = node::ParseNodeConfig("name: n\naccess:\n  record_tokens: [abcdefghijklmnop1, abcdefghijklmnop2]\n",
                                 "node.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->record_tokens, (std::vector<std::string>{"abcdefghijklmnop1", "abcdefghijklmnop2"}));
  auto again = node::ParseNodeConfig(node::NodeConfigToYaml(*c), "again");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->record_tokens, c->record_tokens);
  EXPECT_FALSE(node::ParseNodeConfig("access:\n  record_tokens: [short]\n", "y").ok());
  EXPECT_FALSE(node::ParseNodeConfig("access:\n  tokens: [abcdefghijklmnop1]\n", "y").ok());
  EXPECT_FALSE(node::ParseNodeConfig("access:\n  record_tokens: abcdefghijklmnop1\n", "y").ok());
  EXPECT_TRUE(node::ParseNodeConfig("name: n\n", "y")->record_tokens.empty());
}

}  // namespace
}  // namespace oncomesh::api::htsget
