#include "api/htsget/htsget_service.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <variant>

#include "util/json.h"

namespace oncomesh::api::htsget {

using nlohmann::json;

namespace {

// htsget 1.3 "Protocol essentials": the media type follows
// application/vnd.ga4gh.htsget.v<version>+json.
constexpr const char* kTicketContentType =
    "application/vnd.ga4gh.htsget.v1.3.0+json; charset=utf-8";
constexpr size_t kMaxRegions = 1000;  // a POST with more is PayloadTooLarge

// An htsget error as a value until the handler turns it into a response.
struct HtsgetFailure {
  std::string error;
  std::string message;
};

struct ParsedRequest {
  std::optional<std::string> format;
  genomics::SliceRequest slice;
};

// The error table of htsget 1.3 ("Errors"): each error name with its HTTP status.
int StatusOf(const std::string& error) {
  static const std::map<std::string, int> kTable = {
      {"InvalidAuthentication", 401},
      {"PermissionDenied", 403},
      {"NotFound", 404},
      {"PayloadTooLarge", 413},
      {"UnsupportedFormat", 400},
      {"InvalidInput", 400},
      {"InvalidRange", 400},
      // Beyond the table: an identity provider's keys could not be fetched to check a passport.
      {"Unavailable", 503}};
  auto it = kTable.find(error);
  return it == kTable.end() ? 500 : it->second;
}

http::Response FromStatus(const Status& st) {
  switch (st.code()) {
    case StatusCode::kNotFound:
      return HtsgetError("NotFound", st.message());
    case StatusCode::kInvalidArgument:
      return HtsgetError("InvalidInput", st.message());
    case StatusCode::kUnauthenticated:
      return HtsgetError("InvalidAuthentication", st.message());
    case StatusCode::kPermissionDenied:
      return HtsgetError("PermissionDenied", st.message());
    default: {
      http::Response r = HtsgetError("InternalError", st.message());
      r.status = st.code() == StatusCode::kUnavailable ? 503 : 500;
      return r;
    }
  }
}

// A 32-bit unsigned decimal (htsget start/end); nullopt if malformed.
std::optional<int64_t> ParseCoordinate(const std::string& text) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v > std::numeric_limits<uint32_t>::max()) return std::nullopt;
  return v;
}

std::optional<HtsgetFailure> CheckFormat(const std::string& format) {
  if (format != "VCF" && format != "BCF") {
    return HtsgetFailure{"UnsupportedFormat",
                         "format '" + format + "' is not served for variants (VCF or BCF)"};
  }
  return std::nullopt;
}

std::set<std::string> SplitComma(const std::string& text) {
  std::set<std::string> out;
  size_t from = 0;
  while (from <= text.size()) {
    size_t comma = text.find(',', from);
    if (comma == std::string::npos) comma = text.size();
    if (comma > from) out.insert(text.substr(from, comma - from));
    from = comma + 1;
  }
  return out;
}

std::optional<HtsgetFailure> CheckTags(const std::set<std::string>& tags,
                                       const std::set<std::string>& notags) {
  for (const std::string& t : tags) {
    if (notags.count(t))
      return HtsgetFailure{"InvalidInput", "tag '" + t + "' is in both tags and notags"};
  }
  return std::nullopt;
}

// GET query parameters (htsget 1.3 "Query parameters").
std::variant<ParsedRequest, HtsgetFailure> ParseGet(const http::Request& req) {
  ParsedRequest out;
  if (const std::string* f = req.Query("format")) {
    if (auto bad = CheckFormat(*f)) return *bad;
    out.format = *f;
  }
  const std::string* cls = req.Query("class");
  const std::string* ref = req.Query("referenceName");
  const std::string* start = req.Query("start");
  const std::string* end = req.Query("end");
  if (cls) {
    if (*cls != "header") return HtsgetFailure{"InvalidInput", "class must be 'header' if given"};
    for (const char* p : {"referenceName", "start", "end", "fields", "tags", "notags"}) {
      if (req.Query(p)) {
        return HtsgetFailure{"InvalidInput",
                             std::string("class=header cannot be combined with ") + p};
      }
    }
    out.slice.header_only = true;
    return out;
  }
  if (const std::string* tags = req.Query("tags")) {
    if (const std::string* notags = req.Query("notags")) {
      if (auto bad = CheckTags(SplitComma(*tags), SplitComma(*notags))) return *bad;
    }
  }
  if (!ref) {
    if (start || end) {
      return HtsgetFailure{"InvalidInput", "start and end need a referenceName"};
    }
    return out;
  }
  if (ref->empty()) return HtsgetFailure{"InvalidInput", "referenceName is empty"};
  genomics::GenomicRegion region;
  region.reference_name = *ref;
  if (start) {
    region.start = ParseCoordinate(*start);
    if (!region.start) {
      return HtsgetFailure{"InvalidInput", "start must be an unsigned 32-bit integer"};
    }
  }
  if (end) {
    region.end = ParseCoordinate(*end);
    if (!region.end) return HtsgetFailure{"InvalidInput", "end must be an unsigned 32-bit integer"};
  }
  if (region.start && region.end && *region.start > *region.end) {
    return HtsgetFailure{"InvalidRange", "start is greater than end"};
  }
  out.slice.regions.push_back(std::move(region));
  return out;
}

