// oncomesh permit request|list|show|approve|reject|revoke|visas --dir NODE_DIR …
//
// The data access committee's permit workflow (auth/permits.h). On a node that is not serving,
// the command works on the node directory itself and appends its decisions to the audit log.
// While `node serve` runs, that process holds the audit log, so the command sends the same
// operation to its admin API (NODE_DIR/serve.json gives the URL, NODE_DIR/admin.token the
// credential): either way the decision is audited before it is made.
//
// Exit codes: 0 done, 1 refused or failed (the reason is printed), 2 bad usage.
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "api/admin/admin_service.h"
#include "audit/audit_log.h"
#include "cli/commands.h"
#include "hub/hub_service.h"
#include "index/vocabulary.h"
#include "util/json.h"

namespace oncomesh::cli {
namespace {

using nlohmann::json;

struct PermitOptions {
  std::string dir;
  std::string id;
  // request
  std::string subject, issuer, purpose, project, summary;
  std::vector<std::string> datasets;
  int days = 365;
  // decisions
  std::string by;
  std::string reason;
  std::string override_reason;
  std::string status;
  bool json = false;
};

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string DefaultActor() {
  const char* user = std::getenv("USER");
  return user ? user : "operator";
}

// One operation, as an admin API call: method, path, body. (NOLINT: clang-tidy 14 takes
// nlohmann::json's noexcept move for one that throws.)
struct Call {  // NOLINT(bugprone-exception-escape)
  std::string method;
  std::string path;
  json body;
};

// The node's serving process, when there is one: its URL from serve.json (if the pid lives).
std::optional<std::string> ServingUrl(const node::NodeDir& node) {
  const json info = json::parse(ReadText(node.serve_info_path()), nullptr, false);
  if (!info.is_object() || !info.contains("pid") || !info.contains("url")) return std::nullopt;
  const pid_t pid = info["pid"].get<pid_t>();
  if (pid <= 0 || kill(pid, 0) != 0) return std::nullopt;
  return info["url"].get<std::string>();
}

Result<json> Remote(const node::NodeDir& node, const std::string& url, const Call& call) {
  ASSIGN_OR_RETURN(hub::NodeEndpoint endpoint, hub::ParseNodeUrl("node", url));
  std::string token = ReadText(node.admin_token_path());
  while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();
  ASSIGN_OR_RETURN(http::Response r,
                   http::Fetch(endpoint.host, endpoint.port, call.method, call.path,
                               call.body.is_null() ? "" : call.body.dump(),
                               std::chrono::seconds(30), {{"Authorization", "Bearer " + token}}));
  const Result<json> parsed = ParseJson(r.body, "the node's answer");
  json body = parsed.ok() ? *parsed : json();
  if (r.status >= 400) {
    const std::string message = body.is_object() && body.contains("error") &&
                                        body["error"].is_object() &&
                                        body["error"].value("message", json()).is_string()
                                    ? body["error"]["message"].get<std::string>()
                                    : "HTTP " + std::to_string(r.status);
    return Status(r.status == 409   ? StatusCode::kFailedPrecondition
                  : r.status == 404 ? StatusCode::kNotFound
                  : r.status == 400 ? StatusCode::kInvalidArgument
                                    : StatusCode::kUnavailable,
                  message);
  }
  return body;
}

// Runs the operation in this process, over the node directory.
Result<json> Local(const node::NodeDir& node, const PermitOptions& o, const Call& call) {
  audit::AuditOptions audit_options;
  audit_options.node_name = node.config().name;
  audit_options.signing_key = node.signing_key();
  ASSIGN_OR_RETURN(std::unique_ptr<audit::AuditLog> log,
                   audit::AuditLog::Open(node.audit_dir(), audit_options));
  ASSIGN_OR_RETURN(auth::DuoOntology duo, auth::DuoOntology::LoadEmbedded());
  ASSIGN_OR_RETURN(index::Vocabulary vocab, index::Vocabulary::LoadEmbedded());
  // The datasets' conditions as node serve checks them.
  node::NodeDir resolved = node;
  std::vector<node::DatasetConfig>& datasets = resolved.mutable_config().datasets;
  for (size_t i = 0; i < datasets.size(); ++i) {
    if (!datasets[i].data_use) continue;
    ASSIGN_OR_RETURN(datasets[i].data_use,
                     auth::ResolveDataUseCondition(
                         *datasets[i].data_use, duo,
                         node.dir() + "/node.yaml: datasets[" + std::to_string(i) + "].data_use"));
  }
  auth::DuoMatcher matcher(duo, auth::DiseaseHierarchyOf(vocab));
  audit::AuditLog* raw = log.get();
  std::unique_ptr<auth::PermitService> permits = api::admin::MakePermitService(
      resolved, duo, matcher, [raw](const audit::Entry& e) { return raw->AppendSync(e).status(); });
  RETURN_IF_ERROR(permits->Reload());
  Result<auth::Permit> p = NotFound("no operation");
  const std::string& id = o.id;
  if (call.path == "/admin/permits" && call.method == "GET") {
    json list = json::array();
    for (const auth::Permit& permit : permits->List()) {
      if (!o.status.empty() && o.status != auth::PermitStatusName(permit.status)) continue;
      list.push_back(permit.ToJson());
    }
    RETURN_IF_ERROR(log->Close());
    return json{{"permits", list}};
  }
  if (call.method == "GET") {
    p = permits->Find(id);
    if (p.ok()) {
      json doc = p->ToJson();
      bool compatible = false;
      if (Result<json> m = permits->MatchPurpose(*p, &compatible); m.ok()) {
        doc["currentMatch"] = {{"compatible", compatible}, {"datasets", *m}};
      }
      RETURN_IF_ERROR(log->Close());
      return doc;
    }
  } else if (call.path == "/admin/permits") {
    auth::PermitRequest r{o.subject, o.issuer, o.datasets, o.purpose, o.project, o.summary, o.days};
    p = permits->Request(r, o.by);
  } else if (call.path.ends_with("/approve")) {
    p = permits->Approve(id, o.by, o.reason, o.override_reason);
  } else if (call.path.ends_with("/reject")) {
    p = permits->Reject(id, o.by, o.reason);
  } else if (call.path.ends_with("/revoke")) {
    p = permits->Revoke(id, o.by, o.reason);
  }
  Status closed = log->Close();
  if (!p.ok()) return p.status();
  RETURN_IF_ERROR(closed);
  return p->ToJson();
}

void PrintPermit(const json& p) {
  std::cout << p.value("id", "") << "  " << p.value("status", "") << "\n"
            << "  researcher: " << p["researcher"].value("sub", "") << " @ "
            << p["researcher"].value("iss", "") << "\n"
            << "  datasets:   " << p["datasets"].dump() << "\n"
            << "  project:    " << p.value("projectTitle", "") << "\n"
            << "  purpose:    "
            << (p["purpose"].is_string() ? p["purpose"].get<std::string>() : p["purpose"].dump())
            << "\n"
            << "  duration:   " << p.value("durationDays", 0) << " days\n";
  if (p.contains("decidedBy")) {
    std::cout << "  decided by: " << p["decidedBy"].get<std::string>() << ": "
              << p.value("decisionReason", "") << "\n";
  }
  if (p.contains("overrideReason"))
    std::cout << "  OVERRIDE:   " << p["overrideReason"].get<std::string>() << "\n";
  if (p.contains("revokedBy")) {
    std::cout << "  revoked by: " << p["revokedBy"].get<std::string>() << ": "
              << p.value("revocationReason", "") << "\n";
  }
  const json& match =
      p.contains("currentMatch") ? p["currentMatch"]["datasets"] : p.value("match", json());
  if (match.is_object()) {
    for (const auto& [dataset, m] : match.items()) {
      std::cout << "  DUO match " << dataset << ": "
                << (m.value("compatible", false) ? "compatible" : "NOT compatible") << "\n";
      for (const json& r : m.value("reasons", json::array()))
        std::cout << "    - " << r.value("message", "") << "\n";
    }
  }
  if (p.contains("visas")) {
    std::cout << "  visas (ControlledAccessGrants, signed by this node; `oncomesh permit visas` "
                 "prints them):\n";
    std::cout << "    " << p["visas"].size() << " visa(s), valid until "
              << p.value("expiresAt", int64_t{0}) << "\n";
  }
}

int Run(const std::string& command, const PermitOptions& o) {
  Result<node::NodeDir> node = node::NodeDir::Open(o.dir);
  if (!node.ok()) {
    std::cerr << "oncomesh permit " << command << ": " << node.status().message() << "\n";
    return 1;
  }
  Call call;
  if (command == "list") {
    call = {"GET", "/admin/permits" + (o.status.empty() ? "" : "?status=" + o.status), nullptr};
  } else if (command == "show" || command == "visas") {
    call = {"GET", "/admin/permits/" + o.id, nullptr};
  } else if (command == "request") {
    // JSON is sent as JSON, anything else (YAML) as text; the node bounds and checks both.
    const Result<json> purpose = ParseJson(o.purpose, "purpose");
    call = {"POST",
            "/admin/permits",
            {{"researcher", {{"sub", o.subject}, {"iss", o.issuer}}},
             {"datasets", o.datasets},
             {"purpose", purpose.ok() ? *purpose : json(o.purpose)},
             {"projectTitle", o.project},
             {"summary", o.summary},
             {"durationDays", o.days},
             {"by", o.by}}};
  } else {
    call = {"POST",
            "/admin/permits/" + o.id + "/" + command,
            {{"by", o.by}, {"reason", o.reason}, {"override", o.override_reason}}};
  }
  const std::optional<std::string> url = ServingUrl(*node);
  Result<json> result = url ? Remote(*node, *url, call) : Local(*node, o, call);
  if (!result.ok()) {
    std::cerr << "oncomesh permit " << command << ": " << result.status().message() << "\n";
    return 1;
  }
  if (command == "visas") {
    for (const json& v : result->value("visas", json::array()))
      std::cout << v.get<std::string>() << "\n";
    if (!result->contains("visas")) {
      std::cerr << "oncomesh permit visas: permit " << o.id << " is " << result->value("status", "")
                << ", it has no visas\n";
      return 1;
    }
    return 0;
  }
  if (o.json) {
    std::cout << result->dump(2) << "\n";
  } else if (command == "list") {
    for (const json& p : (*result)["permits"]) {
      std::cout << p.value("id", "") << "  " << p.value("status", "") << "  "
                << p["researcher"].value("sub", "") << "  " << p["datasets"].dump() << "  "
                << p.value("projectTitle", "") << "\n";
    }
  } else {
    PrintPermit(*result);
  }
  return 0;
}

}  // namespace

void RegisterPermitCommand(CLI::App& app) {
  CLI::App* permit = app.add_subcommand("permit", "The data access committee's permit workflow");
  permit->require_subcommand(1);
  auto add = [&](const std::string& name, const std::string& help) {
    auto o = std::make_shared<PermitOptions>();
    o->by = DefaultActor();
    CLI::App* c = permit->add_subcommand(name, help);
    c->add_option("--dir", o->dir, "Node directory")->required();
    c->add_flag("--json", o->json, "Print the permit(s) as JSON");
    c->callback([o, name] { SetExitCode(Run(name, *o)); });
    return std::make_pair(c, o);
  };
  {
    auto [c, o] = add("request", "Record a researcher's request for access");
    c->add_option("--sub", o->subject, "The researcher's passport subject (sub)")->required();
    c->add_option("--iss", o->issuer, "The researcher's passport issuer (iss)")->required();
    c->add_option("--dataset", o->datasets, "A dataset id; repeat for several")->required();
    c->add_option("--purpose", o->purpose,
                  "The research purpose in DUO terms, JSON or YAML, e.g. "
                  "'{\"id\": \"DS\", \"diseases\": [\"NCIT:C4878\"], "
                  "\"not_for_profit_organisation\": true}'")
        ->required();
    c->add_option("--project", o->project, "Project title")->required();
    c->add_option("--summary", o->summary, "Project summary")->required();
    c->add_option("--days", o->days, "Duration of access in days")->capture_default_str();
    c->add_option("--by", o->by, "Who records the request")->capture_default_str();
  }
  {
    auto [c, o] = add("list", "List permits");
    c->add_option("--status", o->status, "Only requested, approved, rejected or revoked ones")
        ->check(CLI::IsMember({"requested", "approved", "rejected", "revoked"}));
  }
  for (const char* name : {"show", "visas"}) {
    auto [c, o] = add(name, std::string(name) == "show"
                                ? "Show a permit and how its purpose matches the datasets' consent"
                                : "Print an approved permit's signed visas, one per line");
    c->add_option("id", o->id, "Permit id")->required();
  }
  {
    auto [c, o] =
        add("approve", "Approve a request (only if its DUO purpose matches, or with --override)");
    c->add_option("id", o->id, "Permit id")->required();
    c->add_option("--by", o->by, "Who decides")->capture_default_str();
    c->add_option("--reason", o->reason, "Why");
    c->add_option("--override", o->override_reason,
                  "Approve although the purpose does not match the data-use conditions, for this "
                  "recorded reason");
  }
  for (const char* name : {"reject", "revoke"}) {
    auto [c, o] = add(name, std::string(name) == "reject" ? "Reject a request"
                                                          : "Revoke an approved permit (at once)");
    c->add_option("id", o->id, "Permit id")->required();
    c->add_option("--by", o->by, "Who decides")->capture_default_str();
    c->add_option("--reason", o->reason, "Why (required)")->required();
  }
}

}  // namespace oncomesh::cli
