// Every endpoint of the node and of the hub, tried by every kind of caller (issue 5: "one
// table-driven test that tries every level against it and checks that nothing above the
// caller's level leaks — including through errors, pagination, `exists` on a suppressed count,
// and the hub's aggregation").
//
// Callers: anonymous, a forged passport (right issuer, another key), an expired one, one from
// an untrusted issuer, a registered researcher, and a permitted one (a ControlledAccessGrants
// visa for the node's dataset). A node with clinical data, genomes and images; a hub over it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "support/audit_entries.h"
#include "support/beacon_bodies.h"
#include "support/process.h"
#include "support/suite_fixture.h"
#include "support/test_access.h"
#include "support/variant_files.h"

namespace oncomesh::testing {
namespace {

using nlohmann::json;

enum class Level { kNone = -1, kAnonymous = 0, kRegistered = 1, kPermitted = 2 };

struct CallerCase {
  const char* name;
  std::function<std::string()> passport;  // "" = no Authorization header
  Level level;                            // kNone: credentials refused (401)
};

// What an endpoint shows at each level.
enum class Shape {
  kBeaconQuery,    // boolean for anonymous, count for registered (record requests: see below)
  kBeaconRecord,   // records for permitted; 403 below; 401 for refused credentials
  kCohorts,        // cohortSize only from registered up
  kOpen,           // the same for everyone who is not refused (datasets, filtering terms)
  kPermittedOnly,  // htsget, DICOMweb: 200 for permitted, refused otherwise
  kAdmin,          // never with a passport
};

struct EndpointCase {
  const char* method;
  std::string target;
  json body;
  Shape shape;
  bool hub;  // asked of the hub rather than the node
};

class AccessLevelsTest : public ::oncomesh::testing::SuiteFixture<AccessLevelsTest> {
  friend class ::oncomesh::testing::SuiteFixture<AccessLevelsTest>;  // calls SetUpSuite

 protected:
  static void SetUpSuite() {
    dir_ = new TempDir();
    const std::string fhir = dir_->path() + "/fhir";
    const std::string node = dir_->path() + "/node";
    std::string out;
    ASSERT_EQ(RunCommand({OncomeshBinary(), "synth", "--site", "levels", "--individuals", "400",
                          "--seed", "21", "--genomes", "80", "--genome-sites", "600", "--images",
                          "3", "--out", fhir},
                         &out),
              0)
        << out;
    ASSERT_EQ(
        RunCommand({OncomeshBinary(), "node", "init", "--dir", node, "--name", "levels"}, &out), 0)
        << out;
    TrustBroker(node, SharedBroker(), kSharedGrant);
    for (const char* kind : {"fhir", "vcf", "dicom"}) {
      const std::string input = std::string(kind) == "fhir"  ? fhir
                                : std::string(kind) == "vcf" ? fhir + "/genomes.vcf.gz"
                                                             : fhir + "/dicom";
      ASSERT_EQ(RunCommand({OncomeshBinary(), "ingest", kind, "--dir", node, input}, &out), 0)
          << out;
      if (std::string(kind) == "vcf") {
        ASSERT_NE(HtsgetIdOfIngest(out), "") << out;
        genomes_ = "/variants/" + HtsgetIdOfIngest(out);
      }
    }
    node_ = new ChildProcess({OncomeshBinary(), "node", "serve", "--dir", node, "--port", "0"});
    port_ = PortOf(node_->WaitForLine("node "));
    ASSERT_NE(port_, 0) << node_->output();
    const std::string config = dir_->path() + "/hub.yaml";
    std::ofstream(config)
        << "name: levels\naddress: 127.0.0.1\nport: 0\ndeadline_ms: 5000\nnodes:\n"
        << "  - {name: levels, url: http://127.0.0.1:" << port_ << "}\n";
    hub_ = new ChildProcess({OncomeshBinary(), "hub", "serve", "--config", config});
    hub_port_ = PortOf(hub_->WaitForLine("hub "));
    ASSERT_NE(hub_port_, 0) << hub_->output();
  }
  static void TearDownTestSuite() {
    delete hub_;
    delete node_;
    delete dir_;
  }

