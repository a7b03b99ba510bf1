#include "storage/cached_file_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <future>
#include <list>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "common/uuid.h"
#include "storage/s3_file_io.h"
#include "storage/sigv4.h"

namespace meshwork::storage {
namespace {

constexpr std::string_view kTempMarker = ".tmp-";

// "<64 hex>" plus the original file's extension when it is short and plain (".parquet"), so
// that readers guessing a format from the name still can.
std::string CacheName(std::string_view path, uint64_t size, std::string_view etag) {
  std::string name = sigv4::Sha256Hex(fmt::format("{}\n{}\n{}", path, size, etag));
  const size_t slash = path.rfind('/');
  const size_t dot = path.rfind('.');
  if (dot != std::string_view::npos && (slash == std::string_view::npos || dot > slash)) {
    const std::string_view extension = path.substr(dot);
    const bool plain =
        extension.size() <= 12 && std::all_of(extension.begin() + 1, extension.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        });
    if (plain && extension.size() > 1) name += extension;
  }
  return name;
}

bool IsCacheName(std::string_view name) {
  if (name.size() < 64) return false;
  return std::all_of(name.begin(), name.begin() + 64,
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }) &&
         (name.size() == 64 || name[64] == '.') && name.find(kTempMarker) == std::string_view::npos;
}

Status CacheError(int error, std::string_view action, const std::string& file) {
  return Status::IOError("cannot {} cache file {}: {}", action, file, std::strerror(error))
      .WithResource(file)
      .WithHint("check the cache directory (free space, permissions), or clear it and retry");
}

}  // namespace

class CachedFileIO::State {
 public:
  explicit State(CacheOptions options) : options_(std::move(options)) {}

  const CacheOptions& options() const { return options_; }

  // A download holds an exclusive flock on its temp file until the file has its cached name, and
  // the kernel drops the lock when the process dies: a temp file that can be locked belongs to a
  // download that crashed, one that cannot to a download still running in another process that
  // shares this folder (a second server, the CLI).
  static void RemoveIfAbandoned(const std::string& temp) {
    const int fd = ::open(temp.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) ::unlink(temp.c_str());
    ::close(fd);
  }

  // Indexes what an earlier process left: complete files by last use (mtime), temp files of
  // interrupted downloads removed.
  Status Load() {
    DIR* directory = ::opendir(options_.directory.c_str());
    if (directory == nullptr) return CacheError(errno, "list", options_.directory);
    std::vector<std::pair<int64_t, std::pair<std::string, uint64_t>>> found;
    while (dirent* entry = ::readdir(directory)) {
      const std::string name = entry->d_name;
      const std::string file = options_.directory + "/" + name;
      if (name.find(kTempMarker) != std::string::npos) {
        RemoveIfAbandoned(file);
        continue;
      }
      struct stat info {};
      if (!IsCacheName(name) || ::lstat(file.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
        continue;
      }
      found.push_back(
          {static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec,
           {name, static_cast<uint64_t>(info.st_size)}});
    }
    ::closedir(directory);
    std::sort(found.begin(), found.end());
    std::lock_guard lock(mutex_);
    for (const auto& [mtime, entry] : found)
      Insert(entry.first, entry.second, "");
    Evict("");
    return Status::OK();
  }

  // The cached file for `name`, or "" when absent. Marks it most recently used.
  std::string Lookup(const std::string& name, uint64_t size) {
    std::lock_guard lock(mutex_);
    auto found = entries_.find(name);
    if (found == entries_.end()) return {};
    const std::string file = options_.directory + "/" + name;
    struct stat info {};
    if (::stat(file.c_str(), &info) != 0 || static_cast<uint64_t>(info.st_size) != size) {
      Remove(found);  // deleted or damaged behind our back: download again
      return {};
    }
    lru_.splice(lru_.begin(), lru_, found->second.position);
    ::utimensat(AT_FDCWD, file.c_str(), nullptr, 0);  // so the order survives a restart
    ++stats_.hits;
    return file;
  }

  // Downloads `name` once however many callers ask at the same time.
  Result<std::string> Fetch(FileIO& backend, std::string_view path, const std::string& name,
                            const FileVersion& version) {
    const uint64_t size = version.size;
    std::shared_future<Status> pending;
    bool download = false;
    std::promise<Status> promise;
    {
      std::lock_guard lock(mutex_);
      auto found = inflight_.find(name);
      if (found != inflight_.end()) {
        pending = found->second;
      } else {
        pending = promise.get_future().share();
        inflight_.emplace(name, pending);
        download = true;
        ++stats_.misses;
      }
    }
    if (download) {
      Status status = Download(backend, path, name, version);
      {
        std::lock_guard lock(mutex_);
        if (status.ok()) {
          Insert(name, size, std::string(path));
          Evict(name);
        }
        inflight_.erase(name);
      }
      promise.set_value(status);
    }
    MW_RETURN_IF_ERROR(pending.get());
    return options_.directory + "/" + name;
  }

  void Invalidate(std::string_view path) {
    std::lock_guard lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      auto next = std::next(it);
      if (it->second.path == path && inflight_.count(it->first) == 0) Remove(it);
      it = next;
    }
  }

