// Vocabularies the index derives Beacon filtering terms from: the terms with their labels and
// hierarchy (ICD-10, ICD-O-3, NCIt, ATC), and the tables that say what a record's codes mean
// as terms. Loaded from data/vocab/*.tsv (formats in data/README.md), embedded in the binary.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/model.h"
#include "util/status.h"

namespace oncomesh::index {

struct Term {
  std::string curie;  // "ICD10:C50.9"
  std::string label;  // "Malignant neoplasm: Breast, unspecified"
  std::vector<std::string> parents;
};

class Vocabulary {
 public:
  // The vocabularies embedded in the binary. Fails only if they are malformed (a build bug).
  static Result<Vocabulary> LoadEmbedded();

  // Loads from the text of the four tables; an empty text means an empty table. Errors name
  // the table and line.
  static Result<Vocabulary> Parse(std::string_view terms_tsv, std::string_view observation_tsv,
                                  std::string_view procedure_tsv, std::string_view icd10_ncit_tsv,
                                  std::string_view genomic_tsv = {});

  // The term, or nullptr when the vocabulary does not know it.
  const Term* Find(std::string_view curie) const;
  // Its label, or the CURIE itself when unknown.
  std::string Label(std::string_view curie) const;

  // Parents of a CURIE. For ICD-10 and ICD-O-3 topography codes that the table does not list
  // (e.g. ICD-10-CM "C50.911"), the parent is derived by shortening the code.
  std::vector<std::string> ParentsOf(std::string_view curie) const;

  // Term for an observation's code and coded value, or nullopt.
  std::optional<std::string> ObservationTerm(const model::Coding& code,
                                             const model::Coding& value) const;
  // Term and kind for a procedure code, or nullopt.
  struct ProcedureMapping {
    model::TreatmentKind kind;
    std::string curie;
  };
  std::optional<ProcedureMapping> Procedure(const model::Coding& code) const;
  // The NCIt cancer concept for an ICD-10 code and ICD-O-3 morphology, or nullopt.
  std::optional<std::string> CancerConcept(std::string_view icd10,
                                           std::string_view morphology) const;
  // Term for a genomic finding: gene (HGNC id, e.g. "HGNC:3236") and HGVS protein change
  // ("p.Leu858Arg"); the gene's "*" row when the change has no term of its own; nullopt when
  // the gene is not in the table.
  std::optional<std::string> GenomicTerm(std::string_view gene,
                                         std::string_view protein_change) const;
  // Stage term for an AJCC stage group as written in Condition.stage ("3A" or "IIIA").
  std::optional<std::string> StageTerm(std::string_view stage_group) const;

  const std::unordered_map<std::string, Term>& terms() const { return terms_; }

 private:
  std::unordered_map<std::string, Term> terms_;
  // "system|code|value_system|value_code" -> curie; value part "*" for any value.
  std::unordered_map<std::string, std::string> observation_terms_;
  std::unordered_map<std::string, ProcedureMapping> procedure_terms_;  // "system|code"
  struct CancerMapping {
    std::string icd10;
    std::string morphology_prefix;
    std::string curie;
  };
  std::vector<CancerMapping> cancer_concepts_;
  std::unordered_map<std::string, std::string> genomic_terms_;  // "gene|change" or "gene|*"
};

// The CURIE of a diagnosis code ("ICD10:C50.9" for ICD-10 and ICD-10-CM; "SNOMED:…"), or
// empty when the code system is not one the index uses.
std::string DiagnosisCurie(const model::Coding& code);

}  // namespace oncomesh::index
