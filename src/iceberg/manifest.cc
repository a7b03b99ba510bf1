#include "iceberg/manifest.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "iceberg/avro.h"
#include "iceberg/murmur3.h"
#include "iceberg/value_codec.h"

namespace meshwork::iceberg {
namespace {

using nlohmann::json;

json Optional(json type) {
  return json::array({"null", std::move(type)});
}

json OptionalField(std::string name, json type, int32_t field_id) {
  return {{"name", std::move(name)},
          {"type", Optional(std::move(type))},
          {"default", nullptr},
          {"field-id", field_id}};
}

json RequiredField(std::string name, json type, int32_t field_id) {
  return {{"name", std::move(name)}, {"type", std::move(type)}, {"field-id", field_id}};
}

// map<int, V> as the spec's array of key/value records.
json IntKeyedMap(int32_t key_id, int32_t value_id, json value_type) {
  return {{"type", "array"},
          {"logicalType", "map"},
          {"items",
           {{"type", "record"},
            {"name", fmt::format("k{}_v{}", key_id, value_id)},
            {"fields", json::array({RequiredField("key", "int", key_id),
                                    RequiredField("value", std::move(value_type), value_id)})}}}};
}

int DecimalBytes(int precision) {
  // The fewest bytes whose signed range holds 10^precision - 1.
  for (int bytes = 1; bytes <= 16; ++bytes) {
    const double max = std::pow(2.0, 8 * bytes - 1) - 1;
    if (std::log10(max) >= precision) return bytes;
  }
  return 16;
}

json AvroTypeOf(const Type& type) {
  switch (type.kind()) {
    case TypeKind::kBoolean:
      return "boolean";
    case TypeKind::kInt:
      return "int";
    case TypeKind::kLong:
      return "long";
    case TypeKind::kFloat:
      return "float";
    case TypeKind::kDouble:
      return "double";
    case TypeKind::kDate:
      return {{"type", "int"}, {"logicalType", "date"}};
    case TypeKind::kTime:
      return {{"type", "long"}, {"logicalType", "time-micros"}};
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampTz:
      return {{"type", "long"},
              {"logicalType", "timestamp-micros"},
              {"adjust-to-utc", type.kind() == TypeKind::kTimestampTz}};
    case TypeKind::kString:
      return "string";
    case TypeKind::kBinary:
      return "bytes";
    case TypeKind::kUuid:
      return {{"type", "fixed"}, {"name", "uuid_fixed"}, {"size", 16}, {"logicalType", "uuid"}};
    case TypeKind::kFixed:
      return {{"type", "fixed"},
              {"name", fmt::format("fixed_{}", type.length())},
              {"size", type.length()}};
    case TypeKind::kDecimal:
      return {{"type", "fixed"},
              {"name", fmt::format("decimal_{}_{}", type.precision(), type.scale())},
              {"size", DecimalBytes(type.precision())},
              {"logicalType", "decimal"},
              {"precision", type.precision()},
              {"scale", type.scale()}};
    default:
      return "null";
  }
}

avro::Value ToAvro(const std::optional<Literal>& value, const Type& type) {
  if (!value) return avro::Value();
  switch (type.kind()) {
    case TypeKind::kBoolean:
      return avro::Value(value->as<bool>());
    case TypeKind::kInt:
    case TypeKind::kDate:
      return avro::Value(value->as<int32_t>());
    case TypeKind::kLong:
    case TypeKind::kTime:
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampTz:
      return avro::Value(value->as<int64_t>());
    case TypeKind::kFloat:
      return avro::Value(value->as<float>());
    case TypeKind::kDouble:
      return avro::Value(value->as<double>());
    case TypeKind::kString:
      return avro::Value(value->as<std::string>());
    case TypeKind::kDecimal: {
      // Fixed width: sign-extend the minimal big-endian form.
      std::string minimal = MinimalBigEndian(value->as<DecimalValue>().unscaled);
      const size_t width = static_cast<size_t>(DecimalBytes(type.precision()));
      const char fill = (static_cast<unsigned char>(minimal[0]) & 0x80) ? '\xff' : '\x00';
      if (minimal.size() < width) minimal.insert(0, width - minimal.size(), fill);
      return avro::Value(avro::Bytes{minimal});
    }
    case TypeKind::kUuid: {
      const UuidBytes& bytes = value->as<UuidBytes>();
      return avro::Value(avro::Bytes{std::string(reinterpret_cast<const char*>(bytes.data()), 16)});
    }
    default:
      return avro::Value(avro::Bytes{value->as<Bytes>().data});
  }
}

Result<std::optional<Literal>> Deserialized(const TypePtr& type, std::string_view bytes,
                                            const std::string& where) {
  auto literal = DeserializeValue(type, bytes);
  if (!literal.ok()) return std::move(literal).error().WithContext(where);
  return std::optional<Literal>(std::move(*literal));
}

Result<std::optional<Literal>> FromAvro(const avro::Value& value, const TypePtr& type,
                                        const std::string& where) {
  if (value.is_null()) return std::optional<Literal>();
  auto wrong = [&]() {
    return Status::InvalidArgument("{}: a {} partition value is stored as an unexpected Avro type",
                                   where, type->ToString());
  };
  switch (type->kind()) {
    case TypeKind::kBoolean:
      if (auto* v = value.get_if<bool>()) return Literal(type, *v);
      return wrong();
    case TypeKind::kInt:
    case TypeKind::kDate:
      if (auto* v = value.get_if<int32_t>()) return Literal(type, *v);
      if (auto* v = value.get_if<int64_t>()) return Literal(type, static_cast<int32_t>(*v));
      return wrong();
    case TypeKind::kLong:
    case TypeKind::kTime:
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampTz:
      if (auto* v = value.get_if<int64_t>()) return Literal(type, *v);
      if (auto* v = value.get_if<int32_t>()) return Literal(type, static_cast<int64_t>(*v));
      return wrong();
    case TypeKind::kFloat:
      if (auto* v = value.get_if<float>()) return Literal(type, *v);
      return wrong();
    case TypeKind::kDouble:
      if (auto* v = value.get_if<double>()) return Literal(type, *v);
      if (auto* v = value.get_if<float>()) return Literal(type, static_cast<double>(*v));
      return wrong();
    case TypeKind::kString:
      if (auto* v = value.get_if<std::string>()) return Literal(type, *v);
      return wrong();
    case TypeKind::kUuid:
      if (auto* v = value.get_if<avro::Bytes>()) return Deserialized(type, v->data, where);
      return wrong();
    default:
      if (auto* v = value.get_if<avro::Bytes>()) return Deserialized(type, v->data, where);
      if (auto* v = value.get_if<std::string>()) return Deserialized(type, *v, where);
      return wrong();
  }
}

avro::Value IntLongMap(const std::map<int32_t, int64_t>& map) {
  if (map.empty()) return avro::Value();
  avro::Array array;
  for (const auto& [key, value] : map)
    array.items.push_back(avro::Value(avro::Record{{avro::Value(key), avro::Value(value)}}));
  return avro::Value(std::move(array));
}

avro::Value IntBytesMap(const std::map<int32_t, std::string>& map) {
  if (map.empty()) return avro::Value();
  avro::Array array;
  for (const auto& [key, value] : map)
    array.items.push_back(
        avro::Value(avro::Record{{avro::Value(key), avro::Value(avro::Bytes{value})}}));
  return avro::Value(std::move(array));
}

json ManifestEntrySchema(const TypePtr& partition_type) {
  json partition_fields = json::array();
  for (const NestedField& field : partition_type->fields()) {
    partition_fields.push_back(OptionalField(field.name, AvroTypeOf(*field.type), field.id));
  }
  json data_file_fields = json::array({
      RequiredField("content", "int", 134),
      RequiredField("file_path", "string", 100),
      RequiredField("file_format", "string", 101),
      RequiredField("partition",
                    {{"type", "record"}, {"name", "r102"}, {"fields", partition_fields}}, 102),
      RequiredField("record_count", "long", 103),
      RequiredField("file_size_in_bytes", "long", 104),
      OptionalField("column_sizes", IntKeyedMap(117, 118, "long"), 108),
      OptionalField("value_counts", IntKeyedMap(119, 120, "long"), 109),
      OptionalField("null_value_counts", IntKeyedMap(121, 122, "long"), 110),
      OptionalField("nan_value_counts", IntKeyedMap(138, 139, "long"), 137),
      OptionalField("lower_bounds", IntKeyedMap(126, 127, "bytes"), 125),
      OptionalField("upper_bounds", IntKeyedMap(129, 130, "bytes"), 128),
      OptionalField("key_metadata", "bytes", 131),
      OptionalField("split_offsets", {{"type", "array"}, {"items", "long"}, {"element-id", 133}},
                    132),
      OptionalField("equality_ids", {{"type", "array"}, {"items", "int"}, {"element-id", 136}},
                    135),
      OptionalField("sort_order_id", "int", 140),
      OptionalField("referenced_data_file", "string", 143),
  });
  return {
      {"type", "record"},
      {"name", "manifest_entry"},
      {"fields",
       json::array({RequiredField("status", "int", 0), OptionalField("snapshot_id", "long", 1),
                    OptionalField("sequence_number", "long", 3),
                    OptionalField("file_sequence_number", "long", 4),
                    RequiredField(
                        "data_file",
                        {{"type", "record"}, {"name", "r2"}, {"fields", data_file_fields}}, 2)})}};
}

json ManifestListSchema() {
  json summary = {{"type", "record"},
                  {"name", "r508"},
                  {"fields", json::array({RequiredField("contains_null", "boolean", 509),
                                          OptionalField("contains_nan", "boolean", 518),
                                          OptionalField("lower_bound", "bytes", 510),
                                          OptionalField("upper_bound", "bytes", 511)})}};
  return {{"type", "record"},
          {"name", "manifest_file"},
          {"fields",
           json::array(
               {RequiredField("manifest_path", "string", 500),
                RequiredField("manifest_length", "long", 501),
                RequiredField("partition_spec_id", "int", 502),
                RequiredField("content", "int", 517), RequiredField("sequence_number", "long", 515),
                RequiredField("min_sequence_number", "long", 516),
                RequiredField("added_snapshot_id", "long", 503),
                RequiredField("added_files_count", "int", 504),
                RequiredField("existing_files_count", "int", 505),
                RequiredField("deleted_files_count", "int", 506),
                RequiredField("added_rows_count", "long", 512),
                RequiredField("existing_rows_count", "long", 513),
                RequiredField("deleted_rows_count", "long", 514),
                OptionalField("partitions",
                              {{"type", "array"}, {"items", summary}, {"element-id", 508}}, 507),
                OptionalField("key_metadata", "bytes", 519)})}};
}

// Field access by Iceberg field id, so files from any writer (any field order, extra or missing
// optional fields) read the same.
class RecordView {
 public:
  RecordView(const avro::Node& schema, const avro::Value& value, std::string where)
      : schema_(schema), record_(value.get_if<avro::Record>()), where_(std::move(where)) {}
  bool valid() const {
    return record_ != nullptr && record_->fields.size() == schema_.fields.size();
  }

