#include "iceberg/avro.h"

#include <fmt/format.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include <climits>
#include <cstring>
#include <mutex>
#include <set>
#include <unordered_map>

#include "common/uuid.h"

namespace meshwork::iceberg::avro {

int Node::FieldIndexById(int32_t field_id) const {
  for (size_t index = 0; index < fields.size(); ++index) {
    if (fields[index].FieldId() == field_id) return static_cast<int>(index);
  }
  return -1;
}

int Node::FieldIndexByName(std::string_view field_name) const {
  for (size_t index = 0; index < fields.size(); ++index) {
    if (fields[index].name == field_name) return static_cast<int>(index);
  }
  return -1;
}

NodePtr Node::NonNullBranch() const {
  if (kind != Kind::kUnion || branches.size() != 2) return nullptr;
  if (branches[0]->kind == Kind::kNull) return branches[1];
  if (branches[1]->kind == Kind::kNull) return branches[0];
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Schemas

namespace {

constexpr int kMaxDepth = 64;

struct SchemaParser {
  std::map<std::string, NodePtr> named;
  // Records whose fields are being parsed. A reference to one of them would make a recursive
  // type: a cycle of shared pointers that is never freed, and a decoder that recurses as deep
  // as hostile data asks. Iceberg's schemas never recurse, so such schemas are refused.
  std::set<std::string> records_in_progress;

  static std::string FullName(const std::string& name, const std::string& space) {
    if (name.find('.') != std::string::npos || space.empty()) return name;
    return space + "." + name;
  }

  Result<NodePtr> Parse(const nlohmann::json& value, const std::string& space,
                        const std::string& path, int depth) {
    if (depth > kMaxDepth) {
      return Status::InvalidArgument("Avro schema nests deeper than {} levels at {}", kMaxDepth,
                                     path);
    }
    if (value.is_string()) return Primitive(value.get<std::string>(), space, path);
    if (value.is_array()) {
      auto node = std::make_shared<Node>();
      node->kind = Kind::kUnion;
      for (size_t index = 0; index < value.size(); ++index) {
        MW_ASSIGN_OR_RETURN(NodePtr branch, Parse(value[index], space,
                                                  fmt::format("{}[{}]", path, index), depth + 1));
        node->branches.push_back(std::move(branch));
      }
      if (node->branches.empty()) return Status::InvalidArgument("{}: empty union", path);
      return NodePtr(node);
    }
    if (!value.is_object() || !value.contains("type")) {
      return Status::InvalidArgument(
          "{}: expected a type name, an array or an object with "
          "'type'",
          path);
    }
    const nlohmann::json& type = value["type"];
    if (!type.is_string()) return Parse(type, space, path + ".type", depth + 1);
    const std::string kind = type.get<std::string>();
    auto node = std::make_shared<Node>();
    for (const auto& [key, attribute] : value.items()) {
      if (key != "type" && key != "name" && key != "namespace" && key != "fields" &&
          key != "symbols" && key != "items" && key != "values" && key != "size") {
        node->attributes[key] = attribute;
      }
    }
    if (kind == "record" || kind == "error" || kind == "enum" || kind == "fixed") {
      if (!value.contains("name") || !value["name"].is_string()) {
        return Status::InvalidArgument("{}: a {} needs a name", path, kind);
      }
      std::string record_space = space;
      if (value.contains("namespace") && value["namespace"].is_string()) {
        record_space = value["namespace"].get<std::string>();
      }
      node->name = FullName(value["name"].get<std::string>(), record_space);
      const size_t dot = node->name.rfind('.');
      record_space = dot == std::string::npos ? "" : node->name.substr(0, dot);
      if (kind == "record" || kind == "error") {
        node->kind = Kind::kRecord;
        named[node->name] = node;
        records_in_progress.insert(node->name);
        if (!value.contains("fields") || !value["fields"].is_array()) {
          return Status::InvalidArgument("{}: record {} needs a 'fields' array", path, node->name);
        }
        std::set<std::string> names;
        for (size_t index = 0; index < value["fields"].size(); ++index) {
          const nlohmann::json& field_json = value["fields"][index];
          const std::string field_path = fmt::format("{}.fields[{}]", path, index);
          if (!field_json.is_object() || !field_json.contains("name") ||
              !field_json["name"].is_string() || !field_json.contains("type")) {
            return Status::InvalidArgument("{}: a field needs a name and a type", field_path);
          }
          Field field;
          field.name = field_json["name"].get<std::string>();
          if (!names.insert(field.name).second) {
            return Status::InvalidArgument("{}: duplicate field name '{}'", field_path, field.name);
          }
          MW_ASSIGN_OR_RETURN(
              field.type, Parse(field_json["type"], record_space, field_path + ".type", depth + 1));
          for (const auto& [key, attribute] : field_json.items()) {
            if (key != "name" && key != "type") field.attributes[key] = attribute;
          }
          if (auto id = field.attributes.find("field-id");
              id != field.attributes.end() && id->is_number_integer() &&
              id->get<int64_t>() >= INT32_MIN && id->get<int64_t>() <= INT32_MAX) {
            field.field_id = id->get<int32_t>();
          }
          node->fields.push_back(std::move(field));
        }
        records_in_progress.erase(node->name);
      } else if (kind == "enum") {
        node->kind = Kind::kEnum;
        if (!value.contains("symbols") || !value["symbols"].is_array()) {
          return Status::InvalidArgument("{}: enum {} needs 'symbols'", path, node->name);
        }
        for (const auto& symbol : value["symbols"]) {
          if (!symbol.is_string())
            return Status::InvalidArgument("{}: symbols must be strings", path);
          node->symbols.push_back(symbol.get<std::string>());
        }
        named[node->name] = node;
      } else {
        node->kind = Kind::kFixed;
        if (!value.contains("size") || !value["size"].is_number_integer() ||
            value["size"].get<int64_t>() < 0 || value["size"].get<int64_t>() > (1 << 20)) {
          return Status::InvalidArgument("{}: fixed {} needs a size of 0..1048576", path,
                                         node->name);
        }
        node->size = value["size"].get<int64_t>();
        named[node->name] = node;
      }
      return NodePtr(node);
    }
    if (kind == "array") {
      node->kind = Kind::kArray;
      if (!value.contains("items")) return Status::InvalidArgument("{}: array needs 'items'", path);
      MW_ASSIGN_OR_RETURN(node->items, Parse(value["items"], space, path + ".items", depth + 1));
      return NodePtr(node);
    }
    if (kind == "map") {
      node->kind = Kind::kMap;
      if (!value.contains("values")) return Status::InvalidArgument("{}: map needs 'values'", path);
      MW_ASSIGN_OR_RETURN(node->values, Parse(value["values"], space, path + ".values", depth + 1));
      return NodePtr(node);
    }
    // A primitive written as an object, e.g. {"type": "long", "logicalType": "timestamp-micros"}.
    MW_ASSIGN_OR_RETURN(NodePtr primitive, Primitive(kind, space, path));
    if (primitive->kind >= Kind::kRecord) return primitive;  // a named reference
    node->kind = primitive->kind;
    return NodePtr(node);
  }

  Result<NodePtr> Primitive(const std::string& name, const std::string& space,
                            const std::string& path) {
    static const std::map<std::string, Kind> kPrimitives = {
        {"null", Kind::kNull},   {"boolean", Kind::kBoolean}, {"int", Kind::kInt},
        {"long", Kind::kLong},   {"float", Kind::kFloat},     {"double", Kind::kDouble},
        {"bytes", Kind::kBytes}, {"string", Kind::kString}};
    if (auto it = kPrimitives.find(name); it != kPrimitives.end()) {
      auto node = std::make_shared<Node>();
      node->kind = it->second;
      return NodePtr(node);
    }
    for (const std::string& candidate : {FullName(name, space), name}) {
      auto it = named.find(candidate);
      if (it == named.end()) continue;
      if (records_in_progress.contains(candidate)) {
        return Status::InvalidArgument(
                   "{}: record '{}' refers to itself; recursive Avro types are not supported", path,
                   candidate.substr(0, 100))
            .WithHint("Iceberg manifests never use recursive types; is this an Iceberg file?");
      }
      return it->second;
    }
    return Status::InvalidArgument("{}: unknown Avro type '{}'", path, name.substr(0, 100));
  }
};

}  // namespace

Result<NodePtr> SchemaFromJson(const nlohmann::json& value) {
  SchemaParser parser;
  return parser.Parse(value, "", "schema", 0);
}

Result<NodePtr> ParseSchemaCached(const std::string& json_text) {
  // A table's manifests share a handful of schemas; parsing the JSON of each again costs more
  // than decoding a small manifest. Parsed schemas are immutable, so sharing them is safe.
  static std::mutex mutex;
  static std::unordered_map<std::string, NodePtr> cache;
  constexpr size_t kMaxCached = 256;
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (auto it = cache.find(json_text); it != cache.end()) return it->second;
  }
  MW_ASSIGN_OR_RETURN(NodePtr schema, ParseSchema(json_text));
  std::lock_guard<std::mutex> lock(mutex);
  if (cache.size() >= kMaxCached) cache.clear();
  cache.emplace(json_text, schema);
  return schema;
}

Result<NodePtr> ParseSchema(std::string_view json_text) {
  nlohmann::json value = nlohmann::json::parse(json_text, nullptr, false);
  if (value.is_discarded()) {
    return Status::InvalidArgument("the Avro schema is not valid JSON");
  }
  return SchemaFromJson(value);
}

namespace {
nlohmann::json SchemaToJsonImpl(const Node& node, std::set<std::string>& defined) {
  static const char* kNames[] = {"null",   "boolean", "int",  "long",  "float", "double", "bytes",
                                 "string", "record",  "enum", "array", "map",   "union",  "fixed"};
  if (node.kind == Kind::kUnion) {
    nlohmann::json branches = nlohmann::json::array();
    for (const NodePtr& branch : node.branches)
      branches.push_back(SchemaToJsonImpl(*branch, defined));
    return branches;
  }
  const bool named_kind =
      node.kind == Kind::kRecord || node.kind == Kind::kEnum || node.kind == Kind::kFixed;
  if (named_kind && defined.contains(node.name)) return node.name;
  if (node.kind < Kind::kRecord && node.attributes.empty()) {
    return kNames[static_cast<int>(node.kind)];
  }
  nlohmann::json json = node.attributes;
  json["type"] = kNames[static_cast<int>(node.kind)];
  switch (node.kind) {
    case Kind::kRecord: {
      defined.insert(node.name);
      json["name"] = node.name;
      nlohmann::json fields = nlohmann::json::array();
      for (const Field& field : node.fields) {
        nlohmann::json entry = field.attributes;
        entry["name"] = field.name;
        entry["type"] = SchemaToJsonImpl(*field.type, defined);
        fields.push_back(std::move(entry));
      }
      json["fields"] = std::move(fields);
      break;
    }
    case Kind::kEnum:
      defined.insert(node.name);
      json["name"] = node.name;
      json["symbols"] = node.symbols;
      break;
    case Kind::kFixed:
      defined.insert(node.name);
      json["name"] = node.name;
      json["size"] = node.size;
      break;
    case Kind::kArray:
      json["items"] = SchemaToJsonImpl(*node.items, defined);
      break;
    case Kind::kMap:
      json["values"] = SchemaToJsonImpl(*node.values, defined);
      break;
    default:
      break;
  }
  return json;
}
}  // namespace

nlohmann::json SchemaToJson(const Node& node) {
  std::set<std::string> defined;
  return SchemaToJsonImpl(node, defined);
}

// ---------------------------------------------------------------------------------------------
// Binary encoding

namespace {

void WriteLong(int64_t value, std::string& out) {
  uint64_t zigzag = (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
  while (zigzag >= 0x80) {
    out += static_cast<char>((zigzag & 0x7f) | 0x80);
    zigzag >>= 7;
  }
  out += static_cast<char>(zigzag);
}

void WriteBytes(std::string_view bytes, std::string& out) {
  WriteLong(static_cast<int64_t>(bytes.size()), out);
  out.append(bytes);
}

template <typename T>
void WriteFixedWidth(T value, std::string& out) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // little-endian hosts only (x86-64, arm64)
  out.append(bytes, sizeof(T));
}

std::string_view ValueKindName(const Value& value) {
  static const char* kNames[] = {"null",   "boolean", "int",  "long",   "float", "double",
                                 "string", "bytes",   "enum", "record", "array", "map"};
  return kNames[value.data.index()];
}

// Whether `value` can be written as `branch` (for choosing a union branch).
bool Fits(const Node& branch, const Value& value) {
  switch (branch.kind) {
    case Kind::kNull:
      return value.is_null();
    case Kind::kBoolean:
      return value.get_if<bool>() != nullptr;
    case Kind::kInt:
      return value.get_if<int32_t>() != nullptr;
    case Kind::kLong:
      return value.get_if<int64_t>() || value.get_if<int32_t>();
    case Kind::kFloat:
      return value.get_if<float>() != nullptr;
    case Kind::kDouble:
      return value.get_if<double>() || value.get_if<float>();
    case Kind::kString:
      return value.get_if<std::string>() != nullptr;
    case Kind::kBytes:
    case Kind::kFixed:
      return value.get_if<Bytes>() != nullptr;
    case Kind::kEnum:
      return value.get_if<EnumSymbol>() != nullptr;
    case Kind::kRecord:
      return value.get_if<Record>() != nullptr;
    case Kind::kArray:
      return value.get_if<Array>() != nullptr;
    case Kind::kMap:
      return value.get_if<MapValue>() != nullptr;
    case Kind::kUnion:
      return false;
  }
  return false;
}

Status EncodeImpl(const Node& schema, const Value& value, std::string& out, int depth) {
  if (depth > kMaxDepth) return Status::InvalidArgument("value nests too deeply");
  auto mismatch = [&](std::string_view expected) {
    return Status::InvalidArgument("cannot write a {} value as Avro {}", ValueKindName(value),
                                   expected);
  };
  switch (schema.kind) {
    case Kind::kNull:
      return value.is_null() ? Status::OK() : mismatch("null");
    case Kind::kBoolean:
      if (auto* v = value.get_if<bool>()) return out += static_cast<char>(*v ? 1 : 0), Status::OK();
      return mismatch("boolean");
    case Kind::kInt:
      if (auto* v = value.get_if<int32_t>()) return WriteLong(*v, out), Status::OK();
      return mismatch("int");
    case Kind::kLong:
      if (auto* v = value.get_if<int64_t>()) return WriteLong(*v, out), Status::OK();
      if (auto* v = value.get_if<int32_t>()) return WriteLong(*v, out), Status::OK();
      return mismatch("long");
    case Kind::kFloat:
      if (auto* v = value.get_if<float>()) return WriteFixedWidth(*v, out), Status::OK();
      return mismatch("float");
    case Kind::kDouble:
      if (auto* v = value.get_if<double>()) return WriteFixedWidth(*v, out), Status::OK();
      if (auto* v = value.get_if<float>()) {
        return WriteFixedWidth(static_cast<double>(*v), out), Status::OK();
      }
      return mismatch("double");
    case Kind::kString:
      if (auto* v = value.get_if<std::string>()) return WriteBytes(*v, out), Status::OK();
      return mismatch("string");
    case Kind::kBytes:
      if (auto* v = value.get_if<Bytes>()) return WriteBytes(v->data, out), Status::OK();
      return mismatch("bytes");
    case Kind::kFixed:
      if (auto* v = value.get_if<Bytes>()) {
        if (static_cast<int64_t>(v->data.size()) != schema.size) {
          return Status::InvalidArgument("fixed {} needs {} bytes, got {}", schema.name,
                                         schema.size, v->data.size());
        }
        out += v->data;
        return Status::OK();
      }
      return mismatch("fixed");
    case Kind::kEnum:
      if (auto* v = value.get_if<EnumSymbol>()) {
        if (v->index < 0 || static_cast<size_t>(v->index) >= schema.symbols.size()) {
          return Status::InvalidArgument("enum {} has no symbol {}", schema.name, v->index);
        }
        return WriteLong(v->index, out), Status::OK();
      }
      return mismatch("enum");
    case Kind::kRecord: {
      const Record* record = value.get_if<Record>();
      if (record == nullptr) return mismatch("record " + schema.name);
      if (record->fields.size() != schema.fields.size()) {
        return Status::InvalidArgument("record {} has {} fields, the value {}", schema.name,
                                       schema.fields.size(), record->fields.size());
      }
      for (size_t index = 0; index < schema.fields.size(); ++index) {
        Status status =
            EncodeImpl(*schema.fields[index].type, record->fields[index], out, depth + 1);
        if (!status.ok()) {
          return std::move(status).WithContext(
              fmt::format("field {}.{}", schema.name, schema.fields[index].name));
        }
      }
      return Status::OK();
    }
    case Kind::kArray: {
      const Array* array = value.get_if<Array>();
      if (array == nullptr) return mismatch("array");
      if (!array->items.empty()) {
        WriteLong(static_cast<int64_t>(array->items.size()), out);
        for (const Value& item : array->items)
          MW_RETURN_IF_ERROR(EncodeImpl(*schema.items, item, out, depth + 1));
      }
      WriteLong(0, out);
      return Status::OK();
    }
    case Kind::kMap: {
      const MapValue* map = value.get_if<MapValue>();
      if (map == nullptr) return mismatch("map");
      if (!map->entries.empty()) {
        WriteLong(static_cast<int64_t>(map->entries.size()), out);
        for (const auto& [key, item] : map->entries) {
          WriteBytes(key, out);
          MW_RETURN_IF_ERROR(EncodeImpl(*schema.values, item, out, depth + 1));
        }
      }
      WriteLong(0, out);
      return Status::OK();
    }
    case Kind::kUnion:
      for (size_t index = 0; index < schema.branches.size(); ++index) {
        if (Fits(*schema.branches[index], value)) {
          WriteLong(static_cast<int64_t>(index), out);
          return EncodeImpl(*schema.branches[index], value, out, depth + 1);
        }
      }
      return mismatch("union");
  }
  return Status::Internal("unknown Avro kind");
}

class Decoder {
 public:
  Decoder(std::string_view bytes, size_t offset, const std::set<int32_t>* skipped = nullptr)
      : bytes_(bytes), offset_(offset), skipped_(skipped) {}
  size_t offset() const { return offset_; }

