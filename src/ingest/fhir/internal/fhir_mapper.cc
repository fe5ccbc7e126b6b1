#include "ingest/fhir/internal/fhir_mapper.h"

#include <cmath>
#include <cstring>
#include <initializer_list>
#include <optional>

#include "ingest/fhir/internal/fhir_structure.h"
#include "ingest/fhir/internal/hgvs.h"
#include "ingest/fhir/internal/json_view.h"
#include "model/date.h"
#include "model/neoplasm.h"

namespace oncomesh::ingest::fhir_internal {
namespace {

namespace sys = model::system;

constexpr const char* kHistologyMorphologyBehavior =
    "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior";
constexpr const char* kPrimaryCancerCondition = "mcode-primary-cancer-condition";
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

std::string_view StrAt(JsonView obj, const char* key) { return obj[key].str(); }

template <size_t N>
bool Contains(const char* const (&list)[N], std::string_view s) {
  for (const char* x : list) {
    if (s == x) return true;
  }
  return false;
}

// The codings of a CodeableConcept (structure already checked: an array of objects or absent).
JsonView Codings(JsonView cc) { return cc["coding"]; }

// The first coding of `cc` in the first of `systems` that has one; absent if none.
JsonView PickCoding(JsonView cc, std::initializer_list<const char*> systems) {
  const JsonView codings = Codings(cc);
  if (!codings.is_array()) return {};
  for (const char* system : systems) {
    for (JsonView c : codings.items()) {
      if (StrAt(c, "system") == system && !StrAt(c, "code").empty()) return c;
    }
  }
  return {};
}

// True for a Patient.identifier of type MR (HL7 v2 table 0203, "Medical Record Number"): the
// number a hospital's PACS sends as the DICOM Patient ID.
bool IsMedicalRecordNumber(JsonView identifier) {
  const JsonView mr =
      PickCoding(identifier["type"], {"http://terminology.hl7.org/CodeSystem/v2-0203"});
  return mr && StrAt(mr, "code") == "MR";
}

JsonView FirstCoding(JsonView cc) {
  for (JsonView c : Codings(cc).items()) {
    if (!StrAt(c, "code").empty()) return c;
  }
  return {};
}

model::Coding ToCoding(JsonView c) {
  if (!c) return {};
  return {std::string(StrAt(c, "system")), std::string(StrAt(c, "code")),
          std::string(StrAt(c, "display"))};
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
  void Unmapped(const char* element, JsonView cc) {
    std::string key = std::string(type_) + "." + element;
    const JsonView codings = Codings(cc);
    if (codings.empty()) {
      ++out_.unmapped_codings[key + " (no coding)"];
      return;
    }
    std::string_view system = StrAt(codings.at(0), "system");
    ++out_.unmapped_codings[key + " " + (system.empty() ? "(no system)" : std::string(system))];
  }

  // Reads the preferred coding of `element`, else keeps the first one and counts it unmapped.
  model::Coding Code(const char* element, JsonView cc, std::initializer_list<const char*> systems) {
    if (JsonView c = PickCoding(cc, systems)) return ToCoding(c);
    if (cc) Unmapped(element, cc);
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
std::string ComponentText(JsonView component, const char* system) {
  if (JsonView v = component["valueCodeableConcept"]) {
    JsonView c = PickCoding(v, {system});
    if (!c) c = FirstCoding(v);
    if (c) return std::string(StrAt(c, "code"));
    return {};
  }
  return std::string(StrAt(component, "valueString"));
}

// mCODE GenomicVariant components (STU2 "Genomic Variant" profile, from the Genomics Reporting
// IG): 48018-6 gene studied, 48005-3 amino acid change, 48004-6 DNA change.
void MapGenomicComponent(Mapping& m, JsonView component, model::Observation& obs) {
  JsonView code = PickCoding(component["code"], {sys::kLoinc});
  if (!code) return;
  const std::string_view loinc = StrAt(code, "code");
  if (loinc == "48018-6") {
    JsonView v = component["valueCodeableConcept"];
    if (JsonView c = PickCoding(v, {kHgncGeneId, kHgncGeneIdHttps})) {
      obs.gene_studied = ToCoding(c);
      obs.gene_studied.system = kHgncGeneId;
      // "HGNC:3236" is the form the mCODE examples and data/vocab use; some sources write 3236.
      const std::string& id = obs.gene_studied.code;
      if (!id.empty() && id.find_first_not_of("0123456789") == std::string::npos) {
        obs.gene_studied.code = "HGNC:" + id;
      }
    } else if (v) {
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

// What a Condition says about being a cancer, beside its code.
struct ConditionFacts {
  std::optional<model::NeoplasmKind> profile;    // mCODE primary / secondary cancer profile
  std::optional<model::NeoplasmKind> behaviour;  // ICD-O-3 morphology's behaviour digit
  bool metastasis_category = false;              // category "metastasis"
};

// Whether a Condition is a primary or a secondary cancer (docs/fhir-profile.md, "Which
// Conditions are cancers"): an mCODE cancer profile says which, a "metastasis" category says
// secondary; else its ICD-10 code, or its SNOMED CT code's ICD-10 map, or else an ICD-O-3
// behaviour says whether it is a cancer, and it is secondary when one of them says so. nullopt for
// a Condition that is not stored, with `why` set to the line the ingest report counts it under.
std::optional<model::NeoplasmKind> ClassifyCondition(const model::Coding& code,
                                                     const ConditionFacts& facts,
                                                     std::string& why) {
  using model::NeoplasmKind;
  std::optional<NeoplasmKind> by_code;
  std::string icd10;
  const bool snomed = code.system == sys::kSnomed;
  if (code.system == sys::kIcd10 || code.system == sys::kIcd10Cm) {
    icd10 = code.code;
  } else if (snomed) {
    if (std::optional<std::string> mapped = model::SnomedToIcd10(code.code)) icd10 = *mapped;
  }
  if (!icd10.empty()) by_code = model::Icd10Kind(icd10);
  if (facts.profile) return facts.profile;
  // A "metastasis" category says the Condition is a secondary cancer, whatever its code.
  if (facts.metastasis_category) return NeoplasmKind::kSecondaryCancer;
  std::optional<NeoplasmKind> kind;
  if (by_code != NeoplasmKind::kNotCancer) kind = by_code;
  if (!kind) kind = facts.behaviour;
  if (kind == NeoplasmKind::kNotCancer) kind.reset();
  if (!kind) {
    const std::string what =
        code.code.empty()
            ? std::string("(no code)")
            : code.system + "|" + code.code + (code.display.empty() ? "" : " " + code.display);
    if (by_code == NeoplasmKind::kNotCancer || facts.behaviour == NeoplasmKind::kNotCancer) {
      why = "not a cancer: " + what + (snomed && !icd10.empty() ? " (ICD-10 " + icd10 + ")" : "");
    } else if (snomed) {
      why = "unmapped, no ICD-10 map for this SNOMED CT code: " + what;
    } else {
      why = "unmapped, not coded in ICD-10 or SNOMED CT: " + what;
    }
    return std::nullopt;
  }
  if (by_code == NeoplasmKind::kSecondaryCancer ||
      facts.behaviour == NeoplasmKind::kSecondaryCancer) {
    return NeoplasmKind::kSecondaryCancer;
  }
  return NeoplasmKind::kPrimaryCancer;
}

}  // namespace

uint64_t IndividualKey(std::string_view pseudonym) {
  uint64_t v = 0;
  for (size_t i = 0; i < 16 && i < pseudonym.size(); ++i) {
    const char c = pseudonym[i];
    const uint64_t d = c >= '0' && c <= '9'   ? static_cast<uint64_t>(c - '0')
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
  patient_link_refs.clear();
  unknown_resource_types.clear();
  unmapped_codings.clear();
  conditions_left_out.clear();
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
  IndividualIds ids{pseudonymizer_.IndividualPseudonym(source_id),
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

bool ResourceMapper::Map(JsonView r, const std::string& where, std::string_view fallback_id,
                         MappedChunk& out) {
  ++out.resources;
  if (!r.is_object()) {
    out.status = InvalidArgument(where + ": expected a FHIR resource (a JSON object)");
    ++out.problems;
    return false;
  }
  JsonView type_json = r["resourceType"];
  if (!type_json.is_string()) {
    out.status = InvalidArgument(where + ": resource has no resourceType");
    ++out.problems;
    return false;
  }
  const std::string type(type_json.str());
  if (!IsMappedResourceType(type)) {
    ++out.unknown_resource_types[type];
    return true;
  }
  JsonView id_json = r["id"];
  std::string_view id = id_json.str();
  if (id.empty()) id = fallback_id;
  Mapping m(type, id.empty() ? std::string_view("(no id)") : id, where, out);
  {
    std::string problems;
    const int n = CheckStructure(r.element().get_object().value_unsafe(), type, problems, 10);
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
    if (JsonView b = r["deceasedBoolean"]) {
      ind.vital_status = b.boolean() ? model::VitalStatus::kDeceased : model::VitalStatus::kAlive;
    }
    if (JsonView dt = r["deceasedDateTime"]) {
      if (!m.Date("Patient.deceasedDateTime", dt.str(), d)) return false;
      ind.vital_status = model::VitalStatus::kDeceased;
      if (d != model::kNoDate) ind.death_date = d + ids.shift_days;
    }
    for (JsonView identifier : r["identifier"].items()) {
      const std::string_view value = StrAt(identifier, "value");
      if (value.empty() || !IsMedicalRecordNumber(identifier)) continue;
      out.records.patient_links.push_back(
          {pseudonymizer_.PatientIdentifierKey(value), ind.id, ids.shift_days});
      out.patient_link_refs.push_back("Patient/" + std::string(id));
    }
    out.individual_keys.push_back(IndividualKey(ind.id));
    out.records.individuals.push_back(std::move(ind));
    return true;
  }

  // Every other mapped resource belongs to an individual: its subject (ImagingStudy too, R4).
  JsonView subject = r["subject"];
  if (!subject) return m.Fail("no subject (a reference to the Patient is required)");
  const std::string_view reference = StrAt(subject, "reference");
  if (reference.empty()) return m.Fail("subject has no reference");
  std::string patient_id;
  {
    UrnTarget target;
    if (reference.rfind("urn:", 0) == 0) {
      auto it = urns_ ? urns_->find(std::string(reference)) : UrnMap::const_iterator{};
      if (!urns_ || it == urns_->end()) {
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
  auto referenced_id = [&](JsonView ref, const char* expected_type) -> std::string {
    if (!ref) return {};
    std::string_view text = StrAt(ref, "reference");
    if (text.empty()) return {};
    if (text.rfind("urn:", 0) == 0) {
      if (!urns_) return {};
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
    dx.code = m.Code("code", r["code"], {sys::kIcd10, sys::kIcd10Cm, sys::kSnomed});
    if (JsonView sites = r["bodySite"]) {
      for (JsonView site : sites.items()) {
        if (JsonView c = PickCoding(site, {sys::kIcdO3})) {
          dx.topography = std::string(StrAt(c, "code"));
          break;
        }
      }
      if (dx.topography.empty() && !sites.empty()) m.Unmapped("bodySite", sites.at(0));
    }
    std::string morphology_system;
    if (JsonView exts = r["extension"]) {
      for (JsonView ext : exts.items()) {
        if (StrAt(ext, "url") != kHistologyMorphologyBehavior) continue;
        JsonView value = ext["valueCodeableConcept"];
        if (JsonView c = PickCoding(value, {sys::kIcdO3, sys::kSnomed})) {
          dx.morphology = std::string(StrAt(c, "code"));
          morphology_system = std::string(StrAt(c, "system"));
        } else if (value) {
          m.Unmapped("extension:histologyMorphologyBehavior", value);
        }
        break;
      }
    }
    ConditionFacts facts;
    if (JsonView meta = r["meta"]) {
      if (JsonView profiles = meta["profile"]) {
        for (JsonView p : profiles.items()) {
          if (p.str().find(kPrimaryCancerCondition) != std::string_view::npos) {
            facts.profile = model::NeoplasmKind::kPrimaryCancer;
          }
          if (p.str().find(kSecondaryCancerCondition) != std::string_view::npos) {
            facts.profile = model::NeoplasmKind::kSecondaryCancer;
          }
        }
      }
    }
    if (JsonView categories = r["category"]) {
      for (JsonView cat : categories.items()) {
        JsonView codings = Codings(cat);
        if (!codings) continue;
        for (JsonView c : codings.items()) {
          if (StrAt(c, "code") == "metastasis" ||
              StrAt(c, "display").find("etasta") != std::string_view::npos) {
            facts.metastasis_category = true;
          }
        }
      }
    }
    if (morphology_system == sys::kIcdO3)
      facts.behaviour = model::IcdO3BehaviourKind(dx.morphology);
    std::string left_out;
    const std::optional<model::NeoplasmKind> kind = ClassifyCondition(dx.code, facts, left_out);
    if (!kind) {
      ++out.conditions_left_out[left_out];
      return true;
    }
    dx.primary = *kind == model::NeoplasmKind::kPrimaryCancer;
    std::string_view onset = StrAt(r, "onsetDateTime");
    if (onset.empty()) {
      if (JsonView p = r["onsetPeriod"]) onset = StrAt(p, "start");
    }
    if (onset.empty()) onset = StrAt(r, "recordedDate");
    if (!m.Date("Condition.onsetDateTime", onset, d)) return false;
    dx.onset_date = shifted(d);
    if (JsonView stages = r["stage"]) {
      for (JsonView stage : stages.items()) {
        JsonView summary = stage["summary"];
        if (!summary) continue;
        if (JsonView c = PickCoding(summary, {sys::kAjcc})) {
          dx.stage_group = std::string(StrAt(c, "code"));
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
    if (JsonView focus = r["focus"]; focus && !focus.empty()) {
      obs.focus_id = referenced_id(focus.at(0), "Condition");
    }
    obs.code = m.Code("code", r["code"], {sys::kLoinc, sys::kSnomed});
    if (JsonView v = r["valueCodeableConcept"]) {
      JsonView c = PickCoding(v, {sys::kSnomed, sys::kLoinc, sys::kAjcc, sys::kNcit, sys::kIcdO3,
                                  sys::kIcd10, sys::kIcd10Cm});
      obs.value_code = ToCoding(c ? c : FirstCoding(v));
    } else if (JsonView q = r["valueQuantity"]) {
      if (JsonView value = q["value"]) obs.value_number = value.number();
      obs.value_unit = std::string(StrAt(q, "unit"));
      if (obs.value_unit.empty()) obs.value_unit = std::string(StrAt(q, "code"));
    } else if (JsonView i = r["valueInteger"]) {
      obs.value_number = i.number();
    } else if (JsonView b = r["valueBoolean"]) {
      obs.value_number = b.boolean() ? 1.0 : 0.0;
    }
    // valueString is free text: never stored.
    if (JsonView components = r["component"]) {
      for (JsonView component : components.items()) MapGenomicComponent(m, component, obs);
    }
    std::string_view effective = StrAt(r, "effectiveDateTime");
    if (effective.empty()) {
      if (JsonView p = r["effectivePeriod"]) effective = StrAt(p, "start");
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
    JsonView code = r["code"];
    t.code = m.Code("code", code, {sys::kSnomed});
    auto radiotherapy = [&](JsonView cc) {
      JsonView codings = Codings(cc);
      if (!codings) return false;
      for (JsonView c : codings.items()) {
        if (StrAt(c, "system") == sys::kSnomed && Contains(kRadiotherapySnomed, StrAt(c, "code"))) {
          return true;
        }
      }
      return false;
    };
    if (radiotherapy(code) || radiotherapy(r["category"])) {
      t.kind = model::TreatmentKind::kRadiotherapy;
    }
    if (JsonView meta = r["meta"]) {
      if (JsonView profiles = meta["profile"]) {
        for (JsonView p : profiles.items()) {
          for (const char* radiation : kRadiationProcedureProfiles) {
            if (p.str().find(radiation) != std::string_view::npos) {
              t.kind = model::TreatmentKind::kRadiotherapy;
            }
          }
        }
      }
    }
    std::string_view start = StrAt(r, "performedDateTime");
    std::string_view end;
    if (JsonView p = r["performedPeriod"]) {
      if (start.empty()) start = StrAt(p, "start");
      end = StrAt(p, "end");
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
    if (JsonView med = r["medicationCodeableConcept"]) {
      t.code = m.Code("medicationCodeableConcept", med, {sys::kAtc});
    } else if (r["medicationReference"]) {
      ++out.unmapped_codings[type + ".medicationReference (Medication not read)"];
    }
    std::string_view start = StrAt(r, "effectiveDateTime");
    std::string_view end;
    if (JsonView p = r["effectivePeriod"]) {
      if (start.empty()) start = StrAt(p, "start");
      end = StrAt(p, "end");
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
    JsonView specimen_type = r["type"];
    b.type = m.Code("type", specimen_type, {sys::kSnomed});
    b.tumour = b.type.system == sys::kSnomed && Contains(kTumourSpecimenSnomed, b.type.code);
    if (JsonView collection = r["collection"]) {
      if (JsonView site = collection["bodySite"]) {
        b.body_site = m.Code("collection.bodySite", site, {sys::kIcdO3, sys::kSnomed});
      }
      std::string_view collected = StrAt(collection, "collectedDateTime");
      if (collected.empty()) {
        if (JsonView p = collection["collectedPeriod"]) collected = StrAt(p, "start");
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
    JsonView series = r["series"];
    if (JsonView modalities = r["modality"]; modalities && !modalities.empty()) {
      s.modality = std::string(StrAt(modalities.at(0), "code"));
    }
    if (series) {
      for (JsonView se : series.items()) {
        if (s.modality.empty()) {
          if (JsonView mod = se["modality"]) s.modality = std::string(StrAt(mod, "code"));
        }
        if (s.body_site.empty()) {
          if (JsonView site = se["bodySite"]) s.body_site = ToCoding(site);
        }
      }
    }
    if (!m.Date("ImagingStudy.started", StrAt(r, "started"), d)) return false;
    s.started = shifted(d);
    if (JsonView n = r["numberOfSeries"]) {
      s.number_of_series = static_cast<int>(n.number());
    } else if (series) {
      s.number_of_series = static_cast<int>(series.size());
    }
    if (JsonView n = r["numberOfInstances"]) s.number_of_instances = static_cast<int>(n.number());
    out.records.imaging_studies.push_back(std::move(s));
    add_subject(RecordKind::kImagingStudy, out.records.imaging_studies.size() - 1);
    return true;
  }
  return m.Fail("resource type is not mapped");  // unreachable: IsMappedResourceType
}

}  // namespace oncomesh::ingest::fhir_internal
