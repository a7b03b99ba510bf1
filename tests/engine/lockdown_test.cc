// A locked-down engine may touch files only inside its allowed directories, and no SQL can undo
// the lock: this is what keeps user SQL away from the server's files.

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "engine/connection.h"
#include "engine/database.h"
#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork::engine {
namespace {

using ::testing::ElementsAre;

class LockDownTest : public ::testing::Test {
 protected:
  void SetUp() override {
    allowed_ = (scratch_.path() / "warehouse").string();
    outside_ = (scratch_.path() / "secret").string();
    std::filesystem::create_directories(allowed_);
    std::filesystem::create_directories(outside_);
    // "warehouse-other" shares the allowed directory's name as a prefix: it must stay outside.
    sibling_ = (scratch_.path() / "warehouse-other").string();
    std::filesystem::create_directories(sibling_);
    for (const std::string& dir : {allowed_, outside_, sibling_}) {
      std::ofstream(dir + "/data.csv") << "a,b\n1,2\n3,4\n";
    }
    // Parquet files to read, written before the lock.
    ASSERT_OK_AND_ASSIGN(Database setup, Database::Open());
    ASSERT_OK_AND_ASSIGN(Connection writer, setup.Connect());
    for (const std::string& dir : {allowed_, outside_}) {
      ASSERT_OK(writer.Execute(fmt::format(
          "COPY (SELECT * FROM range(10) t(i)) TO '{}/data.parquet' (FORMAT parquet)", dir)));
    }
    ASSERT_OK_AND_ASSIGN(database_, Database::Open());
    ASSERT_OK_AND_ASSIGN(connection_, database_->Connect());
    ASSERT_OK(connection_->LockDown({allowed_}));
  }

  void ExpectRefused(const std::string& sql) {
    SCOPED_TRACE(sql);
    auto result = connection_->QueryText(sql);
    ASSERT_FALSE(result.ok()) << "ran: " << sql;
    EXPECT_EQ(result.error().code(), StatusCode::kPermissionDenied) << result.error().ToString();
  }

