// Data permits: the node's data access committee deciding who may see a dataset's records, for
// what research, for how long.
//
// A researcher's request names their passport identity (sub and iss), the datasets, the
// research purpose in DUO terms (auth/duo.h: ResearchPurpose) and a project summary and
// duration. The committee approves, rejects or later revokes it:
//  - approve only when the DUO matcher finds the purpose compatible with every dataset's
//    data-use conditions; otherwise only with an explicit override reason, which is recorded
//    in the permit and the audit trail beside the matcher's reasons;
//  - an approved permit makes the node sign one ControlledAccessGrants visa per dataset (GA4GH
//    Passport v1.2): iss = the node's issuer, sub = the researcher's subject, jti = the permit
//    id, value = "<issuer>/datasets/<id>", source = the node's issuer, by = "dac", asserted =
//    the approval time, exp = the permit's end. The researcher's broker puts them in their
//    passport; the node's JWKS (/.well-known/jwks.json) verifies them anywhere;
//  - revocation takes effect at once on this node: CheckGrant, called for every request that
//    presents one of these visas, refuses a visa whose permit is no longer approved, even
//    though the visa has not expired.
// Every decision is written to the audit trail (the `audit` callback) before it is stored: if it
// cannot be audited it is not made. Permits are kept in the store (store::StoredPermit), whose
// compare-and-set on the status makes concurrent decisions on one permit safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "auth/access.h"
#include "auth/duo.h"
#include "auth/issuer_keys.h"
#include "auth/jose.h"
#include "auth/passport.h"
#include "model/data_use.h"
#include "store/store.h"
#include "util/status.h"

namespace oncomesh::auth {

enum class PermitStatus { kRequested, kApproved, kRejected, kRevoked };
const char* PermitStatusName(PermitStatus status);

struct PermitRequest {
  std::string researcher_subject;  // the "sub" of the researcher's passport
  std::string researcher_issuer;   // its "iss" (the broker)
  std::vector<std::string> datasets;
  std::string purpose;  // DUO research purpose, JSON or YAML (ParseResearchPurpose)
  std::string project_title;
  std::string summary;
  int duration_days = 365;
};

struct Permit {
  std::string id;  // "permit-" + 16 hex digits
  PermitStatus status = PermitStatus::kRequested;
  PermitRequest request;
  nlohmann::json purpose;  // as parsed, for display
  int64_t requested_at = 0;
  std::string requested_by;
  int64_t decided_at = 0;  // approved or rejected
  std::string decided_by;
  std::string decision_reason;
  std::string override_reason;  // approved against the matcher's advice, and why
  nlohmann::json match;         // per dataset: compatible, reasons, obligations (at decision time)
  int64_t expires_at = 0;       // approved: decided_at + duration
  int64_t revoked_at = 0;
  std::string revoked_by;
  std::string revocation_reason;
  std::vector<std::string> visas;  // approved: the signed ControlledAccessGrants visas

  nlohmann::json ToJson() const;
  static Result<Permit> FromJson(const nlohmann::json& j);
};

// A permit decision for the audit trail.
struct PermitEvent {
  // "request", "approve", "reject", "revoke", or "approval-refused" (an approval refused for a
  // purpose that does not match, without override: nothing changed, but the attempt is recorded)
  std::string action;
  const Permit* permit = nullptr;
  std::string actor;
  std::string reason;
};

struct PermitServiceOptions {
  std::string own_issuer;  // the node's issuer (AccessPolicy::own_issuer)
  Jwk signing_key;         // the node's key, with its private part
  // Dataset id -> its resolved data-use conditions (nullopt: none declared, so no purpose is
  // compatible without an override: the committee has nothing to check consent against).
  std::map<std::string, std::optional<model::DataUseCondition>> datasets;
  const DuoMatcher* matcher = nullptr;  // outlives the service
  const DuoOntology* duo = nullptr;     // outlives the service
  // Opens a store connection (one per call; the service is used from many threads).
  std::function<Result<std::unique_ptr<store::Store>>()> open_store;
  // Appends the decision to the audit trail durably; an error stops the decision.
  std::function<Status(const PermitEvent&)> audit;
  Clock clock;
};

class PermitService {
 public:
  explicit PermitService(PermitServiceOptions options);

  // Loads every permit from the store (at start, and to see decisions made by another process).
  Status Reload();

  // Records a request. InvalidArgument naming the field (unknown dataset, purpose not DUO,
  // empty identity, duration outside 1..3650 days).
  Result<Permit> Request(const PermitRequest& request, const std::string& actor);
  // Approves a requested permit and signs its visas. Without `override_reason`, refused
  // (FailedPrecondition, with every reason of the matcher) unless the purpose is compatible
  // with every dataset's conditions.
  Result<Permit> Approve(const std::string& id, const std::string& actor, const std::string& reason,
                         const std::string& override_reason);
  Result<Permit> Reject(const std::string& id, const std::string& actor, const std::string& reason);
  // Revokes an approved permit; its visas stop counting on this node at once.
  Result<Permit> Revoke(const std::string& id, const std::string& actor, const std::string& reason);

  Result<Permit> Find(const std::string& id) const;
  std::vector<Permit> List() const;

  // For AccessPolicy::OwnGrantCheck: OK when `visa` (one of ours) belongs to an approved,
  // unexpired permit of its subject that covers the dataset its value names.
  Status CheckGrant(const Visa& visa) const;

  // The purpose matched against every dataset's conditions, as Approve would see it.
  Result<nlohmann::json> MatchPurpose(const Permit& permit, bool* all_compatible) const;

 private:
  Result<Permit> Transition(const std::string& id, PermitStatus from,
                            const std::function<Status(Permit&)>& change, const std::string& action,
                            const std::string& actor, const std::string& reason);
  Status Save(const Permit& permit, const std::string& expected_status);

  PermitServiceOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Permit> permits_;  // guarded by mu_
};

}  // namespace oncomesh::auth
