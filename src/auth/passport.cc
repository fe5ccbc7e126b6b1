#include "auth/passport.h"

#include <openssl/sha.h>

#include <algorithm>
#include <set>

#include "http/http.h"

namespace oncomesh::auth {

using nlohmann::json;

namespace {

const std::set<std::string>& StandardVisaTypes() {
  static const std::set<std::string> types = {"ResearcherStatus", "AffiliationAndRole",
                                              "AcceptedTermsAndPolicies", "ControlledAccessGrants",
                                              "LinkedIdentities"};
  return types;
}

std::string Sha256(std::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return std::string(reinterpret_cast<char*>(digest), sizeof digest);
}

// A required string claim, or an error naming it.
Result<std::string> StringClaim(const json& object, const char* name, const char* what) {
  const auto it = object.find(name);
  if (it == object.end()) return Unauthenticated(std::string(what) + " has no \"" + name + "\"");
  if (!it->is_string() || it->get<std::string>().empty()) {
    return Unauthenticated(std::string(what) + " \"" + name + "\" is not a non-empty string");
  }
  return it->get<std::string>();
}

Result<int64_t> TimeClaim(const json& object, const char* name, const char* what) {
  const auto it = object.find(name);
  if (it == object.end()) return Unauthenticated(std::string(what) + " has no \"" + name + "\"");
  if (!it->is_number())
    return Unauthenticated(std::string(what) + " \"" + name + "\" is not a number");
  const double v = it->get<double>();
  if (v < 0 || v > 1e11)
    return Unauthenticated(std::string(what) + " \"" + name + "\" is out of range");
  return static_cast<int64_t>(v);
}

using Identity = std::pair<std::string, std::string>;  // sub, iss

// LinkedIdentities value: "<uri-encoded-sub>,<uri-encoded-iss>;…" (Passport v1.2).
Result<std::vector<Identity>> ParseLinkedIdentities(const std::string& value) {
  std::vector<Identity> out;
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find(';', start);
    if (end == std::string::npos) end = value.size();
    const std::string entry = value.substr(start, end - start);
    const size_t comma = entry.find(',');
    if (comma == std::string::npos || comma == 0 || comma + 1 == entry.size() ||
        entry.find(',', comma + 1) != std::string::npos) {
      return Unauthenticated("LinkedIdentities value entry '" + entry + "' is not \"sub,iss\"");
    }
    out.emplace_back(http::UrlDecode(entry.substr(0, comma), false),
                     http::UrlDecode(entry.substr(comma + 1), false));
    start = end + 1;
  }
  return out;
}

bool ClaimMatches(const std::string& spec, const std::string& actual) {
  const size_t colon = spec.find(':');
  if (colon == std::string::npos) return false;
  const std::string_view kind(spec.data(), colon);
  const std::string_view want(spec.data() + colon + 1, spec.size() - colon - 1);
  if (kind == "const") return actual == want;
  if (kind == "pattern") return VisaPatternMatches(want, actual);
  if (kind == "split_pattern") {
    size_t start = 0;
    while (start <= actual.size()) {
      size_t end = actual.find(';', start);
      if (end == std::string::npos) end = actual.size();
      if (VisaPatternMatches(want, std::string_view(actual).substr(start, end - start)))
        return true;
      start = end + 1;
    }
    return false;
  }
  return false;  // unknown prefixes fail to match (Passport v1.2, "conditions")
}

// Checks one condition clause's form; the reason when it is malformed.
std::string ClauseError(const json& clause) {
  if (!clause.is_object()) return "a condition clause is not an object";
  if (!clause.contains("type") || !clause["type"].is_string())
    return "a condition clause has no \"type\"";
  size_t others = 0;
  for (const auto& [name, v] : clause.items()) {
    if (name == "type") continue;
    if (name != "value" && name != "source" && name != "by") {
      return "a condition clause names \"" + name + "\" (only value, source and by may be matched)";
    }
    if (!v.is_string()) return "condition clause claim \"" + name + "\" is not a string";
    ++others;
  }
  if (others == 0) return "a condition clause matches on \"type\" only";
  return "";
}

bool ClauseMatchedBy(const json& clause, const Visa& v) {
  if (clause["type"].get<std::string>() != v.object.type) return false;
  for (const auto& [name, spec] : clause.items()) {
    if (name == "type") continue;
    const std::string& actual = name == "value"    ? v.object.value
                                : name == "source" ? v.object.source
                                                   : v.object.by;
    if (name == "by" && v.object.by.empty()) return false;
    if (!ClaimMatches(spec.get<std::string>(), actual)) return false;
  }
  return true;
}

}  // namespace

