// The SQL firewall against bypass attempts, as a table: each attempt must be refused with the
// right message (and position), and none may read a file. A sentinel directory outside the
// warehouse holds files with a marker; every attempt names them, and whatever the firewall or
// the locked engine answers must not contain the marker.
#include "query/firewall.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "engine/database.h"
#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork::query {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kMarker = "SENTINEL-c4n4ry-7f3a";
// A NUL would end the text early for DuckDB's C API, hiding what follows from the parser.
constexpr char kNulAttempt[] = "SELECT 1\0; ATTACH '{S}/secret.db'";

// A bypass attempt: `{S}` in the SQL is the sentinel directory. line/column 0: not checked.
struct Attempt {
  std::string sql;
  std::string message;
  int line = 0;
  int column = 0;
};

std::string Expand(std::string sql, const std::string& sentinel) {
  for (size_t at = sql.find("{S}"); at != std::string::npos; at = sql.find("{S}", at))
    sql.replace(at, 3, sentinel);
  return sql;
}

class FirewallBypassTest : public ::testing::Test {
 protected:
  void SetUp() override {
    warehouse_ = scratch_.path() / "warehouse";
    sentinel_ = scratch_.path() / "sentinel";
    std::filesystem::create_directories(warehouse_);
    std::filesystem::create_directories(sentinel_);
    std::ofstream(sentinel_ / "secret.csv") << "canary,value\n" << kMarker << ",1\n";
    std::ofstream(sentinel_ / "secret.txt") << kMarker << "\n";
    std::ofstream(sentinel_ / "secret.json") << "{\"canary\": \"" << kMarker << "\"}\n";
    // Binary formats written by an engine that may still touch files.
    auto writer = *engine::Database::Open();
    auto connection = *writer.Connect();
    const std::string s = sentinel_.string();
    ASSERT_OK(connection.Execute(fmt::format(
        "COPY (SELECT '{0}' AS canary) TO '{1}/secret.parquet' (FORMAT parquet); "
        "ATTACH '{1}/secret.db' AS s; CREATE TABLE s.t AS SELECT '{0}' AS canary; DETACH s;",
        kMarker, s)));
    for (const auto& entry : std::filesystem::directory_iterator(sentinel_))
      files_.insert(entry.path().filename().string());
  }

  // The engine user SQL runs on (as query.cc opens it): files only under the warehouse.
  engine::Database Locked() {
    return *engine::Database::Open({.allowed_directories = {warehouse_.string()},
                                    .lock_down = true,
                                    .settings = {{"TimeZone", "UTC"}}});
  }

  // Everything the engine answers to `sql`: the rows, or the error (CSV errors quote lines).
  static std::string Answer(engine::Connection& connection, const std::string& sql) {
    auto result = connection.Query(sql);
    if (!result.ok()) return result.error().ToString();
    auto rows = result->FetchAllText();
    if (!rows.ok()) return rows.error().ToString();
    std::string text;
    for (const auto& row : *rows)
      for (const auto& cell : row)
        text += cell + "\t";
    return text;
  }

  std::set<std::string> SentinelFiles() const {
    std::set<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(sentinel_))
      names.insert(entry.path().filename().string());
    return names;
  }

  testing::ScratchDir scratch_{"firewall"};
  std::filesystem::path warehouse_, sentinel_;
  std::set<std::string> files_;
};

