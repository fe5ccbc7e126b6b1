// A real node's audit log checked without OncoMesh, as a supervisory authority would: the chain
// with the Python verifier that docs/audit.md prints (taken from the page itself, so the page
// and the log cannot drift apart), and the checkpoint signatures with the openssl CLI against
// the key `oncomesh audit jwks` publishes.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/process.h"
#include "support/test_access.h"
#include "support/variant_files.h"

namespace oncomesh::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The first ```python block of docs/audit.md.
std::string DocumentedVerifier() {
  const std::string page = ReadAll(std::string(ONCOMESH_SOURCE_DIR) + "/docs/audit.md");
  const size_t start = page.find("```python\n");
  if (start == std::string::npos) return "";
  const size_t end = page.find("```", start + 10);
  return end == std::string::npos ? "" : page.substr(start + 10, end - start - 10);
}

std::string FromBase64Url(std::string text) {
  std::replace(text.begin(), text.end(), '-', '+');
  std::replace(text.begin(), text.end(), '_', '/');
  size_t pad = 0;
  while (text.size() % 4 != 0) {
    text += '=';
    ++pad;
  }
  std::string out(text.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return "";
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

// A DER INTEGER of an unsigned big-endian number.
std::string DerInteger(std::string bytes) {
  while (bytes.size() > 1 && bytes[0] == '\0' && !(static_cast<unsigned char>(bytes[1]) & 0x80))
    bytes.erase(0, 1);
  if (static_cast<unsigned char>(bytes[0]) & 0x80) bytes.insert(bytes.begin(), '\0');
  return std::string{'\x02', static_cast<char>(bytes.size())} + bytes;
}

// JWS ES256 signatures are r||s (RFC 7518 3.4); openssl wants an ECDSA-Sig-Value in DER.
std::string EcdsaDer(const std::string& raw) {
  const std::string body = DerInteger(raw.substr(0, 32)) + DerInteger(raw.substr(32));
  return std::string{'\x30', static_cast<char>(body.size())} + body;
}

// A P-256 public key (JWK x, y) as a SubjectPublicKeyInfo PEM file openssl reads.
std::string P256PublicKeyPem(const std::string& x, const std::string& y) {
  static const unsigned char kPrefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                          0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                          0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
  const std::string der =
      std::string(reinterpret_cast<const char*>(kPrefix), sizeof kPrefix) + '\x04' + x + y;
  std::string b64(4 * ((der.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                reinterpret_cast<const unsigned char*>(der.data()),
                                static_cast<int>(der.size()));
  b64.resize(static_cast<size_t>(n));
  std::string pem = "-----BEGIN PUBLIC KEY-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  return pem + "-----END PUBLIC KEY-----\n";
}

class AuditOutsideVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = tmp_.path() + "/node";
    std::string out;
    ASSERT_EQ(
        RunCommand({OncomeshBinary(), "node", "init", "--dir", node_, "--name", "outside"}, &out),
        0)
        << out;
    TrustBroker(node_, SharedBroker(), kSharedGrant);
    {
      ChildProcess server({OncomeshBinary(), "node", "serve", "--dir", node_, "--port", "0"});
      const uint16_t port = PortOf(server.WaitForLine("node "));
      ASSERT_NE(port, 0) << server.output();
      // Answers and refusals, anonymous and registered.
      const std::string count = R"({"query":{"filters":[],"requestedGranularity":"count"}})";
      for (int i = 0; i < 5; ++i) {
        auto r = http::Fetch("127.0.0.1", port, "POST", "/api/individuals", count,
                             std::chrono::seconds(30), AsRegistered());
        ASSERT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
      }
      auto refused = http::Fetch("127.0.0.1", port, "GET", "/api/individuals?filters=NOPE:1", "",
                                 std::chrono::seconds(30), {{"Authorization", "Bearer not.a.jwt"}});
      ASSERT_TRUE(refused.ok() && refused->status == 401) << (refused.ok() ? refused->body : "");
      EXPECT_EQ(server.Terminate(), 0) << server.output();  // a clean stop: the closing checkpoint
    }
    for (const auto& e : fs::directory_iterator(node_ + "/audit")) {
      if (e.path().extension() == ".jsonl") segments_.push_back(e.path().string());
    }
    std::sort(segments_.begin(), segments_.end());
    ASSERT_FALSE(segments_.empty());
    verifier_ = tmp_.path() + "/verify_chain.py";
    const std::string code = DocumentedVerifier();
    ASSERT_NE(code.find("hashlib.sha256"), std::string::npos) << "no verifier in docs/audit.md";
    std::ofstream(verifier_) << code;
  }

  // python3 running the documented verifier over `segments`; its exit code.
  int RunVerifier(const std::vector<std::string>& segments, std::string* out) {
    std::vector<std::string> argv = {"/usr/bin/python3", verifier_};
    argv.insert(argv.end(), segments.begin(), segments.end());
    return RunCommand(argv, out);
  }

  TempDir tmp_;
  std::string node_, verifier_;
  std::vector<std::string> segments_;
};

TEST_F(AuditOutsideVerifierTest, TheDocumentedPythonVerifierAgreesWithTheNodeAndCatchesAnEdit) {
  std::string python, oncomesh;
  ASSERT_EQ(RunVerifier(segments_, &python), 0) << python;
  ASSERT_EQ(RunCommand({OncomeshBinary(), "audit", "verify", "--dir", node_}, &oncomesh), 0)
      << oncomesh;
  // "chain holds to seq N HASH": the same last entry as the node's own verifier names.
  std::istringstream words(python.substr(python.find("chain holds to seq")));
  std::string chain, holds, to, seq_word, hash;
  int64_t seq = 0;
  words >> chain >> holds >> to >> seq_word >> seq >> hash;
  EXPECT_GE(seq, 8) << python;  // open, 6 requests, closing checkpoint at least
  EXPECT_EQ(hash.size(), 64u) << python;
  EXPECT_NE(oncomesh.find(hash), std::string::npos)
      << "python: " << python << "\noncomesh: " << oncomesh;
  // The last line of the last segment is that entry.
  const std::string last_segment = ReadAll(segments_.back());
  const std::string last_line =
      last_segment.substr(last_segment.rfind('\n', last_segment.size() - 2) + 1);
  EXPECT_EQ(json::parse(last_line)["seq"].get<int64_t>(), seq);

  // One changed byte in a copy: the verifier says which line.
  const std::string copy = tmp_.path() + "/edited.jsonl";
  std::string bytes = ReadAll(segments_.front());
  const size_t at = bytes.find("\"status\":200");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 10] = '3';  // 200 -> 300
  std::ofstream(copy, std::ios::binary) << bytes;
  std::vector<std::string> edited = segments_;
  edited.front() = copy;
  std::string out;
  EXPECT_NE(RunVerifier(edited, &out), 0) << out;
  EXPECT_NE(out.find("edited"), std::string::npos) << out;
}

TEST_F(AuditOutsideVerifierTest, CheckpointSignaturesVerifyWithOpensslAndTheNodesJwks) {
  std::string out;
  const std::string jwks_file = tmp_.path() + "/node.jwks.json";
  ASSERT_EQ(
      RunCommand({OncomeshBinary(), "audit", "jwks", "--dir", node_, "--out", jwks_file}, &out), 0)
      << out;
  const json jwks = json::parse(ReadAll(jwks_file));
  ASSERT_EQ(jwks["keys"].size(), 1u) << jwks.dump();
  const json& key = jwks["keys"][0];
  ASSERT_EQ(key.value("crv", ""), "P-256") << key.dump();
  const std::string pem = tmp_.path() + "/node.pem";
  std::ofstream(pem) << P256PublicKeyPem(FromBase64Url(key["x"]), FromBase64Url(key["y"]));

  int checkpoints = 0;
  for (const std::string& segment : segments_) {
    std::istringstream lines(ReadAll(segment));
    std::string line;
    while (std::getline(lines, line)) {
      const json entry = json::parse(line);
      if (entry.value("type", "") != "checkpoint") continue;
      SCOPED_TRACE(segment + " seq " + std::to_string(entry["seq"].get<int64_t>()));
      ++checkpoints;
      const std::string jws = entry["checkpoint"]["jws"];
      const size_t dot1 = jws.find('.'), dot2 = jws.rfind('.');
      ASSERT_TRUE(dot1 != std::string::npos && dot2 > dot1) << jws;
      const json header = json::parse(FromBase64Url(jws.substr(0, dot1)));
      const json payload = json::parse(FromBase64Url(jws.substr(dot1 + 1, dot2 - dot1 - 1)));
      EXPECT_EQ(header.value("alg", ""), "ES256");
      EXPECT_EQ(header.value("typ", ""), "oncomesh-audit-checkpoint");
      EXPECT_EQ(header.value("kid", ""), key.value("kid", "-"));
      // It signs the chain up to the entry before it (docs/audit.md).
      EXPECT_EQ(payload["seq"].get<int64_t>(), entry["seq"].get<int64_t>() - 1) << payload.dump();
      EXPECT_EQ(payload["hash"], entry["prev"]) << payload.dump();
      EXPECT_EQ(payload["node"], "outside") << payload.dump();
      EXPECT_EQ(payload["time"], entry["time"]) << payload.dump();

      const std::string signed_text = tmp_.path() + "/signed.txt",
                        signature = tmp_.path() + "/sig.der";
      std::ofstream(signed_text, std::ios::binary) << jws.substr(0, dot2);
      const std::string raw = FromBase64Url(jws.substr(dot2 + 1));
      ASSERT_EQ(raw.size(), 64u);
      std::ofstream(signature, std::ios::binary) << EcdsaDer(raw);
      const std::string verify = "openssl dgst -sha256 -verify " + ShellQuote(pem) +
                                 " -signature " + ShellQuote(signature) + " " +
                                 ShellQuote(signed_text) + " 2>&1";
      EXPECT_EQ(Shell(verify, &out), 0) << out;
      EXPECT_NE(out.find("Verified OK"), std::string::npos) << out;
      // The same signature over a changed payload does not verify.
      const char changed = jws[dot1 + 1] == 'x' ? 'y' : 'x';
      std::ofstream(signed_text, std::ios::binary)
          << jws.substr(0, dot1 + 1) << changed << jws.substr(dot1 + 2, dot2 - dot1 - 2);
      EXPECT_NE(Shell(verify, &out), 0) << out;
      EXPECT_NE(out.find("Verification failure"), std::string::npos) << out;
    }
  }
  EXPECT_GE(checkpoints, 1) << "no checkpoint in the log";
}

}  // namespace
}  // namespace oncomesh::testing
