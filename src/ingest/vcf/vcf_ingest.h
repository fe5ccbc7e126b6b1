// VCF/BCF ingest: VCF (plain, gzip or bgzip) and BCF files, read with htslib -> normalised
// variants and per-sample calls -> the node's store, plus a kept, indexed copy for htsget.
//
// Guarantees (ARCHITECTURE.md, "ingest"), as for the FHIR ingest:
//  - each file goes in whole or not at all: one store transaction per file, records streamed
//    into it in chunks; any error rolls it back and leaves NODE_DIR/variants unchanged;
//  - re-ingesting the same content adds nothing (file content hash); the same variant or
//    the same sample's call from two files is one in the index (variant ids are their
//    normalised coordinates);
//  - a malformed record, a truncated bgzip file, a record on a contig the header does not
//    declare (when it declares any), a REF that does not match the configured reference, or a
//    file that is not VCF/BCF fails that file with an error naming the file, the line (VCF) or
//    the record number and CHROM:POS (BCF), and the reason; other files are still ingested.
//
// What is stored, per file:
//  - every ALT allele of every record as a variant (multi-allelic records are split),
//    normalised as vcf_internal::NormalizeAllele documents (trimmed, left-aligned within the
//    record, anchor base kept for indels; symbolic <DEL>/<DUP>/<INV>/<CNV>/<INS> with END),
//    on the file's assembly, chromosome names without "chr" and with "MT" for the mitochondrion;
//    with its carriers: the linked sample columns holding one or more copies of the allele in
//    GT, heterozygous when the genotype also holds another allele or a missing one, homozygous
//    when every allele of a diploid (or polyploid) genotype is this one, hemizygous for a
//    haploid genotype. Missing and reference genotypes carry nothing; records without GT have
//    no carriers. Variants and carriers go into model::VariantBlock rows of up to 8,192
//    variants (model/variant_block.h), the linked sample columns into model::VariantSample
//    rows (column, individual id, biosample id).
//  - one model::Biosample per linked sample (tumour flag).
//  - one model::VariantFile: the file kept at NODE_DIR/variants/<sha256>.vcf.gz (BGZF) or
//    NODE_DIR/variants/<sha256>.bcf, with a .tbi or .csi index. The copy is de-identified: its
//    sample columns are named by the samples' pseudonyms (the biosample ids; for unlinked
//    samples Pseudonym("VcfSample", "\0" + name)), ##tumor_sample/##normal_sample name those
//    pseudonyms, and ##SAMPLE lines and command-line provenance lines (##*Command*) are left
//    out; every data line is kept as it is (VCF text byte for byte, BCF record for record).
//    From BGZF input the data blocks are copied as they are and the index is built from the
//    records as they are read (vcf_internal::KeptCopy); plain or gzip VCF and uncompressed
//    BCF are compressed and indexed after the read. Its id (the htsget id) is
//    Pseudonym("VariantFile", <sha256>): a keyed digest of the content, never the file's name
//    (a name can identify a person: candig-NA18537.vcf.gz); FileOutcome::served_as tells it,
//    and `ingest vcf` prints it. The store records the file as "(name withheld) vcf|bcf".
//    <sha256> is that of the input bytes. The copy is written before the commit and removed
//    if the commit does not happen.
//
// Samples -> individuals. With VcfIngestOptions::samples_map, a tab-separated file
// "vcf_sample<TAB>patient_id[<TAB>biosample_id]" ('#' comments, blank lines and a first line
// starting "vcf_sample" are skipped) names each sample's patient as the source system knows
// it; samples not listed are unlinked. Without it, a sample's name is its patient id. The
// individual id is deid::Pseudonymizer::IndividualPseudonym(patient id): the same function the
// FHIR ingest uses for Patient.id, so a sample named after a FHIR Patient links to that
// patient's clinical records. A sample whose individual is not in the store yet is kept all the
// same (its sample column, biosample and calls, linked by that pseudonym) and reported, with its
// calls, in IngestReport::skipped_unresolved_subjects; it counts (index, htsget datasets) once
// the individual is ingested, by FHIR, with no second VCF ingest. strict_references refuses
// such a file instead. A sample with no patient id (not in the samples map) links to no one:
// its calls are kept in the blocks but no sample row names an individual for them. A sample's
// biosample id is Pseudonym("Specimen", biosample_id) when the map gives one (the FHIR Specimen's
// pseudonym), else Pseudonym("VcfSample", patient + sample name).
//
// Somatic calls. A call is VariantOrigin::kSomatic when its sample is the file's tumour sample,
// or when its record has the INFO/SOMATIC flag and its sample is not the file's normal sample;
// every other call is germline. The tumour (and normal) sample is, in this order:
//  1. named by ##tumor_sample= / ##normal_sample= (GATK Mutect2; "tumour" also accepted);
//  2. a ##SAMPLE=<ID=...> line whose other fields mention tumor/tumour/cancer (tumour) or
//     normal/germline (normal), as VCF 4.3 section 1.4.8 examples do (Genomes=Germline;Tumor);
//  3. in a file of two samples, by name: one named TUMOR/TUMOUR or ending in _tumor/_tumour
//     (or -, .) and the other NORMAL or ending in _normal (CanDIG's sample_tumour and
//     sample_normal, Strelka's TUMOR and NORMAL).
//
// Assembly: VcfIngestOptions::assembly, else the header (##reference, ##assembly or a
// ##contig's assembly= mentioning GRCh37/hg19/b37/hs37 or GRCh38/hg38/b38/hs38), else the
// length of contig 1/chr1 (249250621: GRCh37, 248956422: GRCh38); otherwise the file is
// refused with a message asking for --assembly. A declared contig-1 length that contradicts
// the assembly given or found is refused too.
//
// REF check: with a reference FASTA (options, or the node's genomics.reference_fasta), each
// record's REF must equal the reference there (case-insensitive; N in REF matches any base),
// else "FILE:LINE: REF 'X' does not match the reference at CHROM:POS ('Y')". The .fai index is
// built beside the FASTA if missing. Contig names are looked up as written, then with or
// without "chr" (and M/MT).
#pragma once

