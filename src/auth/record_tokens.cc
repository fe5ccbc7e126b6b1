#include "auth/record_tokens.h"

#include <openssl/crypto.h>

#include <cctype>

namespace oncomesh::auth {

Result<gate::AccessLevel> RecordTokens::LevelFor(const std::string* authorization) const {
  if (authorization == nullptr) return gate::AccessLevel::kAnonymous;
  // RFC 6750 section 2.1: "Bearer" (case-insensitive scheme, RFC 7235) then the token.
  const std::string& h = *authorization;
  static const std::string kScheme = "bearer ";
  bool bearer = h.size() > kScheme.size();
  for (size_t i = 0; bearer && i < kScheme.size(); ++i) {
    bearer = std::tolower(static_cast<unsigned char>(h[i])) == kScheme[i];
  }
  if (!bearer) return Unauthenticated("the Authorization header is not a Bearer token");
  size_t from = kScheme.size();
  while (from < h.size() && h[from] == ' ') ++from;
  size_t to = h.size();
  while (to > from && h[to - 1] == ' ') --to;
  const std::string_view token(h.data() + from, to - from);
  bool known = false;
  for (const std::string& t : tokens_) {
    // Every configured token is compared, each in constant time, so the time taken tells
    // nothing about which one (if any) shares a prefix with the presented token.
    if (t.size() == token.size() && CRYPTO_memcmp(t.data(), token.data(), t.size()) == 0) {
      known = true;
    }
  }
  if (!known) return Unauthenticated("the bearer token is not valid on this node");
  return gate::AccessLevel::kPermitted;
}

}  // namespace oncomesh::auth
