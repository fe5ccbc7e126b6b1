// GA4GH Data Use Ontology (DUO): the terms, a dataset's data use conditions checked against
// them, a research purpose, and the matcher that decides whether a purpose may use a dataset.
//
// The node enforces the answer: a permit whose purpose does not match its dataset's conditions
// is not issued without an explicit, audited override (auth's permits call Match()).
//
// The terms and their hierarchy come from the DUO release (data/duo/duo_terms.tsv, extracted
// from duo.owl of 2021-02-23 by scripts/extract-duo.py). The rules, and the DUO statements
// they rest on ("DUO:0000007 subClassOf DUO:0000006" is an rdfs:subClassOf axiom of that
// release; "definition" is its IAO_0000115 text, "comment" its rdfs:comment):
//
// Permissions (one per dataset; the purpose states one too, the narrowest that describes it):
//  P1 A purpose whose permission is the dataset's, or a subclass of it, is allowed:
//     DUO:0000006 HMB subClassOf DUO:0000042 GRU, DUO:0000007 DS subClassOf DUO:0000006 HMB,
//     so GRU allows HMB and DS research and HMB allows DS research. Read from the TSV.
//  P2 NRES (DUO:0000004) allows every purpose: its definition says there is no restriction on
//     use. It is not a superclass of the others (it is a sibling under DUO:0000001), so this
//     rule is written down, not derived.
//  P3 GRU (DUO:0000042) also allows POA (DUO:0000011) research: its comment lists "the study of
//     population origins or ancestry" among general research use. HMB does not: its definition
//     says it "does not include the study of population origins or ancestry".
//  P4 POA (DUO:0000011) allows POA research only (definition: "limited to the study of
//     population origins or ancestry"); it sits directly under DUO:0000001, beside GRU.
//  P5 DS (DUO:0000007) with diseases D: the purpose must be DS research, and every disease it
//     names must be one of D or a descendant of one in the disease hierarchy (DS's definition:
//     "provided it is related to the specified disease"; DUO restricts DS to a disease term,
//     'is restricted to' some MONDO:0000001, and leaves the hierarchy to the disease ontology).
// Modifiers (each must hold; the purpose's facts are what the requester states):
//  NPOA DUO:0000044  no population origins or ancestry research
//  NMDS DUO:0000015  no methods development research (definition: "development of software
//                    or algorithms")
//  GSO  DUO:0000016  genetic studies only: the purpose must include genotype research
//  NPUNCU DUO:0000018 both of NPU and NCU (definition: "not-for-profit organizations and
//                    not-for-profit use, non-commercial use"); NPU and NCU are its subclasses
//  NPU  DUO:0000045  the requester's organisation is not for profit
//  NCU  DUO:0000046  the use is not commercial (comment: commercial organisations may use the
//                    data for research, but not for commercial purposes)
//  GS   DUO:0000022  the research happens in one of the listed countries (ISO 3166-1 alpha-2;
//                    DUO restricts GS to a geographic location, GAZ:00000448)
//  TS   DUO:0000025  the requested period is at most the listed number of months (comment:
//                    "coupled with an integer value indicating the number of months")
//  US, PS, IS DUO:0000026/27/28  the user, project or institution is one of those listed
//  RS   DUO:0000012  the purpose's research topics are all among those listed
//  CC   DUO:0000043  permissive: only a dataset with CC (or NRES) may be used for clinical care
//                    (DUO:0000005 GRU-CC was made obsolete and split into GRU and CC, so GRU
//                    alone does not include clinical care)
// Modifiers a node cannot check by itself become attestations the purpose must make, and are
// returned as obligations for the permit to record:
//  IRB  DUO:0000021  the requester names its ethics (IRB/ERB) approval
//  PUB  DUO:0000019  the requester agrees to publish results
//  COL  DUO:0000020  the requester agrees to collaborate with the primary investigators
//  RTN  DUO:0000029  the requester agrees to return derived or enriched data
//  MOR  DUO:0000024  the requester agrees not to publish before the listed date
//
// Not used as permissions or modifiers, and refused where a condition names them: the two
// roots (DUO:0000001, DUO:0000017), obsolete terms (GRU-CC, RU…) and the investigation terms
// (DUO:0000031–DUO:0000040).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "index/vocabulary.h"
#include "model/data_use.h"
#include "util/status.h"

