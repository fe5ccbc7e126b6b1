// The request and refusal entries of a node's audit log, for tests that check what was audited.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace oncomesh::testing {

// The request and refusal entries of the log in `audit_dir` (NODE_DIR/audit), in order, with a
// seq above `after_seq`. A line being written (not JSON yet) ends the read.
std::vector<nlohmann::json> AuditRequestEntries(const std::string& audit_dir,
                                                int64_t after_seq = 0);

}  // namespace oncomesh::testing
