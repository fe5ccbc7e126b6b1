// oncomesh ingest fhir --dir NODE_DIR PATH...
// oncomesh ingest vcf --dir NODE_DIR [--assembly A] [--samples MAP] [--reference FASTA]
//                     [--strict-references] [--relink] FILE...
// oncomesh ingest dicom --dir NODE_DIR PATH...
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "ingest/dicom/dicom_ingest.h"
#include "ingest/fhir/fhir_ingest.h"
#include "ingest/vcf/vcf_ingest.h"
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
  // `unit` names what is counted: "resources" (FHIR), "records" (VCF).
  explicit ProgressLine(const char* unit) : enabled_(isatty(STDERR_FILENO) == 1), unit_(unit) {}

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
      std::fprintf(stderr, "\r\033[K%s: %s / %s, %lld %s, %.0f %s/s", path.c_str(),
                   Megabytes(done).c_str(), Megabytes(total).c_str(),
                   static_cast<long long>(resources), unit_, rate, unit_);
      if (done >= total) std::fputc('\n', stderr);
      std::fflush(stderr);
    };
  }

 private:
  bool enabled_;
  const char* unit_;
  std::string path_;
  std::chrono::steady_clock::time_point start_;
};

// Opens the node and its store, or reports why not (exit code 1).
bool OpenNode(const std::string& dir, std::optional<node::NodeDir>& node,
              std::unique_ptr<store::Store>& store) {
  Result<node::NodeDir> opened = node::NodeDir::Open(dir);
  if (!opened.ok()) {
    std::cerr << "oncomesh ingest: " << opened.status().message() << "\n";
    SetExitCode(1);
    return false;
  }
  node.emplace(std::move(*opened));
  Result<std::unique_ptr<store::Store>> s = node->OpenStore();
  if (!s.ok()) {
    std::cerr << "oncomesh ingest: " << s.status().message() << "\n";
    SetExitCode(1);
    return false;
  }
  store = std::move(*s);
  return true;
}

// Prints what an ingest did, the same way for every format. `unit` names what
// FileOutcome::resources counts ("resources", "records").
// A heading and "  key: count" lines, when there is anything to count.
void PrintCounts(const char* heading, const std::map<std::string, int64_t>& counts) {
  if (counts.empty()) return;
  std::cout << heading << "\n";
  for (const auto& [key, n] : counts) std::cout << "  " << key << ": " << n << "\n";
}

void PrintReport(const Result<ingest::IngestReport>& report, double seconds, const char* unit,
                 const char* unresolved_heading) {
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
      std::cout << "OK      " << f.path << ": already ingested, " << f.resources << " " << unit
                << ", nothing added";
    } else {
      std::cout << "OK      " << f.path << ": " << f.resources << " " << unit << ", "
                << f.records_added << " records added, " << f.records_skipped << " already present";
    }
    if (f.status.ok()) {
      if (!f.served_as.empty()) std::cout << "; htsget id " << f.served_as;
      std::cout << "\n";
    }
  }
  PrintCounts("Resource types not mapped (not stored):", report->unknown_resource_types);
  PrintCounts("Codings in systems not mapped (records stored with the coding as given):",
              report->unmapped_codings);
  PrintCounts(
      "Conditions left out, not being cancers or not mapped to ICD-10 (see "
      "docs/fhir-profile.md):",
      report->conditions_left_out);
  PrintCounts(unresolved_heading, report->skipped_unresolved_subjects);
  PrintCounts(
      "Medical record numbers not linked, each being already another individual's (images sent "
      "under one link to the first; docs/dicom.md):",
      report->medical_record_numbers_taken);
  const int64_t failed = report->FilesFailed();
  std::cout << report->files.size() - static_cast<size_t>(failed) << " file(s) ingested, " << failed
            << " refused; " << report->RecordsAdded() << " records added; " << resources << " "
            << unit << " in " << seconds << " s\n";
  if (failed > 0) SetExitCode(1);
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void RunIngestFhir(const std::string& dir, const std::vector<std::string>& paths,
                   bool strict_references, int threads, const std::string& dataset) {
  std::optional<node::NodeDir> node;
  std::unique_ptr<store::Store> store;
  if (!OpenNode(dir, node, store)) return;
  ProgressLine progress("resources");
  ingest::IngestOptions options;
  options.progress = progress.Fn();
  options.strict_references = strict_references;
  options.parse_threads = threads;
  options.dataset = dataset;
  const auto start = std::chrono::steady_clock::now();
  Result<ingest::IngestReport> report = ingest::IngestFhir(*node, *store, paths, options);
  PrintReport(report, SecondsSince(start), "resources",
              "Resources left out, their subject Patient being in no file and not in the "
              "store (--strict-references refuses such files):");
}

