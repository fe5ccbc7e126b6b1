#include "ingest/fhir/internal/fhir_mapper.h"

#include <cmath>
#include <cstring>
#include <initializer_list>
#include <optional>

#include "ingest/fhir/internal/fhir_structure.h"
#include "ingest/fhir/internal/hgvs.h"
#include "model/date.h"

namespace oncomesh::ingest::fhir_internal {
namespace {

using nlohmann::json;
namespace sys = model::system;

constexpr const char* kHistologyMorphologyBehavior =
    "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior";
constexpr const char* kSecondaryCancerCondition = "mcode-secondary-cancer-condition";
constexpr const char* kRadiationProcedureProfiles[] = {
    "mcode-cancer-related-radiation-procedure",  // mCODE STU1/STU2
    "mcode-radiotherapy-course-summary",         // mCODE STU3
};

// SNOMED CT procedures that are radiotherapy. A procedure coded with one of them (or carrying
// an mCODE radiation profile) is a radiotherapy Treatment; any other Procedure is surgery.
constexpr const char* kRadiotherapySnomed[] = {
    "1217123003",  // Radiotherapy course of treatment (regime/therapy)
    "33195004",    // Teleradiotherapy procedure
    "108290001",   // Radiation oncology AND/OR radiotherapy
    "448385000",   // Megavoltage radiation therapy using photons
    "152198000",   // Brachytherapy
    "399315003",   // Radionuclide therapy
    "385798007",   // Radiotherapy care
};

// Genomics: HGNC gene ids (some sources write https) and HGVS variant descriptions.
constexpr const char* kHgncGeneId = "http://www.genenames.org/geneId";
constexpr const char* kHgncGeneIdHttps = "https://www.genenames.org/geneId";
constexpr const char* kHgvs = "http://varnomen.hgvs.org";

// SNOMED CT specimen types that are tumour tissue.
constexpr const char* kTumourSpecimenSnomed[] = {
    "258435002",  // Tumor tissue sample
};

const json* Get(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

std::string_view Str(const json* j) {
  if (j == nullptr || !j->is_string()) return {};
  return j->get_ref<const std::string&>();
}

std::string_view StrAt(const json& obj, const char* key) { return Str(Get(obj, key)); }

template <size_t N>
bool Contains(const char* const (&list)[N], std::string_view s) {
  for (const char* x : list) {
    if (s == x) return true;
  }
  return false;
}

// The codings of a CodeableConcept (structure already checked: an array of objects or absent).
const json* Codings(const json* cc) {
  if (cc == nullptr || !cc->is_object()) return nullptr;
  const json* c = Get(*cc, "coding");
  return c != nullptr && c->is_array() ? c : nullptr;
}

// The first coding of `cc` in the first of `systems` that has one; null if none.
const json* PickCoding(const json* cc, std::initializer_list<const char*> systems) {
  const json* codings = Codings(cc);
  if (codings == nullptr) return nullptr;
  for (const char* system : systems) {
    for (const json& c : *codings) {
      if (StrAt(c, "system") == system && !StrAt(c, "code").empty()) return &c;
    }
  }
  return nullptr;
}

const json* FirstCoding(const json* cc) {
  const json* codings = Codings(cc);
  if (codings == nullptr) return nullptr;
  for (const json& c : *codings) {
    if (!StrAt(c, "code").empty()) return &c;
  }
  return nullptr;
}

model::Coding ToCoding(const json* c) {
  if (c == nullptr) return {};
  return {std::string(StrAt(*c, "system")), std::string(StrAt(*c, "code")),
          std::string(StrAt(*c, "display"))};
}

class Mapping {
 public:
  Mapping(std::string_view type, std::string_view id, const std::string& where, MappedChunk& out)
      : type_(type), id_(id), where_(where), out_(out) {}

  bool Fail(const std::string& reason, int problems = 1) {
    out_.problems += problems;
    out_.status = InvalidArgument(where_ + ": " + std::string(type_) + "/" + std::string(id_) +
                                  ": " + reason);
    return false;
  }

  // Counts a cc none of whose codings could be mapped: "Resource.element system".
  void Unmapped(const char* element, const json* cc) {
    std::string key = std::string(type_) + "." + element;
    const json* codings = Codings(cc);
    if (codings == nullptr || codings->empty()) {
      ++out_.unmapped_codings[key + " (no coding)"];
      return;
    }
    std::string_view system = StrAt((*codings)[0], "system");
    ++out_.unmapped_codings[key + " " + (system.empty() ? "(no system)" : std::string(system))];
  }

  // Reads the preferred coding of `element`, else keeps the first one and counts it unmapped.
  model::Coding Code(const char* element, const json* cc,
                     std::initializer_list<const char*> systems) {
    if (const json* c = PickCoding(cc, systems)) return ToCoding(c);
    if (cc != nullptr) Unmapped(element, cc);
    return ToCoding(FirstCoding(cc));
  }

  // Parses a FHIR date/dateTime; a malformed one fails the resource.
  bool Date(const char* element, std::string_view text, model::Date& out) {
    out = model::kNoDate;
    if (text.empty()) return true;
    std::optional<model::Date> d = model::ParseDate(text);
    if (!d) return Fail(std::string(element) + ": not a FHIR date or dateTime");
    out = *d;
    return true;
  }

 private:
  std::string_view type_;
  std::string_view id_;
  const std::string& where_;
  MappedChunk& out_;
};

// The coded or string value of a component as text: valueCodeableConcept's coding (in `system`
// if it has one there, else the first), else valueString. Empty if neither.
std::string ComponentText(const json& component, const char* system) {
  if (const json* v = Get(component, "valueCodeableConcept")) {
    const json* c = PickCoding(v, {system});
    if (c == nullptr) c = FirstCoding(v);
    if (c != nullptr) return std::string(StrAt(*c, "code"));
    return {};
  }
  return std::string(StrAt(component, "valueString"));
}

// mCODE GenomicVariant components (STU2 "Genomic Variant" profile, from the Genomics Reporting
// IG): 48018-6 gene studied, 48005-3 amino acid change, 48004-6 DNA change.
void MapGenomicComponent(Mapping& m, const json& component, model::Observation& obs) {
  const json* code = PickCoding(Get(component, "code"), {sys::kLoinc});
  if (code == nullptr) return;
  const std::string_view loinc = StrAt(*code, "code");
  if (loinc == "48018-6") {
    const json* v = Get(component, "valueCodeableConcept");
    if (const json* c = PickCoding(v, {kHgncGeneId, kHgncGeneIdHttps})) {
      obs.gene_studied = ToCoding(c);
      obs.gene_studied.system = kHgncGeneId;
      // "HGNC:3236" is the form the mCODE examples and data/vocab use; some sources write 3236.
      const std::string& id = obs.gene_studied.code;
      if (!id.empty() && id.find_first_not_of("0123456789") == std::string::npos) {
        obs.gene_studied.code = "HGNC:" + id;
      }
    } else if (v != nullptr) {
      m.Unmapped("component:geneStudied", v);
      obs.gene_studied = ToCoding(FirstCoding(v));
    }
  } else if (loinc == "48005-3") {
    obs.amino_acid_change = NormalizeProteinChange(ComponentText(component, kHgvs));
  } else if (loinc == "48004-6") {
    std::string text = ComponentText(component, kHgvs);
    const size_t begin = text.find_first_not_of(" \t");
    const size_t end = text.find_last_not_of(" \t");
    obs.dna_change = begin == std::string::npos ? "" : text.substr(begin, end - begin + 1);
  }
}

}  // namespace

uint64_t IndividualKey(std::string_view pseudonym) {
  uint64_t v = 0;
  for (size_t i = 0; i < 16 && i < pseudonym.size(); ++i) {
    const char c = pseudonym[i];
    const uint64_t d = c >= '0' && c <= '9' ? static_cast<uint64_t>(c - '0')
                       : c >= 'a' && c <= 'f' ? static_cast<uint64_t>(c - 'a' + 10)
                                              : 0;
    v = (v << 4) | d;
  }
  return v;
}

void MappedChunk::Clear() {
  records = model::RecordBatch{};
  subjects.clear();
  individual_keys.clear();
  unknown_resource_types.clear();
  unmapped_codings.clear();
  resources = 0;
  status = Status::Ok();
  problems = 0;
}

const ResourceMapper::IndividualIds& ResourceMapper::Individual(const std::string& source_id) {
  auto it = cache_.find(source_id);
  if (it != cache_.end()) return it->second;
  // Bounded: a worker sees a bounded number of individuals at once in practice (Bulk Data files
  // are grouped by individual), and the keys are cheap to recompute.
  if (cache_.size() >= 65536) cache_.clear();
  IndividualIds ids{pseudonymizer_.Pseudonym("Patient", source_id),
                    pseudonymizer_.DateShiftDays(source_id)};
  return cache_.emplace(source_id, std::move(ids)).first->second;
}

std::string ResourceMapper::ReferencedPseudonym(std::string_view type, std::string_view id) {
  std::string key(type);
  key.push_back('/');
  key.append(id);
  auto it = referenced_.find(key);
  if (it != referenced_.end()) return it->second;
  if (referenced_.size() >= 65536) referenced_.clear();
  return referenced_.emplace(std::move(key), pseudonymizer_.Pseudonym(type, id)).first->second;
}

bool ResourceMapper::Map(const json& r, const std::string& where, std::string_view fallback_id,
                         MappedChunk& out) {
  ++out.resources;
  if (!r.is_object()) {
    out.status = InvalidArgument(where + ": expected a FHIR resource (a JSON object)");
    ++out.problems;
    return false;
  }
  const json* type_json = Get(r, "resourceType");
  if (type_json == nullptr || !type_json->is_string()) {
    out.status = InvalidArgument(where + ": resource has no resourceType");
    ++out.problems;
    return false;
  }
  const std::string& type = type_json->get_ref<const std::string&>();
  if (!IsMappedResourceType(type)) {
    ++out.unknown_resource_types[type];
    return true;
  }
  const json* id_json = Get(r, "id");
  std::string_view id = Str(id_json);
  if (id.empty()) id = fallback_id;
  Mapping m(type, id.empty() ? std::string_view("(no id)") : id, where, out);
  {
    std::string problems;
    const int n = CheckStructure(r, type, problems, 10);
    if (n > 0) {
      return m.Fail("not valid FHIR R4: " + problems + (n >= 10 ? "; …" : ""), n);
    }
  }
  if (id.empty()) return m.Fail("resource has no id");

  if (type == "Patient") {
    const IndividualIds& ids = Individual(std::string(id));
    model::Individual ind;
    ind.id = ids.pseudonym;
    const std::string_view gender = StrAt(r, "gender");
    ind.sex = gender == "female"  ? model::Sex::kFemale
              : gender == "male"  ? model::Sex::kMale
              : gender == "other" ? model::Sex::kOther
                                  : model::Sex::kUnknown;
    model::Date d;
    if (!m.Date("Patient.birthDate", StrAt(r, "birthDate"), d)) return false;
    if (d != model::kNoDate) ind.birth_date = d + ids.shift_days;
    if (const json* b = Get(r, "deceasedBoolean")) {
      ind.vital_status = b->get<bool>() ? model::VitalStatus::kDeceased
                                        : model::VitalStatus::kAlive;
    }
    if (const json* dt = Get(r, "deceasedDateTime")) {
      if (!m.Date("Patient.deceasedDateTime", Str(dt), d)) return false;
      ind.vital_status = model::VitalStatus::kDeceased;
      if (d != model::kNoDate) ind.death_date = d + ids.shift_days;
    }
    out.individual_keys.push_back(IndividualKey(ind.id));
    out.records.individuals.push_back(std::move(ind));
    return true;
  }

  // Every other mapped resource belongs to an individual: its subject (ImagingStudy too, R4).
  const json* subject = Get(r, "subject");
  if (subject == nullptr) return m.Fail("no subject (a reference to the Patient is required)");
  const std::string_view reference = StrAt(*subject, "reference");
  if (reference.empty()) return m.Fail("subject has no reference");
  std::string patient_id;
  {
    UrnTarget target;
    if (reference.rfind("urn:", 0) == 0) {
      auto it = urns_ != nullptr ? urns_->find(std::string(reference)) : UrnMap::const_iterator{};
      if (urns_ == nullptr || it == urns_->end()) {
        return m.Fail("unresolved subject " + std::string(reference) +
                      " (no bundle entry has that fullUrl)");
      }
      target = it->second;
    } else {
      std::string_view ref = reference;
      const size_t history = ref.find("/_history/");
      if (history != std::string_view::npos) ref = ref.substr(0, history);
      const size_t slash = ref.rfind('/');
      if (slash == std::string_view::npos || slash == 0 || slash + 1 == ref.size()) {
        return m.Fail("malformed subject reference " + std::string(reference));
      }
      const size_t type_start = ref.rfind('/', slash - 1);
      target.type = std::string(
          ref.substr(type_start == std::string_view::npos ? 0 : type_start + 1,
                     slash - (type_start == std::string_view::npos ? 0 : type_start + 1)));
      target.id = std::string(ref.substr(slash + 1));
    }
    if (target.type != "Patient") {
      return m.Fail("subject " + std::string(reference) + " is not a Patient");
    }
    patient_id = std::move(target.id);
  }
  const IndividualIds& person = Individual(patient_id);
  const int shift = person.shift_days;
  auto shifted = [shift](model::Date d) { return d == model::kNoDate ? d : d + shift; };
  const std::string record_id = pseudonymizer_.Pseudonym(type, id);

  auto add_subject = [&](RecordKind kind, size_t index) {
    SubjectRef s;
    s.key = IndividualKey(person.pseudonym);
    s.kind = kind;
    s.index = static_cast<uint32_t>(index);
    s.where = where;
    s.resource = type + "/" + std::string(id);
    s.reference = std::string(reference);
    out.subjects.push_back(std::move(s));
  };

  // A reference to another resource, as its pseudonym: "Condition/x" or a bundle's urn.
  auto referenced_id = [&](const json* ref, const char* expected_type) -> std::string {
    if (ref == nullptr) return {};
    std::string_view text = StrAt(*ref, "reference");
    if (text.empty()) return {};
    if (text.rfind("urn:", 0) == 0) {
      if (urns_ == nullptr) return {};
      auto it = urns_->find(std::string(text));
      if (it == urns_->end() || it->second.type != expected_type) return {};
      return ReferencedPseudonym(expected_type, it->second.id);
    }
    const size_t slash = text.rfind('/');
    if (slash == std::string_view::npos) return {};
    std::string_view head = text.substr(0, slash);
    const size_t type_start = head.rfind('/');
    if (type_start != std::string_view::npos) head = head.substr(type_start + 1);
    if (head != expected_type) return {};
    return ReferencedPseudonym(expected_type, text.substr(slash + 1));
  };

  model::Date d = model::kNoDate;
  if (type == "Condition") {
    model::Diagnosis dx;
    dx.id = record_id;
    dx.individual_id = person.pseudonym;
    dx.code = m.Code("code", Get(r, "code"), {sys::kIcd10, sys::kIcd10Cm, sys::kSnomed});
    if (const json* sites = Get(r, "bodySite")) {
      for (const json& site : *sites) {
        if (const json* c = PickCoding(&site, {sys::kIcdO3})) {
          dx.topography = std::string(StrAt(*c, "code"));
          break;
        }
      }
      if (dx.topography.empty() && !sites->empty()) m.Unmapped("bodySite", &(*sites)[0]);
    }
    if (const json* exts = Get(r, "extension")) {
      for (const json& ext : *exts) {
        if (StrAt(ext, "url") != kHistologyMorphologyBehavior) continue;
        const json* value = Get(ext, "valueCodeableConcept");
        if (const json* c = PickCoding(value, {sys::kIcdO3, sys::kSnomed})) {
          dx.morphology = std::string(StrAt(*c, "code"));
        } else if (value != nullptr) {
          m.Unmapped("extension:histologyMorphologyBehavior", value);
        }
        break;
      }
    }
    if (const json* meta = Get(r, "meta")) {
      if (const json* profiles = Get(*meta, "profile")) {
        for (const json& p : *profiles) {
          if (Str(&p).find(kSecondaryCancerCondition) != std::string_view::npos) {
            dx.primary = false;
          }
        }
      }
    }
    if (const json* categories = Get(r, "category")) {
      for (const json& cat : *categories) {
        const json* codings = Codings(&cat);
        if (codings == nullptr) continue;
        for (const json& c : *codings) {
          if (StrAt(c, "code") == "metastasis" ||
              StrAt(c, "display").find("etasta") != std::string_view::npos) {
            dx.primary = false;
          }
        }
      }
    }
    std::string_view onset = StrAt(r, "onsetDateTime");
    if (onset.empty()) {
      if (const json* p = Get(r, "onsetPeriod")) onset = StrAt(*p, "start");
    }
    if (onset.empty()) onset = StrAt(r, "recordedDate");
    if (!m.Date("Condition.onsetDateTime", onset, d)) return false;
    dx.onset_date = shifted(d);
    if (const json* stages = Get(r, "stage")) {
      for (const json& stage : *stages) {
        const json* summary = Get(stage, "summary");
        if (summary == nullptr) continue;
        if (const json* c = PickCoding(summary, {sys::kAjcc})) {
          dx.stage_group = std::string(StrAt(*c, "code"));
          break;
        }
        m.Unmapped("stage.summary", summary);
      }
    }
    out.records.diagnoses.push_back(std::move(dx));
    add_subject(RecordKind::kDiagnosis, out.records.diagnoses.size() - 1);
    return true;
  }

  if (type == "Observation") {
    model::Observation obs;
    obs.id = record_id;
    obs.individual_id = person.pseudonym;
    if (const json* focus = Get(r, "focus"); focus != nullptr && !focus->empty()) {
      obs.focus_id = referenced_id(&(*focus)[0], "Condition");
    }
    obs.code = m.Code("code", Get(r, "code"), {sys::kLoinc, sys::kSnomed});
    if (const json* v = Get(r, "valueCodeableConcept")) {
      const json* c = PickCoding(v, {sys::kSnomed, sys::kLoinc, sys::kAjcc, sys::kNcit,
                                     sys::kIcdO3, sys::kIcd10, sys::kIcd10Cm});
      obs.value_code = ToCoding(c != nullptr ? c : FirstCoding(v));
    } else if (const json* q = Get(r, "valueQuantity")) {
      if (const json* value = Get(*q, "value")) obs.value_number = value->get<double>();
      obs.value_unit = std::string(StrAt(*q, "unit"));
      if (obs.value_unit.empty()) obs.value_unit = std::string(StrAt(*q, "code"));
    } else if (const json* i = Get(r, "valueInteger")) {
      obs.value_number = i->get<double>();
    } else if (const json* b = Get(r, "valueBoolean")) {
      obs.value_number = b->get<bool>() ? 1.0 : 0.0;
    }
    // valueString is free text: never stored.
    if (const json* components = Get(r, "component")) {
      for (const json& component : *components) MapGenomicComponent(m, component, obs);
    }
    std::string_view effective = StrAt(r, "effectiveDateTime");
    if (effective.empty()) {
      if (const json* p = Get(r, "effectivePeriod")) effective = StrAt(*p, "start");
    }
    if (effective.empty()) effective = StrAt(r, "effectiveInstant");
    if (!m.Date("Observation.effectiveDateTime", effective, d)) return false;
    obs.effective_date = shifted(d);
    out.records.observations.push_back(std::move(obs));
    add_subject(RecordKind::kObservation, out.records.observations.size() - 1);
    return true;
  }

  if (type == "Procedure") {
    model::Treatment t;
    t.id = record_id;
    t.individual_id = person.pseudonym;
    t.kind = model::TreatmentKind::kSurgery;
    const json* code = Get(r, "code");
    t.code = m.Code("code", code, {sys::kSnomed});
    auto radiotherapy = [&](const json* cc) {
      const json* codings = Codings(cc);
      if (codings == nullptr) return false;
      for (const json& c : *codings) {
        if (StrAt(c, "system") == sys::kSnomed && Contains(kRadiotherapySnomed, StrAt(c, "code"))) {
          return true;
        }
      }
      return false;
    };
    if (radiotherapy(code) || radiotherapy(Get(r, "category"))) {
      t.kind = model::TreatmentKind::kRadiotherapy;
    }
    if (const json* meta = Get(r, "meta")) {
      if (const json* profiles = Get(*meta, "profile")) {
        for (const json& p : *profiles) {
          for (const char* radiation : kRadiationProcedureProfiles) {
            if (Str(&p).find(radiation) != std::string_view::npos) {
              t.kind = model::TreatmentKind::kRadiotherapy;
            }
          }
        }
      }
    }
    std::string_view start = StrAt(r, "performedDateTime");
    std::string_view end;
    if (const json* p = Get(r, "performedPeriod")) {
      if (start.empty()) start = StrAt(*p, "start");
      end = StrAt(*p, "end");
    }
    if (!m.Date("Procedure.performed", start, d)) return false;
    t.start_date = shifted(d);
    if (!m.Date("Procedure.performedPeriod.end", end, d)) return false;
    t.end_date = shifted(d);
    out.records.treatments.push_back(std::move(t));
    add_subject(RecordKind::kTreatment, out.records.treatments.size() - 1);
    return true;
  }

  if (type == "MedicationStatement" || type == "MedicationAdministration" ||
      type == "MedicationRequest") {
    model::Treatment t;
    t.id = record_id;
    t.individual_id = person.pseudonym;
    t.kind = model::TreatmentKind::kMedication;
    if (const json* med = Get(r, "medicationCodeableConcept")) {
      t.code = m.Code("medicationCodeableConcept", med, {sys::kAtc});
    } else if (Get(r, "medicationReference") != nullptr) {
      ++out.unmapped_codings[type + ".medicationReference (Medication not read)"];
    }
    std::string_view start = StrAt(r, "effectiveDateTime");
    std::string_view end;
    if (const json* p = Get(r, "effectivePeriod")) {
      if (start.empty()) start = StrAt(*p, "start");
      end = StrAt(*p, "end");
    }
    if (start.empty()) start = StrAt(r, "authoredOn");
    if (!m.Date((type + ".effective").c_str(), start, d)) return false;
    t.start_date = shifted(d);
    if (!m.Date((type + ".effectivePeriod.end").c_str(), end, d)) return false;
    t.end_date = shifted(d);
    out.records.treatments.push_back(std::move(t));
    add_subject(RecordKind::kTreatment, out.records.treatments.size() - 1);
    return true;
  }

  if (type == "Specimen") {
    model::Biosample b;
    b.id = record_id;
    b.individual_id = person.pseudonym;
    const json* specimen_type = Get(r, "type");
    b.type = m.Code("type", specimen_type, {sys::kSnomed});
    b.tumour = b.type.system == sys::kSnomed && Contains(kTumourSpecimenSnomed, b.type.code);
    if (const json* collection = Get(r, "collection")) {
      if (const json* site = Get(*collection, "bodySite")) {
        b.body_site = m.Code("collection.bodySite", site, {sys::kIcdO3, sys::kSnomed});
      }
      std::string_view collected = StrAt(*collection, "collectedDateTime");
      if (collected.empty()) {
        if (const json* p = Get(*collection, "collectedPeriod")) collected = StrAt(*p, "start");
      }
      if (!m.Date("Specimen.collection.collected", collected, d)) return false;
      b.collection_date = shifted(d);
    }
    out.records.biosamples.push_back(std::move(b));
    add_subject(RecordKind::kBiosample, out.records.biosamples.size() - 1);
    return true;
  }

  if (type == "ImagingStudy") {
    model::ImagingStudy s;
    s.id = record_id;
    s.individual_id = person.pseudonym;
    const json* series = Get(r, "series");
    if (const json* modalities = Get(r, "modality"); modalities != nullptr && !modalities->empty()) {
      s.modality = std::string(StrAt((*modalities)[0], "code"));
    }
    if (series != nullptr) {
      for (const json& se : *series) {
        if (s.modality.empty()) {
          if (const json* mod = Get(se, "modality")) s.modality = std::string(StrAt(*mod, "code"));
        }
        if (s.body_site.empty()) {
          if (const json* site = Get(se, "bodySite")) s.body_site = ToCoding(site);
        }
      }
    }
    if (!m.Date("ImagingStudy.started", StrAt(r, "started"), d)) return false;
    s.started = shifted(d);
    if (const json* n = Get(r, "numberOfSeries")) {
      s.number_of_series = n->get<int>();
    } else if (series != nullptr) {
      s.number_of_series = static_cast<int>(series->size());
    }
    if (const json* n = Get(r, "numberOfInstances")) s.number_of_instances = n->get<int>();
    out.records.imaging_studies.push_back(std::move(s));
    add_subject(RecordKind::kImagingStudy, out.records.imaging_studies.size() - 1);
    return true;
  }
  return m.Fail("resource type is not mapped");  // unreachable: IsMappedResourceType
}

}  // namespace oncomesh::ingest::fhir_internal
