#include "auth/duo.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "support/process.h"
#include "support/suite_fixture.h"

namespace oncomesh::auth {
namespace {

const std::string kDuoDir = std::string(ONCOMESH_SHARED_DIR) + "/data/duo";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The rows of an RFC 4180 CSV text (quoted fields may hold commas and doubled quotes).
std::vector<std::vector<std::string>> ReadCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      rows.back().push_back(std::move(field));
      field.clear();
      rows.emplace_back();
    } else if (c != '\r') {
      field += c;
    }
  }
  if (!field.empty() || !rows.back().empty()) rows.back().push_back(field);
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

class DuoTest : public ::oncomesh::testing::SuiteFixture<DuoTest> {
  friend class ::oncomesh::testing::SuiteFixture<DuoTest>;  // calls SetUpSuite

 protected:
  static void SetUpSuite() {
    Result<DuoOntology> duo = DuoOntology::LoadEmbedded();
    ASSERT_TRUE(duo.ok()) << duo.status().ToString();
    duo_ = new DuoOntology(std::move(*duo));
    Result<index::Vocabulary> vocab = index::Vocabulary::LoadEmbedded();
    ASSERT_TRUE(vocab.ok()) << vocab.status().ToString();
    vocab_ = new index::Vocabulary(std::move(*vocab));
    matcher_ = new DuoMatcher(*duo_, DiseaseHierarchyOf(*vocab_));
  }
  static void TearDownTestSuite() {
    delete matcher_;
    delete vocab_;
    delete duo_;
  }

  static model::DataUseCondition Conditions(const std::string& text) {
    Result<model::DataUseCondition> c = ParseDataUseCondition(text, *duo_);
    EXPECT_TRUE(c.ok()) << text << ": " << c.status().ToString();
    return c.ok() ? *c : model::DataUseCondition{};
  }
  static ResearchPurpose Purpose(const std::string& text) {
    Result<ResearchPurpose> p = ParseResearchPurpose(text, *duo_);
    EXPECT_TRUE(p.ok()) << text << ": " << p.status().ToString();
    return p.ok() ? *p : ResearchPurpose{};
  }
  static MatchResult Match(const std::string& conditions, const std::string& purpose) {
    return matcher_->Match(Conditions(conditions), Purpose(purpose));
  }
  static std::vector<std::string> Messages(const MatchResult& r) {
    std::vector<std::string> out;
    for (const MatchReason& reason : r.reasons) out.push_back(reason.message);
    return out;
  }

  static DuoOntology* duo_;
  static index::Vocabulary* vocab_;
  static DuoMatcher* matcher_;
};

DuoOntology* DuoTest::duo_ = nullptr;
index::Vocabulary* DuoTest::vocab_ = nullptr;
DuoMatcher* DuoTest::matcher_ = nullptr;

// ---- The embedded table against the release ------------------------------------------------

TEST_F(DuoTest, EmbeddedTableKnowsEveryTermOfTheReleaseCsv) {
  const std::vector<std::vector<std::string>> rows = ReadCsv(ReadFile(kDuoDir + "/duo.csv"));
  ASSERT_GT(rows.size(), 20u);
  ASSERT_EQ(rows[0], (std::vector<std::string>{"id", "shorthand", "label", "description"}));
  for (size_t i = 1; i < rows.size(); ++i) {
    const std::vector<std::string>& row = rows[i];
    ASSERT_EQ(row.size(), 4u) << "duo.csv row " << i;
    SCOPED_TRACE(row[0]);
    const DuoTerm* t = duo_->Find(row[0]);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->id, row[0]);
    EXPECT_EQ(t->shorthand, row[1]);
    EXPECT_EQ(t->label, row[2]);
    EXPECT_FALSE(t->obsolete);
    if (!row[1].empty()) {
      EXPECT_EQ(duo_->Find(row[1]), t);
    }
    // Everything the release CSV lists is a permission, a modifier or one of their two roots.
    EXPECT_TRUE(duo_->IsPermission(t->id) || duo_->IsModifier(t->id) ||
                t->id == kDataUsePermission || t->id == kDataUseModifier);
  }
}

TEST_F(DuoTest, EmbeddedTableIsTheOwlReleaseOfItsVersion) {
  const std::string owl = ReadFile(kDuoDir + "/duo.owl");
  EXPECT_NE(owl.find(std::string("/releases/") + kDuoVersion + "/duo.owl"), std::string::npos);
  for (const DuoTerm& t : duo_->terms()) {
    EXPECT_NE(owl.find(">" + t.id + "</oboInOwl:id>"), std::string::npos) << t.id;
  }
}

