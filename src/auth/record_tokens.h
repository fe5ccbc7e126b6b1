// Bearer tokens that grant record-level access, configured in node.yaml
// (`access: { record_tokens: [...] }`).
//
// A stand-in until permits and passports exist (auth/ will then map a passport's visas to an
// access level per dataset): every configured token grants gate::AccessLevel::kPermitted on
// every dataset of the node. Tokens are compared in constant time.
#pragma once

#include <string>
#include <vector>

#include "gate/gate.h"
#include "util/status.h"

namespace oncomesh::auth {

class RecordTokens {
 public:
  RecordTokens() = default;
  explicit RecordTokens(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {}

  // The caller's access level from its Authorization header (nullptr: none sent):
  // no header -> kAnonymous; "Bearer <configured token>" -> kPermitted; anything else ->
  // Unauthenticated (the credentials are invalid). Thread-safe.
  Result<gate::AccessLevel> LevelFor(const std::string* authorization) const;

  bool empty() const { return tokens_.empty(); }

 private:
  std::vector<std::string> tokens_;
};

}  // namespace oncomesh::auth
