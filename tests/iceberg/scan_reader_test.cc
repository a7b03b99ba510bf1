// Row-level deletes written the way Spark's merge-on-read DELETE writes them, on our own tables,
// so the reader's scope rules (sequence numbers, partitions, global deletes, NULL matching) are
// tested without ../shared. reference_tables_test.cc checks the same against other engines.
#include "iceberg/scan_reader.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/time.h"
#include "common/uuid.h"
#include "engine/database.h"
#include "iceberg/ddl_parser.h"
#include "iceberg/scan_planner.h"
#include "iceberg/schema_update.h"
#include "iceberg/table_commit.h"
#include "iceberg/table_writer.h"
#include "testing/status_matchers.h"
#include "testing/test_env.h"
#include "warehouse_backends.h"

namespace meshwork::iceberg {
namespace {

using ::testing::ElementsAre;
using Rows = std::vector<std::vector<std::string>>;

// GetParam(): the backend ("local", "s3"; see warehouse_backends.h).
class ScanReaderTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    MESHWORK_OPEN_TEST_WAREHOUSE(warehouse_, GetParam(), scratch_.path());
    ASSERT_OK_AND_ASSIGN(database_, engine::Database::Open({.threads = 2}));
    ASSERT_OK_AND_ASSIGN(connection_, database_->Connect());
    table_ = *TableIdentifier::Parse("sales.orders");
    ASSERT_OK_AND_ASSIGN(Schema schema, ParseColumnList("id long, region string"));
    ASSERT_OK_AND_ASSIGN(PartitionSpec spec, ParsePartitionExpression("region", schema));
    ASSERT_OK(warehouse_->CreateTable(table_, schema, spec).status());
  }

  void Append(const std::string& select) {
    ASSERT_OK(AppendQuery(*warehouse_, table_, *connection_, select).status());
  }

  // The live data file holding the row with this id, and that row's position in it.
  std::pair<DataFile, int64_t> Locate(int64_t id) {
    auto table = warehouse_->LoadTable(table_);
    auto files = LiveDataFiles(*warehouse_, *table);
    for (const DataFile& file : *files) {
      auto local = warehouse_->io().LocalPath(file.file_path);
      auto rows = connection_->QueryText(fmt::format(
          "SELECT file_row_number FROM read_parquet('{}', file_row_number = true) WHERE id = {}",
          *local, id));
      if (rows.ok() && !rows->empty()) return {file, std::stoll((*rows)[0][0])};
    }
    ADD_FAILURE() << "no live row with id " << id;
    return {};
  }

