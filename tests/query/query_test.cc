// The SQL firewall and queries over published products: what is refused (with its position),
// what is resolved, pinned and authorized.
#include "query/query.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/time.h"
#include "engine/database.h"
#include "product/service.h"
#include "query/data_plan.h"
#include "query/firewall.h"
#include "query/session.h"
#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork::query {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

TEST(FirewallTest, RefusesEverythingButOneReadOnlyQueryOverCatalogNames) {
  auto database = *engine::Database::Open();
  auto connection = *database.Connect();
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"SELECT * FROM read_parquet('/etc/passwd')", "table function read_parquet()"},
      {"SELECT * FROM read_csv_auto('x.csv')", "table function read_csv_auto()"},
      {"SELECT * FROM glob('/*')", "table function glob()"},
      {"SELECT * FROM parquet_metadata('x')", "table function parquet_metadata()"},
      {"SELECT * FROM duckdb_settings()", "table function duckdb_settings()"},
      {"SELECT * FROM query('SELECT 1')", "table function query()"},
      {"SELECT getenv('HOME')", "function getenv()"},
      {"SELECT a FROM finance.revenue WHERE b = (SELECT current_setting('temp_directory'))",
       "function current_setting()"},
      {"SELECT read_blob('x')", "function read_blob()"},
      {"SELECT * FROM other.finance.revenue", "catalog 'other' is not the mesh"},
      {"SELECT main.getenv('x')", "function getenv() is not allowed"},
      {"SELECT other.format_type(1, 2)", "names a schema"},
      {"COPY (SELECT 1) TO 'x.csv'", "'copy' statements are refused"},
      {"ATTACH 'x.db'", "'attach' statements are refused"},
      {"PRAGMA version", "'pragma' statements are refused"},
      {"INSTALL httpfs", "'install' statements are refused"},
      {"CREATE TABLE t AS SELECT 1", "'create' statements are refused"},
      {"DELETE FROM finance.revenue", "'delete' statements are refused"},
      {"SET allowed_directories = ['/']", "option allowed_directories is locked"},
      {"SELECT 1; SELECT 2", "one statement at a time"},
      {"EXPLAIN ANALYZE SELECT 1", "EXPLAIN ANALYZE"},
      {"SELEC 1", "syntax error"},
  };
  for (const auto& [sql, message] : refused) {
    EXPECT_THAT(CheckQuery(connection, sql), IsError(StatusCode::kInvalidArgument, message)) << sql;
  }
  // Positions point at the construct.
  auto refusal = CheckQuery(connection, "SELECT 1 AS a,\n  getenv('HOME') AS b");
  ASSERT_FALSE(refusal.ok());
  ASSERT_NE(refusal.error().location(), nullptr);
  EXPECT_EQ(refusal.error().location()->line, 2);
  EXPECT_EQ(refusal.error().location()->column, 3);

  ASSERT_OK_AND_ASSIGN(
      CheckedQuery ok,
      CheckQuery(connection,
                 "WITH recent AS (SELECT * FROM finance.revenue AT (VERSION => 7)) "
                 "SELECT * FROM recent r JOIN mesh.customers.customers c USING (id) "
                 "JOIN range(3) t(x) ON true"));
  ASSERT_THAT(ok.tables, SizeIs(2));  // the CTE's name is not a table
  EXPECT_EQ(ok.tables[0].schema, "finance");
  EXPECT_EQ(ok.tables[0].at_unit, "VERSION");
  EXPECT_EQ(ok.tables[0].at_value, "7");
  EXPECT_EQ(ok.tables[1].schema, "customers");
  ASSERT_OK_AND_ASSIGN(CheckedQuery explain, CheckQuery(connection, "EXPLAIN SELECT 1"));
  EXPECT_TRUE(explain.explain);
}

