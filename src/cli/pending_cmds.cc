// Subcommands still being written in this first session; each moves to its own file.
#include <iostream>

#include "cli/commands.h"

namespace oncomesh::cli {
namespace {
void Pending(CLI::App& app, const char* name) {
  app.add_subcommand(name, std::string(name) + " (not built yet)")->callback([name] {
    std::cerr << "oncomesh " << name << ": not built yet\n";
    SetExitCode(2);
  });
}
}  // namespace
void RegisterSynthCommand(CLI::App& app) { Pending(app, "synth"); }
void RegisterNodeCommand(CLI::App& app) { Pending(app, "node"); }
void RegisterHubCommand(CLI::App& app) { Pending(app, "hub"); }
void RegisterQueryCommand(CLI::App& app) { Pending(app, "query"); }
void RegisterDemoCommand(CLI::App& app) { Pending(app, "demo"); }
}  // namespace oncomesh::cli
