// Synthetic cancer cohorts for one site, written as a hospital's FHIR R4 Bulk Data export.
//
// `oncomesh synth` uses this to give every demo and test node realistic, de-identification-worthy
// data: patients with names, addresses and MRNs; mCODE-style primary cancer Conditions (ICD-10,
// ICD-O-3 topography and morphology); stage group, TNM, grade, receptor, PD-L1, MSI, genomic
// variant and vital-status Observations;
// surgery and radiotherapy Procedures; ATC-coded medications; Specimens and ImagingStudies.
// The resource shapes are those of docs/fhir-profile.md, and every code written is listed in
// data/vocab/ so the index can map it. It also writes the genomes of some of the patients as one
// multi-sample GRCh38 VCF whose samples are their Patient.ids, and small DICOM studies (images
// and a segmentation of a lesion) of some of their ImagingStudies. Distributions and their
// sources: docs/synth.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/model.h"
#include "util/status.h"

namespace oncomesh::synth {

struct SynthOptions {
  // Site name: used in resource ids ("{site}-pat-1"), the MRN system and the default profile.
  // 1..32 characters of [A-Za-z0-9.-] (FHIR id characters).
  std::string site;
  int64_t individuals = 0;  // number of patients, 1..100,000,000
  uint64_t seed = 0;
  std::string out_dir;  // created if missing; existing NDJSON files there are replaced
  // Case mix: "general", "comprehensive" or "regional"; empty = derived from the site name.
  std::string profile;
  // Worker threads; 0 = hardware concurrency. Output does not depend on it.
  int threads = 0;
  // Individuals with a genome (the samples of genomes.vcf.gz): -1 = min(individuals, 500),
  // 0 = no VCF, else 1..min(individuals, 100,000).
  int64_t genomes = -1;
  // Background germline sites in genomes.vcf.gz, besides the known cancer variants;
  // 0..50,000,000.
  int64_t genome_sites = 2000;
  // Individuals whose ImagingStudy is also written as DICOM (CT, MR and MG studies only):
  // -1 = 20, 0 = none, else up to 10,000. Fewer are written when fewer have such a study.
  int64_t images = -1;
};

// What WriteSyntheticSite wrote.
struct SynthReport {
  int64_t individuals = 0;
  int64_t genomes = 0;                // samples in genomes.vcf.gz; 0 = no VCF written
  int64_t genome_records = 0;         // its records: background sites + known variants
  int64_t known_variant_records = 0;  // its records of known cancer variants
  std::string genome_path;            // out_dir/genomes.vcf.gz, or "" when not written
  int64_t image_studies = 0;          // DICOM studies written under out_dir/dicom/
  int64_t image_files = 0;            // their files: images and one SEG per study
  int64_t image_bytes = 0;
  std::string image_dir;  // out_dir/dicom, or "" when no study was written
};

// The case-mix profiles WriteSyntheticSite accepts.
const std::vector<std::string>& SynthProfileNames();

// The profile used when SynthOptions::profile is empty: a deterministic function of the site.
std::string DefaultProfileForSite(const std::string& site);

// Writes Patient.ndjson, Condition.ndjson, Observation.ndjson, Procedure.ndjson,
// MedicationStatement.ndjson, MedicationAdministration.ndjson, Specimen.ndjson and
// ImagingStudy.ndjson into options.out_dir (one resource per line, references
// "Patient/{id}" / "Condition/{id}" that resolve within the files).
// Unless options.genomes is 0, also writes genomes.vcf.gz (VCFv4.2, bgzip, GRCh38, FORMAT GT,
// INFO AC/AN/AF) and its tabix index genomes.vcf.gz.tbi: one sample per individual with a genome,
// named by its Patient.id ("{site}-pat-{n}"), carrying exactly the genomic variants its
// Observations name (docs/synth.md "Genomes"). With genomes 0, an earlier genomes.vcf.gz and its
// index in out_dir are removed. The FHIR files do not depend on the genome options.
// Unless options.images is 0, also writes small DICOM studies (images and a SEG of a synthetic
// lesion) for up to `images` individuals with a CT, MR or MG ImagingStudy, one folder
// out_dir/dicom/{StudyInstanceUID}/ per study; the ImagingStudy resources of those individuals
// declare exactly the series, instances and UIDs written (docs/synth.md "Images"). An earlier
// out_dir/dicom is removed first.
// Deterministic: the same options (whatever `threads`) give byte-identical files.
// Fills `report` (when not null) on success. Returns InvalidArgument for bad options, Internal
// when a file cannot be written (files already written are then incomplete). Thread-safe; uses
// up to `threads` threads.
Status WriteSyntheticSite(const SynthOptions& options, SynthReport* report = nullptr);

// The same individuals WriteSyntheticSite writes for `options` (same cases, drawn from the same
// per-individual random streams), delivered as model records instead of FHIR text: for
// benchmarks and tests that need millions of individuals without writing and parsing NDJSON.
// Records are what `oncomesh ingest fhir` maps the written resources to, except that ids are
// the FHIR ids ("{site}-pat-1", "{site}-cond-1", …) rather than pseudonyms and dates are not
// shifted. `out_dir` is ignored; `images` is not (it decides the imaged studies' counts).
// Calls fn once per chunk of up to 8,192 individuals, in individual order, from the calling
// thread; each batch holds the chunk's individuals and all their other records. Deterministic
// whatever `threads` (up to `threads` worker threads generate ahead of delivery).
// Returns InvalidArgument for bad options (as WriteSyntheticSite), else OK after the last call.
Status GenerateRecords(const SynthOptions& options,
                       const std::function<void(const model::RecordBatch&)>& fn);

}  // namespace oncomesh::synth
