#include "index/evaluate.h"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "index/range_attribute.h"

namespace oncomesh::index {
namespace {

// From this many chunks (4M rows) on, CountMatches splits the work over two threads.
constexpr uint32_t kParallelCountChunks = 64;

using Words = uint64_t*;

// Hot word loops get AVX-512 and AVX2 clones where the processor has them (Debian builds for
// baseline x86-64, whose popcount is a libgcc call, and CRoaring 0.2.66 has no AVX2 paths of
// its own). The clones are named by ISA level: GCC dispatches "arch=<cpu>" clones with
// __builtin_cpu_is, so an "arch=haswell" clone never runs on an AMD processor.
#if defined(__x86_64__) && defined(__GNUC__)
#define ONCOMESH_VECTOR_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ONCOMESH_VECTOR_CLONES
#endif

ONCOMESH_VECTOR_CLONES void AndWords(uint64_t* __restrict out, const uint64_t* __restrict in,
                                     uint64_t flip) {
  for (uint32_t i = 0; i < kChunkWords; ++i) out[i] &= in[i] ^ flip;
}

ONCOMESH_VECTOR_CLONES void OrWords(uint64_t* __restrict out, const uint64_t* __restrict in,
                                    uint64_t flip) {
  for (uint32_t i = 0; i < kChunkWords; ++i) out[i] |= in[i] ^ flip;
}

ONCOMESH_VECTOR_CLONES void CopyWords(uint64_t* __restrict out, const uint64_t* __restrict in,
                                      uint64_t flip) {
  for (uint32_t i = 0; i < kChunkWords; ++i) out[i] = in[i] ^ flip;
}

ONCOMESH_VECTOR_CLONES uint64_t PopcountWordsPortable(const uint64_t* in) {
  uint64_t n[4] = {0, 0, 0, 0};  // independent sums, so that popcnt is not one long chain
  for (uint32_t i = 0; i < kChunkWords; i += 4) {
    for (uint32_t k = 0; k < 4; ++k) n[k] += static_cast<uint64_t>(__builtin_popcountll(in[i + k]));
  }
  return n[0] + n[1] + n[2] + n[3];
}

#if defined(__x86_64__) && defined(__GNUC__)
// VPOPCNTQ, eight words an instruction. GCC 12 cannot make target_clones of this ISA, so it is
// chosen at run time below.
__attribute__((target("avx512f,avx512vpopcntdq"))) uint64_t PopcountWordsVpopcnt(
    const uint64_t* in) {
  __m512i sum = _mm512_setzero_si512();
  for (uint32_t i = 0; i < kChunkWords; i += 8) {
    sum = _mm512_add_epi64(sum, _mm512_popcnt_epi64(_mm512_loadu_si512(in + i)));
  }
  alignas(64) uint64_t lanes[8];  // not _mm512_reduce_add_epi64: GCC 12 warns inside it
  _mm512_store_si512(lanes, sum);
  uint64_t n = 0;
  for (uint64_t lane : lanes) n += lane;
  return n;
}

uint64_t PopcountWords(const uint64_t* in) {
  static const bool vpopcnt = __builtin_cpu_supports("avx512vpopcntdq");
  return vpopcnt ? PopcountWordsVpopcnt(in) : PopcountWordsPortable(in);
}
#else
uint64_t PopcountWords(const uint64_t* in) { return PopcountWordsPortable(in); }
#endif

// out = AND of (words[k] ^ flips[k]) over k, in blocks that stay in L1.
ONCOMESH_VECTOR_CLONES void FusedAnd(uint64_t* __restrict out, const uint64_t* const* words,
                                     const uint64_t* flips, size_t n) {
  constexpr uint32_t kBlock = 128;
  for (uint32_t base = 0; base < kChunkWords; base += kBlock) {
    uint64_t* __restrict o = out + base;
    const uint64_t* __restrict first = words[0] + base;
    const uint64_t f0 = flips[0];
    for (uint32_t i = 0; i < kBlock; ++i) o[i] = first[i] ^ f0;
    for (size_t k = 1; k < n; ++k) {
      const uint64_t* __restrict w = words[k] + base;
      const uint64_t f = flips[k];
      for (uint32_t i = 0; i < kBlock; ++i) o[i] &= w[i] ^ f;
    }
  }
}

ONCOMESH_VECTOR_CLONES bool AnyWord(const uint64_t* in) {
  uint64_t acc = 0;
  for (uint32_t i = 0; i < kChunkWords; ++i) acc |= in[i];
  return acc != 0;
}

void SetBit(uint64_t* w, uint32_t i) { w[i >> 6] |= uint64_t{1} << (i & 63); }
void ClearBit(uint64_t* w, uint32_t i) { w[i >> 6] &= ~(uint64_t{1} << (i & 63)); }
bool TestBit(const uint64_t* w, uint32_t i) { return (w[i >> 6] >> (i & 63)) & 1; }

// Sets (or clears) the rows of an array container.
template <bool kSet>
void ApplyArray(uint64_t* __restrict w, const uint16_t* __restrict rows, int32_t n) {
  for (int32_t i = 0; i < n; ++i) {
    if constexpr (kSet) {
      SetBit(w, rows[i]);
    } else {
      ClearBit(w, rows[i]);
    }
  }
}

void SetRange(uint64_t* w, uint32_t start, uint32_t end_inclusive) {
  for (uint32_t i = start; i <= end_inclusive;) {
    if ((i & 63) == 0 && i + 63 <= end_inclusive) {
      w[i >> 6] = ~uint64_t{0};
      i += 64;
    } else {
      SetBit(w, i);
      ++i;
    }
  }
}

// One operand of an AND or OR in one chunk: a container view, possibly negated.
struct Operand {
  ChunkView view;
  bool negate = false;