  Status Truncated(std::string_view what) const {
    return Status::InvalidArgument("truncated Avro data: {} at byte {} of {}", what, offset_,
                                   bytes_.size());
  }

  Result<int64_t> Long() {
    uint64_t result = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (offset_ >= bytes_.size()) return Truncated("varint");
      const auto byte = static_cast<uint8_t>(bytes_[offset_++]);
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        return static_cast<int64_t>((result >> 1) ^ (~(result & 1) + 1));
      }
    }
    return Status::InvalidArgument("malformed Avro varint at byte {}", offset_);
  }
  Result<std::string_view> Take(int64_t length, std::string_view what) {
    if (length < 0) {
      return Status::InvalidArgument("negative length {} for {} at byte {}", length, what, offset_);
    }
    if (static_cast<uint64_t>(length) > bytes_.size() - offset_) return Truncated(what);
    std::string_view taken = bytes_.substr(offset_, static_cast<size_t>(length));
    offset_ += static_cast<size_t>(length);
    return taken;
  }
  Result<std::string_view> LengthPrefixed(std::string_view what) {
    MW_ASSIGN_OR_RETURN(int64_t length, Long());
    return Take(length, what);
  }

  // Moves past a value without building it (fields the caller does not need).
  Status Skip(const Node& schema, int depth) {
    if (depth > kMaxDepth) return Status::InvalidArgument("Avro value nests too deeply");
    switch (schema.kind) {
      case Kind::kNull:
        return Status::OK();
      case Kind::kBoolean:
        return Take(1, "boolean").status();
      case Kind::kInt:
      case Kind::kLong:
      case Kind::kEnum:
        return Long().status();
      case Kind::kFloat:
        return Take(4, "float").status();
      case Kind::kDouble:
        return Take(8, "double").status();
      case Kind::kString:
      case Kind::kBytes:
        return LengthPrefixed("string or bytes").status();
      case Kind::kFixed:
        return Take(schema.size, "fixed").status();
      case Kind::kRecord:
        for (const Field& field : schema.fields)
          MW_RETURN_IF_ERROR(Skip(*field.type, depth + 1));
        return Status::OK();
      case Kind::kArray:
      case Kind::kMap:
        while (true) {
          MW_ASSIGN_OR_RETURN(int64_t count, Long());
          if (count == 0) return Status::OK();
          if (count < 0) {
            if (count == INT64_MIN) return Status::InvalidArgument("bad block count");
            // A negative count comes with the block's size: skip it whole.
            MW_ASSIGN_OR_RETURN(int64_t block_bytes, Long());
            MW_RETURN_IF_ERROR(Take(block_bytes, "array or map block").status());
            continue;
          }
          const Node& item_type = schema.kind == Kind::kArray ? *schema.items : *schema.values;
          if (item_type.kind != Kind::kNull &&
              static_cast<uint64_t>(count) > bytes_.size() - offset_) {
            return Truncated("array or map block");
          }
          for (int64_t index = 0; index < count; ++index) {
            if (schema.kind == Kind::kMap) MW_RETURN_IF_ERROR(LengthPrefixed("map key").status());
            MW_RETURN_IF_ERROR(Skip(item_type, depth + 1));
          }
        }
      case Kind::kUnion: {
        MW_ASSIGN_OR_RETURN(int64_t branch, Long());
        if (branch < 0 || static_cast<size_t>(branch) >= schema.branches.size()) {
          return Status::InvalidArgument("union branch {} does not exist (byte {})", branch,
                                         offset_);
        }
        return Skip(*schema.branches[static_cast<size_t>(branch)], depth + 1);
      }
    }
    return Status::Internal("unknown Avro kind");
  }

