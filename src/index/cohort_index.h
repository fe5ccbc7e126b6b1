// The cohort index: derived from the store, answers "how many individuals match" in
// microseconds. Individuals get dense rows 0..N-1 in store order; every filterable attribute
// value (a CURIE such as ICD10:C50.9, NCIT:C16576, ATC:L01FD01) has a posting of rows, both for
// the term itself and including every descendant term of the vocabulary's hierarchy; age at
// diagnosis and date of diagnosis are range attributes.
//
// Built whole by Build(); immutable afterwards, so any number of threads may read it. The node
// rebuilds a new one when the store changes and swaps it in (api/node_service.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "index/plan.h"
#include "index/posting.h"
#include "index/range_attribute.h"
#include "index/variant_index.h"
#include "index/vocabulary.h"
#include "store/store.h"

namespace oncomesh::index {

// What kind of filter a term is used with (Beacon v2 filtering terms: "ontologyTerm",
// "alphanumeric", "custom").
enum class TermType : uint8_t { kOntology, kAlphanumeric, kCustom };

// Custom filters (Beacon v2 "custom" filtering terms) for facts no ontology term names.
inline constexpr const char* kProgressedTerm = "progressed";
// Imaging (ingest/dicom/): a custom term per DICOM Manufacturer ("manufacturer:SIEMENS"), and
// a range attribute: the thinnest slice of any of an individual's series, in micrometres
// (the Beacon filter "sliceThickness" takes millimetres).
inline constexpr const char* kManufacturerTermPrefix = "manufacturer:";
inline constexpr const char* kSliceThicknessAttribute = "sliceThickness";
// Primary cancers of two sites (ICD-10 categories, else ICD-O-3 topography categories): one
// cancer recorded twice is one primary.
inline constexpr const char* kMultiplePrimariesTerm = "multiplePrimaryCancers";
inline constexpr const char* kPdl1PositiveTerm = "PD-L1:positive";
inline constexpr const char* kPdl1NegativeTerm = "PD-L1:negative";
// Genomic findings also become custom terms "GENE:p.Change" (e.g. "KRAS:p.Gly12Cys").

// Age values of the "ageAtDiagnosis" attribute: whole years * kAgeYearSlot + days since the
// last birthday (0..365).
inline constexpr int32_t kAgeYearSlot = 366;

struct TermInfo {
  std::string id;
  std::string label;
  TermType type = TermType::kOntology;
  uint64_t count = 0;  // individuals with the term or a descendant (exact; never leaves the node)
};

struct IndexStats {
  uint32_t individuals = 0;
  uint64_t biosamples = 0;
  uint64_t records = 0;
  uint64_t skipped_records = 0;  // records whose individual is unknown
  size_t memory_bytes = 0;       // all of the below
  size_t exact_bytes = 0;        // postings of the terms themselves
  size_t descendant_bytes = 0;   // descendant-inclusive postings
  size_t attribute_bytes = 0;    // range attributes (age, date of diagnosis)
  size_t variant_bytes = 0;      // variants and their carriers
  uint64_t variants = 0;
  uint64_t dicom_series = 0;  // of known individuals
  uint64_t dicom_instances = 0;
  size_t terms = 0;    // terms with a posting
  store::Seq seq = 0;  // last store sequence number included
};

class CohortIndex {
 public:
  // Reads every record of `store` and builds the index. Vocabulary must outlive the index.
  // Individuals stored without a dataset count under `default_dataset` (the node's first).
  static Result<std::unique_ptr<CohortIndex>> Build(store::Store& store, const Vocabulary& vocab,
                                                    const std::string& default_dataset = "");

  uint32_t num_rows() const { return static_cast<uint32_t>(individual_ids_.size()); }
  const IndexStats& stats() const { return stats_; }
  const Vocabulary& vocabulary() const { return *vocab_; }

  // The posting of a term: with `descendants`, individuals with the term or any descendant.
  // nullptr when no individual has it.
  const Posting* Find(const std::string& curie, bool descendants) const;
  // True for custom terms the index knows even when no individual has them.
  bool IsKnownCustomTerm(const std::string& id) const { return custom_types_.count(id) > 0; }

