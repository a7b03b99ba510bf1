#include "storage/local_file_io.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Paths(const std::vector<FileInfo>& files) {
  std::vector<std::string> paths;
  for (const FileInfo& file : files)
    paths.push_back(file.path);
  return paths;
}

class LocalFileIOTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(io_, LocalFileIO::Make((scratch_.path() / "warehouse").string()));
  }
  std::string Root() const { return io_->root(); }

  testing::ScratchDir scratch_{"storage"};
  testing::ScratchDir outside_{"outside"};
  std::unique_ptr<LocalFileIO> io_;
};

TEST_F(LocalFileIOTest, WritesAndReadsBackWithParentsCreated) {
  ASSERT_OK(io_->WriteFileAtomic("db/table/metadata/v1.metadata.json", "{\"a\":1}"));
  EXPECT_THAT(io_->ReadFile("db/table/metadata/v1.metadata.json"),
              IsOkAndHolds(std::string("{\"a\":1}")));
  EXPECT_THAT(io_->Size("db/table/metadata/v1.metadata.json"), IsOkAndHolds(7u));
  EXPECT_THAT(io_->Exists("db/table/metadata/v1.metadata.json"), IsOkAndHolds(true));
  EXPECT_THAT(io_->Exists("db/table/metadata/v2.metadata.json"), IsOkAndHolds(false));
  EXPECT_THAT(io_->Exists("no/such/dir/file"), IsOkAndHolds(false));
  // Binary contents, empty files and overwrite.
  const std::string binary("\0\x01\xff\n", 4);
  ASSERT_OK(io_->WriteFileAtomic("bin", binary));
  EXPECT_THAT(io_->ReadFile("bin"), IsOkAndHolds(binary));
  ASSERT_OK(io_->WriteFileAtomic("bin", ""));
  EXPECT_THAT(io_->ReadFile("bin"), IsOkAndHolds(std::string()));
}

TEST_F(LocalFileIOTest, AcceptsAbsolutePathsAndFileUrisInsideTheRoot) {
  ASSERT_OK(io_->WriteFileAtomic(Root() + "/a/b.txt", "abs"));
  EXPECT_THAT(io_->ReadFile("a/b.txt"), IsOkAndHolds(std::string("abs")));
  EXPECT_THAT(io_->ReadFile("file://" + Root() + "/a/b.txt"), IsOkAndHolds(std::string("abs")));
  ASSERT_OK(io_->WriteFileAtomic("file://" + Root() + "/a/with%20space.txt", "sp"));
  EXPECT_THAT(io_->ReadFile("a/with space.txt"), IsOkAndHolds(std::string("sp")));
  EXPECT_THAT(io_->LocalPath("a//b.txt"), IsOkAndHolds(Root() + "/a/b.txt"));
}

TEST_F(LocalFileIOTest, ReadRangeHandlesTheEndOfTheFile) {
  ASSERT_OK(io_->WriteFileAtomic("r", "0123456789"));
  EXPECT_THAT(io_->ReadRange("r", 2, 3), IsOkAndHolds(std::string("234")));
  EXPECT_THAT(io_->ReadRange("r", 8, 100), IsOkAndHolds(std::string("89")));
  EXPECT_THAT(io_->ReadRange("r", 10, 5), IsOkAndHolds(std::string()));
  EXPECT_THAT(io_->ReadRange("r", 1000, 5), IsOkAndHolds(std::string()));
  EXPECT_THAT(io_->ReadRange("missing", 0, 5).status(), IsError(StatusCode::kNotFound, "missing"));
}

TEST_F(LocalFileIOTest, CreateOnlyRefusesExistingFiles) {
  ASSERT_OK(io_->WriteFileAtomic("m/v1.json", "first", {.create_only = true}));
  EXPECT_THAT(io_->WriteFileAtomic("m/v1.json", "second", {.create_only = true}),
              IsError(StatusCode::kAlreadyExists, "m/v1.json"));
  EXPECT_THAT(io_->ReadFile("m/v1.json"), IsOkAndHolds(std::string("first")));
  ASSERT_OK_AND_ASSIGN(auto files, io_->List("m/"));
  EXPECT_THAT(Paths(files), ElementsAre("m/v1.json"));  // the loser's temp file is gone
}

