// The node's audit trail end to end (issue 5): a node with synthetic clinical data, genomes and
// images serves requests from anonymous, registered and permitted callers and from forged and
// expired tokens; after it stops, `oncomesh audit verify` passes and every request is in the
// log with its caller, level, status, refusal reason, and exactly the figures, record ids and
// bytes its HTTP response carried. And a node whose log cannot be written answers 503 in each
// family's error format, with nothing of the data.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "api/node_service.h"
#include "http/http.h"
#include "support/audit_entries.h"
#include "support/process.h"
#include "support/test_access.h"
#include "support/variant_files.h"

namespace oncomesh::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

using Headers = std::vector<std::pair<std::string, std::string>>;

// The synthetic site every node here is made from: written once per test binary.
const std::string& SiteDir() {
  static TempDir* dir = new TempDir();
  static const std::string site = [] {
    const std::string out_dir = dir->path() + "/site";
    std::string out;
    const int rc = RunCommand(
        {OncomeshBinary(), "synth", "--site", "audit", "--individuals", "200", "--seed", "3",
         "--genomes", "40", "--genome-sites", "4000", "--images", "3", "--out", out_dir},
        &out);
    if (rc != 0) ADD_FAILURE() << out;
    return out_dir;
  }();
  return site;
}

// A node holding the site (FHIR, the genomes' VCF, the DICOM studies), trusting
// SharedBroker() with kSharedGrant for its dataset; `durability` for audit.durability.
// `*genomes` gets the VCF's htsget target ("/variants/ID"), as `ingest vcf` printed its id.
void MakeNode(const std::string& node, std::string* genomes,
              const std::string& durability = "written") {
  std::string out;
  ASSERT_EQ(
      RunCommand({OncomeshBinary(), "node", "init", "--dir", node, "--name", "audited"}, &out), 0)
      << out;
  TrustBroker(node, SharedBroker(), kSharedGrant);
  if (durability != "written") {
    std::ifstream in(node + "/node.yaml");
    std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t at = yaml.find("durability: written");
    ASSERT_NE(at, std::string::npos);
    yaml.replace(at, 19, "durability: " + durability);
    std::ofstream(node + "/node.yaml") << yaml;
  }
  const std::string site = SiteDir();
  ASSERT_EQ(RunCommand({OncomeshBinary(), "ingest", "fhir", "--dir", node, site}, &out), 0) << out;
  ASSERT_EQ(RunCommand({OncomeshBinary(), "ingest", "vcf", "--dir", node, site + "/genomes.vcf.gz"},
                       &out),
            0)
      << out;
  ASSERT_NE(HtsgetIdOfIngest(out), "") << out;
  *genomes = "/variants/" + HtsgetIdOfIngest(out);
  ASSERT_EQ(RunCommand({OncomeshBinary(), "ingest", "dicom", "--dir", node, site + "/dicom"}, &out),
            0)
      << out;
}

