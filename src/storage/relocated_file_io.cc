#include "storage/relocated_file_io.h"

#include <fmt/format.h>

namespace meshwork::storage {

Result<std::unique_ptr<RelocatedFileIO>> RelocatedFileIO::Make(std::string recorded_location,
                                                               const std::string& table_folder) {
  while (recorded_location.size() > 1 && recorded_location.back() == '/') {
    recorded_location.pop_back();
  }
  if (recorded_location.empty()) {
    return Status::InvalidArgument("the table metadata records an empty location")
        .WithHint("the metadata file is damaged; its 'location' field must name the table");
  }
  // "./orders" is recorded by some writers while file paths say "orders/...".
  std::vector<std::string> prefixes = {recorded_location};
  if (recorded_location.starts_with("./")) prefixes.push_back(recorded_location.substr(2));
  MW_ASSIGN_OR_RETURN(auto folder, LocalFileIO::Make(table_folder));
  return std::unique_ptr<RelocatedFileIO>(
      new RelocatedFileIO(std::move(prefixes), std::move(folder)));
}

std::string RelocatedFileIO::Describe() const {
  return fmt::format("table folder {} (recorded location {})", folder_->root(), prefixes_[0]);
}

Result<std::string> RelocatedFileIO::Map(std::string_view path) const {
  for (const std::string& prefix : prefixes_) {
    if (path.size() > prefix.size() && path.starts_with(prefix) && path[prefix.size()] == '/') {
      return folder_->Resolve(path.substr(prefix.size() + 1));
    }
  }
  auto relative = folder_->Resolve(path);
  if (!relative.ok()) {
    return Status::PermissionDenied("{} is outside the table's location {}", path, prefixes_[0])
        .WithHint("a table's files must live under its location; the metadata may be damaged");
  }
  return relative;
}

Result<std::string> RelocatedFileIO::ReadFile(std::string_view path) {
  MW_ASSIGN_OR_RETURN(std::string relative, Map(path));
  return folder_->ReadFile(relative);
}

Result<std::string> RelocatedFileIO::ReadRange(std::string_view path, uint64_t offset,
                                               uint64_t length) {
  MW_ASSIGN_OR_RETURN(std::string relative, Map(path));
  return folder_->ReadRange(relative, offset, length);
}

Status RelocatedFileIO::WriteFileAtomic(std::string_view path, std::string_view, WriteOptions) {
  return Status::PermissionDenied("cannot write {}: {} is read-only", path, Describe())
      .WithHint("register the table in a warehouse or catalog to change it");
}

Result<std::vector<FileInfo>> RelocatedFileIO::List(std::string_view prefix) {
  MW_ASSIGN_OR_RETURN(std::string relative, Map(prefix));
  return folder_->List(relative);
}

Status RelocatedFileIO::Delete(std::string_view path) {
  return Status::PermissionDenied("cannot delete {}: {} is read-only", path, Describe())
      .WithHint("register the table in a warehouse or catalog to change it");
}

Result<bool> RelocatedFileIO::Exists(std::string_view path) {
  MW_ASSIGN_OR_RETURN(std::string relative, Map(path));
  return folder_->Exists(relative);
}

Result<uint64_t> RelocatedFileIO::Size(std::string_view path) {
  MW_ASSIGN_OR_RETURN(std::string relative, Map(path));
  return folder_->Size(relative);
}

Result<std::string> RelocatedFileIO::LocalPath(std::string_view path) {
  MW_ASSIGN_OR_RETURN(std::string relative, Map(path));
  return folder_->LocalPath(relative);
}

}  // namespace meshwork::storage
