// The DICOM ingest on the real files of shared/data/dicom: what is stored, what is quarantined
// and why, nothing identifying left in the stored files (dcmdump) or the store (sqlite3 .dump),
// idempotence, duplicates with other content; and the C-STORE SCP with DCMTK's storescu.
#include "ingest/dicom/dicom_ingest.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "index/cohort_index.h"
#include "ingest/dicom/store_scp.h"
#include "ingest/fhir/fhir_ingest.h"
#include "model/date.h"
#include "query/beacon_request.h"
#include "support/process.h"
#include "support/variant_files.h"

namespace oncomesh::ingest {
namespace {

namespace fs = std::filesystem;
using testing::FreePort;
using testing::Shell;
using testing::ShellQuote;

const std::string kDicom = std::string(ONCOMESH_SHARED_DIR) + "/data/dicom";

// Values of identifying attributes in a file, as dcmdump prints them (nested ones too): every
// person name, date and UID (but the standard's own UIDs), everything in the patient group
// (0010) and in private groups, and the institution, station, accession, study id and device
// serial number. Left out: values under 6 characters (they occur in any file: "M", "1"),
// numbers, and values that a public attribute the profile keeps also holds (a private tag
// repeating the Manufacturer "TOSHIBA" is not a leak when the Manufacturer stays).
std::set<std::string> IdentifyingValues(const std::string& path) {
  std::string out;
  Shell("dcmdump -q " + ShellQuote(path) + " 2>/dev/null", &out);
  static const std::set<std::string> kIdentifying = {
      "0008,0080", "0008,0081", "0008,1010", "0008,0050", "0020,0010", "0018,1000", "0008,1040"};
  std::set<std::string> values, kept;
  std::istringstream lines(out);
  std::string l;
  while (std::getline(lines, l)) {
    // "  (gggg,eeee) VR [value]   # length, VM Keyword"
    const size_t open = l.find_first_not_of(' ');
    if (open == std::string::npos || l.compare(open, 1, "(") != 0 || l.size() < open + 17 ||
        l[open + 5] != ',' || l[open + 10] != ')' || l[open + 14] != ' ' || l[open + 15] != '[') {
      continue;
    }
    const size_t close = l.find(']', open + 16);
    if (close == std::string::npos) continue;
    std::string group = l.substr(open + 1, 4), element = l.substr(open + 6, 4);
    for (char& c : group) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (char& c : element) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string tag = group + "," + element, vr = l.substr(open + 12, 2),
                      value = l.substr(open + 16, close - open - 16);
    if (value.size() < 6) continue;
    const bool private_group = (std::stoi(group, nullptr, 16) & 1) == 1;
    const bool identifying = vr == "PN" || vr == "DA" || group == "0010" || private_group ||
                             kIdentifying.count(tag) ||
                             (vr == "UI" && value.rfind("1.2.840.10008.", 0) != 0);
    if (group == "0002") continue;
    (identifying ? values : kept).insert(value);
  }
  std::set<std::string> result;
  for (const std::string& v : values) {
    const bool number = v.find_first_not_of("0123456789.+-eE\\ ") == std::string::npos;
    bool in_kept = false;
    for (const std::string& k : kept) in_kept = in_kept || k.find(v) != std::string::npos;
    if (!number && !in_kept) result.insert(v);
  }
  return result;
}

class DicomIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<node::NodeDir> node = node::NodeDir::Init(dir_.path() + "/node", node::NodeConfig{});
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    node_ = std::make_unique<node::NodeDir>(std::move(*node));
    Result<std::unique_ptr<store::Store>> store = node_->OpenStore();
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }

  IngestReport Ingest(const std::vector<std::string>& paths) {
    Result<IngestReport> report = IngestDicom(*node_, *store_, paths, {});
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : IngestReport{};
  }