  testing::ScratchDir scratch_{"lockdown"};
  std::string allowed_, outside_, sibling_;
  std::optional<Database> database_;
  std::optional<Connection> connection_;
};

TEST_F(LockDownTest, ReadsInsideTheAllowedDirectory) {
  ASSERT_OK_AND_ASSIGN(auto rows,
                       connection_->QueryText(fmt::format(
                           "SELECT count(*) FROM read_parquet('{}/data.parquet')", allowed_)));
  EXPECT_THAT(rows, ElementsAre(ElementsAre("10")));
  ASSERT_OK_AND_ASSIGN(rows, connection_->QueryText(fmt::format(
                                 "SELECT sum(a) FROM read_csv('{}/data.csv')", allowed_)));
  EXPECT_THAT(rows, ElementsAre(ElementsAre("4")));
  ASSERT_OK(connection_->Execute(
      fmt::format("COPY (SELECT 1 AS x) TO '{}/out.parquet' (FORMAT parquet)", allowed_)));
  EXPECT_TRUE(std::filesystem::exists(allowed_ + "/out.parquet"));
}

TEST_F(LockDownTest, RefusesFileAccessOutsideTheAllowedDirectories) {
  ExpectRefused(fmt::format("SELECT * FROM read_parquet('{}/data.parquet')", outside_));
  ExpectRefused(fmt::format("SELECT * FROM read_csv('{}/data.csv')", outside_));
  ExpectRefused(fmt::format("SELECT * FROM read_csv_auto('{}/data.csv')", outside_));
  ExpectRefused(fmt::format("SELECT * FROM '{}/data.csv'", outside_));
  ExpectRefused(fmt::format("SELECT * FROM read_text('{}/data.csv')", outside_));
  ExpectRefused(fmt::format("SELECT * FROM read_blob('{}/data.csv')", outside_));
  ExpectRefused(fmt::format("SELECT * FROM read_csv('{}/data.csv')", sibling_));
  ExpectRefused(fmt::format("SELECT * FROM read_csv('{}/../secret/data.csv')", allowed_));
  ExpectRefused(fmt::format("SELECT * FROM read_parquet('file://{}/data.parquet')", outside_));
  ExpectRefused(fmt::format("SELECT * FROM glob('{}/*')", outside_));
  ExpectRefused(fmt::format("SELECT * FROM parquet_metadata('{}/data.parquet')", outside_));
  ExpectRefused("SELECT * FROM read_text('/etc/passwd')");
  ExpectRefused(fmt::format("COPY (SELECT 1) TO '{}/stolen.csv'", outside_));
  ExpectRefused(fmt::format("CREATE TABLE t AS SELECT 1 AS a; COPY t TO '{}/t.parquet'", outside_));
  ExpectRefused(fmt::format("COPY (SELECT 1 AS a) TO '{}/x.csv'", sibling_));
  ExpectRefused(fmt::format("ATTACH '{}/other.duckdb' AS other", outside_));
  ExpectRefused(fmt::format("EXPORT DATABASE '{}/export'", outside_));
  EXPECT_FALSE(std::filesystem::exists(outside_ + "/stolen.csv"));
  EXPECT_FALSE(std::filesystem::exists(outside_ + "/other.duckdb"));
}

TEST_F(LockDownTest, SymlinkInsideAllowedDirectoryDoesNotLeadOut) {
  // DuckDB checks paths lexically; a symlink planted inside the warehouse would lead out. The
  // storage layer never creates symlinks and refuses them (see storage tests); here we document
  // what DuckDB alone does, so a future DuckDB change is noticed.
  const std::string link = allowed_ + "/link.csv";
  ASSERT_EQ(::symlink((outside_ + "/data.csv").c_str(), link.c_str()), 0);
  auto result = connection_->QueryText(fmt::format("SELECT count(*) FROM read_csv('{}')", link));
  RecordProperty("duckdb_follows_symlinks", result.ok() ? "yes" : "no");
  SUCCEED() << "DuckDB " << (result.ok() ? "follows" : "refuses")
            << " symlinks inside allowed directories";
}

TEST_F(LockDownTest, CannotBeUnlockedBySqlFromAnyConnection) {
  ASSERT_OK_AND_ASSIGN(Connection second, database_->Connect());
  for (Connection* connection : {&*connection_, &second}) {
    for (const std::string sql :
         {"SET enable_external_access = true", "SET lock_configuration = false",
          "RESET lock_configuration", "SET allowed_directories = ['/']",
          "SET allowed_paths = ['/etc/passwd']", "SET GLOBAL enable_external_access = true",
          "PRAGMA enable_external_access", "SET threads = 1",
          "SET autoinstall_known_extensions = true", "SET temp_directory = '/tmp'"}) {
      SCOPED_TRACE(sql);
      auto status = connection->Execute(sql);
      EXPECT_FALSE(status.ok()) << sql << " was accepted";
    }
    auto rows =
        connection->QueryText(fmt::format("SELECT * FROM read_csv('{}/data.csv')", outside_));
    EXPECT_THAT(rows.status(), IsError(StatusCode::kPermissionDenied));
  }
  // A connection opened after the lock is locked too.
  ASSERT_OK_AND_ASSIGN(Connection later, database_->Connect());
  EXPECT_THAT(
      later.QueryText(fmt::format("SELECT * FROM read_csv('{}/data.csv')", outside_)).status(),
      IsError(StatusCode::kPermissionDenied));
}

TEST_F(LockDownTest, RefusesExtensionsAndIsReportedWithAHint) {
  ExpectRefused("LOAD httpfs");
  ExpectRefused("INSTALL httpfs");
  auto result =
      connection_->QueryText(fmt::format("SELECT * FROM read_csv('{}/data.csv')", outside_));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().sqlstate(), "42501");
  EXPECT_THAT(result.error().hint(), ::testing::HasSubstr("allowed directories"));
}

TEST_F(LockDownTest, LockDownAtOpenAndArgumentChecks) {
  ASSERT_OK_AND_ASSIGN(Database locked,
                       Database::Open({.allowed_directories = {allowed_}, .lock_down = true}));
  ASSERT_OK_AND_ASSIGN(Connection connection, locked.Connect());
  EXPECT_OK(connection.QueryText(fmt::format("SELECT * FROM read_csv('{}/data.csv')", allowed_))
                .status());
  EXPECT_THAT(
      connection.QueryText(fmt::format("SELECT * FROM read_csv('{}/data.csv')", outside_)).status(),
      IsError(StatusCode::kPermissionDenied));

  ASSERT_OK_AND_ASSIGN(Database other, Database::Open());
  ASSERT_OK_AND_ASSIGN(Connection unlocked, other.Connect());
  EXPECT_THAT(unlocked.LockDown({"relative/dir"}),
              IsError(StatusCode::kInvalidArgument, "absolute"));
}

TEST_F(LockDownTest, SpillsToAnAllowedTempDirectoryUnderALowMemoryLimit) {
  const std::string temp = allowed_ + "/tmp";
  ASSERT_OK_AND_ASSIGN(Database database, Database::Open({.threads = 2,
                                                          .memory_limit = "64MB",
                                                          .temp_directory = temp,
                                                          .allowed_directories = {allowed_},
                                                          .lock_down = true}));
  ASSERT_OK_AND_ASSIGN(Connection connection, database.Connect());
  ASSERT_OK_AND_ASSIGN(
      auto rows,
      connection.QueryText("SELECT count(*), max(s) FROM (SELECT i, 'padding-' || i AS s "
                           "FROM range(3000000) t(i) ORDER BY i % 1000003 DESC, i)"));
  EXPECT_THAT(rows, ElementsAre(ElementsAre("3000000", "padding-999999")));
}

}  // namespace
}  // namespace meshwork::engine
