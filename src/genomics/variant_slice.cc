#include "genomics/variant_slice.h"

#include <fcntl.h>
#include <htslib/bgzf.h>
#include <htslib/hts.h>
#include <htslib/tbx.h>
#include <htslib/vcf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <memory>

namespace oncomesh::genomics {
namespace {

constexpr int64_t kToEnd = std::numeric_limits<int64_t>::max();
constexpr int kBgzfMaxUncompressed = 0xff00;  // htslib's BGZF_BLOCK_SIZE
constexpr int kBgzfMaxBlock = 0x10000;        // BGZF_MAX_BLOCK_SIZE

struct HtsFileCloser {
  void operator()(htsFile* f) const { hts_close(f); }
};
struct HeaderDeleter {
  void operator()(bcf_hdr_t* h) const { bcf_hdr_destroy(h); }
};
struct RecordDeleter {
  void operator()(bcf1_t* r) const { bcf_destroy(r); }
};
struct TbxDeleter {
  void operator()(tbx_t* t) const { tbx_destroy(t); }
};
struct IdxDeleter {
  void operator()(hts_idx_t* i) const { hts_idx_destroy(i); }
};
struct ItrDeleter {
  void operator()(hts_itr_t* i) const { hts_itr_destroy(i); }
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

struct BlockInfo {
  int64_t compressed_size = 0;
  int64_t uncompressed_size = 0;
};

// Reads the sizes of the BGZF block at `offset` from its gzip header (BSIZE, in the "BC" extra
// subfield) and footer (ISIZE). htslib has no public call that reports a block's compressed size
// without decompressing it, so these two fields are read here (SAM spec 4.1); nothing else of
// the format is parsed by hand.
Result<BlockInfo> ReadBlockInfo(int fd, int64_t offset, int64_t file_size,
                                const std::string& path) {
  unsigned char head[12];
  auto corrupt = [&](const std::string& what) {
    return DataLoss(path + ": BGZF block at byte " + std::to_string(offset) + ": " + what);
  };
  if (pread(fd, head, sizeof head, offset) != static_cast<ssize_t>(sizeof head)) {
    return corrupt("truncated header");
  }
  if (head[0] != 0x1f || head[1] != 0x8b || head[2] != 8 || !(head[3] & 4)) {
    return corrupt("not a BGZF block");
  }
  const int xlen = head[10] | (head[11] << 8);
  std::string extra(static_cast<size_t>(xlen), '\0');
  if (pread(fd, extra.data(), extra.size(), offset + 12) != static_cast<ssize_t>(extra.size())) {
    return corrupt("truncated extra field");
  }
  int64_t bsize = -1;
  for (size_t i = 0; i + 4 <= extra.size();) {
    const auto* p = reinterpret_cast<const unsigned char*>(extra.data()) + i;
    const size_t slen = p[2] | (p[3] << 8);
    if (p[0] == 'B' && p[1] == 'C' && slen == 2 && i + 6 <= extra.size()) {
      bsize = p[4] | (p[5] << 8);
    }
    i += 4 + slen;
  }
  if (bsize < 0) return corrupt("no BSIZE subfield");
  const int64_t size = bsize + 1;
  if (offset + size > file_size || size < 12 + xlen + 8) return corrupt("block overruns the file");
  unsigned char isize[4];
  if (pread(fd, isize, 4, offset + size - 4) != 4) return corrupt("truncated footer");
  BlockInfo info;
  info.compressed_size = size;
  info.uncompressed_size = static_cast<int64_t>(isize[0]) | (static_cast<int64_t>(isize[1]) << 8) |
                           (static_cast<int64_t>(isize[2]) << 16) |
                           (static_cast<int64_t>(isize[3]) << 24);
  if (info.uncompressed_size > kBgzfMaxBlock) return corrupt("ISIZE over 64 KiB");
  return info;
}

// Collects parts: byte ranges of the stored file and re-encoded bytes, in response order.
class PartBuilder {
 public:
  explicit PartBuilder(const SliceOptions& options) : options_(options) {}

  Status AddRange(int64_t offset, int64_t length) {
    RETURN_IF_ERROR(FlushPending());
    if (!parts_.empty() && parts_.back().is_range() && !parts_.back().header &&
        parts_.back().file_offset + parts_.back().length == offset &&
        parts_.back().length + length <= options_.max_range_bytes) {
      parts_.back().length += length;
      return Status::Ok();
    }
    SlicePart part;
    part.file_offset = offset;
    part.length = length;
    parts_.push_back(std::move(part));
    return Status::Ok();
  }

  Status AddBytes(const std::string& uncompressed) {
    pending_ += uncompressed;
    if (static_cast<int64_t>(pending_.size()) >= options_.max_inline_bytes) return FlushPending();
    return Status::Ok();
  }

