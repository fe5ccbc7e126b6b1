// Informational endpoints of a node's Beacon: /api, /api/info, /api/service-info,
// /api/configuration, /api/map, /api/entry_types, /api/filtering_terms.
//
// All but /api/filtering_terms are exempt from the audit trail (docs/audit.md): they describe
// the service, are the same for every caller and say nothing derived from the node's data, and
// the hub and monitors poll them. /api/filtering_terms lists the terms present in the index
// (which codes occur at this node, however rarely): it is audited like a query.
#include "api/node_service.h"

namespace oncomesh::api {

using nlohmann::json;

json FilteringTermsDocument(const BeaconIdentity& identity,
                            const std::vector<index::TermInfo>& terms);

void RegisterNodeInfoRoutes(NodeService& service, http::Router& router, const Auditor& auditor) {
  const BeaconIdentity& id = service.identity();
  auto info = [&id](http::Request&) { return JsonResponse(InfoResponse(id)); };
  router.AddSync("GET", "/api", "Beacon information (same as /api/info)", info);
  router.AddSync("GET", "/api/info", "Beacon information", info);
  router.AddSync("GET", "/api/service-info", "GA4GH service-info",
                 [&id](http::Request&) { return JsonResponse(ServiceInfo(id)); });
  router.AddSync("GET", "/api/configuration", "Beacon configuration",
                 [&id](http::Request&) { return JsonResponse(ConfigurationResponse(id)); });
  router.AddSync("GET", "/api/entry_types", "Entry types served",
                 [&id](http::Request&) { return JsonResponse(EntryTypesResponse(id)); });
  router.AddSync("GET", "/api/map", "Map of endpoints", [&service, &id](http::Request& req) {
    return JsonResponse(MapResponse(id, BaseUrl(req, service.node().config().public_url)));
  });
  router.Add("GET", "/api/filtering_terms", "Every filtering term present, with labels",
             auditor.Wrap([&service, &id](http::Request& req) {
               Audited out;
               // Open to everyone, but credentials that are not a valid passport are refused
               // here as everywhere (a caller must learn that its passport is not accepted).
               out.caller = service.CallerFor(req);
               if (!out.caller->ok()) {
                 out.response = ErrorResponse(id, out.caller->status(), nullptr, "filteringTerm");
                 return out;
               }
               const std::vector<index::TermInfo> terms = service.index()->Terms();
               out.response = JsonResponse(FilteringTermsDocument(id, terms));
               out.details["filteringTerms"] = terms.size();
               return out;
             }));
}

json FilteringTermsDocument(const BeaconIdentity& identity,
                            const std::vector<index::TermInfo>& terms) {
  json list = json::array();
  for (const index::TermInfo& t : terms) {
    json term = {{"id", t.id}, {"label", t.label}, {"scopes", json::array({"individual"})}};
    switch (t.type) {
      case index::TermType::kOntology:
        term["type"] = "ontologyTerm";
        break;
      case index::TermType::kAlphanumeric:
        term["type"] = "alphanumeric";
        break;
      case index::TermType::kCustom:
        term["type"] = "custom";
        break;
    }
    list.push_back(std::move(term));
  }
  json resources = json::array(
      {{{"id", "icd10"},
        {"name", "International Classification of Diseases, 10th revision (WHO)"},
        {"nameSpacePrefix", "ICD10"},
        {"url", "https://icd.who.int/browse10/2019/en"}},
       {{"id", "icdo3"},
        {"name", "International Classification of Diseases for Oncology, 3rd edition"},
        {"nameSpacePrefix", "ICDO3"},
        {"url",
         "https://www.who.int/standards/classifications/other-classifications/"
         "international-classification-of-diseases-for-oncology"}},
       {{"id", "ncit"},
        {"name", "NCI Thesaurus"},
        {"nameSpacePrefix", "NCIT"},
        {"iriPrefix", "http://purl.obolibrary.org/obo/NCIT_"},
        {"url", "http://purl.obolibrary.org/obo/ncit.owl"}},
       {{"id", "atc"},
        {"name", "Anatomical Therapeutic Chemical classification (WHOCC)"},
        {"nameSpacePrefix", "ATC"},
        {"url", "https://www.whocc.no/atc_ddd_index/"}},
       {{"id", "dcm"},
        {"name", "DICOM Controlled Terminology"},
        {"nameSpacePrefix", "DCM"},
        {"url",
         "https://dicom.nema.org/medical/dicom/current/output/chtml/part16/chapter_D.html"}}});
  return {{"meta", InformationalMeta(identity, "filteringTerm", SchemaFor("filteringTerm"))},
          {"response", {{"filteringTerms", list}, {"resources", resources}}}};
}

}  // namespace oncomesh::api
