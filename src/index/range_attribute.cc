#include "index/range_attribute.h"

#include <algorithm>

namespace oncomesh::index {

void RangeAttribute::Build(std::vector<int32_t> values, uint32_t num_chunks) {
  values_ = std::move(values);
  min_bucket_ = INT32_MAX;
  max_bucket_ = INT32_MIN;
  for (int32_t v : values_) {
    if (v == kNoValue) continue;
    const int32_t b = bucket_of_(v);
    min_bucket_ = std::min(min_bucket_, b);
    max_bucket_ = std::max(max_bucket_, b);
  }
  le_.clear();
  has_value_ = Posting();
  if (min_bucket_ > max_bucket_) {
    min_bucket_ = 0;
    max_bucket_ = -1;
    has_value_.Freeze(num_chunks);
    return;
  }
  // Rows of each bucket, in row order, then cumulative unions.
  std::vector<std::vector<uint32_t>> rows(static_cast<size_t>(max_bucket_ - min_bucket_ + 1));
  std::vector<uint32_t> all;
  for (uint32_t row = 0; row < values_.size(); ++row) {
    if (values_[row] == kNoValue) continue;
    rows[static_cast<size_t>(bucket_of_(values_[row]) - min_bucket_)].push_back(row);
    all.push_back(row);
  }
  has_value_.AddSorted(all);
  has_value_.Freeze(num_chunks);
  le_.resize(rows.size());
  for (size_t k = 0; k < rows.size(); ++k) {
    if (k > 0) le_[k].OrWith(le_[k - 1]);
    le_[k].AddSorted(rows[k]);
  }
  for (Posting& p : le_) p.Freeze(num_chunks);
}

const Posting* RangeAttribute::AtMost(int32_t bucket) const {
  if (le_.empty() || bucket < min_bucket_) return nullptr;
  bucket = std::min(bucket, max_bucket_);
  return &le_[static_cast<size_t>(bucket - min_bucket_)];
}

size_t RangeAttribute::SizeInBytes() const {
  size_t n = values_.size() * sizeof(int32_t) + has_value_.SizeInBytes();
  for (const Posting& p : le_) n += p.SizeInBytes();
  return n;
}

}  // namespace oncomesh::index
