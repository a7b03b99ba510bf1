#pragma once
// A single Iceberg value of a primitive type: partition values, column bounds, predicate
// literals. Carries its type so that serialization and comparison are unambiguous.

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <variant>

#include "common/result.h"
#include "iceberg/types.h"

namespace meshwork::iceberg {

/// Unscaled decimal value; the scale comes from the type.
struct DecimalValue {
  __int128 unscaled = 0;
  auto operator<=>(const DecimalValue&) const = default;
};
using UuidBytes = std::array<uint8_t, 16>;
/// Raw bytes for fixed and binary values (distinct from std::string, which holds UTF-8 strings).
struct Bytes {
  std::string data;
  auto operator<=>(const Bytes&) const = default;
};

class Literal {
 public:
  /// bool: boolean; int32_t: int, date (days since epoch); int64_t: long, time (µs since
  /// midnight), timestamp and timestamptz (µs since epoch); float; double; DecimalValue;
  /// std::string: string; UuidBytes: uuid; Bytes: fixed and binary.
  using Storage = std::variant<bool, int32_t, int64_t, float, double, DecimalValue, std::string,
                               UuidBytes, Bytes>;

  Literal(TypePtr type, Storage value) : type_(std::move(type)), value_(std::move(value)) {}

  static Literal Boolean(bool value) { return {Type::Boolean(), value}; }
  static Literal Int(int32_t value) { return {Type::Int(), value}; }
  static Literal Long(int64_t value) { return {Type::Long(), value}; }
  static Literal Float(float value) { return {Type::Float(), value}; }
  static Literal Double(double value) { return {Type::Double(), value}; }
  static Literal Date(int32_t days) { return {Type::Date(), days}; }
  static Literal Time(int64_t micros) { return {Type::Time(), micros}; }
  static Literal Timestamp(int64_t micros) { return {Type::Timestamp(), micros}; }
  static Literal TimestampTz(int64_t micros) { return {Type::TimestampTz(), micros}; }
  static Literal String(std::string value) { return {Type::String(), std::move(value)}; }
  static Literal Decimal(int precision, int scale, __int128 unscaled) {
    return {Type::Decimal(precision, scale), DecimalValue{unscaled}};
  }
  static Literal Uuid(const UuidBytes& bytes) { return {Type::Uuid(), bytes}; }
  static Literal Binary(std::string bytes) { return {Type::Binary(), Bytes{std::move(bytes)}}; }
  static Literal Fixed(std::string bytes) {
    const int length = static_cast<int>(bytes.size());
    return {Type::Fixed(length), Bytes{std::move(bytes)}};
  }

  const TypePtr& type() const { return type_; }
  const Storage& value() const { return value_; }
  template <typename T>
  const T& as() const {
    return std::get<T>(value_);
  }

  /// Orders two literals of the same type as the spec does (signed for numbers, unsigned
  /// lexicographic bytes for strings/binary/uuid/fixed, NaN above everything for floats).
  /// Literals of different types are unordered (std::partial_ordering::unordered).
  std::partial_ordering Compare(const Literal& other) const;
  bool operator==(const Literal& other) const;

  /// Human-readable text: 2024-01-02, 12.30, 2024-01-02T03:04:05.000006+00:00, ...
  std::string ToString() const;

 private:
  TypePtr type_;
  Storage value_;
};

}  // namespace meshwork::iceberg
