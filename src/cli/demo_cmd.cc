// oncomesh demo: the main job on embedded defaults. Makes three synthetic hospitals, ingests
// their FHIR exports into three nodes, serves them and a hub on loopback, asks the federation
// a few real questions, prints the answers and the services' URLs, then waits for Ctrl-C.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include "api/node_service.h"
#include "audit/verify.h"
#include "auth/jose.h"
#include "auth/permits.h"
#include "cli/commands.h"
#include "cli/query_client.h"
#include "cli/signals.h"
#include "hub/hub_service.h"
#include "ingest/dicom/dicom_ingest.h"
#include "ingest/fhir/fhir_ingest.h"
#include "ingest/vcf/vcf_ingest.h"
#include "synth/synth.h"

namespace oncomesh::cli {

namespace {
namespace fs = std::filesystem;

struct DemoOptions {
  std::string dir = "oncomesh-demo";
  std::vector<int64_t> sizes = {200000, 50000, 10000};
  uint64_t seed = 42;
  bool wait = true;
};

struct Site {
  std::string name;
  std::string profile;
};

const Site kSites[] = {{"university-hospital", "comprehensive"},
                       {"city-hospital", "general"},
                       {"regional-hospital", "regional"}};

struct ExampleQuery {
  const char* question;
  const char* entry;
  std::vector<std::string> filters;
  std::multimap<std::string, std::string> variant = {};  // g_variant parameters
};

const ExampleQuery kQueries[] = {
    {"Women aged 40-60 at diagnosis with stage III HER2-positive breast cancer who received "
     "trastuzumab",
     "individuals",
     {"NCIT:C16576", "ICD10:C50", "NCIT:C27970", "NCIT:C68748", "ATC:L01FD01", "age>=P40Y",
      "age<=P60Y"}},
    {"Lung or colorectal cancer, not stage IV",
     "individuals",
     {"ICD10:C34|ICD10:C18|ICD10:C19|ICD10:C20", "!NCIT:C27971"}},
    {"Breast or lung cancer diagnosed since 2015 treated with an immune checkpoint inhibitor "
     "(ATC L01FF)",
     "individuals",
     {"ICD10:C50|ICD10:C34", "dateOfDiagnosis>=2015-01-01", "ATC:L01FF"}},
    {"Men with prostate cancer of stage III or higher who have died",
     "individuals",
     {"NCIT:C20197", "ICD10:C61", "stage>=III", "NCIT:C28554"}},
    {"Biosamples of women with ER-positive breast cancer diagnosed before 50",
     "biosamples",
     {"ICD10:C50", "NCIT:C15492", "age<P50Y"}},
    {"Women with breast cancer carrying BRCA1 c.68_69del (GRCh38 17:43124027 ACT>A, in their "
     "genomes)",
     "individuals",
     {"NCIT:C16576", "ICD10:C50"},
     {{"assemblyId", "GRCh38"},
      {"referenceName", "17"},
      {"start", "43124026"},
      {"referenceBases", "ACT"},
      {"alternateBases", "A"}}},
    {"Colorectal cancer with KRAS G12D in the genome",
     "individuals",
     {"ICD10:C18|ICD10:C19|ICD10:C20"},
     {{"geneId", "KRAS"}, {"aminoacidChange", "G12D"}}},
    {"Variants in TP53 that patients with lung cancer carry",
     "g_variants",
     {"ICD10:C34"},
     {{"geneId", "TP53"}}},
    {"Breast cancer patients with a mammogram and a lesion segmentation (DICOM SEG) at the node",
     "individuals",
     {"ICD10:C50", "DCM:MG", "DCM:SEG"}},
    {"Patients with a CT of the chest (SNOMED CT 816094009, DICOM Body Part Examined CHEST) "
     "and a segmentation",
     "individuals",
     {"DCM:CT", "SNOMED:816094009", "DCM:SEG"}},
};

// The demo's stand-in for a researcher's identity provider (a GA4GH Passport Broker such as
// LS Login or ELIXIR AAI): its own signing key in DEMO_DIR/broker.jwk, whose public half every
// demo node trusts from DEMO_DIR/broker.jwks.json. Real nodes trust real brokers by their https
// issuer URL (node.yaml access.trusted_issuers).
constexpr const char* kDemoBroker = "https://broker.demo.oncomesh.invalid";
constexpr const char* kDemoResearcher = "demo-researcher";
constexpr const char* kBonaFide = "https://doi.org/10.1038/s41431-018-0219-y";

Result<auth::Jwk> DemoBrokerKey(const std::string& dir) {
  const std::string path = dir + "/broker.jwk";
  std::ifstream in(path);
  if (in) {
    std::stringstream text;
    text << in.rdbuf();
    return auth::Jwk::ParseText(text.str());
  }
  fs::create_directories(dir);
  ASSIGN_OR_RETURN(auth::Jwk key, auth::Jwk::GenerateEs256());
  std::ofstream(path) << key.PrivateJsonText();
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  std::ofstream(dir + "/broker.jwks.json")
      << nlohmann::json{{"keys", {key.PublicJson()}}}.dump(2) << "\n";
  return key;
}

// A passport from the demo broker for the demo researcher: a bona fide ResearcherStatus visa
// (registered access), plus `extra_visas` (e.g. the ControlledAccessGrants a node signed).
Result<std::string> DemoPassport(const auth::Jwk& key,
                                 const std::vector<std::string>& extra_visas) {
  const int64_t now = auth::SystemClock()();
  const nlohmann::json status = {{"iss", kDemoBroker},
                                 {"sub", kDemoResearcher},
                                 {"iat", now},
                                 {"exp", now + 12 * 3600},
                                 {"ga4gh_visa_v1",
                                  {{"type", "ResearcherStatus"},
                                   {"asserted", now},
                                   {"value", kBonaFide},
                                   {"source", kDemoBroker},
                                   {"by", "system"}}}};
  ASSIGN_OR_RETURN(std::string status_visa, auth::SignJws(key, status.dump()));
  std::vector<std::string> visas = {status_visa};
  visas.insert(visas.end(), extra_visas.begin(), extra_visas.end());
  const nlohmann::json passport = {{"iss", kDemoBroker},
                                   {"sub", kDemoResearcher},
                                   {"iat", now},
                                   {"exp", now + 12 * 3600},
                                   {"ga4gh_passport_v1", visas}};
  return auth::SignJws(key, passport.dump(), "vnd.ga4gh.passport+jwt");
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Synthesises and ingests one site unless its node already holds that data.
Status PrepareSite(const DemoOptions& o, const Site& site, int64_t individuals, size_t index) {
  const std::string node_dir = o.dir + "/nodes/" + site.name;
  const std::string fhir_dir = o.dir + "/fhir/" + site.name;
  const std::string marker = node_dir + "/demo-" + std::to_string(individuals) + "-" +
                             std::to_string(o.seed) + "-genomes-images-passports.done";
  if (fs::exists(marker)) {
    std::cout << "  " << site.name << ": ready from an earlier run (" << individuals
              << " individuals)\n";
    return Status::Ok();
  }
  std::error_code ec;
  fs::remove_all(node_dir, ec);
  auto start = std::chrono::steady_clock::now();
  synth::SynthOptions so;
  so.site = site.name;
  so.individuals = individuals;
  so.seed = o.seed + index;
  so.out_dir = fhir_dir;
  so.profile = site.profile;
  // Genomes stay small so the demo stays quick: 500 samples x 2,000 background sites.
  so.genomes = std::min<int64_t>(individuals, 500);
  so.genome_sites = 2000;
  // And 60 small imaging studies (CT/MR/MG with a segmentation), sent through the ingest.
  so.images = 60;
  synth::SynthReport synth_report;
  RETURN_IF_ERROR(synth::WriteSyntheticSite(so, &synth_report));
  std::cout << "  " << site.name << ": synthesised " << individuals << " individuals ("
            << site.profile << " case mix) and " << synth_report.genomes << " genomes ("
            << synth_report.genome_records << " VCF records), " << synth_report.image_studies
            << " imaging studies in " << std::fixed << std::setprecision(1) << Seconds(start)
            << " s\n";
  start = std::chrono::steady_clock::now();
  node::NodeConfig config;
  config.name = site.name;
  config.organization = "Synthetic " + site.name;
  config.datasets = {{site.name + "-cancer-registry", "Cancer registry of " + site.name,
                      "Synthetic cancer patients of " + site.name + " (FHIR R4 / mCODE export)"}};
  // Consent: health/medical/biomedical research, not for profit (DUO HMB + NPU).
  config.datasets[0].data_use = model::DataUseCondition{"HMB", {}, {model::DataUseModifier{"NPU"}}};
  config.access.trusted_issuers.push_back(
      {kDemoBroker,
       "",
       fs::absolute(o.dir + "/broker.jwks.json").string(),
       true,
       {"ResearcherStatus", "AffiliationAndRole", "AcceptedTermsAndPolicies", "LinkedIdentities"}});
  ASSIGN_OR_RETURN(node::NodeDir node, node::NodeDir::Init(node_dir, config));
  ASSIGN_OR_RETURN(auto store, node.OpenStore());
  ASSIGN_OR_RETURN(ingest::IngestReport report, ingest::IngestFhir(node, *store, {fhir_dir}));
  if (report.FilesFailed() > 0) {
    for (const auto& f : report.files) {
      if (!f.status.ok()) return f.status.WithContext("ingest " + f.path);
    }
  }
  std::cout << "  " << site.name << ": ingested " << report.RecordsAdded() << " records in "
            << std::fixed << std::setprecision(1) << Seconds(start) << " s\n";
  if (synth_report.genomes > 0) {
    start = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(ingest::IngestReport vcf,
                     ingest::IngestVcf(node, *store, {fhir_dir + "/genomes.vcf.gz"}, {}));
    for (const auto& f : vcf.files) {
      if (!f.status.ok()) return f.status.WithContext("ingest " + f.path);
    }
    std::cout << "  " << site.name << ": ingested " << vcf.RecordsAdded()
              << " variants and genotype calls in " << std::fixed << std::setprecision(1)
              << Seconds(start) << " s\n";
  }
  if (synth_report.image_studies > 0) {
    start = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(ingest::IngestReport dicom,
                     ingest::IngestDicom(node, *store, {fhir_dir + "/dicom"}, {}));
    for (const auto& f : dicom.files) {
      if (!f.status.ok()) return f.status.WithContext("ingest " + f.path);
    }
    std::cout << "  " << site.name << ": ingested " << dicom.RecordsAdded()
              << " DICOM instances (de-identified) in " << std::fixed << std::setprecision(1)
              << Seconds(start) << " s\n";
  }
  // The node keeps only its de-identified store (and its copies of the VCF and the images).
  fs::remove_all(fhir_dir, ec);
  std::ofstream(marker) << "ok\n";
  return Status::Ok();
}

// The permit workflow on the first node: the demo researcher asks for its dataset for lung
// cancer research, the node's DUO matcher finds the purpose compatible with the consent
// (HMB + NPU), the committee approves, the node signs a ControlledAccessGrants visa, and a
// passport carrying it gets record-level variant results from that node.
void DemoPermit(const DemoOptions& o, api::NodeService& node, const auth::Jwk& broker,
                uint16_t port) {
  const std::string dataset = node.node().config().datasets[0].id;
  std::cout << "\nA data permit on " << node.node().config().name
            << " (oncomesh permit; README: data access "
               "committees):\n";
  auth::PermitRequest request{
      kDemoResearcher,
      kDemoBroker,
      {dataset},
      R"({"id": "DS", "diseases": ["NCIT:C4878"], "not_for_profit_organisation": true})",
      "Lung cancer drivers",
      "TP53 and KRAS carriers among lung cancer patients",
      90};
  Result<auth::Permit> permit = node.permits().Request(request, "demo");
  if (permit.ok())
    permit =
        node.permits().Approve(permit->id, "demo data access committee", "consent allows it", "");
  if (!permit.ok()) {
    std::cout << "  error: " << permit.status().message() << "\n";
    return;
  }
  std::cout << "  " << permit->id
            << ": DS lung carcinoma research vs the dataset's HMB + NPU consent: "
            << (permit->override_reason.empty() ? "compatible" : "override")
            << ", approved for 90 days\n";
  Result<std::string> passport = DemoPassport(broker, permit->visas);
  if (!passport.ok()) return;
  std::ofstream(o.dir + "/passport-permitted.jwt") << *passport << "\n";
  std::cout << "  the node signed a ControlledAccessGrants visa; a passport holding it is in "
            << o.dir << "/passport-permitted.jwt\n";
  Result<QueryAnswer> records = PostBeaconQuery("127.0.0.1", port, "g_variants", {"ICD10:C34"},
                                                "record", {{"geneId", "TP53"}}, *passport);
  if (records.ok()) {
    const nlohmann::json sets = records->body.value("response", nlohmann::json::object())
                                    .value("resultSets", nlohmann::json::array());
    size_t calls = 0, variants = 0;
    for (const nlohmann::json& set : sets) {
      for (const nlohmann::json& r : set.value("results", nlohmann::json::array())) {
        ++variants;
        calls += r.value("caseLevelData", nlohmann::json::array()).size();
      }
    }
    std::cout << "  record level with the permit: " << variants
              << (variants == 1 ? " TP53 variant" : " TP53 variants")
              << " of lung cancer patients, " << calls
              << (calls == 1 ? " carrier call" : " carrier calls") << " (pseudonymous ids)\n";
  } else {
    std::cout << "  record level with the permit: " << records.status().message() << "\n";
  }
  Result<QueryAnswer> refused =
      PostBeaconQuery("127.0.0.1", port, "g_variants", {"ICD10:C34"}, "record",
                      {{"geneId", "TP53"}}, *DemoPassport(broker, {}));
  std::cout << "  the same question without the permit: "
            << (refused.ok() ? "answered (unexpected)" : refused.status().message()) << "\n";
}

// What the first node's audit trail says of this demo: the entries of its last start (every
// question above reached it through the hub, and the permit decisions), the last few of them in
// brief, and the chain verified as `oncomesh audit verify` does.
void DemoAudit(api::NodeService& node) {
  const std::string dir = node.node().audit_dir();
  std::cout << "\nThe audit trail of " << node.node().config().name << " (" << dir
            << "; docs/audit.md): every request, refusal and permit decision, hash-chained\n";
  std::vector<std::string> names;
  for (const fs::directory_entry& f : fs::directory_iterator(dir)) {
    if (f.path().extension() == ".jsonl") names.push_back(f.path().string());
  }
  std::sort(names.begin(), names.end());
  std::vector<nlohmann::json> run;  // entries since the last open
  for (const std::string& name : names) {
    std::ifstream in(name);
    for (std::string line; std::getline(in, line);) {
      nlohmann::json e = nlohmann::json::parse(line, nullptr, false);
      if (e.is_discarded()) continue;
      if (e.value("type", "") == "open") run.clear();
      run.push_back(std::move(e));
    }
  }
  std::map<std::string, int> by_type;
  for (const nlohmann::json& e : run) ++by_type[e.value("type", "")];
  std::cout << "  this run:";
  for (const auto& [type, n] : by_type) std::cout << " " << n << " " << type;
  std::cout << "\n";
  const size_t shown = std::min<size_t>(run.size(), 5);
  for (size_t i = run.size() - shown; i < run.size(); ++i) {
    const nlohmann::json& e = run[i];
    std::cout << "  #" << e.value("seq", 0) << " " << e.value("type", "");
    if (e.contains("permit")) {
      std::cout << " " << e["permit"].value("action", "") << " " << e["permit"].value("id", "")
                << " by " << e["caller"].value("subject", "");
    } else if (e.contains("request")) {
      const nlohmann::json& c = e["caller"];
      std::cout << " " << e["outcome"].value("status", 0) << " " << e["request"].value("method", "")
                << " " << e["request"].value("path", "") << " by "
                << (c.value("anonymous", false) ? "anonymous" : c.value("subject", "?"));
      const nlohmann::json& d = e["disclosed"];
      std::cout << "; left:";
      for (const nlohmann::json& f : d["figures"])
        std::cout << " " << f.value("name", "") << "=" << f.value("value", 0);
      for (const nlohmann::json& r : d["records"]) {
        std::cout << " " << r["ids"].size() << " " << r.value("kind", "") << " ids";
      }
      if (d["figures"].empty() && d["records"].empty() && d["files"].empty())
        std::cout << " nothing";
      if (!e["outcome"].value("reason", "").empty())
        std::cout << "; refused: " << e["outcome"].value("reason", "");
    }
    std::cout << "\n";
  }
  // A signed checkpoint now (the node writes one every 1000 entries or 60 s, and at stop).
  if (Result<audit::Receipt> cp = node.audit().Checkpoint(); !cp.ok()) {
    std::cout << "  checkpoint: " << cp.status().message() << "\n";
  }
  Result<audit::VerifyReport> report = audit::VerifyLogDirectory(dir, {node.node().signing_key()});
  if (!report.ok()) {
    std::cout << "  audit verify: " << report.status().message() << "\n";
  } else if (!report->ok()) {
    std::cout << "  audit verify: BROKEN: " << report->problem->ToString() << "\n";
  } else {
    std::cout << "  audit verify: " << report->entries << " entries, chain intact, "
              << report->checkpoints
              << (report->checkpoints == 1 ? " signed checkpoint" : " signed checkpoints")
              << " (oncomesh audit verify --dir " << node.node().dir() << ")\n";
  }
}

int RunDemo(const DemoOptions& o) {
  BlockTerminationSignals();
  if (o.sizes.size() != 3) {
    std::cerr << "oncomesh demo: --sizes takes three numbers\n";
    return 2;
  }
  std::cout << "OncoMesh demo: three synthetic hospitals, each a node, federated by a hub.\n";
  Result<auth::Jwk> broker = DemoBrokerKey(o.dir);
  if (!broker.ok()) {
    std::cerr << "oncomesh demo: " << broker.status().message() << "\n";
    return 1;
  }
  std::cout << "Preparing the nodes in " << o.dir << "/nodes\n";
  for (size_t i = 0; i < 3; ++i) {
    if (Status st = PrepareSite(o, kSites[i], o.sizes[i], i); !st.ok()) {
      std::cerr << "oncomesh demo: " << st.message() << "\n";
      return 1;
    }
  }

  std::vector<std::unique_ptr<api::NodeService>> services;
  std::vector<std::unique_ptr<http::Server>> servers;
  hub::HubConfig hub_config;
  hub_config.name = "demo";
  for (const Site& site : kSites) {
    Result<std::unique_ptr<api::NodeService>> service =
        api::NodeService::Open(o.dir + "/nodes/" + site.name);
    if (!service.ok()) {
      std::cerr << "oncomesh demo: " << service.status().message() << "\n";
      return 1;
    }
    http::Router router;
    (*service)->Register(router);
    http::ServerOptions options;
    options.threads = 2;
    (*service)->ConfigureServer(&options);
    auto server = std::make_unique<http::Server>(std::move(router), options);
    if (Status st = server->Start(); !st.ok()) {
      std::cerr << "oncomesh demo: " << st.message() << "\n";
      return 1;
    }
    (*service)->StartRefresher(std::chrono::seconds(2));
    hub_config.nodes.push_back({site.name, "127.0.0.1", server->port()});
    services.push_back(std::move(*service));
    servers.push_back(std::move(server));
  }
  hub::HubService hub(hub_config);
  http::ServerOptions hub_options;
  hub_options.threads = 2;
  hub_options.error_response = [&hub](int s, const std::string& m) {
    return hub.RouterError(s, m);
  };
  http::Server hub_server(http::Router(), hub_options);
  hub.Register(hub_server.router(), hub_server.io());
  // The hub's clients to the nodes live on hub_server's io_context: closed before it goes,
  // whichever way this function returns.
  struct CloseClients {
    hub::HubService& hub;
    ~CloseClients() { hub.Close(); }
  } close_clients{hub};
  if (Status st = hub_server.Start(); !st.ok()) {
    std::cerr << "oncomesh demo: " << st.message() << "\n";
    return 1;
  }

  Result<std::string> passport = DemoPassport(*broker, {});
  if (!passport.ok()) {
    std::cerr << "oncomesh demo: " << passport.status().message() << "\n";
    return 1;
  }
  std::ofstream(o.dir + "/passport.jwt") << *passport << "\n";
  {
    const ExampleQuery& q = kQueries[0];
    std::cout << "\nAn anonymous question gets a yes/no answer only (GA4GH Beacon boolean):\n  "
              << q.question << "\n    ";
    Result<QueryAnswer> answer =
        PostBeaconQuery("127.0.0.1", hub_server.port(), q.entry, q.filters, "count");
    if (answer.ok()) {
      PrintAnswer(std::cout, *answer);
    } else {
      std::cout << "error: " << answer.status().message() << "\n";
    }
  }
  std::cout
      << "\nExample questions to the hub as a registered researcher (a GA4GH Passport with a bona "
         "fide "
         "ResearcherStatus visa from the demo broker, saved in "
      << o.dir
      << "/passport.jwt; Beacon v2 POST /api/individuals, /api/biosamples or /api/g_variants; "
         "each node rounds its counts up to a multiple of 10):\n";
  for (const ExampleQuery& q : kQueries) {
    std::cout << "\n  " << q.question << "\n    filters:";
    for (const std::string& f : q.filters) std::cout << " " << f;
    std::cout << "\n    ";
    if (!q.variant.empty()) {
      std::cout << "variant:";
      for (const auto& [name, value] : q.variant) std::cout << " " << name << "=" << value;
      std::cout << "\n    ";
    }
    Result<QueryAnswer> answer = PostBeaconQuery("127.0.0.1", hub_server.port(), q.entry, q.filters,
                                                 "count", q.variant, *passport);
    if (!answer.ok()) {
      std::cout << "error: " << answer.status().message() << "\n";
      continue;
    }
    PrintAnswer(std::cout, *answer);
  }
  DemoPermit(o, *services[0], *broker, servers[0]->port());
  DemoAudit(*services[0]);
  std::cout << "\n";
  std::cout << "hub http://127.0.0.1:" << hub_server.port() << "\n";
  for (size_t i = 0; i < servers.size(); ++i) {
    std::cout << "node " << kSites[i].name << " http://127.0.0.1:" << servers[i]->port() << "\n";
  }
  std::cout << "ready" << std::endl;
  if (o.wait) {
    WaitForTerminationSignal();
    std::cout << "stopping\n";
  }
  hub_server.Stop();
  for (auto& s : servers) s->Stop();
  for (auto& s : services) s->Stop();
  return 0;
}

}  // namespace

void RegisterDemoCommand(CLI::App& app) {
  auto o = std::make_shared<DemoOptions>();
  CLI::App* demo = app.add_subcommand(
      "demo", "Run a demo federation of three synthetic hospitals and a hub on loopback");
  demo->add_option("--dir", o->dir, "Where the demo keeps its nodes")->capture_default_str();
  demo->add_option("--sizes", o->sizes, "Individuals at the three sites")
      ->delimiter(',')
      ->expected(3)
      ->capture_default_str();
  demo->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  demo->add_flag("!--no-wait", o->wait, "Exit after printing 'ready' instead of serving");
  demo->callback([o] { SetExitCode(RunDemo(*o)); });
}

}  // namespace oncomesh::cli