TEST(FirewallTest, AuditQueriesPushTheirFiltersToTheMetastore) {
  auto database = *engine::Database::Open();
  auto connection = *database.Connect();
  const auto pushdown = [&](const std::string& sql) {
    auto checked = CheckQuery(connection, sql);
    EXPECT_OK(checked.status()) << sql;
    return checked.ok() ? AuditPushdown(*checked) : metastore::AuditFilter{};
  };
  auto filter = pushdown(
      "SELECT * FROM mesh.audit WHERE principal = 'o''neil' AND operation = 'query' AND allowed "
      "= false AND happened_at >= TIMESTAMP '2026-12-01 10:00:00' AND happened_at <= "
      "'2026-12-02 00:00:00.0005' AND id < 500");
  EXPECT_EQ(filter.principal, "o'neil");
  EXPECT_EQ(filter.operation, "query");
  EXPECT_EQ(filter.allowed, std::optional<bool>(false));
  EXPECT_EQ(filter.since_ms, *time::ParseRfc3339("2026-12-01T10:00:00Z") / 1000);
  // <= a fraction of a millisecond: up to the next whole one, and <= makes it one more.
  EXPECT_EQ(filter.until_ms, *time::ParseRfc3339("2026-12-02T00:00:00Z") / 1000 + 2);
  EXPECT_EQ(filter.before_id, 500);
  EXPECT_EQ(filter.limit, catalog::Catalog::kMaxAuditPage);
  // Flipped comparisons read the same way.
  EXPECT_EQ(pushdown("SELECT 1 FROM catalog.audit a WHERE 'x' = a.principal").principal, "x");
  // What the metastore cannot say exactly stays with DuckDB: OR, LIKE, functions, a second
  // reference, a CTE over the log.
  for (const std::string sql :
       {"SELECT * FROM mesh.audit WHERE principal = 'x' OR principal = 'y'",
        "SELECT * FROM mesh.audit WHERE principal LIKE 'x%'",
        "SELECT * FROM mesh.audit WHERE lower(principal) = 'x'",
        "SELECT * FROM mesh.audit a JOIN mesh.audit b USING (id) WHERE a.principal = 'x'",
        "WITH log AS (SELECT * FROM mesh.audit) SELECT * FROM log WHERE principal = 'x'",
        "SELECT * FROM mesh.audit WHERE happened_at > now() - INTERVAL 1 DAY"}) {
    const auto none = pushdown(sql);
    EXPECT_EQ(none.principal, "") << sql;
    EXPECT_EQ(none.since_ms, 0) << sql;
  }
}

TEST(QueryTest, MeshAuditReachesRecordsOlderThanTheNewestPage) {
  testing::ScratchDir scratch("query-audit");
  auto metastore = *metastore::Metastore::Open({.url = (scratch.path() / "meshwork.db").string()});
  auto catalog = std::move(*catalog::Catalog::Open(
      *metastore, {.warehouse_root = (scratch.path() / "warehouse").string()}));
  const catalog::Caller root{"root", true, "test"};
  const int64_t now = time::NowMillis();
  std::vector<metastore::AuditRecord> records;
  for (int i = 0; i < 3; ++i)
    records.push_back({.at_ms = now - 7'200'000, .principal = "needle", .operation = "READ_DATA"});
  for (int64_t i = 0; i < catalog::Catalog::kMaxAuditPage + 500; ++i)
    records.push_back({.at_ms = now - 3'600'000, .principal = "hay", .operation = "READ_DATA"});
  ASSERT_OK(metastore->AppendAudit(records));
  ASSERT_OK_AND_ASSIGN(auto service, QueryService::Open(*catalog, {}));
  ASSERT_OK_AND_ASSIGN(auto session, service->OpenSession(root));
  const auto count = [&](const std::string& sql) -> std::string {
    auto cursor = session->Execute(sql);
    if (!cursor.ok()) return cursor.error().ToString();
    auto rows = ReadAll(*cursor, 10);
    return rows.ok() ? rows->rows.at(0).at(0) : rows.error().ToString();
  };
  EXPECT_EQ(count("SELECT count(*) FROM mesh.audit WHERE principal = 'needle'"), "3");
  // Without a pushable filter the newest page is what the table holds.
  EXPECT_EQ(count("SELECT count(*) FILTER (WHERE principal = 'needle') FROM mesh.audit"), "0");
  EXPECT_EQ(count("SELECT count(*) FROM mesh.audit WHERE principal = 'hay' AND happened_at < "
                  "now()::TIMESTAMP"),
            std::to_string(catalog::Catalog::kMaxAuditPage));
  // A statement that fails for another reason than a refusal is not a denied access.
  EXPECT_FALSE(session->Execute("SELECT * FROM nowhere.missing").ok());
  ASSERT_OK_AND_ASSIGN(auto failed,
                       catalog->ListAudit(root, {.principal = "root", .operation = "query"}));
  ASSERT_FALSE(failed.empty());
  EXPECT_TRUE(failed[0].allowed);
  EXPECT_THAT(failed[0].reason, HasSubstr("not run: no data product port nowhere.missing"));
}

