// Termination signals for long-running commands (node serve, hub serve, demo).
#pragma once

namespace oncomesh::cli {

// Blocks SIGINT and SIGTERM in the calling thread and every thread it starts afterwards; call
// before starting servers so that only WaitForTerminationSignal receives them.
void BlockTerminationSignals();

// Waits until SIGINT or SIGTERM arrives; returns the signal number.
int WaitForTerminationSignal();

}  // namespace oncomesh::cli