  // A bitset container of every row (a range attribute's has_value, where everyone has one)
  // counts as full, so that the AND skips it.
  bool Full() const {
    return view.kind == ChunkView::kBitset && view.size == static_cast<int32_t>(kChunkBits);
  }
  bool IsEmptySet() const { return negate ? Full() : view.kind == ChunkView::kEmpty; }
  bool IsFullSet() const { return negate ? view.kind == ChunkView::kEmpty : Full(); }
  uint64_t Weight() const {  // approximate number of rows; for choosing the sparse driver
    if (view.kind == ChunkView::kEmpty) return negate ? kChunkBits : 0;
    uint64_t n = view.kind == ChunkView::kRun ? kChunkBits / 2 : static_cast<uint64_t>(view.size);
    return negate ? kChunkBits - std::min<uint64_t>(n, kChunkBits) : n;
  }
  bool Contains(uint16_t low) const {
    bool in = false;
    switch (view.kind) {
      case ChunkView::kEmpty:
        break;
      case ChunkView::kBitset:
        in = TestBit(view.words, low);
        break;
      case ChunkView::kArray:
        in = std::binary_search(view.array, view.array + view.size, low);
        break;
      case ChunkView::kRun: {
        const rle16_t* end = view.runs + view.size;
        const rle16_t* it = std::upper_bound(
            view.runs, end, low, [](uint16_t v, const rle16_t& r) { return v < r.value; });
        if (it != view.runs) {
          --it;
          in = low <= static_cast<uint32_t>(it->value) + it->length;
        }
        break;
      }
    }
    return in != negate;
  }
};

// Writes the operand's rows of this chunk into `out` (all kChunkWords words).
void Materialize(const Operand& op, Words out) {
  const ChunkView& v = op.view;
  if (v.kind == ChunkView::kBitset) {
    CopyWords(out, v.words, op.negate ? ~uint64_t{0} : 0);
    return;
  }
  std::memset(out, 0, kChunkWords * sizeof(uint64_t));
  if (v.kind == ChunkView::kArray) {
    ApplyArray<true>(out, v.array, v.size);
  } else if (v.kind == ChunkView::kRun) {
    for (int32_t i = 0; i < v.size; ++i) {
      SetRange(out, v.runs[i].value, static_cast<uint32_t>(v.runs[i].value) + v.runs[i].length);
    }
  }
  if (op.negate) {
    for (uint32_t i = 0; i < kChunkWords; ++i) out[i] = ~out[i];
  }
}

class Evaluator {
 public:
  Evaluator() = default;

