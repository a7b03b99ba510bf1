// Scan planning of a table with 10,000 data files in 100 manifests, with a selective predicate:
// manifests pruned by partition summaries, files by partition values and column bounds. Target:
// under 20 ms. The reference is planning with no predicate (every manifest read and decoded),
// so the ratio shows what pruning saves. The data files need not exist: planning reads only
// metadata, manifest lists and manifests.

#include <cstdio>

#include "bench/bench_util.h"
#include "iceberg/ddl_parser.h"
#include "iceberg/expression.h"
#include "iceberg/scan_planner.h"
#include "iceberg/table_commit.h"
#include "iceberg/value_codec.h"
#include "iceberg/warehouse.h"

using namespace meshwork;

namespace {

constexpr int kManifests = 100;
constexpr int kFilesPerManifest = 100;
constexpr int64_t kRowsPerFile = 100'000;
constexpr int kRuns = 15;

}  // namespace

int main() {
  bench::ScratchFolder scratch("meshwork-planning-bench");
  auto warehouse =
      bench::Must(iceberg::Warehouse::Open((scratch.path() / "wh").string()), "warehouse");
  const auto name = bench::Must(iceberg::TableIdentifier::Parse("bench.events"), "name");
  auto schema = bench::Must(
      iceberg::ParseColumnList("id long not null, ts timestamptz, kind string"), "schema");
  auto spec = bench::Must(iceberg::ParsePartitionExpression("day(ts)", schema), "partition");
  bench::Must(warehouse->CreateTable(name, schema, spec), "create");

  // One commit per manifest; each manifest holds a day's files (days 0..99 of 2026), each file a
  // contiguous id range, as an append-only event table looks after 100 daily loads.
  constexpr int64_t kDay2026 = 20454;  // days from 1970-01-01 to 2026-01-01
  for (int day = 0; day < kManifests; ++day) {
    iceberg::TableChange change;
    change.operation = "append";
    auto& files = change.added[0];
    for (int index = 0; index < kFilesPerManifest; ++index) {
      const int64_t number = day * kFilesPerManifest + index;
      iceberg::DataFile file;
      file.file_path = warehouse->FileUri(fmt::format("bench/events/data/f-{}.parquet", number));
      file.record_count = kRowsPerFile;
      file.file_size_in_bytes = 64 << 20;
      file.partition = {iceberg::Literal::Date(static_cast<int32_t>(kDay2026 + day))};
      const int64_t first_id = number * kRowsPerFile;
      const int64_t day_start = (kDay2026 + day) * 86'400'000'000LL;
      file.lower_bounds = {{1, iceberg::SerializeValue(iceberg::Literal::Long(first_id))},
                           {2, iceberg::SerializeValue(iceberg::Literal::TimestampTz(day_start))}};
      file.upper_bounds = {
          {1, iceberg::SerializeValue(iceberg::Literal::Long(first_id + kRowsPerFile - 1))},
          {2, iceberg::SerializeValue(
                  iceberg::Literal::TimestampTz(day_start + 86'400'000'000LL - 1))}};
      file.value_counts = {{1, kRowsPerFile}, {2, kRowsPerFile}, {3, kRowsPerFile}};
      file.null_value_counts = {{1, 0}, {2, 0}, {3, 0}};
      files.push_back(std::move(file));
    }
    auto base = bench::Must(warehouse->LoadTable(name), "load");
    bench::Must(iceberg::CommitTableChange(*warehouse, base, change), "commit");
  }
  auto table = bench::Must(warehouse->LoadTable(name), "load");
  const iceberg::Schema& current = table.metadata.CurrentSchema();

  struct Case {
    const char* label;
    const char* filter;
  };
  const Case cases[] = {
      {"one day (partition pruning)", "ts >= '2026-02-10 00:00:00' and ts < '2026-02-11 00:00:00'"},
      {"one id (column-bound pruning)", "id = 424242424"},
  };
  auto everything = bench::Must(iceberg::ParseFilter("", current), "filter");
  iceberg::ScanPlan full;
  // Cold: every manifest decoded (the first plan of a table in a process); warm: the decoded
  // manifests kept from an earlier plan (a server planning the same table again).
  const double reference = bench::MedianSeconds(kRuns, [&] {
    iceberg::ForgetDecodedManifests();
    full = bench::Must(iceberg::PlanScan(*warehouse, table, std::nullopt, *everything), "plan");
  });
  std::printf("planning without a predicate: %.2f ms (%zu of %zu files, %zu manifests)\n",
              reference * 1e3, full.files_kept, full.files_total, full.manifests_total);
  for (const Case& test : cases) {
    auto filter = bench::Must(iceberg::ParseFilter(test.filter, current), "filter");
    iceberg::ScanPlan plan;
    const double seconds = bench::MedianSeconds(kRuns, [&] {
      iceberg::ForgetDecodedManifests();
      plan = bench::Must(iceberg::PlanScan(*warehouse, table, std::nullopt, *filter), "plan");
    });
    (void)iceberg::PlanScan(*warehouse, table, std::nullopt, *filter);
    const double warm = bench::MedianSeconds(kRuns, [&] {
      plan = bench::Must(iceberg::PlanScan(*warehouse, table, std::nullopt, *filter), "plan");
    });
    std::printf(
        "%s: %.2f ms cold, %.2f ms warm; manifests kept %zu / %zu, files kept %zu / %zu "
        "(target < 20 ms) cold %s, warm %s\n",
        test.label, seconds * 1e3, warm * 1e3, plan.manifests_kept, plan.manifests_total,
        plan.files_kept, plan.files_total, seconds < 0.020 ? "MET" : "MISSED",
        warm < 0.020 ? "MET" : "MISSED");
    bench::PrintRatio("  vs planning without a predicate", reference / seconds, "> 1x, the saving",
                      seconds < reference);
  }
  return 0;
}
