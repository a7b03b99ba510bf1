#pragma once
// A small Avro implementation for Iceberg manifests and manifest lists: schemas (with their extra
// attributes such as field-id kept), a generic value, the binary encoding, and object container
// files with the null, deflate, snappy and zstandard codecs. Apache Avro C drops field-id
// attributes and cannot write the header metadata Iceberg needs, hence our own.
//
// Reading never trusts the file: every length is checked against the bytes left, nesting is
// bounded, and errors name the byte offset.

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "common/result.h"

namespace meshwork::iceberg::avro {

enum class Kind : uint8_t {
  kNull,
  kBoolean,
  kInt,
  kLong,
  kFloat,
  kDouble,
  kBytes,
  kString,
  kRecord,
  kEnum,
  kArray,
  kMap,
  kUnion,
  kFixed,
};

struct Node;
using NodePtr = std::shared_ptr<const Node>;

struct Field {
  std::string name;
  NodePtr type;
  /// Attributes other than name/type (field-id, doc, default, ...), written back unchanged.
  nlohmann::json attributes = nlohmann::json::object();
  /// The "field-id" attribute, or -1. Parsed once: record decoding looks fields up by id.
  int32_t field_id = -1;
  int32_t FieldId() const { return field_id; }
};

struct Node {
  Kind kind = Kind::kNull;
  /// Full name of records, enums and fixed types.
  std::string name;
  std::vector<Field> fields;         // record
  std::vector<std::string> symbols;  // enum
  NodePtr items;                     // array
  NodePtr values;                    // map
  std::vector<NodePtr> branches;     // union
  int64_t size = 0;                  // fixed
  /// Other attributes (logicalType, element-id, key-id, value-id, precision, ...).
  nlohmann::json attributes = nlohmann::json::object();

  /// The index of the field with this Iceberg field id, or -1.
  int FieldIndexById(int32_t field_id) const;
  int FieldIndexByName(std::string_view field_name) const;
  /// For ["null", T] unions: T; otherwise nullptr.
  NodePtr NonNullBranch() const;
};

Result<NodePtr> ParseSchema(std::string_view json_text);
/// ParseSchema through a small process-wide cache keyed by the text (for file headers).
Result<NodePtr> ParseSchemaCached(const std::string& json_text);
Result<NodePtr> SchemaFromJson(const nlohmann::json& value);
nlohmann::json SchemaToJson(const Node& node);

struct Value;
struct Record {
  std::vector<Value> fields;
};
struct Array {
  std::vector<Value> items;
};
struct MapValue {
  std::vector<std::pair<std::string, Value>> entries;
};
/// bytes and fixed values.
struct Bytes {
  std::string data;
};
struct EnumSymbol {
  int32_t index = 0;
};

/// A decoded datum. Union values are stored as the chosen branch's value (a union of null and T
/// holds std::monostate or a T value), which is all Iceberg's schemas need.
struct Value {
  std::variant<std::monostate, bool, int32_t, int64_t, float, double, std::string, Bytes,
               EnumSymbol, Record, Array, MapValue>
      data;

  Value() = default;
  template <typename T>
  requires(!std::is_same_v<std::decay_t<T>, Value>) Value(T value)
      : data(std::move(value)) {}  // NOLINT: implicit by design

  bool is_null() const { return std::holds_alternative<std::monostate>(data); }
  template <typename T>
  const T* get_if() const {
    return std::get_if<T>(&data);
  }
};

/// Binary encoding of one datum. Fails when the value does not fit the schema.
Status Encode(const Node& schema, const Value& value, std::string& out);
/// Decodes one datum from `bytes` starting at `offset` (advanced past it).
Result<Value> Decode(const Node& schema, std::string_view bytes, size_t& offset,
                     const std::set<int32_t>* skipped = nullptr);

enum class Codec { kNull, kDeflate, kSnappy, kZstd };

/// Writes an object container file into memory.
class FileWriter {
 public:
  FileWriter(NodePtr schema, Codec codec, std::map<std::string, std::string> metadata,
             size_t records_per_block = 4096);
  Status Append(const Value& record);
  /// The complete file; the writer cannot be used afterwards.
  Result<std::string> Finish();
  size_t records() const { return records_; }

 private:
  Status FlushBlock();
  NodePtr schema_;
  Codec codec_;
  std::string sync_;
  std::string out_;
  std::string block_;
  size_t block_records_ = 0;
  size_t records_per_block_;
  size_t records_ = 0;
};

/// Reads an object container file held in memory.
class FileReader {
 public:
  /// Parses the header. `name` names the file in errors.
  static Result<FileReader> Open(std::string_view bytes, std::string name);

  const NodePtr& schema() const { return schema_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  std::optional<std::string> Metadata(const std::string& key) const;
  /// The next record, or nullopt at the end of the file.
  Result<std::optional<Value>> Next();
  /// All remaining records.
  Result<std::vector<Value>> ReadAll();
  /// Fields with these ids (at any depth) are skipped, not decoded: they read as null. For
  /// readers that need a few fields of large records.
  void SkipFieldIds(std::set<int32_t> ids) { skipped_ = std::move(ids); }

 private:
  FileReader() = default;
  Status LoadBlock();
  std::string_view bytes_;
  std::string name_;
  NodePtr schema_;
  std::map<std::string, std::string> metadata_;
  Codec codec_ = Codec::kNull;
  std::string sync_;
  size_t offset_ = 0;        // next block in bytes_
  std::string block_;        // decompressed current block
  size_t block_offset_ = 0;  // position in block_
  int64_t block_remaining_ = 0;
  int64_t block_index_ = -1;
  std::set<int32_t> skipped_;
};

}  // namespace meshwork::iceberg::avro