TEST_F(FirewallBypassTest, RefusesEveryAttemptWithItsReasonAndReadsNoFile) {
  const std::vector<Attempt> attempts = {
      // File table functions, in many spellings.
      {"SELECT * FROM read_csv('{S}/secret.csv')", "table function read_csv() is not allowed", 1,
       15},
      {"SELECT * FROM READ_CSV_AUTO('{S}/secret.csv')", "table function read_csv_auto()", 1, 15},
      {"SELECT * FROM \"read_parquet\"('{S}/secret.parquet')", "table function read_parquet()"},
      {"SELECT * FROM read_json_objects('{S}/secret.json')", "table function read_json_objects()"},
      {"SELECT * FROM read_ndjson_auto('{S}/secret.json')", "table function read_ndjson_auto()"},
      {"SELECT * FROM read_text('{S}/secret.txt')", "table function read_text()"},
      {"SELECT * FROM read_blob('{S}/secret.txt')", "table function read_blob()"},
      {"SELECT * FROM parquet_metadata('{S}/secret.parquet')", "table function parquet_metadata()"},
      {"SELECT * FROM parquet_scan('{S}/secret.parquet')", "table function parquet_scan()"},
      {"SELECT * FROM glob('{S}/*')", "table function glob()"},
      {"SELECT * FROM sniff_csv('{S}/secret.csv')", "table function sniff_csv()"},
      {"SELECT * FROM query_table('{S}/secret.csv')", "table function query_table()"},
      {"SELECT * FROM query('SELECT * FROM read_csv(''{S}/secret.csv'')')",
       "table function query()"},
      {"SELECT * FROM iceberg_scan('{S}')", "table function iceberg_scan()"},
      {"SELECT * FROM sqlite_scan('{S}/secret.db', 't')", "table function sqlite_scan()"},
      {"SELECT * FROM read_csv(['{S}/secret.csv', '{S}/secret.csv'])", "table function read_csv()"},
      {"SELECT * FROM main.read_csv('{S}/secret.csv')", "names a schema"},
      {"SELECT * FROM pg_catalog.read_text('{S}/secret.txt')", "read_text() is not allowed"},
      {"SELECT * FROM test_all_types()", "table function test_all_types()"},
      {"SELECT read_text('{S}/secret.txt')", "function read_text() is not allowed", 1, 8},
      // Replacement scans: a table name that is a path is read as the file.
      {"SELECT * FROM '{S}/secret.csv'", "is not a table of the mesh", 1, 15},
      {"SELECT * FROM \"{S}/secret.csv\"", "files are never read by name"},
      {"FROM '{S}/secret.parquet'", "is not a table of the mesh", 1, 6},
      {"SELECT * FROM \"/etc/passwd\"", "'/etc/passwd' is not a table of the mesh"},
      {"SELECT * FROM 'x.parquet'", "'x.parquet' is not a table of the mesh"},
      {"SELECT * FROM \"{S}/secret\".csv", "is not a table of the mesh"},
      {"SELECT * FROM finance.\"../../secret.csv\"", "is not a table of the mesh"},
      {"SELECT * FROM information_schema.csv", "information_schema.csv names a file"},
      {"SELECT * FROM mesh.pg_catalog.parquet", "pg_catalog.parquet names a file"},
      {"SELECT * FROM (FROM '{S}/secret.csv')", "is not a table of the mesh"},
      {"SELECT * FROM finance.revenue, '{S}/secret.json'", "is not a table of the mesh", 1, 32},
      // Statements that reach files, catalogs or the engine.
      {"ATTACH '{S}/secret.db' AS s", "'attach' statements are refused", 1, 1},
      {"DETACH s", "'detach' statements are refused"},
      {"USE s", "'use' statements are refused"},
      {"COPY (SELECT 1) TO '{S}/out.csv'", "'copy' statements are refused"},
      {"COPY finance.revenue FROM '{S}/secret.csv'", "queries never read or write files"},
      {"EXPORT DATABASE '{S}/export'", "'export' statements are refused"},
      {"IMPORT DATABASE '{S}'", "'import' statements are refused"},
      {"PRAGMA version", "'pragma' statements are refused"},
      {"INSTALL httpfs", "'install' statements are refused"},
      {"LOAD '{S}/evil.duckdb_extension'", "'load' statements are refused"},
      {"CALL read_csv('{S}/secret.csv')", "'call' statements are refused"},
      {"CHECKPOINT", "'checkpoint' statements are refused"},
      {"CREATE TABLE t AS SELECT * FROM '{S}/secret.csv'", "'create' statements are refused"},
      {"CREATE MACRO m() AS TABLE SELECT * FROM read_csv('{S}/secret.csv')",
       "'create' statements are refused"},
      {"CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 'v')", "'create' statements are refused"},
      {"INSERT INTO finance.revenue VALUES (1)", "'insert' statements are refused"},
      {"UPDATE finance.revenue SET a = 1", "'update' statements are refused"},
      {"DELETE FROM finance.revenue", "'delete' statements are refused"},
      {"DROP TABLE finance.revenue", "'drop' statements are refused"},
      {"ALTER TABLE finance.revenue ADD COLUMN x INT", "'alter' statements are refused"},
      {"WITH t AS (SELECT 1) INSERT INTO finance.revenue SELECT * FROM t",
       "only a plain read-only query is accepted"},
      {"BEGIN TRANSACTION", "'begin' statements are refused"},
      // SET and RESET of locked options, in every spelling.
      {"SET enable_external_access = true", "option enable_external_access is locked", 1, 5},
      {"SET allowed_directories = ['/']", "option allowed_directories is locked"},
      {"SET allowed_paths TO ['{S}/secret.csv']", "option allowed_paths is locked"},
      {"SET memory_limit = '100GB'", "option memory_limit is locked"},
      {"SET threads TO 64", "option threads is locked"},
      {"SET autoload_known_extensions = true", "option autoload_known_extensions is locked"},
      {"SET lock_configuration = false", "option lock_configuration is locked"},
      {"SET SESSION enable_external_access = true", "option enable_external_access is locked", 1,
       13},
      {"SET \"enable_external_access\" = true", "option enable_external_access is locked"},
      {"set Temp_Directory='{S}'", "option temp_directory is locked"},
      {"SET GLOBAL search_path = 'finance'", "SET GLOBAL is refused"},
      {"SET VARIABLE p = '{S}/secret.csv'", "SET VARIABLE is refused"},
      {"SET my.option = 1", "option my.option is locked"},
      {"SET serach_path = finance", "did you mean search_path?"},
      {"RESET enable_external_access", "option enable_external_access is locked", 1, 7},
      {"RESET allowed_directories", "option allowed_directories is locked"},
      {"SET search_path = '{S}/secret.csv'", "is not a schema name"},
      {"SET timezone = '../../../{S}/secret.txt'", "is not a time zone"},
      {"SET client_encoding = 'LATIN1'", "meshwork speaks UTF8 only"},
      {"SET datestyle = 'SQL, DMY'", "meshwork writes ISO dates"},
      {"SET standard_conforming_strings = off", "can only be on"},
      {"SET extra_float_digits = 10", "from -15 to 3"},
      {"SET application_name = E'\\x41'", "E'...' strings are not accepted"},
      {"SHOW allowed_directories", "option allowed_directories is not shown"},
      {"SHOW TABLES", "SHOW TABLES is not accepted"},
      // Multi-statements, whatever the mix and whatever hides the boundary.
      {"SELECT 1; ATTACH '{S}/secret.db'", "one statement at a time", 1, 11},
      {"SET search_path = finance; SELECT 1", "one statement at a time", 1, 28},
      {"SELECT 1;\n-- harmless\nCOPY (SELECT 1) TO '{S}/out.csv'", "one statement at a time", 3, 1},
      {"SELECT 1 /* ; */ ; PRAGMA version", "one statement at a time", 1, 20},
      {"SELECT ';' ; SELECT * FROM read_csv('{S}/secret.csv')", "one statement at a time", 1, 14},
      {"SELECT $$;$$; INSTALL httpfs", "one statement at a time", 1, 15},
      {"SELECT \"a;b\" FROM finance.revenue; DROP TABLE finance.revenue",
       "one statement at a time"},
      {"SELECT E'\\';' ; DETACH s", "one statement at a time", 1, 17},
      {"SELECT 1 -- ;\n; ATTACH '{S}/secret.db'", "one statement at a time", 2, 3},
      {"SHOW timezone; ATTACH '{S}/secret.db'", "one statement at a time"},
      // Comments and case tricks.
      {"SeLeCt * FrOm ReAd_CsV('{S}/secret.csv')", "table function read_csv()"},
      {"SELECT * FROM read_csv/**/('{S}/secret.csv')", "table function read_csv()"},
      {"/* SELECT */ ATTACH '{S}/secret.db'", "'attach' statements are refused", 1, 14},
      {"-- SELECT\nCOPY (SELECT 1) TO '{S}/out.csv'", "'copy' statements are refused", 2, 1},
      {"/* nested /* comment */ SELECT */ PRAGMA version", "'pragma' statements are refused"},
      {"SELECT 1 /* ; ATTACH '{S}/secret.db'", "comment is never closed", 1, 10},
      {"SELECT 'abc; ATTACH x", "string is never closed", 1, 8},
      // Paths built from strings.
      {"SELECT * FROM read_csv('{S}' || '/secret.csv')", "table function read_csv()"},
      {"SELECT * FROM read_csv(concat('{S}', '/secret', '.csv'))", "table function read_csv()"},
      {"SELECT * FROM read_text(format('{}/secret.txt', '{S}'))", "table function read_text()"},
      {"SELECT * FROM read_csv(printf('%s/secret.csv', '{S}'))", "table function read_csv()"},
      // Recursive and ordinary CTEs, subqueries, lateral joins that call table functions.
      {"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r, "
       "read_csv('{S}/secret.csv') WHERE n < 3) SELECT * FROM r",
       "table function read_csv()"},
      {"WITH t AS (SELECT * FROM read_text('{S}/secret.txt')) SELECT * FROM t",
       "table function read_text()"},
      {"WITH t AS MATERIALIZED (SELECT * FROM glob('{S}/*')) SELECT count(*) FROM t",
       "table function glob()"},
      {"SELECT (SELECT content FROM read_text('{S}/secret.txt'))", "table function read_text()"},
      {"SELECT * FROM range(1) r, LATERAL (SELECT * FROM read_csv('{S}/secret.csv'))",
       "table function read_csv()"},
      {"SELECT 1 WHERE EXISTS (SELECT * FROM read_blob('{S}/secret.txt'))",
       "table function read_blob()"},
      {"SELECT 1 IN (SELECT * FROM '{S}/secret.csv')", "is not a table of the mesh"},
      {"SELECT * FROM unnest((SELECT list(content) FROM read_text('{S}/secret.txt')))",
       "table function read_text()"},
      {"SELECT * FROM generate_series(1, (SELECT count(*) FROM read_csv('{S}/secret.csv')))",
       "table function read_csv()"},
      {"SELECT * FROM finance.revenue AT (VERSION => (SELECT count(*) FROM "
       "read_csv('{S}/secret.csv')))",
       "AT (VERSION => ...) takes a literal"},
      // VALUES, lambdas and list functions.
      {"VALUES ((SELECT content FROM read_text('{S}/secret.txt')))", "table function read_text()"},
      {"SELECT * FROM (VALUES ('{S}/secret.csv')) v(p), read_csv(v.p)",
       "table function read_csv()"},
      {"SELECT list_transform(['{S}/secret.txt'], f -> read_text(f))",
       "function read_text() is not allowed"},
      {"SELECT [read_blob(f) for f in ['{S}/secret.txt']]", "function read_blob() is not allowed"},
      {"SELECT list_filter([1], x -> getenv('HOME') IS NOT NULL)",
       "function getenv() is not allowed"},
      // The environment and the engine's own state.
      {"SELECT getenv('HOME')", "function getenv() is not allowed", 1, 8},
      {"SELECT current_setting('allowed_directories')", "function current_setting()"},
      {"SELECT pg_catalog.current_setting('allowed_directories')", "function current_setting()"},
      {"SELECT * FROM duckdb_settings()", "table function duckdb_settings()"},
      {"SELECT * FROM duckdb_secrets()", "table function duckdb_secrets()"},
      {"SELECT * FROM which_secret('s3://bucket/x', 's3')", "table function which_secret()"},
      {"SELECT * FROM duckdb_databases()", "table function duckdb_databases()"},
      {"SELECT getvariable('p')", "function getvariable()"},
      {"SELECT json_serialize_plan('SELECT * FROM read_csv(''{S}/secret.csv'')')",
       "function json_serialize_plan()"},
      {"SELECT write_log('x')", "function write_log()"},
      // Catalogs other than the mesh.
      {"SELECT * FROM system.main.duckdb_settings", "catalog 'system' is not the mesh"},
      {"SELECT * FROM temp.main.t", "catalog 'temp' is not the mesh"},
      {"SELECT * FROM memory.main.t", "catalog 'memory' is not the mesh"},
      {"SELECT * FROM s.main.t", "catalog 's' is not the mesh"},
      {"SELECT system.main.lower('x')", "names a catalog"},
      {"SELECT other.format_type(1, 2)", "function other.format_type() names a schema"},
      // EXPLAIN ANALYZE runs the query; EXPLAIN wraps nothing but a query.
      {"EXPLAIN ANALYZE SELECT * FROM read_csv('{S}/secret.csv')", "EXPLAIN ANALYZE", 1, 9},
      {"EXPLAIN /* ... */ analyze SELECT 1", "EXPLAIN ANALYZE"},
      {"EXPLAIN (ANALYZE) SELECT 1", "EXPLAIN takes no options"},
      {"EXPLAIN SELECT * FROM read_csv('{S}/secret.csv')", "table function read_csv()", 1, 23},
      {"EXPLAIN COPY (SELECT 1) TO '{S}/out.csv'", "'copy' statements are refused", 1, 9},
      {"EXPLAIN DESCRIBE finance.revenue", "'describe' statements are refused"},
      // Prepared statements, SUMMARIZE, DESCRIBE and SHOW of files, PIVOT.
      {"PREPARE p AS SELECT * FROM read_csv('{S}/secret.csv')", "'prepare' statements are refused"},
      {"EXECUTE p", "'execute' statements are refused"},
      {"SUMMARIZE SELECT * FROM '{S}/secret.csv'", "'summarize' statements are refused"},
      {"SELECT * FROM (SUMMARIZE SELECT * FROM finance.revenue)",
       "DESCRIBE, SHOW and SUMMARIZE are not accepted inside a query"},
      {"SELECT * FROM (DESCRIBE '{S}/secret.csv')", "not accepted inside a query"},
      {"DESCRIBE '{S}/secret.csv'", "names a file", 1, 10},
      {"DESCRIBE SELECT * FROM read_csv('{S}/secret.csv')", "DESCRIBE takes a table name"},
      {"DESCRIBE other.finance.revenue", "catalog 'other' is not the mesh"},
      {"PIVOT '{S}/secret.csv' ON canary", "only a plain read-only query is accepted"},
      {"PIVOT '{S}/secret.csv' ON canary IN ('x') USING count(*)", "is not a table of the mesh"},
      {"UNPIVOT '{S}/secret.csv' ON canary INTO NAME k VALUE v", "is not a table of the mesh", 1,
       9},
      {"SELECT * FROM (PIVOT '{S}/secret.csv' ON canary USING count(*))",
       "only a plain read-only query is accepted"},
      // Unicode escapes, long, deep and broken input.
      {"SELECT * FROM U&\"\\0072ead_csv\"('{S}/secret.csv')", "unicode escapes", 1, 15},
      {"SELECT * FROM U&'\\002fetc\\002fpasswd'", "unicode escapes"},
      {"SELECT 1" + std::string(size_t{1} << 20, ' '), "at most 1048576 are accepted"},
      {"SELECT " + std::string(300, '(') + "1" + std::string(300, ')'), "deeper than 200 levels", 1,
       208},
      {"SELECT " +
           [] {
             std::string chain;
             for (int i = 0; i < 1500; ++i)
               chain += "1+";
             return chain;
           }() +
           "1",
       "nest deeper than DuckDB's 1000 levels"},
      {"SELECT 'a', '\xff' FROM read_csv('x')", "not valid UTF-8", 1, 14},
      {"SELECT '\xc0\xaf'", "not valid UTF-8"},
      {"SELECT '\xed\xa0\x80'", "not valid UTF-8"},
      {std::string(kNulAttempt, sizeof kNulAttempt - 1), "control character 0x00", 1, 9},
      {"", "the query is empty"},
      {" ; -- nothing", "the query is empty"},
      {"SELEC 1", "did you mean SELECT?"},
      {"\xef\xbb\xbf"
       "ATTACH '{S}/secret.db'",
       "syntax error at"},  // a byte order mark first
      // Session statements that are malformed rather than locked.
      {"SET search_path = finance,", "expected a value for search_path", 1, 27},
      {"SET timezone 'UTC'", "needs '=' or TO", 1, 14},
      {"SET timezone = 'UTC', 'CET'", "timezone takes one value", 1, 23},
      {"SET TIME ZONE INTERVAL '+01:00' HOUR TO MINUTE", "SET TIME ZONE INTERVAL"},
      {"SHOW finance.revenue", "write DESCRIBE domain.port"},
      {"DESCRIBE a.b.c.d", "DESCRIBE takes [mesh.]domain.port"},
      {"DESCRIBE finance.revenue extra", "unexpected 'extra' after the statement"},
      {"RESET search_path, timezone", "unexpected ','"},
  };
  ASSERT_GE(attempts.size(), 40u);

  auto database = Locked();
  auto connection = *database.Connect();
  for (const Attempt& attempt : attempts) {
    const std::string sql = Expand(attempt.sql, sentinel_.string());
    SCOPED_TRACE(sql.substr(0, 200));
    auto checked = CheckQuery(connection, sql);
    EXPECT_THAT(checked, IsError(StatusCode::kInvalidArgument, attempt.message));
    if (checked.ok()) {
      // Accepted by mistake: what it would run must still read nothing.
      if (!checked->tree_json.empty()) {
        auto rendered = RenderQuery(connection, checked->tree_json);
        if (rendered.ok()) {
          EXPECT_THAT(Answer(connection, *rendered), Not(HasSubstr(kMarker)));
        }
      }
    } else {
      EXPECT_THAT(checked.error().ToString(), Not(HasSubstr(kMarker)));
      if (attempt.line > 0) {
        if (checked.error().location() == nullptr) {
          ADD_FAILURE() << "no position in " << checked.error().ToString();
          continue;
        }
        EXPECT_EQ(checked.error().location()->line, attempt.line);
        EXPECT_EQ(checked.error().location()->column, attempt.column);
      }
    }
  }
}

