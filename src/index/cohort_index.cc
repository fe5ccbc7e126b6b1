#include "index/cohort_index.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_set>

#include "index/evaluate.h"
#include "index/imaging_terms.h"
#include "model/neoplasm.h"
#include "model/variant_block.h"

namespace oncomesh::index {
namespace {

// Age values: whole years * kAgeYearSlot + days since the last birthday, so that the bucket
// (value / kAgeYearSlot) is the exact age in whole years, values still order by true age, and
// they fit 16 bits.
int32_t AgeValue(model::Date birth, model::Date on) {
  const model::Civil b = model::CivilFromDays(birth);
  const model::Civil o = model::CivilFromDays(on);
  int years = o.year - b.year;
  if (o.month < b.month || (o.month == b.month && o.day < b.day)) --years;
  if (years < 0 || years > 150) return RangeAttribute::kNoValue;
  // The last birthday: same month and day, `years` years on (29 February -> 1 March).
  const int year = b.year + years;
  unsigned month = b.month, day = b.day;
  if (month == 2 && day == 29 && !((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) {
    month = 3;
    day = 1;
  }
  const int days = on - model::DateFromCivil(year, month, day);
  return years * kAgeYearSlot + std::clamp(days, 0, kAgeYearSlot - 1);
}

// A non-zero key of a primary cancer's site: its ICD-10 category ("C34"), else its ICD-O-3
// topography category, else its code.
uint32_t PrimarySiteKey(const std::string& icd10, const model::Diagnosis& r) {
  std::string_view site = icd10;
  if (site.empty()) site = r.topography;
  if (!site.empty()) {
    site = site.substr(0, 3);
  } else {
    site = r.code.code;
  }
  if (site.size() <= 3) {  // exact: the characters themselves, with the top bit set
    uint32_t key = 0x80000000u;
    for (char c : site) key = (key << 8 | static_cast<unsigned char>(c)) | 0x80000000u;
    return key;
  }
  const uint32_t h = static_cast<uint32_t>(std::hash<std::string_view>()(site)) & 0x7fffffffu;
  return h == 0 ? 1 : h;
}

}  // namespace

struct IndexBuilder::State {
  // Individual id -> row: open addressing over the ids themselves (a node-based map of strings
  // was 14% of a build's time in cache misses).
  std::vector<uint32_t> slots;  // row + 1, 0 = empty
  const std::vector<std::string>* ids = nullptr;

  static size_t Hash(std::string_view id) { return std::hash<std::string_view>()(id); }
  uint32_t* Slot(std::string_view id) {
    const size_t mask = slots.size() - 1;
    for (size_t i = Hash(id) & mask;; i = (i + 1) & mask) {
      if (slots[i] == 0 || (*ids)[slots[i] - 1] == id) return &slots[i];
    }
  }
  // Inserts; false if the id is already there.
  bool Insert(std::string_view id, uint32_t row) {
    if ((size_t{row} + 1) * 2 >= slots.size()) {
      std::vector<uint32_t> old = std::move(slots);
      slots.assign(std::max<size_t>(1024, old.size() * 2), 0);
      for (uint32_t v : old) {
        if (v) *Slot((*ids)[v - 1]) = v;
      }
    }
    uint32_t* slot = Slot(id);
    if (*slot) return false;
    *slot = row + 1;
    return true;
  }
  std::vector<model::Date> birth;
  std::vector<model::Date> first_diagnosis;
  // Per row, the thinnest slice of the individual's DICOM series, in micrometres (0: none).
  std::vector<int32_t> thinnest_slice_um;
  // Per row: a key of the site of the first primary cancer (0: none yet), and whether one of
  // another site was seen.
  std::vector<uint32_t> primary_site;
  std::vector<bool> multiple_primaries;
  std::unordered_map<std::string, std::vector<uint32_t>> rows_by_term;
  std::map<std::string, std::vector<uint32_t>> rows_by_dataset;  // rising rows
  std::string default_dataset;  // for individuals stored without one
  uint64_t records = 0;
  uint64_t skipped = 0;
  std::unordered_map<std::string, std::string> custom_labels;    // generated custom terms
  std::unordered_map<std::string, std::string> ontology_labels;  // terms not in the vocabulary
  // Per variant file, per sample column: the carrier's row and biosample handle.
  struct SampleColumn {
    bool linked = false;
    uint32_t row = 0;
    uint32_t biosample = 0;
  };
  std::unordered_map<std::string, std::vector<SampleColumn>> sample_columns;

  void Add(const std::string& term, uint32_t row) { rows_by_term[term].push_back(row); }
  bool RowFor(const std::string& individual_id, uint32_t* row) {
    ++records;
    const uint32_t v = slots.empty() ? 0 : *Slot(individual_id);
    if (v == 0) {
      ++skipped;
      return false;
    }
    *row = v - 1;
    return true;
  }
};

IndexBuilder::IndexBuilder(const Vocabulary& vocab)
    : vocab_(vocab), index_(new CohortIndex()), state_(std::make_unique<State>()) {
  index_->vocab_ = &vocab;
  for (const char* custom :
       {kProgressedTerm, kMultiplePrimariesTerm, kPdl1PositiveTerm, kPdl1NegativeTerm}) {
    index_->custom_types_[custom] = TermType::kCustom;
  }
}

IndexBuilder::~IndexBuilder() = default;

void IndexBuilder::SetDefaultDataset(const std::string& id) { state_->default_dataset = id; }

void IndexBuilder::AddIndividual(const model::Individual& r) {
  State& st = *state_;
  const uint32_t row = static_cast<uint32_t>(index_->individual_ids_.size());
  st.ids = &index_->individual_ids_;
  index_->individual_ids_.push_back(r.id);
  if (!st.Insert(r.id, row)) {
    index_->individual_ids_.pop_back();
    return;
  }
  ++st.records;
  st.rows_by_dataset[r.dataset.empty() ? st.default_dataset : r.dataset].push_back(row);
  st.birth.push_back(r.birth_date);
  st.first_diagnosis.push_back(model::kNoDate);
  st.thinnest_slice_um.push_back(0);
  st.primary_site.push_back(0);
  st.multiple_primaries.push_back(false);
  if (r.sex == model::Sex::kFemale) st.Add("NCIT:C16576", row);
  if (r.sex == model::Sex::kMale) st.Add("NCIT:C20197", row);
  // The same NCIt term the vital-status Observation (LOINC 75186-7) maps to.
  if (r.vital_status == model::VitalStatus::kDeceased || r.death_date != model::kNoDate) {
    st.Add("NCIT:C28554", row);
  }
}

void IndexBuilder::AddDiagnosis(const model::Diagnosis& r) {
  State& st = *state_;
  uint32_t row;
  if (!st.RowFor(r.individual_id, &row)) return;
  const std::string code = DiagnosisCurie(r.code);
  if (!code.empty()) st.Add(code, row);
  if (!r.topography.empty()) st.Add("ICDO3:" + r.topography, row);
  if (!r.morphology.empty()) st.Add("ICDO3:" + r.morphology, row);
  // A SNOMED CT code counts under its ICD-10 map too (data/vocab/snomed_icd10.tsv), so ICD-10
  // and NCIt filters find it.
  std::string icd10 = code.rfind("ICD10:", 0) == 0 ? code.substr(6) : std::string();
  if (icd10.empty() && r.code.system == model::system::kSnomed) {
    if (std::optional<std::string> mapped = model::SnomedToIcd10(r.code.code)) {
      icd10 = *mapped;
      st.Add("ICD10:" + icd10, row);
    }
  }
  if (!icd10.empty()) {
    if (auto concept_term = vocab_.CancerConcept(icd10, r.morphology)) st.Add(*concept_term, row);
  }
  if (!r.stage_group.empty()) {
    if (auto stage = vocab_.StageTerm(r.stage_group)) st.Add(*stage, row);
  }
  // Multiple primaries: primary cancers of two sites (ICD-10 categories). The same cancer
  // recorded twice (Synthea writes "Non-small cell lung cancer" and then its "TNM stage 1"
  // Condition) is one primary.
  if (r.primary && !st.multiple_primaries[row]) {
    const uint32_t site = PrimarySiteKey(icd10, r);
    uint32_t& first = st.primary_site[row];
    if (first == 0) {
      first = site;
    } else if (site != first) {
      st.multiple_primaries[row] = true;
      st.Add(kMultiplePrimariesTerm, row);
    }
  }
  if (r.progression_date != model::kNoDate) st.Add(kProgressedTerm, row);
  if (r.primary && r.onset_date != model::kNoDate &&
      (st.first_diagnosis[row] == model::kNoDate || r.onset_date < st.first_diagnosis[row])) {
    st.first_diagnosis[row] = r.onset_date;
  }
}

void IndexBuilder::AddObservation(const model::Observation& r) {
  State& st = *state_;
  uint32_t row;
  if (!st.RowFor(r.individual_id, &row)) return;
  if (auto term = vocab_.ObservationTerm(r.code, r.value_code)) st.Add(*term, row);
  if (!r.gene_studied.code.empty() && r.value_code.code != "LA9634-2") {  // LA9634-2: Absent
    if (auto term = vocab_.GenomicTerm(r.gene_studied.code, r.amino_acid_change))
      st.Add(*term, row);
    if (vocab_.Find(r.gene_studied.code)) st.Add(r.gene_studied.code, row);
    // Every protein change is also a custom term "GENE:p.Change", under the gene.
    if (!r.amino_acid_change.empty()) {
      const std::string symbol = vocab_.Label(r.gene_studied.code);
      const std::string term = symbol + ":" + r.amino_acid_change;
      st.Add(term, row);
      st.custom_labels.emplace(term, symbol + " " + r.amino_acid_change);
    }
  }
  // PD-L1 expression (LOINC 83052-1) has no verified ontology term: a custom one.
  if (r.code.system == model::system::kLoinc && r.code.code == "83052-1") {
    if (r.value_code.code == "10828004") st.Add(kPdl1PositiveTerm, row);
    if (r.value_code.code == "260385009") st.Add(kPdl1NegativeTerm, row);
  }
  // mCODE CancerDiseaseStatus: LOINC 97509-4, SNOMED 271299001 "Patient's condition worsened".
  if (r.code.system == model::system::kLoinc && r.code.code == "97509-4" &&
      r.value_code.code == "271299001") {
    st.Add(kProgressedTerm, row);
  }
}

void IndexBuilder::AddTreatment(const model::Treatment& r) {
  State& st = *state_;
  uint32_t row;
  if (!st.RowFor(r.individual_id, &row)) return;
  if (r.code.system == model::system::kAtc && !r.code.code.empty()) {
    st.Add("ATC:" + r.code.code, row);
  } else if (auto p = vocab_.Procedure(r.code)) {
    st.Add(p->curie, row);
  }
}

void IndexBuilder::AddBiosample(const model::Biosample& r) {
  State& st = *state_;
  uint32_t row;
  if (!st.RowFor(r.individual_id, &row)) return;
  if (index_->biosamples_per_row_.size() <= row) index_->biosamples_per_row_.resize(row + 1, 0);
  uint16_t& n = index_->biosamples_per_row_[row];
  if (n < UINT16_MAX) ++n;
  ++index_->stats_.biosamples;
}

void IndexBuilder::AddImagingStudy(const model::ImagingStudy& r) {
  State& st = *state_;
  uint32_t row;
  if (!st.RowFor(r.individual_id, &row)) return;
  if (!r.modality.empty()) st.Add("DCM:" + r.modality, row);
}

void IndexBuilder::AddDicomSeries(const model::DicomSeries& r) {
  State& st = *state_;
  uint32_t row;
  if (!st.RowFor(r.individual_id, &row)) return;
  if (!r.modality.empty()) st.Add("DCM:" + r.modality, row);
  if (const BodyPartTerm* part = FindBodyPartTerm(r.body_part)) {
    st.Add(part->curie, row);
    st.ontology_labels.emplace(part->curie, part->label);
  }
  if (!r.manufacturer.empty()) {
    const std::string term = std::string(kManufacturerTermPrefix) + r.manufacturer;
    st.Add(term, row);
    st.custom_labels.emplace(term,
                             "Imaged on equipment of " + r.manufacturer + " (DICOM Manufacturer)");
  }
  if (std::isfinite(r.slice_thickness) && r.slice_thickness > 0 && r.slice_thickness < 1000) {
    const auto um = static_cast<int32_t>(std::lround(r.slice_thickness * 1000));
    int32_t& thinnest = st.thinnest_slice_um[row];
    if (thinnest == 0 || um < thinnest) thinnest = um;
  }
  ++index_->stats_.dicom_series;
  index_->stats_.dicom_instances += static_cast<uint64_t>(r.instances);
}

void IndexBuilder::AddVariant(const model::Variant& r) {
  ++state_->records;
  index_->variants_.AddVariant(r);
}

void IndexBuilder::AddVariantCall(const model::VariantCall& r) {
  State& st = *state_;
  uint32_t row;
  if (!st.RowFor(r.individual_id, &row)) return;
  if (!index_->variants_.AddCall(row, r)) ++st.skipped;
}

void IndexBuilder::AddVariantSample(const model::VariantSample& r) {
  State& st = *state_;
  uint32_t row;
  if (!st.RowFor(r.individual_id, &row)) return;
  std::vector<State::SampleColumn>& columns = st.sample_columns[r.file_id];
  if (columns.size() <= r.column) columns.resize(r.column + 1);
  columns[r.column] = {true, row, index_->variants_.BiosampleHandle(r.biosample_id)};
}

Status IndexBuilder::AddVariantBlock(const model::VariantBlock& r) {
  State& st = *state_;
  static const std::vector<State::SampleColumn> kNone;
  const auto it = st.sample_columns.find(r.file_id);
  const std::vector<State::SampleColumn>& columns =
      it != st.sample_columns.end() ? it->second : kNone;
  VariantIndex& variants = index_->variants_;
  // Decoded into a scratch list first, so that a corrupt block adds nothing.
  struct Decoded {
    model::Variant variant;
    std::vector<VariantIndex::Call> calls;
  };
  std::vector<Decoded> decoded;
  decoded.reserve(r.variants);
  Status status = model::DecodeVariantBlock(r.data, [&](const model::Variant& v,
                                                        std::span<const model::VariantCarrier>
                                                            carriers) {
    Decoded d{v, {}};
    d.calls.reserve(carriers.size());
    for (const model::VariantCarrier& c : carriers) {
      // A column whose individual is unknown was counted as skipped once, with its sample.
      if (c.column >= columns.size() || !columns[c.column].linked) continue;
      d.calls.push_back({columns[c.column].row, columns[c.column].biosample, c.zygosity, c.origin});
    }
    decoded.push_back(std::move(d));
  });
  if (!status.ok()) return status.WithContext("variant file " + r.file_id);
  for (Decoded& d : decoded) {
    ++st.records;
    const uint32_t handle = variants.AddVariant(d.variant);
    for (const VariantIndex::Call& c : d.calls) variants.AddCall(handle, c);
  }
  return Status::Ok();
}

Status IndexBuilder::AddBatch(const model::RecordBatch& b) {
  for (const auto& r : b.individuals) AddIndividual(r);
  for (const auto& r : b.diagnoses) AddDiagnosis(r);
  for (const auto& r : b.observations) AddObservation(r);
  for (const auto& r : b.treatments) AddTreatment(r);
  for (const auto& r : b.biosamples) AddBiosample(r);
  for (const auto& r : b.imaging_studies) AddImagingStudy(r);
  for (const auto& r : b.variant_samples) AddVariantSample(r);
  for (const auto& r : b.variant_blocks) RETURN_IF_ERROR(AddVariantBlock(r));
  return Status::Ok();
}

const Posting* CohortIndex::DatasetRows(const std::string& dataset) const {
  auto it = datasets_.find(dataset);
  return it == datasets_.end() ? nullptr : &it->second;
}

std::unique_ptr<CohortIndex> IndexBuilder::Finish(store::Seq seq) {
  State& st = *state_;
  CohortIndex* idx = index_.get();
  idx->stats_.seq = seq;
  const uint32_t rows = idx->num_rows();
  idx->biosamples_per_row_.resize(rows, 0);
  const uint32_t chunks = (rows + kChunkBits - 1) / kChunkBits;
  for (auto& [term, term_rows] : st.rows_by_term) {
    std::sort(term_rows.begin(), term_rows.end());
    term_rows.erase(std::unique(term_rows.begin(), term_rows.end()), term_rows.end());
    idx->exact_[term].AddSorted(term_rows);
    std::vector<uint32_t>().swap(term_rows);
  }
  // Descendant-inclusive postings: each term's rows go to every proper ancestor. A term that
  // no present term descends from has no posting of its own here: its exact posting serves.
  for (auto& [term, posting] : idx->exact_) {
    std::unordered_set<std::string> seen{term};
    std::vector<std::string> todo = vocab_.ParentsOf(term);
    while (!todo.empty()) {
      std::string t = std::move(todo.back());
      todo.pop_back();
      if (!seen.insert(t).second) continue;
      auto [it, inserted] = idx->descendants_.try_emplace(t);
      if (inserted) {
        // First descendant seen: start from the ancestor's own rows, if it has any.
        if (auto own = idx->exact_.find(t); own != idx->exact_.end())
          it->second.OrWith(own->second);
      }
      it->second.OrWith(posting);
      for (std::string& parent : vocab_.ParentsOf(t)) todo.push_back(std::move(parent));
    }
  }
  for (auto& [term, p] : idx->exact_) p.Freeze(chunks);
  for (auto& [term, p] : idx->descendants_) p.Freeze(chunks);
  for (auto& [dataset, dataset_rows] : st.rows_by_dataset) {
    Posting& p = idx->datasets_[dataset];
    p.AddSorted(dataset_rows);
    p.Freeze(chunks);
  }
  idx->ShareIdenticalPostings();
  for (auto& [term, label] : st.custom_labels) {
    idx->custom_types_[term] = TermType::kCustom;
    idx->custom_labels_[term] = label;
  }
  for (auto& [term, label] : st.ontology_labels) idx->custom_labels_[term] = label;

  std::vector<int32_t> ages(rows, RangeAttribute::kNoValue);
  std::vector<int32_t> dates(rows, RangeAttribute::kNoValue);
  for (uint32_t row = 0; row < rows; ++row) {
    if (st.first_diagnosis[row] == model::kNoDate) continue;
    dates[row] = st.first_diagnosis[row];
    if (st.birth[row] != model::kNoDate)
      ages[row] = AgeValue(st.birth[row], st.first_diagnosis[row]);
  }
  auto age = std::make_unique<RangeAttribute>("ageAtDiagnosis",
                                              [](int32_t v) { return v / kAgeYearSlot; });
  age->Build(ages, chunks);
  auto date = std::make_unique<RangeAttribute>("dateOfDiagnosis",
                                               [](int32_t v) { return model::YearOf(v); });
  date->Build(dates, chunks);
  idx->attributes_["ageAtDiagnosis"] = std::move(age);
  idx->attributes_["dateOfDiagnosis"] = std::move(date);
  std::vector<int32_t> slices(rows, RangeAttribute::kNoValue);
  for (uint32_t row = 0; row < rows; ++row) {
    if (st.thinnest_slice_um[row] > 0) slices[row] = st.thinnest_slice_um[row];
  }
  auto slice = std::make_unique<RangeAttribute>(
      kSliceThicknessAttribute, [](int32_t um) { return um / 500; });  // 0.5-mm buckets
  slice->Build(slices, chunks);
  idx->attributes_[kSliceThicknessAttribute] = std::move(slice);

  idx->variants_.Finish(chunks);

  idx->stats_.individuals = rows;
  idx->stats_.variants = idx->variants_.size();
  idx->stats_.records = st.records;
  idx->stats_.skipped_records = st.skipped;
  IndexStats& stats = idx->stats_;
  for (const auto& [t, p] : idx->exact_) stats.exact_bytes += p.SizeInBytes();
  for (const auto& [t, p] : idx->descendants_) stats.descendant_bytes += p.SizeInBytes();
  for (const auto& [n, a] : idx->attributes_) stats.attribute_bytes += a->SizeInBytes();
  stats.variant_bytes = idx->variants_.SizeInBytes();
  stats.terms = idx->exact_.size() + idx->descendants_.size();
  stats.memory_bytes = idx->biosamples_per_row_.size() * sizeof(uint16_t) + stats.exact_bytes +
                       stats.descendant_bytes + stats.attribute_bytes + stats.variant_bytes;
  state_.reset();
  return std::move(index_);
}

Result<std::unique_ptr<CohortIndex>> CohortIndex::Build(store::Store& store,
                                                        const Vocabulary& vocab,
                                                        const std::string& default_dataset) {
  ASSIGN_OR_RETURN(const store::Seq seq, store.LastSeq());
  IndexBuilder b(vocab);
  b.SetDefaultDataset(default_dataset);
  RETURN_IF_ERROR(store.ScanIndividuals(
      0, [&](store::Seq, const model::Individual& r) { b.AddIndividual(r); }));
  RETURN_IF_ERROR(
      store.ScanDiagnoses(0, [&](store::Seq, const model::Diagnosis& r) { b.AddDiagnosis(r); }));
  RETURN_IF_ERROR(store.ScanObservations(
      0, [&](store::Seq, const model::Observation& r) { b.AddObservation(r); }));
  RETURN_IF_ERROR(
      store.ScanTreatments(0, [&](store::Seq, const model::Treatment& r) { b.AddTreatment(r); }));
  RETURN_IF_ERROR(
      store.ScanBiosamples(0, [&](store::Seq, const model::Biosample& r) { b.AddBiosample(r); }));
  RETURN_IF_ERROR(store.ScanImagingStudies(
      0, [&](store::Seq, const model::ImagingStudy& r) { b.AddImagingStudy(r); }));
  RETURN_IF_ERROR(store.ScanDicomSeries([&](const model::DicomSeries& r) { b.AddDicomSeries(r); }));
  RETURN_IF_ERROR(store.ScanVariantSamples(
      0, [&](store::Seq, const model::VariantSample& r) { b.AddVariantSample(r); }));
  Status blocks = Status::Ok();
  RETURN_IF_ERROR(store.ScanVariantBlocks(0, [&](store::Seq, const model::VariantBlock& r) {
    if (blocks.ok()) blocks = b.AddVariantBlock(r);
  }));
  RETURN_IF_ERROR(blocks);
  return b.Finish(seq);
}

void CohortIndex::ShareIdenticalPostings() {
  // Identical sets are common in a hierarchy (a block with one category, a chapter and its
  // super-group, stage IV and M1): keep one posting, point the other terms at it.
  std::vector<std::pair<std::string, bool>> keys;  // (term, is descendants posting)
  for (const auto& [t, p] : exact_) keys.emplace_back(t, false);
  for (const auto& [t, p] : descendants_) keys.emplace_back(t, true);
  std::sort(keys.begin(), keys.end());
  std::unordered_map<uint64_t, std::vector<const Posting*>> kept;
  std::vector<std::pair<std::string, bool>> shared;
  for (const auto& [term, is_descendants] : keys) {
    const Posting& p = is_descendants ? descendants_.at(term) : exact_.at(term);
    const uint64_t signature = p.cardinality() * 0x9E3779B97F4A7C15ULL ^ p.SizeInBytes();
    std::vector<const Posting*>& same_size = kept[signature];
    const Posting* twin = nullptr;
    for (const Posting* q : same_size) {
      if (roaring_bitmap_equals(q->bitmap(), p.bitmap())) {
        twin = q;
        break;
      }
    }
    if (twin) {
      shared_[(is_descendants ? "d:" : "e:") + term] = twin;
      shared.emplace_back(term, is_descendants);
    } else {
      same_size.push_back(&p);
    }
  }
  for (const auto& [term, is_descendants] : shared) {
    (is_descendants ? descendants_ : exact_).erase(term);
  }
}

const Posting* CohortIndex::Find(const std::string& curie, bool descendants) const {
  if (descendants) {
    if (auto it = descendants_.find(curie); it != descendants_.end()) return &it->second;
    if (auto it = shared_.find("d:" + curie); it != shared_.end()) return it->second;
  }
  if (auto it = exact_.find(curie); it != exact_.end()) return &it->second;
  if (auto it = shared_.find("e:" + curie); it != shared_.end()) return it->second;
  return nullptr;
}

const RangeAttribute* CohortIndex::FindAttribute(const std::string& name) const {
  auto it = attributes_.find(name);
  return it == attributes_.end() ? nullptr : it->second.get();
}

std::vector<TermInfo> CohortIndex::Terms() const {
  std::vector<TermInfo> out;
  std::set<std::string> names;
  for (const auto& [term, posting] : descendants_) names.insert(term);
  for (const auto& [term, posting] : exact_) names.insert(term);
  for (const auto& [key, posting] : shared_) names.insert(key.substr(2));
  out.reserve(names.size() + attributes_.size());
  for (const std::string& term : names) {
    const Posting& posting = *Find(term, true);
    TermInfo info;
    info.id = term;
    info.count = posting.cardinality();
    auto custom = custom_types_.find(term);
    info.type = custom == custom_types_.end() ? TermType::kOntology : custom->second;
    if (term.rfind("DCM:", 0) == 0) {
      const char* label = ModalityLabel(std::string_view(term).substr(4));
      info.label = label ? label : term.substr(4);
    } else if (auto label = custom_labels_.find(term); label != custom_labels_.end()) {
      info.label = label->second;
    } else if (term == kPdl1PositiveTerm) {
      info.label = "PD-L1 expression positive (as reported by the test, LOINC 83052-1)";
    } else if (term == kPdl1NegativeTerm) {
      info.label = "PD-L1 expression negative (as reported by the test, LOINC 83052-1)";
    } else if (term == kProgressedTerm) {
      info.label = "Progression or recurrence recorded after diagnosis";
    } else if (term == kMultiplePrimariesTerm) {
      info.label = "More than one primary cancer";
    } else {
      info.label = vocab_->Label(term);
    }
    out.push_back(std::move(info));
  }
  for (const auto& [name, attribute] : attributes_) {
    TermInfo info;
    info.id = name;
    info.type = TermType::kAlphanumeric;
    info.label = name == "ageAtDiagnosis"    ? "Age at diagnosis (ISO 8601 duration, e.g. P70Y)"
                 : name == "dateOfDiagnosis" ? "Date of diagnosis (ISO 8601 date)"
                                             : "Thinnest slice of the individual's DICOM series "
                                               "(mm, e.g. 1.5)";
    info.count = attribute->has_value().cardinality();
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(),
            [](const TermInfo& a, const TermInfo& b) { return a.id < b.id; });
  return out;
}

std::vector<CohortIndex::PostingSize> CohortIndex::LargestPostings(size_t n) const {
  std::vector<PostingSize> all;
  for (const auto& [t, p] : exact_) all.push_back({t, false, p.SizeInBytes(), p.cardinality()});
  for (const auto& [t, p] : descendants_)
    all.push_back({t, true, p.SizeInBytes(), p.cardinality()});
  std::sort(all.begin(), all.end(),
            [](const PostingSize& a, const PostingSize& b) { return a.bytes > b.bytes; });
  if (all.size() > n) all.resize(n);
  return all;
}

uint64_t CohortIndex::Count(const Plan& plan) const { return CountMatches(plan, num_rows()); }

uint64_t CohortIndex::CountBiosamples(const Plan& plan) const {
  uint64_t total = 0;
  ForEachMatchingChunk(plan, num_rows(), [&](uint32_t chunk, const uint64_t* words) {
    const uint32_t base = chunk * kChunkBits;
    for (uint32_t w = 0; w < kChunkWords; ++w) {
      uint64_t bits = words[w];
      while (bits) {
        const uint32_t bit = static_cast<uint32_t>(__builtin_ctzll(bits));
        bits &= bits - 1;
        total += biosamples_per_row_[base + w * 64 + bit];
      }
    }
  });
  return total;
}

}  // namespace oncomesh::index
