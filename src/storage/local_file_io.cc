#include "storage/local_file_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "common/uuid.h"
#include "storage/location.h"

namespace meshwork::storage {
namespace {

// Closes a file descriptor when it goes out of scope.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Close();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

constexpr std::string_view kTempMarker = ".tmp-";

Status ErrnoStatus(int error, std::string_view action, std::string_view path,
                   std::string_view root) {
  std::string message =
      fmt::format("cannot {} '{}' in warehouse {}: {}", action, path, root, std::strerror(error));
  switch (error) {
    case ENOENT:
      return Status(StatusCode::kNotFound, std::move(message)).WithResource(std::string(path));
    case EEXIST:
      return Status(StatusCode::kAlreadyExists, std::move(message)).WithResource(std::string(path));
    case EACCES:
    case EPERM:
    case EROFS:
      return Status(StatusCode::kPermissionDenied, std::move(message))
          .WithResource(std::string(path))
          .WithHint("give the meshwork process write access to the warehouse directory");
    case ENOSPC:
    case EDQUOT:
      return Status(StatusCode::kIOError, std::move(message))
          .WithResource(std::string(path))
          .WithHint("free space on the warehouse filesystem");
    case EISDIR:
      return Status(StatusCode::kInvalidArgument, std::move(message))
          .WithResource(std::string(path))
          .WithHint("name a file, not a directory");
    default:
      return Status(StatusCode::kIOError, std::move(message)).WithResource(std::string(path));
  }
}

Status SymlinkRefused(std::string_view component, std::string_view path) {
  return Status::PermissionDenied("'{}' in path '{}' is a symbolic link", component, path)
      .WithResource(std::string(path))
      .WithHint(
          "the warehouse never follows symbolic links; paths must stay inside the "
          "warehouse root");
}

std::pair<std::string_view, std::string_view> SplitParent(std::string_view relative) {
  const size_t slash = relative.rfind('/');
  if (slash == std::string_view::npos) return {std::string_view(), relative};
  return {relative.substr(0, slash), relative.substr(slash + 1)};
}

Status WriteAll(int fd, std::string_view contents) {
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t result = ::write(fd, contents.data() + written,
                                   std::min<size_t>(contents.size() - written, size_t{1} << 30));
    if (result < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "write");
    }
    written += static_cast<size_t>(result);
  }
  return Status::OK();
}

Status FsyncFd(int fd) {
  while (::fsync(fd) != 0) {
    if (errno != EINTR) return Status::FromErrno(errno, "fsync");
  }
  return Status::OK();
}

int64_t ModifiedMicros(const struct stat& info) {
  return static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000 + info.st_mtim.tv_nsec / 1000;
}

}  // namespace

bool IsTempFileName(std::string_view name) {
  return name.size() > 1 && name[0] == '.' && name.find(kTempMarker) != std::string_view::npos;
}

