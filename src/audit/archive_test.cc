// Retention (issue 12 item 17): archiving the oldest segments leaves a log that verifies from
// its signed anchor, an archive that verifies and joins it, a writer that continues, and every
// removal or forgery around the anchor found.
#include "audit/archive.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>

#include "audit/audit_log.h"
#include "audit/internal/chain.h"
#include "support/audit_entries.h"
#include "support/process.h"

namespace oncomesh::audit {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const auth::Jwk& NodeKey() { return oncomesh::testing::AuditSigningKey(); }
std::vector<auth::Jwk> PublicKeys() { return oncomesh::testing::AuditPublicKeys(); }

constexpr int64_t kDayMs = 24 * 3600 * 1000;
constexpr int64_t kMarch1Ms = 1'740'787'200'000;  // 2025-03-01T00:00:00Z

Entry CountEntry(int i) {
  Entry e;
  e.caller = {"researcher-1", "https://aai.example.org", "127.0.0.1:5000"};
  e.request = {"GET", "/api/individuals", "i=" + std::to_string(i)};
  e.access = {{"default", "count"}};
  e.outcome = {200, ""};
  e.disclosed.figures.push_back({"default", "individuals", 10 * i});
  return e;
}

AuditOptions Options(std::shared_ptr<std::atomic<int64_t>> now_ms) {
  AuditOptions o;
  o.node_name = "test-node";
  o.signing_key = NodeKey();
  o.checkpoint_entries = 5;
  o.clock = [now_ms] {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(now_ms->load()));
  };
  return o;
}

class ArchiveTest : public ::testing::Test {
 protected:
  // Four days of 12 entries each (a segment a day: segments rotate at the UTC day), closed.
  void SetUp() override {
    log_dir_ = tmp_.path() + "/audit";
    archive_dir_ = tmp_.path() + "/archive";
    now_ms_ = std::make_shared<std::atomic<int64_t>>(kMarch1Ms);
    Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(log_dir_, Options(now_ms_));
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (int day = 0; day < 4; ++day) {
      *now_ms_ = kMarch1Ms + day * kDayMs + 3600'000;
      for (int i = 0; i < 12; ++i) {
        *now_ms_ += 1000;
        ASSERT_TRUE((*log)->AppendSync(CountEntry(day * 100 + i)).ok());
      }
    }
    ASSERT_TRUE((*log)->Close().ok());
    ASSERT_EQ(internal::ListSegments(log_dir_)->size(), 4u);
    Result<VerifyReport> whole = VerifyLogDirectory(log_dir_, PublicKeys());
    ASSERT_TRUE(whole.ok() && whole->ok());
    whole_ = *whole;
  }

  Result<ArchiveSummary> Archive(const std::string& before) {
    return ArchiveSegments(log_dir_, archive_dir_, before, NodeKey(), "test-node", PublicKeys());
  }
  VerifyReport Verify(const std::string& archive = "") {
    Result<VerifyReport> r = VerifyLogDirectory(log_dir_, PublicKeys(), archive);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : VerifyReport{};
  }

  oncomesh::testing::TempDir tmp_;
  std::string log_dir_, archive_dir_;
  std::shared_ptr<std::atomic<int64_t>> now_ms_;
  VerifyReport whole_;
};

