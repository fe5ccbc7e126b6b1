// Structural checks of FHIR R4 JSON resources: the cardinality (array or single value) and
// JSON type of the elements the ingest reads, and of the common repeating elements, as the
// FHIR R4 resource definitions give them (https://hl7.org/fhir/R4/<resource>-definitions.html,
// and the JSON representation rules of https://hl7.org/fhir/R4/json.html: an element with
// cardinality 0..* is always a JSON array, a 0..1 element never is).
//
// Elements not listed are not checked (the ingest does not read them), so this is not a full
// FHIR validator: it guarantees that what the ingest reads has the shape the standard says.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

namespace oncomesh::ingest::fhir_internal {

// True for the resource types the ingest maps to model records.
bool IsMappedResourceType(std::string_view type);

// Checks `resource` (a JSON object whose resourceType is `type`, a mapped type) and appends
// one line per problem to `problems` ("Observation.component[1].interpretation: expected an
// array, found an object"), at most `max_problems` in all. Returns the number appended.
int CheckStructure(simdjson::dom::object resource, std::string_view type, std::string& problems,
                   int max_problems);

}  // namespace oncomesh::ingest::fhir_internal
