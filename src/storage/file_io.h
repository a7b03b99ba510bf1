#pragma once
// FileIO: how meshwork reads and writes table files. Local filesystem now, object storage later;
// callers name files by paths relative to the warehouse root (or by URIs inside it).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace meshwork::storage {

struct FileInfo {
  /// Relative to the warehouse root, '/'-separated.
  std::string path;
  uint64_t size = 0;
  /// Last modification, microseconds since the epoch.
  int64_t modified_micros = 0;
};

struct WriteOptions {
  /// Fail with already_exists instead of replacing an existing file. Iceberg metadata and
  /// manifest files are immutable: a writer that loses a race must not overwrite the winner.
  bool create_only = false;
};

class FileIO {
 public:
  virtual ~FileIO() = default;

  /// "file", "s3", ...
  virtual std::string_view Scheme() const = 0;
  /// For messages: "local warehouse /srv/meshwork/warehouse".
  virtual std::string Describe() const = 0;

  virtual Result<std::string> ReadFile(std::string_view path) = 0;
  /// Up to `length` bytes from `offset`; fewer at the end of the file, none past it.
  virtual Result<std::string> ReadRange(std::string_view path, uint64_t offset,
                                        uint64_t length) = 0;
  /// Replaces (or, with create_only, creates) the file so that readers and a crash at any
  /// moment see either the complete old contents or the complete new ones. Creates parent
  /// directories.
  virtual Status WriteFileAtomic(std::string_view path, std::string_view contents,
                                 WriteOptions options = {}) = 0;
  /// Files whose path starts with `prefix` ("data/" or "data/part-"), recursively, sorted by
  /// path. Missing directories give an empty list.
  virtual Result<std::vector<FileInfo>> List(std::string_view prefix) = 0;
  /// not_found when the file does not exist.
  virtual Status Delete(std::string_view path) = 0;
  virtual Result<bool> Exists(std::string_view path) = 0;
  virtual Result<uint64_t> Size(std::string_view path) = 0;
  /// The absolute local path of a file, for readers that open files themselves (DuckDB).
  virtual Result<std::string> LocalPath(std::string_view path) = 0;
};

}  // namespace meshwork::storage
