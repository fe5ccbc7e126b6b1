// DICOM ingest: read, de-identify, write content-addressed, record. See dicom_ingest.h.
#include "ingest/dicom/dicom_ingest.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "deid/pseudonym.h"
#include "node/leftovers.h"

namespace oncomesh::ingest {
namespace fs = std::filesystem;

namespace {

std::string Text(DcmItem& item, const DcmTagKey& tag) {
  OFString value;
  if (item.findAndGetOFStringArray(tag, value).bad()) return "";
  std::string s = value.c_str();
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

int IntOf(const std::string& s) {
  char* end = nullptr;
  const long v = std::strtol(s.c_str(), &end, 10);
  return end != s.c_str() ? static_cast<int>(v) : 0;
}

double RealOf(const std::string& s) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  return end != s.c_str() ? v : NAN;
}

// DICOM DA "YYYYMMDD" -> model::Date; kNoDate when empty or malformed.
model::Date DateOf(const std::string& da) {
  if (da.size() < 8) return model::kNoDate;
  for (int i = 0; i < 8; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(da[static_cast<size_t>(i)])))
      return model::kNoDate;
  }
  const int y = std::atoi(da.substr(0, 4).c_str()), m = std::atoi(da.substr(4, 2).c_str()),
            d = std::atoi(da.substr(6, 2).c_str());
  if (m < 1 || m > 12 || d < 1 || d > 31) return model::kNoDate;
  return model::DateFromCivil(y, m, d);
}

// Writes everything of the file system holding `path` to disk (Linux syncfs).
Status SyncFileSystem(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Unavailable("cannot open " + path + " to sync it");
  const int rc = ::syncfs(fd);
  ::close(fd);
  return rc == 0 ? Status::Ok() : Unavailable("cannot sync the file system of " + path);
}

// Writes the files and their folders' entries to disk: what one received instance needs before
// it is answered (an fsync each; syncfs would also flush whatever else the machine wrote).
Status SyncFiles(const std::vector<std::string>& paths) {
  std::set<std::string> folders;
  for (const std::string& p : paths) {
    const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    const bool synced = fd >= 0 && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (!synced) return Unavailable("cannot sync " + p + " to disk");
    folders.insert(fs::path(p).parent_path().string());
  }
  for (const std::string& f : folders) {
    const int fd = ::open(f.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const bool synced = fd >= 0 && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (!synced) return Unavailable("cannot sync the folder " + f + " to disk");
  }
  return Status::Ok();
}

Result<std::string> FileSha256(const std::string& path, int64_t* bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Unavailable("cannot read " + path);
  deid::Sha256 sha;
  std::vector<char> buf(size_t{64} * 1024);
  *bytes = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    sha.Update(buf.data(), static_cast<size_t>(in.gcount()));
    *bytes += in.gcount();
  }
  if (in.bad()) return Unavailable("cannot read " + path);
  return sha.HexDigest();
}

// SHA-256 of a dataset's attributes but the pixel data, in explicit VR little endian: equal for
// one instance in any transfer syntax. Empty when the dataset cannot be written.
std::string AttributesSha256(DcmDataset& ds) {
  DcmElement* pixels = ds.remove(DCM_PixelData);
  std::string hash;
  const Uint32 length = ds.calcElementLength(EXS_LittleEndianExplicit, EET_ExplicitLength);
  std::vector<char> buf(length + 16);
  DcmOutputBufferStream out(buf.data(), static_cast<offile_off_t>(buf.size()));
  ds.transferInit();
  const OFCondition written = ds.write(out, EXS_LittleEndianExplicit, EET_ExplicitLength, nullptr);
  ds.transferEnd();
  if (written.good()) {
    void* data = nullptr;
    offile_off_t n = 0;
    out.flushBuffer(data, n);
    hash =
        deid::Sha256Hex(std::string_view(static_cast<const char*>(data), static_cast<size_t>(n)));
  }
  if (pixels != nullptr) ds.insert(pixels, OFTrue);
  return hash;
}

std::string TempName() {
  static std::atomic<uint64_t> n{0};
  return "tmp-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + ".dcm";
}

