#include "engine/connection.h"

#include <fmt/format.h>

#include "engine/internal.h"
#include "engine/query_state.h"

namespace meshwork::engine {

Connection::Connection(std::shared_ptr<ConnectionHandle> handle) : handle_(std::move(handle)) {}
Connection::~Connection() = default;

namespace {

// Runs one prepared statement; `streaming` keeps the result lazy so memory stays bounded.
Result<QueryResult> RunPrepared(const std::shared_ptr<ConnectionHandle>& connection,
                                duckdb_prepared_statement statement, std::string_view sql,
                                bool streaming) {
  duckdb_pending_result pending = nullptr;
  const duckdb_state state = streaming ? duckdb_pending_prepared_streaming(statement, &pending)
                                       : duckdb_pending_prepared(statement, &pending);
  if (state == DuckDBError) {
    const char* error = pending != nullptr ? duckdb_pending_error(pending) : nullptr;
    Status status = ErrorToStatus(DUCKDB_ERROR_INVALID, error ? error : "cannot start query", sql);
    duckdb_destroy_pending(&pending);
    return status;
  }
  duckdb_result result;
  const duckdb_state executed = duckdb_execute_pending(pending, &result);
  duckdb_destroy_pending(&pending);
  if (executed == DuckDBError) {
    const char* error = duckdb_result_error(&result);
    Status status = ErrorToStatus(duckdb_result_error_type(&result),
                                  error != nullptr ? error : "query failed", sql);
    duckdb_destroy_result(&result);
    return status;
  }
  return QueryResult(std::make_unique<QueryState>(connection, result, std::string(sql)));
}

}  // namespace

Result<QueryResult> RunPreparedStatement(const std::shared_ptr<ConnectionHandle>& connection,
                                         duckdb_prepared_statement statement,
                                         std::string_view sql) {
  return RunPrepared(connection, statement, sql, /*streaming=*/true);
}

namespace {

struct ExtractedStatements {
  duckdb_extracted_statements handle = nullptr;
  ~ExtractedStatements() { duckdb_destroy_extracted(&handle); }
};

struct PreparedHolder {
  duckdb_prepared_statement handle = nullptr;
  ~PreparedHolder() { duckdb_destroy_prepare(&handle); }
};

}  // namespace

Result<QueryResult> Connection::Query(std::string_view sql) {
  const std::string text(sql);
  ExtractedStatements statements;
  const idx_t count =
      duckdb_extract_statements(handle_->connection, text.c_str(), &statements.handle);
  if (count == 0) {
    const char* error = duckdb_extract_statements_error(statements.handle);
    if (error == nullptr) {
      return Status::InvalidArgument("the SQL text holds no statement")
          .WithHint("pass at least one SQL statement");
    }
    return ErrorToStatus(DUCKDB_ERROR_PARSER, error, sql);
  }
  for (idx_t index = 0; index < count; ++index) {
    PreparedHolder prepared;
    if (duckdb_prepare_extracted_statement(handle_->connection, statements.handle, index,
                                           &prepared.handle) == DuckDBError) {
      const char* error = duckdb_prepare_error(prepared.handle);
      return ErrorToStatus(DUCKDB_ERROR_INVALID, error ? error : "cannot prepare statement", sql);
    }
    const bool last = index + 1 == count;
    MW_ASSIGN_OR_RETURN(QueryResult result,
                        RunPrepared(handle_, prepared.handle, sql, /*streaming=*/last));
    if (last) return result;
  }
  return Status::Internal("unreachable: no statement ran");
}

Status Connection::Execute(std::string_view sql) {
  MW_ASSIGN_OR_RETURN(QueryResult result, Query(sql));
  while (true) {
    MW_ASSIGN_OR_RETURN(DataChunk chunk, result.Fetch());
    if (!chunk) return Status::OK();
  }
}

Result<std::vector<std::vector<std::string>>> Connection::QueryText(std::string_view sql) {
  MW_ASSIGN_OR_RETURN(QueryResult result, Query(sql));
  return result.FetchAllText();
}

Result<PreparedStatement> Connection::Prepare(std::string_view sql) {
  const std::string text(sql);
  duckdb_prepared_statement statement = nullptr;
  if (duckdb_prepare(handle_->connection, text.c_str(), &statement) == DuckDBError) {
    const char* error = duckdb_prepare_error(statement);
    Status status =
        ErrorToStatus(DUCKDB_ERROR_INVALID, error ? error : "cannot prepare statement", sql);
    duckdb_destroy_prepare(&statement);
    return status;
  }
  return PreparedStatement(handle_, statement, text);
}

Result<Appender> Connection::CreateAppender(std::string_view schema, std::string_view table) {
  const std::string schema_name(schema), table_name(table);
  duckdb_appender appender = nullptr;
  const duckdb_state state = duckdb_appender_create(
      handle_->connection, schema_name.empty() ? nullptr : schema_name.c_str(), table_name.c_str(),
      &appender);
  if (state == DuckDBError) {
    Status status = AppenderErrorToStatus(appender).WithContext(fmt::format(
        "cannot append to table {}{}{}", schema_name, schema_name.empty() ? "" : ".", table_name));
    duckdb_appender_destroy(&appender);
    return status;
  }
  return Appender(handle_, appender,
                  schema_name.empty() ? table_name : schema_name + "." + table_name);
}

void Connection::Interrupt() const {
  duckdb_interrupt(handle_->connection);
}

QueryProgress Connection::Progress() const {
  const duckdb_query_progress_type progress = duckdb_query_progress(handle_->connection);
  return {progress.percentage, progress.rows_processed, progress.total_rows_to_process};
}

Status EnableProgressTracking(duckdb_connection connection) {
  duckdb_result result;
  const bool failed =
      duckdb_query(connection,
                   "SET enable_progress_bar = true; SET enable_progress_bar_print = false",
                   &result) == DuckDBError;
  const std::string error =
      failed && duckdb_result_error(&result) ? duckdb_result_error(&result) : "";
  duckdb_destroy_result(&result);
  if (failed) return Status::Internal("cannot enable progress tracking: {}", error);
  return Status::OK();
}

Status Connection::LockDown(const std::vector<std::string>& allowed_directories) {
  std::string list;
  for (const std::string& directory : allowed_directories) {
    if (directory.empty() || directory[0] != '/') {
      return Status::InvalidArgument("allowed directory '{}' is not an absolute path", directory)
          .WithHint("pass absolute directory paths to LockDown");
    }
    if (directory.find('\0') != std::string::npos) {
      return Status::InvalidArgument("allowed directory contains a NUL byte");
    }
    if (!list.empty()) list += ", ";
    // DuckDB matches allowed directories as path prefixes: end each with '/' so that
    // "/data/warehouse" does not also allow "/data/warehouse-other".
    list += QuoteSqlString(directory.back() == '/' ? directory : directory + "/");
  }
  // Order matters: the directory list must be set while external access is still enabled, and
  // the lock comes last so nothing before it can be undone afterwards.
  const std::string sql = fmt::format(
      "SET allowed_directories = [{}]; SET allowed_paths = []; "
      "SET autoinstall_known_extensions = false; SET autoload_known_extensions = false; "
      "SET enable_external_access = false; SET lock_configuration = true;",
      list);
  DatabaseHandle& database = *handle_->database;
  {
    // The next connection someone asks for is prepared now, while settings can still change.
    std::lock_guard<std::mutex> lock(database.spare_mutex);
    if (database.spare == nullptr && !database.locked) {
      if (duckdb_connect(database.database, &database.spare) == DuckDBError) {
        database.spare = nullptr;
        return Status::Internal("cannot connect to the DuckDB database");
      }
      MW_RETURN_IF_ERROR(EnableProgressTracking(database.spare));
    }
  }
  Status status = Execute(sql);
  if (!status.ok()) return std::move(status).WithContext("cannot lock down the engine");
  database.locked = true;
  return Status::OK();
}

Status Connection::RegisterScalarFunction(ScalarFunctionSpec spec) {
  return RegisterScalarFunctionImpl(handle_->connection, std::move(spec));
}

}  // namespace meshwork::engine
