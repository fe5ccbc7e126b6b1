// The two count queries the benchmarks time, as Beacon v2 POST bodies (planned by
// query::BuildPlan exactly as the node plans them) and as SQL over cohort_bench's flat
// per-individual table with the same meaning. Each is a conjunction of five filters: one OR
// (anyOf) of ICD-10 categories, one age-at-diagnosis range, three ontology terms.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace oncomesh::bench {

struct Query {
  std::string name;
  std::string body;  // the POST /api/individuals body
  std::string sql;   // over cohort_bench's table `individuals`
};

// `top3`: the three most frequent ICD-10 categories ("C50"), most frequent first.
inline std::vector<Query> MakeQueries(const std::vector<std::string>& top3) {
  using nlohmann::json;
  auto body = [](const json& filters) {
    return json{{"meta", {{"apiVersion", "v2.0"}}},
                {"query", {{"filters", filters}, {"requestedGranularity", "count"}}}}
        .dump();
  };
  json any_dense = json::array();
  for (const std::string& c : top3) any_dense.push_back({{"id", "ICD10:" + c}});
  // Dense (about 15%): the three most frequent diagnoses, aged 50 or more at diagnosis, no
  // distant metastasis (NCIt M0 Stage Finding), alive (vital status), operated on (NCIt
  // Surgical Procedure).
  const json dense = json::array({{{"anyOf", any_dense}},
                                  {{"id", "age"}, {"operator", ">="}, {"value", "P50Y"}},
                                  {{"id", "NCIT:C48699"}},
                                  {{"id", "NCIT:C37987"}},
                                  {{"id", "NCIT:C15329"}}});
  // Selective (about 0.6%): colorectal cancer (C18, C19, C20) at 80 or older, stage IV,
  // given an antineoplastic agent (ATC L01), male.
  const json selective = json::array(
      {{{"anyOf",
         json::array({{{"id", "ICD10:C18"}}, {{"id", "ICD10:C19"}}, {{"id", "ICD10:C20"}}})}},
       {{"id", "age"}, {"operator", ">="}, {"value", "P80Y"}},
       {{"id", "NCIT:C27971"}},
       {{"id", "ATC:L01"}},
       {{"id", "NCIT:C20197"}}});
  std::vector<Query> q;
  q.push_back({"dense", body(dense),
               "SELECT count(*) FROM individuals WHERE (icd10_category = '" + top3[0] +
                   "' OR icd10_category = '" + top3[1] + "' OR icd10_category = '" + top3[2] +
                   "') AND age_at_diagnosis >= 50 AND m_category = 'M0' AND vital_status = "
                   "'alive' AND surgery = 1"});
  q.push_back({"selective", body(selective),
               "SELECT count(*) FROM individuals WHERE (icd10_category = 'C18' OR "
               "icd10_category = 'C19' OR icd10_category = 'C20') AND age_at_diagnosis >= 80 "
               "AND stage_group = 'IV' AND antineoplastic = 1 AND sex = 'male'"});
  return q;
}

}  // namespace oncomesh::bench
