// A full-scan aggregate through meshwork's table scan path (plan the scan, read the files by
// field id with the SQL ScanSql generates, on an engine locked to the warehouse, as
// `meshwork table scan` does) against DuckDB's read_parquet over the same files with the same
// aggregate. Target: at least 0.95x of DuckDB's speed.

#include <cstdio>

#include "bench/bench_util.h"
#include "engine/database.h"
#include "iceberg/ddl_parser.h"
#include "iceberg/expression.h"
#include "iceberg/scan_planner.h"
#include "iceberg/scan_reader.h"
#include "iceberg/sql_text.h"
#include "iceberg/table_writer.h"
#include "iceberg/warehouse.h"

using namespace meshwork;

namespace {

constexpr int64_t kRows = 8'000'000;
constexpr int kRuns = 7;

constexpr const char* kAggregate =
    "SELECT region, count(*), sum(amount), avg(score), max(ts) FROM ({}) GROUP BY region "
    "ORDER BY region";

void Run(const char* label, const std::string& partition) {
  bench::ScratchFolder scratch("meshwork-scan-bench");
  const std::string root = (scratch.path() / "wh").string();
  auto warehouse = bench::Must(iceberg::Warehouse::Open(root), "warehouse");
  const auto name = bench::Must(iceberg::TableIdentifier::Parse("bench.sales"), "name");
  auto schema = bench::Must(iceberg::ParseColumnList("id long not null, ts timestamptz, region "
                                                     "string, amount decimal(12,2), score double"),
                            "schema");
  auto spec = bench::Must(iceberg::ParsePartitionExpression(partition, schema), "partition");
  bench::Must(warehouse->CreateTable(name, schema, spec,
                                     {{"write.target-file-size-bytes", std::to_string(16 << 20)}}),
              "create");
  {
    auto loader = bench::Must(engine::Database::Open({}), "open DuckDB");
    auto connection = bench::Must(loader.Connect(), "connect");
    bench::Must(iceberg::AppendQuery(
                    *warehouse, name, connection,
                    fmt::format("SELECT i AS id, TIMESTAMPTZ '2026-01-01 00:00:00+00' + "
                                "to_seconds(i % 8640000) AS ts, 'region-' || (i % 7) AS region, "
                                "CAST((i % 100000) / 100.0 AS DECIMAL(12,2)) AS amount, "
                                "(i % 1000) * 0.5 AS score FROM range({}) t(i)",
                                kRows)),
                "load");
  }

  // Both sides on one engine, locked to the warehouse as the CLI's is.
  auto database = bench::Must(
      engine::Database::Open(
          {.allowed_directories = {root}, .lock_down = true, .settings = {{"TimeZone", "UTC"}}}),
      "open locked DuckDB");
  auto connection = bench::Must(database.Connect(), "connect");
  auto table = bench::Must(warehouse->LoadTable(name), "load table");
  auto everything = bench::Must(iceberg::ParseFilter("", table.metadata.CurrentSchema()), "filter");

  std::string files;
  {
    auto plan =
        bench::Must(iceberg::PlanScan(*warehouse, table, std::nullopt, *everything), "plan");
    for (const auto& file : plan.files) {
      files += (files.empty() ? "" : ", ") +
               iceberg::QuoteString(bench::Must(warehouse->io().LocalPath(file.file_path), "path"));
    }
    std::printf("%s: %lld rows in %zu files\n", label, static_cast<long long>(kRows),
                plan.files.size());
  }
  std::vector<std::vector<std::string>> theirs, ours;
  const double duckdb_seconds = bench::MedianSeconds(kRuns, [&] {
    theirs =
        bench::Must(connection.QueryText(fmt::format(
                        fmt::runtime(kAggregate), "SELECT * FROM read_parquet([" + files + "])")),
                    "DuckDB scan");
  });
  const double ours_seconds = bench::MedianSeconds(kRuns, [&] {
    // Planning is part of every scan.
    auto plan =
        bench::Must(iceberg::PlanScan(*warehouse, table, std::nullopt, *everything), "plan");
    auto sql = bench::Must(
        iceberg::ScanSql(warehouse->io(), table.metadata, table.metadata.CurrentSchema(), plan),
        "scan SQL");
    ours = bench::Must(connection.QueryText(fmt::format(fmt::runtime(kAggregate), sql)),
                       "meshwork scan");
  });
  if (ours != theirs) {
    std::fprintf(stderr, "%s: the two scans disagree\n", label);
    std::exit(1);
  }
  std::printf("%s: DuckDB read_parquet %.1f ms, meshwork scan %.1f ms (same %zu result rows)\n",
              label, duckdb_seconds * 1e3, ours_seconds * 1e3, ours.size());
  bench::PrintRatio(label, duckdb_seconds / ours_seconds, ">= 0.95x",
                    duckdb_seconds / ours_seconds >= 0.95);
}

}  // namespace

int main() {
  Run("full-scan aggregate, unpartitioned", "");
  Run("full-scan aggregate, partitioned by region", "region");
  return 0;
}
