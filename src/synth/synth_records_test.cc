// GenerateRecords must deliver the individuals WriteSyntheticSite writes: every resource of the
// NDJSON has its record, field for field as `oncomesh ingest fhir` maps it (FHIR ids, unshifted
// dates), and nothing else.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/date.h"
#include "synth/synth.h"

namespace oncomesh::synth {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Resources of one type by id.
using Resources = std::map<std::string, json>;

Resources Read(const fs::path& dir, const std::string& type) {
  Resources out;
  std::ifstream in(dir / (type + ".ndjson"));
  std::string line;
  while (std::getline(in, line)) {
    json r = json::parse(line);
    const std::string id = r["id"].get<std::string>();
    out[id] = std::move(r);
  }
  return out;
}

std::string Subject(const json& r) {
  return r["subject"]["reference"].get<std::string>().substr(std::string("Patient/").size());
}

model::Date DateOf(const json& text) {
  return text.is_string() ? *model::ParseDate(text.get<std::string>()) : model::kNoDate;
}

void ExpectCoding(const json& coding, const model::Coding& c, const std::string& where) {
  EXPECT_EQ(coding.value("system", ""), c.system) << where;
  EXPECT_EQ(coding.value("code", ""), c.code) << where;
  EXPECT_EQ(coding.value("display", ""), c.display) << where;
}

class SynthRecordsTest : public ::testing::TestWithParam<int> {};

TEST_P(SynthRecordsTest, RecordsAgreeWithWrittenFhir) {
  SynthOptions options;
  options.site = "rec-site";
  options.individuals = 17'000;  // three chunks of up to 8,192 individuals
  options.seed = 11;
  options.threads = GetParam();
  options.out_dir =
      (fs::temp_directory_path() / ("oncomesh_synth_records_" + std::to_string(::getpid())))
          .string();
  struct RemoveOnExit {
    std::string dir;
    ~RemoveOnExit() { fs::remove_all(dir); }
  } remove_on_exit{options.out_dir};
  ASSERT_TRUE(WriteSyntheticSite(options).ok());

  model::RecordBatch all;
  int calls = 0;
  const Status status = GenerateRecords(options, [&](const model::RecordBatch& b) {
    ++calls;
    // Chunks arrive in individual order and hold their individuals' records.
    const std::string expected_first = "rec-site-pat-" + std::to_string(all.individuals.size() + 1);
    ASSERT_FALSE(b.individuals.empty());
    EXPECT_EQ(b.individuals.front().id, expected_first);
    for (const auto& d : b.diagnoses) {
      EXPECT_TRUE(std::any_of(b.individuals.begin(), b.individuals.end(),
                              [&](const model::Individual& i) { return i.id == d.individual_id; }));
    }
    auto append = [](auto& to, const auto& from) { to.insert(to.end(), from.begin(), from.end()); };
    append(all.individuals, b.individuals);
    append(all.diagnoses, b.diagnoses);
    append(all.observations, b.observations);
    append(all.treatments, b.treatments);
    append(all.biosamples, b.biosamples);
    append(all.imaging_studies, b.imaging_studies);
  });
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(calls, 3);

  const fs::path dir = options.out_dir;
  const Resources patients = Read(dir, "Patient");
  const Resources conditions = Read(dir, "Condition");
  const Resources observations = Read(dir, "Observation");
  const Resources procedures = Read(dir, "Procedure");
  Resources medications = Read(dir, "MedicationStatement");
  medications.merge(Read(dir, "MedicationAdministration"));
  const Resources specimens = Read(dir, "Specimen");
  const Resources imaging = Read(dir, "ImagingStudy");

  ASSERT_EQ(all.individuals.size(), patients.size());
  ASSERT_EQ(all.diagnoses.size(), conditions.size());
  ASSERT_EQ(all.observations.size(), observations.size());
  ASSERT_EQ(all.treatments.size(), procedures.size() + medications.size());
  ASSERT_EQ(all.biosamples.size(), specimens.size());
  ASSERT_EQ(all.imaging_studies.size(), imaging.size());

  for (size_t i = 0; i < all.individuals.size(); ++i) {
    const model::Individual& r = all.individuals[i];
    EXPECT_EQ(r.id, "rec-site-pat-" + std::to_string(i + 1));
    ASSERT_TRUE(patients.count(r.id)) << r.id;
    const json& p = patients.at(r.id);
    EXPECT_EQ(model::SexName(r.sex), p.at("gender").get<std::string>()) << r.id;
    EXPECT_EQ(r.birth_date, DateOf(p.at("birthDate"))) << r.id;
    EXPECT_EQ(r.death_date, DateOf(p.value("deceasedDateTime", json()))) << r.id;
    EXPECT_EQ(r.vital_status, p.contains("deceasedDateTime") ? model::VitalStatus::kDeceased
                                                             : model::VitalStatus::kUnknown);
  }
  for (const model::Diagnosis& r : all.diagnoses) {
    ASSERT_TRUE(conditions.count(r.id)) << r.id;
    const json& c = conditions.at(r.id);
    EXPECT_EQ(r.individual_id, Subject(c));
    ExpectCoding(c.at("code").at("coding").at(0), r.code, r.id);  // the ICD-10 code
    EXPECT_EQ(r.topography,
              c.at("bodySite").at(0).at("coding").at(0).at("code").get<std::string>());
    EXPECT_EQ(r.morphology, c.at("extension")
                                .at(0)
                                .at("valueCodeableConcept")
                                .at("coding")
                                .at(0)
                                .at("code")
                                .get<std::string>());
    EXPECT_EQ(r.onset_date, DateOf(c.at("onsetDateTime")));
    EXPECT_TRUE(r.primary);
    EXPECT_TRUE(r.stage_group.empty());  // stage is an Observation, not Condition.stage
  }
  for (const model::Observation& r : all.observations) {
    ASSERT_TRUE(observations.count(r.id)) << r.id;
    const json& o = observations.at(r.id);
    EXPECT_EQ(r.individual_id, Subject(o));
    EXPECT_EQ("Condition/" + r.focus_id, o.at("focus").at(0).at("reference").get<std::string>());
    ExpectCoding(o.at("code").at("coding").at(0), r.code, r.id);
    ExpectCoding(o.at("valueCodeableConcept").at("coding").at(0), r.value_code, r.id);
    EXPECT_EQ(r.effective_date, DateOf(o.at("effectiveDateTime"))) << r.id;
    std::string gene, change;
    if (o.contains("component")) {
      for (const json& component : o.at("component")) {
        const std::string code = component.at("code").at("coding").at(0).at("code");
        const std::string value =
            component.at("valueCodeableConcept").at("coding").at(0).at("code");
        if (code == "48018-6") gene = value;
        if (code == "48005-3") change = value;
      }
    }
    EXPECT_EQ(r.gene_studied.code, gene) << r.id;
    EXPECT_EQ(r.amino_acid_change, change) << r.id;
  }
  for (const model::Treatment& r : all.treatments) {
    const bool procedure = procedures.count(r.id) > 0;
    ASSERT_TRUE(procedure || medications.count(r.id)) << r.id;
    const json& t = procedure ? procedures.at(r.id) : medications.at(r.id);
    EXPECT_EQ(r.individual_id, Subject(t));
    if (procedure) {
      ExpectCoding(t.at("code").at("coding").at(0), r.code, r.id);
      const bool period = t.contains("performedPeriod");
      EXPECT_EQ(r.kind,
                period ? model::TreatmentKind::kRadiotherapy : model::TreatmentKind::kSurgery);
      EXPECT_EQ(r.start_date,
                DateOf(period ? t.at("performedPeriod").at("start") : t.at("performedDateTime")));
      EXPECT_EQ(r.end_date, period ? DateOf(t.at("performedPeriod").at("end")) : model::kNoDate);
    } else {
      ExpectCoding(t.at("medicationCodeableConcept").at("coding").at(0), r.code, r.id);
      EXPECT_EQ(r.kind, model::TreatmentKind::kMedication);
      EXPECT_EQ(r.start_date, DateOf(t.at("effectivePeriod").at("start")));
      EXPECT_EQ(r.end_date, DateOf(t.at("effectivePeriod").at("end")));
    }
  }
  for (const model::Biosample& r : all.biosamples) {
    ASSERT_TRUE(specimens.count(r.id)) << r.id;
    const json& s = specimens.at(r.id);
    EXPECT_EQ(r.individual_id, Subject(s));
    ExpectCoding(s.at("type").at("coding").at(0), r.type, r.id);
    ExpectCoding(s.at("collection").at("bodySite").at("coding").at(0), r.body_site, r.id);
    EXPECT_EQ(r.collection_date, DateOf(s.at("collection").at("collectedDateTime")));
  }
  for (const model::ImagingStudy& r : all.imaging_studies) {
    ASSERT_TRUE(imaging.count(r.id)) << r.id;
    const json& s = imaging.at(r.id);
    EXPECT_EQ(r.individual_id, Subject(s));
    EXPECT_EQ(r.modality, s.at("modality").at(0).at("code").get<std::string>());
    ExpectCoding(s.at("series").at(0).at("bodySite"), r.body_site, r.id);
    EXPECT_EQ(r.started, DateOf(s.at("started")));
    EXPECT_EQ(r.number_of_series, s.at("numberOfSeries").get<int>());
    EXPECT_EQ(r.number_of_instances, s.at("numberOfInstances").get<int>());
  }
}

// One thread and several: delivery order and content must not depend on it.
INSTANTIATE_TEST_SUITE_P(Threads, SynthRecordsTest, ::testing::Values(1, 3));

TEST(SynthRecordsOptionsTest, RejectsBadOptions) {
  SynthOptions options;
  options.site = "bad site";
  options.individuals = 10;
  int calls = 0;
  EXPECT_EQ(GenerateRecords(options, [&](const model::RecordBatch&) { ++calls; }).code(),
            StatusCode::kInvalidArgument);
  options.site = "ok";
  options.individuals = 0;
  EXPECT_EQ(GenerateRecords(options, [&](const model::RecordBatch&) { ++calls; }).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace oncomesh::synth
