// Deploying the biggest demo product (logistics.shipments: 100,000 rows per scale factor) end to
// end — spec, inputs, transform, contract and quality checks, Iceberg publish, catalog record —
// against DuckDB running the same transform SQL as a raw `COPY ... TO 'x.parquet'`, in the same
// run on the same engine. Target: the pipeline costs at most 15% more than the raw COPY.
//
// Usage: product_deploy_benchmark [EXAMPLES_DIR] [SCALE]   (defaults: the repository's
// examples/, scale 100 = 10M rows)

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "bench/bench_util.h"
#include "catalog/catalog.h"
#include "engine/database.h"
#include "metastore/metastore.h"
#include "product/service.h"

using namespace meshwork;

namespace {

constexpr int kRuns = 3;

}  // namespace

int main(int argc, char** argv) {
  const std::string examples = argc > 1 ? argv[1] : MESHWORK_SOURCE_DIR "/examples";
  const int scale = argc > 2 ? std::atoi(argv[2]) : 100;
  bench::ScratchFolder scratch("meshwork-deploy-bench");
  auto metastore = bench::Must(
      metastore::Metastore::Open({.url = (scratch.path() / "meshwork.db").string()}), "metastore");
  auto catalog = bench::Must(
      catalog::Catalog::Open(*metastore, {.warehouse_root = (scratch.path() / "wh").string()}),
      "catalog");
  product::ProductService service(*catalog);
  const catalog::Caller root{"root", true, "bench"};
  product::DeployOptions options{.create_domain = true};
  options.variables["scale"] = std::to_string(scale);

  // shipments' quality rules reference the customer master: publish it first.
  auto customers =
      bench::Must(product::LoadSpec(examples + "/customers/customers"), "customers spec");
  auto published = bench::Must(service.Deploy(root, customers, options), "deploy customers");
  bench::MustOk(published.failure, "deploy customers");
  auto shipments =
      bench::Must(product::LoadSpec(examples + "/logistics/shipments"), "shipments spec");

  // The reference: the same SQL, the same variable, one Parquet file, nothing else.
  auto database = bench::Must(engine::Database::Open({.settings = {{"TimeZone", "UTC"}}}), "open");
  auto connection = bench::Must(database.Connect(), "connect");
  bench::MustOk(connection.Execute(fmt::format("SET VARIABLE scale = {}", scale)), "variable");
  std::string sql = shipments.transform.sql;
  while (!sql.empty() &&
         (std::isspace(static_cast<unsigned char>(sql.back())) || sql.back() == ';'))
    sql.pop_back();
  int run = 0;
  const double duckdb_seconds = bench::MedianSeconds(kRuns, [&] {
    const auto target = scratch.path() / fmt::format("copy-{}.parquet", run++);
    bench::MustOk(connection.Execute(fmt::format("COPY ({}\n) TO '{}' (FORMAT parquet, "
                                                 "COMPRESSION zstd)",
                                                 sql, target.string())),
                  "COPY");
    std::filesystem::remove(target);
  });

  // The same with the port's partitioning, as DuckDB writes partitions itself: what the
  // Iceberg write adds beyond partitioning (field ids, statistics, manifests, the commit).
  std::string partition_columns, partition_by;
  {
    std::string text = shipments.ports.at(0).partitioning;
    size_t start = 0;
    while (start < text.size()) {
      size_t comma = text.find(',', start);
      if (comma == std::string::npos) comma = text.size();
      std::string item = text.substr(start, comma - start);
      item.erase(0, item.find_first_not_of(' '));
      const size_t open = item.find('(');
      const std::string name = fmt::format("__p{}", partition_by.empty() ? 0 : 1);
      if (open == std::string::npos) {
        partition_columns += ", " + item + " AS " + name;
      } else {
        const std::string transform = item.substr(0, open);
        const std::string column = item.substr(open + 1, item.find(')') - open - 1);
        partition_columns += fmt::format(", date_trunc('{}', {}) AS {}", transform, column, name);
      }
      partition_by += (partition_by.empty() ? "" : ", ") + name;
      start = comma + 1;
    }
  }
  double partitioned_seconds = 0;
  if (!partition_by.empty()) {
    partitioned_seconds = bench::MedianSeconds(kRuns, [&] {
      const auto target = scratch.path() / fmt::format("copy-p-{}", run++);
      bench::MustOk(connection.Execute(fmt::format(
                        "COPY (SELECT *{} FROM ({}\n)) TO '{}' (FORMAT parquet, COMPRESSION zstd, "
                        "PARTITION_BY ({}))",
                        partition_columns, sql, target.string(), partition_by)),
                    "partitioned COPY");
      std::filesystem::remove_all(target);
    });
  }

  int64_t rows = 0;
  std::map<std::string, double> steps;
  const double ours_seconds = bench::MedianSeconds(kRuns, [&] {
    auto report = bench::Must(service.Deploy(root, shipments, options), "deploy shipments");
    bench::MustOk(report.failure, "deploy shipments");
    rows = report.ports.at(0).records;
    for (const auto& step : report.steps)
      steps[step.step] = step.seconds;
  });
  std::printf("deploy logistics.shipments at scale %d: %lld rows\n", scale,
              static_cast<long long>(rows));
  std::printf("  raw DuckDB COPY of the transform: %.2f s (median of %d)\n", duckdb_seconds, kRuns);
  if (partitioned_seconds > 0) {
    std::printf("  raw DuckDB COPY, partitioned by %s: %.2f s (median of %d)\n",
                shipments.ports.at(0).partitioning.c_str(), partitioned_seconds, kRuns);
  }
  std::printf("  meshwork product deploy:          %.2f s (median of %d)\n", ours_seconds, kRuns);
  for (const auto& [step, seconds] : steps)
    std::printf("    last run, %-18s %.2f s\n", step.c_str(), seconds);
  const double overhead = ours_seconds / duckdb_seconds - 1;
  std::printf("  overhead %+.1f%% (target <= 15%%): %s\n", 100 * overhead,
              overhead <= 0.15 ? "MET" : "MISSED");
  if (partitioned_seconds > 0) {
    const double partitioned = ours_seconds / partitioned_seconds - 1;
    std::printf("  overhead vs the partitioned COPY %+.1f%% (target <= 15%%): %s\n",
                100 * partitioned, partitioned <= 0.15 ? "MET" : "MISSED");
  }
  return 0;
}
