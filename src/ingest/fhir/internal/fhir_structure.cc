#include "ingest/fhir/internal/fhir_structure.h"

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace oncomesh::ingest::fhir_internal {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

enum class Kind : uint8_t { kString, kNumber, kBoolean, kObject };

struct Type;

// Transparent hash, so that lookups by string_view (simdjson's keys) do not allocate.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct Element {
  bool array = false;  // cardinality 0..* (a JSON array), else 0..1 / 1..1 (never an array)
  Kind kind = Kind::kString;
  const Type* type = nullptr;  // for kObject: its own elements, when we check inside it
};

// A FHIR complex type or resource: element name -> definition. Keyed lookups while walking the
// JSON object's own members, so the cost grows with what a resource holds, not with the table.
struct Type {
  std::unordered_map<std::string, Element, StringHash, std::equal_to<>> elements;
};

Element Str() { return {false, Kind::kString, nullptr}; }
Element Num() { return {false, Kind::kNumber, nullptr}; }
Element Bool() { return {false, Kind::kBoolean, nullptr}; }
Element StrArray() { return {true, Kind::kString, nullptr}; }
Element One(const Type& t) { return {false, Kind::kObject, &t}; }
Element Many(const Type& t) { return {true, Kind::kObject, &t}; }
Element OneObject() { return {false, Kind::kObject, nullptr}; }
Element ManyObjects() { return {true, Kind::kObject, nullptr}; }

// The data types and resources, FHIR R4 (4.0.1). Built once, never changed: thread-safe reads.
struct Schema {
  Type coding, codeable_concept, reference, identifier, period, quantity, extension, meta,
      narrative, annotation, human_name, contact_point, address;
  Type patient, condition, condition_stage, condition_evidence, observation, observation_component,
      procedure, procedure_performer, medication_statement, medication_administration,
      medication_administration_performer, medication_request, specimen, specimen_collection,
      imaging_study, imaging_study_series, imaging_study_series_performer;
  std::unordered_map<std::string, const Type*, StringHash, std::equal_to<>> resources;