  Result<Value> Read(const Node& schema, int depth) {
    if (depth > kMaxDepth) return Status::InvalidArgument("Avro value nests too deeply");
    switch (schema.kind) {
      case Kind::kNull:
        return Value();
      case Kind::kBoolean: {
        MW_ASSIGN_OR_RETURN(std::string_view byte, Take(1, "boolean"));
        if (byte[0] != 0 && byte[0] != 1) {
          return Status::InvalidArgument("invalid boolean byte at {}", offset_ - 1);
        }
        return Value(byte[0] == 1);
      }
      case Kind::kInt: {
        MW_ASSIGN_OR_RETURN(int64_t value, Long());
        if (value < INT32_MIN || value > INT32_MAX) {
          return Status::InvalidArgument("int out of range at byte {}", offset_);
        }
        return Value(static_cast<int32_t>(value));
      }
      case Kind::kLong: {
        MW_ASSIGN_OR_RETURN(int64_t value, Long());
        return Value(value);
      }
      case Kind::kFloat: {
        MW_ASSIGN_OR_RETURN(std::string_view raw, Take(4, "float"));
        float value;
        std::memcpy(&value, raw.data(), 4);
        return Value(value);
      }
      case Kind::kDouble: {
        MW_ASSIGN_OR_RETURN(std::string_view raw, Take(8, "double"));
        double value;
        std::memcpy(&value, raw.data(), 8);
        return Value(value);
      }
      case Kind::kString: {
        MW_ASSIGN_OR_RETURN(std::string_view text, LengthPrefixed("string"));
        return Value(std::string(text));
      }
      case Kind::kBytes: {
        MW_ASSIGN_OR_RETURN(std::string_view raw, LengthPrefixed("bytes"));
        return Value(Bytes{std::string(raw)});
      }
      case Kind::kFixed: {
        MW_ASSIGN_OR_RETURN(std::string_view raw, Take(schema.size, "fixed"));
        return Value(Bytes{std::string(raw)});
      }
      case Kind::kEnum: {
        MW_ASSIGN_OR_RETURN(int64_t index, Long());
        if (index < 0 || static_cast<size_t>(index) >= schema.symbols.size()) {
          return Status::InvalidArgument("enum {} has no symbol {} (byte {})", schema.name, index,
                                         offset_);
        }
        return Value(EnumSymbol{static_cast<int32_t>(index)});
      }
      case Kind::kRecord: {
        Record record;
        record.fields.reserve(schema.fields.size());
        for (const Field& field : schema.fields) {
          if (skipped_ != nullptr && field.field_id >= 0 && skipped_->contains(field.field_id)) {
            Status skipped = Skip(*field.type, depth + 1);
            if (!skipped.ok()) {
              return std::move(skipped).WithContext(
                  fmt::format("field {}.{}", schema.name, field.name));
            }
            record.fields.emplace_back();
            continue;
          }
          auto value = Read(*field.type, depth + 1);
          if (!value.ok()) {
            return std::move(value).error().WithContext(
                fmt::format("field {}.{}", schema.name, field.name));
          }
          record.fields.push_back(std::move(*value));
        }
        return Value(std::move(record));
      }
      case Kind::kArray:
      case Kind::kMap: {
        Array array;
        MapValue map;
        while (true) {
          MW_ASSIGN_OR_RETURN(int64_t count, Long());
          if (count == 0) break;
          if (count < 0) {
            if (count == INT64_MIN) return Status::InvalidArgument("bad block count");
            count = -count;
            MW_ASSIGN_OR_RETURN(int64_t block_bytes, Long());
            (void)block_bytes;
          }
          // Every item takes at least one byte unless its type is null: bound the count by the
          // bytes left so a hostile count cannot make us allocate or loop without end.
          const Node& item_type = schema.kind == Kind::kArray ? *schema.items : *schema.values;
          const uint64_t remaining = bytes_.size() - offset_;
          if (item_type.kind != Kind::kNull && static_cast<uint64_t>(count) > remaining) {
            return Truncated("array or map block");
          }
          if (static_cast<uint64_t>(count) > (uint64_t{1} << 26)) {
            return Status::InvalidArgument("array or map block of {} items is too large", count);
          }
          for (int64_t index = 0; index < count; ++index) {
            if (schema.kind == Kind::kArray) {
              MW_ASSIGN_OR_RETURN(Value item, Read(item_type, depth + 1));
              array.items.push_back(std::move(item));
            } else {
              MW_ASSIGN_OR_RETURN(std::string_view key, LengthPrefixed("map key"));
              MW_ASSIGN_OR_RETURN(Value item, Read(item_type, depth + 1));
              map.entries.emplace_back(std::string(key), std::move(item));
            }
          }
        }
        if (schema.kind == Kind::kArray) return Value(std::move(array));
        return Value(std::move(map));
      }
      case Kind::kUnion: {
        MW_ASSIGN_OR_RETURN(int64_t branch, Long());
        if (branch < 0 || static_cast<size_t>(branch) >= schema.branches.size()) {
          return Status::InvalidArgument("union branch {} does not exist (byte {})", branch,
                                         offset_);
        }
        return Read(*schema.branches[static_cast<size_t>(branch)], depth + 1);
      }
    }
    return Status::Internal("unknown Avro kind");
  }

