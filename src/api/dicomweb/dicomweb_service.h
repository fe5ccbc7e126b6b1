// DICOMweb (DICOM PS3.18) over the node's stored, de-identified DICOM instances:
//
//   QIDO-RS (PS3.18 10.6), application/dicom+json (PS3.18 F.2):
//     GET /dicomweb/studies                                       studies
//     GET /dicomweb/series, /dicomweb/studies/{study}/series      series
//     GET /dicomweb/instances, /dicomweb/studies/{study}/instances,
//         /dicomweb/studies/{study}/series/{series}/instances     instances
//   WADO-RS (PS3.18 10.4):
//     GET /dicomweb/studies/{study}[/series/{series}[/instances/{instance}]]
//         multipart/related; type="application/dicom": the stored files, byte for byte
//     GET .../metadata   application/dicom+json of every attribute but the pixel data
//
// QIDO parameters: attribute matching by keyword or tag (UIDs as single values or lists,
// strings with '*' and '?' wildcards, StudyDate as a date or a "YYYYMMDD-YYYYMMDD" range with
// either end open), limit, offset, includefield (checked, then ignored: every stored attribute
// of the level is returned), fuzzymatching (accepted; true gets a Warning: matching is literal). No
// match: 204 No Content. An unknown or malformed parameter: 400 naming it.
//
// Access: everything here is record-level data, so only callers whose access level is
// gate::AccessLevel::kPermitted are served: a GA4GH Passport holding a ControlledAccessGrants
// visa for the node's datasets (auth/access.h). No Authorization header, or one that is not a
// valid passport: 401 with `WWW-Authenticate: Bearer`; a valid passport without the grant: 403
// naming what is missing. The check comes
// before anything else is looked at, so a refusal is the same whether a UID exists or not.
// Errors carry {"dicomweb":{"error":NAME,"message":TEXT}} (the shape of htsget's errors on
// this node; PS3.18 8.6 leaves the payload of an error to the origin server).
//
// Deviations: instances are served in the transfer syntax they are stored in (each part's
// Content-Type names it; an Accept asking for another transfer syntax is 406); metadata omits
// Pixel Data (7FE0,0010), Float and Double Float Pixel Data rather than giving a BulkDataURI,
// since no bulk data resource is served; every search reads the store's instance list.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "api/audited.h"
#include "api/caller.h"
#include "gate/gate.h"
#include "http/http.h"
#include "node/node_dir.h"
#include "util/status.h"

namespace oncomesh::api::dicomweb {

class DicomwebService {
 public:
  // `node` gives the store (opened per request: a Store serves one thread at a time) and the
  // directory the instances' paths are relative to.
  DicomwebService(node::NodeDir node, CallerFn caller);

  // Handlers; thread-safe, no sockets (tests call them directly). The level ("studies",
  // "series", "instances") comes from the route; UIDs from the path parameters study, series
  // and instance. Each returns what its audit entry needs (api/audited.h): the caller, and the
  // records that left — the Study, Series and SOP Instance UIDs in the QIDO results, or of the
  // instances retrieved — and for WADO-RS instances each stored file sent whole (its SOP
  // Instance UID, [0, size), size).
  Audited Search(const http::Request& request, const std::string& level) const;
  Audited Retrieve(const http::Request& request) const;
  Audited Metadata(const http::Request& request) const;

 private:
  // The refusal for a caller below record level, or nullopt when the caller is permitted; the
  // caller goes to `audited`.
  std::optional<http::Response> Refusal(const http::Request& request, Audited* audited) const;
  http::Response SearchResponse(const http::Request& request, const std::string& level,
                                Audited* audited) const;
  http::Response RetrieveResponse(const http::Request& request, Audited* audited) const;
  http::Response MetadataResponse(const http::Request& request, Audited* audited) const;

  node::NodeDir node_;
  CallerFn caller_;
};

// Adds the routes above to `router`, every one audited by `auditor`; `service` is kept alive by
// the routes.
void AddDicomwebRoutes(http::Router& router, const Auditor& auditor,
                       std::shared_ptr<const DicomwebService> service);

// DICOMweb's errors for the audit wrapper: 503 "Unavailable", other statuses "InternalError";
// the reason read from dicomweb.message.
ErrorFormat DicomwebErrorFormat();

// {"dicomweb":{"error":..., "message":...}} with its HTTP status: InvalidAuthentication 401,
// Unauthorized 401, PermissionDenied 403, NotFound 404, NotAcceptable 406, InvalidInput 400,
// otherwise 500.
http::Response DicomwebError(const std::string& error, const std::string& message);

// The response for a caller (or invalid credentials), nullopt when it may see records.
std::optional<http::Response> RefusalFor(const Result<auth::Caller>& caller);

}  // namespace oncomesh::api::dicomweb