TEST_F(ArchiveTest, TheRestVerifiesFromTheAnchorAndTheArchiveJoinsIt) {
  const std::vector<std::string> names = *internal::ListSegments(log_dir_);
  Result<ArchiveSummary> summary = Archive("2025-03-03");
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  ASSERT_EQ(summary->moved.size(), 2u);  // 1 and 2 March; 3 March has entries after the cut
  EXPECT_EQ(summary->moved[0].file, names[0]);
  EXPECT_EQ(summary->moved[1].file, names[1]);
  ASSERT_TRUE(summary->anchor.has_value());
  EXPECT_EQ(summary->anchor->seq, *internal::SegmentFirstSeq(names[2]) - 1);
  EXPECT_FALSE(fs::exists(log_dir_ + "/" + names[0]));
  EXPECT_TRUE(fs::exists(archive_dir_ + "/" + names[0]));
  EXPECT_TRUE(fs::exists(log_dir_ + "/ANCHOR.json"));

  const VerifyReport rest = Verify();
  ASSERT_TRUE(rest.ok()) << rest.problem->ToString();
  EXPECT_EQ(rest.anchor_seq, summary->anchor->seq);
  EXPECT_EQ(rest.first_seq, summary->anchor->seq + 1);
  EXPECT_EQ(rest.last_hash, whole_.last_hash);
  EXPECT_TRUE(rest.ends_with_close);

  const VerifyReport both = Verify(archive_dir_);
  ASSERT_TRUE(both.ok()) << both.problem->ToString();
  EXPECT_TRUE(both.archive_verified);
  EXPECT_EQ(both.entries, whole_.entries);
  EXPECT_EQ(both.first_seq, 1u);
  EXPECT_EQ(both.checkpoints, whole_.checkpoints);

  // The writer continues the remaining chain, and archiving again moves what became due.
  {
    *now_ms_ = kMarch1Ms + 5 * kDayMs;
    Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(log_dir_, Options(now_ms_));
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    ASSERT_TRUE((*log)->AppendSync(CountEntry(7)).ok());
    ASSERT_TRUE((*log)->Close().ok());
  }
  Result<ArchiveSummary> again = Archive("2025-03-05");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->moved.size(), 2u);  // 3 and 4 March; never the newest (6 March)
  ASSERT_EQ(internal::ListSegments(log_dir_)->size(), 1u);
  const VerifyReport after = Verify(archive_dir_);
  ASSERT_TRUE(after.ok()) << after.problem->ToString();
  EXPECT_EQ(after.entries, whole_.entries + 3);  // open, the entry, the closing checkpoint
}

TEST_F(ArchiveTest, OnlySegmentsThatACheckpointSignsAreArchived) {
  Result<ArchiveSummary> nothing = Archive("2025-03-01");
  ASSERT_TRUE(nothing.ok());
  EXPECT_TRUE(nothing->moved.empty());
  EXPECT_NE(nothing->why_not.find("from 2025-03-01"), std::string::npos) << nothing->why_not;
  EXPECT_FALSE(fs::exists(log_dir_ + "/ANCHOR.json"));
  // A log whose last checkpoint is in its second segment (its closing one lost: a crash): the
  // first is archived, the second, which ends with that checkpoint, is not signed past its end.
  oncomesh::testing::TempDir other;
  auto now = std::make_shared<std::atomic<int64_t>>(kMarch1Ms);
  AuditOptions o = Options(now);
  o.checkpoint_entries = 1000;
  {
    Result<std::unique_ptr<AuditLog>> log = AuditLog::Open(other.path(), o);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->AppendSync(CountEntry(1)).ok());
    *now = kMarch1Ms + kDayMs;
    ASSERT_TRUE((*log)->AppendSync(CountEntry(2)).ok());
    ASSERT_TRUE((*log)->Checkpoint().ok());
    *now = kMarch1Ms + 2 * kDayMs;
    ASSERT_TRUE((*log)->AppendSync(CountEntry(3)).ok());
    ASSERT_TRUE((*log)->Close().ok());
  }
  const std::string newest = other.path() + "/" + internal::ListSegments(other.path())->back();
  {
    std::ifstream in(newest);
    std::string first;
    std::getline(in, first);  // entry 3; the closing checkpoint after it goes
    std::ofstream(newest, std::ios::trunc) << first << "\n";
  }
  Result<ArchiveSummary> unsigned_tail = ArchiveSegments(
      other.path(), other.path() + "/archive", "2025-03-09", NodeKey(), "test-node", PublicKeys());
  ASSERT_TRUE(unsigned_tail.ok()) << unsigned_tail.status().ToString();
  ASSERT_EQ(unsigned_tail->moved.size(), 1u);  // the day its checkpoint signs
  EXPECT_NE(unsigned_tail->why_not.find("which no checkpoint signs yet"), std::string::npos)
      << unsigned_tail->why_not;
}