// The mandatory attributes a stored instance must have (PS3.3 SOP Common and General
// Study/Series modules), in the order they are checked.
struct Mandatory {
  DcmTagKey tag;
  const char* name;
};
const Mandatory kMandatory[] = {{DCM_SOPClassUID, "(0008,0016) SOPClassUID"},
                                {DCM_SOPInstanceUID, "(0008,0018) SOPInstanceUID"},
                                {DCM_StudyInstanceUID, "(0020,000D) StudyInstanceUID"},
                                {DCM_SeriesInstanceUID, "(0020,000E) SeriesInstanceUID"}};

bool IsDicomDir(const std::string& path) {
  std::string name = Upper(fs::path(path).filename().string());
  return name == "DICOMDIR";
}

}  // namespace

Result<int64_t> SweepDicomLeftovers(const node::NodeDir& node, store::Store& store) {
  ASSIGN_OR_RETURN(const int fd, node::LockWriters(node, "dicom", LOCK_EX | LOCK_NB));
  if (fd < 0) return int64_t{0};  // a batch is open somewhere: its files are not leftovers
  std::set<std::string> images, quarantined;
  Status st = store.ScanDicomInstances(
      0, [&](store::Seq, const model::DicomInstance& r) { images.insert(r.path); });
  if (st.ok()) {
    st = store.ScanQuarantinedDicom(
        [&](const model::QuarantinedDicom& q) { quarantined.insert(q.path); });
  }
  int64_t removed = 0;
  if (st.ok()) {
    removed = node::RemoveUnreferenced(node, "dicom", images) +
              node::RemoveUnreferenced(node, "quarantine", quarantined);
  }
  ::close(fd);
  RETURN_IF_ERROR(st);
  return removed;
}

Result<std::unique_ptr<DicomBatch>> DicomBatch::Begin(const node::NodeDir& node,
                                                      store::Store& store,
                                                      const DicomIngestOptions& options,
                                                      const std::string& name) {
  std::unique_ptr<DicomBatch> batch(new DicomBatch(node, store, options));
  batch->name_ = name;
  ASSIGN_OR_RETURN(batch->lock_fd_, node::LockWriters(node, "dicom", LOCK_SH));
  return batch;
}

DicomBatch::~DicomBatch() { Rollback(); }

DicomOutcome DicomBatch::Quarantine(const std::string& source, const std::string& reason,
                                    const std::string& bytes_path, const std::string* bytes) {
  DicomOutcome out;
  out.kind = DicomOutcome::Kind::kQuarantined;
  out.reason = reason;
  const std::string dir = node_.dir() + "/quarantine";
  std::error_code ec;
  fs::create_directories(dir, ec);
  const std::string tmp = dir + "/" + TempName();
  bool copied = false;
  if (bytes != nullptr) {
    std::ofstream f(tmp, std::ios::binary);
    f.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
    copied = static_cast<bool>(f);
  } else {
    copied = fs::copy_file(bytes_path, tmp, fs::copy_options::overwrite_existing, ec);
    // copy_file gives the copy the source's mode (0444 from a read-only export): the owner's
    // only, as every file of the node.
    if (copied) {
      fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write,
                      fs::perm_options::replace, ec);
      copied = !ec;
    }
  }
  int64_t size = 0;
  Result<std::string> sha = copied ? FileSha256(tmp, &size) : Result<std::string>(Unavailable(""));
  if (!sha.ok()) {
    fs::remove(tmp, ec);
    out.kind = DicomOutcome::Kind::kFailed;
    out.reason = reason + " (and it could not be kept in quarantine)";
    return out;
  }
  const std::string rel = "quarantine/" + *sha + ".dcm";
  fs::rename(tmp, node_.dir() + "/" + rel, ec);
  if (ec) fs::remove(tmp, ec);
  written_.push_back(node_.dir() + "/" + rel);
  pending_.quarantined_dicom.push_back({*sha, source, reason, rel});
  ++quarantined_;
  return out;
}

DicomOutcome DicomBatch::AddFile(const std::string& path) {
  // A file's path often names its patient (a PACS export's folders): the store keeps a keyed
  // digest of it, which an operator holding the node can recompute for a path to find its row.
  const std::string source = "file " + node_.pseudonymizer().Pseudonym("dicom-source-path", path);
  DcmFileFormat file;
  const OFCondition read =
      file.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect);
  if (read.bad()) {
    return Quarantine(source, std::string("not readable as DICOM: ") + read.text(), path, nullptr);
  }
  DcmDataset* ds = file.getDataset();
  for (const Mandatory& m : kMandatory) {
    if (Text(*ds, m.tag).empty()) {
      return Quarantine(source, std::string("missing mandatory ") + m.name, path, nullptr);
    }
  }
  return Store(file, source);
}

