// Test support: every Beacon body a test receives, validated against the official Beacon v2
// schemas (shared/beacon-v2, with shared/tools/beacon-validator), the schema chosen by the
// answer itself:
//   - a status other than 200: beaconErrorResponse;
//   - /api, /api/info, /api/service-info, /api/configuration, /api/map, /api/entry_types,
//     /api/filtering_terms: their own response schemas;
//   - /api/datasets and /api/cohorts (with or without an id): beaconCollectionsResponse, and each
//     collection against the datasets or cohorts default model;
//   - /api/individuals, /api/biosamples, /api/g_variants: by meta.returnedGranularity, boolean
//     or count (beaconBooleanResponse, beaconCountResponse), record or any answer with result
//     sets (beaconResultsetsResponse), and each result against its entry type's default model.
//
// FetchBeacon() is http::Fetch that also collects the body; SuiteFixture (suite_fixture.h)
// validates what a test collected when the test ends, with one validator run per schema.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "http/http.h"

namespace oncomesh::testing {

// http::Fetch; a Beacon answer (a target under /api) that came back is collected.
Result<http::Response> FetchBeacon(
    const std::string& host, uint16_t port, const std::string& method, const std::string& target,
    const std::string& body = "", std::chrono::milliseconds timeout = std::chrono::seconds(30),
    const std::vector<std::pair<std::string, std::string>>& headers = {});

// Collects one answer for validation (targets outside /api are ignored). Thread-safe.
void CollectBeaconBody(const std::string& method, const std::string& target, int status,
                       const std::string& body);

// Validates every body collected since the last call and forgets them. Returns "" when all
// are valid, else a report naming each invalid answer (method, target, status) and why.
std::string ValidateCollectedBeaconBodies();

// Forgets the collected bodies without validating them.
void DiscardCollectedBeaconBodies();

}  // namespace oncomesh::testing