namespace oncomesh::auth {

// The DUO release the embedded table was extracted from (duo.owl's versionIRI), for Beacon's
// `duoDataUse.version`.
inline constexpr const char* kDuoVersion = "2021-02-23";
inline constexpr const char* kDataUsePermission = "DUO:0000001";
inline constexpr const char* kDataUseModifier = "DUO:0000017";

struct DuoTerm {
  std::string id;                          // "DUO:0000007"
  std::string shorthand;                   // "DS"; empty for terms without one
  std::string label;                       // "disease specific research"
  std::vector<std::string> parents;        // rdfs:subClassOf DUO terms
  std::vector<std::string> restricted_to;  // 'is restricted to' some X ("MONDO:0000001")
  bool obsolete = false;
};

// The DUO terms and their subclass hierarchy. Immutable after loading; thread-safe to share.
class DuoOntology {
 public:
  // The table embedded in the binary (data/duo/duo_terms.tsv). Fails only if it is malformed,
  // which is a build defect.
  static Result<DuoOntology> LoadEmbedded();
  // Loads from the text of a table in duo_terms.tsv's format; errors name the line.
  static Result<DuoOntology> Parse(std::string_view tsv);

  // The term for an id ("DUO:0000007") or a shorthand ("DS"), either in any letter case, or
  // nullptr when DUO has no such term.
  const DuoTerm* Find(std::string_view code) const;
  // Whether `id` is `ancestor` or one of its subclasses (reflexive, transitive). Unknown ids
  // are under nothing.
  bool IsA(std::string_view id, std::string_view ancestor) const;
  // A permission / modifier a condition may name: under the root, not the root, not obsolete.
  bool IsPermission(std::string_view id) const;
  bool IsModifier(std::string_view id) const;
  // "DS (DUO:0000007)", or the id alone for terms without a shorthand.
  std::string Name(std::string_view id) const;

  const std::vector<DuoTerm>& terms() const { return terms_; }

 private:
  std::vector<DuoTerm> terms_;
  std::unordered_map<std::string, size_t> by_code_;  // upper-cased id and shorthand -> index
};

// What the requester states about the research, in the facts DUO's modifiers test.
struct ResearchPurpose {
  // The narrowest DUO data use permission describing the research: GRU, HMB, DS or POA (an
  // id after parsing). NRES describes data, not research, and is refused.
  std::string permission;
  std::vector<std::string> diseases;  // DS: the diseases studied (ontology CURIEs)
  bool ancestry_research = false;     // studies population origins or ancestry (POA implies it)
  bool methods_development = false;   // develops methods, software or algorithms
  bool genetic_studies = false;       // includes genotype research
  bool commercial = false;            // for a commercial purpose
  bool not_for_profit_organisation = false;  // the requester's organisation is not for profit
  bool clinical_care = false;                // for clinical use and care
  std::string ethics_approval;               // reference of the IRB/ERB approval; empty: none
  bool agrees_to_publish = false;
  bool agrees_to_collaborate = false;
  bool returns_derived_data = false;
  bool accepts_publication_moratorium = false;
  std::string country;  // ISO 3166-1 alpha-2 code where the research happens
  std::string user;     // who will use the data
  std::string project;
  std::string institution;
  std::optional<int> months;                 // the requested period of use
  std::vector<std::string> research_topics;  // RS: research types (ontology CURIEs)
};

// Where diseases sit in their ontology; owned by the caller (e.g. index::Vocabulary, see
// DiseaseHierarchyOf). `parents_of` must be set; `label_of` may be empty (reasons then show
// CURIEs only) and returns "" for unknown terms.
struct DiseaseHierarchy {
  std::function<std::vector<std::string>(std::string_view)> parents_of;
  std::function<std::string(std::string_view)> label_of;
};
// The vocabulary's hierarchy (ICD-10, ICD-O-3, NCIt). `vocabulary` must outlive the result.
DiseaseHierarchy DiseaseHierarchyOf(const index::Vocabulary& vocabulary);

// Why a purpose does not match, one per unmet condition.
struct MatchReason {
  std::string code;     // the DUO id of the permission or modifier ("DUO:0000007")
  std::string message;  // names the code's shorthand and id and what is missing
};

struct MatchResult {
  bool compatible = false;
  std::vector<MatchReason> reasons;      // empty when compatible
  std::vector<std::string> obligations;  // what the requester attested (IRB, PUB, COL, RTN,
                                         // MOR), for the permit to record
};

// Decides whether research purposes may use data under given conditions. Holds references to
// its ontologies, which must outlive it. Thread-safe.
class DuoMatcher {
 public:
  DuoMatcher(const DuoOntology& duo, DiseaseHierarchy diseases)
      : duo_(duo), diseases_(std::move(diseases)) {}

