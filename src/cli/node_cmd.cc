// oncomesh node init|serve
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "api/node_service.h"
#include "cli/commands.h"
#include "cli/node_commands.h"
#include "cli/signals.h"
#include "http/http.h"
#include "ingest/dicom/store_scp.h"

namespace oncomesh::cli {

namespace {

struct ServeOptions {
  std::string dir;
  std::string address;
  int port = -1;
  int threads = 0;
  int refresh_ms = 1000;
  int dicom_port = -1;
  bool unaudited_benchmark_only = false;
};

bool IsLoopback(const std::string& address) {
  return address == "localhost" || address == "::1" || address.rfind("127.", 0) == 0;
}

int Serve(const ServeOptions& o) {
  BlockTerminationSignals();
  Result<node::NodeDir> dir = node::NodeDir::Open(o.dir);
  if (!dir.ok()) {
    std::cerr << "oncomesh node serve: " << dir.status().message() << "\n";
    return 1;
  }
  const std::string address = o.address.empty() ? dir->config().address : o.address;
  if (o.unaudited_benchmark_only) {
    // Measuring what the audit costs needs a node without it; nothing else does. So it is a
    // flag no one sets by accident, refused on anything but the loopback, and loud.
    if (!IsLoopback(address)) {
      std::cerr << "oncomesh node serve: --unaudited-benchmark-only listens on the loopback "
                   "only, not on "
                << address << "\n";
      return 2;
    }
    std::cerr << "WARNING: --unaudited-benchmark-only: this node answers data requests WITHOUT "
                 "writing audit entries (issue 5 forbids that in any real use). For measuring "
                 "the audit's cost only; its audit log records that it ran so.\n";
  }
  api::NodeServiceOptions service_options;
  service_options.audit_requests = !o.unaudited_benchmark_only;
  Result<std::unique_ptr<api::NodeService>> service =
      api::NodeService::Open(o.dir, service_options);
  if (!service.ok()) {
    std::cerr << "oncomesh node serve: " << service.status().message() << "\n";
    return 1;
  }
  const node::NodeConfig& config = (*service)->node().config();
  http::Router router;
  (*service)->Register(router);
  http::ServerOptions options;
  options.address = address;
  options.port = static_cast<uint16_t>(o.port >= 0 ? o.port : config.port);
  options.threads = o.threads > 0 ? o.threads : config.threads;
  (*service)->ConfigureServer(&options);
  http::Server server(std::move(router), options);
  if (Status st = server.Start(); !st.ok()) {
    std::cerr << "oncomesh node serve: " << st.message() << "\n";
    return 1;
  }
  (*service)->StartRefresher(std::chrono::milliseconds(o.refresh_ms));
  // The DICOM receiver: what it stores, the refresher puts in the index like any ingest.
  std::unique_ptr<ingest::StoreScp> scp;
  const int dicom_port = o.dicom_port >= 0 ? o.dicom_port : config.imaging.dicom_port;
  if (dicom_port > 0) {
    ingest::StoreScpOptions scp_options;
    scp_options.port = static_cast<uint16_t>(dicom_port);
    scp_options.address =
        config.imaging.dicom_address.empty() ? address : config.imaging.dicom_address;
    scp_options.ae_title = config.imaging.ae_title;
    scp_options.allowed_calling_ae_titles = config.imaging.allowed_calling_ae_titles;
    scp_options.ingest.deid = config.imaging.deid;
    Result<std::unique_ptr<ingest::StoreScp>> started =
        ingest::StoreScp::Start((*service)->node(), scp_options);
    if (!started.ok()) {
      std::cerr << "oncomesh node serve: " << started.status().message() << "\n";
      server.Stop();
      (*service)->Stop();
      return 1;
    }
    scp = std::move(*started);
  }
  std::cout << "node " << config.name << " http://" << options.address << ":" << server.port()
            << std::endl;
  if (scp) {
    std::cout << "node " << config.name << " dicom " << scp->ae_title() << "@"
              << (config.imaging.dicom_address.empty() ? address : config.imaging.dicom_address)
              << ":" << scp->port() << std::endl;
  }
  // Where `oncomesh permit` finds this process (it holds the audit log while it serves).
  const std::string serve_info = (*service)->node().serve_info_path();
  {
    const std::string host = options.address == "0.0.0.0" ? "127.0.0.1" : options.address;
    std::ofstream(serve_info) << nlohmann::json{{"pid", getpid()},
                                                {"url", "http://" + host + ":" +
                                                            std::to_string(server.port())}}
                                     .dump()
                              << "\n";
  }
  const int signal = WaitForTerminationSignal();
  std::remove(serve_info.c_str());
  spdlog::info("node {}: signal {}, stopping", config.name, signal);
  if (scp) scp->Stop();
  server.Stop();
  (*service)->Stop();
  return 0;
}

// What a node holds: for its operators.
int Info(const std::string& dir, int largest) {
  Result<node::NodeDir> node = node::NodeDir::Open(dir);
  if (!node.ok()) {
    std::cerr << "oncomesh node info: " << node.status().message() << "\n";
    return 1;
  }
  Result<std::unique_ptr<store::Store>> store = node->OpenStore();
  Result<index::Vocabulary> vocab = index::Vocabulary::LoadEmbedded();
  if (!store.ok() || !vocab.ok()) {
    std::cerr << "oncomesh node info: " << (store.ok() ? vocab.status() : store.status()).message()
              << "\n";
    return 1;
  }
  Result<std::vector<store::SourceFile>> files = (*store)->ListSourceFiles();
  const auto start = std::chrono::steady_clock::now();
  Result<std::unique_ptr<index::CohortIndex>> idx = index::CohortIndex::Build(**store, *vocab);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!idx.ok() || !files.ok()) {
    std::cerr << "oncomesh node info: " << (idx.ok() ? files.status() : idx.status()).message()
              << "\n";
    return 1;
  }
  const index::IndexStats& s = (*idx)->stats();
  const double n = s.individuals ? static_cast<double>(s.individuals) : 1.0;
  const node::NodeConfig& c = node->config();
  std::cout << "node " << c.name << " (" << c.organization << ")\n"
            << "  listen        " << c.address << ":" << c.port << ", " << c.threads << " threads\n"
            << "  count step    " << c.count_step << "\n"
            << "  files         " << files->size() << " ingested\n"
            << "  individuals   " << s.individuals << "\n"
            << "  records       " << s.records << " (" << s.skipped_records
            << " of unknown individuals)\n"
            << "  biosamples    " << s.biosamples << "\n"
            << "  index         " << s.terms << " postings, built in " << seconds << " s\n"
            << "  index memory  " << s.memory_bytes << " bytes, "
            << static_cast<double>(s.memory_bytes) / n << " per individual (terms "
            << static_cast<double>(s.exact_bytes) / n << ", descendants "
            << static_cast<double>(s.descendant_bytes) / n << ", ranges "
            << static_cast<double>(s.attribute_bytes) / n << ")\n";
  for (const auto& p : (*idx)->LargestPostings(static_cast<size_t>(largest))) {
    std::cout << "    " << p.term << (p.descendants ? " (with descendants)" : "") << ": " << p.bytes
              << " bytes, " << p.rows << " individuals\n";
  }
  return 0;
}

}  // namespace

