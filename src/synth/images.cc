#include "synth/images.h"

// osconfig.h first: DCMTK's headers depend on it.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fgfracon.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmiod/iodreferences.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>
#include <dcmtk/oflog/oflog.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>
#include <unordered_map>

#include "synth/random.h"

namespace oncomesh::synth::internal {
namespace {

namespace fs = std::filesystem;

// Tags mixed into a study's UIDs and streams; distinct so no two derived values share a stream.
constexpr uint64_t kChooseStream = 0x696d616765732d63ULL;           // "images-c"
constexpr uint64_t kSegmentationSeriesTag = 0x7365672d73657269ULL;  // "seg-seri"
constexpr uint64_t kSegmentationInstanceTag = 0x7365672d696e7374ULL;
constexpr uint64_t kFrameOfReferenceTag = 0x666f722d75696420ULL;
constexpr uint64_t kDimensionTag = 0x64696d2d75696420ULL;

constexpr const char* kCtImageStorage = "1.2.840.10008.5.1.4.1.1.2";
constexpr const char* kMrImageStorage = "1.2.840.10008.5.1.4.1.1.4";
// Digital Mammography X-Ray Image Storage - For Presentation.
constexpr const char* kMammographyStorage = "1.2.840.10008.5.1.4.1.1.1.2";

std::string Uid(uint64_t v) { return "2.25." + std::to_string(v); }

// The matrix and spacing of a modality's images. Small on purpose: a study is a few hundred kB.
struct Geometry {
  int rows = 64;
  int columns = 64;
  int images = 16;
  double pixel_spacing = 6.25;   // mm
  double slice_thickness = 5.0;  // mm, CT and MR (contiguous slices)
};

Geometry GeometryFor(std::string_view modality) {
  if (modality == "MR") return {64, 64, 16, 3.75, 4.0};
  if (modality == "MG") return {128, 96, 4, 2.0, 0.0};  // R CC, R MLO, L CC, L MLO
  return {64, 64, 16, 6.25, 5.0};                       // CT: a 400 mm field of view
}

// Fictitious staff, for the identifying attributes de-identification must remove.
constexpr std::array<const char*, 12> kStaffFamily = {
    "Hoffmann",  "Leroy", "Conti",   "Navarro", "Janssens", "Lindqvist",
    "Kowalczyk", "Horak", "Ferrari", "Dumont",  "Brandt",   "Sousa"};
constexpr std::array<const char*, 12> kStaffGiven = {"Katrin", "Olivier", "Giulia", "Pablo",
                                                     "Wim",    "Astrid",  "Marek",  "Jana",
                                                     "Paolo",  "Claire",  "Tobias", "Rita"};

std::string StaffName(Rng& rng, bool doctor) {
  std::string name = kStaffFamily[static_cast<size_t>(rng.Below(12))];
  name += '^';
  name += kStaffGiven[static_cast<size_t>(rng.Below(12))];
  if (doctor) name += "^^Dr.";
  return name;
}

std::string DicomDate(model::Date date) {
  const model::Civil c = model::CivilFromDays(date);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d%02u%02u", c.year, c.month, c.day);
  return buf;
}

std::string DicomTime(int seconds) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d%02d%02d", seconds / 3600 % 24, seconds / 60 % 60,
                seconds % 60);
  return buf;
}

