// Filtering terms of DICOM series (ingest/dicom/): the modality, as "DCM:CT" (the term the
// FHIR ImagingStudy of the same study gives), and the body part examined as the SNOMED CT
// anatomic region DICOM PS3.16 Annex L maps the defined term to ("BREAST" -> SNOMED:76752008),
// from data/dicom/body_parts.tsv (compiled in).
#pragma once

#include <string>
#include <string_view>

namespace oncomesh::index {

struct BodyPartTerm {
  std::string curie;  // "SNOMED:76752008"
  std::string label;  // "Breast"
};

// The term for a Body Part Examined value (case-insensitive, as sent); null when the table has
// none (the value is then not a filtering term).
const BodyPartTerm* FindBodyPartTerm(std::string_view body_part_examined);

// The label of a DICOM modality code ("CT" -> "Computed Tomography"), or null.
const char* ModalityLabel(std::string_view modality);

}  // namespace oncomesh::index