  // Evaluates `plan` for `chunk` into `out`. Returns false when the result is certainly
  // empty (then `out` may hold anything).
  bool EvalInto(const Plan& plan, uint32_t chunk, Words out) {
    switch (plan.op) {
      case Plan::Op::kAnd:
        return EvalAnd(plan, chunk, out);
      case Plan::Op::kOr:
        return EvalOr(plan, chunk, out);
      case Plan::Op::kRange:
        return EvalRange(plan, chunk, out);
      default: {
        const size_t mark = top_;
        const Operand op = Resolve(plan, chunk);
        const bool any = !op.IsEmptySet();
        if (any) Materialize(op, out);
        top_ = mark;
        return any;
      }
    }
  }

 private:
  // Scratch buffers are a stack: Acquire takes the next one, callers reset `top_` to what it
  // was when they are done with everything they acquired.
  Words Acquire() {
    if (top_ == buffers_.size()) {
      buffers_.push_back(std::make_unique<std::array<uint64_t, kChunkWords>>());
    }
    return buffers_[top_++]->data();
  }

  // Leaves and negations become views without copying; other nodes are evaluated into a
  // newly acquired buffer, which stays acquired until the caller resets `top_`.
  Operand Resolve(const Plan& plan, uint32_t chunk) {
    switch (plan.op) {
      case Plan::Op::kAll:
        return Operand{ChunkView{}, true};
      case Plan::Op::kNone:
        return Operand{};
      case Plan::Op::kTerm:
        return Operand{plan.posting->View(chunk), false};
      case Plan::Op::kNot: {
        Operand op = Resolve(plan.children[0], chunk);
        op.negate = !op.negate;
        return op;
      }
      default: {
        Words buffer = Acquire();
        if (!EvalInto(plan, chunk, buffer)) return Operand{};
        ChunkView v;
        v.kind = ChunkView::kBitset;
        v.words = buffer;
        v.size = static_cast<int32_t>(kChunkBits / 2);  // unknown; treat as dense
        return Operand{v, false};
      }
    }
  }

  bool EvalAnd(const Plan& plan, uint32_t chunk, Words out) {
    const size_t mark = top_;
    const bool any = EvalAndOperands(plan, chunk, out);
    top_ = mark;
    return any;
  }

  // A whole-bucket range whose bounds fall on group edges is two postings, "at most the last
  // group" and not "at most the group before the first": they join the AND as views, with
  // nothing materialised. Returns false when the range is not of that kind; sets *empty when
  // it selects nobody.
  bool RangeOperands(const Plan& plan, uint32_t chunk, std::vector<Operand>& ops, bool* empty) {
    *empty = false;
    if (!plan.in_buckets) return false;
    const RangeAttribute& a = *plan.attribute;
    if (a.empty()) {
      *empty = true;
      return true;
    }
    const int32_t lo_b = static_cast<int32_t>(std::max<int64_t>(plan.lo, a.min_bucket()));
    const int32_t hi_b = static_cast<int32_t>(std::min<int64_t>(plan.hi, a.max_bucket()));
    if (lo_b > hi_b) {
      *empty = true;
      return true;
    }
    constexpr int32_t kW = RangeAttribute::kGroupWidth;
    const int32_t g_lo = a.GroupOf(lo_b), g_hi = a.GroupOf(hi_b);
    const bool lo_aligned = lo_b == a.GroupFirstBucket(g_lo) || lo_b == a.min_bucket();
    const bool hi_aligned = hi_b == a.GroupFirstBucket(g_hi) + kW - 1 || hi_b == a.max_bucket();
    if (!lo_aligned || !hi_aligned) return false;
    ops.push_back(Operand{a.AtMostGroup(g_hi)->View(chunk), false});
    if (const Posting* below = a.AtMostGroup(g_lo - 1))
      ops.push_back(Operand{below->View(chunk), true});
    return true;
  }

  // The AND's operands go on `ops_` above `base` (nested ANDs stack theirs above), so that
  // evaluating a chunk allocates nothing.
  bool EvalAndOperands(const Plan& plan, uint32_t chunk, Words out) {
    const size_t base = ops_.size();
    const bool any = EvalAndOperands(plan, chunk, out, base);
    ops_.resize(base);
    return any;
  }

