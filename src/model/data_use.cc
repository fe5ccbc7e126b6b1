#include "model/data_use.h"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <set>

namespace oncomesh::model {
namespace {

Status CheckKeys(const YAML::Node& map, const std::set<std::string>& allowed,
                 const std::string& where) {
  for (const auto& kv : map) {
    const std::string key = kv.first.as<std::string>();
    if (!allowed.count(key)) return InvalidArgument(where + ": unknown key '" + key + "'");
  }
  return Status::Ok();
}

Result<std::string> ReadString(const YAML::Node& node, const std::string& where) {
  if (!node.IsScalar()) return InvalidArgument(where + ": expected a string");
  std::string s = node.as<std::string>();
  if (s.empty()) return InvalidArgument(where + ": must not be empty");
  return s;
}

// A list of strings; a single string is taken as a list of one, as people write `countries: DE`.
Result<std::vector<std::string>> ReadStrings(const YAML::Node& node, const std::string& where) {
  std::vector<std::string> out;
  if (node.IsScalar()) {
    ASSIGN_OR_RETURN(std::string s, ReadString(node, where));
    out.push_back(std::move(s));
    return out;
  }
  if (!node.IsSequence() || node.size() == 0) {
    return InvalidArgument(where + ": expected a non-empty list of strings");
  }
  for (size_t i = 0; i < node.size(); ++i) {
    ASSIGN_OR_RETURN(std::string s, ReadString(node[i], where + "[" + std::to_string(i) + "]"));
    out.push_back(std::move(s));
  }
  return out;
}

Result<int> ReadWholeNumber(const YAML::Node& node, const std::string& where) {
  if (!node.IsScalar()) return InvalidArgument(where + ": expected a whole number");
  const std::string s = node.as<std::string>();
  if (s.empty() || s.size() > 9) return InvalidArgument(where + ": expected a whole number");
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return InvalidArgument(where + ": expected a whole number, not '" + s + "'");
    v = v * 10 + (c - '0');
  }
  return static_cast<int>(v);
}

Result<DataUseModifier> ReadModifier(const YAML::Node& node, const std::string& where) {
  DataUseModifier m;
  if (node.IsScalar()) {
    ASSIGN_OR_RETURN(m.id, ReadString(node, where));
    return m;
  }
  if (!node.IsMap()) return InvalidArgument(where + ": expected a DUO code or a mapping");
  RETURN_IF_ERROR(CheckKeys(
      node, {"id", "countries", "months", "date", "users", "projects", "institutions", "topics"},
      where));
  if (!node["id"]) return InvalidArgument(where + ": 'id' (the modifier's DUO code) is missing");
  ASSIGN_OR_RETURN(m.id, ReadString(node["id"], where + ".id"));
  if (node["countries"]) {
    ASSIGN_OR_RETURN(m.countries, ReadStrings(node["countries"], where + ".countries"));
  }
  if (node["months"]) {
    ASSIGN_OR_RETURN(m.months, ReadWholeNumber(node["months"], where + ".months"));
  }
  if (node["date"]) {
    ASSIGN_OR_RETURN(m.date, ReadString(node["date"], where + ".date"));
  }
  if (node["users"]) {
    ASSIGN_OR_RETURN(m.users, ReadStrings(node["users"], where + ".users"));
  }
  if (node["projects"]) {
    ASSIGN_OR_RETURN(m.projects, ReadStrings(node["projects"], where + ".projects"));
  }
  if (node["institutions"]) {
    ASSIGN_OR_RETURN(m.institutions, ReadStrings(node["institutions"], where + ".institutions"));
  }
  if (node["topics"]) {
    ASSIGN_OR_RETURN(m.topics, ReadStrings(node["topics"], where + ".topics"));
  }
  return m;
}

void EmitList(YAML::Emitter& out, const char* key, const std::vector<std::string>& values) {
  if (values.empty()) return;
  out << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const std::string& v : values) out << v;
  out << YAML::EndSeq;
}

}  // namespace

Result<DataUseCondition> ReadDataUseCondition(const YAML::Node& node, const std::string& where) {
  DataUseCondition c;
  try {
    if (!node.IsMap()) return InvalidArgument(where + ": expected a mapping with 'id'");
    RETURN_IF_ERROR(CheckKeys(node, {"id", "diseases", "modifiers"}, where));
    if (!node["id"])
      return InvalidArgument(where + ": 'id' (the DUO data use permission) is missing");
    ASSIGN_OR_RETURN(c.permission, ReadString(node["id"], where + ".id"));
    if (node["diseases"]) {
      ASSIGN_OR_RETURN(c.diseases, ReadStrings(node["diseases"], where + ".diseases"));
    }
    if (const YAML::Node mods = node["modifiers"]) {
      if (!mods.IsSequence()) return InvalidArgument(where + ".modifiers: expected a list");
      for (size_t i = 0; i < mods.size(); ++i) {
        ASSIGN_OR_RETURN(DataUseModifier m,
                         ReadModifier(mods[i], where + ".modifiers[" + std::to_string(i) + "]"));
        c.modifiers.push_back(std::move(m));
      }
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(where + ": " + e.what());
  }
  return c;
}

void EmitDataUseCondition(YAML::Emitter& out, const DataUseCondition& c) {
  out << YAML::BeginMap;
  out << YAML::Key << "id" << YAML::Value << c.permission;
  EmitList(out, "diseases", c.diseases);
  if (!c.modifiers.empty()) {
    out << YAML::Key << "modifiers" << YAML::Value << YAML::BeginSeq;
    for (const DataUseModifier& m : c.modifiers) {
      out << YAML::Flow << YAML::BeginMap << YAML::Key << "id" << YAML::Value << m.id;
      EmitList(out, "countries", m.countries);
      if (m.months) out << YAML::Key << "months" << YAML::Value << *m.months;
      // Quoted so that YAML readers that type dates keep it a string.
      if (!m.date.empty())
        out << YAML::Key << "date" << YAML::Value << YAML::DoubleQuoted << m.date;
      EmitList(out, "users", m.users);
      EmitList(out, "projects", m.projects);
      EmitList(out, "institutions", m.institutions);
      EmitList(out, "topics", m.topics);
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  out << YAML::EndMap;
}

}  // namespace oncomesh::model