TEST_F(DuoTest, HierarchyIsTheReleasesSubClassOf) {
  struct Case {
    const char* term;
    const char* ancestor;
    bool is_a;
  };
  // DUO 2021-02-23: HMB subClassOf GRU, DS subClassOf HMB, NRES/GRU/POA subClassOf
  // DUO:0000001, NPU and NCU subClassOf NPUNCU.
  const Case cases[] = {
      {"DS", "HMB", true},          {"HMB", "GRU", true},         {"DS", "GRU", true},
      {"GRU", "GRU", true},         {"GRU", "HMB", false},        {"POA", "GRU", false},
      {"NRES", "GRU", false},       {"GRU", "NRES", false},       {"NRES", "DUO:0000001", true},
      {"POA", "DUO:0000001", true}, {"NPU", "NPUNCU", true},      {"NCU", "NPUNCU", true},
      {"GS", "DUO:0000017", true},  {"GS", "DUO:0000001", false}, {"NOPE", "GRU", false},
  };
  for (const Case& c : cases) {
    const DuoTerm* term = duo_->Find(c.term);
    const DuoTerm* ancestor = duo_->Find(c.ancestor);
    EXPECT_EQ(duo_->IsA(term ? term->id : c.term, ancestor ? ancestor->id : c.ancestor), c.is_a)
        << c.term << " under " << c.ancestor;
  }
  for (const char* p : {"NRES", "GRU", "HMB", "DS", "POA"}) {
    EXPECT_TRUE(duo_->IsPermission(duo_->Find(p)->id)) << p;
    EXPECT_FALSE(duo_->IsModifier(duo_->Find(p)->id)) << p;
  }
  for (const char* m : {"NPOA", "NMDS", "GSO", "NPUNCU", "NPU", "NCU", "PUB", "COL", "IRB", "GS",
                        "MOR", "TS", "US", "PS", "IS", "RTN", "CC", "RS"}) {
    EXPECT_TRUE(duo_->IsModifier(duo_->Find(m)->id)) << m;
    EXPECT_FALSE(duo_->IsPermission(duo_->Find(m)->id)) << m;
  }
  // Roots, obsolete terms and investigations are neither.
  for (const char* id :
       {"DUO:0000001", "DUO:0000017", "DUO:0000005", "DUO:0000014", "DUO:0000037", "DUO:0000031"}) {
    EXPECT_FALSE(duo_->IsPermission(id)) << id;
    EXPECT_FALSE(duo_->IsModifier(id)) << id;
  }
  EXPECT_EQ(duo_->Find("DS")->restricted_to, std::vector<std::string>{"MONDO:0000001"});
  EXPECT_EQ(duo_->Find("GS")->restricted_to, std::vector<std::string>{"GAZ:00000448"});
}

TEST_F(DuoTest, FindsByIdOrShorthandInAnyCase) {
  EXPECT_EQ(duo_->Find("DUO:0000006"), duo_->Find("HMB"));
  EXPECT_EQ(duo_->Find("hmb"), duo_->Find("duo:0000006"));
  // NPOA's IRI in the release is DUO_00000044; its id is DUO:0000044.
  ASSERT_NE(duo_->Find("NPOA"), nullptr);
  EXPECT_EQ(duo_->Find("NPOA")->id, "DUO:0000044");
  EXPECT_EQ(duo_->Find("DUO:00000044"), nullptr);
  EXPECT_EQ(duo_->Find("XYZ"), nullptr);
  EXPECT_EQ(duo_->Name("DUO:0000007"), "DS (DUO:0000007)");
  EXPECT_EQ(duo_->Name("DUO:0000037"), "DUO:0000037");
}

TEST_F(DuoTest, MalformedTablesAreRefusedNamingTheLine) {
  const std::string header = "id\tshorthand\tlabel\tparents\trestricted_to\tobsolete\n";
  struct Case {
    std::string tsv, error;
  };
  const Case cases[] = {
      {header + "DUO:1\tX\tx\n", "duo_terms.tsv:2: expected 6 tab-separated fields"},
      {header + "FOO:1\tX\tx\t\t\tfalse\n", "duo_terms.tsv:2: 'FOO:1' is not a DUO id"},
      {header + "DUO:1\tX\tx\tDUO:9\t\tfalse\n", "duo_terms.tsv: DUO:1 has unknown parent DUO:9"},
      {header + "DUO:1\tX\tx\t\t\tmaybe\n", "duo_terms.tsv:2: obsolete must be true or false"},
      {header + "DUO:1\tX\tx\t\t\tfalse\nDUO:2\tX\ty\t\t\tfalse\n",
       "duo_terms.tsv:3: 'X' appears twice"},
      {header, "duo_terms.tsv: no terms"},
  };
  for (const Case& c : cases) {
    Result<DuoOntology> r = DuoOntology::Parse(c.tsv);
    ASSERT_FALSE(r.ok()) << c.tsv;
    EXPECT_EQ(r.status().message(), c.error);
  }
}