  static http::Response Ask(const EndpointCase& e, const std::string& passport) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!passport.empty()) headers.emplace_back("Authorization", "Bearer " + passport);
    Result<http::Response> r =
        FetchBeacon("127.0.0.1", e.hub ? hub_port_ : port_, e.method, e.target,
                    e.body.is_null() ? "" : e.body.dump(), std::chrono::seconds(30), headers);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::Response{};
  }

  // The node's request and refusal entries with a seq above `after`, in order (the answer is sent
  // only once its entry is written, so a finished request's entry is already in the file).
  static std::vector<json> AuditEntriesAfter(int64_t after) {
    return AuditRequestEntries(dir_->path() + "/node/audit", after);
  }
  static int64_t LastAuditSeq() {
    const std::vector<json> all = AuditEntriesAfter(-1);
    return all.empty() ? -1 : all.back()["seq"].get<int64_t>();
  }

  static TempDir* dir_;
  static inline std::string
      genomes_;  // the htsget target of the node's VCF, as ingest printed its id
  static ChildProcess* node_;
  static ChildProcess* hub_;
  static uint16_t port_;
  static uint16_t hub_port_;
};

TempDir* AccessLevelsTest::dir_ = nullptr;
ChildProcess* AccessLevelsTest::node_ = nullptr;
ChildProcess* AccessLevelsTest::hub_ = nullptr;
uint16_t AccessLevelsTest::port_ = 0;
uint16_t AccessLevelsTest::hub_port_ = 0;

json Query(const json& filters, const char* granularity, int skip = 0, int limit = 10) {
  return {{"meta", {{"apiVersion", "v2.0"}}},
          {"query",
           {{"filters", filters},
            {"requestedGranularity", granularity},
            {"pagination", {{"skip", skip}, {"limit", limit}}}}}};
}

// Substrings that must never appear in an answer below a level.
bool HasCount(const json& body) {
  return body.is_object() && body.contains("responseSummary") &&
         body["responseSummary"].contains("numTotalResults");
}
bool HasRecords(const std::string& body) {
  return body.find("caseLevelData") != std::string::npos ||
         body.find("\"results\":[{") != std::string::npos ||
         body.find("\"results\": [\n") != std::string::npos ||
         body.find("individualId") != std::string::npos;
}

// The node's audit trail of one request (point 5 and 6 of issue 5: every request that reaches
// the gate is appended with its caller and level, refusals too, and nothing but the refusal left).
void CheckAudited(const CallerCase& c, const EndpointCase& e, const std::string& passport,
                  const http::Response& r, const std::vector<json>& entries) {
  if (e.shape == Shape::kAdmin) {
    // No caller here holds the admin token: each request is refused, and the refusal is one
    // audit entry with its reason, nothing disclosed and not the credential presented (issue
    // 12, item 15). Permit decisions are audited too (PermitTest).
    ASSERT_EQ(entries.size(), 1u) << entries.size();
    EXPECT_EQ(entries[0]["type"], "refusal") << entries[0].dump();
    EXPECT_EQ(entries[0]["outcome"]["status"].get<int>(), r.status) << entries[0].dump();
    EXPECT_FALSE(entries[0]["outcome"]["reason"].get<std::string>().empty()) << entries[0].dump();
    for (const char* part : {"figures", "records", "files"}) {
      EXPECT_TRUE(entries[0]["disclosed"][part].empty()) << entries[0].dump();
    }
    if (!passport.empty()) {
      EXPECT_EQ(entries[0].dump().find(passport), std::string::npos);
    }
    return;
  }
  // The hub asks the node once per question; the node answers the hub's question as the caller.
  ASSERT_EQ(entries.size(), 1u) << (entries.empty() ? std::string("no entry")
                                                    : entries.back().dump());
  const json& entry = entries[0];
  if (!e.hub) {
    EXPECT_EQ(entry["outcome"]["status"].get<int>(), r.status) << entry.dump();
  }
  const bool refused = entry["outcome"]["status"].get<int>() >= 400;
  EXPECT_EQ(entry["type"], refused ? "refusal" : "request") << entry.dump();
  if (refused) {
    EXPECT_FALSE(entry["outcome"]["reason"].get<std::string>().empty()) << entry.dump();
    for (const char* part : {"figures", "records", "files"})
      EXPECT_TRUE(entry["disclosed"][part].empty()) << entry.dump();
  }
  const std::string line = entry.dump();
  if (!passport.empty()) {
    EXPECT_EQ(line.find(passport), std::string::npos) << "the token itself is never written";
  }
  switch (c.level) {
    case Level::kNone:
      EXPECT_TRUE(refused);
      EXPECT_EQ(entry["caller"].value("unverified", false), true) << line;
      EXPECT_FALSE(entry["details"]["credentials"]["verified"].get<bool>()) << line;
      EXPECT_TRUE(entry["access"].empty()) << line;
      return;
    case Level::kAnonymous:
      EXPECT_EQ(entry["caller"].value("anonymous", false), true) << line;
      break;
    default:
      EXPECT_EQ(entry["caller"]["subject"], "researcher-1") << line;
      EXPECT_EQ(entry["caller"]["issuer"], SharedBroker().issuer()) << line;
      break;
  }
  const char* level = c.level == Level::kAnonymous    ? "anonymous"
                      : c.level == Level::kRegistered ? "registered"
                                                      : "permitted";
  ASSERT_FALSE(entry["access"].empty()) << line;
  for (const auto& [dataset, granted] : entry["access"].items())
    EXPECT_EQ(granted, level) << dataset << " " << line;
  // Below registered, the figures that left are booleans only.
  for (const json& f : entry["disclosed"]["figures"]) {
    if (c.level == Level::kAnonymous) {
      EXPECT_EQ(f["name"], "exists") << line;
    }
  }
  if (c.level < Level::kPermitted) {
    EXPECT_TRUE(entry["disclosed"]["records"].empty()) << line;
    EXPECT_TRUE(entry["disclosed"]["files"].empty()) << line;
  }
}

