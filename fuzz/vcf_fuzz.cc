// VCF (and whatever htslib recognises: BGZF, gzip, BCF) as `oncomesh ingest vcf` reads it: the
// input is written to a file and ingested whole (htslib parse, normalisation, sample linking,
// the kept indexed copy, the store transaction) into a node of its own, on GRCh38. A refused
// file must say why.
#include <filesystem>

#include "fuzz_support.h"
#include "ingest/vcf/vcf_ingest.h"

ONCOMESH_FUZZ_INITIALIZE { oncomesh::fuzz::SharedEmptyNode(); }

ONCOMESH_FUZZ_TARGET(vcf) {
  using namespace oncomesh;
  fuzz::EmptyNode& node = fuzz::SharedEmptyNode();
  const std::string path = node.dir + "/input.vcf";
  fuzz::WriteFile(path, data, size);
  ingest::VcfIngestOptions options;
  options.assembly = "GRCh38";
  Result<ingest::IngestReport> report = ingest::IngestVcf(*node.node, *node.store, {path}, options);
  if (!report.ok()) fuzz::Fail("IngestVcf failed as a whole: " + report.status().ToString());
  for (const ingest::FileOutcome& f : report->files) fuzz::CheckRefusal(f.status, "IngestVcf");
  // What was accepted stays in the node (its copies under variants/ and its rows): bounded by
  // the run, and the next input that is the same content is "already ingested".
  return 0;
}
