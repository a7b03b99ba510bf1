#include "iceberg/manifest.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "iceberg/avro.h"
#include "iceberg/ddl_parser.h"
#include "iceberg/table_metadata.h"
#include "iceberg/value_codec.h"
#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork::iceberg {
namespace {

using ::testing::HasSubstr;

DataFile MakeFile(int index, std::optional<Literal> day, std::optional<Literal> bucket) {
  DataFile file;
  file.file_path = "file:///w/sales/orders/data/part-" + std::to_string(index) + ".parquet";
  file.partition = {std::move(day), std::move(bucket)};
  file.record_count = 100 + index;
  file.file_size_in_bytes = 4096 + index;
  file.column_sizes = {{1, 800}, {2, 900}};
  file.value_counts = {{1, 100 + index}};
  file.null_value_counts = {{2, index}};
  file.lower_bounds = {{1, SerializeValue(Literal::Long(index))}};
  file.upper_bounds = {{1, SerializeValue(Literal::Long(index * 1000))}};
  file.split_offsets = {4};
  return file;
}

TEST(ManifestTest, WritesAndReadsBackWithPartitionsAndSummaries) {
  ASSERT_OK_AND_ASSIGN(Schema schema, ParseColumnList("id long not null, ts timestamptz, "
                                                      "amount decimal(12,2)"));
  ASSERT_OK_AND_ASSIGN(PartitionSpec spec,
                       ParsePartitionExpression("day(ts), bucket(16, id)", schema));
  std::vector<ManifestEntry> entries;
  for (int index = 0; index < 5; ++index) {
    ManifestEntry entry;
    entry.status = index == 4 ? EntryStatus::kDeleted : EntryStatus::kAdded;
    if (index == 4)
      entry.snapshot_id = 7, entry.sequence_number = 1, entry.file_sequence_number = 1;
    entry.data_file =
        MakeFile(index, index == 2 ? std::nullopt : std::optional(Literal::Date(19000 + index)),
                 Literal::Int(index % 3));
    entries.push_back(std::move(entry));
  }
  ManifestFile summary;
  ASSERT_OK_AND_ASSIGN(std::string bytes,
                       WriteManifest(schema, spec, FileContent::kData, entries, 42, summary));
  EXPECT_EQ(summary.added_files_count, 4);
  EXPECT_EQ(summary.deleted_files_count, 1);
  EXPECT_EQ(summary.added_rows_count, 100 + 101 + 102 + 103);
  ASSERT_EQ(summary.partitions.size(), 2u);
  EXPECT_TRUE(summary.partitions[0].contains_null);
  ASSERT_OK_AND_ASSIGN(Literal low,
                       DeserializeValue(Type::Date(), *summary.partitions[0].lower_bound));
  ASSERT_OK_AND_ASSIGN(Literal high,
                       DeserializeValue(Type::Date(), *summary.partitions[0].upper_bound));
  EXPECT_EQ(low.as<int32_t>(), 19000);
  EXPECT_EQ(high.as<int32_t>(), 19003);  // the deleted entry (19004) does not count

  // The header carries what the spec requires.
  ASSERT_OK_AND_ASSIGN(avro::FileReader raw, avro::FileReader::Open(bytes, "m.avro"));
  EXPECT_EQ(raw.Metadata("format-version"), "2");
  EXPECT_EQ(raw.Metadata("content"), "data");
  EXPECT_EQ(raw.Metadata("partition-spec-id"), "0");
  EXPECT_THAT(*raw.Metadata("partition-spec"), HasSubstr("\"transform\":\"bucket[16]\""));
  EXPECT_THAT(*raw.Metadata("schema"), HasSubstr("\"name\":\"amount\""));
  EXPECT_THAT(avro::SchemaToJson(*raw.schema()).dump(), HasSubstr("\"field-id\":1000"));

  summary.manifest_path = "file:///w/m.avro";
  summary.sequence_number = 3;
  ASSERT_OK_AND_ASSIGN(auto read, ReadManifest(bytes, summary, schema, {spec}));
  ASSERT_EQ(read.size(), 5u);
  EXPECT_EQ(read[0].snapshot_id, 42);     // inherited
  EXPECT_EQ(read[0].sequence_number, 3);  // inherited
  EXPECT_EQ(read[4].sequence_number, 1);  // explicit
  EXPECT_FALSE(read[2].data_file.partition[0].has_value());
  EXPECT_EQ(read[3].data_file.partition[0]->as<int32_t>(), 19003);
  EXPECT_EQ(read[3].data_file.partition[1]->as<int32_t>(), 0);
  EXPECT_EQ(read[1].data_file.record_count, 101);
  EXPECT_EQ(read[1].data_file.null_value_counts.at(2), 1);
  EXPECT_EQ(read[1].data_file.upper_bounds.at(1), SerializeValue(Literal::Long(1000)));
  EXPECT_EQ(read[1].data_file.split_offsets, std::vector<int64_t>{4});

  ASSERT_OK_AND_ASSIGN(std::string list, WriteManifestList({summary}, 42, 41, 3));
  ASSERT_OK_AND_ASSIGN(auto manifests, ReadManifestList(list, "snap.avro"));
  ASSERT_EQ(manifests.size(), 1u);
  EXPECT_EQ(manifests[0].manifest_path, "file:///w/m.avro");
  EXPECT_EQ(manifests[0].added_rows_count, summary.added_rows_count);
  EXPECT_EQ(manifests[0].partitions[0].lower_bound, summary.partitions[0].lower_bound);
  EXPECT_TRUE(manifests[0].partitions[0].contains_null);

  // Hostile: a data file in a delete manifest, and garbage.
  EXPECT_THAT(
      WriteManifest(schema, spec, FileContent::kPositionDeletes, entries, 1, summary).status(),
      IsError(StatusCode::kInvalidArgument, "delete manifest"));
  EXPECT_THAT(ReadManifest("garbage", summary, schema, {spec}).status(),
              IsError(StatusCode::kInvalidArgument, "file:///w/m.avro"));
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream stream(path, std::ios::binary);
  std::stringstream buffer;
  buffer << stream.rdbuf();
  return buffer.str();
}

// Maps a path recorded by another engine onto the table's folder in ../shared.
std::filesystem::path MapPath(const std::string& path, const std::filesystem::path& table_dir) {
  for (const char* marker : {"/metadata/", "/data/"}) {
    const size_t at = path.rfind(marker);
    if (at != std::string::npos) return table_dir / path.substr(at + 1);
  }
  for (const char* marker : {"metadata/", "data/"}) {
    if (path.starts_with(marker)) return table_dir / path;
  }
  return table_dir / path;
}

// The live data files of each reference table's current snapshot add up to the row counts its
// README lists (tables whose rows are not removed by delete files).
TEST(ManifestTest, ReadsReferenceTablesWrittenByOtherEngines) {
  auto shared = testing::SharedDir();
  if (!shared) GTEST_SKIP() << "SKIPPED LOUDLY: ../shared is absent, reference tables not read";
  const std::vector<std::pair<std::string, int64_t>> tables = {
      {"duckdb-lineitem-iceberg", 51793}, {"duckdb-partition-integer", 2},
      {"icebird-athena-example", 2},      {"icebird-spark-rename-column", 4},
      {"duckdb-hive-partitioned", 6},     {"duckdb-partition-timestamp-pyiceberg", 2},
  };
  for (const auto& [name, expected_rows] : tables) {
    SCOPED_TRACE(name);
    const std::filesystem::path dir = *shared / "reference" / "iceberg-tables" / name;
    std::filesystem::path newest;
    int64_t newest_version = -1;
    for (const auto& entry : std::filesystem::directory_iterator(dir / "metadata")) {
      const std::string file = entry.path().filename().string();
      if (!file.ends_with(".metadata.json")) continue;
      const size_t digits = file.find_first_of("0123456789");
      const int64_t version = std::stoll(file.substr(digits));
      if (version > newest_version) newest_version = version, newest = entry.path();
    }
    ASSERT_FALSE(newest.empty());
    ASSERT_OK_AND_ASSIGN(TableMetadata metadata,
                         TableMetadataFromJson(ReadFile(newest), newest.string()));
    const Snapshot* snapshot = metadata.CurrentSnapshot();
    ASSERT_NE(snapshot, nullptr);
    ASSERT_OK_AND_ASSIGN(
        auto manifests,
        ReadManifestList(ReadFile(MapPath(snapshot->manifest_list, dir)), snapshot->manifest_list));
    int64_t rows = 0;
    for (const ManifestFile& manifest : manifests) {
      ASSERT_OK_AND_ASSIGN(auto entries,
                           ReadManifest(ReadFile(MapPath(manifest.manifest_path, dir)), manifest,
                                        metadata.CurrentSchema(), metadata.partition_specs));
      for (const ManifestEntry& entry : entries) {
        if (entry.status != EntryStatus::kDeleted &&
            entry.data_file.content == FileContent::kData) {
          rows += entry.data_file.record_count;
          EXPECT_TRUE(std::filesystem::exists(MapPath(entry.data_file.file_path, dir)))
              << entry.data_file.file_path;
        }
      }
    }
    EXPECT_EQ(rows, expected_rows);
  }
}

}  // namespace
}  // namespace meshwork::iceberg
