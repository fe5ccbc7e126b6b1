// Pieces of `oncomesh node`, one file each.
#pragma once

#include <CLI/CLI.hpp>

namespace oncomesh::cli {

// Adds `init` to the `node` subcommand (node_init_cmd.cc).
void AddNodeInitCommand(CLI::App& node_app);

}  // namespace oncomesh::cli
