// Appending 10M generated rows to an Iceberg table (Parquet with field ids, statistics from the
// footers, manifests, commit) against DuckDB writing the same query to one Parquet file with
// COPY, on the same engine settings. Target: at least 0.9x of DuckDB's throughput.

#include <unistd.h>

#include <cstdio>

#include "bench/bench_util.h"
#include "engine/database.h"
#include "iceberg/ddl_parser.h"
#include "iceberg/table_writer.h"
#include "iceberg/warehouse.h"

using namespace meshwork;

namespace {

constexpr int64_t kRows = 10'000'000;
constexpr int kRuns = 3;

constexpr const char* kQuery =
    "SELECT i AS id, TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds(i % 8640000) AS ts, "
    "'customer-' || (i % 100000) AS customer, CAST((i % 100000) / 100.0 AS DECIMAL(12,2)) AS "
    "amount, (i % 1000) * 0.5 AS score FROM range({}) t(i)";

// `partition` is our spec; `reference_partition` the same partitioning as DuckDB COPY options
// over the query's columns plus `reference_columns`.
void Run(const char* label, const std::string& partition, const std::string& reference_columns,
         const std::string& reference_options) {
  bench::ScratchFolder scratch("meshwork-append-bench");
  auto database = bench::Must(engine::Database::Open({}), "open DuckDB");
  auto connection = bench::Must(database.Connect(), "connect");
  const std::string query = fmt::format(fmt::runtime(kQuery), kRows);
  bench::MustOk(connection.Execute("SET TimeZone = 'UTC'"), "time zone");

  int run = 0;
  const double duckdb_seconds = bench::MedianSeconds(kRuns, [&] {
    const auto target = scratch.path() / fmt::format("copy-{}.parquet", run++);
    bench::MustOk(connection.Execute(fmt::format(
                      "COPY (SELECT *{} FROM ({})) TO '{}' (FORMAT parquet, COMPRESSION zstd{})",
                      reference_columns, query, target.string(), reference_options)),
                  "COPY");
  });

  auto warehouse =
      bench::Must(iceberg::Warehouse::Open((scratch.path() / "wh").string()), "warehouse");
  auto schema = bench::Must(iceberg::ParseColumnList("id long not null, ts timestamptz, customer "
                                                     "string, amount decimal(12,2), score double"),
                            "schema");
  auto spec = bench::Must(iceberg::ParsePartitionExpression(partition, schema), "partition");
  int table_number = 0;
  int64_t files = 0;
  const double ours_seconds = bench::MedianSeconds(kRuns, [&] {
    const auto name = bench::Must(
        iceberg::TableIdentifier::Parse(fmt::format("bench.t{}", table_number++)), "name");
    bench::Must(warehouse->CreateTable(name, schema, spec), "create");
    auto appended =
        bench::Must(iceberg::AppendQuery(*warehouse, name, connection, query), "append");
    files = appended.added_files;
  });

  const double duckdb_rate = kRows / duckdb_seconds, ours_rate = kRows / ours_seconds;
  std::printf(
      "%s, %lld rows: DuckDB COPY %.2f s (%.2f M rows/s); meshwork append %.2f s (%.2f M "
      "rows/s, %lld files)\n",
      label, static_cast<long long>(kRows), duckdb_seconds, duckdb_rate / 1e6, ours_seconds,
      ours_rate / 1e6, static_cast<long long>(files));
  bench::PrintRatio(label, ours_rate / duckdb_rate, ">= 0.90x", ours_rate / duckdb_rate >= 0.9);
}

}  // namespace

int main() {
  Run("append, unpartitioned", "", "", "");
  Run("append, partitioned by day(ts)", "day(ts)", ", CAST(ts AS DATE) AS ts_day",
      ", PARTITION_BY (ts_day)");
  return 0;
}
