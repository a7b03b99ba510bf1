#pragma once
// Column types and parameter values of the engine, independent of duckdb.h so that callers
// (query planner, wire protocols) never include DuckDB's header.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace meshwork::engine {

/// DuckDB's type ids; the numeric values equal duckdb_type's (checked in types.cc).
enum class TypeId : uint8_t {
  kInvalid = 0,
  kBoolean = 1,
  kTinyInt = 2,
  kSmallInt = 3,
  kInteger = 4,
  kBigInt = 5,
  kUTinyInt = 6,
  kUSmallInt = 7,
  kUInteger = 8,
  kUBigInt = 9,
  kFloat = 10,
  kDouble = 11,
  kTimestamp = 12,
  kDate = 13,
  kTime = 14,
  kInterval = 15,
  kHugeInt = 16,
  kVarchar = 17,
  kBlob = 18,
  kDecimal = 19,
  kTimestampSeconds = 20,
  kTimestampMillis = 21,
  kTimestampNanos = 22,
  kEnum = 23,
  kList = 24,
  kStruct = 25,
  kMap = 26,
  kUuid = 27,
  kUnion = 28,
  kBit = 29,
  kTimeTz = 30,
  kTimestampTz = 31,
  kUHugeInt = 32,
  kArray = 33,
  kAny = 34,
  kBigNum = 35,
  kSqlNull = 36,
  kStringLiteral = 37,
  kIntegerLiteral = 38,
  kTimeNanos = 39,
};

/// A complete column type, nested types included. Value-semantic.
struct Type {
  TypeId id = TypeId::kInvalid;
  // DECIMAL(width, scale) and the integer type that stores it (kSmallInt..kHugeInt).
  uint8_t decimal_width = 0;
  uint8_t decimal_scale = 0;
  TypeId decimal_storage = TypeId::kInvalid;
  // LIST/ARRAY: one child; MAP: key, value; STRUCT/UNION: members, named in child_names.
  std::vector<Type> children;
  std::vector<std::string> child_names;
  uint64_t array_size = 0;
  // ENUM: the dictionary, and the integer type of the codes.
  std::vector<std::string> enum_values;
  TypeId enum_storage = TypeId::kInvalid;

  Type() = default;
  explicit Type(TypeId type_id) : id(type_id) {}
  static Type Decimal(uint8_t width, uint8_t scale);
  static Type List(Type child);
  static Type Struct(std::vector<std::pair<std::string, Type>> members);
  static Type Map(Type key, Type value);

  /// SQL spelling, as DuckDB prints it: "DECIMAL(10,2)", "INTEGER[]", "STRUCT(a INTEGER)".
  std::string ToString() const;
  bool operator==(const Type& other) const = default;
};

/// A calendar date as days since 1970-01-01.
struct Date {
  int32_t days = 0;
};
/// Microseconds since 1970-01-01 00:00:00 (TIMESTAMP, no zone).
struct Timestamp {
  int64_t micros = 0;
};
/// Microseconds since 1970-01-01 00:00:00 UTC (TIMESTAMP WITH TIME ZONE).
struct TimestampTz {
  int64_t micros = 0;
};
/// Microseconds since midnight.
struct Time {
  int64_t micros = 0;
};
struct Interval {
  int32_t months = 0;
  int32_t days = 0;
  int64_t micros = 0;
};
/// Bytes for a BLOB parameter (a std::string would bind as VARCHAR).
struct Blob {
  std::string bytes;
};
/// A 128-bit signed integer, value = upper * 2^64 + lower (DuckDB's HUGEINT layout).
struct HugeInt {
  uint64_t lower = 0;
  int64_t upper = 0;
  std::string ToString() const;
};
/// A DECIMAL parameter given as its unscaled value, e.g. 12.34 = {1234, 4, 2}.
struct Decimal {
  HugeInt unscaled;
  uint8_t width = 18;
  uint8_t scale = 0;
};

/// A parameter value for prepared statements and appenders. std::monostate is SQL NULL.
using Value = std::variant<std::monostate, bool, int32_t, int64_t, uint64_t, double, std::string,
                           Blob, Date, Time, Timestamp, TimestampTz, Interval, HugeInt, Decimal>;

/// Days since 1970-01-01 → "2024-02-29" (years beyond 9999 and BC years as DuckDB prints them).
std::string FormatDate(int32_t days);
/// Microseconds since midnight → "13:04:05" or "13:04:05.123456" (fraction only when non-zero).
std::string FormatTime(int64_t micros);
/// Microseconds since the epoch → "2024-02-29 13:04:05.5" style, as DuckDB casts to VARCHAR.
std::string FormatTimestamp(int64_t micros);
/// The same text as FormatDate / FormatTimestamp appended to `out`; years 1 to 9999 (every
/// timestamp a data product holds in practice) without allocating, for result streaming.
void AppendDate(std::string& out, int32_t days);
void AppendTimestamp(std::string& out, int64_t micros);
std::string FormatInterval(const Interval& interval);
/// An unscaled 128-bit integer with `scale` digits after the point: (1234, 2) → "12.34".
std::string FormatDecimal(HugeInt unscaled, uint8_t scale);

}  // namespace meshwork::engine
