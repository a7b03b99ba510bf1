#pragma once
// A FileIO decorator that gives remote files (S3) a local path: LocalPath() downloads the file
// into a bounded cache directory, once, and returns the cached copy, which DuckDB then reads.
// Every other method goes to the wrapped FileIO; writes and deletes through this object drop the
// cached copy of that path.
//
// - Verified: each LocalPath() looks the object up (size, and the ETag when the backend is S3)
//   and the cached file's name is derived from path + size + ETag, so a replaced object is never
//   served from an old copy; a download whose size differs from the lookup is refused, and a
//   ranged download looks the object up again at the end: parts of two versions (an object
//   replaced mid-download) are never kept.
// - Crash-safe: downloads go to a temp name inside the cache directory, are fsynced, then renamed;
//   a crash leaves only temp files, which Make() removes. A cached name is never a partial file.
// - Bounded: least recently used files are deleted once the cache exceeds max_bytes (one file
//   larger than the bound is still served, then evicted first).
// - Concurrent readers: one download per file at a time (others wait for it). Eviction unlinks
//   files, which readers that already opened them keep reading (POSIX); a reader that got a
//   path but opens it only after it was evicted fails with not_found, so size the cache well
//   above one query's working set.

#include <cstdint>
#include <memory>
#include <string>

#include "storage/file_io.h"

namespace meshwork::storage {

struct CacheOptions {
  /// The cache directory (created); meshwork must own it: unknown files in it are left alone,
  /// temp files of crashed downloads removed.
  std::string directory;
  uint64_t max_bytes = uint64_t{10} << 30;
  /// Files larger than one part are fetched as ranged reads of this size, `download_concurrency`
  /// at a time, written in place into the temp file (so memory holds a few parts, never the
  /// whole file); smaller ones in one read.
  uint64_t download_part_size = uint64_t{8} << 20;
  int download_concurrency = 4;
};

struct CacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;
  uint64_t bytes = 0;
  uint64_t files = 0;
  /// Ranged reads made by downloads (0 for files fetched in one read).
  uint64_t ranged_reads = 0;
};

class CachedFileIO final : public FileIO {
 public:
  /// invalid_argument for an empty directory or a zero bound; io_error if it cannot be created.
  static Result<std::unique_ptr<CachedFileIO>> Make(std::unique_ptr<FileIO> backend,
                                                    CacheOptions options);
  ~CachedFileIO() override;

  std::string_view Scheme() const override;
  std::string Describe() const override;

  Result<std::string> ReadFile(std::string_view path) override;
  Result<std::string> ReadRange(std::string_view path, uint64_t offset, uint64_t length) override;
  Status WriteFileAtomic(std::string_view path, std::string_view contents,
                         WriteOptions options = {}) override;
  Result<std::vector<FileInfo>> List(std::string_view prefix) override;
  Status Delete(std::string_view path) override;
  Result<bool> Exists(std::string_view path) override;
  Result<uint64_t> Size(std::string_view path) override;
  /// The cached local copy of `path`, downloaded first if needed. Errors of the backend's lookup
  /// and read (not_found, permission_denied, ...), io_error for the cache directory, and
  /// io_error when the downloaded size differs from the object's.
  Result<std::string> LocalPath(std::string_view path) override;

  CacheStats stats() const;
  FileIO& backend() { return *backend_; }

  class State;

 private:
  CachedFileIO(std::unique_ptr<FileIO> backend, std::unique_ptr<State> state);
  std::unique_ptr<FileIO> backend_;
  std::unique_ptr<State> state_;
};

}  // namespace meshwork::storage
