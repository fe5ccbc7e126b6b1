#include "auth/issuer_keys.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/json.h"

namespace oncomesh::auth {

using nlohmann::json;

Clock SystemClock() {
  return [] {
    return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count());
  };
}

Result<std::vector<Jwk>> ParseJwks(std::string_view text) {
  const Result<json> parsed = ParseJson(text, "JWKS");
  if (!parsed.ok()) {
    return InvalidArgument("not a JWKS (a JSON object with a \"keys\" array): " +
                           parsed.status().message());
  }
  const json& doc = *parsed;
  if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array()) {
    return InvalidArgument("not a JWKS (a JSON object with a \"keys\" array)");
  }
  std::vector<Jwk> keys;
  std::string skipped;
  for (const json& k : doc["keys"]) {
    Result<Jwk> key = Jwk::Parse(k);
    if (key.ok()) {
      keys.push_back(std::move(*key));
    } else if (skipped.empty()) {
      skipped = key.status().message();
    }
  }
  if (keys.empty()) {
    return InvalidArgument("the JWKS holds no usable signing key" +
                           (skipped.empty() ? "" : " (" + skipped + ")"));
  }
  return keys;
}

IssuerKeys::IssuerKeys(std::vector<TrustedIssuerConfig> issuers, std::string node_dir,
                       HttpsFetch fetch, Clock clock, Options options)
    : node_dir_(std::move(node_dir)),
      fetch_(std::move(fetch)),
      clock_(std::move(clock)),
      options_(options) {
  for (TrustedIssuerConfig& c : issuers) {
    auto e = std::make_unique<Entry>();
    e->jwks_uri = c.jwks_uri;
    e->fixed = !c.jwks_file.empty();
    e->config = std::move(c);
    const std::string name = e->config.issuer;
    entries_[name] = std::move(e);
  }
}

Status IssuerKeys::LoadFiles() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [name, e] : entries_) {
    if (e->config.jwks_file.empty()) continue;
    std::filesystem::path path(e->config.jwks_file);
    if (path.is_relative() && !node_dir_.empty()) path = std::filesystem::path(node_dir_) / path;
    std::ifstream in(path);
    if (!in)
      return FailedPrecondition("trusted issuer '" + name + "': cannot read jwks_file " +
                                path.string());
    std::stringstream text;
    text << in.rdbuf();
    Result<std::vector<Jwk>> keys = ParseJwks(text.str());
    if (!keys.ok())
      return FailedPrecondition("trusted issuer '" + name + "': " + path.string() + ": " +
                                keys.status().message());
    e->keys = std::move(*keys);
    e->fetched_at = clock_();
  }
  return Status::Ok();
}

void IssuerKeys::AddKeys(const std::string& issuer, std::vector<Jwk> keys) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& e = entries_[issuer];
  if (!e) {
    e = std::make_unique<Entry>();
    e->config.issuer = issuer;
  }
  e->fixed = true;
  e->keys = std::move(keys);
  e->fetched_at = clock_();
}

std::string IssuerKeys::JwksUri(const std::string& issuer) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(issuer);
  return it == entries_.end() ? "" : it->second->jwks_uri;
}

Status IssuerKeys::Fetch(Entry& e) {
  std::string uri;
  {
    std::lock_guard<std::mutex> lock(mu_);
    uri = e.jwks_uri;
  }
  const std::string& issuer = e.config.issuer;
  if (uri.empty()) {
    // OpenID Connect Discovery 1.0 section 4: the issuer, without a trailing slash, + path.
    std::string base = issuer;
    while (!base.empty() && base.back() == '/') base.pop_back();
    Result<std::string> config = fetch_(base + "/.well-known/openid-configuration");
    if (!config.ok())
      return Unavailable("keys of issuer '" + issuer + "': " + config.status().message());
    const Result<json> parsed = ParseJson(*config, "OpenID configuration");
    const json doc = parsed.ok() ? *parsed : json();
    if (!doc.is_object() || !doc.contains("jwks_uri") || !doc["jwks_uri"].is_string()) {
      return Unavailable("keys of issuer '" + issuer +
                         "': its OpenID configuration has no jwks_uri");
    }
    // Section 4.3: the configuration's issuer must be the one asked for.
    // (Not doc.value("issuer", ""): it throws when the member is not a string.)
    const auto named = doc.find("issuer");
    if (named == doc.end() || !named->is_string() || *named != issuer) {
      return Unavailable("keys of issuer '" + issuer + "': its OpenID configuration names issuer " +
                         (named == doc.end() ? std::string("none") : named->dump()));
    }
    uri = doc["jwks_uri"];
    if (uri.rfind("https://", 0) != 0) {
      return Unavailable("keys of issuer '" + issuer + "': jwks_uri '" + uri + "' is not https");
    }
  }
  Result<std::string> text = fetch_(uri);
  if (!text.ok()) return Unavailable("keys of issuer '" + issuer + "': " + text.status().message());
  Result<std::vector<Jwk>> keys = ParseJwks(*text);
  if (!keys.ok())
    return Unavailable("keys of issuer '" + issuer + "' at " + uri + ": " +
                       keys.status().message());
  std::lock_guard<std::mutex> lock(mu_);
  e.jwks_uri = uri;
  e.keys = std::move(*keys);
  return Status::Ok();
}

Result<std::vector<Jwk>> IssuerKeys::KeysFor(const std::string& issuer, const std::string& kid,
                                             const std::string& alg) {
  Entry* e = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(issuer);
    if (it == entries_.end())
      return NotFound("issuer '" + issuer + "' is not trusted by this node");
    e = it->second.get();
  }
  auto pick = [&](const std::vector<Jwk>& keys) {
    std::vector<Jwk> out;
    for (const Jwk& k : keys) {
      if (JwsAlgorithmName(k.algorithm()) != alg) continue;
      if (kid.empty() || k.kid() == kid) out.push_back(k);
    }
    return out;
  };
  bool fixed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    fixed = e->fixed;
    const bool fresh = e->fetched_at != 0 && clock_() - e->fetched_at < options_.max_age_seconds;
    std::vector<Jwk> found = pick(e->keys);
    if (!found.empty() && (fixed || fresh)) return found;
  }
  if (fixed)
    return NotFound("issuer '" + issuer + "' has no " + alg + " key" +
                    (kid.empty() ? "" : " \"" + kid + "\""));
  // Not found or stale: fetch, one caller at a time per issuer, not more often than allowed.
  std::lock_guard<std::mutex> fetch_lock(e->fetch_mu);
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now = clock_();
    std::vector<Jwk> found = pick(e->keys);
    const bool recent = e->fetched_at != 0 && now - e->fetched_at < options_.min_refresh_seconds;
    if (recent) {
      // Another caller just fetched (or failed to): use what it got.
      if (!found.empty()) return found;
      if (!e->last_error.ok()) return e->last_error;
      return NotFound("issuer '" + issuer + "' has no " + alg + " key" +
                      (kid.empty() ? "" : " \"" + kid + "\""));
    }
    e->fetched_at = now;
  }
  Status st = Fetch(*e);
  std::lock_guard<std::mutex> lock(mu_);
  e->last_error = st;
  if (!st.ok()) {
    // Keep serving the keys we had if the provider is down (a stale key is still its key).
    std::vector<Jwk> found = pick(e->keys);
    if (!found.empty()) return found;
    return st;
  }
  std::vector<Jwk> found = pick(e->keys);
  if (found.empty())
    return NotFound("issuer '" + issuer + "' has no " + alg + " key" +
                    (kid.empty() ? "" : " \"" + kid + "\""));
  return found;
}

}  // namespace oncomesh::auth
