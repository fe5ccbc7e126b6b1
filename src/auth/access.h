// Access levels from a verified passport, per dataset of the node (the gate's levels):
//   anonymous   no passport;
//   registered  a ResearcherStatus visa with a value the node accepts for registered access
//               (and the AcceptedTermsAndPolicies visas it requires, if any) — GA4GH
//               Registered Access;
//   permitted   a ControlledAccessGrants visa for that dataset: from the node itself (its
//               permits), value "<issuer>/datasets/<id>", and only while the permit stands;
//               or from an issuer trusted for grants, with a value the dataset lists in
//               grant_values. A permitted caller is also registered.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "auth/access_config.h"
#include "auth/passport.h"
#include "gate/gate.h"

namespace oncomesh::auth {

struct DatasetAccess {
  std::string dataset_id;
  gate::AccessLevel level = gate::AccessLevel::kAnonymous;
  std::string missing;  // why the next level up is not granted ("" when permitted)
};

// Who is asking and what they may see.
struct Caller {
  std::shared_ptr<const Passport> passport;  // null for an anonymous caller
  std::vector<DatasetAccess> datasets;

  // "anonymous", or the passport's "sub @ iss".
  std::string Identity() const { return passport ? passport->Identity() : "anonymous"; }
  // The level on every dataset at once: the lowest. For what spans the node's datasets (a
  // count of the whole node); records are per dataset (PermittedDatasets).
  gate::AccessLevel NodeLevel() const;
  // Why the caller is not at `wanted` on some dataset ("" when it is).
  std::string Missing(gate::AccessLevel wanted) const;
  // The datasets the caller may see records of (kPermitted), in node.yaml order.
  std::vector<std::string> PermittedDatasets() const;
  bool PermittedOn(const std::string& dataset) const;
};

struct DatasetGrants {
  std::string dataset_id;
  std::vector<std::string> external_values;  // node.yaml datasets[].grant_values
};

class AccessPolicy {
 public:
  // For a grant the node issued itself: OK while its permit stands, else why not (revoked,
  // expired, unknown). Called per request, so revocation applies at once.
  using OwnGrantCheck = std::function<Status(const Visa& visa)>;

  AccessPolicy(AccessConfig config, std::string own_issuer, std::vector<DatasetGrants> datasets,
               OwnGrantCheck own_grant_check);

  // The node's own grant value for a dataset: "<own issuer>/datasets/<id>".
  std::string OwnGrantValue(const std::string& dataset_id) const;
  const std::string& own_issuer() const { return own_issuer_; }

  // The caller's level on each dataset. `passport` null: anonymous. Thread-safe.
  Caller Evaluate(std::shared_ptr<const Passport> passport, int64_t now) const;

 private:
  AccessConfig config_;
  std::string own_issuer_;
  std::vector<DatasetGrants> datasets_;
  OwnGrantCheck own_grant_check_;
};

}  // namespace oncomesh::auth