  bool EvalAndOperands(const Plan& plan, uint32_t chunk, Words out, size_t base) {
    for (const Plan& child : plan.children) {
      if (child.op == Plan::Op::kRange) {
        bool empty = false;
        const size_t before = ops_.size();
        if (RangeOperands(child, chunk, ops_, &empty)) {
          if (empty) return false;
          for (size_t i = before; i < ops_.size(); ++i) {
            if (ops_[i].IsEmptySet()) return false;
          }
          continue;
        }
      }
      const Operand op = Resolve(child, chunk);
      if (op.IsEmptySet()) return false;
      ops_.push_back(op);
    }
    ops_.erase(std::remove_if(ops_.begin() + static_cast<ptrdiff_t>(base), ops_.end(),
                              [](const Operand& o) { return o.IsFullSet(); }),
               ops_.end());
    const size_t end = ops_.size();
    // Sparse: the smallest positive array drives; each of its rows is tested against the rest.
    size_t driver = end;
    for (size_t k = base; k < end; ++k) {
      const Operand& op = ops_[k];
      if (op.view.kind == ChunkView::kArray && !op.negate &&
          (driver == end || op.view.size < ops_[driver].view.size)) {
        driver = k;
      }
    }
    if (driver != end) {
      std::memset(out, 0, kChunkWords * sizeof(uint64_t));
      bool any = false;
      const ChunkView& d = ops_[driver].view;
      for (int32_t i = 0; i < d.size; ++i) {
        const uint16_t low = d.array[i];
        bool all = true;
        for (size_t k = base; k < end && all; ++k) {
          if (k != driver) all = ops_[k].Contains(low);
        }
        if (all) {
          SetBit(out, low);
          any = true;
        }
      }
      return any;
    }
    // Dense: one blocked pass over every bitset operand (runs are materialised first);
    // negated arrays clear their rows afterwards.
    constexpr size_t kMaxFused = 32;
    const uint64_t* words[kMaxFused];
    uint64_t flips[kMaxFused];
    size_t n = 0;
    for (size_t k = base; k < end; ++k) {
      const Operand& op = ops_[k];
      if (op.view.kind == ChunkView::kArray) continue;  // negated (positive ones drive above)
      const uint64_t* w = op.view.words;
      uint64_t flip = op.negate ? ~uint64_t{0} : 0;
      if (op.view.kind != ChunkView::kBitset) {
        Words tmp = Acquire();
        Materialize(op, tmp);
        w = tmp;
        flip = 0;
      }
      if (n == kMaxFused) {  // more operands than one pass takes: fold what is there first
        Words folded = Acquire();
        FusedAnd(folded, words, flips, n);
        words[0] = folded;
        flips[0] = 0;
        n = 1;
      }
      words[n] = w;
      flips[n] = flip;
      ++n;
    }
    if (n == 0) {
      std::memset(out, 0xff, kChunkWords * sizeof(uint64_t));
    } else {
      FusedAnd(out, words, flips, n);
    }
    for (size_t k = base; k < end; ++k) {
      const Operand& op = ops_[k];
      if (op.view.kind != ChunkView::kArray) continue;
      ApplyArray<false>(out, op.view.array, op.view.size);
    }
    return true;
  }

  bool EvalOr(const Plan& plan, uint32_t chunk, Words out) {
    const size_t mark = top_;
    std::memset(out, 0, kChunkWords * sizeof(uint64_t));
    bool any = false;
    for (const Plan& child : plan.children) {
      const size_t child_mark = top_;
      const Operand op = Resolve(child, chunk);
      if (!op.IsEmptySet()) {
        any = true;
        if (op.view.kind == ChunkView::kBitset) {
          OrWords(out, op.view.words, op.negate ? ~uint64_t{0} : 0);
        } else if (op.view.kind == ChunkView::kArray && !op.negate) {
          ApplyArray<true>(out, op.view.array, op.view.size);
        } else {
          Words tmp = Acquire();
          Materialize(op, tmp);
          OrWords(out, tmp, 0);
        }
      }
      top_ = child_mark;
    }
    top_ = mark;
    return any;
  }

  // Ors one posting's chunk into `out`.
  void OrInto(const Posting* p, uint32_t chunk, Words out) {
    if (!p) return;
    const Operand op{p->View(chunk), false};
    if (op.view.kind == ChunkView::kBitset) {
      OrWords(out, op.view.words, 0);
    } else if (op.view.kind == ChunkView::kArray) {
      ApplyArray<true>(out, op.view.array, op.view.size);
    } else if (op.view.kind == ChunkView::kRun) {
      const size_t mark = top_;
      Words tmp = Acquire();
      Materialize(op, tmp);
      OrWords(out, tmp, 0);
      top_ = mark;
    }
  }

