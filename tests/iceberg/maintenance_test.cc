#include "iceberg/maintenance.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "common/time.h"
#include "engine/database.h"
#include "iceberg/ddl_parser.h"
#include "iceberg/expression.h"
#include "iceberg/scan_planner.h"
#include "iceberg/table_commit.h"
#include "iceberg/table_writer.h"
#include "testing/status_matchers.h"
#include "testing/test_env.h"
#include "warehouse_backends.h"

namespace meshwork::iceberg {
namespace {

using ::testing::HasSubstr;

// GetParam(): the backend ("local", "s3"; see warehouse_backends.h).
class MaintenanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    MESHWORK_OPEN_TEST_WAREHOUSE(warehouse_, GetParam(), scratch_.path());
    ASSERT_OK_AND_ASSIGN(database_, engine::Database::Open({.threads = 2}));
    ASSERT_OK_AND_ASSIGN(connection_, database_->Connect());
    table_ = *TableIdentifier::Parse("sales.orders");
    ASSERT_OK_AND_ASSIGN(Schema schema, ParseColumnList("id long not null, region string"));
    ASSERT_OK_AND_ASSIGN(PartitionSpec spec, ParsePartitionExpression("region", schema));
    ASSERT_OK(warehouse_->CreateTable(table_, schema, spec).status());
  }

  int64_t Append(const std::string& region, int first_id) {
    auto result = AppendQuery(
        *warehouse_, table_, *connection_,
        fmt::format("SELECT {} + i AS id, '{}' AS region FROM range(10) t(i)", first_id, region));
    EXPECT_OK(result.status());
    return result.ok() ? result->snapshot_id : -1;
  }

  // Every file under the table folder, relative to the warehouse root.
  std::set<std::string> Files() {
    std::set<std::string> files;
    auto listed = warehouse_->io().List("sales/");
    EXPECT_OK(listed.status());
    if (listed.ok()) {
      for (const storage::FileInfo& file : *listed)
        files.insert(file.path);
    }
    return files;
  }

  int64_t CountRows(std::optional<int64_t> snapshot) {
    auto table = warehouse_->LoadTable(table_);
    EXPECT_OK(table.status());
    auto plan =
        PlanScan(*warehouse_, *table, snapshot, **ParseFilter("", table->metadata.CurrentSchema()));
    EXPECT_OK(plan.status());
    return plan.ok() ? plan->records_kept : -1;
  }

  testing::ScratchDir scratch_{"maintenance"};
  std::unique_ptr<Warehouse> warehouse_;
  std::optional<engine::Database> database_;
  std::optional<engine::Connection> connection_;
  TableIdentifier table_;
};

TEST_P(MaintenanceTest, ExpireDeletesOnlyWhatNoRetainedSnapshotReaches) {
  const int64_t first = Append("eu", 0);
  const int64_t second = Append("us", 100);
  // Removes the eu file; the us manifest is carried into the new snapshot unchanged.
  ASSERT_OK(DeleteWhere(*warehouse_, table_, *connection_, "region = 'eu'").status());
  const std::set<std::string> before = Files();
  ASSERT_OK_AND_ASSIGN(ExpireReport report,
                       ExpireSnapshots(*warehouse_, table_, time::NowMicros() / 1000 + 1, 1));
  EXPECT_EQ(std::set<int64_t>(report.expired_snapshots.begin(), report.expired_snapshots.end()),
            (std::set<int64_t>{first, second}));
  const std::set<std::string> after = Files();
  // Expiring commits one new metadata file.
  EXPECT_EQ(before.size() + 1 - after.size(), report.deleted_files);
  // Gone: the eu data file, two manifest lists, the eu manifest. Kept: the us data file.
  size_t eu_files = 0, us_files = 0;
  for (const auto& path : after) {
    eu_files += path.find("=veu/") != std::string::npos;
    us_files += path.find("=vus/") != std::string::npos;
  }
  EXPECT_EQ(eu_files, 0u);
  EXPECT_EQ(us_files, 1u);
  EXPECT_EQ(report.deleted_files, 4u);
  EXPECT_EQ(CountRows(std::nullopt), 10);
  ASSERT_OK_AND_ASSIGN(LoadedTable table, warehouse_->LoadTable(table_));
  EXPECT_EQ(table.metadata.snapshots.size(), 1u);
  // The table still reads after a reload, and running again has nothing to do.
  ASSERT_OK_AND_ASSIGN(ExpireReport again,
                       ExpireSnapshots(*warehouse_, table_, time::NowMicros() / 1000 + 1, 1));
  EXPECT_TRUE(again.expired_snapshots.empty());
  EXPECT_EQ(again.deleted_files, 0u);
}

