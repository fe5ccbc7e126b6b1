// oncomesh synth: writes a synthetic site's FHIR Bulk Data export, its genomes and its DICOM
// studies (src/synth/synth.h).
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "synth/synth.h"

namespace oncomesh::cli {

void RegisterSynthCommand(CLI::App& app) {
  auto options = std::make_shared<synth::SynthOptions>();
  CLI::App* cmd = app.add_subcommand(
      "synth",
      "Write a synthetic site's cancer cohort as FHIR R4 Bulk Data NDJSON, and a multi-sample "
      "GRCh38 VCF (genomes.vcf.gz + .tbi) of the individuals with a genome, and small DICOM "
      "studies with a lesion segmentation (dicom/{StudyInstanceUID}/) for some of those with an "
      "ImagingStudy");
  cmd->add_option("--site", options->site, "Site name (resource ids, MRN system)")->required();
  cmd->add_option("--individuals", options->individuals, "Number of patients")->required();
  cmd->add_option("--seed", options->seed, "Random seed; same arguments give identical files")
      ->required();
  cmd->add_option("--out", options->out_dir, "Output directory")->required();
  cmd->add_option("--profile", options->profile,
                  "Case mix: general, comprehensive or regional (default: from the site name)");
  cmd->add_option("--threads", options->threads, "Worker threads (default: all cores)");
  cmd->add_option("--genomes", options->genomes,
                  "Individuals with a genome, the samples of genomes.vcf.gz (default: "
                  "min(individuals, 500); 0 = no VCF)");
  cmd->add_option("--genome-sites", options->genome_sites,
                  "Background germline sites in genomes.vcf.gz, besides the known cancer "
                  "variants")
      ->capture_default_str();
  cmd->add_option("--images", options->images,
                  "Individuals whose CT, MR or MG ImagingStudy is also written as DICOM images "
                  "plus a SEG of the lesion, one folder per study under OUT/dicom/ (default: "
                  "min(those with such a study, 20); 0 = none; at most 10000)");
  cmd->callback([options] {
    synth::SynthReport report;
    const Status status = synth::WriteSyntheticSite(*options, &report);
    if (!status.ok()) {
      std::cerr << "oncomesh " << status.message() << "\n";
      SetExitCode(status.code() == StatusCode::kInvalidArgument ? 2 : 1);
      return;
    }
    std::cout << "synth: wrote " << report.individuals << " individuals (FHIR R4 NDJSON) to "
              << options->out_dir << "\n";
    if (report.genomes > 0) {
      std::cout << "synth: wrote " << report.genome_path << " (+ .tbi): " << report.genomes
                << " samples, " << report.genome_records << " records ("
                << report.known_variant_records << " known cancer variants), GRCh38\n";
    } else {
      std::cout << "synth: no genomes written (--genomes 0)\n";
    }
    if (report.image_studies > 0) {
      std::cout << "synth: wrote " << report.image_studies << " DICOM studies ("
                << report.image_files << " files, " << (report.image_bytes + 512) / 1024
                << " kB: images and a SEG each) to " << report.image_dir << "\n";
    } else {
      std::cout << "synth: no DICOM studies written\n";
    }
  });
}

}  // namespace oncomesh::cli
