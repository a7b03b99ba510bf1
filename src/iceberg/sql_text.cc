#include "iceberg/sql_text.h"

#include <fmt/format.h>

namespace meshwork::iceberg {

std::string QuoteIdentifier(std::string_view name) {
  std::string quoted = "\"";
  for (char c : name) {
    quoted += c;
    if (c == '"') quoted += '"';
  }
  return quoted + "\"";
}

std::string LiteralSql(const Literal& value) {
  auto quoted = [](const std::string& text) { return QuoteString(text); };
  switch (value.type()->kind()) {
    case TypeKind::kBoolean:
    case TypeKind::kInt:
    case TypeKind::kLong:
      return value.ToString();
    case TypeKind::kFloat:
    case TypeKind::kDouble:
      return fmt::format("CAST({} AS DOUBLE)", quoted(value.ToString()));
    case TypeKind::kDecimal:
      return fmt::format("CAST({} AS DECIMAL({},{}))", quoted(value.ToString()),
                         value.type()->precision(), value.type()->scale());
    case TypeKind::kDate:
      return fmt::format("DATE {}", quoted(value.ToString()));
    case TypeKind::kTime:
      return fmt::format("TIME {}", quoted(value.ToString()));
    case TypeKind::kTimestamp:
      return fmt::format("TIMESTAMP {}", quoted(value.ToString()));
    case TypeKind::kTimestampTz:
      return fmt::format("TIMESTAMPTZ {}", quoted(value.ToString()));
    case TypeKind::kUuid:
      return fmt::format("UUID {}", quoted(value.ToString()));
    case TypeKind::kString:
      return quoted(value.as<std::string>());
    default: {
      std::string hex;
      for (unsigned char c : value.as<Bytes>().data)
        hex += fmt::format("\\x{:02X}", c);
      return fmt::format("CAST({} AS BLOB)", quoted(hex));
    }
  }
}

std::string QuoteString(std::string_view text) {
  std::string quoted = "'";
  for (char c : text) {
    quoted += c;
    if (c == '\'') quoted += '\'';
  }
  return quoted + "'";
}

}  // namespace meshwork::iceberg
