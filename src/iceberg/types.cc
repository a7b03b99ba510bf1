#include "iceberg/types.h"

#include <fmt/format.h>

#include <array>
#include <charconv>

namespace meshwork::iceberg {

bool NestedField::operator==(const NestedField& other) const {
  return id == other.id && name == other.name && required == other.required && doc == other.doc &&
         (type == other.type || (type && other.type && *type == *other.type));
}

namespace {
// One shared immutable instance per parameterless primitive type.
TypePtr Singleton(TypeKind kind) {
  static const std::array<TypePtr, 14> kInstances = [] {
    std::array<TypePtr, 14> instances;
    for (size_t index = 0; index < instances.size(); ++index) {
      instances[index] = std::make_shared<const Type>(static_cast<TypeKind>(index));
    }
    return instances;
  }();
  return kInstances[static_cast<size_t>(kind)];
}
}  // namespace

TypePtr Type::Boolean() {
  return Singleton(TypeKind::kBoolean);
}
TypePtr Type::Int() {
  return Singleton(TypeKind::kInt);
}
TypePtr Type::Long() {
  return Singleton(TypeKind::kLong);
}
TypePtr Type::Float() {
  return Singleton(TypeKind::kFloat);
}
TypePtr Type::Double() {
  return Singleton(TypeKind::kDouble);
}
TypePtr Type::Date() {
  return Singleton(TypeKind::kDate);
}
TypePtr Type::Time() {
  return Singleton(TypeKind::kTime);
}
TypePtr Type::Timestamp() {
  return Singleton(TypeKind::kTimestamp);
}
TypePtr Type::TimestampTz() {
  return Singleton(TypeKind::kTimestampTz);
}
TypePtr Type::String() {
  return Singleton(TypeKind::kString);
}
TypePtr Type::Uuid() {
  return Singleton(TypeKind::kUuid);
}
TypePtr Type::Binary() {
  return Singleton(TypeKind::kBinary);
}

TypePtr Type::Decimal(int precision, int scale) {
  auto type = std::make_shared<Type>(TypeKind::kDecimal);
  type->precision_ = precision;
  type->scale_ = scale;
  return type;
}

TypePtr Type::Fixed(int length) {
  auto type = std::make_shared<Type>(TypeKind::kFixed);
  type->length_ = length;
  return type;
}

TypePtr Type::Struct(std::vector<NestedField> fields) {
  auto type = std::make_shared<Type>(TypeKind::kStruct);
  type->fields_ = std::move(fields);
  return type;
}

TypePtr Type::List(int32_t element_id, TypePtr element, bool element_required) {
  auto type = std::make_shared<Type>(TypeKind::kList);
  type->fields_.push_back({element_id, "element", element_required, std::move(element), ""});
  return type;
}

TypePtr Type::Map(int32_t key_id, TypePtr key, int32_t value_id, TypePtr value,
                  bool value_required) {
  auto type = std::make_shared<Type>(TypeKind::kMap);
  type->fields_.push_back({key_id, "key", true, std::move(key), ""});
  type->fields_.push_back({value_id, "value", value_required, std::move(value), ""});
  return type;
}

namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ')
    text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ')
    text.remove_suffix(1);
  return text;
}

