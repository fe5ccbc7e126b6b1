// The DICOM studies of `oncomesh synth` as DICOM tools read them: dciodvfy (dicom3tools) on every
// file, DCMTK reading the headers back against the FHIR Patient and ImagingStudy resources
// written in the same run, the SEG against the lesion in its source images, determinism.
#include "synth/images.h"

// osconfig.h first: DCMTK's headers depend on it.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/process.h"
#include "support/suite_fixture.h"
#include "synth/synth.h"

namespace oncomesh::synth {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// id -> resource, for one NDJSON file.
std::map<std::string, json> Resources(const fs::path& file) {
  std::map<std::string, json> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    json r = json::parse(line);
    const std::string id = r.at("id");
    out[id] = std::move(r);
  }
  return out;
}

std::string Get(DcmItem& item, const DcmTagKey& tag) {
  OFString value;
  if (item.findAndGetOFStringArray(tag, value).bad()) return "";
  return value.c_str();
}

// One DICOM file, loaded.
struct Instance {
  fs::path path;
  std::unique_ptr<DcmFileFormat> file;
  DcmDataset& data() const { return *file->getDataset(); }
  std::string operator[](const DcmTagKey& tag) const { return Get(data(), tag); }
};

Instance Load(const fs::path& path) {
  Instance i;
  i.path = path;
  i.file = std::make_unique<DcmFileFormat>();
  const OFCondition c = i.file->loadFile(path.string().c_str());
  EXPECT_TRUE(c.good()) << path << ": " << c.text();
  return i;
}

// "2019-02-20" -> "20190220".
std::string DicomDate(const std::string& fhir) {
  return fhir.substr(0, 4) + fhir.substr(5, 2) + fhir.substr(8, 2);
}

SynthReport Make(const fs::path& dir, int64_t images, int threads) {
  SynthOptions options;
  options.site = "isite";
  options.individuals = 3000;
  options.seed = 5;
  options.out_dir = dir.string();
  options.genomes = 0;
  options.images = images;
  options.threads = threads;
  SynthReport report;
  const Status status = WriteSyntheticSite(options, &report);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return report;
}

class SynthImagesTest : public ::oncomesh::testing::SuiteFixture<SynthImagesTest> {
  friend class ::oncomesh::testing::SuiteFixture<SynthImagesTest>;  // calls SetUpSuite

 protected:
  static void SetUpSuite() {
    root_ = new oncomesh::testing::TempDir();
    report_ = new SynthReport(Make(dir(), 30, 2));
  }
  static void TearDownTestSuite() {
    delete report_;
    delete root_;
  }
  static fs::path dir() { return fs::path(root_->path()) / "site"; }
  static std::vector<fs::path> StudyDirs() {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir() / "dicom")) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
  }
  static std::vector<fs::path> Files(const fs::path& study) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(study)) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
  }
  static oncomesh::testing::TempDir* root_;
  static SynthReport* report_;
};
oncomesh::testing::TempDir* SynthImagesTest::root_ = nullptr;
SynthReport* SynthImagesTest::report_ = nullptr;

TEST_F(SynthImagesTest, WritesTheRequestedStudiesOfEveryModality) {
  EXPECT_EQ(report_->image_studies, 30);
  EXPECT_EQ(StudyDirs().size(), 30u);
  std::set<std::string> modalities;
  int64_t files = 0;
  for (const fs::path& study : StudyDirs()) {
    for (const fs::path& f : Files(study)) {
      ++files;
      modalities.insert(f.filename().string().substr(0, f.filename().string().find('-')));
    }
  }
  EXPECT_EQ(files, report_->image_files);
  EXPECT_EQ(modalities, (std::set<std::string>{"CT", "MG", "MR", "SEG"}));
}