// ---- Permissions -----------------------------------------------------------------------------

TEST_F(DuoTest, PermissionsFollowTheDuoHierarchy) {
  struct Case {
    const char* conditions;
    const char* purpose;
    const char* reason;  // "" when compatible
  };
  const Case cases[] = {
      // P2: NRES allows everything.
      {"{id: NRES}", "{id: GRU}", ""},
      {"{id: NRES}", "{id: HMB}", ""},
      {"{id: NRES}", "{id: DS, diseases: [NCIT:C4878]}", ""},
      {"{id: NRES}", "{id: POA}", ""},
      // P1 + P3: GRU allows HMB, DS and POA research.
      {"{id: GRU}", "{id: GRU}", ""},
      {"{id: GRU}", "{id: HMB}", ""},
      {"{id: GRU}", "{id: DS, diseases: [NCIT:C4878]}", ""},
      {"{id: GRU}", "{id: POA}", ""},
      // P1: HMB allows HMB and DS, not GRU or POA.
      {"{id: HMB}", "{id: HMB}", ""},
      {"{id: HMB}", "{id: DS, diseases: [NCIT:C4872]}", ""},
      {"{id: HMB}", "{id: GRU}",
       "HMB (DUO:0000006) limits use to health or medical or biomedical research; the purpose's "
       "GRU (DUO:0000042) general research use is not within it"},
      {"{id: HMB}", "{id: POA}",
       "HMB (DUO:0000006) limits use to health or medical or biomedical research; the purpose's "
       "POA (DUO:0000011) population origins or ancestry research only is not within it"},
      // P5: DS needs DS research.
      {"{id: DS, diseases: [NCIT:C2916]}", "{id: HMB}",
       "DS (DUO:0000007) limits use to disease specific research; the purpose's HMB (DUO:0000006) "
       "health or medical or biomedical research is not within it"},
      {"{id: DS, diseases: [NCIT:C2916]}", "{id: GRU}",
       "DS (DUO:0000007) limits use to disease specific research; the purpose's GRU (DUO:0000042) "
       "general research use is not within it"},
      // P4: POA is its own branch.
      {"{id: POA}", "{id: POA}", ""},
      {"{id: POA}", "{id: GRU}",
       "POA (DUO:0000011) limits use to population origins or ancestry research only; the "
       "purpose's GRU (DUO:0000042) general research use is not within it"},
      {"{id: POA}", "{id: DS, diseases: [NCIT:C4878]}",
       "POA (DUO:0000011) limits use to population origins or ancestry research only; the "
       "purpose's DS (DUO:0000007) disease specific research is not within it"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.conditions) + " vs " + c.purpose);
    const MatchResult r = Match(c.conditions, c.purpose);
    EXPECT_EQ(r.compatible, std::string(c.reason).empty());
    if (std::string(c.reason).empty()) {
      EXPECT_TRUE(r.reasons.empty());
    } else {
      ASSERT_EQ(r.reasons.size(), 1u);
      EXPECT_EQ(r.reasons[0].message, c.reason);
    }
  }
}

// ---- Diseases (P5) -----------------------------------------------------------------------------

TEST_F(DuoTest, LungCancerResearchFitsConsentForCancerResearch) {
  // ICD-10: C34 (bronchus and lung) lies in C30-C39, in C00-C97 "Malignant neoplasms".
  MatchResult r = Match("{id: DS, diseases: [ICD10:C00-C97]}", "{id: DS, diseases: [ICD10:C34]}");
  EXPECT_TRUE(r.compatible) << ::testing::PrintToString(Messages(r));
  // NCIt: Lung Carcinoma under Carcinoma, and Lung Adenocarcinoma two levels further down.
  r = Match("{id: DS, diseases: [NCIT:C2916]}", "{id: DS, diseases: [NCIT:C4878]}");
  EXPECT_TRUE(r.compatible) << ::testing::PrintToString(Messages(r));
  r = Match("{id: DS, diseases: [NCIT:C7377]}", "{id: DS, diseases: [NCIT:C3512]}");
  EXPECT_TRUE(r.compatible) << ::testing::PrintToString(Messages(r));
  // The same disease is under itself.
  EXPECT_TRUE(
      Match("{id: DS, diseases: [NCIT:C4878]}", "{id: DS, diseases: [NCIT:C4878]}").compatible);
  // HMB and GRU consent cover disease-specific research of any disease.
  EXPECT_TRUE(Match("{id: HMB}", "{id: DS, diseases: [NCIT:C4878]}").compatible);
}

