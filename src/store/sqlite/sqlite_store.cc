// SQLite implementation of the Store: one file per node, WAL journal, prepared statements,
// one transaction per ingested file.
#include <sqlite3.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <string>
#include <utility>

#include "store/segment_file.h"
#include "store/store.h"

namespace oncomesh::store {
namespace {

using model::Date;
using model::kNoDate;

// Schema migrations, applied in order; the store's `user_version` is the number applied.
// Never edit a released migration: append a new one.
const char* const kMigrations[] = {
    // 1: the first schema.
    R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE source_files(
  seq INTEGER PRIMARY KEY, name TEXT NOT NULL, sha256 TEXT NOT NULL UNIQUE,
  format TEXT NOT NULL, ingested_at TEXT NOT NULL, records_added INTEGER NOT NULL);
CREATE TABLE individuals(
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, sex INTEGER NOT NULL,
  birth_date INTEGER, vital_status INTEGER NOT NULL, death_date INTEGER,
  last_contact_date INTEGER);
CREATE TABLE diagnoses(
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, individual_id TEXT NOT NULL,
  code_system TEXT NOT NULL, code TEXT NOT NULL, code_display TEXT NOT NULL,
  topography TEXT NOT NULL, morphology TEXT NOT NULL, is_primary INTEGER NOT NULL,
  onset_date INTEGER, stage_group TEXT NOT NULL, t_category TEXT NOT NULL,
  n_category TEXT NOT NULL, m_category TEXT NOT NULL, grade TEXT NOT NULL,
  progression_date INTEGER);
CREATE INDEX diagnoses_individual ON diagnoses(individual_id);
CREATE TABLE observations(
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, individual_id TEXT NOT NULL,
  focus_id TEXT NOT NULL, code_system TEXT NOT NULL, code TEXT NOT NULL,
  code_display TEXT NOT NULL, value_system TEXT NOT NULL, value_code TEXT NOT NULL,
  value_display TEXT NOT NULL, value_number REAL, value_unit TEXT NOT NULL,
  effective_date INTEGER);
CREATE INDEX observations_individual ON observations(individual_id);
CREATE TABLE treatments(
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, individual_id TEXT NOT NULL,
  kind INTEGER NOT NULL, code_system TEXT NOT NULL, code TEXT NOT NULL,
  code_display TEXT NOT NULL, start_date INTEGER, end_date INTEGER);
CREATE INDEX treatments_individual ON treatments(individual_id);
CREATE TABLE biosamples(
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, individual_id TEXT NOT NULL,
  type_system TEXT NOT NULL, type_code TEXT NOT NULL, type_display TEXT NOT NULL,
  site_system TEXT NOT NULL, site_code TEXT NOT NULL, site_display TEXT NOT NULL,
  tumour INTEGER NOT NULL, collection_date INTEGER);
CREATE INDEX biosamples_individual ON biosamples(individual_id);
CREATE TABLE imaging_studies(
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, individual_id TEXT NOT NULL,
  modality TEXT NOT NULL, site_system TEXT NOT NULL, site_code TEXT NOT NULL,
  site_display TEXT NOT NULL, started INTEGER, number_of_series INTEGER NOT NULL,
  number_of_instances INTEGER NOT NULL);
CREATE INDEX imaging_studies_individual ON imaging_studies(individual_id);
)sql",
    // 2: genomic finding components of observations (mCODE GenomicVariant).
    R"sql(
ALTER TABLE observations ADD COLUMN gene_system TEXT NOT NULL DEFAULT '';
ALTER TABLE observations ADD COLUMN gene_code TEXT NOT NULL DEFAULT '';
ALTER TABLE observations ADD COLUMN amino_acid_change TEXT NOT NULL DEFAULT '';
ALTER TABLE observations ADD COLUMN dna_change TEXT NOT NULL DEFAULT '';
)sql",
    // 3: no index on individual_id. Nothing looks records up by individual (the index scans
    // whole tables by seq), and keeping these up to date was a large part of the ingest's
    // single writer thread (a second random B-tree insert per record). A record-level lookup
    // that needs one adds it back in its own migration.
    R"sql(
DROP INDEX IF EXISTS diagnoses_individual;
DROP INDEX IF EXISTS observations_individual;
DROP INDEX IF EXISTS treatments_individual;
DROP INDEX IF EXISTS biosamples_individual;
DROP INDEX IF EXISTS imaging_studies_individual;
)sql",
    // 4: genomic tables (VCF/BCF ingest, issue 3). A variant is one normalised ALT allele; a
    // call links it to the individual and sample carrying it; a file is the node's kept copy
    // for htsget. `end_position` because END is an SQL keyword.
    R"sql(
CREATE TABLE variants(
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, assembly TEXT NOT NULL,
  chrom TEXT NOT NULL, position INTEGER NOT NULL, ref TEXT NOT NULL, alt TEXT NOT NULL,
  end_position INTEGER NOT NULL, variant_type TEXT NOT NULL, gene TEXT NOT NULL);
CREATE TABLE variant_calls(
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, variant_id TEXT NOT NULL,
  individual_id TEXT NOT NULL, biosample_id TEXT NOT NULL, zygosity INTEGER NOT NULL,
  origin INTEGER NOT NULL);
CREATE TABLE variant_files(
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, path TEXT NOT NULL, format TEXT NOT NULL,
  assembly TEXT NOT NULL, sha256 TEXT NOT NULL UNIQUE, samples INTEGER NOT NULL,
  records INTEGER NOT NULL);
)sql",
    // 5: calls kept in blocks (model/variant_block.h) rather than a row each: at 3 million
    // calls a file, the per-call rows and their UNIQUE(id) index, not htslib's parsing, set
    // the ingest rate. A block's bytes are in a segment file (store/segment_file.h) under
    // segments/ beside the database; its row says where. Migrate() refuses a store that holds
    // variants in the old tables (none were released); re-ingesting the files rebuilds them.
    R"sql(
DROP TABLE variant_calls;
DROP TABLE variants;
CREATE TABLE variant_samples(
  seq INTEGER PRIMARY KEY, file_id TEXT NOT NULL, sample_column INTEGER NOT NULL,
  individual_id TEXT NOT NULL, biosample_id TEXT NOT NULL, UNIQUE(file_id, sample_column));
CREATE TABLE variant_blocks(
  seq INTEGER PRIMARY KEY, file_id TEXT NOT NULL, variants INTEGER NOT NULL,
  segment TEXT NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL,
  crc32 INTEGER NOT NULL);
)sql",
    // 6: DICOM instances (ingest/dicom/), de-identified, their files content-addressed under
    // dicom/ beside the database; and the files quarantined instead of stored, with the reason.
    R"sql(