TEST_F(LocalFileIOTest, CreateOnlyHasExactlyOneWinnerUnderContention) {
  constexpr int kThreads = 8;
  for (int round = 0; round < 20; ++round) {
    const std::string name = "race/v" + std::to_string(round) + ".json";
    std::atomic<int> winners = 0, losers = 0;
    std::vector<std::thread> threads;
    for (int writer = 0; writer < kThreads; ++writer) {
      threads.emplace_back([&, writer] {
        Status status =
            io_->WriteFileAtomic(name, "writer " + std::to_string(writer), {.create_only = true});
        if (status.ok()) {
          ++winners;
        } else if (status.code() == StatusCode::kAlreadyExists) {
          ++losers;
        }
      });
    }
    for (auto& thread : threads)
      thread.join();
    EXPECT_EQ(winners, 1);
    EXPECT_EQ(losers, kThreads - 1);
  }
}

TEST_F(LocalFileIOTest, ListsByDirectoryAndNamePrefixSorted) {
  for (const char* path : {"t/data/b.parquet", "t/data/a.parquet", "t/data/sub/c.parquet",
                           "t/data-old/x.parquet", "t/metadata/v1.json", "u/z"}) {
    ASSERT_OK(io_->WriteFileAtomic(path, path));
  }
  // A crashed writer's leftovers are not listed.
  std::ofstream(Root() + "/t/data/.a.parquet.tmp-deadbeef") << "partial";
  ASSERT_OK_AND_ASSIGN(auto data, io_->List("t/data/"));
  EXPECT_THAT(Paths(data),
              ElementsAre("t/data/a.parquet", "t/data/b.parquet", "t/data/sub/c.parquet"));
  EXPECT_EQ(data[0].size, std::string("t/data/a.parquet").size());
  EXPECT_GT(data[0].modified_micros, 0);
  ASSERT_OK_AND_ASSIGN(auto partial, io_->List("t/data"));
  EXPECT_EQ(partial.size(), 4u);  // includes data-old/
  ASSERT_OK_AND_ASSIGN(auto names, io_->List("t/data/a"));
  EXPECT_THAT(Paths(names), ElementsAre("t/data/a.parquet"));
  ASSERT_OK_AND_ASSIGN(auto everything, io_->List(""));
  EXPECT_EQ(everything.size(), 6u);
  ASSERT_OK_AND_ASSIGN(auto none, io_->List("nothing/here/"));
  EXPECT_TRUE(none.empty());
}

TEST_F(LocalFileIOTest, DeleteAndNotFoundErrorsNameThePath) {
  ASSERT_OK(io_->WriteFileAtomic("d/x", "1"));
  ASSERT_OK(io_->Delete("d/x"));
  EXPECT_THAT(io_->Exists("d/x"), IsOkAndHolds(false));
  Status again = io_->Delete("d/x");
  EXPECT_THAT(again, IsError(StatusCode::kNotFound, "d/x"));
  EXPECT_THAT(again.ToString(), HasSubstr(Root()));                       // where
  EXPECT_THAT(again.ToString(), HasSubstr("No such file or directory"));  // why
  EXPECT_FALSE(again.hint().empty());                                     // what to do
  EXPECT_THAT(io_->ReadFile("d/nope").status(), IsError(StatusCode::kNotFound, "d/nope"));
  EXPECT_THAT(io_->Size("d/nope").status(), IsError(StatusCode::kNotFound));
  EXPECT_THAT(io_->ReadFile("d").status(), IsError(StatusCode::kInvalidArgument, "directory"));
  EXPECT_THAT(io_->Delete("d"), IsError(StatusCode::kInvalidArgument, "directory"));
  EXPECT_TRUE(std::filesystem::is_directory(Root() + "/d"));
}

