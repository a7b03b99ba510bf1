#include "engine/types.h"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

#include "common/time.h"
#include "engine/internal.h"

namespace meshwork::engine {

#define MESHWORK_SAME_TYPE_ID(ours, theirs) \
  static_assert(static_cast<int>(TypeId::ours) == static_cast<int>(theirs))
MESHWORK_SAME_TYPE_ID(kBoolean, DUCKDB_TYPE_BOOLEAN);
MESHWORK_SAME_TYPE_ID(kBigInt, DUCKDB_TYPE_BIGINT);
MESHWORK_SAME_TYPE_ID(kTimestamp, DUCKDB_TYPE_TIMESTAMP);
MESHWORK_SAME_TYPE_ID(kVarchar, DUCKDB_TYPE_VARCHAR);
MESHWORK_SAME_TYPE_ID(kDecimal, DUCKDB_TYPE_DECIMAL);
MESHWORK_SAME_TYPE_ID(kUuid, DUCKDB_TYPE_UUID);
MESHWORK_SAME_TYPE_ID(kTimestampTz, DUCKDB_TYPE_TIMESTAMP_TZ);
MESHWORK_SAME_TYPE_ID(kUHugeInt, DUCKDB_TYPE_UHUGEINT);
MESHWORK_SAME_TYPE_ID(kArray, DUCKDB_TYPE_ARRAY);
MESHWORK_SAME_TYPE_ID(kTimeNanos, DUCKDB_TYPE_TIME_NS);
#undef MESHWORK_SAME_TYPE_ID
static_assert(sizeof(Interval) == sizeof(duckdb_interval));
static_assert(sizeof(HugeInt) == sizeof(duckdb_hugeint));
static_assert(sizeof(Vector::ListEntry) == sizeof(duckdb_list_entry));

Type Type::Decimal(uint8_t width, uint8_t scale) {
  Type type(TypeId::kDecimal);
  type.decimal_width = width;
  type.decimal_scale = scale;
  type.decimal_storage = width <= 4    ? TypeId::kSmallInt
                         : width <= 9  ? TypeId::kInteger
                         : width <= 18 ? TypeId::kBigInt
                                       : TypeId::kHugeInt;
  return type;
}

Type Type::List(Type child) {
  Type type(TypeId::kList);
  type.children.push_back(std::move(child));
  return type;
}

Type Type::Struct(std::vector<std::pair<std::string, Type>> members) {
  Type type(TypeId::kStruct);
  for (auto& [name, member] : members) {
    type.child_names.push_back(std::move(name));
    type.children.push_back(std::move(member));
  }
  return type;
}

Type Type::Map(Type key, Type value) {
  Type type(TypeId::kMap);
  type.children.push_back(std::move(key));
  type.children.push_back(std::move(value));
  return type;
}

namespace {

std::string_view PrimitiveName(TypeId id) {
  switch (id) {
    case TypeId::kBoolean:
      return "BOOLEAN";
    case TypeId::kTinyInt:
      return "TINYINT";
    case TypeId::kSmallInt:
      return "SMALLINT";
    case TypeId::kInteger:
      return "INTEGER";
    case TypeId::kBigInt:
      return "BIGINT";
    case TypeId::kUTinyInt:
      return "UTINYINT";
    case TypeId::kUSmallInt:
      return "USMALLINT";
    case TypeId::kUInteger:
      return "UINTEGER";
    case TypeId::kUBigInt:
      return "UBIGINT";
    case TypeId::kFloat:
      return "FLOAT";
    case TypeId::kDouble:
      return "DOUBLE";
    case TypeId::kTimestamp:
      return "TIMESTAMP";
    case TypeId::kDate:
      return "DATE";
    case TypeId::kTime:
      return "TIME";
    case TypeId::kInterval:
      return "INTERVAL";
    case TypeId::kHugeInt:
      return "HUGEINT";
    case TypeId::kUHugeInt:
      return "UHUGEINT";
    case TypeId::kVarchar:
      return "VARCHAR";
    case TypeId::kBlob:
      return "BLOB";
    case TypeId::kTimestampSeconds:
      return "TIMESTAMP_S";
    case TypeId::kTimestampMillis:
      return "TIMESTAMP_MS";
    case TypeId::kTimestampNanos:
      return "TIMESTAMP_NS";
    case TypeId::kUuid:
      return "UUID";
    case TypeId::kBit:
      return "BIT";
    case TypeId::kTimeTz:
      return "TIME WITH TIME ZONE";
    case TypeId::kTimestampTz:
      return "TIMESTAMP WITH TIME ZONE";
    case TypeId::kBigNum:
      return "BIGNUM";
    case TypeId::kSqlNull:
      return "\"NULL\"";
    case TypeId::kTimeNanos:
      return "TIME_NS";
    case TypeId::kAny:
      return "ANY";
    default:
      return "";
  }
}

}  // namespace

std::string Type::ToString() const {
  switch (id) {
    case TypeId::kDecimal:
      return fmt::format("DECIMAL({},{})", decimal_width, decimal_scale);
    case TypeId::kList:
      return children.empty() ? "LIST" : children[0].ToString() + "[]";
    case TypeId::kArray:
      return children.empty() ? "ARRAY" : fmt::format("{}[{}]", children[0].ToString(), array_size);
    case TypeId::kMap:
      return children.size() != 2
                 ? "MAP"
                 : fmt::format("MAP({}, {})", children[0].ToString(), children[1].ToString());
    case TypeId::kStruct:
    case TypeId::kUnion: {
      std::string text = id == TypeId::kStruct ? "STRUCT(" : "UNION(";
      for (size_t index = 0; index < children.size(); ++index) {
        if (index > 0) text += ", ";
        text += fmt::format("{} {}", index < child_names.size() ? child_names[index] : "",
                            children[index].ToString());
      }
      return text + ")";
    }
    case TypeId::kEnum: {
      std::string text = "ENUM(";
      for (size_t index = 0; index < enum_values.size(); ++index) {
        if (index > 0) text += ", ";
        text += "'" + enum_values[index] + "'";
      }
      return text + ")";
    }
    default: {
      std::string_view name = PrimitiveName(id);
      return name.empty() ? fmt::format("TYPE{}", static_cast<int>(id)) : std::string(name);
    }
  }
}

Type TypeFromLogical(duckdb_logical_type logical) {
  Type type(static_cast<TypeId>(duckdb_get_type_id(logical)));
  auto take_child = [&](duckdb_logical_type child) {
    LogicalTypeHolder holder(child);
    type.children.push_back(TypeFromLogical(child));
  };
  auto take_name = [&](char* name) {
    type.child_names.emplace_back(name != nullptr ? name : "");
    duckdb_free(name);
  };
  switch (type.id) {
    case TypeId::kDecimal:
      type.decimal_width = duckdb_decimal_width(logical);
      type.decimal_scale = duckdb_decimal_scale(logical);
      type.decimal_storage = static_cast<TypeId>(duckdb_decimal_internal_type(logical));
      break;
    case TypeId::kList:
      take_child(duckdb_list_type_child_type(logical));
      break;
    case TypeId::kArray:
      take_child(duckdb_array_type_child_type(logical));
      type.array_size = duckdb_array_type_array_size(logical);
      break;
    case TypeId::kMap:
      take_child(duckdb_map_type_key_type(logical));
      take_child(duckdb_map_type_value_type(logical));
      break;
    case TypeId::kStruct:
      for (idx_t index = 0; index < duckdb_struct_type_child_count(logical); ++index) {
        take_child(duckdb_struct_type_child_type(logical, index));
        take_name(duckdb_struct_type_child_name(logical, index));
      }
      break;
    case TypeId::kUnion:
      for (idx_t index = 0; index < duckdb_union_type_member_count(logical); ++index) {
        take_child(duckdb_union_type_member_type(logical, index));
        take_name(duckdb_union_type_member_name(logical, index));
      }
      break;
    case TypeId::kEnum:
      type.enum_storage = static_cast<TypeId>(duckdb_enum_internal_type(logical));
      for (idx_t index = 0; index < duckdb_enum_dictionary_size(logical); ++index) {
        char* value = duckdb_enum_dictionary_value(logical, index);
        type.enum_values.emplace_back(value != nullptr ? value : "");
        duckdb_free(value);
      }
      break;
    default:
      break;
  }
  return type;
}

Result<duckdb_logical_type> LogicalFromType(const Type& type) {
  switch (type.id) {
    case TypeId::kDecimal:
      if (type.decimal_width < 1 || type.decimal_width > 38 ||
          type.decimal_scale > type.decimal_width) {
        return Status::InvalidArgument("DECIMAL({},{}) is not a valid type", type.decimal_width,
                                       type.decimal_scale)
            .WithHint("width must be 1..38 and scale at most the width");
      }
      return duckdb_create_decimal_type(type.decimal_width, type.decimal_scale);
    case TypeId::kList: {
      if (type.children.size() != 1) return Status::InvalidArgument("a LIST type needs one child");
      MW_ASSIGN_OR_RETURN(auto child, LogicalFromType(type.children[0]));
      LogicalTypeHolder holder(child);
      return duckdb_create_list_type(child);
    }
    case TypeId::kMap: {
      if (type.children.size() != 2) return Status::InvalidArgument("a MAP type needs key, value");
      MW_ASSIGN_OR_RETURN(auto key, LogicalFromType(type.children[0]));
      LogicalTypeHolder key_holder(key);
      MW_ASSIGN_OR_RETURN(auto value, LogicalFromType(type.children[1]));
      LogicalTypeHolder value_holder(value);
      return duckdb_create_map_type(key, value);
    }
    case TypeId::kStruct: {
      if (type.children.size() != type.child_names.size() || type.children.empty()) {
        return Status::InvalidArgument("a STRUCT type needs one name per member");
      }
      std::vector<std::unique_ptr<LogicalTypeHolder>> holders;
      std::vector<duckdb_logical_type> members;
      std::vector<const char*> names;
      for (size_t index = 0; index < type.children.size(); ++index) {
        MW_ASSIGN_OR_RETURN(auto member, LogicalFromType(type.children[index]));
        holders.push_back(std::make_unique<LogicalTypeHolder>(member));
        members.push_back(member);
        names.push_back(type.child_names[index].c_str());
      }
      return duckdb_create_struct_type(members.data(), names.data(), members.size());
    }
    case TypeId::kArray:
    case TypeId::kUnion:
    case TypeId::kEnum:
    case TypeId::kInvalid:
      return Status::NotImplemented("{} is not supported as a function parameter or result type",
                                    type.ToString());
    default:
      return duckdb_create_logical_type(static_cast<duckdb_type>(type.id));
  }
}

std::string HugeInt::ToString() const {
  const bool negative = upper < 0;
  unsigned __int128 magnitude =
      (static_cast<unsigned __int128>(static_cast<uint64_t>(upper)) << 64) | lower;
  if (negative) magnitude = ~magnitude + 1;
  if (magnitude == 0) return "0";
  std::string digits;
  while (magnitude != 0) {
    digits.push_back(static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  }
  if (negative) digits.push_back('-');
  std::reverse(digits.begin(), digits.end());
  return digits;
}

std::string FormatDecimal(HugeInt unscaled, uint8_t scale) {
  std::string digits = unscaled.ToString();
  const bool negative = !digits.empty() && digits[0] == '-';
  if (negative) digits.erase(0, 1);
  if (scale > 0) {
    if (digits.size() <= scale) digits.insert(0, scale + 1 - digits.size(), '0');
    digits.insert(digits.size() - scale, ".");
  }
  return negative ? "-" + digits : digits;
}

namespace {
constexpr int32_t kDateInfinity = 2147483647;
constexpr int64_t kTimestampInfinity = 9223372036854775807LL;
constexpr int64_t kMicrosPerDay = 86400000000LL;

void AppendFraction(std::string& out, int64_t micros) {
  if (micros == 0) return;
  std::string fraction = fmt::format("{:06d}", micros);
  while (!fraction.empty() && fraction.back() == '0')
    fraction.pop_back();
  out += "." + fraction;
}
}  // namespace

std::string FormatDate(int32_t days) {
  if (days == kDateInfinity) return "infinity";
  if (days == -kDateInfinity) return "-infinity";
  const time::CivilDate date = time::CivilFromDays(days);
  // DuckDB prints year 0 as "0001 (BC)", year -1 as "0002 (BC)": there is no year zero.
  if (date.year <= 0) {
    return fmt::format("{:04d}-{:02d}-{:02d} (BC)", 1 - date.year, date.month, date.day);
  }
  return fmt::format("{:04d}-{:02d}-{:02d}", date.year, date.month, date.day);
}

std::string FormatTime(int64_t micros) {
  std::string out = fmt::format("{:02d}:{:02d}:{:02d}", micros / 3600000000LL,
                                micros / 60000000LL % 60, micros / 1000000 % 60);
  AppendFraction(out, micros % 1000000);
  return out;
}

std::string FormatTimestamp(int64_t micros) {
  if (micros == kTimestampInfinity) return "infinity";
  if (micros == -kTimestampInfinity) return "-infinity";
  int64_t days = micros / kMicrosPerDay;
  int64_t time_of_day = micros % kMicrosPerDay;
  if (time_of_day < 0) {
    time_of_day += kMicrosPerDay;
    --days;
  }
  std::string date = FormatDate(static_cast<int32_t>(days));
  const size_t bc = date.find(" (BC)");
  std::string out = date.substr(0, bc) + " " + FormatTime(time_of_day);
  if (bc != std::string::npos) out += " (BC)";
  return out;
}

namespace {

// Writes `value` as exactly `width` digits at `at`.
void PutDigits(char* at, int64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// "YYYY-MM-DD" into `at` (10 characters) for years 1..9999; false otherwise.
bool PutDate(char* at, int32_t days) {
  const time::CivilDate date = time::CivilFromDays(days);
  if (date.year < 1 || date.year > 9999) return false;
  PutDigits(at, date.year, 4);
  at[4] = '-';
  PutDigits(at + 5, date.month, 2);
  at[7] = '-';
  PutDigits(at + 8, date.day, 2);
  return true;
}

}  // namespace

void AppendDate(std::string& out, int32_t days) {
  char text[10];
  if (days != kDateInfinity && days != -kDateInfinity && PutDate(text, days)) {
    out.append(text, sizeof(text));
  } else {
    out += FormatDate(days);
  }
}

void AppendTimestamp(std::string& out, int64_t micros) {
  if (micros == kTimestampInfinity || micros == -kTimestampInfinity) {
    out += FormatTimestamp(micros);
    return;
  }
  int64_t days = micros / kMicrosPerDay;
  int64_t time_of_day = micros % kMicrosPerDay;
  if (time_of_day < 0) {
    time_of_day += kMicrosPerDay;
    --days;
  }
  char text[26];  // YYYY-MM-DD HH:MM:SS.ffffff
  if (days < INT32_MIN || days > INT32_MAX || !PutDate(text, static_cast<int32_t>(days))) {
    out += FormatTimestamp(micros);
    return;
  }
  text[10] = ' ';
  const int64_t seconds = time_of_day / 1000000;
  PutDigits(text + 11, seconds / 3600, 2);
  text[13] = ':';
  PutDigits(text + 14, seconds / 60 % 60, 2);
  text[16] = ':';
  PutDigits(text + 17, seconds % 60, 2);
  size_t length = 19;
  if (const int64_t fraction = time_of_day % 1000000; fraction != 0) {
    text[19] = '.';
    PutDigits(text + 20, fraction, 6);
    length = 26;
    while (text[length - 1] == '0')  // trailing zeros dropped, as FormatTime does
      --length;
  }
  out.append(text, length);
}

std::string FormatInterval(const Interval& interval) {
  std::string out;
  auto part = [&](int64_t amount, std::string_view unit) {
    if (amount == 0) return;
    if (!out.empty()) out += " ";
    out += fmt::format("{} {}{}", amount, unit, amount == 1 || amount == -1 ? "" : "s");
  };
  part(interval.months / 12, "year");
  part(interval.months % 12, "month");
  part(interval.days, "day");
  if (interval.micros != 0 || out.empty()) {
    if (!out.empty()) out += " ";
    int64_t micros = interval.micros;
    if (micros < 0) {
      out += "-";
      micros = -micros;
    }
    out += fmt::format("{:02d}:{:02d}:{:02d}", micros / 3600000000LL, micros / 60000000LL % 60,
                       micros / 1000000 % 60);
    AppendFraction(out, micros % 1000000);
  }
  return out;
}

}  // namespace meshwork::engine
