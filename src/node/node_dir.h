// A node's directory: everything one institution's node keeps.
//
//   NODE_DIR/node.yaml     configuration (name, HTTP address, disclosure control, datasets,
//                          access: trusted issuers and access-level policy)
//   NODE_DIR/secret.key    32 random bytes: the pseudonym and date-shift key (mode 0600)
//   NODE_DIR/admin.token   the admin API's credential (mode 0600)
//   NODE_DIR/node_key.jwk  the node's signing key (EC P-256 JWK, mode 0600): visas it issues,
//                          audit checkpoints; its public half is served at /.well-known/jwks.json
//   NODE_DIR/store.sqlite  the store (store/store.h)
//   NODE_DIR/variants/     copies of ingested VCF/BCF files with their indexes, for htsget
//                          (<sha256>.vcf.gz + .tbi or .csi, <sha256>.bcf + .csi)
//   NODE_DIR/segments/     the store's variant blocks (store/segment_file.h)
//   NODE_DIR/dicom/        de-identified DICOM instances, content-addressed (<2 hex>/<sha256>.dcm)
//   NODE_DIR/quarantine/   DICOM files not stored, as received, for the node's operators
//   NODE_DIR/audit/        the audit log: hash-chained JSON-lines segments, checkpoints signed
//                          with node_key.jwk (audit/audit_log.h); `oncomesh audit verify|export`
//
// `oncomesh node init` creates it; every other command opens it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "auth/access_config.h"
#include "auth/jose.h"
#include "deid/dicom_deid.h"
#include "deid/pseudonym.h"
#include "model/data_use.h"
#include "store/store.h"
#include "util/status.h"

