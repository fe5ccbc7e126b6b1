// Plan evaluation against brute force: random postings of every container kind (sparse
// arrays, arrays kept as bitsets, dense and full bitsets, runs), nested AND/OR/NOT and ranges, over
// row counts that do not fill the last chunk.
#include "index/evaluate.h"

#include <gtest/gtest.h>

#include <random>

#include "index/range_attribute.h"

namespace oncomesh::index {
namespace {

struct Fixture {
  uint32_t rows;
  std::vector<std::vector<bool>> sets;
  std::vector<Posting> postings;
  std::vector<int32_t> values;
  std::unique_ptr<RangeAttribute> attribute;
};

Fixture Make(uint32_t rows, uint64_t seed) {
  Fixture f;
  f.rows = rows;
  std::mt19937_64 rng(seed);
  // Sparse arrays, arrays dense enough to be kept as bitsets (kDenseArrayRows), bitsets, and
  // every row (a full chunk, which the AND skips).
  const double densities[] = {0.0005, 0.02, 0.045, 0.3, 0.7, 0.97, 1.0};
  const uint32_t chunks = (rows + kChunkBits - 1) / kChunkBits;
  for (double d : densities) {
    std::vector<bool> set(rows);
    std::vector<uint32_t> members;
    std::bernoulli_distribution bit(d);
    for (uint32_t r = 0; r < rows; ++r) {
      if (bit(rng)) {
        set[r] = true;
        members.push_back(r);
      }
    }
    f.sets.push_back(set);
    Posting p;
    p.AddSorted(members);
    p.Freeze(chunks);
    f.postings.push_back(std::move(p));
  }
  {
    // A run-heavy posting: long stretches.
    std::vector<bool> set(rows);
    std::vector<uint32_t> members;
    for (uint32_t r = 0; r < rows; ++r) {
      if ((r / 5000) % 3 == 0) {
        set[r] = true;
        members.push_back(r);
      }
    }
    Posting p;
    p.AddSorted(members);
    roaring_bitmap_run_optimize(const_cast<roaring_bitmap_t*>(p.bitmap()));
    p.Freeze(chunks);
    f.sets.push_back(set);
    f.postings.push_back(std::move(p));
  }
  // Spread over 16 bits for large fixtures (the 32-bit path), under it for small ones.
  std::uniform_int_distribution<int32_t> age(0, rows > 100000 ? 99999 : 60000);
  f.values.resize(rows);
  for (uint32_t r = 0; r < rows; ++r)
    f.values[r] = r % 17 == 0 ? RangeAttribute::kNoValue : age(rng);
  f.attribute = std::make_unique<RangeAttribute>("age", [](int32_t v) { return v / 1000; });
  f.attribute->Build(f.values, chunks);
  return f;
}

// Brute-force truth of a plan for one row.
bool Truth(const Fixture& f, const Plan& p, uint32_t row) {
  switch (p.op) {
    case Plan::Op::kAll:
      return true;
    case Plan::Op::kNone:
      return false;
    case Plan::Op::kTerm:
      for (size_t i = 0; i < f.postings.size(); ++i) {
        if (&f.postings[i] == p.posting) return f.sets[i][row];
      }
      return false;
    case Plan::Op::kRange: {
      const int32_t v = f.values[row];
      if (v == RangeAttribute::kNoValue) return false;
      const int64_t key = p.in_buckets ? v / 1000 : v;
      return key >= p.lo && key <= p.hi;
    }
    case Plan::Op::kAnd:
      for (const Plan& c : p.children) {
        if (!Truth(f, c, row)) return false;
      }
      return true;
    case Plan::Op::kOr:
      for (const Plan& c : p.children) {
        if (Truth(f, c, row)) return true;
      }
      return false;
    case Plan::Op::kNot:
      return !Truth(f, p.children[0], row);
  }
  return false;
}

Plan RandomPlan(const Fixture& f, std::mt19937_64& rng, int depth) {
  std::uniform_int_distribution<int> kind(0, depth > 2 ? 2 : 6);
  const int k = kind(rng);
  if (k <= 1) {
    return Plan::Term(
        &f.postings[std::uniform_int_distribution<size_t>(0, f.postings.size() - 1)(rng)]);
  }
  if (k == 2) {
    const bool buckets = rng() % 2;
    int64_t lo = std::uniform_int_distribution<int64_t>(0, 99999)(rng);
    int64_t hi = lo + std::uniform_int_distribution<int64_t>(0, 50000)(rng);
    if (rng() % 4 == 0) lo = INT32_MIN;
    if (rng() % 4 == 0) hi = INT32_MAX;
    if (buckets) {
      lo = lo == INT32_MIN ? -1 : lo / 1000;
      hi = hi == INT32_MAX ? 1000 : hi / 1000;
    }
    return Plan::Range(f.attribute.get(), lo, hi, buckets);
  }
  if (k == 3) return Plan::Not(RandomPlan(f, rng, depth + 1));
  std::vector<Plan> children;
  const int n = std::uniform_int_distribution<int>(1, 4)(rng);
  for (int i = 0; i < n; ++i) children.push_back(RandomPlan(f, rng, depth + 1));
  return k <= 5 ? Plan::And(std::move(children)) : Plan::Or(std::move(children));
}

TEST(EvaluateTest, RandomPlansAgreeWithBruteForce) {
  for (uint32_t rows : {1u, 1000u, 65536u, 200000u}) {
    Fixture f = Make(rows, rows);
    std::mt19937_64 rng(rows * 7 + 1);
    for (int i = 0; i < 60; ++i) {
      const Plan plan = RandomPlan(f, rng, 0);
      uint64_t expected = 0;
      for (uint32_t r = 0; r < rows; ++r) expected += Truth(f, plan, r);
      ASSERT_EQ(CountMatches(plan, rows), expected) << "rows " << rows << " plan " << i;
    }
  }
}

// From 64 chunks on, CountMatches splits the chunks over two threads.
TEST(EvaluateTest, LargeIndexCountedOverTwoThreadsAgreesWithBruteForce) {
  const uint32_t rows = 64 * kChunkBits + 12345;
  Fixture f = Make(rows, 11);
  std::mt19937_64 rng(99);
  for (int i = 0; i < 6; ++i) {
    const Plan plan = RandomPlan(f, rng, 0);
    uint64_t expected = 0;
    for (uint32_t r = 0; r < rows; ++r) expected += Truth(f, plan, r);
    ASSERT_EQ(CountMatches(plan, rows), expected) << "plan " << i;
  }
}

TEST(EvaluateTest, MatchingChunksHoldExactlyTheMatchingRows) {
  Fixture f = Make(150000, 3);
  const Plan plan = Plan::And({Plan::Term(&f.postings[2]), Plan::Not(Plan::Term(&f.postings[1]))});
  std::vector<bool> seen(f.rows);
  ForEachMatchingChunk(plan, f.rows, [&](uint32_t chunk, const uint64_t* words) {
    for (uint32_t w = 0; w < kChunkWords; ++w) {
      for (int b = 0; b < 64; ++b) {
        if ((words[w] >> b) & 1)
          seen[chunk * kChunkBits + w * 64 + static_cast<uint32_t>(b)] = true;
      }
    }
  });
  for (uint32_t r = 0; r < f.rows; ++r) EXPECT_EQ(seen[r], Truth(f, plan, r)) << r;
}

}  // namespace
}  // namespace oncomesh::index
