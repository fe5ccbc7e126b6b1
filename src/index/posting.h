// A posting: the set of individual rows that have one attribute value, as a CRoaring bitmap,
// with a table from 64K-row chunk to container so a plan can read any chunk in O(1).
//
// Plans are evaluated one chunk of 65,536 rows at a time into a 1,024-word scratch bitset
// and counted once, instead of materialising intermediate bitmaps: measured on this hardware,
// a naive roaring plan (OR, AND, count) was slower than a plain column scan, while one fused
// AND+popcount pass over each chunk's containers is near the memory-bandwidth floor.
#pragma once

#include <roaring/roaring.h>

#include <cstdint>
#include <vector>

namespace oncomesh::index {

inline constexpr uint32_t kChunkBits = 65536;
inline constexpr uint32_t kChunkWords = kChunkBits / 64;
// Chunks of a posting with at least this many rows are kept as bitsets (8 KB), not as sorted
// arrays (2 bytes a row); see Posting::Freeze and docs/benchmarks.md.
inline constexpr int32_t kDenseArrayRows = 2048;

// A read-only view of one chunk of a posting.
struct ChunkView {
  enum Kind : uint8_t { kEmpty, kArray, kBitset, kRun };
  Kind kind = kEmpty;
  int32_t size = 0;                 // array: entries; run: runs; bitset: cardinality
  const uint16_t* array = nullptr;  // kArray: sorted low 16 bits
  const uint64_t* words = nullptr;  // kBitset: kChunkWords words
  const rle16_t* runs = nullptr;    // kRun
};

class Posting {
 public:
  Posting();
  ~Posting();
  Posting(Posting&& other) noexcept;
  Posting& operator=(Posting&& other) noexcept;
  Posting(const Posting&) = delete;
  Posting& operator=(const Posting&) = delete;

  // Adds sorted, unique rows (must be called before Freeze).
  void AddSorted(const std::vector<uint32_t>& rows);
  void Add(uint32_t row) { roaring_bitmap_add(bitmap_, row); }
  void OrWith(const Posting& other) { roaring_bitmap_or_inplace(bitmap_, other.bitmap_); }
  void AndNotWith(const Posting& other) { roaring_bitmap_andnot_inplace(bitmap_, other.bitmap_); }

  // Builds the chunk table; call after the last change. `num_chunks` covers every row.
  void Freeze(uint32_t num_chunks);

  uint64_t cardinality() const { return cardinality_; }
  const roaring_bitmap_t* bitmap() const { return bitmap_; }
  ChunkView View(uint32_t chunk) const;
  size_t SizeInBytes() const;

 private:
  roaring_bitmap_t* bitmap_;
  std::vector<int32_t> chunk_index_;  // chunk -> container index in bitmap_, or -1
  uint64_t cardinality_ = 0;
};

}  // namespace oncomesh::index