TEST_P(MaintenanceTest, ExpireKeepsTaggedSnapshotsAndTheLastN) {
  const int64_t first = Append("eu", 0);
  Append("us", 100);
  Append("ap", 200);
  ASSERT_OK(SetRef(*warehouse_, table_, "audit-2026", false, first).status());
  ASSERT_OK_AND_ASSIGN(ExpireReport report,
                       ExpireSnapshots(*warehouse_, table_, time::NowMicros() / 1000 + 1, 2));
  EXPECT_TRUE(report.expired_snapshots.empty());  // first is tagged, the others are the last 2
  EXPECT_EQ(report.deleted_files, 0u);
  EXPECT_EQ(CountRows(first), 10);
  ASSERT_OK_AND_ASSIGN(LoadedTable table, warehouse_->LoadTable(table_));
  ASSERT_OK_AND_ASSIGN(int64_t resolved, ResolveSnapshot(table.metadata, "audit-2026"));
  EXPECT_EQ(resolved, first);
  // Once the tag is gone, nothing older than the last 2 survives; its files stay (still
  // reachable from the current snapshot, which appended on top of it).
  ASSERT_OK(DropRef(*warehouse_, table_, "audit-2026").status());
  ASSERT_OK_AND_ASSIGN(report,
                       ExpireSnapshots(*warehouse_, table_, time::NowMicros() / 1000 + 1, 2));
  EXPECT_EQ(report.expired_snapshots, std::vector<int64_t>{first});
  EXPECT_EQ(report.deleted_files, 1u);  // only its manifest list
  EXPECT_EQ(CountRows(std::nullopt), 30);
}

TEST_P(MaintenanceTest, ExpireRespectsTheAge) {
  Append("eu", 0);
  Append("us", 100);
  ASSERT_OK_AND_ASSIGN(ExpireReport report, ExpireSnapshots(*warehouse_, table_, 0, 1));
  EXPECT_TRUE(report.expired_snapshots.empty());
}

TEST_P(MaintenanceTest, RollbackMovesMainBackAndRefusesOtherHistoriesUnlessForced) {
  const int64_t first = Append("eu", 0);
  const int64_t second = Append("us", 100);
  ASSERT_OK_AND_ASSIGN(LoadedTable rolled, RollbackTo(*warehouse_, table_, first));
  EXPECT_EQ(rolled.metadata.current_snapshot_id, first);
  EXPECT_EQ(rolled.metadata.refs.at("main").snapshot_id, first);
  EXPECT_EQ(CountRows(std::nullopt), 10);
  // Rolling back to where the table already is changes nothing: no new metadata, no log entry.
  ASSERT_OK_AND_ASSIGN(LoadedTable again, RollbackTo(*warehouse_, table_, first));
  EXPECT_EQ(again.metadata_location, rolled.metadata_location);
  EXPECT_EQ(again.metadata.snapshot_log.size(), rolled.metadata.snapshot_log.size());
  // An append after the rollback starts a new line of history from `first`.
  const int64_t third = Append("ap", 200);
  ASSERT_OK_AND_ASSIGN(LoadedTable table, warehouse_->LoadTable(table_));
  EXPECT_EQ(table.metadata.SnapshotById(third)->parent_snapshot_id, first);
  auto refused = RollbackTo(*warehouse_, table_, second);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message(), HasSubstr("not an ancestor"));
  ASSERT_OK(RollbackTo(*warehouse_, table_, second, /*force=*/true).status());
  EXPECT_EQ(CountRows(std::nullopt), 20);
  auto missing = RollbackTo(*warehouse_, table_, 42);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
}

