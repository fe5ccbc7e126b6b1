// The genomic part of the cohort index: every variant the node's individuals carry, sorted by
// position per assembly and chromosome, with its carriers as postings over the same rows as
// the clinical postings ("carrier bitmaps"), so that a Beacon variant query becomes one more
// operand of a plan: carriers of the matching variants AND diagnosis AND sex…
//
// Variants are annotated at build time with the gene whose span holds them and, when they are
// a known cancer variant, its protein change and HGVS forms (genomics/reference.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "index/posting.h"
#include "model/model.h"
#include "util/status.h"

namespace oncomesh::index {

// A Beacon v2 g_variant request, parsed and resolved (query/variant_request.h). Positions are
// 0-based as Beacon sends them: start inclusive, end exclusive.
struct VariantQuery {
  std::string assembly;  // "GRCh37"/"GRCh38"; empty: whatever the data is on
  std::string chrom;     // normalised ("17"); empty for gene-only, HGVS-only and protein queries
  std::optional<int64_t> start, start_max;  // two values: a bracket query's start range
  std::optional<int64_t> end, end_max;      // two values: a bracket query's end range
  std::string reference_bases;              // "" = any; "N" matches any base
  std::string alternate_bases;
  std::string variant_type;      // "SNP", "DEL", "INS", "INDEL", "MNP", or a symbolic type
  std::string gene;              // HGNC symbol
  std::string aminoacid_change;  // "V600E" (or "p.Val600Glu")
  std::string hgvs;              // genomicAlleleShortForm
  std::optional<int64_t> min_length, max_length;

  bool empty() const;
};

class VariantIndex {
 public:
  struct Call {
    uint32_t row;        // the carrier's row
    uint32_t biosample;  // index into biosample_ids()
    model::Zygosity zygosity;
    model::VariantOrigin origin;
  };
  struct Entry {
    model::Variant variant;  // with `gene` filled in from the gene table when empty
    int64_t start0 = 0;      // 0-based start (position - 1)
    int64_t end0 = 0;        // 0-based exclusive end (== variant.end)
    std::string protein;     // "V600E" for known variants, else empty
    std::string hgvs_p, hgvs_c;
    std::string
        hgvs_g;        // "NC_000007.14:g.140753336A>T"; empty when the chromosome has no accession
    Posting carriers;  // rows with at least one copy
    std::vector<Call> calls;  // by row
  };

  // Building (IndexBuilder): variants, then calls with the carrier's row; then Finish.
  // AddVariant returns the variant's handle for AddCall (the same id twice is one variant).
  uint32_t AddVariant(const model::Variant& v);
  uint32_t BiosampleHandle(const std::string& biosample_id);
  void AddCall(uint32_t variant, const Call& call);
  // By variant id; false when the call's variant is unknown (the call is then ignored).
  bool AddCall(uint32_t row, const model::VariantCall& call);
  void Finish(uint32_t num_chunks);

  size_t size() const { return entries_.size(); }
  const Entry& entry(uint32_t i) const { return entries_[i]; }
  const std::string& biosample_id(uint32_t i) const { return biosample_ids_[i]; }
  // Assemblies the node has variants on.
  std::vector<std::string> assemblies() const;

  // Variants matching the query, in position order. InvalidArgument when the query cannot be
  // answered as asked (a gene the table has no span for on the data's assembly, an unknown
  // RefSeq accession…), naming the parameter.
  Result<std::vector<uint32_t>> Match(const VariantQuery& q) const;

  // The rows carrying at least one of `variants`.
  std::shared_ptr<const Posting> Carriers(const std::vector<uint32_t>& variants,
                                          uint32_t num_chunks) const;

  size_t SizeInBytes() const;

 private:
  bool Matches(const Entry& e, const VariantQuery& q) const;

  std::vector<Entry> entries_;  // sorted by (assembly, chrom, start0) at Finish
  std::unordered_map<std::string, uint32_t> by_id_;  // variant id -> handle; until Finish
  std::unordered_map<std::string, uint32_t> biosample_index_;
  std::vector<std::string> biosample_ids_;
  std::vector<std::vector<Call>> pending_calls_;  // per insertion index, until Finish
  // (assembly, chrom) -> [first, last) entry range; and the longest variant there.
  struct Contig {
    uint32_t first = 0, last = 0;
    int64_t max_length = 0;
  };
  std::map<std::pair<std::string, std::string>, Contig> contigs_;
};

}  // namespace oncomesh::index
