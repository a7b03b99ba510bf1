#include "storage/cached_file_io.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "storage/local_file_io.h"
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
