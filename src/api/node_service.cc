#include "api/node_service.h"

#include <spdlog/spdlog.h>
#include <strings.h>

#include "api/admin/admin_service.h"
#include "api/dicomweb/dicomweb_service.h"

#include <fstream>
#include <iterator>

namespace oncomesh::api {
namespace {

// htsget's files: the VariantFile records of the node's store. A store per lookup, because a
// Store is used from one thread at a time and tickets come from many.
class StoreVariantFiles final : public htsget::VariantFileSource {
 public:
  explicit StoreVariantFiles(node::NodeDir node) : node_(std::move(node)) {}
  Result<model::VariantFile> Find(const std::string& id) const override {
    ASSIGN_OR_RETURN(auto store, node_.OpenStore());
    return store->FindVariantFile(id);
  }

 private:
  node::NodeDir node_;
};

}  // namespace

NodeService::NodeService(node::NodeDir node, index::Vocabulary vocab, auth::DuoOntology duo)
    : node_(std::move(node)),
      vocab_(std::move(vocab)),
      duo_(std::move(duo)),
      gate_(gate::GateConfig{node_.config().count_step}),
      clock_(auth::SystemClock()) {
  const node::NodeConfig& c = node_.config();
  // Access: the issuers node.yaml trusts, plus the node itself for the grants of its permits.
  auth::AccessConfig access = c.access;
  const std::string own_issuer = access.issuer.empty() ? "urn:oncomesh:node:" + c.name : access.issuer;
  access.trusted_issuers.push_back({own_issuer, "", "", false, {"ControlledAccessGrants"}});
  const std::string ca_file = access.ca_file;
  issuer_keys_ = std::make_shared<auth::IssuerKeys>(
      access.trusted_issuers, node_.dir(),
      [ca_file](const std::string& url) { return http::FetchHttps(url, ca_file); }, clock_);
  issuer_keys_->AddKeys(own_issuer, {node_.signing_key()});
  passports_ = std::make_unique<auth::PassportVerifier>(access, issuer_keys_, clock_);
  std::vector<auth::DatasetGrants> grants;
  for (const node::DatasetConfig& d : c.datasets) grants.push_back({d.id, d.grant_values});
  // The node's own grants count only while their permit stands (permits_ is set in Open).
  access_policy_ = std::make_unique<auth::AccessPolicy>(
      access, own_issuer, std::move(grants), [this](const auth::Visa& visa) { return permits_->CheckGrant(visa); });

  identity_.id = "org.oncomesh.node." + c.name;
  identity_.name = "OncoMesh node " + c.name;
  identity_.description =
      "Beacon v2 over the cancer data of " + c.organization + "; counts are disclosure-controlled.";
  identity_.organization_id = c.name;
  identity_.organization_name = c.organization;
  htsget::HtsgetConfig h;
  h.node_dir = node_.dir();
  h.files = std::make_shared<StoreVariantFiles>(node_);
  h.caller = [this](const http::Request& r) { return CallerFor(r); };
  h.organization_name = c.organization.empty() ? identity_.name : c.organization;
  htsget_ = std::make_shared<htsget::HtsgetService>(std::move(h));
}

NodeService::~NodeService() { Stop(); }

Result<std::unique_ptr<NodeService>> NodeService::Open(const std::string& node_dir) {
  ASSIGN_OR_RETURN(node::NodeDir node, node::NodeDir::Open(node_dir));
  ASSIGN_OR_RETURN(index::Vocabulary vocab, index::Vocabulary::LoadEmbedded());
  ASSIGN_OR_RETURN(auth::DuoOntology duo, auth::DuoOntology::LoadEmbedded());
  std::vector<node::DatasetConfig>& datasets = node.mutable_config().datasets;
  for (size_t i = 0; i < datasets.size(); ++i) {
    if (!datasets[i].data_use) continue;
    ASSIGN_OR_RETURN(datasets[i].data_use,
                     auth::ResolveDataUseCondition(*datasets[i].data_use, duo,
                                                   node_dir + "/node.yaml: datasets[" +
                                                       std::to_string(i) + "].data_use"));
  }
  std::unique_ptr<NodeService> service(
      new NodeService(std::move(node), std::move(vocab), std::move(duo)));
  RETURN_IF_ERROR(service->issuer_keys_->LoadFiles());
  audit::AuditOptions audit_options;
  audit_options.node_name = service->node_.config().name;
  audit_options.signing_key = service->node_.signing_key();
  ASSIGN_OR_RETURN(service->audit_, audit::AuditLog::Open(service->node_.audit_dir(), audit_options));
  service->matcher_ =
      std::make_unique<auth::DuoMatcher>(service->duo_, auth::DiseaseHierarchyOf(service->vocab_));
  audit::AuditLog* log = service->audit_.get();
  service->permits_ = admin::MakePermitService(service->node_, service->duo_, *service->matcher_,
                                               [log](const audit::Entry& e) { return log->AppendSync(e).status(); });
  RETURN_IF_ERROR(service->permits_->Reload());
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
  if (audit_) {
    if (Status st = audit_->Close(); !st.ok()) spdlog::error("node {}: audit log: {}", node_.config().name, st.ToString());
  }
}

void NodeService::Register(http::Router& router) {
  std::ifstream token_file(node_.admin_token_path());
  std::string admin_token((std::istreambuf_iterator<char>(token_file)), std::istreambuf_iterator<char>());
  admin::AddAdminRoutes(router, *permits_, node_, admin_token);
  RegisterNodeInfoRoutes(*this, router);
  RegisterNodeCollectionRoutes(*this, router);
  RegisterNodeEntryRoutes(*this, router);
  htsget::AddHtsgetRoutes(router, htsget_);
  dicomweb::AddDicomwebRoutes(router, std::make_shared<dicomweb::DicomwebService>(
                                          node_, [this](const http::Request& r) { return CallerFor(r); }));
}

Result<auth::Caller> NodeService::CallerFor(const http::Request& request) const {
  const std::string* authorization = request.Header("authorization");
  if (authorization == nullptr) return access_policy_->Evaluate(nullptr, clock_());
  // RFC 6750 section 2.1: "Bearer" (case-insensitive) and the token.
  const std::string& h = *authorization;
  if (h.size() < 8 || strncasecmp(h.c_str(), "Bearer ", 7) != 0) {
    return Unauthenticated("the Authorization header must be 'Bearer <GA4GH Passport JWT>'");
  }
  std::string_view token(h);
  token.remove_prefix(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  ASSIGN_OR_RETURN(std::shared_ptr<const auth::Passport> passport, passports_->Verify(token));
  return access_policy_->Evaluate(std::move(passport), clock_());
}

http::Response NodeService::RouterError(int status, const std::string& message) const {
  return ErrorResponse(identity_, status, message);
}

}  // namespace oncomesh::api
