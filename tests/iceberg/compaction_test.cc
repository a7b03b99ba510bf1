// Partition evolution and compaction: new specs follow the spec's id rules, files of every spec
// read and prune correctly, and compaction rewrites small files without losing or inventing a
// row, keeps concurrent appends and refuses to clobber concurrent deletes.
#include <gtest/gtest.h>

#include "engine/database.h"
#include "iceberg/ddl_parser.h"
#include "iceberg/maintenance.h"
#include "iceberg/scan_planner.h"
#include "iceberg/scan_reader.h"
#include "iceberg/table_writer.h"
#include "testing/status_matchers.h"
#include "testing/test_env.h"
#include "warehouse_backends.h"

namespace meshwork::iceberg {
namespace {

using ::testing::ElementsAre;
using Rows = std::vector<std::vector<std::string>>;

// GetParam(): the backend ("local", "s3"; see warehouse_backends.h).
class CompactionTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    MESHWORK_OPEN_TEST_WAREHOUSE(warehouse_, GetParam(), scratch_.path());
    ASSERT_OK_AND_ASSIGN(database_, engine::Database::Open({.threads = 2}));
    ASSERT_OK_AND_ASSIGN(connection_, database_->Connect());
    table_ = *TableIdentifier::Parse("sales.orders");
    ASSERT_OK_AND_ASSIGN(Schema schema, ParseColumnList("id long, ts timestamptz, region string"));
    ASSERT_OK_AND_ASSIGN(PartitionSpec spec, ParsePartitionExpression("day(ts)", schema));
    ASSERT_OK(warehouse_->CreateTable(table_, schema, spec).status());
  }

  void Append(int first_id, int count, const std::string& day) {
    ASSERT_OK(AppendQuery(*warehouse_, table_, *connection_,
                          fmt::format("SELECT {} + i AS id, TIMESTAMPTZ '{} 10:00:00+00' AS ts, "
                                      "'r' || (i % 3) AS region FROM range({}) t(i)",
                                      first_id, day, count))
                  .status());
  }

  Result<LoadedTable> Evolve(const std::string& expression) {
    MW_ASSIGN_OR_RETURN(LoadedTable table, warehouse_->LoadTable(table_));
    MW_ASSIGN_OR_RETURN(PartitionSpec spec,
                        ParsePartitionExpression(expression, table.metadata.CurrentSchema()));
    return UpdatePartitionSpec(*warehouse_, table_, spec);
  }

  Result<ScanPlan> Plan(const std::string& filter = "") {
    MW_ASSIGN_OR_RETURN(LoadedTable table, warehouse_->LoadTable(table_));
    MW_ASSIGN_OR_RETURN(ExpressionPtr parsed, ParseFilter(filter, table.metadata.CurrentSchema()));
    return PlanScan(*warehouse_, table, std::nullopt, *parsed);
  }

  // Every row, sorted, as text.
  Rows All() {
    auto table = warehouse_->LoadTable(table_);
    auto plan = Plan();
    EXPECT_OK(plan.status());
    auto sql = ScanSql(warehouse_->io(), table->metadata, table->metadata.CurrentSchema(), *plan);
    EXPECT_OK(sql.status());
    auto rows = connection_->QueryText("SELECT * FROM (" + *sql + ") ORDER BY ALL");
    EXPECT_OK(rows.status());
    return rows.ok() ? *rows : Rows{};
  }

  testing::ScratchDir scratch_{"compaction"};
  std::unique_ptr<Warehouse> warehouse_;
  std::optional<engine::Database> database_;
  std::optional<engine::Connection> connection_;
  TableIdentifier table_;
};

