// HGVS protein change normalisation, so that the same variant written the ways sources write
// it is stored one way (data/vocab/genomic_terms.tsv keys on that form). Internal to ingest/fhir.
#pragma once

#include <string>
#include <string_view>

namespace oncomesh::ingest::fhir_internal {

// The HGVS protein change `text` with 3-letter amino acid codes, without its reference sequence
// and without the parentheses of a predicted consequence (HGVS recommendations, "Protein":
// https://hgvs-nomenclature.org/stable/recommendations/protein/):
//   "NP_005219.2:p.(Leu858Arg)", "p.L858R", "L858R" -> "p.Leu858Arg"
//   "p.E746_A750del" -> "p.Glu746_Ala750del"; "p.G12*" -> "p.Gly12Ter".
// Text it cannot read as a protein change is returned as written (surrounding spaces removed).
std::string NormalizeProteinChange(std::string_view text);

}  // namespace oncomesh::ingest::fhir_internal
