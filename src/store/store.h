// The Store: a node's durable truth. SQLite in one file is the embedded default
// (store/sqlite/); PostgreSQL is the production backend (store/postgres/, to come).
//
// Contract for every implementation:
//  - IngestBatch commits a whole input file or nothing, in one transaction.
//  - Ingest is idempotent: a file whose content hash was already ingested adds nothing, and a
//    record whose id already exists is left as it is (ids are keyed pseudonyms, so the same
//    source record always maps to the same id).
//  - Committed data survives a crash of the process (SQLite: WAL with synchronous=FULL).
//  - Scans visit records in insertion order; `after_seq` lets the index read only what is new.
//  - A Store object is used from one thread at a time; open one per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/model.h"
#include "util/status.h"

namespace oncomesh::store {

// What is known of one input file.
struct SourceFile {
  std::string name;            // as given by the user (for messages)
  std::string content_sha256;  // hex digest of the bytes ingested
  std::string format;          // "fhir-ndjson", "fhir-bundle", "vcf", "dicom"…
};

// What an ingest added. Records that already existed are counted in `skipped`.
struct IngestCounts {
  int64_t added = 0;
  int64_t skipped = 0;
  bool file_already_ingested = false;
};

// A data permit as the store keeps it: the document is auth/'s (JSON), the store only knows
// its id and status.
struct StoredPermit {
  std::string id;
  std::string status;
  std::string document;
};

// Sequence numbers: every record gets one, increasing across all tables, so that the index
// can ask for everything after the last one it saw.
using Seq = int64_t;

// A streaming ingest of one input file: one store transaction that records are added to in
// chunks, so a file larger than memory still goes in whole or not at all. Obtained from
// Store::BeginIngest; it must not outlive its Store. While it is open, the Store may be used
// from the same thread for lookups (HasIndividual, HasSourceFile, FindVariantFile), which see
// the records added so far, but no other ingest may begin. Destroying it without Commit rolls back.
class IngestTransaction {
 public:
  virtual ~IngestTransaction() = default;

  // Inserts the records of `chunk` (INSERT OR IGNORE by id). On error the transaction is
  // rolled back and every later call fails.
  virtual Status Add(const model::RecordBatch& chunk) = 0;

  // Records the file under `content_sha256` and commits. If a file with this content hash
  // was ingested before, rolls back instead and returns counts with file_already_ingested
  // set, added 0 and everything counted as skipped. On error, rolls back.
  virtual Result<IngestCounts> Commit(const std::string& content_sha256) = 0;

  // Discards everything added. Safe to call more than once.
  virtual void Rollback() = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Commits `batch` as the content of `file`, whole or not at all (see contract above).
  virtual Result<IngestCounts> IngestBatch(const SourceFile& file,
                                           const model::RecordBatch& batch) = 0;

  // Begins a streaming ingest of `file` (its content_sha256 may be empty: it is given to
  // Commit once known). Fails if another ingest transaction is open on this Store.
  virtual Result<std::unique_ptr<IngestTransaction>> BeginIngest(const SourceFile& file) = 0;

  // True if a record with this individual id exists.
  virtual Result<bool> HasIndividual(const std::string& id) = 0;
  // The dataset of an individual (model::Individual::dataset: "" for the node's first);
  // NotFound for an unknown id.
  virtual Result<std::string> IndividualDataset(const std::string& id) = 0;
  // Puts the individuals stored without a dataset (before datasets partitioned them) in
  // `dataset`, once, so that they stay there whatever node.yaml later lists first.
  virtual Status SetEmptyDatasets(const std::string& dataset) = 0;

  // The individual a medical record number links to, by its key (model::PatientLink); NotFound
  // if none does. Sees the links added by an open ingest transaction.
  virtual Result<model::PatientLink> FindPatientLink(const std::string& key) = 0;

  // True if a file with this content hash was ingested.
  virtual Result<bool> HasSourceFile(const std::string& content_sha256) = 0;

  // The highest sequence number committed so far (0 for an empty store).
  virtual Result<Seq> LastSeq() = 0;