TEST_F(SynthImagesTest, DciodvfyFindsNoErrors) {
  const fs::path out = fs::path(root_->path()) / "dciodvfy.out";
  int checked = 0;
  for (const fs::path& study : StudyDirs()) {
    // The first and last image of the series (the images of a series differ only in their
    // position and pixels) and the SEG: about 3 s for the 30 studies.
    std::vector<fs::path> files = Files(study);
    files = {files[0], files[files.size() - 2], files.back()};
    for (const fs::path& f : files) {
      std::string report;
      // dciodvfy exits 0 when it found no error, 1 on errors or when it could not read the file
      // ("Abort - ..."), and dies on an assertion for some inputs; it names the IOD it checked
      // on a line of its own (e.g. "CTImage"). Without that line it did not check anything.
      const int exit_code =
          oncomesh::testing::RunCommand({"/usr/bin/dciodvfy", f.string()}, &report);
      EXPECT_EQ(exit_code, 0) << f << ":\n" << report;
      ++checked;
      std::istringstream lines(report);
      std::string line;
      std::string iod;
      while (std::getline(lines, line)) {
        EXPECT_EQ(line.find("Error"), std::string::npos) << f << ": " << line;
        EXPECT_EQ(line.find("Abort"), std::string::npos) << f << ": " << line;
        if (iod.empty() && !line.empty() && line.find(' ') == std::string::npos) iod = line;
      }
      const std::string modality = f.filename().string().substr(0, f.filename().string().find('-'));
      const std::map<std::string, std::string> kIod = {{"CT", "CTImage"},
                                                       {"MR", "MRImage"},
                                                       {"MG", "MammographyImageForPresentation"},
                                                       {"SEG", "Segmentation"}};
      EXPECT_EQ(iod, kIod.count(modality) ? kIod.at(modality) : "?") << f << ":\n" << report;
      // The warnings the writer accepts, so a new kind shows up here: identifying attributes
      // outside the IOD (kept on purpose for de-identification), the private block, and
      // mammography view positions that dicom3tools only knows for DX.
      std::istringstream again(report);
      while (std::getline(again, line)) {
        if (line.find("Warning") == std::string::npos) continue;
        const bool known = line.find("Other Patient IDs") != std::string::npos ||
                           line.find("Patient's Address") != std::string::npos ||
                           line.find("Telephone") != std::string::npos ||
                           line.find("retired attributes") != std::string::npos ||
                           line.find("Standard Extended SOP Class") != std::string::npos ||
                           line.find("Unrecognized tag") != std::string::npos ||
                           line.find("View Position") != std::string::npos;
        EXPECT_TRUE(known) << f << ": " << line;
      }
    }
  }
  EXPECT_EQ(checked, 90);
}

TEST_F(SynthImagesTest, HeadersAgreeWithTheFhirPatientAndImagingStudy) {
  const auto studies = Resources(dir() / "ImagingStudy.ndjson");
  const auto patients = Resources(dir() / "Patient.ndjson");
  std::map<std::string, const json*> by_uid;
  for (const auto& [id, s] : studies) {
    const std::string value = s.at("identifier").at(0).at("value");
    ASSERT_EQ(value.rfind("urn:oid:", 0), 0u);
    by_uid[value.substr(8)] = &s;
  }
  for (const fs::path& study_dir : StudyDirs()) {
    const std::string uid = study_dir.filename().string();
    ASSERT_TRUE(by_uid.count(uid)) << "no ImagingStudy for " << uid;
    const json& s = *by_uid[uid];
    const std::string patient_id = s.at("subject").at("reference").get<std::string>().substr(8);
    const json& patient = patients.at(patient_id);
    // FHIR series uid -> (modality, number of instances, instance uids).
    std::map<std::string, std::pair<std::string, std::set<std::string>>> series;
    for (const json& se : s.at("series")) {
      std::set<std::string> uids;
      for (const json& i : se.at("instance")) uids.insert(i.at("uid").get<std::string>());
      EXPECT_EQ(uids.size(), se.at("numberOfInstances").get<size_t>());
      series[se.at("uid")] = {se.at("modality").at("code"), uids};
    }
    EXPECT_EQ(series.size(), s.at("numberOfSeries").get<size_t>());

    std::map<std::string, std::set<std::string>> written;  // series uid -> instance uids
    const std::vector<fs::path> files = Files(study_dir);
    EXPECT_EQ(files.size(), s.at("numberOfInstances").get<size_t>()) << uid;
    for (const fs::path& f : files) {
      const Instance i = Load(f);
      EXPECT_EQ(i[DCM_StudyInstanceUID], uid);
      const std::string series_uid = i[DCM_SeriesInstanceUID];
      ASSERT_TRUE(series.count(series_uid)) << f;
      EXPECT_EQ(i[DCM_Modality], series[series_uid].first) << f;
      written[series_uid].insert(i[DCM_SOPInstanceUID]);
      EXPECT_EQ(i[DCM_StudyDate], DicomDate(s.at("started"))) << f;
      EXPECT_EQ(i[DCM_PatientID], patient_id) << f;
      EXPECT_EQ(i[DCM_PatientName],
                patient.at("name").at(0).at("family").get<std::string>() + "^" +
                    patient.at("name").at(0).at("given").at(0).get<std::string>());
      EXPECT_EQ(i[DCM_PatientBirthDate], DicomDate(patient.at("birthDate")));
      EXPECT_EQ(i[DCM_PatientSex], patient.at("gender") == "female" ? "F" : "M");
      if (i[DCM_Modality] == "SEG") continue;
      EXPECT_EQ(i[DCM_BodyPartExamined],
                internal::BodyPartExamined(
                    s.at("series").at(0).at("bodySite").at("code").get<std::string>()))
          << f;
      EXPECT_FALSE(i[DCM_BodyPartExamined].empty()) << f;
      // Identifying attributes a de-identifier must handle (PS3.15 Table E.1-1).
      for (const DcmTagKey& tag :
           {DCM_InstitutionName, DCM_InstitutionAddress, DCM_ReferringPhysicianName,
            DCM_OperatorsName, DCM_PerformingPhysicianName, DCM_StationName, DCM_DeviceSerialNumber,
            DCM_AccessionNumber, DCM_StudyID, DCM_RETIRED_OtherPatientIDs, DCM_PatientAddress,
            DCM_StudyTime, DCM_ContentDate}) {
        EXPECT_FALSE(i[tag].empty()) << f << " " << tag.toString().c_str();
      }
      EXPECT_EQ(i[DcmTagKey(0x0011, 0x0010)], "ONCOMESH SYNTH HOSPITAL");
      EXPECT_NE(i[DcmTagKey(0x0011, 0x1001)].find(i[DCM_RETIRED_OtherPatientIDs]),
                std::string::npos);
    }
    for (const auto& [series_uid, entry] : series) {
      EXPECT_EQ(written[series_uid], entry.second) << uid << " series " << series_uid;
    }
  }
}

