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
  std::map<std::string, int64_t> unmapped_codings;

  int64_t FilesFailed() const;
  int64_t RecordsAdded() const;
};

// Called now and then during a long ingest: bytes done and total of the current file.
using ProgressFn = std::function<void(const std::string& path, uint64_t done, uint64_t total)>;

// Ingests every path (a file, or a folder searched recursively for *.ndjson and
// *.json). Patient files are ingested before the others so references resolve. Returns an
// error only when nothing could be attempted (e.g. a path does not exist); per-file failures
// are in the report.
Result<IngestReport> IngestFhir(const node::NodeDir& node, store::Store& store,
                                const std::vector<std::string>& paths,
                                const ProgressFn& progress = nullptr);

}  // namespace oncomesh::ingest