DicomOutcome DicomBatch::AddDataset(DcmFileFormat& file, const std::string& source) {
  DcmDataset* ds = file.getDataset();
  for (const Mandatory& m : kMandatory) {
    if (Text(*ds, m.tag).empty()) {
      DicomOutcome out;
      out.kind = DicomOutcome::Kind::kFailed;  // nothing to identify it by: refused, not kept
      out.reason = std::string("missing mandatory ") + m.name;
      return out;
    }
  }
  return Store(file, source);
}

// A Patient ID that is a FHIR Patient.id links through its pseudonym, as every format's does.
// Otherwise it may be a medical record number the store knows (FHIR Patient.identifier of type
// MR, ingested before the images): the individual it was given to.
Result<std::optional<deid::LinkedIndividual>> DicomBatch::LinkPatient(
    const std::string& patient_id) {
  if (patient_id.empty()) return std::optional<deid::LinkedIndividual>();
  const deid::Pseudonymizer& p = node_.pseudonymizer();
  ASSIGN_OR_RETURN(bool is_patient_id, store_.HasIndividual(p.IndividualPseudonym(patient_id)));
  if (is_patient_id) return std::optional<deid::LinkedIndividual>();
  Result<model::PatientLink> link = store_.FindPatientLink(p.PatientIdentifierKey(patient_id));
  if (link.ok()) {
    return std::optional<deid::LinkedIndividual>({link->individual_id, link->date_shift_days});
  }
  if (link.status().code() == StatusCode::kNotFound) {
    return std::optional<deid::LinkedIndividual>();
  }
  return link.status();
}

