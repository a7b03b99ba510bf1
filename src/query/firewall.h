#pragma once
// The SQL firewall (DESIGN §6): user SQL reaches the engine only as one read-only query over
// catalog names. DuckDB parses it (json_serialize_sql, which serializes SELECT statements only);
// the syntax tree is then walked for what a read-only query over the mesh may not do: read files
// or other sources through table functions or replacement scans (`FROM 'x.csv'`), call functions
// that reach the environment or the engine's own state, or name tables in another catalog.
//
// Session statements that PostgreSQL drivers and psql send (SET, RESET, SHOW, DESCRIBE) are not
// serializable, so a small strict tokenizer of our own reads them; they are classified, never run
// here: the front end applies a SET to its session state. Only a whitelist of harmless session
// options may be set; everything else (the lock-down's own settings first of all) is refused.
//
// Every refusal names the construct and its line and column in the SQL. The engine connection's
// lock-down (file access only under the warehouse) is the second wall.

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

/// What an accepted statement is; the front end dispatches on it.
enum class StatementKind {
  kQuery,     // SELECT / WITH / VALUES / FROM / PIVOT ...: `tree_json`, `tables`
  kExplain,   // EXPLAIN <query>: as kQuery; in `sql` the keyword is blanked out
  kSet,       // SET option {=|TO} value: `setting`, `setting_value`
  kReset,     // RESET option / RESET ALL: `setting` ("all")
  kShow,      // SHOW option / SHOW ALL: `setting` ("all")
  kDescribe,  // DESCRIBE [mesh.]domain.port: `described`
};

struct CheckedQuery {
  /// The statement's syntax tree (DuckDB's json_serialize_sql output), for the rewrite; empty
  /// unless kQuery or kExplain.
  std::string tree_json;
  /// Every base table the query reads (CTE names excluded), in the order written. Tables in the
  /// schemas pg_catalog and information_schema (also mesh.information_schema, mesh.catalog.<t>)
  /// come through like domain.port: the caller routes them to its metadata database.
  std::vector<TableReference> tables;
  bool explain = false;  // kind == kExplain
  /// kQuery/kExplain: the SQL to parse again or run. For EXPLAIN the keyword is blanked out
  /// (replaced by spaces), so positions in `tree_json` and `tables` are positions in the input.
  std::string sql;
  StatementKind kind = StatementKind::kQuery;
  /// kSet/kReset/kShow: the option, lower-cased ("timezone" also for SET TIME ZONE, "all" for
  /// SHOW ALL / RESET ALL, "transaction_isolation" for SHOW TRANSACTION ISOLATION LEVEL).
  std::string setting;
  /// kSet: the value as text: a string literal unquoted, a number as written, an identifier as
  /// written (search_path: lower-cased unless quoted), several values joined by "," (search_path,
  /// datestyle); "default" for DEFAULT (and SET TIME ZONE LOCAL); "UTF8" for any accepted
  /// client_encoding spelling.
  std::string setting_value;
  /// kDescribe: the table named (DESCRIBE domain.port, mesh.domain.port, quoted names).
  TableReference described;
};

/// Parses `sql` on `connection` (any DuckDB connection; nothing is run) and checks it: one
/// statement, a read-only query over catalog names or a session statement (SET/RESET of the
/// whitelisted session options, SHOW of those and of a few read-only server parameters, SHOW
/// ALL, DESCRIBE of a table). `SHOW TABLES` and `SUMMARIZE` are refused with a hint to query
/// information_schema instead. A SET is not applied: the caller applies it to its session.
/// invalid_argument with the construct and position (a SourceLocation with line and column in
/// the SQL) when refused.
Result<CheckedQuery> CheckQuery(engine::Connection& connection, std::string_view sql);

/// Session options a SET or RESET may change (lower-cased), for the front ends' session state.
const std::vector<std::string>& SettableOptions();

/// The SQL of a syntax tree (json_deserialize_sql of json_serialize_sql's output).
Result<std::string> RenderQuery(engine::Connection& connection, const std::string& tree_json);

}  // namespace meshwork::query
