// Verification against every kind of tampering with real audit files, what it cannot detect,
// and export of a period verified with the node's public JWKS.
#include "audit/verify.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "audit/audit_log.h"
#include "audit/internal/chain.h"
#include "support/audit_entries.h"
#include "support/openssl_signer.h"
#include "support/process.h"

namespace oncomesh::audit {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const auth::Jwk& NodeKey() { return oncomesh::testing::AuditSigningKey(); }
std::vector<auth::Jwk> PublicKeys() { return oncomesh::testing::AuditPublicKeys(); }

constexpr int64_t kStartMs = 1'740'823'200'000;  // 2025-03-01T10:00:00Z

Entry CountEntry(int i) {
  Entry e;
  e.caller = {"researcher-1", "https://aai.example.org", "127.0.0.1:5000"};
  e.request = {"GET", "/api/individuals", "i=" + std::to_string(i)};
  e.access = {{"default", "count"}};
  e.outcome = {200, ""};
  e.disclosed.figures.push_back({"default", "individuals", 10 * i});
  return e;
}

// A closed log of an open entry and `n` requests, one every `step_ms` from 10:00, with a
// checkpoint every 5 entries.
void WriteLog(const std::string& dir, int n, int64_t step_ms = 60'000,
              uint64_t segment_bytes = 64 << 20) {
  auto now_ms = std::make_shared<std::atomic<int64_t>>(kStartMs);
  AuditOptions o;
  o.node_name = "test-node";
  o.signing_key = NodeKey();
  o.checkpoint_entries = 5;
  o.segment_bytes = segment_bytes;
  o.clock = [now_ms] {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(now_ms->load()));
  };
  Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(dir, o);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  for (int i = 1; i <= n; ++i) {
    *now_ms += step_ms;
    ASSERT_TRUE((*log)->AppendSync(CountEntry(i)).ok());
  }
  ASSERT_TRUE((*log)->Close().ok());
}

std::string SegmentPath(const std::string& dir) {
  return dir + "/" + internal::ListSegments(dir)->front();
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void WriteLines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::trunc);
  for (const std::string& l : lines) out << l << "\n";
}

// The entry without its "hash" member.
json Body(const std::string& line) {
  json body = json::parse(line);
  body.erase("hash");
  return body;
}
std::string Reseal(const json& body) {
  std::string text = internal::Seal(body).text;
  text.pop_back();
  return text;
}
size_t IndexOfSeq(const std::vector<std::string>& lines, uint64_t seq) {
  for (size_t i = 0; i < lines.size(); ++i) {
    if (internal::ParseLine(lines[i])->seq == seq) return i;
  }
  return lines.size();
}

VerifyReport Verify(const std::string& dir, const std::vector<auth::Jwk>& keys = PublicKeys()) {
  Result<VerifyReport> r = VerifyLogDirectory(dir, keys);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : VerifyReport{};
}

class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteLog(tmp_.path(), 20);
    path_ = SegmentPath(tmp_.path());
    lines_ = ReadLines(path_);
  }
  // Writes the lines back and verifies; the problem must be of `kind`.
  Problem Tampered(ProblemKind kind) {
    WriteLines(path_, lines_);
    const VerifyReport report = Verify(tmp_.path());
    EXPECT_FALSE(report.ok());
    if (report.ok()) return {};
    EXPECT_EQ(report.problem->kind, kind) << report.problem->ToString();
    EXPECT_EQ(report.problem->file, "audit-000000000001.jsonl");
    return *report.problem;
  }

  oncomesh::testing::TempDir tmp_;
  std::string path_;
  std::vector<std::string> lines_;
};

TEST_F(VerifyTest, AnIntactLogVerifies) {
  const VerifyReport report = Verify(tmp_.path());
  ASSERT_TRUE(report.ok()) << report.problem->ToString();
  EXPECT_EQ(report.first_seq, 1u);
  EXPECT_EQ(report.last_seq, lines_.size());
  EXPECT_EQ(report.checkpoints, 5u);  // after 5, 10, 15, 20 entries, and at close
  EXPECT_TRUE(report.ends_with_close);
  EXPECT_EQ(report.unsigned_tail, 0u);
  EXPECT_EQ(report.last_hash, internal::ParseLine(lines_.back())->hash);
}