bool ParseInt(std::string_view text, int& out) {
  text = Trim(text);
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

Result<TypePtr> Type::ParsePrimitive(std::string_view name) {
  const std::string_view text = Trim(name);
  static const std::array<std::pair<std::string_view, TypeKind>, 12> kSimple = {{
      {"boolean", TypeKind::kBoolean},
      {"int", TypeKind::kInt},
      {"long", TypeKind::kLong},
      {"float", TypeKind::kFloat},
      {"double", TypeKind::kDouble},
      {"date", TypeKind::kDate},
      {"time", TypeKind::kTime},
      {"timestamp", TypeKind::kTimestamp},
      {"timestamptz", TypeKind::kTimestampTz},
      {"string", TypeKind::kString},
      {"uuid", TypeKind::kUuid},
      {"binary", TypeKind::kBinary},
  }};
  for (const auto& [spelling, kind] : kSimple) {
    if (text == spelling) return Singleton(kind);
  }
  if (text.starts_with("decimal(") && text.ends_with(")")) {
    const std::string_view inner = text.substr(8, text.size() - 9);
    const size_t comma = inner.find(',');
    int precision = 0, scale = 0;
    if (comma == std::string_view::npos || !ParseInt(inner.substr(0, comma), precision) ||
        !ParseInt(inner.substr(comma + 1), scale)) {
      return Status::InvalidArgument("cannot parse decimal type '{}'", text)
          .WithHint("write decimal(P, S), e.g. decimal(12, 2)");
    }
    if (precision < 1 || precision > 38 || scale < 0 || scale > precision) {
      return Status::InvalidArgument(
                 "decimal({}, {}) is out of range: precision must be 1..38 and scale 0..precision",
                 precision, scale)
          .WithHint("Iceberg decimals have at most 38 digits");
    }
    return Decimal(precision, scale);
  }
  if (text.starts_with("fixed[") && text.ends_with("]")) {
    int length = 0;
    if (!ParseInt(text.substr(6, text.size() - 7), length) || length < 1 || length > (1 << 24)) {
      return Status::InvalidArgument("cannot parse fixed type '{}'", text)
          .WithHint("write fixed[L] with a positive length L");
    }
    return Fixed(length);
  }
  static const std::array<std::string_view, 7> kVersion3 = {
      "timestamp_ns", "timestamptz_ns", "variant", "geometry", "geography", "unknown", "unknown"};
  for (std::string_view v3 : kVersion3) {
    if (text == v3 || (text.starts_with(v3) && text.size() > v3.size() && text[v3.size()] == '(')) {
      return Status::NotImplemented("type '{}' is an Iceberg v3 type, not supported yet", text)
          .WithHint("meshwork reads and writes format versions 1 and 2");
    }
  }
  return Status::InvalidArgument("unknown Iceberg type '{}'", text.substr(0, 100))
      .WithHint(
          "primitive types are boolean, int, long, float, double, decimal(P, S), date, time, "
          "timestamp, timestamptz, string, uuid, fixed[L], binary");
}

const NestedField* Type::FieldById(int32_t id) const {
  for (const NestedField& field : fields_) {
    if (field.id == id) return &field;
  }
  return nullptr;
}

const NestedField* Type::FieldByName(std::string_view name) const {
  for (const NestedField& field : fields_) {
    if (field.name == name) return &field;
  }
  return nullptr;
}

std::string Type::ToString() const {
  switch (kind_) {
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
    case TypeKind::kDecimal:
      return fmt::format("decimal({}, {})", precision_, scale_);
    case TypeKind::kDate:
      return "date";
    case TypeKind::kTime:
      return "time";
    case TypeKind::kTimestamp:
      return "timestamp";
    case TypeKind::kTimestampTz:
      return "timestamptz";
    case TypeKind::kString:
      return "string";
    case TypeKind::kUuid:
      return "uuid";
    case TypeKind::kFixed:
      return fmt::format("fixed[{}]", length_);
    case TypeKind::kBinary:
      return "binary";
    case TypeKind::kStruct: {
      std::string text = "struct<";
      for (size_t index = 0; index < fields_.size(); ++index) {
        const NestedField& field = fields_[index];
        if (index > 0) text += ", ";
        text += fmt::format("{}: {}: {} {}", field.id, field.name,
                            field.required ? "required" : "optional", field.type->ToString());
      }
      return text + ">";
    }
    case TypeKind::kList:
      return fmt::format("list<{}: {} {}>", fields_[0].id,
                         fields_[0].required ? "required" : "optional",
                         fields_[0].type->ToString());
    case TypeKind::kMap:
      return fmt::format("map<{}: {}, {}: {} {}>", fields_[0].id, fields_[0].type->ToString(),
                         fields_[1].id, fields_[1].required ? "required" : "optional",
                         fields_[1].type->ToString());
  }
  return "?";
}

bool Type::operator==(const Type& other) const {
  return kind_ == other.kind_ && precision_ == other.precision_ && scale_ == other.scale_ &&
         length_ == other.length_ && fields_ == other.fields_;
}

bool IsPromotionAllowed(const Type& from, const Type& to) {
  if (from == to) return true;
  if (from.kind() == TypeKind::kInt && to.kind() == TypeKind::kLong) return true;
  if (from.kind() == TypeKind::kFloat && to.kind() == TypeKind::kDouble) return true;
  if (from.kind() == TypeKind::kDecimal && to.kind() == TypeKind::kDecimal) {
    return from.scale() == to.scale() && to.precision() > from.precision();
  }
  return false;
}

}  // namespace meshwork::iceberg