// The second wall on its own: every attempt, run as is on the engine locked to the warehouse,
// reads and writes no file outside it (rows and error messages never carry the marker).
TEST_F(FirewallBypassTest, TheLockedEngineReadsNoSentinelEvenWithoutTheFirewall) {
  const std::vector<std::string> raw = {
      "SELECT * FROM read_csv('{S}/secret.csv')",
      "SELECT * FROM read_text('{S}/secret.txt')",
      "SELECT * FROM read_blob('{S}/secret.txt')",
      "SELECT * FROM read_json_objects('{S}/secret.json')",
      "SELECT * FROM read_parquet('{S}/secret.parquet')",
      "SELECT * FROM parquet_metadata('{S}/secret.parquet')",
      "SELECT * FROM sniff_csv('{S}/secret.csv')",
      "SELECT * FROM glob('{S}/*')",
      "SELECT * FROM '{S}/secret.csv'",
      "SELECT * FROM \"{S}/secret\".csv",
      "SELECT * FROM query_table('{S}/secret.csv')",
      "ATTACH '{S}/secret.db' AS s",
      "COPY (SELECT 1) TO '{S}/out.csv'",
      "EXPORT DATABASE '{S}/export'",
      "SET enable_external_access = true",
      "SET allowed_directories = ['{S}']",
      "RESET enable_external_access",
      "SET lock_configuration = false",
      "SUMMARIZE SELECT * FROM '{S}/secret.csv'",
      "SELECT * FROM (DESCRIBE '{S}/secret.csv')",
  };
  for (const std::string& attempt : raw) {
    const std::string sql = Expand(attempt, sentinel_.string());
    SCOPED_TRACE(sql);
    auto database = Locked();
    auto connection = *database.Connect();
    EXPECT_THAT(Answer(connection, sql), Not(HasSubstr(kMarker)));
    // And still locked afterwards.
    EXPECT_THAT(
        Answer(connection, Expand("SELECT * FROM read_text('{S}/secret.txt')", sentinel_.string())),
        Not(HasSubstr(kMarker)));
  }
  EXPECT_EQ(SentinelFiles(), files_);  // nothing written next to the sentinels
}

