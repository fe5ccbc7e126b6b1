// The node's DICOM receiver: a C-STORE SCP (and C-ECHO, verification) built on DCMTK's
// DcmThreadSCP, so that a PACS or a modality sends research images to the node the way it sends
// them to any archive (`storescu`, a PACS's "send to" node, Orthanc's store-to-modality).
//
// Listening: on `address` only (an IPv4 address or host name; the node's listen address by
// default), with a listener thread of our own (DCMTK 3.6.7's SCP pool binds every interface).
// Associations are checked before they are accepted, each refusal logged on stderr with the
// peer's address and AE titles, and answered with the A-ASSOCIATE-RJ reason of PS3.8 9.3.4:
//   a called AE title other than `ae_title`: rejected-permanent, service user, reason 7
//     ("called-AE-title-not-recognized");
//   a calling AE title outside a non-empty `allowed_calling_ae_titles`: rejected-permanent,
//     service user, reason 3 ("calling-AE-title-not-recognized");
//   more than `max_associations` at once: rejected-transient, service provider (presentation),
//     reason 2 ("local-limit-exceeded").
//
// Each association is handled on a thread of its own with its own store connection. Every
// instance is committed before it is answered (ingest/dicom/dicom_ingest.h, DicomBatch: read,
// de-identified, written, its file synced, its row committed), so a Success is never given for
// an instance the node does not keep: an association that is aborted, or a node killed, after
// some responses keeps every instance answered Success (PS3.4 B.2.3). The C-STORE response
// status says what became of the instance:
//   0x0000 success (stored, or the same instance already stored);
//   0xA900 "data set does not match SOP class" for an instance without its mandatory UIDs;
//   0xC000 "cannot understand" for an instance the profile could not make safe, or a second
//          instance with the SOP Instance UID of a stored one and other content (quarantined,
//          the reason in the response's Error Comment);
//   0xA700 "out of resources" when it could not be written or committed.
// Every status but success is logged on stderr with the peer, the instance and the reason.
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
#include <vector>

#include "ingest/dicom/dicom_ingest.h"
#include "node/node_dir.h"
#include "util/status.h"

namespace oncomesh::ingest {

struct StoreScpOptions {
  std::string address = "127.0.0.1";  // IPv4 address or host name to listen on
  uint16_t port = 0;                  // 0: an ephemeral port (port() tells which)
  std::string ae_title = "ONCOMESH";  // the called AE title it answers to
  // Calling AE titles accepted; empty: any.
  std::vector<std::string> allowed_calling_ae_titles;
  int max_associations = 8;  // handled at once
  DicomIngestOptions ingest;
  // Called (on the association's thread) after an instance was committed.
  std::function<void()> on_commit;
};

class StoreScp {
 public:
  // Removes what an interrupted ingest left (SweepDicomLeftovers), then starts listening on a
  // thread of its own. InvalidArgument for a bad option (an AE title not
  // of 1 to 16 characters, an address that is not IPv4), Unavailable when the address and port
  // cannot be bound.
  static Result<std::unique_ptr<StoreScp>> Start(const node::NodeDir& node,
                                                 StoreScpOptions options);
  ~StoreScp();  // Stop()
  StoreScp(const StoreScp&) = delete;
  StoreScp& operator=(const StoreScp&) = delete;

  // Stops accepting associations and returns when the running ones have finished.
  void Stop();

  uint16_t port() const { return port_; }
  const std::string& ae_title() const { return options_.ae_title; }

  struct Listener;  // the accept loop and the association threads (store_scp.cc)

 private:
  StoreScp(const node::NodeDir& node, StoreScpOptions options);
  const node::NodeDir& node_;
  StoreScpOptions options_;
  uint16_t port_ = 0;
  std::unique_ptr<Listener> listener_;
};

}  // namespace oncomesh::ingest
