// Queries, typed access, text rendering, prepared statements and error mapping.

#include <gtest/gtest.h>

#include <thread>

#include "engine/connection.h"
#include "engine/database.h"
#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class QueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(database_, Database::Open({.threads = 2}));
    ASSERT_OK_AND_ASSIGN(connection_, database_->Connect());
  }
  std::vector<std::vector<std::string>> Rows(std::string_view sql) {
    auto rows = connection_->QueryText(sql);
    EXPECT_OK(rows.status());
    return rows.ok() ? *rows : std::vector<std::vector<std::string>>{};
  }
  std::optional<Database> database_;
  std::optional<Connection> connection_;
};

TEST_F(QueryTest, LibraryVersionAndPath) {
  EXPECT_EQ(LibraryVersion(), "v1.4.4");
  EXPECT_THAT(LibraryPath(), HasSubstr("libduckdb.so"));
}

TEST_F(QueryTest, ColumnsNamesAndTypes) {
  ASSERT_OK_AND_ASSIGN(
      QueryResult result,
      connection_->Query("SELECT 1::INTEGER AS a, 'x' AS b, 1.5::DECIMAL(10,2) AS c, [1,2] AS d, "
                         "{'k': 1} AS e, MAP {'a': 1} AS f"));
  EXPECT_THAT(result.column_names(), ElementsAre("a", "b", "c", "d", "e", "f"));
  EXPECT_EQ(result.column_type(0).ToString(), "INTEGER");
  EXPECT_EQ(result.column_type(1).ToString(), "VARCHAR");
  EXPECT_EQ(result.column_type(2).ToString(), "DECIMAL(10,2)");
  EXPECT_EQ(result.column_type(3).ToString(), "INTEGER[]");
  EXPECT_EQ(result.column_type(4).ToString(), "STRUCT(k INTEGER)");
  EXPECT_EQ(result.column_type(5).ToString(), "MAP(VARCHAR, INTEGER)");
}

TEST_F(QueryTest, TypedAccessReadsValuesAndNulls) {
  ASSERT_OK_AND_ASSIGN(QueryResult result,
                       connection_->Query("SELECT i::INTEGER AS i, i * 10 AS big, "
                                          "CASE WHEN i % 2 = 0 THEN 'even-' || i END AS s, "
                                          "i / 4 AS d FROM range(5000) t(i)"));
  EXPECT_EQ(result.column_type(1).id, TypeId::kBigInt);
  uint64_t seen = 0;
  while (true) {
    ASSERT_OK_AND_ASSIGN(DataChunk chunk, result.Fetch());
    if (!chunk) break;
    for (uint64_t row = 0; row < chunk.size(); ++row) {
      const int32_t i = chunk.column(0).Get<int32_t>(row);
      ASSERT_EQ(i, static_cast<int32_t>(seen));
      EXPECT_EQ(chunk.column(1).Get<int64_t>(row), int64_t{i} * 10);
      if (i % 2 == 0) {
        ASSERT_FALSE(chunk.column(2).IsNull(row));
        EXPECT_EQ(chunk.column(2).GetString(row), "even-" + std::to_string(i));
      } else {
        EXPECT_TRUE(chunk.column(2).IsNull(row));
      }
      EXPECT_DOUBLE_EQ(chunk.column(3).Get<double>(row), i / 4.0);
      ++seen;
    }
  }
  EXPECT_EQ(seen, 5000u);
}