TEST_F(VerifyTest, AnEditedFieldIsFoundAtItsLineAndSeq) {
  const size_t k = IndexOfSeq(lines_, 7);
  ASSERT_EQ(Body(lines_[k])["type"], "request");
  lines_[k].replace(lines_[k].find("\"GET\""), 5, "\"PUT\"");
  const Problem p = Tampered(ProblemKind::kEdited);
  EXPECT_EQ(p.line, static_cast<int64_t>(k) + 1);
  EXPECT_EQ(p.seq, 7u);
  EXPECT_NE(p.ToString().find("audit-000000000001.jsonl:7 (seq 7): edited"), std::string::npos)
      << p.ToString();
}

TEST_F(VerifyTest, AnEditedEntryWhoseHashWasRecomputedBreaksTheNextLink) {
  const size_t k = IndexOfSeq(lines_, 7);
  json body = Body(lines_[k]);
  body["caller"]["subject"] = "someone-else";
  lines_[k] = Reseal(body);
  const Problem p = Tampered(ProblemKind::kPrevMismatch);
  EXPECT_EQ(p.seq, 8u);
  EXPECT_NE(p.message.find("seq 7"), std::string::npos) << p.message;
}

TEST_F(VerifyTest, ARemovedEntryIsASeqGap) {
  const size_t k = IndexOfSeq(lines_, 7);
  lines_.erase(lines_.begin() + static_cast<ptrdiff_t>(k));
  const Problem p = Tampered(ProblemKind::kRemoved);
  EXPECT_EQ(p.line, static_cast<int64_t>(k) + 1);
  EXPECT_EQ(p.seq, 8u);
  EXPECT_NE(p.message.find("entry 7 was removed"), std::string::npos) << p.message;
}

TEST_F(VerifyTest, SwappedEntriesAreReordered) {
  const size_t k = IndexOfSeq(lines_, 7);
  std::swap(lines_[k], lines_[k + 1]);
  const Problem p = Tampered(ProblemKind::kReordered);
  EXPECT_EQ(p.line, static_cast<int64_t>(k) + 1);
  EXPECT_EQ(p.seq, 8u);
  EXPECT_NE(p.message.find("comes before seq 7"), std::string::npos) << p.message;
}

TEST_F(VerifyTest, AChainRewrittenAfterARemovalFailsAtTheNextCheckpoint) {
  // Someone with the files but not the key removes seq 7 and renumbers and re-hashes the rest:
  // every hash and link holds, but the next checkpoint signed the old chain.
  const size_t k = IndexOfSeq(lines_, 7);
  lines_.erase(lines_.begin() + static_cast<ptrdiff_t>(k));
  std::string prev = internal::ParseLine(lines_[k - 1])->hash;
  for (size_t i = k; i < lines_.size(); ++i) {
    json body = Body(lines_[i]);
    body["seq"] = body["seq"].get<uint64_t>() - 1;
    body["prev"] = prev;
    lines_[i] = Reseal(body);
    prev = internal::ParseLine(lines_[i])->hash;
  }
  const Problem p = Tampered(ProblemKind::kBadCheckpoint);
  EXPECT_GE(p.seq, 7u);
  EXPECT_NE(p.message.find("entries before it were changed"), std::string::npos) << p.message;
}

