// A serving node receives a synthetic site's DICOM studies from DCMTK's storescu (its C-STORE
// SCP), de-identifies and stores them, and answers imaging filters about them without a
// restart; the same studies ingested from a folder by `oncomesh ingest dicom` give the same
// answers on another node; a node killed while storescu sends keeps every instance it answered
// Success.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "node/node_dir.h"
#include "store/store.h"
#include "support/process.h"
#include "support/test_access.h"
#include "support/variant_files.h"

namespace oncomesh::testing {
namespace {

using nlohmann::json;

// The node's exact count (the nodes run with count_step 1); a failed request is a test failure
// (and -1), so that two failing nodes cannot agree.
int64_t Count(uint16_t port, const std::string& filters) {
  const std::string body =
      R"({"query":{"filters":)" + filters + R"(,"requestedGranularity":"count"}})";
  auto r = http::Fetch("127.0.0.1", port, "POST", "/api/individuals", body,
                       std::chrono::seconds(30), AsRegistered());
  if (!r.ok() || r->status != 200) {
    ADD_FAILURE() << filters << " on port " << port << ": "
                  << (r.ok() ? std::to_string(r->status) + " " + r->body : r.status().ToString());
    return -1;
  }
  const json answer = json::parse(r->body);
  if (!answer["responseSummary"].contains("numTotalResults")) {
    ADD_FAILURE() << filters << ": no count in " << r->body;
    return -1;
  }
  return answer["responseSummary"]["numTotalResults"].get<int64_t>();
}

TEST(ImagingNodeTest, StorescuToTheServingNodeAndIngestFromAFolderAnswerAlike) {
  TempDir dir;
  std::string out;
  ASSERT_EQ(
      RunCommand({OncomeshBinary(), "synth", "--site", "img", "--individuals", "300", "--seed", "3",
                  "--images", "10", "--genomes", "0", "--out", dir.path() + "/site"},
                 &out),
      0)
      << out;
  const std::string seg = R"([{"id":"DCM:SEG"}])";
  for (const char* name : {"net", "files"}) {
    const std::string node = dir.path() + "/" + name;
    ASSERT_EQ(RunCommand({OncomeshBinary(), "node", "init", "--dir", node, "--name", name,
                          "--count-step", "1"},
                         &out),
              0)
        << out;
    TrustBroker(node, SharedBroker(), kSharedGrant);
    ASSERT_EQ(
        RunCommand({OncomeshBinary(), "ingest", "fhir", "--dir", node, dir.path() + "/site"}, &out),
        0)
        << out;
  }

  // Over the network.
  const uint16_t dicom_port = FreePort();
  ChildProcess server({OncomeshBinary(), "node", "serve", "--dir", dir.path() + "/net", "--port",
                       "0", "--refresh-ms", "100", "--dicom-port", std::to_string(dicom_port)});
  const uint16_t port = PortOf(server.WaitForLine("node "));
  ASSERT_NE(port, 0);
  EXPECT_NE(server.WaitForLine("node net dicom").find("ONCOMESH@127.0.0.1:"), std::string::npos);
  EXPECT_EQ(Count(port, seg), 0);
  ASSERT_EQ(
      Shell("storescu -R +sd +r -aet PACS -aec ONCOMESH 127.0.0.1 " + std::to_string(dicom_port) +
                " " + ShellQuote(dir.path() + "/site/dicom") + " 2>&1",
            &out),
      0)
      << out;
  int64_t seen = 0;
  for (int i = 0; i < 200 && seen != 10; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    seen = Count(port, seg);
  }
  EXPECT_EQ(seen, 10);  // the ten imaged individuals, each with a segmentation

  // From the folder, on the other node: the same counts for every modality and body part.
  ASSERT_EQ(RunCommand({OncomeshBinary(), "ingest", "dicom", "--dir", dir.path() + "/files",
                        dir.path() + "/site/dicom"},
                       &out),
            0)
      << out;
  EXPECT_NE(out.find("0 refused"), std::string::npos) << out;
  ChildProcess files(
      {OncomeshBinary(), "node", "serve", "--dir", dir.path() + "/files", "--port", "0"});
  const uint16_t files_port = PortOf(files.WaitForLine("node "));
  ASSERT_NE(files_port, 0);
  int64_t total = 0;
  for (const char* f :
       {R"([{"id":"DCM:SEG"}])", R"([{"id":"DCM:CT"},{"id":"DCM:SEG"}])", R"([{"id":"DCM:MG"}])",
        R"([{"id":"DCM:MR"}])", R"([{"id":"SNOMED:76752008"}])"}) {
    const int64_t from_folder = Count(files_port, f);
    EXPECT_GE(from_folder, 0) << f;
    EXPECT_EQ(from_folder, Count(port, f)) << f;
    total += from_folder;
  }
  EXPECT_EQ(Count(files_port, seg), 10);
  EXPECT_GT(total, 10) << "the modality filters found no images beside the segmentations";
}

// A sender is never told Success for an instance the node does not keep (issue 12, item 6): the
// node is killed (SIGKILL) while storescu sends a folder, after the third Success; every
// instance answered Success is in the store, its file on disk, when the node is opened again.
TEST(ImagingNodeTest, EveryInstanceAnsweredSuccessSurvivesAKilledNode) {
  TempDir dir;
  const std::string node_dir = dir.path() + "/node";
  std::string out;
  ASSERT_EQ(RunCommand({OncomeshBinary(), "node", "init", "--dir", node_dir, "--name", "n"}, &out),
            0)
      << out;
  const uint16_t dicom_port = FreePort();
  ChildProcess server({OncomeshBinary(), "node", "serve", "--dir", node_dir, "--port", "0",
                       "--dicom-port", std::to_string(dicom_port)});
  ASSERT_NE(server.WaitForLine("node n dicom"), "");
  // The DICOMDIR's 31 images (CR, CT, MR of three patients), one association.
  std::string files;
  int sent = 0;
  for (const auto& e :
       std::filesystem::recursive_directory_iterator(SharedDir() + "/data/dicom/dicomdir")) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file() || name == "DICOMDIR" || name == "README.txt") continue;
    files += " " + ShellQuote(e.path().string());
    ++sent;
  }
  ASSERT_EQ(sent, 31);
  ChildProcess scu({"/bin/sh", "-c",
                    "exec storescu -v -aet PACS -aec ONCOMESH 127.0.0.1 " +
                        std::to_string(dicom_port) + files + " 2>&1"});
  for (int i = 0; i < 3; ++i) {
    ASSERT_NE(scu.WaitForLine("I: Received Store Response (Success)"), "") << scu.output();
  }
  ASSERT_EQ(::kill(server.pid(), SIGKILL), 0);
  while (scu.WaitForLine("(never printed)") != "") {
  }
  int successes = 0;
  for (size_t at = scu.output().find("Received Store Response (Success)"); at != std::string::npos;
       at = scu.output().find("Received Store Response (Success)", at + 1)) {
    ++successes;
  }
  ASSERT_GE(successes, 3);