std::optional<int64_t> JsonCoordinate(const json& v) {
  if (!v.is_number_unsigned()) return std::nullopt;
  const uint64_t u = v.get<uint64_t>();
  if (u > std::numeric_limits<uint32_t>::max()) return std::nullopt;
  return static_cast<int64_t>(u);
}

std::optional<std::set<std::string>> StringList(const json& v) {
  if (!v.is_array()) return std::nullopt;
  std::set<std::string> out;
  for (const json& s : v) {
    if (!s.is_string()) return std::nullopt;
    out.insert(s.get<std::string>());
  }
  return out;
}

// A POST body is a handful of fields and a list of regions: a few levels deep.
constexpr JsonLimits kHtsgetJsonLimits{/*max_depth=*/8, /*max_bytes=*/size_t{1} << 20};

// POST body (htsget 1.3 "POST request").
std::variant<ParsedRequest, HtsgetFailure> ParsePost(const http::Request& req) {
  if (!req.query.empty()) {
    return HtsgetFailure{"InvalidInput", "a POST request takes its parameters in the body only"};
  }
  ParsedRequest out;
  json body = json::object();
  if (!req.body.empty()) {
    Result<json> parsed = ParseJson(req.body, "request body", kHtsgetJsonLimits);
    if (!parsed.ok()) return HtsgetFailure{"InvalidInput", parsed.status().message()};
    body = std::move(*parsed);
  }
  if (!body.is_object()) return HtsgetFailure{"InvalidInput", "the body must be a JSON object"};
  static const std::set<std::string> kKnown = {"format", "class",  "fields",
                                               "tags",   "notags", "regions"};
  for (const auto& [key, value] : body.items()) {
    if (!kKnown.count(key)) return HtsgetFailure{"InvalidInput", "unknown field '" + key + "'"};
  }
  if (body.contains("format")) {
    if (!body["format"].is_string())
      return HtsgetFailure{"InvalidInput", "format must be a string"};
    if (auto bad = CheckFormat(body["format"].get<std::string>())) return *bad;
    out.format = body["format"].get<std::string>();
  }
  std::optional<std::set<std::string>> tags, notags;
  for (const char* key : {"fields", "tags", "notags"}) {
    if (!body.contains(key)) continue;
    auto list = StringList(body[key]);
    if (!list)
      return HtsgetFailure{"InvalidInput", std::string(key) + " must be a list of strings"};
    if (std::string(key) == "tags") tags = list;
    if (std::string(key) == "notags") notags = list;
  }
  if (tags && notags) {
    if (auto bad = CheckTags(*tags, *notags)) return *bad;
  }
  if (body.contains("class")) {
    if (body["class"] != "header")
      return HtsgetFailure{"InvalidInput", "class must be 'header' if given"};
    for (const char* key : {"fields", "tags", "notags", "regions"}) {
      if (body.contains(key)) {
        return HtsgetFailure{"InvalidInput",
                             std::string("class=header cannot be combined with ") + key};
      }
    }
    out.slice.header_only = true;
    return out;
  }
  if (!body.contains("regions")) return out;
  const json& regions = body["regions"];
  if (!regions.is_array() || regions.empty()) {
    return HtsgetFailure{"InvalidInput", "regions must be a non-empty list"};
  }
  if (regions.size() > kMaxRegions) {
    return HtsgetFailure{"PayloadTooLarge", "at most " + std::to_string(kMaxRegions) + " regions"};
  }
  for (const json& r : regions) {
    if (!r.is_object()) return HtsgetFailure{"InvalidInput", "every region must be an object"};
    for (const auto& [key, value] : r.items()) {
      if (key != "referenceName" && key != "start" && key != "end") {
        return HtsgetFailure{"InvalidInput", "unknown region field '" + key + "'"};
      }
    }
    if (!r.contains("referenceName") || !r["referenceName"].is_string() ||
        r["referenceName"].get<std::string>().empty()) {
      return HtsgetFailure{"InvalidInput", "every region needs a referenceName"};
    }
    genomics::GenomicRegion region;
    region.reference_name = r["referenceName"].get<std::string>();
    if (r.contains("start")) {
      region.start = JsonCoordinate(r["start"]);
      if (!region.start)
        return HtsgetFailure{"InvalidInput", "start must be an unsigned 32-bit integer"};
    }
    if (r.contains("end")) {
      region.end = JsonCoordinate(r["end"]);
      if (!region.end)
        return HtsgetFailure{"InvalidInput", "end must be an unsigned 32-bit integer"};
    }
    // POST regions: start >= end is InvalidRange (GET only refuses start > end).
    if (region.start && region.end && *region.start >= *region.end) {
      return HtsgetFailure{"InvalidRange", "start must be less than end"};
    }
    out.slice.regions.push_back(std::move(region));
  }
  return out;
}

