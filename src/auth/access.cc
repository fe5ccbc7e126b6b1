#include "auth/access.h"

#include <algorithm>

namespace oncomesh::auth {

gate::AccessLevel Caller::NodeLevel() const {
  if (datasets.empty()) return gate::AccessLevel::kAnonymous;
  gate::AccessLevel level = gate::AccessLevel::kPermitted;
  for (const DatasetAccess& d : datasets) level = std::min(level, d.level);
  return level;
}

std::string Caller::Missing(gate::AccessLevel wanted) const {
  std::string out;
  for (const DatasetAccess& d : datasets) {
    if (d.level >= wanted) continue;
    if (!out.empty()) out += "; ";
    out += "dataset '" + d.dataset_id + "': " + d.missing;
  }
  return out;
}

std::vector<std::string> Caller::PermittedDatasets() const {
  std::vector<std::string> out;
  for (const DatasetAccess& d : datasets) {
    if (d.level >= gate::AccessLevel::kPermitted) out.push_back(d.dataset_id);
  }
  return out;
}

bool Caller::PermittedOn(const std::string& dataset) const {
  return std::any_of(datasets.begin(), datasets.end(), [&](const DatasetAccess& d) {
    return d.dataset_id == dataset && d.level >= gate::AccessLevel::kPermitted;
  });
}

AccessPolicy::AccessPolicy(AccessConfig config, std::string own_issuer,
                           std::vector<DatasetGrants> datasets, OwnGrantCheck own_grant_check)
    : config_(std::move(config)),
      own_issuer_(std::move(own_issuer)),
      datasets_(std::move(datasets)),
      own_grant_check_(std::move(own_grant_check)) {}

std::string AccessPolicy::OwnGrantValue(const std::string& dataset_id) const {
  std::string base = own_issuer_;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/datasets/" + dataset_id;
}

Caller AccessPolicy::Evaluate(std::shared_ptr<const Passport> passport, int64_t now) const {
  Caller caller;
  caller.passport = std::move(passport);
  const Passport* p = caller.passport.get();
  auto has = [&](const std::string& type, const std::string& value) {
    if (!p) return false;
    for (const Visa& v : p->visas) {
      if (v.object.type == type && v.object.value == value && v.expires > now) return true;
    }
    return false;
  };

  // Registered access: one accepted ResearcherStatus value, and every required terms value.
  std::string registered_missing;
  if (!p) {
    registered_missing = "no passport was presented (send a GA4GH Passport as a bearer token)";
  } else {
    bool status = false;
    for (const std::string& value : config_.researcher_status)
      status = status || has("ResearcherStatus", value);
    if (!status) {
      registered_missing = "no accepted ResearcherStatus visa (one of:";
      for (const std::string& value : config_.researcher_status) registered_missing += " " + value;
      registered_missing += ")";
      if (std::string why = p->RefusalsOf("ResearcherStatus"); !why.empty())
        registered_missing += "; " + why;
    }
    for (const std::string& terms : config_.accepted_terms) {
      if (has("AcceptedTermsAndPolicies", terms)) continue;
      if (!registered_missing.empty()) registered_missing += "; ";
      registered_missing += "no AcceptedTermsAndPolicies visa for " + terms;
    }
  }
  const bool registered = registered_missing.empty();

  for (const DatasetGrants& d : datasets_) {
    DatasetAccess access;
    access.dataset_id = d.dataset_id;
    std::string grant_missing;
    bool granted = false;
    if (p) {
      const std::string own_value = OwnGrantValue(d.dataset_id);
      std::string why_not;
      for (const Visa& v : p->visas) {
        if (v.object.type != "ControlledAccessGrants" || v.expires <= now) continue;
        if (v.issuer == own_issuer_ && v.object.value == own_value) {
          Status st = own_grant_check_ ? own_grant_check_(v) : Status::Ok();
          if (st.ok()) {
            granted = true;
            break;
          }
          why_not = st.message();
        } else if (v.issuer != own_issuer_ &&
                   std::find(d.external_values.begin(), d.external_values.end(), v.object.value) !=
                       d.external_values.end()) {
          granted = true;
          break;
        }
      }
      if (!granted) {
        grant_missing = "no valid ControlledAccessGrants visa for " + own_value;
        for (const std::string& value : d.external_values) grant_missing += " or " + value;
        if (!why_not.empty()) grant_missing += " (" + why_not + ")";
        if (std::string why = p->RefusalsOf("ControlledAccessGrants"); !why.empty())
          grant_missing += "; " + why;
      }
    } else {
      grant_missing = registered_missing;
    }
    if (granted) {
      access.level = gate::AccessLevel::kPermitted;
    } else if (registered) {
      access.level = gate::AccessLevel::kRegistered;
      access.missing = grant_missing;
    } else {
      access.level = gate::AccessLevel::kAnonymous;
      access.missing = registered_missing;
    }
    caller.datasets.push_back(std::move(access));
  }
  return caller;
}

}  // namespace oncomesh::auth
