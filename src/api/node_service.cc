#include "api/node_service.h"

#include <spdlog/spdlog.h>
#include <strings.h>

#include <fstream>
#include <iterator>

#include "api/admin/admin_service.h"
#include "api/dicomweb/dicomweb_service.h"

namespace oncomesh::api {
namespace {

// htsget's files: the VariantFile records of the node's store. A store per lookup, because a
// Store is used from one thread at a time and tickets come from many.
class StoreVariantFiles final : public htsget::VariantFileSource {
 public:
  explicit StoreVariantFiles(node::NodeDir node) : node_(std::move(node)) {}
  Result<model::VariantFile> Find(const std::string& id) const override {
    ASSIGN_OR_RETURN(auto store, node_.OpenStore());
    ASSIGN_OR_RETURN(model::VariantFile file, store->FindVariantFile(id));
    // A sample of no known individual could be of any dataset: the file needs a permit for
    // every one. (Individuals of no dataset were put in the first when the node opened.)
    if (file.unlinked_samples > 0) {
      for (const node::DatasetConfig& d : node_.config().datasets) file.datasets.push_back(d.id);
    }
    return file;
  }

 private:
  node::NodeDir node_;
};

}  // namespace

NodeService::NodeService(node::NodeDir node, index::Vocabulary vocab, auth::DuoOntology duo,
                         std::unique_ptr<audit::AuditLog> audit, bool audit_requests)
    : node_(std::move(node)),
      vocab_(std::move(vocab)),
      duo_(std::move(duo)),
      gate_(gate::GateConfig{node_.config().count_step}),
      clock_(auth::SystemClock()),
      audit_(std::move(audit)),
      audit_requests_(audit_requests) {
  const node::NodeConfig& c = node_.config();
  // Access: the issuers node.yaml trusts, plus the node itself for the grants of its permits.
  auth::AccessConfig access = c.access;
  const std::string own_issuer =
      access.issuer.empty() ? "urn:oncomesh:node:" + c.name : access.issuer;
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
      access, own_issuer, std::move(grants),
      [this](const auth::Visa& visa) { return permits_->CheckGrant(visa); });

  identity_.id = "org.oncomesh.node." + c.name;
  identity_.name = "OncoMesh node " + c.name;
  identity_.description =
      "Beacon v2 over the cancer data of " + c.organization + "; counts are disclosure-controlled.";
  identity_.organization_id = c.name;
  identity_.organization_name = c.organization;
  htsget::HtsgetConfig h;
  h.node_dir = node_.dir();
  h.public_base_url = c.public_url;
  h.files = std::make_shared<StoreVariantFiles>(node_);
  h.caller = [this](const http::Request& r) { return CallerFor(r); };
  h.organization_name = c.organization.empty() ? identity_.name : c.organization;
  htsget_ = std::make_shared<htsget::HtsgetService>(std::move(h));
}

NodeService::~NodeService() { Stop(); }

Result<std::unique_ptr<NodeService>> NodeService::Open(const std::string& node_dir,
                                                       NodeServiceOptions options) {
  ASSIGN_OR_RETURN(node::NodeDir node, node::NodeDir::Open(node_dir));
  // The audit log first: a node that cannot audit does not serve (and a second process serving
  // the same node fails here, before building an index).
  audit::AuditOptions audit_options;
  audit_options.node_name = node.config().name;
  audit_options.signing_key = node.signing_key();
  audit_options.request_durability = node.config().audit.durability;
  audit_options.file_ops = options.audit_file_ops;
  audit_options.sync_interval = node.config().audit.sync_interval;
  audit_options.checkpoint_interval = node.config().audit.checkpoint_interval;
  audit_options.open_details = {{"requests_audited", options.audit_requests}};
  if (options.audit_requests) {
    audit_options.open_details["durability"] =
        audit::DurabilityName(node.config().audit.durability);
    audit_options.open_details["sync_interval_ms"] = node.config().audit.sync_interval.count();
  } else {
    audit_options.open_details["why"] =
        "oncomesh node serve --unaudited-benchmark-only: data requests are answered without "
        "audit entries";
  }
  ASSIGN_OR_RETURN(std::unique_ptr<audit::AuditLog> audit_log,
                   audit::AuditLog::Open(node.audit_dir(), std::move(audit_options)));
  ASSIGN_OR_RETURN(index::Vocabulary vocab, index::Vocabulary::LoadEmbedded());
  ASSIGN_OR_RETURN(auth::DuoOntology duo, auth::DuoOntology::LoadEmbedded());
  std::vector<node::DatasetConfig>& datasets = node.mutable_config().datasets;
  for (size_t i = 0; i < datasets.size(); ++i) {
    if (!datasets[i].data_use) continue;
    ASSIGN_OR_RETURN(datasets[i].data_use,
                     auth::ResolveDataUseCondition(
                         *datasets[i].data_use, duo,
                         node_dir + "/node.yaml: datasets[" + std::to_string(i) + "].data_use"));
  }
  std::unique_ptr<NodeService> service(new NodeService(std::move(node), std::move(vocab),
                                                       std::move(duo), std::move(audit_log),
                                                       options.audit_requests));
  RETURN_IF_ERROR(service->issuer_keys_->LoadFiles());
  service->matcher_ =
      std::make_unique<auth::DuoMatcher>(service->duo_, auth::DiseaseHierarchyOf(service->vocab_));
  audit::AuditLog* log = service->audit_.get();
  service->permits_ = admin::MakePermitService(
      service->node_, service->duo_, *service->matcher_,
      [log](const audit::Entry& e) { return log->AppendSync(e).status(); });
  RETURN_IF_ERROR(service->permits_->Reload());
  ASSIGN_OR_RETURN(auto store, service->node_.OpenStore());
  if (!service->node_.DefaultDataset().empty()) {
    RETURN_IF_ERROR(store->SetEmptyDatasets(service->node_.DefaultDataset()));
  }
  ASSIGN_OR_RETURN(
      std::unique_ptr<index::CohortIndex> idx,
      index::CohortIndex::Build(*store, service->vocab_, service->node_.DefaultDataset()));
  spdlog::info("node {}: index of {} individuals, {} records, {:.1f} MB",
               service->node_.config().name, idx->stats().individuals, idx->stats().records,
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
  ASSIGN_OR_RETURN(std::unique_ptr<index::CohortIndex> idx,
                   index::CohortIndex::Build(*store, vocab_, node_.DefaultDataset()));
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
      if (!st.ok())
        spdlog::warn("node {}: index refresh failed: {}", node_.config().name, st.ToString());
    }
  });
}

