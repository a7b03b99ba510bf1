#include "iceberg/avro.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork::iceberg::avro {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kSchema = R"({
  "type": "record", "name": "manifest_entry", "fields": [
    {"name": "status", "type": "int", "field-id": 0},
    {"name": "snapshot_id", "type": ["null", "long"], "default": null, "field-id": 1},
    {"name": "data_file", "field-id": 2, "type": {
      "type": "record", "name": "r2", "fields": [
        {"name": "file_path", "type": "string", "doc": "Location URI", "field-id": 100},
        {"name": "record_count", "type": "long", "field-id": 103},
        {"name": "ratio", "type": "double", "field-id": 900},
        {"name": "flag", "type": "boolean", "field-id": 901},
        {"name": "column_sizes", "type": ["null", {"type": "array", "logicalType": "map",
          "items": {"type": "record", "name": "k117_v118", "fields": [
            {"name": "key", "type": "int", "field-id": 117},
            {"name": "value", "type": "long", "field-id": 118}]}, "element-id": 116}],
          "default": null, "field-id": 108},
        {"name": "props", "type": {"type": "map", "values": "string"}, "field-id": 902},
        {"name": "digest", "type": {"type": "fixed", "name": "md5", "size": 4}, "field-id": 903},
        {"name": "kind", "type": {"type": "enum", "name": "kind", "symbols": ["DATA", "DELETES"]},
         "field-id": 904},
        {"name": "lower", "type": ["null", "bytes"], "field-id": 905}
      ]}}
  ]})";

Value MakeEntry(int64_t index) {
  Record data_file;
  data_file.fields = {
      Value(std::string("file:///w/t/data/part-") + std::to_string(index) + ".parquet"),
      Value(index * 10),
      Value(index / 3.0),
      Value(index % 2 == 0),
      index % 5 == 0 ? Value()
                     : Value(Array{{Value(Record{{Value(int32_t{1}), Value(index)}}),
                                    Value(Record{{Value(int32_t{2}), Value(-index)}})}}),
      Value(MapValue{{{"k", Value(std::string("v") + std::to_string(index))}}}),
      Value(Bytes{std::string("\x00\x01\x02", 3) + static_cast<char>(index & 0x7f)}),
      Value(EnumSymbol{static_cast<int32_t>(index % 2)}),
      index % 3 == 0 ? Value() : Value(Bytes{std::string(static_cast<size_t>(index % 7), 'b')}),
  };
  return Value(Record{
      {Value(int32_t{1}), index % 4 == 0 ? Value() : Value(index), Value(std::move(data_file))}});
}

TEST(AvroTest, SchemaKeepsIcebergAttributes) {
  ASSERT_OK_AND_ASSIGN(NodePtr schema, ParseSchema(kSchema));
  const nlohmann::json written = SchemaToJson(*schema);
  ASSERT_OK_AND_ASSIGN(NodePtr again, SchemaFromJson(written));
  EXPECT_EQ(SchemaToJson(*again), written);
  const std::string text = written.dump();
  EXPECT_THAT(text, HasSubstr("\"field-id\":103"));
  EXPECT_THAT(text, HasSubstr("\"element-id\":116"));
  EXPECT_THAT(text, HasSubstr("\"logicalType\":\"map\""));
  EXPECT_THAT(text, HasSubstr("\"doc\":\"Location URI\""));
  EXPECT_EQ(schema->FieldIndexById(2), 2);
  const Node& data_file = *schema->fields[2].type;
  EXPECT_EQ(data_file.FieldIndexById(103), 1);
  EXPECT_EQ(schema->fields[1].type->NonNullBranch()->kind, Kind::kLong);
}

TEST(AvroTest, ContainerRoundTripWithEveryCodec) {
  ASSERT_OK_AND_ASSIGN(NodePtr schema, ParseSchema(kSchema));
  for (Codec codec : {Codec::kNull, Codec::kDeflate, Codec::kSnappy, Codec::kZstd}) {
    FileWriter writer(schema, codec, {{"format-version", "2"}, {"content", "data"}}, 1000);
    for (int64_t index = 0; index < 5000; ++index)
      ASSERT_OK(writer.Append(MakeEntry(index)));
    ASSERT_OK_AND_ASSIGN(std::string file, writer.Finish());
    ASSERT_OK_AND_ASSIGN(FileReader reader, FileReader::Open(file, "test.avro"));
    EXPECT_EQ(reader.Metadata("format-version"), "2");
    EXPECT_EQ(reader.Metadata("content"), "data");
    ASSERT_OK_AND_ASSIGN(auto records, reader.ReadAll());
    ASSERT_EQ(records.size(), 5000u);
    // Re-encoding what we read gives the same bytes as encoding the original.
    for (int64_t index : {0, 1, 3, 4, 5, 4999}) {
      std::string expected, actual;
      ASSERT_OK(Encode(*schema, MakeEntry(index), expected));
      ASSERT_OK(Encode(*reader.schema(), records[static_cast<size_t>(index)], actual));
      EXPECT_EQ(actual, expected) << index;
    }
    const Record& data_file = *records[7].get_if<Record>()->fields[2].get_if<Record>();
    EXPECT_EQ(*data_file.fields[0].get_if<std::string>(), "file:///w/t/data/part-7.parquet");
    EXPECT_EQ(*data_file.fields[1].get_if<int64_t>(), 70);
  }
}

