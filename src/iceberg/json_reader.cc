#include "iceberg/json_reader.h"

#include <fmt/format.h>

#include <limits>
#include <nlohmann/json.hpp>

namespace meshwork::iceberg::json {

Result<nlohmann::json> Parse(std::string_view text, std::string_view document) {
  // nlohmann's parser is recursive; bound the nesting first so hostile input cannot overflow
  // the stack. Metadata documents nest a few dozen levels at most.
  constexpr int kMaxDepth = 256;
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t offset = 0; offset < text.size(); ++offset) {
    const char c = text[offset];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxDepth) {
        return Status::InvalidArgument("{}: JSON nested deeper than {} levels at byte {}", document,
                                       kMaxDepth, offset)
            .WithResource(std::string(document));
      }
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  // nlohmann reports the byte position only through its exception; it stays inside this
  // function.
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& error) {
    return Status::InvalidArgument("{} is not valid JSON: {}", document, error.what())
        .WithResource(std::string(document))
        .WithHint("the file is truncated or corrupt; restore it or use an older version");
  }
}

std::string IndexPath(std::string_view path, size_t index) {
  return fmt::format("{}[{}]", path, index);
}

std::string_view TypeName(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::object:
      return "object";
    case nlohmann::json::value_t::array:
      return "array";
    case nlohmann::json::value_t::string:
      return "string";
    case nlohmann::json::value_t::boolean:
      return "boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return "integer";
    case nlohmann::json::value_t::number_float:
      return "decimal number";
    default:
      return "value";
  }
}

Result<ObjectReader> ObjectReader::Make(const nlohmann::json& value, std::string path) {
  if (!value.is_object()) {
    return Status::InvalidArgument("{}: expected an object, got {}",
                                   path.empty() ? "document" : path, TypeName(value));
  }
  return ObjectReader(&value, std::move(path));
}

std::string ObjectReader::PathOf(std::string_view key) const {
  return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
}

bool ObjectReader::Has(std::string_view key) const {
  return Find(key) != nullptr;
}

const nlohmann::json* ObjectReader::Find(std::string_view key) const {
  auto it = value_->find(key);
  if (it == value_->end() || it->is_null()) return nullptr;
  return &*it;
}

Status ObjectReader::Invalid(std::string_view key, std::string_view what) const {
  return Status::InvalidArgument("{}: {}", PathOf(key), what);
}

Status ObjectReader::Missing(std::string_view key) const {
  return Status::InvalidArgument("{}: required field is missing", PathOf(key));
}

Result<std::optional<std::string>> ObjectReader::OptionalString(std::string_view key) const {
  const nlohmann::json* member = Find(key);
  if (member == nullptr) return std::optional<std::string>();
  if (!member->is_string()) {
    return Invalid(key, fmt::format("expected a string, got {}", TypeName(*member)));
  }
  return std::optional<std::string>(member->get<std::string>());
}

Result<std::optional<int64_t>> ObjectReader::OptionalLong(std::string_view key) const {
  const nlohmann::json* member = Find(key);
  if (member == nullptr) return std::optional<int64_t>();
  if (member->is_number_integer()) return std::optional<int64_t>(member->get<int64_t>());
  if (member->is_number_unsigned()) {
    const uint64_t value = member->get<uint64_t>();
    if (value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return std::optional<int64_t>(static_cast<int64_t>(value));
    }
    return Invalid(key, "number is larger than a long");
  }
  return Invalid(key, fmt::format("expected an integer, got {}", TypeName(*member)));
}

Result<std::optional<int32_t>> ObjectReader::OptionalInt(std::string_view key) const {
  MW_ASSIGN_OR_RETURN(std::optional<int64_t> value, OptionalLong(key));
  if (!value) return std::optional<int32_t>();
  if (*value < std::numeric_limits<int32_t>::min() ||
      *value > std::numeric_limits<int32_t>::max()) {
    return Invalid(key, fmt::format("{} does not fit in an int", *value));
  }
  return std::optional<int32_t>(static_cast<int32_t>(*value));
}

