#pragma once
// Query sessions (DESIGN §6): what every SQL front end (the CLI, POST /api/v1/query, the
// PostgreSQL wire) runs user SQL through.
//
// A QueryService owns one DuckDB database whose file access is locked to the warehouse; each
// Session is one principal's connection to it, with its own settings (search_path, …), so
// nothing one session does affects another. A statement is checked by the firewall, then
//  - data queries: every `domain.port` is resolved through the catalog (READ_DATA checked),
//    pinned to one snapshot, turned into a secure relation (the access policy's column masks
//    and row filter applied first, then a scan of exactly that snapshot's files, pruned by the
//    query's filters), and the rewritten query runs on the session's connection;
//  - metadata queries (pg_catalog, information_schema, mesh.catalog, or no table at all) run on
//    a per-session database holding only descriptions of what the caller may see — what psql's
//    \d commands and BI drivers read on connect;
//  - SET/SHOW/RESET of the few session options a client may change are answered here.
// Each query counts against its principal's concurrency limit and the statement timeout.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/result.h"
#include "engine/query_result.h"
#include "engine/types.h"
#include "engine/vector.h"
#include "query/query.h"

namespace meshwork::engine {
class Connection;
}
namespace meshwork::product {
class ProductService;
}

namespace meshwork::query {

/// What governance applies to one table for one caller, before the caller's query sees it.
struct ColumnMask {
  std::string column;
  std::string expression;  // SQL over the table's columns, e.g. "'****' || right(card, 4)"
  std::string policy;      // the policy's name, for EXPLAIN and audit
};
struct TableAccess {
  std::vector<ColumnMask> masks;
  std::string row_filter;  // SQL predicate over the table's columns; empty: every row
  std::vector<std::string> row_filter_policies;
};

/// The hook for column masks and row filters (implemented by src/governance).
class AccessPolicy {
 public:
  virtual ~AccessPolicy() = default;
  /// `table` is "domain.table"; `columns` its columns in order; `encrypted` those stored
  /// encrypted (the secure relation decrypts them before masks and filters apply).
  virtual Result<TableAccess> ForTable(const catalog::Caller& caller, const std::string& table,
                                       const std::vector<std::string>& columns,
                                       const std::set<std::string>& encrypted) = 0;
  /// Called once on the query engine: the functions the secure relation uses (mesh_decrypt).
  /// Without them a table with encrypted columns cannot be read.
  virtual Status PrepareEngine(engine::Connection&) { return Status::OK(); }
  /// Whether PrepareEngine made mesh_decrypt available.
  virtual bool Decrypts() const { return false; }
};

struct QueryServiceOptions {
  /// The database name clients connect to (PostgreSQL) and the catalog prefix in SQL.
  std::string mesh_name = "mesh";
  /// Queries one principal may run at once; more fail with resource_exhausted.
  int max_queries_per_principal = 8;
  /// DuckDB's memory limit for all queries ("4GB"); empty: DuckDB's default (80% of RAM).
  std::string memory_limit;
  int threads = 0;  // 0: DuckDB's default (all cores)
  /// A statement running longer is cancelled; 0: no limit. Sessions may lower it.
  int64_t statement_timeout_ms = 0;
  /// Optional: product descriptions for mesh.catalog (domains, products, versions).
  product::ProductService* products = nullptr;
  /// Optional: column masks and row filters.
  AccessPolicy* access_policy = nullptr;
};

struct ResultColumn {
  std::string name;
  engine::Type type;
};

/// What a statement will return, without running it (the PostgreSQL Describe message).
struct StatementDescription {
  std::vector<ResultColumn> columns;  // empty: no rows (SET, RESET)
  /// DuckDB's types of $1, $2, …; INVALID where it cannot tell.
  std::vector<engine::Type> parameter_types;
};

/// One running statement's result, streamed chunk by chunk. Valid until the next statement on
/// its session.
struct CursorLease;     // the statement's slot in its principal's limit, and its deadline
struct StatementAudit;  // the statement's audit record, written when its result ends

class Cursor {
 public:
  Cursor() = default;
  Cursor(std::string command, std::vector<ResultColumn> columns, engine::QueryResult result,
         std::vector<PinnedTable> tables, std::shared_ptr<CursorLease> lease = nullptr);
  Cursor(Cursor&&) noexcept = default;
  Cursor& operator=(Cursor&&) noexcept = default;