TEST_F(AccessLevelsTest, NothingAboveTheCallersLevelLeaves) {
  const TestBroker& broker = SharedBroker();
  const TestBroker forger(broker.issuer());  // same issuer name and kid, another key
  const TestBroker stranger("https://untrusted.oncomesh.test");
  const std::vector<CallerCase> callers = {
      {"anonymous", [] { return std::string(); }, Level::kAnonymous},
      {"forged", [&] { return forger.Permitted(kSharedGrant); }, Level::kNone},
      {"expired", [&] { return broker.Passport({}, "researcher-1", json::object(), -3600); },
       Level::kNone},
      {"untrusted issuer", [&] { return stranger.Permitted(kSharedGrant); }, Level::kNone},
      {"not a JWT", [] { return std::string("definitely.not-a.jwt"); }, Level::kNone},
      {"registered", [&] { return broker.Registered(); }, Level::kRegistered},
      {"grant for another dataset",
       [&] { return broker.Permitted("https://ega.oncomesh.test/datasets/OTHER"); },
       Level::kRegistered},
      {"permitted", [&] { return broker.Permitted(kSharedGrant); }, Level::kPermitted},
  };
  const json breast = json::array({"ICD10:C50"});
  const json nothing =
      json::array({"ICD10:C50", "NCIT:C20197", "ICD10:C61"});  // women with prostate cancer: 0
  const std::vector<EndpointCase> endpoints = {
      {"POST", "/api/individuals", Query(breast, "count"), Shape::kBeaconQuery, false},
      {"GET", "/api/individuals?filters=ICD10:C50&requestedGranularity=count", nullptr,
       Shape::kBeaconQuery, false},
      {"POST", "/api/individuals", Query(nothing, "count"), Shape::kBeaconQuery, false},
      {"POST", "/api/biosamples", Query(breast, "count"), Shape::kBeaconQuery, false},
      {"POST", "/api/g_variants", Query(json::array(), "count"), Shape::kBeaconQuery, false},
      {"POST", "/api/g_variants", Query(json::array(), "record", 0, 5), Shape::kBeaconRecord,
       false},
      {"POST", "/api/g_variants", Query(json::array(), "record", 5, 5), Shape::kBeaconRecord,
       false},
      {"GET", "/api/g_variants?requestedGranularity=record&skip=10&limit=3", nullptr,
       Shape::kBeaconRecord, false},
      {"POST", "/api/individuals", Query(breast, "record"), Shape::kBeaconRecord, false},
      {"GET", "/api/cohorts", nullptr, Shape::kCohorts, false},
      {"GET", "/api/datasets", nullptr, Shape::kOpen, false},
      {"GET", "/api/filtering_terms", nullptr, Shape::kOpen, false},
      {"GET", genomes_ + "?referenceName=chr12", nullptr, Shape::kPermittedOnly, false},
      {"GET", "/dicomweb/studies", nullptr, Shape::kPermittedOnly, false},
      {"GET", "/admin/permits", nullptr, Shape::kAdmin, false},
      {"POST", "/api/individuals", Query(breast, "count"), Shape::kBeaconQuery, true},
      {"POST", "/api/individuals", Query(nothing, "count"), Shape::kBeaconQuery, true},
      {"POST", "/api/g_variants", Query(json::array(), "count"), Shape::kBeaconQuery, true},
      {"GET", "/api/cohorts", nullptr, Shape::kCohorts, true},
  };
  // What a registered caller is told exists, per endpoint, and what the boolean answers said:
  // an anonymous `exists` must say no more than the released count does.
  std::map<size_t, bool> registered_exists;
  std::vector<std::pair<size_t, bool>> boolean_exists;
  for (const CallerCase& c : callers) {
    const std::string passport = c.passport();
    for (size_t i = 0; i < endpoints.size(); ++i) {
      const EndpointCase& e = endpoints[i];
      SCOPED_TRACE(std::string(c.name) + ": " + e.method + " " + (e.hub ? "hub " : "node ") +
                   e.target);
      const int64_t before = LastAuditSeq();
      const http::Response r = Ask(e, passport);
      const json body = json::parse(r.body, nullptr, false);
      CheckAudited(c, e, passport, r, AuditEntriesAfter(before));
      // Credentials that are not a valid passport: 401 with the reason, and nothing else,
      // whatever was asked (the admin API too: it takes only its own token).
      if (c.level == Level::kNone) {
        EXPECT_EQ(r.status, 401) << r.body;
        EXPECT_FALSE(HasCount(body)) << r.body;
        EXPECT_FALSE(HasRecords(r.body)) << r.body;
        EXPECT_EQ(r.body.find("cohortSize"), std::string::npos) << r.body;
        continue;
      }
      switch (e.shape) {
        case Shape::kBeaconQuery: {
          ASSERT_EQ(r.status, 200) << r.body;
          const bool counts = c.level >= Level::kRegistered;
          EXPECT_EQ(HasCount(body), counts) << r.body;
          EXPECT_EQ(body["meta"]["returnedGranularity"], counts ? "count" : "boolean") << r.body;
          EXPECT_FALSE(HasRecords(r.body)) << r.body;
          if (e.hub) {
            // The hub adds no per-node counts an anonymous caller could sum.
            for (const json& n : body["info"]["nodes"])
              EXPECT_EQ(n.contains("count"), counts) << r.body;
          }
          if (counts) {
            // `exists` is derived from the released (rounded) count, never from the exact one.
            EXPECT_EQ(body["responseSummary"]["exists"].get<bool>(),
                      body["responseSummary"]["numTotalResults"].get<int64_t>() > 0);
            EXPECT_EQ(body["responseSummary"]["numTotalResults"].get<int64_t>() % 10, 0);
            if (c.level == Level::kRegistered) {
              registered_exists[i] = body["responseSummary"]["numTotalResults"].get<int64_t>() > 0;
            }
          } else {
            boolean_exists.emplace_back(i, body["responseSummary"]["exists"].get<bool>());
          }
          break;
        }
        case Shape::kBeaconRecord:
          if (c.level < Level::kPermitted) {
            EXPECT_EQ(r.status, 403) << r.body;
            EXPECT_NE(r.body.find("permit"), std::string::npos) << r.body;
            EXPECT_FALSE(HasRecords(r.body)) << r.body;
            EXPECT_FALSE(HasCount(body)) << r.body;
          } else {
            EXPECT_EQ(r.status, 200) << r.body;
          }
          break;
        case Shape::kCohorts:
          ASSERT_EQ(r.status, 200) << r.body;
          EXPECT_EQ(r.body.find("cohortSize") != std::string::npos, c.level >= Level::kRegistered)
              << r.body;
          break;
        case Shape::kOpen:
          EXPECT_EQ(r.status, 200) << r.body;
          EXPECT_FALSE(HasCount(body) &&
                       body["responseSummary"]["numTotalResults"].get<int64_t>() > 100)
              << r.body;
          break;
        case Shape::kPermittedOnly:
          if (c.level < Level::kPermitted) {
            EXPECT_TRUE(r.status == 401 || r.status == 403) << r.status << " " << r.body;
            EXPECT_EQ(r.body.find("urls"), std::string::npos) << r.body;
            EXPECT_EQ(r.body.find("0020000D"), std::string::npos) << r.body;
          } else {
            EXPECT_EQ(r.status, 200) << r.body;
          }
          break;
        case Shape::kAdmin:
          EXPECT_EQ(r.status, 401) << r.body;
          EXPECT_EQ(r.body.find("permits\""), std::string::npos) << r.body;
          break;
      }
    }
  }
  ASSERT_FALSE(boolean_exists.empty());
  for (const auto& [i, exists] : boolean_exists) {
    ASSERT_TRUE(registered_exists.count(i)) << endpoints[i].target;
    EXPECT_EQ(exists, registered_exists.at(i))
        << (endpoints[i].hub ? "hub " : "node ") << endpoints[i].method << " "
        << endpoints[i].target << " " << endpoints[i].body.dump();
  }
  // Both answers occur (breast cancer exists; women with prostate cancer do not), so the
  // comparison can fail either way.
  std::set<bool> seen;
  for (const auto& [i, exists] : registered_exists) seen.insert(exists);
  EXPECT_EQ(seen, (std::set<bool>{false, true}));
}