  const avro::Value* Find(int32_t field_id) const {
    const int index = schema_.FieldIndexById(field_id);
    return index < 0 ? nullptr : &record_->fields[static_cast<size_t>(index)];
  }
  const avro::Node* FieldSchema(int32_t field_id) const {
    const int index = schema_.FieldIndexById(field_id);
    if (index < 0) return nullptr;
    const avro::NodePtr& type = schema_.fields[static_cast<size_t>(index)].type;
    const avro::NodePtr inner = type->NonNullBranch();
    return inner ? inner.get() : type.get();
  }
  Status Missing(int32_t field_id, std::string_view name) const {
    return Status::InvalidArgument("{}: required field {} (id {}) is missing or has the wrong type",
                                   where_, name, field_id);
  }
  Result<int64_t> Long(int32_t field_id, std::string_view name) const {
    const avro::Value* value = Find(field_id);
    if (value != nullptr) {
      if (auto* v = value->get_if<int64_t>()) return *v;
      if (auto* v = value->get_if<int32_t>()) return int64_t{*v};
    }
    return Missing(field_id, name);
  }
  std::optional<int64_t> OptionalLong(int32_t field_id) const {
    const avro::Value* value = Find(field_id);
    if (value == nullptr) return std::nullopt;
    if (auto* v = value->get_if<int64_t>()) return *v;
    if (auto* v = value->get_if<int32_t>()) return int64_t{*v};
    return std::nullopt;
  }
  Result<std::string> String(int32_t field_id, std::string_view name) const {
    const avro::Value* value = Find(field_id);
    if (value != nullptr) {
      if (auto* v = value->get_if<std::string>()) return *v;
    }
    return Missing(field_id, name);
  }
  template <typename V>
  std::map<int32_t, V> IntMap(int32_t field_id) const {
    std::map<int32_t, V> map;
    const avro::Value* value = Find(field_id);
    if (value == nullptr) return map;
    const auto* array = value->get_if<avro::Array>();
    if (array == nullptr) return map;
    for (const avro::Value& item : array->items) {
      const auto* pair = item.get_if<avro::Record>();
      if (pair == nullptr || pair->fields.size() != 2) continue;
      const auto* key = pair->fields[0].get_if<int32_t>();
      if (key == nullptr) continue;
      if constexpr (std::is_same_v<V, int64_t>) {
        if (auto* v = pair->fields[1].get_if<int64_t>()) map[*key] = *v;
      } else {
        if (auto* v = pair->fields[1].get_if<avro::Bytes>()) map[*key] = v->data;
      }
    }
    return map;
  }
  const std::string& where() const { return where_; }

