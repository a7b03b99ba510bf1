#include "storage/cached_file_io.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "storage/local_file_io.h"
#include "storage/s3_file_io.h"
#include "storage/s3_server.h"
#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork::storage {
namespace {

using ::testing::StartsWith;

std::string ReadLocal(const std::string& file) {
  std::ifstream input(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(input), std::istreambuf_iterator<char>());
}

class CachedFileIOTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(auto backend, LocalFileIO::Make((scratch_.path() / "remote").string()));
    backend_ = backend.get();
    ASSERT_OK_AND_ASSIGN(io_, CachedFileIO::Make(std::move(backend), Options(1 << 20)));
  }
  CacheOptions Options(uint64_t max_bytes) const {
    return CacheOptions{(scratch_.path() / "cache").string(), max_bytes};
  }
  std::string CacheDir() const {
    return std::filesystem::canonical(scratch_.path() / "cache").string();
  }

  testing::ScratchDir scratch_{"cache"};
  LocalFileIO* backend_ = nullptr;
  std::unique_ptr<CachedFileIO> io_;
};

TEST_F(CachedFileIOTest, DownloadsOnceAndServesTheCachedCopy) {
  ASSERT_OK(backend_->WriteFileAtomic("t/data/a.parquet", "contents of a"));
  ASSERT_OK_AND_ASSIGN(std::string file, io_->LocalPath("t/data/a.parquet"));
  EXPECT_THAT(file, StartsWith(CacheDir() + "/"));
  EXPECT_TRUE(file.ends_with(".parquet"));
  EXPECT_EQ(ReadLocal(file), "contents of a");
  EXPECT_THAT(io_->LocalPath("t/data/a.parquet"), IsOkAndHolds(file));
  EXPECT_EQ(io_->stats().misses, 1u);
  EXPECT_EQ(io_->stats().hits, 1u);
  EXPECT_EQ(io_->stats().bytes, 13u);
  EXPECT_THAT(io_->LocalPath("t/data/missing.parquet"), IsError(StatusCode::kNotFound));
  EXPECT_THAT(io_->LocalPath("../escape"), IsError(StatusCode::kPermissionDenied));
  // Everything else goes to the backend.
  EXPECT_THAT(io_->ReadRange("t/data/a.parquet", 9, 4), IsOkAndHolds(std::string("of a")));
  EXPECT_THAT(io_->Describe(), ::testing::HasSubstr("(cached in " + CacheDir() + ")"));
}

TEST_F(CachedFileIOTest, AReplacedFileIsDownloadedAgainAndTheOldCopyDropped) {
  ASSERT_OK(io_->WriteFileAtomic("f.json", "v1"));
  ASSERT_OK_AND_ASSIGN(std::string first, io_->LocalPath("f.json"));
  ASSERT_OK(io_->WriteFileAtomic("f.json", "version 2"));
  EXPECT_FALSE(std::filesystem::exists(first)) << "a write through the cache drops the copy";
  ASSERT_OK_AND_ASSIGN(std::string second, io_->LocalPath("f.json"));
  EXPECT_NE(first, second);
  EXPECT_EQ(ReadLocal(second), "version 2");
  // Replaced behind the cache's back (another process): the size check catches it.
  ASSERT_OK(backend_->WriteFileAtomic("f.json", "v3"));
  ASSERT_OK_AND_ASSIGN(std::string third, io_->LocalPath("f.json"));
  EXPECT_EQ(ReadLocal(third), "v3");
  ASSERT_OK(io_->Delete("f.json"));
  EXPECT_THAT(io_->LocalPath("f.json"), IsError(StatusCode::kNotFound));
}

TEST_F(CachedFileIOTest, EvictsTheLeastRecentlyUsedFilesBeyondTheBound) {
  ASSERT_OK_AND_ASSIGN(auto backend, LocalFileIO::Make((scratch_.path() / "remote").string()));
  ASSERT_OK_AND_ASSIGN(auto io, CachedFileIO::Make(std::move(backend), Options(250)));
  for (const char* name : {"a", "b", "c"})
    ASSERT_OK(backend_->WriteFileAtomic(name, std::string(100, name[0])));
  ASSERT_OK_AND_ASSIGN(std::string a, io->LocalPath("a"));
  ASSERT_OK_AND_ASSIGN(std::string b, io->LocalPath("b"));
  ASSERT_OK(io->LocalPath("a"));  // a is now more recent than b
  ASSERT_OK_AND_ASSIGN(std::string c, io->LocalPath("c"));
  EXPECT_TRUE(std::filesystem::exists(a));
  EXPECT_FALSE(std::filesystem::exists(b));
  EXPECT_TRUE(std::filesystem::exists(c));
  EXPECT_EQ(io->stats().bytes, 200u);
  EXPECT_EQ(io->stats().evictions, 1u);
  // A file larger than the whole cache is still served.
  ASSERT_OK(backend_->WriteFileAtomic("huge", std::string(1000, 'h')));
  ASSERT_OK_AND_ASSIGN(std::string huge, io->LocalPath("huge"));
  EXPECT_EQ(ReadLocal(huge).size(), 1000u);
}

