#include "iceberg/schema.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>

#include "iceberg/json_reader.h"

namespace meshwork::iceberg {
namespace {

constexpr int kMaxNestingDepth = 64;

struct IndexBuilder {
  std::unordered_map<int32_t, const NestedField*>& by_id;
  std::unordered_map<std::string, int32_t>& id_by_name;
  std::unordered_map<int32_t, std::string>& name_by_id;
  int32_t highest = 0;

  Status Visit(const Type& type, const std::string& prefix, int depth) {
    if (depth > kMaxNestingDepth) {
      return Status::InvalidArgument("schema nests deeper than {} levels at '{}'", kMaxNestingDepth,
                                     prefix);
    }
    std::set<std::string_view> names;
    for (const NestedField& field : type.fields()) {
      if (field.id < 0) {
        return Status::InvalidArgument("field '{}{}' has a negative id {}", prefix, field.name,
                                       field.id);
      }
      if (!by_id.emplace(field.id, &field).second) {
        return Status::InvalidArgument("field id {} is used by both '{}' and '{}{}'", field.id,
                                       name_by_id[field.id], prefix, field.name)
            .WithHint("every field, list element and map key/value needs its own id");
      }
      if (type.kind() == TypeKind::kStruct && !names.insert(field.name).second) {
        return Status::InvalidArgument("two fields are named '{}{}'", prefix, field.name);
      }
      if (field.type == nullptr) {
        return Status::InvalidArgument("field '{}{}' has no type", prefix, field.name);
      }
      const std::string name = prefix + field.name;
      id_by_name.emplace(name, field.id);
      name_by_id.emplace(field.id, name);
      highest = std::max(highest, field.id);
      if (field.type->is_nested()) MW_RETURN_IF_ERROR(Visit(*field.type, name + ".", depth + 1));
    }
    return Status::OK();
  }
};

}  // namespace

Result<Schema> Schema::Make(int32_t schema_id, std::vector<NestedField> fields,
                            std::vector<int32_t> identifier_field_ids) {
  Schema schema;
  schema.schema_id_ = schema_id;
  schema.struct_ = Type::Struct(std::move(fields));
  IndexBuilder builder{schema.by_id_, schema.id_by_name_, schema.name_by_id_};
  MW_RETURN_IF_ERROR(builder.Visit(*schema.struct_, "", 0));
  schema.highest_field_id_ = builder.highest;
  for (int32_t id : identifier_field_ids) {
    const NestedField* field = schema.FindField(id);
    if (field == nullptr) {
      return Status::InvalidArgument("identifier field id {} is not a field of the schema", id);
    }
    const std::string& name = schema.name_by_id_[id];
    if (!field->required) {
      return Status::InvalidArgument("identifier field '{}' must be required", name)
          .WithHint("make the column NOT NULL or remove it from the identifier fields");
    }
    if (!field->type->is_primitive() || field->type->kind() == TypeKind::kFloat ||
        field->type->kind() == TypeKind::kDouble) {
      return Status::InvalidArgument(
          "identifier field '{}' has type {}; identifier fields must be primitive and not "
          "float or double",
          name, field->type->ToString());
    }
    // Every enclosing field must be a required struct (not a list or map).
    for (size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1)) {
      const NestedField* parent = schema.FindField(std::string_view(name).substr(0, dot));
      if (parent == nullptr || parent->type->kind() != TypeKind::kStruct || !parent->required) {
        return Status::InvalidArgument(
            "identifier field '{}' is nested in a list, a map or an optional struct", name);
      }
    }
  }
  schema.identifier_field_ids_ = std::move(identifier_field_ids);
  return schema;
}