  // Compresses what AddBytes collected into BGZF blocks of their own, as one part.
  Status FlushPending(bool header = false) {
    if (pending_.empty()) return Status::Ok();
    SlicePart part;
    part.header = header;
    std::string block(kBgzfMaxBlock, '\0');
    for (size_t at = 0; at < pending_.size(); at += kBgzfMaxUncompressed) {
      const size_t n = std::min<size_t>(kBgzfMaxUncompressed, pending_.size() - at);
      size_t dlen = block.size();
      if (bgzf_compress(block.data(), &dlen, pending_.data() + at, n, 6) != 0) {
        return Internal("bgzf_compress failed");
      }
      part.bytes.append(block.data(), dlen);
    }
    pending_.clear();
    parts_.push_back(std::move(part));
    return Status::Ok();
  }

  // Ends the stream with the BGZF EOF block (appended to the last re-encoded part if any).
  std::vector<SlicePart> Finish(bool header_only) {
    if (!parts_.empty() && !parts_.back().is_range() && parts_.back().header == header_only) {
      parts_.back().bytes += BgzfEofBlock();
    } else {
      SlicePart eof;
      eof.header = header_only;
      eof.bytes = BgzfEofBlock();
      parts_.push_back(std::move(eof));
    }
    return std::move(parts_);
  }

 private:
  const SliceOptions& options_;
  std::vector<SlicePart> parts_;
  std::string pending_;
};

// An open file: htslib handle, header, index and the raw descriptor for block sizes.
struct OpenFile {
  std::string path;
  VariantFormat format = VariantFormat::kVcf;
  std::unique_ptr<htsFile, HtsFileCloser> fp;
  std::unique_ptr<bcf_hdr_t, HeaderDeleter> header;
  std::unique_ptr<tbx_t, TbxDeleter> tbx;        // VCF
  std::unique_ptr<hts_idx_t, IdxDeleter> index;  // BCF
  int64_t header_end = 0;                        // virtual offset of the first record
  std::unique_ptr<Fd> fd;
  int64_t file_size = 0;

