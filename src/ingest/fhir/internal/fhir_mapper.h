// FHIR R4 resource -> model records, with de-identification on the way (docs/fhir-profile.md).
// Internal to ingest/fhir.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "deid/pseudonym.h"
#include "ingest/fhir/internal/json_view.h"
#include "model/model.h"
#include "util/status.h"

namespace oncomesh::ingest::fhir_internal {

// Which vector of a RecordBatch a record is in.
enum class RecordKind : uint8_t {
  kDiagnosis,
  kObservation,
  kTreatment,
  kBiosample,
  kImagingStudy,
};

// 64 bits of an individual's pseudonym (its first 16 hex digits). The pseudonym is an HMAC, so
// these bits are uniformly distributed: the chance that any two of 2 million individuals share
// a key is about 1e-7, small enough for the in-memory "is this subject known" set.
uint64_t IndividualKey(std::string_view pseudonym);

// A record whose subject must be an individual in the store or in the same file.
struct SubjectRef {
  uint64_t key = 0;  // IndividualKey of the record's individual_id
  RecordKind kind{};
  uint32_t index = 0;     // index of the record in its vector of the chunk
  std::string where;      // "file:12" or "file: entry 7", for messages
  std::string resource;   // "Condition/abc" (source type/id), for messages
  std::string reference;  // the subject reference as written, for messages
};

// What a run of resources yields, in order.
struct MappedChunk {
  model::RecordBatch records;
  std::vector<SubjectRef> subjects;       // one per non-Individual record
  std::vector<uint64_t> individual_keys;  // one per Individual record
  // "Patient/ID" as written, one per records.patient_links entry (for the ingest report).
  std::vector<std::string> patient_link_refs;
  std::map<std::string, int64_t> unknown_resource_types;
  std::map<std::string, int64_t> unmapped_codings;
  // Conditions not stored, not being cancers or coded in SNOMED CT without an ICD-10 map:
  // IngestReport::conditions_left_out.
  std::map<std::string, int64_t> conditions_left_out;
  int64_t resources = 0;
  Status status;         // the first error; records are then incomplete and must not be stored
  int64_t problems = 0;  // problems described by `status` (a resource can have several)

  void Clear();
};

// Resolves `urn:uuid:` / `urn:oid:` references of a Bundle through its entries' fullUrl.
struct UrnTarget {
  std::string type;
  std::string id;
};
using UrnMap = std::unordered_map<std::string, UrnTarget>;

// Maps resources to records. One per thread (keeps a small cache of per-individual keys).
class ResourceMapper {
 public:
  // `urns` may be null (NDJSON); it must outlive the mapper.
  ResourceMapper(const deid::Pseudonymizer& pseudonymizer, const UrnMap* urns)
      : pseudonymizer_(pseudonymizer), urns_(urns) {}

  // Checks and maps one resource, appending to `out`. `where` names the place in the input
  // ("file:12", "file: entry 7"); `fallback_id` is used when the resource has no id (a bundle
  // entry's fullUrl). On error sets out.status (message "where: Type/id: reason") and returns
  // false.
  bool Map(JsonView resource, const std::string& where, std::string_view fallback_id,
           MappedChunk& out);

 private:
  struct IndividualIds {
    std::string pseudonym;
    int shift_days = 0;
  };
  const IndividualIds& Individual(const std::string& source_id);
  // Pseudonym of a referenced resource (e.g. an Observation's focus Condition), cached: the
  // resources of one individual usually follow each other and refer to the same few.
  std::string ReferencedPseudonym(std::string_view type, std::string_view id);

  const deid::Pseudonymizer& pseudonymizer_;
  const UrnMap* urns_;
  std::unordered_map<std::string, IndividualIds> cache_;
  std::unordered_map<std::string, std::string> referenced_;
};

}  // namespace oncomesh::ingest::fhir_internal
