#pragma once
// Reading JSON documents that other programs wrote (table metadata, REST requests) with errors
// that name the exact field: "snapshots[2].timestamp-ms: expected a long, got string".

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace meshwork::iceberg::json {

/// Parses JSON text; errors give the byte offset and the document's name.
Result<nlohmann::json> Parse(std::string_view text, std::string_view document);

/// A JSON object plus its path in the document, for error messages.
class ObjectReader {
 public:
  /// Fails unless `value` is an object.
  static Result<ObjectReader> Make(const nlohmann::json& value, std::string path);

  const std::string& path() const { return path_; }
  const nlohmann::json& json() const { return *value_; }
  std::string PathOf(std::string_view key) const;
  bool Has(std::string_view key) const;
  /// The member, or nullptr when absent or JSON null.
  const nlohmann::json* Find(std::string_view key) const;

  Result<std::string> RequiredString(std::string_view key) const;
  Result<int64_t> RequiredLong(std::string_view key) const;
  Result<int32_t> RequiredInt(std::string_view key) const;
  Result<bool> RequiredBool(std::string_view key) const;
  Result<std::optional<std::string>> OptionalString(std::string_view key) const;
  Result<std::optional<int64_t>> OptionalLong(std::string_view key) const;
  Result<std::optional<int32_t>> OptionalInt(std::string_view key) const;
  Result<std::optional<bool>> OptionalBool(std::string_view key) const;
  /// A string → string map; absent → empty.
  Result<std::map<std::string, std::string>> StringMap(std::string_view key) const;
  /// An array member; absent → nullopt.
  Result<std::optional<std::vector<const nlohmann::json*>>> OptionalArray(
      std::string_view key) const;
  Result<std::vector<const nlohmann::json*>> RequiredArray(std::string_view key) const;
  Result<std::vector<int32_t>> IntList(std::string_view key) const;

  /// The error for a member that is present but wrong: "<path>.<key>: <what>".
  Status Invalid(std::string_view key, std::string_view what) const;
  Status Missing(std::string_view key) const;

 private:
  ObjectReader(const nlohmann::json* value, std::string path)
      : value_(value), path_(std::move(path)) {}
  const nlohmann::json* value_;
  std::string path_;
};

/// Lenient lookups for hostile input (nlohmann's value() throws on a type mismatch): the
/// member when `object` is an object holding one of the right type, otherwise the fallback.
std::string StringOr(const nlohmann::json& object, std::string_view key, std::string fallback);
int64_t IntOr(const nlohmann::json& object, std::string_view key, int64_t fallback);
bool BoolOr(const nlohmann::json& object, std::string_view key, bool fallback);

/// "snapshots[3]"
std::string IndexPath(std::string_view path, size_t index);
/// The JSON type name of a value, for messages ("string", "number", ...).
std::string_view TypeName(const nlohmann::json& value);

}  // namespace meshwork::iceberg::json
