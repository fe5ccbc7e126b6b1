// Test support: real `oncomesh` processes, the Beacon schema validator, temp dirs.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "http/http.h"

namespace oncomesh::testing {

// A child process whose stdout is read line by line; killed (SIGTERM, then SIGKILL) on
// destruction.
class ChildProcess {
 public:
  explicit ChildProcess(std::vector<std::string> argv);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Reads stdout until a line starts with `prefix`; returns that line ("" on timeout or exit).
  std::string WaitForLine(const std::string& prefix,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Everything read from stdout so far.
  const std::string& output() const { return output_; }
  // Sends SIGTERM and waits; returns the exit status (or -1).
  int Terminate();
  // Sends SIGSTOP / SIGCONT (a node that is alive but does not answer).
  void Pause();
  void Resume();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
  std::string output_;
};

// Whether process `pid` (a child not yet waited for) has exited: a zombie, or gone.
bool Exited(pid_t pid);

// Runs a command to completion; returns its exit code and fills stdout+stderr.
int RunCommand(const std::vector<std::string>& argv, std::string* output);

// Validates a JSON document with the official Beacon v2 schemas (shared/tools/beacon-validator).
// Returns "" when valid, else the validator's report.
std::string ValidateBeacon(const std::string& schema, const std::string& json);

// A fresh directory under the system's temp dir, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A TCP port free on the loopback now (bound and released: for servers that need a port
// named in advance, such as DCMTK's SCP).
uint16_t FreePort();

// "http://127.0.0.1:PORT" -> port (0 when malformed).
uint16_t PortOf(const std::string& url_line);

// The oncomesh binary and the shared/ folder.
std::string OncomeshBinary();
std::string SharedDir();

}  // namespace oncomesh::testing