  // Matches a resolved condition (ResolveDataUseCondition) against a parsed purpose
  // (ParseResearchPurpose). Every unmet condition gives a reason; none is skipped after the
  // first, so a requester sees all that is missing at once.
  MatchResult Match(const model::DataUseCondition& conditions,
                    const ResearchPurpose& purpose) const;

  // Whether `disease` is `ancestor` or below it in the disease hierarchy.
  bool DiseaseIsUnder(std::string_view disease, std::string_view ancestor) const;

 private:
  std::string DiseaseName(std::string_view curie) const;

  const DuoOntology& duo_;
  DiseaseHierarchy diseases_;
};

// Checks a condition in its written form against DUO and returns it with every code as its
// DUO id: the permission is a permission, the modifiers are modifiers, each at most once, and
// each has exactly the values its code takes (table in the file comment; DS needs diseases,
// others none). InvalidArgument naming the field from `where` on, and the code:
// "datasets[0].data_use.modifiers[1]: GS (DUO:0000022) needs 'countries'".
Result<model::DataUseCondition> ResolveDataUseCondition(const model::DataUseCondition& written,
                                                        const DuoOntology& duo,
                                                        const std::string& where);

// Parses and resolves a condition from JSON or YAML text (model/data_use.h's written form).
Result<model::DataUseCondition> ParseDataUseCondition(std::string_view text,
                                                      const DuoOntology& duo);

// Parses a purpose from JSON or YAML text: `id` (the permission, as for conditions), and the
// fields of ResearchPurpose under their names ("diseases", "commercial", "country"…).
// Unknown keys, wrong types, unknown codes, a DS purpose without diseases (or diseases without
// DS) and contradictions (ancestry research under HMB or DS) are InvalidArgument naming the
// field.
Result<ResearchPurpose> ParseResearchPurpose(std::string_view text, const DuoOntology& duo);

// The written form as JSON (what ParseDataUseCondition reads back).
nlohmann::json DataUseConditionToJson(const model::DataUseCondition& condition);

// A resolved condition as a Beacon v2 `dataUseConditions` object (Beacon v2 default model,
// common/dataUseConditions.json): one `duoDataUse` item, the permission as an ontology term
// with `version`, and `modifiers` holding the DS diseases first (as the Beacon example puts a
// disease there) and then the DUO modifiers. GS, TS, MOR and RS values ride along on their
// modifier as `countries`, `months`, `date`, `topics` (ontologyTerm allows extra properties);
// US, PS and IS name people and projects and are not published, only their code.
nlohmann::json BeaconDataUseConditions(const model::DataUseCondition& condition,
                                       const DuoOntology& duo, const DiseaseHierarchy& diseases);

}  // namespace oncomesh::auth
