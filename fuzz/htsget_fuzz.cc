// htsget 1.3 ticket requests as a node reads them, for a permitted caller and the fuzz node's
// synthetic VCF (bgzipped, tabix-indexed): the first byte picks GET (the rest is the query
// string, split and percent-decoded as the HTTP server does) or POST (the rest is the JSON
// body). The answer must be a ticket or an htsget error document, never a crash or a 500.
#include <nlohmann/json.hpp>

#include "api/htsget/htsget_service.h"
#include "fuzz_support.h"
#include "http/http.h"

namespace {

using namespace oncomesh;

class SynthFile : public api::htsget::VariantFileSource {
 public:
  Result<model::VariantFile> Find(const std::string& id) const override {
    if (id != "genomes") return NotFound("no variant file with id '" + id + "'");
    model::VariantFile file;
    file.id = "genomes";
    file.path = "genomes.vcf.gz";
    file.format = "VCF";
    file.assembly = "GRCh38";
    file.datasets = {"default"};
    return file;
  }
};

const api::htsget::HtsgetService& Service() {
  static const api::htsget::HtsgetService* const service = [] {
    api::htsget::HtsgetConfig config;
    config.node_dir = fuzz::SharedNode().site_dir;  // genomes.vcf.gz and its .tbi
    config.files = std::make_shared<SynthFile>();
    config.caller = [](const http::Request&) -> Result<auth::Caller> {
      auth::Caller caller;
      caller.passport = std::make_shared<auth::Passport>();
      caller.datasets = {{"default", gate::AccessLevel::kPermitted, ""}};
      return caller;
    };
    return new api::htsget::HtsgetService(std::move(config));
  }();
  return *service;
}

}  // namespace

ONCOMESH_FUZZ_INITIALIZE { Service(); }

ONCOMESH_FUZZ_TARGET(htsget) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  http::Request request;
  request.path_params["id"] = "genomes";
  request.path = "/variants/genomes";
  request.headers["host"] = "node.fuzz.test";
  request.local = "127.0.0.1:8080";  // the address the connection reached (block URLs)
  request.headers["authorization"] = "Bearer fuzz";
  if (data[0] % 2 == 0) {
    request.method = "GET";
    request.query = http::ParseQueryString(rest);
  } else {
    request.method = "POST";
    request.body = std::string(rest);
  }
  const http::Response response = Service().Ticket(request).response;
  if (response.status >= 500)
    fuzz::Fail("htsget answered " + std::to_string(response.status) + ": " + response.body);
  const nlohmann::json body =
      nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("htsget"))
    fuzz::Fail("htsget answered no htsget document: " + response.body);
  if (response.status != 200 && body["htsget"].value("message", "").empty()) {
    fuzz::Fail("an htsget error without a message: " + response.body);
  }
  return 0;
}
