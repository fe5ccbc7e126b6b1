// Segment files: append-only files of large records (the variant blocks of the genomic
// ingest) kept beside a store's database, which holds one row per record naming its segment,
// offset, length and CRC-32.
//
// Why not BLOBs: SQLite writes every page of a BLOB twice (to the WAL, then to the database at
// the checkpoint) through its page cache. Ingesting 1,000,000 BCF records of 200 samples
// (40 MB of blocks) spent 0.45 s of 1.4 s there; a segment is written once, sequentially, and
// synced before the transaction that refers to it commits.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace oncomesh::store {

uint32_t Crc32(std::string_view data);

class SegmentWriter {
 public:
  // Creates (or truncates) `path`, and its directory if needed.
  static Result<std::unique_ptr<SegmentWriter>> Create(const std::string& path);
  ~SegmentWriter();
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  // Appends `data`; its offset in the file.
  Result<uint64_t> Append(std::string_view data);
  // Writes out what is buffered and waits until the file is on disk.
  Status Sync();
  const std::string& path() const { return path_; }

 private:
  SegmentWriter(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  Status Flush();

  std::string path_;
  int fd_;
  uint64_t size_ = 0;         // bytes appended
  uint64_t flushed_ = 0;      // bytes handed to the kernel
  uint64_t writeback_ = 0;    // bytes whose write-back to disk has been started
  std::vector<char> buffer_;  // not yet written
};

// Reads `length` bytes at `offset` of a segment file (kept open across calls on the same
// path) and checks their CRC-32. DataLoss naming the file when it is missing, too short, or
// the bytes differ from what was written.
class SegmentReader {
 public:
  SegmentReader() = default;
  ~SegmentReader();
  SegmentReader(const SegmentReader&) = delete;
  SegmentReader& operator=(const SegmentReader&) = delete;

  Status Read(const std::string& path, uint64_t offset, uint64_t length, uint32_t crc32,
              std::string* out);

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace oncomesh::store
