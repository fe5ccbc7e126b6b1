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

#include "ingest/ingest_report.h"
#include "node/node_dir.h"
#include "store/store.h"
#include "util/status.h"

namespace oncomesh::ingest {

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
  // The node's dataset (node.yaml datasets[].id) the Patients of these files belong to; "" the
  // node's first. Checked against node.yaml: an unknown id fails before anything is read.
  std::string dataset;
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
