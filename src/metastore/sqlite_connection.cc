#include <sqlite3.h>

#include <cctype>

#include "metastore/sql_connection.h"

namespace meshwork::metastore {

namespace {

// How long a writer waits for another process's write lock before giving up.
constexpr int kBusyTimeoutMillis = 10'000;

// "$12" → "?12": the metastore writes PostgreSQL-style parameters; SQLite numbers its own the
// same way with '?'. Our statements hold no '$' inside string literals.
std::string ToSqliteParameters(std::string_view sql) {
  std::string out(sql);
  for (size_t i = 0; i + 1 < out.size(); ++i) {
    if (out[i] == '$' && std::isdigit(static_cast<unsigned char>(out[i + 1]))) out[i] = '?';
  }
  return out;
}

class SqliteConnection final : public SqlConnection {
 public:
  SqliteConnection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteConnection() override { sqlite3_close_v2(db_); }

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  bool healthy() const override { return true; }

  Result<std::vector<SqlRow>> Query(std::string_view sql,
                                    const std::vector<SqlValue>& params) override {
    std::vector<SqlRow> rows;
    MW_RETURN_IF_ERROR(Run(sql, params, &rows));
    return rows;
  }

  Result<int64_t> Execute(std::string_view sql, const std::vector<SqlValue>& params) override {
    MW_RETURN_IF_ERROR(Run(sql, params, nullptr));
    return static_cast<int64_t>(sqlite3_changes64(db_));
  }

  Status ExecuteScript(std::string_view sql) override {
    char* error = nullptr;
    const std::string text(sql);
    const int code = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
    if (code != SQLITE_OK) {
      Status status = Error(code, error ? error : sqlite3_errstr(code), sql);
      sqlite3_free(error);
      return status;
    }
    return Status::OK();
  }

  Status Begin() override { return ExecuteScript("BEGIN IMMEDIATE"); }
  Status Commit() override { return ExecuteScript("COMMIT"); }
  Status Rollback() override {
    // After some errors SQLite has already rolled back; a second rollback is then an error
    // that carries no information.
    if (sqlite3_get_autocommit(db_)) return Status::OK();
    return ExecuteScript("ROLLBACK");
  }

 private:
  Status Error(int code, std::string_view message, std::string_view sql) const {
    const int primary = code & 0xff;
    std::string what = fmt::format("SQLite metastore {}: {}", path_, message);
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
      return Status::Unavailable("{} (another process held the write lock for {} s)", what,
                                 kBusyTimeoutMillis / 1000)
          .WithSqlState("40001")
          .WithHint("retry; if it persists, look for a stuck process using the metastore file");
    }
    if (code == SQLITE_CONSTRAINT_PRIMARYKEY || code == SQLITE_CONSTRAINT_UNIQUE) {
      return Status::AlreadyExists("{}", what).WithSqlState("23505");
    }
    if (code == SQLITE_CONSTRAINT_FOREIGNKEY) {
      return Status::FailedPrecondition("{}", what).WithSqlState("23503");
    }
    if (primary == SQLITE_FULL || primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN ||
        primary == SQLITE_READONLY) {
      return Status::IOError("{}", what)
          .WithHint("check that the data directory is writable and its disk is not full");
    }
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
      return Status::FailedPrecondition("{}", what)
          .WithHint("the file is not a healthy SQLite database; restore it from a backup");
    }
    return Status::Internal("{} (in: {})", what, sql.substr(0, 200));
  }

  Status Run(std::string_view sql, const std::vector<SqlValue>& params, std::vector<SqlRow>* rows) {
    const std::string text = ToSqliteParameters(sql);
    sqlite3_stmt* statement = nullptr;
    int code =
        sqlite3_prepare_v2(db_, text.c_str(), static_cast<int>(text.size()), &statement, nullptr);
    if (code != SQLITE_OK) return Error(code, sqlite3_errmsg(db_), sql);
    for (size_t i = 0; i < params.size() && code == SQLITE_OK; ++i) {
      const int index = static_cast<int>(i) + 1;
      if (const auto* number = std::get_if<int64_t>(&params[i])) {
        code = sqlite3_bind_int64(statement, index, *number);
      } else if (const auto* string = std::get_if<std::string>(&params[i])) {
        code = sqlite3_bind_text(statement, index, string->data(), static_cast<int>(string->size()),
                                 SQLITE_TRANSIENT);
      } else {
        code = sqlite3_bind_null(statement, index);
      }
    }
    if (code != SQLITE_OK) {
      Status status = Error(code, sqlite3_errmsg(db_), sql);
      sqlite3_finalize(statement);
      return status;
    }
    const int columns = sqlite3_column_count(statement);
    while ((code = sqlite3_step(statement)) == SQLITE_ROW) {
      if (rows == nullptr) continue;
      SqlRow& row = rows->emplace_back();
      row.values.reserve(columns);
      for (int c = 0; c < columns; ++c) {
        if (sqlite3_column_type(statement, c) == SQLITE_NULL) {
          row.values.emplace_back(std::nullopt);
        } else {
          const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(statement, c));
          row.values.emplace_back(std::string(data, sqlite3_column_bytes(statement, c)));
        }
      }
    }
    Status status;
    if (code != SQLITE_DONE)
      status = Error(sqlite3_extended_errcode(db_), sqlite3_errmsg(db_), sql);
    sqlite3_finalize(statement);
    return status;
  }

  sqlite3* db_;
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<SqlConnection>> OpenSqlite(const std::string& path) {
  sqlite3* db = nullptr;
  const int code = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (code != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(code);
    sqlite3_close_v2(db);
    return Status::IOError("cannot open the SQLite metastore {}: {}", path, message)
        .WithHint("check that the data directory exists and is writable");
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMillis);
  auto connection = std::make_unique<SqliteConnection>(db, path);
  // WAL: readers never wait for the writer; NORMAL sync is durable across process crashes
  // (only a power loss can take back the last commits).
  MW_RETURN_IF_ERROR(connection->ExecuteScript(
      "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"));
  return std::unique_ptr<SqlConnection>(std::move(connection));
}

}  // namespace meshwork::metastore
