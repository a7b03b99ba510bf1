#include "iceberg/scan_planner.h"

#include <gtest/gtest.h>

#include <random>

#include "engine/database.h"
#include "iceberg/ddl_parser.h"
#include "iceberg/table_writer.h"
#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork::iceberg {
namespace {

using ::testing::HasSubstr;

TEST(FilterTest, ParsesRendersAndRefuses) {
  ASSERT_OK_AND_ASSIGN(Schema schema, ParseColumnList("id long not null, ts timestamptz, name "
                                                      "string, amount decimal(12,2), d date"));
  ASSERT_OK_AND_ASSIGN(ExpressionPtr filter,
                       ParseFilter("ts >= '2026-01-01' and (amount > 10 or name in ('a', 'b''c')) "
                                   "and not (id < 5) and d between '2026-01-01' and '2026-02-01' "
                                   "and name is not null",
                                   schema));
  EXPECT_EQ(FilterToSql(*filter),
            "((((\"ts\" >= TIMESTAMPTZ '2026-01-01T00:00:00.000000+00:00' AND (\"amount\" > "
            "CAST('10.00' AS DECIMAL(12,2)) OR \"name\" IN ('a', 'b''c'))) AND \"id\" >= 5) AND "
            "(\"d\" >= DATE '2026-01-01' AND \"d\" <= DATE '2026-02-01')) AND \"name\" IS NOT "
            "NULL)");
  ASSERT_OK_AND_ASSIGN(ExpressionPtr negated,
                       ParseFilter("not (id = 1 or name not in ('x'))", schema));
  EXPECT_EQ(FilterToSql(*negated), "(\"id\" <> 1 AND \"name\" IN ('x'))");
  EXPECT_THAT(ParseFilter("idd = 1", schema).status(),
              IsError(StatusCode::kInvalidArgument, "no column 'idd'"));
  EXPECT_THAT(ParseFilter("amount > 1.234", schema).status(),
              IsError(StatusCode::kInvalidArgument, "at most 2 decimal places"));
  EXPECT_THAT(ParseFilter("id = 1 union select 1", schema).status(),
              IsError(StatusCode::kInvalidArgument, "expected 'and', 'or'"));
  EXPECT_THAT(ParseFilter("name = 'unterminated", schema).status(),
              IsError(StatusCode::kInvalidArgument, "unterminated"));
  EXPECT_THAT(ParseFilter(std::string(10000, '('), schema).status(),
              IsError(StatusCode::kInvalidArgument, "nests too deeply"));
}

// Pruning must never drop a matching row: for random filters, the rows that match in the planned
// files equal the rows that match in all files.
TEST(ScanPlannerTest, PruningNeverLosesMatchingRows) {
  testing::ScratchDir scratch("planner");
  ASSERT_OK_AND_ASSIGN(auto warehouse, Warehouse::Open((scratch.path() / "wh").string()));
  ASSERT_OK_AND_ASSIGN(Schema schema,
                       ParseColumnList("id long not null, ts timestamptz, name string, amount "
                                       "decimal(12,2)"));
  ASSERT_OK_AND_ASSIGN(PartitionSpec spec,
                       ParsePartitionExpression("month(ts), bucket(2, id)", schema));
  const TableIdentifier orders = *TableIdentifier::Parse("sales.orders");
  ASSERT_OK(warehouse->CreateTable(orders, schema, spec).status());
  ASSERT_OK_AND_ASSIGN(engine::Database database, engine::Database::Open({.threads = 2}));
  ASSERT_OK_AND_ASSIGN(engine::Connection connection, database.Connect());
  for (int batch = 0; batch < 3; ++batch) {
    ASSERT_OK(AppendQuery(*warehouse, orders, connection,
                          fmt::format("SELECT {0} * 1000 + i AS id, CASE WHEN i % 23 = 0 THEN NULL "
                                      "ELSE TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_hours(i * 37 "
                                      "+ {0}) END AS ts, chr(CAST(97 + i % 7 AS INTEGER)) || "
                                      "chr(CAST(97 + i % 5 AS INTEGER)) || i "
                                      "AS name, ((i * 7919) % 10000 / 100.0)::DECIMAL(12,2) AS "
                                      "amount FROM range(1000) t(i)",
                                      batch))
                  .status());
  }
  ASSERT_OK_AND_ASSIGN(LoadedTable table, warehouse->LoadTable(orders));
  ASSERT_OK_AND_ASSIGN(ScanPlan everything,
                       PlanScan(*warehouse, table, std::nullopt, *ParseFilter("", schema).value()));
  EXPECT_EQ(everything.files_kept, everything.files_total);
  EXPECT_EQ(everything.records_total, 3000);
  // All rows in memory once, tagged with their file, so each check is a quick query.
  auto quoted_paths = [&](const std::vector<DataFile>& files) {
    std::string list;
    for (const DataFile& file : files)
      list += (list.empty() ? "'" : ", '") + *warehouse->io().LocalPath(file.file_path) + "'";
    return list;
  };
  ASSERT_OK(connection.Execute(
      fmt::format("CREATE TABLE all_rows AS SELECT * FROM read_parquet([{}], filename = true)",
                  quoted_paths(everything.files))));
  auto count = [&](const std::vector<DataFile>* files, const std::string& where) {
    std::string sql = "SELECT count(*) FROM all_rows WHERE " + where;
    if (files != nullptr) {
      if (files->empty()) return std::string("0");
      sql += fmt::format(" AND filename IN ({})", quoted_paths(*files));
    }
    auto rows = connection.QueryText(sql);
    EXPECT_OK(rows.status());
    return rows.ok() ? (*rows)[0][0] : std::string("error");
  };
  std::mt19937 random(11);
  const std::vector<std::string> columns = {"id", "ts", "name", "amount"};
  const std::vector<std::string> ops = {"=", "<", "<=", ">", ">=", "!="};
  size_t pruned_somewhere = 0;
  for (int trial = 0; trial < 120; ++trial) {
    auto atom = [&]() -> std::string {
      switch (random() % 6) {
        case 0:
          return fmt::format("id {} {}", ops[random() % 6], random() % 3000);
        case 1:
          return fmt::format("ts {} '2025-{:02d}-{:02d}'", ops[random() % 6], 1 + random() % 12,
                             1 + random() % 28);
        case 2:
          return fmt::format("name {} '{}{}'", ops[random() % 6], char('a' + random() % 7),
                             char('a' + random() % 5));
        case 3:
          return fmt::format("amount {} {}.{:02d}", ops[random() % 6], random() % 100,
                             random() % 100);
        case 4:
          return fmt::format("ts is {}null", random() % 2 ? "not " : "");
        default:
          return fmt::format("id in ({}, {}, {})", random() % 3000, random() % 3000,
                             random() % 3000);
      }
    };
    std::string where = atom();
    const int extra = static_cast<int>(random() % 3);
    for (int index = 0; index < extra; ++index)
      where = fmt::format("({} {} {})", where, random() % 2 ? "and" : "or", atom());
    if (random() % 5 == 0) where = "not " + where;
    SCOPED_TRACE(where);
    ASSERT_OK_AND_ASSIGN(ExpressionPtr filter, ParseFilter(where, schema));
    ASSERT_OK_AND_ASSIGN(ScanPlan plan, PlanScan(*warehouse, table, std::nullopt, *filter));
    const std::string sql = FilterToSql(*filter);
    EXPECT_EQ(count(&plan.files, sql), count(nullptr, sql));
    if (plan.files_kept < plan.files_total) ++pruned_somewhere;
  }
  // The planner does prune: most random filters skip files.
  EXPECT_GT(pruned_somewhere, 40u);

  ASSERT_OK_AND_ASSIGN(ScanPlan month, PlanScan(*warehouse, table, std::nullopt,
                                                *ParseFilter("ts >= '2025-02-01' and ts < "
                                                             "'2025-03-01'",
                                                             schema)
                                                     .value()));
  EXPECT_LT(month.files_kept, month.files_total / 4);
  EXPECT_THAT(month.ToString(), HasSubstr("data files:"));
  EXPECT_THAT(month.partition_filter, HasSubstr("ts_month"));
}

}  // namespace
}  // namespace meshwork::iceberg