TEST_F(CachedFileIOTest, SurvivesARestartAndNeverServesATruncatedFile) {
  ASSERT_OK(backend_->WriteFileAtomic("keep.parquet", "kept across restarts"));
  ASSERT_OK(backend_->WriteFileAtomic("cut.parquet", "this one gets truncated"));
  ASSERT_OK_AND_ASSIGN(std::string keep, io_->LocalPath("keep.parquet"));
  ASSERT_OK_AND_ASSIGN(std::string cut, io_->LocalPath("cut.parquet"));
  io_.reset();
  // What a crash can leave: a temp file of an interrupted download, and (damage from outside,
  // since the cache never renames an incomplete file into place) a short file under a cache name.
  const std::string temp = CacheDir() + "/.0123456789abcdef.tmp-123";
  std::ofstream(temp) << "partial";
  std::filesystem::resize_file(cut, 4);

  ASSERT_OK_AND_ASSIGN(auto backend, LocalFileIO::Make((scratch_.path() / "remote").string()));
  ASSERT_OK_AND_ASSIGN(auto io, CachedFileIO::Make(std::move(backend), Options(1 << 20)));
  EXPECT_FALSE(std::filesystem::exists(temp)) << "temp files of crashed downloads are removed";
  EXPECT_THAT(io->LocalPath("keep.parquet"), IsOkAndHolds(keep));
  EXPECT_EQ(io->stats().hits, 1u) << "the complete file is reused after the restart";
  ASSERT_OK_AND_ASSIGN(std::string again, io->LocalPath("cut.parquet"));
  EXPECT_EQ(ReadLocal(again), "this one gets truncated");
}

TEST_F(CachedFileIOTest, ConcurrentReadersShareOneDownload) {
  const std::string contents(200000, 'z');
  ASSERT_OK(backend_->WriteFileAtomic("shared.parquet", contents));
  std::vector<std::thread> readers;
  std::vector<std::string> paths(8);
  for (int index = 0; index < 8; ++index) {
    readers.emplace_back([&, index] {
      auto path = io_->LocalPath("shared.parquet");
      if (path.ok()) paths[index] = *path;
    });
  }
  for (auto& reader : readers)
    reader.join();
  for (const std::string& path : paths) {
    ASSERT_EQ(path, paths[0]);
  }
  EXPECT_EQ(ReadLocal(paths[0]), contents);
  EXPECT_EQ(io_->stats().misses, 1u);
  EXPECT_EQ(io_->stats().files, 1u);
}