  std::map<std::string, model::DicomInstance> Instances() {
    std::map<std::string, model::DicomInstance> out;
    EXPECT_TRUE(store_
                    ->ScanDicomInstances(
                        0, [&](store::Seq, const model::DicomInstance& r) { out[r.id] = r; })
                    .ok());
    return out;
  }
  std::map<std::string, std::string> Quarantined() {  // source -> reason
    std::map<std::string, std::string> out;
    EXPECT_TRUE(store_
                    ->ScanQuarantinedDicom(
                        [&](const model::QuarantinedDicom& q) { out[q.source] = q.reason; })
                    .ok());
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<node::NodeDir> node_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(DicomIngestTest, SharedFilesAreStoredDeidentifiedOrQuarantinedWithAReason) {
  const IngestReport report = Ingest({kDicom});
  std::map<std::string, std::string> refused;  // file name -> message
  int stored = 0;
  for (const FileOutcome& f : report.files) {
    if (f.status.ok()) {
      stored += static_cast<int>(f.records_added);
    } else {
      refused[fs::relative(f.path, kDicom).string()] = f.status.message();
    }
  }
  EXPECT_GT(stored, 20);
  // Broken on purpose (shared/data/MANIFEST.md), each with its reason; not stored.
  ASSERT_TRUE(refused.count("MR_truncated.dcm"));
  EXPECT_NE(refused["MR_truncated.dcm"].find("quarantined"), std::string::npos);
  ASSERT_TRUE(refused.count("rtplan_truncated.dcm"));
  // rtdose.dcm has badVR.dcm's SOP Instance UID and other content: the first one stays.
  ASSERT_TRUE(refused.count("rtdose.dcm"));
  EXPECT_NE(refused["rtdose.dcm"].find("already stored with other content"), std::string::npos)
      << refused["rtdose.dcm"];
  // highdicom/ct_image.dcm has CT_small.dcm's SOP Instance UID; it differs only in Other
  // Patient IDs, which de-identification removes: the same instance. MR_small in other
  // transfer syntaxes is MR_small again.
  EXPECT_FALSE(refused.count("highdicom/ct_image.dcm"));
  for (const char* f : {"MR_small_RLE.dcm", "MR_small_bigendian.dcm", "MR_small_implicit.dcm"}) {
    EXPECT_FALSE(refused.count(f)) << f << ": " << refused[f];
  }
  // Text files are not DICOM.
  ASSERT_TRUE(refused.count("README.txt"));
  EXPECT_NE(refused["README.txt"].find("not readable as DICOM"), std::string::npos);
  const auto quarantined = Quarantined();
  EXPECT_EQ(quarantined.size(), refused.size());
  for (const auto& [source, reason] : quarantined) EXPECT_FALSE(reason.empty()) << source;

  // Every stored instance: its file where the row says, its hash, de-identified.
  std::set<std::string> identifying;
  for (const FileOutcome& f : report.files) {
    if (f.status.ok()) {
      const auto v = IdentifyingValues(f.path);
      identifying.insert(v.begin(), v.end());
    }
  }
  ASSERT_GT(identifying.size(), 20u);
  const auto instances = Instances();
  EXPECT_EQ(static_cast<int>(instances.size()), stored);
  for (const auto& [id, r] : instances) {
    const std::string path = node_->dir() + "/" + r.path;
    ASSERT_TRUE(fs::exists(path)) << r.path;
    EXPECT_EQ(static_cast<int64_t>(fs::file_size(path)), r.bytes);
    EXPECT_EQ(id.rfind("2.25.", 0), 0u) << id;
    EXPECT_EQ(r.study_uid.rfind("2.25.", 0), 0u);
    std::string dump;
    ASSERT_EQ(Shell("dcmdump -q " + ShellQuote(path), &dump), 0) << r.path;
    for (const std::string& v : identifying) {
      EXPECT_EQ(dump.find(v), std::string::npos) << "'" << v << "' in " << r.path;
    }
    EXPECT_NE(dump.find("(0012,0062) CS [YES]"), std::string::npos) << r.path;
  }
  std::string sql;
  ASSERT_EQ(Shell("sqlite3 " + ShellQuote(node_->store_path()) + " .dump", &sql), 0);
  for (const std::string& v : identifying) {
    EXPECT_EQ(sql.find(v), std::string::npos) << "'" << v << "' in the store";
  }
  // Nor the paths of the quarantined files: a keyed digest of each (issue 12, item 11).
  EXPECT_EQ(sql.find(kDicom), std::string::npos) << "a source path in the store";
  for (const auto& [source, reason] : quarantined) {
    EXPECT_EQ(source.rfind("file ", 0), 0u) << source;
    EXPECT_EQ(source.size(), 5u + 32u) << source;
  }
}

TEST_F(DicomIngestTest, ReingestAddsNothingAndADicomdirReadsItsFiles) {
  const IngestReport first = Ingest({kDicom + "/dicomdir/DICOMDIR"});
  ASSERT_FALSE(first.files.empty());
  int added = 0;
  for (const FileOutcome& f : first.files) {
    EXPECT_TRUE(f.status.ok()) << f.path << ": " << f.status.message();
    added += static_cast<int>(f.records_added);
  }
  EXPECT_GT(added, 5);
  const auto before = Instances();
  std::set<std::string> files_before;
  for (const auto& e : fs::recursive_directory_iterator(node_->dir() + "/dicom")) {
    files_before.insert(e.path().string());
  }
  // Again, as the folder: the same instances, already stored (its README is not DICOM).
  const IngestReport again = Ingest({kDicom + "/dicomdir"});
  for (const FileOutcome& f : again.files) {
    if (fs::path(f.path).extension() == ".txt") {
      EXPECT_NE(f.status.message().find("not readable as DICOM"), std::string::npos);
      continue;
    }
    EXPECT_TRUE(f.status.ok()) << f.path << ": " << f.status.message();
    EXPECT_EQ(f.records_added, 0) << f.path;
    EXPECT_TRUE(f.already_ingested) << f.path;
  }
  EXPECT_EQ(Instances().size(), before.size());
  std::set<std::string> files_after;
  for (const auto& e : fs::recursive_directory_iterator(node_->dir() + "/dicom")) {
    files_after.insert(e.path().string());
  }
  EXPECT_EQ(files_after, files_before);
}

TEST_F(DicomIngestTest, ANetworkInstanceWithoutItsUidsIsRefusedAndNothingIsStored) {
  // What the SCP hands over: a dataset as received (here CT_small without its SOP Instance UID).
  DcmFileFormat file;
  ASSERT_TRUE(file.loadFile((kDicom + "/CT_small.dcm").c_str()).good());
  delete file.getDataset()->remove(DCM_SOPInstanceUID);
  auto batch = DicomBatch::Begin(*node_, *store_, {}, "test");
  ASSERT_TRUE(batch.ok());
  const DicomOutcome out = (*batch)->AddDataset(file, "C-STORE from TEST@127.0.0.1");
  EXPECT_EQ(out.kind, DicomOutcome::Kind::kFailed);  // the SCP answers A900
  EXPECT_NE(out.reason.find("missing mandatory (0008,0018) SOPInstanceUID"), std::string::npos)
      << out.reason;
  ASSERT_TRUE((*batch)->Commit().ok());
  EXPECT_TRUE(Instances().empty());
  EXPECT_FALSE(fs::exists(node_->dir() + "/dicom") && !fs::is_empty(node_->dir() + "/dicom"));
}

TEST_F(DicomIngestTest, ImagesLinkToTheClinicalRecordThroughThePatientPseudonym) {
  // CT_small.dcm's PatientID is 1CT1: the individual a FHIR Patient "1CT1" became.
  model::RecordBatch batch;
  model::Individual ind;
  ind.id = node_->pseudonymizer().IndividualPseudonym("1CT1");
  batch.individuals.push_back(ind);
  ASSERT_TRUE(store_->IngestBatch({"patients", "test-1CT1", "test"}, batch).ok());
  Ingest({kDicom + "/CT_small.dcm", kDicom + "/MR_small.dcm"});
  const auto instances = Instances();
  ASSERT_EQ(instances.size(), 2u);
  int linked = 0;
  for (const auto& [id, r] : instances) linked += r.individual_id == ind.id;
  EXPECT_EQ(linked, 1);
  auto vocab = index::Vocabulary::LoadEmbedded();
  ASSERT_TRUE(vocab.ok());
  auto idx = index::CohortIndex::Build(*store_, *vocab);
  ASSERT_TRUE(idx.ok()) << idx.status().ToString();
  const index::Posting* ct = (*idx)->Find("DCM:CT", false);
  ASSERT_NE(ct, nullptr);
  EXPECT_EQ(ct->cardinality(), 1u);
  EXPECT_EQ((*idx)->Find("DCM:MR", false), nullptr);  // MR_small's patient is not in the store
  EXPECT_EQ((*idx)->stats().dicom_series, 1u);
  // Manufacturer and slice thickness (5 mm in CT_small) as Beacon filters.
  auto count = [&](const std::string& filters) -> int64_t {
    auto request = query::ParseBeaconPost(R"({"query":{"filters":)" + filters + "}}");
    if (!request.ok()) return -1;
    auto plan = query::BuildRequestPlan(*request, **idx);
    return plan.ok() ? static_cast<int64_t>((*idx)->Count(*plan)) : -2;
  };
  EXPECT_EQ(count(R"([{"id":"manufacturer:GE MEDICAL SYSTEMS"}])"), 1);
  EXPECT_EQ(count(R"([{"id":"manufacturer:SIEMENS"}])"), 0);
  EXPECT_EQ(count(R"([{"id":"sliceThickness","operator":"<=","value":"5"}])"), 1);
  EXPECT_EQ(count(R"([{"id":"sliceThickness","operator":"<","value":"5"}])"), 0);
  EXPECT_EQ(count(R"([{"id":"sliceThickness","operator":">=","value":"2.5"},{"id":"DCM:CT"}])"), 1);
  auto bad = query::ParseBeaconPost(
      R"({"query":{"filters":[{"id":"sliceThickness","operator":"<=","value":"thin"}]}})");
  ASSERT_TRUE(bad.ok());
  auto refused = query::BuildRequestPlan(*bad, **idx);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("not a thickness in millimetres"), std::string::npos);
}

// A PACS sends the hospital's medical record number as Patient ID, not the FHIR Patient.id:
// images link through Patient.identifier of type MR (issue 12, item 10), with the individual's
// date shift, when the clinical record came first. Other identifier types do not link, and a
// number given to two Patients stays with the first and is reported.
TEST_F(DicomIngestTest, ImagesLinkThroughTheMedicalRecordNumberOfAFhirPatient) {
  auto patient = [](const std::string& id, const std::string& type, const std::string& value) {
    return R"({"resource":{"resourceType":"Patient","id":")" + id +
           R"(","identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":")" +
           type + R"("}]},"system":"urn:oid:1.2.3.4","value":")" + value + R"("}]}})";
  };
  const std::string bundle = dir_.path() + "/patients.json";
  std::ofstream(bundle) << R"({"resourceType":"Bundle","type":"collection","entry":[)"
                        << patient("pat-7", "MR", "1CT1") << "," << patient("pat-8", "MR", "1CT1")
                        << "," << patient("pat-9", "SS", "4MR1") << "]}";
  Result<IngestReport> fhir = IngestFhir(*node_, *store_, {bundle});
  ASSERT_TRUE(fhir.ok()) << fhir.status().ToString();
  ASSERT_EQ(fhir->FilesFailed(), 0) << fhir->files[0].status.ToString();
  EXPECT_EQ(fhir->medical_record_numbers_taken,
            (std::map<std::string, int64_t>{{"Patient/pat-8", 1}}));

  Ingest({kDicom + "/CT_small.dcm", kDicom + "/MR_small.dcm"});
  const deid::Pseudonymizer& p = node_->pseudonymizer();
  std::map<std::string, model::DicomInstance> by_modality;
  for (const auto& [id, r] : Instances()) by_modality[r.modality] = r;
  ASSERT_EQ(by_modality.size(), 2u);
  // CT_small (Patient ID 1CT1, study 2004-01-19): pat-7's pseudonym and pat-7's date shift.
  EXPECT_EQ(by_modality["CT"].individual_id, p.IndividualPseudonym("pat-7"));
  EXPECT_EQ(by_modality["CT"].study_date,
            model::DateFromCivil(2004, 1, 19) + p.DateShiftDays("pat-7"));
  EXPECT_NE(p.DateShiftDays("pat-7"), p.DateShiftDays("1CT1"));  // else the check above is blind
  // MR_small (Patient ID 4MR1): a social security number is not a medical record number.
  EXPECT_EQ(by_modality["MR"].individual_id, p.IndividualPseudonym("4MR1"));
  EXPECT_EQ(by_modality["MR"].study_date,
            model::DateFromCivil(2004, 8, 26) + p.DateShiftDays("4MR1"));
  // The de-identified file carries the individual's pseudonym, not the number.
  std::string dump;
  testing::Shell(
      "dcmdump -q +P PatientID " + ShellQuote(node_->dir() + "/" + by_modality["CT"].path), &dump);
  EXPECT_NE(dump.find("[" + p.IndividualPseudonym("pat-7") + "]"), std::string::npos) << dump;
  EXPECT_EQ(dump.find("1CT1"), std::string::npos) << dump;
}