void RunIngestVcf(const std::string& dir, const std::vector<std::string>& paths,
                  ingest::VcfIngestOptions options) {
  std::optional<node::NodeDir> node;
  std::unique_ptr<store::Store> store;
  if (!OpenNode(dir, node, store)) return;
  ProgressLine progress("records");
  options.progress = progress.Fn();
  const auto start = std::chrono::steady_clock::now();
  Result<ingest::IngestReport> report = ingest::IngestVcf(*node, *store, paths, options);
  PrintReport(report, SecondsSince(start), "records",
              "Samples not linked yet, their individual not being in the store: their calls "
              "are kept and count once the patient's clinical data are ingested (calls per "
              "sample; --strict-references refuses such files):");
}

void RunIngestDicom(const std::string& dir, const std::vector<std::string>& paths) {
  std::optional<node::NodeDir> node;
  std::unique_ptr<store::Store> store;
  if (!OpenNode(dir, node, store)) return;
  ingest::DicomIngestOptions options;
  options.deid = node->config().imaging.deid;
  const auto start = std::chrono::steady_clock::now();
  Result<ingest::IngestReport> report = ingest::IngestDicom(*node, *store, paths, options);
  PrintReport(report, SecondsSince(start), "instances", "");
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
    std::string dataset;
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
  fhir->add_option("--dataset", args->dataset,
                   "The dataset of node.yaml the Patients belong to, and with them their records, "
                   "genomes and images (default: the first dataset)");
  fhir->callback([args] {
    RunIngestFhir(args->dir, args->paths, args->strict_references, args->threads, args->dataset);
  });

  struct VcfArgs {
    std::string dir;
    std::vector<std::string> paths;
    ingest::VcfIngestOptions options;
  };
  auto vcf_args = std::make_shared<VcfArgs>();
  CLI::App* vcf = ingest->add_subcommand(
      "vcf",
      "VCF, bgzipped VCF or BCF files (single- or multi-sample, germline or tumour/normal). "
      "Each file goes in whole or not at all; a copy is kept under NODE_DIR/variants for "
      "htsget.");
  vcf->add_option("--dir", vcf_args->dir, "The node directory")->required();
  vcf->add_option("paths", vcf_args->paths, "Files (*.vcf, *.vcf.gz, *.bcf)")
      ->required()
      ->check(CLI::ExistingFile);
  vcf->add_option("--assembly", vcf_args->options.assembly,
                  "GRCh37 or GRCh38 (default: from the header or the length of contig 1)")
      ->check(CLI::IsMember({"GRCh37", "GRCh38"}));
  vcf->add_option("--samples", vcf_args->options.samples_map,
                  "Tab-separated map: vcf_sample, patient id, optional biosample id (default: "
                  "each sample's name is its patient id)")
      ->check(CLI::ExistingFile);
  vcf->add_option("--reference", vcf_args->options.reference_fasta,
                  "FASTA to check every REF against (default: node.yaml "
                  "genomics.reference_fasta, if set)")
      ->check(CLI::ExistingFile);
  vcf->add_flag("--strict-references", vcf_args->options.strict_references,
                "Refuse a file with a sample whose individual is not in the store (by default "
                "such samples are left out and reported)");
  vcf->add_flag("--relink", vcf_args->options.relink,
                "For files ingested before: link the samples not linked yet that now name a "
                "patient (with a --samples map given now); samples whose patient was only not "
                "ingested yet link by themselves when the patient is ingested");
  vcf->callback([vcf_args] { RunIngestVcf(vcf_args->dir, vcf_args->paths, vcf_args->options); });

  auto dicom_args = std::make_shared<Args>();
  CLI::App* dicom = ingest->add_subcommand(
      "dicom",
      "DICOM files, folders of them (recursively) or DICOMDIRs. Every instance is "
      "de-identified (DICOM PS3.15 Basic Profile, with the options of node.yaml imaging.deid) "
      "before it is stored; instances the profile cannot make safe, unreadable files and "
      "files without their mandatory UIDs are quarantined with the reason. The run commits "
      "once, at its end.");
  dicom->add_option("--dir", dicom_args->dir, "The node directory")->required();
  dicom->add_option("paths", dicom_args->paths, "Files, folders or DICOMDIR files")
      ->required()
      ->check(CLI::ExistingPath);
  dicom->callback([dicom_args] { RunIngestDicom(dicom_args->dir, dicom_args->paths); });
}

}  // namespace oncomesh::cli