// A decimal string (DS) of at most 16 characters.
std::string Ds(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// Puts values into a dataset item, keeping the first error DCMTK reports.
class Put {
 public:
  explicit Put(DcmItem& item, std::string* error) : item_(item), error_(error) {}
  Put& operator()(const DcmTagKey& tag, const std::string& value) {
    Keep(item_.putAndInsertOFStringArray(tag, value.c_str()), tag);
    return *this;
  }
  Put& Ss(const DcmTagKey& tag, Sint16 value) {
    Keep(item_.putAndInsertSint16(tag, value), tag);
    return *this;
  }
  Put& Us(const DcmTagKey& tag, Uint16 value) {
    Keep(item_.putAndInsertUint16(tag, value), tag);
    return *this;
  }
  // An item of a code sequence (PS3.3 Table 8.8-1): value, scheme, meaning.
  Put& Code(const DcmTagKey& sequence, const char* value, const char* scheme, const char* meaning) {
    DcmItem* item = nullptr;
    Keep(item_.findOrCreateSequenceItem(sequence, item, -2), sequence);
    if (item != nullptr) {
      Put(*item, error_)(DCM_CodeValue, value)(DCM_CodingSchemeDesignator, scheme)(DCM_CodeMeaning,
                                                                                   meaning);
    }
    return *this;
  }
  // An empty (type 2) sequence.
  Put& EmptySequence(const DcmTagKey& sequence) {
    Keep(item_.insertEmptyElement(sequence), sequence);
    return *this;
  }
  // A private element in the block of `creator` at group 0x0011, element 0x10: (0011,10xx).
  Put& Private(Uint16 element, const std::string& value) {
    Keep(item_.putAndInsertString(DcmTag(0x0011, static_cast<Uint16>(0x1000 | element), EVR_LO),
                                  value.c_str()),
         DcmTagKey(0x0011, static_cast<Uint16>(0x1000 | element)));
    return *this;
  }
  DcmItem& item() { return item_; }

 private:
  void Keep(const OFCondition& condition, const DcmTagKey& tag) {
    if (condition.bad() && error_->empty()) {
      *error_ = std::string(tag.toString().c_str()) + ": " + condition.text();
    }
  }
  DcmItem& item_;
  std::string* error_;
};

// What is drawn once per study from its own stream, before any pixel.
struct StudyContext {
  std::string referring_physician, performing_physician, operator_name, reading_physician;
  std::string station, serial_number, accession_number, study_id;
  int study_seconds = 0;  // time of day of the study
  bool right = false;     // side of a paired organ (General Series Laterality) or breast
};

// The lesion: a ball (CT, MR) or a disc in the two views of one breast (MG).
struct Lesion {
  double x = 0, y = 0, z = 0;  // CT/MR: patient coordinates (mm); MG: column, row (pixels)
  double radius = 0;           // mm (CT/MR) or pixels (MG)
  double mlo_row = 0;          // MG: row in the MLO view
  bool right = true;           // MG: the breast with the lesion
};

// Stored pixel values of a modality's synthetic anatomy (bases; noise is added).
struct Intensities {
  int air, tissue, lung, bone, lesion, noise;
};
// CT stores HU + 1024 (RescaleIntercept -1024): air -1000, soft tissue 40, lung -850,
// bone 700, contrast-enhancing lesion 110 HU. MR: an arbitrary T1 post-contrast scale.
constexpr Intensities kCt = {24, 1064, 174, 1724, 1134, 8};
constexpr Intensities kMr = {0, 400, 0, 250, 950, 12};
constexpr Intensities kMg = {0, 1400, 0, 1800, 2600, 20};

int Noise(Rng& rng, int amplitude) { return rng.Below(2 * amplitude + 1) - amplitude; }

struct Volume {
  Geometry g;
  std::vector<std::vector<Uint16>> images;
  std::vector<std::vector<Uint8>> masks;  // per image: 1 where the lesion is
};

double X0(const Geometry& g) { return -(g.columns - 1) * g.pixel_spacing / 2; }
double Y0(const Geometry& g) { return -(g.rows - 1) * g.pixel_spacing / 2; }
double Z0(const Geometry& g) { return -(g.images - 1) * g.slice_thickness / 2; }

// An axial volume (LPS patient coordinates, supine): body ellipse, spine, lungs for a chest
// study, and the lesion ball.
Volume MakeAxialVolume(Rng& rng, const Geometry& g, const Intensities& v, bool chest,
                       const Lesion& lesion) {
  Volume out;
  out.g = g;
  const size_t n = static_cast<size_t>(g.rows) * static_cast<size_t>(g.columns);
  for (int k = 0; k < g.images; ++k) {
    std::vector<Uint16> image(n);
    std::vector<Uint8> mask(n, 0);
    const double z = Z0(g) + k * g.slice_thickness;
    for (int r = 0; r < g.rows; ++r) {
      const double y = Y0(g) + r * g.pixel_spacing;
      for (int c = 0; c < g.columns; ++c) {
        const double x = X0(g) + c * g.pixel_spacing;
        int value = v.air;
        const double body = (x / 170) * (x / 170) + (y / 120) * (y / 120);
        if (body <= 1) {
          value = v.tissue;
          if (chest) {
            const double lx = (std::abs(x) - 75) / 55, ly = (y + 10) / 80;
            if (lx * lx + ly * ly <= 1) value = v.lung;
          }
          if (x * x + (y - 80) * (y - 80) <= 20 * 20) value = v.bone;
        }
        const double dx = x - lesion.x, dy = y - lesion.y, dz = z - lesion.z;
        const size_t i =
            static_cast<size_t>(r) * static_cast<size_t>(g.columns) + static_cast<size_t>(c);
        if (dx * dx + dy * dy + dz * dz <= lesion.radius * lesion.radius) {
          value = v.lesion;
          mask[i] = 1;
        }
        image[i] = static_cast<Uint16>(std::max(0, value + Noise(rng, v.noise)));
      }
    }
    out.images.push_back(std::move(image));
    out.masks.push_back(std::move(mask));
  }
  return out;
}

// The four mammography views in the order R CC, R MLO, L CC, L MLO: a half-ellipse breast
// against the chest wall (image right for R, left for L, as PatientOrientation says), the
// pectoral muscle in the MLO views, the lesion in both views of one breast.
Volume MakeMammograms(Rng& rng, const Geometry& g, const Lesion& lesion) {
  Volume out;
  out.g = g;
  const Intensities& v = kMg;
  const size_t n = static_cast<size_t>(g.rows) * static_cast<size_t>(g.columns);
  for (int view = 0; view < 4; ++view) {
    const bool right = view < 2, mlo = view % 2 == 1;
    std::vector<Uint16> image(n);
    std::vector<Uint8> mask(n, 0);
    for (int r = 0; r < g.rows; ++r) {
      for (int c = 0; c < g.columns; ++c) {
        // Depth: distance from the chest wall in pixels.
        const double depth = right ? g.columns - 1 - c : c;
        const double u = depth / (0.85 * g.columns), w = (r - g.rows / 2.0) / (0.45 * g.rows);
        int value = v.air;
        if (u * u + w * w <= 1) {
          value = v.tissue;
          if (mlo && depth < (0.45 * g.rows - r) * 0.5) value = v.bone;  // pectoral muscle
        }
        const double lr = mlo ? lesion.mlo_row : lesion.y;
        const double dx = depth - lesion.x, dy = r - lr;
        const size_t i =
            static_cast<size_t>(r) * static_cast<size_t>(g.columns) + static_cast<size_t>(c);
        if (right == lesion.right && dx * dx + dy * dy <= lesion.radius * lesion.radius) {
          value = v.lesion;
          mask[i] = 1;
        }
        image[i] = static_cast<Uint16>(std::max(0, value + Noise(rng, v.noise)));
      }
    }
    out.images.push_back(std::move(image));
    out.masks.push_back(std::move(mask));
  }
  return out;
}

struct ViewInfo {
  const char* laterality;
  const char* view_position;
  const char* view_code;
  const char* view_meaning;
  const char* orientation;  // PatientOrientation: row\column directions
};
constexpr std::array<ViewInfo, 4> kViews = {{
    {"R", "CC", "399162004", "cranio-caudal", "P\\L"},
    {"R", "MLO", "399368009", "medio-lateral oblique", "P\\F"},
    {"L", "CC", "399162004", "cranio-caudal", "A\\R"},
    {"L", "MLO", "399368009", "medio-lateral oblique", "A\\F"},
}};

class StudyWriter {
 public:
  StudyWriter(const ImageOptions& options, const ImagingSubject& subject)
      : options_(options),
        s_(subject),
        plan_(subject.plan),
        rng_(MixKey(options.key, static_cast<uint64_t>(subject.number))),
        dir_(fs::path(options.dir) / plan_.study_instance_uid) {}

  Result<ImageSummary> Write() {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) return Internal("synth: cannot create " + dir_.string() + ": " + ec.message());
    DrawContext();
    const Geometry g = GeometryFor(plan_.modality);
    Volume volume;
    if (plan_.modality == "MG") {
      Lesion lesion;
      lesion.right = c_.right;
      lesion.radius = 5 + rng_.Below(4);
      lesion.x = 15 + rng_.Below(35);
      lesion.y = 40 + rng_.Below(48);
      lesion.mlo_row = 30 + rng_.Below(60);
      volume = MakeMammograms(rng_, g, lesion);
    } else {
      const bool chest = s_.topography.rfind("C34", 0) == 0;
      Lesion lesion;
      lesion.radius = plan_.modality == "CT" ? 15 + rng_.Below(11) : 10 + rng_.Below(7);
      if (chest) {
        lesion.x = (rng_.Bernoulli(0.5) ? 75 : -75) + rng_.Below(31) - 15;
        lesion.y = -10 + rng_.Below(61) - 30;
      } else {
        lesion.x = 90 * (rng_.Uniform() * 2 - 1);
        // The patient's right is -x (LPS).
        if (PairedOrgan()) lesion.x = (c_.right ? -1 : 1) * (30 + std::abs(lesion.x) * 0.6);
        lesion.y = -70 + rng_.Uniform() * 80;
      }
      lesion.z = (rng_.Uniform() * 2 - 1) * 2 * g.slice_thickness;
      volume = MakeAxialVolume(rng_, g, plan_.modality == "CT" ? kCt : kMr, chest, lesion);
    }
    ImageSummary summary;
    summary.studies = 1;
    DcmFileFormat first;
    for (int k = 0; k < g.images; ++k) {
      DcmFileFormat file;
      RETURN_IF_ERROR(FillImage(*file.getDataset(), volume, k));
      const fs::path path = dir_ / (plan_.modality + "-" + Number(k + 1) + ".dcm");
      RETURN_IF_ERROR(Save(file, path, summary));
      if (k == 0) first = file;
    }
    RETURN_IF_ERROR(WriteSegmentation(*first.getDataset(), volume, summary));
    return summary;
  }

 private:
  static std::string Number(int n) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d", n);
    return buf;
  }

  void DrawContext() {
    c_.referring_physician = StaffName(rng_, true);
    c_.performing_physician = StaffName(rng_, true);
    c_.reading_physician = StaffName(rng_, true);
    c_.operator_name = StaffName(rng_, false);
    c_.station = plan_.modality + "0" + std::to_string(1 + rng_.Below(4)) + "-RAD";
    c_.serial_number = std::to_string(100000 + rng_.Below(900000));
    c_.accession_number = "ACC" + std::to_string(10000000 + rng_.Below(90000000));
    c_.study_id = std::to_string(1000 + rng_.Below(9000));
    c_.study_seconds = 7 * 3600 + rng_.Below(11 * 3600);
    c_.right = rng_.Bernoulli(0.5);
  }

  // General Series Laterality is required for a paired organ unless Image Laterality is
  // present (PS3.3 C.7.3.1); mammograms carry Image Laterality.
  bool PairedOrgan() const { return BodyPart() == "KIDNEY" || BodyPart() == "OVARY"; }

  std::string BodyPart() const { return BodyPartExamined(s_.topography); }

  // Patient, General Study, Patient Study, General Series, General Equipment, SOP Common and
  // the private block: what every image of the study carries.
  void FillCommon(Put& put, int instance) const {
    const std::string date = DicomDate(s_.started);
    const std::string birth = DicomDate(s_.birth_date);
    const int age = model::WholeYearsBetween(s_.birth_date, s_.started);
    char age_string[8];
    std::snprintf(age_string, sizeof age_string, "%03dY", std::clamp(age, 0, 999));
    const int t = c_.study_seconds;
    put(DCM_SOPClassUID, plan_.sop_class_uid)(DCM_SOPInstanceUID,
                                              plan_.image_instance_uids[size_t(instance - 1)]);
    put(DCM_InstanceCreationDate, date)(DCM_InstanceCreationTime, DicomTime(t + 300 + instance));
    // Patient (identifying, as the source hospital writes it).
    put(DCM_PatientName, s_.family_name + "^" + s_.given_name)(DCM_PatientID, s_.patient_id);
    put(DCM_IssuerOfPatientID, options_.site)(DCM_PatientBirthDate, birth);
    put(DCM_PatientSex, s_.female ? "F" : "M")(DCM_RETIRED_OtherPatientIDs, s_.mrn);
    {
      DcmItem* other = nullptr;
      put.item().findOrCreateSequenceItem(DCM_OtherPatientIDsSequence, other, -2);
      if (other != nullptr) {
        std::string error;
        Put(*other, &error)(DCM_PatientID, s_.mrn)(DCM_IssuerOfPatientID, s_.mrn_system)(
            DCM_TypeOfPatientID, "TEXT");
      }
    }
    put(DCM_PatientAddress, s_.address)(DCM_PatientTelephoneNumbers, s_.phone);
    put(DCM_PatientAge, age_string);
    // General Study.
    put(DCM_StudyInstanceUID, plan_.study_instance_uid)(DCM_StudyDate, date)(DCM_StudyTime,
                                                                             DicomTime(t));
    put(DCM_ReferringPhysicianName, c_.referring_physician)(DCM_StudyID, c_.study_id);
    put(DCM_AccessionNumber, c_.accession_number);
    put(DCM_StudyDescription, plan_.modality + " " + BodyPart() + " staging");
    put(DCM_NameOfPhysiciansReadingStudy, c_.reading_physician);
    // General Series.
    put(DCM_Modality, plan_.modality)(DCM_SeriesInstanceUID, plan_.image_series_uid);
    put(DCM_SeriesNumber, "1")(DCM_SeriesDate, date)(DCM_SeriesTime, DicomTime(t + 60));
    put(DCM_PerformingPhysicianName, c_.performing_physician)(DCM_OperatorsName, c_.operator_name);
    put(DCM_BodyPartExamined, BodyPart());
    if (PairedOrgan()) put(DCM_Laterality, c_.right ? "R" : "L");
    // General Equipment (Manufacturer is type 2; the rest identifies the hospital).
    put(DCM_Manufacturer, "OncoMesh Synthetic")(DCM_InstitutionName,
                                                options_.site + " University Hospital");
    put(DCM_InstitutionAddress, options_.institution_address)(DCM_StationName, c_.station);
    put(DCM_InstitutionalDepartmentName, "Radiology");
    put(DCM_ManufacturerModelName, "Synth " + plan_.modality)(DCM_DeviceSerialNumber,
                                                              c_.serial_number);
    put(DCM_SoftwareVersions, "oncomesh synth 1");
    // General Image.
    put(DCM_InstanceNumber, std::to_string(instance))(DCM_ContentDate, date)(
        DCM_ContentTime, DicomTime(t + 120 + instance));
    put(DCM_AcquisitionNumber, "1")(DCM_AcquisitionDate, date)(DCM_AcquisitionTime,
                                                               DicomTime(t + 90));
    put(DCM_BurnedInAnnotation, "NO")(DCM_LossyImageCompression, "00");
    // A private block carrying identifying text, as vendors' blocks often do (PS3.15 E.3.10
    // "Retain Safe Private Option": a de-identifier must remove it).
    put(DcmTagKey(0x0011, 0x0010), "ONCOMESH SYNTH HOSPITAL");
    put.Private(0x01, "Patient " + s_.family_name + ", " + s_.given_name + "; MRN " + s_.mrn);
    put.Private(0x02, "Referred by " + c_.referring_physician + " for staging");
  }

  Status FillImage(DcmDataset& ds, const Volume& volume, int k) const {
    std::string error;
    Put put(ds, &error);
    const Geometry& g = volume.g;
    FillCommon(put, k + 1);
    put.Us(DCM_SamplesPerPixel, 1)(DCM_PhotometricInterpretation, "MONOCHROME2");
    put.Us(DCM_Rows, static_cast<Uint16>(g.rows)).Us(DCM_Columns, static_cast<Uint16>(g.columns));
    put.Us(DCM_BitsAllocated, 16).Us(DCM_BitsStored, 12).Us(DCM_HighBit, 11);
    put.Us(DCM_PixelRepresentation, 0);
    const std::string spacing = Ds(g.pixel_spacing) + "\\" + Ds(g.pixel_spacing);
    if (plan_.modality == "MG") {
      const ViewInfo& view = kViews[static_cast<size_t>(k)];
      // DX Series, DX Anatomy Imaged, DX Image, DX Detector, Mammography Series/Image.
      put(DCM_PresentationIntentType, "FOR PRESENTATION")(DCM_ImageType, "ORIGINAL\\PRIMARY");
      put(DCM_ImageLaterality, view.laterality)(DCM_ViewPosition, view.view_position);
      put(DCM_PatientOrientation, view.orientation);
      put.Code(DCM_AnatomicRegionSequence, "76752008", "SCT", "Breast");
      put.Code(DCM_ViewCodeSequence, view.view_code, "SCT", view.view_meaning);
      if (DcmItem* item = nullptr;
          ds.findAndGetSequenceItem(DCM_ViewCodeSequence, item, 0).good() && item != nullptr) {
        Put(*item, &error).EmptySequence(DCM_ViewModifierCodeSequence);
      }
      put(DCM_PixelIntensityRelationship, "LOG").Ss(DCM_PixelIntensityRelationshipSign, 1);
      put(DCM_RescaleIntercept, "0")(DCM_RescaleSlope, "1")(DCM_RescaleType, "US");
      put(DCM_PresentationLUTShape, "IDENTITY");
      put(DCM_ImagerPixelSpacing, spacing)(DCM_PixelSpacing, spacing);
      put(DCM_DetectorType, "DIRECT")(DCM_DetectorID, "D" + c_.serial_number);
      put(DCM_PositionerType, "MAMMOGRAPHIC")(DCM_PositionerPrimaryAngle,
                                              view.view_position[0] == 'C' ? "0" : "45");
      put(DCM_DistanceSourceToDetector, "660")(DCM_DistanceSourceToPatient, "620");
      put(DCM_EstimatedRadiographicMagnificationFactor, Ds(660.0 / 620.0));
      put(DCM_KVP, "29")(DCM_ExposureTime, "1200")(DCM_XRayTubeCurrent, "100");
      put(DCM_Exposure, "120")(DCM_AnodeTargetMaterial, "TUNGSTEN");
      put(DCM_FilterMaterial, "RHODIUM")(DCM_BodyPartThickness, "52");
      put(DCM_CompressionForce, "110")(DCM_OrganExposed, "BREAST");
      put(DCM_BreastImplantPresent, "NO")(DCM_PartialView, "NO");
      put(DCM_WindowCenter, "1800")(DCM_WindowWidth, "2600");
      put.EmptySequence(DCM_AcquisitionContextSequence);
    } else {
      const double z = Z0(g) + k * g.slice_thickness;
      put(DCM_FrameOfReferenceUID, plan_.frame_of_reference_uid)(DCM_PositionReferenceIndicator,
                                                                 "");
      put(DCM_PatientPosition, "HFS");
      put(DCM_ImagePositionPatient, Ds(X0(g)) + "\\" + Ds(Y0(g)) + "\\" + Ds(z));
      put(DCM_ImageOrientationPatient, "1\\0\\0\\0\\1\\0")(DCM_PixelSpacing, spacing);
      put(DCM_SliceThickness, Ds(g.slice_thickness))(DCM_SliceLocation, Ds(z));
      put(DCM_ContrastBolusAgent, plan_.modality == "CT" ? "IOHEXOL" : "GADOTERATE");
      put(DCM_ContrastBolusRoute, "IV");
      if (plan_.modality == "CT") {
        const bool chest = BodyPart() == "CHEST";
        put(DCM_ImageType, "ORIGINAL\\PRIMARY\\AXIAL")(DCM_KVP, "120");
        put(DCM_RescaleIntercept, "-1024")(DCM_RescaleSlope, "1")(DCM_RescaleType, "HU");
        put(DCM_DataCollectionDiameter, "500")(DCM_ReconstructionDiameter, "400");
        put(DCM_GantryDetectorTilt, "0")(DCM_TableHeight, "150")(DCM_RotationDirection, "CW");
        put(DCM_ExposureTime, "500")(DCM_XRayTubeCurrent, "200")(DCM_Exposure, "100");
        put(DCM_ConvolutionKernel, chest ? "LUNG" : "STANDARD");
        put(DCM_WindowCenter, chest ? "-600" : "40")(DCM_WindowWidth, chest ? "1500" : "400");
      } else {
        put(DCM_ImageType, "ORIGINAL\\PRIMARY\\OTHER");
        put(DCM_ScanningSequence, "SE")(DCM_SequenceVariant, "SK")(DCM_ScanOptions, "FS");
        put(DCM_MRAcquisitionType, "2D")(DCM_RepetitionTime, "550")(DCM_EchoTime, "12");
        put(DCM_EchoTrainLength, "1")(DCM_MagneticFieldStrength, s_.number % 3 == 0 ? "1.5" : "3");
        put(DCM_ImagingFrequency, s_.number % 3 == 0 ? "63.87" : "127.74");
        put(DCM_ImagedNucleus, "1H")(DCM_FlipAngle, "90")(DCM_NumberOfAverages, "2");
        put(DCM_SpacingBetweenSlices, Ds(g.slice_thickness));
        put(DCM_SequenceName, "se2d1")(DCM_SeriesDescription, "AX T1 FS POST");
        put(DCM_WindowCenter, "500")(DCM_WindowWidth, "1000");
      }
    }
    if (plan_.modality != "MR") {
      put(DCM_SeriesDescription, plan_.modality == "MG" ? "Mammography" : "AX 5mm");
    }
    const std::vector<Uint16>& pixels = volume.images[static_cast<size_t>(k)];
    const OFCondition c = ds.putAndInsertUint16Array(DCM_PixelData, pixels.data(),
                                                     static_cast<unsigned long>(pixels.size()));
    if (c.bad() && error.empty()) error = std::string("PixelData: ") + c.text();
    if (!error.empty()) return Internal("synth: DICOM image of " + s_.patient_id + ": " + error);
    return Status::Ok();
  }

  Status WriteSegmentation(DcmDataset& source, const Volume& volume, ImageSummary& summary) {
    const Geometry& g = volume.g;
    const std::string who = "synth: DICOM SEG of " + s_.patient_id + ": ";
    auto check = [&](const OFCondition& c, const char* what) -> Status {
      if (c.good()) return Status::Ok();
      return Internal(who + what + ": " + c.text());
    };
    DcmSegmentation* raw = nullptr;
    const IODGeneralEquipmentModule::EquipmentInfo equipment(
        "OncoMesh Synthetic", "oncomesh synth", "SEG-" + c_.serial_number, "oncomesh synth 1");
    const ContentIdentificationMacro content("1", "LESION", "Synthetic lesion",
                                             c_.reading_physician.c_str());
    RETURN_IF_ERROR(check(
        DcmSegmentation::createBinarySegmentation(
            raw, static_cast<Uint16>(g.rows), static_cast<Uint16>(g.columns), equipment, content),
        "create"));
    std::unique_ptr<DcmSegmentation> seg(raw);
    // Projection images have no Frame of Reference; the SEG then has none either and locates
    // its frames through the Derivation Image functional group alone (PS3.3 A.51.3).
    if (plan_.frame_of_reference_uid.empty()) seg->getFrameOfReference().makeOptional();
    RETURN_IF_ERROR(check(seg->importFromSourceImage(source), "import patient and study"));
    const std::string date = DicomDate(s_.started);
    RETURN_IF_ERROR(check(seg->getSOPCommon().setSOPInstanceUID(plan_.segmentation_instance_uid),
                          "SOP Instance UID"));
    RETURN_IF_ERROR(check(seg->getSOPCommon().setInstanceCreationDate(date), "creation date"));
    RETURN_IF_ERROR(
        check(seg->getSOPCommon().setInstanceCreationTime(DicomTime(c_.study_seconds + 3600)),
              "creation time"));
    RETURN_IF_ERROR(check(seg->getSeries().setSeriesInstanceUID(plan_.segmentation_series_uid),
                          "Series Instance UID"));
    RETURN_IF_ERROR(check(seg->getSeries().setSeriesNumber("2"), "Series Number"));
    RETURN_IF_ERROR(
        check(seg->getSeries().setSeriesDescription("Lesion segmentation"), "Series Description"));
    RETURN_IF_ERROR(check(seg->getSeries().setSeriesDate(date), "Series Date"));
    RETURN_IF_ERROR(
        check(seg->getSeries().setSeriesTime(DicomTime(c_.study_seconds + 3600)), "Series Time"));
    RETURN_IF_ERROR(check(seg->getGeneralImage().setContentDate(date), "Content Date"));
    RETURN_IF_ERROR(check(seg->getGeneralImage().setContentTime(DicomTime(c_.study_seconds + 3600)),
                          "Content Time"));

    DcmSegment* segment = nullptr;
    RETURN_IF_ERROR(
        check(DcmSegment::create(
                  segment, "Lesion",
                  CodeSequenceMacro("49755003", "SCT", "Morphologically Altered Structure"),
                  CodeSequenceMacro("108369006", "SCT", "Neoplasm"), DcmSegTypes::SAT_MANUAL),
              "segment"));
    Uint16 segment_number = 0;
    if (const OFCondition c = seg->addSegment(segment, segment_number); c.bad()) {
      delete segment;
      return check(c, "add segment");
    }

    const bool axial = plan_.modality != "MG";
    const std::string dimension_uid = Uid(MixKey(static_cast<uint64_t>(s_.number), kDimensionTag));
    IODMultiframeDimensionModule& dimensions = seg->getDimensions();
    RETURN_IF_ERROR(check(
        dimensions.addDimensionIndex(DCM_ReferencedSegmentNumber, dimension_uid,
                                     DCM_SegmentIdentificationSequence, "ReferencedSegmentNumber"),
        "dimension"));
    if (axial) {
      RETURN_IF_ERROR(
          check(dimensions.addDimensionIndex(DCM_ImagePositionPatient, dimension_uid,
                                             DCM_PlanePositionSequence, "ImagePositionPatient"),
                "dimension"));
      FGPixelMeasures measures;
      const std::string spacing = Ds(g.pixel_spacing) + "\\" + Ds(g.pixel_spacing);
      RETURN_IF_ERROR(check(measures.setPixelSpacing(spacing.c_str()), "pixel spacing"));
      RETURN_IF_ERROR(
          check(measures.setSliceThickness(Ds(g.slice_thickness).c_str()), "slice thickness"));
      RETURN_IF_ERROR(check(seg->addForAllFrames(measures), "pixel measures"));
      std::unique_ptr<FGPlaneOrientationPatient> orientation(
          FGPlaneOrientationPatient::createMinimal("1", "0", "0", "0", "1", "0"));
      if (!orientation) return Internal(who + "plane orientation");
      RETURN_IF_ERROR(check(seg->addForAllFrames(*orientation), "plane orientation"));
    }

    IODReferences references;
    Uint32 frame_index = 0;
    for (size_t k = 0; k < volume.masks.size(); ++k) {
      std::vector<Uint8> mask = volume.masks[k];
      if (std::none_of(mask.begin(), mask.end(), [](Uint8 b) { return b != 0; })) continue;
      ++frame_index;
      const std::string& instance_uid = plan_.image_instance_uids[k];
      ImageSOPInstanceReferenceMacro reference;
      RETURN_IF_ERROR(check(reference.setReferencedSOPClassUID(plan_.sop_class_uid), "ref"));
      RETURN_IF_ERROR(check(reference.setReferencedSOPInstanceUID(instance_uid), "ref"));
      OFVector<ImageSOPInstanceReferenceMacro> sources;
      sources.push_back(reference);
      std::unique_ptr<FGDerivationImage> derivation(FGDerivationImage::createMinimal(
          sources, "Synthetic lesion mask", CodeSequenceMacro("113076", "DCM", "Segmentation"),
          CodeSequenceMacro("121322", "DCM", "Source image for image processing operation")));
      if (!derivation) return Internal(who + "derivation image");
      FGFrameContent frame_content;
      RETURN_IF_ERROR(check(frame_content.setDimensionIndexValues(segment_number, 0), "index"));
      OFVector<FGBase*> groups;
      groups.push_back(&frame_content);
      groups.push_back(derivation.get());
      std::unique_ptr<FGPlanePosPatient> position;
      if (axial) {
        RETURN_IF_ERROR(check(frame_content.setDimensionIndexValues(frame_index, 1), "index"));
        position.reset(FGPlanePosPatient::createMinimal(
            Ds(X0(g)).c_str(), Ds(Y0(g)).c_str(),
            Ds(Z0(g) + static_cast<double>(k) * g.slice_thickness).c_str()));
        if (!position) return Internal(who + "plane position");
        groups.push_back(position.get());
      }
      RETURN_IF_ERROR(check(seg->addFrame(mask.data(), segment_number, groups), "frame"));
      references.add(new IODImageReference(s_.patient_id, plan_.study_instance_uid,
                                           plan_.image_series_uid, instance_uid,
                                           plan_.sop_class_uid));
    }
    seg->getCommonInstanceReference().addReferences(references, plan_.study_instance_uid);

    DcmFileFormat file;
    RETURN_IF_ERROR(check(seg->writeDataset(*file.getDataset()), "write"));
    // The private block and the identifying header attributes the SEG shares with its images.
    std::string error;
    Put put(*file.getDataset(), &error);
    put(DCM_InstitutionName, options_.site + " University Hospital")(DCM_StationName, c_.station);
    put(DCM_InstitutionAddress, options_.institution_address);
    put(DCM_OperatorsName, c_.operator_name);
    // Type 2C without Image Orientation (Patient): the frames come from views of different
    // orientations, so it is empty.
    if (!axial) put(DCM_PatientOrientation, "");
    if (!error.empty()) return Internal(who + error);
    return Save(file, dir_ / "SEG-0001.dcm", summary);
  }

  Status Save(DcmFileFormat& file, const fs::path& path, ImageSummary& summary) const {
    const OFCondition c = file.saveFile(path.string().c_str(), EXS_LittleEndianExplicit);
    if (c.bad()) return Internal("synth: cannot write " + path.string() + ": " + c.text());
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    summary.files += 1;
    if (!ec) summary.bytes += static_cast<int64_t>(size);
    return Status::Ok();
  }

  const ImageOptions& options_;
  const ImagingSubject& s_;
  const ImagingPlan& plan_;
  Rng rng_;
  fs::path dir_;
  StudyContext c_;
};

}  // namespace