 private:
  std::string_view bytes_;
  size_t offset_;
  const std::set<int32_t>* skipped_ = nullptr;
};

}  // namespace

Status Encode(const Node& schema, const Value& value, std::string& out) {
  return EncodeImpl(schema, value, out, 0);
}

Result<Value> Decode(const Node& schema, std::string_view bytes, size_t& offset,
                     const std::set<int32_t>* skipped) {
  Decoder decoder(bytes, offset, skipped);
  MW_ASSIGN_OR_RETURN(Value value, decoder.Read(schema, 0));
  offset = decoder.offset();
  return value;
}

// ---------------------------------------------------------------------------------------------
// Codecs

namespace {

constexpr std::string_view kMagic("Obj\x01", 4);
constexpr size_t kMaxBlockBytes = size_t{1} << 30;

std::string_view CodecName(Codec codec) {
  switch (codec) {
    case Codec::kNull:
      return "null";
    case Codec::kDeflate:
      return "deflate";
    case Codec::kSnappy:
      return "snappy";
    case Codec::kZstd:
      return "zstandard";
  }
  return "null";
}

Result<std::string> Compress(Codec codec, const std::string& data) {
  switch (codec) {
    case Codec::kNull:
      return data;
    case Codec::kDeflate: {
      z_stream stream{};
      // Avro's deflate is raw (no zlib header): negative window bits.
      if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) !=
          Z_OK) {
        return Status::Internal("deflateInit2 failed");
      }
      std::string out(deflateBound(&stream, data.size()), '\0');
      stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
      stream.avail_in = static_cast<uInt>(data.size());
      stream.next_out = reinterpret_cast<Bytef*>(out.data());
      stream.avail_out = static_cast<uInt>(out.size());
      const int result = deflate(&stream, Z_FINISH);
      out.resize(stream.total_out);
      deflateEnd(&stream);
      if (result != Z_STREAM_END) return Status::Internal("deflate failed");
      return out;
    }
    case Codec::kSnappy: {
      size_t length = snappy_max_compressed_length(data.size());
      std::string out(length + 4, '\0');
      if (snappy_compress(data.data(), data.size(), out.data(), &length) != SNAPPY_OK) {
        return Status::Internal("snappy compression failed");
      }
      // Avro appends the big-endian CRC32 of the uncompressed data.
      const uint32_t crc = static_cast<uint32_t>(
          crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
      out.resize(length);
      for (int shift = 24; shift >= 0; shift -= 8)
        out += static_cast<char>((crc >> shift) & 0xff);
      return out;
    }
    case Codec::kZstd: {
      std::string out(ZSTD_compressBound(data.size()), '\0');
      const size_t length = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
      if (ZSTD_isError(length)) return Status::Internal("zstd compression failed");
      out.resize(length);
      return out;
    }
  }
  return Status::Internal("unknown codec");
}