TEST_F(AccessLevelsTest, RefusalsSayWhyAndTheSameRefusalForExistingAndUnknownThings) {
  const TestBroker& broker = SharedBroker();
  const TestBroker forger(broker.issuer());
  EndpointCase count{"POST", "/api/individuals", Query(json::array({"ICD10:C50"}), "count"),
                     Shape::kBeaconQuery, false};
  const http::Response forged = Ask(count, forger.Registered());
  EXPECT_EQ(forged.status, 401);
  EXPECT_NE(forged.body.find("does not verify"), std::string::npos) << forged.body;
  EXPECT_NE(forged.body.find("beacon"), std::string::npos);  // a Beacon error response
  const http::Response expired =
      Ask(count, broker.Passport({}, "researcher-1", json::object(), -3600));
  EXPECT_NE(expired.body.find("expired"), std::string::npos) << expired.body;
  const http::Response audience =
      Ask(count, broker.Passport({}, "researcher-1", {{"aud", "https://elsewhere"}}));
  EXPECT_EQ(audience.status, 401);
  EXPECT_NE(audience.body.find("audience"), std::string::npos) << audience.body;
  const http::Response early =
      Ask(count, broker.Passport({}, "researcher-1", {{"nbf", UnixNow() + 3600}}));
  EXPECT_EQ(early.status, 401);
  EXPECT_NE(early.body.find("not valid yet"), std::string::npos) << early.body;
  const http::Response huge = Ask(count, std::string(50000, 'a'));
  EXPECT_EQ(huge.status, 401);
  EXPECT_NE(huge.body.find("over the limit"), std::string::npos) << huge.body;
  // A visa for another dataset: the record refusal names what is missing.
  EndpointCase records{"POST", "/api/g_variants", Query(json::array(), "record"),
                       Shape::kBeaconRecord, false};
  const http::Response other =
      Ask(records, broker.Permitted("https://ega.oncomesh.test/datasets/OTHER"));
  EXPECT_EQ(other.status, 403);
  EXPECT_NE(other.body.find(kSharedGrant), std::string::npos) << other.body;
  // DICOMweb: the same refusal whether a study exists or not.
  EndpointCase search{"GET", "/dicomweb/studies", nullptr, Shape::kPermittedOnly, false};
  const json studies =
      json::parse(Ask(search, broker.Permitted(kSharedGrant)).body, nullptr, false);
  ASSERT_TRUE(studies.is_array() && !studies.empty());
  const std::string study = studies[0]["0020000D"]["Value"][0];
  EndpointCase known{"GET", "/dicomweb/studies/" + study + "/metadata", nullptr,
                     Shape::kPermittedOnly, false};
  EndpointCase unknown{"GET", "/dicomweb/studies/9.9.9/metadata", nullptr, Shape::kPermittedOnly,
                       false};
  EXPECT_EQ(Ask(known, broker.Registered()).body, Ask(unknown, broker.Registered()).body);
}

}  // namespace
}  // namespace oncomesh::testing
