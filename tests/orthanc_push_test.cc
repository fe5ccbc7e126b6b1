// A real PACS pushes a mixed study to a serving node: Debian's Orthanc, started here on the
// loopback with a configuration of its own (no DICOM listener, no plugins, no authentication
// on its loopback-only REST API), is given MR, CT, SEG, RT structure set and secondary capture
// instances over its REST API and sends them with POST /modalities/node/store. Orthanc opens a
// new association whenever the next instance's SOP class was not negotiated, so one push is
// several associations in a row (issue 12, item 4: the second one was refused with 0xA700).
// Every instance must be stored by the node, or refused with its status and a line in the
// node's log saying why.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "http/http.h"
#include "node/node_dir.h"
#include "store/store.h"
#include "support/process.h"
#include "support/variant_files.h"

namespace oncomesh::testing {
namespace {

using nlohmann::json;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Lines of `text` that contain `needle`.
std::vector<std::string> LinesWith(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  std::istringstream lines(text);
  std::string l;
  while (std::getline(lines, l)) {
    if (l.find(needle) != std::string::npos) out.push_back(l);
  }
  return out;
}

class OrthancPushTest : public ::testing::Test {
 protected:
  void StartOrthanc(uint16_t node_dicom_port) {
    http_port_ = FreePort();
    const std::string dir = dir_.path() + "/orthanc";
    std::filesystem::create_directories(dir + "/storage");
    const json config = {
        {"Name", "pacs"},
        {"StorageDirectory", dir + "/storage"},
        {"IndexDirectory", dir + "/storage"},
        {"HttpPort", http_port_},
        {"RemoteAccessAllowed", false},
        {"AuthenticationEnabled", false},
        {"DicomServerEnabled", false},
        {"DicomAet", "PACS"},
        {"Plugins", json::array()},
        {"SaveJobs", false},
        {"DicomScuTimeout", 60},
        {"DicomModalities", {{"node", {"ONCOMESH", "127.0.0.1", node_dicom_port}}}}};
    std::ofstream(dir + "/orthanc.json") << config.dump(2);
    orthanc_log_ = dir + "/orthanc.log";
    orthanc_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"/bin/sh", "-c",
                                 "exec Orthanc --verbose " + ShellQuote(dir + "/orthanc.json") +
                                     " 2>" + ShellQuote(orthanc_log_)});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = http::Fetch("127.0.0.1", http_port_, "GET", "/system", "", std::chrono::seconds(2));
      if (r.ok() && r->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // polling Orthanc's start
    }
    FAIL() << "Orthanc did not answer on port " << http_port_ << ":\n" << ReadAll(orthanc_log_);
  }

  // Uploads a file to Orthanc; its instance id.
  std::string Upload(const std::string& path) {
    auto r = http::Fetch("127.0.0.1", http_port_, "POST", "/instances", ReadAll(path),
                         std::chrono::seconds(30));
    EXPECT_TRUE(r.ok() && r->status == 200)
        << path << ": " << (r.ok() ? r->body : r.status().ToString());
    if (!r.ok() || r->status != 200) return "";
    return json::parse(r->body).value("ID", "");
  }

  TempDir dir_;
  uint16_t http_port_ = 0;
  std::string orthanc_log_;
  std::unique_ptr<ChildProcess> orthanc_;
};

