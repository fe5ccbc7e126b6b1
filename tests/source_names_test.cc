// A VCF's file name is the source's and can identify a person (the examination's
// candig-NA18537.vcf.gz, whose sample columns the node pseudonymises): nothing of it may reach
// the node's store, its kept copies, an htsget ticket or the audit log (issue 12). The htsget id
// is a keyed digest of the content, which `ingest vcf` prints for the operator.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "http/http.h"
#include "support/process.h"
#include "support/test_access.h"
#include "support/variant_files.h"

namespace oncomesh::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Every file under `dir` whose name or bytes hold `word`, as "path" lines. (Bytes as stored:
// inside the BGZF copies only their block structure is plain; vcf_ingest_test reads their
// sample columns decompressed.)
std::string FilesHolding(const std::string& dir, const std::string& word) {
  std::string found;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().filename().string().find(word) != std::string::npos) {
      found += e.path().string() + "\n";
      continue;
    }
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    if (bytes.str().find(word) != std::string::npos) found += e.path().string() + "\n";
  }
  return found;
}

TEST(SourceNamesTest, AVcfFileNameReachesNoStoreCopyTicketOrAuditEntry) {
  TempDir dir;
  const std::string node = dir.path() + "/node";
  std::string out;
  ASSERT_EQ(RunCommand({OncomeshBinary(), "node", "init", "--dir", node, "--name", "names"}, &out),
            0)
      << out;
  TrustBroker(node, SharedBroker(), kSharedGrant);
  const std::string named = dir.path() + "/candig-NA18537.vcf.gz";
  fs::copy_file(SharedDir() + "/data/vcf/candig-test.vcf.gz", named);
  ASSERT_EQ(RunCommand({OncomeshBinary(), "ingest", "vcf", "--dir", node, named}, &out), 0) << out;
  const std::string id = HtsgetIdOfIngest(out);
  ASSERT_NE(id, "") << out;
  EXPECT_EQ(id.find("NA18537"), std::string::npos);
  EXPECT_EQ(id.find("candig"), std::string::npos);

  ChildProcess server({OncomeshBinary(), "node", "serve", "--dir", node, "--port", "0"});
  const uint16_t port = PortOf(server.WaitForLine("node "));
  ASSERT_NE(port, 0) << server.output();
  auto get = [&](const std::string& target) {
    Result<http::Response> r =
        http::Fetch("127.0.0.1", port, "GET", target, "", std::chrono::seconds(30), AsPermitted());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::Response{};
  };
  const http::Response ticket = get("/variants/" + id + "?referenceName=chr1");
  ASSERT_EQ(ticket.status, 200) << ticket.body;
  std::string block;
  const json ticket_doc = json::parse(ticket.body);  // (a temporary would die before the loop)
  for (const json& u : ticket_doc["htsget"]["urls"]) {
    const std::string url = u["url"];
    if (url.rfind("http://", 0) == 0) block = url.substr(url.find('/', 7));
  }
  ASSERT_FALSE(block.empty()) << ticket.body;
  EXPECT_EQ(get(block).status, 200);
  std::string header;
  ASSERT_EQ(Shell("bcftools view -h " + ShellQuote(node + "/variants/") + "*.vcf.gz", &header), 0);
  ASSERT_NE(header.find("#CHROM"), std::string::npos) << header;

  // The ticket, and every file of the node: store (and its WAL), kept copies and indexes,
  // audit log segments and checkpoints. The sample names are the source's too; the
  // kept copy's header, decompressed, names the samples by their pseudonyms only.
  for (const std::string word : {"NA18537", "candig", "sample_tumour", "sample_normal"}) {
    SCOPED_TRACE(word);
    EXPECT_EQ(ticket.body.find(word), std::string::npos) << ticket.body;
    EXPECT_EQ(header.find(word), std::string::npos) << header;
    EXPECT_EQ(FilesHolding(node, word), "");
  }
  // The audit log holds the ticket and the block it served, under the id.
  EXPECT_NE(FilesHolding(node + "/audit", id), "");
}

}  // namespace
}  // namespace oncomesh::testing
