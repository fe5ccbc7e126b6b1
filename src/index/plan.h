// A plan: a boolean expression over postings and ranges that the index evaluates chunk by
// chunk (index/evaluate.cc). Built by query/ from Beacon filters; it points into the
// CohortIndex that built its leaves, so it must not outlive that index. The only data it owns
// are postings made for the query itself (the carriers of the variants a query names).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "index/posting.h"

namespace oncomesh::index {

class RangeAttribute;

struct Plan {
  enum class Op : uint8_t {
    kAll,    // every individual
    kNone,   // nobody
    kTerm,   // the rows of `posting`
    kRange,  // rows whose `attribute` value is in [lo, hi] (inclusive, attribute units)
    kAnd,
    kOr,
    kNot,
  };
  Op op = Op::kAll;
  const Posting* posting = nullptr;
  const RangeAttribute* attribute = nullptr;
  int64_t lo = 0;  // kRange bounds, inclusive; in buckets when `in_buckets`, else in values
  int64_t hi = 0;
  bool in_buckets = false;
  std::vector<Plan> children;
  std::shared_ptr<const Posting> owned;  // kTerm over a posting made for this query

  static Plan All() { return Plan{}; }
  static Plan None() { return Plan{Op::kNone}; }
  static Plan Term(const Posting* p) {
    Plan plan{Op::kTerm};
    plan.posting = p;
    return plan;
  }
  static Plan Term(std::shared_ptr<const Posting> p) {
    Plan plan{Op::kTerm};
    plan.posting = p.get();
    plan.owned = std::move(p);
    return plan;
  }
  static Plan Range(const RangeAttribute* a, int64_t lo, int64_t hi, bool in_buckets) {
    Plan plan{Op::kRange};
    plan.attribute = a;
    plan.lo = lo;
    plan.hi = hi;
    plan.in_buckets = in_buckets;
    return plan;
  }
  static Plan And(std::vector<Plan> children) {
    Plan plan{Op::kAnd};
    plan.children = std::move(children);
    return plan;
  }
  static Plan Or(std::vector<Plan> children) {
    Plan plan{Op::kOr};
    plan.children = std::move(children);
    return plan;
  }
  static Plan Not(Plan child) {
    Plan plan{Op::kNot};
    plan.children.push_back(std::move(child));
    return plan;
  }
};

}  // namespace oncomesh::index
