#include "index/range_attribute.h"

#include <algorithm>

namespace oncomesh::index {

void RangeAttribute::Build(const std::vector<int32_t>& values, uint32_t num_chunks) {
  min_bucket_ = INT32_MAX;
  max_bucket_ = INT32_MIN;
  int32_t min_value = INT32_MAX, max_value = INT32_MIN;
  for (int32_t v : values) {
    if (v == kNoValue) continue;
    min_value = std::min(min_value, v);
    max_value = std::max(max_value, v);
  }
  eq_.clear();
  at_most_.clear();
  has_value_ = Posting();
  narrow_.clear();
  wide_.clear();
  if (min_value > max_value) {
    min_bucket_ = 0;
    max_bucket_ = -1;
    has_value_.Freeze(num_chunks);
    return;
  }
  min_bucket_ = bucket_of_(min_value);
  max_bucket_ = bucket_of_(max_value);
  base_ = min_value;
  if (static_cast<int64_t>(max_value) - min_value < kNarrowNone) {
    narrow_.resize(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      narrow_[i] = values[i] == kNoValue ? kNarrowNone : static_cast<uint16_t>(values[i] - base_);
    }
  } else {
    wide_ = values;
  }
  std::vector<std::vector<uint32_t>> rows(static_cast<size_t>(max_bucket_ - min_bucket_ + 1));
  std::vector<uint32_t> all;
  for (uint32_t row = 0; row < values.size(); ++row) {
    if (values[row] == kNoValue) continue;
    rows[static_cast<size_t>(bucket_of_(values[row]) - min_bucket_)].push_back(row);
    all.push_back(row);
  }
  has_value_.AddSorted(all);
  has_value_.Freeze(num_chunks);
  eq_.resize(rows.size());
  at_most_.resize(static_cast<size_t>(GroupOf(max_bucket_)) + 1);
  for (size_t k = 0; k < rows.size(); ++k) {
    eq_[k].AddSorted(rows[k]);
    const int32_t bucket = min_bucket_ + static_cast<int32_t>(k);
    const size_t g = static_cast<size_t>(GroupOf(bucket));
    if (g > 0 && (k == 0 || GroupOf(bucket - 1) != static_cast<int32_t>(g))) {
      at_most_[g].OrWith(at_most_[g - 1]);
    }
    at_most_[g].AddSorted(rows[k]);
  }
  for (Posting& p : eq_) p.Freeze(num_chunks);
  for (Posting& p : at_most_) p.Freeze(num_chunks);
}

const Posting* RangeAttribute::InBucket(int32_t bucket) const {
  if (bucket < min_bucket_ || bucket > max_bucket_) return nullptr;
  return &eq_[static_cast<size_t>(bucket - min_bucket_)];
}

const Posting* RangeAttribute::AtMostGroup(int32_t g) const {
  if (at_most_.empty() || g < 0) return nullptr;
  return &at_most_[static_cast<size_t>(
      std::min<int32_t>(g, static_cast<int32_t>(at_most_.size()) - 1))];
}

size_t RangeAttribute::SizeInBytes() const {
  size_t n =
      narrow_.size() * sizeof(uint16_t) + wide_.size() * sizeof(int32_t) + has_value_.SizeInBytes();
  for (const Posting& p : eq_) n += p.SizeInBytes();
  for (const Posting& p : at_most_) n += p.SizeInBytes();
  return n;
}

}  // namespace oncomesh::index