DicomOutcome DicomBatch::Store(DcmFileFormat& file, const std::string& source) {
  DicomOutcome out;
  DcmDataset* ds = file.getDataset();
  const E_TransferSyntax xfer = ds->getOriginalXfer();
  Result<std::optional<deid::LinkedIndividual>> linked = LinkPatient(deid::PatientSourceId(file));
  if (!linked.ok()) {
    out.kind = DicomOutcome::Kind::kFailed;
    out.reason = linked.status().message();
    return out;
  }
  // De-identify a copy: the original goes to quarantine if the profile refuses it.
  DcmFileFormat work(file);
  const deid::DicomDeidResult deid = deid::DeidentifyDicom(
      work, node_.pseudonymizer(), options_.deid, linked->has_value() ? &**linked : nullptr);
  if (deid.quarantined) {
    const std::string tmp = node_.dir() + "/quarantine/" + TempName() + ".orig";
    std::error_code ec;
    fs::create_directories(node_.dir() + "/quarantine", ec);
    if (file.saveFile(tmp.c_str(), xfer == EXS_Unknown ? EXS_LittleEndianExplicit : xfer).bad()) {
      out.kind = DicomOutcome::Kind::kFailed;
      out.reason = deid.reason;
      return out;
    }
    DicomOutcome q = Quarantine(source, deid.reason, tmp, nullptr);
    fs::remove(tmp, ec);
    return q;
  }
  DcmDataset* clean = work.getDataset();
  model::DicomInstance r;
  r.id = Text(*clean, DCM_SOPInstanceUID);
  out.sop_instance_uid = r.id;
  r.individual_id = deid.patient_source_id.empty() ? "" : deid.individual_id;
  r.study_uid = Text(*clean, DCM_StudyInstanceUID);
  r.series_uid = Text(*clean, DCM_SeriesInstanceUID);
  r.sop_class_uid = Text(*clean, DCM_SOPClassUID);
  r.modality = Upper(Text(*clean, DCM_Modality));
  r.body_part = Upper(Text(*clean, DCM_BodyPartExamined));
  r.manufacturer = Text(*clean, DCM_Manufacturer);
  r.slice_thickness = RealOf(Text(*clean, DCM_SliceThickness));
  r.study_date = DateOf(Text(*clean, DCM_StudyDate));
  r.series_number = IntOf(Text(*clean, DCM_SeriesNumber));
  r.instance_number = IntOf(Text(*clean, DCM_InstanceNumber));
  const E_TransferSyntax out_xfer = xfer == EXS_Unknown ? EXS_LittleEndianExplicit : xfer;
  r.transfer_syntax = DcmXfer(out_xfer).getXferID();

  // Written where its content's hash says.
  const std::string dir = node_.dir() + "/dicom";
  std::error_code ec;
  fs::create_directories(dir, ec);
  const std::string tmp = dir + "/" + TempName();
  const OFCondition saved = work.saveFile(tmp.c_str(), out_xfer);
  if (saved.bad()) {
    fs::remove(tmp, ec);
    out.kind = DicomOutcome::Kind::kFailed;
    out.reason = std::string("cannot write the de-identified instance: ") + saved.text();
    return out;
  }
  Result<std::string> sha = FileSha256(tmp, &r.bytes);
  if (!sha.ok()) {
    fs::remove(tmp, ec);
    out.kind = DicomOutcome::Kind::kFailed;
    out.reason = sha.status().message();
    return out;
  }
  r.content_sha256 = *sha;
  r.attributes_sha256 = AttributesSha256(*clean);
  r.path = "dicom/" + sha->substr(0, 2) + "/" + *sha + ".dcm";

  // The same SOP instance again: the same content (or the same instance in another transfer
  // syntax: the standard makes a SOP Instance UID name one content) is nothing new; other
  // content under the same UID is refused.
  std::string known_sha, known_attributes, known_xfer;
  if (auto it = batch_sha_.find(r.id); it != batch_sha_.end()) {
    known_sha = it->second.content_sha256;
    known_attributes = it->second.attributes_sha256;
    known_xfer = it->second.transfer_syntax;
  } else if (Result<model::DicomInstance> known = store_.FindDicomInstance(r.id); known.ok()) {
    known_sha = known->content_sha256;
    known_attributes = known->attributes_sha256;
    known_xfer = known->transfer_syntax;
  }
  if (!known_sha.empty()) {
    fs::remove(tmp, ec);
    const bool reencoded = known_xfer != r.transfer_syntax && !r.attributes_sha256.empty() &&
                           known_attributes == r.attributes_sha256;
    if (known_sha == r.content_sha256 || reencoded) {
      out.kind = DicomOutcome::Kind::kAlreadyStored;
      ++already_;
      return out;
    }
    const std::string reason =
        "SOP instance " + r.id + " is already stored with other content (the stored one is kept)";
    const std::string orig = dir + "/" + TempName() + ".orig";
    if (file.saveFile(orig.c_str(), out_xfer).bad()) {
      out.kind = DicomOutcome::Kind::kFailed;
      out.reason = reason;
      return out;
    }
    DicomOutcome q = Quarantine(source, reason, orig, nullptr);
    fs::remove(orig, ec);
    q.sop_instance_uid = r.id;
    return q;
  }
  const std::string final_path = node_.dir() + "/" + r.path;
  fs::create_directories(fs::path(final_path).parent_path(), ec);
  fs::rename(tmp, final_path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    out.kind = DicomOutcome::Kind::kFailed;
    out.reason = "cannot store " + r.path + ": " + ec.message();
    return out;
  }
  written_.push_back(final_path);
  batch_sha_[r.id] = {r.content_sha256, r.attributes_sha256, r.transfer_syntax};
  pending_.dicom_instances.push_back(std::move(r));
  ++stored_;
  out.kind = DicomOutcome::Kind::kStored;
  return out;
}

Result<store::IngestCounts> DicomBatch::Commit() {
  if (committed_) return FailedPrecondition("DICOM batch: already committed or rolled back");
  committed_ = true;
  // The files first, then the rows that refer to them, in one short transaction (so that
  // associations received in parallel do not wait for each other's write lock). Many files
  // (an `ingest dicom` run): one syncfs of the node's file system instead of an fsync a file
  // (measured: an fsync each was a third of a C-STORE association's time when an association
  // was one batch). A few (an instance received over the network, committed alone): an fsync
  // each, and none of whatever else the machine wrote.
  constexpr size_t kFewFiles = 8;
  if (written_.size() > kFewFiles) {
    RETURN_IF_ERROR(SyncFileSystem(node_.dir()));
  } else if (!written_.empty()) {
    RETURN_IF_ERROR(SyncFiles(written_));
  }
  written_.clear();
  if (pending_.size() == 0) return store::IngestCounts{};
  ASSIGN_OR_RETURN(std::unique_ptr<store::IngestTransaction> txn,
                   store_.BeginIngest({name_, "", "dicom"}));
  RETURN_IF_ERROR(txn->Add(pending_));
  pending_ = model::RecordBatch{};
  // A batch is content, not one file: the key the store records it under only has to be new.
  static std::atomic<uint64_t> batches{0};
  const std::string key = deid::Sha256Hex(
      "dicom-batch:" + std::to_string(::getpid()) + ":" + std::to_string(batches++) + ":" +
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count()));
  return txn->Commit(key);
}