void RegisterNodeCommand(CLI::App& app) {
  CLI::App* node = app.add_subcommand("node", "Create and run a node");
  node->require_subcommand(1);
  AddNodeInitCommand(*node);

  auto o = std::make_shared<ServeOptions>();
  CLI::App* serve = node->add_subcommand("serve", "Serve the node's Beacon v2 API over HTTP");
  serve->add_option("--dir", o->dir, "Node directory")->required();
  serve->add_option("--address", o->address, "Listen address (default: node.yaml)");
  serve->add_option("--port", o->port, "Listen port; 0 for an ephemeral one (default: node.yaml)");
  serve->add_option("--threads", o->threads, "HTTP threads (default: node.yaml)");
  serve->add_option("--dicom-port", o->dicom_port,
                    "Port of the DICOM C-STORE receiver (default: node.yaml imaging.dicom_port; "
                    "0: none)");
  serve->add_option("--refresh-ms", o->refresh_ms, "How often to look for new ingests")
      ->check(CLI::Range(50, 3600000));
  serve->add_flag("--unaudited-benchmark-only", o->unaudited_benchmark_only,
                  "Answer data requests WITHOUT audit entries, to measure what auditing costs "
                  "(bench/run.sh --only-audit); loopback only; never for real use");
  serve->callback([o] { SetExitCode(Serve(*o)); });

  auto info_dir = std::make_shared<std::string>();
  auto largest = std::make_shared<int>(0);
  CLI::App* info = node->add_subcommand("info", "What the node holds, and its index's size");
  info->add_option("--dir", *info_dir, "Node directory")->required();
  info->add_option("--largest", *largest, "Also list the N largest postings");
  info->callback([info_dir, largest] { SetExitCode(Info(*info_dir, *largest)); });
}

}  // namespace oncomesh::cli