TEST_F(VerifyTest, AChangedCheckpointSignatureIsFound) {
  const size_t k = lines_.size() - 1;  // the closing checkpoint
  json body = Body(lines_[k]);
  ASSERT_EQ(body["type"], "checkpoint");
  std::string jws = body["checkpoint"]["jws"];
  jws[jws.size() - 5] = jws[jws.size() - 5] == 'A' ? 'B' : 'A';
  body["checkpoint"]["jws"] = jws;
  // Edited in place: the hash shows it.
  const std::string original = lines_[k];
  lines_[k].replace(lines_[k].find(Body(original)["checkpoint"]["jws"].get<std::string>()),
                    jws.size(), jws);
  EXPECT_EQ(Tampered(ProblemKind::kEdited).seq, body["seq"].get<uint64_t>());
  // Edited and re-hashed: the signature shows it.
  lines_[k] = Reseal(body);
  const Problem p = Tampered(ProblemKind::kBadCheckpoint);
  EXPECT_EQ(p.line, static_cast<int64_t>(k) + 1);
  EXPECT_NE(p.message.find("does not verify"), std::string::npos) << p.message;
}

TEST_F(VerifyTest, ACheckpointSignedWithAnotherKeyIsFound) {
  const size_t k = lines_.size() - 1;
  json body = Body(lines_[k]);
  Result<auth::JwsParts> parts = auth::DecodeJws(body["checkpoint"]["jws"].get<std::string>());
  ASSERT_TRUE(parts.ok());
  // Another key of its own id.
  const auth::Jwk other = *auth::Jwk::GenerateEs256();
  body["checkpoint"]["jws"] =
      *auth::SignJws(other, parts->payload.dump(), internal::kCheckpointTyp);
  lines_[k] = Reseal(body);
  Problem p = Tampered(ProblemKind::kBadCheckpoint);
  EXPECT_NE(p.message.find("not among the node's keys"), std::string::npos) << p.message;
  // Another key claiming the node's key id.
  oncomesh::testing::OpenSslKey forger = oncomesh::testing::OpenSslKey::Generate("ES256");
  body["checkpoint"]["jws"] = forger.Sign(
      json{{"alg", "ES256"}, {"typ", internal::kCheckpointTyp}, {"kid", NodeKey().kid()}},
      parts->payload.dump());
  lines_[k] = Reseal(body);
  p = Tampered(ProblemKind::kBadCheckpoint);
  EXPECT_NE(p.message.find("does not verify"), std::string::npos) << p.message;
}

TEST_F(VerifyTest, ACutMidLineIsTruncated) {
  WriteLines(path_, lines_);
  fs::resize_file(path_, fs::file_size(path_) - 40);
  const VerifyReport report = Verify(tmp_.path());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.problem->kind, ProblemKind::kTruncated);
  EXPECT_EQ(report.problem->line, static_cast<int64_t>(lines_.size()));
}

TEST_F(VerifyTest, AForgedEntryAfterTheLastCheckpointIsOnlyShownAsUnsigned) {
  // What a hash chain cannot detect: an entry appended with a correct prev and hash after the
  // last checkpoint. Verify reports it as not yet signed, and the log as not closed.
  const internal::ParsedLine last = *internal::ParseLine(lines_.back());
  json forged = EntryFieldsToJson(CountEntry(99));
  forged["type"] = "request";
  forged["seq"] = last.seq + 1;
  forged["prev"] = last.hash;
  forged["time"] = last.time;
  lines_.push_back(Reseal(forged));
  WriteLines(path_, lines_);
  const VerifyReport report = Verify(tmp_.path());
  ASSERT_TRUE(report.ok()) << report.problem->ToString();
  EXPECT_EQ(report.unsigned_tail, 1u);
  EXPECT_FALSE(report.ends_with_close);
}

TEST_F(VerifyTest, ARemovedTailIsNotDetectedWithoutAnOutsideAnchor) {
  // Cut back to the checkpoint after seq 15: a valid, shorter log. Only "not closed" shows,
  // and the last checkpoint an outside party recorded (seq, hash) would no longer be there.
  const size_t k = IndexOfSeq(lines_, 17);
  lines_.resize(k);
  WriteLines(path_, lines_);
  const VerifyReport report = Verify(tmp_.path());
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report.ends_with_close);
  EXPECT_EQ(report.last_seq, 16u);
}