TEST_F(OrthancPushTest, AMixedStudyPushedByOrthancIsStoredOrRefusedWithItsStatus) {
  const std::string node_dir = dir_.path() + "/node";
  std::string out;
  ASSERT_EQ(RunCommand({OncomeshBinary(), "node", "init", "--dir", node_dir, "--name", "n"}, &out),
            0)
      << out;
  const uint16_t dicom_port = FreePort();
  const std::string node_log = dir_.path() + "/node.err";
  ChildProcess node({"/bin/sh", "-c",
                     "exec " + ShellQuote(OncomeshBinary()) + " node serve --dir " +
                         ShellQuote(node_dir) + " --port 0 --dicom-port " +
                         std::to_string(dicom_port) + " 2>" + ShellQuote(node_log)});
  ASSERT_NE(node.WaitForLine("node n dicom").find("ONCOMESH@127.0.0.1:"), std::string::npos)
      << ReadAll(node_log);
  StartOrthanc(dicom_port);

  // One study of a CT series (4 slices) with its segmentation, and an MR, an RT structure set
  // and a secondary capture (a lossy JPEG that does not say Burned In Annotation = NO: the
  // node cannot make it safe and refuses it) of other studies.
  const std::string data = SharedDir() + "/data/dicom";
  const std::vector<std::pair<std::string, std::string>> files = {
      {"MR", data + "/MR_small.dcm"},
      {"CT", data + "/dicomdir/77654033/CT2/17106"},
      {"CT", data + "/dicomdir/77654033/CT2/17136"},
      {"CT", data + "/dicomdir/77654033/CT2/17166"},
      {"CT", data + "/dicomdir/77654033/CT2/17196"},
      {"SEG", data + "/highdicom/seg_image_ct_binary.dcm"},
      {"RTSTRUCT", data + "/rtstruct.dcm"},
      {"SC", data + "/JPEG-lossy.dcm"}};
  json resources = json::array();
  std::vector<std::string> ids;
  for (const auto& [modality, path] : files) {
    ids.push_back(Upload(path));
    ASSERT_FALSE(ids.back().empty()) << path;
    resources.push_back(ids.back());
  }
  // The whole set in one push (Permissive: Orthanc goes on after a refusal; its answer does not
  // count the refusals, its log does).
  const json request = {{"Resources", resources}, {"Synchronous", true}, {"Permissive", true}};
  auto r = http::Fetch("127.0.0.1", http_port_, "POST", "/modalities/node/store", request.dump(),
                       std::chrono::seconds(120));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, 200) << r->body << "\n" << ReadAll(orthanc_log_);
  EXPECT_EQ(json::parse(r->body).value("InstancesCount", -1), static_cast<int>(files.size()));
  const std::string orthanc_log = ReadAll(orthanc_log_);
  EXPECT_GE(LinesWith(orthanc_log, "Re-negotiating DICOM association").size(), 2u)
      << "the push was not several associations:\n"
      << orthanc_log;
  EXPECT_TRUE(LinesWith(orthanc_log, "0xA700").empty()) << orthanc_log;
  EXPECT_EQ(LinesWith(orthanc_log, "DIMSE status 0xC000").size(), 1u) << orthanc_log;
  // Then each instance alone (already stored: Success again), to read each one's status.
  for (size_t i = 0; i < files.size(); ++i) {
    const json one = {{"Resources", {ids[i]}}, {"Synchronous", true}};
    auto answer = http::Fetch("127.0.0.1", http_port_, "POST", "/modalities/node/store", one.dump(),
                              std::chrono::seconds(60));
    ASSERT_TRUE(answer.ok()) << answer.status().ToString();
    if (files[i].first == "SC") {
      EXPECT_EQ(answer->status, 500) << answer->body;
      EXPECT_NE(answer->body.find("DIMSE status 0xC000"), std::string::npos) << answer->body;
    } else {
      EXPECT_EQ(answer->status, 200) << files[i].second << ": " << answer->body;
    }
  }

  // What the node keeps: every instance but the secondary capture, with its modality.
  Result<node::NodeDir> opened = node::NodeDir::Open(node_dir);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Result<std::unique_ptr<store::Store>> store = opened->OpenStore();
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::map<std::string, int> stored, expected;
  ASSERT_TRUE((*store)
                  ->ScanDicomInstances(
                      0, [&](store::Seq, const model::DicomInstance& i) { ++stored[i.modality]; })
                  .ok());
  for (const auto& [modality, path] : files) {
    if (modality != "SC") ++expected[modality];
  }
  EXPECT_EQ(stored, expected);
  std::vector<std::string> reasons;
  ASSERT_TRUE((*store)
                  ->ScanQuarantinedDicom(
                      [&](const model::QuarantinedDicom& q) { reasons.push_back(q.reason); })
                  .ok());
  ASSERT_EQ(reasons.size(), 1u);  // the same file twice: one quarantined copy
  EXPECT_NE(reasons[0].find("Secondary Capture"), std::string::npos) << reasons[0];

  // The node's log names each refusal: the secondary capture, twice, with its status.
  const std::string node_errors = ReadAll(node_log);
  const std::vector<std::string> refusals = LinesWith(node_errors, "refused");
  ASSERT_EQ(refusals.size(), 2u) << node_errors;
  for (const std::string& line : refusals) {
    EXPECT_NE(line.find("PACS@127.0.0.1"), std::string::npos) << line;
    EXPECT_NE(line.find("SecondaryCaptureImageStorage"), std::string::npos) << line;
    EXPECT_NE(line.find("status 0xC000"), std::string::npos) << line;
  }
  EXPECT_EQ(node.Terminate(), 0);
}

}  // namespace
}  // namespace oncomesh::testing