  CacheStats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }

 private:
  struct Entry {
    uint64_t size = 0;
    std::string path;  // as asked for; "" for files found at start
    std::list<std::string>::iterator position;
  };

  Status Download(FileIO& backend, std::string_view path, const std::string& name,
                  const FileVersion& version) {
    const std::string random = Uuid::V4().ToString();
    const std::string temp =
        options_.directory + "/." + name.substr(0, 16) + std::string(kTempMarker) + random;
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return CacheError(errno, "create", temp);
    // Held until the rename (RemoveIfAbandoned); a fresh file, so it is granted at once.
    Status status =
        ::flock(fd, LOCK_EX | LOCK_NB) == 0 ? Status::OK() : CacheError(errno, "lock", temp);
    if (status.ok()) {
      status = version.size > options_.download_part_size
                   ? DownloadInParts(backend, path, version, fd, temp)
                   : DownloadWhole(backend, path, version.size, fd, temp);
    }
    if (status.ok() && ::fsync(fd) != 0) status = CacheError(errno, "write", temp);
    const std::string file = options_.directory + "/" + name;
    if (status.ok() && ::rename(temp.c_str(), file.c_str()) != 0) {
      status = CacheError(errno, "write", file);
    }
    // Whatever failed, only the complete file may ever carry the cached name.
    if (!status.ok()) ::unlink(temp.c_str());
    ::close(fd);
    return status;
  }

  static Status WriteAt(int fd, std::string_view bytes, uint64_t offset, const std::string& temp) {
    size_t written = 0;
    while (written < bytes.size()) {
      const ssize_t result = ::pwrite(fd, bytes.data() + written, bytes.size() - written,
                                      static_cast<off_t>(offset + written));
      if (result < 0 && errno == EINTR) continue;
      if (result <= 0) return CacheError(result < 0 ? errno : EIO, "write", temp);
      written += static_cast<size_t>(result);
    }
    return Status::OK();
  }

  static Status Changed(std::string_view path, std::string_view detail) {
    // The next LocalPath looks the object up again and downloads the new version.
    return Status::IOError("'{}' changed while it was downloaded into the cache ({})", path, detail)
        .WithResource(std::string(path))
        .WithHint("retry; a writer replaced the file meanwhile");
  }

  Status DownloadWhole(FileIO& backend, std::string_view path, uint64_t size, int fd,
                       const std::string& temp) {
    MW_ASSIGN_OR_RETURN(std::string contents, backend.ReadFile(path));
    if (contents.size() != size) {
      return Changed(path, fmt::format("{} bytes expected, {} read", size, contents.size()));
    }
    return WriteAt(fd, contents, 0, temp);
  }

  // Parts go to their offsets in the temp file from `download_concurrency` threads; the first
  // failure stops the others from starting new parts.
  Status DownloadInParts(FileIO& backend, std::string_view path, const FileVersion& version, int fd,
                         const std::string& temp) {
    const uint64_t part_size = options_.download_part_size;
    const uint64_t parts = (version.size + part_size - 1) / part_size;
    std::atomic<uint64_t> next_part{0};
    std::atomic<bool> failed{false};
    std::mutex failure_mutex;
    Status failure;
    const auto fetch_parts = [&] {
      for (;;) {
        const uint64_t part = next_part.fetch_add(1);
        if (part >= parts || failed.load()) return;
        const uint64_t offset = part * part_size;
        const uint64_t length = std::min(part_size, version.size - offset);
        auto bytes = backend.ReadRange(path, offset, length);
        Status status;
        if (!bytes.ok()) {
          status = std::move(bytes).error().WithContext(fmt::format(
              "cannot download part {} of {} of '{}' into the cache", part + 1, parts, path));
        } else if (bytes->size() != length) {
          status = Changed(path, fmt::format("part {} of {}: {} bytes at {} expected, {} read",
                                             part + 1, parts, length, offset, bytes->size()));
        } else {
          status = WriteAt(fd, *bytes, offset, temp);
        }
        {
          std::lock_guard lock(mutex_);
          ++stats_.ranged_reads;
        }
        if (!status.ok()) {
          std::lock_guard lock(failure_mutex);
          if (!failed.exchange(true)) failure = std::move(status);
          return;
        }
      }
    };
    const int threads =
        static_cast<int>(std::min<uint64_t>(std::max(options_.download_concurrency, 1), parts));
    std::vector<std::thread> workers;
    for (int i = 1; i < threads; ++i)
      workers.emplace_back(fetch_parts);
    fetch_parts();
    for (std::thread& worker : workers)
      worker.join();
    if (failed.load()) return failure;
    // Ranges of one object read at different moments: make sure they all were of one version.
    MW_ASSIGN_OR_RETURN(FileVersion after, backend.Version(path));
    if (after.size != version.size || after.etag != version.etag) {
      return Changed(path, fmt::format("size {} ETag '{}' at the start, size {} ETag '{}' after",
                                       version.size, version.etag, after.size, after.etag));
    }
    return Status::OK();
  }

  void Insert(const std::string& name, uint64_t size, std::string path) {
    if (auto found = entries_.find(name); found != entries_.end()) Remove(found);
    lru_.push_front(name);
    entries_.emplace(name, Entry{size, std::move(path), lru_.begin()});
    stats_.bytes += size;
    ++stats_.files;
  }

  void Remove(std::map<std::string, Entry>::iterator entry) {
    ::unlink((options_.directory + "/" + entry->first).c_str());
    stats_.bytes -= entry->second.size;
    --stats_.files;
    lru_.erase(entry->second.position);
    entries_.erase(entry);
  }

  // Deletes least recently used files until the cache fits, never `keep` (just fetched).
  void Evict(const std::string& keep) {
    while (stats_.bytes > options_.max_bytes && !lru_.empty()) {
      auto victim = std::prev(lru_.end());
      if (*victim == keep) {
        if (lru_.size() == 1) break;
        victim = std::prev(victim);
      }
      Remove(entries_.find(*victim));
      ++stats_.evictions;
    }
  }

  CacheOptions options_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // most recently used first
  std::map<std::string, std::shared_future<Status>> inflight_;
  CacheStats stats_;
};

