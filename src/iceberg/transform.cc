#include "iceberg/transform.h"

#include <fmt/format.h>

#include <charconv>

#include "common/time.h"
#include "iceberg/murmur3.h"

namespace meshwork::iceberg {
namespace {

constexpr int64_t kMicrosPerHour = 3600LL * 1000000;
constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;

int64_t FloorDiv(int64_t value, int64_t divisor) {
  const int64_t quotient = value / divisor;
  return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient;
}

// Days since the epoch of a date or timestamp literal.
int64_t EpochDays(const Literal& value) {
  if (value.type()->kind() == TypeKind::kDate) return value.as<int32_t>();
  return FloorDiv(value.as<int64_t>(), kMicrosPerDay);
}

bool IsTemporal(TypeKind kind) {
  return kind == TypeKind::kDate || kind == TypeKind::kTimestamp || kind == TypeKind::kTimestampTz;
}

std::optional<int32_t> ParseBracket(std::string_view text, std::string_view name) {
  if (!text.starts_with(name) || text.size() < name.size() + 3 || text[name.size()] != '[' ||
      text.back() != ']') {
    return std::nullopt;
  }
  const std::string_view digits = text.substr(name.size() + 1, text.size() - name.size() - 2);
  int32_t value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc() || end != digits.data() + digits.size() || value <= 0) {
    return std::nullopt;
  }
  return value;
}

// Keeps at most `code_points` UTF-8 code points.
std::string TruncateUtf8(const std::string& text, int32_t code_points) {
  size_t offset = 0;
  int32_t count = 0;
  while (offset < text.size() && count < code_points) {
    const auto lead = static_cast<unsigned char>(text[offset]);
    const size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    offset = std::min(text.size(), offset + length);
    ++count;
  }
  return text.substr(0, offset);
}

}  // namespace

Result<Transform> Transform::Parse(std::string_view text) {
  if (text == "identity") return Identity();
  if (text == "year") return Year();
  if (text == "month") return Month();
  if (text == "day") return Day();
  if (text == "hour") return Hour();
  if (text == "void") return Void();
  if (auto buckets = ParseBracket(text, "bucket")) return Bucket(*buckets);
  if (auto width = ParseBracket(text, "truncate")) return Truncate(*width);
  return Status::InvalidArgument("unknown partition transform '{}'", text.substr(0, 100))
      .WithHint(
          "transforms are identity, bucket[N], truncate[W], year, month, day, hour and void, "
          "with N and W positive");
}

std::string Transform::ToString() const {
  switch (kind_) {
    case Kind::kIdentity:
      return "identity";
    case Kind::kBucket:
      return fmt::format("bucket[{}]", parameter_);
    case Kind::kTruncate:
      return fmt::format("truncate[{}]", parameter_);
    case Kind::kYear:
      return "year";
    case Kind::kMonth:
      return "month";
    case Kind::kDay:
      return "day";
    case Kind::kHour:
      return "hour";
    case Kind::kVoid:
      return "void";
  }
  return "?";
}

bool Transform::CanTransform(const Type& source) const {
  const TypeKind kind = source.kind();
  switch (kind_) {
    case Kind::kIdentity:
      return source.is_primitive();
    case Kind::kVoid:
      return true;
    case Kind::kBucket:
      return source.is_primitive() && kind != TypeKind::kBoolean && kind != TypeKind::kFloat &&
             kind != TypeKind::kDouble;
    case Kind::kTruncate:
      return kind == TypeKind::kInt || kind == TypeKind::kLong || kind == TypeKind::kDecimal ||
             kind == TypeKind::kString || kind == TypeKind::kBinary;
    case Kind::kYear:
    case Kind::kMonth:
    case Kind::kDay:
      return IsTemporal(kind);
    case Kind::kHour:
      return kind == TypeKind::kTimestamp || kind == TypeKind::kTimestampTz;
  }
  return false;
}

