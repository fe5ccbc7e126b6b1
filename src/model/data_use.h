// A dataset's data use conditions as the GA4GH Data Use Ontology (DUO) states them: one data
// use permission (GRU, HMB, DS, POA, NRES) and its data use modifiers, each modifier with the
// values it is restricted to (countries for GS, a number of months for TS…).
//
// Plain values and their written form, no DUO knowledge: whether a code exists, is a
// permission or a modifier, and which values it takes is auth/duo.h's business
// (ResolveDataUseCondition), so node/ can read node.yaml without depending on auth/.
//
// The written form, in YAML or JSON (JSON is read as YAML), follows the Beacon v2
// `dataUseConditions.duoDataUse` items (an ontology term `id` with `modifiers`):
//
//   id: DS                        # the permission: a DUO id ("DUO:0000007") or shorthand
//   diseases: [NCIT:C2916]        # DS only: the diseases use is restricted to
//   modifiers:
//     - NPU                       # a modifier without values: its code alone, or {id: NPU}
//     - {id: GS, countries: [DE, FR]}
//     - {id: TS, months: 24}
//     - {id: MOR, date: 2026-01-01}
//     - {id: US, users: [alice@uni.example]}     # PS: projects, IS: institutions,
//                                                # RS: topics
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace YAML {
class Emitter;
class Node;
}  // namespace YAML

namespace oncomesh::model {

struct DataUseModifier {
  std::string id;                         // a DUO id, or a shorthand as written
  std::vector<std::string> countries;     // GS: ISO 3166-1 alpha-2 codes
  std::optional<int> months;              // TS: months of use from the permit's start
  std::string date;                       // MOR: "YYYY-MM-DD", no publication before it
  std::vector<std::string> users;         // US: approved users
  std::vector<std::string> projects;      // PS: approved projects
  std::vector<std::string> institutions;  // IS: approved institutions
  std::vector<std::string> topics;        // RS: research types (ontology CURIEs)

  friend bool operator==(const DataUseModifier&, const DataUseModifier&) = default;
};

struct DataUseCondition {
  std::string permission;             // written `id`: a DUO id, or a shorthand as written
  std::vector<std::string> diseases;  // DS: disease CURIEs (NCIt, ICD-10, MONDO…)
  std::vector<DataUseModifier> modifiers;

  friend bool operator==(const DataUseCondition&, const DataUseCondition&) = default;
};

// Reads the written form from a parsed YAML (or JSON) document. Checks the shape only: known
// keys, lists of strings, whole numbers; unknown keys and wrong types are InvalidArgument
// naming the field from `where` on ("node.yaml: datasets[0].data_use.modifiers[1]: unknown
// key 'country'"). Codes and values are kept as written.
Result<DataUseCondition> ReadDataUseCondition(const YAML::Node& node, const std::string& where);

// Writes `condition` as a mapping in the written form; ReadDataUseCondition reads it back
// unchanged. Empty fields are left out.
void EmitDataUseCondition(YAML::Emitter& out, const DataUseCondition& condition);

}  // namespace oncomesh::model
