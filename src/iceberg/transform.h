#pragma once
// Partition and sort transforms (spec "Partition Transforms").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "iceberg/literal.h"

namespace meshwork::iceberg {

class Transform {
 public:
  enum class Kind : uint8_t { kIdentity, kBucket, kTruncate, kYear, kMonth, kDay, kHour, kVoid };

  static Transform Identity() { return Transform(Kind::kIdentity, 0); }
  static Transform Bucket(int32_t buckets) { return Transform(Kind::kBucket, buckets); }
  static Transform Truncate(int32_t width) { return Transform(Kind::kTruncate, width); }
  static Transform Year() { return Transform(Kind::kYear, 0); }
  static Transform Month() { return Transform(Kind::kMonth, 0); }
  static Transform Day() { return Transform(Kind::kDay, 0); }
  static Transform Hour() { return Transform(Kind::kHour, 0); }
  static Transform Void() { return Transform(Kind::kVoid, 0); }

  /// "identity", "bucket[16]", "truncate[4]", "year", "month", "day", "hour", "void".
  static Result<Transform> Parse(std::string_view text);
  std::string ToString() const;

  Kind kind() const { return kind_; }
  /// N of bucket[N], W of truncate[W].
  int32_t parameter() const { return parameter_; }

  bool CanTransform(const Type& source) const;
  /// The type of the transformed values (day → date, bucket/year/month/hour → int).
  Result<TypePtr> ResultType(const TypePtr& source) const;
  /// Transforms one value; NULL stays NULL (and void makes everything NULL).
  Result<std::optional<Literal>> Apply(const std::optional<Literal>& value) const;
  /// A transformed value as it appears in partition paths: "2024", "2024-03", "2024-03-05",
  /// "2024-03-05-13", or the value's text.
  std::string HumanString(const std::optional<Literal>& transformed) const;
  /// Whether ordering of source values carries over to transformed values (all but bucket, void).
  bool PreservesOrder() const;

  bool operator==(const Transform&) const = default;

 private:
  Transform(Kind kind, int32_t parameter) : kind_(kind), parameter_(parameter) {}
  Kind kind_;
  int32_t parameter_;
};

}  // namespace meshwork::iceberg
