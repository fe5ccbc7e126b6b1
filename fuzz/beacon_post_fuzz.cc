// A Beacon v2 POST body (framework requests/beaconRequestBody.json) as a node reads it: parsed,
// then planned and counted over the fuzz node's cohort index.
#include "fuzz_support.h"
#include "index/evaluate.h"
#include "query/beacon_request.h"

ONCOMESH_FUZZ_INITIALIZE { oncomesh::fuzz::SharedNode(); }

ONCOMESH_FUZZ_TARGET(beacon_post) {
  using namespace oncomesh;
  const fuzz::FuzzNode& node = fuzz::SharedNode();
  const std::string body(reinterpret_cast<const char*>(data), size);
  Result<query::BeaconRequest> request = query::ParseBeaconPost(body);
  fuzz::CheckRefusal(request.status(), "ParseBeaconPost");
  if (!request.ok()) return 0;
  Result<index::Plan> plan = query::BuildRequestPlan(*request, *node.index);
  fuzz::CheckRefusal(plan.status(), "BuildRequestPlan");
  if (!plan.ok()) return 0;
  if (index::CountMatches(*plan, node.index->num_rows()) > node.index->num_rows()) {
    fuzz::Fail("a plan matched more individuals than the index has");
  }
  return 0;
}