// Every table function DuckDB has (this version, its bundled extensions) but the three that only
// compute rows is refused, whatever it is called, so a new DuckDB cannot widen the door silently.
TEST_F(FirewallBypassTest, RefusesEveryTableFunctionOfTheEngineButRangeGenerateSeriesAndUnnest) {
  auto catalog = *engine::Database::Open();
  auto listing = *catalog.Connect();
  ASSERT_OK_AND_ASSIGN(
      auto names, listing.QueryText("SELECT DISTINCT function_name FROM duckdb_functions() "
                                    "WHERE function_type IN ('table', 'table_macro') ORDER BY 1"));
  ASSERT_GT(names.size(), 50u);
  auto database = Locked();
  auto connection = *database.Connect();
  size_t allowed = 0;
  for (const auto& row : names) {
    const std::string& name = row.at(0);
    SCOPED_TRACE(name);
    auto checked = CheckQuery(connection, "SELECT * FROM \"" + name + "\"('x')");
    if (name == "range" || name == "generate_series" || name == "unnest") {
      ++allowed;
      EXPECT_OK(checked.status());
    } else {
      EXPECT_THAT(checked, IsError(StatusCode::kInvalidArgument, "table function " + name + "()"));
    }
  }
  EXPECT_EQ(allowed, 3u);
}

