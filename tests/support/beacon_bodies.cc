#include "support/beacon_bodies.h"

#include <algorithm>
#include <cstddef>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "support/process.h"

namespace oncomesh::testing {
namespace {

using nlohmann::json;

struct Collected {
  std::string label;  // "POST /api/individuals -> 200"
  std::string schema;
  std::string document;
};

std::mutex& Mutex() {
  static std::mutex mu;
  return mu;
}
std::vector<Collected>& Bodies() {
  static std::vector<Collected> bodies;
  return bodies;
}

constexpr const char* kResponses = "framework/json/responses/";
constexpr const char* kModels = "models/json/beacon-v2-default-model/";

// The path of a target without its query, and without a trailing slash.
std::string PathOf(const std::string& target) {
  std::string path = target.substr(0, target.find('?'));
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// What to validate of one answer: (schema, document) pairs; a pair with an empty schema is a
// problem to report as it stands (its document is the message).
std::vector<std::pair<std::string, std::string>> Documents(const std::string& path, int status,
                                                           const std::string& body) {
  const json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return {{"", "the body is not JSON: " + body.substr(0, 200)}};
  if (status != 200) return {{std::string(kResponses) + "beaconErrorResponse.json", body}};
  static const std::map<std::string, std::string> kFixed = {
      {"/api", "beaconInfoResponse.json"},
      {"/api/info", "beaconInfoResponse.json"},
      {"/api/service-info", "ga4gh-service-info-1-0-0-schema.json"},
      {"/api/configuration", "beaconConfigurationResponse.json"},
      {"/api/map", "beaconMapResponse.json"},
      {"/api/entry_types", "beaconEntryTypesResponse.json"},
      {"/api/filtering_terms", "beaconFilteringTermsResponse.json"},
  };
  if (auto it = kFixed.find(path); it != kFixed.end()) return {{kResponses + it->second, body}};
  std::vector<std::pair<std::string, std::string>> out;
  for (const char* collection : {"datasets", "cohorts"}) {
    const std::string root = std::string("/api/") + collection;
    const bool one =
        path.rfind(root + "/", 0) == 0 && path.find('/', root.size() + 1) == std::string::npos;
    if (path != root && !one) continue;
    out.emplace_back(std::string(kResponses) + "beaconCollectionsResponse.json", body);
    if (doc.contains("response") && doc["response"].contains("collections")) {
      for (const json& c : doc["response"]["collections"]) {
        out.emplace_back(std::string(kModels) + collection + "/defaultSchema.json", c.dump());
      }
    }
    return out;
  }
  static const std::map<std::string, std::string> kEntries = {
      {"/api/individuals", "individuals"},
      {"/api/biosamples", "biosamples"},
      {"/api/g_variants", "genomicVariations"}};
  const auto entry = kEntries.find(path);
  if (entry == kEntries.end())
    return {{"", "no Beacon schema is known for a 200 answer of " + path}};
  const std::string granularity = doc.value("/meta/returnedGranularity"_json_pointer, "");
  const bool result_sets = doc.contains("response") && doc["response"].contains("resultSets");
  if (granularity == "record" || result_sets) {
    out.emplace_back(std::string(kResponses) + "beaconResultsetsResponse.json", body);
    if (granularity == "record" && result_sets) {
      for (const json& set : doc["response"]["resultSets"]) {
        for (const json& r : set.value("results", json::array())) {
          out.emplace_back(std::string(kModels) + entry->second + "/defaultSchema.json", r.dump());
        }
      }
    }
  } else if (granularity == "count") {
    out.emplace_back(std::string(kResponses) + "beaconCountResponse.json", body);
  } else if (granularity == "boolean") {
    out.emplace_back(std::string(kResponses) + "beaconBooleanResponse.json", body);
  } else {
    out.emplace_back("", "meta.returnedGranularity is '" + granularity + "'");
  }
  return out;
}

}  // namespace

Result<http::Response> FetchBeacon(
    const std::string& host, uint16_t port, const std::string& method, const std::string& target,
    const std::string& body, std::chrono::milliseconds timeout,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  Result<http::Response> r = http::Fetch(host, port, method, target, body, timeout, headers);
  if (r.ok()) CollectBeaconBody(method, target, r->status, r->body);
  return r;
}

void CollectBeaconBody(const std::string& method, const std::string& target, int status,
                       const std::string& body) {
  const std::string path = PathOf(target);
  if (path != "/api" && path.rfind("/api/", 0) != 0) return;
  const std::string label = method + " " + target + " -> " + std::to_string(status);
  std::vector<std::pair<std::string, std::string>> docs = Documents(path, status, body);
  std::lock_guard<std::mutex> lock(Mutex());
  for (auto& [schema, document] : docs) Bodies().push_back({label, schema, std::move(document)});
}

void DiscardCollectedBeaconBodies() {
  std::lock_guard<std::mutex> lock(Mutex());
  Bodies().clear();
}

std::string ValidateCollectedBeaconBodies() {
  std::vector<Collected> bodies;
  {
    std::lock_guard<std::mutex> lock(Mutex());
    bodies.swap(Bodies());
  }
  if (bodies.empty()) return "";
  std::string report;
  TempDir dir;
  std::map<std::string, std::vector<size_t>> by_schema;
  for (size_t i = 0; i < bodies.size(); ++i) {
    if (bodies[i].schema.empty()) {
      report += bodies[i].label + ": " + bodies[i].document + "\n";
      continue;
    }
    by_schema[bodies[i].schema].push_back(i);
    std::ofstream(dir.path() + "/" + std::to_string(i) + ".json") << bodies[i].document;
  }
  // At most kBatch documents per validator run: the command line of a record answer's
  // thousands of results is too long for one.
  constexpr size_t kBatch = 200;
  std::vector<std::pair<std::string, std::vector<size_t>>> runs;
  for (const auto& [schema, all] : by_schema) {
    for (size_t from = 0; from < all.size(); from += kBatch) {
      const size_t to = std::min(from + kBatch, all.size());
      runs.emplace_back(schema, std::vector<size_t>(all.begin() + static_cast<std::ptrdiff_t>(from),
                                                    all.begin() + static_cast<std::ptrdiff_t>(to)));
    }
  }
  for (const auto& [schema, indices] : runs) {
    std::vector<std::string> argv = {"node", SharedDir() + "/tools/beacon-validator/validate.mjs",
                                     schema};
    for (size_t i : indices) argv.push_back(dir.path() + "/" + std::to_string(i) + ".json");
    std::string output;
    const int code = RunCommand(argv, &output);
    if (code == 0) continue;
    report += "validator exit " + std::to_string(code) + " against " + schema + ":\n";
    for (size_t i : indices) {
      const std::string file = dir.path() + "/" + std::to_string(i) + ".json";
      if (output.find(file + ":") != std::string::npos) {
        report += "  " + std::to_string(i) + ".json is " + bodies[i].label + ": " +
                  bodies[i].document.substr(0, 300) + "\n";
      }
    }
    report += output + "\n";
  }
  return report;
}

}  // namespace oncomesh::testing