void DicomBatch::Rollback() {
  // Files written for it stay unreferenced until a sweep (SweepDicomLeftovers) removes them
  // or a later batch references them (content-addressed).
  committed_ = true;
  written_.clear();
  pending_ = model::RecordBatch{};
  Unlock();
}

void DicomBatch::Unlock() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
  lock_fd_ = -1;
}

Result<IngestReport> IngestDicom(const node::NodeDir& node, store::Store& store,
                                 const std::vector<std::string>& paths,
                                 const DicomIngestOptions& options) {
  std::vector<std::string> files;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::end(it);
           it.increment(ec)) {
        // A DICOMDIR in a folder only indexes the files the walk finds anyway.
        if (it->is_regular_file(ec) && !IsDicomDir(it->path().string())) {
          found.push_back(it->path().string());
        }
      }
      if (ec) return Unavailable("ingest: cannot read the folder " + p + ": " + ec.message());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(p, ec)) {
      if (IsDicomDir(p)) {
        // The files its directory records reference (ReferencedFileID, relative to it).
        DcmFileFormat dir;
        if (dir.loadFile(p.c_str()).bad()) {
          return InvalidArgument("ingest: " + p + " is not a readable DICOMDIR");
        }
        DcmSequenceOfItems* records = nullptr;
        if (dir.getDataset()->findAndGetSequence(DCM_DirectoryRecordSequence, records).good() &&
            records != nullptr) {
          for (unsigned long i = 0; i < records->card(); ++i) {
            OFString id;
            if (records->getItem(i)->findAndGetOFStringArray(DCM_ReferencedFileID, id).bad()) {
              continue;
            }
            std::string rel = id.c_str();
            std::replace(rel.begin(), rel.end(), '\\', '/');
            while (!rel.empty() && rel.back() == ' ') rel.pop_back();
            files.push_back((fs::path(p).parent_path() / rel).string());
          }
        }
      } else {
        files.push_back(p);
      }
    } else {
      return NotFound("ingest: no such file or folder: " + p);
    }
  }

  IngestReport report;
  RETURN_IF_ERROR(SweepDicomLeftovers(node, store).status());
  ASSIGN_OR_RETURN(std::unique_ptr<DicomBatch> batch,
                   DicomBatch::Begin(node, store, options, "ingest dicom"));
  uint64_t done = 0;
  for (const std::string& f : files) {
    FileOutcome outcome;
    outcome.path = f;
    outcome.resources = 1;
    const DicomOutcome r = batch->AddFile(f);
    switch (r.kind) {
      case DicomOutcome::Kind::kStored:
        outcome.records_added = 1;
        break;
      case DicomOutcome::Kind::kAlreadyStored:
        outcome.records_skipped = 1;
        outcome.already_ingested = true;
        break;
      case DicomOutcome::Kind::kQuarantined:
        outcome.status = InvalidArgument(r.reason + " (quarantined)");
        break;
      case DicomOutcome::Kind::kFailed:
        outcome.status = Unavailable(r.reason);
        break;
    }
    report.files.push_back(std::move(outcome));
    ++done;
    if (options.progress)
      options.progress("DICOM files", done, files.size(), static_cast<int64_t>(done));
  }
  Result<store::IngestCounts> counts = batch->Commit();
  if (!counts.ok()) {
    // Nothing of the run was committed: every file's outcome says so.
    for (FileOutcome& f : report.files) {
      if (f.status.ok()) f.status = counts.status();
      f.records_added = 0;
    }
  }
  return report;
}

}  // namespace oncomesh::ingest