  // Writes a Parquet delete file with Iceberg field ids and returns its manifest entry.
  DataFile WriteDeleteFile(const std::string& select, const std::string& field_ids,
                           FileContent content, const DataFile& partition_of,
                           std::vector<int32_t> equality_ids = {}) {
    const std::string name = "delete-" + Uuid::V4().ToString() + ".parquet";
    const std::string relative = "sales/orders/data/" + name;
    // Written where DuckDB writes table files (the warehouse, or the staging folder of an object
    // store), then published.
    const std::string local = warehouse_->LocalWriteDirectory("sales/orders/data") + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(local).parent_path());
    EXPECT_OK(connection_->Execute(
        fmt::format("COPY ({}) TO '{}' (FORMAT parquet, FIELD_IDS {})", select, local, field_ids)));
    EXPECT_OK(warehouse_->Publish({relative}));
    auto count = connection_->QueryText(fmt::format("SELECT count(*) FROM ({})", select));
    DataFile file;
    file.content = content;
    file.file_path = warehouse_->FileUri(relative);
    file.record_count = std::stoll((*count)[0][0]);
    file.file_size_in_bytes = static_cast<int64_t>(*warehouse_->io().Size(relative));
    file.partition = partition_of.partition;
    file.partition_spec_id = partition_of.partition_spec_id;
    file.equality_ids = std::move(equality_ids);
    return file;
  }

  DataFile PositionDeletes(const std::vector<int64_t>& ids) {
    std::string rows;
    DataFile partition_of;
    for (int64_t id : ids) {
      auto [file, position] = Locate(id);
      partition_of = file;
      rows += fmt::format("{}SELECT '{}' AS file_path, {}::BIGINT AS pos",
                          rows.empty() ? "" : " UNION ALL ", file.file_path, position);
    }
    return WriteDeleteFile(rows, "{file_path: 2147483546, pos: 2147483545}",
                           FileContent::kPositionDeletes, partition_of);
  }

  // Commits delete files as one new snapshot, in a delete manifest of `spec_id`.
  void CommitDeletes(const std::vector<DataFile>& deletes, int32_t spec_id) {
    ASSERT_OK_AND_ASSIGN(LoadedTable table, warehouse_->LoadTable(table_));
    TableMetadata updated = table.metadata;
    const Snapshot* parent = updated.CurrentSnapshot();
    const int64_t sequence = updated.last_sequence_number + 1;
    const int64_t snapshot_id = NewSnapshotId();
    ASSERT_OK_AND_ASSIGN(std::string list_bytes, warehouse_->io().ReadFile(parent->manifest_list));
    ASSERT_OK_AND_ASSIGN(auto manifests, ReadManifestList(list_bytes, parent->manifest_list));
    std::vector<ManifestEntry> entries;
    for (const DataFile& file : deletes)
      entries.push_back({EntryStatus::kAdded, std::nullopt, std::nullopt, std::nullopt, file});
    ManifestFile summary;
    ASSERT_OK_AND_ASSIGN(std::string bytes,
                         WriteManifest(updated.CurrentSchema(), *updated.SpecById(spec_id),
                                       deletes[0].content, entries, snapshot_id, summary));
    const std::string manifest = fmt::format("sales/orders/metadata/deletes-{}.avro", snapshot_id);
    ASSERT_OK(warehouse_->io().WriteFileAtomic(manifest, bytes));
    summary.manifest_path = warehouse_->FileUri(manifest);
    summary.manifest_length = static_cast<int64_t>(bytes.size());
    summary.sequence_number = summary.min_sequence_number = sequence;
    summary.added_snapshot_id = snapshot_id;
    manifests.push_back(summary);
    ASSERT_OK_AND_ASSIGN(std::string list,
                         WriteManifestList(manifests, snapshot_id, parent->snapshot_id, sequence));
    const std::string list_path = fmt::format("sales/orders/metadata/snap-{}.avro", snapshot_id);
    ASSERT_OK(warehouse_->io().WriteFileAtomic(list_path, list));
    Snapshot snapshot;
    snapshot.snapshot_id = snapshot_id;
    snapshot.parent_snapshot_id = parent->snapshot_id;
    snapshot.sequence_number = sequence;
    snapshot.timestamp_ms = time::NowMicros() / 1000;
    snapshot.manifest_list = warehouse_->FileUri(list_path);
    snapshot.summary = {{"operation", "delete"}};
    snapshot.schema_id = updated.current_schema_id;
    updated.snapshots.push_back(snapshot);
    updated.current_snapshot_id = snapshot_id;
    updated.last_sequence_number = sequence;
    updated.refs["main"] = SnapshotRef{snapshot_id, true, {}, {}, {}};
    updated.snapshot_log.push_back({snapshot.timestamp_ms, snapshot_id});
    ASSERT_OK(warehouse_->Commit(table, std::move(updated)).status());
  }

  // Adds an unpartitioned spec (for global equality deletes) without making it the default.
  int32_t AddUnpartitionedSpec() {
    auto table = warehouse_->LoadTable(table_);
    TableMetadata updated = table->metadata;
    const int32_t id = static_cast<int32_t>(updated.partition_specs.size());
    updated.partition_specs.push_back(PartitionSpec(id, {}));
    EXPECT_OK(warehouse_->Commit(*table, std::move(updated)).status());
    return id;
  }

  Rows Read(const std::string& select = "SELECT id, region FROM t ORDER BY id") {
    auto table = warehouse_->LoadTable(table_);
    EXPECT_OK(table.status());
    auto plan = PlanScan(*warehouse_, *table, std::nullopt, Expression());
    EXPECT_OK(plan.status());
    auto sql = ScanSql(warehouse_->io(), table->metadata, table->metadata.CurrentSchema(), *plan);
    EXPECT_OK(sql.status());
    auto rows = connection_->QueryText("WITH t AS (" + *sql + ") " + select);
    EXPECT_OK(rows.status());
    return rows.ok() ? *rows : Rows{};
  }

  std::vector<std::string> Ids() {
    std::vector<std::string> ids;
    for (const auto& row : Read())
      ids.push_back(row[0]);
    return ids;
  }

  testing::ScratchDir scratch_{"scan-reader"};
  std::unique_ptr<Warehouse> warehouse_;
  std::optional<engine::Database> database_;
  std::optional<engine::Connection> connection_;
  TableIdentifier table_;
};

