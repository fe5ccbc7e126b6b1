// DICOMweb QIDO-RS searches (PS3.18 10.6) as a node answers them, for a permitted caller, over
// the fuzz node's two synthetic studies: the first byte picks the level (studies, series,
// instances), the rest is the query string, split and percent-decoded as the HTTP server does.
// The answer must be results (200), none (204) or an error naming the parameter (400), never a
// crash or a 500.
#include <nlohmann/json.hpp>

#include "api/dicomweb/dicomweb_service.h"
#include "fuzz_support.h"
#include "http/http.h"

namespace {

using namespace oncomesh;

const api::dicomweb::DicomwebService& Service() {
  static const api::dicomweb::DicomwebService* const service = [] {
    return new api::dicomweb::DicomwebService(
        *fuzz::SharedNode().node, [](const http::Request&) -> Result<auth::Caller> {
          auth::Caller caller;
          caller.passport = std::make_shared<auth::Passport>();
          caller.datasets = {{"default", gate::AccessLevel::kPermitted, ""}};
          return caller;
        });
  }();
  return *service;
}

}  // namespace

ONCOMESH_FUZZ_INITIALIZE { Service(); }

ONCOMESH_FUZZ_TARGET(dicomweb_qido) {
  if (size == 0) return 0;
  static const char* const kLevels[] = {"studies", "series", "instances"};
  const std::string level = kLevels[data[0] % 3];
  http::Request request;
  request.method = "GET";
  request.path = "/dicomweb/" + level;
  request.headers["host"] = "node.fuzz.test";
  request.headers["authorization"] = "Bearer fuzz";
  request.query =
      http::ParseQueryString(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  const http::Response response = Service().Search(request, level).response;
  if (response.status >= 500)
    fuzz::Fail("QIDO-RS answered " + std::to_string(response.status) + ": " + response.body);
  if (response.status == 204) return 0;
  const nlohmann::json body =
      nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (response.status == 200 && !body.is_array())
    fuzz::Fail("QIDO-RS results that are not a JSON array");
  if (response.status != 200 &&
      (!body.is_object() || body["dicomweb"].value("message", "").empty())) {
    fuzz::Fail("a QIDO-RS error without a message: " + response.body);
  }
  return 0;
}