  Result<node::NodeDir> node = node::NodeDir::Open(node_dir);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  Result<std::unique_ptr<store::Store>> store = node->OpenStore();
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  int stored = 0;
  ASSERT_TRUE((*store)
                  ->ScanDicomInstances(
                      0,
                      [&](store::Seq, const model::DicomInstance& i) {
                        ++stored;
                        EXPECT_TRUE(std::filesystem::is_regular_file(node_dir + "/" + i.path))
                            << i.path;
                      })
                  .ok());
  // Every Success is stored; at most one more (committed, then killed before its answer).
  EXPECT_GE(stored, successes) << scu.output();
  EXPECT_LE(stored, successes + 1) << scu.output();
}

// What a node writes is its owner's only (issue 12, item 11): folders 0700, files 0600 or 0640
// (store, de-identified images, raw files in quarantine, the audit log), whatever the umask of
// the shell that ran it; and the store keeps no identifying path or UID of a quarantined file.
TEST(ImagingNodeTest, NodeFilesAreTheOwnersOnlyAndTheStoreKeepsNoSourcePath) {
  TempDir dir;
  const std::string node_dir = dir.path() + "/node";
  // A source folder named after its patient, as PACS exports often are.
  const std::string source = dir.path() + "/DOE_JANE_1985";
  std::filesystem::create_directories(source);
  for (const char* f : {"CT_small.dcm", "JPEG-lossy.dcm", "MR_truncated.dcm"}) {
    std::filesystem::copy_file(SharedDir() + "/data/dicom/" + f, source + "/" + f);
  }
  std::string out;
  ASSERT_EQ(Shell("umask 022 && " + ShellQuote(OncomeshBinary()) + " node init --dir " +
                      ShellQuote(node_dir) + " --name n 2>&1",
                  &out),
            0)
      << out;
  // Exit status 1: files were refused.
  ASSERT_EQ(Shell("umask 022 && " + ShellQuote(OncomeshBinary()) + " ingest dicom --dir " +
                      ShellQuote(node_dir) + " " + ShellQuote(source) + " 2>&1",
                  &out),
            1)
      << out;
  EXPECT_NE(out.find("2 refused"), std::string::npos) << out;  // the SC and the truncated MR
  int files = 0, folders = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(node_dir)) {
    struct stat st {};
    ASSERT_EQ(::lstat(e.path().c_str(), &st), 0);
    const unsigned mode = st.st_mode & 0777;
    if (S_ISDIR(st.st_mode)) {
      ++folders;
      EXPECT_EQ(mode, 0700u) << e.path();
    } else {
      ++files;
      EXPECT_TRUE(mode == 0600u || mode == 0640u) << e.path() << ": " << std::oct << mode;
    }
  }
  struct stat top {};
  ASSERT_EQ(::stat(node_dir.c_str(), &top), 0);
  EXPECT_EQ(top.st_mode & 0777, 0700u);
  EXPECT_GE(folders, 3);  // dicom/, dicom/<2 hex>/, quarantine/
  EXPECT_GE(files, 5);    // node.yaml, secret.key, store.sqlite, an image, 2 quarantined
  std::string sql;
  ASSERT_EQ(Shell("sqlite3 " + ShellQuote(node_dir + "/store.sqlite") + " .dump", &sql), 0);
  EXPECT_NE(sql.find("dicom_quarantine"), std::string::npos);
  EXPECT_EQ(sql.find("DOE_JANE"), std::string::npos) << "a source path is in the store";
  // JPEG-lossy.dcm's SOP Instance UID (quarantined as it came).
  std::string uid;
  ASSERT_EQ(Shell("dcmdump -q +P 0008,0018 " + ShellQuote(source + "/JPEG-lossy.dcm"), &uid), 0);
  uid = uid.substr(uid.find('[') + 1);
  uid = uid.substr(0, uid.find(']'));
  ASSERT_GT(uid.size(), 10u);
  EXPECT_EQ(sql.find(uid), std::string::npos) << "an original SOP Instance UID is in the store";
}

