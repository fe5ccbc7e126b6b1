// oncomesh hub serve --config hub.yaml
#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/signals.h"
#include "hub/hub_service.h"

namespace oncomesh::cli {

namespace {

int ServeHub(const std::string& config_path, int port_override) {
  BlockTerminationSignals();
  std::ifstream in(config_path);
  if (!in) {
    std::cerr << "oncomesh hub serve: cannot read " << config_path << "\n";
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();
  Result<hub::HubConfig> config = hub::ParseHubConfig(text.str(), config_path);
  if (!config.ok()) {
    std::cerr << "oncomesh hub serve: " << config.status().message() << "\n";
    return 1;
  }
  if (port_override >= 0) config->port = static_cast<uint16_t>(port_override);
  hub::HubService service(*config);
  http::ServerOptions options;
  options.address = config->address;
  options.port = config->port;
  options.threads = config->threads;
  options.error_response = [&service](int status, const std::string& message) {
    return service.RouterError(status, message);
  };
  http::Server server(http::Router(), options);
  service.Register(server.router(), server.io());
  // The service's clients to the nodes live on the server's io_context: closed before it goes,
  // whichever way this function returns.
  struct CloseClients {
    hub::HubService& hub;
    ~CloseClients() { hub.Close(); }
  } close_clients{service};
  if (Status st = server.Start(); !st.ok()) {
    std::cerr << "oncomesh hub serve: " << st.message() << "\n";
    return 1;
  }
  std::cout << "hub http://" << options.address << ":" << server.port() << std::endl;
  const int signal = WaitForTerminationSignal();
  spdlog::info("hub: signal {}, stopping", signal);
  server.Stop();
  return 0;
}

}  // namespace

void RegisterHubCommand(CLI::App& app) {
  CLI::App* hub = app.add_subcommand("hub", "Run a hub that federates nodes");
  hub->require_subcommand(1);
  auto config = std::make_shared<std::string>();
  auto port = std::make_shared<int>(-1);
  CLI::App* serve = hub->add_subcommand("serve", "Serve the federated Beacon v2 API");
  serve->add_option("--config", *config, "hub.yaml listing the nodes")->required();
  serve->add_option("--port", *port, "Listen port (default: hub.yaml; 0 for an ephemeral one)");
  serve->callback([config, port] { SetExitCode(ServeHub(*config, *port)); });
}

}  // namespace oncomesh::cli
