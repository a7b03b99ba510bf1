#include "server/pg_values.h"

#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "server/pg_protocol.h"

namespace meshwork::server::pg {
namespace {

using engine::TypeId;

// PostgreSQL's epoch for binary dates and timestamps is 2000-01-01.
constexpr int32_t kDaysFrom1970To2000 = 10957;
constexpr int64_t kMicrosFrom1970To2000 = int64_t{kDaysFrom1970To2000} * 86400 * 1000000;

template <typename T>
void AppendBigEndian(std::string& out, T value) {
  using Unsigned = std::make_unsigned_t<T>;
  Unsigned bits;
  std::memcpy(&bits, &value, sizeof(bits));
  for (int shift = (sizeof(T) - 1) * 8; shift >= 0; shift -= 8)
    out += static_cast<char>((bits >> shift) & 0xff);
}

template <typename T>
void AppendFloatText(std::string& out, T value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "Infinity" : "-Infinity";
  } else {
    fmt::format_to(std::back_inserter(out), "{}", value);
  }
}

// NUMERIC's binary form: base-10000 digits, weight, sign, display scale — from decimal text.
void AppendNumericBinary(std::string& out, std::string_view text) {
  bool negative = false;
  if (!text.empty() && text[0] == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  const size_t point = text.find('.');
  std::string whole(text.substr(0, point));
  std::string fraction = point == std::string_view::npos ? "" : std::string(text.substr(point + 1));
  const auto scale = static_cast<int16_t>(fraction.size());
  whole.erase(0, std::min(whole.find_first_not_of('0'), whole.size()));
  // Pad both sides to whole groups of four digits.
  while (whole.size() % 4 != 0)
    whole.insert(whole.begin(), '0');
  while (fraction.size() % 4 != 0)
    fraction += '0';
  std::vector<int16_t> digits;
  for (size_t i = 0; i < whole.size(); i += 4)
    digits.push_back(static_cast<int16_t>(std::stoi(whole.substr(i, 4))));
  int16_t weight = static_cast<int16_t>(digits.size()) - 1;
  for (size_t i = 0; i < fraction.size(); i += 4)
    digits.push_back(static_cast<int16_t>(std::stoi(fraction.substr(i, 4))));
  // Leading and trailing zero groups are implied by the weight.
  while (!digits.empty() && digits.front() == 0) {
    digits.erase(digits.begin());
    --weight;
  }
  while (!digits.empty() && digits.back() == 0)
    digits.pop_back();
  if (digits.empty()) weight = 0;
  AppendBigEndian<int16_t>(out, static_cast<int16_t>(digits.size()));
  AppendBigEndian<int16_t>(out, weight);
  AppendBigEndian<uint16_t>(out, negative && !digits.empty() ? 0x4000 : 0x0000);
  AppendBigEndian<int16_t>(out, scale);
  for (const int16_t digit : digits)
    AppendBigEndian<int16_t>(out, digit);
}

// NUMERIC's binary form straight from a decimal's unscaled integer (no text in between).
void AppendNumericBinary(std::string& out, __int128 unscaled, int scale) {
  const bool negative = unscaled < 0;
  unsigned __int128 magnitude =
      negative ? static_cast<unsigned __int128>(-(unscaled + 1)) + 1 : unscaled;
  // Align the point to a base-10000 digit boundary: scale up to a multiple of 4.
  int aligned = scale;
  while (aligned % 4 != 0) {
    magnitude *= 10;
    ++aligned;
  }
  int16_t groups[12];  // 38 decimal digits + 3 of alignment fit in 11 groups
  int count = 0;
  while (magnitude != 0 && count < 12) {
    groups[count++] = static_cast<int16_t>(magnitude % 10000);
    magnitude /= 10000;
  }
  // groups[] is least significant first; the fraction takes aligned / 4 of them.
  const int fraction_groups = aligned / 4;
  int high = count - 1;  // most significant non-zero group
  int low = 0;           // least significant non-zero group
  while (low <= high && groups[low] == 0)
    ++low;
  AppendBigEndian<int16_t>(out, static_cast<int16_t>(high >= low ? high - low + 1 : 0));
  AppendBigEndian<int16_t>(out, static_cast<int16_t>(high >= low ? high - fraction_groups : 0));
  AppendBigEndian<uint16_t>(out, negative && high >= low ? 0x4000 : 0x0000);
  AppendBigEndian<int16_t>(out, static_cast<int16_t>(scale));
  for (int i = high; i >= low; --i)
    AppendBigEndian<int16_t>(out, groups[i]);
}

uint64_t ReadBigEndian(std::string_view bytes) {
  uint64_t value = 0;
  for (const char c : bytes)
    value = (value << 8) | static_cast<unsigned char>(c);
  return value;
}

}  // namespace

int32_t TypeOid(const engine::Type& type) {
  switch (type.id) {
    case TypeId::kBoolean:
      return 16;
    case TypeId::kTinyInt:
    case TypeId::kSmallInt:
    case TypeId::kUTinyInt:
      return 21;
    case TypeId::kInteger:
    case TypeId::kUSmallInt:
      return 23;
    case TypeId::kBigInt:
    case TypeId::kUInteger:
      return 20;
    case TypeId::kUBigInt:
    case TypeId::kHugeInt:
    case TypeId::kUHugeInt:
    case TypeId::kDecimal:
      return 1700;
    case TypeId::kFloat:
      return 700;
    case TypeId::kDouble:
      return 701;
    case TypeId::kDate:
      return 1082;
    case TypeId::kTime:
      return 1083;
    case TypeId::kTimeTz:
      return 1266;
    case TypeId::kTimestamp:
    case TypeId::kTimestampSeconds:
    case TypeId::kTimestampMillis:
    case TypeId::kTimestampNanos:
      return 1114;
    case TypeId::kTimestampTz:
      return 1184;
    case TypeId::kInterval:
      return 1186;
    case TypeId::kUuid:
      return 2950;
    case TypeId::kBlob:
      return 17;
    case TypeId::kVarchar:
    case TypeId::kEnum:
    default:
      return 25;
  }
}

int16_t TypeSize(int32_t oid) {
  switch (oid) {
    case 16:
      return 1;
    case 21:
      return 2;
    case 23:
    case 700:
    case 1082:
      return 4;
    case 20:
    case 701:
    case 1083:
    case 1114:
    case 1184:
      return 8;
    case 1186:
    case 2950:
      return 16;
    default:
      return -1;
  }
}

int32_t TypeModifier(const engine::Type& type) {
  if (type.id == TypeId::kDecimal) {
    return ((static_cast<int32_t>(type.decimal_width) << 16) | type.decimal_scale) + 4;
  }
  return -1;
}

bool HasBinaryFormat(const engine::Type& type) {
  switch (type.id) {
    case TypeId::kBoolean:
    case TypeId::kTinyInt:
    case TypeId::kSmallInt:
    case TypeId::kUTinyInt:
    case TypeId::kInteger:
    case TypeId::kUSmallInt:
    case TypeId::kBigInt:
    case TypeId::kUInteger:
    case TypeId::kFloat:
    case TypeId::kDouble:
    case TypeId::kDecimal:
    case TypeId::kHugeInt:
    case TypeId::kUBigInt:
    case TypeId::kDate:
    case TypeId::kTime:
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
    case TypeId::kVarchar:
    case TypeId::kEnum:
    case TypeId::kBlob:
    case TypeId::kUuid:
      return true;
    default:
      return false;
  }
}

Status AppendText(const engine::Vector& vector, uint64_t row, std::string& out) {
  switch (vector.type().id) {
    case TypeId::kBoolean:
      out += vector.Get<bool>(row) ? 't' : 'f';
      return Status::OK();
    case TypeId::kFloat:
      AppendFloatText(out, vector.Get<float>(row));
      return Status::OK();
    case TypeId::kDouble:
      AppendFloatText(out, vector.Get<double>(row));
      return Status::OK();
    case TypeId::kVarchar:
      out += vector.GetString(row);
      return Status::OK();
    case TypeId::kBlob: {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      for (const char c : vector.GetString(row)) {
        out += kHex[(static_cast<unsigned char>(c) >> 4) & 0xf];
        out += kHex[static_cast<unsigned char>(c) & 0xf];
      }
      return Status::OK();
    }
    default:
      return vector.AppendText(row, out);
  }
}

Status AppendBinary(const engine::Vector& vector, uint64_t row, std::string& out) {
  switch (vector.type().id) {
    case TypeId::kBoolean:
      out += vector.Get<bool>(row) ? '\1' : '\0';
      break;
    case TypeId::kTinyInt:
      AppendBigEndian<int16_t>(out, vector.Get<int8_t>(row));
      break;
    case TypeId::kUTinyInt:
      AppendBigEndian<int16_t>(out, vector.Get<uint8_t>(row));
      break;
    case TypeId::kSmallInt:
      AppendBigEndian<int16_t>(out, vector.Get<int16_t>(row));
      break;
    case TypeId::kUSmallInt:
      AppendBigEndian<int32_t>(out, vector.Get<uint16_t>(row));
      break;
    case TypeId::kInteger:
      AppendBigEndian<int32_t>(out, vector.Get<int32_t>(row));
      break;
    case TypeId::kUInteger:
      AppendBigEndian<int64_t>(out, vector.Get<uint32_t>(row));
      break;
    case TypeId::kBigInt:
      AppendBigEndian<int64_t>(out, vector.Get<int64_t>(row));
      break;
    case TypeId::kFloat:
      AppendBigEndian<int32_t>(out, std::bit_cast<int32_t>(vector.Get<float>(row)));
      break;
    case TypeId::kDouble:
      AppendBigEndian<int64_t>(out, std::bit_cast<int64_t>(vector.Get<double>(row)));
      break;
    case TypeId::kDate: {
      // DuckDB's infinities (±INT32_MAX) map to PostgreSQL's (INT32_MAX, INT32_MIN); the shift
      // to 2000-01-01 is done wide, as DuckDB's first days would overflow it.
      constexpr int32_t kInfinity = std::numeric_limits<int32_t>::max();
      const int32_t days = vector.Get<int32_t>(row);
      if (days == kInfinity || days == -kInfinity) {
        AppendBigEndian<int32_t>(
            out, days == kInfinity ? kInfinity : std::numeric_limits<int32_t>::min());
        break;
      }
      const int64_t shifted = int64_t{days} - kDaysFrom1970To2000;
      if (shifted <= std::numeric_limits<int32_t>::min()) {
        return Status::InvalidArgument("date out of range for PostgreSQL's binary format")
            .WithSqlState("22008")
            .WithHint("ask for text results");
      }
      AppendBigEndian<int32_t>(out, static_cast<int32_t>(shifted));
      break;
    }
    case TypeId::kTime:
      AppendBigEndian<int64_t>(out, vector.Get<int64_t>(row));
      break;
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz: {
      const int64_t micros = vector.Get<int64_t>(row);
      // DuckDB's infinities map to PostgreSQL's.
      if (micros == std::numeric_limits<int64_t>::max() ||
          micros == std::numeric_limits<int64_t>::min() + 1) {
        AppendBigEndian<int64_t>(out, micros == std::numeric_limits<int64_t>::max()
                                          ? std::numeric_limits<int64_t>::max()
                                          : std::numeric_limits<int64_t>::min());
      } else {
        AppendBigEndian<int64_t>(out, micros - kMicrosFrom1970To2000);
      }
      break;
    }
    case TypeId::kVarchar:
    case TypeId::kBlob:
      out += vector.GetString(row);
      break;
    case TypeId::kEnum:
      return vector.AppendText(row, out);
    case TypeId::kUuid: {
      // DuckDB keeps a UUID as a HUGEINT with the top bit flipped (so it sorts like its bytes).
      const auto value = vector.Get<engine::HugeInt>(row);
      AppendBigEndian<uint64_t>(out, static_cast<uint64_t>(value.upper) ^ (uint64_t{1} << 63));
      AppendBigEndian<uint64_t>(out, value.lower);
      break;
    }
    case TypeId::kDecimal: {
      const engine::Type& type = vector.type();
      __int128 unscaled = 0;
      switch (type.decimal_storage) {
        case TypeId::kSmallInt:
          unscaled = vector.Get<int16_t>(row);
          break;
        case TypeId::kInteger:
          unscaled = vector.Get<int32_t>(row);
          break;
        case TypeId::kBigInt:
          unscaled = vector.Get<int64_t>(row);
          break;
        default: {
          const auto value = vector.Get<engine::HugeInt>(row);
          unscaled = static_cast<__int128>(
              (static_cast<unsigned __int128>(static_cast<uint64_t>(value.upper)) << 64) |
              value.lower);
        }
      }
      AppendNumericBinary(out, unscaled, type.decimal_scale);
      break;
    }
    case TypeId::kHugeInt:
    case TypeId::kUBigInt: {
      std::string text;
      MW_RETURN_IF_ERROR(vector.AppendText(row, text));
      AppendNumericBinary(out, text);
      break;
    }
    default:
      return Status::NotImplemented("binary format for type {} is not supported",
                                    vector.type().ToString())
          .WithHint("ask for text results");
  }
  return Status::OK();
}

Result<std::string> BinaryParameterAsText(int32_t oid, std::string_view bytes) {
  const auto wrong = [&](size_t expected) {
    return Status::InvalidArgument(
        "insufficient data left in message: a binary parameter of type {} needs {} bytes, got {}",
        oid, expected, bytes.size());
  };
  switch (oid) {
    case 16:
      if (bytes.size() != 1) return wrong(1);
      return std::string(bytes[0] != 0 ? "true" : "false");
    case 21:
      if (bytes.size() != 2) return wrong(2);
      return std::to_string(static_cast<int16_t>(ReadBigEndian(bytes)));
    case 23:
      if (bytes.size() != 4) return wrong(4);
      return std::to_string(static_cast<int32_t>(ReadBigEndian(bytes)));
    case 20:
      if (bytes.size() != 8) return wrong(8);
      return std::to_string(static_cast<int64_t>(ReadBigEndian(bytes)));
    case 700:
      if (bytes.size() != 4) return wrong(4);
      return fmt::format("{}", std::bit_cast<float>(static_cast<uint32_t>(ReadBigEndian(bytes))));
    case 701:
      if (bytes.size() != 8) return wrong(8);
      return fmt::format("{}", std::bit_cast<double>(ReadBigEndian(bytes)));
    case 0:
    case 25:
    case 1043:
    case 705:
      // Text in binary format is still text: it must be UTF-8 before DuckDB sees it.
      if (!ValidUtf8(bytes)) {
        return Status::InvalidArgument(
                   "invalid byte sequence for encoding \"UTF8\" in a binary parameter of type {}",
                   oid)
            .WithSqlState("22021");
      }
      return std::string(bytes);
    default:
      return Status::NotImplemented("binary parameters of type {} are not supported", oid)
          .WithHint("send the parameter in text format");
  }
}

}  // namespace meshwork::server::pg
