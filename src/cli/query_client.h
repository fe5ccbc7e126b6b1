// Client side of a Beacon v2 count query, shared by `oncomesh query` and `oncomesh demo`.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "util/status.h"

namespace oncomesh::cli {

struct QueryAnswer {
  nlohmann::json body;
  bool exists = false;
  int64_t total = -1;  // -1 when the answer has no count
  struct Part {
    std::string name;
    std::string status;  // "available", "unavailable", "failed"
    int64_t count = -1;
    std::string error;
  };
  std::vector<Part> parts;  // per node, for a hub's answer
};

// POSTs a Beacon query built from GET-style filters (see query/beacon_request.h) to
// /api/{entry}. Errors: Unavailable when the service cannot be reached; the Beacon error's
// message for a 4xx/5xx answer.
// `variant`: Beacon g_variant parameters as GET would send them ("referenceName" -> "12",
// "start" -> "25245350"…); empty for none. `passport`: a GA4GH Passport JWT sent as the bearer
// token ("" for an anonymous question, answered with booleans only).
Result<QueryAnswer> PostBeaconQuery(const std::string& host, uint16_t port,
                                    const std::string& entry,
                                    const std::vector<std::string>& filters,
                                    const std::string& granularity,
                                    const std::multimap<std::string, std::string>& variant = {},
                                    const std::string& passport = "");

// "total 1230 (oslo 1000, bergen 230, tromso unavailable)".
void PrintAnswer(std::ostream& out, const QueryAnswer& answer);

}  // namespace oncomesh::cli
