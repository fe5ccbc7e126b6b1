// oncomesh node init|serve
#include <spdlog/spdlog.h>

#include <iostream>

#include "api/node_service.h"
#include "cli/commands.h"
#include "cli/node_commands.h"
#include "cli/signals.h"
#include "http/http.h"

namespace oncomesh::cli {

namespace {

struct ServeOptions {
  std::string dir;
  std::string address;
  int port = -1;
  int threads = 0;
  int refresh_ms = 1000;
};

int Serve(const ServeOptions& o) {
  BlockTerminationSignals();
  Result<std::unique_ptr<api::NodeService>> service = api::NodeService::Open(o.dir);
  if (!service.ok()) {
    std::cerr << "oncomesh node serve: " << service.status().message() << "\n";
    return 1;
  }
  const node::NodeConfig& config = (*service)->node().config();
  http::Router router;
  (*service)->Register(router);
  http::ServerOptions options;
  options.address = o.address.empty() ? config.address : o.address;
  options.port = static_cast<uint16_t>(o.port >= 0 ? o.port : config.port);
  options.threads = o.threads > 0 ? o.threads : config.threads;
  api::NodeService* raw = service->get();
  options.error_response = [raw](int status, const std::string& message) {
    return raw->RouterError(status, message);
  };
  http::Server server(std::move(router), options);
  if (Status st = server.Start(); !st.ok()) {
    std::cerr << "oncomesh node serve: " << st.message() << "\n";
    return 1;
  }
  (*service)->StartRefresher(std::chrono::milliseconds(o.refresh_ms));
  std::cout << "node " << config.name << " http://" << options.address << ":" << server.port()
            << std::endl;
  const int signal = WaitForTerminationSignal();
  spdlog::info("node {}: signal {}, stopping", config.name, signal);
  server.Stop();
  (*service)->Stop();
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
  serve->add_option("--refresh-ms", o->refresh_ms, "How often to look for new ingests")
      ->check(CLI::Range(50, 3600000));
  serve->callback([o] { SetExitCode(Serve(*o)); });
}

}  // namespace oncomesh::cli
