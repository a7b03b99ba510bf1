#pragma once
// FileIO over a local directory (the warehouse root). Every path is resolved inside the root
// without following symbolic links, so no path, URI or planted symlink reaches other files.
//
// Path rules (see README.md): relative paths, absolute paths inside the root and file:// URIs
// inside the root are accepted; ".." components, paths outside the root and symbolic links
// anywhere below the root (pointing in or out) are refused with permission_denied; other schemes,
// empty paths, NUL bytes, paths over 4096 bytes and components over 255 bytes with
// invalid_argument. ReadRange past the end of a file returns an empty string.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "storage/file_io.h"

namespace meshwork::storage {

class LocalFileIO final : public FileIO {
 public:
  /// Opens (creating it and its parents if needed) the warehouse root directory; the root is
  /// canonicalized, so a symlink in the root path itself is resolved once here.
  static Result<std::unique_ptr<LocalFileIO>> Make(const std::string& root);
  ~LocalFileIO() override;

  std::string_view Scheme() const override { return "file"; }
  std::string Describe() const override;
  const std::string& root() const { return root_; }

  Result<std::string> ReadFile(std::string_view path) override;
  Result<std::string> ReadRange(std::string_view path, uint64_t offset, uint64_t length) override;
  Status WriteFileAtomic(std::string_view path, std::string_view contents,
                         WriteOptions options = {}) override;
  Result<std::vector<FileInfo>> List(std::string_view prefix) override;
  Status Delete(std::string_view path) override;
  Result<bool> Exists(std::string_view path) override;
  Result<uint64_t> Size(std::string_view path) override;
  Result<std::string> LocalPath(std::string_view path) override;

  /// The path relative to the root that `path` (relative, absolute inside the root, or a
  /// file:// URI inside the root) names; refuses everything that leaves the root.
  Result<std::string> Resolve(std::string_view path) const;

  /// An exclusive advisory lock (flock) on `path`, created if missing; held until the returned
  /// object dies. Excludes other processes and other LocalFileIO users in this process. For
  /// filesystem-only coordination (the filesystem catalog's pointer swap). flock semantics: a
  /// child forked while the lock is held shares it.
  class Lock {
   public:
    explicit Lock(int fd) : fd_(fd) {}
    Lock(Lock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Lock& operator=(Lock&&) = delete;
    Lock(const Lock&) = delete;
    ~Lock();

   private:
    int fd_;
  };
  Result<Lock> LockExclusive(std::string_view path);

  /// Deletes temp files that crashed writers left behind, if last modified more than
  /// `older_than` ago, and returns how many. Choose an age well above the longest write: a write
  /// whose temp file is removed under it fails (nothing is lost, the old file stays).
  Result<size_t> RemoveStaleTempFiles(std::chrono::seconds older_than);

  /// Test hook, called by WriteFileAtomic at "written" (temp file complete and synced, not yet
  /// renamed) and "renamed" (target replaced, directory not yet synced).
  void SetStageHookForTesting(std::function<void(std::string_view stage)> hook) {
    stage_hook_ = std::move(hook);
  }

 private:
  LocalFileIO(std::string root, int root_fd) : root_(std::move(root)), root_fd_(root_fd) {}
  /// Resolve; with `allow_root`, a path naming the root itself ("./", the root's absolute path)
  /// resolves to "" instead of being refused (for List prefixes).
  Result<std::string> ResolveIn(std::string_view path, bool allow_root) const;
  std::string root_;
  int root_fd_;
  std::function<void(std::string_view)> stage_hook_;
};

/// True for the names WriteFileAtomic gives its temp files (".<name>.tmp-<hex>"). Such names are
/// hidden from List and refused by WriteFileAtomic.
bool IsTempFileName(std::string_view name);

}  // namespace meshwork::storage