std::string Base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string Hex(const unsigned char* data, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 15]);
  }
  return out;
}

// The file's identity for block URLs: size and modification time.
Result<std::string> FileVersion(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return NotFound("the variant file is missing");
  return std::to_string(st.st_size) + "-" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

http::Response HtsgetError(const std::string& error, const std::string& message) {
  http::Response r;
  r.status = StatusOf(error);
  r.content_type = "application/json";
  r.body = json{{"htsget", {{"error", error}, {"message", message}}}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
  if (r.status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

HtsgetService::HtsgetService(HtsgetConfig config) : config_(std::move(config)) {
  key_.resize(32);
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key_.data()), 32) != 1) {
    // Without randomness no block URL could be trusted; an all-zero key would be forgeable.
    throw std::runtime_error("htsget: no random bytes for the block URL key");
  }
}

std::string HtsgetService::Sign(const std::string& payload) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac, &len);
  return Hex(mac, len);
}

namespace {

// Resolves the caller's access to records (into `audited`); a response when it is refused.
std::optional<http::Response> RefuseUnlessPermitted(const CallerFn& caller_of,
                                                    const http::Request& req, Audited* audited) {
  audited->caller = caller_of(req);
  const Result<auth::Caller>& caller = *audited->caller;
  if (!caller.ok()) {
    if (caller.status().code() == StatusCode::kUnavailable)
      return HtsgetError("Unavailable", caller.status().message());
    return HtsgetError("InvalidAuthentication", caller.status().message());
  }
  // Record-level data only at kPermitted (the gate's record granularity), on some dataset; the
  // file's own datasets are checked once it is found (RefuseUnlessFilePermitted).
  if (caller->PermittedDatasets().empty()) {
    return HtsgetError("PermissionDenied",
                       caller->passport
                           ? "record-level data needs a data permit: " +
                                 caller->Missing(gate::AccessLevel::kPermitted)
                           : "record-level data needs a data permit: send 'Authorization: Bearer "
                             "<GA4GH Passport>' holding a ControlledAccessGrants visa");
  }
  return std::nullopt;
}

// A file serves the genotypes of every sample in it: the caller needs a permit for each
// dataset they belong to. To a caller without, the file does not exist (the same NotFound as an
// unknown id, so that file ids of other datasets cannot be probed).
std::optional<http::Response> RefuseUnlessFilePermitted(const Audited& audited,
                                                        const model::VariantFile& file) {
  const auth::Caller& caller = **audited.caller;
  for (const std::string& d : file.datasets) {
    if (!caller.PermittedOn(d))
      return HtsgetError("NotFound", "no variant file with id '" + file.id + "'");
  }
  return std::nullopt;
}

// The file's path under the node directory; refuses paths that would leave it.
Result<std::string> PathOf(const std::string& node_dir, const model::VariantFile& file) {
  if (file.path.empty() || file.path.front() == '/' || file.path.find("..") != std::string::npos) {
    return Internal("variant file " + file.id + " has an unusable path");
  }
  return node_dir + "/" + file.path;
}

}  // namespace

Audited HtsgetService::Ticket(const http::Request& req) const {
  Audited out;
  out.response = TicketResponse(req, &out);
  return out;
}

