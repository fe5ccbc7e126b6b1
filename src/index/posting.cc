#include "index/posting.h"

#include <roaring/containers/containers.h>

#include <utility>

namespace oncomesh::index {

Posting::Posting() : bitmap_(roaring_bitmap_create()) {}

Posting::~Posting() {
  if (bitmap_) roaring_bitmap_free(bitmap_);
}

Posting::Posting(Posting&& other) noexcept
    : bitmap_(std::exchange(other.bitmap_, nullptr)),
      chunk_index_(std::move(other.chunk_index_)),
      cardinality_(other.cardinality_) {}

Posting& Posting::operator=(Posting&& other) noexcept {
  if (this != &other) {
    if (bitmap_) roaring_bitmap_free(bitmap_);
    bitmap_ = std::exchange(other.bitmap_, nullptr);
    chunk_index_ = std::move(other.chunk_index_);
    cardinality_ = other.cardinality_;
  }
  return *this;
}

void Posting::AddSorted(const std::vector<uint32_t>& rows) {
  roaring_bitmap_add_many(bitmap_, rows.size(), rows.data());
}

void Posting::Freeze(uint32_t num_chunks) {
  // Run containers are kept only where they are much smaller; array and bitset containers
  // are what the evaluator reads fastest.
  roaring_bitmap_shrink_to_fit(bitmap_);
  cardinality_ = roaring_bitmap_get_cardinality(bitmap_);
  chunk_index_.assign(num_chunks, -1);
  roaring_array_t& ra = bitmap_->high_low_container;
  // Arrays of kDenseArrayRows or more become bitsets: a plan ANDs and ORs a bitset at memory
  // speed, while setting an array's rows into the scratch bitset costs a dependent write a row.
  for (int32_t i = 0; i < ra.size; ++i) {
    if (ra.typecodes[i] != ARRAY_CONTAINER_TYPE_CODE) continue;
    auto* array = static_cast<array_container_t*>(ra.containers[i]);
    if (array->cardinality < kDenseArrayRows) continue;
    ra.containers[i] = bitset_container_from_array(array);
    ra.typecodes[i] = BITSET_CONTAINER_TYPE_CODE;
    array_container_free(array);
  }
  for (int32_t i = 0; i < ra.size; ++i) {
    if (ra.keys[i] < num_chunks) chunk_index_[ra.keys[i]] = i;
  }
}

ChunkView Posting::View(uint32_t chunk) const {
  ChunkView v;
  if (chunk >= chunk_index_.size() || chunk_index_[chunk] < 0) return v;
  const roaring_array_t& ra = bitmap_->high_low_container;
  const int32_t i = chunk_index_[chunk];
  const void* c = ra.containers[i];
  uint8_t type = ra.typecodes[i];
  if (type == SHARED_CONTAINER_TYPE_CODE) {
    const auto* shared = static_cast<const shared_container_t*>(c);
    c = shared->container;
    type = shared->typecode;
  }
  switch (type) {
    case BITSET_CONTAINER_TYPE_CODE: {
      const auto* b = static_cast<const bitset_container_t*>(c);
      v.kind = ChunkView::kBitset;
      v.words = b->array;
      v.size = b->cardinality;
      break;
    }
    case ARRAY_CONTAINER_TYPE_CODE: {
      const auto* a = static_cast<const array_container_t*>(c);
      if (a->cardinality == 0) break;
      v.kind = ChunkView::kArray;
      v.array = a->array;
      v.size = a->cardinality;
      break;
    }
    case RUN_CONTAINER_TYPE_CODE: {
      const auto* r = static_cast<const run_container_t*>(c);
      if (r->n_runs == 0) break;
      v.kind = ChunkView::kRun;
      v.runs = r->runs;
      v.size = r->n_runs;
      break;
    }
    default:
      break;
  }
  return v;
}

size_t Posting::SizeInBytes() const {
  return roaring_bitmap_portable_size_in_bytes(bitmap_) + chunk_index_.size() * sizeof(int32_t);
}

}  // namespace oncomesh::index