// Walks `directory` (relative, normalized) from the root one component at a time without
// following symlinks. With `create`, missing directories are made. Returns the directory's fd.
static Result<Fd> OpenDirectory(int root_fd, std::string_view directory, bool create,
                                std::string_view full_path, const std::string& root) {
  Fd current(::dup(root_fd));
  if (current.get() < 0) return Status::FromErrno(errno, "dup");
  size_t start = 0;
  while (start < directory.size()) {
    size_t end = directory.find('/', start);
    if (end == std::string_view::npos) end = directory.size();
    const std::string component(directory.substr(start, end - start));
    start = end + 1;
    int fd =
        ::openat(current.get(), component.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
      if (::mkdirat(current.get(), component.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoStatus(errno, "create directory for", full_path, root);
      }
      fd = ::openat(current.get(), component.c_str(),
                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
      const int error = errno;
      struct stat info {};
      if ((error == ELOOP || error == ENOTDIR) &&
          ::fstatat(current.get(), component.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISLNK(info.st_mode)) {
        return SymlinkRefused(component, full_path);
      }
      return ErrnoStatus(error, "open directory of", full_path, root);
    }
    current = Fd(fd);
  }
  return current;
}

// Opens a file for reading without following a symlink in any component.
static Result<Fd> OpenFileForReading(int root_fd, std::string_view relative,
                                     const std::string& root) {
  auto [directory, name] = SplitParent(relative);
  MW_ASSIGN_OR_RETURN(Fd parent, OpenDirectory(root_fd, directory, false, relative, root));
  const std::string file_name(name);
  const int fd = ::openat(parent.get(), file_name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP) return SymlinkRefused(name, relative);
    return ErrnoStatus(errno, "open", relative, root);
  }
  Fd file(fd);
  struct stat info {};
  if (::fstat(file.get(), &info) != 0) return ErrnoStatus(errno, "stat", relative, root);
  if (!S_ISREG(info.st_mode)) return ErrnoStatus(EISDIR, "read", relative, root);
  return file;
}

Result<std::unique_ptr<LocalFileIO>> LocalFileIO::Make(const std::string& root) {
  if (root.empty()) {
    return Status::InvalidArgument("the warehouse root directory is empty")
        .WithHint("set --data-dir or the warehouse path");
  }
  std::error_code error;
  std::filesystem::create_directories(root, error);
  if (error) {
    return Status(error.value() == EACCES ? StatusCode::kPermissionDenied : StatusCode::kIOError,
                  fmt::format("cannot create warehouse directory {}: {}", root, error.message()))
        .WithResource(root)
        .WithHint("create the directory or choose a writable --data-dir");
  }
  const std::filesystem::path canonical = std::filesystem::canonical(root, error);
  if (error) {
    return Status::IOError("cannot resolve warehouse directory {}: {}", root, error.message())
        .WithResource(root);
  }
  const int fd = ::open(canonical.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return ErrnoStatus(errno, "open warehouse root", canonical.string(), canonical.string());
  }
  return std::unique_ptr<LocalFileIO>(new LocalFileIO(canonical.string(), fd));
}

LocalFileIO::~LocalFileIO() {
  ::close(root_fd_);
}

std::string LocalFileIO::Describe() const {
  return "local warehouse " + root_;
}

Result<std::string> LocalFileIO::Resolve(std::string_view path) const {
  auto parsed = ParseLocation(path);
  if (!parsed.ok()) return parsed.error();
  const ParsedLocation& location = *parsed;
  if (!location.scheme.empty() && location.scheme != "file") {
    return Status::InvalidArgument("'{}' is a {}:// location, but this warehouse is local ({})",
                                   path.substr(0, 200), location.scheme, root_)
        .WithHint("use a path relative to the warehouse, or a file:// URI inside it");
  }
  std::string relative = location.path;
  if (relative.starts_with('/')) {
    // Absolute: must name something below the root. Compare whole components so that
    // "/w-other" is not taken to be inside "/w".
    const std::string_view root = root_;
    if (!(relative.starts_with(root) &&
          (relative.size() == root.size() || relative[root.size()] == '/' || root == "/"))) {
      return Status::PermissionDenied("path '{}' is outside the warehouse root {}",
                                      path.substr(0, 200), root_)
          .WithResource(std::string(path.substr(0, 200)))
          .WithHint("paths must stay inside the warehouse root");
    }
    relative.erase(0, root.size());
  }
  auto normalized = NormalizeRelativePath(relative);
  if (!normalized.ok()) {
    return std::move(normalized)
        .error()
        .WithContext(fmt::format("in path '{}' (warehouse {})", path.substr(0, 200), root_));
  }
  return normalized;
}

Result<std::string> LocalFileIO::ReadFile(std::string_view path) {
  MW_ASSIGN_OR_RETURN(std::string relative, Resolve(path));
  MW_ASSIGN_OR_RETURN(Fd file, OpenFileForReading(root_fd_, relative, root_));
  std::string contents;
  struct stat info {};
  if (::fstat(file.get(), &info) == 0) contents.reserve(static_cast<size_t>(info.st_size));
  char buffer[1 << 16];
  while (true) {
    const ssize_t count = ::read(file.get(), buffer, sizeof(buffer));
    if (count < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read", relative, root_);
    }
    if (count == 0) break;
    contents.append(buffer, static_cast<size_t>(count));
  }
  return contents;
}

Result<std::string> LocalFileIO::ReadRange(std::string_view path, uint64_t offset,
                                           uint64_t length) {
  MW_ASSIGN_OR_RETURN(std::string relative, Resolve(path));
  MW_ASSIGN_OR_RETURN(Fd file, OpenFileForReading(root_fd_, relative, root_));
  struct stat info {};
  if (::fstat(file.get(), &info) != 0) return ErrnoStatus(errno, "stat", relative, root_);
  const uint64_t size = static_cast<uint64_t>(info.st_size);
  if (offset >= size) return std::string();
  const uint64_t wanted = std::min(length, size - offset);
  std::string contents(wanted, '\0');
  uint64_t done = 0;
  while (done < wanted) {
    const ssize_t count = ::pread(file.get(), contents.data() + done, wanted - done,
                                  static_cast<off_t>(offset + done));
    if (count < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read", relative, root_);
    }
    if (count == 0) break;  // the file shrank meanwhile
    done += static_cast<uint64_t>(count);
  }
  contents.resize(done);
  return contents;
}

Status LocalFileIO::WriteFileAtomic(std::string_view path, std::string_view contents,
                                    WriteOptions options) {
  MW_ASSIGN_OR_RETURN(std::string relative, Resolve(path));
  auto [directory, name] = SplitParent(relative);
  MW_ASSIGN_OR_RETURN(Fd parent, OpenDirectory(root_fd_, directory, true, relative, root_));
  const std::string target(name);
  std::string temp = "." + target + std::string(kTempMarker) + Uuid::V4().ToString().substr(0, 8) +
                     Uuid::V4().ToString().substr(24);
  if (temp.size() > 255) temp = "." + target.substr(0, 200) + std::string(kTempMarker) + "x";

  Fd file(::openat(parent.get(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (file.get() < 0) return ErrnoStatus(errno, "create a temp file for", relative, root_);
  auto remove_temp = [&] { ::unlinkat(parent.get(), temp.c_str(), 0); };

  Status status = WriteAll(file.get(), contents);
  if (status.ok()) status = FsyncFd(file.get());
  if (!status.ok()) {
    remove_temp();
    return std::move(status).WithContext(
        fmt::format("cannot write '{}' in warehouse {}", relative, root_));
  }
  file.Close();
  if (stage_hook_) stage_hook_("written");

  if (options.create_only) {
    // renameat2(RENAME_NOREPLACE) fails with EEXIST instead of replacing: exactly one of many
    // concurrent creators wins. Filesystems without it get link(), which has the same property.
    if (::renameat2(parent.get(), temp.c_str(), parent.get(), target.c_str(), RENAME_NOREPLACE) !=
        0) {
      int error = errno;
      if (error == EINVAL || error == ENOSYS) {
        error =
            ::linkat(parent.get(), temp.c_str(), parent.get(), target.c_str(), 0) == 0 ? 0 : errno;
        remove_temp();
      } else {
        remove_temp();
      }
      if (error == EEXIST) {
        return Status::AlreadyExists("'{}' already exists in warehouse {}", relative, root_)
            .WithResource(relative)
            .WithHint("this file is immutable once written; write a new file name");
      }
      if (error != 0) return ErrnoStatus(error, "create", relative, root_);
    }
  } else if (::renameat(parent.get(), temp.c_str(), parent.get(), target.c_str()) != 0) {
    const int error = errno;
    remove_temp();
    return ErrnoStatus(error, "replace", relative, root_);
  }
  if (stage_hook_) stage_hook_("renamed");
  // The rename is durable only once the directory entry is on disk.
  Status synced = FsyncFd(parent.get());
  if (!synced.ok()) {
    return std::move(synced).WithContext(
        fmt::format("wrote '{}' but cannot sync its directory in warehouse {}", relative, root_));
  }
  return Status::OK();
}

namespace {

// Collects regular files below `directory_fd` whose relative path starts with `prefix`.
Status ListRecursive(int directory_fd, const std::string& relative_dir, std::string_view prefix,
                     std::vector<FileInfo>& files, int depth) {
  if (depth > 256) return Status::FailedPrecondition("directories nested deeper than 256 levels");
  const int fd = ::dup(directory_fd);
  if (fd < 0) return Status::FromErrno(errno, "list " + relative_dir);
  DIR* dir = ::fdopendir(fd);  // owns fd from here on
  if (dir == nullptr) {
    const int error = errno;
    ::close(fd);
    return Status::FromErrno(error, "list " + relative_dir);
  }
  std::unique_ptr<DIR, int (*)(DIR*)> closer(dir, ::closedir);
  ::rewinddir(dir);  // a dup shares its position with the original descriptor
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name == "." || name == ".." || IsTempFileName(name)) continue;
    names.emplace_back(name);
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    const std::string path = relative_dir.empty() ? name : relative_dir + "/" + name;
    // Skip subtrees that cannot contain a match: "a/b" is worth entering for prefix "a/b/c".
    const size_t common = std::min(path.size(), prefix.size());
    if (path.compare(0, common, prefix, 0, common) != 0) continue;
    struct stat info {};
    if (::fstatat(::dirfd(dir), name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISLNK(info.st_mode)) continue;  // never followed, never listed
    if (S_ISDIR(info.st_mode)) {
      Fd child(
          ::openat(::dirfd(dir), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (child.get() < 0) continue;
      MW_RETURN_IF_ERROR(ListRecursive(child.get(), path, prefix, files, depth + 1));
    } else if (S_ISREG(info.st_mode) && path.size() >= prefix.size()) {
      files.push_back({path, static_cast<uint64_t>(info.st_size), ModifiedMicros(info)});
    }
  }
  return Status::OK();
}

}  // namespace

Result<std::vector<FileInfo>> LocalFileIO::List(std::string_view prefix) {
  std::string normalized_prefix;
  std::string_view start_dir;
  if (!prefix.empty()) {
    MW_ASSIGN_OR_RETURN(normalized_prefix, Resolve(prefix));
    // "data/" names a directory; Resolve dropped the trailing slash, so restore it to avoid
    // matching "data-old/...".
    if (prefix.back() == '/') normalized_prefix += '/';
    const size_t slash = normalized_prefix.rfind('/');
    if (slash != std::string::npos)
      start_dir = std::string_view(normalized_prefix).substr(0, slash);
  }
  auto directory = OpenDirectory(root_fd_, start_dir, false, normalized_prefix, root_);
  if (!directory.ok()) {
    if (directory.error().code() == StatusCode::kNotFound) return std::vector<FileInfo>{};
    return directory.error();
  }
  std::vector<FileInfo> files;
  Status listed =
      ListRecursive(directory->get(), std::string(start_dir), normalized_prefix, files, 0);
  if (!listed.ok()) {
    return std::move(listed).WithContext(
        fmt::format("cannot list '{}' in warehouse {}", prefix, root_));
  }
  std::sort(files.begin(), files.end(),
            [](const FileInfo& a, const FileInfo& b) { return a.path < b.path; });
  return files;
}

Status LocalFileIO::Delete(std::string_view path) {
  MW_ASSIGN_OR_RETURN(std::string relative, Resolve(path));
  auto [directory, name] = SplitParent(relative);
  MW_ASSIGN_OR_RETURN(Fd parent, OpenDirectory(root_fd_, directory, false, relative, root_));
  const std::string file_name(name);
  if (::unlinkat(parent.get(), file_name.c_str(), 0) != 0) {
    return ErrnoStatus(errno, "delete", relative, root_);
  }
  return Status::OK();
}

Result<bool> LocalFileIO::Exists(std::string_view path) {
  auto size = Size(path);
  if (size.ok()) return true;
  if (size.error().code() == StatusCode::kNotFound) return false;
  return size.error();
}

Result<uint64_t> LocalFileIO::Size(std::string_view path) {
  MW_ASSIGN_OR_RETURN(std::string relative, Resolve(path));
  auto [directory, name] = SplitParent(relative);
  MW_ASSIGN_OR_RETURN(Fd parent, OpenDirectory(root_fd_, directory, false, relative, root_));
  const std::string file_name(name);
  struct stat info {};
  if (::fstatat(parent.get(), file_name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoStatus(errno, "stat", relative, root_);
  }
  if (S_ISLNK(info.st_mode)) return SymlinkRefused(name, relative);
  if (!S_ISREG(info.st_mode)) return ErrnoStatus(EISDIR, "stat", relative, root_);
  return static_cast<uint64_t>(info.st_size);
}

Result<std::string> LocalFileIO::LocalPath(std::string_view path) {
  MW_ASSIGN_OR_RETURN(std::string relative, Resolve(path));
  // Refuse symlinks along the existing part of the path, so the engine is never handed a path
  // that leads out of the warehouse.
  auto [directory, name] = SplitParent(relative);
  auto parent = OpenDirectory(root_fd_, directory, false, relative, root_);
  if (!parent.ok() && parent.error().code() != StatusCode::kNotFound) return parent.error();
  if (parent.ok()) {
    const std::string file_name(name);
    struct stat info {};
    if (::fstatat(parent->get(), file_name.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(info.st_mode)) {
      return SymlinkRefused(name, relative);
    }
  }
  return root_ == "/" ? "/" + relative : root_ + "/" + relative;
}

LocalFileIO::Lock::~Lock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

Result<LocalFileIO::Lock> LocalFileIO::LockExclusive(std::string_view path) {
  MW_ASSIGN_OR_RETURN(std::string relative, Resolve(path));
  auto [directory, name] = SplitParent(relative);
  MW_ASSIGN_OR_RETURN(Fd parent, OpenDirectory(root_fd_, directory, true, relative, root_));
  const std::string file_name(name);
  Fd file(
      ::openat(parent.get(), file_name.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (file.get() < 0) {
    if (errno == ELOOP) return SymlinkRefused(name, relative);
    return ErrnoStatus(errno, "open lock file", relative, root_);
  }
  while (::flock(file.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return ErrnoStatus(errno, "lock", relative, root_);
  }
  return Lock(file.Release());
}

Result<size_t> LocalFileIO::RemoveStaleTempFiles(std::chrono::seconds older_than) {
  const auto now = std::chrono::system_clock::now();
  const int64_t cutoff_micros =
      std::chrono::duration_cast<std::chrono::microseconds>((now - older_than).time_since_epoch())
          .count();
  size_t removed = 0;
  std::error_code error;
  for (auto it = std::filesystem::recursive_directory_iterator(root_, error);
       !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    if (it->is_symlink(error) || !it->is_regular_file(error)) continue;
    const std::string name = it->path().filename().string();
    if (!IsTempFileName(name)) continue;
    struct stat info {};
    if (::lstat(it->path().c_str(), &info) != 0) continue;
    if (ModifiedMicros(info) <= cutoff_micros && ::unlink(it->path().c_str()) == 0) ++removed;
  }
  if (error) {
    return Status::IOError("cannot scan warehouse {} for stale temp files: {}", root_,
                           error.message());
  }
  return removed;
}

}  // namespace meshwork::storage