#include <string>
#include <vector>

#include "ingest/ingest_report.h"
#include "node/node_dir.h"
#include "store/store.h"
#include "util/status.h"

namespace oncomesh::ingest {

struct VcfIngestOptions {
  ProgressFn progress;
  std::string assembly;         // "GRCh37" or "GRCh38"; empty: found from each file
  std::string samples_map;      // path of the sample -> patient map; empty: names are ids
  std::string reference_fasta;  // empty: the node's genomics.reference_fasta, if any
  // Refuse a file with a sample whose individual is not in the store (default: leave the
  // sample out and report it).
  bool strict_references = false;
  // For a file ingested before (same content): link its sample columns that are not linked
  // yet and now name a patient (a samples map given now), instead of adding nothing. Samples
  // whose patient was only missing from the store need no relink: they link when the patient
  // is ingested.
  bool relink = false;
};

// Ingests each file (VCF, .vcf.gz, BCF). Returns an error only when nothing could be
// attempted: a path that does not exist, an unusable samples map (naming its line), an
// assembly other than GRCh37/GRCh38, a reference FASTA that cannot be opened. Per-file
// failures are in the report (FileOutcome::resources counts VCF records). Not thread-safe on
// one `store`.
//
// It first removes what an interrupted ingest left (SweepVariantLeftovers), then holds
// NODE/variants.lock shared while it writes kept copies.
Result<IngestReport> IngestVcf(const node::NodeDir& node, store::Store& store,
                               const std::vector<std::string>& paths,
                               const VcfIngestOptions& options);

// Removes the kept copies and indexes under NODE/variants/ that no stored variant file names
// (an ingest killed before its commit writes a whole pseudonymised copy first), unless a VCF
// ingest is running (node/leftovers.h). The number of files removed.
Result<int64_t> SweepVariantLeftovers(const node::NodeDir& node, store::Store& store);

}  // namespace oncomesh::ingest