TEST_F(DuoTest, LungCancerResearchDoesNotFitBreastCancerConsent) {
  const MatchResult r =
      Match("{id: DS, diseases: [NCIT:C4872]}", "{id: DS, diseases: [NCIT:C4878]}");
  EXPECT_FALSE(r.compatible);
  ASSERT_EQ(r.reasons.size(), 1u);
  EXPECT_EQ(r.reasons[0].code, "DUO:0000007");
  EXPECT_EQ(r.reasons[0].message,
            "DS (DUO:0000007) restricts use to NCIT:C4872 Breast Carcinoma; the purpose's disease "
            "NCIT:C4878 Lung Carcinoma is not under it");
}

TEST_F(DuoTest, DiseaseRestrictionsCoverNothingBroaderOrBeside) {
  // Cancer research in general does not fit consent for lung cancer research only.
  MatchResult r = Match("{id: DS, diseases: [NCIT:C4878]}", "{id: DS, diseases: [NCIT:C2916]}");
  EXPECT_EQ(Messages(r),
            std::vector<std::string>{
                "DS (DUO:0000007) restricts use to NCIT:C4878 Lung Carcinoma; the purpose's "
                "disease NCIT:C2916 Carcinoma is not under it"});
  // Each disease studied must fit; one reason per disease that does not.
  r = Match("{id: DS, diseases: [NCIT:C4872, NCIT:C4878]}",
            "{id: DS, diseases: [NCIT:C3512, NCIT:C3224, ICD10:C50]}");
  EXPECT_EQ(Messages(r), (std::vector<std::string>{
                             "DS (DUO:0000007) restricts use to NCIT:C4872 Breast Carcinoma, "
                             "NCIT:C4878 Lung Carcinoma; the purpose's disease NCIT:C3224 Melanoma "
                             "is not under any of them",
                             "DS (DUO:0000007) restricts use to NCIT:C4872 Breast Carcinoma, "
                             "NCIT:C4878 Lung Carcinoma; the purpose's disease ICD10:C50 Malignant "
                             "neoplasm of breast is not under any of them"}));
  // No hierarchy links the vocabularies: an NCIt disease is not under an ICD-10 one.
  EXPECT_FALSE(
      Match("{id: DS, diseases: [ICD10:C34]}", "{id: DS, diseases: [NCIT:C4878]}").compatible);
  // A disease the vocabulary does not know is under itself only.
  EXPECT_FALSE(
      Match("{id: DS, diseases: [NCIT:C2916]}", "{id: DS, diseases: [MONDO:0008903]}").compatible);
}

TEST_F(DuoTest, MatcherTakesTheDiseaseHierarchyFromItsCaller) {
  DiseaseHierarchy toy;
  toy.parents_of = [](std::string_view c) {
    return c == "X:child" ? std::vector<std::string>{"X:parent"} : std::vector<std::string>{};
  };
  const DuoMatcher matcher(*duo_, toy);
  EXPECT_TRUE(matcher.DiseaseIsUnder("X:child", "X:parent"));
  EXPECT_FALSE(matcher.DiseaseIsUnder("X:parent", "X:child"));
  const MatchResult r = matcher.Match(Conditions("{id: DS, diseases: [X:child]}"),
                                      Purpose("{id: DS, diseases: [X:parent]}"));
  EXPECT_EQ(Messages(r), std::vector<std::string>{"DS (DUO:0000007) restricts use to X:child; the "
                                                  "purpose's disease X:parent is not under it"});
}

// ---- Modifiers: one row per code, a purpose that meets it and one that does not --------------