TEST(CachedFileIOConfigTest, RefusesAnEmptyDirectoryOrBound) {
  testing::ScratchDir scratch("cache-config");
  ASSERT_OK_AND_ASSIGN(auto backend, LocalFileIO::Make((scratch.path() / "w").string()));
  EXPECT_THAT(CachedFileIO::Make(std::move(backend), CacheOptions{"", 10}),
              IsError(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace meshwork::storage

// ---- Ranged, parallel downloads (against the scripted HTTP stub speaking S3) ----

namespace meshwork::storage {
namespace {

// An object the stub serves: HEAD gives its size and the ETag of the moment (a test can change
// it between calls), GET honours Range; `fail_range` answers that one range with 500s and
// `short_range` with one byte too few.
struct StubObject {
  std::string contents;
  std::vector<std::string> etags{"\"v1\""};
  std::atomic<int> heads{0};
  std::string fail_range;
  std::string short_range;
  // That range is held (the downloader waits mid-file) until `release` or 20 s.
  std::string stall_range;
  std::atomic<bool> release{false};
  std::atomic<int> stalled{0};

  testing::StubResponse Answer(const testing::StubRequest& request) {
    if (request.method == "HEAD") {
      const int seen = heads.fetch_add(1);
      const std::string& etag = etags[std::min<size_t>(seen, etags.size() - 1)];
      return {200, {{"Content-Length", std::to_string(contents.size())}, {"ETag", etag}}, ""};
    }
    const std::string range = request.Header("range");
    if (request.method != "GET") return {405, {}, ""};
    if (range.empty()) return {200, {{"ETag", etags.back()}}, contents};
    if (range == fail_range) return {500, {}, "<Error><Code>InternalError</Code></Error>"};
    if (!stall_range.empty() && range == stall_range) {
      stalled.fetch_add(1);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (!release.load() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const size_t dash = range.find('-');
    const uint64_t first = std::stoull(range.substr(6, dash - 6));
    const uint64_t last =
        std::min<uint64_t>(std::stoull(range.substr(dash + 1)), contents.size() - 1);
    std::string body = contents.substr(first, last - first + 1);
    if (range == short_range) body.pop_back();
    return {206,
            {{"Content-Range", fmt::format("bytes {}-{}/{}", first, last, contents.size())}},
            std::move(body)};
  }
};

class CachedFileIORangedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    object_.contents.resize((5 << 18) + 123);  // 1.25 MiB + 123 bytes: three 512 KiB parts
    for (size_t i = 0; i < object_.contents.size(); ++i)
      object_.contents[i] = static_cast<char>((i * 2654435761u) >> 13);
  }
  std::unique_ptr<CachedFileIO> MakeCache() {
    S3Config config;
    config.warehouse = "s3://bucket/wh";
    config.endpoint = stub_.endpoint();
    config.credentials = {"AKIDEXAMPLE", "secret", ""};
    config.max_attempts = 2;
    config.initial_backoff = std::chrono::milliseconds(5);
    config.max_backoff = std::chrono::milliseconds(10);
    auto s3 = S3FileIO::Make(config);
    EXPECT_OK(s3);
    auto cache = CachedFileIO::Make(*std::move(s3), {.directory = CacheDir(),
                                                     .max_bytes = 64 << 20,
                                                     .download_part_size = 512 << 10,
                                                     .download_concurrency = 3});
    EXPECT_OK(cache);
    return *std::move(cache);
  }
  std::string CacheDir() const { return (scratch_.path() / "cache").string(); }
  std::vector<std::string> CacheFiles() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(CacheDir()))
      names.push_back(entry.path().filename().string());
    return names;
  }
  std::vector<std::string> Ranges() {
    std::vector<std::string> ranges;
    for (const auto& request : stub_.requests())
      if (request.method == "GET") ranges.push_back(request.Header("range"));
    std::sort(ranges.begin(), ranges.end());
    return ranges;
  }

  testing::ScratchDir scratch_{"cache-ranged"};
  StubObject object_;
  testing::HttpStub stub_{
      [this](const testing::StubRequest& request) { return object_.Answer(request); }};
};

TEST_F(CachedFileIORangedTest, ABigObjectIsFetchedInRangedPartsAndVerified) {
  auto cache = MakeCache();
  ASSERT_OK_AND_ASSIGN(std::string file, cache->LocalPath("t/data/big.parquet"));
  EXPECT_EQ(ReadLocal(file), object_.contents);
  EXPECT_THAT(Ranges(), ::testing::ElementsAre("bytes=0-524287", "bytes=1048576-1310842",
                                               "bytes=524288-1048575"));
  EXPECT_EQ(object_.heads.load(), 2) << "one lookup, one check that the version did not change";
  EXPECT_EQ(cache->stats().ranged_reads, 3u);
  EXPECT_THAT(CacheFiles(), ::testing::ElementsAre(std::filesystem::path(file).filename()));
  // Served from the cache afterwards: a lookup, no download.
  EXPECT_THAT(cache->LocalPath("t/data/big.parquet"), IsOkAndHolds(file));
  EXPECT_EQ(Ranges().size(), 3u);
}

TEST_F(CachedFileIORangedTest, AnObjectReplacedMidDownloadIsNeverCached) {
  object_.etags = {"\"v1\"", "\"v2\""};  // the check after the parts sees another version
  auto cache = MakeCache();
  EXPECT_THAT(cache->LocalPath("t/data/big.parquet"),
              IsError(StatusCode::kIOError, "changed while it was downloaded"));
  EXPECT_THAT(CacheFiles(), ::testing::IsEmpty()) << "no partial file, no temp file";
  // The next call looks the object up again (now stable at v2) and succeeds.
  ASSERT_OK_AND_ASSIGN(std::string file, cache->LocalPath("t/data/big.parquet"));
  EXPECT_EQ(ReadLocal(file), object_.contents);
}

TEST_F(CachedFileIORangedTest, AFailingOrShortPartLeavesNothingBehind) {
  object_.fail_range = "bytes=524288-1048575";
  auto cache = MakeCache();
  EXPECT_THAT(cache->LocalPath("t/data/big.parquet"),
              IsError(StatusCode::kUnavailable, "part 2 of 3"));
  EXPECT_THAT(CacheFiles(), ::testing::IsEmpty());
  object_.fail_range.clear();
  object_.short_range = "bytes=1048576-1310842";
  EXPECT_THAT(cache->LocalPath("t/data/big.parquet"), IsError(StatusCode::kIOError, "part 3 of 3"));
  EXPECT_THAT(CacheFiles(), ::testing::IsEmpty());
}

// Two processes share a cache folder. A download running in one is left alone when the other
// opens the cache (and completes); one killed mid-file (SIGKILL, parts half written) leaves a
// temp file that the next opening removes, and the file is then downloaded whole and correct.
TEST_F(CachedFileIORangedTest, ADownloadKilledMidFileLeavesNothingALiveOneIsLeftAlone) {
  object_.stall_range = "bytes=524288-1048575";
  const auto temp_files = [&] {
    int count = 0;
    for (const std::string& name : CacheFiles())
      count += name.find(".tmp-") != std::string::npos ? 1 : 0;
    return count;
  };
  const auto start_download = [&](const std::string& path) {
    const pid_t child = ::fork();
    if (child == 0) {
      auto cache = MakeCache();
      auto file = cache->LocalPath(path);
      ::_exit(file.ok() && ReadLocal(*file) == object_.contents ? 0 : 1);
    }
    return child;
  };
  const auto wait_for_stall = [&](int count) {
    for (int i = 0; i < 4000 && object_.stalled.load() < count; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return object_.stalled.load() >= count;
  };

  // A live download in another process: opening the cache here does not touch its temp file.
  const pid_t live = start_download("t/data/live.parquet");
  ASSERT_GT(live, 0);
  ASSERT_TRUE(wait_for_stall(1)) << "the child never reached the held part";
  ASSERT_EQ(temp_files(), 1);
  auto observer = MakeCache();
  EXPECT_EQ(temp_files(), 1) << "the running download's temp file was removed";
  object_.release.store(true);
  int status = 0;
  ASSERT_EQ(::waitpid(live, &status, 0), live);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the live download failed";
  EXPECT_EQ(temp_files(), 0);

  // A download killed mid-file.
  object_.release.store(false);
  const pid_t killed = start_download("t/data/killed.parquet");
  ASSERT_GT(killed, 0);
  ASSERT_TRUE(wait_for_stall(2));
  ::kill(killed, SIGKILL);
  ASSERT_EQ(::waitpid(killed, &status, 0), killed);
  object_.release.store(true);
  ASSERT_EQ(temp_files(), 1) << "the killed download left its half-written temp file";
  auto reopened = MakeCache();
  EXPECT_EQ(temp_files(), 0) << "an abandoned temp file is removed when the cache opens";
  ASSERT_OK_AND_ASSIGN(std::string file, reopened->LocalPath("t/data/killed.parquet"));
  EXPECT_EQ(ReadLocal(file), object_.contents);
  EXPECT_EQ(reopened->stats().misses, 1u);
}

TEST_F(CachedFileIORangedTest, ASmallObjectIsOneWholeRead) {
  object_.contents = "tiny";
  auto cache = MakeCache();
  ASSERT_OK_AND_ASSIGN(std::string file, cache->LocalPath("t/data/small.parquet"));
  EXPECT_EQ(ReadLocal(file), "tiny");
  EXPECT_THAT(Ranges(), ::testing::ElementsAre(""));
  EXPECT_EQ(cache->stats().ranged_reads, 0u);
}

TEST(CachedFileIOConfigTest, RefusesZeroPartsOrConcurrency) {
  testing::ScratchDir scratch("cache-config");
  ASSERT_OK_AND_ASSIGN(auto backend, LocalFileIO::Make((scratch.path() / "r").string()));
  EXPECT_THAT(CachedFileIO::Make(std::move(backend), {.directory = (scratch.path() / "c").string(),
                                                      .download_part_size = 0}),
              IsError(StatusCode::kInvalidArgument, "part size"));
}

}  // namespace
}  // namespace meshwork::storage
