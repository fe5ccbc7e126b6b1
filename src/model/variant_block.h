// How the node keeps genomic calls: a file's variants in blocks of a few thousand, each with its
// carriers as sample columns, encoded compactly (one store row per block, not one per call).
//
// A VCF of 200,000 sites and 100 samples has some 3 million calls; kept as one row each, the
// store's B-trees, not htslib's parser, set the ingest rate. Here a call is one to three bytes
// inside its block, and the sample columns are named once per file (VariantSample).
//
// Encoding (version 1), all integers LEB128 varints, signed ones zig-zag:
//   "OMVB" 0x01, assembly (length, bytes), variant count, then per variant:
//   chromosome (0: same as the previous variant; else length + 1, bytes),
//   position (signed delta from the previous variant's), end - position (signed),
//   ref (length, bytes), alt (length, bytes), type (a code for SNP/MNP/INS/DEL/INDEL, or 0
//   then length, bytes), carrier count, and per carrier
//   (column delta from the previous carrier's column + 1 for all but the first) << 3 |
//   somatic << 2 | zygosity.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "model/model.h"
#include "util/status.h"

namespace oncomesh::model {

// VariantSample, VariantCarrier and VariantBlock are in model/model.h.

class VariantBlockEncoder {
 public:
  explicit VariantBlockEncoder(std::string assembly);

  // Appends a variant (normalised, as model::Variant documents) and its carriers, in
  // increasing column order (a carrier whose column is not above the previous one's is left
  // out).
  void Add(std::string_view chrom, int64_t position, int64_t end, std::string_view ref,
           std::string_view alt, std::string_view variant_type,
           std::span<const VariantCarrier> carriers);

  uint32_t variants() const { return variants_; }
  size_t size_bytes() const { return body_.size(); }

  // The encoding of the variants added since the last Take(); starts a new block. The
  // first form writes it into `out`, reusing its memory (blocks are large, and fresh memory
  // costs page faults).
  void Take(std::string* out);
  std::string Take();

 private:
  std::string assembly_;
  std::string body_;
  uint32_t variants_ = 0;
  std::string last_chrom_;
  int64_t last_position_ = 0;
};

// Calls `fn` for each variant of an encoded block, in order, with its carriers. The variant
// has every field but `gene` (empty). DataLoss naming what is wrong when `data` is not a
// block (truncated, unknown version, columns out of order…).
Status DecodeVariantBlock(
    std::string_view data,
    const std::function<void(const Variant&, std::span<const VariantCarrier>)>& fn);

}  // namespace oncomesh::model
