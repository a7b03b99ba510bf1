// Table metadata against the upstream fixtures (../shared/reference/iceberg-fixtures) and our own
// hostile inputs.

#include "iceberg/table_metadata.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork::iceberg {
namespace {

using ::testing::HasSubstr;

std::string ReadFixture(const std::string& name) {
  auto shared = testing::SharedDir();
  if (!shared) return "";
  std::ifstream file(*shared / "reference" / "iceberg-fixtures" / name);
  std::stringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

#define SKIP_WITHOUT_SHARED()                                                            \
  if (!testing::SharedDir()) {                                                           \
    GTEST_SKIP() << "SKIPPED LOUDLY: ../shared is absent, upstream fixtures not tested"; \
  }

TEST(TableMetadataFixtureTest, ValidV2ParsesAndRoundTrips) {
  SKIP_WITHOUT_SHARED();
  const std::string text = ReadFixture("TableMetadataV2Valid.json");
  ASSERT_OK_AND_ASSIGN(TableMetadata metadata,
                       TableMetadataFromJson(text, "TableMetadataV2Valid.json"));
  EXPECT_EQ(metadata.format_version, 2);
  EXPECT_EQ(metadata.table_uuid, "9c12d441-03fe-4693-9a96-a0705ddf69c1");
  EXPECT_EQ(metadata.schemas.size(), 2u);
  EXPECT_EQ(metadata.current_schema_id, 1);
  EXPECT_EQ(metadata.CurrentSchema().identifier_field_ids(), (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(metadata.snapshots.size(), 2u);
  ASSERT_NE(metadata.CurrentSnapshot(), nullptr);
  EXPECT_EQ(metadata.CurrentSnapshot()->snapshot_id, 3055729675574597004);
  EXPECT_EQ(metadata.CurrentSnapshot()->parent_snapshot_id, 3051729675574597004);
  EXPECT_EQ(metadata.CurrentSnapshot()->operation(), "append");
  EXPECT_EQ(metadata.refs.at("main").snapshot_id, 3055729675574597004);
  EXPECT_EQ(metadata.DefaultSpec().fields().size(), 1u);
  EXPECT_EQ(metadata.DefaultSpec().fields()[0].transform.ToString(), "identity");
  EXPECT_EQ(metadata.last_partition_id, 1000);
  EXPECT_EQ(metadata.SortOrderById(3)->fields.size(), 2u);
  EXPECT_EQ(metadata.SortOrderById(3)->fields[1].transform.ToString(), "bucket[4]");
  ASSERT_OK_AND_ASSIGN(const Snapshot* old, metadata.SnapshotAsOf(1515100955770));
  EXPECT_EQ(old->snapshot_id, 3051729675574597004);

  // Writing and reading back gives the same metadata; the upstream document's content survives.
  const std::string written = TableMetadataToString(metadata);
  ASSERT_OK_AND_ASSIGN(TableMetadata again, TableMetadataFromJson(written, "written"));
  EXPECT_EQ(TableMetadataToJson(again), TableMetadataToJson(metadata));
  const nlohmann::json original = nlohmann::json::parse(text);
  const nlohmann::json ours = nlohmann::json::parse(written);
  for (const char* key : {"schemas", "partition-specs", "sort-orders", "properties", "location",
                          "last-column-id", "last-sequence-number", "snapshot-log"}) {
    EXPECT_EQ(ours[key], original[key]) << key;
  }
}

TEST(TableMetadataFixtureTest, OtherValidFixturesParse) {
  SKIP_WITHOUT_SHARED();
  ASSERT_OK_AND_ASSIGN(
      TableMetadata v1,
      TableMetadataFromJson(ReadFixture("TableMetadataV1Valid.json"), "TableMetadataV1Valid.json"));
  EXPECT_EQ(v1.format_version, 1);
  EXPECT_EQ(v1.schemas.size(), 1u);
  EXPECT_EQ(v1.DefaultSpec().fields()[0].field_id, 1000);  // assigned like the reference impl
  ASSERT_OK_AND_ASSIGN(TableMetadata upgraded,
                       TableMetadataFromJson(TableMetadataToString(v1), "upgraded"));
  EXPECT_EQ(upgraded.format_version, 2);

  ASSERT_OK_AND_ASSIGN(TableMetadata minimal,
                       TableMetadataFromJson(ReadFixture("TableMetadataV2ValidMinimal.json"),
                                             "TableMetadataV2ValidMinimal.json"));
  EXPECT_FALSE(minimal.current_snapshot_id.has_value());

  ASSERT_OK_AND_ASSIGN(TableMetadata statistics,
                       TableMetadataFromJson(ReadFixture("TableMetadataStatisticsFiles.json"),
                                             "TableMetadataStatisticsFiles.json"));
  ASSERT_EQ(statistics.statistics.size(), 1u);
  EXPECT_FALSE(statistics.statistics[0].blob_metadata.empty());
  ASSERT_OK_AND_ASSIGN(
      TableMetadata partition_statistics,
      TableMetadataFromJson(ReadFixture("TableMetadataPartitionStatisticsFiles.json"),
                            "TableMetadataPartitionStatisticsFiles.json"));
  EXPECT_EQ(partition_statistics.partition_statistics.size(), 1u);
  ASSERT_OK_AND_ASSIGN(TableMetadata stats_again,
                       TableMetadataFromJson(TableMetadataToString(statistics), "written"));
  EXPECT_EQ(TableMetadataToJson(stats_again), TableMetadataToJson(statistics));
}

TEST(TableMetadataFixtureTest, InvalidFixturesAreRefusedNamingTheField) {
  SKIP_WITHOUT_SHARED();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"TableMetadataUnsupportedVersion.json", "Cannot read unsupported version"},
      {"TableMetadataV3ValidMinimal.json", "Cannot read unsupported version 3"},
      {"TableMetadataV1MissingSchemaType.json", "schema.type: required field is missing"},
      {"TableMetadataV2CurrentSchemaNotFound.json",
       "Cannot find schema with current-schema-id=2 from schemas"},
      {"TableMetadataV2MissingLastPartitionId.json", "last-partition-id must exist in format v2"},
      {"TableMetadataV2MissingPartitionSpecs.json", "partition-specs must exist in format v2"},
      {"TableMetadataV2MissingSchemas.json", "schemas must exist in format v2"},
      {"TableMetadataV2MissingSortOrder.json", "sort-orders must exist in format v2"},
  };
  for (const auto& [file, message] : cases) {
    SCOPED_TRACE(file);
    auto parsed = TableMetadataFromJson(ReadFixture(file), file);
    ASSERT_FALSE(parsed.ok());
    EXPECT_THAT(parsed.error().ToString(), HasSubstr(message));
    EXPECT_THAT(parsed.error().ToString(), HasSubstr(file));
  }
}

TEST(TableMetadataTest, HostileDocumentsGiveErrorsNotCrashes) {
  const std::string minimal =
      R"({"format-version": 2, "table-uuid": "u", "location": "/w/t", "last-sequence-number": 0,
          "last-updated-ms": 1, "last-column-id": 1, "current-schema-id": 0,
          "schemas": [{"type": "struct", "schema-id": 0, "fields": [
             {"id": 1, "name": "a", "required": true, "type": "long"}]}],
          "default-spec-id": 0, "partition-specs": [{"spec-id": 0, "fields": []}],
          "last-partition-id": 999, "default-sort-order-id": 0,
          "sort-orders": [{"order-id": 0, "fields": []}]})";
  ASSERT_OK(TableMetadataFromJson(minimal, "m.json").status());
  // Every truncation of a valid document is refused cleanly.
  for (size_t length = 0; length < minimal.size(); length += 7) {
    EXPECT_FALSE(TableMetadataFromJson(minimal.substr(0, length), "cut.json").ok());
  }
  EXPECT_THAT(TableMetadataFromJson(std::string(100000, '['), "deep.json").status(),
              IsError(StatusCode::kInvalidArgument, "nested deeper"));
  EXPECT_THAT(TableMetadataFromJson("[]", "array.json").status(),
              IsError(StatusCode::kInvalidArgument, "expected an object"));
  std::string wrong_type = minimal;
  wrong_type.replace(wrong_type.find("\"last-column-id\": 1"), 19, "\"last-column-id\": \"1\"");
  EXPECT_THAT(TableMetadataFromJson(wrong_type, "t.json").status(),
              IsError(StatusCode::kInvalidArgument, "last-column-id: expected an integer"));
  std::string duplicate_ids = minimal;
  duplicate_ids.replace(duplicate_ids.find("]}],"), 4,
                        R"(, {"id": 1, "name": "b", "required": false, "type": "int"}]}],)");
  EXPECT_THAT(TableMetadataFromJson(duplicate_ids, "d.json").status(),
              IsError(StatusCode::kInvalidArgument, "field id 1"));
  std::string v3_type = minimal;
  v3_type.replace(v3_type.find("\"long\""), 6, "\"variant\"");
  EXPECT_THAT(TableMetadataFromJson(v3_type, "v.json").status(),
              IsError(StatusCode::kNotImplemented, "not supported yet"));
  std::string bad_transform = minimal;
  bad_transform.replace(bad_transform.find("\"fields\": []}]"), 14,
                        R"("fields": [{"source-id": 1, "field-id": 1000, "name": "p",
                                       "transform": "bucket[0]"}]}])");
  EXPECT_THAT(TableMetadataFromJson(bad_transform, "b.json").status(),
              IsError(StatusCode::kInvalidArgument, "partition-specs[0].fields[0].transform"));
}

}  // namespace
}  // namespace meshwork::iceberg
