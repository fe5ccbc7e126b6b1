// The common data model: plain value types, no I/O.
//
// Records are what every ingest reader produces and what the store keeps. Identifiers are
// always the node's pseudonyms (deid/pseudonym.h), never a source system's identifiers; dates
// are always already shifted (deid/date_shift.h). Codes keep their code system, so the index
// can derive Beacon filtering terms (ICD-10, ICD-O-3, NCIt, ATC, LOINC, SNOMED CT) from them.
// Mappable to Beacon v2 default models, FHIR R4 / mCODE and OMOP CDM 5.4.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "model/date.h"

namespace oncomesh::model {

// Code system URIs as FHIR spells them; the store keeps these exact strings.
namespace system {
inline constexpr const char* kIcd10 = "http://hl7.org/fhir/sid/icd-10";
inline constexpr const char* kIcd10Cm = "http://hl7.org/fhir/sid/icd-10-cm";
inline constexpr const char* kIcdO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3";
inline constexpr const char* kSnomed = "http://snomed.info/sct";
inline constexpr const char* kLoinc = "http://loinc.org";
inline constexpr const char* kNcit = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl";
inline constexpr const char* kAtc = "http://www.whocc.no/atc";
inline constexpr const char* kDicomDcm = "http://dicom.nema.org/resources/ontology/DCM";
inline constexpr const char* kAjcc = "http://cancerstaging.org";
}  // namespace system

struct Coding {
  std::string system;  // a URI from `system` above, or whatever the source used
  std::string code;
  std::string display;  // may be empty