// Unpacks frame `frame` of a binary SEG's Pixel Data (1 bit per pixel, frames contiguous,
// least significant bit first: PS3.5 8.1.1).
std::vector<uint8_t> Frame(const uint8_t* bits, size_t pixels, size_t frame) {
  std::vector<uint8_t> out(pixels);
  for (size_t p = 0; p < pixels; ++p) {
    const size_t bit = frame * pixels + p;
    out[p] = (bits[bit / 8] >> (bit % 8)) & 1;
  }
  return out;
}

TEST_F(SynthImagesTest, SegmentationMarksExactlyTheLesionOfItsSourceImages) {
  for (const fs::path& study_dir : StudyDirs()) {
    std::map<std::string, Instance> images;  // SOP Instance UID -> image
    for (const fs::path& f : Files(study_dir)) {
      if (f.filename() == "SEG-0001.dcm") continue;
      Instance i = Load(f);
      images[i[DCM_SOPInstanceUID]] = std::move(i);
    }
    const Instance seg = Load(study_dir / "SEG-0001.dcm");
    EXPECT_EQ(seg[DCM_SegmentationType], "BINARY");
    const size_t rows = std::stoul(seg[DCM_Rows]), columns = std::stoul(seg[DCM_Columns]);
    const size_t frames = std::stoul(seg[DCM_NumberOfFrames]);
    ASSERT_GT(frames, 0u);
    const Uint8* bits = nullptr;
    unsigned long length = 0;
    ASSERT_TRUE(seg.data().findAndGetUint8Array(DCM_PixelData, bits, &length).good());
    ASSERT_GE(length * 8, rows * columns * frames);
    // The Referenced Series Sequence names the image series.
    DcmItem* referenced = nullptr;
    ASSERT_TRUE(
        seg.data().findAndGetSequenceItem(DCM_ReferencedSeriesSequence, referenced, 0).good());
    EXPECT_EQ(Get(*referenced, DCM_SeriesInstanceUID),
              images.begin()->second[DCM_SeriesInstanceUID]);

    std::set<std::string> segmented;
    int lo = 1 << 16, hi = -1;
    std::vector<std::pair<std::string, std::vector<uint8_t>>> masks;
    for (size_t f = 0; f < frames; ++f) {
      DcmItem* per_frame = nullptr;
      DcmItem* derivation = nullptr;
      DcmItem* source = nullptr;
      ASSERT_TRUE(seg.data()
                      .findAndGetSequenceItem(DCM_PerFrameFunctionalGroupsSequence, per_frame,
                                              static_cast<int>(f))
                      .good());
      ASSERT_TRUE(
          per_frame->findAndGetSequenceItem(DCM_DerivationImageSequence, derivation, 0).good());
      ASSERT_TRUE(derivation->findAndGetSequenceItem(DCM_SourceImageSequence, source, 0).good());
      const std::string uid = Get(*source, DCM_ReferencedSOPInstanceUID);
      ASSERT_TRUE(images.count(uid)) << study_dir << ": frame " << f << " names a missing image";
      segmented.insert(uid);
      std::vector<uint8_t> mask = Frame(bits, rows * columns, f);
      const Uint16* pixels = nullptr;
      ASSERT_TRUE(images[uid].data().findAndGetUint16Array(DCM_PixelData, pixels).good());
      int marked = 0;
      for (size_t p = 0; p < mask.size(); ++p) {
        if (!mask[p]) continue;
        ++marked;
        lo = std::min<int>(lo, pixels[p]);
        hi = std::max<int>(hi, pixels[p]);
      }
      EXPECT_GT(marked, 0) << study_dir << " frame " << f;
      masks.emplace_back(uid, std::move(mask));
    }
    // The lesion's values form a narrow band (its value plus noise) that nothing else in any
    // image of the study reaches: the SEG marks exactly the lesion, on every image with one.
    EXPECT_LE(hi - lo, 40) << study_dir;
    for (const auto& [uid, image] : images) {
      const Uint16* pixels = nullptr;
      ASSERT_TRUE(image.data().findAndGetUint16Array(DCM_PixelData, pixels).good());
      const std::vector<uint8_t>* mask = nullptr;
      for (const auto& m : masks) {
        if (m.first == uid) mask = &m.second;
      }
      for (size_t p = 0; p < rows * columns; ++p) {
        const bool in_band = pixels[p] >= lo && pixels[p] <= hi;
        const bool marked = mask != nullptr && (*mask)[p] != 0;
        ASSERT_EQ(in_band, marked) << study_dir << " " << image.path << " pixel " << p;
      }
    }
  }
}

