// DICOM ingest: files, folders and DICOMDIRs (`oncomesh ingest dicom`), and instances received
// over the network (the node's C-STORE SCP, ingest/dicom/store_scp.h), de-identified with the
// PS3.15 Basic Profile (deid/dicom_deid.h) before anything is stored.
//
// Per instance:
//  1. read with DCMTK (files with or without a file meta header, any transfer syntax DCMTK
//     reads); one that cannot be read, or lacks a mandatory UID (Study, Series, SOP Instance,
//     SOP Class), is quarantined with the reason;
//  2. de-identified in memory; one the profile cannot make safe (burned-in annotation,
//     recognisable features, a SOP class whose content it cannot clean) is quarantined;
//  3. written, in the transfer syntax it came in, to NODE/dicom/<2 hex>/<sha256>.dcm (the
//     hash of the de-identified file: the same instance sent twice is one file);
//  4. its metadata (model::DicomInstance) added to the store transaction.
// A second instance with the SOP Instance UID of a stored one (after de-identification, which
// maps UIDs the same way every time) is the same instance when its de-identified file is the
// same, or when it comes in another transfer syntax with the same attributes (all but the
// pixel data; counted as already present, the first encoding stays), and is quarantined
// otherwise ("already stored with other content").
//
// Quarantine: the file as received goes to NODE/quarantine/<sha256>.dcm (not de-identified:
// the folder is for the node's operators) and a row to the store's dicom_quarantine table with
// where it came from and why.
//
// Batches: an `ingest dicom` run commits once, at its end (every study it read goes in with all
// its readable instances, or nothing does); the C-STORE SCP commits each instance alone before
// it answers it (store_scp.h). A batch holds its rows in memory and
// writes them in one short transaction at the end, after syncing the files they refer to; a
// crash before that leaves only unreferenced files.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "deid/dicom_deid.h"
#include "ingest/ingest_report.h"
#include "model/model.h"
#include "node/node_dir.h"
#include "store/store.h"
#include "util/status.h"

class DcmFileFormat;

namespace oncomesh::ingest {

struct DicomIngestOptions {
  ProgressFn progress;
  deid::DicomDeidOptions deid;
};

// What became of one instance.
struct DicomOutcome {
  enum class Kind { kStored, kAlreadyStored, kQuarantined, kFailed };
  Kind kind = Kind::kFailed;
  std::string sop_instance_uid;  // de-identified, when known
  std::string reason;            // for kQuarantined and kFailed
};

// One batch of instances committed together (an `ingest dicom` run, one C-STORE instance).
// Not thread-safe; one batch at a time per store.
class DicomBatch {
 public:
  static Result<std::unique_ptr<DicomBatch>> Begin(const node::NodeDir& node, store::Store& store,
                                                   const DicomIngestOptions& options,
                                                   const std::string& name);
  ~DicomBatch();  // rolls back if not committed
  DicomBatch(const DicomBatch&) = delete;
  DicomBatch& operator=(const DicomBatch&) = delete;

  // A file from disk (`source` names it in messages and the quarantine).
  DicomOutcome AddFile(const std::string& path);
  // An instance received over the network; `file` is changed (de-identified).
  DicomOutcome AddDataset(DcmFileFormat& file, const std::string& source);

  // Syncs the files written, then writes the rows in one short store transaction. Counts of
  // records added/skipped. Once only.
  Result<store::IngestCounts> Commit();
  void Rollback();  // also when Commit was not called: nothing of the batch is recorded

  int64_t stored() const { return stored_; }
  int64_t already_stored() const { return already_; }
  int64_t quarantined() const { return quarantined_; }

 private:
  DicomBatch(const node::NodeDir& node, store::Store& store, const DicomIngestOptions& options)
      : node_(node), store_(store), options_(options) {}
  DicomOutcome Quarantine(const std::string& source, const std::string& reason,
                          const std::string& bytes_path, const std::string* bytes);
  DicomOutcome Store(DcmFileFormat& file, const std::string& source);
  // The individual an instance's Patient ID links to other than by its own pseudonym.
  Result<std::optional<deid::LinkedIndividual>> LinkPatient(const std::string& patient_id);
  void Unlock();

  const node::NodeDir& node_;
  store::Store& store_;
  DicomIngestOptions options_;
  std::string name_;
  int lock_fd_ = -1;  // NODE/dicom.lock, shared while the batch may write files
  bool committed_ = false;
  model::RecordBatch pending_;        // rows, committed together by Commit()
  std::vector<std::string> written_;  // files to sync before the commit
  // The instances of this batch, by SOP Instance UID: what tells a duplicate apart.
  struct Known {
    std::string content_sha256, attributes_sha256, transfer_syntax;
  };
  std::map<std::string, Known> batch_sha_;
  int64_t stored_ = 0, already_ = 0, quarantined_ = 0;
};

// Removes what a process killed while ingesting DICOM left behind: temporary files
// (NODE/dicom/tmp-*, NODE/quarantine/tmp-*) and image or quarantine files no store row refers
// to (written by a batch that never committed). Every batch holds a shared lock
// (NODE/dicom.lock, flock) from Begin to its end; the sweep runs only when it can take that
// lock exclusively, i.e. when no batch of any process is open, and does nothing otherwise (the
// next one will). Counts the files removed. Called when `ingest dicom` starts and when the
// C-STORE SCP starts.
Result<int64_t> SweepDicomLeftovers(const node::NodeDir& node, store::Store& store);

// `oncomesh ingest dicom PATH...`: files, folders (recursively, every regular file; non-DICOM
// files are quarantined, except a DICOMDIR, which is read for the files it references) in one
// batch. Returns an error only when nothing could be attempted (a path that does not exist).
// The report has one FileOutcome per file read.
Result<IngestReport> IngestDicom(const node::NodeDir& node, store::Store& store,
                                 const std::vector<std::string>& paths,
                                 const DicomIngestOptions& options);

}  // namespace oncomesh::ingest
