// The gate: disclosure control, the only path by which a result leaves a node.
//
// First version (issue 2): no count leaves exactly. Counts are rounded up to a multiple of the
// configured step (default 10: 1-10 report 10, 11-20 report 20; 0 stays 0), booleans are
// derived from the rounded count, and record-level answers are refused for every caller until
// permits exist. Access levels are part of the interface now so that passports and permits
// (auth/) plug in without changing callers.
#pragma once

#include <cstdint>
#include <string>

#include "model/granularity.h"
#include "util/status.h"

namespace oncomesh::gate {

enum class AccessLevel { kAnonymous = 0, kRegistered = 1, kPermitted = 2 };
const char* AccessLevelName(AccessLevel level);

struct GateConfig {
  int64_t count_step = 10;
};

// A count as it may leave the node, with what the Beacon response must say about it.
struct ReleasedCount {
  bool exists = false;
  int64_t count = 0;
  const char* precision = "rounded";  // info.countPrecision
  int64_t adjusted_to = 10;           // info.countAdjustedTo
};

class Gate {
 public:
  explicit Gate(GateConfig config) : config_(config) {}

  // The granularity the caller gets for what they asked: the request itself when allowed,
  // PermissionDenied (with the reason) when the caller's level does not allow it.
  Result<model::Granularity> Decide(AccessLevel level, model::Granularity requested) const;

  // Coarsens an exact count for release. Thread-safe.
  ReleasedCount ReleaseCount(uint64_t exact, AccessLevel level) const;

  const GateConfig& config() const { return config_; }

 private:
  GateConfig config_;
};

}  // namespace oncomesh::gate
