// Evaluation of plans over an index's rows, one 64K-row chunk at a time (see posting.h).
// Thread-safe: scratch space is per thread. The plan's postings must not change meanwhile.
#pragma once

#include <cstdint>
#include <functional>

#include "index/plan.h"

namespace oncomesh::index {

// Number of rows in [0, num_rows) that satisfy the plan.
uint64_t CountMatches(const Plan& plan, uint32_t num_rows);

// Calls fn(chunk, words) for every chunk holding at least one match, in chunk order. `words`
// are kChunkWords words whose bit i is row chunk*65536+i; bits at or beyond num_rows are 0.
void ForEachMatchingChunk(const Plan& plan, uint32_t num_rows,
                          const std::function<void(uint32_t chunk, const uint64_t* words)>& fn);

}  // namespace oncomesh::index
