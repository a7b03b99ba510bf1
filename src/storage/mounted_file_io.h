#pragma once
// A FileIO that routes each path to the store that holds it: the warehouse's own backend, or an
// object store "mounted" at a folder of the warehouse's path space. This is how a domain keeps
// its tables in a bucket of its own, reached with credentials of its own, while the rest of
// meshwork keeps naming files by warehouse-relative paths (staging, the cache, table folders).
//
//   warehouse s3://wh/mesh      base backend       "sales/orders/data/x.parquet"
//   mount "@finance"            s3://fin-data/p    "@finance/ledger/data/y.parquet"
//                                                  = s3://fin-data/p/ledger/data/y.parquet
//
// A mounted folder shadows the base's folder of the same name (like a filesystem mount), which
// is why mount folders carry a '@' that namespace folders never have. Absolute s3:// URIs are
// routed by the mount whose root contains them; everything else goes to the base. Mounts are
// added at run time (a domain created through the API) and never removed, so a backend handed
// out by Route stays valid for the object's lifetime.

#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "storage/file_io.h"
#include "storage/s3_file_io.h"

namespace meshwork::storage {

class MountedFileIO final : public FileIO {
 public:
  explicit MountedFileIO(std::unique_ptr<FileIO> base)
      : base_(std::move(base)), base_s3_(dynamic_cast<S3FileIO*>(base_.get())) {}

  /// Called, with no lock held, when a path names storage nothing here holds: an s3:// URI
  /// outside the base and every mount, or a '@folder' that is not mounted. The owner may Mount
  /// what appeared since (a domain another server created); the path is then routed again, once.
  /// Set before concurrent use.
  void SetMountFinder(std::function<void(std::string_view path)> finder) {
    finder_ = std::move(finder);
  }

  /// Mounts `backend` at `folder` (one component, starting with '@'). already_exists when the
  /// folder is mounted already, or when the backend's root overlaps another mount's (one bucket
  /// prefix inside the other: a URI inside both could not be routed).
  Status Mount(std::string folder, std::unique_ptr<S3FileIO> backend);

  struct Route {
    /// The backend holding the path, and the path as that backend names it.
    FileIO* io = nullptr;
    std::string path;
    /// The mount's folder and S3 backend; empty / null for the base.
    std::string folder;
    S3FileIO* mount = nullptr;
  };
  /// Which backend `path` (relative, or an absolute URI) belongs to. Never fails: paths no
  /// mount claims go to the base, which then judges them.
  Route RouteOf(std::string_view path) const;
  /// The warehouse-relative path ("@finance/ledger/...") of an absolute URI inside a mount.
  std::optional<std::string> MountedRelative(std::string_view uri) const;
  /// The mount at `folder`, or null (the mount finder is not asked).
  S3FileIO* MountAt(std::string_view folder) const;
  /// Every mount: folder and backend.
  std::vector<std::pair<std::string, S3FileIO*>> Mounts() const;
  FileIO& base() { return *base_; }

  std::string_view Scheme() const override { return base_->Scheme(); }
  std::string Describe() const override;
  Result<std::string> ReadFile(std::string_view path) override;
  Result<std::string> ReadRange(std::string_view path, uint64_t offset, uint64_t length) override;
  Status WriteFileAtomic(std::string_view path, std::string_view contents,
                         WriteOptions options = {}) override;
  /// The base's listing, plus every mount whose folder the prefix covers (paths prefixed with
  /// the folder); a prefix inside a mount lists only that mount.
  Result<std::vector<FileInfo>> List(std::string_view prefix) override;
  Status Delete(std::string_view path) override;
  Result<bool> Exists(std::string_view path) override;
  Result<uint64_t> Size(std::string_view path) override;
  Result<FileVersion> Version(std::string_view path) override;
  Result<std::string> LocalPath(std::string_view path) override;

 private:
  struct MountEntry {
    std::string folder;
    std::string root;  // RootUri() of the backend
    std::unique_ptr<S3FileIO> backend;
  };
  /// The route of `path` under the lock; `unclaimed` tells whether it went to the base only
  /// because no mount claims storage the base does not hold either.
  Route RouteLocked(std::string_view path, bool& unclaimed) const;

  std::unique_ptr<FileIO> base_;
  S3FileIO* base_s3_;  // base_ when it is an object store (to tell its URIs from unknown ones)
  std::function<void(std::string_view path)> finder_;
  mutable std::shared_mutex mutex_;
  std::vector<MountEntry> mounts_;
};

}  // namespace meshwork::storage