http::Response HtsgetService::TicketResponse(const http::Request& req, Audited* audited) const {
  auto it = req.path_params.find("id");
  const std::string id = it == req.path_params.end() ? "" : it->second;
  if (auto refused = RefuseUnlessPermitted(config_.caller, req, audited)) return *refused;

  auto parsed = req.method == "POST" ? ParsePost(req) : ParseGet(req);
  if (auto* bad = std::get_if<HtsgetFailure>(&parsed)) return HtsgetError(bad->error, bad->message);
  const ParsedRequest& request = std::get<ParsedRequest>(parsed);

  // Index probes (htslib asks for ID.csi and ID.tbi before streaming) end here unless a file
  // really has such an id: this service hands out no index files.
  Result<model::VariantFile> file = config_.files->Find(id);
  if (!file.ok()) {
    if (file.status().code() == StatusCode::kNotFound) {
      return HtsgetError("NotFound", "no variant file with id '" + id + "'");
    }
    return FromStatus(file.status());
  }
  if (auto refused = RefuseUnlessFilePermitted(*audited, *file)) return *refused;
  if (request.format && *request.format != file->format) {
    return HtsgetError("UnsupportedFormat",
                       "variant file '" + id + "' is available as " + file->format + " only");
  }
  Result<std::string> path = PathOf(config_.node_dir, *file);
  if (!path.ok()) return FromStatus(path.status());
  Result<std::string> version = FileVersion(*path);
  if (!version.ok()) return FromStatus(version.status());
  Result<genomics::Slice> slice = genomics::SliceVariantFile(*path, request.slice, config_.slice);
  if (!slice.ok()) return FromStatus(slice.status());
  Result<std::string> version_after = FileVersion(*path);
  if (!version_after.ok() || *version_after != *version) {
    return FromStatus(Unavailable("the variant file changed while it was read; retry"));
  }

  // Never from the Host header: these URLs go out with the caller's passport beside them.
  const std::string base = http::PublicBaseUrl(req, config_.public_base_url);
  if (base.empty()) {
    return FromStatus(
        Internal("the node knows no URL of its own for block URLs (node.yaml "
                 "public_url)"));
  }
  const int64_t expires = NowSeconds() + config_.ticket_lifetime.count();
  json urls = json::array();
  audit::ServedFile served{id, {}, 0, {}};
  for (const genomics::SlicePart& part : slice->parts) {
    json u;
    if (part.is_range()) {
      served.granted.push_back({static_cast<uint64_t>(part.file_offset),
                                static_cast<uint64_t>(part.file_offset + part.length)});
      const std::string offset = std::to_string(part.file_offset);
      const std::string length = std::to_string(part.length);
      const std::string expiry = std::to_string(expires);
      const std::string signature =
          Sign(id + "\n" + offset + "\n" + length + "\n" + *version + "\n" + expiry);
      u["url"] = base + "/variants/" + http::UrlEncode(id) + "/block?offset=" + offset +
                 "&length=" + length + "&version=" + http::UrlEncode(*version) +
                 "&expires=" + expiry + "&signature=" + signature;
      if (const std::string* auth = req.Header("authorization")) {
        u["headers"] = {{"Authorization", *auth}};
      }
    } else {
      u["url"] = "data:application/octet-stream;base64," + Base64(part.bytes);
      served.bytes += part.bytes.size();
    }
    u["class"] = part.header ? "header" : "body";
    urls.push_back(std::move(u));
  }
  http::Response r;
  r.content_type = kTicketContentType;
  r.body =
      json{{"htsget", {{"format", genomics::VariantFormatName(slice->format)}, {"urls", urls}}}}
          .dump();
  audited->disclosed.files.push_back(std::move(served));
  return r;
}

Audited HtsgetService::Block(const http::Request& req) const {
  Audited out;
  out.response = BlockResponse(req, &out);
  return out;
}

