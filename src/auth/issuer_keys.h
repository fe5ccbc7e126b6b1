// The signing keys of the issuers a node trusts (OpenID Connect Discovery 1.0 + RFC 7517 JWKS).
//
// An issuer's keys come from a local JWKS file, from its jwks_uri, or from the jwks_uri of its
// OpenID configuration (<issuer>/.well-known/openid-configuration), both over HTTPS only. They
// are cached; a token signed with a kid the cache does not know makes the issuer's keys be
// fetched again (key rotation), at most once every `min_refresh_seconds` per issuer, so tokens
// with made-up kids cannot make the node hammer an identity provider. Keys older than
// `max_age_seconds` are fetched again on next use. The node's own key is added with AddKeys.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "auth/access_config.h"
#include "auth/jose.h"
#include "util/status.h"

namespace oncomesh::auth {

// Seconds since the Unix epoch; a seam so expiry can be tested.
using Clock = std::function<int64_t()>;
Clock SystemClock();

// GET over HTTPS (http::FetchHttps bound to the node's CA settings); a seam for tests.
using HttpsFetch = std::function<Result<std::string>(const std::string& url)>;

// Parses a JWKS ({"keys": [...]}). Keys of other types or uses ("enc") are skipped; InvalidArgument
// when the document is not a JWKS or holds no usable signing key.
Result<std::vector<Jwk>> ParseJwks(std::string_view text);

class IssuerKeys {
 public:
  struct Options {
    int64_t min_refresh_seconds = 10;
    int64_t max_age_seconds = 3600;
  };
  // `node_dir` resolves relative jwks_file paths.
  IssuerKeys(std::vector<TrustedIssuerConfig> issuers, std::string node_dir, HttpsFetch fetch,
             Clock clock, Options options);
  IssuerKeys(std::vector<TrustedIssuerConfig> issuers, std::string node_dir, HttpsFetch fetch,
             Clock clock)
      : IssuerKeys(std::move(issuers), std::move(node_dir), std::move(fetch), std::move(clock),
                   Options()) {}

  // Reads every jwks_file now; errors name the file (a node must not start with a broken trust
  // configuration). Keys from URLs are fetched on first use.
  Status LoadFiles();
  // Adds fixed keys for an issuer (the node's own).
  void AddKeys(const std::string& issuer, std::vector<Jwk> keys);

  // The keys of `issuer` that may have signed a token whose header says `kid` ("" for none) and
  // `alg`: the key with that kid, or every key of the algorithm when the token names none.
  // NotFound when the issuer has no such key even after a refresh; Unavailable when its keys
  // cannot be fetched. Thread-safe; may block on a fetch (bounded by the fetch's timeout).
  Result<std::vector<Jwk>> KeysFor(const std::string& issuer, const std::string& kid,
                                   const std::string& alg);

  // The configured jwks_uri of an issuer, or the one discovered; "" when not known (yet).
  std::string JwksUri(const std::string& issuer) const;

 private:
  struct Entry {
    TrustedIssuerConfig config;
    bool fixed = false;  // from a file or AddKeys: never fetched
    std::vector<Jwk> keys;
    std::string jwks_uri;
    int64_t fetched_at = 0;  // 0: never
    Status last_error;
    std::mutex fetch_mu;  // one fetch per issuer at a time
  };
  Status Fetch(Entry& e);

  std::string node_dir_;
  HttpsFetch fetch_;
  Clock clock_;
  Options options_;
  mutable std::mutex mu_;  // guards the map and each entry's keys, jwks_uri, fetched_at
  std::map<std::string, std::unique_ptr<Entry>> entries_;
};

}  // namespace oncomesh::auth
