// AccessPolicy: a verified passport's visas -> anonymous / registered / permitted per dataset
// (GA4GH Registered Access; ControlledAccessGrants per dataset), with the reasons a caller is
// told when a level is missing.
#include "auth/access.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace oncomesh::auth {
namespace {

using gate::AccessLevel;

constexpr int64_t kNow = 1'800'000'000;
const char* const kBonaFide = "https://doi.org/10.1038/s41431-018-0219-y";
const char* const kBroker = "https://broker.test";
const char* const kOwn = "https://node.test";
const char* const kTerms = "https://terms.test/v1";
const char* const kEgaD1 = "https://ega.test/D1";

Visa MakeVisa(const std::string& type, const std::string& value,
              const std::string& issuer = kBroker, int64_t expires = kNow + 3600,
              const std::string& jti = "") {
  Visa v;
  v.issuer = issuer;
  v.subject = "researcher-1";
  v.jwt_id = jti;
  v.issued_at = kNow - 60;
  v.expires = expires;
  v.object.type = type;
  v.object.value = value;
  v.object.source = "https://source.test";
  v.object.by = "dac";
  v.object.asserted = kNow - 86400;
  return v;
}

std::shared_ptr<const Passport> MakePassport(std::vector<Visa> visas,
                                             std::vector<VisaRefusal> refused = {}) {
  auto p = std::make_shared<Passport>();
  p->issuer = kBroker;
  p->subject = "researcher-1";
  p->expires = kNow + 3600;
  p->visas = std::move(visas);
  p->refused = std::move(refused);
  return p;
}

const Visa kStatus = MakeVisa("ResearcherStatus", kBonaFide);

std::map<std::string, AccessLevel> Levels(const Caller& c) {
  std::map<std::string, AccessLevel> out;
  for (const DatasetAccess& d : c.datasets) out[d.dataset_id] = d.level;
  return out;
}

std::string MissingOf(const Caller& c, const std::string& dataset) {
  for (const DatasetAccess& d : c.datasets) {
    if (d.dataset_id == dataset) return d.missing;
  }
  return "(no such dataset)";
}

class AccessPolicyTest : public ::testing::Test {
 protected:
  // Two datasets: D1 also granted by the EGA-style value kEgaD1, D2 only by the node's own
  // permits. Own grants are checked against `revoked_` (by jti).
  AccessPolicy Policy(AccessConfig config = AccessConfig()) {
    return AccessPolicy(std::move(config), kOwn, {{"D1", {kEgaD1}}, {"D2", {}}},
                        [this](const Visa& v) -> Status {
                          ++own_checks_;
                          auto it = revoked_.find(v.jwt_id);
                          if (it != revoked_.end()) return PermissionDenied(it->second);
                          return Status::Ok();
                        });
  }
  std::map<std::string, std::string> revoked_;
  int own_checks_ = 0;
};

TEST_F(AccessPolicyTest, LevelsPerDatasetFromTheVisas) {
  AccessPolicy policy = Policy();
  const AccessLevel kAnon = AccessLevel::kAnonymous, kReg = AccessLevel::kRegistered,
                    kPerm = AccessLevel::kPermitted;
  struct Case {
    const char* name;
    std::shared_ptr<const Passport> passport;
    AccessLevel d1, d2, node;
  };
  const std::vector<Case> cases = {
      {"no passport", nullptr, kAnon, kAnon, kAnon},
      {"a passport without visas", MakePassport({}), kAnon, kAnon, kAnon},
      {"bona fide researcher", MakePassport({kStatus}), kReg, kReg, kReg},
      {"ResearcherStatus with another value",
       MakePassport({MakeVisa("ResearcherStatus", "https://other.test/status")}), kAnon, kAnon,
       kAnon},
      {"ResearcherStatus expired",
       MakePassport({MakeVisa("ResearcherStatus", kBonaFide, kBroker, kNow)}), kAnon, kAnon, kAnon},
      {"AffiliationAndRole alone",
       MakePassport({MakeVisa("AffiliationAndRole", "faculty@uni.test")}), kAnon, kAnon, kAnon},
      {"external grant for D1", MakePassport({kStatus, MakeVisa("ControlledAccessGrants", kEgaD1)}),
       kPerm, kReg, kReg},
      {"external grant for D1, no ResearcherStatus",
       MakePassport({MakeVisa("ControlledAccessGrants", kEgaD1)}), kPerm, kAnon, kAnon},
      {"grant for another dataset",
       MakePassport({kStatus, MakeVisa("ControlledAccessGrants", "https://ega.test/D9")}), kReg,
       kReg, kReg},
      {"grant expired",
       MakePassport({kStatus, MakeVisa("ControlledAccessGrants", kEgaD1, kBroker, kNow)}), kReg,
       kReg, kReg},
      {"grant of another type's value",
       MakePassport({kStatus, MakeVisa("AffiliationAndRole", kEgaD1)}), kReg, kReg, kReg},
      {"own grant for D2",
       MakePassport(
           {kStatus, MakeVisa("ControlledAccessGrants", "https://node.test/datasets/D2", kOwn)}),
       kReg, kPerm, kReg},
      {"own grant value from an external issuer",
       MakePassport(
           {kStatus, MakeVisa("ControlledAccessGrants", "https://node.test/datasets/D2", kBroker)}),
       kReg, kReg, kReg},
      {"external value from the node's own issuer",
       MakePassport({kStatus, MakeVisa("ControlledAccessGrants", kEgaD1, kOwn)}), kReg, kReg, kReg},
      {"both datasets",
       MakePassport({kStatus, MakeVisa("ControlledAccessGrants", kEgaD1),
                     MakeVisa("ControlledAccessGrants", "https://node.test/datasets/D2", kOwn)}),
       kPerm, kPerm, kPerm},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Caller caller = policy.Evaluate(c.passport, kNow);
    EXPECT_EQ(Levels(caller), (std::map<std::string, AccessLevel>{{"D1", c.d1}, {"D2", c.d2}}));
    EXPECT_EQ(caller.NodeLevel(), c.node);
    EXPECT_EQ(caller.Identity(), c.passport ? "researcher-1 @ https://broker.test" : "anonymous");
    for (const DatasetAccess& d : caller.datasets) {
      EXPECT_EQ(d.missing.empty(), d.level == kPerm) << d.dataset_id << ": " << d.missing;
    }
  }
}

TEST_F(AccessPolicyTest, MissingSaysWhatToPresent) {
  AccessConfig config;
  config.accepted_terms = {kTerms};
  AccessPolicy policy = Policy(config);

  Caller anonymous = policy.Evaluate(nullptr, kNow);
  EXPECT_EQ(MissingOf(anonymous, "D1"),
            "no passport was presented (send a GA4GH Passport as a bearer token)");
  EXPECT_EQ(anonymous.Missing(AccessLevel::kRegistered),
            "dataset 'D1': no passport was presented (send a GA4GH Passport as a bearer token); "
            "dataset 'D2': no "
            "passport was presented (send a GA4GH Passport as a bearer token)");
  EXPECT_EQ(anonymous.Missing(AccessLevel::kAnonymous), "");

  // Terms required: the bona fide status alone is not enough.
  Caller status_only = policy.Evaluate(MakePassport({kStatus}), kNow);
  EXPECT_EQ(status_only.NodeLevel(), AccessLevel::kAnonymous);
  EXPECT_EQ(MissingOf(status_only, "D1"),
            "no AcceptedTermsAndPolicies visa for https://terms.test/v1");

  Caller wrong_status =
      policy.Evaluate(MakePassport({MakeVisa("ResearcherStatus", "https://other.test/s")}), kNow);
  EXPECT_EQ(
      MissingOf(wrong_status, "D2"),
      "no accepted ResearcherStatus visa (one of: https://doi.org/10.1038/s41431-018-0219-y); no "
      "AcceptedTermsAndPolicies visa for https://terms.test/v1");

  const Visa terms = MakeVisa("AcceptedTermsAndPolicies", kTerms);
  Caller registered = policy.Evaluate(MakePassport({kStatus, terms}), kNow);
  EXPECT_EQ(registered.NodeLevel(), AccessLevel::kRegistered);
  EXPECT_EQ(registered.Missing(AccessLevel::kRegistered), "");
  EXPECT_EQ(MissingOf(registered, "D1"),
            "no valid ControlledAccessGrants visa for https://node.test/datasets/D1 or "
            "https://ega.test/D1");
  EXPECT_EQ(MissingOf(registered, "D2"),
            "no valid ControlledAccessGrants visa for https://node.test/datasets/D2");
  EXPECT_EQ(
      registered.Missing(AccessLevel::kPermitted),
      "dataset 'D1': no valid ControlledAccessGrants visa for https://node.test/datasets/D1 or "
      "https://ega.test/D1; dataset 'D2': no valid ControlledAccessGrants visa for "
      "https://node.test/datasets/D2");

  // Why visas were refused by the verifier is passed on.
  Caller refused =
      policy.Evaluate(MakePassport({kStatus, terms},
                                   {{2, "ControlledAccessGrants", "visa expired 10 s ago"},
                                    {3, "ResearcherStatus", "not shown for a registered caller"}}),
                      kNow);
  EXPECT_EQ(MissingOf(refused, "D2"),
            "no valid ControlledAccessGrants visa for https://node.test/datasets/D2; visa 2: visa "
            "expired 10 s ago");
  Caller refused_status = policy.Evaluate(
      MakePassport({terms}, {{0, "ResearcherStatus",
                              "'https://x.test' is not trusted to assert ResearcherStatus visas"}}),
      kNow);
  EXPECT_EQ(MissingOf(refused_status, "D1"),
            "no accepted ResearcherStatus visa (one of: "
            "https://doi.org/10.1038/s41431-018-0219-y); visa 0: "
            "'https://x.test' is not trusted to assert ResearcherStatus visas");
}

TEST_F(AccessPolicyTest, TheNodesOwnGrantsCountOnlyWhileThePermitStands) {
  AccessPolicy policy = Policy();
  EXPECT_EQ(policy.OwnGrantValue("D2"), "https://node.test/datasets/D2");
  EXPECT_EQ(policy.own_issuer(), "https://node.test");
  const Visa own = MakeVisa("ControlledAccessGrants", "https://node.test/datasets/D2", kOwn,
                            kNow + 3600, "permit-7");
  const auto passport = MakePassport({kStatus, own});

  Caller before = policy.Evaluate(passport, kNow);
  EXPECT_EQ(Levels(before)["D2"], AccessLevel::kPermitted);
  EXPECT_EQ(own_checks_, 1);

  // Revoked after the visa was signed: the same (unexpired) visa no longer permits, and the
  // caller is told why. The check runs per evaluation, so a replayed visa gets the same answer.
  revoked_["permit-7"] = "permit permit-7 was revoked on 2027-01-04 by dac@node.test";
  for (int replay = 0; replay < 2; ++replay) {
    Caller after = policy.Evaluate(passport, kNow + 10);
    EXPECT_EQ(Levels(after)["D2"], AccessLevel::kRegistered);
    EXPECT_EQ(MissingOf(after, "D2"),
              "no valid ControlledAccessGrants visa for https://node.test/datasets/D2 (permit "
              "permit-7 was revoked "
              "on 2027-01-04 by dac@node.test)");
  }
  EXPECT_EQ(own_checks_, 3);

  // External grants are not the node's permits: never checked against them.
  own_checks_ = 0;
  policy.Evaluate(MakePassport({kStatus, MakeVisa("ControlledAccessGrants", kEgaD1)}), kNow);
  EXPECT_EQ(own_checks_, 0);
}

TEST_F(AccessPolicyTest, WithoutAPermitCheckOwnGrantsCountUntilTheyExpire) {
  AccessPolicy policy(AccessConfig(), "https://node.test/", {{"D1", {}}}, nullptr);
  EXPECT_EQ(policy.OwnGrantValue("D1"), "https://node.test/datasets/D1");
  const Visa own = MakeVisa("ControlledAccessGrants", "https://node.test/datasets/D1",
                            "https://node.test/", kNow + 5);
  EXPECT_EQ(policy.Evaluate(MakePassport({own}), kNow + 4).NodeLevel(), AccessLevel::kPermitted);
  EXPECT_EQ(policy.Evaluate(MakePassport({own}), kNow + 5).NodeLevel(), AccessLevel::kAnonymous);
}

TEST_F(AccessPolicyTest, ExternalGrantsOnlyForTheConfiguredValues) {
  // D2 lists no grant_values: no external issuer can permit it, whatever the value.
  AccessPolicy policy = Policy();
  for (const char* value : {"https://ega.test/D2", "D2", "https://node.test/datasets/D2", ""}) {
    SCOPED_TRACE(value);
    Caller c =
        policy.Evaluate(MakePassport({kStatus, MakeVisa("ControlledAccessGrants", value)}), kNow);
    EXPECT_EQ(Levels(c)["D2"], AccessLevel::kRegistered);
  }
  // Exact values: no prefix or case folding.
  for (const char* value :
       {"https://ega.test/D1/", "https://EGA.test/D1", "https://ega.test/D10"}) {
    SCOPED_TRACE(value);
    Caller c =
        policy.Evaluate(MakePassport({kStatus, MakeVisa("ControlledAccessGrants", value)}), kNow);
    EXPECT_EQ(Levels(c)["D1"], AccessLevel::kRegistered);
  }
}

TEST(CallerTest, NodeLevelIsTheMinimumAndMissingListsTheDatasetsBelow) {
  Caller none;
  EXPECT_EQ(none.NodeLevel(), AccessLevel::kAnonymous);
  EXPECT_EQ(none.Missing(AccessLevel::kPermitted), "");
  EXPECT_EQ(none.Identity(), "anonymous");

  Caller c;
  c.passport = MakePassport({});
  c.datasets = {{"A", AccessLevel::kPermitted, ""},
                {"B", AccessLevel::kRegistered, "no grant for B"},
                {"C", AccessLevel::kPermitted, ""}};
  EXPECT_EQ(c.NodeLevel(), AccessLevel::kRegistered);
  EXPECT_EQ(c.Missing(AccessLevel::kRegistered), "");
  EXPECT_EQ(c.Missing(AccessLevel::kPermitted), "dataset 'B': no grant for B");
  EXPECT_EQ(c.Identity(), "researcher-1 @ https://broker.test");
  c.datasets.push_back({"D", AccessLevel::kAnonymous, "no status"});
  EXPECT_EQ(c.NodeLevel(), AccessLevel::kAnonymous);
  EXPECT_EQ(c.Missing(AccessLevel::kPermitted),
            "dataset 'B': no grant for B; dataset 'D': no status");
  EXPECT_EQ(c.Missing(AccessLevel::kRegistered), "dataset 'D': no status");
}

}  // namespace
}  // namespace oncomesh::auth
