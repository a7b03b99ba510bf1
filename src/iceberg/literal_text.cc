#include "iceberg/literal_text.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

#include "common/time.h"

namespace meshwork::iceberg {
namespace {

Status Bad(const TypePtr& type, std::string_view text, std::string_view expected) {
  return Status::InvalidArgument("'{}' is not a valid {} value", text.substr(0, 100),
                                 type->ToString())
      .WithHint(std::string("expected ") + std::string(expected));
}

bool ParseDigits(std::string_view text, int64_t& out) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

// "YYYY-MM-DD" (year may be negative or longer) → days since epoch.
bool ParseDate(std::string_view text, int64_t& days) {
  const size_t second_dash = text.rfind('-');
  const size_t first_dash = second_dash == std::string_view::npos || second_dash == 0
                                ? std::string_view::npos
                                : text.rfind('-', second_dash - 1);
  if (first_dash == std::string_view::npos || (first_dash == 0 && text[0] != '-')) return false;
  int64_t year = 0, month = 0, day = 0;
  if (!ParseDigits(text.substr(0, first_dash), year) ||
      !ParseDigits(text.substr(first_dash + 1, second_dash - first_dash - 1), month) ||
      !ParseDigits(text.substr(second_dash + 1), day)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  days = time::DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const time::CivilDate check = time::CivilFromDays(days);
  return check.day == static_cast<unsigned>(day);
}

// "HH:MM:SS[.ffffff]" → micros since midnight.
bool ParseTime(std::string_view text, int64_t& micros) {
  if (text.size() < 8 || text[2] != ':' || text[5] != ':') return false;
  int64_t hour = 0, minute = 0, second = 0, fraction = 0;
  if (!ParseDigits(text.substr(0, 2), hour) || !ParseDigits(text.substr(3, 2), minute) ||
      !ParseDigits(text.substr(6, 2), second)) {
    return false;
  }
  if (text.size() > 8) {
    if (text[8] != '.' || text.size() == 9 || text.size() > 15) return false;
    std::string digits(text.substr(9));
    digits.resize(6, '0');
    if (!ParseDigits(digits, fraction)) return false;
  }
  if (hour > 23 || minute > 59 || second > 59) return false;
  micros = ((hour * 60 + minute) * 60 + second) * 1000000 + fraction;
  return true;
}

}  // namespace

Result<Literal> ParseLiteralText(const TypePtr& type, std::string_view text) {
  switch (type->kind()) {
    case TypeKind::kBoolean:
      if (text == "true" || text == "t" || text == "1") return Literal(type, true);
      if (text == "false" || text == "f" || text == "0") return Literal(type, false);
      return Bad(type, text, "true or false");
    case TypeKind::kInt:
    case TypeKind::kLong: {
      int64_t value = 0;
      if (!ParseDigits(text, value) ||
          (type->kind() == TypeKind::kInt && (value < INT32_MIN || value > INT32_MAX))) {
        return Bad(type, text, "an integer in range");
      }
      if (type->kind() == TypeKind::kInt) return Literal(type, static_cast<int32_t>(value));
      return Literal(type, value);
    }
    case TypeKind::kFloat:
    case TypeKind::kDouble: {
      const std::string copy(text);
      char* end = nullptr;
      const double value = std::strtod(copy.c_str(), &end);
      if (copy.empty() || end != copy.c_str() + copy.size()) return Bad(type, text, "a number");
      if (type->kind() == TypeKind::kFloat) return Literal(type, static_cast<float>(value));
      return Literal(type, value);
    }
    case TypeKind::kDecimal: {
      std::string_view digits = text;
      const bool negative = digits.starts_with('-');
      if (negative || digits.starts_with('+')) digits.remove_prefix(1);
      const size_t dot = digits.find('.');
      std::string whole(digits.substr(0, dot));
      std::string fraction(dot == std::string_view::npos ? "" : digits.substr(dot + 1));
      while (static_cast<int>(fraction.size()) > type->scale() && fraction.back() == '0')
        fraction.pop_back();
      if (static_cast<int>(fraction.size()) > type->scale()) {
        return Bad(type, text, "at most " + std::to_string(type->scale()) + " decimal places");
      }
      fraction.resize(static_cast<size_t>(type->scale()), '0');
      const std::string all = whole + fraction;
      if (all.empty() || static_cast<int>(all.size()) > 38) return Bad(type, text, "a decimal");
      __int128 unscaled = 0;
      for (char c : all) {
        if (c < '0' || c > '9') return Bad(type, text, "a decimal number");
        unscaled = unscaled * 10 + (c - '0');
      }
      return Literal(type, DecimalValue{negative ? -unscaled : unscaled});
    }
    case TypeKind::kDate: {
      int64_t days = 0;
      if (!ParseDate(text, days)) return Bad(type, text, "YYYY-MM-DD");
      return Literal(type, static_cast<int32_t>(days));
    }
    case TypeKind::kTime: {
      int64_t micros = 0;
      if (!ParseTime(text, micros)) return Bad(type, text, "HH:MM:SS[.ffffff]");
      return Literal(type, micros);
    }
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampTz: {
      std::string_view rest = text;
      const size_t separator = rest.find_first_of(" T");
      int64_t days = 0, micros = 0, offset_seconds = 0;
      if (!ParseDate(rest.substr(0, separator), days)) {
        return Bad(type, text, "YYYY-MM-DD[ HH:MM:SS[.ffffff]][+HH[:MM]]");
      }
      if (separator != std::string_view::npos) {
        std::string_view clock = rest.substr(separator + 1);
        size_t zone = clock.find_first_of("+-Z", 8);
        std::string_view offset = zone == std::string_view::npos ? "" : clock.substr(zone);
        clock = clock.substr(0, zone);
        if (!ParseTime(clock, micros)) return Bad(type, text, "a time of day HH:MM:SS");
        if (!offset.empty() && offset != "Z") {
          const int sign = offset[0] == '-' ? -1 : 1;
          offset.remove_prefix(1);
          int64_t hours = 0, minutes = 0;
          const size_t colon = offset.find(':');
          if (!ParseDigits(offset.substr(0, colon == std::string_view::npos ? 2 : colon), hours) ||
              (colon != std::string_view::npos &&
               !ParseDigits(offset.substr(colon + 1), minutes))) {
            return Bad(type, text, "a UTC offset like +02 or +02:00");
          }
          offset_seconds = sign * (hours * 3600 + minutes * 60);
        }
      }
      return Literal(type, days * 86400000000LL + micros - offset_seconds * 1000000);
    }
    case TypeKind::kString:
      return Literal(type, std::string(text));
    case TypeKind::kUuid: {
      std::string hex;
      for (char c : text) {
        if (c != '-') hex += c;
      }
      if (hex.size() != 32)
        return Bad(type, text, "a UUID like 00112233-4455-6677-8899-aabbccddeeff");
      UuidBytes bytes;
      for (size_t index = 0; index < 16; ++index) {
        int value = 0;
        auto [end, error] =
            std::from_chars(hex.data() + 2 * index, hex.data() + 2 * index + 2, value, 16);
        if (error != std::errc() || end != hex.data() + 2 * index + 2) {
          return Bad(type, text, "a UUID in hexadecimal");
        }
        bytes[index] = static_cast<uint8_t>(value);
      }
      return Literal(type, bytes);
    }
    case TypeKind::kFixed:
    case TypeKind::kBinary: {
      // Hexadecimal, as Literal::ToString prints bytes: "0x0AFF" (the 0x is optional).
      std::string_view hex = text;
      if (hex.starts_with("0x") || hex.starts_with("0X")) hex.remove_prefix(2);
      if (hex.size() % 2 != 0) return Bad(type, text, "bytes in hexadecimal like 0x0AFF");
      Bytes bytes;
      for (size_t index = 0; index < hex.size(); index += 2) {
        int value = 0;
        auto [end, error] = std::from_chars(hex.data() + index, hex.data() + index + 2, value, 16);
        if (error != std::errc() || end != hex.data() + index + 2) {
          return Bad(type, text, "bytes in hexadecimal like 0x0AFF");
        }
        bytes.data.push_back(static_cast<char>(value));
      }
      if (type->kind() == TypeKind::kFixed &&
          bytes.data.size() != static_cast<size_t>(type->length())) {
        return Bad(type, text, fmt::format("exactly {} bytes", type->length()));
      }
      return Literal(type, std::move(bytes));
    }
    default:
      return Status::NotImplemented("cannot parse {} values from text", type->ToString());
  }
}

}  // namespace meshwork::iceberg
