// Internal: synthetic DICOM studies for `oncomesh synth` — a small CT, MR or mammography study
// per chosen individual (a synthetic body with a brighter lesion) and a binary DICOM
// Segmentation (SEG) of the lesion, consistent with the individual's FHIR Patient and
// ImagingStudy. Sizes, headers and the body-part mapping: docs/synth.md ("Images").
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "model/date.h"
#include "util/status.h"

namespace oncomesh::synth::internal {

// The instances of one written study: series 1 holds the images, series 2 one SEG instance.
// The ImagingStudy resource of an imaged individual is written from the same plan, so the two
// agree on every UID and count.
struct ImagingPlan {
  std::string modality;                          // of series 1: "CT", "MR" or "MG"
  std::string sop_class_uid;                     // of series 1's instances
  std::string study_instance_uid;                // "2.25.{n}": the ImagingStudy identifier's OID
  std::string image_series_uid;                  // series 1: the ImagingStudy's first series uid
  std::string segmentation_series_uid;           // series 2
  std::vector<std::string> image_instance_uids;  // series 1, by InstanceNumber 1..
  std::string segmentation_instance_uid;
  std::string frame_of_reference_uid;  // CT and MR; "" for MG (projection images have none)
  int series() const { return 2; }
  int instances() const { return static_cast<int>(image_instance_uids.size()) + 1; }
};

// SOP Class UID of a DICOM Segmentation (PS3.4 B.5).
inline constexpr const char* kSegmentationStorage = "1.2.840.10008.5.1.4.1.1.66.4";

// True for the modalities the writer makes images of: CT, MR and MG.
bool CanWriteImages(std::string_view modality);

// The plan of the study an ImagingStudy with this modality, study UID 2.25.{study_uid} and
// first series UID 2.25.{series_uid} gets. Only for CanWriteImages(modality). Other UIDs are
// derived from these two, so the plan is a pure function of its arguments.
ImagingPlan PlanImagingStudy(std::string_view modality, uint64_t study_uid, uint64_t series_uid);

// DICOM Body Part Examined (PS3.16 Annex L defined terms) for an ICD-O-3 topography code
// ("C50.4" -> "BREAST"); "" when not mapped.
std::string BodyPartExamined(std::string_view topography);

// What the DICOM writer needs of one individual: taken from the same simulated case and the
// same draws as its Patient and ImagingStudy resources.
struct ImagingSubject {
  int64_t number = 0;      // n of "{site}-pat-{n}"
  std::string patient_id;  // the FHIR Patient.id
  std::string mrn;         // Patient.identifier (MR) value
  std::string mrn_system;  // and its system
  std::string family_name;
  std::string given_name;
  bool female = false;
  model::Date birth_date = 0;
  std::string address;  // "12 Main Street, Lyon 69001, FR"
  std::string phone;
  std::string topography;   // ICD-O-3 topography of the ImagingStudy's bodySite
  model::Date started = 0;  // ImagingStudy.started: the study date
  ImagingPlan plan;
};

struct ImageOptions {
  std::string site;
  std::string dir;                  // the studies' parent: one folder per StudyInstanceUID
  std::string institution_address;  // of the site's hospital
  uint64_t key = 0;                 // image stream key (independent of every FHIR stream)
  int threads = 1;                  // studies written at once; output does not depend on it
};

struct ImageSummary {
  int64_t studies = 0;
  int64_t files = 0;  // images and SEGs
  int64_t bytes = 0;
};

// Writes one folder options.dir/{StudyInstanceUID}/ per subject: {modality}-0001.dcm … for the
// images, SEG-0001.dcm for the segmentation (Explicit VR Little Endian). Deterministic for
// (options except threads, subjects). Returns Internal when DCMTK refuses a value or a file
// cannot be written.
Result<ImageSummary> WriteImagingStudies(const ImageOptions& options,
                                         const std::vector<ImagingSubject>& subjects);

// Up to `count` individuals (0-based indices, sorted) for which `eligible` holds: individuals
// are visited in a random order drawn from `key`'s own stream, and the first `count` eligible
// ones are taken (all eligible ones when there are fewer). Calls `eligible` once per visited
// individual, from the calling thread.
std::vector<int64_t> ChooseImagedIndividuals(int64_t individuals, int64_t count, uint64_t key,
                                             const std::function<bool(int64_t)>& eligible);

}  // namespace oncomesh::synth::internal