 private:
  const avro::Node& schema_;
  const avro::Record* record_;
  std::string where_;
};

}  // namespace

Result<std::string> WriteManifest(const Schema& schema, const PartitionSpec& spec,
                                  FileContent content, const std::vector<ManifestEntry>& entries,
                                  int64_t snapshot_id, ManifestFile& summary_out) {
  // Built aside and handed out only on success, so a failed write leaves the caller's copy alone.
  ManifestFile summary;
  MW_ASSIGN_OR_RETURN(TypePtr partition_type, spec.PartitionType(schema));
  MW_ASSIGN_OR_RETURN(avro::NodePtr avro_schema,
                      avro::SchemaFromJson(ManifestEntrySchema(partition_type)));
  const bool deletes = content != FileContent::kData;
  avro::FileWriter writer(avro_schema, avro::Codec::kDeflate,
                          {{"schema", SchemaToJson(schema).dump()},
                           {"schema-id", std::to_string(schema.schema_id())},
                           {"partition-spec", PartitionFieldsToJson(spec).dump()},
                           {"partition-spec-id", std::to_string(spec.spec_id())},
                           {"format-version", "2"},
                           {"content", deletes ? "deletes" : "data"}});
  summary.partition_spec_id = spec.spec_id();
  summary.content = deletes ? 1 : 0;
  summary.added_snapshot_id = snapshot_id;
  const size_t partition_fields = partition_type->fields().size();
  summary.partitions.resize(partition_fields);
  std::vector<std::optional<Literal>> lower(partition_fields), upper(partition_fields);

  for (const ManifestEntry& entry : entries) {
    const DataFile& file = entry.data_file;
    if ((file.content != FileContent::kData) != deletes) {
      return Status::InvalidArgument("a {} manifest cannot hold the {} file {}",
                                     deletes ? "delete" : "data", deletes ? "data" : "delete",
                                     file.file_path);
    }
    if (file.partition.size() != partition_fields) {
      return Status::InvalidArgument("data file {} has {} partition values, spec {} has {} fields",
                                     file.file_path, file.partition.size(), spec.spec_id(),
                                     partition_fields);
    }
    avro::Record partition;
    for (size_t index = 0; index < partition_fields; ++index) {
      const TypePtr& type = partition_type->fields()[index].type;
      const std::optional<Literal>& value = file.partition[index];
      partition.fields.push_back(ToAvro(value, *type));
      if (entry.status == EntryStatus::kDeleted) continue;
      PartitionFieldSummary& field_summary = summary.partitions[index];
      if (!value) {
        field_summary.contains_null = true;
        continue;
      }
      const bool is_nan = (type->kind() == TypeKind::kDouble && std::isnan(value->as<double>())) ||
                          (type->kind() == TypeKind::kFloat && std::isnan(value->as<float>()));
      if (type->kind() == TypeKind::kDouble || type->kind() == TypeKind::kFloat) {
        field_summary.contains_nan = field_summary.contains_nan.value_or(false) || is_nan;
      }
      if (is_nan) continue;
      if (!lower[index] || value->Compare(*lower[index]) == std::partial_ordering::less) {
        lower[index] = value;
      }
      if (!upper[index] || value->Compare(*upper[index]) == std::partial_ordering::greater) {
        upper[index] = value;
      }
    }
    avro::Array split_offsets, equality_ids;
    for (int64_t offset : file.split_offsets)
      split_offsets.items.push_back(avro::Value(offset));
    for (int32_t id : file.equality_ids)
      equality_ids.items.push_back(avro::Value(id));
    avro::Record data_file{{
        avro::Value(static_cast<int32_t>(file.content)),
        avro::Value(file.file_path),
        avro::Value(file.file_format),
        avro::Value(std::move(partition)),
        avro::Value(file.record_count),
        avro::Value(file.file_size_in_bytes),
        IntLongMap(file.column_sizes),
        IntLongMap(file.value_counts),
        IntLongMap(file.null_value_counts),
        IntLongMap(file.nan_value_counts),
        IntBytesMap(file.lower_bounds),
        IntBytesMap(file.upper_bounds),
        avro::Value(),
        file.split_offsets.empty() ? avro::Value() : avro::Value(std::move(split_offsets)),
        file.equality_ids.empty() ? avro::Value() : avro::Value(std::move(equality_ids)),
        file.sort_order_id ? avro::Value(*file.sort_order_id) : avro::Value(),
        file.referenced_data_file ? avro::Value(*file.referenced_data_file) : avro::Value(),
    }};
    auto optional_long = [](const std::optional<int64_t>& value) {
      return value ? avro::Value(*value) : avro::Value();
    };
    MW_RETURN_IF_ERROR(writer.Append(avro::Value(avro::Record{{
        avro::Value(static_cast<int32_t>(entry.status)),
        optional_long(entry.snapshot_id),
        optional_long(entry.sequence_number),
        optional_long(entry.file_sequence_number),
        avro::Value(std::move(data_file)),
    }})));
    switch (entry.status) {
      case EntryStatus::kAdded:
        ++summary.added_files_count;
        summary.added_rows_count += file.record_count;
        break;
      case EntryStatus::kExisting:
        ++summary.existing_files_count;
        summary.existing_rows_count += file.record_count;
        break;
      case EntryStatus::kDeleted:
        ++summary.deleted_files_count;
        summary.deleted_rows_count += file.record_count;
        break;
    }
  }
  for (size_t index = 0; index < partition_fields; ++index) {
    if (lower[index]) summary.partitions[index].lower_bound = SerializeValue(*lower[index]);
    if (upper[index]) summary.partitions[index].upper_bound = SerializeValue(*upper[index]);
  }
  MW_ASSIGN_OR_RETURN(std::string bytes, writer.Finish());
  summary_out = std::move(summary);
  return bytes;
}

Result<std::vector<ManifestEntry>> ReadManifest(std::string_view bytes,
                                                const ManifestFile& manifest, const Schema& schema,
                                                const std::vector<PartitionSpec>& specs,
                                                ManifestDetail detail) {
  const std::string& name = manifest.manifest_path;
  MW_ASSIGN_OR_RETURN(avro::FileReader reader, avro::FileReader::Open(bytes, name));
  if (detail == ManifestDetail::kForPlanning) reader.SkipFieldIds({108, 131, 132, 137, 140});
  const PartitionSpec* spec = nullptr;
  for (const PartitionSpec& candidate : specs) {
    if (candidate.spec_id() == manifest.partition_spec_id) spec = &candidate;
  }
  if (spec == nullptr) {
    return Status::InvalidArgument(
        "manifest {} uses partition spec {}, which the table does not have", name,
        manifest.partition_spec_id);
  }
  MW_ASSIGN_OR_RETURN(TypePtr partition_type, spec->PartitionType(schema));
  const avro::Node& entry_schema = *reader.schema();
  const int data_file_index = entry_schema.FieldIndexById(2);
  if (entry_schema.kind != avro::Kind::kRecord || data_file_index < 0) {
    return Status::InvalidArgument("{} is not a manifest: its records have no data_file (id 2)",
                                   name);
  }
  const avro::Node& data_file_schema =
      *entry_schema.fields[static_cast<size_t>(data_file_index)].type;
  const int partition_index = data_file_schema.FieldIndexById(102);
  const avro::Node* partition_schema =
      partition_index < 0
          ? nullptr
          : data_file_schema.fields[static_cast<size_t>(partition_index)].type.get();

  std::vector<ManifestEntry> entries;
  int64_t position = 0;
  while (true) {
    MW_ASSIGN_OR_RETURN(std::optional<avro::Value> record, reader.Next());
    if (!record) break;
    const std::string where = fmt::format("{} entry {}", name, position++);
    RecordView entry_view(entry_schema, *record, where);
    if (!entry_view.valid()) return Status::InvalidArgument("{}: not a record", where);
    ManifestEntry entry;
    MW_ASSIGN_OR_RETURN(int64_t status, entry_view.Long(0, "status"));
    if (status < 0 || status > 2)
      return Status::InvalidArgument("{}: status {} is invalid", where, status);
    entry.status = static_cast<EntryStatus>(status);
    entry.snapshot_id = entry_view.OptionalLong(1);
    entry.sequence_number = entry_view.OptionalLong(3);
    entry.file_sequence_number = entry_view.OptionalLong(4);
    // Inheritance (spec "Sequence Number Inheritance"): ADDED entries take the manifest's values.
    if (!entry.snapshot_id) entry.snapshot_id = manifest.added_snapshot_id;
    if (entry.status == EntryStatus::kAdded) {
      if (!entry.sequence_number) entry.sequence_number = manifest.sequence_number;
      if (!entry.file_sequence_number) entry.file_sequence_number = manifest.sequence_number;
    }
    RecordView file_view(data_file_schema, *entry_view.Find(2), where + " data_file");
    if (!file_view.valid()) return Status::InvalidArgument("{}: data_file is not a record", where);
    DataFile& file = entry.data_file;
    file.partition_spec_id = manifest.partition_spec_id;
    file.data_sequence_number = entry.sequence_number.value_or(0);
    file.added_snapshot_id = entry.snapshot_id.value_or(0);
    file.content = static_cast<FileContent>(file_view.OptionalLong(134).value_or(0));
    MW_ASSIGN_OR_RETURN(file.file_path, file_view.String(100, "file_path"));
    MW_ASSIGN_OR_RETURN(file.file_format, file_view.String(101, "file_format"));
    MW_ASSIGN_OR_RETURN(file.record_count, file_view.Long(103, "record_count"));
    MW_ASSIGN_OR_RETURN(file.file_size_in_bytes, file_view.Long(104, "file_size_in_bytes"));
    file.column_sizes = file_view.IntMap<int64_t>(108);
    file.value_counts = file_view.IntMap<int64_t>(109);
    file.null_value_counts = file_view.IntMap<int64_t>(110);
    file.nan_value_counts = file_view.IntMap<int64_t>(137);
    file.lower_bounds = file_view.IntMap<std::string>(125);
    file.upper_bounds = file_view.IntMap<std::string>(128);
    if (const avro::Value* offsets = file_view.Find(132)) {
      if (auto* array = offsets->get_if<avro::Array>()) {
        for (const avro::Value& item : array->items) {
          if (auto* v = item.get_if<int64_t>()) file.split_offsets.push_back(*v);
        }
      }
    }
    if (const avro::Value* ids = file_view.Find(135)) {
      if (auto* array = ids->get_if<avro::Array>()) {
        for (const avro::Value& item : array->items) {
          if (auto* v = item.get_if<int32_t>()) file.equality_ids.push_back(*v);
        }
      }
    }
    if (auto order = file_view.OptionalLong(140)) file.sort_order_id = static_cast<int32_t>(*order);
    if (const avro::Value* referenced = file_view.Find(143)) {
      if (auto* v = referenced->get_if<std::string>()) file.referenced_data_file = *v;
    }
    // Partition values by partition field id.
    if (partition_schema != nullptr) {
      RecordView partition_view(*partition_schema, *file_view.Find(102), where + " partition");
      for (const NestedField& field : partition_type->fields()) {
        const avro::Value* value = partition_view.valid() ? partition_view.Find(field.id) : nullptr;
        if (value == nullptr) {
          file.partition.push_back(std::nullopt);
          continue;
        }
        MW_ASSIGN_OR_RETURN(auto literal,
                            FromAvro(*value, field.type, where + " partition." + field.name));
        file.partition.push_back(std::move(literal));
      }
    } else {
      file.partition.resize(partition_type->fields().size());
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

Result<std::string> WriteManifestList(const std::vector<ManifestFile>& manifests,
                                      int64_t snapshot_id, std::optional<int64_t> parent_id,
                                      int64_t sequence_number) {
  MW_ASSIGN_OR_RETURN(avro::NodePtr schema, avro::SchemaFromJson(ManifestListSchema()));
  std::map<std::string, std::string> metadata = {
      {"snapshot-id", std::to_string(snapshot_id)},
      {"sequence-number", std::to_string(sequence_number)},
      {"format-version", "2"}};
  metadata["parent-snapshot-id"] = parent_id ? std::to_string(*parent_id) : "null";
  avro::FileWriter writer(schema, avro::Codec::kDeflate, std::move(metadata));
  for (const ManifestFile& manifest : manifests) {
    avro::Array partitions;
    for (const PartitionFieldSummary& summary : manifest.partitions) {
      partitions.items.push_back(avro::Value(avro::Record{{
          avro::Value(summary.contains_null),
          summary.contains_nan ? avro::Value(*summary.contains_nan) : avro::Value(),
          summary.lower_bound ? avro::Value(avro::Bytes{*summary.lower_bound}) : avro::Value(),
          summary.upper_bound ? avro::Value(avro::Bytes{*summary.upper_bound}) : avro::Value(),
      }}));
    }
    MW_RETURN_IF_ERROR(writer.Append(avro::Value(avro::Record{{
        avro::Value(manifest.manifest_path),
        avro::Value(manifest.manifest_length),
        avro::Value(manifest.partition_spec_id),
        avro::Value(manifest.content),
        avro::Value(manifest.sequence_number),
        avro::Value(manifest.min_sequence_number),
        avro::Value(manifest.added_snapshot_id),
        avro::Value(manifest.added_files_count),
        avro::Value(manifest.existing_files_count),
        avro::Value(manifest.deleted_files_count),
        avro::Value(manifest.added_rows_count),
        avro::Value(manifest.existing_rows_count),
        avro::Value(manifest.deleted_rows_count),
        avro::Value(std::move(partitions)),
        avro::Value(),
    }})));
  }
  return writer.Finish();
}

Result<std::vector<ManifestFile>> ReadManifestList(std::string_view bytes, std::string_view name) {
  MW_ASSIGN_OR_RETURN(avro::FileReader reader, avro::FileReader::Open(bytes, std::string(name)));
  const avro::Node& schema = *reader.schema();
  std::vector<ManifestFile> manifests;
  int64_t position = 0;
  while (true) {
    MW_ASSIGN_OR_RETURN(std::optional<avro::Value> record, reader.Next());
    if (!record) break;
    RecordView view(schema, *record, fmt::format("{} entry {}", name, position++));
    if (!view.valid()) return Status::InvalidArgument("{}: not a record", view.where());
    ManifestFile manifest;
    MW_ASSIGN_OR_RETURN(manifest.manifest_path, view.String(500, "manifest_path"));
    MW_ASSIGN_OR_RETURN(manifest.manifest_length, view.Long(501, "manifest_length"));
    MW_ASSIGN_OR_RETURN(int64_t spec_id, view.Long(502, "partition_spec_id"));
    manifest.partition_spec_id = static_cast<int32_t>(spec_id);
    manifest.content = static_cast<int32_t>(view.OptionalLong(517).value_or(0));
    manifest.sequence_number = view.OptionalLong(515).value_or(0);
    manifest.min_sequence_number = view.OptionalLong(516).value_or(0);
    MW_ASSIGN_OR_RETURN(manifest.added_snapshot_id, view.Long(503, "added_snapshot_id"));
    manifest.added_files_count = static_cast<int32_t>(view.OptionalLong(504).value_or(-1));
    manifest.existing_files_count = static_cast<int32_t>(view.OptionalLong(505).value_or(-1));
    manifest.deleted_files_count = static_cast<int32_t>(view.OptionalLong(506).value_or(-1));
    manifest.added_rows_count = view.OptionalLong(512).value_or(-1);
    manifest.existing_rows_count = view.OptionalLong(513).value_or(-1);
    manifest.deleted_rows_count = view.OptionalLong(514).value_or(-1);
    if (const avro::Value* partitions = view.Find(507)) {
      if (auto* array = partitions->get_if<avro::Array>()) {
        const avro::Node* summary_schema = view.FieldSchema(507);
        for (const avro::Value& item : array->items) {
          RecordView summary_view(*summary_schema->items, item, view.where() + " partitions");
          if (!summary_view.valid()) continue;
          PartitionFieldSummary summary;
          if (auto* v = summary_view.Find(509)) {
            if (auto* flag = v->get_if<bool>()) summary.contains_null = *flag;
          }
          if (auto* v = summary_view.Find(518)) {
            if (auto* flag = v->get_if<bool>()) summary.contains_nan = *flag;
          }
          if (auto* v = summary_view.Find(510)) {
            if (auto* b = v->get_if<avro::Bytes>()) summary.lower_bound = b->data;
          }
          if (auto* v = summary_view.Find(511)) {
            if (auto* b = v->get_if<avro::Bytes>()) summary.upper_bound = b->data;
          }
          manifest.partitions.push_back(std::move(summary));
        }
      }
    }
    manifests.push_back(std::move(manifest));
  }
  return manifests;
}

}  // namespace meshwork::iceberg
