#pragma once
// The little SQL the metastore needs, spoken to SQLite or PostgreSQL through one interface, so
// that the metastore's queries are written once. Statements use PostgreSQL's `$1, $2` parameter
// style; the SQLite connection rewrites them to `?1, ?2`. Values travel as text or 64-bit
// integers, NULL as nullopt.
//
// Private to src/metastore.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"

namespace meshwork::metastore {

using SqlValue = std::variant<std::monostate, int64_t, std::string>;

struct SqlRow {
  std::vector<std::optional<std::string>> values;

  bool IsNull(size_t column) const { return !values.at(column).has_value(); }
  /// The column as text ("" for NULL).
  const std::string& Text(size_t column) const;
  /// The column as an integer (0 for NULL or text that is not a number).
  int64_t Int(size_t column) const;
  std::optional<std::string> OptionalText(size_t column) const { return values.at(column); }
};

enum class SqlDialect { kSqlite, kPostgresql };

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  virtual SqlDialect dialect() const = 0;

  /// Runs a statement; returns the rows it produced (none for most writes).
  virtual Result<std::vector<SqlRow>> Query(std::string_view sql,
                                            const std::vector<SqlValue>& params = {}) = 0;
  /// Runs a statement; returns how many rows it inserted, updated or deleted.
  virtual Result<int64_t> Execute(std::string_view sql,
                                  const std::vector<SqlValue>& params = {}) = 0;
  /// Runs statements with no parameters (migrations), separated by ';'.
  virtual Status ExecuteScript(std::string_view sql) = 0;

  /// Starts a read-write transaction that takes the write lock up front (SQLite: BEGIN
  /// IMMEDIATE, so two writers never deadlock upgrading a read lock).
  virtual Status Begin() = 0;
  virtual Status Commit() = 0;
  virtual Status Rollback() = 0;

  /// False after the server closed the connection; the pool then opens a new one.
  virtual bool healthy() const = 0;
};

/// Opens a SQLite database file (created if missing) in WAL mode with a busy timeout and
/// foreign keys on.
Result<std::unique_ptr<SqlConnection>> OpenSqlite(const std::string& path);

/// Connects to PostgreSQL; `url` is a libpq connection URI or keyword/value string.
Result<std::unique_ptr<SqlConnection>> OpenPostgresql(const std::string& url);

/// `url` with any password replaced by "***", for messages and logs.
std::string RedactUrl(std::string_view url);

}  // namespace meshwork::metastore
