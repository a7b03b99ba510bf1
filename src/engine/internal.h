#pragma once
// Private to src/engine: the only header that includes duckdb.h.

#include <duckdb.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "engine/database.h"
#include "engine/query_result.h"
#include "engine/scalar_function.h"
#include "engine/types.h"

namespace meshwork::engine {

struct DatabaseHandle {
  duckdb_database database = nullptr;
  DatabaseOptions options;
  // Set by Connection::LockDown: from then on no connection can change its settings.
  std::atomic<bool> locked{false};
  // A connection prepared just before the lock-down (progress tracking on), handed out by the
  // next Connect().
  std::mutex spare_mutex;
  duckdb_connection spare = nullptr;
  ~DatabaseHandle() {
    if (spare != nullptr) duckdb_disconnect(&spare);
    if (database != nullptr) duckdb_close(&database);
  }
};

struct ConnectionHandle {
  // Keeps the database open while this connection (or a result or statement of it) lives.
  std::shared_ptr<DatabaseHandle> database;
  duckdb_connection connection = nullptr;
  ~ConnectionHandle() {
    if (connection != nullptr) duckdb_disconnect(&connection);
  }
};

/// A DuckDB error as a Status: the code follows DuckDB's error class (syntax → invalid_argument,
/// permission → permission_denied, interrupt → cancelled, ...), with a matching SQLSTATE so the
/// PostgreSQL wire can report it, and `sql` (shortened) as context.
Status ErrorToStatus(duckdb_error_type type, std::string_view message, std::string_view sql);

/// The error of an appender as a Status (the error data carries DuckDB's error class).
Status AppenderErrorToStatus(duckdb_appender appender);

/// The full type of a logical type handle (which the caller still owns).
Type TypeFromLogical(duckdb_logical_type logical);
/// A new logical type handle for `type`; the caller destroys it.
Result<duckdb_logical_type> LogicalFromType(const Type& type);

/// RAII for logical type handles.
struct LogicalTypeHolder {
  duckdb_logical_type handle = nullptr;
  explicit LogicalTypeHolder(duckdb_logical_type logical) : handle(logical) {}
  LogicalTypeHolder(const LogicalTypeHolder&) = delete;
  LogicalTypeHolder& operator=(const LogicalTypeHolder&) = delete;
  ~LogicalTypeHolder() {
    if (handle != nullptr) duckdb_destroy_logical_type(&handle);
  }
};

/// Executes a prepared statement with a streaming result (connection.cc).
Result<QueryResult> RunPreparedStatement(const std::shared_ptr<ConnectionHandle>& connection,
                                         duckdb_prepared_statement statement, std::string_view sql);

/// Registers a UDF on a connection (scalar_function.cc).
Status RegisterScalarFunctionImpl(duckdb_connection connection, ScalarFunctionSpec spec);

/// Turns on DuckDB's progress tracking (needed by Connection::Progress) without its printed bar;
/// a per-connection setting that a locked configuration refuses.
Status EnableProgressTracking(duckdb_connection connection);

/// 'text' with quotes doubled, for the few settings that can only be applied as SQL.
std::string QuoteSqlString(std::string_view text);

/// "SELECT a, b FROM t WHERE ..." shortened to `limit` characters on one line, for messages.
std::string AbbreviateSql(std::string_view sql, size_t limit = 120);

}  // namespace meshwork::engine