TEST_P(CompactionTest, PartitionEvolutionFollowsTheSpecsIdRules) {
  ASSERT_OK_AND_ASSIGN(LoadedTable evolved, Evolve("day(ts), bucket(4, id)"));
  EXPECT_EQ(evolved.metadata.default_spec_id, 1);
  ASSERT_EQ(evolved.metadata.DefaultSpec().fields().size(), 2u);
  // day(ts) keeps field id 1000; the new field continues from last-partition-id.
  EXPECT_EQ(evolved.metadata.DefaultSpec().fields()[0].field_id, 1000);
  EXPECT_EQ(evolved.metadata.DefaultSpec().fields()[1].field_id, 1001);
  EXPECT_EQ(evolved.metadata.last_partition_id, 1001);
  ASSERT_OK_AND_ASSIGN(LoadedTable unpartitioned, Evolve(""));
  EXPECT_EQ(unpartitioned.metadata.default_spec_id, 2);
  EXPECT_TRUE(unpartitioned.metadata.DefaultSpec().fields().empty());
  // Going back to an earlier spec reuses it instead of adding a duplicate.
  ASSERT_OK_AND_ASSIGN(LoadedTable back, Evolve("day(ts)"));
  EXPECT_EQ(back.metadata.default_spec_id, 0);
  EXPECT_EQ(back.metadata.partition_specs.size(), 3u);
  // A field dropped and added again gets its old id back.
  ASSERT_OK_AND_ASSIGN(LoadedTable again, Evolve("bucket(4, id), region"));
  EXPECT_EQ(again.metadata.DefaultSpec().fields()[0].field_id, 1001);
  EXPECT_EQ(again.metadata.DefaultSpec().fields()[1].field_id, 1002);
  // Setting the current spec again changes nothing (no new metadata file).
  ASSERT_OK_AND_ASSIGN(LoadedTable same, Evolve("bucket(4, id), region"));
  EXPECT_EQ(same.metadata_location, again.metadata_location);
  EXPECT_THAT(Evolve("hour(region)").status(), IsError(StatusCode::kInvalidArgument));
}

TEST_P(CompactionTest, FilesOfEverySpecReadAndPrune) {
  Append(0, 10, "2026-01-01");
  Append(100, 10, "2026-01-02");
  ASSERT_OK(Evolve("bucket(4, id)").status());
  Append(200, 10, "2026-01-03");
  EXPECT_EQ(All().size(), 30u);
  // A day filter prunes the old spec's files; the new spec's files stay (bucket cannot say).
  ASSERT_OK_AND_ASSIGN(ScanPlan by_day, Plan("ts < '2026-01-02'"));
  size_t old_spec_kept = 0;
  for (const DataFile& file : by_day.files)
    old_spec_kept += file.partition_spec_id == 0;
  EXPECT_EQ(old_spec_kept, 1u);
  // An id filter prunes the new spec's files by bucket (and every file by bounds).
  ASSERT_OK_AND_ASSIGN(ScanPlan by_id, Plan("id = 205"));
  ASSERT_EQ(by_id.files.size(), 1u);
  EXPECT_EQ(by_id.files[0].partition_spec_id, 1);
}

TEST_P(CompactionTest, CompactsSmallFilesKeepingEveryRow) {
  for (int append = 0; append < 6; ++append)
    Append(append * 10, 10, append % 2 ? "2026-01-01" : "2026-01-02");
  ASSERT_OK(Evolve("region").status());
  Append(100, 9, "2026-01-03");  // 3 files in the new spec, one per region: none small-grouped
  const Rows before = All();
  ASSERT_OK_AND_ASSIGN(ScanPlan plan_before, Plan());
  EXPECT_EQ(plan_before.files.size(), 9u);
  ASSERT_OK_AND_ASSIGN(CompactResult result,
                       CompactTable(*warehouse_, table_, *connection_, CompactOptions{}));
  EXPECT_NE(result.snapshot_id, 0);
  EXPECT_EQ(result.rewritten_files, 6);  // the old spec's files, moved into the new spec
  EXPECT_EQ(result.records, 60);
  EXPECT_EQ(result.added_files, 3);  // one per region
  EXPECT_EQ(All(), before);
  ASSERT_OK_AND_ASSIGN(LoadedTable table, warehouse_->LoadTable(table_));
  const Snapshot* snapshot = table.metadata.CurrentSnapshot();
  EXPECT_EQ(snapshot->operation(), "replace");
  EXPECT_EQ(snapshot->summary.at("deleted-data-files"), "6");
  EXPECT_EQ(snapshot->summary.at("added-data-files"), "3");
  EXPECT_EQ(snapshot->summary.at("added-records"), "60");
  EXPECT_EQ(snapshot->summary.at("total-records"), "69");
  // Now each region has two small files: a second run merges them.
  ASSERT_OK_AND_ASSIGN(CompactResult second,
                       CompactTable(*warehouse_, table_, *connection_, CompactOptions{}));
  EXPECT_EQ(second.rewritten_files, 6);
  EXPECT_EQ(second.added_files, 3);
  EXPECT_EQ(All(), before);
  // And then there is nothing left to do.
  ASSERT_OK_AND_ASSIGN(CompactResult third,
                       CompactTable(*warehouse_, table_, *connection_, CompactOptions{}));
  EXPECT_EQ(third.snapshot_id, 0);
  EXPECT_EQ(third.rewritten_files, 0);
}