TEST(VerifyFilesTest, ARemovedSegmentFileIsASeqGap) {
  oncomesh::testing::TempDir tmp;
  WriteLog(tmp.path(), 30, 60'000, 2000);
  const std::vector<std::string> names = *internal::ListSegments(tmp.path());
  ASSERT_GE(names.size(), 3u);
  fs::remove(tmp.path() + "/" + names[1]);
  const VerifyReport report = *VerifyLogDirectory(tmp.path(), PublicKeys());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.problem->kind, ProblemKind::kRemoved);
  EXPECT_EQ(report.problem->file, names[2]);
  EXPECT_EQ(report.problem->line, 1);
  // And without its first file, the chain does not start at seq 1.
  fs::remove(tmp.path() + "/" + names[0]);
  EXPECT_EQ(VerifyLogDirectory(tmp.path(), PublicKeys())->problem->kind, ProblemKind::kRemoved);
}

TEST(VerifyFilesTest, TheWrongKeyFailsAtTheFirstCheckpoint) {
  oncomesh::testing::TempDir tmp;
  WriteLog(tmp.path(), 8);
  const VerifyReport report = *VerifyLogDirectory(tmp.path(), {*auth::Jwk::GenerateEs256()});
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.problem->kind, ProblemKind::kBadCheckpoint);
  EXPECT_EQ(report.problem->seq, 6u);  // the open entry and 4 requests, then the checkpoint
}

// --- export -----------------------------------------------------------------------------------

std::string ExportToFile(const std::string& dir, const std::string& out, const std::string& from,
                         const std::string& to, ExportSummary* summary = nullptr) {
  std::ofstream file(out, std::ios::trunc);
  Result<ExportSummary> s = ExportPeriod(dir, PublicKeys(), from, to, "test-node", file);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (summary != nullptr && s.ok()) *summary = *s;
  return out;
}

