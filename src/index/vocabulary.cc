#include "index/vocabulary.h"

#include <algorithm>

#include "util/embedded_data.h"
#include "util/split.h"

namespace oncomesh::index {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

// Calls fn(line_number, fields) for each data line (skips blanks and # comments).
template <typename F>
Status ForEachRow(std::string_view text, std::string_view table, size_t min_fields, F&& fn) {
  size_t line_no = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++line_no;
    line = Trim(line);
    if (line.empty() || line.front() == '#') continue;
    std::vector<std::string_view> fields = Split(line, '\t');
    if (fields.size() < min_fields) {
      return InvalidArgument(std::string(table) + ":" + std::to_string(line_no) + ": expected " +
                             std::to_string(min_fields) + " tab-separated fields");
    }
    for (auto& f : fields) f = Trim(f);
    RETURN_IF_ERROR(fn(line_no, fields));
  }
  return Status::Ok();
}

std::string Key(std::string_view a, std::string_view b) {
  std::string k(a);
  k.push_back('|');
  k.append(b);
  return k;
}

}  // namespace

Result<Vocabulary> Vocabulary::LoadEmbedded() {
  auto file = [](const char* name) { return EmbeddedFile(name).value_or(std::string_view()); };
  return Parse(file("data/vocab/terms.tsv"), file("data/vocab/observation_terms.tsv"),
               file("data/vocab/procedure_terms.tsv"), file("data/vocab/icd10_ncit.tsv"),
               file("data/vocab/genomic_terms.tsv"));
}

Result<Vocabulary> Vocabulary::Parse(std::string_view terms_tsv, std::string_view observation_tsv,
                                     std::string_view procedure_tsv,
                                     std::string_view icd10_ncit_tsv,
                                     std::string_view genomic_tsv) {
  Vocabulary v;
  RETURN_IF_ERROR(ForEachRow(terms_tsv, "terms.tsv", 2, [&](size_t line, const auto& f) -> Status {
    Term t;
    t.curie = std::string(f[0]);
    t.label = std::string(f[1]);
    if (t.curie.find(':') == std::string::npos) {
      return InvalidArgument("terms.tsv:" + std::to_string(line) + ": '" + t.curie +
                             "' is not a CURIE");
    }
    if (f.size() > 2) {
      for (std::string_view p : Split(f[2], ',')) {
        p = Trim(p);
        if (!p.empty()) t.parents.emplace_back(p);
      }
    }
    v.terms_[t.curie] = std::move(t);
    return Status::Ok();
  }));
  RETURN_IF_ERROR(
      ForEachRow(observation_tsv, "observation_terms.tsv", 5, [&](size_t, const auto& f) -> Status {
        v.observation_terms_[Key(Key(f[0], f[1]), Key(f[2], f[3]))] = std::string(f[4]);
        return Status::Ok();
      }));
  RETURN_IF_ERROR(ForEachRow(
      procedure_tsv, "procedure_terms.tsv", 4, [&](size_t line, const auto& f) -> Status {
        model::TreatmentKind kind;
        if (f[2] == "surgery") {
          kind = model::TreatmentKind::kSurgery;
        } else if (f[2] == "radiotherapy") {
          kind = model::TreatmentKind::kRadiotherapy;
        } else {
          return InvalidArgument("procedure_terms.tsv:" + std::to_string(line) +
                                 ": unknown kind '" + std::string(f[2]) + "'");
        }
        v.procedure_terms_[Key(f[0], f[1])] = {kind, std::string(f[3])};
        return Status::Ok();
      }));
  RETURN_IF_ERROR(
      ForEachRow(icd10_ncit_tsv, "icd10_ncit.tsv", 3, [&](size_t, const auto& f) -> Status {
        v.cancer_concepts_.push_back({std::string(f[0]), std::string(f[1]), std::string(f[2])});
        return Status::Ok();
      }));
  RETURN_IF_ERROR(
      ForEachRow(genomic_tsv, "genomic_terms.tsv", 3, [&](size_t, const auto& f) -> Status {
        v.genomic_terms_[Key(f[0], f[1])] = std::string(f[2]);
        return Status::Ok();
      }));
  return v;
}

std::optional<std::string> Vocabulary::GenomicTerm(std::string_view gene,
                                                   std::string_view protein_change) const {
  if (!protein_change.empty()) {
    auto it = genomic_terms_.find(Key(gene, protein_change));
    if (it != genomic_terms_.end()) return it->second;
  }
  auto it = genomic_terms_.find(Key(gene, "*"));
  if (it != genomic_terms_.end()) return it->second;
  return std::nullopt;
}

