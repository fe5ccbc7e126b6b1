// Slices of an indexed variant file (bgzipped VCF with .tbi/.csi, or BCF with .csi) as the
// parts of a GA4GH htsget 1.3 response: concatenated in order, the parts are a valid BGZF
// file holding the header and exactly the records that overlap the requested regions.
//
// Why not whole BGZF blocks: a block usually holds records on both sides of a region edge, and
// handing it out leaks the neighbours (umccr/htsget-rs issue 238). Here only blocks whose every
// byte belongs to records that overlap a requested region (checked by decoding each record with
// htslib, since a long deletion can overlap a region while records after it do not) are served
// as byte ranges of the stored file; everything else in a response is re-encoded from only the
// overlapping records' bytes.
//
// Overlap follows htslib (hts_itr_query, `bcftools view -r`): a record [POS-1, POS-1+rlen)
// overlaps [start, end) if it starts before `end` and ends after `start`; rlen is REF's length
// or INFO/END's span, at least 1.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace oncomesh::genomics {

enum class VariantFormat { kVcf, kBcf };
const char* VariantFormatName(VariantFormat format);  // "VCF", "BCF" (htsget spelling)

// One requested region: a reference sequence and an optional 0-based, end-exclusive range.
struct GenomicRegion {
  std::string reference_name;
  std::optional<int64_t> start;  // absent: from the beginning
  std::optional<int64_t> end;    // absent: to the end
};

struct SliceRequest {
  bool header_only = false;            // htsget class=header
  std::vector<GenomicRegion> regions;  // empty (and not header_only): the whole file
};

// One part of a response: either bytes made here (re-encoded BGZF blocks) or a byte range of
// the stored file (whole BGZF blocks).
struct SlicePart {
  bool header = false;       // htsget class "header" (else "body")
  std::string bytes;         // re-encoded BGZF blocks, when !is_range()
  int64_t file_offset = -1;  // >= 0: a range of the stored file
  int64_t length = 0;        // of the range

  bool is_range() const { return file_offset >= 0; }
  int64_t size() const { return is_range() ? length : static_cast<int64_t>(bytes.size()); }
};

struct SliceOptions {
  int64_t max_range_bytes = 16 << 20;  // byte-range parts are split at block boundaries
  int64_t max_inline_bytes = 1 << 20;  // re-encoded parts are split above this (uncompressed)
};

struct Slice {
  VariantFormat format = VariantFormat::kVcf;
  std::vector<SlicePart> parts;  // header parts first; the last part ends with the BGZF EOF block
  int64_t records = -1;          // records served; -1 for whole-file requests (not counted)
};

// The format of the file at `path` (BGZF-compressed VCF or BCF); InvalidArgument otherwise.
Result<VariantFormat> DetectVariantFormat(const std::string& path);

// Computes the parts for `request` on the indexed file at `path`. Errors: NotFound for a
// reference name neither the header nor the index knows; InvalidArgument for a region with
// start > end, a file that is not BGZF VCF/BCF, or a missing index; DataLoss for a corrupt
// file. Thread-safe (opens its own handles); reads the file, never writes.
Result<Slice> SliceVariantFile(const std::string& path, const SliceRequest& request,
                               const SliceOptions& options = {});

// The 28-byte empty BGZF block that ends every BGZF file (SAM spec 4.1.2).
const std::string& BgzfEofBlock();

}  // namespace oncomesh::genomics
