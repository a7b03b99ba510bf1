#include <libpq-fe.h>

#include <charconv>
#include <cstring>

#include "metastore/sql_connection.h"

namespace meshwork::metastore {
namespace {

struct ResultHolder {
  PGresult* result;
  explicit ResultHolder(PGresult* r) : result(r) {}
  ResultHolder(const ResultHolder&) = delete;
  ResultHolder& operator=(const ResultHolder&) = delete;
  ~ResultHolder() { PQclear(result); }
};

class PostgresqlConnection final : public SqlConnection {
 public:
  PostgresqlConnection(PGconn* connection, std::string redacted_url)
      : connection_(connection), url_(std::move(redacted_url)) {}
  ~PostgresqlConnection() override { PQfinish(connection_); }

  SqlDialect dialect() const override { return SqlDialect::kPostgresql; }
  bool healthy() const override { return PQstatus(connection_) == CONNECTION_OK; }

  Result<std::vector<SqlRow>> Query(std::string_view sql,
                                    const std::vector<SqlValue>& params) override {
    MW_ASSIGN_OR_RETURN(auto holder, Run(sql, params));
    std::vector<SqlRow> rows;
    const int count = PQntuples(holder->result);
    const int columns = PQnfields(holder->result);
    rows.reserve(count);
    for (int r = 0; r < count; ++r) {
      SqlRow& row = rows.emplace_back();
      row.values.reserve(columns);
      for (int c = 0; c < columns; ++c) {
        if (PQgetisnull(holder->result, r, c)) {
          row.values.emplace_back(std::nullopt);
        } else {
          row.values.emplace_back(
              std::string(PQgetvalue(holder->result, r, c), PQgetlength(holder->result, r, c)));
        }
      }
    }
    return rows;
  }

  Result<int64_t> Execute(std::string_view sql, const std::vector<SqlValue>& params) override {
    MW_ASSIGN_OR_RETURN(auto holder, Run(sql, params));
    const char* affected = PQcmdTuples(holder->result);
    int64_t count = 0;
    std::from_chars(affected, affected + std::strlen(affected), count);
    return count;
  }

  Status ExecuteScript(std::string_view sql) override {
    const std::string text(sql);
    ResultHolder holder(PQexec(connection_, text.c_str()));
    return Check(holder.result, sql);
  }

  Status Begin() override { return ExecuteScript("BEGIN"); }
  Status Commit() override { return ExecuteScript("COMMIT"); }
  Status Rollback() override {
    if (PQtransactionStatus(connection_) == PQTRANS_IDLE) return Status::OK();
    return ExecuteScript("ROLLBACK");
  }

 private:
  Result<std::unique_ptr<ResultHolder>> Run(std::string_view sql,
                                            const std::vector<SqlValue>& params) {
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (size_t i = 0; i < params.size(); ++i) {
      if (const auto* number = std::get_if<int64_t>(&params[i])) {
        texts[i] = std::to_string(*number);
        values[i] = texts[i].c_str();
      } else if (const auto* string = std::get_if<std::string>(&params[i])) {
        // Text parameters end at the first NUL byte in libpq; callers refuse such values.
        values[i] = string->c_str();
      }
    }
    const std::string text(sql);
    auto holder = std::make_unique<ResultHolder>(
        PQexecParams(connection_, text.c_str(), static_cast<int>(params.size()), nullptr,
                     values.data(), nullptr, nullptr, 0));
    MW_RETURN_IF_ERROR(Check(holder->result, sql));
    return holder;
  }

  Status Check(PGresult* result, std::string_view sql) const {
    const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Status::OK();
    std::string message = result ? PQresultErrorMessage(result) : PQerrorMessage(connection_);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    const std::string sqlstate = state ? state : "";
    const std::string what = fmt::format("PostgreSQL metastore {}: {}", url_, message);
    if (!healthy() || sqlstate.starts_with("08") || sqlstate == "57P01") {
      return Status::Unavailable("{}", what)
          .WithSqlState(sqlstate.empty() ? "08006" : sqlstate)
          .WithHint("check that PostgreSQL is running and reachable; meshwork reconnects");
    }
    if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") {
      return Status::Unavailable("{}", what).WithSqlState(sqlstate).WithHint("retry");
    }
    if (sqlstate == "23505") return Status::AlreadyExists("{}", what).WithSqlState(sqlstate);
    if (sqlstate == "23503") return Status::FailedPrecondition("{}", what).WithSqlState(sqlstate);
    if (sqlstate == "53100" || sqlstate == "53200") {
      return Status::IOError("{}", what).WithSqlState(sqlstate);
    }
    if (sqlstate == "42501" || sqlstate == "28000" || sqlstate == "28P01") {
      return Status::FailedPrecondition("{}", what)
          .WithSqlState(sqlstate)
          .WithHint("grant the metastore user rights on its database and schema");
    }
    return Status::Internal("{} (in: {})", what, sql.substr(0, 200)).WithSqlState(sqlstate);
  }

  PGconn* connection_;
  std::string url_;
};

}  // namespace

Result<std::unique_ptr<SqlConnection>> OpenPostgresql(const std::string& url) {
  PGconn* connection = PQconnectdb(url.c_str());
  if (connection == nullptr) return Status::Internal("libpq could not allocate a connection");
  if (PQstatus(connection) != CONNECTION_OK) {
    std::string message = PQerrorMessage(connection);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    PQfinish(connection);
    return Status::Unavailable("cannot connect to the PostgreSQL metastore {}: {}", RedactUrl(url),
                               message)
        .WithHint(
            "check host, port, database, user and password in --metastore, and that PostgreSQL "
            "accepts connections from this machine");
  }
  auto wrapped = std::make_unique<PostgresqlConnection>(connection, RedactUrl(url));
  // Metastore notices (e.g. "relation already exists, skipping") are not the user's concern.
  MW_RETURN_IF_ERROR(wrapped->ExecuteScript("SET client_min_messages = warning"));
  return std::unique_ptr<SqlConnection>(std::move(wrapped));
}

}  // namespace meshwork::metastore
