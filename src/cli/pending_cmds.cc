// Subcommands still being written in this first session; each moves to its own file.
#include <iostream>

#include "cli/commands.h"
#include "cli/node_commands.h"
#include "node/node_dir.h"

namespace oncomesh::cli {
namespace {
void Pending(CLI::App& app, const char* name) {
  app.add_subcommand(name, std::string(name) + " (not built yet)")->callback([name] {
    std::cerr << "oncomesh " << name << ": not built yet\n";
    SetExitCode(2);
  });
}
}  // namespace
void RegisterIngestCommand(CLI::App& app) { Pending(app, "ingest"); }
void RegisterDemoCommand(CLI::App& app) { Pending(app, "demo"); }
// Temporary `node init` until node_init_cmd.cc lands.
void AddNodeInitCommand(CLI::App& node_app) {
  auto dir = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>("node");
  CLI::App* init = node_app.add_subcommand("init", "Create a node directory");
  init->add_option("--dir", *dir)->required();
  init->add_option("--name", *name);
  init->callback([dir, name] {
    node::NodeConfig c;
    c.name = *name;
    auto r = node::NodeDir::Init(*dir, c);
    if (!r.ok()) {
      std::cerr << r.status().message() << "\n";
      SetExitCode(1);
    }
  });
}
}  // namespace oncomesh::cli