  // Visit records with seq > after_seq, in seq order. The callback may not call back into
  // the store. Returns the first error met.
  virtual Status ScanIndividuals(Seq after_seq,
                                 const std::function<void(Seq, const model::Individual&)>& fn) = 0;
  virtual Status ScanDiagnoses(Seq after_seq,
                               const std::function<void(Seq, const model::Diagnosis&)>& fn) = 0;
  virtual Status ScanObservations(
      Seq after_seq, const std::function<void(Seq, const model::Observation&)>& fn) = 0;
  virtual Status ScanTreatments(Seq after_seq,
                                const std::function<void(Seq, const model::Treatment&)>& fn) = 0;
  virtual Status ScanBiosamples(Seq after_seq,
                                const std::function<void(Seq, const model::Biosample&)>& fn) = 0;
  virtual Status ScanImagingStudies(
      Seq after_seq, const std::function<void(Seq, const model::ImagingStudy&)>& fn) = 0;
  // Genomic records (ingest/vcf/): each file's linked sample columns, and its variants with
  // their carriers in encoded blocks (model/variant_block.h decodes them).
  virtual Status ScanVariantSamples(
      Seq after_seq, const std::function<void(Seq, const model::VariantSample&)>& fn) = 0;
  virtual Status ScanVariantBlocks(
      Seq after_seq, const std::function<void(Seq, const model::VariantBlock&)>& fn) = 0;

  // DICOM instances (ingest/dicom/), in insertion order; the series they make up (first
  // instance's attributes, instance count), in the order they first arrived; one instance by
  // its (de-identified) SOP Instance UID, NotFound if there is none; the quarantined files.
  virtual Status ScanDicomInstances(
      Seq after_seq, const std::function<void(Seq, const model::DicomInstance&)>& fn) = 0;
  virtual Status ScanDicomSeries(const std::function<void(const model::DicomSeries&)>& fn) = 0;
  virtual Result<model::DicomInstance> FindDicomInstance(const std::string& id) = 0;
  virtual Status ScanQuarantinedDicom(
      const std::function<void(const model::QuarantinedDicom&)>& fn) = 0;

  // Variant files the node keeps a copy of (for htsget), oldest first.
  virtual Result<std::vector<model::VariantFile>> ListVariantFiles() = 0;
  // The variant file with this htsget id; NotFound if there is none.
  virtual Result<model::VariantFile> FindVariantFile(const std::string& id) = 0;

  // Files ingested so far, oldest first.
  virtual Result<std::vector<SourceFile>> ListSourceFiles() = 0;

  // Data permits (auth/permits.h): a document per permit, stored as given, with its status
  // for compare-and-set. PutPermit writes `permit` only if the stored status is
  // `expected_status` ("" = the permit must not exist yet); FailedPrecondition naming the
  // stored status otherwise, so two committee members deciding at once cannot both win.
  virtual Status PutPermit(const StoredPermit& permit, const std::string& expected_status) = 0;
  virtual Result<StoredPermit> FindPermit(const std::string& id) = 0;  // NotFound if absent
  virtual Status ScanPermits(
      const std::function<void(const StoredPermit&)>& fn) = 0;  // oldest first

  // Node metadata (key/value), e.g. the node's name and creation time.
  virtual Status PutMeta(const std::string& key, const std::string& value) = 0;
  virtual Result<std::string> GetMeta(const std::string& key) = 0;  // NotFound if absent
};

// Every stored variant with its calls: blocks decoded and carriers joined with their file's
// sample columns, as the index counts them: carriers of columns without a sample row, or whose
// individual is not in the store (yet), left out. For tests and tools; the index reads the
// blocks itself. DataLoss when a block does not decode.
Status ScanStoredVariants(
    Store& store,
    const std::function<void(const model::Variant&, const std::vector<model::VariantCall>&)>& fn);

// Opens (creating if needed) the SQLite store at `path` and migrates its schema to the
// current version. Fails with DataLoss if the file is not a store or is corrupt, and with
// FailedPrecondition if its schema is newer than this build understands.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);

}  // namespace oncomesh::store
