#include "api/node_service.h"

#include <spdlog/spdlog.h>

namespace oncomesh::api {

NodeService::NodeService(node::NodeDir node, index::Vocabulary vocab)
    : node_(std::move(node)),
      vocab_(std::move(vocab)),
      gate_(gate::GateConfig{node_.config().count_step}) {
  const node::NodeConfig& c = node_.config();
  identity_.id = "org.oncomesh.node." + c.name;
  identity_.name = "OncoMesh node " + c.name;
  identity_.description =
      "Beacon v2 over the cancer data of " + c.organization + "; counts are disclosure-controlled.";
  identity_.organization_id = c.name;
  identity_.organization_name = c.organization;
}

NodeService::~NodeService() { Stop(); }

Result<std::unique_ptr<NodeService>> NodeService::Open(const std::string& node_dir) {
  ASSIGN_OR_RETURN(node::NodeDir node, node::NodeDir::Open(node_dir));
  ASSIGN_OR_RETURN(index::Vocabulary vocab, index::Vocabulary::LoadEmbedded());
  std::unique_ptr<NodeService> service(new NodeService(std::move(node), std::move(vocab)));
  ASSIGN_OR_RETURN(auto store, service->node_.OpenStore());
  ASSIGN_OR_RETURN(std::unique_ptr<index::CohortIndex> idx,
                   index::CohortIndex::Build(*store, service->vocab_));
  spdlog::info("node {}: index of {} individuals, {} records, {:.1f} MB", service->node_.config().name,
               idx->stats().individuals, idx->stats().records,
               static_cast<double>(idx->stats().memory_bytes) / 1e6);
  service->index_ = std::move(idx);
  return service;
}

std::shared_ptr<const index::CohortIndex> NodeService::index() const {
  std::lock_guard<std::mutex> lock(mu_);
  return index_;
}

Status NodeService::RefreshIfChanged() {
  ASSIGN_OR_RETURN(auto store, node_.OpenStore());
  ASSIGN_OR_RETURN(store::Seq seq, store->LastSeq());
  if (seq == index()->stats().seq) return Status::Ok();
  ASSIGN_OR_RETURN(std::unique_ptr<index::CohortIndex> idx, index::CohortIndex::Build(*store, vocab_));
  spdlog::info("node {}: store changed, index rebuilt: {} individuals", node_.config().name,
               idx->stats().individuals);
  std::lock_guard<std::mutex> lock(mu_);
  index_ = std::move(idx);
  return Status::Ok();
}

void NodeService::StartRefresher(std::chrono::milliseconds interval) {
  refresher_ = std::thread([this, interval] {
    while (!stop_) {
      for (auto waited = std::chrono::milliseconds(0); waited < interval && !stop_;
           waited += std::chrono::milliseconds(50)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (stop_) break;
      Status st = RefreshIfChanged();
      if (!st.ok()) spdlog::warn("node {}: index refresh failed: {}", node_.config().name, st.ToString());
    }
  });
}

void NodeService::Stop() {
  stop_ = true;
  if (refresher_.joinable()) refresher_.join();
}

void NodeService::Register(http::Router& router) {
  RegisterNodeInfoRoutes(*this, router);
  RegisterNodeCollectionRoutes(*this, router);
  RegisterNodeEntryRoutes(*this, router);
}

gate::AccessLevel NodeService::AccessLevelFor(const http::Request&) const {
  return gate::AccessLevel::kAnonymous;
}

http::Response NodeService::RouterError(int status, const std::string& message) const {
  return ErrorResponse(identity_, status, message);
}

}  // namespace oncomesh::api
