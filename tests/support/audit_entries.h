// The request and refusal entries of a node's audit log, for tests that check what was audited.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "auth/jose.h"

namespace oncomesh::testing {

// The request and refusal entries of the log in `audit_dir` (NODE_DIR/audit), in order, with a
// seq above `after_seq`. A line being written (not JSON yet) ends the read.
std::vector<nlohmann::json> AuditRequestEntries(const std::string& audit_dir,
                                                int64_t after_seq = 0);

// A node signing key made once per test process (ES256), for tests that write audit logs; and
// its public half as a verifier reads it from the node's JWKS (audit::PublicJwks, ParseJwks).
const auth::Jwk& AuditSigningKey();
std::vector<auth::Jwk> AuditPublicKeys();

}  // namespace oncomesh::testing
