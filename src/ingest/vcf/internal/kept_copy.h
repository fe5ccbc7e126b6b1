// The node's de-identified, indexed copy of an ingested BGZF-compressed VCF or BCF file (for
// htsget), made without decompressing and re-compressing the data:
//
//  - the header is re-encoded with the de-identified text the caller gives;
//  - the rest of the BGZF block in which the header ends (the first records, when the writer
//    did not flush after the header) is re-encoded as a block of its own;
//  - every later block, to the end-of-file marker, is copied byte for byte.
//
// So a record's virtual offset in the copy is its offset in the source with the compressed
// part shifted by a constant (or, in the re-encoded block, the in-block part shifted), and the
// index (.tbi, or .csi when positions need it, for VCF; .csi for BCF) is built from the
// positions and offsets the ingest sees as it reads the source (Push), never by reading the
// copy back. The index is the one htslib's own indexer writes (hts_idx_*; the tabix meta data
// of tbx_conf_vcf with the contig names in order of first appearance for VCF).
//
// Push checks that records are sorted (the index needs it) so that the ingest can name the
// first record out of order. The bins are TBI's 16 kb, or for a large file of sparse records
// coarser CSI bins chosen from the density of its first 16,384 records. Copy and index are fsync'ed
// by Finish; the caller removes them (Remove) when the ingest does not commit.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "util/status.h"

typedef struct hts_idx_t hts_idx_t;

namespace oncomesh::ingest::vcf_internal {

class KeptCopy {
 public:
  // Rewrites one header line in place (without its line end); false leaves it out. For VCF
  // the lines are the file's; for BCF, those htslib formats from the header with IDX=, so
  // that the records' dictionary references stay valid.
  using HeaderFilter = std::function<bool(std::string& line)>;

  // Writes the whole copy of `src` (BGZF VCF or BCF) to `dst`; the index follows from Push
  // and Finish.
  static Result<std::unique_ptr<KeptCopy>> Write(const std::string& src, const std::string& dst,
                                                 bool is_bcf, const HeaderFilter& filter);
  ~KeptCopy();
  KeptCopy(const KeptCopy&) = delete;
  KeptCopy& operator=(const KeptCopy&) = delete;

  // Adds a record, in file order: its contig (BCF: the header's contig id; VCF: the CHROM
  // text), 0-based [begin, end) and the source's virtual offset just after it (bgzf_tell
  // after reading it). FailedPrecondition when the records are not sorted by position.
  Status Push(int bcf_rid, std::string_view chrom, int64_t begin, int64_t end,
              uint64_t src_end_offset);

  // Builds the index (.tbi for VCF; .csi for BCF, for sparse records, or when an end passes
  // 2^29) and saves it beside the copy; `src_final_offset` is the source's virtual offset after its
  // last record. Syncs the copy and the index to disk.
  Status Finish(uint64_t src_final_offset);

  // Removes the copy and its index (best effort).
  static void Remove(const std::string& dst);

 private:
  struct Entry {
    int tid;
    int64_t begin, end;
    uint64_t offset;  // in the copy
  };
  KeptCopy() = default;
  uint64_t MapOffset(uint64_t src_offset) const;

  std::string dst_;
  bool is_bcf_ = false;
  int bcf_contigs_ = 0;            // BCF: contig ids in the header
  int64_t max_contig_length_ = 0;  // the longest contig the header declares (0: none)
  // The source block in which the header ends and where in it the data starts; the copy's
  // blocks holding the rest of that block (if any); the shift of every later block.
  uint64_t header_block_ = 0;
  uint64_t data_start_ = 0;
  std::vector<uint64_t> rest_blocks_;
  int64_t shift_ = 0;
  uint64_t first_offset_ = 0;  // the copy's offset of its first record
  // The index: started when the first kSmallFile records have been pushed (or by Finish),
  // which are kept until then.
  Status StartIndex();
  Status PushToIndex(const Entry& e);
  hts_idx_t* idx_ = nullptr;
  int min_shift_ = 14;
  bool csi_ = false;
  std::vector<Entry> pending_;
  Entry last_{};
  int64_t records_ = 0;
  std::vector<std::string> contigs_;  // VCF: names in order of first appearance (the tids)
  std::unordered_map<std::string, int> contig_tids_;
  std::unordered_set<int> seen_;  // tids with records so far
  // Bases the records span: the finished contigs', and the current contig's [first, end).
  int64_t span_ = 0, run_first_ = 0, run_end_ = 0;
  int64_t max_end_ = 0;
  std::thread sync_;  // fsync of the copy, started by Write
  Status sync_status_ = Status::Ok();
};

}  // namespace oncomesh::ingest::vcf_internal