const NestedField* Schema::FindField(int32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

const NestedField* Schema::FindField(std::string_view name) const {
  auto it = id_by_name_.find(std::string(name));
  return it == id_by_name_.end() ? nullptr : FindField(it->second);
}

std::string Schema::FullName(int32_t id) const {
  auto it = name_by_id_.find(id);
  return it == name_by_id_.end() ? "" : it->second;
}

bool Schema::SameStructure(const Schema& other) const {
  return *struct_ == *other.struct_ && identifier_field_ids_ == other.identifier_field_ids_;
}

namespace {

Result<TypePtr> TypeFromJsonAt(const nlohmann::json& value, const std::string& path, int depth);

Result<NestedField> FieldFromJson(const nlohmann::json& value, const std::string& path, int depth) {
  MW_ASSIGN_OR_RETURN(auto reader, json::ObjectReader::Make(value, path));
  NestedField field;
  MW_ASSIGN_OR_RETURN(field.id, reader.RequiredInt("id"));
  MW_ASSIGN_OR_RETURN(field.name, reader.RequiredString("name"));
  MW_ASSIGN_OR_RETURN(field.required, reader.RequiredBool("required"));
  const nlohmann::json* type = reader.Find("type");
  if (type == nullptr) return reader.Missing("type");
  MW_ASSIGN_OR_RETURN(field.type, TypeFromJsonAt(*type, reader.PathOf("type"), depth + 1));
  MW_ASSIGN_OR_RETURN(auto doc, reader.OptionalString("doc"));
  field.doc = doc.value_or("");
  return field;
}

Result<TypePtr> TypeFromJsonAt(const nlohmann::json& value, const std::string& path, int depth) {
  if (depth > kMaxNestingDepth) {
    return Status::InvalidArgument("{}: types nest deeper than {} levels", path, kMaxNestingDepth);
  }
  if (value.is_string()) {
    auto type = Type::ParsePrimitive(value.get<std::string>());
    if (!type.ok()) return std::move(type).error().WithContext(path);
    return type;
  }
  MW_ASSIGN_OR_RETURN(auto reader, json::ObjectReader::Make(value, path));
  MW_ASSIGN_OR_RETURN(std::string kind, reader.RequiredString("type"));
  if (kind == "struct") {
    MW_ASSIGN_OR_RETURN(auto elements, reader.RequiredArray("fields"));
    std::vector<NestedField> fields;
    for (size_t index = 0; index < elements.size(); ++index) {
      MW_ASSIGN_OR_RETURN(
          NestedField field,
          FieldFromJson(*elements[index], json::IndexPath(reader.PathOf("fields"), index), depth));
      fields.push_back(std::move(field));
    }
    return Type::Struct(std::move(fields));
  }
  if (kind == "list") {
    MW_ASSIGN_OR_RETURN(int32_t element_id, reader.RequiredInt("element-id"));
    MW_ASSIGN_OR_RETURN(bool element_required, reader.RequiredBool("element-required"));
    const nlohmann::json* element = reader.Find("element");
    if (element == nullptr) return reader.Missing("element");
    MW_ASSIGN_OR_RETURN(TypePtr element_type,
                        TypeFromJsonAt(*element, reader.PathOf("element"), depth + 1));
    return Type::List(element_id, std::move(element_type), element_required);
  }
  if (kind == "map") {
    MW_ASSIGN_OR_RETURN(int32_t key_id, reader.RequiredInt("key-id"));
    MW_ASSIGN_OR_RETURN(int32_t value_id, reader.RequiredInt("value-id"));
    MW_ASSIGN_OR_RETURN(bool value_required, reader.RequiredBool("value-required"));
    const nlohmann::json* key = reader.Find("key");
    if (key == nullptr) return reader.Missing("key");
    const nlohmann::json* map_value = reader.Find("value");
    if (map_value == nullptr) return reader.Missing("value");
    MW_ASSIGN_OR_RETURN(TypePtr key_type, TypeFromJsonAt(*key, reader.PathOf("key"), depth + 1));
    MW_ASSIGN_OR_RETURN(TypePtr value_type,
                        TypeFromJsonAt(*map_value, reader.PathOf("value"), depth + 1));
    return Type::Map(key_id, std::move(key_type), value_id, std::move(value_type), value_required);
  }
  return reader.Invalid("type", fmt::format("unknown nested type '{}'", kind));
}

}  // namespace

Result<TypePtr> TypeFromJson(const nlohmann::json& value, const std::string& path) {
  return TypeFromJsonAt(value, path, 0);
}

nlohmann::json TypeToJson(const Type& type) {
  switch (type.kind()) {
    case TypeKind::kStruct: {
      nlohmann::json fields = nlohmann::json::array();
      for (const NestedField& field : type.fields()) {
        nlohmann::json json_field = {{"id", field.id},
                                     {"name", field.name},
                                     {"required", field.required},
                                     {"type", TypeToJson(*field.type)}};
        if (!field.doc.empty()) json_field["doc"] = field.doc;
        fields.push_back(std::move(json_field));
      }
      return {{"type", "struct"}, {"fields", std::move(fields)}};
    }
    case TypeKind::kList: {
      const NestedField& element = type.fields()[0];
      return {{"type", "list"},
              {"element-id", element.id},
              {"element", TypeToJson(*element.type)},
              {"element-required", element.required}};
    }
    case TypeKind::kMap: {
      const NestedField& key = type.fields()[0];
      const NestedField& value = type.fields()[1];
      return {{"type", "map"},
              {"key-id", key.id},
              {"key", TypeToJson(*key.type)},
              {"value-id", value.id},
              {"value", TypeToJson(*value.type)},
              {"value-required", value.required}};
    }
    default:
      return type.ToString();
  }
}

Result<Schema> SchemaFromJson(const nlohmann::json& value, const std::string& path,
                              int32_t default_schema_id) {
  MW_ASSIGN_OR_RETURN(auto reader, json::ObjectReader::Make(value, path));
  MW_ASSIGN_OR_RETURN(std::string kind, reader.RequiredString("type"));
  if (kind != "struct") {
    return reader.Invalid("type", fmt::format("a schema must be a struct, got '{}'", kind));
  }
  MW_ASSIGN_OR_RETURN(auto schema_id, reader.OptionalInt("schema-id"));
  MW_ASSIGN_OR_RETURN(auto identifier_ids, reader.IntList("identifier-field-ids"));
  MW_ASSIGN_OR_RETURN(TypePtr type, TypeFromJson(value, path));
  auto schema = Schema::Make(schema_id.value_or(default_schema_id), type->fields(),
                             std::move(identifier_ids));
  if (!schema.ok()) return std::move(schema).error().WithContext(path);
  return schema;
}

nlohmann::json SchemaToJson(const Schema& schema) {
  nlohmann::json json = TypeToJson(*schema.as_struct());
  json["schema-id"] = schema.schema_id();
  if (!schema.identifier_field_ids().empty()) {
    json["identifier-field-ids"] = schema.identifier_field_ids();
  }
  return json;
}

}  // namespace meshwork::iceberg