TEST_F(DuoTest, EveryModifierIsCheckedWithItsReason) {
  struct Case {
    const char* modifier;  // the modifiers list of a GRU dataset
    const char* meets;     // purpose fields (with id: GRU) that satisfy it
    const char* fails;     // purpose fields that do not
    const char* reason;
  };
  const Case cases[] = {
      {"[NPOA]", "", "ancestry_research: true",
       "NPOA (DUO:0000044) prohibits population origins or ancestry research; the purpose includes "
       "it"},
      {"[NMDS]", "methods_development: false", "methods_development: true",
       "NMDS (DUO:0000015) prohibits methods development research; the purpose includes it"},
      {"[GSO]", "genetic_studies: true", "genetic_studies: false",
       "GSO (DUO:0000016) limits use to genetic studies; the purpose does not include genotype "
       "research"},
      {"[NPUNCU]", "not_for_profit_organisation: true, commercial: false",
       "not_for_profit_organisation: true, commercial: true",
       "NPUNCU (DUO:0000018) limits use to non-commercial purposes; the purpose is commercial"},
      {"[NPUNCU]", "not_for_profit_organisation: true", "not_for_profit_organisation: false",
       "NPUNCU (DUO:0000018) limits use to not-for-profit organisations; the requester's "
       "organisation is not stated to be one"},
      {"[NPU]", "not_for_profit_organisation: true, commercial: true",
       "not_for_profit_organisation: false",
       "NPU (DUO:0000045) limits use to not-for-profit organisations; the requester's organisation "
       "is not stated to be one"},
      {"[NCU]", "commercial: false", "commercial: true",
       "NCU (DUO:0000046) limits use to non-commercial purposes; the purpose is commercial"},
      {"[{id: GS, countries: [DE, FR]}]", "country: fr", "country: US",
       "GS (DUO:0000022) limits use to DE, FR; the purpose's country US is not among them"},
      {"[{id: GS, countries: [DE]}]", "country: DE", "",
       "GS (DUO:0000022) limits use to DE; the purpose names no country"},
      {"[{id: TS, months: 12}]", "months: 12", "months: 18",
       "TS (DUO:0000025) limits use to 12 months; the purpose asks for 18"},
      {"[{id: TS, months: 12}]", "months: 6", "",
       "TS (DUO:0000025) limits use to 12 months; the purpose names no period"},
      {"[{id: US, users: [ada@uni.example]}]", "user: ada@uni.example", "user: eve@corp.example",
       "US (DUO:0000026) limits use to approved users; the purpose's user eve@corp.example is not "
       "one of them"},
      {"[{id: US, users: [ada@uni.example]}]", "user: ada@uni.example", "",
       "US (DUO:0000026) limits use to approved users; the purpose names no user"},
      {"[{id: PS, projects: [EUCAIM-42]}]", "project: EUCAIM-42", "project: other",
       "PS (DUO:0000027) limits use to approved projects; the purpose's project other is not one "
       "of them"},
      {"[{id: IS, institutions: [Charité]}]", "institution: Charité", "",
       "IS (DUO:0000028) limits use to approved institutions; the purpose names no institution"},
      {"[{id: RS, topics: [EDAM:topic_3325]}]", "research_topics: [EDAM:topic_3325]",
       "research_topics: [EDAM:topic_0625]",
       "RS (DUO:0000012) limits use to research on EDAM:topic_3325; the purpose's topic "
       "EDAM:topic_0625 is not among them"},
      {"[]", "clinical_care: false", "clinical_care: true",
       "CC (DUO:0000043) clinical care use is not among the dataset's conditions; the purpose "
       "includes clinical care"},
      {"[IRB]", "ethics_approval: EK-2025-117", "",
       "IRB (DUO:0000021) requires documented ethics (IRB/ERB) approval; the purpose names none"},
      {"[PUB]", "agrees_to_publish: true", "agrees_to_publish: false",
       "PUB (DUO:0000019) requires results to be made available to the scientific community; the "
       "purpose does not agree to publish"},
      {"[COL]", "agrees_to_collaborate: true", "",
       "COL (DUO:0000020) requires collaboration with the primary study investigators; the purpose "
       "does not agree to collaborate"},
      {"[RTN]", "returns_derived_data: true", "returns_derived_data: false",
       "RTN (DUO:0000029) requires derived or enriched data to be returned to the resource; the "
       "purpose does not agree to return it"},
      {"[{id: MOR, date: 2026-01-01}]", "accepts_publication_moratorium: true", "",
       "MOR (DUO:0000024) forbids publication before 2026-01-01; the purpose does not accept the "
       "moratorium"},
  };
  for (const Case& c : cases) {
    const std::string conditions = std::string("{id: GRU, modifiers: ") + c.modifier + "}";
    auto purpose = [](const char* fields) {
      return std::string("{id: GRU") + (*fields ? std::string(", ") + fields : "") + "}";
    };
    SCOPED_TRACE(conditions);
    const MatchResult ok = Match(conditions, purpose(c.meets));
    EXPECT_TRUE(ok.compatible) << c.meets << ": " << ::testing::PrintToString(Messages(ok));
    const MatchResult refused = Match(conditions, purpose(c.fails));
    EXPECT_FALSE(refused.compatible) << c.fails;
    EXPECT_EQ(Messages(refused), std::vector<std::string>{c.reason}) << c.fails;
  }
}