void NodeService::Stop() {
  std::lock_guard<std::mutex> lock(stop_mu_);
  stop_ = true;
  if (refresher_.joinable()) refresher_.join();
  if (audit_ && !audit_closed_) {
    audit_closed_ = true;
    if (Status st = audit_->Close(); !st.ok()) {
      spdlog::error("node {}: the audit log closed with an error: {}", node_.config().name,
                    st.message());
    }
  }
}

Auditor NodeService::AuditorFor(ErrorFormat format) const {
  return Auditor(
      audit_requests_ ? audit_.get() : nullptr,
      [this](const http::Request& r) { return CallerFor(r); }, std::move(format));
}

void NodeService::Register(http::Router& router) {
  std::ifstream token_file(node_.admin_token_path());
  std::string admin_token((std::istreambuf_iterator<char>(token_file)),
                          std::istreambuf_iterator<char>());
  audit::AuditLog* log = audit_.get();
  admin::AddAdminRoutes(router, *permits_, node_, admin_token,
                        [log](const audit::Entry& e) { return log->AppendSync(e).status(); });
  const Auditor beacon = AuditorFor(BeaconErrorFormat(identity_));
  RegisterNodeInfoRoutes(*this, router, beacon);
  RegisterNodeCollectionRoutes(*this, router, beacon);
  RegisterNodeEntryRoutes(*this, router, beacon);
  htsget::AddHtsgetRoutes(router, AuditorFor(htsget::HtsgetErrorFormat()), htsget_);
  dicomweb::AddDicomwebRoutes(router, AuditorFor(dicomweb::DicomwebErrorFormat()),
                              std::make_shared<dicomweb::DicomwebService>(
                                  node_, [this](const http::Request& r) { return CallerFor(r); }));
}

void NodeService::ConfigureServer(http::ServerOptions* options) {
  options->error_response = [this](int status, const std::string& message) {
    return RouterError(status, message);
  };
  options->on_refusal = [this](http::Request& request, http::Response refusal,
                               http::Responder respond) {
    SendRefusal(request, std::move(refusal), std::move(respond));
  };
}

void NodeService::SendRefusal(http::Request& request, http::Response refusal,
                              http::Responder respond) const {
  if (!IsAuditedPath(request.path)) {
    respond(std::move(refusal));
    return;
  }
  Audited answer;
  answer.response = std::move(refusal);
  // The router's refusals are written as Beacon errors whatever the path (RouterError).
  AuditorFor(BeaconErrorFormat(identity_)).Send(request, std::move(answer), std::move(respond));
}

bool IsAuditedPath(std::string_view path) {
  const auto under = [&](std::string_view root) {
    return path == root || (path.size() > root.size() && path.substr(0, root.size()) == root &&
                            path[root.size()] == '/');
  };
  if (under("/api")) {
    // Beacon's informational endpoints (api/beacon/node_info_routes.cc), with or without a
    // trailing slash; /api/filtering_terms is not one of them.
    for (std::string_view exempt : {"/api", "/api/info", "/api/service-info", "/api/configuration",
                                    "/api/map", "/api/entry_types"}) {
      if (path == exempt || (path.size() == exempt.size() + 1 &&
                             path.substr(0, exempt.size()) == exempt && path.back() == '/')) {
        return false;
      }
    }
    return true;
  }
  if (under("/variants")) return path != "/variants/service-info";
  return under("/dicomweb");
}

ErrorFormat BeaconErrorFormat(const BeaconIdentity& identity) {
  ErrorFormat format;
  format.error = [identity](const http::Request& request, int status, const std::string& message) {
    const std::string& p = request.path;
    const std::string entity = p.rfind("/api/biosamples", 0) == 0   ? "biosample"
                               : p.rfind("/api/g_variants", 0) == 0 ? "genomicVariation"
                               : p.rfind("/api/datasets", 0) == 0   ? "dataset"
                               : p.rfind("/api/cohorts", 0) == 0    ? "cohort"
                                                                    : "individual";
    return ErrorResponse(identity, status, message, nullptr, entity);
  };
  format.message_of = [](const http::Response& r) {
    return JsonErrorMessage(r, "/error/errorMessage");
  };
  return format;
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
