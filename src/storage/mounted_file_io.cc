#include "storage/mounted_file_io.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>

namespace meshwork::storage {
namespace {

bool IsUri(std::string_view path) {
  return path.find("://") != std::string_view::npos || path.starts_with("file:");
}

}  // namespace

Status MountedFileIO::Mount(std::string folder, std::unique_ptr<S3FileIO> backend) {
  if (folder.size() < 2 || folder[0] != '@' || folder.find('/') != std::string::npos) {
    return Status::InvalidArgument("mount folder '{}' must be one component starting with '@'",
                                   folder);
  }
  std::unique_lock lock(mutex_);
  const std::string root = backend->RootUri();
  for (const MountEntry& mount : mounts_) {
    if (mount.folder == folder) {
      return Status::AlreadyExists("{} is already mounted at {} (storage {})", folder, mount.root,
                                   root)
          .WithHint("a domain's storage is fixed when the domain is created");
    }
    if (backend->Relative(mount.root).ok() || mount.backend->Relative(root).ok()) {
      return Status::AlreadyExists("storage {} overlaps {}, which {} uses", root, mount.root,
                                   mount.folder)
          .WithHint("give each domain a bucket or prefix that does not contain another's");
    }
  }
  mounts_.push_back({std::move(folder), root, std::move(backend)});
  return Status::OK();
}

MountedFileIO::Route MountedFileIO::RouteOf(std::string_view path) const {
  bool unclaimed = false;
  {
    std::shared_lock lock(mutex_);
    Route route = RouteLocked(path, unclaimed);
    if (!unclaimed || !finder_) return route;
  }
  finder_(path);
  std::shared_lock lock(mutex_);
  return RouteLocked(path, unclaimed);
}

MountedFileIO::Route MountedFileIO::RouteLocked(std::string_view path, bool& unclaimed) const {
  unclaimed = false;
  if (IsUri(path)) {
    for (const MountEntry& mount : mounts_) {
      auto relative = mount.backend->Relative(path);
      if (relative.ok()) {
        return {mount.backend.get(), std::move(*relative), mount.folder, mount.backend.get()};
      }
    }
    unclaimed = base_s3_ != nullptr && path.starts_with("s3") && !base_s3_->Relative(path).ok();
    return {base_.get(), std::string(path), "", nullptr};
  }
  std::string_view rest = path;
  while (rest.starts_with("./"))
    rest.remove_prefix(2);
  if (rest.starts_with('@')) {
    const size_t slash = rest.find('/');
    const std::string_view folder = rest.substr(0, slash);
    for (const MountEntry& mount : mounts_) {
      if (mount.folder == folder) {
        std::string inner =
            slash == std::string_view::npos ? std::string() : std::string(rest.substr(slash + 1));
        return {mount.backend.get(), std::move(inner), mount.folder, mount.backend.get()};
      }
    }
    unclaimed = true;
  }
  return {base_.get(), std::string(path), "", nullptr};
}

std::optional<std::string> MountedFileIO::MountedRelative(std::string_view uri) const {
  if (!IsUri(uri)) return std::nullopt;
  Route route = RouteOf(uri);
  if (route.mount == nullptr) return std::nullopt;
  return route.path.empty() ? route.folder : route.folder + "/" + route.path;
}

S3FileIO* MountedFileIO::MountAt(std::string_view folder) const {
  std::shared_lock lock(mutex_);
  for (const MountEntry& mount : mounts_)
    if (mount.folder == folder) return mount.backend.get();
  return nullptr;
}

std::vector<std::pair<std::string, S3FileIO*>> MountedFileIO::Mounts() const {
  std::shared_lock lock(mutex_);
  std::vector<std::pair<std::string, S3FileIO*>> out;
  for (const MountEntry& mount : mounts_)
    out.emplace_back(mount.folder, mount.backend.get());
  return out;
}

std::string MountedFileIO::Describe() const {
  std::shared_lock lock(mutex_);
  std::string text = base_->Describe();
  for (const MountEntry& mount : mounts_)
    text += fmt::format(", {} = {}", mount.folder, mount.root);
  return text;
}

Result<std::string> MountedFileIO::ReadFile(std::string_view path) {
  Route route = RouteOf(path);
  return route.io->ReadFile(route.path);
}

Result<std::string> MountedFileIO::ReadRange(std::string_view path, uint64_t offset,
                                             uint64_t length) {
  Route route = RouteOf(path);
  return route.io->ReadRange(route.path, offset, length);
}

Status MountedFileIO::WriteFileAtomic(std::string_view path, std::string_view contents,
                                      WriteOptions options) {
  Route route = RouteOf(path);
  return route.io->WriteFileAtomic(route.path, contents, options);
}

Result<std::vector<FileInfo>> MountedFileIO::List(std::string_view prefix) {
  Route route = RouteOf(prefix);
  const auto list_mount = [](const Route& mounted, std::vector<FileInfo>& out) -> Status {
    MW_ASSIGN_OR_RETURN(auto files, mounted.io->List(mounted.path));
    for (FileInfo& file : files) {
      file.path = mounted.folder + "/" + file.path;
      out.push_back(std::move(file));
    }
    return Status::OK();
  };
  std::vector<FileInfo> out;
  if (route.mount != nullptr) {
    MW_RETURN_IF_ERROR(list_mount(route, out));
    return out;
  }
  MW_ASSIGN_OR_RETURN(out, base_->List(prefix));
  // A prefix such as "" or "@fin" covers whole mounts: a purge or an orphan scan must see them.
  if (!IsUri(prefix)) {
    for (const auto& [folder, backend] : Mounts()) {
      if (!(folder + "/").starts_with(prefix)) continue;
      MW_RETURN_IF_ERROR(list_mount({backend, "", folder, backend}, out));
    }
    std::sort(out.begin(), out.end(),
              [](const FileInfo& a, const FileInfo& b) { return a.path < b.path; });
  }
  return out;
}

Status MountedFileIO::Delete(std::string_view path) {
  Route route = RouteOf(path);
  return route.io->Delete(route.path);
}

Result<bool> MountedFileIO::Exists(std::string_view path) {
  Route route = RouteOf(path);
  return route.io->Exists(route.path);
}

Result<uint64_t> MountedFileIO::Size(std::string_view path) {
  Route route = RouteOf(path);
  return route.io->Size(route.path);
}

Result<FileVersion> MountedFileIO::Version(std::string_view path) {
  Route route = RouteOf(path);
  return route.io->Version(route.path);
}

Result<std::string> MountedFileIO::LocalPath(std::string_view path) {
  Route route = RouteOf(path);
  return route.io->LocalPath(route.path);
}

}  // namespace meshwork::storage