  /// The PostgreSQL command tag's verb: SELECT, SET, RESET, SHOW, EXPLAIN.
  const std::string& command() const { return command_; }
  const std::vector<ResultColumn>& columns() const { return columns_; }
  bool returns_rows() const { return !columns_.empty(); }
  /// The next chunk, or an empty one at the end. Errors raised while the query runs (cancel,
  /// timeout, division by zero) surface here.
  Result<engine::DataChunk> Fetch();
  uint64_t rows() const { return rows_; }
  const std::vector<PinnedTable>& tables() const { return tables_; }

 private:
  std::string command_;
  std::vector<ResultColumn> columns_;
  engine::QueryResult result_;
  std::vector<PinnedTable> tables_;
  uint64_t rows_ = 0;
  bool has_result_ = false;
  std::shared_ptr<CursorLease> lease_;  // released at the end of the result
  std::shared_ptr<StatementAudit> audit_;
  friend class Session;
};

class Session;

class QueryService {
 public:
  /// `catalog` (and the optional services in `options`) must outlive the service.
  static Result<std::unique_ptr<QueryService>> Open(catalog::Catalog& catalog,
                                                    QueryServiceOptions options);
  ~QueryService();

  /// A session for `caller`; `user` is what the client logged in as (for current_user).
  Result<std::unique_ptr<Session>> OpenSession(const catalog::Caller& caller);

  const QueryServiceOptions& options() const { return options_; }
  catalog::Catalog& catalog() { return catalog_; }
  /// Statements running now, over all sessions.
  int running() const { return running_.load(); }

 private:
  friend class Session;
  friend struct CursorLease;
  struct Impl;
  QueryService(catalog::Catalog& catalog, QueryServiceOptions options);
  /// Counts a statement against its principal's limit; false when the limit is reached.
  bool Admit(const std::string& principal);
  void Release(const std::string& principal);
  void Watch(Session* session);
  void Unwatch(Session* session);

  catalog::Catalog& catalog_;
  QueryServiceOptions options_;
  std::unique_ptr<Impl> impl_;
  std::atomic<int> running_{0};
};

class Session {
 public:
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const catalog::Caller& caller() const { return caller_; }

  /// Checks and plans `sql` without running it.
  Result<StatementDescription> Describe(const std::string& sql);
  /// Runs `sql` with `parameters` ($1, $2, …; nullopt for NULL, else the value as text, cast by
  /// DuckDB to the parameter's type).
  Result<Cursor> Execute(const std::string& sql,
                         const std::vector<std::optional<std::string>>& parameters = {});
  /// Cancels the running statement (it fails with `cancelled`). Safe from any thread.
  void Cancel();

  /// The session's options as SHOW reports them (search_path, timezone, …).
  const std::map<std::string, std::string>& settings() const { return settings_; }
  /// The domains unqualified table names are looked up in, in order.
  std::vector<std::string> SearchPath() const;

 private:
  friend class QueryService;
  friend struct CursorLease;
  struct State;
  Session(QueryService& service, catalog::Caller caller);
  struct Planned;
  Result<Planned> Plan(const std::string& sql, bool for_execution);
  Result<Cursor> Run(const std::string& sql,
                     const std::vector<std::optional<std::string>>& parameters);
  /// mesh.audit: the audit log, for READ_AUDIT holders, loaded into the metadata database —
  /// the newest records that `filter` (what the query's WHERE clause lets the metastore filter
  /// first) keeps.
  Status LoadAuditTable(const metastore::AuditFilter& filter);

  QueryService& service_;
  catalog::Caller caller_;
  std::map<std::string, std::string> settings_;
  std::unique_ptr<State> state_;
};

/// Appends a value as JSON: numbers (integers, finite floats) and booleans as themselves, NULL
/// as null, everything else (decimals exactly, dates, nested values) as its text in a string.
Status AppendJsonValue(const engine::Vector& vector, uint64_t row, std::string& out);

/// Reads a whole cursor as text rows (NULL as "NULL"), at most `max_rows`; for the CLI and
/// tests.
Result<QueryResultTable> ReadAll(Cursor& cursor, size_t max_rows);

}  // namespace meshwork::query