CREATE TABLE dicom_instances(
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, individual_id TEXT NOT NULL,
  study_uid TEXT NOT NULL, series_uid TEXT NOT NULL, sop_class_uid TEXT NOT NULL,
  modality TEXT NOT NULL, body_part TEXT NOT NULL, manufacturer TEXT NOT NULL,
  slice_thickness REAL, study_date INTEGER, series_number INTEGER NOT NULL,
  instance_number INTEGER NOT NULL, transfer_syntax TEXT NOT NULL, path TEXT NOT NULL,
  sha256 TEXT NOT NULL, attributes_sha256 TEXT NOT NULL, bytes INTEGER NOT NULL);
CREATE INDEX dicom_instances_series ON dicom_instances(series_uid);
CREATE INDEX dicom_instances_study ON dicom_instances(study_uid);
CREATE TABLE dicom_quarantine(
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, source TEXT NOT NULL, reason TEXT NOT NULL,
  path TEXT NOT NULL, quarantined_at TEXT NOT NULL);
)sql",
    // 7: data permits (auth/permits.h), a JSON document each; not records, so no seq.
    R"sql(
CREATE TABLE permits(
  id TEXT PRIMARY KEY, status TEXT NOT NULL, document TEXT NOT NULL, created INTEGER NOT NULL);
)sql",
    // 8: the dataset an individual belongs to (model::Individual::dataset; '' = the first).
    R"sql(
ALTER TABLE individuals ADD COLUMN dataset TEXT NOT NULL DEFAULT '';
)sql",
    // 9: medical record numbers (keyed) and the individual each is (model::PatientLink). Not
    // records the index reads, so no seq; the first individual a number was given to keeps it.
    R"sql(
CREATE TABLE patient_links(
  key TEXT PRIMARY KEY, individual_id TEXT NOT NULL, date_shift_days INTEGER NOT NULL);
)sql",
};
constexpr int kSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);