bool CanWriteImages(std::string_view modality) {
  return modality == "CT" || modality == "MR" || modality == "MG";
}

ImagingPlan PlanImagingStudy(std::string_view modality, uint64_t study_uid, uint64_t series_uid) {
  ImagingPlan plan;
  plan.modality = std::string(modality);
  plan.sop_class_uid = modality == "CT"   ? kCtImageStorage
                       : modality == "MR" ? kMrImageStorage
                                          : kMammographyStorage;
  plan.study_instance_uid = Uid(study_uid);
  plan.image_series_uid = Uid(series_uid);
  plan.segmentation_series_uid = Uid(MixKey(series_uid, kSegmentationSeriesTag));
  plan.segmentation_instance_uid = Uid(MixKey(series_uid, kSegmentationInstanceTag));
  if (modality != "MG") plan.frame_of_reference_uid = Uid(MixKey(study_uid, kFrameOfReferenceTag));
  const int images = GeometryFor(modality).images;
  for (int k = 1; k <= images; ++k) {
    plan.image_instance_uids.push_back(Uid(MixKey(series_uid, static_cast<uint64_t>(k))));
  }
  return plan;
}

std::string BodyPartExamined(std::string_view topography) {
  // ICD-O-3 topography category -> PS3.16 Annex L Body Part Examined defined term.
  static constexpr std::array<std::pair<const char*, const char*>, 12> kMap = {{
      {"C50", "BREAST"},
      {"C34", "CHEST"},
      {"C18", "COLON"},
      {"C19", "SIGMOID"},
      {"C20", "RECTUM"},
      {"C61", "PROSTATE"},
      {"C67", "BLADDER"},
      {"C64", "KIDNEY"},
      {"C25", "PANCREAS"},
      {"C54", "UTERUS"},
      {"C56", "OVARY"},
      {"C16", "STOMACH"},
  }};
  const std::string_view category = topography.substr(0, 3);
  for (const auto& [code, term] : kMap) {
    if (category == code) return term;
  }
  return "";
}

