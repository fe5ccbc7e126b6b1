#include "auth/duo.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <unordered_set>

#include "model/date.h"
#include "util/embedded_data.h"
#include "util/json.h"
#include "util/split.h"

namespace oncomesh::auth {
namespace {

// The DUO ids the rules of duo.h name. duo_test writes every condition by shorthand, resolved
// through the embedded table, so a wrong id here fails its code's test.
constexpr const char* kNres = "DUO:0000004";
constexpr const char* kHmb = "DUO:0000006";
constexpr const char* kDs = "DUO:0000007";
constexpr const char* kPoa = "DUO:0000011";
constexpr const char* kRs = "DUO:0000012";
constexpr const char* kNmds = "DUO:0000015";
constexpr const char* kGso = "DUO:0000016";
constexpr const char* kNpuncu = "DUO:0000018";
constexpr const char* kPub = "DUO:0000019";
constexpr const char* kCol = "DUO:0000020";
constexpr const char* kIrb = "DUO:0000021";
constexpr const char* kGs = "DUO:0000022";
constexpr const char* kMor = "DUO:0000024";
constexpr const char* kTs = "DUO:0000025";
constexpr const char* kUs = "DUO:0000026";
constexpr const char* kPs = "DUO:0000027";
constexpr const char* kIs = "DUO:0000028";
constexpr const char* kRtn = "DUO:0000029";
constexpr const char* kGru = "DUO:0000042";
constexpr const char* kCc = "DUO:0000043";
constexpr const char* kNpoa = "DUO:0000044";
constexpr const char* kNpu = "DUO:0000045";
constexpr const char* kNcu = "DUO:0000046";

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string Join(const std::vector<std::string>& items, const char* separator = ", ") {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += separator;
    out += s;
  }
  return out;
}

bool Contains(const std::vector<std::string>& items, std::string_view s) {
  return std::find(items.begin(), items.end(), s) != items.end();
}

bool IsCurie(std::string_view s) {
  const size_t colon = s.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon + 1 == s.size()) return false;
  return std::none_of(s.begin(), s.end(),
                      [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
}

// ISO 3166-1 alpha-2 has the shape of two letters; whether a code is assigned is not checked.
std::optional<std::string> CountryCode(std::string_view s) {
  if (s.size() != 2 || !std::isalpha(static_cast<unsigned char>(s[0])) ||
      !std::isalpha(static_cast<unsigned char>(s[1]))) {
    return std::nullopt;
  }
  return Upper(s);
}

// The one field of DataUseModifier a modifier's code takes (GS: countries…), or "" for none.
std::string ValueKeyOf(std::string_view id) {
  if (id == kGs) return "countries";
  if (id == kTs) return "months";
  if (id == kMor) return "date";
  if (id == kUs) return "users";
  if (id == kPs) return "projects";
  if (id == kIs) return "institutions";
  if (id == kRs) return "topics";
  return "";
}

// The value fields a modifier has set, by their written names.
std::vector<std::string> ValueKeysSet(const model::DataUseModifier& m) {
  std::vector<std::string> keys;
  if (!m.countries.empty()) keys.push_back("countries");
  if (m.months) keys.push_back("months");
  if (!m.date.empty()) keys.push_back("date");
  if (!m.users.empty()) keys.push_back("users");
  if (!m.projects.empty()) keys.push_back("projects");
  if (!m.institutions.empty()) keys.push_back("institutions");
  if (!m.topics.empty()) keys.push_back("topics");
  return keys;
}

// `code` resolved to a DUO term, or an error naming `where`.
Result<const DuoTerm*> ResolveCode(const DuoOntology& duo, const std::string& code,
                                   const std::string& where) {
  const DuoTerm* t = duo.Find(code);
  if (!t) return InvalidArgument(where + ": unknown DUO code '" + code + "'");
  if (t->obsolete) {
    return InvalidArgument(where + ": " + duo.Name(t->id) + " '" + t->label +
                           "' is obsolete in DUO " + kDuoVersion);
  }
  return t;
}

std::string PermissionList(const DuoOntology& duo) {
  std::vector<std::string> names;
  for (const DuoTerm& t : duo.terms()) {
    if (duo.IsPermission(t.id)) names.push_back(t.shorthand.empty() ? t.id : t.shorthand);
  }
  return Join(names);
}

Result<const DuoTerm*> ResolvePermission(const DuoOntology& duo, const std::string& code,
                                         const std::string& where) {
  ASSIGN_OR_RETURN(const DuoTerm* t, ResolveCode(duo, code, where));
  if (!duo.IsPermission(t->id)) {
    return InvalidArgument(where + ": " + duo.Name(t->id) + " '" + t->label +
                           "' is not a data use permission (" + PermissionList(duo) + ")");
  }
  return t;
}

Status CheckCuries(const std::vector<std::string>& curies, const std::string& where) {
  for (size_t i = 0; i < curies.size(); ++i) {
    if (!IsCurie(curies[i])) {
      return InvalidArgument(where + "[" + std::to_string(i) + "]: '" + curies[i] +
                             "' is not a CURIE (prefix:id)");
    }
  }
  return Status::Ok();
}

std::vector<std::string> Unique(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const std::string& s : items) {
    if (!Contains(out, s)) out.push_back(s);
  }
  return out;
}

Result<model::DataUseModifier> ResolveModifier(const model::DataUseModifier& written,
                                               const DuoOntology& duo, const std::string& where) {
  ASSIGN_OR_RETURN(const DuoTerm* t, ResolveCode(duo, written.id, where + ".id"));
  if (!duo.IsModifier(t->id)) {
    return InvalidArgument(where + ".id: " + duo.Name(t->id) + " '" + t->label + "' is " +
                           (duo.IsPermission(t->id) ? "a data use permission" : "not a data use") +
                           (duo.IsPermission(t->id) ? ", not a modifier" : " modifier"));
  }
  model::DataUseModifier m = written;
  m.id = t->id;
  const std::string wanted = ValueKeyOf(m.id);
  for (const std::string& key : ValueKeysSet(m)) {
    if (key != wanted) {
      return InvalidArgument(where + ": " + duo.Name(m.id) +
                             (wanted.empty() ? " takes no values" : " takes '" + wanted + "'") +
                             ", not '" + key + "'");
    }
  }
  const std::vector<std::string> set = ValueKeysSet(m);
  if (!wanted.empty() && set.empty()) {
    return InvalidArgument(where + ": " + duo.Name(m.id) + " needs '" + wanted + "'");
  }
  for (size_t i = 0; i < m.countries.size(); ++i) {
    std::optional<std::string> code = CountryCode(m.countries[i]);
    if (!code) {
      return InvalidArgument(where + ".countries[" + std::to_string(i) + "]: '" + m.countries[i] +
                             "' is not an ISO 3166-1 alpha-2 country code");
    }
    m.countries[i] = *code;
  }
  m.countries = Unique(m.countries);
  if (m.months && *m.months < 1) return InvalidArgument(where + ".months: must be at least 1");
  if (!m.date.empty()) {
    const std::optional<model::Date> d = model::ParseDate(m.date);
    if (m.date.size() != 10 || !d) {
      return InvalidArgument(where + ".date: '" + m.date + "' is not a date (YYYY-MM-DD)");
    }
  }
  RETURN_IF_ERROR(CheckCuries(m.topics, where + ".topics"));
  m.users = Unique(m.users);
  m.projects = Unique(m.projects);
  m.institutions = Unique(m.institutions);
  m.topics = Unique(m.topics);
  return m;
}

constexpr int kMaxDocumentDepth = 32;

// YAML/JSON text to a document; JSON is YAML 1.2 flow syntax, which yaml-cpp reads.
// yaml-cpp reads flow collections recursively: nesting is bounded first (the JSON check
// counts YAML's flow brackets too, and at worst over-counts brackets in single-quoted text).
Result<YAML::Node> LoadDocument(std::string_view text, const std::string& what) {
  RETURN_IF_ERROR(CheckJsonDepth(text, what, kMaxDocumentDepth));
  try {
    YAML::Node node = YAML::Load(std::string(text));
    if (!node || node.IsNull()) return InvalidArgument(what + ": empty document");
    return node;
  } catch (const YAML::Exception& e) {
    return InvalidArgument(what + ": not JSON or YAML: " + e.what());
  }
}

Result<bool> ReadBool(const YAML::Node& node, const std::string& where) {
  const std::string s = node.IsScalar() ? node.as<std::string>() : "";
  if (s == "true") return true;
  if (s == "false") return false;
  return InvalidArgument(where + ": expected true or false");
}

Result<std::string> ReadText(const YAML::Node& node, const std::string& where) {
  if (!node.IsScalar() || node.as<std::string>().empty()) {
    return InvalidArgument(where + ": expected a non-empty string");
  }
  return node.as<std::string>();
}

Result<std::vector<std::string>> ReadTexts(const YAML::Node& node, const std::string& where) {
  std::vector<std::string> out;
  if (node.IsScalar()) {
    ASSIGN_OR_RETURN(std::string s, ReadText(node, where));
    out.push_back(std::move(s));
    return out;
  }
  if (!node.IsSequence() || node.size() == 0) {
    return InvalidArgument(where + ": expected a non-empty list of strings");
  }
  for (size_t i = 0; i < node.size(); ++i) {
    ASSIGN_OR_RETURN(std::string s, ReadText(node[i], where + "[" + std::to_string(i) + "]"));
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

// ---- DuoOntology ------------------------------------------------------------------------

Result<DuoOntology> DuoOntology::LoadEmbedded() {
  const std::optional<std::string_view> text = EmbeddedFile("data/duo/duo_terms.tsv");
  if (!text) return Internal("data/duo/duo_terms.tsv is not compiled in");
  return Parse(*text);
}

Result<DuoOntology> DuoOntology::Parse(std::string_view tsv) {
  DuoOntology duo;
  size_t line_no = 0;
  bool header = true;
  for (std::string_view line : Split(tsv, '\n')) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    const std::string where = "duo_terms.tsv:" + std::to_string(line_no);
    std::vector<std::string_view> f = Split(line, '\t');
    if (f.size() != 6) return InvalidArgument(where + ": expected 6 tab-separated fields");
    if (header) {
      header = false;
      if (f[0] != "id") return InvalidArgument(where + ": expected the header row");
      continue;
    }
    DuoTerm t;
    t.id = std::string(f[0]);
    t.shorthand = std::string(f[1]);
    t.label = std::string(f[2]);
    if (t.id.rfind("DUO:", 0) != 0)
      return InvalidArgument(where + ": '" + t.id + "' is not a DUO id");
    for (std::string_view p : Split(f[3], ',')) {
      if (!p.empty()) t.parents.emplace_back(p);
    }
    for (std::string_view r : Split(f[4], ',')) {
      if (!r.empty()) t.restricted_to.emplace_back(r);
    }
    if (f[5] != "true" && f[5] != "false") {
      return InvalidArgument(where + ": obsolete must be true or false");
    }
    t.obsolete = f[5] == "true";
    for (const std::string& key : {Upper(t.id), Upper(t.shorthand)}) {
      if (key.empty()) continue;
      if (duo.by_code_.count(key)) return InvalidArgument(where + ": '" + key + "' appears twice");
      duo.by_code_[key] = duo.terms_.size();
    }
    duo.terms_.push_back(std::move(t));
  }
  for (const DuoTerm& t : duo.terms_) {
    for (const std::string& p : t.parents) {
      if (!duo.Find(p))
        return InvalidArgument("duo_terms.tsv: " + t.id + " has unknown parent " + p);
    }
  }
  if (duo.terms_.empty()) return InvalidArgument("duo_terms.tsv: no terms");
  return duo;
}

const DuoTerm* DuoOntology::Find(std::string_view code) const {
  auto it = by_code_.find(Upper(code));
  return it == by_code_.end() ? nullptr : &terms_[it->second];
}

bool DuoOntology::IsA(std::string_view id, std::string_view ancestor) const {
  std::vector<const DuoTerm*> todo;
  std::unordered_set<std::string_view> seen;
  if (const DuoTerm* t = Find(id)) todo.push_back(t);
  while (!todo.empty()) {
    const DuoTerm* t = todo.back();
    todo.pop_back();
    if (t->id == ancestor) return true;
    if (!seen.insert(t->id).second) continue;
    for (const std::string& p : t->parents) {
      if (const DuoTerm* parent = Find(p)) todo.push_back(parent);
    }
  }
  return false;
}

bool DuoOntology::IsPermission(std::string_view id) const {
  const DuoTerm* t = Find(id);
  return t && !t->obsolete && t->id != kDataUsePermission && IsA(t->id, kDataUsePermission);
}

bool DuoOntology::IsModifier(std::string_view id) const {
  const DuoTerm* t = Find(id);
  return t && !t->obsolete && t->id != kDataUseModifier && IsA(t->id, kDataUseModifier);
}

std::string DuoOntology::Name(std::string_view id) const {
  const DuoTerm* t = Find(id);
  if (!t) return std::string(id);
  return t->shorthand.empty() ? t->id : t->shorthand + " (" + t->id + ")";
}

// ---- Diseases --------------------------------------------------------------------------

DiseaseHierarchy DiseaseHierarchyOf(const index::Vocabulary& vocabulary) {
  DiseaseHierarchy h;
  h.parents_of = [&vocabulary](std::string_view curie) { return vocabulary.ParentsOf(curie); };
  h.label_of = [&vocabulary](std::string_view curie) -> std::string {
    const index::Term* t = vocabulary.Find(curie);
    return t ? t->label : "";
  };
  return h;
}

bool DuoMatcher::DiseaseIsUnder(std::string_view disease, std::string_view ancestor) const {
  std::vector<std::string> todo = {std::string(disease)};
  std::set<std::string> seen;
  while (!todo.empty()) {
    std::string d = std::move(todo.back());
    todo.pop_back();
    if (d == ancestor) return true;
    if (!seen.insert(d).second || !diseases_.parents_of) continue;
    for (std::string& p : diseases_.parents_of(d)) todo.push_back(std::move(p));
  }
  return false;
}

std::string DuoMatcher::DiseaseName(std::string_view curie) const {
  const std::string label = diseases_.label_of ? diseases_.label_of(curie) : "";
  return label.empty() ? std::string(curie) : std::string(curie) + " " + label;
}

// ---- Matching --------------------------------------------------------------------------

MatchResult DuoMatcher::Match(const model::DataUseCondition& conditions,
                              const ResearchPurpose& purpose) const {
  MatchResult result;
  auto canonical = [this](const std::string& code) {
    const DuoTerm* t = duo_.Find(code);
    return t ? t->id : code;
  };
  auto label = [this](const std::string& id) {
    const DuoTerm* t = duo_.Find(id);
    return t ? t->label : std::string();
  };
  auto refuse = [&result](const char* code, std::string message) {
    result.reasons.push_back({code, std::move(message)});
  };

  const std::string permission = canonical(conditions.permission);
  const std::string wanted = canonical(purpose.permission);
  const bool ancestry = purpose.ancestry_research || wanted == kPoa;

  // P1-P4: the purpose's permission must fall under the dataset's.
  const bool permitted =
      permission == kNres || duo_.IsA(wanted, permission) || (permission == kGru && wanted == kPoa);
  if (!permitted) {
    result.reasons.push_back({permission, duo_.Name(permission) + " limits use to " +
                                              label(permission) + "; the purpose's " +
                                              duo_.Name(wanted) + " " + label(wanted) +
                                              " is not within it"});
  } else if (permission == kDs) {
    // P5: every disease studied must sit under one the dataset is restricted to.
    std::vector<std::string> allowed;
    for (const std::string& d : conditions.diseases) allowed.push_back(DiseaseName(d));
    for (const std::string& d : purpose.diseases) {
      const bool under = std::any_of(conditions.diseases.begin(), conditions.diseases.end(),
                                     [&](const std::string& a) { return DiseaseIsUnder(d, a); });
      if (!under) {
        refuse(kDs, duo_.Name(kDs) + " restricts use to " + Join(allowed) +
                        "; the purpose's disease " + DiseaseName(d) + " is not under " +
                        (allowed.size() == 1 ? "it" : "any of them"));
      }
    }
  }

  bool clinical_care_allowed = permission == kNres;
  for (const model::DataUseModifier& written : conditions.modifiers) {
    const std::string id = canonical(written.id);
    const std::string name = duo_.Name(id);
    if (id == kNpoa) {
      if (ancestry) {
        refuse(
            kNpoa,
            name + " prohibits population origins or ancestry research; the purpose includes it");
      }
    } else if (id == kNmds) {
      if (purpose.methods_development) {
        refuse(kNmds, name + " prohibits methods development research; the purpose includes it");
      }
    } else if (id == kGso) {
      if (!purpose.genetic_studies) {
        refuse(
            kGso,
            name +
                " limits use to genetic studies; the purpose does not include genotype research");
      }
    } else if (id == kNpuncu || id == kNpu || id == kNcu) {
      // NPUNCU tests both facts; its subclasses NPU and NCU one each.
      const char* code = id == kNpu ? kNpu : id == kNcu ? kNcu : kNpuncu;
      if (id != kNpu && purpose.commercial) {
        refuse(code, name + " limits use to non-commercial purposes; the purpose is commercial");
      }
      if (id != kNcu && !purpose.not_for_profit_organisation) {
        refuse(code, name +
                         " limits use to not-for-profit organisations; the requester's "
                         "organisation is not stated to be one");
      }
    } else if (id == kGs) {
      const std::string where = name + " limits use to " + Join(written.countries);
      if (purpose.country.empty()) {
        refuse(kGs, where + "; the purpose names no country");
      } else if (!Contains(written.countries, Upper(purpose.country))) {
        refuse(kGs, where + "; the purpose's country " + purpose.country + " is not among them");
      }
    } else if (id == kTs) {
      const std::string limit =
          name + " limits use to " + std::to_string(written.months.value_or(0)) + " months";
      if (!purpose.months) {
        refuse(kTs, limit + "; the purpose names no period");
      } else if (*purpose.months > written.months.value_or(0)) {
        refuse(kTs, limit + "; the purpose asks for " + std::to_string(*purpose.months));
      }
    } else if (id == kUs || id == kPs || id == kIs) {
      // The approved names are not repeated: the reason goes to the requester.
      const char* what = id == kUs ? "user" : id == kPs ? "project" : "institution";
      const std::string& stated = id == kUs   ? purpose.user
                                  : id == kPs ? purpose.project
                                              : purpose.institution;
      const std::vector<std::string>& approved = id == kUs   ? written.users
                                                 : id == kPs ? written.projects
                                                             : written.institutions;
      const char* code = id == kUs ? kUs : id == kPs ? kPs : kIs;
      if (stated.empty()) {
        refuse(code, name + " limits use to approved " + what + "s; the purpose names no " + what);
      } else if (!Contains(approved, stated)) {
        refuse(code, name + " limits use to approved " + what + "s; the purpose's " + what + " " +
                         stated + " is not one of them");
      }
    } else if (id == kRs) {
      const std::string limit = name + " limits use to research on " + Join(written.topics);
      if (purpose.research_topics.empty()) {
        refuse(kRs, limit + "; the purpose names no research topic");
      }
      for (const std::string& topic : purpose.research_topics) {
        if (!Contains(written.topics, topic)) {
          refuse(kRs, limit + "; the purpose's topic " + topic + " is not among them");
        }
      }
    } else if (id == kCc) {
      clinical_care_allowed = true;
    } else if (id == kIrb) {
      if (purpose.ethics_approval.empty()) {
        refuse(kIrb,
               name + " requires documented ethics (IRB/ERB) approval; the purpose names none");
      } else {
        result.obligations.push_back(name + ": ethics approval " + purpose.ethics_approval);
      }
    } else if (id == kPub) {
      if (!purpose.agrees_to_publish) {
        refuse(kPub, name +
                         " requires results to be made available to the scientific community; the "
                         "purpose does not agree to publish");
      } else {
        result.obligations.push_back(name + ": results will be published");
      }
    } else if (id == kCol) {
      if (!purpose.agrees_to_collaborate) {
        refuse(kCol,
               name +
                   " requires collaboration with the primary study investigators; the purpose "
                   "does not agree to collaborate");
      } else {
        result.obligations.push_back(name + ": collaboration with the primary study investigators");
      }
    } else if (id == kRtn) {
      if (!purpose.returns_derived_data) {
        refuse(kRtn, name +
                         " requires derived or enriched data to be returned to the resource; the "
                         "purpose does not agree to return it");
      } else {
        result.obligations.push_back(name + ": derived data will be returned to the resource");
      }
    } else if (id == kMor) {
      if (!purpose.accepts_publication_moratorium) {
        refuse(kMor, name + " forbids publication before " + written.date +
                         "; the purpose does not accept the moratorium");
      } else {
        result.obligations.push_back(name + ": no publication before " + written.date);
      }
    } else {
      // A modifier DUO has but no rule here handles: not silently ignored.
      result.reasons.push_back(
          {id, name + " has no rule in this node's matcher; it cannot be checked"});
    }
  }
  if (purpose.clinical_care && !clinical_care_allowed) {
    refuse(kCc, duo_.Name(kCc) +
                    " clinical care use is not among the dataset's conditions; the purpose "
                    "includes clinical care");
  }
  result.compatible = result.reasons.empty();
  return result;
}

// ---- Parsing ---------------------------------------------------------------------------

Result<model::DataUseCondition> ResolveDataUseCondition(const model::DataUseCondition& written,
                                                        const DuoOntology& duo,
                                                        const std::string& where) {
  model::DataUseCondition c;
  ASSIGN_OR_RETURN(const DuoTerm* permission,
                   ResolvePermission(duo, written.permission, where + ".id"));
  c.permission = permission->id;
  RETURN_IF_ERROR(CheckCuries(written.diseases, where + ".diseases"));
  c.diseases = Unique(written.diseases);
  if (c.permission == kDs && c.diseases.empty()) {
    return InvalidArgument(where + ": " + duo.Name(kDs) + " needs 'diseases'");
  }
  if (c.permission != kDs && !c.diseases.empty()) {
    return InvalidArgument(where + ".diseases: only " + duo.Name(kDs) + " takes diseases, not " +
                           duo.Name(c.permission));
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < written.modifiers.size(); ++i) {
    const std::string at = where + ".modifiers[" + std::to_string(i) + "]";
    ASSIGN_OR_RETURN(model::DataUseModifier m, ResolveModifier(written.modifiers[i], duo, at));
    if (!seen.insert(m.id).second)
      return InvalidArgument(at + ": " + duo.Name(m.id) + " appears twice");
    c.modifiers.push_back(std::move(m));
  }
  return c;
}

Result<model::DataUseCondition> ParseDataUseCondition(std::string_view text,
                                                      const DuoOntology& duo) {
  ASSIGN_OR_RETURN(YAML::Node node, LoadDocument(text, "data_use"));
  ASSIGN_OR_RETURN(model::DataUseCondition written, model::ReadDataUseCondition(node, "data_use"));
  return ResolveDataUseCondition(written, duo, "data_use");
}

Result<ResearchPurpose> ParseResearchPurpose(std::string_view text, const DuoOntology& duo) {
  const std::string where = "purpose";
  ASSIGN_OR_RETURN(YAML::Node node, LoadDocument(text, where));
  ResearchPurpose p;
  try {
    if (!node.IsMap()) return InvalidArgument(where + ": expected a mapping with 'id'");
    const std::set<std::string> bools = {"ancestry_research",
                                         "methods_development",
                                         "genetic_studies",
                                         "commercial",
                                         "not_for_profit_organisation",
                                         "clinical_care",
                                         "agrees_to_publish",
                                         "agrees_to_collaborate",
                                         "returns_derived_data",
                                         "accepts_publication_moratorium"};
    const std::set<std::string> texts = {"ethics_approval", "country", "user", "project",
                                         "institution"};
    for (const auto& kv : node) {
      const std::string key = kv.first.as<std::string>();
      const std::string at = where + "." + key;
      const YAML::Node& value = kv.second;
      if (key == "id") {
        ASSIGN_OR_RETURN(std::string code, ReadText(value, at));
        ASSIGN_OR_RETURN(const DuoTerm* t, ResolvePermission(duo, code, at));
        if (t->id == kNres) {
          return InvalidArgument(at + ": " + duo.Name(kNres) +
                                 " describes data without restrictions, not research; state the "
                                 "narrowest of GRU, HMB, DS or POA");
        }
        p.permission = t->id;
      } else if (key == "diseases" || key == "research_topics") {
        ASSIGN_OR_RETURN(std::vector<std::string> curies, ReadTexts(value, at));
        RETURN_IF_ERROR(CheckCuries(curies, at));
        (key == "diseases" ? p.diseases : p.research_topics) = Unique(curies);
      } else if (key == "months") {
        const std::string s = value.IsScalar() ? value.as<std::string>() : "";
        if (s.empty() || s.size() > 4 ||
            !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
            std::stoi(s) < 1) {
          return InvalidArgument(at + ": expected a whole number of months, at least 1");
        }
        p.months = std::stoi(s);
      } else if (bools.count(key)) {
        ASSIGN_OR_RETURN(bool b, ReadBool(value, at));
        if (key == "ancestry_research") p.ancestry_research = b;
        if (key == "methods_development") p.methods_development = b;
        if (key == "genetic_studies") p.genetic_studies = b;
        if (key == "commercial") p.commercial = b;
        if (key == "not_for_profit_organisation") p.not_for_profit_organisation = b;
        if (key == "clinical_care") p.clinical_care = b;
        if (key == "agrees_to_publish") p.agrees_to_publish = b;
        if (key == "agrees_to_collaborate") p.agrees_to_collaborate = b;
        if (key == "returns_derived_data") p.returns_derived_data = b;
        if (key == "accepts_publication_moratorium") p.accepts_publication_moratorium = b;
      } else if (texts.count(key)) {
        ASSIGN_OR_RETURN(std::string s, ReadText(value, at));
        if (key == "country") {
          std::optional<std::string> code = CountryCode(s);
          if (!code)
            return InvalidArgument(at + ": '" + s + "' is not an ISO 3166-1 alpha-2 country code");
          s = *code;
        }
        if (key == "ethics_approval") p.ethics_approval = s;
        if (key == "country") p.country = s;
        if (key == "user") p.user = s;
        if (key == "project") p.project = s;
        if (key == "institution") p.institution = s;
      } else {
        return InvalidArgument(where + ": unknown key '" + key + "'");
      }
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(where + ": " + e.what());
  }
  if (p.permission.empty()) {
    return InvalidArgument(where +
                           ": 'id' (the DUO permission describing the research) is missing");
  }
  if (p.permission == kDs && p.diseases.empty()) {
    return InvalidArgument(where + ": a " + duo.Name(kDs) + " purpose needs 'diseases'");
  }
  if (p.permission != kDs && !p.diseases.empty()) {
    return InvalidArgument(where + ".diseases: only a " + duo.Name(kDs) +
                           " purpose names diseases, not " + duo.Name(p.permission));
  }
  if (p.permission == kPoa) p.ancestry_research = true;
  if (p.ancestry_research && duo.IsA(p.permission, kHmb)) {
    return InvalidArgument(where + ".ancestry_research: " + duo.Name(p.permission) +
                           " research excludes the study of population origins or ancestry "
                           "(HMB's definition); state GRU or POA");
  }
  return p;
}

// ---- Output ----------------------------------------------------------------------------

nlohmann::json DataUseConditionToJson(const model::DataUseCondition& c) {
  nlohmann::json j = {{"id", c.permission}};
  if (!c.diseases.empty()) j["diseases"] = c.diseases;
  if (c.modifiers.empty()) return j;
  nlohmann::json mods = nlohmann::json::array();
  for (const model::DataUseModifier& m : c.modifiers) {
    nlohmann::json o = {{"id", m.id}};
    if (!m.countries.empty()) o["countries"] = m.countries;
    if (m.months) o["months"] = *m.months;
    if (!m.date.empty()) o["date"] = m.date;
    if (!m.users.empty()) o["users"] = m.users;
    if (!m.projects.empty()) o["projects"] = m.projects;
    if (!m.institutions.empty()) o["institutions"] = m.institutions;
    if (!m.topics.empty()) o["topics"] = m.topics;
    mods.push_back(std::move(o));
  }
  j["modifiers"] = std::move(mods);
  return j;
}

nlohmann::json BeaconDataUseConditions(const model::DataUseCondition& c, const DuoOntology& duo,
                                       const DiseaseHierarchy& diseases) {
  auto term = [&duo](const std::string& id) {
    nlohmann::json t = {{"id", id}};
    if (const DuoTerm* d = duo.Find(id)) t["label"] = d->label;
    return t;
  };
  nlohmann::json use = term(c.permission);
  use["version"] = kDuoVersion;
  nlohmann::json modifiers = nlohmann::json::array();
  for (const std::string& d : c.diseases) {
    nlohmann::json t = {{"id", d}};
    const std::string label = diseases.label_of ? diseases.label_of(d) : "";
    if (!label.empty()) t["label"] = label;
    modifiers.push_back(std::move(t));
  }
  for (const model::DataUseModifier& m : c.modifiers) {
    nlohmann::json t = term(m.id);
    if (!m.countries.empty()) t["countries"] = m.countries;
    if (m.months) t["months"] = *m.months;
    if (!m.date.empty()) t["date"] = m.date;
    if (!m.topics.empty()) t["topics"] = m.topics;
    modifiers.push_back(std::move(t));
  }
  if (!modifiers.empty()) use["modifiers"] = std::move(modifiers);
  return {{"duoDataUse", nlohmann::json::array({std::move(use)})}};
}

}  // namespace oncomesh::auth
