// Which diagnoses are cancers, decided by their codes (docs/fhir-profile.md, "Which Conditions
// are cancers"): ICD-10 (WHO and ICD-10-CM) chapter II ranges, the ICD-O-3 behaviour digit of
// a morphology, and SNOMED CT condition codes through their ICD-10 map
// (data/vocab/snomed_icd10.tsv, compiled in). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace oncomesh::model {

enum class NeoplasmKind : uint8_t {
  kNotCancer,        // any other code: benign neoplasms (D10-D36) and everything outside C00-D49
  kPrimaryCancer,    // malignant C00-C76, C7A, C80-C97; in situ D00-D09; uncertain or
                     // unspecified behaviour D37-D49 (mCODE PrimaryCancerCondition)
  kSecondaryCancer,  // secondary malignant C77-C79, C7B (mCODE SecondaryCancerCondition)
};

// The kind of an ICD-10 or ICD-10-CM code ("C50.9", "C7B.01", "D40.0", "C61", "I10").
// Case-sensitive, as both systems write their codes; anything that is not a code of chapter II
// (malformed text included) is kNotCancer.
NeoplasmKind Icd10Kind(std::string_view code);

// The kind an ICD-O-3 morphology's behaviour digit gives ("8500/3" primary; /6 secondary;
// /1, /2, /3 and /9 primary; /0 benign: not a cancer). nullopt when the code carries no
// behaviour ("8500", a SNOMED CT morphology code).
std::optional<NeoplasmKind> IcdO3BehaviourKind(std::string_view morphology);

// The ICD-10 code a SNOMED CT condition code maps to, or nullopt when the table has no row
// for it (the code is then "unmapped").
std::optional<std::string> SnomedToIcd10(std::string_view snomed_code);

}  // namespace oncomesh::model