Result<std::string> Decompress(Codec codec, std::string_view data) {
  switch (codec) {
    case Codec::kNull:
      return std::string(data);
    case Codec::kDeflate: {
      z_stream stream{};
      if (inflateInit2(&stream, -15) != Z_OK) return Status::Internal("inflateInit2 failed");
      stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
      stream.avail_in = static_cast<uInt>(data.size());
      std::string out;
      char buffer[1 << 16];
      int result = Z_OK;
      while (result != Z_STREAM_END) {
        stream.next_out = reinterpret_cast<Bytef*>(buffer);
        stream.avail_out = sizeof(buffer);
        result = inflate(&stream, Z_NO_FLUSH);
        if (result != Z_OK && result != Z_STREAM_END) {
          inflateEnd(&stream);
          return Status::InvalidArgument("corrupt deflate data ({})",
                                         stream.msg ? stream.msg : "no detail");
        }
        out.append(buffer, sizeof(buffer) - stream.avail_out);
        if (out.size() > kMaxBlockBytes) {
          inflateEnd(&stream);
          return Status::InvalidArgument("a block inflates to more than 1 GiB");
        }
        if (result == Z_OK && stream.avail_in == 0 && stream.avail_out != 0) {
          inflateEnd(&stream);
          return Status::InvalidArgument("truncated deflate data");
        }
      }
      inflateEnd(&stream);
      return out;
    }
    case Codec::kSnappy: {
      if (data.size() < 4) return Status::InvalidArgument("snappy block shorter than its CRC");
      const std::string_view compressed = data.substr(0, data.size() - 4);
      size_t length = 0;
      if (snappy_uncompressed_length(compressed.data(), compressed.size(), &length) != SNAPPY_OK ||
          length > kMaxBlockBytes) {
        return Status::InvalidArgument("corrupt snappy block");
      }
      std::string out(length, '\0');
      if (snappy_uncompress(compressed.data(), compressed.size(), out.data(), &length) !=
          SNAPPY_OK) {
        return Status::InvalidArgument("corrupt snappy block");
      }
      out.resize(length);
      uint32_t expected = 0;
      for (size_t index = data.size() - 4; index < data.size(); ++index)
        expected = (expected << 8) | static_cast<uint8_t>(data[index]);
      const uint32_t actual = static_cast<uint32_t>(
          crc32(0, reinterpret_cast<const Bytef*>(out.data()), static_cast<uInt>(out.size())));
      if (expected != actual) return Status::InvalidArgument("snappy block CRC mismatch");
      return out;
    }
    case Codec::kZstd: {
      ZSTD_DStream* stream = ZSTD_createDStream();
      std::string out;
      ZSTD_inBuffer input{data.data(), data.size(), 0};
      char buffer[1 << 16];
      size_t result = 1;
      while (input.pos < input.size) {
        ZSTD_outBuffer output{buffer, sizeof(buffer), 0};
        result = ZSTD_decompressStream(stream, &output, &input);
        if (ZSTD_isError(result)) {
          ZSTD_freeDStream(stream);
          return Status::InvalidArgument("corrupt zstd block ({})", ZSTD_getErrorName(result));
        }
        out.append(buffer, output.pos);
        if (out.size() > kMaxBlockBytes) {
          ZSTD_freeDStream(stream);
          return Status::InvalidArgument("a block decompresses to more than 1 GiB");
        }
      }
      ZSTD_freeDStream(stream);
      if (result != 0) return Status::InvalidArgument("truncated zstd block");
      return out;
    }
  }
  return Status::Internal("unknown codec");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Container files

FileWriter::FileWriter(NodePtr schema, Codec codec, std::map<std::string, std::string> metadata,
                       size_t records_per_block)
    : schema_(std::move(schema)), codec_(codec), records_per_block_(records_per_block) {
  std::string uuid_bytes;
  for (int half = 0; half < 2; ++half) {
    const auto bytes = Uuid::V4().bytes();
    uuid_bytes.append(reinterpret_cast<const char*>(bytes.data()), 8);
  }
  sync_ = uuid_bytes.substr(0, 16);
  metadata["avro.schema"] = SchemaToJson(*schema_).dump();
  metadata["avro.codec"] = std::string(CodecName(codec_));
  out_.append(kMagic);
  WriteLong(static_cast<int64_t>(metadata.size()), out_);
  for (const auto& [key, value] : metadata) {
    WriteBytes(key, out_);
    WriteBytes(value, out_);
  }
  WriteLong(0, out_);
  out_ += sync_;
}

Status FileWriter::Append(const Value& record) {
  MW_RETURN_IF_ERROR(Encode(*schema_, record, block_));
  ++records_;
  if (++block_records_ >= records_per_block_) return FlushBlock();
  return Status::OK();
}

Status FileWriter::FlushBlock() {
  if (block_records_ == 0) return Status::OK();
  MW_ASSIGN_OR_RETURN(std::string compressed, Compress(codec_, block_));
  WriteLong(static_cast<int64_t>(block_records_), out_);
  WriteBytes(compressed, out_);
  out_ += sync_;
  block_.clear();
  block_records_ = 0;
  return Status::OK();
}

Result<std::string> FileWriter::Finish() {
  MW_RETURN_IF_ERROR(FlushBlock());
  return std::move(out_);
}

Result<FileReader> FileReader::Open(std::string_view bytes, std::string name) {
  FileReader reader;
  reader.bytes_ = bytes;
  reader.name_ = std::move(name);
  auto fail = [&](Status status) {
    return std::move(status)
        .WithResource(reader.name_)
        .WithContext(fmt::format("cannot read Avro file {}", reader.name_));
  };
  if (!bytes.starts_with(kMagic)) {
    return fail(Status::InvalidArgument("not an Avro object container file (bad magic bytes)"));
  }
  Decoder decoder(bytes, kMagic.size());
  while (true) {
    auto count = decoder.Long();
    if (!count.ok()) return fail(count.error());
    if (*count == 0) break;
    int64_t entries = *count;
    if (entries < 0) {
      entries = entries == INT64_MIN ? 0 : -entries;
      if (auto size = decoder.Long(); !size.ok()) return fail(size.error());
    }
    if (static_cast<uint64_t>(entries) > bytes.size()) {
      return fail(Status::InvalidArgument("header claims {} metadata entries", entries));
    }
    for (int64_t index = 0; index < entries; ++index) {
      auto key = decoder.LengthPrefixed("metadata key");
      if (!key.ok()) return fail(key.error());
      auto value = decoder.LengthPrefixed("metadata value");
      if (!value.ok()) return fail(value.error());
      reader.metadata_[std::string(*key)] = std::string(*value);
    }
  }
  auto sync = decoder.Take(16, "sync marker");
  if (!sync.ok()) return fail(sync.error());
  reader.sync_ = std::string(*sync);
  reader.offset_ = decoder.offset();
  auto schema_text = reader.Metadata("avro.schema");
  if (!schema_text) return fail(Status::InvalidArgument("the header has no avro.schema"));
  auto schema = ParseSchemaCached(*schema_text);
  if (!schema.ok()) return fail(schema.error());
  reader.schema_ = *schema;
  const std::string codec = reader.Metadata("avro.codec").value_or("null");
  if (codec == "null") {
    reader.codec_ = Codec::kNull;
  } else if (codec == "deflate") {
    reader.codec_ = Codec::kDeflate;
  } else if (codec == "snappy") {
    reader.codec_ = Codec::kSnappy;
  } else if (codec == "zstandard") {
    reader.codec_ = Codec::kZstd;
  } else {
    return fail(Status::NotImplemented("unknown Avro codec '{}'", codec.substr(0, 50))
                    .WithHint("supported codecs: null, deflate, snappy, zstandard"));
  }
  return reader;
}

std::optional<std::string> FileReader::Metadata(const std::string& key) const {
  auto it = metadata_.find(key);
  if (it == metadata_.end()) return std::nullopt;
  return it->second;
}

Status FileReader::LoadBlock() {
  Decoder decoder(bytes_, offset_);
  MW_ASSIGN_OR_RETURN(int64_t count, decoder.Long());
  MW_ASSIGN_OR_RETURN(std::string_view data, decoder.LengthPrefixed("block"));
  MW_ASSIGN_OR_RETURN(std::string_view sync, decoder.Take(16, "sync marker"));
  ++block_index_;
  if (sync != sync_) {
    return Status::InvalidArgument("sync marker mismatch after block {} at byte {}", block_index_,
                                   decoder.offset() - 16);
  }
  if (count < 0 || static_cast<uint64_t>(count) > kMaxBlockBytes) {
    return Status::InvalidArgument("block {} claims {} records", block_index_, count);
  }
  auto decompressed = Decompress(codec_, data);
  if (!decompressed.ok()) {
    return std::move(decompressed).error().WithContext(fmt::format("block {}", block_index_));
  }
  block_ = std::move(*decompressed);
  block_offset_ = 0;
  block_remaining_ = count;
  offset_ = decoder.offset();
  return Status::OK();
}

Result<std::optional<Value>> FileReader::Next() {
  while (block_remaining_ == 0) {
    if (offset_ >= bytes_.size()) return std::optional<Value>();
    Status loaded = LoadBlock();
    if (!loaded.ok()) {
      return std::move(loaded).WithResource(name_).WithContext(
          fmt::format("cannot read Avro file {}", name_));
    }
  }
  auto value = Decode(*schema_, block_, block_offset_, skipped_.empty() ? nullptr : &skipped_);
  if (!value.ok()) {
    return std::move(value).error().WithResource(name_).WithContext(
        fmt::format("cannot read Avro file {} (block {})", name_, block_index_));
  }
  --block_remaining_;
  return std::optional<Value>(std::move(*value));
}

Result<std::vector<Value>> FileReader::ReadAll() {
  std::vector<Value> records;
  while (true) {
    MW_ASSIGN_OR_RETURN(std::optional<Value> record, Next());
    if (!record) return records;
    records.push_back(std::move(*record));
  }
}

}  // namespace meshwork::iceberg::avro