TEST_F(LocalFileIOTest, RefusesPathsThatEscapeTheRoot) {
  std::ofstream(outside_.path() / "secret") << "secret";
  const std::string outside_file = (outside_.path() / "secret").string();
  for (const std::string& path :
       {std::string("../outside"), std::string("a/../../x"), std::string("a/.."),
        std::string("/etc/passwd"), std::string("file:///etc/passwd"), outside_file,
        "file://" + outside_file, "file://" + Root() + "/a/%2e%2e/%2e%2e/x",
        Root() + "/../" + outside_.path().filename().string() + "/secret", Root() + "-other/x"}) {
    SCOPED_TRACE(path);
    EXPECT_THAT(io_->ReadFile(path).status(), IsError(StatusCode::kPermissionDenied));
    Status written = io_->WriteFileAtomic(path, "x");
    EXPECT_THAT(written, IsError(StatusCode::kPermissionDenied));
    EXPECT_THAT(written.ToString(), HasSubstr("warehouse root"));
    EXPECT_THAT(written.ToString(), HasSubstr(path));  // names the offending path as given
    EXPECT_THAT(io_->List(path).status(), IsError(StatusCode::kPermissionDenied));
    EXPECT_THAT(io_->Delete(path), IsError(StatusCode::kPermissionDenied));
    EXPECT_THAT(io_->LocalPath(path).status(), IsError(StatusCode::kPermissionDenied));
  }
  EXPECT_THAT(io_->ReadFile(outside_file + "x").status(), IsError(StatusCode::kPermissionDenied));
  std::ifstream secret(outside_file);
  std::string contents((std::istreambuf_iterator<char>(secret)), {});
  EXPECT_EQ(contents, "secret");
}

TEST_F(LocalFileIOTest, RefusesOtherSchemesAndHostileInput) {
  EXPECT_THAT(io_->ReadFile("s3://bucket/key").status(),
              IsError(StatusCode::kInvalidArgument, "s3"));
  EXPECT_THAT(io_->ReadFile("").status(), IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(io_->ReadFile(std::string(10000, 'a')).status(),
              IsError(StatusCode::kInvalidArgument, "longer than"));
  EXPECT_THAT(io_->WriteFileAtomic(std::string("a\0b", 3), "x"),
              IsError(StatusCode::kInvalidArgument, "NUL"));
  EXPECT_THAT(io_->WriteFileAtomic(std::string(300, 'n'), "x"),
              IsError(StatusCode::kInvalidArgument, "255"));
}

TEST_F(LocalFileIOTest, NeverFollowsSymlinks) {
  std::ofstream(outside_.path() / "secret") << "secret";
  // A file symlink and a directory symlink pointing out, and one pointing inside.
  ASSERT_EQ(::symlink((outside_.path() / "secret").c_str(), (Root() + "/leak").c_str()), 0);
  ASSERT_EQ(::symlink(outside_.path().c_str(), (Root() + "/leakdir").c_str()), 0);
  ASSERT_OK(io_->WriteFileAtomic("real/file", "inside"));
  ASSERT_EQ(::symlink((Root() + "/real").c_str(), (Root() + "/alias").c_str()), 0);

  EXPECT_THAT(io_->ReadFile("leak").status(),
              IsError(StatusCode::kPermissionDenied, "symbolic link"));
  EXPECT_THAT(io_->ReadRange("leak", 0, 3).status(), IsError(StatusCode::kPermissionDenied));
  EXPECT_THAT(io_->ReadFile("leakdir/secret").status(), IsError(StatusCode::kPermissionDenied));
  EXPECT_THAT(io_->WriteFileAtomic("leakdir/planted", "x"), IsError(StatusCode::kPermissionDenied));
  EXPECT_THAT(io_->Size("leak").status(), IsError(StatusCode::kPermissionDenied));
  EXPECT_THAT(io_->Exists("leakdir/secret").status(), IsError(StatusCode::kPermissionDenied));
  EXPECT_THAT(io_->Delete("leakdir/secret"), IsError(StatusCode::kPermissionDenied));
  EXPECT_THAT(io_->LocalPath("leak").status(), IsError(StatusCode::kPermissionDenied));
  EXPECT_THAT(io_->LocalPath("leakdir/secret").status(), IsError(StatusCode::kPermissionDenied));
  // Symlinks inside the root are refused too: the rule is simply "no symlinks".
  EXPECT_THAT(io_->ReadFile("alias/file").status(), IsError(StatusCode::kPermissionDenied));
  ASSERT_OK_AND_ASSIGN(auto listed, io_->List(""));
  EXPECT_THAT(Paths(listed), ElementsAre("real/file"));
  EXPECT_THAT(io_->List("leakdir/").status(),
              IsError(StatusCode::kPermissionDenied, "symbolic link"));
  EXPECT_THAT(io_->List("alias/").status(), IsError(StatusCode::kPermissionDenied));
  ASSERT_OK_AND_ASSIGN(auto by_name, io_->List("lea"));  // matches the links' names only
  EXPECT_TRUE(by_name.empty());
  EXPECT_FALSE(std::filesystem::exists(outside_.path() / "planted"));
  // Overwriting the symlink itself replaces the link, never the file it points to.
  ASSERT_OK(io_->WriteFileAtomic("leak", "replaced"));
  EXPECT_THAT(io_->ReadFile("leak"), IsOkAndHolds(std::string("replaced")));
  std::ifstream secret(outside_.path() / "secret");
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(secret)), {}), "secret");
}

