// A numeric attribute of individuals (age at diagnosis in days, date of diagnosis…) indexed
// for range predicates by range encoding: for every bucket k (a whole year of age, a calendar
// year) a posting of the rows whose bucket is <= k, so any bucket range is two postings
// (le[hi] AND NOT le[lo-1]) however wide it is; the exact per-row value refines the two
// boundary buckets when a bound falls inside one.
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

  // `bucket_of` maps a value to its bucket; it must be non-decreasing in the value.
  RangeAttribute(std::string name, std::function<int32_t(int32_t)> bucket_of)
      : name_(std::move(name)), bucket_of_(std::move(bucket_of)) {}

  // Builds from one value per row (kNoValue where unknown).
  void Build(std::vector<int32_t> values, uint32_t num_chunks);

  const std::string& name() const { return name_; }
  int32_t Bucket(int32_t value) const { return bucket_of_(value); }
  int32_t min_bucket() const { return min_bucket_; }
  int32_t max_bucket() const { return max_bucket_; }
  bool empty() const { return le_.empty(); }
  int32_t value(uint32_t row) const { return values_[row]; }
  // Rows with bucket <= k (k clamped to the range; nullptr below it).
  const Posting* AtMost(int32_t bucket) const;
  const Posting& has_value() const { return has_value_; }
  size_t SizeInBytes() const;

 private:
  std::string name_;
  std::function<int32_t(int32_t)> bucket_of_;
  std::vector<int32_t> values_;
  int32_t min_bucket_ = 0;
  int32_t max_bucket_ = -1;
  std::vector<Posting> le_;
  Posting has_value_;
};

}  // namespace oncomesh::index
