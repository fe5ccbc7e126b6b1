// oncomesh ingest fhir --dir NODE_DIR PATH...
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "ingest/fhir/fhir_ingest.h"
#include "node/node_dir.h"

namespace oncomesh::cli {
namespace {

// Files smaller than this finish too fast for a progress line to help.
constexpr uint64_t kProgressMinBytes = 16 << 20;

std::string Megabytes(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

// A progress line on stderr, rewritten in place, only when stderr is a terminal.
class ProgressLine {
 public:
  ProgressLine() : enabled_(isatty(STDERR_FILENO) == 1) {}

  ingest::ProgressFn Fn() {
    if (!enabled_) return nullptr;
    return [this](const std::string& path, uint64_t done, uint64_t total, int64_t resources) {
      if (total < kProgressMinBytes) return;
      const auto now = std::chrono::steady_clock::now();
      if (path != path_) {
        path_ = path;
        start_ = now;
      }
      const double seconds = std::chrono::duration<double>(now - start_).count();
      const double rate = seconds > 0 ? static_cast<double>(resources) / seconds : 0;
      std::fprintf(stderr, "\r\033[K%s: %s / %s, %lld resources, %.0f resources/s",
                   path.c_str(), Megabytes(done).c_str(), Megabytes(total).c_str(),
                   static_cast<long long>(resources), rate);
      if (done >= total) std::fputc('\n', stderr);
      std::fflush(stderr);
    };
  }

 private:
  bool enabled_;
  std::string path_;
  std::chrono::steady_clock::time_point start_;
};

void RunIngestFhir(const std::string& dir, const std::vector<std::string>& paths,
                   bool strict_references, int threads) {
  Result<node::NodeDir> node = node::NodeDir::Open(dir);
  if (!node.ok()) {
    std::cerr << "oncomesh ingest: " << node.status().message() << "\n";
    SetExitCode(1);
    return;
  }
  Result<std::unique_ptr<store::Store>> store = node->OpenStore();
  if (!store.ok()) {
    std::cerr << "oncomesh ingest: " << store.status().message() << "\n";
    SetExitCode(1);
    return;
  }
  ProgressLine progress;
  ingest::IngestOptions options;
  options.progress = progress.Fn();
  options.strict_references = strict_references;
  options.parse_threads = threads;
  const auto start = std::chrono::steady_clock::now();
  Result<ingest::IngestReport> report = ingest::IngestFhir(*node, **store, paths, options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!report.ok()) {
    std::cerr << "oncomesh ingest: " << report.status().message() << "\n";
    SetExitCode(1);
    return;
  }
  int64_t resources = 0;
  for (const ingest::FileOutcome& f : report->files) {
    resources += f.resources;
    if (!f.status.ok()) {
      std::cout << "REFUSED " << f.path << " (nothing from this file was stored)\n  "
                << f.status.message() << "\n";
    } else if (f.already_ingested) {
      std::cout << "OK      " << f.path << ": already ingested, " << f.resources
                << " resources, nothing added\n";
    } else {
      std::cout << "OK      " << f.path << ": " << f.resources << " resources, "
                << f.records_added << " records added, " << f.records_skipped
                << " already present\n";
    }
  }
  if (!report->unknown_resource_types.empty()) {
    std::cout << "Resource types not mapped (not stored):\n";
    for (const auto& [type, n] : report->unknown_resource_types) {
      std::cout << "  " << type << ": " << n << "\n";
    }
  }
  if (!report->unmapped_codings.empty()) {
    std::cout << "Codings in systems not mapped (records stored with the coding as given):\n";
    for (const auto& [key, n] : report->unmapped_codings) {
      std::cout << "  " << key << ": " << n << "\n";
    }
  }
  if (!report->skipped_unresolved_subjects.empty()) {
    std::cout << "Resources left out, their subject Patient being in no file and not in the "
                 "store (--strict-references refuses such files):\n";
    for (const auto& [ref, n] : report->skipped_unresolved_subjects) {
      std::cout << "  " << ref << ": " << n << "\n";
    }
  }
  const int64_t failed = report->FilesFailed();
  std::cout << report->files.size() - static_cast<size_t>(failed) << " file(s) ingested, "
            << failed << " refused; " << report->RecordsAdded() << " records added; "
            << resources << " resources in " << seconds << " s\n";
  if (failed > 0) SetExitCode(1);
}

}  // namespace

void RegisterIngestCommand(CLI::App& app) {
  CLI::App* ingest = app.add_subcommand("ingest", "Load source data into a node's store");
  ingest->require_subcommand(1);

  struct Args {
    std::string dir;
    std::vector<std::string> paths;
    bool strict_references = false;
    int threads = 0;
  };
  auto args = std::make_shared<Args>();
  CLI::App* fhir = ingest->add_subcommand(
      "fhir",
      "FHIR R4 Bulk Data NDJSON files, Bundles, or folders of them (see docs/fhir-profile.md). "
      "Each file goes in whole or not at all.");
  fhir->add_option("--dir", args->dir, "The node directory")->required();
  fhir->add_option("paths", args->paths, "Files or folders (*.ndjson, *.json)")
      ->required()
      ->check(CLI::ExistingPath);
  fhir->add_flag(
      "--strict-references", args->strict_references,
      "Refuse a file in which a resource's subject Patient is neither in the store nor in the "
      "file (by default such resources are left out, counted and reported, and the file goes in)");
  fhir->add_option("--threads", args->threads, "Parsing threads (0: one per CPU)")
      ->capture_default_str();
  fhir->callback(
      [args] { RunIngestFhir(args->dir, args->paths, args->strict_references, args->threads); });
}

}  // namespace oncomesh::cli
