#pragma once
// An Iceberg schema: a struct of fields with ids, the identifier fields, and its JSON form
// (spec Appendix C).

#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "iceberg/types.h"

namespace meshwork::iceberg {

class Schema {
 public:
  /// Validates: unique field ids across the whole schema, unique names within each struct, and
  /// identifier fields that exist and are required primitives (not float/double) outside
  /// lists and maps.
  static Result<Schema> Make(int32_t schema_id, std::vector<NestedField> fields,
                             std::vector<int32_t> identifier_field_ids = {});

  int32_t schema_id() const { return schema_id_; }
  const TypePtr& as_struct() const { return struct_; }
  const std::vector<NestedField>& fields() const { return struct_->fields(); }
  const std::vector<int32_t>& identifier_field_ids() const { return identifier_field_ids_; }

  /// Any field at any depth, by id; nullptr if absent.
  const NestedField* FindField(int32_t id) const;
  /// By full dotted name ("address.city", "tags.element", "props.key").
  const NestedField* FindField(std::string_view name) const;
  /// The dotted name of a field id ("" if absent).
  std::string FullName(int32_t id) const;
  /// The highest field id used anywhere in the schema (0 when empty).
  int32_t HighestFieldId() const { return highest_field_id_; }

  /// Same fields and identifier fields (the schema id is ignored).
  bool SameStructure(const Schema& other) const;

 private:
  Schema() = default;
  int32_t schema_id_ = 0;
  TypePtr struct_;
  std::vector<int32_t> identifier_field_ids_;
  std::unordered_map<int32_t, const NestedField*> by_id_;
  std::unordered_map<std::string, int32_t> id_by_name_;
  std::unordered_map<int32_t, std::string> name_by_id_;
  int32_t highest_field_id_ = 0;
};

/// The JSON of a type: "long", "decimal(9, 2)", or a struct/list/map object.
Result<TypePtr> TypeFromJson(const nlohmann::json& value, const std::string& path);
nlohmann::json TypeToJson(const Type& type);

/// A schema object {"type": "struct", "schema-id": .., "identifier-field-ids": .., "fields": ..}.
/// `default_schema_id` applies when the object has no "schema-id" (v1 "schema").
Result<Schema> SchemaFromJson(const nlohmann::json& value, const std::string& path,
                              int32_t default_schema_id = 0);
nlohmann::json SchemaToJson(const Schema& schema);

}  // namespace meshwork::iceberg
