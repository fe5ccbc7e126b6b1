// What every ingest reader reports, per input file and in total, and how it reports progress.
// Shared by the FHIR and VCF ingests (ingest/fhir/, ingest/vcf/) and printed by `oncomesh
// ingest` (cli/ingest_cmd.cc).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "util/status.h"

namespace oncomesh::ingest {

struct FileOutcome {
  std::string path;
  Status status;          // OK, or why the file was refused (file:line: reason)
  int64_t resources = 0;  // resources (FHIR) or records (VCF) read from the file
  int64_t records_added = 0;
  int64_t records_skipped = 0;    // already present
  bool already_ingested = false;  // same content ingested before
  // The id the node serves the file under (VCF/BCF: its htsget id, a keyed digest of the
  // content); empty for other formats.
  std::string served_as;
};

struct IngestReport {
  std::vector<FileOutcome> files;
  // "ResourceType" -> count, for resource types the model has no place for (FHIR).
  std::map<std::string, int64_t> unknown_resource_types;
  // "Resource.element system|code" (or "Resource.element system") -> count, for codings that
  // could not be mapped to the model (e.g. a Condition coded only in a system we do not read).
  // The record is still stored, with the first coding as it came (FHIR).
  std::map<std::string, int64_t> unmapped_codings;
  // Conditions not stored (FHIR): "not a cancer: SYSTEM|CODE DISPLAY" (an ICD-10 code outside
  // the cancers, a SNOMED CT code that maps to one, an ICD-O-3 benign behaviour) and
  // "unmapped, no ICD-10 map for this SNOMED CT code: SYSTEM|CODE DISPLAY" -> count. Which
  // Conditions are cancers: model/neoplasm.h, docs/fhir-profile.md.
  std::map<std::string, int64_t> conditions_left_out;
  // Subject reference as written (FHIR "Patient/abc"; VCF "FILE: sample S (patient P)") ->
  // number of records left out because that individual is neither in the store nor in their
  // file (empty with strict references, which refuse such files instead).
  std::map<std::string, int64_t> skipped_unresolved_subjects;
  // "Patient/ID" -> number of its medical record numbers (Patient.identifier of type MR) not
  // linked, each being already another individual's: images sent under it link to the first.
  std::map<std::string, int64_t> medical_record_numbers_taken;

  int64_t FilesFailed() const;
  int64_t RecordsAdded() const;
};

// Called now and then during a long ingest (at most about 4 times a second, and once when a
// file ends), on the calling thread: bytes done and total of the current file, and resources
// (records) read from it so far.
using ProgressFn =
    std::function<void(const std::string& path, uint64_t done, uint64_t total, int64_t resources)>;

}  // namespace oncomesh::ingest
