#pragma once
// The pointer store of a warehouse folder with no server: each table's folder holds
// metadata/meshwork-pointer.txt with the current metadata location. The compare-and-swap holds
// an exclusive lock on metadata/.pointer.lock while it compares and atomically replaces the
// pointer file, so concurrent processes on one machine commit safely. (Shared filesystems
// without working flock need the metastore-backed store of the catalog.)

#include "iceberg/pointer_store.h"
#include "storage/local_file_io.h"

namespace meshwork::iceberg {

class FilesystemPointerStore final : public PointerStore {
 public:
  /// `io` is the warehouse; it must outlive the store.
  explicit FilesystemPointerStore(storage::LocalFileIO& io) : io_(io) {}

  Result<std::optional<std::string>> Load(const TableIdentifier& table) override;
  Status CompareAndSwap(const TableIdentifier& table, const std::optional<std::string>& expected,
                        const std::string& new_location) override;
  Status Drop(const TableIdentifier& table) override;
  Result<std::vector<TableIdentifier>> List(
      const std::vector<std::string>& namespace_levels) override;
  Result<std::unique_ptr<CommitGuard>> LockForCommit(const TableIdentifier& table) override;

  static constexpr std::string_view kPointerFile = "metadata/meshwork-pointer.txt";
  static constexpr std::string_view kLockFile = "metadata/.pointer.lock";
  /// A separate lock: the swap inside a guarded commit takes kLockFile itself.
  static constexpr std::string_view kCommitLockFile = "metadata/.commit.lock";

 private:
  storage::LocalFileIO& io_;
};

}  // namespace meshwork::iceberg
