#pragma once
// FileIO over a local directory (the warehouse root). Every path is resolved inside the root
// without following symbolic links, so no path, URI or planted symlink reaches other files.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "storage/file_io.h"

namespace meshwork::storage {

class LocalFileIO final : public FileIO {
 public:
  /// Opens (creating it if needed) the warehouse root directory.
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

  /// Deletes temp files that crashed writers left behind, if older than `older_than`.
  Result<size_t> RemoveStaleTempFiles(std::chrono::seconds older_than);

  /// Test hook, called by WriteFileAtomic at "written" (temp file complete and synced, not yet
  /// renamed) and "renamed" (target replaced, directory not yet synced).
  void SetStageHookForTesting(std::function<void(std::string_view stage)> hook) {
    stage_hook_ = std::move(hook);
  }

 private:
  LocalFileIO(std::string root, int root_fd) : root_(std::move(root)), root_fd_(root_fd) {}
  std::string root_;
  int root_fd_;
  std::function<void(std::string_view)> stage_hook_;
};

/// True for the names WriteFileAtomic gives its temp files (".<name>.tmp-<hex>").
bool IsTempFileName(std::string_view name);

}  // namespace meshwork::storage
