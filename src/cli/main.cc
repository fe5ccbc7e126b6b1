// oncomesh: one binary, one subcommand per role. main only dispatches.
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <exception>
#include <iostream>

#include "cli/commands.h"

int main(int argc, char** argv) {
  // Everything the node writes is about patients (the store, de-identified images, the raw
  // files in quarantine, pseudonymised VCF copies, the audit log): folders 0700 and files 0600
  // whatever the caller's umask, as the node's secrets are (issue 12, item 11).
  ::umask(077);
  CLI::App app{"OncoMesh: federated discovery and analysis of cancer data that stays where it is"};
  app.set_version_flag("--version", ONCOMESH_VERSION);
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Log debug messages");
  app.parse_complete_callback(
      [&] { spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::info); });
  oncomesh::cli::RegisterSynthCommand(app);
  oncomesh::cli::RegisterNodeCommand(app);
  oncomesh::cli::RegisterIngestCommand(app);
  oncomesh::cli::RegisterHubCommand(app);
  oncomesh::cli::RegisterQueryCommand(app);
  oncomesh::cli::RegisterDemoCommand(app);
  oncomesh::cli::RegisterAuditCommand(app);
  oncomesh::cli::RegisterPermitCommand(app);
  try {
    CLI11_PARSE(app, argc, argv);
  } catch (const std::exception& e) {
    // A command's own failure is a message and an exit code; this is a bug or an exhausted
    // machine (bad_alloc), said as such instead of std::terminate's abort.
    std::cerr << "oncomesh: internal error: " << e.what() << "\n";
    return 70;  // EX_SOFTWARE
  }
  return oncomesh::cli::ExitCode();
}
