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
constexpr size_t kMaxNameBytes = 255;  // NAME_MAX on Linux filesystems

constexpr std::string_view kStayInsideHint = "paths must stay inside the warehouse root";

// Maps a failed system call on `path` to a Status that says what failed, where, why and what to
// do about it.
Status ErrnoStatus(int error, std::string_view action, std::string_view path,
                   std::string_view root) {
  std::string message =
      fmt::format("cannot {} '{}' in warehouse {}: {}", action, path, root, std::strerror(error));
  StatusCode code = StatusCode::kIOError;
  std::string_view hint =
      "check the warehouse filesystem (disk errors, a lost mount) and the system log, then retry";
  switch (error) {
    case ENOENT:
      code = StatusCode::kNotFound;
      hint = "check the path; it is relative to the warehouse root";
      break;
    case ENOTDIR:
      code = StatusCode::kNotFound;
      hint = "a parent of this path is a file, not a directory; check the path";
      break;
    case EEXIST:
      code = StatusCode::kAlreadyExists;
      hint = "choose another name or delete the existing file first";
      break;
    case EACCES:
    case EPERM:
      code = StatusCode::kPermissionDenied;
      hint = "give the meshwork process read and write access to the warehouse directory";
      break;
    case EROFS:
      code = StatusCode::kPermissionDenied;
      hint = "the warehouse filesystem is mounted read-only; remount it read-write";
      break;
    case ENOSPC:
    case EDQUOT:
      hint = "free space (or raise the quota) on the warehouse filesystem";
      break;
    case EMFILE:
    case ENFILE:
      code = StatusCode::kUnavailable;
      hint = "too many open files; raise the limit (ulimit -n) or lower concurrency";
      break;
    case EISDIR:
      code = StatusCode::kInvalidArgument;
      hint = "name a file, not a directory";
      break;
    case ENAMETOOLONG:
      code = StatusCode::kInvalidArgument;
      hint = "use a shorter path";
      break;
    default:
      break;
  }
  return Status(code, std::move(message))
      .WithResource(std::string(path))
      .WithHint(std::string(hint));
}

Status SymlinkRefused(std::string_view component, std::string_view path) {
  return Status::PermissionDenied("'{}' in path '{}' is a symbolic link", component, path)
      .WithResource(std::string(path))
      .WithHint(
          "the warehouse never follows symbolic links; paths must stay inside the "
          "warehouse root");
}

// For a path that names a directory, FIFO, socket or device instead of a regular file.
Status NotARegularFile(const struct stat& info, std::string_view action, std::string_view path,
                       std::string_view root) {
  if (S_ISDIR(info.st_mode)) return ErrnoStatus(EISDIR, action, path, root);
  return Status::InvalidArgument("cannot {} '{}' in warehouse {}: not a regular file", action, path,
                                 root)
      .WithResource(std::string(path))
      .WithHint("the warehouse holds only regular files; remove the FIFO, socket or device");
}

std::pair<std::string_view, std::string_view> SplitParent(std::string_view relative) {
  const size_t slash = relative.rfind('/');
  if (slash == std::string_view::npos) return {std::string_view(), relative};
  return {relative.substr(0, slash), relative.substr(slash + 1)};
}

// Returns 0 or the errno of the failed write.
int WriteAll(int fd, std::string_view contents) {
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t result = ::write(fd, contents.data() + written,
                                   std::min<size_t>(contents.size() - written, size_t{1} << 30));
    if (result < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (result == 0) return EIO;  // cannot happen for regular files; never spin
    written += static_cast<size_t>(result);
  }
  return 0;
}

// Returns 0 or the errno of the failed fsync.
int FsyncFd(int fd) {
  while (::fsync(fd) != 0) {
    if (errno != EINTR) return errno;
  }
  return 0;
}

int64_t ModifiedMicros(const struct stat& info) {
  return static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000 + info.st_mtim.tv_nsec / 1000;
}

// ".<name>.tmp-<20 random hex digits>", within NAME_MAX: a long name is shortened, never the
// random part, so concurrent writers of one name never collide on their temp files.
std::string TempName(std::string_view target) {
  std::string random = Uuid::V4().ToString();  // 8-4-4-4-12; the first 8 and last 12 are random
  const std::string suffix =
      std::string(kTempMarker) + random.substr(0, 8) + random.substr(random.size() - 12);
  const size_t keep = std::min(target.size(), kMaxNameBytes - 1 - suffix.size());
  return "." + std::string(target.substr(0, keep)) + suffix;
}