struct Accepted {
  std::string sql;
  StatementKind kind;
  std::string setting;
  std::string value;
  std::vector<std::string> tables;  // schema.table (or table) as written
  bool runs = true;                 // a query over no table runs on the locked engine as rendered
};

TEST_F(FirewallBypassTest, AcceptsReadOnlyQueriesAndSessionStatementsWithTheirClassification) {
  using K = StatementKind;
  const std::vector<Accepted> accepted = {
      {"SELECT 1", K::kQuery, "", "", {}},
      {"/* leading */ SELECT 1 -- trailing", K::kQuery, "", "", {}},
      {"select 1;", K::kQuery, "", "", {}},
      {"WITH t AS (SELECT 1 AS x) SELECT x FROM t", K::kQuery, "", "", {}},
      {"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) "
       "SELECT * FROM r",
       K::kQuery,
       "",
       "",
       {}},
      {"VALUES (1), (2)", K::kQuery, "", "", {}},
      {"FROM finance.revenue", K::kQuery, "", "", {"finance.revenue"}},
      {"(SELECT 1)", K::kQuery, "", "", {}},
      {"SELECT [1, 2], {'a': 1}, EXTRACT(year FROM DATE '2024-01-01'), "
       "trim(both 'x' from 'xax'), substring('abc' from 1 for 2), [x * 2 for x in [1, 2]]",
       K::kQuery,
       "",
       "",
       {}},
      {"SELECT pg_catalog.format_type(23, NULL), pg_catalog.pg_get_userbyid(10)",
       K::kQuery,
       "",
       "",
       {},
       /*runs=*/false},  // pg_get_userbyid is the metadata database's, not DuckDB's
      {"SELECT n.nspname FROM pg_catalog.pg_namespace n",
       K::kQuery,
       "",
       "",
       {"pg_catalog.pg_namespace"}},
      {"SELECT * FROM information_schema.tables, mesh.information_schema.columns, "
       "mesh.catalog.products",
       K::kQuery,
       "",
       "",
       {"information_schema.tables", "information_schema.columns", "catalog.products"}},
      {"SELECT 'a;b', \"x;y\", $$;$$, E'\\';' FROM finance.revenue",
       K::kQuery,
       "",
       "",
       {"finance.revenue"}},
      {"SELECT * FROM range(3) t(x) JOIN generate_series(1, 2) g(y) ON true, unnest([1])",
       K::kQuery,
       "",
       "",
       {}},
      {"SELECT * FROM finance.revenue AT (VERSION => 7)", K::kQuery, "", "", {"finance.revenue"}},
      {"SELECT * FROM finance.revenue WHERE a = $1 OR b = ?",
       K::kQuery,
       "",
       "",
       {"finance.revenue"}},
      {"SELECT * FROM \"finance\".\"q3-revenue\" AS r", K::kQuery, "", "", {"finance.q3-revenue"}},
      // A CTE's name is a table again outside the WITH that defines it.
      {"SELECT * FROM (WITH secret AS (SELECT 1) SELECT * FROM secret) a, secret",
       K::kQuery,
       "",
       "",
       {"secret"}},
      {"UNPIVOT finance.revenue ON a, b INTO NAME k VALUE v",
       K::kQuery,
       "",
       "",
       {"finance.revenue"}},
      {"SELECT * FROM (PIVOT finance.revenue ON k IN ('x', 'y') USING sum(v))",
       K::kQuery,
       "",
       "",
       {"finance.revenue"}},
      {"EXPLAIN SELECT * FROM finance.revenue WHERE a = 1",
       K::kExplain,
       "",
       "",
       {"finance.revenue"}},
      {"SET search_path = marketing, Finance", K::kSet, "search_path", "marketing,finance", {}},
      {"SET search_path TO 'marketing, finance'", K::kSet, "search_path", "marketing,finance", {}},
      {"SET SESSION search_path TO \"$user\", public", K::kSet, "search_path", "$user,public", {}},
      {"set Search_Path = DEFAULT", K::kSet, "search_path", "default", {}},
      {"SET search_path = ''", K::kSet, "search_path", "", {}},
      {"SET TIME ZONE 'Europe/Berlin'", K::kSet, "timezone", "Europe/Berlin", {}},
      {"SET timezone = 'UTC';", K::kSet, "timezone", "UTC", {}},
      {"SET TIME ZONE LOCAL", K::kSet, "timezone", "default", {}},
      {"SET LOCAL TimeZone TO '+02:00'", K::kSet, "timezone", "+02:00", {}},
      {"SET application_name = 'PostgreSQL JDBC Driver'",
       K::kSet,
       "application_name",
       "PostgreSQL JDBC Driver",
       {}},
      {"SET application_name = 'it''s psql'", K::kSet, "application_name", "it's psql", {}},
      {"SET extra_float_digits = 3", K::kSet, "extra_float_digits", "3", {}},
      {"SET extra_float_digits = -2", K::kSet, "extra_float_digits", "-2", {}},
      {"SET client_encoding TO 'utf-8'", K::kSet, "client_encoding", "UTF8", {}},
      {"SET client_encoding = UTF8", K::kSet, "client_encoding", "UTF8", {}},
      {"SET DateStyle = 'ISO, MDY'", K::kSet, "datestyle", "ISO, MDY", {}},
      {"SET datestyle = ISO, DMY", K::kSet, "datestyle", "ISO,DMY", {}},
      {"SET intervalstyle = postgres", K::kSet, "intervalstyle", "postgres", {}},
      {"SET statement_timeout = 30000", K::kSet, "statement_timeout", "30000", {}},
      {"SET statement_timeout = '5min'", K::kSet, "statement_timeout", "5min", {}},
      {"SET client_min_messages TO WARNING", K::kSet, "client_min_messages", "warning", {}},
      {"SET standard_conforming_strings = on", K::kSet, "standard_conforming_strings", "on", {}},
      {"SET bytea_output = 'hex'", K::kSet, "bytea_output", "hex", {}},
      {"RESET search_path", K::kReset, "search_path", "", {}},
      {"RESET ALL", K::kReset, "all", "", {}},
      {"reset time zone", K::kReset, "timezone", "", {}},
      {"SHOW timezone", K::kShow, "timezone", "", {}},
      {"SHOW TIME ZONE", K::kShow, "timezone", "", {}},
      {"SHOW ALL", K::kShow, "all", "", {}},
      {"SHOW server_version", K::kShow, "server_version", "", {}},
      {"SHOW TRANSACTION ISOLATION LEVEL", K::kShow, "transaction_isolation", "", {}},
      {"show search_path;", K::kShow, "search_path", "", {}},
  };
  auto database = Locked();
  auto connection = *database.Connect();
  for (const Accepted& expected : accepted) {
    SCOPED_TRACE(expected.sql);
    ASSERT_OK_AND_ASSIGN(CheckedQuery checked, CheckQuery(connection, expected.sql));
    EXPECT_EQ(checked.kind, expected.kind);
    EXPECT_EQ(checked.explain, expected.kind == K::kExplain);
    EXPECT_EQ(checked.setting, expected.setting);
    EXPECT_EQ(checked.setting_value, expected.value);
    std::vector<std::string> tables;
    for (const TableReference& table : checked.tables)
      tables.push_back(table.schema.empty() ? table.table : table.schema + "." + table.table);
    EXPECT_EQ(tables, expected.tables);
    const bool query = expected.kind == K::kQuery || expected.kind == K::kExplain;
    EXPECT_EQ(checked.tree_json.empty(), !query);
    if (query && tables.empty() && expected.runs) {
      // Queries over no table run as they are on the locked engine: the rendered tree works.
      ASSERT_OK_AND_ASSIGN(std::string rendered, RenderQuery(connection, checked.tree_json));
      ASSERT_OK(connection.QueryText(rendered).status());
    }
  }

  // EXPLAIN keeps positions: the table is where the user wrote it.
  ASSERT_OK_AND_ASSIGN(CheckedQuery explain,
                       CheckQuery(connection, "EXPLAIN\nSELECT * FROM finance.revenue"));
  ASSERT_EQ(explain.tables.size(), 1u);
  EXPECT_EQ(explain.tables[0].position, 22);
  EXPECT_THAT(explain.sql, Not(HasSubstr("EXPLAIN")));

  const std::vector<std::tuple<std::string, std::string, std::string, int64_t>> described = {
      {"DESCRIBE finance.revenue", "finance", "revenue", 9},
      {"DESCRIBE mesh.finance.revenue", "finance", "revenue", 9},
      {"desc \"finance\".\"q3_revenue\";", "finance", "q3_revenue", 5},
      {"DESCRIBE revenue", "", "revenue", 9},
      {"DESCRIBE pg_catalog.pg_class", "pg_catalog", "pg_class", 9},
  };
  for (const auto& [sql, schema, table, position] : described) {
    SCOPED_TRACE(sql);
    ASSERT_OK_AND_ASSIGN(CheckedQuery checked, CheckQuery(connection, sql));
    EXPECT_EQ(checked.kind, StatementKind::kDescribe);
    EXPECT_EQ(checked.described.schema, schema);
    EXPECT_EQ(checked.described.table, table);
    EXPECT_EQ(checked.described.position, position);
    EXPECT_TRUE(checked.tree_json.empty());
  }
  EXPECT_EQ(SettableOptions().size(), 11u);
}

}  // namespace
}  // namespace meshwork::query