bool VisaPatternMatches(std::string_view pattern, std::string_view text) {
  // Iterative glob with backtracking to the last '*': linear in practice, no recursion.
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string Passport::RefusalsOf(std::string_view type) const {
  std::string out;
  for (const VisaRefusal& r : refused) {
    if (r.type != type) continue;
    if (!out.empty()) out += "; ";
    out += "visa " + std::to_string(r.index) + ": " + r.reason;
  }
  return out;
}

PassportVerifier::PassportVerifier(AccessConfig config, std::shared_ptr<IssuerKeys> keys,
                                   Clock clock, Limits limits)
    : config_(std::move(config)),
      keys_(std::move(keys)),
      clock_(std::move(clock)),
      limits_(limits) {}

const TrustedIssuerConfig* PassportVerifier::Trusted(const std::string& issuer) const {
  for (const TrustedIssuerConfig& t : config_.trusted_issuers) {
    if (t.issuer == issuer) return &t;
  }
  return nullptr;
}

Status PassportVerifier::CheckTimes(const json& claims, int64_t now, const char* what) const {
  const int64_t skew = config_.clock_skew_seconds;
  ASSIGN_OR_RETURN(int64_t exp, TimeClaim(claims, "exp", what));
  ASSIGN_OR_RETURN(int64_t iat, TimeClaim(claims, "iat", what));
  if (exp + skew <= now) {
    return Unauthenticated(std::string(what) + " expired " + std::to_string(now - exp) + " s ago");
  }
  if (iat - skew > now) {
    return Unauthenticated(std::string(what) + " is issued in the future (iat " +
                           std::to_string(iat - now) + " s ahead)");
  }
  if (claims.contains("nbf")) {
    ASSIGN_OR_RETURN(int64_t nbf, TimeClaim(claims, "nbf", what));
    if (nbf - skew > now) {
      return Unauthenticated(std::string(what) + " is not valid yet (nbf in " +
                             std::to_string(nbf - now) + " s)");
    }
  }
  if (const auto aud = claims.find("aud"); aud != claims.end()) {
    std::vector<std::string> audiences;
    if (aud->is_string()) {
      audiences.push_back(*aud);
    } else if (aud->is_array()) {
      for (const json& a : *aud) {
        if (a.is_string()) audiences.push_back(a);
      }
    } else {
      return Unauthenticated(std::string(what) + " \"aud\" is neither a string nor a list");
    }
    bool ours = false;
    for (const std::string& a : audiences) {
      ours = ours || std::find(config_.audiences.begin(), config_.audiences.end(), a) !=
                         config_.audiences.end();
    }
    if (!ours) {
      return Unauthenticated(
          std::string(what) + " is for audience " + aud->dump() + ", not this node" +
          (config_.audiences.empty() ? " (which accepts no audience-restricted tokens)" : ""));
    }
  }
  return Status::Ok();
}

Result<json> PassportVerifier::VerifiedClaims(std::string_view token, size_t max_bytes,
                                              const char* what) const {
  Result<JwsParts> parts = DecodeJws(token, max_bytes);
  if (!parts.ok()) return Unauthenticated(std::string(what) + ": " + parts.status().message());
  if (parts->alg != "RS256" && parts->alg != "ES256") {
    return Unauthenticated(std::string(what) + ": signature algorithm \"" + parts->alg +
                           "\" is refused (only RS256 and ES256)");
  }
  ASSIGN_OR_RETURN(std::string iss, StringClaim(parts->payload, "iss", what));
  if (!Trusted(iss))
    return Unauthenticated(std::string(what) + " is signed by '" + iss +
                           "', an issuer this node does not trust");
  Result<std::vector<Jwk>> keys = keys_->KeysFor(iss, parts->kid, parts->alg);
  if (!keys.ok()) {
    if (keys.status().code() == StatusCode::kNotFound) {
      return Unauthenticated(std::string(what) + ": " + keys.status().message());
    }
    return keys.status();
  }
  // A visa's jku (Visa Document Token format) may only point where the node gets the issuer's
  // keys; keys never come from it. Checked after KeysFor, which discovers the jwks_uri of an
  // issuer known by URL: before, the first token of such an issuer passed with any jku. For
  // issuers whose keys come from a file there is no URL to compare with.
  if (const auto jku = parts->header.find("jku"); jku != parts->header.end()) {
    const std::string known = keys_->JwksUri(iss);
    if (!jku->is_string() || (!known.empty() && *jku != known)) {
      return Unauthenticated(std::string(what) + ": header jku " + jku->dump() +
                             " is not the key set of '" + iss + "'");
    }
  }
  Status last = Unauthenticated("no key");
  for (const Jwk& key : *keys) {
    last = VerifyJws(token, key);
    if (last.ok()) return std::move(parts->payload);
  }
  return Unauthenticated(std::string(what) + " from '" + iss + "': " + last.message());
}

Result<std::shared_ptr<const Passport>> PassportVerifier::Verify(std::string_view token) const {
  if (token.size() > limits_.max_passport_bytes) {
    return Unauthenticated("passport of " + std::to_string(token.size()) +
                           " bytes is over the limit of " +
                           std::to_string(limits_.max_passport_bytes));
  }
  const std::string key = Sha256(token);
  const int64_t now = clock_();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      if (now < it->second.valid_until) return it->second.passport;
      cache_.erase(it);
    }
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const Passport> passport, VerifyUncached(token));
  int64_t until = std::min(passport->expires, now + limits_.cache_seconds);
  for (const Visa& v : passport->visas) until = std::min(until, v.expires);
  std::lock_guard<std::mutex> lock(mu_);
  if (cache_.size() >= limits_.cache_entries) {
    // Drop what has expired; if that frees nothing, start over (a flood of distinct valid
    // passports only costs their verification again).
    std::erase_if(cache_, [now](const auto& kv) { return kv.second.valid_until <= now; });
    if (cache_.size() >= limits_.cache_entries) cache_.clear();
  }
  cache_[key] = Cached{passport, until};
  return passport;
}

