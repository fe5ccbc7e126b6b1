#include "ingest/vcf/internal/kept_copy.h"

#include <fcntl.h>
#include <htslib/bgzf.h>
#include <htslib/hfile.h>
#include <htslib/hts.h>
#include <htslib/kstring.h>
#include <htslib/tbx.h>
#include <htslib/vcf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

namespace oncomesh::ingest::vcf_internal {
namespace {

namespace fs = std::filesystem;

// The BGZF end-of-file marker: an empty block (SAM/BAM specification, section 4.1.2).
constexpr char kEofMarker[28] = {
    '\x1f', '\x8b', '\x08', '\x04', 0,      0, 0, 0, 0, '\xff', '\x06', 0, 'B', 'C',
    '\x02', 0,      '\x1b', 0,      '\x03', 0, 0, 0, 0, 0,      0,      0, 0,   0};
constexpr int kCompressionLevel = 6;  // htslib's default for BGZF output
constexpr int kMinShift = 14;         // 16-kb bins, as tabix and `bcftools index` make them
constexpr int kMaxShift = 20;         // 1-Mb bins at most
constexpr int64_t kMinRecordsPerBin = 8;
constexpr int64_t kSmallFile = 16'384;  // records; a small file's index is small at any bin size
constexpr int64_t kTbiMaxPosition = int64_t{1} << 29;

std::string ErrnoText() { return std::strerror(errno); }

// A file read or written with POSIX calls, closed on destruction.
class File {
 public:
  File() = default;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Open(const std::string& path, int flags) {
    path_ = path;
    fd_ = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
    if (fd_ < 0) return Unavailable("cannot open " + path + ": " + ErrnoText());
    return Status::Ok();
  }
  int fd() const { return fd_; }
  uint64_t written() const { return written_; }

  Status Write(const void* data, size_t n) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      const ssize_t w = ::write(fd_, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return Unavailable("cannot write " + path_ + ": " + ErrnoText());
      p += w;
      n -= static_cast<size_t>(w);
      written_ += static_cast<uint64_t>(w);
    }
    return Status::Ok();
  }

  // Copies [from, from + n) of `in` to the end of this file.
  Status CopyFrom(const File& in, uint64_t from, uint64_t n) {
    auto in_off = static_cast<off_t>(from);
    while (n > 0) {
      const ssize_t c = ::copy_file_range(in.fd_, &in_off, fd_, nullptr, n, 0);
      if (c < 0 && errno == EINTR) continue;
      if (c < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL)) {
        return CopyByReading(in, static_cast<uint64_t>(in_off), n);
      }
      if (c <= 0)
        return Unavailable("cannot copy " + in.path_ + " to " + path_ + ": " + ErrnoText());
      n -= static_cast<uint64_t>(c);
      written_ += static_cast<uint64_t>(c);
    }
    return Status::Ok();
  }

  Status Sync() {
    if (::fsync(fd_) != 0) return Unavailable("cannot sync " + path_ + ": " + ErrnoText());
    return Status::Ok();
  }

 private:
  Status CopyByReading(const File& in, uint64_t from, uint64_t n) {
    std::vector<char> buf(1 << 20);
    while (n > 0) {
      const ssize_t r =
          ::pread(in.fd_, buf.data(), std::min<uint64_t>(n, buf.size()), static_cast<off_t>(from));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return Unavailable("cannot read " + in.path_ + ": " + ErrnoText());
      RETURN_IF_ERROR(Write(buf.data(), static_cast<size_t>(r)));
      from += static_cast<uint64_t>(r);
      n -= static_cast<uint64_t>(r);
    }
    return Status::Ok();
  }

  std::string path_;
  int fd_ = -1;
  uint64_t written_ = 0;
};

// Appends `data` to `out` as BGZF blocks of at most BGZF_BLOCK_SIZE bytes, as htslib writes
// them; returns each block's compressed offset in `blocks` (when given).
Status WriteBlocks(File& out, std::string_view data, std::vector<uint64_t>* blocks) {
  std::vector<char> block(BGZF_MAX_BLOCK_SIZE);
  for (size_t at = 0; at < data.size(); at += BGZF_BLOCK_SIZE) {
    const size_t n = std::min<size_t>(BGZF_BLOCK_SIZE, data.size() - at);
    size_t length = block.size();
    if (bgzf_compress(block.data(), &length, data.data() + at, n, kCompressionLevel) != 0) {
      return Internal("BGZF compression failed");
    }
    if (blocks != nullptr) blocks->push_back(out.written());
    RETURN_IF_ERROR(out.Write(block.data(), length));
  }
  return Status::Ok();
}

