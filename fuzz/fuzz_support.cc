#include "fuzz_support.h"

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include "ingest/dicom/dicom_ingest.h"
#include "ingest/fhir/fhir_ingest.h"
#include "ingest/vcf/vcf_ingest.h"
#include "synth/synth.h"

namespace oncomesh::fuzz {
namespace {

namespace fs = std::filesystem;

std::map<std::string, TargetFn, std::less<>>& Targets() {
  static auto* targets = new std::map<std::string, TargetFn, std::less<>>();
  return *targets;
}

// Temporary directories made by this process, removed at exit (also when libFuzzer stops a run
// at -max_total_time, which exits normally; a crash leaves them for the post-mortem).
struct TempDirs {
  std::vector<std::string> dirs;
  ~TempDirs() {
    std::error_code ec;
    for (const std::string& d : dirs) fs::remove_all(d, ec);
  }
};
TempDirs& Temps() {
  static TempDirs temps;
  return temps;
}

std::string MakeTempDir() {
  std::string tmpl = (fs::temp_directory_path() / "oncomesh-fuzz-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) Fail("cannot make a temporary directory");
  Temps().dirs.push_back(tmpl);
  return tmpl;
}

void CheckOk(const Status& status, std::string_view what) {
  if (!status.ok()) Fail(std::string(what) + ": " + status.ToString());
}

void CheckReport(const Result<ingest::IngestReport>& report, std::string_view what) {
  CheckOk(report.status(), what);
  for (const ingest::FileOutcome& f : report->files)
    CheckOk(f.status, std::string(what) + " " + f.path);
}

}  // namespace

bool RegisterTarget(const char* name, TargetFn fn) {
  Targets()[name] = fn;
  return true;
}

TargetFn FindTarget(std::string_view name) {
  auto it = Targets().find(name);
  return it == Targets().end() ? nullptr : it->second;
}

void Fail(std::string_view message) {
  std::fprintf(stderr, "fuzz: %.*s\n", static_cast<int>(message.size()), message.data());
  std::abort();
}

void CheckRefusal(const Status& status, std::string_view what) {
  if (!status.ok() && status.message().empty()) {
    Fail(std::string(what) + " refused its input with an empty message (" + status.ToString() +
         ")");
  }
}

void WriteFile(const std::string& path, const uint8_t* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) Fail("cannot write " + path);
}

FuzzNode& SharedNode() {
  static FuzzNode* shared = [] {
    auto* n = new FuzzNode();
    n->dir = MakeTempDir();
    n->site_dir = n->dir + "/site";
    synth::SynthOptions options;
    options.site = "fuzz";
    options.individuals = 60;
    options.seed = 12;
    options.out_dir = n->site_dir;
    options.threads = 1;
    options.genomes = 20;
    options.genome_sites = 50;
    options.images = 2;
    synth::SynthReport report;
    CheckOk(synth::WriteSyntheticSite(options, &report), "synth");
    Result<node::NodeDir> node = node::NodeDir::Init(n->dir + "/node", node::NodeConfig{});
    CheckOk(node.status(), "node init");
    n->node = std::make_unique<node::NodeDir>(std::move(*node));
    Result<std::unique_ptr<store::Store>> store = n->node->OpenStore();
    CheckOk(store.status(), "store");
    n->store = std::move(*store);
    ingest::IngestOptions fhir;
    fhir.parse_threads = 1;
    CheckReport(ingest::IngestFhir(*n->node, *n->store, {n->site_dir}, fhir), "ingest fhir");
    CheckReport(
        ingest::IngestVcf(*n->node, *n->store, {report.genome_path}, ingest::VcfIngestOptions{}),
        "ingest vcf");
    ingest::DicomIngestOptions dicom;
    dicom.deid = n->node->config().imaging.deid;
    CheckReport(ingest::IngestDicom(*n->node, *n->store, {report.image_dir}, dicom),
                "ingest dicom");
    Result<index::Vocabulary> vocabulary = index::Vocabulary::LoadEmbedded();
    CheckOk(vocabulary.status(), "vocabulary");
    n->vocabulary = std::make_unique<index::Vocabulary>(std::move(*vocabulary));
    Result<std::unique_ptr<index::CohortIndex>> index =
        index::CohortIndex::Build(*n->store, *n->vocabulary, n->node->DefaultDataset());
    CheckOk(index.status(), "index");
    n->index = std::move(*index);
    if (n->index->num_rows() == 0) Fail("the fuzz node's cohort is empty");
    return n;
  }();
  return *shared;
}

EmptyNode& SharedEmptyNode() {
  static EmptyNode* shared = [] {
    auto* n = new EmptyNode();
    n->dir = MakeTempDir();
    Result<node::NodeDir> node = node::NodeDir::Init(n->dir + "/node", node::NodeConfig{});
    CheckOk(node.status(), "node init");
    n->node = std::make_unique<node::NodeDir>(std::move(*node));
    Result<std::unique_ptr<store::Store>> store = n->node->OpenStore();
    CheckOk(store.status(), "store");
    n->store = std::move(*store);
    return n;
  }();
  return *shared;
}

}  // namespace oncomesh::fuzz