  Schema() {
    coding.elements = {{"system", Str()},
                       {"version", Str()},
                       {"code", Str()},
                       {"display", Str()},
                       {"userSelected", Bool()},
                       {"id", Str()},
                       {"extension", Many(extension)}};
    codeable_concept.elements = {
        {"coding", Many(coding)}, {"text", Str()}, {"id", Str()}, {"extension", Many(extension)}};
    reference.elements = {{"reference", Str()}, {"type", Str()},
                          {"display", Str()},   {"identifier", One(identifier)},
                          {"id", Str()},        {"extension", Many(extension)}};
    identifier.elements = {{"use", Str()},          {"type", One(codeable_concept)},
                           {"system", Str()},       {"value", Str()},
                           {"period", One(period)}, {"assigner", One(reference)},
                           {"id", Str()},           {"extension", Many(extension)}};
    period.elements = {
        {"start", Str()}, {"end", Str()}, {"id", Str()}, {"extension", Many(extension)}};
    quantity.elements = {{"value", Num()},
                         {"comparator", Str()},
                         {"unit", Str()},
                         {"system", Str()},
                         {"code", Str()},
                         {"id", Str()},
                         {"extension", Many(extension)}};
    extension.elements = {{"url", Str()},
                          {"extension", Many(extension)},
                          {"valueCodeableConcept", One(codeable_concept)},
                          {"valueCoding", One(coding)},
                          {"valueReference", One(reference)},
                          {"valueString", Str()},
                          {"valueCode", Str()},
                          {"valueDateTime", Str()},
                          {"valueBoolean", Bool()},
                          {"valueInteger", Num()},
                          {"valueDecimal", Num()},
                          {"valuePeriod", One(period)},
                          {"valueQuantity", One(quantity)},
                          {"id", Str()}};
    meta.elements = {{"versionId", Str()},    {"lastUpdated", Str()},        {"source", Str()},
                     {"profile", StrArray()}, {"security", Many(coding)},    {"tag", Many(coding)},
                     {"id", Str()},           {"extension", Many(extension)}};
    narrative.elements = {{"status", Str()}, {"div", Str()}};
    annotation.elements = {{"authorReference", One(reference)},
                           {"authorString", Str()},
                           {"time", Str()},
                           {"text", Str()}};
    human_name.elements = {{"use", Str()},         {"text", Str()},        {"family", Str()},
                           {"given", StrArray()},  {"prefix", StrArray()}, {"suffix", StrArray()},
                           {"period", One(period)}};
    contact_point.elements = {{"system", Str()},
                              {"value", Str()},
                              {"use", Str()},
                              {"rank", Num()},
                              {"period", One(period)}};
    address.elements = {{"use", Str()},
                        {"type", Str()},
                        {"text", Str()},
                        {"line", StrArray()},
                        {"city", Str()},
                        {"district", Str()},
                        {"state", Str()},
                        {"postalCode", Str()},
                        {"country", Str()},
                        {"period", One(period)},
                        {"extension", Many(extension)}};

    // Resource / DomainResource elements shared by every mapped resource.
    auto domain_resource = [&](Type& t) {
      t.elements.insert({{"resourceType", Str()},
                         {"id", Str()},
                         {"meta", One(meta)},
                         {"implicitRules", Str()},
                         {"language", Str()},
                         {"text", One(narrative)},
                         {"contained", ManyObjects()},
                         {"extension", Many(extension)},
                         {"modifierExtension", Many(extension)},
                         {"identifier", Many(identifier)}});
    };

    // https://hl7.org/fhir/R4/patient-definitions.html
    patient.elements = {{"active", Bool()},
                        {"name", Many(human_name)},
                        {"telecom", Many(contact_point)},
                        {"gender", Str()},
                        {"birthDate", Str()},
                        {"deceasedBoolean", Bool()},
                        {"deceasedDateTime", Str()},
                        {"address", Many(address)},
                        {"maritalStatus", One(codeable_concept)},
                        {"multipleBirthBoolean", Bool()},
                        {"multipleBirthInteger", Num()},
                        {"photo", ManyObjects()},
                        {"contact", ManyObjects()},
                        {"communication", ManyObjects()},
                        {"generalPractitioner", Many(reference)},
                        {"managingOrganization", One(reference)},
                        {"link", ManyObjects()}};
    domain_resource(patient);

    // https://hl7.org/fhir/R4/condition-definitions.html
    condition_stage.elements = {{"summary", One(codeable_concept)},
                                {"assessment", Many(reference)},
                                {"type", One(codeable_concept)}};
    condition_evidence.elements = {{"code", Many(codeable_concept)}, {"detail", Many(reference)}};
    condition.elements = {{"clinicalStatus", One(codeable_concept)},
                          {"verificationStatus", One(codeable_concept)},
                          {"category", Many(codeable_concept)},
                          {"severity", One(codeable_concept)},
                          {"code", One(codeable_concept)},
                          {"bodySite", Many(codeable_concept)},
                          {"subject", One(reference)},
                          {"encounter", One(reference)},
                          {"onsetDateTime", Str()},
                          {"onsetPeriod", One(period)},
                          {"onsetString", Str()},
                          {"onsetAge", One(quantity)},
                          {"abatementDateTime", Str()},
                          {"abatementPeriod", One(period)},
                          {"abatementString", Str()},
                          {"abatementBoolean", Bool()},
                          {"recordedDate", Str()},
                          {"recorder", One(reference)},
                          {"asserter", One(reference)},
                          {"stage", Many(condition_stage)},
                          {"evidence", Many(condition_evidence)},
                          {"note", Many(annotation)}};
    domain_resource(condition);

    // https://hl7.org/fhir/R4/observation-definitions.html
    observation_component.elements = {{"code", One(codeable_concept)},
                                      {"valueQuantity", One(quantity)},
                                      {"valueCodeableConcept", One(codeable_concept)},
                                      {"valueString", Str()},
                                      {"valueBoolean", Bool()},
                                      {"valueInteger", Num()},
                                      {"valueRange", OneObject()},
                                      {"valueRatio", OneObject()},
                                      {"valuePeriod", One(period)},
                                      {"valueDateTime", Str()},
                                      {"dataAbsentReason", One(codeable_concept)},
                                      {"interpretation", Many(codeable_concept)},
                                      {"referenceRange", ManyObjects()},
                                      {"extension", Many(extension)},
                                      {"modifierExtension", Many(extension)}};
    observation.elements = {{"basedOn", Many(reference)},
                            {"partOf", Many(reference)},
                            {"status", Str()},
                            {"category", Many(codeable_concept)},
                            {"code", One(codeable_concept)},
                            {"subject", One(reference)},
                            {"focus", Many(reference)},
                            {"encounter", One(reference)},
                            {"effectiveDateTime", Str()},
                            {"effectivePeriod", One(period)},
                            {"effectiveTiming", OneObject()},
                            {"effectiveInstant", Str()},
                            {"issued", Str()},
                            {"performer", Many(reference)},
                            {"valueQuantity", One(quantity)},
                            {"valueCodeableConcept", One(codeable_concept)},
                            {"valueString", Str()},
                            {"valueBoolean", Bool()},
                            {"valueInteger", Num()},
                            {"valueRange", OneObject()},
                            {"valueRatio", OneObject()},
                            {"valueSampledData", OneObject()},
                            {"valueTime", Str()},
                            {"valueDateTime", Str()},
                            {"valuePeriod", One(period)},
                            {"dataAbsentReason", One(codeable_concept)},
                            {"interpretation", Many(codeable_concept)},
                            {"note", Many(annotation)},
                            {"bodySite", One(codeable_concept)},
                            {"method", One(codeable_concept)},
                            {"specimen", One(reference)},
                            {"device", One(reference)},
                            {"referenceRange", ManyObjects()},
                            {"hasMember", Many(reference)},
                            {"derivedFrom", Many(reference)},
                            {"component", Many(observation_component)}};
    domain_resource(observation);

    // https://hl7.org/fhir/R4/procedure-definitions.html
    procedure_performer.elements = {{"function", One(codeable_concept)},
                                    {"actor", One(reference)},
                                    {"onBehalfOf", One(reference)}};
    procedure.elements = {{"instantiatesCanonical", StrArray()},
                          {"instantiatesUri", StrArray()},
                          {"basedOn", Many(reference)},
                          {"partOf", Many(reference)},
                          {"status", Str()},
                          {"statusReason", One(codeable_concept)},
                          {"category", One(codeable_concept)},
                          {"code", One(codeable_concept)},
                          {"subject", One(reference)},
                          {"encounter", One(reference)},
                          {"performedDateTime", Str()},
                          {"performedPeriod", One(period)},
                          {"performedString", Str()},
                          {"performedAge", One(quantity)},
                          {"performedRange", OneObject()},
                          {"recorder", One(reference)},
                          {"asserter", One(reference)},
                          {"performer", Many(procedure_performer)},
                          {"location", One(reference)},
                          {"reasonCode", Many(codeable_concept)},
                          {"reasonReference", Many(reference)},
                          {"bodySite", Many(codeable_concept)},
                          {"outcome", One(codeable_concept)},
                          {"report", Many(reference)},
                          {"complication", Many(codeable_concept)},
                          {"complicationDetail", Many(reference)},
                          {"followUp", Many(codeable_concept)},
                          {"note", Many(annotation)},
                          {"focalDevice", ManyObjects()},
                          {"usedReference", Many(reference)},
                          {"usedCode", Many(codeable_concept)}};
    domain_resource(procedure);

    // https://hl7.org/fhir/R4/medicationstatement-definitions.html
    medication_statement.elements = {{"basedOn", Many(reference)},
                                     {"partOf", Many(reference)},
                                     {"status", Str()},
                                     {"statusReason", Many(codeable_concept)},
                                     {"category", One(codeable_concept)},
                                     {"medicationCodeableConcept", One(codeable_concept)},
                                     {"medicationReference", One(reference)},
                                     {"subject", One(reference)},
                                     {"context", One(reference)},
                                     {"effectiveDateTime", Str()},
                                     {"effectivePeriod", One(period)},
                                     {"dateAsserted", Str()},
                                     {"informationSource", One(reference)},
                                     {"derivedFrom", Many(reference)},
                                     {"reasonCode", Many(codeable_concept)},
                                     {"reasonReference", Many(reference)},
                                     {"note", Many(annotation)},
                                     {"dosage", ManyObjects()}};
    domain_resource(medication_statement);

    // https://hl7.org/fhir/R4/medicationadministration-definitions.html
    medication_administration_performer.elements = {{"function", One(codeable_concept)},
                                                    {"actor", One(reference)}};
    medication_administration.elements = {{"instantiates", StrArray()},
                                          {"partOf", Many(reference)},
                                          {"status", Str()},
                                          {"statusReason", Many(codeable_concept)},
                                          {"category", One(codeable_concept)},
                                          {"medicationCodeableConcept", One(codeable_concept)},
                                          {"medicationReference", One(reference)},
                                          {"subject", One(reference)},
                                          {"context", One(reference)},
                                          {"supportingInformation", Many(reference)},
                                          {"effectiveDateTime", Str()},
                                          {"effectivePeriod", One(period)},
                                          {"performer", Many(medication_administration_performer)},
                                          {"reasonCode", Many(codeable_concept)},
                                          {"reasonReference", Many(reference)},
                                          {"request", One(reference)},
                                          {"device", Many(reference)},
                                          {"note", Many(annotation)},
                                          {"dosage", OneObject()},
                                          {"eventHistory", Many(reference)}};
    domain_resource(medication_administration);

    // https://hl7.org/fhir/R4/medicationrequest-definitions.html
    medication_request.elements = {{"status", Str()},
                                   {"statusReason", One(codeable_concept)},
                                   {"intent", Str()},
                                   {"category", Many(codeable_concept)},
                                   {"priority", Str()},
                                   {"doNotPerform", Bool()},
                                   {"reportedBoolean", Bool()},
                                   {"reportedReference", One(reference)},
                                   {"medicationCodeableConcept", One(codeable_concept)},
                                   {"medicationReference", One(reference)},
                                   {"subject", One(reference)},
                                   {"encounter", One(reference)},
                                   {"supportingInformation", Many(reference)},
                                   {"authoredOn", Str()},
                                   {"requester", One(reference)},
                                   {"performer", One(reference)},
                                   {"performerType", One(codeable_concept)},
                                   {"recorder", One(reference)},
                                   {"reasonCode", Many(codeable_concept)},
                                   {"reasonReference", Many(reference)},
                                   {"instantiatesCanonical", StrArray()},
                                   {"instantiatesUri", StrArray()},
                                   {"basedOn", Many(reference)},
                                   {"groupIdentifier", One(identifier)},
                                   {"courseOfTherapyType", One(codeable_concept)},
                                   {"insurance", Many(reference)},
                                   {"note", Many(annotation)},
                                   {"dosageInstruction", ManyObjects()},
                                   {"dispenseRequest", OneObject()},
                                   {"substitution", OneObject()},
                                   {"priorPrescription", One(reference)},
                                   {"detectedIssue", Many(reference)},
                                   {"eventHistory", Many(reference)}};
    domain_resource(medication_request);

    // https://hl7.org/fhir/R4/specimen-definitions.html
    specimen_collection.elements = {{"collector", One(reference)},
                                    {"collectedDateTime", Str()},
                                    {"collectedPeriod", One(period)},
                                    {"duration", One(quantity)},
                                    {"quantity", One(quantity)},
                                    {"method", One(codeable_concept)},
                                    {"bodySite", One(codeable_concept)},
                                    {"fastingStatusCodeableConcept", One(codeable_concept)},
                                    {"fastingStatusDuration", One(quantity)}};
    specimen.elements = {{"accessionIdentifier", One(identifier)},
                         {"status", Str()},
                         {"type", One(codeable_concept)},
                         {"subject", One(reference)},
                         {"receivedTime", Str()},
                         {"parent", Many(reference)},
                         {"request", Many(reference)},
                         {"collection", One(specimen_collection)},
                         {"processing", ManyObjects()},
                         {"container", ManyObjects()},
                         {"condition", Many(codeable_concept)},
                         {"note", Many(annotation)}};
    domain_resource(specimen);

    // https://hl7.org/fhir/R4/imagingstudy-definitions.html
    imaging_study_series_performer.elements = {{"function", One(codeable_concept)},
                                               {"actor", One(reference)}};
    imaging_study_series.elements = {{"uid", Str()},
                                     {"number", Num()},
                                     {"modality", One(coding)},
                                     {"description", Str()},
                                     {"numberOfInstances", Num()},
                                     {"endpoint", Many(reference)},
                                     {"bodySite", One(coding)},
                                     {"laterality", One(coding)},
                                     {"specimen", Many(reference)},
                                     {"started", Str()},
                                     {"performer", Many(imaging_study_series_performer)},
                                     {"instance", ManyObjects()}};
    imaging_study.elements = {{"status", Str()},
                              {"modality", Many(coding)},
                              {"subject", One(reference)},
                              {"encounter", One(reference)},
                              {"started", Str()},
                              {"basedOn", Many(reference)},
                              {"referrer", One(reference)},
                              {"interpreter", Many(reference)},
                              {"endpoint", Many(reference)},
                              {"numberOfSeries", Num()},
                              {"numberOfInstances", Num()},
                              {"procedureReference", One(reference)},
                              {"procedureCode", Many(codeable_concept)},
                              {"location", One(reference)},
                              {"reasonCode", Many(codeable_concept)},
                              {"reasonReference", Many(reference)},
                              {"note", Many(annotation)},
                              {"description", Str()},
                              {"series", Many(imaging_study_series)}};
    domain_resource(imaging_study);

    resources = {{"Patient", &patient},
                 {"Condition", &condition},
                 {"Observation", &observation},
                 {"Procedure", &procedure},
                 {"MedicationStatement", &medication_statement},
                 {"MedicationAdministration", &medication_administration},
                 {"MedicationRequest", &medication_request},
                 {"Specimen", &specimen},
                 {"ImagingStudy", &imaging_study}};
  }
};

