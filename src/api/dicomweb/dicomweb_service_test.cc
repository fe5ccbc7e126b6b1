// DICOMweb handlers over a real node: the shared DICOMDIR series and CT_small.dcm ingested
// (de-identified) into a real SQLite store; QIDO-RS matching, paging and errors; WADO-RS parts
// byte-identical to the stored files and read by DCMTK's dcmdump; metadata equal to DCMTK's
// dcm2json of the stored file; refusals that say nothing about the data.
#include "api/dicomweb/dicomweb_service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "api/dicomweb/internal/dicomweb_internal.h"
#include "ingest/dicom/dicom_ingest.h"
#include "support/multipart.h"
#include "support/process.h"
#include "support/suite_fixture.h"
#include "support/test_access.h"
#include "support/variant_files.h"

namespace oncomesh::api::dicomweb {
namespace {

using nlohmann::json;
using testing::Shell;
using testing::ShellQuote;

const std::string kDicom = std::string(ONCOMESH_SHARED_DIR) + "/data/dicom";
constexpr const char* kGrant = "https://ega.oncomesh.test/datasets/EGAD0042";

const testing::TestBroker& Broker() {
  static const testing::TestBroker broker;
  return broker;
}
const std::string& Permitted() {
  static const std::string passport = Broker().Permitted(kGrant);
  return passport;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The value of tag `tag` in a DICOM JSON object ("" when absent).
std::string Value(const json& object, const std::string& tag) {
  if (!object.contains(tag) || !object[tag].contains("Value")) return "";
  const json& v = object[tag]["Value"][0];
  return v.is_string() ? v.get<std::string>() : v.dump();
}

class DicomwebTest : public ::oncomesh::testing::SuiteFixture<DicomwebTest> {
  friend class ::oncomesh::testing::SuiteFixture<DicomwebTest>;  // calls SetUpSuite

 protected:
  static void SetUpSuite() {
    dir_ = new testing::TempDir();
    node::NodeConfig config;
    config.name = "dw";
    Result<node::NodeDir> node = node::NodeDir::Init(dir_->path() + "/node", config);
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    node_ = new node::NodeDir(std::move(*node));
    auto store = node_->OpenStore();
    ASSERT_TRUE(store.ok());
    Result<ingest::IngestReport> report =
        ingest::IngestDicom(*node_, **store, {kDicom + "/dicomdir", kDicom + "/CT_small.dcm"}, {});
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    instances_ = new std::vector<model::DicomInstance>();
    ASSERT_TRUE(
        (*store)
            ->ScanDicomInstances(
                0, [](store::Seq, const model::DicomInstance& i) { instances_->push_back(i); })
            .ok());
    ASSERT_GE(instances_->size(), 20u);
    service_ = new DicomwebService(*node_, testing::BrokerCallerFn(Broker(), kGrant));
  }
  static void TearDownTestSuite() {
    delete service_;
    delete instances_;
    delete node_;
    delete dir_;
  }

  static http::Request Get(std::map<std::string, std::string> path_params,
                           std::multimap<std::string, std::string> query = {},
                           const std::string& token = Permitted()) {
    http::Request r;
    r.method = "GET";
    r.path_params = std::move(path_params);
    r.query = std::move(query);
    // A hostile Host: RetrieveURLs must not take it (issue 12 item 14).
    r.headers["host"] = "evil.example:666";
    r.local = "127.0.0.1:8080";
    if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
    return r;
  }
  static json Results(const http::Response& r) {
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.content_type, "application/dicom+json");
    return r.status == 200 ? json::parse(r.body) : json::array();
  }
  static std::set<std::string> Distinct(std::string model::DicomInstance::*field) {
    std::set<std::string> out;
    for (const model::DicomInstance& i : *instances_) out.insert(i.*field);
    return out;
  }

  static testing::TempDir* dir_;
  static node::NodeDir* node_;
  static std::vector<model::DicomInstance>* instances_;
  static DicomwebService* service_;
};

testing::TempDir* DicomwebTest::dir_ = nullptr;
node::NodeDir* DicomwebTest::node_ = nullptr;
std::vector<model::DicomInstance>* DicomwebTest::instances_ = nullptr;
DicomwebService* DicomwebTest::service_ = nullptr;

TEST(DicomwebRefusal, AccessLevelsTable) {
  const CallerFn caller_of = testing::BrokerCallerFn(Broker(), kGrant);
  auto caller = [&](const std::string& passport) {
    http::Request r;
    if (!passport.empty()) r.headers["authorization"] = "Bearer " + passport;
    return caller_of(r);
  };
  struct Case {
    Result<auth::Caller> caller;
    int status;  // 0: served
    std::string error;
    std::string message;  // part of the message
  };
  const std::vector<Case> cases = {
      {caller(""), 401, "Unauthorized", "needs a data permit"},
      {caller("not-a-passport"), 401, "InvalidAuthentication", "not a compact JWS"},
      {caller(Broker().Registered()), 403, "PermissionDenied",
       "no valid ControlledAccessGrants visa for"},
      {caller(Broker().Permitted("https://ega.oncomesh.test/datasets/OTHER")), 403,
       "PermissionDenied", kGrant},
      {caller(Permitted()), 0, "", ""},
  };
  for (const Case& c : cases) {
    std::optional<http::Response> r = RefusalFor(c.caller);
    if (c.status == 0) {
      EXPECT_FALSE(r.has_value());
      continue;
    }
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, c.status);
    EXPECT_EQ(json::parse(r->body)["dicomweb"]["error"], c.error);
    EXPECT_NE(r->body.find(c.message), std::string::npos) << r->body;
    const bool challenge = !r->headers.empty() && r->headers[0].first == "WWW-Authenticate";
    EXPECT_EQ(challenge, c.status == 401);
  }
}

TEST(DicomwebQuery, ParametersAreCheckedAndNamed) {
  using internal::Level;
  struct Case {
    Level level;
    std::string key, value;
    std::string error;  // substring of the message; "" when accepted
  };
  const std::vector<Case> cases = {
      {Level::kStudy, "StudyInstanceUID", "1.2.3,1.2.4", ""},
      {Level::kStudy, "0020000D", "1.2.3", ""},
      {Level::kStudy, "0020000d", "1.2.3", ""},
      {Level::kStudy, "StudyDate", "20000101-20101231", ""},
      {Level::kStudy, "StudyDate", "-20101231", ""},
      {Level::kStudy, "StudyDate", "20000101-", ""},
      {Level::kStudy, "StudyDate", "2010", "StudyDate"},
      {Level::kStudy, "StudyDate", "20100231", "StudyDate"},
      {Level::kStudy, "StudyDate", "20100101-20000101", "StudyDate"},
      {Level::kStudy, "limit", "ten", "limit"},
      {Level::kStudy, "offset", "-1", "offset"},
      {Level::kStudy, "includefield", "PatientName,00100030,all", ""},
      {Level::kStudy, "includefield", "NoSuchKeyword", "NoSuchKeyword"},
      {Level::kStudy, "fuzzymatching", "false", ""},
      {Level::kStudy, "fuzzymatching", "maybe", "fuzzymatching"},
      {Level::kStudy, "Modality", "CT", "Modality"},  // a series attribute
      {Level::kSeries, "Modality", "CT", ""},
      {Level::kSeries, "SeriesNumber", "x", "SeriesNumber"},
      {Level::kInstance, "SOPInstanceUID", "1.2", ""},
      {Level::kStudy, "PatientName", "X*", "PatientName"},  // known to DICOM, not matchable here
      {Level::kStudy, "colour", "red", "unknown query parameter 'colour'"},
  };
  for (const Case& c : cases) {
    Result<internal::QidoQuery> q = internal::ParseQidoQuery(c.level, {{c.key, c.value}});
    if (c.error.empty()) {
      EXPECT_TRUE(q.ok()) << c.key << "=" << c.value << ": " << q.status().ToString();
    } else {
      ASSERT_FALSE(q.ok()) << c.key << "=" << c.value;
      EXPECT_NE(q.status().message().find(c.error), std::string::npos) << q.status().message();
    }
  }
}

TEST(DicomwebAccept, Negotiation) {
  const std::set<std::string> explicit_le = {"1.2.840.10008.1.2.1"};
  auto multipart = [&](const std::string& accept) {
    return internal::AcceptsDicomMultipart(&accept, explicit_le);
  };
  EXPECT_TRUE(internal::AcceptsDicomMultipart(nullptr, explicit_le));
  EXPECT_TRUE(multipart("multipart/related; type=\"application/dicom\""));
  EXPECT_TRUE(multipart("multipart/related; type=application/dicom; transfer-syntax=*"));
  EXPECT_TRUE(multipart(
      "multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.1"));
  EXPECT_TRUE(multipart("*/*"));
  EXPECT_FALSE(multipart(
      "multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.4.50"));
  EXPECT_FALSE(multipart("multipart/related; type=\"application/octet-stream\""));
  EXPECT_FALSE(multipart("application/dicom+json"));
  EXPECT_FALSE(multipart("multipart/related; type=\"application/dicom\"; q=0"));
  const std::string json_accept = "application/dicom+json",
                    xml = "multipart/related; type=\"application/dicom+xml\"";
  EXPECT_TRUE(internal::AcceptsDicomJson(&json_accept));
  EXPECT_FALSE(internal::AcceptsDicomJson(&xml));
}

// Issue 12 item 14: with node.yaml public_url, RetrieveURLs start with it (and never with the
// request's Host header, which Get() makes hostile).
TEST_F(DicomwebTest, RetrieveUrlsStartWithThePublicUrl) {
  node::NodeDir behind_proxy = *node_;
  behind_proxy.mutable_config().public_url = "https://pacs.example.org/oncomesh";
  const DicomwebService service(behind_proxy, testing::BrokerCallerFn(Broker(), kGrant));
  const json studies = Results(service.Search(Get({}), "studies").response);
  ASSERT_FALSE(studies.empty());
  for (const json& s : studies) {
    EXPECT_EQ(Value(s, "00081190"),
              "https://pacs.example.org/oncomesh/dicomweb/studies/" + Value(s, "0020000D"));
  }
}

TEST_F(DicomwebTest, StudiesCarryTheRequiredAttributesAndCounts) {
  json studies = Results(service_->Search(Get({}), "studies").response);
  const std::set<std::string> uids = Distinct(&model::DicomInstance::study_uid);
  ASSERT_EQ(studies.size(), uids.size());
  for (const json& s : studies) {
    const std::string uid = Value(s, "0020000D");
    ASSERT_TRUE(uids.count(uid)) << uid;
    EXPECT_EQ(s["0020000D"]["vr"], "UI");
    EXPECT_EQ(s["00080020"]["vr"], "DA");
    EXPECT_EQ(s["00201208"]["vr"], "IS");
    int64_t instances = 0;
    std::set<std::string> series, modalities;
    std::string patient;
    for (const model::DicomInstance& i : *instances_) {
      if (i.study_uid != uid) continue;
      ++instances;
      series.insert(i.series_uid);
      modalities.insert(i.modality);
      patient = i.individual_id;
      EXPECT_EQ(Value(s, "00080020"), internal::DicomDate(i.study_date));
    }
    EXPECT_EQ(s["00201208"]["Value"][0].get<int64_t>(), instances);
    EXPECT_EQ(s["00201206"]["Value"][0].get<size_t>(), series.size());
    EXPECT_EQ(s["00080061"]["Value"].get<std::set<std::string>>(), modalities);
    EXPECT_EQ(Value(s, "00100020"), patient);
    EXPECT_EQ(Value(s, "00081190"), "http://127.0.0.1:8080/dicomweb/studies/" + uid);
  }
}

TEST_F(DicomwebTest, MatchingAtEachLevel) {
  const model::DicomInstance& some = instances_->front();
  // Study by UID, by keyword and by tag, and a UID list.
  EXPECT_EQ(
      Results(service_->Search(Get({}, {{"StudyInstanceUID", some.study_uid}}), "studies").response)
          .size(),
      1u);
  EXPECT_EQ(
      Results(service_->Search(Get({}, {{"0020000D", some.study_uid}}), "studies").response).size(),
      1u);
  std::set<std::string> studies = Distinct(&model::DicomInstance::study_uid);
  const std::string two = *studies.begin() + "," + *std::next(studies.begin());
  EXPECT_EQ(
      Results(service_->Search(Get({}, {{"StudyInstanceUID", two}}), "studies").response).size(),
      2u);
  // PatientID: the pseudonym.
  for (const json& s : Results(
           service_->Search(Get({}, {{"PatientID", some.individual_id}}), "studies").response)) {
    EXPECT_EQ(Value(s, "00100020"), some.individual_id);
  }

  // Series by modality (exact and with a wildcard), within a study, and by body part.
  std::map<std::string, std::set<std::string>> series_by_modality;
  for (const model::DicomInstance& i : *instances_)
    series_by_modality[i.modality].insert(i.series_uid);
  for (const auto& [modality, series] : series_by_modality) {
    json found = Results(service_->Search(Get({}, {{"Modality", modality}}), "series").response);
    std::set<std::string> uids;
    for (const json& s : found) {
      uids.insert(Value(s, "0020000E"));
      EXPECT_EQ(Value(s, "00080060"), modality);
      EXPECT_FALSE(Value(s, "0020000D").empty());  // study attributes come along
    }
    EXPECT_EQ(uids, series) << modality;
    EXPECT_EQ(
        Results(service_->Search(Get({}, {{"Modality", modality.substr(0, 1) + "*"}}), "series")
                    .response)
                .size() >= series.size(),
        true);
  }
  json in_study = Results(service_->Search(Get({{"study", some.study_uid}}), "series").response);
  std::set<std::string> expected_series;
  for (const model::DicomInstance& i : *instances_) {
    if (i.study_uid == some.study_uid) expected_series.insert(i.series_uid);
  }
  EXPECT_EQ(in_study.size(), expected_series.size());
  for (const json& s : in_study) {
    EXPECT_EQ(s["00201209"]["vr"], "IS");
    EXPECT_TRUE(expected_series.count(Value(s, "0020000E")));
  }
  if (!some.body_part.empty()) {
    for (const json& s :
         Results(service_->Search(Get({}, {{"BodyPartExamined", some.body_part}}), "series")
                     .response)) {
      EXPECT_EQ(Value(s, "00180015"), some.body_part);
    }
  }

  // Instances of a series, and by SOP Instance UID at /instances.
  json of_series = Results(
      service_->Search(Get({{"study", some.study_uid}, {"series", some.series_uid}}), "instances")
          .response);
  size_t expected = 0;
  for (const model::DicomInstance& i : *instances_) expected += i.series_uid == some.series_uid;
  EXPECT_EQ(of_series.size(), expected);
  // Study attributes of an instance count the whole study, not the series searched in: a
  // study with several series.
  std::map<std::string, std::set<std::string>> series_of;
  for (const model::DicomInstance& i : *instances_) series_of[i.study_uid].insert(i.series_uid);
  auto multi = std::max_element(
      series_of.begin(), series_of.end(),
      [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
  ASSERT_GT(multi->second.size(), 1u);
  json study =
      Results(service_->Search(Get({}, {{"StudyInstanceUID", multi->first}}), "studies").response);
  json of_one_series = Results(
      service_
          ->Search(Get({{"study", multi->first}, {"series", *multi->second.begin()}}), "instances")
          .response);
  ASSERT_FALSE(of_one_series.empty());
  for (const json& i : of_one_series) {
    EXPECT_EQ(i["00201206"]["Value"][0].get<size_t>(), multi->second.size());
    EXPECT_EQ(i["00201208"], study[0]["00201208"]);
  }
  json one =
      Results(service_->Search(Get({}, {{"SOPInstanceUID", some.id}}), "instances").response);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(Value(one[0], "00080016"), some.sop_class_uid);
  EXPECT_EQ(Value(one[0], "00200013"), std::to_string(some.instance_number));
  EXPECT_EQ(Value(one[0], "00081190"), "http://127.0.0.1:8080/dicomweb/studies/" + some.study_uid +
                                           "/series/" + some.series_uid + "/instances/" + some.id);
}

TEST_F(DicomwebTest, StudyDateRanges) {
  std::map<std::string, std::string> date_of;  // study -> YYYYMMDD
  for (const model::DicomInstance& i : *instances_)
    date_of[i.study_uid] = internal::DicomDate(i.study_date);
  const std::string date = date_of.begin()->second;
  ASSERT_EQ(date.size(), 8u);
  auto count = [&](const std::string& range) {
    http::Response r = service_->Search(Get({}, {{"StudyDate", range}}), "studies").response;
    return r.status == 204 ? size_t{0} : Results(r).size();
  };
  auto expected = [&](const std::string& from, const std::string& to) {
    size_t n = 0;
    for (const auto& [uid, d] : date_of) n += !d.empty() && d >= from && d <= to;
    return n;
  };
  EXPECT_EQ(count(date), expected(date, date));
  EXPECT_EQ(count(date + "-"), expected(date, "99999999"));
  EXPECT_EQ(count("-" + date), expected("00000000", date));
  EXPECT_EQ(count("19000101-" + date), expected("19000101", date));
  EXPECT_GE(count(date), 1u);
  EXPECT_EQ(count("18500101-18501231"), 0u);
}

TEST_F(DicomwebTest, LimitOffsetPagesAndNoContent) {
  json all = Results(service_->Search(Get({}), "instances").response);
  ASSERT_EQ(all.size(), instances_->size());
  json paged = json::array();
  for (size_t offset = 0; offset < all.size(); offset += 7) {
    http::Response r =
        service_->Search(Get({}, {{"limit", "7"}, {"offset", std::to_string(offset)}}), "instances")
            .response;
    const bool more = offset + 7 < all.size();
    bool warned = false;
    for (const auto& [name, value] : r.headers) warned = warned || name == "Warning";
    EXPECT_EQ(warned, more) << offset;
    for (const json& j : Results(r)) paged.push_back(j);
  }
  EXPECT_EQ(paged, all);

  http::Response none = service_->Search(Get({}, {{"Modality", "XA"}}), "series").response;
  EXPECT_EQ(none.status, 204);
  EXPECT_TRUE(none.body.empty());
  EXPECT_EQ(service_->Search(Get({}, {{"offset", "100000"}}), "studies").response.status, 204);
  EXPECT_EQ(service_->Search(Get({{"study", "1.2.3.4.5.6"}}), "series").response.status, 204);

  http::Response bad = service_->Search(Get({}, {{"colour", "red"}}), "studies").response;
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(json::parse(bad.body)["dicomweb"]["message"].get<std::string>().find("colour"),
            std::string::npos);
  EXPECT_EQ(service_->Search(Get({}, {{"limit", "-3"}}), "studies").response.status, 400);

  http::Response fuzzy = service_->Search(Get({}, {{"fuzzymatching", "true"}}), "studies").response;
  EXPECT_EQ(fuzzy.status, 200);
  bool warned = false;
  for (const auto& [name, value] : fuzzy.headers)
    warned = warned || value.find("fuzzymatching") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST_F(DicomwebTest, RetrieveGivesTheStoredFilesByteForByte) {
  for (const std::string& study : Distinct(&model::DicomInstance::study_uid)) {
    http::Response r = service_->Retrieve(Get({{"study", study}})).response;
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(r.content_type.rfind("multipart/related; type=\"application/dicom\"; boundary=", 0),
              0u);
    std::vector<testing::MultipartPart> parts =
        testing::ParseMultipart(r.body, testing::BoundaryOf(r.content_type));
    std::multiset<std::string> expected, got;
    for (const model::DicomInstance& i : *instances_) {
      if (i.study_uid == study) expected.insert(ReadFile(node_->dir() + "/" + i.path));
    }
    for (const testing::MultipartPart& p : parts) {
      EXPECT_EQ(p.content_type.rfind("application/dicom; transfer-syntax=", 0), 0u)
          << p.content_type;
      got.insert(p.body);
    }
    EXPECT_EQ(got, expected) << study;
  }
  // One instance: one part, readable by DCMTK.
  const model::DicomInstance& i = instances_->back();
  http::Response r =
      service_
          ->Retrieve(Get({{"study", i.study_uid}, {"series", i.series_uid}, {"instance", i.id}}))
          .response;
  ASSERT_EQ(r.status, 200);
  auto parts = testing::ParseMultipart(r.body, testing::BoundaryOf(r.content_type));
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].body, ReadFile(node_->dir() + "/" + i.path));
  const std::string part_file = dir_->path() + "/part.dcm";
  std::ofstream(part_file, std::ios::binary) << parts[0].body;
  std::string out;
  ASSERT_EQ(Shell("dcmdump -q +P SOPInstanceUID " + ShellQuote(part_file), &out), 0) << out;
  EXPECT_NE(out.find(i.id), std::string::npos) << out;

  // A series of another study, unknown UIDs: 404. Accept it cannot meet: 406.
  EXPECT_EQ(service_->Retrieve(Get({{"study", "1.2.3"}})).response.status, 404);
  EXPECT_EQ(service_->Retrieve(Get({{"study", "1.2.3"}, {"series", i.series_uid}})).response.status,
            404);
  http::Request xml = Get({{"study", i.study_uid}});
  xml.headers["accept"] = "multipart/related; type=\"application/dicom+xml\"";
  EXPECT_EQ(service_->Retrieve(xml).response.status, 406);
  EXPECT_EQ(service_->Metadata(xml).response.status, 406);
}

TEST_F(DicomwebTest, MetadataIsWhatDcm2jsonSaysOfTheStoredFile) {
  for (const std::string& series : Distinct(&model::DicomInstance::series_uid)) {
    std::string study;
    std::map<std::string, std::string> path_of;  // SOP Instance UID -> stored file
    for (const model::DicomInstance& i : *instances_) {
      if (i.series_uid != series) continue;
      study = i.study_uid;
      path_of[i.id] = node_->dir() + "/" + i.path;
    }
    http::Response r = service_->Metadata(Get({{"study", study}, {"series", series}})).response;
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.content_type, "application/dicom+json");
    json metadata = json::parse(r.body);
    ASSERT_EQ(metadata.size(), path_of.size());
    for (const json& object : metadata) {
      const std::string uid = Value(object, "00080018");
      ASSERT_TRUE(path_of.count(uid)) << uid;
      std::string out;
      ASSERT_EQ(Shell("dcm2json -fc " + ShellQuote(path_of[uid]) + " 2>/dev/null", &out), 0);
      json expected = json::parse(out);
      EXPECT_TRUE(expected.contains("7FE00010")) << uid;
      expected.erase("7FE00010");  // bulk data: omitted from metadata
      EXPECT_FALSE(object.contains("7FE00010"));
      for (const auto& [tag, element] : expected.items()) {
        EXPECT_EQ(object.value(tag, json()), element) << uid << " " << tag;
      }
      for (const auto& [tag, element] : object.items())
        EXPECT_TRUE(expected.contains(tag)) << uid << " " << tag;
    }
  }
}

TEST_F(DicomwebTest, RefusalsLeakNothing) {
  const model::DicomInstance& i = instances_->front();
  const std::vector<std::map<std::string, std::string>> known = {
      {{"study", i.study_uid}},
      {{"study", i.study_uid}, {"series", i.series_uid}},
      {{"study", i.study_uid}, {"series", i.series_uid}, {"instance", i.id}}};
  const std::vector<std::map<std::string, std::string>> unknown = {
      {{"study", "1.2.3.999"}},
      {{"study", "1.2.3.999"}, {"series", "1.2.3.998"}},
      {{"study", "1.2.3.999"}, {"series", "1.2.3.998"}, {"instance", "1.2.3.997"}}};
  for (const std::string& token : {std::string(), std::string("not-the-token-000000000000")}) {
    const int status = 401;
    for (size_t k = 0; k < known.size(); ++k) {
      for (auto handler : {&DicomwebService::Retrieve, &DicomwebService::Metadata}) {
        http::Response a = (service_->*handler)(Get(known[k], {}, token)).response;
        http::Response b = (service_->*handler)(Get(unknown[k], {}, token)).response;
        EXPECT_EQ(a.status, status);
        EXPECT_EQ(a.body, b.body);
        EXPECT_EQ(a.content_type, b.content_type);
        EXPECT_EQ(a.headers, b.headers);
        EXPECT_EQ(a.body.find(i.study_uid), std::string::npos);
      }
      http::Response a =
          service_->Search(Get(known[k], {{"StudyDate", "bad"}}, token), "instances").response;
      http::Response b = service_->Search(Get(unknown[k], {}, token), "instances").response;
      EXPECT_EQ(a.status, status);
      EXPECT_EQ(a.body, b.body);  // refused before the parameters are looked at
    }
  }
  // A valid credential below record level: 403, the same for both.
  http::Response a = service_->Retrieve(Get(known[0], {}, Broker().Registered())).response;
  http::Response b = service_->Retrieve(Get(unknown[0], {}, Broker().Registered())).response;
  EXPECT_EQ(a.status, 403);
  EXPECT_EQ(a.body, b.body);
}

// Images of no known individual belong to no dataset the node can name: they are served only
// to a caller permitted on every dataset (issue 12, item 10). A node of two datasets, "a" with
// the individual CT_small.dcm's patient became, "b" empty; MR_small.dcm's patient is nobody's.
TEST(DicomwebDatasets, ImagesOfNoKnownIndividualNeedAPermitOnEveryDataset) {
  testing::TempDir dir;
  node::NodeConfig config;
  config.datasets = {node::DatasetConfig{}, node::DatasetConfig{}};
  config.datasets[0].id = "a";
  config.datasets[1].id = "b";
  Result<node::NodeDir> node = node::NodeDir::Init(dir.path() + "/node", config);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  auto store = node->OpenStore();
  ASSERT_TRUE(store.ok());
  model::RecordBatch patients;
  model::Individual ct_patient;
  ct_patient.id = node->pseudonymizer().IndividualPseudonym("1CT1");  // CT_small's PatientID
  ct_patient.dataset = "a";
  patients.individuals.push_back(ct_patient);
  ASSERT_TRUE((*store)->IngestBatch({"patients", "test-patients", "test"}, patients).ok());
  ASSERT_TRUE(
      ingest::IngestDicom(*node, **store, {kDicom + "/CT_small.dcm", kDicom + "/MR_small.dcm"}, {})
          .ok());
  std::map<std::string, std::string> study_of;  // modality -> study UID
  ASSERT_TRUE((*store)
                  ->ScanDicomInstances(0,
                                       [&](store::Seq, const model::DicomInstance& i) {
                                         study_of[i.modality] = i.study_uid;
                                       })
                  .ok());
  ASSERT_EQ(study_of.size(), 2u);

  // Callers as the node's access policy makes them: permitted on "a" only, or on both.
  auto caller_on = [](std::vector<std::string> permitted) -> CallerFn {
    return [permitted](const http::Request&) -> Result<auth::Caller> {
      auth::Caller c;
      for (const char* id : {"a", "b"}) {
        const bool yes = std::find(permitted.begin(), permitted.end(), id) != permitted.end();
        c.datasets.push_back({id,
                              yes ? gate::AccessLevel::kPermitted : gate::AccessLevel::kRegistered,
                              yes ? "" : "no permit"});
      }
      return c;
    };
  };
  auto studies_seen = [&](const DicomwebService& service) {
    http::Request r;
    r.method = "GET";
    r.headers["host"] = "node.test";
    http::Response answer = service.Search(r, "studies").response;
    std::set<std::string> seen;
    if (answer.status != 200) return seen;
    for (const json& study : json::parse(answer.body)) seen.insert(Value(study, "0020000D"));
    return seen;
  };
  const DicomwebService only_a(*node, caller_on({"a"})), both(*node, caller_on({"a", "b"}));
  EXPECT_EQ(studies_seen(only_a), (std::set<std::string>{study_of["CT"]}));
  EXPECT_EQ(studies_seen(both), (std::set<std::string>{study_of["CT"], study_of["MR"]}));
  // Retrieving the unknown individual's study: as if it did not exist, unless permitted on all.
  http::Request retrieve;
  retrieve.method = "GET";
  retrieve.headers["host"] = "node.test";
  retrieve.path_params = {{"study", study_of["MR"]}};
  EXPECT_EQ(only_a.Retrieve(retrieve).response.status, 404);
  EXPECT_EQ(both.Retrieve(retrieve).response.status, 200);
}

}  // namespace
}  // namespace oncomesh::api::dicomweb