TEST_F(DuoTest, ClinicalCareNeedsCcOrNoRestriction) {
  const std::string care = "{id: GRU, clinical_care: true}";
  EXPECT_FALSE(Match("{id: GRU}", care).compatible);
  EXPECT_TRUE(Match("{id: GRU, modifiers: [CC]}", care).compatible);
  EXPECT_TRUE(Match("{id: NRES}", care).compatible);
}

TEST_F(DuoTest, PopulationAncestryResearchMeetsNpoa) {
  // A POA purpose is ancestry research whether or not it says so.
  const MatchResult r = Match("{id: GRU, modifiers: [NPOA]}", "{id: POA}");
  EXPECT_EQ(Messages(r),
            std::vector<std::string>{"NPOA (DUO:0000044) prohibits population origins or "
                                     "ancestry research; the purpose includes it"});
}

TEST_F(DuoTest, AttestationsBecomeObligations) {
  const MatchResult r =
      Match("{id: HMB, modifiers: [IRB, PUB, COL, RTN, {id: MOR, date: 2026-01-01}, NPU]}",
            "{id: HMB, ethics_approval: EK-2025-117, agrees_to_publish: true, "
            "agrees_to_collaborate: true, returns_derived_data: true, "
            "accepts_publication_moratorium: true, not_for_profit_organisation: true}");
  EXPECT_TRUE(r.compatible) << ::testing::PrintToString(Messages(r));
  EXPECT_EQ(r.obligations,
            (std::vector<std::string>{
                "IRB (DUO:0000021): ethics approval EK-2025-117",
                "PUB (DUO:0000019): results will be published",
                "COL (DUO:0000020): collaboration with the primary study investigators",
                "RTN (DUO:0000029): derived data will be returned to the resource",
                "MOR (DUO:0000024): no publication before 2026-01-01"}));
}

TEST_F(DuoTest, EveryUnmetConditionIsReportedAtOnce) {
  const MatchResult r =
      Match("{id: DS, diseases: [NCIT:C4872], modifiers: [NCU, {id: GS, countries: [DE]}, IRB]}",
            "{id: DS, diseases: [NCIT:C4878], commercial: true, country: US}");
  EXPECT_FALSE(r.compatible);
  std::vector<std::string> codes;
  for (const MatchReason& reason : r.reasons) codes.push_back(reason.code);
  EXPECT_EQ(codes,
            (std::vector<std::string>{"DUO:0000007", "DUO:0000046", "DUO:0000022", "DUO:0000021"}));
  EXPECT_TRUE(r.obligations.empty());
}

// ---- Parsing ------------------------------------------------------------------------------------

TEST_F(DuoTest, ConditionsAcceptShorthandsAndIdsAndKeepIds) {
  const model::DataUseCondition yaml = Conditions(
      "id: ds\ndiseases: [NCIT:C4872, NCIT:C4872]\nmodifiers:\n  - npu\n  - {id: DUO:0000022, "
      "countries: [de, FR]}\n  - {id: TS, months: 24}\n");
  EXPECT_EQ(yaml.permission, "DUO:0000007");
  EXPECT_EQ(yaml.diseases, std::vector<std::string>{"NCIT:C4872"});
  ASSERT_EQ(yaml.modifiers.size(), 3u);
  EXPECT_EQ(yaml.modifiers[0].id, "DUO:0000045");
  EXPECT_EQ(yaml.modifiers[1].id, "DUO:0000022");
  EXPECT_EQ(yaml.modifiers[1].countries, (std::vector<std::string>{"DE", "FR"}));
  EXPECT_EQ(yaml.modifiers[2].months, 24);
  // The same in JSON, and the JSON written back reads back the same.
  const model::DataUseCondition json =
      Conditions(R"({"id":"DUO:0000007","diseases":["NCIT:C4872"],"modifiers":[{"id":"NPU"},)"
                 R"({"id":"GS","countries":["DE","FR"]},{"id":"DUO:0000025","months":24}]})");
  EXPECT_EQ(json, yaml);
  EXPECT_EQ(Conditions(DataUseConditionToJson(yaml).dump()), yaml);
}

