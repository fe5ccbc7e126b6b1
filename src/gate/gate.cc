#include "gate/gate.h"

namespace oncomesh::gate {

const char* AccessLevelName(AccessLevel level) {
  switch (level) {
    case AccessLevel::kAnonymous:
      return "anonymous";
    case AccessLevel::kRegistered:
      return "registered";
    case AccessLevel::kPermitted:
      return "permitted";
  }
  return "anonymous";
}

Result<model::Granularity> Gate::Decide(AccessLevel level, model::Granularity requested,
                                        const std::string& missing) const {
  if (requested == model::Granularity::kRecord && level < AccessLevel::kPermitted) {
    std::string message = std::string("record-level results need a data permit; the caller is ") +
                          AccessLevelName(level) + " (ask for '" +
                          (level == AccessLevel::kAnonymous ? "boolean" : "count' or 'boolean") +
                          "')";
    if (!missing.empty()) message += ": " + missing;
    return PermissionDenied(message);
  }
  if (requested == model::Granularity::kCount && level == AccessLevel::kAnonymous) {
    return model::Granularity::kBoolean;
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