TEST(AvroTest, EncodeRefusesValuesThatDoNotFit) {
  ASSERT_OK_AND_ASSIGN(NodePtr schema, ParseSchema(kSchema));
  std::string out;
  Value wrong = MakeEntry(1);
  std::get<Record>(wrong.data).fields[0] = Value(std::string("not an int"));
  EXPECT_THAT(Encode(*schema, wrong, out), IsError(StatusCode::kInvalidArgument, "status"));
}

TEST(AvroTest, HostileFilesGiveErrorsNeverCrashes) {
  ASSERT_OK_AND_ASSIGN(NodePtr schema, ParseSchema(kSchema));
  FileWriter writer(schema, Codec::kDeflate, {}, 3);
  for (int64_t index = 0; index < 10; ++index)
    ASSERT_OK(writer.Append(MakeEntry(index)));
  ASSERT_OK_AND_ASSIGN(std::string file, writer.Finish());
  // Every truncation.
  for (size_t length = 0; length < file.size(); ++length) {
    auto reader = FileReader::Open(std::string_view(file).substr(0, length), "cut.avro");
    if (!reader.ok()) continue;
    auto records = reader->ReadAll();
    EXPECT_FALSE(records.ok() && records->size() == 10) << "truncated at " << length;
  }
  // Random byte flips.
  std::mt19937 random(42);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string corrupt = file;
    for (int flips = 0; flips < 3; ++flips)
      corrupt[random() % corrupt.size()] = static_cast<char>(random());
    auto reader = FileReader::Open(corrupt, "flipped.avro");
    if (reader.ok()) (void)reader->ReadAll();
  }
  // A declared length far beyond the data fails fast.
  std::string huge("Obj\x01", 4);
  huge += "\x02";                  // one metadata entry
  huge += "\xfe\xff\xff\xff\x0f";  // key length ~ 2^31
  EXPECT_THAT(FileReader::Open(huge, "huge.avro").status(),
              IsError(StatusCode::kInvalidArgument, "truncated"));
  EXPECT_THAT(FileReader::Open("PAR1", "x.parquet").status(),
              IsError(StatusCode::kInvalidArgument, "bad magic"));
  EXPECT_THAT(ParseSchema(std::string(100000, '[')).status(),
              IsError(StatusCode::kInvalidArgument));
  // Found by avro_fuzz: a self-referencing record leaked its nodes (a shared_ptr cycle).
  EXPECT_THAT(ParseSchema(R"({"type": "record", "name": "list", "fields": [
                  {"name": "next", "type": ["null", "list"]}]})")
                  .status(),
              IsError(StatusCode::kInvalidArgument, "recursive Avro types are not supported"));
}

// Manifests and manifest lists written by Spark, the Java API, Athena and pyiceberg.
TEST(AvroTest, ReadsEveryReferenceManifest) {
  auto shared = testing::SharedDir();
  if (!shared) GTEST_SKIP() << "SKIPPED LOUDLY: ../shared is absent, reference tables not read";
  size_t files = 0, records_read = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(*shared / "reference" / "iceberg-tables")) {
    if (entry.path().extension() != ".avro") continue;
    std::ifstream stream(entry.path(), std::ios::binary);
    std::stringstream buffer;
    buffer << stream.rdbuf();
    const std::string bytes = buffer.str();
    SCOPED_TRACE(entry.path().string());
    ASSERT_OK_AND_ASSIGN(FileReader reader, FileReader::Open(bytes, entry.path().string()));
    ASSERT_OK_AND_ASSIGN(auto records, reader.ReadAll());
    EXPECT_FALSE(records.empty());
    const bool manifest_list = entry.path().filename().string().starts_with("snap-");
    if (manifest_list) {
      const int path_index = reader.schema()->FieldIndexById(500);  // manifest_path
      ASSERT_GE(path_index, 0);
      EXPECT_THAT(*records[0]
                       .get_if<Record>()
                       ->fields[static_cast<size_t>(path_index)]
                       .get_if<std::string>(),
                  HasSubstr(".avro"));
    } else {
      EXPECT_TRUE(reader.Metadata("schema").has_value());
      EXPECT_TRUE(reader.Metadata("partition-spec").has_value());
      EXPECT_GE(reader.schema()->FieldIndexById(2), 0);  // data_file
    }
    ++files;
    records_read += records.size();
  }
  EXPECT_EQ(files, 44u);
  RecordProperty("records", std::to_string(records_read));
}

}  // namespace
}  // namespace meshwork::iceberg::avro