TEST_F(DuoTest, MalformedConditionsAreRefusedNamingTheField) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"{id: XYZ}", "data_use.id: unknown DUO code 'XYZ'"},
      {"{id: NPU}",
       "data_use.id: NPU (DUO:0000045) 'not for profit organisation use only' is not a data use "
       "permission (NRES, HMB, DS, POA, GRU)"},
      {"{id: GRU-CC}",
       "data_use.id: GRU-CC (DUO:0000005) 'obsolete general research use and clinical care' is "
       "obsolete in DUO 2021-02-23"},
      {"{id: DUO:0000037}",
       "data_use.id: DUO:0000037 'biomedical research' is not a data use permission (NRES, HMB, "
       "DS, POA, GRU)"},
      {"{id: DUO:0000001}",
       "data_use.id: DUO:0000001 'data use permission' is not a data use permission (NRES, HMB, "
       "DS, POA, GRU)"},
      {"{id: DS}", "data_use: DS (DUO:0000007) needs 'diseases'"},
      {"{id: HMB, diseases: [NCIT:C4872]}",
       "data_use.diseases: only DS (DUO:0000007) takes diseases, not HMB (DUO:0000006)"},
      {"{id: DS, diseases: [lung]}", "data_use.diseases[0]: 'lung' is not a CURIE (prefix:id)"},
      {"{id: GRU, modifiers: [HMB]}",
       "data_use.modifiers[0].id: HMB (DUO:0000006) 'health or medical or biomedical research' is "
       "a data use permission, not a modifier"},
      {"{id: GRU, modifiers: [DUO:0000017]}",
       "data_use.modifiers[0].id: DUO:0000017 'data use modifier' is not a data use modifier"},
      {"{id: GRU, modifiers: [{id: UNKNOWN}]}",
       "data_use.modifiers[0].id: unknown DUO code 'UNKNOWN'"},
      {"{id: GRU, modifiers: [{id: GS}]}",
       "data_use.modifiers[0]: GS (DUO:0000022) needs 'countries'"},
      {"{id: GRU, modifiers: [{id: GS, users: [a]}]}",
       "data_use.modifiers[0]: GS (DUO:0000022) takes 'countries', not 'users'"},
      {"{id: GRU, modifiers: [NCU, {id: NPU, countries: [DE]}]}",
       "data_use.modifiers[1]: NPU (DUO:0000045) takes no values, not 'countries'"},
      {"{id: GRU, modifiers: [NPU, DUO:0000045]}",
       "data_use.modifiers[1]: NPU (DUO:0000045) appears twice"},
      {"{id: GRU, modifiers: [{id: GS, countries: [Germany]}]}",
       "data_use.modifiers[0].countries[0]: 'Germany' is not an ISO 3166-1 alpha-2 country code"},
      {"{id: GRU, modifiers: [{id: TS, months: 0}]}",
       "data_use.modifiers[0].months: must be at least 1"},
      {"{id: GRU, modifiers: [{id: TS, months: two}]}",
       "data_use.modifiers[0].months: expected a whole number, not 'two'"},
      {"{id: GRU, modifiers: [{id: MOR, date: 2026-13-01}]}",
       "data_use.modifiers[0].date: '2026-13-01' is not a date (YYYY-MM-DD)"},
      {"{id: GRU, modifiers: [{id: GS, country: DE}]}",
       "data_use.modifiers[0]: unknown key 'country'"},
      {"{id: GRU, modifiers: NPU}", "data_use.modifiers: expected a list"},
      {"{id: GRU, colour: red}", "data_use: unknown key 'colour'"},
      {"{diseases: [NCIT:C4872]}", "data_use: 'id' (the DUO data use permission) is missing"},
      {"[GRU]", "data_use: expected a mapping with 'id'"},
      {"", "data_use: empty document"},
  };
  for (const Case& c : cases) {
    Result<model::DataUseCondition> r = ParseDataUseCondition(c.text, *duo_);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), c.error) << c.text;
  }
  Result<model::DataUseCondition> broken = ParseDataUseCondition("{id: GRU", *duo_);
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().message().rfind("data_use: not JSON or YAML: ", 0), 0u)
      << broken.status().message();
}

TEST_F(DuoTest, PurposeReadsEveryFact) {
  const ResearchPurpose p = Purpose(R"({
      "id": "DUO:0000007", "diseases": ["NCIT:C4878"], "methods_development": true,
      "genetic_studies": true, "commercial": false, "not_for_profit_organisation": true,
      "clinical_care": false, "ethics_approval": "EK-2025-117", "agrees_to_publish": true,
      "agrees_to_collaborate": true, "returns_derived_data": true,
      "accepts_publication_moratorium": true, "country": "de", "user": "ada@uni.example",
      "project": "EUCAIM-42", "institution": "Charité", "months": 12,
      "research_topics": ["EDAM:topic_3325"]})");
  EXPECT_EQ(p.permission, "DUO:0000007");
  EXPECT_EQ(p.diseases, std::vector<std::string>{"NCIT:C4878"});
  EXPECT_TRUE(p.methods_development && p.genetic_studies && p.not_for_profit_organisation);
  EXPECT_FALSE(p.commercial || p.clinical_care || p.ancestry_research);
  EXPECT_TRUE(p.agrees_to_publish && p.agrees_to_collaborate && p.returns_derived_data &&
              p.accepts_publication_moratorium);
  EXPECT_EQ(p.ethics_approval, "EK-2025-117");
  EXPECT_EQ(p.country, "DE");
  EXPECT_EQ(p.user, "ada@uni.example");
  EXPECT_EQ(p.project, "EUCAIM-42");
  EXPECT_EQ(p.institution, "Charité");
  EXPECT_EQ(p.months, 12);
  EXPECT_EQ(p.research_topics, std::vector<std::string>{"EDAM:topic_3325"});
  EXPECT_TRUE(Purpose("{id: POA}").ancestry_research);
}

