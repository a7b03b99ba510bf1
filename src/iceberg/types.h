#pragma once
// Iceberg's type system (spec "Schemas and Data Types"): primitive types, and struct/list/map
// whose every field and element carries a field id. Value-semantic; nested types share their
// children through shared_ptr<const>, so copies are cheap.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace meshwork::iceberg {

enum class TypeKind : uint8_t {
  kBoolean,
  kInt,
  kLong,
  kFloat,
  kDouble,
  kDecimal,
  kDate,
  kTime,
  kTimestamp,    // microseconds, no zone
  kTimestampTz,  // microseconds, UTC
  kString,
  kUuid,
  kFixed,
  kBinary,
  kStruct,
  kList,
  kMap,
};

class Type;
using TypePtr = std::shared_ptr<const Type>;

/// A struct field, a list element or a map key/value.
struct NestedField {
  int32_t id = 0;
  std::string name;
  bool required = false;
  TypePtr type;
  std::string doc;  // empty = none
  bool operator==(const NestedField& other) const;
};

class Type {
 public:
  // Primitive constructors.
  static TypePtr Boolean();
  static TypePtr Int();
  static TypePtr Long();
  static TypePtr Float();
  static TypePtr Double();
  static TypePtr Decimal(int precision, int scale);
  static TypePtr Date();
  static TypePtr Time();
  static TypePtr Timestamp();
  static TypePtr TimestampTz();
  static TypePtr String();
  static TypePtr Uuid();
  static TypePtr Fixed(int length);
  static TypePtr Binary();
  // Nested constructors.
  static TypePtr Struct(std::vector<NestedField> fields);
  static TypePtr List(int32_t element_id, TypePtr element, bool element_required);
  static TypePtr Map(int32_t key_id, TypePtr key, int32_t value_id, TypePtr value,
                     bool value_required);

  /// Parses a primitive type name as the spec writes it in JSON: "long", "decimal(12, 2)",
  /// "fixed[16]", "timestamptz". v3-only names (timestamp_ns, variant, geometry, unknown, ...)
  /// give not_implemented ("not supported yet").
  static Result<TypePtr> ParsePrimitive(std::string_view name);

  /// Prefer the factories above; public so that std::make_shared can build types.
  explicit Type(TypeKind kind) : kind_(kind) {}

  TypeKind kind() const { return kind_; }
  bool is_primitive() const { return kind_ < TypeKind::kStruct; }
  bool is_nested() const { return !is_primitive(); }
  int precision() const { return precision_; }  // decimal
  int scale() const { return scale_; }          // decimal
  int length() const { return length_; }        // fixed
  /// Struct fields; for a list its element; for a map its key then value.
  const std::vector<NestedField>& fields() const { return fields_; }
  const NestedField* FieldById(int32_t id) const;
  const NestedField* FieldByName(std::string_view name) const;

  /// The spec's JSON spelling for primitives ("decimal(12, 2)", "fixed[16]"); for nested types a
  /// readable form such as "struct<1: id: required long>".
  std::string ToString() const;
  bool operator==(const Type& other) const;

 private:
  TypeKind kind_;
  int precision_ = 0;
  int scale_ = 0;
  int length_ = 0;
  std::vector<NestedField> fields_;
};

/// Whether `from` may be promoted to `to` by schema evolution (spec: int→long, float→double,
/// decimal(P,S)→decimal(P',S) with P' > P; identical types are trivially allowed).
bool IsPromotionAllowed(const Type& from, const Type& to);

}  // namespace meshwork::iceberg