Result<std::optional<bool>> ObjectReader::OptionalBool(std::string_view key) const {
  const nlohmann::json* member = Find(key);
  if (member == nullptr) return std::optional<bool>();
  if (!member->is_boolean()) {
    return Invalid(key, fmt::format("expected a boolean, got {}", TypeName(*member)));
  }
  return std::optional<bool>(member->get<bool>());
}

Result<std::string> ObjectReader::RequiredString(std::string_view key) const {
  MW_ASSIGN_OR_RETURN(auto value, OptionalString(key));
  if (!value) return Missing(key);
  return *value;
}

Result<int64_t> ObjectReader::RequiredLong(std::string_view key) const {
  MW_ASSIGN_OR_RETURN(auto value, OptionalLong(key));
  if (!value) return Missing(key);
  return *value;
}

Result<int32_t> ObjectReader::RequiredInt(std::string_view key) const {
  MW_ASSIGN_OR_RETURN(auto value, OptionalInt(key));
  if (!value) return Missing(key);
  return *value;
}

Result<bool> ObjectReader::RequiredBool(std::string_view key) const {
  MW_ASSIGN_OR_RETURN(auto value, OptionalBool(key));
  if (!value) return Missing(key);
  return *value;
}

Result<std::map<std::string, std::string>> ObjectReader::StringMap(std::string_view key) const {
  std::map<std::string, std::string> map;
  const nlohmann::json* member = Find(key);
  if (member == nullptr) return map;
  if (!member->is_object()) {
    return Invalid(key, fmt::format("expected an object of strings, got {}", TypeName(*member)));
  }
  for (const auto& [name, value] : member->items()) {
    if (!value.is_string()) {
      return Status::InvalidArgument("{}.{}: expected a string, got {}", PathOf(key), name,
                                     TypeName(value));
    }
    map.emplace(name, value.get<std::string>());
  }
  return map;
}

Result<std::optional<std::vector<const nlohmann::json*>>> ObjectReader::OptionalArray(
    std::string_view key) const {
  const nlohmann::json* member = Find(key);
  if (member == nullptr) return std::optional<std::vector<const nlohmann::json*>>();
  if (!member->is_array()) {
    return Invalid(key, fmt::format("expected an array, got {}", TypeName(*member)));
  }
  std::vector<const nlohmann::json*> elements;
  elements.reserve(member->size());
  for (const nlohmann::json& element : *member)
    elements.push_back(&element);
  return std::optional<std::vector<const nlohmann::json*>>(std::move(elements));
}

Result<std::vector<const nlohmann::json*>> ObjectReader::RequiredArray(std::string_view key) const {
  MW_ASSIGN_OR_RETURN(auto elements, OptionalArray(key));
  if (!elements) return Missing(key);
  return std::move(*elements);
}

Result<std::vector<int32_t>> ObjectReader::IntList(std::string_view key) const {
  std::vector<int32_t> values;
  MW_ASSIGN_OR_RETURN(auto elements, OptionalArray(key));
  if (!elements) return values;
  for (size_t index = 0; index < elements->size(); ++index) {
    const nlohmann::json& element = *(*elements)[index];
    if (!element.is_number_integer() || element.get<int64_t>() < INT32_MIN ||
        element.get<int64_t>() > INT32_MAX) {
      return Status::InvalidArgument("{}: expected an int, got {}", IndexPath(PathOf(key), index),
                                     TypeName(element));
    }
    values.push_back(element.get<int32_t>());
  }
  return values;
}

std::string StringOr(const nlohmann::json& object, std::string_view key, std::string fallback) {
  if (!object.is_object()) return fallback;
  const auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : fallback;
}

int64_t IntOr(const nlohmann::json& object, std::string_view key, int64_t fallback) {
  if (!object.is_object()) return fallback;
  const auto found = object.find(key);
  return found != object.end() && found->is_number_integer() ? found->get<int64_t>() : fallback;
}

bool BoolOr(const nlohmann::json& object, std::string_view key, bool fallback) {
  if (!object.is_object()) return fallback;
  const auto found = object.find(key);
  return found != object.end() && found->is_boolean() ? found->get<bool>() : fallback;
}

}  // namespace meshwork::iceberg::json
