#pragma once
// The SQL firewall (DESIGN §6): user SQL reaches the engine only as one read-only query over
// catalog names. DuckDB parses it (json_serialize_sql, which serializes SELECT statements only);
// the syntax tree is then walked for what a read-only query over the mesh may not do: read files
// or other sources through table functions, call functions that reach the environment or the
// engine's own state, or name tables in another catalog. Every refusal names the construct and
// its position in the SQL.
//
// The engine connection's lock-down (file access only under the warehouse) is the second wall.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "engine/connection.h"

namespace meshwork::query {

/// A table the query names: `domain.port` (schema and table), with its time-travel clause.
struct TableReference {
  std::string schema;  // empty: resolved through the search path
  std::string table;
  std::string alias;
  /// AT (VERSION => ...) / AT (TIMESTAMP => ...): the unit and the literal text; empty if none.
  std::string at_unit;
  std::string at_value;
  int64_t position = 0;  // 0-based byte offset in the SQL
};

enum class StatementKind { kQuery, kExplain, kSet, kReset, kShow, kDescribe };

struct CheckedQuery {
  StatementKind kind = StatementKind::kQuery;
  /// kSet/kReset/kShow: the lower-cased option name ("all" for SHOW ALL / RESET ALL).
  std::string setting;
  /// kSet: the value as text ("default" for SET x TO DEFAULT).
  std::string setting_value;
  /// kDescribe: the table named.
  TableReference described;
  /// The statement's syntax tree (DuckDB's json_serialize_sql output), for the rewrite.
  std::string tree_json;
  std::vector<TableReference> tables;
  bool explain = false;  // EXPLAIN <query>: the SQL without the keyword is in `sql`
  std::string sql;
};

/// Parses `sql` on `connection` (any DuckDB connection; nothing is run) and checks it.
/// invalid_argument with the construct and position (a SourceLocation with line and column in
/// the SQL) when refused.
Result<CheckedQuery> CheckQuery(engine::Connection& connection, std::string_view sql);

/// The SQL of a syntax tree (json_deserialize_sql of json_serialize_sql's output).
Result<std::string> RenderQuery(engine::Connection& connection, const std::string& tree_json);

}  // namespace meshwork::query