// Our text rendering of scalar types must equal DuckDB's own CAST(... AS VARCHAR), which is
// what users see in DuckDB's CLI.
TEST_F(QueryTest, TextMatchesDuckDBCastForScalarTypes) {
  const std::vector<std::string> expressions = {
      "true",
      "(-7)::TINYINT",
      "(-32000)::SMALLINT",
      "2147483647::INTEGER",
      "(-9223372036854775807)::BIGINT",
      "255::UTINYINT",
      "18446744073709551615::UBIGINT",
      "(-170141183460469231731687303715884105727)::HUGEINT",
      "340282366920938463463374607431768211455::UHUGEINT",
      "1.5::DOUBLE",
      "0.1::DOUBLE",
      "1e20::DOUBLE",
      "1e-7::DOUBLE",
      "123456789.0::DOUBLE",
      "'nan'::DOUBLE",
      "'-inf'::DOUBLE",
      "1.25::FLOAT",
      "12.34::DECIMAL(4,2)",
      "(-0.05)::DECIMAL(4,3)",
      "123456789.123::DECIMAL(18,3)",
      "(-12345678901234567890.12)::DECIMAL(38,2)",
      "0::DECIMAL(10,4)",
      "DATE '2024-02-29'",
      "DATE '1969-12-31'",
      "DATE '-0044-03-15'",
      "'infinity'::DATE",
      "TIME '13:04:05'",
      "TIME '13:04:05.25'",
      "TIMESTAMP '2024-01-02 03:04:05.000123'",
      "TIMESTAMP '1950-06-01 00:00:00'",
      "TIMESTAMP '1969-12-31 23:59:59.999999'",
      "'-infinity'::TIMESTAMP",
      "TIMESTAMP_S '2024-01-02 03:04:05'",
      "TIMESTAMP_MS '2024-01-02 03:04:05.123'",
      "TIMESTAMP_NS '2024-01-02 03:04:05.123456789'",
      "INTERVAL '1 year 2 months 3 days 04:05:06.5'",
      "INTERVAL '-3 days -1 hour'",
      "INTERVAL '0 seconds'",
      "INTERVAL '1 day 100 hours'",
      "'00112233-4455-6677-8899-aabbccddeeff'::UUID",
      "'ffffffff-0000-0000-0000-000000000001'::UUID",
      "'hello, world'",
      "''",
      "'\\xAA\\x01ab'::BLOB",
      "'ab''c'::BLOB",
      "'b'::ENUM('a', 'b')",
  };
  for (const std::string& expression : expressions) {
    SCOPED_TRACE(expression);
    auto rows = Rows(fmt::format("SELECT {0}, CAST({0} AS VARCHAR)", expression));
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0][0], rows[0][1]);
  }
}

TEST_F(QueryTest, TextOfNestedValuesKeepsElementsApart) {
  auto rows = Rows(
      "SELECT [1, NULL, 3], ['a, b', 'it''s', NULL], {'x': 1, 'y': 'z'}, MAP {'k': [1, 2]}, "
      "[1, 2]::INTEGER[2], [[1], []], NULL::INTEGER");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_THAT(rows[0], ElementsAre("[1, NULL, 3]", "['a, b', 'it\\'s', NULL]", "{'x': 1, 'y': 'z'}",
                                   "{'k'=[1, 2]}", "[1, 2]", "[[1], []]", "NULL"));
}

