// oncomesh node init --dir DIR [--name NAME] [--port P] [--count-step N]
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/node_commands.h"
#include "node/node_dir.h"

namespace oncomesh::cli {

void AddNodeInitCommand(CLI::App& node_app) {
  struct Args {
    std::string dir;
    node::NodeConfig config;
  };
  auto args = std::make_shared<Args>();
  CLI::App* init = node_app.add_subcommand(
      "init", "Create a node directory: configuration, secret key and an empty store");
  init->add_option("--dir", args->dir, "The node directory to create")->required();
  init->add_option("--name", args->config.name, "The node's name, shown by the hub")
      ->capture_default_str();
  init->add_option("--port", args->config.port, "HTTP port (0: an ephemeral port)")
      ->capture_default_str();
  init->add_option("--count-step", args->config.count_step,
                   "Disclosure control: counts are rounded up to a multiple of this")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  init->callback([args] {
    Result<node::NodeDir> node = node::NodeDir::Init(args->dir, args->config);
    if (!node.ok()) {
      std::cerr << "oncomesh node init: " << node.status().message() << "\n";
      SetExitCode(1);
      return;
    }
    std::cout << "Created node '" << node->config().name << "' in " << node->dir() << "\n"
              << "  configuration: " << node->dir() << "/node.yaml\n"
              << "  secret key:    " << node->dir() << "/secret.key (keep it private; losing it "
              << "breaks linkage of new data to old pseudonyms)\n"
              << "  store:         " << node->store_path() << "\n";
  });
}

}  // namespace oncomesh::cli