Result<ImageSummary> WriteImagingStudies(const ImageOptions& options,
                                         const std::vector<ImagingSubject>& subjects) {
  // dcmiod warns on every SEG that it checks dimensions before the per-frame groups exist;
  // its errors still show (and fail the write).
  OFLog::getLogger("dcmtk.dcmiod").setLogLevel(OFLogger::ERROR_LOG_LEVEL);
  const int threads =
      std::clamp(options.threads, 1, std::max(1, static_cast<int>(subjects.size())));
  std::vector<Result<ImageSummary>> results(subjects.size(), Internal("synth: not written"));
  auto run = [&](int t) {
    for (size_t i = static_cast<size_t>(t); i < subjects.size();
         i += static_cast<size_t>(threads)) {
      StudyWriter writer(options, subjects[i]);
      results[i] = writer.Write();
    }
  };
  std::vector<std::thread> workers;
  for (int t = 1; t < threads; ++t) workers.emplace_back(run, t);
  run(0);
  for (auto& w : workers) w.join();
  ImageSummary total;
  for (const Result<ImageSummary>& r : results) {
    if (!r.ok()) return r.status();
    total.studies += r->studies;
    total.files += r->files;
    total.bytes += r->bytes;
  }
  return total;
}

std::vector<int64_t> ChooseImagedIndividuals(int64_t individuals, int64_t count, uint64_t key,
                                             const std::function<bool(int64_t)>& eligible) {
  std::vector<int64_t> chosen;
  if (count <= 0) return chosen;
  // A lazily built random permutation (Fisher-Yates on a sparse map): only the visited
  // prefix costs memory and draws.
  Rng rng(MixKey(key, kChooseStream));
  std::unordered_map<int64_t, int64_t> moved;
  auto at = [&](int64_t i) {
    const auto it = moved.find(i);
    return it == moved.end() ? i : it->second;
  };
  for (int64_t k = 0; k < individuals && static_cast<int64_t>(chosen.size()) < count; ++k) {
    const int64_t j =
        k + static_cast<int64_t>(rng.Uniform() * static_cast<double>(individuals - k));
    const int64_t candidate = at(j);
    moved[j] = at(k);
    if (eligible(candidate)) chosen.push_back(candidate);
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

}  // namespace oncomesh::synth::internal