http::Response HtsgetService::BlockResponse(const http::Request& req, Audited* audited) const {
  auto it = req.path_params.find("id");
  const std::string id = it == req.path_params.end() ? "" : it->second;
  if (auto refused = RefuseUnlessPermitted(config_.caller, req, audited)) return *refused;
  const std::string* offset = req.Query("offset");
  const std::string* length = req.Query("length");
  const std::string* version = req.Query("version");
  const std::string* expires = req.Query("expires");
  const std::string* signature = req.Query("signature");
  if (!offset || !length || !version || !expires || !signature) {
    return HtsgetError("InvalidInput",
                       "a block URL needs offset, length, version, expires and signature");
  }
  const std::string expected =
      Sign(id + "\n" + *offset + "\n" + *length + "\n" + *version + "\n" + *expires);
  if (expected.size() != signature->size() ||
      CRYPTO_memcmp(expected.data(), signature->data(), expected.size()) != 0) {
    return HtsgetError("PermissionDenied", "this block URL was not issued by this node");
  }
  int64_t expiry = 0, off = 0, len = 0;
  try {
    expiry = std::stoll(*expires);
    off = std::stoll(*offset);
    len = std::stoll(*length);
  } catch (const std::exception&) {
    return HtsgetError("InvalidInput", "malformed block URL");
  }
  if (NowSeconds() > expiry) {
    return HtsgetError("PermissionDenied", "the ticket has expired; request a new one");
  }
  Result<model::VariantFile> file = config_.files->Find(id);
  if (!file.ok()) return FromStatus(file.status());
  if (auto refused = RefuseUnlessFilePermitted(*audited, *file)) return *refused;
  Result<std::string> path = PathOf(config_.node_dir, *file);
  if (!path.ok()) return FromStatus(path.status());
  // Open first, then compare the version, so the bytes read are of the file the ticket named.
  const int fd = open(path->c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return HtsgetError("NotFound", "the variant file is missing");
  struct stat st;
  std::string body;
  bool same = false;
  if (fstat(fd, &st) == 0) {
    same = std::to_string(st.st_size) + "-" + std::to_string(st.st_mtim.tv_sec) + "." +
               std::to_string(st.st_mtim.tv_nsec) ==
           *version;
  }
  if (same && off >= 0 && len >= 0 && off + len <= st.st_size) {
    body.resize(static_cast<size_t>(len));
    size_t done = 0;
    while (done < body.size()) {
      const ssize_t n =
          pread(fd, body.data() + done, body.size() - done, off + static_cast<off_t>(done));
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    if (done != body.size()) same = false;
  }
  close(fd);
  if (!same) {
    return HtsgetError(
        "NotFound", "the variant file changed since the ticket was issued; request a new ticket");
  }
  http::Response r;
  r.content_type = "application/octet-stream";
  audited->disclosed.files.push_back(
      {id, {{static_cast<uint64_t>(off), static_cast<uint64_t>(off + len)}}, body.size(), {}});
  r.body = std::move(body);
  return r;
}

http::Response HtsgetService::ServiceInfo() const {
  json info = {
      {"id", "org.oncomesh.htsget"},
      {"name", "OncoMesh htsget"},
      {"type", {{"group", "org.ga4gh"}, {"artifact", "htsget"}, {"version", "1.3.0"}}},
      {"description", "Slices of the node's VCF/BCF files; records only for permitted callers"},
      {"organization", {{"name", config_.organization_name}, {"url", config_.organization_url}}},
      {"version", ONCOMESH_VERSION},
      {"htsget",
       {{"datatype", "variants"},
        {"formats", {"VCF", "BCF"}},
        {"fieldsParameterEffective", false},
        {"tagsParametersEffective", false}}}};
  http::Response r;
  r.body = info.dump();
  return r;
}

void AddHtsgetRoutes(http::Router& router, const Auditor& auditor,
                     const std::shared_ptr<const HtsgetService>& service) {
  // service-info first: the router takes the first matching pattern.
  router.AddSync("GET", "/variants/service-info", "htsget service-info (GA4GH service-info 1.0)",
                 [service](http::Request&) { return service->ServiceInfo(); });
  for (const char* method : {"GET", "POST"}) {
    router.Add(method, "/variants/{id}", "htsget 1.3 ticket for a slice of a variant file",
               auditor.Wrap([service](http::Request& r) { return service->Ticket(r); }));
  }
  router.Add("GET", "/variants/{id}/block", "A byte range of a variant file named by a ticket",
             auditor.Wrap([service](http::Request& r) { return service->Block(r); }));
}

ErrorFormat HtsgetErrorFormat() {
  ErrorFormat format;
  format.error = [](const http::Request&, int status, const std::string& message) {
    http::Response r = HtsgetError(status == 503 ? "Unavailable" : "InternalError", message);
    r.status = status;
    return r;
  };
  format.message_of = [](const http::Response& r) {
    return JsonErrorMessage(r, "/htsget/message");
  };
  return format;
}

}  // namespace oncomesh::api::htsget