  // Rows of one bucket that are set in `out` and whose value fails `keep`: cleared.
  template <typename Keep>
  void RefineBucket(const RangeAttribute& a, int32_t bucket, uint32_t chunk, Words out, Keep keep) {
    const Posting* p = a.InBucket(bucket);
    if (!p) return;
    const ChunkView v = p->View(chunk);
    const uint32_t base = chunk * kChunkBits;
    auto check = [&](uint32_t low) {
      if (TestBit(out, low) && !keep(a.value(base + low))) ClearBit(out, low);
    };
    if (v.kind == ChunkView::kArray) {
      for (int32_t i = 0; i < v.size; ++i) check(v.array[i]);
    } else if (v.kind != ChunkView::kEmpty) {
      const size_t mark = top_;
      Words tmp = Acquire();
      Materialize(Operand{v, false}, tmp);
      for (uint32_t w = 0; w < kChunkWords; ++w) {
        uint64_t bits = tmp[w] & out[w];
        while (bits) {
          const uint32_t bit = static_cast<uint32_t>(__builtin_ctzll(bits));
          bits &= bits - 1;
          check(w * 64 + bit);
        }
      }
      top_ = mark;
    }
  }

  bool EvalRange(const Plan& plan, uint32_t chunk, Words out) {
    const RangeAttribute& a = *plan.attribute;
    if (a.empty()) return false;
    const bool lo_bounded = plan.lo > INT32_MIN;
    const bool hi_bounded = plan.hi < INT32_MAX;
    int64_t blo, bhi;
    if (plan.in_buckets) {
      blo = plan.lo;
      bhi = plan.hi;
    } else {
      blo = lo_bounded ? a.Bucket(static_cast<int32_t>(plan.lo)) : a.min_bucket();
      bhi = hi_bounded ? a.Bucket(static_cast<int32_t>(plan.hi)) : a.max_bucket();
    }
    blo = std::max<int64_t>(blo, a.min_bucket());
    bhi = std::min<int64_t>(bhi, a.max_bucket());
    if (blo > bhi) return false;
    const int32_t lo_b = static_cast<int32_t>(blo), hi_b = static_cast<int32_t>(bhi);
    constexpr int32_t kW = RangeAttribute::kGroupWidth;
    // Whole groups inside [lo_b, hi_b]: two range-encoded postings; the ragged ends bucket by
    // bucket.
    const int32_t g_lo = a.GroupOf(lo_b), g_hi = a.GroupOf(hi_b);
    const int32_t first_full =
        (lo_b == a.GroupFirstBucket(g_lo) || lo_b == a.min_bucket()) ? g_lo : g_lo + 1;
    const int32_t last_full =
        (hi_b == a.GroupFirstBucket(g_hi) + kW - 1 || hi_b == a.max_bucket()) ? g_hi : g_hi - 1;
    if (first_full <= last_full) {
      const Operand up{a.AtMostGroup(last_full)->View(chunk), false};
      Materialize(up, out);
      if (const Posting* below = a.AtMostGroup(first_full - 1)) {
        const Operand b{below->View(chunk), false};
        if (b.view.kind == ChunkView::kBitset) {
          AndWords(out, b.view.words, ~uint64_t{0});
        } else if (b.view.kind != ChunkView::kEmpty) {
          const size_t mark = top_;
          Words tmp = Acquire();
          Materialize(b, tmp);
          AndWords(out, tmp, ~uint64_t{0});
          top_ = mark;
        }
      }
      for (int32_t b = lo_b; b < a.GroupFirstBucket(first_full); ++b)
        OrInto(a.InBucket(b), chunk, out);
      for (int32_t b = a.GroupFirstBucket(last_full + 1); b <= hi_b; ++b)
        OrInto(a.InBucket(b), chunk, out);
    } else {
      std::memset(out, 0, kChunkWords * sizeof(uint64_t));
      for (int32_t b = lo_b; b <= hi_b; ++b) OrInto(a.InBucket(b), chunk, out);
    }
    if (!plan.in_buckets) {
      // Only rows in the two boundary buckets can fail the exact bounds.
      if (lo_bounded) RefineBucket(a, lo_b, chunk, out, [&](int32_t v) { return v >= plan.lo; });
      if (hi_bounded) RefineBucket(a, hi_b, chunk, out, [&](int32_t v) { return v <= plan.hi; });
    }
    return AnyWord(out);
  }