// An access policy that cancels the statement it is asked about: a cancel that arrives while
// the statement is planned, before DuckDB runs anything.
class CancellingPolicy : public AccessPolicy {
 public:
  Session* session = nullptr;
  Result<TableAccess> ForTable(const catalog::Caller&, const std::string&,
                               const std::vector<std::string>&,
                               const std::set<std::string>&) override {
    if (session != nullptr) session->Cancel();
    return TableAccess{};
  }
};

TEST(QueryTest, ACancelWhileTheStatementIsPlannedStopsIt) {
  testing::ScratchDir scratch("query-cancel");
  auto metastore = *metastore::Metastore::Open({.url = (scratch.path() / "meshwork.db").string()});
  auto catalog = std::move(*catalog::Catalog::Open(
      *metastore, {.warehouse_root = (scratch.path() / "warehouse").string()}));
  product::ProductService products(*catalog);
  const catalog::Caller root{"root", true, "test"};
  const auto folder = scratch.path() / "numbers";
  std::filesystem::create_directories(folder);
  std::ofstream(folder / "dataproduct.yaml")
      << "apiVersion: meshwork/v1\nkind: DataProduct\ndomain: math\nname: numbers\nversion: "
         "1.0.0\nowner: {team: math}\ntransform:\n  sql: SELECT i AS n FROM range(10) t(i)\n"
         "ports:\n  - name: numbers\n    columns:\n      - {name: n, type: long, description: N}\n";
  ASSERT_OK(
      products.Deploy(root, *product::LoadSpec(folder.string()), {.create_domain = true})->failure);
  CancellingPolicy policy;
  ASSERT_OK_AND_ASSIGN(auto service, QueryService::Open(*catalog, {.access_policy = &policy}));
  ASSERT_OK_AND_ASSIGN(auto session, service->OpenSession(root));
  policy.session = session.get();
  EXPECT_THAT(session->Execute("SELECT count(*) FROM math.numbers"),
              IsError(StatusCode::kCancelled, "canceling statement due to user request"));
  // The cancel was for that statement only: the next one runs.
  policy.session = nullptr;
  ASSERT_OK_AND_ASSIGN(auto cursor, session->Execute("SELECT count(*) FROM math.numbers"));
  ASSERT_OK_AND_ASSIGN(auto rows, ReadAll(cursor, 10));
  EXPECT_THAT(rows.rows, ElementsAre(ElementsAre("10")));
}

