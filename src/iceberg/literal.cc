#include "iceberg/literal.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "common/time.h"

namespace meshwork::iceberg {
namespace {

template <typename Float>
std::partial_ordering CompareFloats(Float left, Float right) {
  // The spec orders -NaN < -Inf < ... < -0 < 0 < ... < Inf < NaN; bounds never hold NaN, but
  // predicates may compare against it, so give NaN a place at the top.
  const bool left_nan = std::isnan(left), right_nan = std::isnan(right);
  if (left_nan || right_nan) {
    if (left_nan && right_nan) return std::partial_ordering::equivalent;
    return left_nan ? std::partial_ordering::greater : std::partial_ordering::less;
  }
  if (left == 0 && right == 0) {
    return std::signbit(left) == std::signbit(right) ? std::partial_ordering::equivalent
           : std::signbit(left)                      ? std::partial_ordering::less
                                                     : std::partial_ordering::greater;
  }
  return left <=> right;
}

std::partial_ordering CompareBytes(std::string_view left, std::string_view right) {
  const size_t common = std::min(left.size(), right.size());
  const int result = std::memcmp(left.data(), right.data(), common);
  if (result != 0) return result < 0 ? std::partial_ordering::less : std::partial_ordering::greater;
  return left.size() <=> right.size();
}

std::string Int128ToString(__int128 value) {
  if (value == 0) return "0";
  const bool negative = value < 0;
  unsigned __int128 magnitude = negative ? static_cast<unsigned __int128>(-(value + 1)) + 1 : value;
  std::string digits;
  while (magnitude != 0) {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  }
  return negative ? "-" + digits : digits;
}

std::string FormatDays(int32_t days) {
  const time::CivilDate date = time::CivilFromDays(days);
  return fmt::format("{:04d}-{:02d}-{:02d}", date.year, date.month, date.day);
}

std::string FormatTimeOfDay(int64_t micros) {
  return fmt::format("{:02d}:{:02d}:{:02d}.{:06d}", micros / 3600000000LL, micros / 60000000LL % 60,
                     micros / 1000000 % 60, micros % 1000000);
}

std::string FormatMicros(int64_t micros) {
  int64_t days = micros / 86400000000LL;
  int64_t rest = micros % 86400000000LL;
  if (rest < 0) {
    rest += 86400000000LL;
    --days;
  }
  return FormatDays(static_cast<int32_t>(days)) + "T" + FormatTimeOfDay(rest);
}

}  // namespace

std::partial_ordering Literal::Compare(const Literal& other) const {
  if (!(*type_ == *other.type_)) return std::partial_ordering::unordered;
  return std::visit(
      [&](const auto& left) -> std::partial_ordering {
        using T = std::decay_t<decltype(left)>;
        const T& right = std::get<T>(other.value_);
        if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
          return CompareFloats(left, right);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return CompareBytes(left, right);
        } else if constexpr (std::is_same_v<T, Bytes>) {
          return CompareBytes(left.data, right.data);
        } else if constexpr (std::is_same_v<T, UuidBytes>) {
          return CompareBytes(std::string_view(reinterpret_cast<const char*>(left.data()), 16),
                              std::string_view(reinterpret_cast<const char*>(right.data()), 16));
        } else {
          return left <=> right;
        }
      },
      value_);
}

bool Literal::operator==(const Literal& other) const {
  return Compare(other) == std::partial_ordering::equivalent;
}

std::string Literal::ToString() const {
  switch (type_->kind()) {
    case TypeKind::kBoolean:
      return as<bool>() ? "true" : "false";
    case TypeKind::kInt:
      return std::to_string(as<int32_t>());
    case TypeKind::kLong:
      return std::to_string(as<int64_t>());
    case TypeKind::kFloat:
      return fmt::format("{}", as<float>());
    case TypeKind::kDouble:
      return fmt::format("{}", as<double>());
    case TypeKind::kDecimal: {
      std::string digits = Int128ToString(as<DecimalValue>().unscaled);
      const bool negative = digits[0] == '-';
      if (negative) digits.erase(0, 1);
      const size_t scale = static_cast<size_t>(type_->scale());
      if (scale > 0) {
        if (digits.size() <= scale) digits.insert(0, scale + 1 - digits.size(), '0');
        digits.insert(digits.size() - scale, ".");
      }
      return negative ? "-" + digits : digits;
    }
    case TypeKind::kDate:
      return FormatDays(as<int32_t>());
    case TypeKind::kTime:
      return FormatTimeOfDay(as<int64_t>());
    case TypeKind::kTimestamp:
      return FormatMicros(as<int64_t>());
    case TypeKind::kTimestampTz:
      return FormatMicros(as<int64_t>()) + "+00:00";
    case TypeKind::kString:
      return as<std::string>();
    case TypeKind::kUuid: {
      const UuidBytes& bytes = as<UuidBytes>();
      std::string text;
      for (size_t index = 0; index < 16; ++index) {
        if (index == 4 || index == 6 || index == 8 || index == 10) text += '-';
        text += fmt::format("{:02x}", bytes[index]);
      }
      return text;
    }
    case TypeKind::kFixed:
    case TypeKind::kBinary: {
      std::string text = "0x";
      for (unsigned char c : as<Bytes>().data)
        text += fmt::format("{:02X}", c);
      return text;
    }
    default:
      return "?";
  }
}

}  // namespace meshwork::iceberg
