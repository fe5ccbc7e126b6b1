// oncomesh query: a small Beacon v2 client for a node or a hub.
//   oncomesh query http://127.0.0.1:8080 -f NCIT:C16576 -f 'ICD10:C50|ICD10:C34' -f 'age>=P60Y'
//   oncomesh query http://127.0.0.1:8080 -f ICD10:C18 -v geneId=KRAS -v aminoacidChange=G12C
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "cli/query_client.h"
#include "hub/hub_service.h"

namespace oncomesh::cli {

namespace {

struct QueryOptions {
  std::string url;
  std::string entry = "individuals";
  std::vector<std::string> filters;
  std::vector<std::string> variant;  // NAME=VALUE g_variant parameters
  std::string granularity = "count";
  bool json = false;
  std::string passport;  // a file holding a GA4GH Passport JWT
};

int RunQuery(const QueryOptions& o) {
  Result<hub::NodeEndpoint> endpoint = hub::ParseNodeUrl("target", o.url);
  if (!endpoint.ok()) {
    std::cerr << "oncomesh query: " << endpoint.status().message() << "\n";
    return 2;
  }
  std::multimap<std::string, std::string> variant;
  for (const std::string& p : o.variant) {
    const size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "oncomesh query: --variant takes NAME=VALUE, not '" << p << "'\n";
      return 2;
    }
    variant.emplace(p.substr(0, eq), p.substr(eq + 1));
  }
  std::string passport;
  if (!o.passport.empty()) {
    std::ifstream in(o.passport);
    if (!(in >> passport)) {
      std::cerr << "oncomesh query: cannot read a passport from " << o.passport << "\n";
      return 2;
    }
  }
  Result<QueryAnswer> answer = PostBeaconQuery(endpoint->host, endpoint->port, o.entry, o.filters,
                                               o.granularity, variant, passport);
  if (!answer.ok()) {
    std::cerr << "oncomesh query: " << answer.status().message() << "\n";
    return 1;
  }
  if (o.json) {
    std::cout << answer->body.dump(2) << "\n";
    return 0;
  }
  PrintAnswer(std::cout, *answer);
  return 0;
}

}  // namespace

void RegisterQueryCommand(CLI::App& app) {
  auto o = std::make_shared<QueryOptions>();
  CLI::App* q = app.add_subcommand("query", "Ask a node or a hub a Beacon v2 question");
  q->add_option("url", o->url, "Base URL, e.g. http://127.0.0.1:8080")->required();
  q->add_option("-e,--entry", o->entry, "individuals, biosamples or g_variants")
      ->check(CLI::IsMember({"individuals", "biosamples", "g_variants"}));
  q->add_option("-f,--filter", o->filters,
                "A filter: CURIE, !CURIE (not), A|B (or), age>=P60Y, stage>=III, "
                "dateOfDiagnosis>=2015-01-01; repeat to AND");
  q->add_option("-v,--variant", o->variant,
                "A Beacon g_variant parameter NAME=VALUE: referenceName, start, end, "
                "referenceBases, alternateBases, variantType, geneId, aminoacidChange, "
                "genomicAlleleShortForm, assemblyId; repeat for several");
  q->add_option("-g,--granularity", o->granularity, "boolean or count")
      ->check(CLI::IsMember({"boolean", "count", "record"}));
  q->add_flag("--json", o->json, "Print the whole Beacon response");
  q->add_option(
      "--passport", o->passport,
      "A file with your GA4GH Passport (JWT), sent as the bearer token; without it, answers are "
      "booleans only");
  q->callback([o] { SetExitCode(RunQuery(*o)); });
}

}  // namespace oncomesh::cli