const Schema& GetSchema() {
  static const Schema* const schema = new Schema();
  return *schema;
}

const char* JsonTypeName(element j) {
  switch (j.type()) {
    case element_type::NULL_VALUE:
      return "null";
    case element_type::OBJECT:
      return "an object";
    case element_type::ARRAY:
      return "an array";
    case element_type::STRING:
      return "a string";
    case element_type::BOOL:
      return "a boolean";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      return "a number";
  }
  return "an unexpected value";
}

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kString:
      return "a string";
    case Kind::kNumber:
      return "a number";
    case Kind::kBoolean:
      return "a boolean";
    case Kind::kObject:
      return "an object";
  }
  return "?";
}

bool HasKind(element j, Kind k) {
  switch (k) {
    case Kind::kString:
      return j.is_string();
    case Kind::kNumber:
      return j.is_number();
    case Kind::kBoolean:
      return j.is_bool();
    case Kind::kObject:
      return j.is_object();
  }
  return false;
}

class Checker {
 public:
  Checker(std::string& problems, int max_problems) : problems_(problems), max_(max_problems) {}

  void CheckObject(simdjson::dom::object obj, const Type& type, std::string& path) {
    for (const simdjson::dom::key_value_pair field : obj) {
      if (count_ >= max_) return;
      const std::string_view key = field.key;
      if (!key.empty() && key[0] == '_') continue;  // primitive extensions: not read
      auto def = type.elements.find(key);
      if (def == type.elements.end()) continue;  // not read: not checked
      const Element& e = def->second;
      const size_t mark = path.size();
      path.push_back('.');
      path.append(key);
      const element v = field.value;
      if (e.array) {
        simdjson::dom::array items;
        if (v.get_array().get(items) != simdjson::SUCCESS) {
          Problem(path,
                  std::string("expected an array (cardinality 0..*), found ") + JsonTypeName(v));
        } else {
          size_t i = 0;
          for (const element item : items) {
            const size_t item_mark = path.size();
            path.append("[").append(std::to_string(i++)).append("]");
            CheckValue(item, e, path);
            path.resize(item_mark);
          }
        }
      } else if (v.is_array()) {
        Problem(path, "expected a single value (cardinality 0..1), found an array");
      } else {
        CheckValue(v, e, path);
      }
      path.resize(mark);
    }
  }

