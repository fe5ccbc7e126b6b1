// An independent reading of a synthetic FHIR export, for checking the node's answers: it
// reads the NDJSON files directly (nothing of OncoMesh's ingest, store or index) and knows,
// per patient, the facts the Beacon queries in the tests ask about.
#pragma once

#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>

namespace oncomesh::testing {

// A calendar date as FHIR writes it (the date part of a date or dateTime, local to the
// writer), read here without OncoMesh's model::ParseDate so that a bug there cannot hide.
struct OracleDate {
  int year = 0, month = 0, day = 0;  // 0: unknown

  bool known() const { return year != 0; }
  friend bool operator<(const OracleDate& a, const OracleDate& b) {
    return std::tie(a.year, a.month, a.day) < std::tie(b.year, b.month, b.day);
  }
  // "YYYY-MM-DD", optionally followed by "T..." (a dateTime); anything else is unknown.
  static OracleDate Parse(const std::string& text) {
    OracleDate d;
    int consumed = 0;
    if (text.size() < 10 || (text.size() > 10 && text[10] != 'T') ||
        std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &d.year, &d.month, &d.day, &consumed) != 3 ||
        consumed != 10 || d.month < 1 || d.month > 12 || d.day < 1 || d.day > 31) {
      return OracleDate{};
    }
    return d;
  }
  // Whole years from `birth` to `on`: the birthday counts from its day (29 February from
  // 1 March in common years, as the day before it is not yet the birthday).
  static int WholeYears(const OracleDate& birth, const OracleDate& on) {
    int years = on.year - birth.year;
    if (std::tie(on.month, on.day) < std::tie(birth.month, birth.day)) --years;
    return years;
  }
};

struct PatientFacts {
  std::string gender;
  OracleDate birth;
  bool deceased = false;
  std::set<std::string> icd10;         // "C50.4"
  std::set<std::string> stage_codes;   // AJCC "3A"
  std::set<std::string> observations;  // "loinc|value"
  std::set<std::string> atc;           // "L01FD01"
  std::set<std::string> genomic;       // "HGNC:3236|p.Leu858Arg" (gene|amino acid change)
  OracleDate first_primary;
  int biosamples = 0;

  bool HasIcd10Prefix(const std::string& prefix) const {
    for (const auto& c : icd10) {
      if (c.rfind(prefix, 0) == 0) return true;
    }
    return false;
  }
  bool HasAtcPrefix(const std::string& prefix) const {
    for (const auto& c : atc) {
      if (c.rfind(prefix, 0) == 0) return true;
    }
    return false;
  }
  bool HasStageGroup(char group) const {  // '1'..'4'
    for (const auto& s : stage_codes) {
      if (!s.empty() && s[0] == group) return true;
    }
    return false;
  }
  int AgeAtDiagnosis() const {
    if (!birth.known() || !first_primary.known()) return -1;
    return OracleDate::WholeYears(birth, first_primary);
  }
};

inline std::string PatientOf(const nlohmann::json& r) {
  const std::string ref = r["subject"]["reference"];
  return ref.substr(ref.find('/') + 1);
}

inline void ForEachLine(const std::string& path,
                        const std::function<void(const nlohmann::json&)>& fn) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) fn(nlohmann::json::parse(line));
  }
}

inline std::map<std::string, PatientFacts> ReadFhirFacts(const std::string& dir) {
  std::map<std::string, PatientFacts> facts;
  ForEachLine(dir + "/Patient.ndjson", [&](const nlohmann::json& r) {
    PatientFacts& f = facts[r["id"]];
    f.gender = r.value("gender", "");
    f.birth = OracleDate::Parse(r.value("birthDate", ""));
    f.deceased = r.contains("deceasedDateTime") || r.value("deceasedBoolean", false);
  });
  ForEachLine(dir + "/Condition.ndjson", [&](const nlohmann::json& r) {
    PatientFacts& f = facts[PatientOf(r)];
    for (const auto& c : r["code"]["coding"]) {
      if (c["system"] == "http://hl7.org/fhir/sid/icd-10")
        f.icd10.insert(c["code"].get<std::string>());
    }
    const std::string profile = r["meta"]["profile"][0];
    if (profile.find("primary") != std::string::npos && r.contains("onsetDateTime")) {
      const OracleDate d = OracleDate::Parse(r["onsetDateTime"].get<std::string>());
      if (!d.known()) throw std::runtime_error("fhir_oracle: unreadable onsetDateTime " + r.dump());
      if (!f.first_primary.known() || d < f.first_primary) f.first_primary = d;
    }
  });
  ForEachLine(dir + "/Observation.ndjson", [&](const nlohmann::json& r) {
    PatientFacts& f = facts[PatientOf(r)];
    const std::string code = r["code"]["coding"][0]["code"];
    if (!r.contains("valueCodeableConcept")) return;
    const std::string value = r["valueCodeableConcept"]["coding"][0]["code"];
    if (code == "21908-9" || code == "21902-2") f.stage_codes.insert(value);
    f.observations.insert(code + "|" + value);
    if (code == "69548-6" && value == "LA9633-4") {
      std::string gene, change;
      for (const auto& c : r.value("component", nlohmann::json::array())) {
        const std::string what = c["code"]["coding"][0]["code"];
        if (!c.contains("valueCodeableConcept")) continue;
        const std::string v = c["valueCodeableConcept"]["coding"][0]["code"];
        if (what == "48018-6") gene = v;
        if (what == "48005-3") change = v;
      }
      f.genomic.insert(gene + "|" + change);
    }
  });
  for (const char* file : {"/MedicationStatement.ndjson", "/MedicationAdministration.ndjson"}) {
    ForEachLine(dir + file, [&](const nlohmann::json& r) {
      facts[PatientOf(r)].atc.insert(
          r["medicationCodeableConcept"]["coding"][0]["code"].get<std::string>());
    });
  }
  ForEachLine(dir + "/Specimen.ndjson",
              [&](const nlohmann::json& r) { ++facts[PatientOf(r)].biosamples; });
  return facts;
}

inline int64_t RoundedUp(int64_t n, int64_t step = 10) {
  return n == 0 ? 0 : (n + step - 1) / step * step;
}

}  // namespace oncomesh::testing
