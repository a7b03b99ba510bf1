#pragma once
// One DuckDB connection: a session with its own transaction and settings. Not thread-safe,
// except Interrupt() and Progress(), which other threads may call while a query runs.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "engine/appender.h"
#include "engine/prepared_statement.h"
#include "engine/query_result.h"
#include "engine/scalar_function.h"

namespace meshwork::engine {

struct ConnectionHandle;

struct QueryProgress {
  /// 0..100, or -1 when no query runs or DuckDB cannot estimate.
  double percentage = -1;
  uint64_t rows_processed = 0;
  uint64_t total_rows_to_process = 0;
};

class Connection {
 public:
  explicit Connection(std::shared_ptr<ConnectionHandle> handle);
  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;
  ~Connection();

  /// Runs `sql`, which may hold several statements: all but the last run to completion, the
  /// last one's result streams. A streaming result is invalidated by the next query on this
  /// connection.
  Result<QueryResult> Query(std::string_view sql);
  /// Runs `sql` (one or more statements) and discards any result.
  Status Execute(std::string_view sql);
  /// Runs a query and returns every row as text (NULL as "NULL"); for small results.
  Result<std::vector<std::vector<std::string>>> QueryText(std::string_view sql);

  Result<PreparedStatement> Prepare(std::string_view sql);
  Result<Appender> CreateAppender(std::string_view schema, std::string_view table);
  Status RegisterScalarFunction(ScalarFunctionSpec spec);

  /// Cancels the running query; it fails with a `cancelled` status. Safe from any thread.
  void Interrupt() const;
  /// Progress of the running query. Safe from any thread.
  QueryProgress Progress() const;

  /// Restricts SQL file access to `allowed_directories` (read_parquet, read_csv, COPY, ATTACH,
  /// glob, ...), forbids extension loading, and locks the configuration so no SET can undo it.
  /// DuckDB holds these settings per database, not per connection: this locks every connection
  /// of the database, now and later. Run it on a database dedicated to untrusted SQL.
  Status LockDown(const std::vector<std::string>& allowed_directories);

 private:
  std::shared_ptr<ConnectionHandle> handle_;
};

}  // namespace meshwork::engine