namespace oncomesh::node {

// imaging: the DICOM receiver and how images are de-identified (ingest/dicom/).
struct ImagingConfig {
  uint16_t dicom_port = 0;            // C-STORE SCP port for `node serve`; 0: none
  std::string ae_title = "ONCOMESH";  // its AE title (1 to 16 characters)
  // imaging.dicom_address: where the receiver listens (IPv4 address or host name); empty: the
  // node's `address`.
  std::string dicom_address;
  // imaging.allowed_calling_ae_titles: the senders' AE titles it accepts; empty: any.
  std::vector<std::string> allowed_calling_ae_titles;
  deid::DicomDeidOptions deid;  // imaging.deid: the PS3.15 options taken
};

struct DatasetConfig {
  std::string id = "default";
  std::string name;
  std::string description;
  // ControlledAccessGrants visa values (from issuers trusted for grants) that permit this
  // dataset, besides the node's own "<access.issuer>/datasets/<id>" (e.g. an EGA dataset URL).
  std::vector<std::string> grant_values;
  // data_use: the dataset's consent as GA4GH DUO terms (model/data_use.h gives the form), as
  // written; `node serve` checks it against DUO (auth::ResolveDataUseCondition) and refuses to
  // start on an unknown or misused code. None by default: a node declares nothing it was not
  // told, /api/datasets then shows no dataUseConditions, and permits have nothing to match a
  // purpose against.
  std::optional<model::DataUseCondition> data_use;
};

// audit: how the node's answers wait for their audit entries (audit/audit_log.h, DURABILITY;
// docs/audit.md gives the measured trade-off).
struct AuditConfig {
  // audit.durability: `written` (default): an answer leaves once its entry is written into the
  // log file: it survives a crash of the node's process; a crash of the machine can lose the
  // entries of the last sync_interval plus two fdatasyncs (tens of ms), 4096 at most. `sync`:
  // an answer waits for its entry's fdatasync: it survives a machine crash, and costs most of
  // the throughput at few connections. Permit decisions always wait for the fdatasync.
  audit::Durability durability = audit::Durability::kWritten;
  // audit.sync_interval_ms (0 to 1000, default 20): under `written`, how long the log waits
  // between fdatasyncs no answer waits for (each costs the node CPU and context switches).
  std::chrono::milliseconds sync_interval{20};
  // audit.checkpoint_interval_ms (10 to 3,600,000, default 60,000): the longest an entry stays
  // unsigned by a checkpoint (audit/audit_log.h, CHECKPOINTS; the tail an intruder could
  // rewrite unseen).
  std::chrono::milliseconds checkpoint_interval{60'000};
};

struct NodeConfig {
  std::string name = "node";  // shown in /api/info and by the hub
  std::string organization = "OncoMesh node";
  std::string address = "127.0.0.1";  // HTTP listen address
  // public_url: "http(s)://host[:port]" as clients reach the node (a proxy in front), without
  // a trailing '/'. Links in answers (htsget block URLs, DICOMweb RetrieveURLs, /api/map) start
  // with it; empty: "http://" and the address the client's connection reached. Never the
  // request's Host header (http::PublicBaseUrl).
  std::string public_url;
  uint16_t port = 0;    // 0: an ephemeral port, printed at start
  int threads = 2;      // HTTP worker threads
  int count_step = 10;  // gate: counts are rounded up to a multiple of this
  std::vector<DatasetConfig> datasets = {DatasetConfig{}};
  auth::AccessConfig access;
  // genomics.reference_fasta: a FASTA (plain or bgzipped, .fai built beside it when missing)
  // that every ingested VCF record's REF is checked against; empty: no check. A relative path
  // is relative to the node directory (see NodeDir::ReferenceFastaPath).
  std::string reference_fasta;
  ImagingConfig imaging;
  AuditConfig audit;
};

// Parses node.yaml text. Unknown keys are an error naming the key (a typo must not be silent).
Result<NodeConfig> ParseNodeConfig(const std::string& yaml_text, const std::string& source_name);
std::string NodeConfigToYaml(const NodeConfig& config);

class NodeDir {
 public:
  // Creates a new node directory (the directory may exist but must not hold a node).
  static Result<NodeDir> Init(const std::string& dir, const NodeConfig& config);
  // Opens an existing one; FailedPrecondition naming what is missing otherwise.
  static Result<NodeDir> Open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  const NodeConfig& config() const { return config_; }
  NodeConfig& mutable_config() { return config_; }
  // The dataset of data ingested without naming one: node.yaml's first ("" when none).
  std::string DefaultDataset() const {
    return config_.datasets.empty() ? "" : config_.datasets.front().id;
  }
  const deid::Pseudonymizer& pseudonymizer() const { return *pseudonymizer_; }
  // The node's signing key (NODE_DIR/node_key.jwk; made on first open for nodes older than it).
  const auth::Jwk& signing_key() const { return signing_key_; }
  std::string store_path() const { return dir_ + "/store.sqlite"; }
  // Where copies of ingested variant files are kept (NODE_DIR/variants; may not exist yet).
  std::string variants_dir() const { return dir_ + "/variants"; }
  // Where the audit log is kept (NODE_DIR/audit; may not exist yet).
  std::string audit_dir() const { return dir_ + "/audit"; }
  // NODE_DIR/admin.token: the credential of the node's admin HTTP API (/admin/…), 64 hex
  // characters, mode 0600, made on first open; whoever can read it is the node's operator.
  std::string admin_token_path() const { return dir_ + "/admin.token"; }
  // NODE_DIR/serve.json while `node serve` runs: {"pid", "url"} for commands that must go
  // through the serving process (e.g. `oncomesh permit`, whose decisions it audits).
  std::string serve_info_path() const { return dir_ + "/serve.json"; }
  // config().reference_fasta resolved against the node directory; empty when not configured.
  std::string ReferenceFastaPath() const;

  // Opens a new connection to the node's store (one per thread).
  Result<std::unique_ptr<store::Store>> OpenStore() const;

 private:
  std::string dir_;
  NodeConfig config_;
  std::shared_ptr<deid::Pseudonymizer> pseudonymizer_;
  auth::Jwk signing_key_;
};

}  // namespace oncomesh::node