const Term* Vocabulary::Find(std::string_view curie) const {
  auto it = terms_.find(std::string(curie));
  return it == terms_.end() ? nullptr : &it->second;
}

std::string Vocabulary::Label(std::string_view curie) const {
  const Term* t = Find(curie);
  return t && !t->label.empty() ? t->label : std::string(curie);
}

std::vector<std::string> Vocabulary::ParentsOf(std::string_view curie) const {
  if (const Term* t = Find(curie)) {
    if (!t->parents.empty()) return t->parents;
  }
  // Unlisted ICD-10 / ICD-O-3 topography codes: "C50.911" -> "C50.91" -> "C50.9" -> "C50".
  const size_t colon = curie.find(':');
  const std::string_view prefix = curie.substr(0, colon);
  std::string_view code = curie.substr(colon + 1);
  if ((prefix == "ICD10" || prefix == "ICDO3") && code.size() > 3 && code.find('.') == 3 &&
      code.find('/') == std::string_view::npos) {
    code.remove_suffix(1);
    if (code.back() == '.') code.remove_suffix(1);
    return {std::string(prefix) + ":" + std::string(code)};
  }
  return {};
}

std::optional<std::string> Vocabulary::ObservationTerm(const model::Coding& code,
                                                       const model::Coding& value) const {
  const std::string base = Key(code.system, code.code);
  if (!value.empty()) {
    auto it = observation_terms_.find(Key(base, Key(value.system, value.code)));
    if (it != observation_terms_.end()) return it->second;
  }
  for (const char* any : {"*|*", "|*"}) {
    auto it = observation_terms_.find(Key(base, any));
    if (it != observation_terms_.end()) return it->second;
  }
  return std::nullopt;
}

std::optional<Vocabulary::ProcedureMapping> Vocabulary::Procedure(const model::Coding& code) const {
  auto it = procedure_terms_.find(Key(code.system, code.code));
  if (it == procedure_terms_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> Vocabulary::CancerConcept(std::string_view icd10,
                                                     std::string_view morphology) const {
  const std::string_view category = icd10.substr(0, std::min<size_t>(3, icd10.size()));
  const CancerMapping* best = nullptr;
  for (const CancerMapping& m : cancer_concepts_) {
    if (m.icd10 != category && m.icd10 != icd10) continue;
    if (!m.morphology_prefix.empty() &&
        morphology.substr(0, m.morphology_prefix.size()) != m.morphology_prefix) {
      continue;
    }
    if (!best || m.morphology_prefix.size() > best->morphology_prefix.size() ||
        (m.morphology_prefix.size() == best->morphology_prefix.size() &&
         m.icd10.size() > best->icd10.size())) {
      best = &m;
    }
  }
  if (!best) return std::nullopt;
  return best->curie;
}

std::optional<std::string> Vocabulary::StageTerm(std::string_view stage_group) const {
  // Condition.stage.summary carries the same AJCC codes as the stage-group Observation.
  const std::string ajcc = model::system::kAjcc;
  for (const char* loinc : {"21908-9", "21902-2"}) {
    auto t =
        ObservationTerm({model::system::kLoinc, loinc, ""}, {ajcc, std::string(stage_group), ""});
    if (t) return t;
  }
  // Roman numerals ("IIIA") -> AJCC code ("3A").
  static const std::pair<const char*, const char*> kRoman[] = {
      {"IV", "4"}, {"III", "3"}, {"II", "2"}, {"I", "1"}, {"0", "0"}};
  for (const auto& [roman, digit] : kRoman) {
    const std::string_view r(roman);
    if (stage_group.substr(0, r.size()) == r) {
      const std::string code = std::string(digit) + std::string(stage_group.substr(r.size()));
      if (code == stage_group) break;
      return StageTerm(code);
    }
  }
  return std::nullopt;
}

std::string DiagnosisCurie(const model::Coding& code) {
  if (code.code.empty()) return "";
  if (code.system == model::system::kIcd10 || code.system == model::system::kIcd10Cm) {
    // ICD-10-CM writes "C50.911"; WHO ICD-10 "C50.9". Both index under ICD10: with
    // shortened-code parents, so C50.911 is found under C50.9 and C50.
    std::string c = code.code;
    if (c.size() > 3 && c.find('.') == std::string::npos) c.insert(3, ".");
    return "ICD10:" + c;
  }
  if (code.system == model::system::kSnomed) return "SNOMED:" + code.code;
  return "";
}

}  // namespace oncomesh::index
