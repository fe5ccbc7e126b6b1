// For tests that call handlers without a node process: the node's real passport verification
// and access policy (auth/), trusting a TestBroker, over one dataset.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "api/caller.h"
#include "support/test_broker.h"

namespace oncomesh::testing {

// A CallerFn as a node's would be: trusts `broker` for every visa type (grants included) and
// serves one dataset `dataset_id` whose grant_values are {grant_value}.
api::CallerFn BrokerCallerFn(const TestBroker& broker, const std::string& grant_value,
                             const std::string& dataset_id = "default");

}  // namespace oncomesh::testing

namespace oncomesh::testing {

// Rewrites NODE_DIR/node.yaml so the node trusts `broker` (its JWKS written beside node.yaml)
// for every visa type, grants included, and its first dataset is granted by `grant_value`.
// Aborts on failure.
void TrustBroker(const std::string& node_dir, const TestBroker& broker,
                 const std::string& grant_value);

}  // namespace oncomesh::testing

namespace oncomesh::testing {

// One broker for a whole test binary, and headers carrying its passports: registered access
// (counts), and permitted for kSharedGrant. Nodes trust it through TrustBroker(dir,
// SharedBroker(), kSharedGrant).
inline constexpr const char* kSharedGrant = "https://ega.oncomesh.test/datasets/SHARED";
const TestBroker& SharedBroker();
std::vector<std::pair<std::string, std::string>> AsRegistered();
std::vector<std::pair<std::string, std::string>> AsPermitted();

}  // namespace oncomesh::testing
