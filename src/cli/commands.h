// Subcommands of the `oncomesh` binary: one file each, registered by main.cc.
// Each Register function adds its subcommand (and options) to `app`; the callback runs the
// command and exits with 0 on success, 1 on a reported error, 2 on bad usage.
#pragma once

#include <CLI/CLI.hpp>

namespace oncomesh::cli {

void RegisterSynthCommand(CLI::App& app);   // oncomesh synth
void RegisterNodeCommand(CLI::App& app);    // oncomesh node init|serve|info
void RegisterIngestCommand(CLI::App& app);  // oncomesh ingest fhir|vcf
void RegisterHubCommand(CLI::App& app);     // oncomesh hub serve
void RegisterQueryCommand(CLI::App& app);   // oncomesh query (a Beacon client)
void RegisterDemoCommand(CLI::App& app);    // oncomesh demo
void RegisterAuditCommand(CLI::App& app);   // oncomesh audit verify|export|jwks
void RegisterPermitCommand(CLI::App& app);  // oncomesh permit request|list|show|approve|…

// Sets the process exit code that main returns once the command's callback ends.
void SetExitCode(int code);
int ExitCode();

}  // namespace oncomesh::cli
