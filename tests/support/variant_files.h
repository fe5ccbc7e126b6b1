// Test support for the htsget tests: variant files made here and read with the htslib tools.
#pragma once

#include <string>

namespace oncomesh::testing {

// Runs `command` with sh -c; returns its exit code, `*out` gets stdout only (stderr discarded).
int Shell(const std::string& command, std::string* out);

// Writes DIR/big.vcf.gz (bgzip + tabix) and DIR/big.bcf (+ .csi): ~6,000 records on
// sequences "1" and "2" over many BGZF blocks, with long deletions (spelled-out REF and
// symbolic <DEL> with INFO/END) whose spans reach over their neighbours; and
// DIR/big.aligned.vcf.gz, the same written by htslib (blocks end on record boundaries). Returns ""
// or an error.
std::string MakeLargeVariantFiles(const std::string& dir);

// The records (`bcftools view -H`) of a VCF/BCF stream held in `bytes` (written to a temp file).
std::string RecordsOfStream(const std::string& bytes, const std::string& scratch_dir);

// `bcftools view -H -r REGION FILE`; REGION as bcftools takes it ("20", "20:15-300").
std::string RecordsOfRegion(const std::string& file, const std::string& region);

// Decompresses a run of whole BGZF blocks (a ticket part) with htslib.
std::string DecompressBgzf(const std::string& bytes, const std::string& scratch_dir);

// The htsget id `oncomesh ingest vcf` printed for the one file it ingested ("…; htsget id ID"
// on the file's line; ids are keyed digests of the content, so this is how a test learns them),
// or "" when the output names none or several.
std::string HtsgetIdOfIngest(const std::string& ingest_output);

// Single-quotes `s` for sh.
std::string ShellQuote(const std::string& s);

}  // namespace oncomesh::testing
