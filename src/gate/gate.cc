#include "gate/gate.h"

namespace oncomesh::gate {

const char* AccessLevelName(AccessLevel level) {
  switch (level) {
    case AccessLevel::kAnonymous: return "anonymous";
    case AccessLevel::kRegistered: return "registered";
    case AccessLevel::kPermitted: return "permitted";
  }
  return "anonymous";
}

Result<model::Granularity> Gate::Decide(AccessLevel level, model::Granularity requested) const {
  // Record-level results need a data permit (GA4GH ControlledAccessGrants); until permits exist,
  // a configured record token (auth/record_tokens.h) is what makes a caller permitted.
  if (requested == model::Granularity::kRecord && level < AccessLevel::kPermitted) {
    return PermissionDenied(std::string("record-level results need a data permit; caller is ") +
                            AccessLevelName(level) + " (ask for 'count' or 'boolean')");
  }
  return requested;
}

ReleasedCount Gate::ReleaseCount(uint64_t exact, AccessLevel) const {
  ReleasedCount r;
  const int64_t step = config_.count_step < 1 ? 1 : config_.count_step;
  const int64_t n = static_cast<int64_t>(exact);
  r.count = n == 0 ? 0 : ((n + step - 1) / step) * step;
  r.exists = r.count > 0;
  r.adjusted_to = step;
  r.precision = step == 1 ? "exact" : "rounded";
  return r;
}

}  // namespace oncomesh::gate
