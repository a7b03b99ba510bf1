#include "iceberg/table_update.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing/status_matchers.h"

namespace meshwork::iceberg {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;

const json kSchema = {
    {"type", "struct"},
    {"schema-id", 0},
    {"fields",
     {{{"id", 1}, {"name", "id"}, {"required", true}, {"type", "long"}},
      {{"id", 2}, {"name", "ts"}, {"required", false}, {"type", "timestamptz"}}}}};

// What a REST client sends to create a table in a transaction (stage-create, then commit).
json CreateUpdates() {
  return json::array({
      {{"action", "assign-uuid"}, {"uuid", "9c12d441-03fe-4693-9a96-a0705ddf69c1"}},
      {{"action", "upgrade-format-version"}, {"format-version", 2}},
      {{"action", "add-schema"}, {"schema", kSchema}, {"last-column-id", 2}},
      {{"action", "set-current-schema"}, {"schema-id", -1}},
      {{"action", "add-spec"},
       {"spec",
        {{"spec-id", 0},
         {"fields",
          {{{"source-id", 2}, {"field-id", 1000}, {"name", "ts_day"}, {"transform", "day"}}}}}}},
      {{"action", "set-default-spec"}, {"spec-id", -1}},
      {{"action", "add-sort-order"},
       {"sort-order",
        {{"order-id", 1},
         {"fields",
          {{{"source-id", 1},
            {"transform", "identity"},
            {"direction", "asc"},
            {"null-order", "nulls-first"}}}}}}},
      {{"action", "set-default-sort-order"}, {"sort-order-id", -1}},
      {{"action", "set-location"}, {"location", "file:///warehouse/sales/orders/"}},
      {{"action", "set-properties"}, {"updates", {{"owner", "sales"}}}},
  });
}

TableMetadata Created() {
  auto created = ApplyTableUpdates(TableMetadata{}, CreateUpdates());
  EXPECT_OK(created.status());
  return created.ok() ? *created : TableMetadata{};
}

json Snapshot(int64_t id, std::optional<int64_t> parent, int64_t sequence) {
  json snapshot = {{"snapshot-id", id},
                   {"sequence-number", sequence},
                   {"timestamp-ms", 1700000000000 + id},
                   {"manifest-list",
                    "file:///warehouse/sales/orders/metadata/snap-" + std::to_string(id) + ".avro"},
                   {"summary", {{"operation", "append"}}},
                   {"schema-id", 0}};
  if (parent) snapshot["parent-snapshot-id"] = *parent;
  return snapshot;
}

json MainRef(int64_t id) {
  return {{"action", "set-snapshot-ref"},
          {"ref-name", "main"},
          {"type", "branch"},
          {"snapshot-id", id}};
}

TEST(TableUpdateTest, BuildsANewTableFromCreateUpdates) {
  TableMetadata m = Created();
  EXPECT_EQ(m.table_uuid, "9c12d441-03fe-4693-9a96-a0705ddf69c1");
  EXPECT_EQ(m.current_schema_id, 0);
  EXPECT_EQ(m.last_column_id, 2);
  EXPECT_EQ(m.default_spec_id, 0);
  EXPECT_EQ(m.last_partition_id, 1000);
  EXPECT_EQ(m.default_sort_order_id, 1);
  EXPECT_EQ(m.location, "file:///warehouse/sales/orders");
  EXPECT_EQ(m.properties.at("owner"), "sales");
  EXPECT_OK(ValidateTableMetadata(m));
  // Without a schema there is no table.
  EXPECT_THAT(ApplyTableUpdates(TableMetadata{}, json::array()).status(),
              IsError(StatusCode::kInvalidArgument, "no schema"));
}

TEST(TableUpdateTest, RequirementsHoldOrConflict) {
  TableMetadata m = Created();
  EXPECT_OK(CheckTableRequirements(json::array({{{"type", "assert-create"}}}), nullptr));
  EXPECT_THAT(CheckTableRequirements(json::array({{{"type", "assert-create"}}}), &m),
              IsError(StatusCode::kConflict, "already exists"));
  EXPECT_THAT(
      CheckTableRequirements(
          json::array({{{"type", "assert-current-schema-id"}, {"current-schema-id", 0}}}), nullptr),
      IsError(StatusCode::kConflict, "does not exist"));
  const json holds = json::array({
      {{"type", "assert-table-uuid"}, {"uuid", m.table_uuid}},
      {{"type", "assert-ref-snapshot-id"}, {"ref", "main"}, {"snapshot-id", nullptr}},
      {{"type", "assert-last-assigned-field-id"}, {"last-assigned-field-id", 2}},
      {{"type", "assert-current-schema-id"}, {"current-schema-id", 0}},
      {{"type", "assert-last-assigned-partition-id"}, {"last-assigned-partition-id", 1000}},
      {{"type", "assert-default-spec-id"}, {"default-spec-id", 0}},
      {{"type", "assert-default-sort-order-id"}, {"default-sort-order-id", 1}},
  });
  EXPECT_OK(CheckTableRequirements(holds, &m));
  for (size_t i = 0; i < holds.size(); ++i) {
    json broken = holds[i];
    for (auto& [key, value] : broken.items()) {
      if (key == "type" || key == "ref") continue;
      value = value.is_string() ? json("other") : value.is_null() ? json(5) : json(99);
    }
    SCOPED_TRACE(broken.dump());
    EXPECT_THAT(CheckTableRequirements(json::array({broken}), &m),
                IsError(StatusCode::kConflict, "requirement failed"));
  }
  EXPECT_THAT(CheckTableRequirements(json::array({{{"type", "assert-magic"}}}), &m),
              IsError(StatusCode::kInvalidArgument, "requirements[0].type: unknown requirement"));
  EXPECT_THAT(CheckTableRequirements(
                  json::array({{{"type", "assert-ref-snapshot-id"}, {"ref", "main"}}}), &m),
              IsError(StatusCode::kInvalidArgument, "snapshot-id"));
  EXPECT_THAT(CheckTableRequirements(json::object(), &m),
              IsError(StatusCode::kInvalidArgument, "expected an array"));
}

TEST(TableUpdateTest, SnapshotsMoveMainAndTheSnapshotLog) {
  TableMetadata m = Created();
  ASSERT_OK_AND_ASSIGN(
      m, ApplyTableUpdates(
             m, json::array(
                    {{{"action", "add-snapshot"}, {"snapshot", Snapshot(1, {}, 1)}}, MainRef(1)})));
  EXPECT_EQ(m.current_snapshot_id, 1);
  EXPECT_EQ(m.last_sequence_number, 1);
  ASSERT_EQ(m.snapshot_log.size(), 1u);
  EXPECT_EQ(m.snapshot_log[0].timestamp_ms, 1700000000001);
  ASSERT_OK_AND_ASSIGN(
      m, ApplyTableUpdates(
             m, json::array({{{"action", "add-snapshot"}, {"snapshot", Snapshot(2, 1, 2)}},
                             MainRef(2),
                             {{"action", "set-snapshot-ref"},
                              {"ref-name", "v1"},
                              {"type", "tag"},
                              {"snapshot-id", 1}}})));
  EXPECT_EQ(m.current_snapshot_id, 2);
  EXPECT_EQ(m.refs.at("v1").snapshot_id, 1);
  // A stale writer's snapshot (sequence number not newer) is refused.
  EXPECT_THAT(ApplyTableUpdates(
                  m, json::array({{{"action", "add-snapshot"}, {"snapshot", Snapshot(3, 2, 2)}}}))
                  .status(),
              IsError(StatusCode::kInvalidArgument, "sequence number 2 is not newer"));
  EXPECT_THAT(ApplyTableUpdates(m, json::array({MainRef(42)})).status(),
              IsError(StatusCode::kInvalidArgument, "updates[0].snapshot-id: no snapshot"));
  EXPECT_THAT(ApplyTableUpdates(m, json::array({{{"action", "set-snapshot-ref"},
                                                 {"ref-name", "main"},
                                                 {"type", "tag"},
                                                 {"snapshot-id", 1}}}))
                  .status(),
              IsError(StatusCode::kInvalidArgument, "'main' must be a branch"));
  // Removing a snapshot takes its refs and log entries along.
  ASSERT_OK_AND_ASSIGN(
      m,
      ApplyTableUpdates(m, json::array({{{"action", "remove-snapshots"}, {"snapshot-ids", {1}}}})));
  EXPECT_EQ(m.snapshots.size(), 1u);
  EXPECT_FALSE(m.refs.contains("v1"));
  ASSERT_EQ(m.snapshot_log.size(), 1u);
  ASSERT_OK_AND_ASSIGN(
      m, ApplyTableUpdates(
             m, json::array({{{"action", "remove-snapshot-ref"}, {"ref-name", "main"}}})));
  EXPECT_FALSE(m.current_snapshot_id.has_value());
}

TEST(TableUpdateTest, SchemaSpecAndOrderIdsAreReusedOrNext) {
  TableMetadata m = Created();
  json evolved = kSchema;
  evolved["fields"].push_back(
      {{"id", 3}, {"name", "amount"}, {"required", false}, {"type", "decimal(12, 2)"}});
  ASSERT_OK_AND_ASSIGN(
      m, ApplyTableUpdates(m, json::array({{{"action", "add-schema"}, {"schema", evolved}},
                                           {{"action", "set-current-schema"}, {"schema-id", -1}},
                                           // The first schema again: reused, not added.
                                           {{"action", "add-schema"}, {"schema", kSchema}}})));
  EXPECT_EQ(m.schemas.size(), 2u);
  EXPECT_EQ(m.current_schema_id, 1);
  EXPECT_EQ(m.last_column_id, 3);
  // A field without an id gets the one the same source and transform had before.
  ASSERT_OK_AND_ASSIGN(
      m,
      ApplyTableUpdates(
          m, json::array(
                 {{{"action", "add-spec"},
                   {"spec",
                    {{"fields",
                      {{{"source-id", 2}, {"name", "ts_day"}, {"transform", "day"}},
                       {{"source-id", 1}, {"name", "id_bucket"}, {"transform", "bucket[8]"}}}}}}},
                  {{"action", "set-default-spec"}, {"spec-id", -1}}})));
  ASSERT_EQ(m.partition_specs.size(), 2u);
  EXPECT_EQ(m.default_spec_id, 1);
  EXPECT_EQ(m.partition_specs[1].fields()[0].field_id, 1000);
  EXPECT_EQ(m.partition_specs[1].fields()[1].field_id, 1001);
  EXPECT_EQ(m.last_partition_id, 1001);
  EXPECT_THAT(
      ApplyTableUpdates(m, json::array({{{"action", "remove-schemas"}, {"schema-ids", {1}}}}))
          .status(),
      IsError(StatusCode::kInvalidArgument, "cannot remove the current schema"));
  EXPECT_THAT(
      ApplyTableUpdates(m, json::array({{{"action", "remove-partition-specs"}, {"spec-ids", {1}}}}))
          .status(),
      IsError(StatusCode::kInvalidArgument, "cannot remove the default spec"));
  ASSERT_OK_AND_ASSIGN(
      m, ApplyTableUpdates(
             m, json::array({{{"action", "remove-partition-specs"}, {"spec-ids", {0}}}})));
  EXPECT_EQ(m.partition_specs.size(), 1u);
  EXPECT_THAT(ApplyTableUpdates(m, json::array({{{"action", "set-default-spec"}, {"spec-id", -1}}}))
                  .status(),
              IsError(StatusCode::kInvalidArgument, "added none"));
  // A spec on a column that does not exist.
  EXPECT_THAT(
      ApplyTableUpdates(
          m,
          json::array(
              {{{"action", "add-spec"},
                {"spec",
                 {{"fields", {{{"source-id", 77}, {"name", "x"}, {"transform", "identity"}}}}}}}}))
          .status(),
      IsError(StatusCode::kInvalidArgument));
}

TEST(TableUpdateTest, PropertiesStatisticsAndBadUpdates) {
  TableMetadata m = Created();
  ASSERT_OK_AND_ASSIGN(
      m, ApplyTableUpdates(
             m, json::array({{{"action", "set-properties"}, {"updates", {{"a", "1"}}}},
                             {{"action", "remove-properties"}, {"removals", {"owner", "nope"}}}})));
  EXPECT_EQ(m.properties, (std::map<std::string, std::string>{{"a", "1"}}));
  ASSERT_OK_AND_ASSIGN(
      m, ApplyTableUpdates(m, json::array({{{"action", "set-partition-statistics"},
                                            {"partition-statistics",
                                             {{"snapshot-id", 5},
                                              {"statistics-path", "file:///s.parquet"},
                                              {"file-size-in-bytes", 10}}}}})));
  EXPECT_EQ(m.partition_statistics.size(), 1u);
  ASSERT_OK_AND_ASSIGN(
      m, ApplyTableUpdates(
             m, json::array({{{"action", "remove-partition-statistics"}, {"snapshot-id", 5}}})));
  EXPECT_TRUE(m.partition_statistics.empty());

  EXPECT_THAT(ApplyTableUpdates(m, json::array({{{"action", "teleport"}}})).status(),
              IsError(StatusCode::kInvalidArgument, "updates[0].action: unknown table update"));
  EXPECT_THAT(ApplyTableUpdates(m, json::array({{{"action", "add-view-version"}}})).status(),
              IsError(StatusCode::kInvalidArgument, "is a view update"));
  EXPECT_THAT(ApplyTableUpdates(
                  m, json::array({{{"action", "upgrade-format-version"}, {"format-version", 3}}}))
                  .status(),
              IsError(StatusCode::kNotImplemented, "format version 3"));
  EXPECT_THAT(ApplyTableUpdates(m, json::array({{{"action", "add-encryption-key"}}})).status(),
              IsError(StatusCode::kNotImplemented, "v3"));
  EXPECT_THAT(
      ApplyTableUpdates(m, json::array({{{"action", "assign-uuid"}, {"uuid", "x"}}})).status(),
      IsError(StatusCode::kInvalidArgument, "cannot reassign"));
  EXPECT_THAT(
      ApplyTableUpdates(m, json::array({{{"action", "set-properties"}, {"updates", {{"a", 1}}}}}))
          .status(),
      IsError(StatusCode::kInvalidArgument, "updates[0].updates"));
  EXPECT_THAT(ApplyTableUpdates(m, json::array({42})).status(),
              IsError(StatusCode::kInvalidArgument, "updates[0]"));
  EXPECT_THAT(ApplyTableUpdates(m, json("x")).status(),
              IsError(StatusCode::kInvalidArgument, "expected an array"));
}

}  // namespace
}  // namespace meshwork::iceberg
