// Exact sets, not counts: Beacon filters -> plan (BuildPlan) -> cohort index, over tiny
// hand-built cohorts whose answers are written out by hand here. The integration tests compare
// counts over thousands of synthetic patients; these pin the boundaries a count hides: an age
// exactly at a bound, 29 February, a term against its descendants, stage sub-groups.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "index/cohort_index.h"
#include "index/evaluate.h"
#include "model/date.h"
#include "model/model.h"
#include "query/beacon_request.h"

namespace oncomesh::query {
namespace {

using nlohmann::json;
using Ids = std::set<std::string>;

struct Person {
  std::string id;
  model::Date birth = model::kNoDate;
  model::Date diagnosed = model::kNoDate;  // one primary diagnosis on that day (kNoDate: none)
  std::string icd10;                       // its ICD-10 code ("" with a diagnosis: C50.9)
  std::string morphology;                  // ICD-O-3 morphology
  std::string stage;                       // AJCC stage group as Condition.stage writes it
};

model::Date D(int y, unsigned m, unsigned d) { return model::DateFromCivil(y, m, d); }

class CohortPlanTest : public ::testing::Test {
 protected:
  void Build(const std::vector<Person>& people) {
    Result<index::Vocabulary> vocab = index::Vocabulary::LoadEmbedded();
    ASSERT_TRUE(vocab.ok()) << vocab.status().ToString();
    vocab_ = std::make_unique<index::Vocabulary>(std::move(*vocab));
    index::IndexBuilder builder(*vocab_);
    for (const Person& p : people) {
      model::Individual i{p.id};
      i.birth_date = p.birth;
      builder.AddIndividual(i);
    }
    int n = 0;
    for (const Person& p : people) {
      if (p.diagnosed == model::kNoDate && p.icd10.empty() && p.stage.empty()) continue;
      model::Diagnosis d;
      d.id = "dx" + std::to_string(n++);
      d.individual_id = p.id;
      d.code = {model::system::kIcd10, p.icd10.empty() ? "C50.9" : p.icd10, ""};
      d.morphology = p.morphology;
      d.onset_date = p.diagnosed;
      d.stage_group = p.stage;
      builder.AddDiagnosis(d);
    }
    index_ = builder.Finish();
  }

  // The ids the filters select; a failure (and "<error>") when BuildPlan refuses them.
  Ids Select(const json& filters) const {
    Result<index::Plan> plan = BuildPlan(filters, *index_);
    if (!plan.ok()) {
      ADD_FAILURE() << filters.dump() << ": " << plan.status().ToString();
      return {"<error>"};
    }
    Ids out;
    index::ForEachMatchingChunk(
        *plan, index_->num_rows(), [&](uint32_t chunk, const uint64_t* words) {
          for (uint32_t w = 0; w < index::kChunkWords; ++w) {
            for (uint32_t b = 0; b < 64; ++b) {
              if ((words[w] >> b) & 1)
                out.insert(index_->IndividualId(chunk * index::kChunkBits + w * 64 + b));
            }
          }
        });
    EXPECT_EQ(index::CountMatches(*plan, index_->num_rows()), out.size()) << filters.dump();
    return out;
  }
  static json Age(const std::string& op, const std::string& value) {
    return json::array({{{"id", "age"}, {"operator", op}, {"value", value}}});
  }
  static json Term(const std::string& id, bool descendants = true) {
    json f = {{"id", id}};
    if (!descendants) f["includeDescendantTerms"] = false;
    return json::array({f});
  }