TEST_P(MaintenanceTest, BranchesAndTagsAreValidated) {
  const int64_t first = Append("eu", 0);
  ASSERT_OK(SetRef(*warehouse_, table_, "dev", true, std::nullopt).status());
  auto clash = SetRef(*warehouse_, table_, "dev", false, first);
  ASSERT_FALSE(clash.ok());
  EXPECT_THAT(clash.error().message(), HasSubstr("already exists as a branch"));
  EXPECT_FALSE(SetRef(*warehouse_, table_, "main", false, first).ok());
  EXPECT_FALSE(SetRef(*warehouse_, table_, "x", false, 12345).ok());
  EXPECT_FALSE(DropRef(*warehouse_, table_, "main").ok());
  EXPECT_EQ(DropRef(*warehouse_, table_, "nope").status().code(), StatusCode::kNotFound);
  ASSERT_OK(DropRef(*warehouse_, table_, "dev").status());
  ASSERT_OK_AND_ASSIGN(LoadedTable table, warehouse_->LoadTable(table_));
  EXPECT_FALSE(table.metadata.refs.contains("dev"));
}

TEST_P(MaintenanceTest, ResolvesIdsRefsAndTimes) {
  const int64_t first = Append("eu", 0);
  ASSERT_OK_AND_ASSIGN(LoadedTable table, warehouse_->LoadTable(table_));
  EXPECT_EQ(*ResolveSnapshot(table.metadata, std::to_string(first)), first);
  EXPECT_EQ(*ResolveSnapshot(table.metadata, "main"), first);
  EXPECT_EQ(*ResolveSnapshot(table.metadata, "2999-01-01 00:00:00"), first);
  auto before = ResolveSnapshot(table.metadata, "2000-01-01 00:00:00");
  ASSERT_FALSE(before.ok());
  auto unknown = ResolveSnapshot(table.metadata, "42");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), StatusCode::kNotFound);
  auto garbage = ResolveSnapshot(table.metadata, "yesterday-ish");
  ASSERT_FALSE(garbage.ok());
  EXPECT_THAT(garbage.error().message(), HasSubstr("not a snapshot id, a branch or tag"));
}

TEST_P(MaintenanceTest, PropertiesAreSetRemovedAndChecked) {
  ASSERT_OK_AND_ASSIGN(
      LoadedTable set,
      UpdateProperties(*warehouse_, table_,
                       {{"owner", "finance"}, {"write.target-file-size-bytes", "1024"}}, {}));
  EXPECT_EQ(set.metadata.properties.at("owner"), "finance");
  ASSERT_OK_AND_ASSIGN(LoadedTable unset, UpdateProperties(*warehouse_, table_, {}, {"owner"}));
  EXPECT_FALSE(unset.metadata.properties.contains("owner"));
  EXPECT_EQ(unset.metadata.PropertyAsLong("write.target-file-size-bytes", 0), 1024);
  EXPECT_THAT(
      UpdateProperties(*warehouse_, table_, {{"write.target-file-size-bytes", "big"}}, {}).status(),
      IsError(StatusCode::kInvalidArgument, "must be a positive whole number"));
  EXPECT_THAT(UpdateProperties(*warehouse_, table_, {{"current-snapshot-id", "1"}}, {}).status(),
              IsError(StatusCode::kInvalidArgument, "reserved by the Iceberg spec"));
  EXPECT_THAT(UpdateProperties(*warehouse_, table_, {}, {"owner"}).status(),
              IsError(StatusCode::kNotFound, "has no property 'owner'"));
  EXPECT_THAT(UpdateProperties(*warehouse_, table_, {{"a", "1"}}, {"a"}).status(),
              IsError(StatusCode::kInvalidArgument, "both set and removed"));
  // A refused change commits nothing.
  ASSERT_OK_AND_ASSIGN(LoadedTable after, warehouse_->LoadTable(table_));
  EXPECT_EQ(after.metadata_location, unset.metadata_location);
}

INSTANTIATE_TEST_SUITE_P(Backends, MaintenanceTest, ::testing::Values("local", "s3"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace meshwork::iceberg