TEST_P(ScanReaderTest, PositionDeletesApplyToTheirFileAndOlderRowsOnly) {
  Append("SELECT i AS id, 'eu' AS region FROM range(5) t(i)");
  Append("SELECT 100 + i AS id, 'us' AS region FROM range(3) t(i)");
  CommitDeletes({PositionDeletes({0, 1}), PositionDeletes({101})}, 0);
  EXPECT_THAT(Ids(), ElementsAre("2", "3", "4", "100", "102"));
  // Ids 0 and 1 again, in a new file: the old position deletes do not reach it.
  Append("SELECT i AS id, 'eu' AS region FROM range(2) t(i)");
  EXPECT_THAT(Ids(), ElementsAre("0", "1", "2", "3", "4", "100", "102"));
  // Time travel before the deletes still sees every row.
  auto table = warehouse_->LoadTable(table_);
  EXPECT_EQ(table->metadata.snapshots.size(), 4u);
}

TEST_P(ScanReaderTest, EqualityDeletesRespectSequenceNumbersPartitionsAndNulls) {
  Append("SELECT i AS id, 'eu' AS region FROM range(5) t(i)");
  Append("SELECT * FROM (VALUES (100, 'us'), (101, 'us'), (200, NULL)) t(id, region)");
  // Partition-scoped: ids 2 and 100 are deleted in eu only, so us keeps 100.
  const DataFile eu = Locate(0).first;
  CommitDeletes({WriteDeleteFile("SELECT * FROM (VALUES (2::BIGINT), (100::BIGINT)) t(id)",
                                 "{id: 1}", FileContent::kEqualityDeletes, eu, {1})},
                0);
  EXPECT_THAT(Ids(), ElementsAre("0", "1", "3", "4", "100", "101", "200"));
  {
    ASSERT_OK_AND_ASSIGN(LoadedTable table, warehouse_->LoadTable(table_));
    ASSERT_OK_AND_ASSIGN(ScanPlan plan, PlanScan(*warehouse_, table, std::nullopt, Expression()));
    EXPECT_EQ(plan.delete_files.size(), 1u);
    EXPECT_THAT(plan.ToString(),
                ::testing::HasSubstr("delete files: 1 of 1 kept (0 position, 1 equality)"));
  }
  // Id 2 written again after the delete: a newer row, not deleted.
  Append("SELECT 2 AS id, 'eu' AS region");
  EXPECT_THAT(Ids(), ElementsAre("0", "1", "2", "3", "4", "100", "101", "200"));
  // Global deletes (unpartitioned spec) reach every partition: id 101, and on another column a
  // NULL, which matches the row whose region is NULL.
  const int32_t unpartitioned = AddUnpartitionedSpec();
  DataFile none;
  none.partition_spec_id = unpartitioned;
  CommitDeletes({WriteDeleteFile("SELECT 101::BIGINT AS id", "{id: 1}",
                                 FileContent::kEqualityDeletes, none, {1}),
                 WriteDeleteFile("SELECT NULL::VARCHAR AS region", "{region: 2}",
                                 FileContent::kEqualityDeletes, none, {2})},
                unpartitioned);
  EXPECT_THAT(Ids(), ElementsAre("0", "1", "2", "3", "4", "100"));
  // Two-column deletes match on both: (3, 'us') matches nothing, (4, 'eu') one row.
  CommitDeletes(
      {WriteDeleteFile("SELECT * FROM (VALUES (3::BIGINT, 'us'), (4::BIGINT, 'eu')) t(id, region)",
                       "{id: 1, region: 2}", FileContent::kEqualityDeletes, none, {1, 2})},
      unpartitioned);
  EXPECT_THAT(Ids(), ElementsAre("0", "1", "2", "3", "100"));
  // Renaming a column changes nothing: deletes match by field id.
  ASSERT_OK(UpdateTableSchema(*warehouse_, table_, [](SchemaUpdate& update) {
              update.RenameColumn("region", "area");
            }).status());
  EXPECT_THAT(Read("SELECT id, area FROM t ORDER BY id"),
              ElementsAre(ElementsAre("0", "eu"), ElementsAre("1", "eu"), ElementsAre("2", "eu"),
                          ElementsAre("3", "eu"), ElementsAre("100", "us")));
}