TEST_F(ArchiveTest, RemovalsAndForgeriesAroundTheAnchorAreFound) {
  ASSERT_TRUE(Archive("2025-03-03").ok());
  const std::vector<std::string> live = *internal::ListSegments(log_dir_);
  {  // A remaining segment removed as well: a seq gap after the anchor.
    const std::string moved = tmp_.path() + "/moved.jsonl";
    fs::rename(log_dir_ + "/" + live[0], moved);
    const VerifyReport gap = Verify();
    ASSERT_FALSE(gap.ok());
    EXPECT_EQ(gap.problem->kind, ProblemKind::kRemoved);
    fs::rename(moved, log_dir_ + "/" + live[0]);
  }
  {  // The anchor moved forward without the node's key: its signature fails.
    std::ifstream in(log_dir_ + "/ANCHOR.json");
    json anchor = json::parse(in);
    anchor["anchor"]["seq"] = anchor["anchor"]["seq"].get<uint64_t>() + 12;
    std::ofstream(log_dir_ + "/ANCHOR.json") << anchor.dump();
    const VerifyReport forged = Verify();
    ASSERT_FALSE(forged.ok());
    EXPECT_EQ(forged.problem->kind, ProblemKind::kBadCheckpoint);
    EXPECT_EQ(forged.problem->file, "ANCHOR.json");
  }
  ASSERT_TRUE(fs::copy_file(
      archive_dir_ + "/ANCHOR-" +
          internal::SegmentName(*internal::SegmentFirstSeq(live[0]) - 1).substr(6, 12) + ".json",
      log_dir_ + "/ANCHOR.json", fs::copy_options::overwrite_existing));
  ASSERT_TRUE(Verify(archive_dir_).ok());
  const std::vector<std::string> archived = *internal::ListSegments(archive_dir_);
  ASSERT_EQ(archived.size(), 2u);
  {  // The newest archived segment removed: the archive no longer reaches the anchor.
    const std::string moved = tmp_.path() + "/moved.jsonl";
    fs::rename(archive_dir_ + "/" + archived[1], moved);
    const VerifyReport lost = Verify(archive_dir_);
    ASSERT_FALSE(lost.ok());
    EXPECT_EQ(lost.problem->kind, ProblemKind::kRemoved);
    EXPECT_NE(lost.problem->message.find("the archive ends at seq"), std::string::npos)
        << lost.problem->message;
    fs::rename(moved, archive_dir_ + "/" + archived[1]);
  }
  {  // The oldest deleted at the end of its retention: the archive verifies from the anchor
     // copy written when the next was archived; without that copy, it is a removal.
    fs::remove(archive_dir_ + "/" + archived[0]);
    ASSERT_TRUE(Verify(archive_dir_).ok());
    for (const auto& f : fs::directory_iterator(archive_dir_)) {
      if (f.path().filename().string().rfind("ANCHOR-", 0) == 0) fs::remove(f.path());
    }
    const VerifyReport lost = Verify(archive_dir_);
    ASSERT_FALSE(lost.ok());
    EXPECT_EQ(lost.problem->kind, ProblemKind::kRemoved);
  }
}

TEST(ParseLineTest, ARepeatedMemberIsMalformed) {
  // Readers that keep the first of a repeated key and those that keep the last must not read
  // two different entries from one line.
  std::string body = R"({"prev":")" + std::string(internal::kGenesisHash) +
                     R"(","seq":1,"seq":2,"time":"2025-03-01T00:00:00.000Z","type":"open"})";
  const std::string hash = internal::Sha256Hex(body);
  body.pop_back();
  const std::string line = body + R"(,"hash":")" + hash + R"("})";
  Result<internal::ParsedLine> parsed = internal::ParseLine(line);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("repeated member \"seq\""), std::string::npos)
      << parsed.status().message();
}

}  // namespace
}  // namespace oncomesh::audit