TEST(ExportTest, APeriodVerifiesWithTheNodesPublicJwks) {
  oncomesh::testing::TempDir tmp;
  const std::string dir = tmp.path() + "/audit";
  WriteLog(dir, 60, 3 * 60'000);  // one request every 3 minutes, 10:03 to 13:00
  ExportSummary summary;
  const std::string out =
      ExportToFile(dir, tmp.path() + "/export.jsonl", *CanonicalTime("2025-03-01T10:30:00Z"),
                   *CanonicalTime("2025-03-01T11:30:00Z"), &summary);
  // 10:30 to 11:27, every 3 minutes: 20 requests, plus the checkpoints written among them.
  EXPECT_GE(summary.period_entries, 20u);
  EXPECT_TRUE(summary.signed_to_end);

  // The supervisor holds the node's public JWKS, from the node, not from the export.
  const std::string jwks_path = tmp.path() + "/node.jwks.json";
  std::ofstream(jwks_path) << PublicJwks({NodeKey()}).dump();
  std::ifstream jwks_in(jwks_path);
  const std::vector<auth::Jwk> keys = *ParseJwks(json::parse(jwks_in));
  EXPECT_FALSE(keys[0].has_private());

  Result<VerifyReport> report = VerifyExportFile(out, keys);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_TRUE(report->ok()) << report->problem->ToString();
  EXPECT_EQ(report->unsigned_tail, 0u);
  EXPECT_EQ(report->first_seq, summary.first_seq);
  std::vector<std::string> lines = ReadLines(out);
  const json header = json::parse(lines[0]);
  EXPECT_EQ(header["period"]["entries"], summary.period_entries);
  EXPECT_LT(Body(lines[1])["time"].get<std::string>(), "2025-03-01T10:30:00.000Z");  // context
  EXPECT_EQ(Body(lines.back())["type"], "checkpoint");

  // An edited entry in the export is found, at its line in the export.
  std::vector<std::string> edited = lines;
  edited[5].replace(edited[5].find("\"GET\""), 5, "\"PUT\"");
  WriteLines(out, edited);
  report = VerifyExportFile(out, keys);
  ASSERT_FALSE(report->ok());
  EXPECT_EQ(report->problem->kind, ProblemKind::kEdited);
  EXPECT_EQ(report->problem->line, 6);

  // A header claiming a shorter period (an entry of the period passed off as context).
  json shrunk = header;
  shrunk["period"]["first_seq"] = header["period"]["first_seq"].get<uint64_t>() + 1;
  lines[0] = shrunk.dump();
  WriteLines(out, lines);
  report = VerifyExportFile(out, keys);
  ASSERT_FALSE(report->ok());
  EXPECT_NE(report->problem->message.find("leaves it out"), std::string::npos)
      << report->problem->message;

  // An entry removed from the middle of the export.
  lines[0] = header.dump();
  lines.erase(lines.begin() + 8);
  WriteLines(out, lines);
  EXPECT_EQ(VerifyExportFile(out, keys)->problem->kind, ProblemKind::kRemoved);
}

TEST(ExportTest, APeriodAtTheEndOfARunningLogSaysItIsNotSignedYet) {
  oncomesh::testing::TempDir tmp;
  const std::string dir = tmp.path() + "/audit";
  WriteLog(dir, 12);
  // Drop the closing checkpoint and the checkpoint after seq 11 is the last: seq 12 and 13
  // follow it, as in a running node's log.
  const std::string path = SegmentPath(dir);
  std::vector<std::string> lines = ReadLines(path);
  lines.pop_back();
  WriteLines(path, lines);
  ExportSummary summary;
  const std::string out =
      ExportToFile(dir, tmp.path() + "/export.jsonl", *CanonicalTime("2025-03-01T10:05:00Z"),
                   *CanonicalTime("2025-03-02"), &summary);
  EXPECT_FALSE(summary.signed_to_end);
  const VerifyReport report = *VerifyExportFile(out, PublicKeys());
  ASSERT_TRUE(report.ok()) << report.problem->ToString();
  EXPECT_GT(report.unsigned_tail, 0u);
  ASSERT_FALSE(report.notes.empty());
  EXPECT_NE(report.notes[0].find("proved by the chain only"), std::string::npos);
}

TEST(ExportTest, ABrokenLogIsNotExported) {
  oncomesh::testing::TempDir tmp;
  WriteLog(tmp.path(), 10);
  const std::string path = SegmentPath(tmp.path());
  std::vector<std::string> lines = ReadLines(path);
  lines[3].replace(lines[3].find("\"GET\""), 5, "\"PUT\"");
  WriteLines(path, lines);
  std::ostringstream out;
  Result<ExportSummary> s = ExportPeriod(tmp.path(), PublicKeys(), "2025-03-01T00:00:00.000Z",
                                         "2025-03-02T00:00:00.000Z", "test-node", out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(s.status().message().find("audit-000000000001.jsonl:4 (seq 4): edited"),
            std::string::npos)
      << s.status().message();
  EXPECT_TRUE(out.str().empty());
}

TEST(TimeTest, CanonicalTimes) {
  EXPECT_EQ(*CanonicalTime("2025-03-01"), "2025-03-01T00:00:00.000Z");
  EXPECT_EQ(*CanonicalTime("2025-03-01T12:30:05Z"), "2025-03-01T12:30:05.000Z");
  EXPECT_EQ(*CanonicalTime("2025-03-01T12:30:05.1234Z"), "2025-03-01T12:30:05.123Z");
  EXPECT_EQ(*CanonicalTime("2025-03-01T12:30:05+02:00"), "2025-03-01T10:30:05.000Z");
  EXPECT_EQ(*CanonicalTime("2025-03-01T00:30:00-01:00"), "2025-03-01T01:30:00.000Z");
  EXPECT_EQ(*CanonicalTime("2024-02-29"), "2024-02-29T00:00:00.000Z");
  EXPECT_EQ(*CanonicalTime("2261-12-31"), "2261-12-31T00:00:00.000Z");
  for (const char* bad : {"", "2025-3-1", "2025-03-01T12:30Z", "2025-03-01T12:30:05", "yesterday",
                          "2025-13-01", "2025-02-29", "2025-04-31", "2500-01-01", "1969-12-31"}) {
    EXPECT_EQ(CanonicalTime(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace oncomesh::audit
