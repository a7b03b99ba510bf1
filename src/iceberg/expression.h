#pragma once
// Row filters on Iceberg tables: `ts >= '2026-01-01' and amount > 10`. Parsed against the
// table's schema (every literal typed by its column), rendered back to DuckDB SQL (so user text
// never reaches the engine verbatim), and evaluated on file and manifest statistics to prune.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "iceberg/literal.h"
#include "iceberg/schema.h"

namespace meshwork::iceberg {

enum class CompareOp { kEq, kNotEq, kLt, kLtEq, kGt, kGtEq };

struct Expression;
using ExpressionPtr = std::shared_ptr<const Expression>;

struct Expression {
  enum class Kind { kTrue, kAnd, kOr, kCompare, kIn, kIsNull, kNotNull };
  Kind kind = Kind::kTrue;
  ExpressionPtr left, right;  // and / or
  int32_t field_id = 0;       // compare / in / null checks
  std::string column;         // its name, for SQL
  CompareOp op = CompareOp::kEq;
  std::vector<Literal> values;  // one for compare, several for in
};

/// Parses a filter; errors give the position and what was expected. `NOT` is pushed down to the
/// comparisons (NOT a < 1 → a >= 1), which is exact under SQL's NULL semantics for filters.
Result<ExpressionPtr> ParseFilter(std::string_view text, const Schema& schema);
/// DuckDB SQL for the filter with quoted identifiers and typed literals.
std::string FilterToSql(const Expression& expression);

/// Statistics of one column in one file (or of a partition field in one manifest).
struct ColumnRange {
  std::optional<Literal> lower;
  std::optional<Literal> upper;
  /// Whether the column may hold NULLs / non-NULLs (unknown counts as "may").
  bool may_have_null = true;
  bool may_have_value = true;
};

/// Whether rows with values in these ranges might satisfy `expression`; `range_of(field_id)`
/// returns nullopt when nothing is known about a field (then anything might match).
using RangeLookup = std::function<std::optional<ColumnRange>(int32_t field_id)>;
bool MightMatch(const Expression& expression, const RangeLookup& range_of);

}  // namespace meshwork::iceberg
