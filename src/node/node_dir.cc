#include "node/node_dir.h"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace oncomesh::node {
namespace fs = std::filesystem;

namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status CheckKeys(const YAML::Node& node, const std::set<std::string>& allowed,
                 const std::string& where) {
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    if (!allowed.count(key)) return InvalidArgument(where + ": unknown key '" + key + "'");
  }
  return Status::Ok();
}

}  // namespace

Result<NodeConfig> ParseNodeConfig(const std::string& text, const std::string& source) {
  NodeConfig c;
  try {
    YAML::Node root = YAML::Load(text);
    if (!root || root.IsNull()) return c;
    if (!root.IsMap()) return InvalidArgument(source + ": expected a mapping at the top");
    RETURN_IF_ERROR(CheckKeys(root,
                              {"name", "organization", "address", "port", "threads", "gate",
                               "datasets", "access", "genomics", "imaging"},
                              source));
    if (root["name"]) c.name = root["name"].as<std::string>();
    if (root["organization"]) c.organization = root["organization"].as<std::string>();
    if (root["address"]) c.address = root["address"].as<std::string>();
    if (root["port"]) c.port = root["port"].as<uint16_t>();
    if (root["threads"]) c.threads = root["threads"].as<int>();
    if (c.threads < 1 || c.threads > 256) {
      return InvalidArgument(source + ": threads must be between 1 and 256");
    }
    if (const YAML::Node gate = root["gate"]) {
      RETURN_IF_ERROR(CheckKeys(gate, {"count_step"}, source + ": gate"));
      if (gate["count_step"]) c.count_step = gate["count_step"].as<int>();
      if (c.count_step < 1) return InvalidArgument(source + ": gate.count_step must be >= 1");
    }
    if (const YAML::Node genomics = root["genomics"]) {
      if (!genomics.IsMap()) return InvalidArgument(source + ": genomics must be a mapping");
      RETURN_IF_ERROR(CheckKeys(genomics, {"reference_fasta"}, source + ": genomics"));
      if (genomics["reference_fasta"]) {
        c.reference_fasta = genomics["reference_fasta"].as<std::string>();
      }
    }
    if (const YAML::Node imaging = root["imaging"]) {
      if (!imaging.IsMap()) return InvalidArgument(source + ": imaging must be a mapping");
      RETURN_IF_ERROR(CheckKeys(imaging, {"dicom_port", "ae_title", "deid"}, source + ": imaging"));
      if (imaging["dicom_port"]) c.imaging.dicom_port = imaging["dicom_port"].as<uint16_t>();
      if (imaging["ae_title"]) c.imaging.ae_title = imaging["ae_title"].as<std::string>();
      if (c.imaging.ae_title.empty() || c.imaging.ae_title.size() > 16) {
        return InvalidArgument(source + ": imaging.ae_title must be 1 to 16 characters");
      }
      if (const YAML::Node d = imaging["deid"]) {
        RETURN_IF_ERROR(CheckKeys(d,
                                  {"retain_longitudinal_modified_dates", "retain_device_identity",
                                   "retain_institution_identity", "retain_patient_characteristics"},
                                  source + ": imaging.deid"));
        deid::DicomDeidOptions& o = c.imaging.deid;
        if (d["retain_longitudinal_modified_dates"]) {
          o.retain_longitudinal_modified_dates = d["retain_longitudinal_modified_dates"].as<bool>();
        }
        if (d["retain_device_identity"]) o.retain_device_identity = d["retain_device_identity"].as<bool>();
        if (d["retain_institution_identity"]) {
          o.retain_institution_identity = d["retain_institution_identity"].as<bool>();
        }
        if (d["retain_patient_characteristics"]) {
          o.retain_patient_characteristics = d["retain_patient_characteristics"].as<bool>();
        }
      }
    }
    if (const YAML::Node ds = root["datasets"]) {
      if (!ds.IsSequence() || ds.size() == 0) {
        return InvalidArgument(source + ": datasets must be a non-empty list");
      }
      c.datasets.clear();
      for (size_t i = 0; i < ds.size(); ++i) {
        const YAML::Node d = ds[i];
        RETURN_IF_ERROR(
            CheckKeys(d, {"id", "name", "description", "data_use"}, source + ": datasets"));
        DatasetConfig dc;
        if (!d["id"]) return InvalidArgument(source + ": every dataset needs an id");
        dc.id = d["id"].as<std::string>();
        if (d["name"]) dc.name = d["name"].as<std::string>();
        if (d["description"]) dc.description = d["description"].as<std::string>();
        if (d["data_use"]) {
          ASSIGN_OR_RETURN(dc.data_use,
                           model::ReadDataUseCondition(d["data_use"], source + ": datasets[" +
                                                                          std::to_string(i) +
                                                                          "].data_use"));
        }
        c.datasets.push_back(dc);
      }
    }
    if (const YAML::Node access = root["access"]) {
      RETURN_IF_ERROR(CheckKeys(access, {"record_tokens"}, source + ": access"));
      if (const YAML::Node tokens = access["record_tokens"]) {
        if (!tokens.IsSequence()) {
          return InvalidArgument(source + ": access.record_tokens must be a list");
        }
        for (const YAML::Node& t : tokens) {
          const std::string token = t.as<std::string>();
          bool blank = false;
          for (char ch : token) blank = blank || std::isspace(static_cast<unsigned char>(ch));
          if (token.size() < 16 || blank) {
            return InvalidArgument(source +
                                   ": access.record_tokens: every token needs at least 16 "
                                   "characters and no whitespace");
          }
          c.record_tokens.push_back(token);
        }
      }
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(source + ": " + e.what());
  }
  return c;
}

std::string NodeConfigToYaml(const NodeConfig& c) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << c.name;
  out << YAML::Key << "organization" << YAML::Value << c.organization;
  out << YAML::Key << "address" << YAML::Value << c.address;
  out << YAML::Key << "port" << YAML::Value << c.port;
  out << YAML::Key << "threads" << YAML::Value << c.threads;
  out << YAML::Key << "gate" << YAML::Value << YAML::BeginMap << YAML::Key << "count_step"
      << YAML::Value << c.count_step << YAML::EndMap;
  out << YAML::Key << "datasets" << YAML::Value << YAML::BeginSeq;
  for (const DatasetConfig& d : c.datasets) {
    out << YAML::BeginMap << YAML::Key << "id" << YAML::Value << d.id << YAML::Key << "name"
        << YAML::Value << d.name << YAML::Key << "description" << YAML::Value << d.description;
    if (d.data_use) {
      out << YAML::Key << "data_use" << YAML::Value;
      model::EmitDataUseCondition(out, *d.data_use);
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  if (!c.record_tokens.empty()) {
    out << YAML::Key << "access" << YAML::Value << YAML::BeginMap << YAML::Key << "record_tokens"
        << YAML::Value << YAML::BeginSeq;
    for (const std::string& t : c.record_tokens) out << t;
    out << YAML::EndSeq << YAML::EndMap;
  }
  if (!c.reference_fasta.empty()) {
    out << YAML::Key << "genomics" << YAML::Value << YAML::BeginMap << YAML::Key
        << "reference_fasta" << YAML::Value << c.reference_fasta << YAML::EndMap;
  }
  const deid::DicomDeidOptions& o = c.imaging.deid;
  out << YAML::Key << "imaging" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "dicom_port" << YAML::Value << c.imaging.dicom_port;
  out << YAML::Key << "ae_title" << YAML::Value << c.imaging.ae_title;
  out << YAML::Key << "deid" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "retain_longitudinal_modified_dates" << YAML::Value
      << o.retain_longitudinal_modified_dates;
  out << YAML::Key << "retain_device_identity" << YAML::Value << o.retain_device_identity;
  out << YAML::Key << "retain_institution_identity" << YAML::Value << o.retain_institution_identity;
  out << YAML::Key << "retain_patient_characteristics" << YAML::Value
      << o.retain_patient_characteristics;
  out << YAML::EndMap << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

Result<NodeDir> NodeDir::Init(const std::string& dir, const NodeConfig& config) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Unavailable("node init: cannot create " + dir + ": " + ec.message());
  if (fs::exists(dir + "/node.yaml") || fs::exists(dir + "/secret.key")) {
    return AlreadyExists("node init: " + dir + " already holds a node");
  }
  ASSIGN_OR_RETURN(std::string secret, deid::NewSecret());
  {
    const std::string path = dir + "/secret.key";
    const mode_t old = umask(077);
    std::ofstream out(path, std::ios::binary);
    umask(old);
    out.write(secret.data(), static_cast<std::streamsize>(secret.size()));
    out.close();
    if (!out) return Unavailable("node init: cannot write " + path);
    chmod(path.c_str(), 0600);
  }
  {
    std::ofstream out(dir + "/node.yaml");
    out << "# OncoMesh node configuration (see README: Running a node)\n"
        << NodeConfigToYaml(config);
    if (!out) return Unavailable("node init: cannot write " + dir + "/node.yaml");
  }
  ASSIGN_OR_RETURN(NodeDir node, Open(dir));
  ASSIGN_OR_RETURN(auto store, node.OpenStore());
  RETURN_IF_ERROR(store->PutMeta("node_name", config.name));
  return node;
}

Result<NodeDir> NodeDir::Open(const std::string& dir) {
  NodeDir node;
  node.dir_ = dir;
  Result<std::string> yaml = ReadFile(dir + "/node.yaml");
  if (!yaml.ok()) {
    return FailedPrecondition(dir + " is not a node directory (no node.yaml); run 'oncomesh node init --dir " + dir + "'");
  }
  ASSIGN_OR_RETURN(node.config_, ParseNodeConfig(*yaml, dir + "/node.yaml"));
  Result<std::string> secret = ReadFile(dir + "/secret.key");
  if (!secret.ok()) return FailedPrecondition(dir + ": secret.key is missing");
  if (secret->size() != deid::kSecretBytes) {
    return DataLoss(dir + "/secret.key: expected " + std::to_string(deid::kSecretBytes) +
                    " bytes, found " + std::to_string(secret->size()));
  }
  node.pseudonymizer_ = std::make_shared<deid::Pseudonymizer>(std::move(*secret));
  return node;
}

std::string NodeDir::ReferenceFastaPath() const {
  if (config_.reference_fasta.empty()) return "";
  const fs::path p(config_.reference_fasta);
  return p.is_absolute() ? p.string() : (fs::path(dir_) / p).string();
}

Result<std::unique_ptr<store::Store>> NodeDir::OpenStore() const {
  return store::OpenSqliteStore(store_path());
}

}  // namespace oncomesh::node
