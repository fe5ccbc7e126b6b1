// htsget end to end with the real client: the node's HTTP server (in process, 127.0.0.1, an
// ephemeral port) serves the htsget routes over copies of the shared VCF/BCF files, and
// Debian's bcftools (htslib 1.16) follows the tickets. Its records must equal `bcftools view
// -r` on the source file.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "api/htsget/htsget_service.h"
#include "audit/audit_log.h"
#include "support/process.h"
#include "support/suite_fixture.h"
#include "support/test_access.h"
#include "support/variant_files.h"

namespace oncomesh::testing {
namespace {

using nlohmann::json;

constexpr const char* kGrant = "https://ega.oncomesh.test/datasets/EGAD0007";

const TestBroker& Broker() {
  static const TestBroker broker;
  return broker;
}
// A passport with a ControlledAccessGrants visa for the files' dataset.
const std::string& Token() {
  static const std::string passport = Broker().Permitted(kGrant);
  return passport;
}

class MapSource : public api::htsget::VariantFileSource {
 public:
  void Add(model::VariantFile f) { files_[f.id] = std::move(f); }
  Result<model::VariantFile> Find(const std::string& id) const override {
    auto it = files_.find(id);
    if (it == files_.end()) return NotFound("no variant file " + id);
    return it->second;
  }

