#include "iceberg/filesystem_pointer_store.h"

#include <fmt/format.h>

#include <algorithm>

namespace meshwork::iceberg {
namespace {

std::string PointerPath(const TableIdentifier& table) {
  return table.RelativeLocation() + "/" + std::string(FilesystemPointerStore::kPointerFile);
}

std::string LockPath(const TableIdentifier& table) {
  return table.RelativeLocation() + "/" + std::string(FilesystemPointerStore::kLockFile);
}

}  // namespace

Result<std::optional<std::string>> FilesystemPointerStore::Load(const TableIdentifier& table) {
  auto contents = io_.ReadFile(PointerPath(table));
  if (!contents.ok()) {
    if (contents.error().code() == StatusCode::kNotFound) return std::optional<std::string>();
    return contents.error();
  }
  std::string location = std::move(*contents);
  while (!location.empty() && (location.back() == '\n' || location.back() == '\r'))
    location.pop_back();
  if (location.empty()) {
    return Status::IOError("the pointer file of table {} is empty", table.ToString())
        .WithResource(PointerPath(table))
        .WithHint("restore it from the newest metadata/*.metadata.json of the table");
  }
  return std::optional<std::string>(std::move(location));
}

Status FilesystemPointerStore::CompareAndSwap(const TableIdentifier& table,
                                              const std::optional<std::string>& expected,
                                              const std::string& new_location) {
  MW_ASSIGN_OR_RETURN(storage::LocalFileIO::Lock lock, io_.LockExclusive(LockPath(table)));
  MW_ASSIGN_OR_RETURN(std::optional<std::string> current, Load(table));
  if (current != expected) {
    if (!expected) {
      return Status::AlreadyExists("table {} already exists", table.ToString())
          .WithHint("choose another name, or drop the table first");
    }
    if (!current) {
      return Status::NotFound("table {} was dropped while this change was being made",
                              table.ToString());
    }
    return Status::Conflict("table {} changed concurrently: its metadata is now {}, not {}",
                            table.ToString(), *current, *expected)
        .WithHint("reload the table and retry the change");
  }
  Status written = io_.WriteFileAtomic(PointerPath(table), new_location + "\n");
  if (!written.ok()) {
    return std::move(written).WithContext(fmt::format("cannot commit table {}", table.ToString()));
  }
  return Status::OK();
}

Status FilesystemPointerStore::Drop(const TableIdentifier& table) {
  MW_ASSIGN_OR_RETURN(storage::LocalFileIO::Lock lock, io_.LockExclusive(LockPath(table)));
  Status deleted = io_.Delete(PointerPath(table));
  if (deleted.code() == StatusCode::kNotFound) {
    return Status::NotFound("table {} does not exist", table.ToString());
  }
  return deleted;
}

Result<std::vector<TableIdentifier>> FilesystemPointerStore::List(
    const std::vector<std::string>& namespace_levels) {
  std::string prefix;
  for (const std::string& level : namespace_levels)
    prefix += level + "/";
  MW_ASSIGN_OR_RETURN(auto files, io_.List(prefix));
  const std::string suffix = "/" + std::string(kPointerFile);
  std::vector<TableIdentifier> tables;
  for (const storage::FileInfo& file : files) {
    if (!file.path.ends_with(suffix)) continue;
    const std::string name =
        file.path.substr(prefix.size(), file.path.size() - prefix.size() - suffix.size());
    if (name.empty() || name.find('/') != std::string::npos) continue;  // nested namespace
    tables.push_back({namespace_levels, name});
  }
  std::sort(tables.begin(), tables.end(),
            [](const TableIdentifier& a, const TableIdentifier& b) { return a.name < b.name; });
  return tables;
}

namespace {
class FileCommitGuard final : public PointerStore::CommitGuard {
 public:
  explicit FileCommitGuard(storage::LocalFileIO::Lock lock) : lock_(std::move(lock)) {}

 private:
  storage::LocalFileIO::Lock lock_;
};
}  // namespace

Result<std::unique_ptr<PointerStore::CommitGuard>> FilesystemPointerStore::LockForCommit(
    const TableIdentifier& table) {
  MW_ASSIGN_OR_RETURN(
      storage::LocalFileIO::Lock lock,
      io_.LockExclusive(table.RelativeLocation() + "/" + std::string(kCommitLockFile)));
  return std::unique_ptr<CommitGuard>(std::make_unique<FileCommitGuard>(std::move(lock)));
}

}  // namespace meshwork::iceberg