  BGZF* bgzf() const { return fp->fp.bgzf; }
};

Result<OpenFile> Open(const std::string& path, bool need_index) {
  OpenFile f;
  f.path = path;
  ASSIGN_OR_RETURN(f.format, DetectVariantFormat(path));
  f.fp.reset(hts_open(path.c_str(), "r"));
  if (!f.fp) return NotFound(path + ": cannot open");
  f.header.reset(bcf_hdr_read(f.fp.get()));
  if (!f.header) return DataLoss(path + ": unreadable VCF/BCF header");
  f.header_end = bgzf_tell(f.bgzf());
  if (need_index) {
    if (f.format == VariantFormat::kVcf) {
      f.tbx.reset(tbx_index_load3(path.c_str(), nullptr, HTS_IDX_SILENT_FAIL));
      if (!f.tbx) return InvalidArgument(path + ": no tabix (.tbi) or .csi index");
    } else {
      f.index.reset(hts_idx_load3(path.c_str(), nullptr, HTS_FMT_CSI, HTS_IDX_SILENT_FAIL));
      if (!f.index) return InvalidArgument(path + ": no .csi index");
    }
  }
  f.fd = std::make_unique<Fd>(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  if (f.fd->get() < 0 || fstat(f.fd->get(), &st) != 0) return NotFound(path + ": cannot open");
  f.file_size = st.st_size;
  return f;
}

// A half-open run of consecutive records, as BGZF virtual offsets [begin, end).
struct Run {
  int64_t begin = 0;
  int64_t end = 0;
};

// Reads uncompressed bytes [lo, hi) of block `block` through htslib.
Result<std::string> ReadBlockBytes(const OpenFile& f, int64_t block, int64_t lo, int64_t hi) {
  std::string out(static_cast<size_t>(hi - lo), '\0');
  if (bgzf_seek(f.bgzf(), (block << 16) | lo, SEEK_SET) < 0 ||
      bgzf_read(f.bgzf(), out.data(), out.size()) != static_cast<ssize_t>(out.size())) {
    return DataLoss(f.path + ": cannot read BGZF block at byte " + std::to_string(block));
  }
  return out;
}

// Adds the bytes of `run` to the response: blocks wholly inside it as ranges of the stored file
// (when `verbatim` allows), the partial blocks at its edges re-encoded.
Status EmitRun(const OpenFile& f, const Run& run, bool verbatim, PartBuilder& out) {
  const int64_t last_block = run.end == kToEnd ? kToEnd : run.end >> 16;
  for (int64_t block = run.begin >> 16; block < f.file_size && block <= last_block;) {
    ASSIGN_OR_RETURN(BlockInfo info, ReadBlockInfo(f.fd->get(), block, f.file_size, f.path));
    const int64_t lo = block == run.begin >> 16 ? (run.begin & 0xffff) : 0;
    const int64_t hi = block == last_block ? std::min(run.end & 0xffff, info.uncompressed_size)
                                           : info.uncompressed_size;
    if (info.uncompressed_size > 0 && lo == 0 && hi == info.uncompressed_size && verbatim) {
      RETURN_IF_ERROR(out.AddRange(block, info.compressed_size));
    } else if (hi > lo) {
      ASSIGN_OR_RETURN(std::string bytes, ReadBlockBytes(f, block, lo, hi));
      RETURN_IF_ERROR(out.AddBytes(bytes));
    }
    block += info.compressed_size;
  }
  return Status::Ok();
}

std::unique_ptr<hts_itr_t, ItrDeleter> Query(const OpenFile& f, int tid, int64_t begin,
                                             int64_t end) {
  return std::unique_ptr<hts_itr_t, ItrDeleter>(
      f.format == VariantFormat::kVcf ? hts_itr_query(f.tbx->idx, tid, begin, end, tbx_readrec)
                                      : hts_itr_query(f.index.get(), tid, begin, end, bcf_readrec));
}

// The smallest virtual offset of the index's chunks for the query (max if none).
uint64_t FirstChunk(const hts_itr_t& itr) {
  uint64_t first = std::numeric_limits<uint64_t>::max();
  for (int i = 0; i < itr.n_off; ++i) first = std::min(first, itr.off[i].u);
  return first;
}

// A region resolved against the file: its order in the file and 0-based [begin, end).
struct ResolvedRegion {
  uint64_t order = 0;  // where the sequence's records start in the file
  int index_tid = -1;  // -1: the header names it but the index has no records on it
  std::string name;
  int64_t begin = 0;
  int64_t end = HTS_POS_MAX;
};

Result<std::vector<ResolvedRegion>> Resolve(const OpenFile& f,
                                            const std::vector<GenomicRegion>& regions) {
  std::vector<ResolvedRegion> out;
  for (const GenomicRegion& r : regions) {
    ResolvedRegion rr;
    rr.name = r.reference_name;
    rr.begin = r.start.value_or(0);
    rr.end = r.end.value_or(HTS_POS_MAX);
    if (rr.begin < 0 || rr.end < 0) return InvalidArgument("negative coordinate");
    if (rr.begin > rr.end) return InvalidArgument("start is greater than end");
    const int header_id = bcf_hdr_name2id(f.header.get(), rr.name.c_str());
    rr.index_tid =
        f.format == VariantFormat::kVcf ? tbx_name2id(f.tbx.get(), rr.name.c_str()) : header_id;
    if (rr.index_tid < 0 && header_id < 0) {
      return NotFound("reference '" + rr.name + "' is not in the file");
    }
    if (rr.index_tid < 0) continue;  // known sequence without records: nothing to serve
    // Sequences are ordered as the file holds them (the header's order need not be the file's),
    // so that regions are scanned front to back and each record is served once, in file order.
    auto whole = Query(f, rr.index_tid, 0, HTS_POS_MAX);
    if (!whole) return Internal(f.path + ": index query failed for " + rr.name);
    rr.order = FirstChunk(*whole);
    if (rr.begin == rr.end) continue;  // an empty range overlaps nothing
    out.push_back(std::move(rr));
  }
  std::sort(out.begin(), out.end(), [](const ResolvedRegion& a, const ResolvedRegion& b) {
    return a.order != b.order ? a.order < b.order : a.begin < b.begin;
  });
  // Overlapping or touching ranges on one sequence become one: records are served once.
  std::vector<ResolvedRegion> merged;
  for (ResolvedRegion& r : out) {
    if (!merged.empty() && merged.back().order == r.order && r.begin <= merged.back().end) {
      merged.back().end = std::max(merged.back().end, r.end);
    } else {
      merged.push_back(std::move(r));
    }
  }
  return merged;
}

// Rewrites a virtual offset at the very end of a block, (block, its length), as the equal
// position (next block, 0): htslib reports either form, and runs and the scan compare offsets.
class OffsetNormalizer {
 public:
  explicit OffsetNormalizer(const OpenFile& f) : f_(f) {}
  Result<int64_t> operator()(int64_t voffset) {
    const int64_t block = voffset >> 16, within = voffset & 0xffff;
    if (within == 0) return voffset;
    if (block != block_) {
      ASSIGN_OR_RETURN(info_, ReadBlockInfo(f_.fd->get(), block, f_.file_size, f_.path));
      block_ = block;
    }
    return within >= info_.uncompressed_size ? (block + info_.compressed_size) << 16 : voffset;
  }

 private:
  const OpenFile& f_;
  int64_t block_ = -1;
  BlockInfo info_;
};

// Decodes the records from the first index chunk of each region on, and returns the runs of
// consecutive records that overlap a region. `records` counts them.
Result<std::vector<Run>> OverlappingRuns(const OpenFile& f,
                                         const std::vector<ResolvedRegion>& regions,
                                         int64_t* records) {
  OffsetNormalizer normalize(f);
  std::vector<Run> runs;
  std::unique_ptr<bcf1_t, RecordDeleter> rec(bcf_init());
  int64_t scanned_until = 0;  // records before this were decoded for an earlier region
  for (const ResolvedRegion& region : regions) {
    auto itr = Query(f, region.index_tid, region.begin, region.end);
    if (!itr) return Internal(f.path + ": index query failed for " + region.name);
    if (itr->n_off == 0) continue;
    const uint64_t first = FirstChunk(*itr);
    if (bgzf_seek(f.bgzf(), static_cast<int64_t>(first), SEEK_SET) < 0) {
      return DataLoss(f.path + ": cannot seek to an indexed offset");
    }
    bool seen_sequence = false;
    int64_t stop = 0;
    for (;;) {
      ASSIGN_OR_RETURN(const int64_t begin, normalize(bgzf_tell(f.bgzf())));
      stop = begin;
      const int ret = bcf_read(f.fp.get(), f.header.get(), rec.get());
      if (ret == -1) break;  // end of file
      if (ret < -1) {
        return DataLoss(f.path + ": undecodable record at virtual offset " + std::to_string(begin));
      }
      ASSIGN_OR_RETURN(const int64_t end, normalize(bgzf_tell(f.bgzf())));
      stop = end;
      if (begin < scanned_until) continue;
      const char* name = bcf_hdr_id2name(f.header.get(), rec->rid);
      bool overlaps = false;
      if (name == region.name) {
        seen_sequence = true;
        if (rec->pos >= region.end) {
          stop = begin;  // may belong to the next region
          break;
        }
        overlaps = rec->pos + std::max<int64_t>(rec->rlen, 1) > region.begin;
      } else if (seen_sequence) {
        stop = begin;
        break;
      }
      if (!overlaps) continue;
      ++*records;
      if (!runs.empty() && runs.back().end == begin) {
        runs.back().end = end;
      } else {
        runs.push_back({begin, end});
      }
    }
    scanned_until = std::max(scanned_until, stop);
  }
  return runs;
}

}  // namespace

const char* VariantFormatName(VariantFormat format) {
  return format == VariantFormat::kBcf ? "BCF" : "VCF";
}

const std::string& BgzfEofBlock() {
  static const std::string eof(
      "\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00\x42\x43\x02\x00\x1b\x00\x03\x00\x00\x00"
      "\x00\x00\x00\x00\x00\x00",
      28);
  return eof;
}

Result<VariantFormat> DetectVariantFormat(const std::string& path) {
  std::unique_ptr<htsFile, HtsFileCloser> fp(hts_open(path.c_str(), "r"));
  if (!fp) return NotFound(path + ": cannot open");
  const htsFormat* fmt = hts_get_format(fp.get());
  if (fmt->compression != bgzf) {
    return InvalidArgument(path + ": not BGZF-compressed (bgzip it and index it)");
  }
  if (fmt->format == vcf) return VariantFormat::kVcf;
  if (fmt->format == bcf) return VariantFormat::kBcf;
  return InvalidArgument(path + ": neither VCF nor BCF");
}

Result<Slice> SliceVariantFile(const std::string& path, const SliceRequest& request,
                               const SliceOptions& options) {
  const bool whole_file = !request.header_only && request.regions.empty();
  ASSIGN_OR_RETURN(OpenFile f, Open(path, !request.header_only && !whole_file));
  Slice slice;
  slice.format = f.format;
  PartBuilder out(options);

  // The header, re-encoded into blocks of its own so that the header part ends on a block
  // boundary (htsget 1.3 "Avoiding re-fetching") and carries no record.
  RETURN_IF_ERROR(EmitRun(f, Run{0, f.header_end}, /*verbatim=*/false, out));
  RETURN_IF_ERROR(out.FlushPending(/*header=*/true));
  if (request.header_only) {
    slice.parts = out.Finish(/*header_only=*/true);
    return slice;
  }

  std::vector<Run> runs;
  if (whole_file) {
    runs.push_back({f.header_end, kToEnd});
  } else {
    ASSIGN_OR_RETURN(std::vector<ResolvedRegion> regions, Resolve(f, request.regions));
    slice.records = 0;
    ASSIGN_OR_RETURN(runs, OverlappingRuns(f, regions, &slice.records));
  }
  for (const Run& run : runs) RETURN_IF_ERROR(EmitRun(f, run, /*verbatim=*/true, out));
  RETURN_IF_ERROR(out.FlushPending());
  slice.parts = out.Finish(/*header_only=*/false);
  return slice;
}

}  // namespace oncomesh::genomics