void AppendLines(std::string_view text, const KeptCopy::HeaderFilter& filter, std::string& out) {
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string line(text.substr(start, nl - start));
    start = nl + 1;
    while (!line.empty() && line.back() == '\0') line.pop_back();
    if (line.empty()) continue;
    if (filter(line)) {
      out += line;
      out += '\n';
    }
  }
}

void PutLe32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// The longest contig length the header declares (0 when none does).
int64_t LongestContig(const bcf_hdr_t* hdr) {
  int64_t longest = 0;
  for (int i = 0; i < hdr->n[BCF_DT_CTG]; ++i) {
    const bcf_idinfo_t* info = hdr->id[BCF_DT_CTG][i].val;
    if (info != nullptr) longest = std::max<int64_t>(longest, info->info[0]);
  }
  return longest;
}

struct BgzfCloser {
  void operator()(BGZF* f) const { bgzf_close(f); }
};

}  // namespace

Result<std::unique_ptr<KeptCopy>> KeptCopy::Write(const std::string& src, const std::string& dst,
                                                  bool is_bcf, const HeaderFilter& filter) {
  std::unique_ptr<KeptCopy> copy(new KeptCopy());
  copy->dst_ = dst;
  copy->is_bcf_ = is_bcf;

  // The copy's header and where the source's data starts.
  std::string header;
  uint64_t data_start = 0;
  if (is_bcf) {
    htsFile* in = hts_open(src.c_str(), "r");
    if (in == nullptr) return Unavailable("cannot reopen " + src);
    bcf_hdr_t* hdr = bcf_hdr_read(in);
    if (hdr == nullptr) {
      hts_close(in);
      return InvalidArgument("cannot reread the header of " + src);
    }
    data_start = static_cast<uint64_t>(bgzf_tell(in->fp.bgzf));
    copy->bcf_contigs_ = hdr->n[BCF_DT_CTG];
    copy->max_contig_length_ = LongestContig(hdr);
    kstring_t text = KS_INITIALIZE;
    const int formatted = bcf_hdr_format(hdr, 1, &text);
    bcf_hdr_destroy(hdr);
    hts_close(in);
    if (formatted != 0) {
      ks_free(&text);
      return Internal("bcf_hdr_format failed");
    }
    std::string lines;
    AppendLines(std::string_view(text.s, text.l), filter, lines);
    ks_free(&text);
    // BCF 2.2: magic, header text length (with its NUL), text, NUL.
    header = "BCF\x02\x02";
    PutLe32(header, static_cast<uint32_t>(lines.size() + 1));
    header += lines;
    header.push_back('\0');
  } else {
    std::unique_ptr<BGZF, BgzfCloser> in(bgzf_open(src.c_str(), "r"));
    if (!in) return Unavailable("cannot reopen " + src);
    std::string raw;  // the source's header, for its contig lengths
    kstring_t line = KS_INITIALIZE;
    for (;;) {
      data_start = static_cast<uint64_t>(bgzf_tell(in.get()));
      const int n = bgzf_getline(in.get(), '\n', &line);
      if (n < -1) {
        ks_free(&line);
        return InvalidArgument("cannot reread the header of " + src);
      }
      if (n < 0 || line.l == 0 || line.s[0] != '#') break;
      std::string text(line.s, line.l);
      raw.append(text).push_back('\n');
      if (filter(text)) {
        header += text;
        header += '\n';
      }
    }
    ks_free(&line);
    bcf_hdr_t* hdr = bcf_hdr_init("r");
    if (hdr != nullptr && bcf_hdr_parse(hdr, raw.data()) == 0) {
      copy->max_contig_length_ = LongestContig(hdr);
    }
    if (hdr != nullptr) bcf_hdr_destroy(hdr);
  }

  // The rest of the block the header ends in, and where the next block starts.
  copy->header_block_ = data_start >> 16;
  copy->data_start_ = data_start & 0xFFFF;
  std::string rest;
  uint64_t next_block = 0;
  {
    std::unique_ptr<BGZF, BgzfCloser> in(bgzf_open(src.c_str(), "r"));
    if (!in || bgzf_seek(in.get(), static_cast<int64_t>(data_start), SEEK_SET) < 0 ||
        bgzf_read_block(in.get()) < 0) {
      return InvalidArgument("cannot read " + src + " at the end of its header");
    }
    if (in->block_length > static_cast<int>(copy->data_start_)) {
      rest.assign(static_cast<const char*>(in->uncompressed_block) + copy->data_start_,
                  static_cast<size_t>(in->block_length) - copy->data_start_);
    }
    next_block = static_cast<uint64_t>(htell(in->fp));
  }

  File in, out;
  RETURN_IF_ERROR(in.Open(src, O_RDONLY));
  const off_t size = ::lseek(in.fd(), 0, SEEK_END);
  char tail[sizeof kEofMarker];
  if (size < static_cast<off_t>(sizeof kEofMarker) ||
      ::pread(in.fd(), tail, sizeof tail, size - static_cast<off_t>(sizeof tail)) !=
          static_cast<ssize_t>(sizeof tail) ||
      std::memcmp(tail, kEofMarker, sizeof tail) != 0) {
    return InvalidArgument(src + ": truncated bgzip file (the BGZF end-of-file marker is missing)");
  }
  std::error_code ec;
  fs::create_directories(fs::path(dst).parent_path(), ec);
  if (ec)
    return Unavailable("cannot create " + fs::path(dst).parent_path().string() + ": " +
                       ec.message());
  RETURN_IF_ERROR(out.Open(dst, O_WRONLY | O_CREAT | O_TRUNC));
  RETURN_IF_ERROR(WriteBlocks(out, header, nullptr));
  std::vector<uint64_t> rest_blocks;
  RETURN_IF_ERROR(WriteBlocks(out, rest, &rest_blocks));
  copy->rest_blocks_ = std::move(rest_blocks);
  copy->shift_ = static_cast<int64_t>(out.written()) - static_cast<int64_t>(next_block);
  if (static_cast<uint64_t>(size) > next_block) {
    RETURN_IF_ERROR(out.CopyFrom(in, next_block, static_cast<uint64_t>(size) - next_block));
  } else {
    RETURN_IF_ERROR(out.Write(kEofMarker, sizeof kEofMarker));  // the header's block was the last
  }
  copy->first_offset_ = copy->MapOffset(data_start);
  // The copy goes to disk while the ingest reads the records; Finish waits for it.
  copy->sync_ = std::thread([c = copy.get()] {
    File f;
    c->sync_status_ = f.Open(c->dst_, O_RDONLY);
    if (c->sync_status_.ok()) c->sync_status_ = f.Sync();
  });
  return copy;
}

