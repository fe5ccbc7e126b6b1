#include "auth/permits.h"

#include <openssl/rand.h>

#include <cstdio>

#include "util/json.h"

namespace oncomesh::auth {

using nlohmann::json;

namespace {

constexpr int64_t kDay = 86400;

Result<PermitStatus> StatusFromName(const std::string& name) {
  for (PermitStatus s : {PermitStatus::kRequested, PermitStatus::kApproved, PermitStatus::kRejected,
                         PermitStatus::kRevoked}) {
    if (name == PermitStatusName(s)) return s;
  }
  return DataLoss("unknown permit status '" + name + "'");
}

std::string NewPermitId() {
  unsigned char bytes[8];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return "";
  char hex[17];
  for (int i = 0; i < 8; ++i) std::snprintf(hex + ptrdiff_t{2} * i, 3, "%02x", bytes[i]);
  return std::string("permit-") + hex;
}

}  // namespace

const char* PermitStatusName(PermitStatus status) {
  switch (status) {
    case PermitStatus::kRequested:
      return "requested";
    case PermitStatus::kApproved:
      return "approved";
    case PermitStatus::kRejected:
      return "rejected";
    case PermitStatus::kRevoked:
      return "revoked";
  }
  return "requested";
}

json Permit::ToJson() const {
  json j = {
      {"id", id},
      {"status", PermitStatusName(status)},
      {"researcher", {{"sub", request.researcher_subject}, {"iss", request.researcher_issuer}}},
      {"datasets", request.datasets},
      {"purpose", purpose},
      {"purposeText", request.purpose},
      {"projectTitle", request.project_title},
      {"summary", request.summary},
      {"durationDays", request.duration_days},
      {"requestedAt", requested_at},
      {"requestedBy", requested_by}};
  if (decided_at) {
    j["decidedAt"] = decided_at;
    j["decidedBy"] = decided_by;
    j["decisionReason"] = decision_reason;
  }
  if (!override_reason.empty()) j["overrideReason"] = override_reason;
  if (!match.is_null()) j["match"] = match;
  if (expires_at) j["expiresAt"] = expires_at;
  if (revoked_at) {
    j["revokedAt"] = revoked_at;
    j["revokedBy"] = revoked_by;
    j["revocationReason"] = revocation_reason;
  }
  if (!visas.empty()) j["visas"] = visas;
  return j;
}

Result<Permit> Permit::FromJson(const json& j) {
  try {
    Permit p;
    p.id = j.at("id");
    ASSIGN_OR_RETURN(p.status, StatusFromName(j.at("status")));
    p.request.researcher_subject = j.at("researcher").at("sub");
    p.request.researcher_issuer = j.at("researcher").at("iss");
    p.request.datasets = j.at("datasets").get<std::vector<std::string>>();
    p.purpose = j.value("purpose", json());
    p.request.purpose = j.value("purposeText", "");
    p.request.project_title = j.value("projectTitle", "");
    p.request.summary = j.value("summary", "");
    p.request.duration_days = j.value("durationDays", 0);
    p.requested_at = j.value("requestedAt", int64_t{0});
    p.requested_by = j.value("requestedBy", "");
    p.decided_at = j.value("decidedAt", int64_t{0});
    p.decided_by = j.value("decidedBy", "");
    p.decision_reason = j.value("decisionReason", "");
    p.override_reason = j.value("overrideReason", "");
    p.match = j.value("match", json());
    p.expires_at = j.value("expiresAt", int64_t{0});
    p.revoked_at = j.value("revokedAt", int64_t{0});
    p.revoked_by = j.value("revokedBy", "");
    p.revocation_reason = j.value("revocationReason", "");
    p.visas = j.value("visas", std::vector<std::string>{});
    return p;
  } catch (const json::exception& e) {
    return DataLoss(std::string("stored permit is malformed: ") + e.what());
  }
}

PermitService::PermitService(PermitServiceOptions options) : options_(std::move(options)) {}

Status PermitService::Reload() {
  ASSIGN_OR_RETURN(auto store, options_.open_store());
  std::map<std::string, Permit> loaded;
  Status bad = Status::Ok();
  RETURN_IF_ERROR(store->ScanPermits([&](const store::StoredPermit& s) {
    const json j = json::parse(s.document, nullptr, false);
    Result<Permit> p =
        j.is_discarded() ? Result<Permit>(DataLoss("not JSON")) : Permit::FromJson(j);
    if (!p.ok()) {
      if (bad.ok()) bad = p.status().WithContext("permit " + s.id);
      return;
    }
    loaded[p->id] = std::move(*p);
  }));
  RETURN_IF_ERROR(bad);
  std::lock_guard<std::mutex> lock(mu_);
  permits_ = std::move(loaded);
  return Status::Ok();
}

Status PermitService::Save(const Permit& permit, const std::string& expected_status) {
  ASSIGN_OR_RETURN(auto store, options_.open_store());
  RETURN_IF_ERROR(store->PutPermit(
      {permit.id, PermitStatusName(permit.status), permit.ToJson().dump()}, expected_status));
  std::lock_guard<std::mutex> lock(mu_);
  permits_[permit.id] = permit;
  return Status::Ok();
}

Result<Permit> PermitService::Request(const PermitRequest& request, const std::string& actor) {
  if (request.researcher_subject.empty())
    return InvalidArgument("researcher: the passport subject (sub) is required");
  if (request.researcher_issuer.empty())
    return InvalidArgument("researcher: the passport issuer (iss) is required");
  if (request.datasets.empty())
    return InvalidArgument("datasets: at least one dataset is required");
  for (const std::string& d : request.datasets) {
    if (!options_.datasets.count(d))
      return InvalidArgument("datasets: this node has no dataset '" + d + "'");
  }
  if (request.duration_days < 1 || request.duration_days > 3650) {
    return InvalidArgument("duration: between 1 and 3650 days, not " +
                           std::to_string(request.duration_days));
  }
  if (request.project_title.empty()) return InvalidArgument("project: a project title is required");
  if (request.summary.empty()) return InvalidArgument("summary: a project summary is required");
  Result<ResearchPurpose> purpose = ParseResearchPurpose(request.purpose, *options_.duo);
  if (!purpose.ok()) return purpose.status().WithContext("purpose");
  Permit p;
  p.id = NewPermitId();
  if (p.id.empty()) return Internal("no randomness for a permit id");
  p.request = request;
  Result<json> purpose_json = ParseJson(request.purpose, "purpose");
  // YAML (or anything not JSON, which ParseResearchPurpose has accepted above): kept as text.
  p.purpose = purpose_json.ok() ? std::move(*purpose_json) : json(request.purpose);
  p.requested_at = options_.clock();
  p.requested_by = actor;
  RETURN_IF_ERROR(options_.audit({"request", &p, actor, request.summary}));
  RETURN_IF_ERROR(Save(p, ""));
  return p;
}

Result<json> PermitService::MatchPurpose(const Permit& permit, bool* all_compatible) const {
  ASSIGN_OR_RETURN(ResearchPurpose purpose,
                   ParseResearchPurpose(permit.request.purpose, *options_.duo));
  // TS and similar modifiers weigh the requested period: the permit's duration, in months.
  if (!purpose.months) purpose.months = (permit.request.duration_days + 29) / 30;
  json out = json::object();
  *all_compatible = true;
  for (const std::string& d : permit.request.datasets) {
    auto it = options_.datasets.find(d);
    if (it == options_.datasets.end())
      return FailedPrecondition("the node no longer has dataset '" + d + "'");
    json m;
    if (!it->second) {
      m = {{"compatible", false},
           {"reasons", json::array({{{"code", ""},
                                     {"message", "dataset '" + d +
                                                     "' declares no data-use conditions (node.yaml "
                                                     "datasets[].data_use), so no purpose can be "
                                                     "checked against its consent"}}})}};
    } else {
      MatchResult r = options_.matcher->Match(*it->second, purpose);
      json reasons = json::array();
      for (const MatchReason& reason : r.reasons)
        reasons.push_back({{"code", reason.code}, {"message", reason.message}});
      m = {{"compatible", r.compatible}, {"reasons", reasons}, {"obligations", r.obligations}};
    }
    *all_compatible = *all_compatible && m["compatible"].get<bool>();
    out[d] = m;
  }
  return out;
}

Result<Permit> PermitService::Transition(const std::string& id, PermitStatus from,
                                         const std::function<Status(Permit&)>& change,
                                         const std::string& action, const std::string& actor,
                                         const std::string& reason) {
  if (actor.empty()) return InvalidArgument("by: who decides is required");
  ASSIGN_OR_RETURN(auto store, options_.open_store());
  ASSIGN_OR_RETURN(store::StoredPermit stored, store->FindPermit(id));
  const json j = json::parse(stored.document, nullptr, false);
  if (j.is_discarded()) return DataLoss("permit " + id + ": stored document is not JSON");
  ASSIGN_OR_RETURN(Permit p, Permit::FromJson(j));
  if (p.status != from) {
    return FailedPrecondition("permit " + id + " is " + PermitStatusName(p.status) + "; only a " +
                              PermitStatusName(from) + " permit can be " +
                              (action == "approve"  ? "approved"
                               : action == "reject" ? "rejected"
                                                    : "revoked"));
  }
  RETURN_IF_ERROR(change(p));
  RETURN_IF_ERROR(options_.audit({action, &p, actor, reason}));
  RETURN_IF_ERROR(Save(p, PermitStatusName(from)));
  return p;
}

Result<Permit> PermitService::Approve(const std::string& id, const std::string& actor,
                                      const std::string& reason,
                                      const std::string& override_reason) {
  return Transition(
      id, PermitStatus::kRequested,
      [&](Permit& p) -> Status {
        bool compatible = false;
        ASSIGN_OR_RETURN(p.match, MatchPurpose(p, &compatible));
        if (!compatible && override_reason.empty()) {
          std::string why;
          for (const auto& [dataset, m] : p.match.items()) {
            for (const json& r : m["reasons"])
              why += "\n  " + dataset + ": " + r["message"].get<std::string>();
          }
          // The attempt is part of the committee's record, though nothing changes.
          RETURN_IF_ERROR(
              options_.audit({"approval-refused", &p, actor, "purpose does not match:" + why}));
          return FailedPrecondition(
              "the research purpose does not match the datasets' data-use conditions; approve "
              "only with an explicit override (and its reason):" +
              why);
        }
        const int64_t now = options_.clock();
        p.status = PermitStatus::kApproved;
        p.decided_at = now;
        p.decided_by = actor;
        p.decision_reason = reason;
        p.override_reason = compatible ? "" : override_reason;
        p.expires_at = now + static_cast<int64_t>(p.request.duration_days) * kDay;
        p.visas.clear();
        std::string base = options_.own_issuer;
        while (!base.empty() && base.back() == '/') base.pop_back();
        for (const std::string& d : p.request.datasets) {
          const json claims = {{"iss", options_.own_issuer},
                               {"sub", p.request.researcher_subject},
                               {"iat", now},
                               {"exp", p.expires_at},
                               {"jti", p.id},
                               {"ga4gh_visa_v1",
                                {{"type", "ControlledAccessGrants"},
                                 {"asserted", now},
                                 {"value", base + "/datasets/" + d},
                                 {"source", options_.own_issuer},
                                 {"by", "dac"}}}};
          ASSIGN_OR_RETURN(std::string visa, SignJws(options_.signing_key, claims.dump(), "JWT"));
          p.visas.push_back(std::move(visa));
        }
        return Status::Ok();
      },
      "approve", actor,
      override_reason.empty() ? reason : reason + " [override: " + override_reason + "]");
}

Result<Permit> PermitService::Reject(const std::string& id, const std::string& actor,
                                     const std::string& reason) {
  if (reason.empty())
    return InvalidArgument("reason: a rejection needs a reason the researcher can read");
  return Transition(
      id, PermitStatus::kRequested,
      [&](Permit& p) {
        p.status = PermitStatus::kRejected;
        p.decided_at = options_.clock();
        p.decided_by = actor;
        p.decision_reason = reason;
        return Status::Ok();
      },
      "reject", actor, reason);
}

Result<Permit> PermitService::Revoke(const std::string& id, const std::string& actor,
                                     const std::string& reason) {
  if (reason.empty()) return InvalidArgument("reason: a revocation needs a reason");
  return Transition(
      id, PermitStatus::kApproved,
      [&](Permit& p) {
        p.status = PermitStatus::kRevoked;
        p.revoked_at = options_.clock();
        p.revoked_by = actor;
        p.revocation_reason = reason;
        return Status::Ok();
      },
      "revoke", actor, reason);
}

Result<Permit> PermitService::Find(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = permits_.find(id);
  if (it == permits_.end()) return NotFound("no permit '" + id + "'");
  return it->second;
}

std::vector<Permit> PermitService::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Permit> out;
  for (const auto& [id, p] : permits_) out.push_back(p);
  std::sort(out.begin(), out.end(), [](const Permit& a, const Permit& b) {
    return a.requested_at != b.requested_at ? a.requested_at < b.requested_at : a.id < b.id;
  });
  return out;
}

Status PermitService::CheckGrant(const Visa& visa) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = permits_.find(visa.jwt_id);
  if (it == permits_.end())
    return PermissionDenied("the node knows no permit '" + visa.jwt_id + "' for this visa");
  const Permit& p = it->second;
  if (p.status != PermitStatus::kApproved) {
    return PermissionDenied(
        "permit " + p.id + " is " + PermitStatusName(p.status) +
        (p.status == PermitStatus::kRevoked ? " (" + p.revocation_reason + ")" : ""));
  }
  if (p.request.researcher_subject != visa.subject) {
    return PermissionDenied("permit " + p.id + " was granted to another researcher");
  }
  if (options_.clock() >= p.expires_at) return PermissionDenied("permit " + p.id + " has expired");
  std::string base = options_.own_issuer;
  while (!base.empty() && base.back() == '/') base.pop_back();
  for (const std::string& d : p.request.datasets) {
    if (visa.object.value == base + "/datasets/" + d) return Status::Ok();
  }
  return PermissionDenied("permit " + p.id + " does not cover " + visa.object.value);
}

}  // namespace oncomesh::auth