// Rewrites every live data file without its region column and marks the snapshots as written
// by another engine, as pyiceberg (write.parquet.write-partition-values=false) or a Hive
// migration leaves a table.
void StripRegionAsAForeignWriterWould(Warehouse& warehouse, const TableIdentifier& identifier,
                                      engine::Connection& connection) {
  ASSERT_OK_AND_ASSIGN(LoadedTable table, warehouse.LoadTable(identifier));
  ASSERT_OK_AND_ASSIGN(auto files, LiveDataFiles(warehouse, table));
  for (const DataFile& file : files) {
    ASSERT_OK_AND_ASSIGN(std::string local, warehouse.io().LocalPath(file.file_path));
    ASSERT_OK_AND_ASSIGN(std::string relative, warehouse.Resolve(file.file_path));
    const std::filesystem::path path(relative);
    const std::string staged =
        warehouse.LocalWriteDirectory(path.parent_path().string()) + "/" + path.filename().string();
    std::filesystem::create_directories(std::filesystem::path(staged).parent_path());
    ASSERT_OK(connection.Execute(fmt::format(
        "COPY (SELECT id FROM read_parquet('{}')) TO '{}.tmp' (FORMAT parquet, FIELD_IDS {{id: "
        "1}})",
        local, staged)));
    std::filesystem::rename(staged + ".tmp", staged);
    ASSERT_OK(warehouse.Publish({relative}));  // replaces the object (a new ETag) when remote
  }
  TableMetadata updated = table.metadata;
  for (Snapshot& snapshot : updated.snapshots)
    snapshot.summary["engine-name"] = "pyiceberg";
  ASSERT_OK(warehouse.Commit(table, std::move(updated)).status());
}

TEST_P(ScanReaderTest, IdentityPartitionValuesFillColumnsMissingFromFiles) {
  Append("SELECT i AS id, 'eu' AS region FROM range(3) t(i)");
  Append(
      "SELECT 10 + i AS id, CASE WHEN i = 0 THEN NULL ELSE 'us' END AS region FROM range(3) t(i)");
  StripRegionAsAForeignWriterWould(*warehouse_, table_, *connection_);
  EXPECT_THAT(
      Read("SELECT id, region FROM t ORDER BY id"),
      ElementsAre(ElementsAre("0", "eu"), ElementsAre("1", "eu"), ElementsAre("2", "eu"),
                  ElementsAre("10", "NULL"), ElementsAre("11", "us"), ElementsAre("12", "us")));
  // Grouped reads number files by group: a position delete must still hit the right row.
  CommitDeletes({PositionDeletes({11})}, 0);
  EXPECT_THAT(Read("SELECT id FROM t WHERE region = 'us'"), ElementsAre(ElementsAre("12")));
  // Files meshwork writes afterwards are trusted to hold the column (and do).
  Append("SELECT 20 AS id, 'ap' AS region");
  EXPECT_THAT(Read("SELECT region, count(*) FROM t GROUP BY ALL ORDER BY ALL"),
              ElementsAre(ElementsAre("ap", "1"), ElementsAre("eu", "3"), ElementsAre("us", "1"),
                          ElementsAre("NULL", "1")));
}

// Past 64 distinct partitions the files are read in one scan with a per-row fallback.
TEST_P(ScanReaderTest, ManyPartitionsWithoutTheirColumnStillRead) {
  Append("SELECT i AS id, 'r' || (i % 80) AS region FROM range(400) t(i)");
  StripRegionAsAForeignWriterWould(*warehouse_, table_, *connection_);
  EXPECT_THAT(Read("SELECT count(DISTINCT region), count(*), min(region), max(region) FROM t "
                   "WHERE region = 'r' || (id % 80)"),
              ElementsAre(ElementsAre("80", "400", "r0", "r9")));
  // With a position delete on top, the fallback's file numbering must still line up.
  CommitDeletes({PositionDeletes({7})}, 0);
  EXPECT_THAT(Read("SELECT count(*), count(*) FILTER (WHERE id = 7) FROM t WHERE region = 'r' || "
                   "(id % 80)"),
              ElementsAre(ElementsAre("399", "0")));
}

INSTANTIATE_TEST_SUITE_P(Backends, ScanReaderTest, ::testing::Values("local", "s3"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace meshwork::iceberg