// Runs WriteFileAtomic in a child process that dies (no cleanup, no flush) at `stage`.
void WriteAndCrashAt(LocalFileIO& io, const std::string& path, const std::string& contents,
                     const std::string& stage) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    io.SetStageHookForTesting([&](std::string_view reached) {
      if (reached == stage) ::_exit(42);
    });
    (void)io.WriteFileAtomic(path, contents);
    ::_exit(0);
  }
  int wait_status = 0;
  ASSERT_EQ(::waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFEXITED(wait_status));
  ASSERT_EQ(WEXITSTATUS(wait_status), 42) << "the child did not reach stage " << stage;
}

TEST_F(LocalFileIOTest, CrashBetweenWriteAndRenameLeavesTheOldFile) {
  const std::string old_contents(100000, 'o');
  const std::string new_contents(200000, 'n');
  ASSERT_OK(io_->WriteFileAtomic("t/metadata.json", old_contents));
  WriteAndCrashAt(*io_, "t/metadata.json", new_contents, "written");
  EXPECT_THAT(io_->ReadFile("t/metadata.json"), IsOkAndHolds(old_contents));
  // The crashed writer's temp file exists, is invisible to List, and is cleaned up.
  ASSERT_OK_AND_ASSIGN(auto listed, io_->List("t/"));
  EXPECT_THAT(Paths(listed), ElementsAre("t/metadata.json"));
  EXPECT_THAT(io_->RemoveStaleTempFiles(std::chrono::seconds(3600)), IsOkAndHolds(0u));
  EXPECT_THAT(io_->RemoveStaleTempFiles(std::chrono::seconds(-1)), IsOkAndHolds(1u));

  WriteAndCrashAt(*io_, "t/metadata.json", new_contents, "renamed");
  EXPECT_THAT(io_->ReadFile("t/metadata.json"), IsOkAndHolds(new_contents));
}

TEST_F(LocalFileIOTest, CrashBeforeRenameOfANewFileLeavesNoFile) {
  WriteAndCrashAt(*io_, "fresh/file", "contents", "written");
  EXPECT_THAT(io_->Exists("fresh/file"), IsOkAndHolds(false));
}