TEST(SynthImagesDeterminismTest, SameSeedSameBytesWhateverTheThreads) {
  oncomesh::testing::TempDir root;
  const fs::path a = fs::path(root.path()) / "a", b = fs::path(root.path()) / "b";
  Make(a, 6, 1);
  Make(b, 6, 3);
  std::map<std::string, std::string> files_a, files_b;
  for (const auto& e : fs::recursive_directory_iterator(a)) {
    if (e.is_regular_file()) files_a[fs::relative(e.path(), a).string()] = ReadFile(e.path());
  }
  for (const auto& e : fs::recursive_directory_iterator(b)) {
    if (e.is_regular_file()) files_b[fs::relative(e.path(), b).string()] = ReadFile(e.path());
  }
  EXPECT_GT(files_a.size(), 60u);
  EXPECT_TRUE(files_a == files_b);
}

TEST(SynthImagesOptionsTest, ZeroImagesRemovesEarlierStudiesAndBadCountsAreRejected) {
  oncomesh::testing::TempDir root;
  const fs::path dir = fs::path(root.path()) / "site";
  EXPECT_EQ(Make(dir, 3, 2).image_studies, 3);
  ASSERT_TRUE(fs::exists(dir / "dicom"));
  const SynthReport none = Make(dir, 0, 2);
  EXPECT_EQ(none.image_studies, 0);
  EXPECT_FALSE(fs::exists(dir / "dicom"));
  // No ImagingStudy then declares a SEG series.
  EXPECT_EQ(ReadFile(dir / "ImagingStudy.ndjson").find("\"SEG\""), std::string::npos);

  SynthOptions options;
  options.site = "isite";
  options.individuals = 10;
  options.out_dir = dir.string();
  options.images = 10'001;
  EXPECT_EQ(WriteSyntheticSite(options).code(), StatusCode::kInvalidArgument);
  options.images = -2;
  EXPECT_EQ(WriteSyntheticSite(options).code(), StatusCode::kInvalidArgument);
}

TEST(SynthImagesChoiceTest, TakesTheFirstEligibleInARandomOrderAndAllWhenFewer) {
  auto even = [](int64_t i) { return i % 2 == 0; };
  const std::vector<int64_t> some = internal::ChooseImagedIndividuals(1000, 20, 7, even);
  EXPECT_EQ(some.size(), 20u);
  EXPECT_TRUE(std::is_sorted(some.begin(), some.end()));
  for (int64_t i : some) EXPECT_EQ(i % 2, 0);
  EXPECT_EQ(some, internal::ChooseImagedIndividuals(1000, 20, 7, even));
  EXPECT_NE(some, internal::ChooseImagedIndividuals(1000, 20, 8, even));
  EXPECT_EQ(internal::ChooseImagedIndividuals(10, 20, 7, even),
            (std::vector<int64_t>{0, 2, 4, 6, 8}));
  EXPECT_TRUE(internal::ChooseImagedIndividuals(10, 0, 7, even).empty());
}

TEST(SynthImagesBodyPartTest, MapsTheImagedTopographies) {
  EXPECT_EQ(internal::BodyPartExamined("C50.4"), "BREAST");
  EXPECT_EQ(internal::BodyPartExamined("C34.1"), "CHEST");
  EXPECT_EQ(internal::BodyPartExamined("C18.7"), "COLON");
  EXPECT_EQ(internal::BodyPartExamined("C61.9"), "PROSTATE");
  EXPECT_EQ(internal::BodyPartExamined("C44.5"), "");
}

}  // namespace
}  // namespace oncomesh::synth
