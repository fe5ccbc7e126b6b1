#include "node/node_dir.h"

#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <cstring>
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
  if (!node.IsMap()) return InvalidArgument(where + " must be a mapping");
  std::set<std::string> seen;
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    if (!allowed.count(key)) return InvalidArgument(where + ": unknown key '" + key + "'");
    // yaml-cpp keeps the first of two equal keys; a second one (e.g. appended) must not be
    // silently ignored.
    if (!seen.insert(key).second)
      return InvalidArgument(where + ": key '" + key + "' appears twice");
  }
  return Status::Ok();
}

Result<std::vector<std::string>> Strings(const YAML::Node& node, const std::string& where) {
  if (!node.IsSequence()) return InvalidArgument(where + " must be a list");
  std::vector<std::string> out;
  for (const YAML::Node& n : node) {
    if (!n.IsScalar() || n.as<std::string>().empty())
      return InvalidArgument(where + ": every entry must be a non-empty string");
    out.push_back(n.as<std::string>());
  }
  return out;
}

Status ParseAccess(const YAML::Node& access, const std::string& where, auth::AccessConfig* out) {
  if (!access.IsMap()) return InvalidArgument(where + " must be a mapping");
  RETURN_IF_ERROR(CheckKeys(access,
                            {"issuer", "trusted_issuers", "audiences", "clock_skew_seconds",
                             "ca_file", "registered_access"},
                            where));
  auth::AccessConfig& a = *out;
  if (access["issuer"]) a.issuer = access["issuer"].as<std::string>();
  if (access["audiences"]) {
    ASSIGN_OR_RETURN(a.audiences, Strings(access["audiences"], where + ".audiences"));
  }
  if (access["clock_skew_seconds"]) a.clock_skew_seconds = access["clock_skew_seconds"].as<int>();
  if (a.clock_skew_seconds < 0 || a.clock_skew_seconds > 600) {
    return InvalidArgument(where + ".clock_skew_seconds must be between 0 and 600");
  }
  if (access["ca_file"]) a.ca_file = access["ca_file"].as<std::string>();
  if (const YAML::Node r = access["registered_access"]) {
    RETURN_IF_ERROR(
        CheckKeys(r, {"researcher_status", "accepted_terms"}, where + ".registered_access"));
    if (r["researcher_status"]) {
      ASSIGN_OR_RETURN(
          a.researcher_status,
          Strings(r["researcher_status"], where + ".registered_access.researcher_status"));
    }
    if (r["accepted_terms"]) {
      ASSIGN_OR_RETURN(a.accepted_terms,
                       Strings(r["accepted_terms"], where + ".registered_access.accepted_terms"));
    }
  }
  if (const YAML::Node issuers = access["trusted_issuers"]) {
    if (!issuers.IsSequence()) return InvalidArgument(where + ".trusted_issuers must be a list");
    std::set<std::string> seen;
    const std::set<std::string> known_types = {"ResearcherStatus", "AffiliationAndRole",
                                               "AcceptedTermsAndPolicies", "ControlledAccessGrants",
                                               "LinkedIdentities"};
    for (const YAML::Node& i : issuers) {
      const std::string at = where + ".trusted_issuers";
      RETURN_IF_ERROR(
          CheckKeys(i, {"issuer", "jwks_uri", "jwks_file", "passports", "visa_types"}, at));
      auth::TrustedIssuerConfig t;
      if (!i["issuer"]) return InvalidArgument(at + ": every entry needs an issuer");
      t.issuer = i["issuer"].as<std::string>();
      if (t.issuer.empty()) return InvalidArgument(at + ": issuer must not be empty");
      if (!seen.insert(t.issuer).second)
        return InvalidArgument(at + ": '" + t.issuer + "' listed twice");
      if (i["jwks_uri"]) t.jwks_uri = i["jwks_uri"].as<std::string>();
      if (i["jwks_file"]) t.jwks_file = i["jwks_file"].as<std::string>();
      if (!t.jwks_uri.empty() && !t.jwks_file.empty()) {
        return InvalidArgument(at + ": '" + t.issuer + "': give jwks_uri or jwks_file, not both");
      }
      if (!t.jwks_uri.empty() && t.jwks_uri.rfind("https://", 0) != 0) {
        return InvalidArgument(at + ": '" + t.issuer + "': jwks_uri must be an https:// URL");
      }
      if (t.jwks_uri.empty() && t.jwks_file.empty() && t.issuer.rfind("https://", 0) != 0) {
        return InvalidArgument(
            at + ": '" + t.issuer +
            "': its keys are found from an https:// issuer URL; otherwise give jwks_file");
      }
      if (i["passports"]) t.passports = i["passports"].as<bool>();
      if (i["visa_types"]) {
        ASSIGN_OR_RETURN(t.visa_types, Strings(i["visa_types"], at + ": visa_types"));
        for (const std::string& type : t.visa_types) {
          if (!known_types.count(type)) {
            return InvalidArgument(at + ": '" + t.issuer + "': unknown visa type '" + type + "'");
          }
        }
      }
      a.trusted_issuers.push_back(std::move(t));
    }
  }
  return Status::Ok();
}

}  // namespace