TEST_F(LocalFileIOTest, ReadersSeeOnlyCompletePayloadsDuringOverwrites) {
  constexpr int kWriters = 8, kWrites = 200;
  auto payload = [](int writer, int write) {
    // Distinct lengths and fillers, so a torn read cannot look like a valid payload.
    return std::string(1000 + writer * 997 + write, static_cast<char>('a' + writer)) + "|" +
           std::to_string(writer) + ":" + std::to_string(write);
  };
  ASSERT_OK(io_->WriteFileAtomic("hot", payload(0, 0)));
  std::atomic<bool> stop = false;
  std::atomic<int> reads = 0, bad = 0;
  std::vector<std::thread> readers;
  for (int reader = 0; reader < 2; ++reader) {
    readers.emplace_back([&] {
      while (!stop) {
        auto contents = io_->ReadFile("hot");
        if (!contents.ok()) {
          ++bad;
          continue;
        }
        const size_t bar = contents->rfind('|');
        const size_t colon = contents->rfind(':');
        if (bar == std::string::npos || colon == std::string::npos) {
          ++bad;
          continue;
        }
        const int writer = std::stoi(contents->substr(bar + 1, colon - bar - 1));
        const int write = std::stoi(contents->substr(colon + 1));
        if (*contents != payload(writer, write)) ++bad;
        ++reads;
      }
    });
  }
  std::vector<std::thread> writers;
  for (int writer = 0; writer < kWriters; ++writer) {
    writers.emplace_back([&, writer] {
      for (int write = 0; write < kWrites; ++write) {
        if (!io_->WriteFileAtomic("hot", payload(writer, write)).ok()) ++bad;
      }
    });
  }
  for (auto& thread : writers)
    thread.join();
  stop = true;
  for (auto& thread : readers)
    thread.join();
  EXPECT_EQ(bad, 0);
  EXPECT_GT(reads, 0);
  ASSERT_OK_AND_ASSIGN(auto listed, io_->List(""));
  EXPECT_THAT(Paths(listed), ElementsAre("hot"));
}

TEST_F(LocalFileIOTest, ReportsPermissionProblemsWithAHint) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root: permission bits are not enforced";
  ASSERT_EQ(::chmod(Root().c_str(), 0500), 0);
  Status status = io_->WriteFileAtomic("x", "y");
  ::chmod(Root().c_str(), 0755);
  EXPECT_THAT(status, IsError(StatusCode::kPermissionDenied, "write access"));
  EXPECT_THAT(status.ToString(), HasSubstr(Root()));
  EXPECT_THAT(status.ToString(), HasSubstr("Permission denied"));
}

TEST_F(LocalFileIOTest, LongNamesKeepARandomTempSuffix) {
  // ".<name>.tmp-<random>" must fit in 255 bytes: a long name is shortened, never the random part,
  // so concurrent writers of one long name never collide on their temp files.
  const std::string name = "d/" + std::string(250, 'n');
  std::atomic<int> failures = 0;
  std::vector<std::thread> writers;
  for (int writer = 0; writer < 4; ++writer) {
    writers.emplace_back([&, writer] {
      for (int write = 0; write < 25; ++write) {
        Status status = io_->WriteFileAtomic(name, std::to_string(writer));
        if (!status.ok()) {
          ADD_FAILURE() << status.ToString();
          ++failures;
        }
      }
    });
  }
  for (auto& thread : writers)
    thread.join();
  EXPECT_EQ(failures, 0);
  ASSERT_OK_AND_ASSIGN(auto listed, io_->List("d/"));
  EXPECT_THAT(Paths(listed), ElementsAre(name));
  EXPECT_THAT(io_->WriteFileAtomic(name, "x", {.create_only = true}),
              IsError(StatusCode::kAlreadyExists));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(Root() + "/d"), {}), 1);
}

TEST_F(LocalFileIOTest, TempFileNamesAreReserved) {
  EXPECT_TRUE(IsTempFileName(".a.parquet.tmp-0123abcd"));
  EXPECT_FALSE(IsTempFileName("a.tmp-1"));
  EXPECT_FALSE(IsTempFileName(".lock"));
  EXPECT_THAT(io_->WriteFileAtomic("d/.v1.json.tmp-1", "x"),
              IsError(StatusCode::kInvalidArgument, "reserved"));
  EXPECT_THAT(io_->Exists("d/.v1.json.tmp-1"), IsOkAndHolds(false));
}

