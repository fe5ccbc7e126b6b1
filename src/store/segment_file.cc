#include "store/segment_file.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace oncomesh::store {
namespace {

constexpr size_t kBufferBytes = 256 * 1024;
// Write-back to disk is started every few MB, so that Sync() finds little left to write.
constexpr uint64_t kWritebackBytes = uint64_t{8} << 20;

std::string ErrnoText() { return std::strerror(errno); }

}  // namespace

uint32_t Crc32(std::string_view data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes lengths as uInt: feed large data in pieces.
  while (!data.empty()) {
    const size_t n = std::min<size_t>(data.size(), 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(n));
    data.remove_prefix(n);
  }
  return static_cast<uint32_t>(crc);
}

Result<std::unique_ptr<SegmentWriter>> SegmentWriter::Create(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) return Unavailable("store: cannot create the folder of " + path + ": " + ec.message());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Unavailable("store: cannot create " + path + ": " + ErrnoText());
  std::unique_ptr<SegmentWriter> w(new SegmentWriter(path, fd));
  w->buffer_.reserve(kBufferBytes);
  return w;
}

SegmentWriter::~SegmentWriter() { ::close(fd_); }

Result<uint64_t> SegmentWriter::Append(std::string_view data) {
  const uint64_t offset = size_;
  if (buffer_.size() + data.size() > kBufferBytes) RETURN_IF_ERROR(Flush());
  if (data.size() >= kBufferBytes) {
    buffer_.assign(data.begin(), data.end());  // rare: a record larger than the buffer
    RETURN_IF_ERROR(Flush());
  } else {
    buffer_.insert(buffer_.end(), data.begin(), data.end());
  }
  size_ += data.size();
  return offset;
}

Status SegmentWriter::Flush() {
  const char* p = buffer_.data();
  size_t n = buffer_.size();
  while (n > 0) {
    const ssize_t w = ::write(fd_, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return Unavailable("store: cannot write " + path_ + ": " + ErrnoText());
    p += w;
    n -= static_cast<size_t>(w);
  }
  flushed_ += buffer_.size();
  buffer_.clear();
  if (flushed_ - writeback_ >= kWritebackBytes) {
    // Best effort (Linux): start writing what is flushed; Sync() waits for it.
    (void)::sync_file_range(fd_, static_cast<off_t>(writeback_),
                            static_cast<off_t>(flushed_ - writeback_), SYNC_FILE_RANGE_WRITE);
    writeback_ = flushed_;
  }
  return Status::Ok();
}

Status SegmentWriter::Sync() {
  RETURN_IF_ERROR(Flush());
  if (::fdatasync(fd_) != 0) return Unavailable("store: cannot sync " + path_ + ": " + ErrnoText());
  return Status::Ok();
}

SegmentReader::~SegmentReader() {
  if (fd_ >= 0) ::close(fd_);
}

Status SegmentReader::Read(const std::string& path, uint64_t offset, uint64_t length,
                           uint32_t crc32, std::string* out) {
  if (path != path_ || fd_ < 0) {
    if (fd_ >= 0) ::close(fd_);
    path_ = path;
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return DataLoss("store: segment file " + path + " cannot be read: " + ErrnoText());
  }
  out->resize(length);
  size_t done = 0;
  while (done < length) {
    const ssize_t r =
        ::pread(fd_, out->data() + done, length - done, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return DataLoss("store: reading segment file " + path + " failed: " + ErrnoText());
    if (r == 0) {
      return DataLoss("store: segment file " + path + " is shorter than the store says (" +
                      std::to_string(length) + " bytes at " + std::to_string(offset) + ")");
    }
    done += static_cast<size_t>(r);
  }
  if (Crc32(*out) != crc32) {
    return DataLoss("store: segment file " + path + ": the " + std::to_string(length) +
                    " bytes at " + std::to_string(offset) + " are not the ones written (CRC-32)");
  }
  return Status::Ok();
}

}  // namespace oncomesh::store