namespace {

// public_url: a scheme (http or https), a host, an optional port and path; no query, fragment,
// user part or white space. Returned without its trailing '/'.
Result<std::string> PublicUrl(std::string url, const std::string& source) {
  const auto bad = [&](const std::string& why) {
    return InvalidArgument(source + ": public_url '" + url + "' " + why +
                           " (expected e.g. https://node.example.org or http://10.0.0.5:8080)");
  };
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos ||
      (url.substr(0, scheme) != "http" && url.substr(0, scheme) != "https")) {
    return bad("is not an http:// or https:// URL");
  }
  for (const char ch : url) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || ch == '?' || ch == '#' || ch == '@' || ch == '\\') {
      return bad("holds white space, a query, a fragment or a user part");
    }
  }
  const std::string rest = url.substr(scheme + 3);
  const std::string host = rest.substr(0, rest.find('/'));
  if (host.empty() || host.front() == ':') return bad("has no host");
  while (url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

Result<NodeConfig> ParseNodeConfig(const std::string& text, const std::string& source) {
  NodeConfig c;
  try {
    YAML::Node root = YAML::Load(text);
    if (!root || root.IsNull()) return c;
    if (!root.IsMap()) return InvalidArgument(source + ": expected a mapping at the top");
    RETURN_IF_ERROR(CheckKeys(root,
                              {"name", "organization", "address", "public_url", "port", "threads",
                               "gate", "datasets", "access", "genomics", "imaging", "audit"},
                              source));
    if (root["name"]) c.name = root["name"].as<std::string>();
    if (root["organization"]) c.organization = root["organization"].as<std::string>();
    if (root["address"]) c.address = root["address"].as<std::string>();
    if (root["public_url"]) {
      ASSIGN_OR_RETURN(c.public_url, PublicUrl(root["public_url"].as<std::string>(), source));
    }
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
    if (const YAML::Node audit = root["audit"]) {
      if (!audit.IsMap()) return InvalidArgument(source + ": audit must be a mapping");
      RETURN_IF_ERROR(CheckKeys(audit, {"durability", "sync_interval_ms", "checkpoint_interval_ms"},
                                source + ": audit"));
      if (audit["checkpoint_interval_ms"]) {
        const int64_t ms = audit["checkpoint_interval_ms"].as<int64_t>();
        if (ms < 10 || ms > 3'600'000) {
          return InvalidArgument(source +
                                 ": audit.checkpoint_interval_ms must be between 10 and 3600000");
        }
        c.audit.checkpoint_interval = std::chrono::milliseconds(ms);
      }
      if (audit["sync_interval_ms"]) {
        const int ms = audit["sync_interval_ms"].as<int>();
        if (ms < 0 || ms > 1000) {
          return InvalidArgument(source + ": audit.sync_interval_ms must be between 0 and 1000");
        }
        c.audit.sync_interval = std::chrono::milliseconds(ms);
      }
      if (audit["durability"]) {
        const std::string name = audit["durability"].as<std::string>();
        const std::optional<audit::Durability> d = audit::DurabilityFromName(name);
        if (!d) {
          return InvalidArgument(source + ": audit.durability must be 'written' or 'sync', not '" +
                                 name + "'");
        }
        c.audit.durability = *d;
      }
    }
    if (const YAML::Node imaging = root["imaging"]) {
      if (!imaging.IsMap()) return InvalidArgument(source + ": imaging must be a mapping");
      RETURN_IF_ERROR(CheckKeys(
          imaging, {"dicom_port", "dicom_address", "ae_title", "allowed_calling_ae_titles", "deid"},
          source + ": imaging"));
      if (imaging["dicom_address"]) {
        c.imaging.dicom_address = imaging["dicom_address"].as<std::string>();
      }
      if (const YAML::Node allowed = imaging["allowed_calling_ae_titles"]) {
        if (!allowed.IsSequence()) {
          return InvalidArgument(source + ": imaging.allowed_calling_ae_titles must be a list");
        }
        for (const YAML::Node& t : allowed) {
          const std::string title = t.as<std::string>();
          if (title.empty() || title.size() > 16) {
            return InvalidArgument(source + ": imaging.allowed_calling_ae_titles: '" + title +
                                   "' is not an AE title of 1 to 16 characters");
          }
          c.imaging.allowed_calling_ae_titles.push_back(title);
        }
      }
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
        if (d["retain_device_identity"])
          o.retain_device_identity = d["retain_device_identity"].as<bool>();
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
        RETURN_IF_ERROR(CheckKeys(d, {"id", "name", "description", "data_use", "grant_values"},
                                  source + ": datasets"));
        DatasetConfig dc;
        if (!d["id"]) return InvalidArgument(source + ": every dataset needs an id");
        dc.id = d["id"].as<std::string>();
        if (d["name"]) dc.name = d["name"].as<std::string>();
        if (d["description"]) dc.description = d["description"].as<std::string>();
        if (d["grant_values"]) {
          ASSIGN_OR_RETURN(dc.grant_values,
                           Strings(d["grant_values"], source + ": datasets: grant_values"));
        }
        if (d["data_use"]) {
          ASSIGN_OR_RETURN(dc.data_use, model::ReadDataUseCondition(
                                            d["data_use"], source + ": datasets[" +
                                                               std::to_string(i) + "].data_use"));
        }
        c.datasets.push_back(dc);
      }
    }
    if (const YAML::Node access = root["access"]) {
      RETURN_IF_ERROR(ParseAccess(access, source + ": access", &c.access));
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
  if (!c.public_url.empty()) out << YAML::Key << "public_url" << YAML::Value << c.public_url;
  out << YAML::Key << "port" << YAML::Value << c.port;
  out << YAML::Key << "threads" << YAML::Value << c.threads;
  out << YAML::Key << "gate" << YAML::Value << YAML::BeginMap << YAML::Key << "count_step"
      << YAML::Value << c.count_step << YAML::EndMap;
  out << YAML::Key << "datasets" << YAML::Value << YAML::BeginSeq;
  for (const DatasetConfig& d : c.datasets) {
    out << YAML::BeginMap << YAML::Key << "id" << YAML::Value << d.id << YAML::Key << "name"
        << YAML::Value << d.name << YAML::Key << "description" << YAML::Value << d.description;
    if (!d.grant_values.empty())
      out << YAML::Key << "grant_values" << YAML::Value << d.grant_values;
    if (d.data_use) {
      out << YAML::Key << "data_use" << YAML::Value;
      model::EmitDataUseCondition(out, *d.data_use);
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  {
    const auth::AccessConfig& a = c.access;
    out << YAML::Key << "access" << YAML::Value << YAML::BeginMap;
    if (!a.issuer.empty()) out << YAML::Key << "issuer" << YAML::Value << a.issuer;
    out << YAML::Key << "clock_skew_seconds" << YAML::Value << a.clock_skew_seconds;
    if (!a.audiences.empty()) out << YAML::Key << "audiences" << YAML::Value << a.audiences;
    if (!a.ca_file.empty()) out << YAML::Key << "ca_file" << YAML::Value << a.ca_file;
    out << YAML::Key << "registered_access" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "researcher_status" << YAML::Value << a.researcher_status;
    out << YAML::Key << "accepted_terms" << YAML::Value << YAML::Flow << a.accepted_terms;
    out << YAML::EndMap;
    out << YAML::Key << "trusted_issuers" << YAML::Value << YAML::BeginSeq;
    for (const auth::TrustedIssuerConfig& t : a.trusted_issuers) {
      out << YAML::BeginMap << YAML::Key << "issuer" << YAML::Value << t.issuer;
      if (!t.jwks_uri.empty()) out << YAML::Key << "jwks_uri" << YAML::Value << t.jwks_uri;
      if (!t.jwks_file.empty()) out << YAML::Key << "jwks_file" << YAML::Value << t.jwks_file;
      out << YAML::Key << "passports" << YAML::Value << t.passports;
      out << YAML::Key << "visa_types" << YAML::Value << YAML::Flow << t.visa_types;
      out << YAML::EndMap;
    }
    out << YAML::EndSeq << YAML::EndMap;
  }
  if (!c.reference_fasta.empty()) {
    out << YAML::Key << "genomics" << YAML::Value << YAML::BeginMap << YAML::Key
        << "reference_fasta" << YAML::Value << c.reference_fasta << YAML::EndMap;
  }
  out << YAML::Key << "audit" << YAML::Value << YAML::BeginMap << YAML::Key << "durability"
      << YAML::Value << audit::DurabilityName(c.audit.durability) << YAML::Key << "sync_interval_ms"
      << YAML::Value << c.audit.sync_interval.count() << YAML::Key << "checkpoint_interval_ms"
      << YAML::Value << c.audit.checkpoint_interval.count() << YAML::EndMap;
  const deid::DicomDeidOptions& o = c.imaging.deid;
  out << YAML::Key << "imaging" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "dicom_port" << YAML::Value << c.imaging.dicom_port;
  out << YAML::Key << "ae_title" << YAML::Value << c.imaging.ae_title;
  if (!c.imaging.dicom_address.empty()) {
    out << YAML::Key << "dicom_address" << YAML::Value << c.imaging.dicom_address;
  }
  if (!c.imaging.allowed_calling_ae_titles.empty()) {
    out << YAML::Key << "allowed_calling_ae_titles" << YAML::Value << YAML::Flow
        << c.imaging.allowed_calling_ae_titles;
  }
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

namespace {

// Writes `contents` to `path` (mode 0600) unless the file exists: written whole to a temporary
// file, then link()ed into place, so of two processes doing it at once exactly one wins and
// nobody reads a half-written secret. True when this call wrote it.
Result<bool> WriteSecretFileOnce(const std::string& path, const std::string& contents) {
  const std::string tmp = path + ".tmp" + std::to_string(getpid());
  {
    const mode_t old = umask(077);
    std::ofstream out(tmp, std::ios::binary);
    umask(old);
    out << contents;
    out.close();
    if (!out) return Unavailable("cannot write " + tmp);
  }
  chmod(tmp.c_str(), 0600);
  const int linked = link(tmp.c_str(), path.c_str());
  const int link_errno = errno;
  unlink(tmp.c_str());
  if (linked == 0) return true;
  if (link_errno == EEXIST) return false;
  return Unavailable("cannot write " + path + ": " + std::strerror(link_errno));
}

// The node's signing key: read, or made and written (mode 0600) when the file does not exist.
// Two processes opening an old node at once may race to make it; the link() makes one win and
// the other read the winner's key.
Result<auth::Jwk> LoadOrCreateSigningKey(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  if (text.ok()) {
    Result<auth::Jwk> key = auth::Jwk::ParseText(*text);
    if (!key.ok()) return DataLoss(path + ": " + key.status().message());
    if (!key->has_private()) return DataLoss(path + ": the key has no private part");
    return key;
  }
  if (fs::exists(path)) return Unavailable("cannot read " + path);
  ASSIGN_OR_RETURN(auth::Jwk key, auth::Jwk::GenerateEs256());
  ASSIGN_OR_RETURN(bool written, WriteSecretFileOnce(path, key.PrivateJsonText()));
  if (written) return key;
  return LoadOrCreateSigningKey(path);  // another process made it first
}

// NODE_DIR/admin.token: 32 random bytes as hex, written once (mode 0600, link() so that two
// processes opening an old node at once keep one token).
Status CreateAdminTokenIfMissing(const std::string& path) {
  if (fs::exists(path)) return Status::Ok();
  ASSIGN_OR_RETURN(std::string secret, deid::NewSecret());
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : secret) {
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  return WriteSecretFileOnce(path, hex + "\n").status();
}

}  // namespace

Result<NodeDir> NodeDir::Init(const std::string& dir, const NodeConfig& config) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Unavailable("node init: cannot create " + dir + ": " + ec.message());
  // Its owner's only, whatever the umask of the process that makes it.
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) return Unavailable("node init: cannot make " + dir + " private: " + ec.message());
  if (fs::exists(dir + "/node.yaml") || fs::exists(dir + "/secret.key")) {
    return AlreadyExists("node init: " + dir + " already holds a node");
  }
  ASSIGN_OR_RETURN(std::string secret, deid::NewSecret());
  ASSIGN_OR_RETURN(bool written, WriteSecretFileOnce(dir + "/secret.key", secret));
  if (!written) return AlreadyExists("node init: " + dir + " already holds a node");
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
    return FailedPrecondition(
        dir + " is not a node directory (no node.yaml); run 'oncomesh node init --dir " + dir +
        "'");
  }
  ASSIGN_OR_RETURN(node.config_, ParseNodeConfig(*yaml, dir + "/node.yaml"));
  Result<std::string> secret = ReadFile(dir + "/secret.key");
  if (!secret.ok()) return FailedPrecondition(dir + ": secret.key is missing");
  if (secret->size() != deid::kSecretBytes) {
    return DataLoss(dir + "/secret.key: expected " + std::to_string(deid::kSecretBytes) +
                    " bytes, found " + std::to_string(secret->size()));
  }
  node.pseudonymizer_ = std::make_shared<deid::Pseudonymizer>(std::move(*secret));
  ASSIGN_OR_RETURN(node.signing_key_, LoadOrCreateSigningKey(dir + "/node_key.jwk"));
  RETURN_IF_ERROR(CreateAdminTokenIfMissing(node.admin_token_path()));
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