TEST_F(QueryTest, TimestampTzRendersInUtc) {
  auto rows = Rows("SELECT TIMESTAMPTZ '2024-01-01 10:00:00+02', TIMETZ '10:00:00+02:30'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "2024-01-01 08:00:00+00");
  EXPECT_EQ(rows[0][1], "10:00:00+02:30");
}

TEST_F(QueryTest, MultipleStatementsRunInOrderAndLastOneStreams) {
  auto rows =
      Rows("CREATE TABLE t(a INTEGER); INSERT INTO t VALUES (1), (2); SELECT sum(a) FROM t");
  EXPECT_THAT(rows, ElementsAre(ElementsAre("3")));
}

TEST_F(QueryTest, RowsChangedByDml) {
  ASSERT_OK(connection_->Execute("CREATE TABLE t AS SELECT * FROM range(10) r(i)"));
  ASSERT_OK_AND_ASSIGN(QueryResult result, connection_->Query("DELETE FROM t WHERE i < 4"));
  EXPECT_EQ(result.rows_changed(), 4u);
}

TEST_F(QueryTest, ErrorsBecomeStatusesWithCodeSqlstateAndContext) {
  auto syntax = connection_->Query("SELEC 1");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(syntax.error().sqlstate(), "42601");
  EXPECT_THAT(syntax.error().ToString(), HasSubstr("SELEC 1"));

  auto missing = connection_->Query("SELECT * FROM no_such_table");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.error().sqlstate(), "42P01");
  EXPECT_THAT(missing.error().message(), HasSubstr("no_such_table"));

  auto column = connection_->Query("SELECT nope FROM range(1)");
  ASSERT_FALSE(column.ok());
  EXPECT_EQ(column.error().code(), StatusCode::kInvalidArgument);

  // Errors raised while rows are produced, after the first chunks streamed, surface at Fetch.
  ASSERT_OK_AND_ASSIGN(QueryResult result,
                       connection_->Query("SELECT CASE WHEN i = 3000000 THEN CAST('x' || i AS "
                                          "INTEGER) ELSE i END FROM range(4000000) t(i)"));
  Status failure;
  uint64_t rows_before_error = 0;
  while (failure.ok()) {
    auto fetched = result.Fetch();
    if (!fetched.ok()) {
      failure = fetched.error();
    } else if (!*fetched) {
      break;
    } else {
      rows_before_error += fetched->size();
    }
  }
  EXPECT_GT(rows_before_error, 0u);
  EXPECT_EQ(failure.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(failure.sqlstate(), "22P02");
  EXPECT_THAT(failure.message(), HasSubstr("x3000000"));

  EXPECT_THAT(connection_->Query("   ").status(), IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(connection_->Query("SELECT 1; SELEC 2").status(),
              IsError(StatusCode::kInvalidArgument));
}

TEST_F(QueryTest, PreparedStatementBindsTypedParameters) {
  ASSERT_OK_AND_ASSIGN(
      PreparedStatement statement,
      connection_->Prepare("SELECT ?::BIGINT + 1, upper(?), ?::DATE, ? IS NULL, ?::BLOB, "
                           "?::TIMESTAMP, ?::DECIMAL(10,2), ?"));
  EXPECT_EQ(statement.parameter_count(), 8u);
  ASSERT_OK(statement.BindAll(int64_t{41}, std::string("abc"), Date{19782}, std::monostate{},
                              Blob{std::string("\x01z", 2)}, Timestamp{1700000000000000},
                              Decimal{HugeInt{1234, 0}, 10, 2}, true));
  ASSERT_OK_AND_ASSIGN(QueryResult result, statement.Execute());
  ASSERT_OK_AND_ASSIGN(auto rows, result.FetchAllText());
  EXPECT_THAT(rows, ElementsAre(ElementsAre("42", "ABC", "2024-02-29", "true", "\\x01z",
                                            "2023-11-14 22:13:20", "12.34", "true")));

  // Rebinding and executing again reuses the plan.
  ASSERT_OK(statement.BindAll(int64_t{1}, std::string("x"), Date{0}, 5, Blob{}, Timestamp{0},
                              Decimal{HugeInt{0, 0}, 10, 2}, false));
  ASSERT_OK_AND_ASSIGN(QueryResult again, statement.Execute());
  ASSERT_OK_AND_ASSIGN(auto rows_again, again.FetchAllText());
  EXPECT_EQ(rows_again[0][0], "2");
  EXPECT_EQ(rows_again[0][2], "1970-01-01");

  EXPECT_THAT(statement.Bind(0, 1), IsError(StatusCode::kInvalidArgument, "numbered from 1"));
  EXPECT_THAT(statement.Bind(9, 1), IsError(StatusCode::kInvalidArgument, "8 parameters"));
}

TEST_F(QueryTest, PreparedStatementNamedParametersAndBadValues) {
  ASSERT_OK_AND_ASSIGN(PreparedStatement statement,
                       connection_->Prepare("SELECT $count::INTEGER * 2"));
  ASSERT_OK_AND_ASSIGN(size_t index, statement.ParameterIndex("count"));
  ASSERT_OK(statement.Bind(index, std::string("not a number")));
  EXPECT_THAT(statement.Execute().status(), IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(statement.ParameterIndex("other").status(), IsError(StatusCode::kNotFound));
  EXPECT_THAT(connection_->Prepare("SELECT FROM WHERE").status(),
              IsError(StatusCode::kInvalidArgument));
}

// A blocking aggregate runs inside Query(); a streaming scan inside Fetch(). An interrupt must
// stop either, with a `cancelled` status.
Status RunUntilDone(Connection& connection, std::string_view sql) {
  auto result = connection.Query(sql);
  if (!result.ok()) return result.error();
  while (true) {
    auto chunk = result->Fetch();
    if (!chunk.ok()) return chunk.error();
    if (!*chunk) return Status::OK();
  }
}

TEST_F(QueryTest, InterruptCancelsARunningQueryFromAnotherThread) {
  for (const char* sql : {"SELECT count(*) FROM range(100000000000) a(i) WHERE i * 7 % 11 = 3",
                          "SELECT i FROM range(100000000000) a(i) WHERE i * 7 % 11 = 3"}) {
    SCOPED_TRACE(sql);
    std::atomic<bool> finished = false;
    std::thread interrupter([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      while (!finished) {
        connection_->Interrupt();
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
    const auto start = std::chrono::steady_clock::now();
    Status status = RunUntilDone(*connection_, sql);
    finished = true;
    interrupter.join();
    EXPECT_THAT(status, IsError(StatusCode::kCancelled));
    EXPECT_EQ(status.sqlstate(), "57014");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
    // The connection is usable afterwards.
    EXPECT_THAT(Rows("SELECT 1"), ElementsAre(ElementsAre("1")));
  }
}

TEST_F(QueryTest, ProgressIsReportedWhileAQueryRuns) {
  // DuckDB estimates progress for table scans (not for range()), and only with the progress bar
  // enabled; printing stays off.
  ASSERT_OK(connection_->Execute(
      "SET enable_progress_bar = true; SET enable_progress_bar_print = false; "
      "SET progress_bar_time = 0; CREATE TABLE big AS SELECT * FROM range(20000000) t(i)"));
  std::atomic<bool> finished = false;
  QueryProgress best;
  std::thread watcher([&] {
    while (!finished) {
      QueryProgress progress = connection_->Progress();
      if (progress.percentage > best.percentage) best = progress;
      if (progress.percentage > 5) connection_->Interrupt();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  Status status = RunUntilDone(
      *connection_, "SELECT sum(hash(i) % 13), count(DISTINCT hash(i) % 1000003) FROM big");
  finished = true;
  watcher.join();
  EXPECT_THAT(status, IsError(StatusCode::kCancelled));
  EXPECT_GT(best.percentage, 0.0);
  EXPECT_LE(best.percentage, 100.0);
  EXPECT_GT(best.total_rows_to_process, 0u);
  EXPECT_THAT(Rows("SELECT 1"), ElementsAre(ElementsAre("1")));
}

TEST_F(QueryTest, ResultsAndStatementsKeepTheirConnectionAlive) {
  std::optional<QueryResult> result;
  {
    ASSERT_OK_AND_ASSIGN(Connection connection, database_->Connect());
    ASSERT_OK_AND_ASSIGN(result, connection.Query("SELECT * FROM range(3000)"));
  }
  ASSERT_OK_AND_ASSIGN(auto rows, result->FetchAllText());
  EXPECT_EQ(rows.size(), 3000u);
}

TEST_F(QueryTest, OpenRefusesBadOptionsClearly) {
  EXPECT_THAT(Database::Open({.memory_limit = "lots"}).status(),
              IsError(StatusCode::kInvalidArgument, "memory_limit"));
  EXPECT_THAT(Database::Open({.threads = -1}).status(), IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(Database::Open({.path = "/proc/no/such/dir/db.duckdb"}).status(),
              IsError(StatusCode::kIOError, "/proc/no/such/dir/db.duckdb"));
}

TEST_F(QueryTest, FileDatabasePersistsAcrossOpens) {
  testing::ScratchDir dir("engine-file");
  const std::string path = (dir.path() / "db.duckdb").string();
  {
    ASSERT_OK_AND_ASSIGN(Database database, Database::Open({.path = path}));
    ASSERT_OK_AND_ASSIGN(Connection connection, database.Connect());
    ASSERT_OK(connection.Execute("CREATE TABLE t AS SELECT 42 AS answer"));
  }
  ASSERT_OK_AND_ASSIGN(Database database, Database::Open({.path = path}));
  ASSERT_OK_AND_ASSIGN(Connection connection, database.Connect());
  ASSERT_OK_AND_ASSIGN(auto rows, connection.QueryText("SELECT answer FROM t"));
  EXPECT_THAT(rows, ElementsAre(ElementsAre("42")));
}

}  // namespace
}  // namespace meshwork::engine
