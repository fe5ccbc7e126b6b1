#include <atomic>

#include "cli/commands.h"

namespace oncomesh::cli {
namespace {
std::atomic<int> g_exit_code{0};
}
void SetExitCode(int code) { g_exit_code = code; }
int ExitCode() { return g_exit_code; }
}  // namespace oncomesh::cli