// Regular files under a node's dicom/ and quarantine/ folders, relative to the node directory;
// only those modified at `since` or later when it is given.
std::set<std::string> ImagingFiles(
    const std::string& node_dir,
    std::optional<std::filesystem::file_time_type> since = std::nullopt) {
  std::set<std::string> out;
  for (const char* folder : {"dicom", "quarantine"}) {
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(node_dir + "/" + folder, ec);
         !ec && it != std::filesystem::end(it); it.increment(ec)) {
      std::error_code gone;  // a temporary file may be renamed while we look
      if (!it->is_regular_file(gone)) continue;
      if (since && it->last_write_time(gone) < *since) continue;
      // Lexically: relative() makes the path canonical, which throws for a file renamed since.
      if (!gone) out.insert(it->path().lexically_relative(node_dir).generic_string());
    }
  }
  return out;
}

// kill -9 at random moments of `ingest dicom` (issue 12, item 13): temporary files and
// de-identified or quarantined files of batches that never committed were left for good. The
// next ingest removes them: afterwards the node's image and quarantine files are exactly those
// its store refers to.
TEST(ImagingNodeTest, WhatKilledIngestsLeaveIsRemovedByTheNextOne) {
  TempDir dir;
  const std::string node_dir = dir.path() + "/node";
  std::string out;
  ASSERT_EQ(RunCommand({OncomeshBinary(), "node", "init", "--dir", node_dir, "--name", "n"}, &out),
            0)
      << out;
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 random(seed);
  // The kill's moment: once the run has written a random number of files (of the DICOMDIR's
  // 31 images and its README, quarantined), whatever the machine's speed.
  std::uniform_int_distribution<size_t> written(1, 24);
  int killed_while_writing = 0;
  for (int i = 0; i < 6; ++i) {
    const auto start = std::filesystem::file_time_type::clock::now();
    ChildProcess ingest({OncomeshBinary(), "ingest", "dicom", "--dir", node_dir,
                         SharedDir() + "/data/dicom/dicomdir"});
    const size_t k = written(random);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    bool reached = false;
    while (!(reached = ImagingFiles(node_dir, start).size() >= k) && !Exited(ingest.pid()) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // polling the folder
    }
    if (reached && !Exited(ingest.pid())) {
      ASSERT_EQ(::kill(ingest.pid(), SIGKILL), 0);
      ++killed_while_writing;
    }
  }
  ASSERT_GT(killed_while_writing, 0) << "no run was killed while it wrote";
  // Another file, to completion: what the killed runs stored and did not commit is no one's.
  ASSERT_EQ(RunCommand({OncomeshBinary(), "ingest", "dicom", "--dir", node_dir,
                        SharedDir() + "/data/dicom/CT_small.dcm"},
                       &out),
            0)
      << out;
  Result<node::NodeDir> node = node::NodeDir::Open(node_dir);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  Result<std::unique_ptr<store::Store>> store = node->OpenStore();
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::set<std::string> referenced;
  ASSERT_TRUE(
      (*store)
          ->ScanDicomInstances(
              0, [&](store::Seq, const model::DicomInstance& i) { referenced.insert(i.path); })
          .ok());
  ASSERT_TRUE((*store)
                  ->ScanQuarantinedDicom(
                      [&](const model::QuarantinedDicom& q) { referenced.insert(q.path); })
                  .ok());
  EXPECT_FALSE(referenced.empty());
  EXPECT_EQ(ImagingFiles(node_dir), referenced);
}

}  // namespace
}  // namespace oncomesh::testing
