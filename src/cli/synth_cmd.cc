// oncomesh synth: writes a synthetic site's FHIR Bulk Data export (src/synth/synth.h).
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "synth/synth.h"

namespace oncomesh::cli {

void RegisterSynthCommand(CLI::App& app) {
  auto options = std::make_shared<synth::SynthOptions>();
  CLI::App* cmd = app.add_subcommand(
      "synth", "Write a synthetic site's cancer cohort as FHIR R4 Bulk Data NDJSON");
  cmd->add_option("--site", options->site, "Site name (resource ids, MRN system)")->required();
  cmd->add_option("--individuals", options->individuals, "Number of patients")->required();
  cmd->add_option("--seed", options->seed, "Random seed; same arguments give identical files")
      ->required();
  cmd->add_option("--out", options->out_dir, "Output directory")->required();
  cmd->add_option("--profile", options->profile,
                  "Case mix: general, comprehensive or regional (default: from the site name)");
  cmd->add_option("--threads", options->threads, "Worker threads (default: all cores)");
  cmd->callback([options] {
    const Status status = synth::WriteSyntheticSite(*options);
    if (!status.ok()) {
      std::cerr << "oncomesh " << status.message() << "\n";
      SetExitCode(status.code() == StatusCode::kInvalidArgument ? 2 : 1);
    }
  });
}

}  // namespace oncomesh::cli
