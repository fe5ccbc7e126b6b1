#include "ingest/fhir/internal/json_view.h"

namespace oncomesh::ingest::fhir_internal {
namespace {

// An empty array to iterate when a view is not an array: parsed once, never freed, read-only
// (thread-safe).
simdjson::dom::array EmptyArray() {
  static const simdjson::dom::array kEmpty = [] {
    auto* parser = new simdjson::dom::parser();
    simdjson::dom::array a;
    static const simdjson::padded_string text(std::string_view("[]"));
    const simdjson::error_code error = parser->parse(text).get_array().get(a);
    (void)error;  // "[]" always parses
    return a;
  }();
  return kEmpty;
}

}  // namespace

JsonView::Items JsonView::items() const {
  simdjson::dom::array a;
  if (!present_ || e_.get_array().get(a) != simdjson::SUCCESS) return Items(EmptyArray());
  return Items(a);
}

}  // namespace oncomesh::ingest::fhir_internal