// A prepared statement, finalised on destruction. Binds are 1-based, like SQLite's.
class Statement {
 public:
  Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  Status Prepare(sqlite3* db, const char* sql) {
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK) {
      return Internal(std::string("sqlite prepare: ") + sqlite3_errmsg(db));
    }
    return Status::Ok();
  }
  sqlite3_stmt* get() { return stmt_; }

  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  // The text must stay unchanged until the statement is stepped (SQLITE_STATIC: no copy).
  void Bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
  }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void BindDate(int i, Date d) {
    if (d == kNoDate) {
      sqlite3_bind_null(stmt_, i);
    } else {
      sqlite3_bind_int64(stmt_, i, d);
    }
  }
  void BindReal(int i, double v) {
    if (std::isnan(v)) {
      sqlite3_bind_null(stmt_, i);
    } else {
      sqlite3_bind_double(stmt_, i, v);
    }
  }
  std::string Text(int col) {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }
  Date DateAt(int col) {
    return sqlite3_column_type(stmt_, col) == SQLITE_NULL
               ? kNoDate
               : static_cast<Date>(sqlite3_column_int64(stmt_, col));
  }
  double Real(int col) {
    return sqlite3_column_type(stmt_, col) == SQLITE_NULL ? NAN : sqlite3_column_double(stmt_, col);
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

std::string NowUtc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

class SqliteStore final : public Store {
 public:
  // `dir`: the folder of the database file, where segments/ is.
  SqliteStore(sqlite3* db, std::string dir) : db_(db), dir_(std::move(dir)) {}
  ~SqliteStore() override { sqlite3_close_v2(db_); }

  Status Init() {
    // The busy timeout first: the pragmas below wait for locks too. A store opened while the
    // last other connection closes (SQLite then checkpoints the WAL under an exclusive lock)
    // failed at once with "database is locked": the DICOM receiver, opening a store per
    // association, refused a PACS's second association so (issue 12, item 4).
    sqlite3_busy_timeout(db_, 30000);
    // 16 KB pages for a new store (a no-op on an existing one: the page size is fixed once
    // the file has content, and WAL mode keeps it). Ingest writes gigabytes of B-tree pages,
    // most into the UNIQUE(id) index at random places; measured against the 4 KB default on
    // 1.24M resources: the store-writing thread 8.4-9.5 s -> 7.8-7.9 s CPU, less system time.
    RETURN_IF_ERROR(Exec("PRAGMA page_size=16384"));
    RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
    RETURN_IF_ERROR(Exec("PRAGMA synchronous=FULL"));
    RETURN_IF_ERROR(Exec("PRAGMA foreign_keys=ON"));
    RETURN_IF_ERROR(Migrate());
    return Status::Ok();
  }

  Result<IngestCounts> IngestBatch(const SourceFile& file,
                                   const model::RecordBatch& batch) override {
    ASSIGN_OR_RETURN(bool known, HasSourceFile(file.content_sha256));
    if (known) {
      IngestCounts counts;
      counts.file_already_ingested = true;
      counts.skipped = static_cast<int64_t>(batch.size());
      return counts;
    }
    ASSIGN_OR_RETURN(std::unique_ptr<IngestTransaction> txn, BeginIngest(file));
    RETURN_IF_ERROR(txn->Add(batch));
    return txn->Commit(file.content_sha256);
  }

  Result<std::unique_ptr<IngestTransaction>> BeginIngest(const SourceFile& file) override;

  Result<bool> HasSourceFile(const std::string& sha256) override {
    Statement& s = Stmt(kFindFile, "SELECT 1 FROM source_files WHERE sha256=?");
    s.Reset();
    s.Bind(1, sha256);
    const int rc = sqlite3_step(s.get());
    // Reset at once: a statement left on its row keeps a read transaction open, and a later
    // BEGIN IMMEDIATE on this connection, from that stale snapshot, fails with "database is
    // locked" without waiting (four C-STORE associations at once refused instances so).
    sqlite3_reset(s.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return Error("looking up source file");
  }

  Result<bool> HasIndividual(const std::string& id) override {
    Statement& s = Stmt(kHasIndividual, "SELECT 1 FROM individuals WHERE id=?");
    s.Reset();
    s.Bind(1, id);
    const int rc = sqlite3_step(s.get());
    // Reset at once: a statement left on its row keeps a read transaction open, and a later
    // BEGIN IMMEDIATE on this connection, from that stale snapshot, fails with "database is
    // locked" without waiting (four C-STORE associations at once refused instances so).
    sqlite3_reset(s.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return Error("HasIndividual");
  }

  Status SetEmptyDatasets(const std::string& dataset) override {
    Statement s;
    RETURN_IF_ERROR(s.Prepare(db_, "UPDATE individuals SET dataset=? WHERE dataset=''"));
    s.Bind(1, dataset);
    return Step(s, "SetEmptyDatasets");
  }

  Result<std::string> IndividualDataset(const std::string& id) override {
    Statement& s = Stmt(kIndividualDataset, "SELECT dataset FROM individuals WHERE id=?");
    s.Reset();
    s.Bind(1, id);
    const int rc = sqlite3_step(s.get());
    if (rc == SQLITE_ROW) {
      std::string dataset = s.Text(0);
      sqlite3_reset(s.get());
      return dataset;
    }
    if (rc == SQLITE_DONE) return NotFound("store: no individual '" + id + "'");
    return Error("IndividualDataset");
  }

  Result<Seq> LastSeq() override {
    Result<std::string> v = GetMeta("last_seq");
    if (!v.ok())
      return v.status().code() == StatusCode::kNotFound ? Result<Seq>(Seq{0}) : v.status();
    return static_cast<Seq>(std::stoll(*v));
  }

  Status ScanIndividuals(Seq after,
                         const std::function<void(Seq, const model::Individual&)>& fn) override {
    Statement s;
    RETURN_IF_ERROR(
        s.Prepare(db_,
                  "SELECT seq,id,sex,birth_date,vital_status,death_date,"
                  "last_contact_date,dataset FROM individuals WHERE seq>? ORDER BY seq"));
    s.Bind(1, after);
    return Scan(s, [&] {
      model::Individual r;
      r.id = s.Text(1);
      r.sex = static_cast<model::Sex>(s.Int(2));
      r.birth_date = s.DateAt(3);
      r.vital_status = static_cast<model::VitalStatus>(s.Int(4));
      r.death_date = s.DateAt(5);
      r.last_contact_date = s.DateAt(6);
      r.dataset = s.Text(7);
      fn(s.Int(0), r);
    });
  }

  Status ScanDiagnoses(Seq after,
                       const std::function<void(Seq, const model::Diagnosis&)>& fn) override {
    Statement s;
    RETURN_IF_ERROR(
        s.Prepare(db_,
                  "SELECT seq,id,individual_id,code_system,code,code_display,topography,morphology,"
                  "is_primary,onset_date,stage_group,t_category,n_category,m_category,grade,"
                  "progression_date FROM diagnoses WHERE seq>? ORDER BY seq"));
    s.Bind(1, after);
    return Scan(s, [&] {
      model::Diagnosis r;
      r.id = s.Text(1);
      r.individual_id = s.Text(2);
      r.code = {s.Text(3), s.Text(4), s.Text(5)};
      r.topography = s.Text(6);
      r.morphology = s.Text(7);
      r.primary = s.Int(8) != 0;
      r.onset_date = s.DateAt(9);
      r.stage_group = s.Text(10);
      r.t_category = s.Text(11);
      r.n_category = s.Text(12);
      r.m_category = s.Text(13);
      r.grade = s.Text(14);
      r.progression_date = s.DateAt(15);
      fn(s.Int(0), r);
    });
  }

  Status ScanObservations(Seq after,
                          const std::function<void(Seq, const model::Observation&)>& fn) override {
    Statement s;
    RETURN_IF_ERROR(s.Prepare(
        db_,
        "SELECT seq,id,individual_id,focus_id,code_system,code,code_display,value_system,"
        "value_code,value_display,value_number,value_unit,effective_date,gene_system,gene_code,"
        "amino_acid_change,dna_change FROM observations WHERE seq>? ORDER BY seq"));
    s.Bind(1, after);
    return Scan(s, [&] {
      model::Observation r;
      r.id = s.Text(1);
      r.individual_id = s.Text(2);
      r.focus_id = s.Text(3);
      r.code = {s.Text(4), s.Text(5), s.Text(6)};
      r.value_code = {s.Text(7), s.Text(8), s.Text(9)};
      r.value_number = s.Real(10);
      r.value_unit = s.Text(11);
      r.effective_date = s.DateAt(12);
      r.gene_studied = {s.Text(13), s.Text(14), ""};
      r.amino_acid_change = s.Text(15);
      r.dna_change = s.Text(16);
      fn(s.Int(0), r);
    });
  }

  Status ScanTreatments(Seq after,
                        const std::function<void(Seq, const model::Treatment&)>& fn) override {
    Statement s;
    RETURN_IF_ERROR(s.Prepare(db_,
                              "SELECT seq,id,individual_id,kind,code_system,code,code_display,"
                              "start_date,end_date FROM treatments WHERE seq>? ORDER BY seq"));
    s.Bind(1, after);
    return Scan(s, [&] {
      model::Treatment r;
      r.id = s.Text(1);
      r.individual_id = s.Text(2);
      r.kind = static_cast<model::TreatmentKind>(s.Int(3));
      r.code = {s.Text(4), s.Text(5), s.Text(6)};
      r.start_date = s.DateAt(7);
      r.end_date = s.DateAt(8);
      fn(s.Int(0), r);
    });
  }

  Status ScanBiosamples(Seq after,
                        const std::function<void(Seq, const model::Biosample&)>& fn) override {
    Statement s;
    RETURN_IF_ERROR(s.Prepare(
        db_,
        "SELECT seq,id,individual_id,type_system,type_code,type_display,site_system,site_code,"
        "site_display,tumour,collection_date FROM biosamples WHERE seq>? ORDER BY seq"));
    s.Bind(1, after);
    return Scan(s, [&] {
      model::Biosample r;
      r.id = s.Text(1);
      r.individual_id = s.Text(2);
      r.type = {s.Text(3), s.Text(4), s.Text(5)};
      r.body_site = {s.Text(6), s.Text(7), s.Text(8)};
      r.tumour = s.Int(9) != 0;
      r.collection_date = s.DateAt(10);
      fn(s.Int(0), r);
    });
  }

  Status ScanImagingStudies(
      Seq after, const std::function<void(Seq, const model::ImagingStudy&)>& fn) override {
    Statement s;
    RETURN_IF_ERROR(s.Prepare(
        db_,
        "SELECT seq,id,individual_id,modality,site_system,site_code,site_display,started,"
        "number_of_series,number_of_instances FROM imaging_studies WHERE seq>? ORDER BY seq"));
    s.Bind(1, after);
    return Scan(s, [&] {
      model::ImagingStudy r;
      r.id = s.Text(1);
      r.individual_id = s.Text(2);
      r.modality = s.Text(3);
      r.body_site = {s.Text(4), s.Text(5), s.Text(6)};
      r.started = s.DateAt(7);
      r.number_of_series = static_cast<int>(s.Int(8));
      r.number_of_instances = static_cast<int>(s.Int(9));
      fn(s.Int(0), r);
    });
  }

  Status ScanVariantSamples(
      Seq after, const std::function<void(Seq, const model::VariantSample&)>& fn) override {
    Statement s;
    RETURN_IF_ERROR(s.Prepare(db_,
                              "SELECT seq,file_id,sample_column,individual_id,biosample_id "
                              "FROM variant_samples WHERE seq>? ORDER BY seq"));
    s.Bind(1, after);
    return Scan(s, [&] {
      model::VariantSample r;
      r.file_id = s.Text(1);
      r.column = static_cast<uint32_t>(s.Int(2));
      r.individual_id = s.Text(3);
      r.biosample_id = s.Text(4);
      fn(s.Int(0), r);
    });
  }

  Status ScanVariantBlocks(
      Seq after, const std::function<void(Seq, const model::VariantBlock&)>& fn) override {
    Statement s;
    RETURN_IF_ERROR(s.Prepare(db_,
                              "SELECT seq,file_id,variants,segment,offset,length,crc32 "
                              "FROM variant_blocks WHERE seq>? ORDER BY seq"));
    s.Bind(1, after);
    SegmentReader reader;
    Status status = Status::Ok();
    model::VariantBlock r;
    RETURN_IF_ERROR(Scan(s, [&] {
      if (!status.ok()) return;
      r.file_id = s.Text(1);
      r.variants = static_cast<uint32_t>(s.Int(2));
      status =
          reader.Read(dir_ + "/" + s.Text(3), static_cast<uint64_t>(s.Int(4)),
                      static_cast<uint64_t>(s.Int(5)), static_cast<uint32_t>(s.Int(6)), &r.data);
      if (status.ok()) fn(s.Int(0), r);
    }));
    return status;
  }

  static model::DicomInstance DicomInstanceAt(Statement& s, int c) {
    model::DicomInstance r;
    r.id = s.Text(c);
    r.individual_id = s.Text(c + 1);
    r.study_uid = s.Text(c + 2);
    r.series_uid = s.Text(c + 3);
    r.sop_class_uid = s.Text(c + 4);
    r.modality = s.Text(c + 5);
    r.body_part = s.Text(c + 6);
    r.manufacturer = s.Text(c + 7);
    r.slice_thickness = s.Real(c + 8);
    r.study_date = s.DateAt(c + 9);
    r.series_number = static_cast<int>(s.Int(c + 10));
    r.instance_number = static_cast<int>(s.Int(c + 11));
    r.transfer_syntax = s.Text(c + 12);
    r.path = s.Text(c + 13);
    r.content_sha256 = s.Text(c + 14);
    r.attributes_sha256 = s.Text(c + 15);
    r.bytes = s.Int(c + 16);
    return r;
  }
  static constexpr const char* kDicomColumns =
      "id,individual_id,study_uid,series_uid,sop_class_uid,modality,body_part,manufacturer,"
      "slice_thickness,study_date,series_number,instance_number,transfer_syntax,path,sha256,"
      "attributes_sha256,bytes";

  Status ScanDicomInstances(
      Seq after, const std::function<void(Seq, const model::DicomInstance&)>& fn) override {
    Statement s;
    RETURN_IF_ERROR(s.Prepare(db_, (std::string("SELECT seq,") + kDicomColumns +
                                    " FROM dicom_instances WHERE seq>? ORDER BY seq")
                                       .c_str()));
    s.Bind(1, after);
    return Scan(s, [&] { fn(s.Int(0), DicomInstanceAt(s, 1)); });
  }

  Status ScanDicomSeries(const std::function<void(const model::DicomSeries&)>& fn) override {
    Statement s;
    // One row per series, in the order series first arrived; the attributes of its first
    // instance (they are series-level in DICOM), its instance count.
    RETURN_IF_ERROR(s.Prepare(db_,
                              "SELECT series_uid,study_uid,individual_id,modality,body_part,"
                              "manufacturer,slice_thickness,study_date,n FROM ("
                              "SELECT *, count(*) OVER (PARTITION BY series_uid) AS n, "
                              "row_number() OVER (PARTITION BY series_uid ORDER BY seq) AS k "
                              "FROM dicom_instances) WHERE k=1 ORDER BY seq"));
    return Scan(s, [&] {
      model::DicomSeries r;
      r.series_uid = s.Text(0);
      r.study_uid = s.Text(1);
      r.individual_id = s.Text(2);
      r.modality = s.Text(3);
      r.body_part = s.Text(4);
      r.manufacturer = s.Text(5);
      r.slice_thickness = s.Real(6);
      r.study_date = s.DateAt(7);
      r.instances = s.Int(8);
      fn(r);
    });
  }

  Result<model::DicomInstance> FindDicomInstance(const std::string& id) override {
    Statement& s = Stmt(kFindDicomInstance,
                        "SELECT id,individual_id,study_uid,series_uid,sop_class_uid,modality,"
                        "body_part,manufacturer,slice_thickness,study_date,series_number,"
                        "instance_number,transfer_syntax,path,sha256,attributes_sha256,bytes "
                        "FROM dicom_instances WHERE id=?");
    s.Reset();
    s.Bind(1, id);
    const int rc = sqlite3_step(s.get());
    if (rc == SQLITE_ROW) {
      model::DicomInstance r = DicomInstanceAt(s, 0);
      sqlite3_reset(s.get());
      return r;
    }
    sqlite3_reset(s.get());
    if (rc != SQLITE_DONE) return Error("finding a DICOM instance");
    return NotFound("store: no DICOM instance " + id);
  }

  Status ScanQuarantinedDicom(
      const std::function<void(const model::QuarantinedDicom&)>& fn) override {
    Statement s;
    RETURN_IF_ERROR(
        s.Prepare(db_, "SELECT id,source,reason,path FROM dicom_quarantine ORDER BY seq"));
    return Scan(s, [&] { fn({s.Text(0), s.Text(1), s.Text(2), s.Text(3)}); });
  }

  static model::VariantFile VariantFileAt(Statement& s) {
    model::VariantFile r;
    r.id = s.Text(0);
    r.path = s.Text(1);
    r.format = s.Text(2);
    r.assembly = s.Text(3);
    r.content_sha256 = s.Text(4);
    r.samples = s.Int(5);
    r.records = s.Int(6);
    return r;
  }

  Result<std::vector<model::VariantFile>> ListVariantFiles() override {
    Statement s;
    RETURN_IF_ERROR(s.Prepare(db_,
                              "SELECT id,path,format,assembly,sha256,samples,records "
                              "FROM variant_files ORDER BY seq"));
    std::vector<model::VariantFile> out;
    RETURN_IF_ERROR(Scan(s, [&] { out.push_back(VariantFileAt(s)); }));
    return out;
  }

  Result<model::VariantFile> FindVariantFile(const std::string& id) override {
    Statement& s = Stmt(kFindVariantFile,
                        "SELECT id,path,format,assembly,sha256,samples,records "
                        "FROM variant_files WHERE id=?");
    s.Reset();
    s.Bind(1, id);
    const int rc = sqlite3_step(s.get());
    if (rc == SQLITE_ROW) {
      model::VariantFile r = VariantFileAt(s);
      sqlite3_reset(s.get());
      // The datasets whose individuals' genotypes the file holds; a sample of no known
      // individual (no row in variant_samples, or a row whose individual is not stored yet)
      // makes the file's datasets unknown.
      Statement linked;
      RETURN_IF_ERROR(linked.Prepare(db_,
                                     "SELECT count(*) FROM variant_samples v JOIN individuals i "
                                     "ON i.id=v.individual_id WHERE v.file_id=?"));
      linked.Bind(1, id);
      if (sqlite3_step(linked.get()) != SQLITE_ROW) return Error("FindVariantFile");
      r.unlinked_samples = r.samples - linked.Int(0);
      Statement d;
      RETURN_IF_ERROR(
          d.Prepare(db_,
                    "SELECT DISTINCT i.dataset FROM variant_samples v "
                    "JOIN individuals i ON i.id=v.individual_id WHERE v.file_id=? ORDER BY 1"));
      d.Bind(1, id);
      RETURN_IF_ERROR(Scan(d, [&] { r.datasets.push_back(d.Text(0)); }));
      return r;
    }
    if (rc == SQLITE_DONE) return NotFound("store: no variant file '" + id + "'");
    return Error("FindVariantFile");
  }

  Result<std::vector<SourceFile>> ListSourceFiles() override {
    Statement s;
    RETURN_IF_ERROR(s.Prepare(db_, "SELECT name,sha256,format FROM source_files ORDER BY seq"));
    std::vector<SourceFile> out;
    RETURN_IF_ERROR(Scan(s, [&] { out.push_back({s.Text(0), s.Text(1), s.Text(2)}); }));
    return out;
  }

  Status PutPermit(const StoredPermit& permit, const std::string& expected_status) override {
    RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status st = [&]() -> Status {
      Statement q;
      RETURN_IF_ERROR(q.Prepare(db_, "SELECT status FROM permits WHERE id=?"));
      q.Bind(1, permit.id);
      const int rc = sqlite3_step(q.get());
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error("PutPermit");
      const std::string stored = rc == SQLITE_ROW ? q.Text(0) : "";
      if (stored != expected_status) {
        return FailedPrecondition(
            "permit " + permit.id + " is " + (stored.empty() ? "unknown" : stored) +
            (expected_status.empty() ? ", not new" : ", not " + expected_status));
      }
      Statement w;
      RETURN_IF_ERROR(w.Prepare(
          db_,
          "INSERT INTO permits(id,status,document,created) VALUES(?,?,?,strftime('%s','now')) "
          "ON CONFLICT(id) DO UPDATE SET status=excluded.status, document=excluded.document"));
      w.Bind(1, permit.id);
      w.Bind(2, permit.status);
      w.Bind(3, permit.document);
      return Step(w, "PutPermit");
    }();
    if (!st.ok()) {
      (void)Exec("ROLLBACK");
      return st;
    }
    return Exec("COMMIT");
  }

  Result<StoredPermit> FindPermit(const std::string& id) override {
    Statement s;
    RETURN_IF_ERROR(s.Prepare(db_, "SELECT id,status,document FROM permits WHERE id=?"));
    s.Bind(1, id);
    const int rc = sqlite3_step(s.get());
    if (rc == SQLITE_ROW) return StoredPermit{s.Text(0), s.Text(1), s.Text(2)};
    if (rc == SQLITE_DONE) return NotFound("no permit '" + id + "'");
    return Error("FindPermit");
  }

  Status ScanPermits(const std::function<void(const StoredPermit&)>& fn) override {
    Statement s;
    RETURN_IF_ERROR(
        s.Prepare(db_, "SELECT id,status,document FROM permits ORDER BY created, rowid"));
    return Scan(s, [&] { fn({s.Text(0), s.Text(1), s.Text(2)}); });
  }

  Status PutMeta(const std::string& key, const std::string& value) override {
    Statement& s = Stmt(kPutMeta, "INSERT OR REPLACE INTO meta(key,value) VALUES(?,?)");
    s.Reset();
    s.Bind(1, key);
    s.Bind(2, value);
    return Step(s, "PutMeta");
  }

  Result<model::PatientLink> FindPatientLink(const std::string& key) override {
    Statement& s = Stmt(kFindPatientLink,
                        "SELECT individual_id,date_shift_days FROM patient_links WHERE key=?");
    s.Reset();
    s.Bind(1, key);
    const int rc = sqlite3_step(s.get());
    if (rc == SQLITE_ROW) {
      model::PatientLink link{key, s.Text(0), static_cast<int>(s.Int(1))};
      sqlite3_reset(s.get());  // no read transaction left open (HasIndividual)
      return link;
    }
    sqlite3_reset(s.get());
    if (rc == SQLITE_DONE) return NotFound("store: no individual has this medical record number");
    return Error("FindPatientLink");
  }

  Result<std::string> GetMeta(const std::string& key) override {
    Statement& s = Stmt(kGetMeta, "SELECT value FROM meta WHERE key=?");
    s.Reset();
    s.Bind(1, key);
    const int rc = sqlite3_step(s.get());
    if (rc == SQLITE_ROW) {
      std::string value = s.Text(0);
      sqlite3_reset(s.get());  // no read transaction left open (HasIndividual)
      return value;
    }
    sqlite3_reset(s.get());
    if (rc == SQLITE_DONE) return NotFound("store: no metadata '" + key + "'");
    return Error("GetMeta");
  }

 private:
  enum StmtId {
    kHasIndividual,
    kIndividualDataset,
    kPutMeta,
    kGetMeta,
    kFindFile,
    kAddFile,
    kAddIndividual,
    kAddDiagnosis,
    kAddObservation,
    kAddTreatment,
    kAddBiosample,
    kAddImagingStudy,
    kAddVariantFile,
    kAddVariantSample,
    kAddVariantBlock,
    kAddDicomInstance,
    kAddQuarantinedDicom,
    kFindDicomInstance,
    kFindVariantFile,
    kAddPatientLink,
    kFindPatientLink,
    kStmtCount
  };

  // A cached prepared statement. A failure to prepare one of our fixed statements is a bug;
  // it surfaces as an error from the first step on it.
  Statement& Stmt(StmtId id, const char* sql) {
    Statement& s = stmts_[id];
    if (s.get() == nullptr) (void)s.Prepare(db_, sql);
    return s;
  }

  Status Error(const std::string& what) {
    const int code = sqlite3_errcode(db_);
    const std::string msg = "store: " + what + ": " + sqlite3_errmsg(db_);
    if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) return DataLoss(msg);
    if (code == SQLITE_FULL || code == SQLITE_IOERR) return Unavailable(msg);
    return Internal(msg);
  }

  Status Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      const int code = sqlite3_errcode(db_);
      if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) {
        return DataLoss("store: not a valid OncoMesh store: " + msg);
      }
      return Internal("store: " + msg);
    }
    return Status::Ok();
  }

  Status Step(Statement& s, const char* what) {
    if (s.get() == nullptr) return Internal(std::string("store: statement not prepared: ") + what);
    const int rc = sqlite3_step(s.get());
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return Error(what);
    return Status::Ok();
  }

  template <typename F>
  Status Scan(Statement& s, F&& row) {
    for (;;) {
      const int rc = sqlite3_step(s.get());
      if (rc == SQLITE_DONE) return Status::Ok();
      if (rc != SQLITE_ROW) return Error("scan");
      row();
    }
  }

  Status Migrate() {
    Statement v;
    RETURN_IF_ERROR(v.Prepare(db_, "PRAGMA user_version"));
    if (sqlite3_step(v.get()) != SQLITE_ROW) return Error("reading schema version");
    const int64_t version = v.Int(0);
    // A statement still stepping keeps its table open, and DROP INDEX then fails ("database
    // table is locked").
    sqlite3_reset(v.get());
    if (version > kSchemaVersion) {
      return FailedPrecondition("store: schema version " + std::to_string(version) +
                                " is newer than this build understands (" +
                                std::to_string(kSchemaVersion) + ")");
    }
    if (version == 4) RETURN_IF_ERROR(RefuseOldVariantRows());
    for (int64_t i = version; i < kSchemaVersion; ++i) {
      RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
      Status st = Exec(kMigrations[i]);
      if (st.ok()) {
        st = Exec(("PRAGMA user_version=" + std::to_string(i + 1)).c_str());
      }
      if (!st.ok()) {
        (void)Exec("ROLLBACK");
        return st.WithContext("store: migration " + std::to_string(i + 1));
      }
      RETURN_IF_ERROR(Exec("COMMIT"));
    }
    return Status::Ok();
  }

  // Migration 5 drops the per-call tables; a store with rows in them cannot be carried over.
  Status RefuseOldVariantRows() {
    Statement s;
    RETURN_IF_ERROR(s.Prepare(db_,
                              "SELECT (SELECT count(*) FROM variants) + "
                              "(SELECT count(*) FROM variant_files)"));
    if (sqlite3_step(s.get()) != SQLITE_ROW) return Error("reading schema-4 variant tables");
    const int64_t rows = s.Int(0);
    sqlite3_reset(s.get());
    if (rows > 0) {
      return FailedPrecondition(
          "store: it holds variants in the schema-4 layout (one row per call), which this build "
          "no longer reads; make a new node directory and ingest the VCF/BCF files again");
    }
    return Status::Ok();
  }

  friend class SqliteIngestTransaction;

  // Inserts with INSERT OR IGNORE and counts what changed. Sequence numbers come from `seq`,
  // kept in meta as last_seq by FinishInTransaction inside the same transaction.
  // Variant blocks go to `*segment` (created as dir/segment_name at the first).
  Status AddInTransaction(const model::RecordBatch& batch, Seq& seq, IngestCounts& counts,
                          std::unique_ptr<SegmentWriter>* segment = nullptr,
                          const std::string& segment_name = "") {
    auto insert = [&](Statement& s, const char* what) -> Status {
      if (s.get() == nullptr) return Internal(std::string("store: not prepared: ") + what);
      const int rc = sqlite3_step(s.get());
      if (rc != SQLITE_DONE) return Error(std::string("inserting ") + what);
      if (sqlite3_changes(db_) > 0) {
        ++counts.added;
      } else {
        ++counts.skipped;
      }
      return Status::Ok();
    };

    for (const model::Individual& r : batch.individuals) {
      Statement& s = Stmt(kAddIndividual,
                          "INSERT OR IGNORE INTO individuals(seq,id,sex,birth_date,vital_status,"
                          "death_date,last_contact_date,dataset) VALUES(?,?,?,?,?,?,?,?)");
      s.Reset();
      s.Bind(1, ++seq);
      s.Bind(2, r.id);
      s.Bind(3, static_cast<int64_t>(r.sex));
      s.BindDate(4, r.birth_date);
      s.Bind(5, static_cast<int64_t>(r.vital_status));
      s.BindDate(6, r.death_date);
      s.BindDate(7, r.last_contact_date);
      s.Bind(8, r.dataset);
      RETURN_IF_ERROR(insert(s, "individual"));
      if (sqlite3_changes(db_) == 0) {
        // Known already: a patient belongs to one dataset, and what follows (its diagnoses,
        // genotypes, images) would join the dataset it is in.
        ASSIGN_OR_RETURN(std::string stored, IndividualDataset(r.id));
        if (stored != r.dataset) {
          return FailedPrecondition(
              "individual " + r.id + " is in dataset '" + stored + "', not '" + r.dataset +
              "': a patient belongs to one dataset (the same patient id in two sources?)");
        }
      }
    }
    for (const model::Diagnosis& r : batch.diagnoses) {
      Statement& s =
          Stmt(kAddDiagnosis,
               "INSERT OR IGNORE INTO diagnoses(seq,id,individual_id,code_system,code,code_display,"
               "topography,morphology,is_primary,onset_date,stage_group,t_category,n_category,"
               "m_category,grade,progression_date) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
      s.Reset();
      s.Bind(1, ++seq);
      s.Bind(2, r.id);
      s.Bind(3, r.individual_id);
      s.Bind(4, r.code.system);
      s.Bind(5, r.code.code);
      s.Bind(6, r.code.display);
      s.Bind(7, r.topography);
      s.Bind(8, r.morphology);
      s.Bind(9, int64_t{r.primary ? 1 : 0});
      s.BindDate(10, r.onset_date);
      s.Bind(11, r.stage_group);
      s.Bind(12, r.t_category);
      s.Bind(13, r.n_category);
      s.Bind(14, r.m_category);
      s.Bind(15, r.grade);
      s.BindDate(16, r.progression_date);
      RETURN_IF_ERROR(insert(s, "diagnosis"));
    }
    for (const model::Observation& r : batch.observations) {
      Statement& s =
          Stmt(kAddObservation,
               "INSERT OR IGNORE INTO observations(seq,id,individual_id,focus_id,code_system,code,"
               "code_display,value_system,value_code,value_display,value_number,value_unit,"
               "effective_date,gene_system,gene_code,amino_acid_change,dna_change) "
               "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
      s.Reset();
      s.Bind(1, ++seq);
      s.Bind(2, r.id);
      s.Bind(3, r.individual_id);
      s.Bind(4, r.focus_id);
      s.Bind(5, r.code.system);
      s.Bind(6, r.code.code);
      s.Bind(7, r.code.display);
      s.Bind(8, r.value_code.system);
      s.Bind(9, r.value_code.code);
      s.Bind(10, r.value_code.display);
      s.BindReal(11, r.value_number);
      s.Bind(12, r.value_unit);
      s.BindDate(13, r.effective_date);
      s.Bind(14, r.gene_studied.system);
      s.Bind(15, r.gene_studied.code);
      s.Bind(16, r.amino_acid_change);
      s.Bind(17, r.dna_change);
      RETURN_IF_ERROR(insert(s, "observation"));
    }
    for (const model::Treatment& r : batch.treatments) {
      Statement& s = Stmt(kAddTreatment,
                          "INSERT OR IGNORE INTO treatments(seq,id,individual_id,kind,code_system,"
                          "code,code_display,start_date,end_date) VALUES(?,?,?,?,?,?,?,?,?)");
      s.Reset();
      s.Bind(1, ++seq);
      s.Bind(2, r.id);
      s.Bind(3, r.individual_id);
      s.Bind(4, static_cast<int64_t>(r.kind));
      s.Bind(5, r.code.system);
      s.Bind(6, r.code.code);
      s.Bind(7, r.code.display);
      s.BindDate(8, r.start_date);
      s.BindDate(9, r.end_date);
      RETURN_IF_ERROR(insert(s, "treatment"));
    }
    for (const model::Biosample& r : batch.biosamples) {
      Statement& s =
          Stmt(kAddBiosample,
               "INSERT OR IGNORE INTO biosamples(seq,id,individual_id,type_system,type_code,"
               "type_display,site_system,site_code,site_display,tumour,collection_date) "
               "VALUES(?,?,?,?,?,?,?,?,?,?,?)");
      s.Reset();
      s.Bind(1, ++seq);
      s.Bind(2, r.id);
      s.Bind(3, r.individual_id);
      s.Bind(4, r.type.system);
      s.Bind(5, r.type.code);
      s.Bind(6, r.type.display);
      s.Bind(7, r.body_site.system);
      s.Bind(8, r.body_site.code);
      s.Bind(9, r.body_site.display);
      s.Bind(10, int64_t{r.tumour ? 1 : 0});
      s.BindDate(11, r.collection_date);
      RETURN_IF_ERROR(insert(s, "biosample"));
    }
    for (const model::ImagingStudy& r : batch.imaging_studies) {
      Statement& s =
          Stmt(kAddImagingStudy,
               "INSERT OR IGNORE INTO imaging_studies(seq,id,individual_id,modality,site_system,"
               "site_code,site_display,started,number_of_series,number_of_instances) "
               "VALUES(?,?,?,?,?,?,?,?,?,?)");
      s.Reset();
      s.Bind(1, ++seq);
      s.Bind(2, r.id);
      s.Bind(3, r.individual_id);
      s.Bind(4, r.modality);
      s.Bind(5, r.body_site.system);
      s.Bind(6, r.body_site.code);
      s.Bind(7, r.body_site.display);
      s.BindDate(8, r.started);
      s.Bind(9, int64_t{r.number_of_series});
      s.Bind(10, int64_t{r.number_of_instances});
      RETURN_IF_ERROR(insert(s, "imaging study"));
    }
    for (const model::VariantFile& r : batch.variant_files) {
      Statement& s = Stmt(kAddVariantFile,
                          "INSERT OR IGNORE INTO variant_files(seq,id,path,format,assembly,sha256,"
                          "samples,records) VALUES(?,?,?,?,?,?,?,?)");
      s.Reset();
      s.Bind(1, ++seq);
      s.Bind(2, r.id);
      s.Bind(3, r.path);
      s.Bind(4, r.format);
      s.Bind(5, r.assembly);
      s.Bind(6, r.content_sha256);
      s.Bind(7, r.samples);
      s.Bind(8, r.records);
      RETURN_IF_ERROR(insert(s, "variant file"));
    }
    for (const model::VariantSample& r : batch.variant_samples) {
      Statement& s = Stmt(kAddVariantSample,
                          "INSERT OR IGNORE INTO variant_samples(seq,file_id,sample_column,"
                          "individual_id,biosample_id) VALUES(?,?,?,?,?)");
      s.Reset();
      s.Bind(1, ++seq);
      s.Bind(2, r.file_id);
      s.Bind(3, int64_t{r.column});
      s.Bind(4, r.individual_id);
      s.Bind(5, r.biosample_id);
      RETURN_IF_ERROR(insert(s, "variant sample"));
    }
    for (const model::VariantBlock& r : batch.variant_blocks) {
      if (segment == nullptr) return Internal("store: a variant block outside a transaction");
      if (*segment == nullptr) {
        ASSIGN_OR_RETURN(*segment, SegmentWriter::Create(dir_ + "/" + segment_name));
      }
      ASSIGN_OR_RETURN(const uint64_t offset, (*segment)->Append(r.data));
      Statement& s = Stmt(kAddVariantBlock,
                          "INSERT INTO variant_blocks(seq,file_id,variants,segment,offset,length,"
                          "crc32) VALUES(?,?,?,?,?,?,?)");
      s.Reset();
      s.Bind(1, ++seq);
      s.Bind(2, r.file_id);
      s.Bind(3, int64_t{r.variants});
      s.Bind(4, segment_name);
      s.Bind(5, static_cast<int64_t>(offset));
      s.Bind(6, static_cast<int64_t>(r.data.size()));
      s.Bind(7, int64_t{Crc32(r.data)});
      if (s.get() == nullptr) return Internal("store: not prepared: variant block");
      if (sqlite3_step(s.get()) != SQLITE_DONE) return Error("inserting variant block");
      counts.added += r.variants;  // a block is its variants, as far as the report goes
    }
    for (const model::DicomInstance& r : batch.dicom_instances) {
      Statement& s = Stmt(kAddDicomInstance,
                          "INSERT OR IGNORE INTO dicom_instances(seq,id,individual_id,study_uid,"
                          "series_uid,sop_class_uid,modality,body_part,manufacturer,"
                          "slice_thickness,study_date,series_number,instance_number,"
                          "transfer_syntax,path,sha256,attributes_sha256,bytes) "
                          "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
      s.Reset();
      s.Bind(1, ++seq);
      s.Bind(2, r.id);
      s.Bind(3, r.individual_id);
      s.Bind(4, r.study_uid);
      s.Bind(5, r.series_uid);
      s.Bind(6, r.sop_class_uid);
      s.Bind(7, r.modality);
      s.Bind(8, r.body_part);
      s.Bind(9, r.manufacturer);
      s.BindReal(10, r.slice_thickness);
      s.BindDate(11, r.study_date);
      s.Bind(12, int64_t{r.series_number});
      s.Bind(13, int64_t{r.instance_number});
      s.Bind(14, r.transfer_syntax);
      s.Bind(15, r.path);
      s.Bind(16, r.content_sha256);
      s.Bind(17, r.attributes_sha256);
      s.Bind(18, r.bytes);
      RETURN_IF_ERROR(insert(s, "DICOM instance"));
    }
    for (const model::QuarantinedDicom& r : batch.quarantined_dicom) {
      Statement& s = Stmt(kAddQuarantinedDicom,
                          "INSERT OR IGNORE INTO dicom_quarantine(seq,id,source,reason,path,"
                          "quarantined_at) VALUES(?,?,?,?,?,?)");
      const std::string now = NowUtc();
      s.Reset();
      s.Bind(1, ++seq);
      s.Bind(2, r.id);
      s.Bind(3, r.source);
      s.Bind(4, r.reason);
      s.Bind(5, r.path);
      s.Bind(6, now);
      RETURN_IF_ERROR(insert(s, "quarantined DICOM file"));
    }
    // Not counted as records added: a link is an index to an individual, not a record.
    for (const model::PatientLink& r : batch.patient_links) {
      Statement& s = Stmt(kAddPatientLink,
                          "INSERT OR IGNORE INTO patient_links(key,individual_id,date_shift_days) "
                          "VALUES(?,?,?)");
      s.Reset();
      s.Bind(1, r.key);
      s.Bind(2, r.individual_id);
      s.Bind(3, int64_t{r.date_shift_days});
      if (sqlite3_step(s.get()) != SQLITE_DONE) return Error("inserting patient link");
    }
    return Status::Ok();
  }

  Status FinishInTransaction(const SourceFile& file, const std::string& sha256, Seq seq,
                             const IngestCounts& counts) {
    {
      Statement& s = Stmt(kAddFile,
                          "INSERT INTO source_files(name,sha256,format,ingested_at,records_added) "
                          "VALUES(?,?,?,?,?)");
      const std::string now = NowUtc();
      s.Reset();
      s.Bind(1, file.name);
      s.Bind(2, sha256);
      s.Bind(3, file.format);
      s.Bind(4, now);
      s.Bind(5, counts.added);
      RETURN_IF_ERROR(Step(s, "recording source file"));
    }
    return PutMeta("last_seq", std::to_string(seq));
  }

  sqlite3* db_;
  std::string dir_;
  Statement stmts_[kStmtCount];
  bool ingest_open_ = false;
};

class SqliteIngestTransaction final : public IngestTransaction {
 public:
  SqliteIngestTransaction(SqliteStore* store, SourceFile file, Seq seq)
      : store_(store),
        file_(std::move(file)),
        seq_(seq),
        // Named by the first sequence number the transaction may use: unique among committed
        // transactions; one rolled back (or cut by a crash) leaves its name to the next.
        segment_name_("segments/" + std::to_string(seq + 1) + ".blocks") {}
  ~SqliteIngestTransaction() override { Rollback(); }

  Status Add(const model::RecordBatch& chunk) override {
    if (!open_) return FailedPrecondition("store: ingest transaction is closed");
    Status st = store_->AddInTransaction(chunk, seq_, counts_, &segment_, segment_name_);
    if (!st.ok()) Rollback();
    return st;
  }

  Result<IngestCounts> Commit(const std::string& content_sha256) override {
    if (!open_) return FailedPrecondition("store: ingest transaction is closed");
    Result<bool> known = store_->HasSourceFile(content_sha256);
    if (!known.ok()) {
      Rollback();
      return known.status();
    }
    if (*known) {
      IngestCounts counts;
      counts.file_already_ingested = true;
      counts.skipped = counts_.added + counts_.skipped;
      Rollback();
      return counts;
    }
    // The blocks are on disk before the rows that point at them are committed.
    Status st = segment_ != nullptr ? segment_->Sync() : Status::Ok();
    if (st.ok()) st = store_->FinishInTransaction(file_, content_sha256, seq_, counts_);
    if (st.ok()) st = store_->Exec("COMMIT");
    if (!st.ok()) {
      Rollback();
      return st;
    }
    open_ = false;
    store_->ingest_open_ = false;
    segment_.reset();
    return counts_;
  }

  void Rollback() override {
    if (!open_) return;
    (void)store_->Exec("ROLLBACK");
    open_ = false;
    store_->ingest_open_ = false;
    if (segment_ != nullptr) {
      const std::string path = segment_->path();
      segment_.reset();
      std::error_code ec;
      std::filesystem::remove(path, ec);
    }
  }

 private:
  SqliteStore* store_;
  SourceFile file_;
  Seq seq_;
  IngestCounts counts_;
  bool open_ = true;
  std::string segment_name_;
  std::unique_ptr<SegmentWriter> segment_;  // created at the first variant block
};

Result<std::unique_ptr<IngestTransaction>> SqliteStore::BeginIngest(const SourceFile& file) {
  if (ingest_open_) return FailedPrecondition("store: another ingest transaction is open");
  // A file's transaction can hold gigabytes of new pages. With SQLite's default 2 MB page
  // cache they are spilled to the WAL and read back over and over (measured: a third of the
  // ingest time in pread/pwrite); 256 MB keeps the B-tree interior pages and the index pages
  // being filled in memory.
  RETURN_IF_ERROR(Exec("PRAGMA cache_size=-262144"));
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  Result<Seq> seq = LastSeq();
  if (!seq.ok()) {
    (void)Exec("ROLLBACK");
    return seq.status();
  }
  ingest_open_ = true;
  return std::unique_ptr<IngestTransaction>(
      std::make_unique<SqliteIngestTransaction>(this, file, *seq));
}

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return Unavailable("store: cannot open " + path + ": " + msg);
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  auto store = std::make_unique<SqliteStore>(db, std::move(dir));
  Status st = store->Init();
  if (!st.ok()) return st.WithContext(path);
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace oncomesh::store
