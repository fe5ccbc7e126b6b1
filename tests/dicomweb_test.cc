// DICOMweb end to end: `oncomesh ingest dicom` stores the shared DICOMDIR series and
// CT_small.dcm in a node, `oncomesh node serve` answers over HTTP; QIDO-RS and WADO-RS with and
// without the record token, WADO-RS parts equal to the stored files and read by dcmdump,
// metadata equal to dcm2json's, and the npm package dicomweb-client (OHIF's DICOMweb client)
// searching and retrieving through the node.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "node/node_dir.h"
#include "support/multipart.h"
#include "support/process.h"
#include "support/suite_fixture.h"
#include "support/test_access.h"
#include "support/variant_files.h"

namespace oncomesh::testing {
namespace {

using nlohmann::json;

constexpr const char* kGrant = "https://ega.oncomesh.test/datasets/EGAD0093";

const TestBroker& Broker() {
  static const TestBroker broker;
  return broker;
}
const std::string& Token() {
  static const std::string passport = Broker().Permitted(kGrant);
  return passport;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// dicom3tools' reading of a file's top-level attributes: an independent parser (the node and
// dcm2json are both DCMTK). "GGGGEEEE" -> VR and the value as dcdump prints it (between <> for
// text, [] for binary). The file meta group (0002) and group lengths are left out, as DICOM
// JSON has neither.
struct DcdumpAttribute {
  std::string vr;
  std::string value;
};
std::map<std::string, DcdumpAttribute> DcdumpTopLevel(const std::string& path) {
  std::string out;
  EXPECT_EQ(RunCommand({"/usr/bin/dcdump", path}, &out), 0) << out;
  static const std::regex kLine(
      R"(^\(0x([0-9a-f]{4}),0x([0-9a-f]{4})\) .*VR=<([A-Z]{2})>\s+VL=<0x[0-9a-f]+>\s*(.*)$)");
  std::map<std::string, DcdumpAttribute> attributes;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (!std::regex_match(line, m, kLine)) continue;  // nested items ("  > ..."), item markers
    if (m[1] == "0002" || m[2] == "0000") continue;
    std::string key = m[1].str() + m[2].str();
    for (char& c : key) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    attributes[key] = {m[3], m[4]};
  }
  return attributes;
}

// The text value dcdump printed ("<1.2.3 >"), without DICOM's padding; nullopt for binary.
std::optional<std::string> DcdumpText(const std::string& printed) {
  const size_t open = printed.find('<'), close = printed.rfind('>');
  if (open != 0 || close == std::string::npos || close < open) return std::nullopt;
  std::string v = printed.substr(1, close - 1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\0')) v.pop_back();
  return v;
}

// Checks one instance's DICOM JSON metadata against dcdump's reading of the stored file:
// the same top-level attributes with the same VRs, and the same values for every text VR
// (numbers for DS and IS, Alphabetic for PN). Returns the number of values compared.
int ExpectMetadataAsDcdumpReadsIt(const json& metadata, const std::string& path) {
  const std::map<std::string, DcdumpAttribute> dumped = DcdumpTopLevel(path);
  std::set<std::string> dumped_keys, metadata_keys;
  for (const auto& [key, a] : dumped) {
    if (key != "7FE00010") dumped_keys.insert(key);
  }
  for (const auto& [key, a] : metadata.items()) metadata_keys.insert(key);
  EXPECT_EQ(metadata_keys, dumped_keys) << path;
  static const std::set<std::string> kText = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT",
                                              "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT"};
  static const std::set<std::string> kSingle = {"LT", "ST", "UT", "UR"};
  int compared = 0;
  for (const auto& [key, a] : dumped) {
    if (!metadata.contains(key)) continue;
    const json& m = metadata[key];
    EXPECT_EQ(m.value("vr", ""), a.vr) << key;
    // DICOM JSON is UTF-8 (PS3.18 F.2), so its Specific Character Set says ISO_IR 192 whatever
    // the file's was.
    if (!kText.count(a.vr) || key == "00080005") continue;
    const std::optional<std::string> text = DcdumpText(a.value);
    if (!text) {
      ADD_FAILURE() << key << ": dcdump printed no text value: " << a.value;
      continue;
    }
    if (std::any_of(text->begin(), text->end(),
                    [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
      continue;  // a character set other than ASCII: the JSON holds UTF-8
    }
    if (text->empty()) {
      EXPECT_FALSE(m.contains("Value")) << key << " " << m.dump();
      continue;
    }
    std::vector<std::string> values;
    if (kSingle.count(a.vr)) {
      values.push_back(*text);
    } else {
      std::istringstream parts(*text);
      std::string part;
      while (std::getline(parts, part, '\\')) values.push_back(part);
      if (text->back() == '\\') values.emplace_back();
    }
    if (!m.contains("Value") || m["Value"].size() != values.size()) {
      ADD_FAILURE() << key << ": " << m.dump() << " vs dcdump <" << *text << ">";
      continue;
    }
    for (size_t i = 0; i < values.size(); ++i) {
      const json& v = m["Value"][i];
      std::string want = values[i];
      while (!want.empty() && want.front() == ' ' && (a.vr == "DS" || a.vr == "IS"))
        want.erase(0, 1);
      while (!want.empty() && want.back() == ' ') want.pop_back();
      if (a.vr == "DS" || a.vr == "IS") {
        if (!v.is_number()) {
          ADD_FAILURE() << key << " " << m.dump();
          continue;
        }
        EXPECT_DOUBLE_EQ(v.get<double>(), std::stod(want)) << key;
      } else if (a.vr == "PN") {
        EXPECT_EQ(v.value("Alphabetic", ""), want) << key;
      } else {
        EXPECT_EQ(v, want) << key;
      }
      ++compared;
    }
  }
  return compared;
}

class DicomwebNodeTest : public ::oncomesh::testing::SuiteFixture<DicomwebNodeTest> {
  friend class ::oncomesh::testing::SuiteFixture<DicomwebNodeTest>;  // calls SetUpSuite

 protected:
  static void SetUpSuite() {
    dir_ = new TempDir();
    const std::string node = dir_->path() + "/node";
    std::string out;
    ASSERT_EQ(RunCommand({OncomeshBinary(), "node", "init", "--dir", node, "--name", "dw"}, &out),
              0)
        << out;
    TrustBroker(node, Broker(), kGrant);
    const std::string dicom = SharedDir() + "/data/dicom";
    // The DICOMDIR's three patient folders (its README.txt would be refused) and CT_small.dcm.
    ASSERT_EQ(RunCommand({OncomeshBinary(), "ingest", "dicom", "--dir", node,
                          dicom + "/dicomdir/77654033", dicom + "/dicomdir/98892001",
                          dicom + "/dicomdir/98892003", dicom + "/CT_small.dcm"},
                         &out),
              0)
        << out;
    Result<node::NodeDir> dir = node::NodeDir::Open(node);
    ASSERT_TRUE(dir.ok()) << dir.status().ToString();
    auto store = dir->OpenStore();
    ASSERT_TRUE(store.ok());
    instances_ = new std::vector<model::DicomInstance>();
    ASSERT_TRUE(
        (*store)
            ->ScanDicomInstances(
                0, [](store::Seq, const model::DicomInstance& i) { instances_->push_back(i); })
            .ok());
    ASSERT_FALSE(instances_->empty());
    server_ = new ChildProcess({OncomeshBinary(), "node", "serve", "--dir", node, "--port", "0"});
    port_ = PortOf(server_->WaitForLine("node "));
    ASSERT_NE(port_, 0) << server_->output();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete instances_;
    delete dir_;
  }

  static http::Response Get(const std::string& target, const std::string& token = Token(),
                            const std::string& accept = "") {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    if (!accept.empty()) headers.emplace_back("Accept", accept);
    Result<http::Response> r =
        http::Fetch("127.0.0.1", port_, "GET", target, "", std::chrono::seconds(30), headers);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::Response{};
  }
  static std::string Header(const http::Response& r, const std::string& name) {
    for (const auto& [n, v] : r.headers) {
      if (n.size() == name.size() &&
          std::equal(n.begin(), n.end(), name.begin(),
                     [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
        return v;
      }
    }
    return "";
  }
  static std::string StoredPath(const model::DicomInstance& i) {
    return dir_->path() + "/node/" + i.path;
  }

  static TempDir* dir_;
  static std::vector<model::DicomInstance>* instances_;
  static ChildProcess* server_;
  static uint16_t port_;
};

TempDir* DicomwebNodeTest::dir_ = nullptr;
std::vector<model::DicomInstance>* DicomwebNodeTest::instances_ = nullptr;
ChildProcess* DicomwebNodeTest::server_ = nullptr;
uint16_t DicomwebNodeTest::port_ = 0;

TEST_F(DicomwebNodeTest, QidoOverHttp) {
  std::set<std::string> studies, series;
  for (const model::DicomInstance& i : *instances_) {
    studies.insert(i.study_uid);
    series.insert(i.series_uid);
  }
  http::Response r = Get("/dicomweb/studies");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/dicom+json");
  EXPECT_EQ(json::parse(r.body).size(), studies.size());
  EXPECT_EQ(json::parse(Get("/dicomweb/series").body).size(), series.size());
  EXPECT_EQ(json::parse(Get("/dicomweb/instances?limit=5&offset=1").body).size(), 5u);
  const model::DicomInstance& i = instances_->front();
  json found = json::parse(Get("/dicomweb/studies/" + i.study_uid + "/series/" + i.series_uid +
                               "/instances?SOPInstanceUID=" + i.id + "&includefield=all")
                               .body);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]["00080018"]["Value"][0], i.id);
  EXPECT_EQ(Get("/dicomweb/studies?StudyDate=18500101-18501231").status, 204);
  http::Response bad = Get("/dicomweb/studies?StudyDate=yesterday");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("StudyDate"), std::string::npos);
}

// Issue 12 item 14: a RetrieveURL names where the node is (node.yaml public_url, else the
// address the connection reached), never what the client wrote in Host.
TEST_F(DicomwebNodeTest, RetrieveUrlsDoNotTakeAHostileHostHeader) {
  Result<http::Response> r =
      http::Fetch("127.0.0.1", port_, "GET", "/dicomweb/studies", "", std::chrono::seconds(30),
                  {{"Authorization", "Bearer " + Token()}, {"Host", "evil.example:666"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->body.find("evil.example"), std::string::npos) << r->body;
  const std::string base = "http://127.0.0.1:" + std::to_string(port_) + "/dicomweb/studies/";
  const json studies = json::parse(r->body);
  ASSERT_FALSE(studies.empty());
  for (const json& study : studies) {
    const std::string url = study.at("00081190").at("Value").at(0);
    EXPECT_EQ(url, base + study.at("0020000D").at("Value").at(0).get<std::string>());
  }
}

TEST_F(DicomwebNodeTest, WadoPartsAreTheStoredFiles) {
  const model::DicomInstance& i = instances_->back();
  http::Response r = Get("/dicomweb/studies/" + i.study_uid + "/series/" + i.series_uid);
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<MultipartPart> parts = ParseMultipart(r.body, BoundaryOf(r.content_type));
  std::multiset<std::string> expected, got;
  for (const model::DicomInstance& j : *instances_) {
    if (j.series_uid == i.series_uid) expected.insert(ReadFile(StoredPath(j)));
  }
  for (const MultipartPart& p : parts) got.insert(p.body);
  EXPECT_EQ(got, expected);
  const std::string part = dir_->path() + "/part.dcm";
  std::ofstream(part, std::ios::binary) << parts.at(0).body;
  std::string out;
  EXPECT_EQ(Shell("dcmdump -q " + ShellQuote(part) + " >/dev/null", &out), 0) << out;

  http::Response metadata = Get("/dicomweb/studies/" + i.study_uid + "/series/" + i.series_uid +
                                "/instances/" + i.id + "/metadata");
  ASSERT_EQ(metadata.status, 200) << metadata.body;
  ASSERT_EQ(Shell("dcm2json -fc " + ShellQuote(StoredPath(i)) + " 2>/dev/null", &out), 0);
  json expected_json = json::parse(out);
  expected_json.erase("7FE00010");
  EXPECT_EQ(json::parse(metadata.body), json::array({expected_json}));

  EXPECT_EQ(Get("/dicomweb/studies/1.2.3.4.5").status, 404);
  EXPECT_EQ(Get("/dicomweb/studies/" + i.study_uid, Token(), "application/dicom+xml").status, 406);
}

// The metadata of every stored instance as dicom3tools reads the stored file (the test above
// compares with dcm2json, which is DCMTK as the node is).
TEST_F(DicomwebNodeTest, MetadataAgreesWithAnIndependentReaderOfTheStoredFiles) {
  int compared = 0;
  for (const model::DicomInstance& i : *instances_) {
    SCOPED_TRACE(i.path);
    const http::Response r = Get("/dicomweb/studies/" + i.study_uid + "/series/" + i.series_uid +
                                 "/instances/" + i.id + "/metadata");
    ASSERT_EQ(r.status, 200) << r.body;
    const json metadata = json::parse(r.body);
    ASSERT_EQ(metadata.size(), 1u);
    compared += ExpectMetadataAsDcdumpReadsIt(metadata[0], StoredPath(i));
  }
  EXPECT_GE(compared, 20 * static_cast<int>(instances_->size()))
      << "too few values compared to mean much";
}

TEST_F(DicomwebNodeTest, RefusedBelowRecordLevelAlikeForKnownAndUnknownUids) {
  const model::DicomInstance& i = instances_->front();
  for (const std::string& token : {std::string(), std::string("not-the-token-000000000000")}) {
    for (const char* suffix : {"", "/metadata"}) {
      http::Response known = Get("/dicomweb/studies/" + i.study_uid + suffix, token);
      http::Response unknown = Get(std::string("/dicomweb/studies/1.2.3.4.5.6.7") + suffix, token);
      EXPECT_EQ(known.status, 401);
      EXPECT_EQ(Header(known, "WWW-Authenticate"), "Bearer");
      EXPECT_EQ(known.body, unknown.body);
      EXPECT_EQ(known.content_type, unknown.content_type);
      EXPECT_EQ(known.body.find(i.study_uid), std::string::npos);
    }
    EXPECT_EQ(Get("/dicomweb/studies", token).status, 401);
    EXPECT_EQ(Get("/dicomweb/instances?SOPInstanceUID=" + i.id, token).body,
              Get("/dicomweb/instances?SOPInstanceUID=1.2.3", token).body);
  }
}

TEST_F(DicomwebNodeTest, DicomwebClientFromNpm) {
  const std::string client_dir = std::string(ONCOMESH_SOURCE_DIR) + "/tests/dicomweb-client";
  ASSERT_TRUE(std::filesystem::exists(client_dir + "/node_modules/dicomweb-client"))
      << "run scripts/install-deps.sh (npm ci in tests/dicomweb-client)";
  std::string out;
  ASSERT_EQ(
      RunCommand({"node", client_dir + "/client.js",
                  "http://127.0.0.1:" + std::to_string(port_) + "/dicomweb", Token(), dir_->path()},
                 &out),
      0)
      << out;
  json result = json::parse(out.substr(out.find('{')));
  std::set<std::string> studies;
  for (const model::DicomInstance& i : *instances_) studies.insert(i.study_uid);
  EXPECT_EQ(result["studies"].get<std::set<std::string>>(), studies);
  const std::string sop = result["instance"]["sopInstanceUID"];
  bool compared = false;
  for (const model::DicomInstance& i : *instances_) {
    if (i.id != sop) continue;
    EXPECT_EQ(ReadFile(result["file"]), ReadFile(StoredPath(i)));
    compared = true;
  }
  EXPECT_TRUE(compared) << sop;
  EXPECT_GT(result["metadataKeys"].get<int>(), 20);
}

}  // namespace
}  // namespace oncomesh::testing