uint64_t KeptCopy::MapOffset(uint64_t src_offset) const {
  const uint64_t block = src_offset >> 16, in_block = src_offset & 0xFFFF;
  if (block != header_block_) return (block + static_cast<uint64_t>(shift_)) << 16 | in_block;
  if (rest_blocks_.empty() || in_block < data_start_) {
    return (header_block_ + 1 + static_cast<uint64_t>(shift_)) << 16;  // nothing of it was data
  }
  const uint64_t at = in_block - data_start_;
  const size_t piece = std::min<size_t>(at / BGZF_BLOCK_SIZE, rest_blocks_.size() - 1);
  return rest_blocks_[piece] << 16 | (at - piece * BGZF_BLOCK_SIZE);
}

Status KeptCopy::Push(int bcf_rid, std::string_view chrom, int64_t begin, int64_t end,
                      uint64_t src_end_offset) {
  int tid;
  if (is_bcf_) {
    tid = bcf_rid;
  } else if (!contigs_.empty() && chrom == contigs_[static_cast<size_t>(last_.tid)]) {
    tid = last_.tid;
  } else {
    const auto [it, added] =
        contig_tids_.try_emplace(std::string(chrom), static_cast<int>(contigs_.size()));
    if (added) contigs_.emplace_back(chrom);
    tid = it->second;
  }
  if (records_ > 0) {
    if (tid == last_.tid && begin < last_.begin) {
      return FailedPrecondition("records are not sorted by position (" + std::to_string(begin + 1) +
                                " after " + std::to_string(last_.begin + 1) +
                                "); 'bcftools sort' sorts them");
    }
    if (tid != last_.tid && seen_.count(tid)) {
      return FailedPrecondition("records of contig '" + std::string(chrom) +
                                "' are not all together (the contig appears again after another); "
                                "'bcftools sort' sorts them");
    }
  }
  end = std::max(end, begin + 1);
  if (records_ == 0 || tid != last_.tid) {
    seen_.insert(tid);
    span_ += run_end_ - run_first_;  // the finished contig's
    run_first_ = begin;
    run_end_ = end;
  }
  run_end_ = std::max(run_end_, end);
  max_end_ = std::max(max_end_, end);
  last_ = {tid, begin, end, MapOffset(src_end_offset)};
  ++records_;
  if (idx_ != nullptr) return PushToIndex(last_);
  if (pending_.empty()) pending_.reserve(kSmallFile);
  pending_.push_back(last_);
  if (static_cast<int64_t>(pending_.size()) < kSmallFile) return Status::Ok();
  // A large file: choose the bins from the records so far and index from here on as they come.
  RETURN_IF_ERROR(StartIndex());
  for (const Entry& e : pending_) RETURN_IF_ERROR(PushToIndex(e));
  std::vector<Entry>().swap(pending_);
  return Status::Ok();
}