Result<TypePtr> Transform::ResultType(const TypePtr& source) const {
  if (!CanTransform(*source)) {
    return Status::InvalidArgument("transform {} cannot be applied to a {} column", ToString(),
                                   source->ToString())
        .WithHint(
            "bucket needs int, long, decimal, date, time, timestamp, string, uuid, fixed "
            "or binary; truncate int, long, decimal, string or binary; year/month/day "
            "a date or timestamp; hour a timestamp");
  }
  switch (kind_) {
    case Kind::kIdentity:
    case Kind::kTruncate:
    case Kind::kVoid:
      return source;
    case Kind::kDay:
      return Type::Date();
    default:
      return Type::Int();
  }
}

Result<std::optional<Literal>> Transform::Apply(const std::optional<Literal>& value) const {
  if (!value || kind_ == Kind::kVoid) return std::optional<Literal>();
  const TypeKind kind = value->type()->kind();
  if (!CanTransform(*value->type())) {
    return Status::InvalidArgument("transform {} cannot be applied to {} value {}", ToString(),
                                   value->type()->ToString(), value->ToString());
  }
  switch (kind_) {
    case Kind::kIdentity:
      return value;
    case Kind::kBucket:
      return Literal::Int(BucketOf(IcebergHash(*value), parameter_));
    case Kind::kTruncate: {
      const int64_t width = parameter_;
      switch (kind) {
        case TypeKind::kInt: {
          const int64_t v = value->as<int32_t>();
          return Literal::Int(static_cast<int32_t>(v - (((v % width) + width) % width)));
        }
        case TypeKind::kLong: {
          const int64_t v = value->as<int64_t>();
          return Literal::Long(v - (((v % width) + width) % width));
        }
        case TypeKind::kDecimal: {
          const __int128 v = value->as<DecimalValue>().unscaled;
          return Literal(value->type(), DecimalValue{v - (((v % width) + width) % width)});
        }
        case TypeKind::kString:
          return Literal::String(TruncateUtf8(value->as<std::string>(), parameter_));
        default:
          return Literal(value->type(),
                         Bytes{value->as<Bytes>().data.substr(0, static_cast<size_t>(parameter_))});
      }
    }
    case Kind::kYear:
    case Kind::kMonth: {
      const time::CivilDate date = time::CivilFromDays(EpochDays(*value));
      const int64_t years = date.year - 1970;
      return Literal::Int(static_cast<int32_t>(
          kind_ == Kind::kYear ? years : years * 12 + static_cast<int64_t>(date.month) - 1));
    }
    case Kind::kDay:
      return Literal::Date(static_cast<int32_t>(EpochDays(*value)));
    case Kind::kHour:
      return Literal::Int(static_cast<int32_t>(FloorDiv(value->as<int64_t>(), kMicrosPerHour)));
    case Kind::kVoid:
      break;
  }
  return std::optional<Literal>();
}

std::string Transform::HumanString(const std::optional<Literal>& transformed) const {
  if (!transformed) return "null";
  switch (kind_) {
    case Kind::kYear:
      return std::to_string(1970 + transformed->as<int32_t>());
    case Kind::kMonth: {
      const int64_t months = transformed->as<int32_t>();
      const int64_t year = 1970 + FloorDiv(months, 12);
      const int64_t month = months - FloorDiv(months, 12) * 12 + 1;
      return fmt::format("{:04d}-{:02d}", year, month);
    }
    case Kind::kHour: {
      const int64_t hours = transformed->as<int32_t>();
      const time::CivilDate date = time::CivilFromDays(FloorDiv(hours, 24));
      return fmt::format("{:04d}-{:02d}-{:02d}-{:02d}", date.year, date.month, date.day,
                         hours - FloorDiv(hours, 24) * 24);
    }
    default:
      return transformed->ToString();
  }
}

bool Transform::PreservesOrder() const {
  return kind_ != Kind::kBucket && kind_ != Kind::kVoid;
}

}  // namespace meshwork::iceberg