  // Range attributes by name: "ageAtDiagnosis" (value: age at the first primary diagnosis
  // as whole years * kAgeYearSlot + days; bucket: whole years), "dateOfDiagnosis" (value: days
  // since 1970-01-01, shifted; bucket: calendar year).
  const RangeAttribute* FindAttribute(const std::string& name) const;

  // Every term present (with its ancestors), with labels and exact counts.
  std::vector<TermInfo> Terms() const;

  // Number of rows matching; number of biosamples of the matching rows.
  uint64_t Count(const Plan& plan) const;
  uint64_t CountBiosamples(const Plan& plan) const;

  // The `n` largest postings: (term, "exact" or "descendants", bytes), largest first.
  struct PostingSize {
    std::string term;
    bool descendants;
    size_t bytes;
    uint64_t rows;
  };
  std::vector<PostingSize> LargestPostings(size_t n) const;

  // Variants the individuals carry, with carrier postings over the same rows.
  const VariantIndex& variants() const { return variants_; }

  // The rows of a dataset's individuals (model::Individual::dataset); nullptr when it has none.
  const Posting* DatasetRows(const std::string& dataset) const;

  // Pseudonymous id of a row.
  const std::string& IndividualId(uint32_t row) const { return individual_ids_[row]; }

 private:
  friend class IndexBuilder;
  CohortIndex() = default;

  const Vocabulary* vocab_ = nullptr;
  std::vector<std::string> individual_ids_;
  std::unordered_map<std::string, Posting> exact_;  // term -> rows with exactly the term
  // term -> rows with it or a descendant, only for terms some other present term descends
  // from; for the others exact_ serves both.
  std::unordered_map<std::string, Posting> descendants_;
  // "e:TERM" / "d:TERM" -> an identical posting kept under another term.
  std::unordered_map<std::string, const Posting*> shared_;
  void ShareIdenticalPostings();
  std::unordered_map<std::string, TermType> custom_types_;
  std::unordered_map<std::string, std::string> custom_labels_;
  std::map<std::string, std::unique_ptr<RangeAttribute>> attributes_;
  std::vector<uint16_t> biosamples_per_row_;
  std::map<std::string, Posting> datasets_;  // dataset id -> its individuals' rows
  VariantIndex variants_;
  IndexStats stats_;
};

// Builds a CohortIndex from records of any source: the store (CohortIndex::Build), or a
// benchmark's generator. Individuals must be added before their other records; records of
// unknown individuals are counted in stats().skipped_records and otherwise ignored.
// Not thread-safe; one builder makes one index.
class IndexBuilder {
 public:
  explicit IndexBuilder(const Vocabulary& vocab);
  ~IndexBuilder();
  // The dataset of individuals added without one (before any AddIndividual).
  void SetDefaultDataset(const std::string& id);
  void AddIndividual(const model::Individual& r);
  void AddDiagnosis(const model::Diagnosis& r);
  void AddObservation(const model::Observation& r);
  void AddTreatment(const model::Treatment& r);
  void AddBiosample(const model::Biosample& r);
  void AddImagingStudy(const model::ImagingStudy& r);
  // A DICOM series: its modality and body part examined as terms (index/imaging_terms.h).
  void AddDicomSeries(const model::DicomSeries& r);
  // Variants before the calls that refer to them.
  void AddVariant(const model::Variant& r);
  void AddVariantCall(const model::VariantCall& r);
  // A variant file's sample columns before its blocks. A block that does not decode is
  // DataLoss (naming the file) and adds nothing.
  void AddVariantSample(const model::VariantSample& r);
  Status AddVariantBlock(const model::VariantBlock& r);
  // Every record of a batch, individuals first.
  Status AddBatch(const model::RecordBatch& batch);
  // The finished index; `seq` is the store sequence number it reflects. Call once.
  std::unique_ptr<CohortIndex> Finish(store::Seq seq = 0);

 private:
  struct State;
  const Vocabulary& vocab_;
  std::unique_ptr<CohortIndex> index_;
  std::unique_ptr<State> state_;
};

}  // namespace oncomesh::index