TEST_F(DuoTest, MalformedPurposesAreRefusedNamingTheField) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"{id: NRES}",
       "purpose.id: NRES (DUO:0000004) describes data without restrictions, not research; state "
       "the narrowest of GRU, HMB, DS or POA"},
      {"{id: XYZ}", "purpose.id: unknown DUO code 'XYZ'"},
      {"{id: NCU}",
       "purpose.id: NCU (DUO:0000046) 'non-commercial use only' is not a data use permission "
       "(NRES, HMB, DS, POA, GRU)"},
      {"{id: DS}", "purpose: a DS (DUO:0000007) purpose needs 'diseases'"},
      {"{id: HMB, diseases: [NCIT:C4872]}",
       "purpose.diseases: only a DS (DUO:0000007) purpose names diseases, not HMB (DUO:0000006)"},
      {"{id: DS, diseases: [breast]}", "purpose.diseases[0]: 'breast' is not a CURIE (prefix:id)"},
      {"{id: DS, diseases: [NCIT:C4872], ancestry_research: true}",
       "purpose.ancestry_research: DS (DUO:0000007) research excludes the study of population "
       "origins or ancestry (HMB's definition); state GRU or POA"},
      {"{id: GRU, commercial: maybe}", "purpose.commercial: expected true or false"},
      {"{id: GRU, commercial: yes}", "purpose.commercial: expected true or false"},
      {"{id: GRU, country: Germany}",
       "purpose.country: 'Germany' is not an ISO 3166-1 alpha-2 country code"},
      {"{id: GRU, months: 0}", "purpose.months: expected a whole number of months, at least 1"},
      {"{id: GRU, months: [1]}", "purpose.months: expected a whole number of months, at least 1"},
      {"{id: GRU, user: ''}", "purpose.user: expected a non-empty string"},
      {"{id: GRU, budget: 1}", "purpose: unknown key 'budget'"},
      {"{commercial: false}",
       "purpose: 'id' (the DUO permission describing the research) is missing"},
      {"GRU", "purpose: expected a mapping with 'id'"},
      {"", "purpose: empty document"},
  };
  for (const Case& c : cases) {
    Result<ResearchPurpose> r = ParseResearchPurpose(c.text, *duo_);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().message(), c.error) << c.text;
  }
}

// ---- Beacon output
// --------------------------------------------------------------------------------

TEST_F(DuoTest, BeaconDataUseConditionsFollowTheDefaultModel) {
  const model::DataUseCondition c = Conditions(
      "{id: DS, diseases: [NCIT:C2916], modifiers: [NPU, {id: GS, countries: [DE, FR]}, {id: US, "
      "users: [ada@uni.example]}, {id: TS, months: 24}]}");
  const nlohmann::json j = BeaconDataUseConditions(c, *duo_, DiseaseHierarchyOf(*vocab_));
  const nlohmann::json expected = nlohmann::json::parse(R"({"duoDataUse": [{
      "id": "DUO:0000007", "label": "disease specific research", "version": "2021-02-23",
      "modifiers": [
        {"id": "NCIT:C2916", "label": "Carcinoma"},
        {"id": "DUO:0000045", "label": "not for profit organisation use only"},
        {"id": "DUO:0000022", "label": "geographical restriction", "countries": ["DE", "FR"]},
        {"id": "DUO:0000026", "label": "user specific restriction"},
        {"id": "DUO:0000025", "label": "time limit on use", "months": 24}]}]})");
  EXPECT_EQ(j, expected);
  EXPECT_EQ(oncomesh::testing::ValidateBeacon(
                "models/json/beacon-v2-default-model/common/dataUseConditions.json", j.dump()),
            "");
  const nlohmann::json nres = BeaconDataUseConditions(Conditions("{id: NRES}"), *duo_, {});
  EXPECT_EQ(nres, nlohmann::json::parse(R"({"duoDataUse": [{"id": "DUO:0000004",
      "label": "no restriction", "version": "2021-02-23"}]})"));
}

}  // namespace
}  // namespace oncomesh::auth
