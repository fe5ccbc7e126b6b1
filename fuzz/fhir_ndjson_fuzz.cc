// FHIR R4 Bulk Data NDJSON as `oncomesh ingest fhir` reads it: the input is written to a file
// and ingested whole (lines parsed with simdjson, resources checked and mapped, subjects
// resolved, the store transaction committed or rolled back) into a node of its own. A refused
// file must say why, naming the file.
#include "fuzz_support.h"
#include "ingest/fhir/fhir_ingest.h"

ONCOMESH_FUZZ_INITIALIZE { oncomesh::fuzz::SharedEmptyNode(); }

ONCOMESH_FUZZ_TARGET(fhir_ndjson) {
  using namespace oncomesh;
  fuzz::EmptyNode& node = fuzz::SharedEmptyNode();
  const std::string path = node.dir + "/Input.ndjson";
  fuzz::WriteFile(path, data, size);
  ingest::IngestOptions options;
  options.parse_threads = 1;
  Result<ingest::IngestReport> report =
      ingest::IngestFhir(*node.node, *node.store, {path}, options);
  if (!report.ok()) fuzz::Fail("IngestFhir failed as a whole: " + report.status().ToString());
  for (const ingest::FileOutcome& f : report->files) {
    fuzz::CheckRefusal(f.status, "IngestFhir");
    if (!f.status.ok() && f.status.message().find("Input.ndjson") == std::string::npos) {
      fuzz::Fail("an NDJSON refusal that does not name the file: " + f.status.ToString());
    }
  }
  return 0;
}