 private:
  std::map<std::string, model::VariantFile> files_;
};

std::string FromBase64(const std::string& text) {
  std::string out(text.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return "<bad base64>";
  size_t pad = 0;
  for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

class HtsgetTest : public ::oncomesh::testing::SuiteFixture<HtsgetTest> {
  friend class ::oncomesh::testing::SuiteFixture<HtsgetTest>;  // calls SetUpSuite

 protected:
  static void SetUpSuite() {
    dir_ = new TempDir();
    const std::string node = dir_->path();
    const std::string variants = node + "/variants";
    std::filesystem::create_directories(variants);
    const std::string shared = SharedDir() + "/data/vcf/";
    std::string out;
    ASSERT_EQ(Shell("cp " + shared + "spec-v4.3.vcf.gz " + shared + "spec-v4.3.vcf.gz.tbi " +
                        shared + "spec-v4.3.bcf " + ShellQuote(variants) + " && bcftools index " +
                        ShellQuote(variants + "/spec-v4.3.bcf"),
                    &out),
              0);
    ASSERT_EQ(MakeLargeVariantFiles(variants), "");
    {  // one BGZF block with records on both sides of 7:1040-1059
      std::ofstream edges(variants + "/edges.vcf");
      edges << "##fileformat=VCFv4.2\n##contig=<ID=7,length=100000>\n"
               "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n";
      for (int pos = 1000; pos < 1100; ++pos) {
        edges << "7\t" << pos << "\t" << (pos < 1040 || pos >= 1060 ? "OUTSIDE_" : "inside_") << pos
              << "\tA\tC\t.\t.\t.\n";
      }
    }
    ASSERT_EQ(Shell("bgzip -f " + ShellQuote(variants + "/edges.vcf") + " && tabix -p vcf " +
                        ShellQuote(variants + "/edges.vcf.gz"),
                    &out),
              0);
    auto source = std::make_shared<MapSource>();
    source->Add({"spec", "variants/spec-v4.3.vcf.gz", "VCF", "GRCh37"});
    source->Add({"spec-bcf", "variants/spec-v4.3.bcf", "BCF", "GRCh37"});
    source->Add({"big", "variants/big.vcf.gz", "VCF", "GRCh38"});
    source->Add({"big-bcf", "variants/big.bcf", "BCF", "GRCh38"});
    source->Add({"edges", "variants/edges.vcf.gz", "VCF", "GRCh38"});
    api::htsget::HtsgetConfig config;
    config.node_dir = node;
    config.files = source;
    config.caller = BrokerCallerFn(Broker(), kGrant);
    // Small parts, so a ticket has several byte ranges and several inline parts.
    config.slice.max_range_bytes = 30000;
    service_ = new std::shared_ptr<const api::htsget::HtsgetService>(
        std::make_shared<api::htsget::HtsgetService>(std::move(config)));
    // Every ticket and block is audited, as on a node (the node's key is a fresh one here).
    audit::AuditOptions audit_options;
    audit_options.node_name = "htsget-test";
    audit_options.signing_key = *auth::Jwk::GenerateEs256();
    audit_options.request_durability = audit::Durability::kWritten;
    Result<std::unique_ptr<audit::AuditLog>> log =
        audit::AuditLog::Open(node + "/audit", audit_options);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    audit_ = log->release();
    http::Router router;
    api::htsget::AddHtsgetRoutes(
        router,
        api::Auditor(audit_, BrokerCallerFn(Broker(), kGrant), api::htsget::HtsgetErrorFormat()),
        *service_);
    http::ServerOptions options;
    options.port = 0;
    server_ = new http::Server(std::move(router), options);
    ASSERT_TRUE(server_->Start().ok());
    port_ = server_->port();
    std::ofstream(node + "/token") << Token() << "\n";
    std::ofstream(node + "/wrong-token") << "not-the-token-0000000000\n";
  }
  static void TearDownTestSuite() {
    server_->Stop();
    delete server_;
    delete audit_;
    delete service_;
    delete dir_;
  }

  static std::string Url(const std::string& target) {
    return "http://127.0.0.1:" + std::to_string(port_) + target;
  }
  static std::string Source(const std::string& name) { return dir_->path() + "/variants/" + name; }

  // bcftools reading an htsget URL, sending `token_file`'s token (none if empty).
  static int Bcftools(const std::string& args, const std::string& target, std::string* out,
                      const std::string& token_file = "token") {
    std::string env;
    if (!token_file.empty()) {
      env = "HTS_AUTH_LOCATION=" + ShellQuote(dir_->path() + "/" + token_file) +
            " HTS_ALLOW_UNENCRYPTED_AUTHORIZATION_HEADER='I understand the risks' ";
    }
    return Shell(env + "bcftools view " + args + " " + ShellQuote(Url(target)), out);
  }

  static http::Response Get(const std::string& target, bool with_token = true) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (with_token) headers.emplace_back("Authorization", "Bearer " + Token());
    auto r = http::Fetch("127.0.0.1", port_, "GET", target, "", std::chrono::seconds(30), headers);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::Response{};
  }
  static http::Response Post(const std::string& target, const std::string& body) {
    auto r = http::Fetch("127.0.0.1", port_, "POST", target, body, std::chrono::seconds(30),
                         {{"Authorization", "Bearer " + Token()}});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::Response{};
  }

  // Follows a ticket as a client would: data: URIs decoded, block URLs fetched with their headers.
  static std::string Follow(const json& ticket) {
    std::string out;
    for (const json& u : ticket.at("htsget").at("urls")) {
      const std::string url = u.at("url");
      if (url.rfind("data:", 0) == 0) {
        out += FromBase64(url.substr(url.find(',') + 1));
        continue;
      }
      const std::string prefix = Url("");
      EXPECT_EQ(url.rfind(prefix, 0), 0u) << url;
      std::vector<std::pair<std::string, std::string>> headers;
      if (u.contains("headers")) {
        for (const auto& [k, v] : u["headers"].items())
          headers.emplace_back(k, v.get<std::string>());
      }
      auto r = http::Fetch("127.0.0.1", port_, "GET", url.substr(prefix.size()), "",
                           std::chrono::seconds(30), headers);
      EXPECT_TRUE(r.ok() && r->status == 200) << url;
      if (r.ok()) out += r->body;
    }
    return out;
  }

  static void ExpectError(const http::Response& r, int status, const std::string& error) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.content_type, "application/json");
    json body = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << r.body;
    EXPECT_EQ(body["htsget"]["error"], error) << r.body;
    EXPECT_TRUE(body["htsget"]["message"].is_string());
    EXPECT_EQ(body.size(), 1u);
  }

