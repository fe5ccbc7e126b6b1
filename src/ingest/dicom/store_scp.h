// The node's DICOM receiver: a C-STORE SCP (and C-ECHO, verification) built on DCMTK's
// DcmSCPPool, so that a PACS or a modality sends research images to the node the way it sends
// them to any archive (`storescu`, a PACS's "send to" node, Orthanc's store-to-modality).
//
// Each association is handled on a worker thread with its own store connection; every
// instance goes through DicomBatch (ingest/dicom/dicom_ingest.h): read, de-identified, written,
// and its row held until the association is released, when the batch commits. The C-STORE
// response status says what became of the instance:
//   0x0000 success (stored, or the same instance already stored);
//   0xA900 "data set does not match SOP class" for an instance without its mandatory UIDs;
//   0xC000 "cannot understand" for an instance the profile could not make safe, or a second
//          instance with the SOP Instance UID of a stored one and other content (quarantined,
//          the reason in the response's Error Comment);
//   0xA700 "out of resources" when it could not be written.
// An association that is aborted, or whose commit fails (the release is then answered with an
// abort), stores nothing.
//
// Presentation contexts: the 120 storage SOP classes DCMTK's storescu proposes (DCMTK allows
// 128 a profile), each with the common transfer syntaxes
// (explicit/implicit little endian, big endian, deflated, JPEG baseline/extended/lossless,
// JPEG-LS, JPEG 2000, RLE); instances are stored in the transfer syntax they arrive in.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "ingest/dicom/dicom_ingest.h"
#include "node/node_dir.h"
#include "util/status.h"

namespace oncomesh::ingest {

struct StoreScpOptions {
  // DCMTK 3.6.7's SCP listens on every interface (it takes no address): restrict the port with
  // the host's firewall when the node's HTTP address is loopback only.
  uint16_t port = 0;                  // must be set: DCMTK cannot report an ephemeral port
  std::string ae_title = "ONCOMESH";
  int max_associations = 8;           // handled at once
  DicomIngestOptions ingest;
  // Called (on the worker's thread) after an association's batch committed something.
  std::function<void()> on_commit;
};

class StoreScp {
 public:
  // Starts listening on a thread of its own. Unavailable when the port cannot be bound.
  static Result<std::unique_ptr<StoreScp>> Start(const node::NodeDir& node,
                                                 StoreScpOptions options);
  ~StoreScp();  // Stop()
  StoreScp(const StoreScp&) = delete;
  StoreScp& operator=(const StoreScp&) = delete;

  // Stops accepting associations and returns when the running ones have finished.
  void Stop();

  uint16_t port() const { return options_.port; }
  const std::string& ae_title() const { return options_.ae_title; }

 private:
  StoreScp(const node::NodeDir& node, StoreScpOptions options);
  struct Pool;
  const node::NodeDir& node_;
  StoreScpOptions options_;
  std::unique_ptr<Pool> pool_;
  std::thread thread_;
};

}  // namespace oncomesh::ingest
