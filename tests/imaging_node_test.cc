// A serving node receives a synthetic site's DICOM studies from DCMTK's storescu (its C-STORE
// SCP), de-identifies and stores them, and answers imaging filters about them without a
// restart; the same studies ingested from a folder by `oncomesh ingest dicom` give the same
// answers on another node.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "support/process.h"
#include "support/test_access.h"
#include "support/variant_files.h"

namespace oncomesh::testing {
namespace {

using nlohmann::json;

// The node's exact count (the nodes run with count_step 1); a failed request is a test failure
// (and -1), so that two failing nodes cannot agree.
int64_t Count(uint16_t port, const std::string& filters) {
  const std::string body = R"({"query":{"filters":)" + filters + R"(,"requestedGranularity":"count"}})";
  auto r = http::Fetch("127.0.0.1", port, "POST", "/api/individuals", body, std::chrono::seconds(30), AsRegistered());
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
  ASSERT_EQ(RunCommand({OncomeshBinary(), "synth", "--site", "img", "--individuals", "300", "--seed", "3",
                        "--images", "10", "--genomes", "0", "--out", dir.path() + "/site"},
                       &out),
            0)
      << out;
  const std::string seg = R"([{"id":"DCM:SEG"}])";
  for (const char* name : {"net", "files"}) {
    const std::string node = dir.path() + "/" + name;
    ASSERT_EQ(RunCommand({OncomeshBinary(), "node", "init", "--dir", node, "--name", name, "--count-step", "1"}, &out),
              0)
        << out;
    TrustBroker(node, SharedBroker(), kSharedGrant);
    ASSERT_EQ(RunCommand({OncomeshBinary(), "ingest", "fhir", "--dir", node, dir.path() + "/site"}, &out), 0)
        << out;
  }

  // Over the network.
  const uint16_t dicom_port = FreePort();
  ChildProcess server({OncomeshBinary(), "node", "serve", "--dir", dir.path() + "/net", "--port", "0",
                       "--refresh-ms", "100", "--dicom-port", std::to_string(dicom_port)});
  const uint16_t port = PortOf(server.WaitForLine("node "));
  ASSERT_NE(port, 0);
  EXPECT_NE(server.WaitForLine("node net dicom").find("ONCOMESH@127.0.0.1:"), std::string::npos);
  EXPECT_EQ(Count(port, seg), 0);
  ASSERT_EQ(Shell("storescu -R +sd +r -aet PACS -aec ONCOMESH 127.0.0.1 " + std::to_string(dicom_port) + " " +
                      ShellQuote(dir.path() + "/site/dicom") + " 2>&1",
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
  ChildProcess files({OncomeshBinary(), "node", "serve", "--dir", dir.path() + "/files", "--port", "0"});
  const uint16_t files_port = PortOf(files.WaitForLine("node "));
  ASSERT_NE(files_port, 0);
  int64_t total = 0;
  for (const char* f : {R"([{"id":"DCM:SEG"}])", R"([{"id":"DCM:CT"},{"id":"DCM:SEG"}])",
                        R"([{"id":"DCM:MG"}])", R"([{"id":"DCM:MR"}])", R"([{"id":"SNOMED:76752008"}])"}) {
    const int64_t from_folder = Count(files_port, f);
    EXPECT_GE(from_folder, 0) << f;
    EXPECT_EQ(from_folder, Count(port, f)) << f;
    total += from_folder;
  }
  EXPECT_EQ(Count(files_port, seg), 10);
  EXPECT_GT(total, 10) << "the modality filters found no images beside the segmentations";
}

}  // namespace
}  // namespace oncomesh::testing
