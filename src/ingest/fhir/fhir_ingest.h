// FHIR R4 ingest: Bulk Data NDJSON files, folders of them, and FHIR Bundles -> model records
// -> the node's store. See docs/fhir-profile.md for what is read from each resource.
//
// Guarantees (ARCHITECTURE.md, "ingest"):
//  - each input file goes in whole or not at all (one store transaction per file);
//  - re-ingesting the same content adds nothing (file content hash + pseudonymous record ids);
//  - a malformed line or resource fails that file with an error naming file, line and reason,
//    and the file is rolled back; other files are still ingested;
//  - source identifiers are replaced by the node's keyed pseudonyms and every date of an
//    individual is shifted by that individual's secret offset, before anything is stored;
//  - resource types and codings that cannot be mapped are counted and reported.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "node/node_dir.h"
#include "store/store.h"
#include "util/status.h"

namespace oncomesh::ingest {

struct FileOutcome {
  std::string path;
  Status status;                 // OK, or why the file was refused (file:line: reason)
  int64_t resources = 0;         // resources read from the file
  int64_t records_added = 0;
  int64_t records_skipped = 0;   // already present
  bool already_ingested = false; // same content ingested before
};

struct IngestReport {
  std::vector<FileOutcome> files;
  // "ResourceType" -> count, for resource types the model has no place for.
  std::map<std::string, int64_t> unknown_resource_types;
  // "Resource.element system|code" (or "Resource.element system") -> count, for codings that
  // could not be mapped to the model (e.g. a Condition coded only in a system we do not read).
  // The record is still stored, with the first coding as it came.
  std::map<std::string, int64_t> unmapped_codings;
  // Subject reference as written -> number of resources left out because that Patient is
  // neither in the store nor in their file (empty with IngestOptions::strict_references, which
  // refuses such files instead).
  std::map<std::string, int64_t> skipped_unresolved_subjects;

  int64_t FilesFailed() const;
  int64_t RecordsAdded() const;
};

// Called now and then during a long ingest (at most about 4 times a second, and once when a
// file ends), on the calling thread: bytes done and total of the current file, and resources
// read from it so far.
using ProgressFn = std::function<void(const std::string& path, uint64_t done, uint64_t total,
                                      int64_t resources)>;

struct IngestOptions {
  ProgressFn progress;
  // By default a resource whose subject is a Patient neither in the store nor in the same file
  // is left out and counted in IngestReport::skipped_unresolved_subjects, and the rest of the
  // file goes in: published samples (e.g. mCODE's patient_data.json) carry examples about
  // patients they do not include. When set, such a resource fails its file instead ("unknown
  // subject Patient/abc"), for sources whose references must all resolve.
  bool strict_references = false;
  // Threads that parse and map (0: one per hardware thread). The calling thread reads the
  // files and writes the store.
  int parse_threads = 0;
};

// Ingests every path (a file, or a folder searched recursively for *.ndjson and
// *.json). Patient files are ingested before the others so references resolve. Returns an
// error only when nothing could be attempted (e.g. a path does not exist); per-file failures
// are in the report.
//
// Bulk Data NDJSON (*.ndjson) is streamed: memory stays bounded whatever the file's size. A
// *.json file is a Bundle (collection, transaction, batch or searchset) or a single resource,
// read whole. Not thread-safe on one `store`.
Result<IngestReport> IngestFhir(const node::NodeDir& node, store::Store& store,
                                const std::vector<std::string>& paths,
                                const ProgressFn& progress = nullptr);
Result<IngestReport> IngestFhir(const node::NodeDir& node, store::Store& store,
                                const std::vector<std::string>& paths,
                                const IngestOptions& options);

}  // namespace oncomesh::ingest
