// Pieces of `oncomesh node`, each in its own file; the `node` command (registered by
// RegisterNodeCommand, cli/commands.h) adds them to its subcommand app.
#pragma once

#include <CLI/CLI.hpp>

namespace oncomesh::cli {

// Adds `init --dir DIR [--name NAME] [--port P] [--count-step N]` to `node_app`: creates a node
// directory (node/node_dir.h, NodeDir::Init). Exit code 1 if the directory already holds a
// node or cannot be written.
void AddNodeInitCommand(CLI::App& node_app);

}  // namespace oncomesh::cli