  bool empty() const { return code.empty(); }
  friend bool operator==(const Coding&, const Coding&) = default;
};

enum class Sex : uint8_t { kUnknown = 0, kFemale = 1, kMale = 2, kOther = 3 };
enum class VitalStatus : uint8_t { kUnknown = 0, kAlive = 1, kDeceased = 2 };

const char* SexName(Sex sex);                // "female", "male", "other", "unknown"
const char* VitalStatusName(VitalStatus v);  // "alive", "deceased", "unknown"

// A person (Beacon v2 `individuals`; FHIR Patient; OMOP person).
struct Individual {
  std::string id;  // pseudonym
  Sex sex = Sex::kUnknown;
  Date birth_date = kNoDate;
  VitalStatus vital_status = VitalStatus::kUnknown;
  Date death_date = kNoDate;
  Date last_contact_date = kNoDate;  // last follow-up; kNoDate when unknown
  // The node's dataset (node.yaml datasets[].id) the individual was ingested into, and with it
  // everything recorded of them: diagnoses, samples, genotypes, images. "" is the node's first
  // dataset (stores from before datasets partitioned individuals).
  std::string dataset;
};

// A cancer diagnosis (FHIR Condition / mCODE PrimaryCancerCondition and
// SecondaryCancerCondition; OMOP condition_occurrence + episode).
struct Diagnosis {
  std::string id;             // pseudonym of the source resource
  std::string individual_id;  // pseudonym
  Coding code;                // usually ICD-10 (e.g. C50.9), or SNOMED CT
  std::string topography;     // ICD-O-3 topography, e.g. "C50.4"; empty when unknown
  std::string morphology;  // ICD-O-3 morphology with behaviour, e.g. "8500/3"; empty when unknown
  bool primary = true;     // false for metastatic (secondary) sites
  Date onset_date = kNoDate;  // date of diagnosis
  std::string stage_group;    // AJCC stage group, e.g. "IIIA"; empty when not staged
  std::string t_category;     // "T2", "N1", "M0"…; empty when unknown
  std::string n_category;
  std::string m_category;
  std::string grade;                // "G1".."G4", "GX"; empty when unknown
  Date progression_date = kNoDate;  // first recorded progression or recurrence
};

// A measurement or finding (FHIR Observation: tumour markers, genomic findings, stage
// observations that could not be attached to a diagnosis, ECOG…).
struct Observation {
  std::string id;
  std::string individual_id;
  std::string focus_id;       // diagnosis the observation is about; may be empty
  Coding code;                // what was observed, e.g. LOINC 48676-1 (HER2)
  Coding value_code;          // coded result, e.g. SNOMED 10828004 (positive); may be empty
  double value_number = NAN;  // numeric result when there is one
  std::string value_unit;
  Date effective_date = kNoDate;
  // Genomic findings (mCODE GenomicVariant components): LOINC 48018-6 gene studied (HGNC),
  // 48005-3 amino acid change (HGVS p., e.g. "p.Leu858Arg"), 48004-6 DNA change (HGVS c.).
  // Empty for other observations.
  Coding gene_studied;
  std::string amino_acid_change;
  std::string dna_change;
};

enum class TreatmentKind : uint8_t {
  kSurgery = 1,
  kRadiotherapy = 2,
  kMedication = 3,  // systemic therapy: chemo-, hormone, targeted and immunotherapy
  kOther = 4,
};
const char* TreatmentKindName(TreatmentKind kind);

// A treatment (FHIR Procedure, MedicationStatement/Administration/Request; OMOP
// procedure_occurrence / drug_exposure).
struct Treatment {
  std::string id;
  std::string individual_id;
  TreatmentKind kind = TreatmentKind::kOther;
  Coding code;  // ATC for medications (L01FD01 trastuzumab), SNOMED CT for procedures
  Date start_date = kNoDate;
  Date end_date = kNoDate;
};

// A specimen (Beacon v2 `biosamples`; FHIR Specimen).
struct Biosample {
  std::string id;
  std::string individual_id;
  Coding type;       // e.g. SNOMED 119376003 tissue specimen
  Coding body_site;  // e.g. ICD-O-3 topography or SNOMED body structure
  bool tumour = false;
  Date collection_date = kNoDate;
};

// An imaging study as the clinical record knows it (FHIR ImagingStudy). Full DICOM metadata
// arrives with the imaging ingest.
struct ImagingStudy {
  std::string id;
  std::string individual_id;
  std::string modality;  // DICOM modality code: CT, MR, MG, PT, US…
  Coding body_site;
  Date started = kNoDate;
  int number_of_series = 0;
  int number_of_instances = 0;
};

// A medical record number (FHIR Patient.identifier of type MR) of an individual, by which the
// images a PACS sends (DICOM Patient ID) link to the clinical record. `key` is the keyed
// pseudonym of the number (deid::Pseudonymizer::PatientIdentifierKey), never the number itself;
// `date_shift_days` is the individual's offset, which their images' dates get too.
struct PatientLink {
  std::string key;
  std::string individual_id;
  int date_shift_days = 0;
};

// A DICOM instance the node stores (ingest/dicom/), de-identified: every UID is the node's
// pseudonymous one, dates are shifted. The file itself is content-addressed beside the store.
struct DicomInstance {
  std::string id;             // SOP Instance UID (de-identified)
  std::string individual_id;  // the patient's pseudonym: links the image to the clinical record
  std::string study_uid;
  std::string series_uid;
  std::string sop_class_uid;
  std::string modality;   // CT, MR, MG, PT, US, SEG, RTSTRUCT, SR…
  std::string body_part;  // Body Part Examined as sent, upper case ("CHEST"); may be empty
  std::string manufacturer;
  double slice_thickness = NAN;  // mm; NaN when absent
  Date study_date = kNoDate;
  int series_number = 0;
  int instance_number = 0;
  std::string transfer_syntax;  // UID
  std::string path;             // relative to the node directory: "dicom/ab/<sha256>.dcm"
  std::string content_sha256;   // of the stored (de-identified) file
  // Of its attributes but the pixel data, written in explicit VR little endian: the same for
  // the same instance in another transfer syntax.
  std::string attributes_sha256;
  int64_t bytes = 0;
};

// A DICOM series as the store summarises its instances (what the index and QIDO-RS need).
struct DicomSeries {
  std::string series_uid;
  std::string study_uid;
  std::string individual_id;
  std::string modality;
  std::string body_part;
  std::string manufacturer;
  double slice_thickness = NAN;
  Date study_date = kNoDate;
  int64_t instances = 0;
};

// A DICOM file the node did not store, kept aside with the reason (PS3.15 could not make it
// safe, it is not DICOM, a mandatory UID is missing…). The file is not de-identified: it stays
// under the node's quarantine/ folder, readable only by the node's operators.
struct QuarantinedDicom {
  std::string id;      // sha256 of the file as received
  std::string source;  // where it came from: a path, or "C-STORE from AE@host"
  std::string reason;
  std::string path;  // relative to the node directory: "quarantine/<sha256>.dcm"
};

// A genomic variant as the node keeps it: one ALT allele of a VCF record, normalised
// (multi-allelic records split, REF/ALT trimmed of shared bases and left-aligned as far as
// the record allows), on one assembly. Identified by its normalised coordinates, so the same
// variant from two files is one record.
struct Variant {
  std::string id;            // VariantId(): "GRCh38:17:43045712:G:A"
  std::string assembly;      // "GRCh37" or "GRCh38"
  std::string chrom;         // without "chr": "1".."22", "X", "Y", "MT"; others as in the file
  int64_t position = 0;      // 1-based, VCF convention
  std::string ref;           // upper case; never empty
  std::string alt;           // upper case; a symbolic allele ("<DEL>") kept as it is
  int64_t end = 0;           // last reference base covered, 1-based inclusive
  std::string variant_type;  // "SNP", "MNP", "INS", "DEL", "INDEL" or the symbolic type ("DUP"…)
  std::string gene;          // HGNC symbol when the position falls in a known gene; may be empty
};

// The stable id of a normalised variant.
std::string VariantId(const std::string& assembly, const std::string& chrom, int64_t position,
                      const std::string& ref, const std::string& alt);

enum class Zygosity : uint8_t { kHeterozygous = 1, kHomozygous = 2, kHemizygous = 3 };
enum class VariantOrigin : uint8_t { kGermline = 1, kSomatic = 2 };

// One sample carrying one variant (a VCF genotype with at least one copy of the ALT allele),
// as the index and tests see it; the store keeps calls as VariantBlock carriers.
struct VariantCall {
  std::string variant_id;     // Variant::id
  std::string individual_id;  // pseudonym of the individual the sample belongs to
  std::string biosample_id;   // pseudonym of the sample (VCF sample column)
  Zygosity zygosity = Zygosity::kHeterozygous;
  VariantOrigin origin = VariantOrigin::kGermline;
};

// A sample column of an ingested variant file whose individual is in the store.
struct VariantSample {
  std::string file_id;        // VariantFile::id
  uint32_t column = 0;        // 0-based sample column of the file
  std::string individual_id;  // pseudonym, as Individual::id
  std::string biosample_id;   // pseudonym of the sample (the copy's column name)
};

// One sample column carrying one variant.
struct VariantCarrier {
  uint32_t column = 0;
  Zygosity zygosity = Zygosity::kHeterozygous;
  VariantOrigin origin = VariantOrigin::kGermline;
};

// A run of variants of one file, encoded (model/variant_block.h).
struct VariantBlock {
  std::string file_id;  // VariantFile::id
  uint32_t variants = 0;
  std::string data;  // VariantBlockEncoder::Take()
};

// A variant file the node keeps a copy of (bgzipped VCF or BCF with its index), for htsget.
struct VariantFile {
  std::string id;        // htsget id: [A-Za-z0-9._-]+, unique in the node
  std::string path;      // relative to the node directory, e.g. "variants/<sha256>.vcf.gz"
  std::string format;    // "VCF" (bgzipped) or "BCF", as htsget names them
  std::string assembly;  // "GRCh37" or "GRCh38"
  std::string content_sha256;
  int64_t samples = 0;
  int64_t records = 0;  // VCF records (before splitting)
  // Read only: the datasets of the individuals of its samples, and how many samples link to no
  // known individual (their dataset is unknown).
  // Serving the file discloses genotypes of each.
  std::vector<std::string> datasets;
  int64_t unlinked_samples = 0;
};

// Everything one input file yields: the unit an ingest commits whole or not at all.
struct RecordBatch {
  std::vector<Individual> individuals;
  std::vector<Diagnosis> diagnoses;
  std::vector<Observation> observations;
  std::vector<Treatment> treatments;
  std::vector<Biosample> biosamples;
  std::vector<ImagingStudy> imaging_studies;
  std::vector<VariantFile> variant_files;
  std::vector<VariantSample> variant_samples;
  std::vector<VariantBlock> variant_blocks;
  std::vector<DicomInstance> dicom_instances;
  std::vector<QuarantinedDicom> quarantined_dicom;
  std::vector<PatientLink> patient_links;

  size_t size() const {
    return individuals.size() + diagnoses.size() + observations.size() + treatments.size() +
           biosamples.size() + imaging_studies.size() + variant_files.size() +
           variant_samples.size() + variant_blocks.size() + dicom_instances.size() +
           quarantined_dicom.size() + patient_links.size();
  }
};

}  // namespace oncomesh::model