TEST_P(CompactionTest, TimeTravelBeforeCompactionStillWorks) {
  Append(0, 5, "2026-01-01");
  Append(5, 5, "2026-01-01");
  ASSERT_OK_AND_ASSIGN(LoadedTable before, warehouse_->LoadTable(table_));
  ASSERT_OK(CompactTable(*warehouse_, table_, *connection_, CompactOptions{}).status());
  ASSERT_OK_AND_ASSIGN(LoadedTable after, warehouse_->LoadTable(table_));
  ASSERT_OK_AND_ASSIGN(
      ScanPlan old_plan,
      PlanScan(*warehouse_, after, before.metadata.current_snapshot_id, Expression()));
  EXPECT_EQ(old_plan.files.size(), 2u);
  ASSERT_OK_AND_ASSIGN(ScanPlan new_plan, Plan());
  EXPECT_EQ(new_plan.files.size(), 1u);
  EXPECT_EQ(new_plan.records_kept, 10);
}

// What a concurrent writer does between compaction's planning and its commit is simulated by a
// writer that commits while compaction's rewrite runs: the commit hook is the progress callback.
TEST_P(CompactionTest, ConcurrentAppendIsKeptConcurrentDeleteConflicts) {
  Append(0, 5, "2026-01-01");
  Append(5, 5, "2026-01-01");
  {
    engine::Database other = *engine::Database::Open({.threads = 1});
    engine::Connection other_connection = *other.Connect();
    CompactOptions options;
    bool appended = false;
    options.progress = [&](const std::string& message) {
      if (appended || message.find("writing") == std::string::npos) return;
      appended = true;
      EXPECT_OK(AppendQuery(*warehouse_, table_, other_connection,
                            "SELECT 500 AS id, TIMESTAMPTZ '2026-01-01 11:00:00+00' AS ts, "
                            "'x' AS region")
                    .status());
    };
    ASSERT_OK_AND_ASSIGN(CompactResult result,
                         CompactTable(*warehouse_, table_, *connection_, options));
    EXPECT_TRUE(appended);
    EXPECT_EQ(result.rewritten_files, 2);
    EXPECT_EQ(All().size(), 11u);  // the concurrent row survived
  }
  Append(20, 5, "2026-01-01");
  const Rows before = All();
  {
    engine::Database other = *engine::Database::Open({.threads = 1});
    engine::Connection other_connection = *other.Connect();
    CompactOptions options;
    bool deleted = false;
    options.progress = [&](const std::string& message) {
      if (deleted || message.find("writing") == std::string::npos) return;
      deleted = true;
      EXPECT_OK(DeleteWhere(*warehouse_, table_, other_connection, "id = 20").status());
    };
    auto result = CompactTable(*warehouse_, table_, *connection_, options);
    EXPECT_TRUE(deleted);
    EXPECT_THAT(result.status(), IsError(StatusCode::kConflict, "already removed or rewritten"));
  }
  // The delete won; compaction left no files behind.
  EXPECT_EQ(All().size(), before.size() - 1);
  ASSERT_OK_AND_ASSIGN(OrphanReport orphans,
                       RemoveOrphanFiles(*warehouse_, table_, std::chrono::seconds(0), true));
  EXPECT_TRUE(orphans.orphans.empty()) << orphans.orphans.size() << " orphans, first "
                                       << (orphans.orphans.empty() ? "" : orphans.orphans[0]);
}

TEST_P(CompactionTest, RefusesNonsense) {
  CompactOptions tiny;
  tiny.target_file_size = 10;
  EXPECT_THAT(CompactTable(*warehouse_, table_, *connection_, tiny).status(),
              IsError(StatusCode::kInvalidArgument, "too small"));
  CompactOptions zero;
  zero.min_input_files = 0;
  EXPECT_THAT(CompactTable(*warehouse_, table_, *connection_, zero).status(),
              IsError(StatusCode::kInvalidArgument, "at least 1"));
  CompactOptions bad_filter;
  bad_filter.filter = "nope = 1";
  EXPECT_THAT(CompactTable(*warehouse_, table_, *connection_, bad_filter).status(),
              IsError(StatusCode::kInvalidArgument));
  // An empty table has nothing to compact.
  ASSERT_OK_AND_ASSIGN(CompactResult empty, CompactTable(*warehouse_, table_, *connection_));
  EXPECT_EQ(empty.snapshot_id, 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, CompactionTest, ::testing::Values("local", "s3"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace meshwork::iceberg