TEST(QueryTest, ResolvesPinsAndAuthorizesEveryTable) {
  testing::ScratchDir scratch("query");
  auto metastore = *metastore::Metastore::Open({.url = (scratch.path() / "meshwork.db").string()});
  auto catalog = std::move(*catalog::Catalog::Open(
      *metastore, {.warehouse_root = (scratch.path() / "warehouse").string()}));
  product::ProductService products(*catalog);
  const catalog::Caller root{"root", true, "test"};
  const auto folder = scratch.path() / "numbers";
  std::filesystem::create_directories(folder);
  const auto write_spec = [&](const std::string& version, int rows) {
    std::ofstream(folder / "dataproduct.yaml", std::ios::trunc)
        << "apiVersion: meshwork/v1\nkind: DataProduct\ndomain: math\nname: numbers\nversion: "
        << version << "\nowner: {team: math}\ntransform:\n  sql: SELECT i AS n FROM range(" << rows
        << ") t(i)\nports:\n  - name: numbers\n    columns:\n      - {name: n, type: long, "
           "description: A number}\n";
  };
  write_spec("1.0.0", 10);
  ASSERT_OK(
      products.Deploy(root, *product::LoadSpec(folder.string()), {.create_domain = true})->failure);
  write_spec("1.0.1", 20);
  ASSERT_OK(products.Deploy(root, *product::LoadSpec(folder.string()))->failure);

  ASSERT_OK_AND_ASSIGN(auto now, RunQuery(*catalog, root, "SELECT count(*) FROM math.numbers"));
  EXPECT_THAT(now.rows, ElementsAre(ElementsAre("20")));
  ASSERT_OK_AND_ASSIGN(
      auto tagged,
      RunQuery(*catalog, root, "SELECT count(*) FROM math.numbers AT (VERSION => 'v1.0.0')"));
  EXPECT_THAT(tagged.rows, ElementsAre(ElementsAre("10")));
  ASSERT_OK_AND_ASSIGN(auto explain,
                       RunQuery(*catalog, root, "EXPLAIN SELECT * FROM math.numbers"));
  EXPECT_THAT(explain.explain, HasSubstr("math.numbers: snapshot"));
  EXPECT_THAT(RunQuery(*catalog, root, "SELECT * FROM numbers"),
              IsError(StatusCode::kInvalidArgument, "needs its domain"));
  // A session remembers its settings: unqualified names resolve through search_path.
  ASSERT_OK_AND_ASSIGN(auto service, QueryService::Open(*catalog, {}));
  ASSERT_OK_AND_ASSIGN(auto session, service->OpenSession(root));
  ASSERT_OK_AND_ASSIGN(auto set, session->Execute("SET search_path = math"));
  EXPECT_EQ(set.command(), "SET");
  ASSERT_OK_AND_ASSIGN(auto unqualified, session->Execute("SELECT count(*) FROM numbers"));
  ASSERT_OK_AND_ASSIGN(auto counted, ReadAll(unqualified, 10));
  EXPECT_EQ(counted.rows, now.rows);
  ASSERT_OK_AND_ASSIGN(auto show, session->Execute("SHOW search_path"));
  ASSERT_OK_AND_ASSIGN(auto shown, ReadAll(show, 10));
  EXPECT_THAT(shown.rows, ElementsAre(ElementsAre("math")));
  EXPECT_THAT(session->Execute("SET enable_external_access = true"),
              IsError(StatusCode::kInvalidArgument, "enable_external_access"));
  EXPECT_THAT(session->Execute("SET TimeZone = 'Europe/Berlin'"),
              IsError(StatusCode::kNotImplemented, "UTC"));
  EXPECT_THAT(RunQuery(*catalog, root, "SELECT * FROM 'math/numbers.parquet'"),
              IsError(StatusCode::kInvalidArgument, "is not a table of the mesh"));
  EXPECT_THAT(RunQuery(*catalog, root, "SELECT * FROM math.missing"),
              IsError(StatusCode::kNotFound, "math.missing"));

  // A principal without READ_DATA: the denial names the table and the privilege.
  auto reader = *catalog->CreatePrincipal(root, "reader", "user");
  auto token = *catalog->IssueToken(reader.client_id, reader.client_secret);
  auto caller = *catalog->Authenticate(token.access_token, "t");
  EXPECT_THAT(RunQuery(*catalog, caller, "SELECT * FROM math.numbers"),
              IsError(StatusCode::kPermissionDenied, "math.numbers"));
  ASSERT_OK(catalog->AssignRole(root, "reader", "math_consumer"));
  ASSERT_OK_AND_ASSIGN(auto allowed, RunQuery(*catalog, caller, "SELECT max(n) FROM math.numbers"));
  EXPECT_THAT(allowed.rows, ElementsAre(ElementsAre("19")));
}