TEST_F(DicomIngestTest, StorescuSendsAndEveryInstanceAnsweredSuccessIsKept) {
  StoreScpOptions options;
  options.port = FreePort();
  options.ae_title = "ONCOMESH";
  int commits = 0;
  options.on_commit = [&] { ++commits; };
  Result<std::unique_ptr<StoreScp>> scp = StoreScp::Start(*node_, options);
  ASSERT_TRUE(scp.ok()) << scp.status().ToString();
  const std::string send =
      "storescu -aet PACS -aec ONCOMESH 127.0.0.1 " + std::to_string(options.port) + " ";
  std::string out;
  ASSERT_EQ(
      Shell("echoscu -aet PACS -aec ONCOMESH 127.0.0.1 " + std::to_string(options.port), &out), 0);
  // Five instances in one association: CT, RT structure set and plan, a DICOM SEG, an SR
  // document; then an MR in RLE in another (-xr: the RLE transfer syntax proposed).
  std::string files;
  for (const char* f : {"CT_small.dcm", "rtstruct.dcm", "rtplan.dcm",
                        "highdicom/seg_image_ct_binary.dcm", "test-SR.dcm"}) {
    files += ShellQuote(kDicom + "/" + f) + " ";
  }
  ASSERT_EQ(Shell(send + "-R " + files + " 2>&1", &out), 0) << out;  // -R: SEG proposed too
  EXPECT_EQ(Instances().size(), 5u) << out;
  ASSERT_EQ(Shell(send + "-xr " + ShellQuote(kDicom + "/MR_small_RLE.dcm") + " 2>&1", &out), 0)
      << out;
  const auto instances = Instances();
  EXPECT_EQ(instances.size(), 6u) << out;
  EXPECT_EQ(commits, 6);  // one commit an instance, before its answer
  std::set<std::string> syntaxes, modalities;
  for (const auto& [id, r] : instances) {
    syntaxes.insert(r.transfer_syntax);
    modalities.insert(r.modality);
  }
  EXPECT_TRUE(syntaxes.count("1.2.840.10008.1.2.5")) << "RLE kept as it came";
  EXPECT_TRUE(modalities.count("SEG"));
  EXPECT_TRUE(modalities.count("RTSTRUCT"));

  // The same again (and MR_small in another transfer syntax): nothing new.
  ASSERT_EQ(Shell(send + ShellQuote(kDicom + "/CT_small.dcm") + " " +
                      ShellQuote(kDicom + "/MR_small_implicit.dcm") + " 2>&1",
                  &out),
            0)
      << out;
  EXPECT_EQ(Instances().size(), 6u);
  // An association aborted after its instances were answered Success keeps them (issue 12,
  // item 6: they were dropped with the association).
  Shell(send + "-v --abort " + ShellQuote(kDicom + "/badVR.dcm") + " 2>&1", &out);
  ASSERT_NE(out.find("Received Store Response (Success)"), std::string::npos) << out;
  EXPECT_EQ(Instances().size(), 7u) << "an instance answered Success was dropped: " << out;

  // rtdose.dcm has badVR.dcm's SOP Instance UID and other content: refused with a reason
  // (C000), quarantined.
  Shell(send + "-v -R " + ShellQuote(kDicom + "/rtdose.dcm") + " 2>&1", &out);
  EXPECT_NE(out.find("Error: CannotUnderstand"), std::string::npos) << "storescu said: " << out;
  EXPECT_EQ(Instances().size(), 7u);
  bool quarantined = false;
  for (const auto& [source, reason] : Quarantined()) {
    quarantined |= source.find("C-STORE from PACS@127.0.0.1") != std::string::npos &&
                   reason.find("other content") != std::string::npos;
  }
  EXPECT_TRUE(quarantined);
  // The quarantined instance's original SOP Instance UID is nowhere in the store.
  std::string sql;
  ASSERT_EQ(Shell("sqlite3 " + ShellQuote(node_->store_path()) + " .dump", &sql), 0);
  EXPECT_EQ(sql.find("1.9.999.999.99.9.9999.9999.20030818153516"), std::string::npos);
  (*scp)->Stop();
}

