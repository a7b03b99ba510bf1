#pragma once
// Text → Literal for a given Iceberg type: the values DuckDB prints (statistics, query results)
// and what users type on the command line.

#include <string_view>

#include "common/result.h"
#include "iceberg/literal.h"

namespace meshwork::iceberg {

/// Accepts: true/false; integers; floats incl. nan/inf; decimals "12.5" (at most `scale`
/// fraction digits); dates "2024-03-05"; times "13:04:05[.ffffff]"; timestamps
/// "2024-03-05 13:04:05[.ffffff]" or with 'T'; timestamptz the same with an optional offset
/// ("+00", "+02:00", "Z"; none means UTC); uuids in 8-4-4-4-12 hex; strings as they are.
Result<Literal> ParseLiteralText(const TypePtr& type, std::string_view text);

}  // namespace meshwork::iceberg
