// Normalisation of one VCF REF/ALT pair into the form the store keeps (model::Variant).
// Pure functions on strings, no htslib, so they are unit-tested on their own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace oncomesh::ingest::vcf_internal {

struct NormalizedAllele {
  int64_t position = 0;      // 1-based
  std::string ref;           // upper case, never empty
  std::string alt;           // upper case; symbolic alleles as written ("<DEL>")
  int64_t end = 0;           // last reference base covered, 1-based inclusive
  std::string variant_type;  // SNP, MNP, INS, DEL, INDEL, or the symbolic/breakend type
};

// Normalises the ALT allele `alt` of a record at 1-based `position` with reference allele
// `ref`. `info_end` is the record's INFO/END (0 when absent), used for symbolic alleles.
//
// Sequence alleles (the rules of `bcftools norm` restricted to the record, since the
// reference beyond it is not read):
//  1. upper-case both;
//  2. trim the shared suffix while both alleles are longer than one base — this shifts an
//     indel left as far as the record's REF allows (left alignment within the record);
//  3. trim the shared prefix while both alleles are longer than one base, moving the
//     position right — an indel keeps one anchor base (VCF convention), a SNP or MNP keeps
//     none of the shared bases;
//  4. type: SNP (1:1), MNP (n:n, n>1), INS (REF is ALT's first base), DEL (ALT is REF's first
//     base), INDEL otherwise (complex); end = position + len(REF) - 1.
// Symbolic alleles <DEL>, <DUP>, <INV>, <CNV>, <INS> (and subtypes such as <DUP:TANDEM>):
// kept as written, type = the first part of the name, end = INFO/END when given, else the
// last base of REF. Breakends (ALT with '[' or ']') have type BND and end = position.
//
// Returns nullopt for alleles that are not a variant: "." (no ALT), "*" (deletion spanning
// from another record), "<*>" and "<NON_REF>" (gVCF reference blocks), other symbolic
// alleles ("<X>"), and an ALT equal to REF.
std::optional<NormalizedAllele> NormalizeAllele(int64_t position, std::string_view ref,
                                                std::string_view alt, int64_t info_end);

// The node's chromosome name: "chr"/"Chr"/"CHR" prefix removed, "M" -> "MT"
// ("chr17" -> "17", "chrM" -> "MT", "GL000207.1" unchanged).
std::string CanonicalChromosome(std::string_view chrom);

}  // namespace oncomesh::ingest::vcf_internal