// The receiver listens on its address only, answers to its own AE title and, when the node
// lists them, to the listed calling AE titles only; each refusal is logged (issue 12, item 5).
TEST_F(DicomIngestTest, TheReceiverChecksItsAddressAndTheAeTitles) {
  StoreScpOptions options;
  options.address = "127.0.0.1";
  options.port = FreePort();
  options.allowed_calling_ae_titles = {"PACS", "MODALITY"};
  Result<std::unique_ptr<StoreScp>> scp = StoreScp::Start(*node_, options);
  ASSERT_TRUE(scp.ok()) << scp.status().ToString();
  const std::string port = std::to_string((*scp)->port());
  std::string out;
  ASSERT_EQ(Shell("echoscu -aet PACS -aec ONCOMESH 127.0.0.1 " + port + " 2>&1", &out), 0) << out;
  ASSERT_EQ(Shell("echoscu -aet MODALITY -aec ONCOMESH 127.0.0.1 " + port + " 2>&1", &out), 0)
      << out;

  ::testing::internal::CaptureStderr();
  // Another loopback address of this host: nothing listens there.
  EXPECT_NE(Shell("echoscu -aet PACS -aec ONCOMESH 127.0.0.2 " + port + " 2>&1", &out), 0) << out;
  // A called AE title not the node's: A-ASSOCIATE-RJ, permanent, called AE title not
  // recognized.
  EXPECT_NE(Shell("echoscu -aet PACS -aec NOTONCOMESH 127.0.0.1 " + port + " 2>&1", &out), 0);
  EXPECT_NE(out.find("Called AE Title Not Recognized"), std::string::npos) << out;
  // A calling AE title not listed: calling AE title not recognized.
  EXPECT_NE(Shell("echoscu -aet ANYONE -aec ONCOMESH 127.0.0.1 " + port + " 2>&1", &out), 0);
  EXPECT_NE(out.find("Calling AE Title Not Recognized"), std::string::npos) << out;
  // A refused sender's instances are not stored.
  EXPECT_NE(Shell("storescu -aet ANYONE -aec ONCOMESH 127.0.0.1 " + port + " " +
                      ShellQuote(kDicom + "/CT_small.dcm") + " 2>&1",
                  &out),
            0);
  (*scp)->Stop();
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(Instances().empty());
  EXPECT_NE(log.find("association from PACS@127.0.0.1 refused: called AE title 'NOTONCOMESH' "
                     "is not ONCOMESH"),
            std::string::npos)
      << log;
  size_t calling = 0;
  for (size_t at = log.find("association from ANYONE@127.0.0.1 refused: calling AE title 'ANYONE'");
       at != std::string::npos; at = log.find("association from ANYONE@", at + 1)) {
    ++calling;
  }
  EXPECT_EQ(calling, 2u) << log;

  // Bad options are refused before anything listens.
  StoreScpOptions bad = options;
  bad.address = "::1";
  EXPECT_EQ(StoreScp::Start(*node_, bad).status().code(), StatusCode::kInvalidArgument);
  bad = options;
  bad.allowed_calling_ae_titles = {"A_TITLE_LONGER_THAN_16"};
  EXPECT_EQ(StoreScp::Start(*node_, bad).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace oncomesh::ingest
