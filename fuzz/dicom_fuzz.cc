// DICOM files as `oncomesh ingest dicom` reads them: the input is written to a file and added
// to a batch (DCMTK read, mandatory UIDs, PS3.15 de-identification, the de-identified file
// written, or the input quarantined with the reason), then the batch is rolled back. Every
// outcome but "stored" must carry a reason.
#include <filesystem>

#include "fuzz_support.h"
#include "ingest/dicom/dicom_ingest.h"

ONCOMESH_FUZZ_INITIALIZE { oncomesh::fuzz::SharedEmptyNode(); }

ONCOMESH_FUZZ_TARGET(dicom) {
  using namespace oncomesh;
  fuzz::EmptyNode& node = fuzz::SharedEmptyNode();
  const std::string path = node.dir + "/input.dcm";
  fuzz::WriteFile(path, data, size);
  ingest::DicomIngestOptions options;
  options.deid = node.node->config().imaging.deid;
  Result<std::unique_ptr<ingest::DicomBatch>> batch =
      ingest::DicomBatch::Begin(*node.node, *node.store, options, "fuzz");
  if (!batch.ok()) fuzz::Fail("DicomBatch::Begin: " + batch.status().ToString());
  const ingest::DicomOutcome outcome = (*batch)->AddFile(path);
  if (outcome.kind != ingest::DicomOutcome::Kind::kStored &&
      outcome.kind != ingest::DicomOutcome::Kind::kAlreadyStored && outcome.reason.empty()) {
    fuzz::Fail("a DICOM input refused without a reason");
  }
  (*batch)->Rollback();
  // The rolled-back batch leaves its files; keep the node's folders from filling the disk.
  std::error_code ec;
  std::filesystem::remove_all(node.node->dir() + "/dicom", ec);
  std::filesystem::remove_all(node.node->dir() + "/quarantine", ec);
  return 0;
}