// True when every component of `path` is empty or "." (it names the directory it starts from).
bool NamesStartingDirectory(std::string_view path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view component = path.substr(start, end - start);
    if (!component.empty() && component != ".") return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

bool IsTempFileName(std::string_view name) {
  return name.size() > 1 && name[0] == '.' && name.find(kTempMarker) != std::string_view::npos;
}

// Walks `directory` (relative, normalized) from the root one component at a time without
// following symlinks. With `create`, missing directories are made, and each new directory entry
// is fsynced into its parent so that a file later written into it survives a crash. Returns the
// directory's fd.
static Result<Fd> OpenDirectory(int root_fd, std::string_view directory, bool create,
                                std::string_view full_path, const std::string& root) {
  Fd current(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
  if (current.get() < 0) return ErrnoStatus(errno, "open the root for", full_path, root);
  size_t start = 0;
  while (start < directory.size()) {
    size_t end = directory.find('/', start);
    if (end == std::string_view::npos) end = directory.size();
    const std::string component(directory.substr(start, end - start));
    start = end + 1;
    constexpr int kFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int fd = ::openat(current.get(), component.c_str(), kFlags);
    if (fd < 0 && errno == ENOENT && create) {
      if (::mkdirat(current.get(), component.c_str(), 0755) == 0) {
        if (const int error = FsyncFd(current.get()); error != 0) {
          return ErrnoStatus(error, "sync the new directory of", full_path, root);
        }
      } else if (errno != EEXIST) {
        return ErrnoStatus(errno, "create a directory for", full_path, root);
      }
      fd = ::openat(current.get(), component.c_str(), kFlags);
    }
    if (fd < 0) {
      const int error = errno;
      struct stat info {};
      if ((error == ELOOP || error == ENOTDIR) &&
          ::fstatat(current.get(), component.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISLNK(info.st_mode)) {
        return SymlinkRefused(component, full_path);
      }
      if (error == ENOTDIR && create) {
        return Status::FailedPrecondition(
                   "cannot create '{}' in warehouse {}: its parent '{}' is a file, not a directory",
                   full_path, root, directory.substr(0, end))
            .WithResource(std::string(full_path))
            .WithHint("delete or rename that file, or choose another path");
      }
      return ErrnoStatus(error, "open the directory of", full_path, root);
    }
    current = Fd(fd);
  }
  return current;
}

// Opens a regular file for reading without following a symlink in any component. O_NONBLOCK
// keeps a FIFO planted in the warehouse from blocking the open; anything but a regular file is
// refused.
static Result<Fd> OpenFileForReading(int root_fd, std::string_view relative,
                                     const std::string& root) {
  auto [directory, name] = SplitParent(relative);
  MW_ASSIGN_OR_RETURN(Fd parent, OpenDirectory(root_fd, directory, false, relative, root));
  const std::string file_name(name);
  const int fd =
      ::openat(parent.get(), file_name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ELOOP) return SymlinkRefused(name, relative);
    return ErrnoStatus(errno, "open", relative, root);
  }
  Fd file(fd);
  struct stat info {};
  if (::fstat(file.get(), &info) != 0) return ErrnoStatus(errno, "stat", relative, root);
  if (!S_ISREG(info.st_mode)) return NotARegularFile(info, "read", relative, root);
  if (::fcntl(file.get(), F_SETFL, O_RDONLY) != 0) {
    return ErrnoStatus(errno, "open", relative, root);
  }
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
        .WithResource(root)
        .WithHint("check that every directory on the way to it exists and is searchable");
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
  return ResolveIn(path, /*allow_root=*/false);
}

Result<std::string> LocalFileIO::ResolveIn(std::string_view path, bool allow_root) const {
  const std::string_view shown = path.substr(0, 200);
  auto parsed = ParseLocation(path);
  if (!parsed.ok()) {
    return std::move(parsed).error().WithContext(
        fmt::format("in path '{}' (warehouse {})", shown, root_));
  }
  const ParsedLocation& location = *parsed;
  if (!location.scheme.empty() && location.scheme != "file") {
    return Status::InvalidArgument("'{}' is a {}:// location, but this warehouse is local ({})",
                                   shown, location.scheme, root_)
        .WithResource(std::string(shown))
        .WithHint("use a path relative to the warehouse, or a file:// URI inside it");
  }
  std::string relative = location.path;
  if (relative.starts_with('/')) {
    // Absolute: must name something below the root. Compare whole components so that
    // "/w-other" is not taken to be inside "/w".
    const std::string_view root = root_;
    if (!(relative.starts_with(root) &&
          (relative.size() == root.size() || relative[root.size()] == '/' || root == "/"))) {
      return Status::PermissionDenied("path '{}' is outside the warehouse root {}", shown, root_)
          .WithResource(std::string(shown))
          .WithHint(std::string(kStayInsideHint));
    }
    relative.erase(0, root.size());
  }
  if (allow_root && NamesStartingDirectory(relative)) return std::string();
  auto normalized = NormalizeRelativePath(relative);
  if (!normalized.ok()) {
    return std::move(normalized)
        .error()
        .WithResource(std::string(shown))
        .WithContext(fmt::format("in path '{}' (warehouse {})", shown, root_));
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
  if (IsTempFileName(name)) {
    return Status::InvalidArgument(
               "cannot write '{}' in warehouse {}: names like '.<name>{}<random>' are reserved "
               "for in-flight writes (hidden from List, removed as stale)",
               relative, root_, kTempMarker)
        .WithResource(relative)
        .WithHint("choose a name that does not both start with '.' and contain '.tmp-'");
  }
  MW_ASSIGN_OR_RETURN(Fd parent, OpenDirectory(root_fd_, directory, true, relative, root_));
  const std::string target(name);
  const std::string temp = TempName(target);

  Fd file(::openat(parent.get(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (file.get() < 0) return ErrnoStatus(errno, "create a temp file for", relative, root_);
  auto remove_temp = [&] { ::unlinkat(parent.get(), temp.c_str(), 0); };

  if (const int error = WriteAll(file.get(), contents); error != 0) {
    remove_temp();
    return ErrnoStatus(error, "write", relative, root_);
  }
  // The data must be on disk before the rename makes it visible, or a crash could leave the
  // new name pointing at an empty or partial file.
  if (const int error = FsyncFd(file.get()); error != 0) {
    remove_temp();
    return ErrnoStatus(error, "sync", relative, root_);
  }
  if (::close(file.Release()) != 0 && errno != EINTR) {
    const int error = errno;
    remove_temp();
    return ErrnoStatus(error, "close", relative, root_);
  }
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
      }
      remove_temp();  // after link() the target keeps the data; on failure the temp goes
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
  if (const int error = FsyncFd(parent.get()); error != 0) {
    return ErrnoStatus(error, "sync the directory of", relative, root_)
        .WithContext("the new contents are in place but may not survive a crash");
  }
  return Status::OK();
}

namespace {

// Calls `visit(name, info)` for every entry of `directory_fd` except ".", ".." and entries that
// vanished meanwhile, in name order; `info` is from lstat, so symlinks are seen, never followed.
// Stops at the first error, of the walk or of `visit`.
template <typename Visit>
Status ForEachEntry(int directory_fd, const std::string& relative_dir, const std::string& root,
                    Visit&& visit) {
  const int fd = ::fcntl(directory_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(errno, "list", relative_dir, root);
  DIR* dir = ::fdopendir(fd);  // owns fd from here on
  if (dir == nullptr) {
    const int error = errno;
    ::close(fd);
    return ErrnoStatus(error, "list", relative_dir, root);
  }
  std::unique_ptr<DIR, int (*)(DIR*)> closer(dir, ::closedir);
  ::rewinddir(dir);  // a dup shares its position with the original descriptor
  std::vector<std::string> names;
  while (true) {
    errno = 0;
    struct dirent* entry = ::readdir(dir);
    if (entry == nullptr) {
      if (errno != 0) return ErrnoStatus(errno, "list", relative_dir, root);
      break;
    }
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    struct stat info {};
    if (::fstatat(directory_fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // deleted while we listed
      const std::string path = relative_dir.empty() ? name : relative_dir + "/" + name;
      return ErrnoStatus(errno, "stat", path, root);
    }
    MW_RETURN_IF_ERROR(visit(name, info));
  }
  return Status::OK();
}

// Opens subdirectory `name` of `directory_fd` without following a symlink. Returns an invalid
// Fd (and OK) when it vanished or was replaced by a non-directory meanwhile.
Result<Fd> OpenSubdirectory(int directory_fd, const std::string& name, const std::string& path,
                            const std::string& root) {
  const int fd =
      ::openat(directory_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) return Fd(fd);
  if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return Fd();
  return ErrnoStatus(errno, "list", path, root);
}

constexpr int kMaxDepth = 256;

Status TooDeep(const std::string& path, const std::string& root) {
  return Status::FailedPrecondition("directories below '{}' in warehouse {} nest deeper than {}",
                                    path, root, kMaxDepth)
      .WithResource(path)
      .WithHint("flatten the directory tree; table layouts are a few levels deep");
}

// Collects regular files below `directory_fd` whose relative path starts with `prefix`. Skips
// symlinks and the temp files of in-flight writes.
Status ListRecursive(int directory_fd, const std::string& relative_dir, std::string_view prefix,
                     const std::string& root, std::vector<FileInfo>& files, int depth) {
  if (depth > kMaxDepth) return TooDeep(relative_dir, root);
  return ForEachEntry(
      directory_fd, relative_dir, root, [&](const std::string& name, const struct stat& info) {
        if (IsTempFileName(name) || S_ISLNK(info.st_mode)) return Status::OK();
        const std::string path = relative_dir.empty() ? name : relative_dir + "/" + name;
        // Skip subtrees that cannot contain a match: "a/b" is worth entering for prefix "a/b/c".
        const size_t common = std::min(path.size(), prefix.size());
        if (path.compare(0, common, prefix, 0, common) != 0) return Status::OK();
        if (S_ISDIR(info.st_mode)) {
          MW_ASSIGN_OR_RETURN(Fd child, OpenSubdirectory(directory_fd, name, path, root));
          if (child.get() < 0) return Status::OK();
          return ListRecursive(child.get(), path, prefix, root, files, depth + 1);
        }
        if (S_ISREG(info.st_mode) && path.size() >= prefix.size()) {
          files.push_back({path, static_cast<uint64_t>(info.st_size), ModifiedMicros(info)});
        }
        return Status::OK();
      });
}

// Deletes temp files last modified at or before `cutoff_micros` below `directory_fd`.
Status RemoveStaleRecursive(int directory_fd, const std::string& relative_dir,
                            int64_t cutoff_micros, const std::string& root, size_t& removed,
                            int depth) {
  if (depth > kMaxDepth) return TooDeep(relative_dir, root);
  return ForEachEntry(
      directory_fd, relative_dir, root, [&](const std::string& name, const struct stat& info) {
        const std::string path = relative_dir.empty() ? name : relative_dir + "/" + name;
        if (S_ISDIR(info.st_mode)) {
          MW_ASSIGN_OR_RETURN(Fd child, OpenSubdirectory(directory_fd, name, path, root));
          if (child.get() < 0) return Status::OK();
          return RemoveStaleRecursive(child.get(), path, cutoff_micros, root, removed, depth + 1);
        }
        if (!S_ISREG(info.st_mode) || !IsTempFileName(name)) return Status::OK();
        if (ModifiedMicros(info) > cutoff_micros) return Status::OK();
        if (::unlinkat(directory_fd, name.c_str(), 0) == 0) {
          ++removed;
        } else if (errno != ENOENT) {
          return ErrnoStatus(errno, "delete the stale temp file", path, root);
        }
        return Status::OK();
      });
}

}  // namespace

Result<std::vector<FileInfo>> LocalFileIO::List(std::string_view prefix) {
  std::string normalized_prefix;
  std::string_view start_dir;
  if (!prefix.empty()) {
    MW_ASSIGN_OR_RETURN(normalized_prefix, ResolveIn(prefix, /*allow_root=*/true));
    // "data/" names a directory; Resolve dropped the trailing slash, so restore it to avoid
    // matching "data-old/...".
    if (!normalized_prefix.empty() && prefix.back() == '/') normalized_prefix += '/';
    const size_t slash = normalized_prefix.rfind('/');
    if (slash != std::string::npos) {
      start_dir = std::string_view(normalized_prefix).substr(0, slash);
    }
  }
  auto directory = OpenDirectory(root_fd_, start_dir, false, normalized_prefix, root_);
  if (!directory.ok()) {
    if (directory.error().code() == StatusCode::kNotFound) return std::vector<FileInfo>{};
    return std::move(directory).error().WithContext(
        fmt::format("cannot list '{}' in warehouse {}", prefix.substr(0, 200), root_));
  }
  std::vector<FileInfo> files;
  Status listed =
      ListRecursive(directory->get(), std::string(start_dir), normalized_prefix, root_, files, 0);
  if (!listed.ok()) {
    return std::move(listed).WithContext(
        fmt::format("cannot list '{}' in warehouse {}", prefix.substr(0, 200), root_));
  }
  // The walk visits "a/b" before "a-c", but '-' sorts before '/': sort the whole list by path.
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
  if (!S_ISREG(info.st_mode)) return NotARegularFile(info, "stat", relative, root_);
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
  const auto cutoff = std::chrono::system_clock::now() - older_than;
  const int64_t cutoff_micros =
      std::chrono::duration_cast<std::chrono::microseconds>(cutoff.time_since_epoch()).count();
  size_t removed = 0;
  Status status = RemoveStaleRecursive(root_fd_, "", cutoff_micros, root_, removed, 0);
  if (!status.ok()) {
    return std::move(status).WithContext(
        fmt::format("removed {} stale temp files from warehouse {}, then stopped", removed, root_));
  }
  return removed;
}

}  // namespace meshwork::storage
