#include "iceberg/warehouse.h"

#include <gtest/gtest.h>

#include "iceberg/ddl_parser.h"
#include "testing/status_matchers.h"
#include "testing/test_env.h"
#include "warehouse_backends.h"

namespace meshwork::iceberg {
namespace {

using ::testing::HasSubstr;

// GetParam(): the backend ("local", "s3"; see warehouse_backends.h).
class WarehouseTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    MESHWORK_OPEN_TEST_WAREHOUSE(warehouse_, GetParam(), scratch_.path());
    ASSERT_OK_AND_ASSIGN(schema_, ParseColumnList("id long not null, ts timestamptz, customer "
                                                  "uuid, amount decimal(12,2)"));
    ASSERT_OK_AND_ASSIGN(spec_, ParsePartitionExpression("day(ts), bucket(16, id)", *schema_));
    orders_ = *TableIdentifier::Parse("sales.orders");
  }
  testing::ScratchDir scratch_{"warehouse"};
  std::unique_ptr<Warehouse> warehouse_;
  std::optional<Schema> schema_;
  std::optional<PartitionSpec> spec_;
  TableIdentifier orders_;
};

TEST_P(WarehouseTest, CreateLoadCommitAndReadBack) {
  ASSERT_OK_AND_ASSIGN(LoadedTable created, warehouse_->CreateTable(orders_, *schema_, *spec_));
  EXPECT_THAT(created.metadata_location, HasSubstr("/sales/orders/metadata/00000-"));
  EXPECT_EQ(MetadataFileVersion(created.metadata_location), 0);
  EXPECT_EQ(created.metadata.last_partition_id, 1001);
  EXPECT_EQ(created.metadata.last_column_id, 4);
  EXPECT_THAT(warehouse_->CreateTable(orders_, *schema_, *spec_).status(),
              IsError(StatusCode::kAlreadyExists));

  ASSERT_OK_AND_ASSIGN(LoadedTable loaded, warehouse_->LoadTable(orders_));
  EXPECT_EQ(loaded.metadata_location, created.metadata_location);
  EXPECT_EQ(loaded.metadata.table_uuid, created.metadata.table_uuid);
  EXPECT_TRUE(loaded.metadata.CurrentSchema().SameStructure(*schema_));

  TableMetadata updated = loaded.metadata;
  updated.properties["owner"] = "finance";
  ASSERT_OK_AND_ASSIGN(LoadedTable committed, warehouse_->Commit(loaded, updated));
  EXPECT_EQ(MetadataFileVersion(committed.metadata_location), 1);
  ASSERT_EQ(committed.metadata.metadata_log.size(), 1u);
  EXPECT_EQ(committed.metadata.metadata_log[0].metadata_file, created.metadata_location);

  // A writer still holding the old state loses, cleanly, and leaves no file behind.
  TableMetadata stale = loaded.metadata;
  stale.properties["owner"] = "marketing";
  EXPECT_THAT(warehouse_->Commit(loaded, stale).status(), IsError(StatusCode::kConflict));
  ASSERT_OK_AND_ASSIGN(auto files, warehouse_->io().List("sales/orders/metadata/"));
  int metadata_files = 0;
  for (const auto& file : files)
    metadata_files += file.path.ends_with(".metadata.json") ? 1 : 0;
  EXPECT_EQ(metadata_files, 2);
  ASSERT_OK_AND_ASSIGN(LoadedTable latest, warehouse_->LoadTable(orders_));
  EXPECT_EQ(latest.metadata.properties.at("owner"), "finance");
}

TEST_P(WarehouseTest, ListAndDrop) {
  ASSERT_OK(warehouse_->CreateTable(orders_, *schema_, *spec_).status());
  ASSERT_OK(warehouse_
                ->CreateTable(*TableIdentifier::Parse("sales.returns"), *schema_,
                              PartitionSpec::Unpartitioned())
                .status());
  ASSERT_OK_AND_ASSIGN(auto tables, warehouse_->ListTables({"sales"}));
  ASSERT_EQ(tables.size(), 2u);
  EXPECT_EQ(tables[0].name, "orders");
  ASSERT_OK(warehouse_->DropTable(orders_, /*purge=*/true));
  EXPECT_THAT(warehouse_->LoadTable(orders_).status(), IsError(StatusCode::kNotFound, "orders"));
  ASSERT_OK_AND_ASSIGN(auto leftovers, warehouse_->io().List("sales/orders/"));
  for (const auto& file : leftovers)
    EXPECT_FALSE(file.path.ends_with(".json")) << file.path;
}

// Purging a table deletes the folder its metadata names, not namespace/name: a table that was
// renamed (or registered) elsewhere keeps its files there, and another table may own the path.
TEST_P(WarehouseTest, PurgeDeletesTheTablesOwnFolder) {
  ASSERT_OK_AND_ASSIGN(LoadedTable orders, warehouse_->CreateTable(orders_, *schema_, *spec_));
  const TableIdentifier renamed = *TableIdentifier::Parse("sales.renamed");
  ASSERT_OK(warehouse_->pointers().CompareAndSwap(renamed, std::nullopt, orders.metadata_location));
  ASSERT_OK(warehouse_->pointers().Drop(orders_));  // a rename: the files stay at sales/orders
  // Another table, whose files the purge must leave alone.
  ASSERT_OK(warehouse_
                ->CreateTable(*TableIdentifier::Parse("sales.neighbour"), *schema_,
                              PartitionSpec::Unpartitioned())
                .status());
  ASSERT_OK(warehouse_->DropTable(renamed, /*purge=*/true));
  ASSERT_OK_AND_ASSIGN(auto purged, warehouse_->io().List("sales/orders/"));
  EXPECT_TRUE(purged.empty()) << purged.size() << " files left, first " << purged[0].path;
  ASSERT_OK_AND_ASSIGN(auto neighbour, warehouse_->io().List("sales/neighbour/metadata/"));
  int neighbour_metadata_files = 0;
  for (const auto& file : neighbour)
    neighbour_metadata_files += file.path.ends_with(".metadata.json") ? 1 : 0;
  EXPECT_EQ(neighbour_metadata_files, 1);
  EXPECT_OK(warehouse_->LoadTable(*TableIdentifier::Parse("sales.neighbour")).status());
  EXPECT_THAT(warehouse_->LoadTable(renamed).status(), IsError(StatusCode::kNotFound));
}

INSTANTIATE_TEST_SUITE_P(Backends, WarehouseTest, ::testing::Values("local", "s3"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace meshwork::iceberg
