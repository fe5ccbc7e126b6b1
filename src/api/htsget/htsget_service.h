// GA4GH htsget 1.3 variants endpoint (https://samtools.github.io/hts-specs/htsget.html):
//
//   GET  /variants/service-info     service-info with the htsget extension
//   GET  /variants/{id}             ticket for format, class, referenceName, start, end
//   POST /variants/{id}             ticket for a JSON body (format, class, regions[])
//   GET  /variants/{id}/block       one byte range of the stored file, as a ticket named it
//
// A ticket's parts come from genomics::SliceVariantFile: re-encoded parts (the header, the edges
// of the requested regions, the BGZF EOF block) travel inline as data: URIs; byte ranges of the
// stored file are block URLs on this node, signed (HMAC-SHA256 with a key of this process) over
// id, range, file version and expiry, so a block URL serves only what a ticket handed out and
// nothing after the file changed. Block URLs carry the caller's Authorization header in the
// ticket's `headers`, and it is checked again there.
//
// Access: the records of a file leave only to callers at gate::AccessLevel::kPermitted (a GA4GH
// Passport with a ControlledAccessGrants visa for the node's datasets, auth/access.h). No
// Authorization header, or a passport without the grant -> 403 PermissionDenied naming what is
// missing; a token that is not a valid passport -> 401 InvalidAuthentication with the reason:
// the htsget 1.3 error table.
//
// Deviations: without `format`, a file is served in its own format (the spec's default is VCF;
// BCF files are not converted); `fields`, `tags` and `notags` are accepted and ignored
// (service-info says so).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "api/audited.h"
#include "api/caller.h"
#include "genomics/variant_slice.h"
#include "http/http.h"
#include "model/model.h"
#include "util/status.h"

namespace oncomesh::api::htsget {

// Where the node's variant files come from (the store, once ingest keeps VariantFile records).
class VariantFileSource {
 public:
  virtual ~VariantFileSource() = default;
  // The file with htsget id `id`: NotFound if there is none, other codes for failures.
  // Called concurrently from request threads.
  virtual Result<model::VariantFile> Find(const std::string& id) const = 0;
};

struct HtsgetConfig {
  std::string node_dir;  // VariantFile::path is relative to it
  std::shared_ptr<const VariantFileSource> files;
  CallerFn caller;  // who is asking (api/caller.h)
  // Scheme, host and port of block URLs, e.g. "https://node.example.org" (node.yaml
  // public_url). Empty: "http://" and the address the request reached (http::PublicBaseUrl);
  // never the request's Host header.
  std::string public_base_url;
  std::chrono::seconds ticket_lifetime{3600};  // block URLs expire after this
  genomics::SliceOptions slice;
  std::string organization_name = "OncoMesh node";  // for service-info
  std::string organization_url = "https://oncomesh.invalid";
};

class HtsgetService {
 public:
  explicit HtsgetService(HtsgetConfig config);

  // Handlers; thread-safe, no sockets (tests call them directly). Ticket and Block return what
  // their audit entry needs (api/audited.h): the caller, and what left, as a served file named
  // by its htsget id. A ticket sends the bytes of its inline parts (the header and the edges of
  // the regions, re-encoded: `bytes`, no `ranges`) and grants its block URLs' byte ranges
  // (`granted`); a block sends one byte range of the stored file (`ranges`, `bytes`).
  Audited Ticket(const http::Request& request) const;  // GET/POST /variants/{id}
  Audited Block(const http::Request& request) const;   // GET /variants/{id}/block
  http::Response ServiceInfo() const;                  // GET /variants/service-info

 private:
  // The responses of Ticket and Block; they fill `audited` (caller, disclosure) as they go.
  http::Response TicketResponse(const http::Request& request, Audited* audited) const;
  http::Response BlockResponse(const http::Request& request, Audited* audited) const;
  std::string Sign(const std::string& payload) const;

  HtsgetConfig config_;
  std::string key_;  // HMAC key for block URLs, random per process
};

// Adds the routes above to `router`: tickets and blocks audited by `auditor`, service-info not
// (exempt: it describes the service only). `service` is kept alive by the routes.
void AddHtsgetRoutes(http::Router& router, const Auditor& auditor,
                     const std::shared_ptr<const HtsgetService>& service);

// htsget's errors for the audit wrapper (api/audited.h): 503 "Unavailable", other statuses
// "InternalError"; the reason read from htsget.message.
ErrorFormat HtsgetErrorFormat();

// {"htsget":{"error":..., "message":...}} with the status of the htsget 1.3 error table.
http::Response HtsgetError(const std::string& error, const std::string& message);

}  // namespace oncomesh::api::htsget
