// Imaging filter counts in-process (bench/imaging.sh runs it; docs/benchmarks.md): the index
// built from --individuals synthetic individuals whose ImagingStudy records become DICOM series
// as the DICOM ingest would store them (modality, body part examined from the study's
// topography, and a SEG series for one study in two), then plan + count of Beacon requests
// mixing imaging and clinical filters.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "bench_timing.h"
#include "index/cohort_index.h"
#include "query/beacon_request.h"
#include "synth/images.h"
#include "synth/synth.h"

namespace {

using namespace oncomesh;
using bench::Clock;
using bench::Seconds;

[[noreturn]] void Die(const std::string& message) {
  std::cerr << "imaging_bench: " << message << "\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"OncoMesh imaging filter counts (see bench/imaging.sh)"};
  int64_t individuals = 1'000'000;
  app.add_option("--individuals", individuals,
                 "synthetic individuals (their ImagingStudy records become DICOM series)");
  CLI11_PARSE(app, argc, argv);

  auto vocab = index::Vocabulary::LoadEmbedded();
  if (!vocab.ok()) Die(vocab.status().ToString());
  index::IndexBuilder builder(*vocab);
  synth::SynthOptions options;
  options.site = "bench";
  options.seed = 1;
  options.individuals = individuals;
  options.images = 0;
  int64_t studies = 0, series = 0;
  const auto start = Clock::now();
  Status added = Status::Ok();
  const Status st = synth::GenerateRecords(options, [&](const model::RecordBatch& b) {
    if (added.ok()) added = builder.AddBatch(b);
    for (const model::ImagingStudy& s : b.imaging_studies) {
      ++studies;
      model::DicomSeries d;
      d.individual_id = s.individual_id;
      d.study_uid = s.id;
      d.series_uid = s.id + ".1";
      d.modality = s.modality;
      d.body_part = synth::internal::BodyPartExamined(s.body_site.code);
      d.instances = s.number_of_instances;
      builder.AddDicomSeries(d);
      ++series;
      if (studies % 2 == 0) {  // one study in two has a lesion segmentation
        d.series_uid = s.id + ".2";
        d.modality = "SEG";
        d.instances = 1;
        builder.AddDicomSeries(d);
        ++series;
      }
    }
  });
  if (!st.ok()) Die(st.ToString());
  if (!added.ok()) Die(added.ToString());
  auto idx = builder.Finish();
  std::printf("imaging index: %lld individuals, %lld studies, %lld series, built in %.1f s\n",
              static_cast<long long>(individuals), static_cast<long long>(studies),
              static_cast<long long>(series), Seconds(start, Clock::now()));
  std::printf("RESULT studies %lld\n", static_cast<long long>(studies));
  struct Query {
    const char* name;
    const char* body;
  };
  const Query queries[] = {
      {"ct_chest_seg",
       R"({"query":{"filters":[{"id":"DCM:CT"},{"id":"SNOMED:816094009"},{"id":"DCM:SEG"}],"requestedGranularity":"count"}})"},
      {"mg_breast_cancer_seg_women",
       R"({"query":{"filters":[{"id":"DCM:MG"},{"id":"ICD10:C50"},{"id":"DCM:SEG"},{"id":"NCIT:C16576"}],"requestedGranularity":"count"}})"},
      {"mr_stage_iv",
       R"({"query":{"filters":[{"id":"DCM:MR"},{"id":"NCIT:C27971"}],"requestedGranularity":"count"}})"},
  };
  for (const Query& q : queries) {
    auto request = query::ParseBeaconPost(q.body);
    if (!request.ok()) Die(request.status().ToString());
    uint64_t count = 0;
    const bench::Timing t = bench::TimeRuns(50, 2000, 1.0, [&] {
      auto plan = query::BuildRequestPlan(*request, *idx);
      count = idx->Count(*plan);
    });
    if (count == 0)
      Die(std::string(q.name) + ": no individual matches; the benchmark would measure nothing");
    std::printf("%-28s count %8llu  plan+count p50 %.4f ms  p99 %.4f ms  (%zu runs)\n", q.name,
                static_cast<unsigned long long>(count), t.p50_ms, t.p99_ms, t.runs);
    std::printf("RESULT %s_p50_ms %.5f\n", q.name, t.p50_ms);
  }
  return 0;
}