std::string FromBase64(const std::string& text) {
  std::string out(text.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return "";
  size_t pad = 0;
  for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

// A query parameter of a URL ("" when absent).
std::string UrlParam(const std::string& url, const std::string& name) {
  const size_t at = url.find(name + "=");
  if (at == std::string::npos) return "";
  const size_t from = at + name.size() + 1;
  return url.substr(from, url.find('&', from) - from);
}

// The values of a DICOM JSON attribute over QIDO results.
std::vector<std::string> DicomValues(const json& results, const std::string& tag) {
  std::vector<std::string> out;
  for (const json& r : results) {
    if (r.contains(tag)) {
      for (const json& v : r[tag]["Value"]) out.push_back(v.get<std::string>());
    }
  }
  return out;
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// The ids of records of `kind` in an entry.
std::vector<std::string> RecordIds(const json& entry, const std::string& kind) {
  std::vector<std::string> out;
  for (const json& r : entry["disclosed"]["records"]) {
    if (r["kind"] == kind) {
      for (const json& id : r["ids"]) out.push_back(id.get<std::string>());
    }
  }
  return out;
}

// A figure's value in an entry (-1 when absent).
int64_t Figure(const json& entry, const std::string& name, const std::string& dataset = "") {
  for (const json& f : entry["disclosed"]["figures"]) {
    if (f["name"] == name && f["dataset"] == dataset) return f["value"].get<int64_t>();
  }
  return -1;
}

class AuditTrailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_dir_ = tmp_.path() + "/node";
    MakeNode(node_dir_, &genomes_);
    node_ = std::make_unique<ChildProcess>(std::vector<std::string>{
        OncomeshBinary(), "node", "serve", "--dir", node_dir_, "--port", "0"});
    port_ = PortOf(node_->WaitForLine("node "));
    ASSERT_NE(port_, 0) << node_->output();
  }

  // Sends a request; `check` is what its audit entry must say (nullptr: it must have none).
  http::Response Send(
      const std::string& method, const std::string& target, const Headers& headers,
      const std::string& body,
      std::function<void(const json& entry, const http::Response& response)> check) {
    Result<http::Response> r =
        http::Fetch("127.0.0.1", port_, method, target, body, std::chrono::seconds(30), headers);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {};
    if (check) expected_.push_back({method + " " + target, *r, std::move(check)});
    return *r;
  }

  // The request and refusal entries of the node's log, in order.
  std::vector<json> Entries() { return AuditRequestEntries(node_dir_ + "/audit"); }

  struct Expected {
    std::string what;
    http::Response response;
    std::function<void(const json&, const http::Response&)> check;
  };

  TempDir tmp_;
  std::string node_dir_;
  std::string genomes_;  // the htsget target of the node's VCF
  std::unique_ptr<ChildProcess> node_;
  uint16_t port_ = 0;
  std::vector<Expected> expected_;
};

// Checks every entry has the caller's address, the request line and the response's status.
void CheckCommon(const json& e, const std::string& method, const std::string& path, int status) {
  EXPECT_EQ(e["caller"]["address"].get<std::string>().rfind("127.0.0.1:", 0), 0u) << e.dump();
  EXPECT_EQ(e["request"]["method"], method);
  EXPECT_EQ(e["request"]["path"], path);
  EXPECT_EQ(e["outcome"]["status"], status);
  EXPECT_EQ(e["type"], status < 400 ? "request" : "refusal");
}

TEST_F(AuditTrailTest, EveryRequestIsAuditedWithWhoAskedAndExactlyWhatLeft) {
  const Headers anonymous, registered = AsRegistered(), permitted = AsPermitted();
  const std::string count_body =
      R"({"meta":{"apiVersion":"v2.0"},"query":{"filters":[{"id":"NCIT:C20197"}],"requestedGranularity":"count"}})";

  // Anonymous: a count asked, a boolean answered; the body is the query.
  Send("POST", "/api/individuals", anonymous, count_body,
       [&](const json& e, const http::Response& r) {
         CheckCommon(e, "POST", "/api/individuals", 200);
         EXPECT_EQ(e["caller"]["anonymous"], true);
         EXPECT_EQ(e["access"], json({{"default", "anonymous"}}));
         EXPECT_EQ(e["request"]["body"], count_body);
         const json body = json::parse(r.body);
         EXPECT_FALSE(body["responseSummary"].contains("numTotalResults"));
         EXPECT_EQ(Figure(e, "exists"), body["responseSummary"]["exists"].get<bool>() ? 1 : 0);
         EXPECT_EQ(Figure(e, "individuals"), -1);  // no count left
       });
  // Registered: the count as released.
  for (const std::string entity : {"individuals", "biosamples", "g_variants"}) {
    const std::string path = "/api/" + entity;
    Send("GET", path + "?filters=NCIT:C20197&requestedGranularity=count", registered, "",
         [=](const json& e, const http::Response& r) {
           CheckCommon(e, "GET", path, 200);
           EXPECT_EQ(e["caller"]["subject"], "researcher-1");
           EXPECT_EQ(e["caller"]["issuer"], SharedBroker().issuer());
           EXPECT_EQ(e["access"], json({{"default", "registered"}}));
           EXPECT_EQ(e["request"]["query"], "filters=NCIT:C20197&requestedGranularity=count");
           const json body = json::parse(r.body);
           const std::string figure = entity == "g_variants" ? "genomicVariations" : entity;
           EXPECT_EQ(Figure(e, figure), body["responseSummary"]["numTotalResults"].get<int64_t>());
           EXPECT_EQ(Figure(e, "exists"), body["responseSummary"]["exists"].get<bool>() ? 1 : 0);
         });
  }
  // Permitted: records, and exactly the ids the response carried.
  Send("GET", "/api/g_variants?requestedGranularity=record&limit=4", permitted, "",
       [](const json& e, const http::Response& r) {
         CheckCommon(e, "GET", "/api/g_variants", 200);
         EXPECT_EQ(e["access"], json({{"default", "permitted"}}));
         const json set = json::parse(r.body)["response"]["resultSets"][0];
         std::vector<std::string> variants, biosamples, individuals;
         for (const json& v : set["results"]) {
           variants.push_back(v["variantInternalId"]);
           for (const json& c : v.value("caseLevelData", json::array())) {
             biosamples.push_back(c["biosampleId"]);
             individuals.push_back(c["individualId"]);
           }
         }
         ASSERT_EQ(variants.size(), 4u);
         ASSERT_FALSE(individuals.empty());
         EXPECT_EQ(RecordIds(e, "genomicVariation"), variants);
         EXPECT_EQ(Sorted(RecordIds(e, "biosample")), Sorted(biosamples));
         EXPECT_EQ(Sorted(RecordIds(e, "individual")), Sorted(individuals));
         EXPECT_EQ(Figure(e, "genomicVariations", set["id"]), set["resultsCount"].get<int64_t>());
         for (const json& rec : e["disclosed"]["records"]) EXPECT_EQ(rec["dataset"], set["id"]);
       });
  // Registered asking for records: refused by the gate, with its reason.
  Send("GET", "/api/g_variants?requestedGranularity=record", registered, "",
       [](const json& e, const http::Response& r) {
         CheckCommon(e, "GET", "/api/g_variants", 403);
         EXPECT_EQ(e["outcome"]["reason"], json::parse(r.body)["error"]["errorMessage"]);
         EXPECT_TRUE(e["disclosed"]["records"].empty());
       });
  // Forged (a broker the node does not trust) and expired tokens: 401, the verification error
  // as the reason, the caller unverified with what the token claimed.
  const TestBroker forger("https://forger.oncomesh.test");
  const std::string forged = forger.Permitted(kSharedGrant, "admin");
  const std::string expired = SharedBroker().Passport({SharedBroker().Visa({})}, "researcher-1",
                                                      json::object(), /*expires_in=*/-3600);
  for (const auto& [token, claimed_iss] :
       {std::pair{forged, forger.issuer()}, std::pair{expired, SharedBroker().issuer()}}) {
    Send("GET", "/api/individuals?requestedGranularity=count",
         {{"Authorization", "Bearer " + token}}, "",
         [claimed_iss = claimed_iss](const json& e, const http::Response& r) {
           CheckCommon(e, "GET", "/api/individuals", 401);
           const std::string message = json::parse(r.body)["error"]["errorMessage"];
           EXPECT_FALSE(message.empty());
           EXPECT_EQ(e["outcome"]["reason"], message);
           EXPECT_EQ(e["caller"]["unverified"], true);
           EXPECT_FALSE(e["caller"].contains("subject"));
           EXPECT_EQ(e["details"]["credentials"]["claimed"]["iss"], claimed_iss);
           EXPECT_TRUE(e["access"].empty());
         });
  }
  // Collections: the cohort's size as released, the collections shown.
  Send("GET", "/api/cohorts", registered, "", [](const json& e, const http::Response& r) {
    CheckCommon(e, "GET", "/api/cohorts", 200);
    const json c = json::parse(r.body)["response"]["collections"][0];
    EXPECT_EQ(Figure(e, "cohortSize", "default"), c["cohortSize"].get<int64_t>());
    EXPECT_EQ(e["details"]["collections"], json::array({c["id"]}));
  });
  Send("GET", "/api/datasets/default", anonymous, "", [](const json& e, const http::Response&) {
    CheckCommon(e, "GET", "/api/datasets/default", 200);
    EXPECT_EQ(e["details"]["collections"], json::array({"default"}));
    EXPECT_TRUE(e["disclosed"]["figures"].empty());
  });
  Send("GET", "/api/filtering_terms", anonymous, "", [](const json& e, const http::Response& r) {
    CheckCommon(e, "GET", "/api/filtering_terms", 200);
    EXPECT_EQ(e["details"]["filteringTerms"],
              json::parse(r.body)["response"]["filteringTerms"].size());
  });

  // htsget: a ticket (inline bytes sent, block ranges granted), then one block (its bytes).
  const std::string id = genomes_.substr(genomes_.rfind('/') + 1);
  const http::Response ticket =
      Send("GET", genomes_, permitted, "", [&](const json& e, const http::Response& r) {
        CheckCommon(e, "GET", genomes_, 200);
        uint64_t inline_bytes = 0;
        json granted = json::array();
        const json ticket = json::parse(r.body);  // (a temporary would die before the loop)
        for (const json& u : ticket["htsget"]["urls"]) {
          const std::string url = u["url"];
          if (url.rfind("data:", 0) == 0) {
            inline_bytes += FromBase64(url.substr(url.find(',') + 1)).size();
          } else {
            const uint64_t offset = std::stoull(UrlParam(url, "offset"));
            granted.push_back({offset, offset + std::stoull(UrlParam(url, "length"))});
          }
        }
        ASSERT_FALSE(granted.empty());
        const json& file = e["disclosed"]["files"][0];
        EXPECT_EQ(file["file"], id);
        EXPECT_EQ(file["bytes"], inline_bytes);
        EXPECT_TRUE(file["ranges"].empty());
        EXPECT_EQ(file["granted"], granted);
      });
  std::string block_url;
  const json ticket_body = json::parse(ticket.body);
  for (const json& u : ticket_body["htsget"]["urls"]) {
    if (u["url"].get<std::string>().rfind("http", 0) == 0) block_url = u["url"];
  }
  ASSERT_FALSE(block_url.empty()) << ticket.body.substr(0, 300);
  const std::string block_target = block_url.substr(block_url.find("/variants/"));
  Send("GET", block_target, permitted, "", [&](const json& e, const http::Response& r) {
    CheckCommon(e, "GET", genomes_ + "/block", 200);
    const uint64_t offset = std::stoull(UrlParam(block_url, "offset"));
    const json& file = e["disclosed"]["files"][0];
    EXPECT_EQ(file["bytes"], r.body.size());
    EXPECT_EQ(file["ranges"], json::array({json::array({offset, offset + r.body.size()})}));
  });
  Send("GET", genomes_, registered, "", [&](const json& e, const http::Response& r) {
    CheckCommon(e, "GET", genomes_, 403);
    EXPECT_EQ(e["outcome"]["reason"], json::parse(r.body)["htsget"]["message"]);
  });

  // DICOMweb: the UIDs QIDO showed, and a WADO instance's bytes.
  const http::Response studies =
      Send("GET", "/dicomweb/studies", permitted, "", [](const json& e, const http::Response& r) {
        CheckCommon(e, "GET", "/dicomweb/studies", 200);
        const json results = json::parse(r.body);
        EXPECT_EQ(results.size(), 3u);
        EXPECT_EQ(Sorted(RecordIds(e, "study")), Sorted(DicomValues(results, "0020000D")));
      });
  const std::string study = DicomValues(json::parse(studies.body), "0020000D").at(0);
  const http::Response instances = Send(
      "GET", "/dicomweb/studies/" + study + "/instances", permitted, "",
      [&](const json& e, const http::Response& r) {
        const json results = json::parse(r.body);
        EXPECT_EQ(Sorted(RecordIds(e, "sopInstance")), Sorted(DicomValues(results, "00080018")));
        EXPECT_EQ(Sorted(RecordIds(e, "series")), Sorted(DicomValues(results, "0020000E")));
      });
  const json first = json::parse(instances.body).at(0);
  const std::string series = first["0020000E"]["Value"][0], sop = first["00080018"]["Value"][0];
  const std::string wado = "/dicomweb/studies/" + study + "/series/" + series + "/instances/" + sop;
  Send("GET", wado, permitted, "", [&](const json& e, const http::Response& r) {
    CheckCommon(e, "GET", wado, 200);
    EXPECT_EQ(RecordIds(e, "sopInstance"), std::vector<std::string>{sop});
    const json& file = e["disclosed"]["files"][0];
    EXPECT_EQ(file["file"], sop);
    const uint64_t size = file["bytes"];
    EXPECT_EQ(file["ranges"], json::array({json::array({0, size})}));
    EXPECT_NE(r.body.size(), 0u);
    EXPECT_GT(r.body.size(), size);  // the multipart body: the file plus its part headers
    EXPECT_LT(r.body.size(), size + 1024);
  });
  Send("GET", "/dicomweb/studies", anonymous, "", [](const json& e, const http::Response& r) {
    CheckCommon(e, "GET", "/dicomweb/studies", 401);
    EXPECT_EQ(e["outcome"]["reason"], json::parse(r.body)["dicomweb"]["message"]);
    EXPECT_TRUE(e["disclosed"]["records"].empty());
  });

  // The server's own refusals on data paths are audited; descriptions are not.
  Send("GET", "/api/nosuch", registered, "", [](const json& e, const http::Response&) {
    CheckCommon(e, "GET", "/api/nosuch", 404);
    EXPECT_EQ(e["caller"]["subject"], "researcher-1");
    EXPECT_NE(e["outcome"]["reason"].get<std::string>().find("no such endpoint"),
              std::string::npos);
  });
  Send("DELETE", "/api/individuals", anonymous, "", [](const json& e, const http::Response&) {
    CheckCommon(e, "DELETE", "/api/individuals", 405);
  });
  // Refused before routing (a body announced over the limit, whose bytes the server never
  // reads): still the caller its passport shows. A raw request, so that the client is not
  // cut off while sending a megabyte the server refuses.
  {
    const std::string script =
        "import socket,sys\n"
        "s=socket.create_connection(('127.0.0.1'," +
        std::to_string(port_) +
        "))\n"
        "s.sendall(('POST /api/individuals HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: ' + "
        "sys.argv[1] + "
        "'\\r\\nContent-Length: 2000000\\r\\n\\r\\n').encode())\n"
        "print(s.recv(100).decode().split('\\r\\n')[0])\n";
    std::string out;
    ASSERT_EQ(RunCommand({"/usr/bin/python3", "-c", script, registered[0].second}, &out), 0) << out;
    EXPECT_NE(out.find(" 413 "), std::string::npos) << out;
    http::Response refused;
    refused.status = 413;
    expected_.push_back({"POST /api/individuals (2 MB announced)", refused,
                         [](const json& e, const http::Response&) {
                           CheckCommon(e, "POST", "/api/individuals", 413);
                           EXPECT_EQ(e["caller"]["subject"], "researcher-1");
                         }});
  }
  EXPECT_EQ(Send("GET", "/api/info", anonymous, "", nullptr).status, 200);
  EXPECT_EQ(Send("GET", "/variants/service-info", anonymous, "", nullptr).status, 200);

  // Stopped: the log verifies, ends with a clean close, and holds each request in order.
  EXPECT_EQ(node_->Terminate(), 0);
  std::string out;
  EXPECT_EQ(RunCommand({OncomeshBinary(), "audit", "verify", "--dir", node_dir_}, &out), 0) << out;
  EXPECT_NE(out.find("ends with the checkpoint of a clean close"), std::string::npos) << out;
  const std::vector<json> entries = Entries();
  ASSERT_EQ(entries.size(), expected_.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    SCOPED_TRACE(expected_[i].what + " -> " + entries[i].dump().substr(0, 600));
    EXPECT_EQ(entries[i]["outcome"]["status"], expected_[i].response.status);
    expected_[i].check(entries[i], expected_[i].response);
  }
}

// A node whose audit log cannot be written: the answer is not sent. Through a real NodeService
// and HTTP server in this process, with the log's file operations failing on demand: under
// audit.durability written a write fails (a full disk), under sync an fdatasync does (EIO).
class AuditFailureTest : public ::testing::TestWithParam<std::string> {};

TEST_P(AuditFailureTest, AnUnwritableLogMeans503InEachFamilysFormatAndNothingOfTheData) {
  const std::string durability = GetParam();
  TempDir tmp;
  const std::string node = tmp.path() + "/node";
  std::string genomes;
  MakeNode(node, &genomes, durability);
  std::atomic<bool> broken{false};
  api::NodeServiceOptions options;
  options.audit_file_ops = {[&](int fd, const void* data, size_t size) -> ssize_t {
                              if (broken && durability == "written") {
                                errno = ENOSPC;
                                return -1;
                              }
                              return ::write(fd, data, size);
                            },
                            [&](int fd) {
                              if (broken && durability == "sync") {
                                errno = EIO;
                                return -1;
                              }
                              return ::fdatasync(fd);
                            }};
  Result<std::unique_ptr<api::NodeService>> service = api::NodeService::Open(node, options);
  ASSERT_TRUE(service.ok()) << service.status().ToString();
  http::Router router;
  (*service)->Register(router);
  http::ServerOptions server_options;
  (*service)->ConfigureServer(&server_options);
  http::Server server(std::move(router), server_options);
  ASSERT_TRUE(server.Start().ok());
  auto get = [&](const std::string& target, const Headers& headers) {
    Result<http::Response> r = http::Fetch("127.0.0.1", server.port(), "GET", target, "",
                                           std::chrono::seconds(30), headers);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::Response{};
  };
  const std::string count = "/api/individuals?requestedGranularity=count";
  const http::Response before = get(count, AsRegistered());
  ASSERT_EQ(before.status, 200);
  ASSERT_NE(before.body.find("numTotalResults"), std::string::npos);

  broken = true;
  struct Case {
    std::string target;
    Headers headers;
    std::string error_pointer;        // where the family's error message is
    std::vector<std::string> absent;  // what must not be in the 503
  };
  const std::vector<Case> cases = {
      {count, AsRegistered(), "/error/errorMessage", {"numTotalResults", "responseSummary"}},
      {"/api/g_variants?requestedGranularity=record&limit=3",
       AsPermitted(),
       "/error/errorMessage",
       {"variantInternalId", "caseLevelData", "resultSets"}},
      {"/api/cohorts", AsRegistered(), "/error/errorMessage", {"cohortSize"}},
      {genomes, AsPermitted(), "/htsget/message", {"urls", "data:"}},
      {"/dicomweb/studies", AsPermitted(), "/dicomweb/message", {"0020000D", "Value"}},
      {"/api/nosuch", AsRegistered(), "/error/errorMessage", {"no such endpoint"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.target);
    const http::Response r = get(c.target, c.headers);
    EXPECT_EQ(r.status, 503);
    const json body = json::parse(r.body);
    const json::json_pointer p(c.error_pointer);
    ASSERT_TRUE(body.contains(p)) << r.body;
    EXPECT_NE(body.at(p).get<std::string>().find("audit log"), std::string::npos) << r.body;
    for (const std::string& word : c.absent)
      EXPECT_EQ(r.body.find(word), std::string::npos) << r.body;
  }
  // Descriptions of the service still answer: they are not audited.
  EXPECT_EQ(get("/api/info", {}).status, 200);
  EXPECT_FALSE((*service)->audit().health().ok());
  server.Stop();
  (*service)->Stop();
}

INSTANTIATE_TEST_SUITE_P(Durability, AuditFailureTest, ::testing::Values("written", "sync"));

}  // namespace
}  // namespace oncomesh::testing
