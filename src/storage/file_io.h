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

/// What identifies one version of a file: its size, and where the store has one a tag that
/// changes whenever the contents do (S3's ETag). Caches name their copies after it.
struct FileVersion {
  uint64_t size = 0;
  /// Empty where the backend has no such tag (local files: the size is all there is).
  std::string etag;
};

struct WriteOptions {
  /// Fail with already_exists instead of replacing an existing file. Iceberg metadata and
  /// manifest files are immutable: a writer that loses a race must not overwrite the winner.
  bool create_only = false;
};

/// Every method reports failure as a Status (never an exception) that names the path and the
/// warehouse, carries the system's reason, and has a hint. Codes: not_found (no such file),
/// already_exists (create_only lost), permission_denied (a path leaving the warehouse, or the OS
/// refused), invalid_argument (malformed path, other scheme, not a regular file), io_error.
/// Implementations are safe to call from several threads at once.
class FileIO {
 public:
  virtual ~FileIO() = default;

  /// "file", "s3", ...
  virtual std::string_view Scheme() const = 0;
  /// For messages: "local warehouse /srv/meshwork/warehouse".
  virtual std::string Describe() const = 0;

  /// The whole file. not_found if missing; invalid_argument for a directory or other
  /// non-regular file; permission_denied for a path outside the warehouse.
  virtual Result<std::string> ReadFile(std::string_view path) = 0;
  /// Up to `length` bytes from `offset`; fewer at the end of the file, and an empty string (not
  /// an error) at or past the end. Errors as ReadFile.
  virtual Result<std::string> ReadRange(std::string_view path, uint64_t offset,
                                        uint64_t length) = 0;
  /// Replaces (or, with create_only, creates) the file so that readers and a crash at any
  /// moment see either the complete old contents or the complete new ones; durable once it
  /// returns OK. Creates parent directories. already_exists when create_only finds the file (of
  /// concurrent creators exactly one wins); failed_precondition when a parent is a file.
  virtual Status WriteFileAtomic(std::string_view path, std::string_view contents,
                                 WriteOptions options = {}) = 0;
  /// Files whose path starts with `prefix` ("data/" or "data/part-"), recursively, sorted by
  /// path; "" lists everything. Missing directories give an empty list; an unreadable one is an
  /// error (never a silently partial list). Temp files of in-flight writes are not listed.
  virtual Result<std::vector<FileInfo>> List(std::string_view prefix) = 0;
  /// Deletes one file. not_found when it does not exist; invalid_argument for a directory.
  virtual Status Delete(std::string_view path) = 0;
  /// Whether a regular file exists at `path` (false also when a parent is missing). Errors for
  /// paths outside the warehouse and for directories.
  virtual Result<bool> Exists(std::string_view path) = 0;
  /// Size in bytes. Errors as ReadFile.
  virtual Result<uint64_t> Size(std::string_view path) = 0;
  /// Size plus the store's version tag (one HEAD on S3). Errors as ReadFile. The default has
  /// no tag: backends that have one override it.
  virtual Result<FileVersion> Version(std::string_view path) {
    MW_ASSIGN_OR_RETURN(uint64_t size, Size(path));
    return FileVersion{size, ""};
  }
  /// The absolute local path of a file (which need not exist yet), for readers that open files
  /// themselves (DuckDB). permission_denied for paths outside the warehouse or through a symlink.
  virtual Result<std::string> LocalPath(std::string_view path) = 0;
};

}  // namespace meshwork::storage