TEST_F(LocalFileIOTest, RefusesFifosWithoutBlocking) {
  ASSERT_EQ(::mkfifo((Root() + "/pipe").c_str(), 0644), 0);
  // Opening a FIFO for reading would block until a writer appears; the read must fail at once.
  EXPECT_THAT(io_->ReadFile("pipe").status(),
              IsError(StatusCode::kInvalidArgument, "not a regular file"));
  EXPECT_THAT(io_->ReadRange("pipe", 0, 1).status(), IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(io_->Size("pipe").status(),
              IsError(StatusCode::kInvalidArgument, "not a regular file"));
  ASSERT_OK_AND_ASSIGN(auto listed, io_->List(""));
  EXPECT_TRUE(listed.empty());
}

TEST_F(LocalFileIOTest, ListAcceptsPrefixesNamingTheRoot) {
  ASSERT_OK(io_->WriteFileAtomic("a/x", "1"));
  ASSERT_OK(io_->WriteFileAtomic("b", "2"));
  for (const std::string& prefix :
       {std::string("./"), std::string("."), Root(), Root() + "/", "file://" + Root() + "/"}) {
    SCOPED_TRACE(prefix);
    ASSERT_OK_AND_ASSIGN(auto listed, io_->List(prefix));
    EXPECT_THAT(Paths(listed), ElementsAre("a/x", "b"));
  }
  // Absolute and URI prefixes inside the root work like relative ones.
  ASSERT_OK_AND_ASSIGN(auto absolute, io_->List(Root() + "/a/"));
  EXPECT_THAT(Paths(absolute), ElementsAre("a/x"));
  // Reading or writing the root itself is still refused.
  EXPECT_THAT(io_->ReadFile("./").status(), IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(io_->WriteFileAtomic(Root(), "x"), IsError(StatusCode::kInvalidArgument));
}

TEST_F(LocalFileIOTest, ListOrdersByFullPath) {
  // A directory walk meets "a/b" before "a-c"; sorted by path, '-' (0x2d) comes before '/'.
  for (const char* path : {"a/b", "a-c", "a0", "a/a/z"})
    ASSERT_OK(io_->WriteFileAtomic(path, "x"));
  ASSERT_OK_AND_ASSIGN(auto listed, io_->List(""));
  EXPECT_THAT(Paths(listed), ElementsAre("a-c", "a/a/z", "a/b", "a0"));
}

TEST_F(LocalFileIOTest, FileInTheWayOfADirectory) {
  ASSERT_OK(io_->WriteFileAtomic("t/data", "a file where a directory should be"));
  EXPECT_THAT(io_->WriteFileAtomic("t/data/part-0.parquet", "x"),
              IsError(StatusCode::kFailedPrecondition, "'t/data' is a file"));
  EXPECT_THAT(io_->Exists("t/data/part-0.parquet"), IsOkAndHolds(false));
  EXPECT_THAT(io_->ReadFile("t/data/part-0.parquet").status(), IsError(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(auto listed, io_->List("t/data/"));
  EXPECT_TRUE(listed.empty());
}

TEST_F(LocalFileIOTest, RemoveStaleTempFilesStaysInsideTheRootAndSparesFreshOnes) {
  std::ofstream(Root() + "/.top.tmp-1") << "stale";
  std::filesystem::create_directories(Root() + "/a/b");
  std::ofstream(Root() + "/a/b/.deep.parquet.tmp-2") << "stale";
  std::ofstream(Root() + "/a/b/keep.parquet") << "data";
  std::ofstream(Root() + "/a/.hidden") << "not a temp file";
  // A symlinked directory leading to a temp-looking file outside: never entered.
  std::ofstream(outside_.path() / ".victim.tmp-3") << "not ours";
  ASSERT_EQ(::symlink(outside_.path().c_str(), (Root() + "/a/out").c_str()), 0);

  EXPECT_THAT(io_->RemoveStaleTempFiles(std::chrono::seconds(3600)), IsOkAndHolds(0u));
  EXPECT_THAT(io_->RemoveStaleTempFiles(std::chrono::seconds(-1)), IsOkAndHolds(2u));
  EXPECT_FALSE(std::filesystem::exists(Root() + "/.top.tmp-1"));
  EXPECT_FALSE(std::filesystem::exists(Root() + "/a/b/.deep.parquet.tmp-2"));
  EXPECT_TRUE(std::filesystem::exists(Root() + "/a/b/keep.parquet"));
  EXPECT_TRUE(std::filesystem::exists(Root() + "/a/.hidden"));
  EXPECT_TRUE(std::filesystem::exists(outside_.path() / ".victim.tmp-3"));
}

TEST_F(LocalFileIOTest, ListReportsUnreadableDirectoriesInsteadOfSkippingThem) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root: permission bits are not enforced";
  ASSERT_OK(io_->WriteFileAtomic("t/data/locked/x", "1"));
  ASSERT_OK(io_->WriteFileAtomic("t/data/open/y", "2"));
  ASSERT_EQ(::chmod((Root() + "/t/data/locked").c_str(), 0), 0);
  auto listed = io_->List("t/");
  auto cleaned = io_->RemoveStaleTempFiles(std::chrono::seconds(0));
  ::chmod((Root() + "/t/data/locked").c_str(), 0755);
  // A partial listing would let a purge believe it deleted everything.
  EXPECT_THAT(listed.status(), IsError(StatusCode::kPermissionDenied, "t/data/locked"));
  EXPECT_THAT(cleaned.status(), IsError(StatusCode::kPermissionDenied, "t/data/locked"));
}

TEST(LocalFileIOMakeTest, CreatesTheRootAndRefusesUnusableOnes) {
  testing::ScratchDir scratch("storage-make");
  const std::string nested = (scratch.path() / "a" / "b" / "warehouse").string();
  ASSERT_OK_AND_ASSIGN(auto io, LocalFileIO::Make(nested));
  EXPECT_TRUE(std::filesystem::is_directory(nested));
  EXPECT_THAT(io->Describe(), HasSubstr(nested));
  EXPECT_THAT(LocalFileIO::Make("").status(), IsError(StatusCode::kInvalidArgument));
  std::ofstream(scratch.path() / "file") << "x";
  EXPECT_FALSE(LocalFileIO::Make((scratch.path() / "file" / "w").string()).ok());
}

}  // namespace
}  // namespace meshwork::storage

namespace meshwork::storage {
namespace {

TEST_F(LocalFileIOTest, ExclusiveLockSerializesProcesses) {
  // Fork before locking: a child that inherited the locked descriptor would share the lock.
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    char byte;
    if (::read(go[0], &byte, 1) != 1) ::_exit(2);
    auto child_lock = io_->LockExclusive("t/metadata/.lock");
    ::_exit(child_lock.ok() ? 0 : 1);
  }
  std::optional<LocalFileIO::Lock> lock;
  {
    ASSERT_OK_AND_ASSIGN(LocalFileIO::Lock taken, io_->LockExclusive("t/metadata/.lock"));
    lock.emplace(std::move(taken));
  }
  ASSERT_EQ(::write(go[1], "x", 1), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int wait_status = 0;
  EXPECT_EQ(::waitpid(child, &wait_status, WNOHANG), 0) << "the child got the lock while held";
  lock.reset();
  ASSERT_EQ(::waitpid(child, &wait_status, 0), child);
  EXPECT_TRUE(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0);
  ::close(go[0]);
  ::close(go[1]);
  EXPECT_THAT(io_->LockExclusive("../escape.lock").status(),
              IsError(StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace meshwork::storage
