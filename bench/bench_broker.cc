// A researcher's passport for the HTTP benchmarks: registered callers get counts, anonymous ones
// only a boolean, so a count benchmark over HTTP has to send one (issue 12, point 19).
//
//   bench_broker NODE_DIR [HOURS]
//
// Makes a test broker (tests/support/test_broker.h: a key made now, with OpenSSL), writes its
// JWKS to NODE_DIR/broker.jwks.json, adds it to NODE_DIR/node.yaml's trusted issuers, and prints
// a passport with a bona fide ResearcherStatus visa, valid for HOURS (default 6), on stdout.
// Exits 1 with a message on stderr when the node directory cannot be read or written.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "support/test_access.h"
#include "support/test_broker.h"

int main(int argc, char** argv) {
  using oncomesh::testing::TestBroker;
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: bench_broker NODE_DIR [HOURS]\n");
    return 2;
  }
  const std::string dir = argv[1];
  if (!std::filesystem::exists(dir + "/node.yaml")) {
    std::fprintf(stderr, "bench_broker: %s/node.yaml does not exist (run oncomesh node init)\n",
                 dir.c_str());
    return 1;
  }
  const long hours = argc == 3 ? std::strtol(argv[2], nullptr, 10) : 6;
  if (hours <= 0 || hours > 24L * 30) {
    std::fprintf(stderr, "bench_broker: HOURS must be 1 to 720, not %s\n", argv[2]);
    return 2;
  }
  const TestBroker broker("https://broker.bench.oncomesh.test");
  oncomesh::testing::TrustBroker(dir, broker, "https://bench.oncomesh.test/no-grant");
  const std::string visa = broker.Visa({.subject = "bench-researcher", .expires_in = hours * 3600});
  std::printf(
      "%s\n",
      broker.Passport({visa}, "bench-researcher", nlohmann::json::object(), hours * 3600).c_str());
  return 0;
}