  static TempDir* dir_;
  static audit::AuditLog* audit_;
  static std::shared_ptr<const api::htsget::HtsgetService>* service_;
  static http::Server* server_;
  static uint16_t port_;
};

TempDir* HtsgetTest::dir_ = nullptr;
audit::AuditLog* HtsgetTest::audit_ = nullptr;
std::shared_ptr<const api::htsget::HtsgetService>* HtsgetTest::service_ = nullptr;
http::Server* HtsgetTest::server_ = nullptr;
uint16_t HtsgetTest::port_ = 0;

TEST_F(HtsgetTest, BcftoolsReadsRegionsOfTheSpecExampleInBothFormats) {
  const std::vector<std::tuple<int64_t, int64_t>> regions = {
      {14369, 17330}, {0, 4294967295}, {1110695, 1230237}, {1234567, 1234568}, {14368, 14369}};
  for (const auto& [id, file, format] :
       {std::tuple<std::string, std::string, std::string>{"spec", "spec-v4.3.vcf.gz", "VCF"},
        {"spec-bcf", "spec-v4.3.bcf", "BCF"}}) {
    for (const auto& [start, end] : regions) {
      std::string got;
      const std::string target = "/variants/" + id + "?format=" + format +
                                 "&referenceName=20&start=" + std::to_string(start) +
                                 "&end=" + std::to_string(end);
      ASSERT_EQ(Bcftools("-H", target, &got), 0) << target;
      EXPECT_EQ(got, RecordsOfRegion(Source(file),
                                     "20:" + std::to_string(start + 1) + "-" + std::to_string(end)))
          << target;
    }
    std::string got;
    ASSERT_EQ(Bcftools("-H", "/variants/" + id, &got), 0);
    std::string all;
    Shell("bcftools view -H " + ShellQuote(Source(file)), &all);
    EXPECT_EQ(got, all);
  }
}

TEST_F(HtsgetTest, BcftoolsReadsRandomRegionsOfALargeFile) {
  std::mt19937 rng(5);
  for (const auto& [id, file] :
       {std::pair<std::string, std::string>{"big", "big.vcf.gz"}, {"big-bcf", "big.bcf"}}) {
    for (int i = 0; i < 12; ++i) {
      const std::string chrom = rng() % 2 ? "1" : "2";
      const int64_t start = rng() % 200000;
      const int64_t end = start + 1 + (i % 3 == 0 ? rng() % 200000 : rng() % 5000);
      const std::string target = "/variants/" + id + "?referenceName=" + chrom +
                                 "&start=" + std::to_string(start) + "&end=" + std::to_string(end);
      std::string got;
      ASSERT_EQ(Bcftools("-H", target, &got), 0) << target;
      EXPECT_EQ(got, RecordsOfRegion(Source(file), chrom + ":" + std::to_string(start + 1) + "-" +
                                                       std::to_string(end)))
          << target;
    }
    std::string got;
    ASSERT_EQ(Bcftools("-H", "/variants/" + id + "?referenceName=2", &got), 0);
    EXPECT_EQ(got, RecordsOfRegion(Source(file), "2"));
  }
}

TEST_F(HtsgetTest, TicketsFollowTheSpec) {
  http::Response r = Get("/variants/big?referenceName=1&start=20000&end=150000");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/vnd.ga4gh.htsget.v1.3.0+json; charset=utf-8");
  json ticket = json::parse(r.body);
  ASSERT_EQ(ticket.size(), 1u);  // htslib refuses any top-level key but "htsget"
  EXPECT_EQ(ticket["htsget"]["format"], "VCF");
  const json& urls = ticket["htsget"]["urls"];
  ASSERT_GE(urls.size(), 3u);
  EXPECT_EQ(urls[0]["class"], "header");
  int ranges = 0;
  for (size_t i = 1; i < urls.size(); ++i) {
    EXPECT_EQ(urls[i]["class"], "body");
    const std::string url = urls[i]["url"];
    if (url.rfind("http://", 0) == 0) {
      ++ranges;
      EXPECT_EQ(urls[i]["headers"]["Authorization"], "Bearer " + Token());
    }
  }
  EXPECT_GE(ranges, 2);  // split at max_range_bytes
  EXPECT_EQ(RecordsOfStream(Follow(ticket), dir_->path()),
            RecordsOfRegion(Source("big.vcf.gz"), "1:20001-150000"));

  // A block URL serves only what was signed, and only to an authorized caller.
  std::string block;
  for (const json& u : urls) {
    if (std::string(u["url"]).rfind("http://", 0) == 0)
      block = std::string(u["url"]).substr(Url("").size());
  }
  ASSERT_FALSE(block.empty());
  EXPECT_EQ(Get(block).status, 200);
  ExpectError(Get(block, /*with_token=*/false), 403, "PermissionDenied");
  const size_t at = block.find("offset=") + 7;
  std::string tampered = block;
  tampered.insert(at, "1");
  ExpectError(Get(tampered), 403, "PermissionDenied");

  json info = json::parse(Get("/variants/service-info", false).body);
  EXPECT_EQ(info["type"]["artifact"], "htsget");
  EXPECT_EQ(info["htsget"]["datatype"], "variants");
}

// Every part the node hands out for a region, fetched and decompressed on its own, holds no
// byte of a record outside the region, although those records share the region's BGZF block.
TEST_F(HtsgetTest, NoByteOfARecordOutsideTheRegionLeavesTheNode) {
  http::Response r = Get("/variants/edges?referenceName=7&start=1039&end=1059");
  ASSERT_EQ(r.status, 200) << r.body;
  json ticket = json::parse(r.body);
  std::string all;
  for (const json& u : ticket["htsget"]["urls"]) {
    json one = {{"htsget", {{"urls", json::array({u})}}}};
    const std::string plain = DecompressBgzf(Follow(one), dir_->path());
    EXPECT_EQ(plain.find("OUTSIDE"), std::string::npos) << plain;
    all += plain;
  }
  for (int pos = 1040; pos < 1060; ++pos)
    EXPECT_NE(all.find("inside_" + std::to_string(pos)), std::string::npos);
  std::string got;
  ASSERT_EQ(Bcftools("-H", "/variants/edges?referenceName=7&start=1039&end=1059", &got), 0);
  EXPECT_EQ(got, RecordsOfRegion(Source("edges.vcf.gz"), "7:1040-1059"));
  EXPECT_EQ(got.find("OUTSIDE"), std::string::npos);
}

TEST_F(HtsgetTest, HeaderClassGivesTheHeaderAndNoRecords) {
  for (const auto& [id, file] : {std::pair<std::string, std::string>{"spec", "spec-v4.3.vcf.gz"},
                                 {"spec-bcf", "spec-v4.3.bcf"}}) {
    std::string got, want;
    ASSERT_EQ(Bcftools("--no-version", "/variants/" + id + "?class=header", &got), 0);
    Shell("bcftools view -h --no-version " + ShellQuote(Source(file)), &want);
    EXPECT_EQ(got, want);
    json ticket = json::parse(Get("/variants/" + id + "?class=header").body);
    for (const json& u : ticket["htsget"]["urls"]) EXPECT_EQ(u["class"], "header");
  }
}

// Issue 12 item 14: block URLs carry the caller's passport in their headers, so they must
// point at the node (the address the connection reached, or node.yaml public_url), never at
// whatever the client wrote in Host.
TEST_F(HtsgetTest, BlockUrlsDoNotTakeAHostileHostHeader) {
  Result<http::Response> r =
      http::Fetch("127.0.0.1", port_, "GET", "/variants/big?referenceName=1&start=20000&end=150000",
                  "", std::chrono::seconds(30),
                  {{"Authorization", "Bearer " + Token()}, {"Host", "evil.example:666"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->body.find("evil.example"), std::string::npos) << r->body.substr(0, 2000);
  const json ticket = json::parse(r->body);
  int blocks = 0;
  for (const json& u : ticket.at("htsget").at("urls")) {
    const std::string url = u.at("url");
    if (url.rfind("data:", 0) == 0) continue;
    ++blocks;
    EXPECT_EQ(url.rfind(Url("/variants/big/block?"), 0), 0u) << url;
  }
  EXPECT_GE(blocks, 2);  // split at max_range_bytes, as TicketsFollowTheSpec sees them
}

TEST_F(HtsgetTest, PostRegionsAreMergedInFileOrder) {
  http::Response r =
      Post("/variants/big",
           R"({"format":"VCF","regions":[{"referenceName":"2","start":1000,"end":40000},
                              {"referenceName":"1","start":5000,"end":9000},
                              {"referenceName":"1","start":8000,"end":30000}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  std::string want;
  Shell("bcftools view -H -r 1:5001-30000,2:1001-40000 " + ShellQuote(Source("big.vcf.gz")), &want);
  EXPECT_EQ(RecordsOfStream(Follow(json::parse(r.body)), dir_->path()), want);
}

TEST_F(HtsgetTest, CallersWithoutARecordTokenAreRefused) {
  std::string out;
  const std::string target = "/variants/spec?referenceName=20&start=14369&end=17330";
  EXPECT_NE(Bcftools("-H", target, &out, /*token_file=*/""), 0);
  EXPECT_EQ(out, "");
  EXPECT_NE(Bcftools("-H", target, &out, "wrong-token"), 0);
  EXPECT_EQ(out, "");
  ExpectError(Get(target, /*with_token=*/false), 403, "PermissionDenied");
  auto wrong = http::Fetch("127.0.0.1", port_, "GET", target, "", std::chrono::seconds(10),
                           {{"Authorization", "Bearer not-the-token-0000000000"}});
  ASSERT_TRUE(wrong.ok());
  ExpectError(*wrong, 401, "InvalidAuthentication");
  auto basic = http::Fetch("127.0.0.1", port_, "GET", target, "", std::chrono::seconds(10),
                           {{"Authorization", "Basic dXNlcjpwYXNz"}});
  ASSERT_TRUE(basic.ok());
  ExpectError(*basic, 401, "InvalidAuthentication");
}

TEST_F(HtsgetTest, BadRequestsGetTheSpecErrors) {
  ExpectError(Get("/variants/nosuchfile"), 404, "NotFound");
  ExpectError(Get("/variants/spec.csi?referenceName=20"), 404, "NotFound");
  ExpectError(Get("/variants/spec.tbi"), 404, "NotFound");
  ExpectError(Get("/variants/spec?referenceName=21"), 404, "NotFound");
  ExpectError(Get("/variants/spec?start=10&end=20"), 400, "InvalidInput");
  ExpectError(Get("/variants/spec?referenceName=20&start=abc"), 400, "InvalidInput");
  ExpectError(Get("/variants/spec?referenceName=20&end=-5"), 400, "InvalidInput");
  ExpectError(Get("/variants/spec?referenceName=20&start=4294967296"), 400, "InvalidInput");
  ExpectError(Get("/variants/spec?referenceName=20&start=200&end=100"), 400, "InvalidRange");
  ExpectError(Get("/variants/spec?format=BAM"), 400, "UnsupportedFormat");
  ExpectError(Get("/variants/spec?format=BCF"), 400, "UnsupportedFormat");
  ExpectError(Get("/variants/spec-bcf?format=VCF"), 400, "UnsupportedFormat");
  ExpectError(Get("/variants/spec?class=header&referenceName=20"), 400, "InvalidInput");
  ExpectError(Get("/variants/spec?class=body"), 400, "InvalidInput");
  ExpectError(Get("/variants/spec?tags=DP,AF&notags=AF"), 400, "InvalidInput");
  ExpectError(Post("/variants/spec?referenceName=20", "{}"), 400, "InvalidInput");
  ExpectError(Post("/variants/spec", R"({"regions":[]})"), 400, "InvalidInput");
  ExpectError(Post("/variants/spec", R"({"regions":[{"start":1}]})"), 400, "InvalidInput");
  ExpectError(Post("/variants/spec", R"({"regions":[{"referenceName":"20","start":5,"end":5}]})"),
              400, "InvalidRange");
  ExpectError(Post("/variants/spec", R"({"class":"header","regions":[{"referenceName":"20"}]})"),
              400, "InvalidInput");
  ExpectError(Post("/variants/spec", "not json"), 400, "InvalidInput");
  ExpectError(Post("/variants/spec", R"({"regions":[{"referenceName":"21"}]})"), 404, "NotFound");
  // start == end is legal on GET: an empty answer, still a valid file.
  std::string out;
  EXPECT_EQ(Bcftools("-H", "/variants/spec?referenceName=20&start=14369&end=14369", &out), 0);
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace oncomesh::testing