  std::unique_ptr<index::Vocabulary> vocab_;
  std::unique_ptr<index::CohortIndex> index_;
};

TEST_F(CohortPlanTest, AgeBoundsCompareWholeYearsAtDiagnosisAndIncludeTheBirthday) {
  const model::Date born = D(1960, 6, 15);
  Build({
      {"day-before-40", born, D(2000, 6, 14)},  // 39 years 364 days
      {"on-40th-birthday", born, D(2000, 6, 15)},
      {"day-after-40", born, D(2000, 6, 16)},
      {"on-60th-birthday", born, D(2020, 6, 15)},
      {"day-after-60", born, D(2020, 6, 16)},
      {"on-61st-birthday", born, D(2021, 6, 15)},
      {"never-diagnosed", born},
      {"no-birth-date", model::kNoDate, D(2000, 6, 15)},
  });
  EXPECT_EQ(Select(Age(">=", "P40Y")), (Ids{"on-40th-birthday", "day-after-40", "on-60th-birthday",
                                            "day-after-60", "on-61st-birthday"}));
  EXPECT_EQ(Select(Age("<", "P40Y")), (Ids{"day-before-40"}));
  // "older than 40": 41 and over in whole years, as the Beacon filter is documented.
  EXPECT_EQ(Select(Age(">", "P40Y")),
            (Ids{"on-61st-birthday", "on-60th-birthday", "day-after-60"}));
  EXPECT_EQ(Select(Age("<=", "P40Y")), (Ids{"day-before-40", "on-40th-birthday", "day-after-40"}));
  EXPECT_EQ(Select(Age("=", "P40Y")), (Ids{"on-40th-birthday", "day-after-40"}));
  EXPECT_EQ(Select(Age("<=", "P60Y")), (Ids{"day-before-40", "on-40th-birthday", "day-after-40",
                                            "on-60th-birthday", "day-after-60"}));
  // "!" is "has an age, and not that one": no age at all does not match.
  EXPECT_EQ(Select(Age("!", "P40Y")),
            (Ids{"day-before-40", "on-60th-birthday", "day-after-60", "on-61st-birthday"}));
  // Days make the bound exact to the day.
  EXPECT_EQ(Select(Age(">=", "P40Y1D")),
            (Ids{"day-after-40", "on-60th-birthday", "day-after-60", "on-61st-birthday"}));
  EXPECT_EQ(Select(Age("<", "P40Y1D")), (Ids{"day-before-40", "on-40th-birthday"}));
  // The two bounds of a range together.
  EXPECT_EQ(
      Select(json::array({{{"id", "age"}, {"operator", ">="}, {"value", "P40Y"}},
                          {{"id", "ageAtDiagnosis"}, {"operator", "<="}, {"value", "P60Y"}}})),
      (Ids{"on-40th-birthday", "day-after-40", "on-60th-birthday", "day-after-60"}));
}

TEST_F(CohortPlanTest, TwentyNinthOfFebruaryBirthdaysFallOnTheFirstOfMarchInCommonYears) {
  const model::Date leapling = D(2000, 2, 29);
  Build({
      {"leap-day-before-40", leapling, D(2040, 2, 28)},                // 2040 is a leap year: 39
      {"leap-40th-birthday", leapling, D(2040, 2, 29)},                // 40
      {"common-28-feb-at-40", leapling, D(2041, 2, 28)},               // not yet 41
      {"common-1-march-41", leapling, D(2041, 3, 1)},                  // 41
      {"diagnosed-29-feb-turning-42", D(1970, 3, 1), D(2012, 2, 29)},  // 41, 42 the next day
      {"diagnosed-29-feb-after-28", D(1970, 2, 28), D(2012, 2, 29)},   // 42
  });
  EXPECT_EQ(Select(Age("=", "P40Y")), (Ids{"leap-40th-birthday", "common-28-feb-at-40"}));
  EXPECT_EQ(Select(Age("<", "P40Y")), (Ids{"leap-day-before-40"}));
  EXPECT_EQ(Select(Age("=", "P41Y")), (Ids{"common-1-march-41", "diagnosed-29-feb-turning-42"}));
  EXPECT_EQ(Select(Age(">=", "P42Y")), (Ids{"diagnosed-29-feb-after-28"}));
  // 28 February 2041 is 365 days after the last birthday (29 February 2040); 1 March is 0 days
  // after the 41st.
  EXPECT_EQ(Select(Age(">=", "P40Y365D")),
            (Ids{"common-28-feb-at-40", "common-1-march-41", "diagnosed-29-feb-turning-42",
                 "diagnosed-29-feb-after-28"}));
}

TEST_F(CohortPlanTest, TermsIncludeTheirDescendantsUnlessAskedNotTo) {
  const model::Date born = D(1950, 1, 1), on = D(2010, 1, 1);
  Build({
      {"breast-category", born, on, "C50"},
      {"breast-ductal", born, on, "C50.9", "8500/3"},
      {"breast-lobular", born, on, "C50.4", "8520/3"},
      {"breast-cm-subcode", born, on, "C50911"},  // ICD-10-CM, found under C50.9 and C50
      {"lung-adeno", born, on, "C34.1", "8140/3"},
      {"colon", born, on, "C18.7"},
      {"no-diagnosis", born},
  });
  EXPECT_EQ(Select(Term("ICD10:C50")),
            (Ids{"breast-category", "breast-ductal", "breast-lobular", "breast-cm-subcode"}));
  EXPECT_EQ(Select(Term("ICD10:C50", false)), (Ids{"breast-category"}));
  EXPECT_EQ(Select(Term("ICD10:C50.9")), (Ids{"breast-ductal", "breast-cm-subcode"}));
  EXPECT_EQ(Select(Term("ICD10:C50.9", false)), (Ids{"breast-ductal"}));
  EXPECT_EQ(Select(Term("ICD10:C30-C39")), (Ids{"lung-adeno"}));
  EXPECT_EQ(Select(Term("ICD10:C00-D48")),
            (Ids{"breast-category", "breast-ductal", "breast-lobular", "breast-cm-subcode",
                 "lung-adeno", "colon"}));
  EXPECT_EQ(Select(Term("ICD10:C00-D48", false)), Ids{});
  // NCIt concepts from ICD-10 + morphology (data/vocab/icd10_ncit.tsv), and their hierarchy:
  // Breast Ductal Carcinoma (C4017) is a Breast Carcinoma (C4872), a Carcinoma (C2916).
  EXPECT_EQ(Select(Term("NCIT:C4017")), (Ids{"breast-ductal"}));
  EXPECT_EQ(Select(Term("NCIT:C4872")),
            (Ids{"breast-category", "breast-ductal", "breast-lobular", "breast-cm-subcode"}));
  EXPECT_EQ(Select(Term("NCIT:C4872", false)),
            (Ids{"breast-category", "breast-lobular", "breast-cm-subcode"}));
  EXPECT_EQ(Select(Term("NCIT:C3512")), (Ids{"lung-adeno"}));
  EXPECT_EQ(Select(Term("NCIT:C4878")), (Ids{"lung-adeno"}));
  EXPECT_EQ(Select(Term("NCIT:C2955")), (Ids{"colon"}));
  EXPECT_EQ(Select(Term("NCIT:C2916")), (Ids{"breast-category", "breast-ductal", "breast-lobular",
                                             "breast-cm-subcode", "lung-adeno", "colon"}));
  // ICD-O-3 morphology as recorded.
  EXPECT_EQ(Select(Term("ICDO3:8500/3")), (Ids{"breast-ductal"}));
  // A known term nobody has selects nobody; an unknown one is refused.
  EXPECT_EQ(Select(Term("ICD10:C18.0")), Ids{});
  EXPECT_FALSE(BuildPlan(Term("ICD10:X99.9"), *index_).ok());
}

TEST_F(CohortPlanTest, StageGroupsIncludeTheirSubGroups) {
  const model::Date born = D(1950, 1, 1), on = D(2010, 1, 1);
  Build({
      {"stage-0", born, on, "", "", "0"},
      {"stage-IA", born, on, "", "", "IA"},
      {"stage-II", born, on, "", "", "II"},
      {"stage-IIB", born, on, "", "", "2B"},  // AJCC code as Condition.stage writes it
      {"stage-III", born, on, "", "", "III"},
      {"stage-IIIA", born, on, "", "", "IIIA"},
      {"stage-IIIB", born, on, "", "", "3B"},
      {"stage-IIIC", born, on, "", "", "IIIC"},
      {"stage-IV", born, on, "", "", "IV"},
      {"stage-IVA", born, on, "", "", "4A"},
      {"unstaged", born, on},
  });
  const Ids three = {"stage-III", "stage-IIIA", "stage-IIIB", "stage-IIIC"};
  const Ids four = {"stage-IV", "stage-IVA"};
  EXPECT_EQ(Select(Term("NCIT:C27970")), three);  // Stage III
  EXPECT_EQ(Select(Term("NCIT:C27977")), (Ids{"stage-IIIA"}));
  EXPECT_EQ(Select(Term("NCIT:C27971")), four);
  EXPECT_EQ(Select(Term("NCIT:C28054")), (Ids{"stage-II", "stage-IIB"}));
  const auto stage = [](const std::string& op, const std::string& value) {
    return json::array({{{"id", "stage"}, {"operator", op}, {"value", value}}});
  };
  EXPECT_EQ(Select(stage("=", "III")), three);
  EXPECT_EQ(Select(stage("=", "IIIA")), (Ids{"stage-IIIA"}));
  Ids three_or_four = three;
  three_or_four.insert(four.begin(), four.end());
  EXPECT_EQ(Select(stage(">=", "III")), three_or_four);
  EXPECT_EQ(Select(stage(">", "III")), four);
  EXPECT_EQ(Select(stage("<", "III")), (Ids{"stage-0", "stage-IA", "stage-II", "stage-IIB"}));
  EXPECT_EQ(Select(stage("<=", "I")), (Ids{"stage-0", "stage-IA"}));
  // Not stage IV: everyone else, the unstaged included.
  EXPECT_EQ(Select(json::array({{{"not", {{"id", "NCIT:C27971"}}}}})),
            (Ids{"stage-0", "stage-IA", "stage-II", "stage-IIB", "stage-III", "stage-IIIA",
                 "stage-IIIB", "stage-IIIC", "unstaged"}));
}

}  // namespace
}  // namespace oncomesh::query