  std::vector<std::unique_ptr<std::array<uint64_t, kChunkWords>>> buffers_;
  size_t top_ = 0;
  std::vector<Operand> ops_;
};

// Clears the bits at and beyond num_rows in the last chunk (negations set them).
void MaskTail(uint32_t chunk, uint32_t num_rows, Words out) {
  const uint64_t first = static_cast<uint64_t>(chunk) * kChunkBits;
  if (first + kChunkBits <= num_rows) return;
  const uint32_t valid = static_cast<uint32_t>(num_rows - first);
  const uint32_t full_words = valid / 64;
  if (full_words < kChunkWords) {
    out[full_words] &= (valid % 64) ? ((uint64_t{1} << (valid % 64)) - 1) : 0;
    for (uint32_t i = full_words + 1; i < kChunkWords; ++i) out[i] = 0;
  }
}

// One thread that takes half of a large count (CountMatches), kept for the life of the
// process so that a count does not pay for starting a thread.
class CountHelper {
 public:
  static CountHelper& Get() {
    static CountHelper helper;
    return helper;
  }

  // Hands `task` to the helper thread; false (and nothing started) if it is busy.
  bool Start(std::function<void()> task) {
    std::lock_guard lock(mutex_);
    if (busy_ || stopping_) return false;
    busy_ = true;
    task_ = std::move(task);
    wake_.notify_one();
    return true;
  }

  // Waits for the task given to Start to finish.
  void Wait() {
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return !busy_; });
  }

  ~CountHelper() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      wake_.notify_one();
    }
    thread_.join();
  }

 private:
  CountHelper() : thread_([this] { Loop(); }) {}

  void Loop() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [&] { return stopping_ || task_ != nullptr; });
      if (stopping_) return;
      std::function<void()> task = std::move(task_);
      task_ = nullptr;
      lock.unlock();
      task();
      lock.lock();
      busy_ = false;
      done_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::function<void()> task_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;  // last: started once the rest exists
};

// Chunks [first, last) of the plan, in order, through this thread's evaluator.
void ForEachChunkIn(const Plan& plan, uint32_t num_rows, uint32_t first, uint32_t last,
                    const std::function<void(uint32_t, const uint64_t*)>& fn) {
  thread_local std::unique_ptr<std::array<uint64_t, kChunkWords>> out_buffer;
  if (!out_buffer) out_buffer = std::make_unique<std::array<uint64_t, kChunkWords>>();
  Words out = out_buffer->data();
  thread_local Evaluator evaluator;
  for (uint32_t c = first; c < last; ++c) {
    if (!evaluator.EvalInto(plan, c, out)) continue;
    MaskTail(c, num_rows, out);
    fn(c, out);
  }
}

uint64_t CountChunks(const Plan& plan, uint32_t num_rows, uint32_t first, uint32_t last) {
  uint64_t total = 0;
  ForEachChunkIn(plan, num_rows, first, last,
                 [&](uint32_t, const uint64_t* words) { total += PopcountWords(words); });
  return total;
}

uint32_t NumChunks(uint32_t num_rows) { return (num_rows + kChunkBits - 1) / kChunkBits; }

}  // namespace

void ForEachMatchingChunk(const Plan& plan, uint32_t num_rows,
                          const std::function<void(uint32_t, const uint64_t*)>& fn) {
  ForEachChunkIn(plan, num_rows, 0, NumChunks(num_rows), fn);
}

uint64_t CountMatches(const Plan& plan, uint32_t num_rows) {
  const uint32_t chunks = NumChunks(num_rows);
  // A large index is read by two threads, half the chunks each: one core alone does not
  // reach the memory bandwidth (docs/benchmarks.md). Small ones are not worth the hand-over,
  // nor is waiting when the helper is busy with another count.
  if (chunks < kParallelCountChunks) return CountChunks(plan, num_rows, 0, chunks);
  const uint32_t mid = chunks / 2;
  uint64_t upper = 0;
  CountHelper& helper = CountHelper::Get();
  if (!helper.Start([&] { upper = CountChunks(plan, num_rows, mid, chunks); })) {
    return CountChunks(plan, num_rows, 0, chunks);
  }
  const uint64_t lower = CountChunks(plan, num_rows, 0, mid);
  helper.Wait();
  return lower + upper;
}

}  // namespace oncomesh::index