Result<std::unique_ptr<CachedFileIO>> CachedFileIO::Make(std::unique_ptr<FileIO> backend,
                                                         CacheOptions options) {
  if (options.download_part_size == 0 || options.download_concurrency < 1) {
    return Status::InvalidArgument(
               "the read-through cache's download part size and concurrency must be positive")
        .WithHint("e.g. 8 MiB parts, 4 at a time");
  }
  if (options.directory.empty() || options.max_bytes == 0) {
    return Status::InvalidArgument("the read-through cache needs a directory and a size bound")
        .WithHint("set the cache directory and a maximum size above zero");
  }
  std::error_code error;
  std::filesystem::create_directories(options.directory, error);
  if (error) {
    return Status::IOError("cannot create cache directory {}: {}", options.directory,
                           error.message())
        .WithResource(options.directory)
        .WithHint("choose a writable cache directory");
  }
  const std::filesystem::path canonical = std::filesystem::canonical(options.directory, error);
  if (!error) options.directory = canonical.string();
  auto state = std::make_unique<State>(std::move(options));
  MW_RETURN_IF_ERROR(state->Load());
  return std::unique_ptr<CachedFileIO>(new CachedFileIO(std::move(backend), std::move(state)));
}

CachedFileIO::CachedFileIO(std::unique_ptr<FileIO> backend, std::unique_ptr<State> state)
    : backend_(std::move(backend)), state_(std::move(state)) {}
CachedFileIO::~CachedFileIO() = default;

std::string_view CachedFileIO::Scheme() const {
  return backend_->Scheme();
}

std::string CachedFileIO::Describe() const {
  return fmt::format("{} (cached in {})", backend_->Describe(), state_->options().directory);
}

Result<std::string> CachedFileIO::ReadFile(std::string_view path) {
  return backend_->ReadFile(path);
}

Result<std::string> CachedFileIO::ReadRange(std::string_view path, uint64_t offset,
                                            uint64_t length) {
  return backend_->ReadRange(path, offset, length);
}

Status CachedFileIO::WriteFileAtomic(std::string_view path, std::string_view contents,
                                     WriteOptions options) {
  Status status = backend_->WriteFileAtomic(path, contents, options);
  state_->Invalidate(path);
  return status;
}

Result<std::vector<FileInfo>> CachedFileIO::List(std::string_view prefix) {
  return backend_->List(prefix);
}

Status CachedFileIO::Delete(std::string_view path) {
  Status status = backend_->Delete(path);
  state_->Invalidate(path);
  return status;
}

Result<bool> CachedFileIO::Exists(std::string_view path) {
  return backend_->Exists(path);
}

Result<uint64_t> CachedFileIO::Size(std::string_view path) {
  return backend_->Size(path);
}

Result<std::string> CachedFileIO::LocalPath(std::string_view path) {
  // The version the cache must hold: size always, the ETag where the backend has one.
  MW_ASSIGN_OR_RETURN(FileVersion version, backend_->Version(path));
  const uint64_t size = version.size;
  const std::string& etag = version.etag;
  const std::string name = CacheName(path, size, etag);
  if (std::string file = state_->Lookup(name, size); !file.empty()) return file;
  return state_->Fetch(*backend_, path, name, version);
}

CacheStats CachedFileIO::stats() const {
  return state_->stats();
}

}  // namespace meshwork::storage
