// The gate: disclosure control, the only path by which a result leaves a node.
//
// What leaves depends on the caller's access level (auth/access.h): anonymous callers get
// boolean answers only; registered callers (GA4GH Registered Access) get counts; records leave
// only to permitted callers (a ControlledAccessGrants visa). No count leaves exactly: counts are
// rounded up to a multiple of the configured step (default 10: 1-10 report 10, 11-20 report 20;
// 0 stays 0), and booleans are derived from the rounded count, so `exists` says no more than
// the count a registered caller would see.
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

  // The granularity the caller gets for what they asked: the request itself when allowed; a
  // count asked by an anonymous caller is answered as a boolean (Beacon v2 lets a beacon
  // return a lower granularity than requested, and says so in meta.returnedGranularity);
  // records asked below kPermitted are refused: PermissionDenied with `missing` (what the
  // caller lacks, auth::Caller::Missing) in the message.
  Result<model::Granularity> Decide(AccessLevel level, model::Granularity requested,
                                    const std::string& missing = "") const;

  // Coarsens an exact count for release. Thread-safe.
  ReleasedCount ReleaseCount(uint64_t exact, AccessLevel level) const;

  const GateConfig& config() const { return config_; }

 private:
  GateConfig config_;
};

}  // namespace oncomesh::gate