  int count() const { return count_; }

 private:
  void CheckValue(element v, const Element& e, std::string& path) {
    if (!HasKind(v, e.kind)) {
      Problem(path, std::string("expected ") + KindName(e.kind) + ", found " + JsonTypeName(v));
      return;
    }
    if (e.kind == Kind::kObject && e.type != nullptr) {
      CheckObject(v.get_object().value_unsafe(), *e.type, path);
    }
  }

  void Problem(const std::string& path, const std::string& what) {
    if (count_ >= max_) return;
    if (!problems_.empty()) problems_.append("; ");
    problems_.append(path).append(": ").append(what);
    ++count_;
  }

  std::string& problems_;
  int max_;
  int count_ = 0;
};

}  // namespace

bool IsMappedResourceType(std::string_view type) {
  const auto& resources = GetSchema().resources;
  return resources.find(type) != resources.end();
}

int CheckStructure(simdjson::dom::object resource, std::string_view type, std::string& problems,
                   int max_problems) {
  const Schema& schema = GetSchema();
  auto it = schema.resources.find(type);
  if (it == schema.resources.end()) return 0;
  Checker checker(problems, max_problems);
  std::string path(type);
  checker.CheckObject(resource, *it->second, path);
  return checker.count();
}

}  // namespace oncomesh::ingest::fhir_internal
