// Query endpoints of a node's Beacon: /api/individuals, /api/biosamples and /api/g_variants,
// GET and POST, with filters and g_variant parameters combined. Every answer passes the gate:
// boolean or count granularity with counts rounded, records only for permitted callers.
#include <roaring/roaring.h>

#include <optional>
#include <set>

#include "api/node_service.h"
#include "genomics/reference.h"
#include "index/evaluate.h"
#include "query/beacon_request.h"

namespace oncomesh::api {

using nlohmann::json;

namespace {

// A query request that passed parsing, authentication and the gate.
struct Admitted {
  query::BeaconRequest request;
  gate::AccessLevel level = gate::AccessLevel::kAnonymous;
  model::Granularity granularity = model::Granularity::kBoolean;
};

// Parses the request, finds the caller's access level and asks the gate for the granularity;
// the Beacon error response when any of them refuses. The caller, once resolved, goes to
// `audited` for the audit entry.
std::optional<http::Response> Admit(NodeService& service, http::Request& req,
                                    const std::string& entity, Admitted* out, Audited* audited) {
  const BeaconIdentity& id = service.identity();
  Result<query::BeaconRequest> parsed =
      req.method == "POST" ? query::ParseBeaconPost(req.body) : query::ParseBeaconGet(req.query);
  if (!parsed.ok()) return ErrorResponse(id, parsed.status(), nullptr, entity);
  audited->caller = service.CallerFor(req);
  const Result<auth::Caller>& caller = *audited->caller;
  if (!caller.ok()) return ErrorResponse(id, caller.status(), &*parsed, entity);
  // Counts are of the whole node, so at the lowest level over its datasets; records are per
  // dataset, so a permit for any of them admits a record request (GVariants then answers
  // with the permitted datasets only).
  const bool records = parsed->requested_granularity == model::Granularity::kRecord;
  const gate::AccessLevel level = records && !caller->PermittedDatasets().empty()
                                      ? gate::AccessLevel::kPermitted
                                      : caller->NodeLevel();
  const Result<model::Granularity> granularity = service.gate().Decide(
      level, parsed->requested_granularity,
      caller->Missing(parsed->requested_granularity == model::Granularity::kRecord
                          ? gate::AccessLevel::kPermitted
                          : gate::AccessLevel::kRegistered));
  if (!granularity.ok()) return ErrorResponse(id, granularity.status(), &*parsed, entity);
  out->request = std::move(*parsed);
  out->level = level;
  out->granularity = *granularity;
  return std::nullopt;
}

// The figures a count or boolean answer released, for the audit entry: the count as released
// (count granularity) and `exists`. Beacon counts are of the node's whole cohort (all its
// datasets), so their dataset is "".
void DiscloseCount(const std::string& name, const gate::ReleasedCount& released,
                   model::Granularity granularity, audit::Disclosure* disclosed,
                   const std::string& dataset = "") {
  if (granularity == model::Granularity::kCount) {
    disclosed->figures.push_back({dataset, name, released.count});
  }
  disclosed->figures.push_back({dataset, "exists", released.exists ? 1 : 0});
}

Audited Query(NodeService& service, http::Request& req, const std::string& entity) {
  const BeaconIdentity& id = service.identity();
  Audited out;
  Admitted admitted;
  if (std::optional<http::Response> refused = Admit(service, req, entity, &admitted, &out)) {
    out.response = std::move(*refused);
    return out;
  }
  const query::BeaconRequest& request = admitted.request;
  gate::AccessLevel level = admitted.level;
  model::Granularity granularity = admitted.granularity;
  // Individual and biosample records are not served yet: a permitted caller asking for them
  // gets the count (Beacon allows answering below the requested granularity) — a count of the
  // whole node, so released at the caller's lowest level over the datasets (a permit for one
  // dataset does not make the others' counts exact).
  if (granularity == model::Granularity::kRecord) {
    level = (*out.caller)->NodeLevel();
    granularity = level >= gate::AccessLevel::kRegistered ? model::Granularity::kCount
                                                          : model::Granularity::kBoolean;
  }

  const std::shared_ptr<const index::CohortIndex> idx = service.index();
  Result<index::Plan> plan = query::BuildRequestPlan(request, *idx);
  if (!plan.ok()) {
    out.response = ErrorResponse(id, plan.status(), &request, entity);
    return out;
  }
  const uint64_t exact = entity == "biosample" ? idx->CountBiosamples(*plan) : idx->Count(*plan);
  const gate::ReleasedCount released = service.gate().ReleaseCount(exact, level);

  json body = {{"meta", ResponseMeta(id, request, granularity, entity)},
               {"info",
                {{"countPrecision", released.precision},
                 {"countAdjustedTo", released.adjusted_to},
                 {"accessLevel", gate::AccessLevelName(level)}}}};
  if (granularity == model::Granularity::kCount) {
    body["responseSummary"] = {{"exists", released.exists}, {"numTotalResults", released.count}};
  } else {
    body["responseSummary"] = {{"exists", released.exists}};
  }
  out.response = JsonResponse(body);
  DiscloseCount(entity == "biosample" ? "biosamples" : "individuals", released, granularity,
                &out.disclosed);
  return out;
}

json ZygosityTerm(model::Zygosity z) {
  switch (z) {
    case model::Zygosity::kHomozygous:
      return {{"id", "GENO:0000136"}, {"label", "homozygous"}};
    case model::Zygosity::kHemizygous:
      return {{"id", "GENO:0000134"}, {"label", "hemizygous"}};
    case model::Zygosity::kHeterozygous:
      break;
  }
  return {{"id", "GENO:0000135"}, {"label", "heterozygous"}};
}

// One variant as a Beacon genomicVariations record (LegacyVariation form), with the calls of
// the carriers in `cohort` (nullptr: every carrier) as caseLevelData.
json VariantRecord(const index::CohortIndex& idx, const index::VariantIndex::Entry& e,
                   const roaring_bitmap_t* cohort) {
  const model::Variant& v = e.variant;
  const std::string accession =
      genomics::GenomeReference::Get().RefSeqAccession(v.assembly, v.chrom);
  json location = {
      {"type", "SequenceLocation"},
      {"sequence_id", accession.empty() ? v.assembly + ":" + v.chrom : "refseq:" + accession},
      {"interval",
       {{"type", "SequenceInterval"},
        {"start", {{"type", "Number"}, {"value", e.start0}}},
        {"end", {{"type", "Number"}, {"value", e.end0}}}}}};
  json record = {{"variantInternalId", v.id},
                 {"variation",
                  {{"variantType", v.variant_type},
                   {"referenceBases", v.ref},
                   {"alternateBases", v.alt},
                   {"location", location}}}};
  json identifiers = json::object();
  if (!e.hgvs_g.empty()) identifiers["genomicHGVSId"] = e.hgvs_g;
  if (!e.hgvs_c.empty()) identifiers["transcriptHGVSIds"] = json::array({e.hgvs_c});
  if (!identifiers.empty()) record["identifiers"] = identifiers;
  json molecular = json::object();
  if (!v.gene.empty()) molecular["geneIds"] = json::array({v.gene});
  if (!e.protein.empty()) molecular["aminoacidChanges"] = json::array({e.protein});
  if (!molecular.empty()) record["molecularAttributes"] = molecular;
  json cases = json::array();
  for (const index::VariantIndex::Call& c : e.calls) {
    if (cohort && !roaring_bitmap_contains(cohort, c.row)) continue;
    json call = {{"biosampleId", idx.variants().biosample_id(c.biosample)},
                 {"individualId", idx.IndividualId(c.row)},
                 {"zygosity", ZygosityTerm(c.zygosity)}};
    call["alleleOrigin"] = c.origin == model::VariantOrigin::kSomatic
                               ? json{{"id", "SO:0001777"}, {"label", "somatic variant"}}
                               : json{{"id", "SO:0001778"}, {"label", "germline variant"}};
    cases.push_back(std::move(call));
  }
  if (!cases.empty()) record["caseLevelData"] = std::move(cases);
  return record;
}

// /api/g_variants: the variants matching the g_variant parameters (all, without any) that
// individuals matching the filters carry.
// The records of a g_variants result set, for the audit entry: exactly the ids in `results`.
void DiscloseVariantRecords(const std::string& dataset, const json& results,
                            audit::Disclosure* disclosed) {
  audit::ReleasedRecords variants{dataset, audit::RecordKind::kGenomicVariation, {}};
  audit::ReleasedRecords biosamples{dataset, audit::RecordKind::kBiosample, {}};
  audit::ReleasedRecords individuals{dataset, audit::RecordKind::kIndividual, {}};
  std::set<std::string> seen_biosamples, seen_individuals;
  for (const json& r : results) {
    variants.ids.push_back(r.value("variantInternalId", ""));
    auto cases = r.find("caseLevelData");
    if (cases == r.end()) continue;
    for (const json& c : *cases) {
      const std::string biosample = c.value("biosampleId", ""),
                        individual = c.value("individualId", "");
      if (seen_biosamples.insert(biosample).second) biosamples.ids.push_back(biosample);
      if (seen_individuals.insert(individual).second) individuals.ids.push_back(individual);
    }
  }
  for (audit::ReleasedRecords* r : {&variants, &biosamples, &individuals}) {
    if (!r->ids.empty()) disclosed->records.push_back(std::move(*r));
  }
}

Audited GVariants(NodeService& service, http::Request& req) {
  const std::string entity = "genomicVariation";
  const BeaconIdentity& id = service.identity();
  Audited out;
  Admitted admitted;
  if (std::optional<http::Response> refused = Admit(service, req, entity, &admitted, &out)) {
    out.response = std::move(*refused);
    return out;
  }
  const query::BeaconRequest& request = admitted.request;
  const gate::AccessLevel level = admitted.level;
  const model::Granularity granularity = admitted.granularity;

  const std::shared_ptr<const index::CohortIndex> idx = service.index();
  const index::VariantIndex& variants = idx->variants();
  std::vector<uint32_t> matches;
  if (request.variant) {
    Result<std::vector<uint32_t>> m = variants.Match(*request.variant);
    if (!m.ok()) {
      out.response = ErrorResponse(id, m.status(), &request, entity);
      return out;
    }
    matches = std::move(*m);
  } else {
    matches.resize(variants.size());
    for (uint32_t i = 0; i < matches.size(); ++i) matches[i] = i;
  }
  // With filters: only variants some matching individual carries, and only their calls.
  roaring_bitmap_t* cohort = nullptr;
  if (!request.filters.empty()) {
    Result<index::Plan> plan = query::BuildPlan(request.filters, *idx);
    if (!plan.ok()) {
      out.response = ErrorResponse(id, plan.status(), &request, entity);
      return out;
    }
    cohort = roaring_bitmap_create();
    index::ForEachMatchingChunk(*plan, idx->num_rows(), [&](uint32_t chunk, const uint64_t* words) {
      for (uint32_t w = 0; w < index::kChunkWords; ++w) {
        for (uint64_t bits = words[w]; bits; bits &= bits - 1) {
          roaring_bitmap_add(cohort, chunk * index::kChunkBits + w * 64 +
                                         static_cast<uint32_t>(__builtin_ctzll(bits)));
        }
      }
    });
    std::erase_if(matches, [&](uint32_t i) {
      return !roaring_bitmap_intersect(variants.entry(i).carriers.bitmap(), cohort);
    });
  }
  const gate::ReleasedCount released = service.gate().ReleaseCount(matches.size(), level);
  json body = {{"meta", ResponseMeta(id, request, granularity, entity)},
               {"info",
                {{"countPrecision", released.precision},
                 {"countAdjustedTo", released.adjusted_to},
                 {"accessLevel", gate::AccessLevelName(level)}}}};
  if (granularity == model::Granularity::kRecord) {
    // One result set per dataset the caller holds a permit for, each with the variants its
    // individuals carry and only their calls; nothing of the other datasets.
    json sets = json::array();
    int64_t total = 0;
    for (const std::string& dataset : (*out.caller)->PermittedDatasets()) {
      const index::Posting* rows = idx->DatasetRows(dataset);
      roaring_bitmap_t* scope =
          rows ? roaring_bitmap_copy(rows->bitmap()) : roaring_bitmap_create();
      if (cohort) roaring_bitmap_and_inplace(scope, cohort);
      std::vector<uint32_t> in_set;
      for (uint32_t i : matches) {
        if (roaring_bitmap_intersect(variants.entry(i).carriers.bitmap(), scope))
          in_set.push_back(i);
      }
      json results = json::array();
      const size_t first =
          static_cast<size_t>(std::min<int64_t>(request.skip, static_cast<int64_t>(in_set.size())));
      const size_t last = std::min(in_set.size(), first + static_cast<size_t>(request.limit));
      for (size_t k = first; k < last; ++k)
        results.push_back(VariantRecord(*idx, variants.entry(in_set[k]), scope));
      roaring_bitmap_free(scope);
      const int64_t n = static_cast<int64_t>(in_set.size());
      total += n;
      // A permitted caller's figures are exact (the gate coarsens only below kPermitted).
      out.disclosed.figures.push_back({dataset, "genomicVariations", n});
      out.disclosed.figures.push_back({dataset, "exists", n > 0 ? 1 : 0});
      DiscloseVariantRecords(dataset, results, &out.disclosed);
      sets.push_back({{"id", dataset},
                      {"setType", "dataset"},
                      {"exists", n > 0},
                      {"resultsCount", n},
                      {"results", std::move(results)}});
    }
    body["responseSummary"] = {{"exists", total > 0}, {"numTotalResults", total}};
    body["response"] = {{"resultSets", std::move(sets)}};
    // Records are counted as they are: the totals of a record answer are exact.
    body["info"]["countPrecision"] = "exact";
    body["info"]["countAdjustedTo"] = 1;
  } else if (granularity == model::Granularity::kCount) {
    body["responseSummary"] = {{"exists", released.exists}, {"numTotalResults", released.count}};
    DiscloseCount("genomicVariations", released, granularity, &out.disclosed);
  } else {
    body["responseSummary"] = {{"exists", released.exists}};
    DiscloseCount("genomicVariations", released, granularity, &out.disclosed);
  }
  if (cohort) roaring_bitmap_free(cohort);
  out.response = JsonResponse(body);
  return out;
}

}  // namespace

void RegisterNodeEntryRoutes(NodeService& service, http::Router& router, const Auditor& auditor) {
  for (const char* method : {"GET", "POST"}) {
    router.Add(
        method, "/api/individuals", "Individuals matching the filters (count/boolean)",
        auditor.Wrap([&service](http::Request& r) { return Query(service, r, "individual"); }));
    router.Add(
        method, "/api/biosamples", "Biosamples of individuals matching the filters",
        auditor.Wrap([&service](http::Request& r) { return Query(service, r, "biosample"); }));
    router.Add(method, "/api/g_variants", "Genomic variants matching the parameters and filters",
               auditor.Wrap([&service](http::Request& r) { return GVariants(service, r); }));
  }
}

}  // namespace oncomesh::api