Status KeptCopy::PushToIndex(const Entry& e) {
  if (hts_idx_push(idx_, e.tid, e.begin, e.end, e.offset, 1) != 0) {
    return Internal("cannot index " + dst_ + " (hts_idx_push failed at position " +
                    std::to_string(e.begin + 1) + ")");
  }
  return Status::Ok();
}

// Bins of 2^14 bases (TBI's, and `bcftools index`'s default) unless the file is large and its
// records sparse: then the smallest bins that hold some kMinRecordsPerBin records each on
// average over the records so far (a CSI), so that the index does not outgrow the data.
// 200,000 records over a genome took a 4-MB index at 2^14, a fifth of the ingest's time to
// compress. TBI for VCF when it can hold every position the header's contigs allow.
Status KeptCopy::StartIndex() {
  const int64_t records = records_;
  const int64_t span = span_ + run_end_ - run_first_;
  min_shift_ = kMinShift;
  while (records >= kSmallFile && min_shift_ < kMaxShift &&
         (span >> min_shift_) * kMinRecordsPerBin > records) {
    ++min_shift_;
  }
  const int64_t longest = std::max(max_contig_length_, max_end_);
  csi_ = is_bcf_ || min_shift_ != kMinShift || longest >= kTbiMaxPosition ||
         (records >= kSmallFile && max_contig_length_ == 0);
  int n_lvls = 5;  // TBI's fixed depth
  if (csi_) {
    // As htslib's indexers size a CSI: enough levels for the longest contig (or record).
    const int64_t max_length = (max_contig_length_ > 0 ? longest : int64_t{1} << 31) + 256;
    n_lvls = 0;
    for (int64_t s = int64_t{1} << min_shift_; max_length > s; s <<= 3) ++n_lvls;
  }
  const int n = is_bcf_ ? bcf_contigs_ : 0;  // TBI/CSI grow as contigs appear
  idx_ = hts_idx_init(n, csi_ ? HTS_FMT_CSI : HTS_FMT_TBI, first_offset_, min_shift_, n_lvls);
  if (idx_ == nullptr) return Internal("cannot make an index for " + dst_);
  return Status::Ok();
}

KeptCopy::~KeptCopy() {
  if (sync_.joinable()) sync_.join();
  if (idx_ != nullptr) hts_idx_destroy(idx_);
}

Status KeptCopy::Finish(uint64_t src_final_offset) {
  if (idx_ == nullptr) {
    RETURN_IF_ERROR(StartIndex());
    for (const Entry& e : pending_) RETURN_IF_ERROR(PushToIndex(e));
    std::vector<Entry>().swap(pending_);
  }
  hts_idx_t* idx = idx_;
  const bool csi = csi_;
  const int fmt = csi ? HTS_FMT_CSI : HTS_FMT_TBI;
  Status status = Status::Ok();
  if (status.ok() && hts_idx_finish(idx, MapOffset(src_final_offset)) != 0) {
    status = Internal("cannot finish the index of " + dst_);
  }
  if (status.ok() && !is_bcf_) {
    // Tabix meta data (tbx_conf_vcf, then the contig names by tid), which tabix and htslib's
    // tbx_index_load read back.
    std::string meta(reinterpret_cast<const char*>(&tbx_conf_vcf), sizeof(tbx_conf_t));
    std::string names;
    for (const std::string& c : contigs_) {
      names += c;
      names.push_back('\0');
    }
    PutLe32(meta, static_cast<uint32_t>(names.size()));
    meta += names;
    if (hts_idx_set_meta(idx, static_cast<uint32_t>(meta.size()),
                         reinterpret_cast<uint8_t*>(meta.data()), 1) != 0) {
      status = Internal("cannot set the tabix meta data of " + dst_);
    }
  }
  if (status.ok() && hts_idx_save_as(idx, dst_.c_str(), nullptr, fmt) != 0) {
    status = Unavailable("cannot write the index of " + dst_);
  }
  hts_idx_destroy(idx);
  idx_ = nullptr;
  RETURN_IF_ERROR(status);
  {
    File f;
    RETURN_IF_ERROR(f.Open(dst_ + (csi ? ".csi" : ".tbi"), O_RDONLY));
    RETURN_IF_ERROR(f.Sync());
  }
  if (sync_.joinable()) sync_.join();
  RETURN_IF_ERROR(sync_status_);
  // Only one of the two kinds stays: an older one of the other kind would be read instead.
  std::error_code ec;
  fs::remove(dst_ + (csi ? ".tbi" : ".csi"), ec);
  return Status::Ok();
}

void KeptCopy::Remove(const std::string& dst) {
  std::error_code ec;
  for (const char* ext : {"", ".tbi", ".csi"}) fs::remove(dst + ext, ec);
}

}  // namespace oncomesh::ingest::vcf_internal
