#include "api/dicomweb/dicomweb_service.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <unordered_map>

#include "api/dicomweb/internal/dicomweb_internal.h"

namespace oncomesh::api::dicomweb {

using nlohmann::json;

namespace {

constexpr const char* kDicomJson = "application/dicom+json";

// Error names and their HTTP statuses, in one place.
int StatusOf(const std::string& error) {
  static const std::map<std::string, int> kTable = {
      {"InvalidInput", 400},     {"Unauthorized", 401}, {"InvalidAuthentication", 401},
      {"PermissionDenied", 403}, {"NotFound", 404},     {"NotAcceptable", 406},
      {"Unavailable", 503}};
  auto it = kTable.find(error);
  return it == kTable.end() ? 500 : it->second;
}

http::Response FromStatus(const Status& st) {
  switch (st.code()) {
    case StatusCode::kNotFound:
      return DicomwebError("NotFound", st.message());
    case StatusCode::kInvalidArgument:
      return DicomwebError("InvalidInput", st.message());
    case StatusCode::kUnavailable:
      return DicomwebError("Unavailable", st.message());
    default:
      return DicomwebError("InternalError", st.message());
  }
}

std::string PathParam(const http::Request& req, const char* name) {
  auto it = req.path_params.find(name);
  return it == req.path_params.end() ? "" : it->second;
}

// Where RetrieveURLs point: node.yaml public_url, or the address the request reached; never
// its Host header.
std::string BaseUrl(const http::Request& req, const node::NodeDir& node) {
  return http::PublicBaseUrl(req, node.config().public_url);
}

// The stored instances under the request's study, series and instance path parameters (the
// ones it has), in store order.
Result<std::vector<model::DicomInstance>> InstancesOf(const node::NodeDir& node,
                                                      const http::Request& req) {
  const std::string study = PathParam(req, "study"), series = PathParam(req, "series"),
                    instance = PathParam(req, "instance");
  ASSIGN_OR_RETURN(auto store, node.OpenStore());
  std::vector<model::DicomInstance> out;
  RETURN_IF_ERROR(store->ScanDicomInstances(0, [&](store::Seq, const model::DicomInstance& i) {
    if (!study.empty() && i.study_uid != study) return;
    if (!series.empty() && i.series_uid != series) return;
    if (!instance.empty() && i.id != instance) return;
    out.push_back(i);
  }));
  return out;
}

Result<std::vector<model::DicomInstance>> AllInstances(const node::NodeDir& node) {
  ASSIGN_OR_RETURN(auto store, node.OpenStore());
  std::vector<model::DicomInstance> out;
  RETURN_IF_ERROR(store->ScanDicomInstances(
      0, [&](store::Seq, const model::DicomInstance& i) { out.push_back(i); }));
  return out;
}

// Drops the instances of individuals in datasets the caller holds no permit for: to the
// caller they do not exist (the same 204 or 404 as an unknown UID).
Status KeepPermitted(const node::NodeDir& node, const Result<auth::Caller>& caller,
                     std::vector<model::DicomInstance>* instances) {
  const std::vector<std::string> permitted = caller->PermittedDatasets();
  if (permitted.size() == caller->datasets.size()) return Status::Ok();  // every dataset
  ASSIGN_OR_RETURN(auto store, node.OpenStore());
  std::unordered_map<std::string, bool> allowed;  // individual -> in a permitted dataset
  Status failed;
  std::erase_if(*instances, [&](const model::DicomInstance& i) {
    auto it = allowed.find(i.individual_id);
    if (it == allowed.end()) {
      // An image of no known individual could be of any dataset: only for callers permitted
      // on every one (returned above).
      Result<std::string> dataset = store->IndividualDataset(i.individual_id);
      bool ok = false;
      if (dataset.ok()) {
        ok = caller->PermittedOn(*dataset);  // none is "" once the node has opened
      } else if (dataset.status().code() != StatusCode::kNotFound) {
        failed = dataset.status();
      }
      it = allowed.emplace(i.individual_id, ok).first;
    }
    return !it->second;
  });
  return failed;
}

// What the path names, for 404 messages: only ever sent to permitted callers.
std::string Named(const http::Request& req) {
  std::string what = "study " + PathParam(req, "study");
  if (!PathParam(req, "series").empty()) what += ", series " + PathParam(req, "series");
  if (!PathParam(req, "instance").empty()) what += ", instance " + PathParam(req, "instance");
  return what;
}

// The stored file's path under the node directory; refuses paths that would leave it.
Result<std::string> PathOf(const std::string& node_dir, const model::DicomInstance& i) {
  if (i.path.empty() || i.path.front() == '/' || i.path.find("..") != std::string::npos) {
    return Internal("instance " + i.id + " has an unusable path");
  }
  return node_dir + "/" + i.path;
}

Result<std::string> ReadStoredFile(const std::string& node_dir, const model::DicomInstance& i) {
  ASSIGN_OR_RETURN(std::string path, PathOf(node_dir, i));
  std::ifstream in(path, std::ios::binary);
  if (!in) return Internal("the stored file of instance " + i.id + " is missing");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Internal("the stored file of instance " + i.id + " cannot be read");
  return bytes;
}

// A multipart boundary that occurs in none of the parts (RFC 2046 5.1.1); 128 random bits
// make a clash all but impossible, and it is checked all the same.
Result<std::string> NewBoundary(const std::vector<std::pair<std::string, std::string>>& parts) {
  static const char kHex[] = "0123456789abcdef";
  for (int attempt = 0; attempt < 8; ++attempt) {
    unsigned char random[16];
    if (RAND_bytes(random, sizeof random) != 1) return Internal("no random bytes for a boundary");
    std::string out = "oncomesh-";
    for (unsigned char c : random) {
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
    if (std::none_of(parts.begin(), parts.end(),
                     [&](const auto& p) { return p.second.find(out) != std::string::npos; })) {
      return out;
    }
  }
  return Internal("no multipart boundary found that the instances do not contain");
}

// The UIDs of the three levels, as the audit names them (a study is not a dataset here: the
// instances carry none, so the records' dataset is "").
constexpr std::pair<uint32_t, audit::RecordKind> kUidTags[] = {
    {internal::kStudyInstanceUidTag, audit::RecordKind::kStudy},
    {internal::kSeriesInstanceUidTag, audit::RecordKind::kSeries},
    {0x00080018, audit::RecordKind::kSopInstance}};

// Each kind's ids in first-seen order, once each, as records of the disclosure.
void AddRecords(const std::vector<std::vector<std::string>>& ids_by_kind,
                audit::Disclosure* disclosed) {
  for (size_t k = 0; k < std::size(kUidTags); ++k) {
    audit::ReleasedRecords records{"", kUidTags[k].second, {}};
    std::set<std::string> seen;
    for (const std::string& id : ids_by_kind[k]) {
      if (!id.empty() && seen.insert(id).second) records.ids.push_back(id);
    }
    if (!records.ids.empty()) disclosed->records.push_back(std::move(records));
  }
}

// The UIDs the QIDO results show: exactly what is in the DICOM JSON objects sent.
void DiscloseResults(const std::vector<json>& results, audit::Disclosure* disclosed) {
  std::vector<std::vector<std::string>> ids(std::size(kUidTags));
  char tag[9];
  for (const json& r : results) {
    for (size_t k = 0; k < std::size(kUidTags); ++k) {
      std::snprintf(tag, sizeof tag, "%08X", kUidTags[k].first);
      auto it = r.find(tag);
      if (it == r.end() || !it->contains("Value")) continue;
      for (const json& v : (*it)["Value"]) {
        if (v.is_string()) ids[k].push_back(v.get<std::string>());
      }
    }
  }
  AddRecords(ids, disclosed);
}

// The UIDs of instances sent (WADO-RS instances or metadata).
void DiscloseInstances(const std::vector<model::DicomInstance>& instances,
                       audit::Disclosure* disclosed) {
  std::vector<std::vector<std::string>> ids(std::size(kUidTags));
  for (const model::DicomInstance& i : instances) {
    ids[0].push_back(i.study_uid);
    ids[1].push_back(i.series_uid);
    ids[2].push_back(i.id);
  }
  AddRecords(ids, disclosed);
}

}  // namespace

http::Response DicomwebError(const std::string& error, const std::string& message) {
  http::Response r;
  r.status = StatusOf(error);
  r.content_type = "application/json";
  r.body = json{{"dicomweb", {{"error", error}, {"message", message}}}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
  if (r.status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

std::optional<http::Response> RefusalFor(const Result<auth::Caller>& caller) {
  if (!caller.ok()) {
    if (caller.status().code() == StatusCode::kUnavailable)
      return DicomwebError("Unavailable", caller.status().message());
    return DicomwebError("InvalidAuthentication", caller.status().message());
  }
  // Record-level data for callers permitted on some dataset; the instances of the others are
  // then left out (KeepPermitted).
  if (!caller->PermittedDatasets().empty()) return std::nullopt;
  if (!caller->passport) {
    return DicomwebError(
        "Unauthorized",
        "record-level data needs a data permit: send 'Authorization: Bearer <GA4GH Passport>'");
  }
  return DicomwebError("PermissionDenied", "record-level data needs a data permit: " +
                                               caller->Missing(gate::AccessLevel::kPermitted));
}

DicomwebService::DicomwebService(node::NodeDir node, CallerFn caller)
    : node_(std::move(node)), caller_(std::move(caller)) {}

std::optional<http::Response> DicomwebService::Refusal(const http::Request& request,
                                                       Audited* audited) const {
  audited->caller = caller_(request);
  return RefusalFor(*audited->caller);
}

Audited DicomwebService::Search(const http::Request& request, const std::string& level) const {
  Audited out;
  out.response = SearchResponse(request, level, &out);
  return out;
}

Audited DicomwebService::Retrieve(const http::Request& request) const {
  Audited out;
  out.response = RetrieveResponse(request, &out);
  return out;
}

Audited DicomwebService::Metadata(const http::Request& request) const {
  Audited out;
  out.response = MetadataResponse(request, &out);
  return out;
}

http::Response DicomwebService::SearchResponse(const http::Request& req, const std::string& level,
                                               Audited* audited) const {
  if (auto refused = Refusal(req, audited)) return *refused;
  const internal::Level l = level == "studies"  ? internal::Level::kStudy
                            : level == "series" ? internal::Level::kSeries
                                                : internal::Level::kInstance;
  if (!internal::AcceptsDicomJson(req.Header("accept"))) {
    return DicomwebError("NotAcceptable", "QIDO-RS results are application/dicom+json");
  }
  Result<internal::QidoQuery> query = internal::ParseQidoQuery(l, req.query);
  if (!query.ok()) return FromStatus(query.status());
  // The study and series of the path are conditions, not a narrower scan: the study-level
  // counts of the results must still count the whole study.
  if (const std::string study = PathParam(req, "study"); !study.empty()) {
    query->conditions.push_back({internal::kStudyInstanceUidTag, {study}, std::nullopt});
  }
  if (const std::string series = PathParam(req, "series"); !series.empty()) {
    query->conditions.push_back({internal::kSeriesInstanceUidTag, {series}, std::nullopt});
  }
  Result<std::vector<model::DicomInstance>> instances = AllInstances(node_);
  if (!instances.ok()) return FromStatus(instances.status());
  if (Status st = KeepPermitted(node_, *audited->caller, &*instances); !st.ok())
    return FromStatus(st);
  size_t total = 0;
  std::vector<json> results = internal::Search(*query, *instances, BaseUrl(req, node_), &total);
  http::Response r;
  if (results.empty()) {  // PS3.18 10.6.3: no matches -> 204 No Content
    r.status = 204;
    r.content_type.clear();
    return r;
  }
  r.content_type = kDicomJson;
  r.body = json(results).dump(-1, ' ', false, json::error_handler_t::replace);
  DiscloseResults(results, &audited->disclosed);
  if (query->fuzzy_matching_requested) {
    // PS3.18 8.3.4.4.1: the Warning when fuzzy matching is asked for and not supported.
    r.headers.emplace_back(
        "Warning",
        "299 oncomesh: The fuzzymatching parameter is not supported. Only literal "
        "matching has been performed.");
  }
  if (query->offset + results.size() < total) {
    // PS3.18 8.3.4.4: more matches than returned.
    r.headers.emplace_back("Warning", "299 oncomesh: There are " +
                                          std::to_string(total - query->offset - results.size()) +
                                          " additional results that can be requested");
  }
  return r;
}

http::Response DicomwebService::RetrieveResponse(const http::Request& req, Audited* audited) const {
  if (auto refused = Refusal(req, audited)) return *refused;
  Result<std::vector<model::DicomInstance>> instances = InstancesOf(node_, req);
  if (!instances.ok()) return FromStatus(instances.status());
  if (Status st = KeepPermitted(node_, *audited->caller, &*instances); !st.ok())
    return FromStatus(st);
  if (instances->empty()) return DicomwebError("NotFound", "no stored instances for " + Named(req));
  std::set<std::string> syntaxes;
  for (const model::DicomInstance& i : *instances) syntaxes.insert(i.transfer_syntax);
  if (!internal::AcceptsDicomMultipart(req.Header("accept"), syntaxes)) {
    return DicomwebError("NotAcceptable",
                         "instances are served as multipart/related; type=\"application/dicom\" in "
                         "their stored transfer syntax");
  }
  std::vector<std::pair<std::string, std::string>> parts;
  std::vector<audit::ServedFile> files;
  for (const model::DicomInstance& i : *instances) {
    Result<std::string> bytes = ReadStoredFile(node_.dir(), i);
    if (!bytes.ok()) return FromStatus(bytes.status());
    files.push_back({i.id, {{0, bytes->size()}}, bytes->size(), {}});
    parts.emplace_back("application/dicom; transfer-syntax=" + i.transfer_syntax,
                       std::move(*bytes));
  }
  Result<std::string> boundary = NewBoundary(parts);
  if (!boundary.ok()) return FromStatus(boundary.status());
  http::Response r;
  r.content_type = "multipart/related; type=\"application/dicom\"; boundary=" + *boundary;
  r.body = internal::MultipartRelated(parts, *boundary);
  DiscloseInstances(*instances, &audited->disclosed);
  audited->disclosed.files = std::move(files);
  return r;
}

http::Response DicomwebService::MetadataResponse(const http::Request& req, Audited* audited) const {
  if (auto refused = Refusal(req, audited)) return *refused;
  Result<std::vector<model::DicomInstance>> instances = InstancesOf(node_, req);
  if (!instances.ok()) return FromStatus(instances.status());
  if (Status st = KeepPermitted(node_, *audited->caller, &*instances); !st.ok())
    return FromStatus(st);
  if (instances->empty()) return DicomwebError("NotFound", "no stored instances for " + Named(req));
  if (!internal::AcceptsDicomJson(req.Header("accept"))) {
    return DicomwebError("NotAcceptable", "metadata is served as application/dicom+json");
  }
  std::string body = "[";
  for (const model::DicomInstance& i : *instances) {
    if (body.size() > 1) body += ",";
    Result<std::string> path = PathOf(node_.dir(), i);
    if (!path.ok()) return FromStatus(path.status());
    Result<std::string> object = internal::DicomJsonOfFile(*path);
    if (!object.ok()) return FromStatus(object.status());
    body += *object;
  }
  body += "]";
  http::Response r;
  r.content_type = kDicomJson;
  r.body = std::move(body);
  DiscloseInstances(*instances, &audited->disclosed);
  return r;
}

void AddDicomwebRoutes(http::Router& router, const Auditor& auditor,
                       std::shared_ptr<const DicomwebService> service) {
  auto search = [&](const char* pattern, const char* level, const char* description) {
    router.Add("GET", pattern, description,
               auditor.Wrap([service, level = std::string(level)](http::Request& r) {
                 return service->Search(r, level);
               }));
  };
  auto retrieve = [&](const char* pattern, const char* description) {
    router.Add("GET", pattern, description,
               auditor.Wrap([service](http::Request& r) { return service->Retrieve(r); }));
  };
  auto metadata = [&](const char* pattern, const char* description) {
    router.Add("GET", pattern, description,
               auditor.Wrap([service](http::Request& r) { return service->Metadata(r); }));
  };
  search("/dicomweb/studies", "studies", "QIDO-RS: search for studies (PS3.18 10.6)");
  search("/dicomweb/series", "series", "QIDO-RS: search for series");
  search("/dicomweb/instances", "instances", "QIDO-RS: search for instances");
  search("/dicomweb/studies/{study}/series", "series", "QIDO-RS: search for series of a study");
  search("/dicomweb/studies/{study}/instances", "instances",
         "QIDO-RS: search for instances of a study");
  search("/dicomweb/studies/{study}/series/{series}/instances", "instances",
         "QIDO-RS: search for instances of a series");
  retrieve("/dicomweb/studies/{study}", "WADO-RS: the instances of a study (PS3.18 10.4)");
  retrieve("/dicomweb/studies/{study}/series/{series}", "WADO-RS: the instances of a series");
  retrieve("/dicomweb/studies/{study}/series/{series}/instances/{instance}",
           "WADO-RS: one instance");
  metadata("/dicomweb/studies/{study}/metadata", "WADO-RS: metadata of a study's instances");
  metadata("/dicomweb/studies/{study}/series/{series}/metadata",
           "WADO-RS: metadata of a series' instances");
  metadata("/dicomweb/studies/{study}/series/{series}/instances/{instance}/metadata",
           "WADO-RS: metadata of one instance");
}

ErrorFormat DicomwebErrorFormat() {
  ErrorFormat format;
  format.error = [](const http::Request&, int status, const std::string& message) {
    http::Response r = DicomwebError(status == 503 ? "Unavailable" : "InternalError", message);
    r.status = status;
    return r;
  };
  format.message_of = [](const http::Response& r) {
    return JsonErrorMessage(r, "/dicomweb/message");
  };
  return format;
}

}  // namespace oncomesh::api::dicomweb
