#pragma once
// Writing SQL text for DuckDB safely: quoted identifiers and strings, typed literals. Every piece
// of user or file-derived text that goes into generated SQL passes through one of these.

#include <string>
#include <string_view>

#include "iceberg/literal.h"

namespace meshwork::iceberg {

/// "a""b" for a"b.
std::string QuoteIdentifier(std::string_view name);
/// 'it''s' for it's.
std::string QuoteString(std::string_view text);
/// A typed DuckDB literal: DATE '2026-01-02', CAST('1.50' AS DECIMAL(12,2)), ...
std::string LiteralSql(const Literal& value);

}  // namespace meshwork::iceberg