TEST(QueryTest, WhereConjunctsPruneTheScanWithoutChangingTheResult) {
  testing::ScratchDir scratch("pushdown");
  auto metastore = *metastore::Metastore::Open({.url = (scratch.path() / "meshwork.db").string()});
  auto catalog = std::move(*catalog::Catalog::Open(
      *metastore, {.warehouse_root = (scratch.path() / "warehouse").string()}));
  product::ProductService products(*catalog);
  const catalog::Caller root{"root", true, "test"};
  const auto folder = scratch.path() / "events";
  std::filesystem::create_directories(folder);
  std::ofstream(folder / "dataproduct.yaml")
      << "apiVersion: meshwork/v1\nkind: DataProduct\ndomain: ops\nname: events\nversion: 1.0.0\n"
         "owner: {team: ops}\ntransform:\n  sql: SELECT i AS id, i % 4 AS g, 'k' || (i % 7) AS k "
         "FROM range(1000) t(i)\nports:\n  - name: events\n    columns:\n      - {name: id, type: "
         "long, description: Id}\n      - {name: g, type: long, description: Group}\n      - "
         "{name: k, type: string, description: Key}\n    partitioning: g\n";
  ASSERT_OK(
      products.Deploy(root, *product::LoadSpec(folder.string()), {.create_domain = true})->failure);
  const std::vector<std::pair<std::string, size_t>> cases = {
      {"g = 1", 1},
      {"g >= 2 AND id < 500", 2},
      {"1 < g", 2},
      {"g IS NULL", 0},
      {"e.g = 3 AND k = 'k2'", 1},
      {"g = 1 OR g = 2", 4},
      {"id > 10", 4},
      {"g = '1'", 4}};  // text against a number column: DuckDB casts, our filter does not prune
  for (const auto& [where, files] : cases) {
    SCOPED_TRACE(where);
    ASSERT_OK_AND_ASSIGN(
        auto pruned,
        RunQuery(*catalog, root, "SELECT count(*), sum(id) FROM ops.events e WHERE " + where));
    // The same filter in a form that prunes nothing.
    ASSERT_OK_AND_ASSIGN(auto full,
                         RunQuery(*catalog, root,
                                  "SELECT count(*), sum(id) FROM (SELECT * FROM ops.events) e "
                                  "WHERE " +
                                      where));
    EXPECT_EQ(pruned.rows, full.rows);
    ASSERT_THAT(pruned.tables, SizeIs(1));
    EXPECT_EQ(pruned.tables[0].files, files);
    EXPECT_EQ(pruned.tables[0].files_total, 4u);
    EXPECT_EQ(full.tables[0].files, 4u);
  }
  // Through joins: each side of an inner join prunes by its own qualified conjuncts; the
  // NULL-extended side of an outer join does not prune (that could change the result).
  const std::vector<std::tuple<std::string, size_t, size_t>> joins = {
      {"ops.events a JOIN ops.events b ON a.id = b.id WHERE a.g = 1 AND b.g = 1", 1, 1},
      {"ops.events a JOIN ops.events b ON a.id = b.id WHERE a.g = 1", 1, 4},
      {"ops.events a, ops.events b WHERE a.id = b.id AND b.g >= 2", 4, 2},
      {"ops.events a LEFT JOIN ops.events b ON a.id = b.id + 1 WHERE a.g = 1 AND b.g IS NULL", 1,
       4},
      {"ops.events a JOIN ops.events b ON a.id = b.id WHERE a.k = 'k1' AND 1 = 1", 4, 4}};
  for (const auto& [from, left, right] : joins) {
    SCOPED_TRACE(from);
    ASSERT_OK_AND_ASSIGN(auto pruned,
                         RunQuery(*catalog, root, "SELECT count(*), sum(a.id) FROM " + from));
    EXPECT_THAT(pruned.tables, SizeIs(2));
    if (pruned.tables.size() != 2) continue;
    EXPECT_EQ(pruned.tables[0].files, left);
    EXPECT_EQ(pruned.tables[1].files, right);
  }
  // Pruned or not, an outer join with a NULL test on its NULL-extended side gives one answer.
  const std::string outer = " a LEFT JOIN {} b ON a.id = b.id + 500 WHERE a.g = 1 AND b.g IS NULL";
  ASSERT_OK_AND_ASSIGN(
      auto outer_pruned,
      RunQuery(*catalog, root,
               "SELECT count(*) FROM ops.events" + fmt::format(fmt::runtime(outer), "ops.events")));
  ASSERT_OK_AND_ASSIGN(auto outer_full, RunQuery(*catalog, root,
                                                 "SELECT count(*) FROM (SELECT * FROM ops.events)" +
                                                     fmt::format(fmt::runtime(outer),
                                                                 "(SELECT * FROM ops.events)")));
  EXPECT_EQ(outer_pruned.rows, outer_full.rows);
  EXPECT_THAT(outer_pruned.rows, ElementsAre(ElementsAre("125")));
  ASSERT_OK_AND_ASSIGN(auto explain,
                       RunQuery(*catalog, root, "EXPLAIN SELECT * FROM ops.events WHERE g = 1"));
  EXPECT_THAT(explain.explain, HasSubstr("data files 1 of 4 kept (pruned by g = 1)"));
}

}  // namespace
}  // namespace meshwork::query