Result<std::shared_ptr<const Passport>> PassportVerifier::VerifyUncached(
    std::string_view token) const {
  const int64_t now = clock_();
  ASSIGN_OR_RETURN(json claims, VerifiedClaims(token, limits_.max_passport_bytes, "passport"));
  auto passport = std::make_shared<Passport>();
  passport->issuer = claims["iss"];
  if (!Trusted(passport->issuer)->passports) {
    return Unauthenticated("passport is signed by '" + passport->issuer +
                           "', which this node trusts for visas but not to sign passports");
  }
  ASSIGN_OR_RETURN(passport->subject, StringClaim(claims, "sub", "passport"));
  RETURN_IF_ERROR(CheckTimes(claims, now, "passport"));
  passport->expires = claims["exp"].get<int64_t>();
  const auto list = claims.find("ga4gh_passport_v1");
  if (list == claims.end()) {
    return Unauthenticated(
        "the token has no ga4gh_passport_v1 claim: present a GA4GH Passport JWT (access tokens "
        "whose visas "
        "are held at a /userinfo endpoint are not supported)");
  }
  if (!list->is_array()) return Unauthenticated("passport \"ga4gh_passport_v1\" is not a list");
  if (list->size() > limits_.max_visas) {
    return Unauthenticated("passport holds " + std::to_string(list->size()) +
                           " visas, over the limit of " + std::to_string(limits_.max_visas));
  }

  // 1. Each visa on its own: signature, times, object.
  struct Candidate {
    size_t index;
    Visa visa;
  };
  std::vector<Candidate> candidates;
  for (size_t i = 0; i < list->size(); ++i) {
    const json& entry = (*list)[i];
    VisaRefusal refusal{i, "", ""};
    if (!entry.is_string()) {
      refusal.reason = "not a JWT string";
      passport->refused.push_back(refusal);
      continue;
    }
    const std::string text = entry;
    // The type, for the refusal message, before anything is trusted.
    if (Result<JwsParts> peek = DecodeJws(text, limits_.max_visa_bytes); peek.ok()) {
      const json& object = peek->payload.value("ga4gh_visa_v1", json::object());
      if (object.is_object() && object.contains("type") && object["type"].is_string())
        refusal.type = object["type"];
    }
    Result<json> visa_claims = VerifiedClaims(text, limits_.max_visa_bytes, "visa");
    if (!visa_claims.ok()) {
      if (visa_claims.status().code() == StatusCode::kUnavailable) return visa_claims.status();
      refusal.reason = visa_claims.status().message();
      passport->refused.push_back(refusal);
      continue;
    }
    const json& c = *visa_claims;
    auto refuse = [&](const std::string& reason) {
      refusal.reason = reason;
      passport->refused.push_back(refusal);
    };
    if (!c.contains("ga4gh_visa_v1")) {
      refuse(c.contains("scope")
                 ? "a Visa Access Token (not supported: visas must be Visa Document Tokens)"
                 : "no ga4gh_visa_v1 claim");
      continue;
    }
    if (Status st = CheckTimes(c, now, "visa"); !st.ok()) {
      refuse(st.message());
      continue;
    }
    Candidate cand{i, {}};
    Visa& v = cand.visa;
    v.issuer = c["iss"];
    Result<std::string> sub = StringClaim(c, "sub", "visa");
    if (!sub.ok()) {
      refuse(sub.status().message());
      continue;
    }
    v.subject = *sub;
    if (const auto jti = c.find("jti"); jti != c.end()) {
      // (Not c.value("jti", ""): it throws on a non-string, and this is a token's content.)
      if (!jti->is_string()) {
        refuse("visa \"jti\" is not a string");
        continue;
      }
      v.jwt_id = *jti;
    }
    v.issued_at = c["iat"].get<int64_t>();
    v.expires = c["exp"].get<int64_t>();
    const json& o = c["ga4gh_visa_v1"];
    if (!o.is_object()) {
      refuse("ga4gh_visa_v1 is not an object");
      continue;
    }
    Status st = Status::Ok();
    for (const char* name : {"type", "value", "source"}) {
      Result<std::string> s = StringClaim(o, name, "visa object");
      if (!s.ok()) {
        st = s.status();
        break;
      }
      (std::string_view(name) == "type"    ? v.object.type
       : std::string_view(name) == "value" ? v.object.value
                                           : v.object.source) = *s;
    }
    if (st.ok()) {
      Result<int64_t> asserted = TimeClaim(o, "asserted", "visa object");
      if (!asserted.ok()) {
        st = asserted.status();
      } else {
        v.object.asserted = *asserted;
        if (v.object.asserted - config_.clock_skew_seconds > now)
          st = Unauthenticated("visa is asserted in the future");
      }
    }
    if (!st.ok()) {
      refuse(st.message());
      continue;
    }
    if (o.contains("by")) {
      if (!o["by"].is_string()) {
        refuse("visa object \"by\" is not a string");
        continue;
      }
      v.object.by = o["by"];
    }
    if (!StandardVisaTypes().count(v.object.type)) {
      refuse("custom visa type '" + v.object.type + "' is not supported by this node (ignored)");
      continue;
    }
    if ((v.object.type == "ControlledAccessGrants" ||
         v.object.type == "AcceptedTermsAndPolicies") &&
        v.object.by.empty()) {
      refuse(v.object.type + " visa without \"by\"");
      continue;
    }
    const TrustedIssuerConfig* trust = Trusted(v.issuer);
    if (std::find(trust->visa_types.begin(), trust->visa_types.end(), v.object.type) ==
        trust->visa_types.end()) {
      refuse("'" + v.issuer + "' is not trusted to assert " + v.object.type + " visas");
      continue;
    }
    if (o.contains("conditions") && !o["conditions"].is_null()) {
      const json& cond = o["conditions"];
      std::string error = cond.is_array() ? "" : "conditions is not a list of lists";
      for (const json& group : cond) {
        if (!error.empty()) break;
        if (!group.is_array() || group.empty()) {
          error = "conditions: every OR entry must be a non-empty list of clauses";
          break;
        }
        for (const json& clause : group) {
          error = ClauseError(clause);
          if (!error.empty()) break;
        }
      }
      if (!error.empty()) {
        refuse(error);
        continue;
      }
      if (!cond.empty()) v.object.conditions = cond;
    }
    candidates.push_back(std::move(cand));
  }

  // 2. Whose visas: the passport's sub, or identities linked to it by trusted LinkedIdentities
  // visas of the user (followed transitively). Only unconditional LinkedIdentities visas link:
  // conditions are checked in step 3, after ownership, and a link whose conditions then fail
  // must not already have brought in another identity's visas.
  std::set<Identity> linked;
  auto belongs = [&](const Visa& v) {
    return v.subject == passport->subject || linked.count({v.subject, v.issuer}) > 0;
  };
  for (bool grew = true; grew;) {
    grew = false;
    for (const Candidate& c : candidates) {
      if (c.visa.object.type != "LinkedIdentities" || !c.visa.object.conditions.is_null() ||
          !belongs(c.visa)) {
        continue;
      }
      Result<std::vector<Identity>> ids = ParseLinkedIdentities(c.visa.object.value);
      if (!ids.ok()) continue;
      for (const Identity& id : *ids) grew = linked.insert(id).second || grew;
    }
  }
  std::vector<Candidate> owned;
  for (Candidate& c : candidates) {
    if (c.visa.object.type == "LinkedIdentities") {
      if (Result<std::vector<Identity>> ids = ParseLinkedIdentities(c.visa.object.value);
          !ids.ok()) {
        passport->refused.push_back({c.index, c.visa.object.type, ids.status().message()});
        continue;
      }
    }
    if (!belongs(c.visa)) {
      passport->refused.push_back({c.index, c.visa.object.type,
                                   "visa of '" + c.visa.subject + "' at '" + c.visa.issuer +
                                       "', an identity not linked to the passport's user"});
      continue;
    }
    owned.push_back(std::move(c));
  }

  // 3. Conditions, matched against the accepted visas that have none. Decided for every visa
  // before any is moved into the passport: a clause may be met by a visa listed before it.
  std::vector<bool> met(owned.size(), true);
  for (size_t i = 0; i < owned.size(); ++i) {
    const json& conditions = owned[i].visa.object.conditions;
    if (conditions.is_null()) continue;
    bool any_group = false;
    for (const json& group : conditions) {
      bool all = true;
      for (const json& clause : group) {
        bool found = false;
        for (const Candidate& other : owned) {
          if (other.visa.object.conditions.is_null() && ClauseMatchedBy(clause, other.visa)) {
            found = true;
            break;
          }
        }
        all = all && found;
      }
      any_group = any_group || all;
    }
    met[i] = any_group;
  }
  for (size_t i = 0; i < owned.size(); ++i) {
    Candidate& c = owned[i];
    if (met[i]) {
      passport->visas.push_back(std::move(c.visa));
    } else {
      passport->refused.push_back(
          {c.index, c.visa.object.type,
           "its conditions are not met by the other visas: " + c.visa.object.conditions.dump()});
    }
  }
  return std::shared_ptr<const Passport>(std::move(passport));
}

}  // namespace oncomesh::auth
