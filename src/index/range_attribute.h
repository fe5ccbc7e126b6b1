// A numeric attribute of individuals (age at diagnosis, date of diagnosis…) indexed for range
// predicates.
//
// Each row has a value and a bucket (a whole year of age, a calendar year). The index keeps,
// per bucket, the posting of its rows ("eq"), and per group of kGroupWidth consecutive buckets
// the posting of the rows whose bucket is at or below the group's last ("at most", range
// encoding). A bucket range is then at most two group postings (le[g2] AND NOT le[g1-1]) plus a
// few bucket postings at the ragged ends, however wide the range; the values themselves refine
// the two boundary buckets when a bound falls inside one. Measured here, ORing one posting per
// bucket was slower than a plain scan, and a range-encoded posting per bucket cost ~12 bytes an
// individual; groups of five cost ~1 byte, and the bucket postings (sparse arrays) ~2.
//
// Values are kept as 16-bit offsets from the smallest value when their spread allows (ages in
// days since the last birthday, dates within 179 years), else as 32-bit integers.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "index/posting.h"

namespace oncomesh::index {

class RangeAttribute {
 public:
  static constexpr int32_t kNoValue = INT32_MIN;
  static constexpr int32_t kGroupWidth = 5;

  // `bucket_of` maps a value to its bucket; it must be non-decreasing in the value.
  RangeAttribute(std::string name, std::function<int32_t(int32_t)> bucket_of)
      : name_(std::move(name)), bucket_of_(std::move(bucket_of)) {}

  // Builds from one value per row (kNoValue where unknown).
  void Build(const std::vector<int32_t>& values, uint32_t num_chunks);

  const std::string& name() const { return name_; }
  int32_t Bucket(int32_t value) const { return bucket_of_(value); }
  int32_t min_bucket() const { return min_bucket_; }
  int32_t max_bucket() const { return max_bucket_; }
  bool empty() const { return eq_.empty(); }
  // The row's value, or kNoValue.
  int32_t value(uint32_t row) const {
    if (!narrow_.empty()) return narrow_[row] == kNarrowNone ? kNoValue : base_ + narrow_[row];
    return wide_[row];
  }
  // Rows whose bucket is `bucket` (nullptr outside [min_bucket, max_bucket]).
  const Posting* InBucket(int32_t bucket) const;
  // The group of a bucket, and the rows whose bucket is at most the last of group `g`
  // (nullptr below the first group; the last group's posting above it).
  // Groups are aligned on multiples of kGroupWidth (ages 50-54, years 2015-2019), so that
  // the bounds people use fall on group edges; group 0 holds min_bucket().
  int32_t GroupOf(int32_t bucket) const { return FloorDiv(bucket) - FloorDiv(min_bucket_); }
  int32_t GroupFirstBucket(int32_t g) const { return (FloorDiv(min_bucket_) + g) * kGroupWidth; }
  const Posting* AtMostGroup(int32_t g) const;
  const Posting& has_value() const { return has_value_; }
  size_t SizeInBytes() const;

 private:
  static constexpr uint16_t kNarrowNone = UINT16_MAX;
  static int32_t FloorDiv(int32_t b) {
    return b >= 0 ? b / kGroupWidth : -((-b + kGroupWidth - 1) / kGroupWidth);
  }

  std::string name_;
  std::function<int32_t(int32_t)> bucket_of_;
  std::vector<uint16_t> narrow_;  // value - base_, or kNarrowNone
  std::vector<int32_t> wide_;     // when the spread does not fit 16 bits
  int32_t base_ = 0;
  int32_t min_bucket_ = 0;
  int32_t max_bucket_ = -1;
  std::vector<Posting> eq_;       // per bucket
  std::vector<Posting> at_most_;  // per group
  Posting has_value_;
};

}  // namespace oncomesh::index
