// A serving node picks up what `oncomesh ingest` commits meanwhile, and nothing of a file
// that was refused.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/process.h"
#include "support/test_access.h"

namespace oncomesh::testing {
namespace {

using nlohmann::json;

int64_t Everyone(uint16_t port) {
  auto r = http::Fetch("127.0.0.1", port, "GET", "/api/individuals?requestedGranularity=count", "",
                       std::chrono::seconds(30), AsRegistered());
  if (!r.ok() || r->status != 200) return -1;
  return json::parse(r->body)["responseSummary"]["numTotalResults"];
}

TEST(NodeRefreshTest, ANewIngestShowsUpWithoutARestartAndARefusedOneDoesNot) {
  TempDir dir;
  const std::string node = dir.path() + "/node";
  std::string out;
  ASSERT_EQ(
      RunCommand({OncomeshBinary(), "node", "init", "--dir", node, "--name", "refresh"}, &out), 0)
      << out;
  TrustBroker(node, SharedBroker(), kSharedGrant);
  ASSERT_EQ(RunCommand({OncomeshBinary(), "synth", "--site", "first", "--individuals", "300",
                        "--seed", "1", "--out", dir.path() + "/a"},
                       &out),
            0);
  ASSERT_EQ(
      RunCommand({OncomeshBinary(), "ingest", "fhir", "--dir", node, dir.path() + "/a"}, &out), 0)
      << out;
  ChildProcess server(
      {OncomeshBinary(), "node", "serve", "--dir", node, "--port", "0", "--refresh-ms", "100"});
  const uint16_t port = PortOf(server.WaitForLine("node "));
  ASSERT_NE(port, 0);
  EXPECT_EQ(Everyone(port), 300);

  // A refused file (line 2 is not JSON) changes nothing.
  {
    std::ofstream bad(dir.path() + "/Patient.ndjson");
    bad << R"({"resourceType":"Patient","id":"late-1","gender":"female","birthDate":"1960-01-01"})"
        << "\n";
    bad << "{this is not json\n";
  }
  EXPECT_NE(RunCommand(
                {OncomeshBinary(), "ingest", "fhir", "--dir", node, dir.path() + "/Patient.ndjson"},
                &out),
            0);
  EXPECT_NE(out.find("Patient.ndjson:2"), std::string::npos) << out;

  ASSERT_EQ(RunCommand({OncomeshBinary(), "synth", "--site", "second", "--individuals", "200",
                        "--seed", "2", "--out", dir.path() + "/b"},
                       &out),
            0);
  ASSERT_EQ(
      RunCommand({OncomeshBinary(), "ingest", "fhir", "--dir", node, dir.path() + "/b"}, &out), 0)
      << out;
  int64_t seen = -1;
  for (int i = 0; i < 200 && seen != 500; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    seen = Everyone(port);
  }
  EXPECT_EQ(seen, 500);
}

}  // namespace
}  // namespace oncomesh::testing
