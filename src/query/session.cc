#include "query/session.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "common/logging.h"
#include "common/text.h"
#include "common/time.h"
#include "engine/database.h"
#include "iceberg/sql_text.h"
#include "query/data_plan.h"
#include "query/fingerprint.h"
#include "query/firewall.h"
#include "query/metadata.h"

namespace meshwork::query {
namespace {

using iceberg::QuoteString;
using nlohmann::json;

// How long a session trusts its description of the catalog before reading it again.
constexpr int64_t kMetadataMaxAgeMillis = 2000;

// The options a client may change, with their defaults as PostgreSQL 15 reports them.
const std::map<std::string, std::string>& DefaultSettings() {
  static const std::map<std::string, std::string> kDefaults = {
      {"application_name", ""},
      {"bytea_output", "hex"},
      {"client_encoding", "UTF8"},
      {"client_min_messages", "notice"},
      {"datestyle", "ISO, MDY"},
      {"extra_float_digits", "1"},
      {"integer_datetimes", "on"},
      {"intervalstyle", "postgres"},
      {"search_path", ""},
      {"server_encoding", "UTF8"},
      {"server_version", "15.0"},
      {"standard_conforming_strings", "on"},
      {"statement_timeout", "0"},
      {"timezone", "UTC"},
      {"transaction_isolation", "read committed"}};
  return kDefaults;
}

// SET's value checked against what meshwork can honour; the value stored, or why not.
Result<std::string> CheckSetting(const std::string& name, const std::string& raw) {
  const std::string value = text::ToLower(raw);
  if (name == "timezone") {
    if (value == "utc" || value == "etc/utc" || value == "gmt" || value == "z" ||
        value == "+00:00" || value == "00:00" || value == "0" || value == "default" ||
        value == "zulu" || value == "universal") {
      return std::string("UTC");
    }
    return Status::NotImplemented(
               "time zone '{}' is not supported: meshwork sessions run in UTC, and timestamptz "
               "values are shown in UTC",
               raw)
        .WithHint("convert in SQL: ts AT TIME ZONE '" + raw + "'");
  }
  if (name == "client_encoding") {
    if (value == "utf8" || value == "utf-8" || value == "unicode" || value == "default") {
      return std::string("UTF8");
    }
    return Status::NotImplemented("client encoding '{}' is not supported; meshwork speaks UTF8",
                                  raw);
  }
  if (name == "standard_conforming_strings" && value != "on" && value != "default") {
    return Status::NotImplemented("standard_conforming_strings is always on");
  }
  if (name == "statement_timeout") {
    if (value == "default") return std::string("0");
    char* end = nullptr;
    const double number = std::strtod(value.c_str(), &end);
    const std::string unit = end == nullptr ? "" : std::string(end);
    double millis = number;
    if (unit == "s")
      millis = number * 1000;
    else if (unit == "min")
      millis = number * 60000;
    else if (!unit.empty() && unit != "ms")
      millis = -1;
    if (end == value.c_str() || millis < 0) {
      return Status::InvalidArgument("statement_timeout '{}' is not a duration", raw)
          .WithHint("milliseconds (5000) or with a unit: 5s, 2min");
    }
    return std::to_string(static_cast<int64_t>(millis));
  }
  if (value == "default") {
    auto found = DefaultSettings().find(name);
    return found == DefaultSettings().end() ? std::string() : found->second;
  }
  return raw;
}

// The result of a query over constant rows (SHOW, EXPLAIN), run on `connection`.
Result<engine::QueryResult> ConstantRows(engine::Connection& connection,
                                         const std::vector<std::string>& columns,
                                         const std::vector<std::vector<std::string>>& rows) {
  std::string sql = "SELECT * FROM (VALUES ";
  for (size_t r = 0; r < rows.size(); ++r) {
    sql += r == 0 ? "(" : ", (";
    for (size_t c = 0; c < rows[r].size(); ++c)
      sql += (c == 0 ? "" : ", ") + QuoteString(rows[r][c]);
    sql += ")";
  }
  sql += ") AS t(";
  for (size_t c = 0; c < columns.size(); ++c)
    sql += (c == 0 ? "" : ", ") + iceberg::QuoteIdentifier(columns[c]);
  sql += ")";
  if (rows.empty()) sql += " WHERE false";
  return connection.Query(sql);
}

std::vector<ResultColumn> ColumnsOf(const engine::QueryResult& result) {
  std::vector<ResultColumn> columns;
  for (size_t i = 0; i < result.column_count(); ++i)
    columns.push_back({result.column_name(i), result.column_type(i)});
  return columns;
}

}  // namespace

struct QueryService::Impl {
  std::optional<engine::Database> database;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::map<std::string, int> running_by_principal;
  std::set<Session*> watched;
  std::thread watchdog;
};

struct Session::State {
  explicit State(engine::Connection c) : connection(std::move(c)) {}
  engine::Connection connection;
  std::unique_ptr<MetadataDatabase> metadata;
  /// The connection the running statement uses (data or metadata), for Cancel().
  std::atomic<engine::Connection*> running_on{nullptr};
  std::atomic<int64_t> deadline_ms{0};
  std::atomic<bool> timed_out{false};
  /// Numbers the statements; Cancel() names the one it is for. The watchdog interrupts that
  /// statement until it ends: an interrupt that arrives while it is still being planned (before
  /// DuckDB runs anything) would otherwise be lost, and the statement would run on.
  std::atomic<uint64_t> statement{0};
  std::atomic<uint64_t> cancelled_statement{0};
  bool CancelRequested() const {
    return timed_out.load() ||
           (cancelled_statement.load() == statement.load() && cancelled_statement.load() != 0);
  }
};

// Held while a statement runs, also while its result streams (DuckDB executes as it is
// fetched): the principal's slot, the statement's deadline, the connection to interrupt.
struct CursorLease {
  CursorLease(QueryService& service, std::string principal, Session::State& state,
              int64_t timeout_ms)
      : service(service), principal(std::move(principal)), state(state), timeout_ms(timeout_ms) {
    state.timed_out = false;
    ++state.statement;
    state.deadline_ms = timeout_ms > 0 ? time::NowMillis() + timeout_ms : 0;
  }
  ~CursorLease() {
    state.deadline_ms = 0;
    state.running_on = nullptr;
    service.Release(principal);
  }
  // An engine error as the user should read it.
  Status Explain(const Status& error) const {
    if (state.timed_out) {
      return Status::Cancelled("canceling statement due to statement timeout ({} ms)", timeout_ms)
          .WithHint("SET statement_timeout to allow longer, or narrow the query");
    }
    if (error.code() == StatusCode::kCancelled) {
      return Status::Cancelled("canceling statement due to user request");
    }
    // DuckDB's message, without the rewritten SQL (it names files the user never wrote).
    Status plain(error.code(), error.message());
    if (!error.sqlstate().empty()) plain = std::move(plain).WithSqlState(error.sqlstate());
    return plain;
  }
  QueryService& service;
  std::string principal;
  Session::State& state;
  int64_t timeout_ms;
};

// ---------------------------------------------------------------------------------------------
// Cursor

Cursor::Cursor(std::string command, std::vector<ResultColumn> columns, engine::QueryResult result,
               std::vector<PinnedTable> tables, std::shared_ptr<CursorLease> lease)
    : command_(std::move(command)),
      columns_(std::move(columns)),
      result_(std::move(result)),
      tables_(std::move(tables)),
      has_result_(!columns_.empty()),
      lease_(std::move(lease)) {}

// Written when the statement's result ends (read to the end, failed, or dropped unread), so
// that it can say how many rows the caller got.
struct StatementAudit {
  catalog::AuditLog& log;
  catalog::Caller caller;
  metastore::AuditRecord record;
  uint64_t rows = 0;
  ~StatementAudit() {
    record.rows = static_cast<int64_t>(rows);
    log.Record(caller, std::move(record));
  }
};

Result<engine::DataChunk> Cursor::Fetch() {
  if (!has_result_) return engine::DataChunk();
  auto chunk = result_.Fetch();
  if (!chunk.ok()) {
    has_result_ = false;
    Status error = lease_ ? lease_->Explain(chunk.error()) : chunk.error();
    lease_.reset();
    if (audit_) {
      audit_->rows = rows_;
      audit_->record.details = json({{"failed", error.message()}}).dump();
      audit_.reset();
    }
    return error;
  }
  if (!*chunk) {
    has_result_ = false;
    lease_.reset();
  }
  rows_ += chunk->size();
  if (audit_) {
    audit_->rows = rows_;
    if (!has_result_) audit_.reset();
  }
  return std::move(*chunk);
}

Status AppendJsonValue(const engine::Vector& vector, uint64_t row, std::string& out) {
  if (vector.IsNull(row)) {
    out += "null";
    return Status::OK();
  }
  using engine::TypeId;
  switch (vector.type().id) {
    case TypeId::kBoolean:
    case TypeId::kTinyInt:
    case TypeId::kSmallInt:
    case TypeId::kInteger:
    case TypeId::kBigInt:
    case TypeId::kUTinyInt:
    case TypeId::kUSmallInt:
    case TypeId::kUInteger:
    case TypeId::kUBigInt:
      return vector.AppendText(row, out);
    case TypeId::kFloat:
    case TypeId::kDouble: {
      const double value =
          vector.type().id == TypeId::kFloat ? vector.Get<float>(row) : vector.Get<double>(row);
      if (std::isfinite(value)) return vector.AppendText(row, out);
      break;
    }
    default:
      break;
  }
  std::string text;
  MW_RETURN_IF_ERROR(vector.AppendText(row, text));
  out += json(text).dump(-1, ' ', false, json::error_handler_t::replace);
  return Status::OK();
}

Result<QueryResultTable> ReadAll(Cursor& cursor, size_t max_rows) {
  QueryResultTable out;
  out.tables = cursor.tables();
  for (const auto& column : cursor.columns())
    out.columns.push_back(column.name);
  while (true) {
    MW_ASSIGN_OR_RETURN(engine::DataChunk chunk, cursor.Fetch());
    if (!chunk) break;
    for (uint64_t row = 0; row < chunk.size() && out.rows.size() < max_rows; ++row) {
      std::vector<std::string> values;
      values.reserve(chunk.column_count());
      for (size_t c = 0; c < chunk.column_count(); ++c) {
        MW_ASSIGN_OR_RETURN(std::string value, chunk.column(c).ToText(row));
        values.push_back(std::move(value));
      }
      out.rows.push_back(std::move(values));
    }
  }
  if (cursor.command() == "EXPLAIN") {
    for (const auto& row : out.rows)
      out.explain += row.at(0) + "\n";
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// QueryService

QueryService::QueryService(catalog::Catalog& catalog, QueryServiceOptions options)
    : catalog_(catalog), options_(std::move(options)), impl_(std::make_unique<Impl>()) {}

QueryService::~QueryService() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->watchdog.joinable()) impl_->watchdog.join();
}

Result<std::unique_ptr<QueryService>> QueryService::Open(catalog::Catalog& catalog,
                                                         QueryServiceOptions options) {
  std::unique_ptr<QueryService> service(new QueryService(catalog, std::move(options)));
  MW_ASSIGN_OR_RETURN(
      service->impl_->database,
      engine::Database::Open({.threads = service->options_.threads,
                              .memory_limit = service->options_.memory_limit,
                              .allowed_directories = catalog.warehouse().ReadableDirectories(),
                              .lock_down = true,
                              .settings = {{"TimeZone", "UTC"}}}));
  if (service->options_.access_policy != nullptr) {
    // UDFs belong to the database: registered once, every session's connection has them.
    MW_ASSIGN_OR_RETURN(auto connection, service->impl_->database->Connect());
    MW_RETURN_IF_ERROR(service->options_.access_policy->PrepareEngine(connection));
  }
  Impl* impl = service->impl_.get();
  // Statement timeouts: a statement past its deadline is interrupted from here.
  impl->watchdog = std::thread([impl] {
    std::unique_lock<std::mutex> lock(impl->mutex);
    while (!impl->stopping) {
      impl->wake.wait_for(lock, std::chrono::milliseconds(20));
      const int64_t now = time::NowMillis();
      for (Session* session : impl->watched) {
        Session::State& state = *session->state_;
        const int64_t deadline = state.deadline_ms.load();
        if (deadline > 0 && now >= deadline) state.timed_out = true;
        // Again every tick until the statement ends (see State::statement).
        if (state.CancelRequested()) {
          if (auto* connection = state.running_on.load()) connection->Interrupt();
        }
      }
    }
  });
  return service;
}

Result<std::unique_ptr<Session>> QueryService::OpenSession(const catalog::Caller& caller) {
  std::unique_ptr<Session> session(new Session(*this, caller));
  MW_ASSIGN_OR_RETURN(auto connection, impl_->database->Connect());
  session->state_ = std::make_unique<Session::State>(std::move(connection));
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->watched.insert(session.get());
  }
  return session;
}

bool QueryService::Admit(const std::string& principal) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  int& running = impl_->running_by_principal[principal];
  if (options_.max_queries_per_principal > 0 && running >= options_.max_queries_per_principal) {
    return false;
  }
  ++running;
  ++running_;
  return true;
}

void QueryService::Release(const std::string& principal) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (--impl_->running_by_principal[principal] <= 0) impl_->running_by_principal.erase(principal);
  --running_;
}

void QueryService::Watch(Session*) {}
void QueryService::Unwatch(Session* session) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->watched.erase(session);
}

// ---------------------------------------------------------------------------------------------
// Session

Session::Session(QueryService& service, catalog::Caller caller)
    : service_(service), caller_(std::move(caller)), settings_(DefaultSettings()) {
  if (service_.options().statement_timeout_ms > 0) {
    settings_["statement_timeout"] = std::to_string(service_.options().statement_timeout_ms);
  }
}

Session::~Session() {
  service_.Unwatch(this);
}

void Session::Cancel() {
  state_->cancelled_statement = state_->statement.load();
  if (auto* connection = state_->running_on.load()) connection->Interrupt();
}

std::vector<std::string> Session::SearchPath() const {
  std::vector<std::string> domains;
  const std::string& path = settings_.at("search_path");
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(',', start);
    if (end == std::string::npos) end = path.size();
    std::string item(path.substr(start, end - start));
    item.erase(0, item.find_first_not_of(" \t\""));
    item.erase(item.find_last_not_of(" \t\"") + 1);
    item = text::ToLower(item);
    // PostgreSQL's defaults name no domain.
    if (!item.empty() && item != "$user" && item != "public" && item != "pg_catalog") {
      domains.push_back(item);
    }
    start = end + 1;
  }
  return domains;
}

struct Session::Planned {
  enum class Route { kData, kMetadata, kSetting, kConstant } route = Route::kData;
  std::string command = "SELECT";
  std::string sql;  // what runs on the route's connection
  std::vector<PinnedTable> tables;
  bool explain = false;
  // kConstant (SHOW): the rows.
  std::vector<std::string> constant_columns;
  std::vector<std::vector<std::string>> constant_rows;
};

Result<Session::Planned> Session::Plan(const std::string& text, bool for_execution) {
  engine::Connection& connection = state_->connection;
  const std::string sql = NormalizePostgresSpellings(text);
  MW_ASSIGN_OR_RETURN(CheckedQuery checked, CheckQuery(connection, sql));
  Planned planned;
  switch (checked.kind) {
    case StatementKind::kSet:
    case StatementKind::kReset: {
      planned.route = Planned::Route::kSetting;
      planned.command = checked.kind == StatementKind::kSet ? "SET" : "RESET";
      if (!for_execution) return planned;
      std::string name = checked.setting == "time zone" ? "timezone" : checked.setting;
      if (checked.kind == StatementKind::kReset && name == "all") {
        settings_ = DefaultSettings();
        return planned;
      }
      if (!DefaultSettings().contains(name)) {
        return Status::InvalidArgument("option '{}' cannot be changed in a meshwork session",
                                       checked.setting)
            .WithHint("settable: search_path, timezone, application_name, statement_timeout, …");
      }
      MW_ASSIGN_OR_RETURN(
          std::string value,
          CheckSetting(name,
                       checked.kind == StatementKind::kReset ? "default" : checked.setting_value));
      settings_[name] = value;
      return planned;
    }
    case StatementKind::kShow: {
      planned.route = Planned::Route::kConstant;
      planned.command = "SHOW";
      std::string name = checked.setting == "time zone" ? "timezone" : checked.setting;
      if (name == "all") {
        planned.constant_columns = {"name", "setting"};
        for (const auto& [key, value] : settings_)
          planned.constant_rows.push_back({key, value});
        return planned;
      }
      auto found = settings_.find(name);
      if (found == settings_.end()) {
        return Status::InvalidArgument("unrecognized configuration parameter \"{}\"",
                                       checked.setting);
      }
      planned.constant_columns = {name};
      planned.constant_rows = {{found->second}};
      return planned;
    }
    case StatementKind::kDescribe: {
      TableReference table = checked.described;
      if (table.schema.empty() && !SearchPath().empty()) table.schema = SearchPath()[0];
      if (table.schema.empty()) {
        return Status::InvalidArgument("DESCRIBE {} needs its domain: DESCRIBE domain.port",
                                       table.table);
      }
      return Plan(fmt::format("SELECT column_name, data_type AS column_type, is_nullable, "
                              "column_comment AS description, classification FROM "
                              "information_schema.columns WHERE table_schema = {} AND "
                              "table_name = {} ORDER BY ordinal_position",
                              QuoteString(text::ToLower(table.schema)),
                              QuoteString(text::ToLower(table.table))),
                  for_execution);
    }
    case StatementKind::kQuery:
    case StatementKind::kExplain:
      break;
  }
  planned.explain = checked.kind == StatementKind::kExplain || checked.explain;
  if (planned.explain) planned.command = "EXPLAIN";
  size_t metadata_tables = 0;
  for (const auto& table : checked.tables)
    metadata_tables += IsMetadataTable(table) ? 1 : 0;
  if (metadata_tables > 0 && metadata_tables < checked.tables.size()) {
    return Status::InvalidArgument(
               "a query reads either data products or metadata (pg_catalog, "
               "information_schema, catalog), not both")
        .WithHint("query the metadata first, then the products");
  }
  if (metadata_tables == checked.tables.size()) {
    planned.route = Planned::Route::kMetadata;
    if (state_->metadata == nullptr ||
        time::NowMillis() - state_->metadata->built_at_ms() > kMetadataMaxAgeMillis) {
      MW_ASSIGN_OR_RETURN(state_->metadata,
                          MetadataDatabase::Build(service_.catalog(), service_.options().products,
                                                  caller_, service_.options().mesh_name));
    }
    if (std::any_of(checked.tables.begin(), checked.tables.end(), IsAuditTable)) {
      MW_RETURN_IF_ERROR(LoadAuditTable(AuditPushdown(checked)));
    }
    json tree = json::parse(checked.tree_json);
    RewriteMetadataQuery(tree);
    MW_ASSIGN_OR_RETURN(planned.sql, RenderQuery(state_->metadata->connection(), tree.dump()));
    logging::Debug("metadata query rewritten: {}", planned.sql);
    return planned;
  }
  MW_ASSIGN_OR_RETURN(DataPlan plan, PlanDataQuery(service_.catalog(), caller_, connection, checked,
                                                   SearchPath(), service_.options().access_policy));
  planned.sql = std::move(plan.sql);
  planned.tables = std::move(plan.tables);
  logging::Debug("query rewritten: {}", planned.sql);
  return planned;
}

Status Session::LoadAuditTable(const metastore::AuditFilter& filter) {
  auto records = service_.catalog().ListAudit(caller_, filter);
  if (!records.ok()) {
    return std::move(records).error().WithHint(
        "mesh.audit is for the governance role: it needs READ_AUDIT on the mesh");
  }
  return state_->metadata->LoadAudit(*records);
}

Result<StatementDescription> Session::Describe(const std::string& sql) {
  MW_ASSIGN_OR_RETURN(Planned planned, Plan(sql, /*for_execution=*/false));
  StatementDescription out;
  if (planned.route == Planned::Route::kSetting) return out;
  if (planned.route == Planned::Route::kConstant) {
    for (const auto& name : planned.constant_columns)
      out.columns.push_back({name, engine::Type(engine::TypeId::kVarchar)});
    return out;
  }
  if (planned.explain) {
    out.columns.push_back({"QUERY PLAN", engine::Type(engine::TypeId::kVarchar)});
    return out;
  }
  engine::Connection& connection = planned.route == Planned::Route::kMetadata
                                       ? state_->metadata->connection()
                                       : state_->connection;
  MW_ASSIGN_OR_RETURN(auto prepared, connection.Prepare(planned.sql));
  const auto names = prepared.result_column_names();
  const auto types = prepared.result_column_types();
  for (size_t i = 0; i < names.size(); ++i)
    out.columns.push_back({names[i], types[i]});
  for (size_t i = 1; i <= prepared.parameter_count(); ++i)
    out.parameter_types.push_back(prepared.parameter_type(i));
  return out;
}

Result<Cursor> Session::Execute(const std::string& sql,
                                const std::vector<std::optional<std::string>>& parameters) {
  auto cursor = Run(sql, parameters);
  metastore::AuditRecord record{.operation = "query",
                                .fingerprint = StatementFingerprint(sql),
                                .details = json({{"statement", NormalizeStatement(sql)}}).dump()};
  catalog::AuditLog& log = service_.catalog().audit();
  if (!cursor.ok()) {
    // Only a refusal is a denied access; a statement that failed otherwise (syntax, a table
    // that does not exist, a cancel or timeout while planning) is recorded as not run.
    const bool refused = cursor.error().code() == StatusCode::kPermissionDenied;
    record.allowed = !refused;
    record.reason = refused ? cursor.error().message() : "not run: " + cursor.error().message();
    record.rows = 0;
    log.Record(caller_, std::move(record));
    return cursor;
  }
  // Statements over data products are access decisions; SET/SHOW and metadata reads are not
  // (metadata shows only what the caller may see anyway).
  if (cursor->tables().empty()) return cursor;
  std::string securables, policies;
  for (const PinnedTable& table : cursor->tables()) {
    securables += (securables.empty() ? "" : ",") + table.name;
    for (const std::string& mask : table.masks) {
      // "email by personal-data/mask-emails": the policy part.
      const size_t by = mask.rfind(" by ");
      policies += (policies.empty() ? "" : ",") + table.name + "." + mask.substr(0, by) + ":" +
                  (by == std::string::npos ? mask : mask.substr(by + 4));
    }
    for (const std::string& filter : table.row_filters)
      policies += (policies.empty() ? "" : ",") + table.name + ":" + filter;
  }
  record.securables = std::move(securables);
  record.policies = std::move(policies);
  record.reason = "READ_DATA";
  cursor->audit_ =
      std::shared_ptr<StatementAudit>(new StatementAudit{log, caller_, std::move(record)});
  if (!cursor->returns_rows() || cursor->command() == "EXPLAIN") cursor->audit_->rows = 0;
  return cursor;
}

Result<Cursor> Session::Run(const std::string& sql,
                            const std::vector<std::optional<std::string>>& parameters) {
  const std::string principal = caller_.principal;
  if (!service_.Admit(principal)) {
    return Status::Unavailable("principal '{}' already runs {} queries, its limit", principal,
                               service_.options().max_queries_per_principal)
        .WithHint(
            "wait for one to finish, or ask an operator to raise "
            "--max-queries-per-principal");
  }
  const int64_t timeout = std::strtoll(settings_.at("statement_timeout").c_str(), nullptr, 10);
  auto lease = std::make_shared<CursorLease>(service_, principal, *state_, timeout);
  const auto failed = [&](const Status& error) -> Status { return lease->Explain(error); };

  MW_ASSIGN_OR_RETURN(Planned planned, Plan(sql, /*for_execution=*/true));
  engine::Connection& data = state_->connection;
  switch (planned.route) {
    case Planned::Route::kSetting:
      return Cursor(planned.command, {}, engine::QueryResult(), {});
    case Planned::Route::kConstant: {
      MW_ASSIGN_OR_RETURN(auto result,
                          ConstantRows(data, planned.constant_columns, planned.constant_rows));
      auto columns = ColumnsOf(result);
      return Cursor(planned.command, std::move(columns), std::move(result), {});
    }
    default:
      break;
  }
  engine::Connection& connection =
      planned.route == Planned::Route::kMetadata ? state_->metadata->connection() : data;
  state_->running_on = &connection;
  if (planned.explain) {
    std::string text = ExplainTables(planned.tables);
    auto plan = connection.QueryText("EXPLAIN " + planned.sql);
    if (!plan.ok()) return failed(plan.error());
    for (const auto& row : *plan)
      if (row.size() > 1) text += row[1];
    std::vector<std::vector<std::string>> lines;
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      lines.push_back({text.substr(start, end - start)});
      start = end + 1;
    }
    MW_ASSIGN_OR_RETURN(auto result, ConstantRows(data, {"QUERY PLAN"}, lines));
    auto columns = ColumnsOf(result);
    return Cursor("EXPLAIN", std::move(columns), std::move(result), std::move(planned.tables));
  }
  // Cancelled (or timed out) while it was being planned: nothing was running to interrupt.
  if (state_->CancelRequested()) return failed(Status::Cancelled("cancelled while planning"));
  auto prepared = connection.Prepare(planned.sql);
  if (!prepared.ok()) return failed(prepared.error());
  if (prepared->parameter_count() != parameters.size()) {
    return Status::InvalidArgument("the query has {} parameters but {} values were given",
                                   prepared->parameter_count(), parameters.size())
        .WithHint("one value per $1, $2, …");
  }
  for (size_t i = 0; i < parameters.size(); ++i) {
    engine::Value value;
    if (parameters[i]) value = *parameters[i];
    MW_RETURN_IF_ERROR(prepared->Bind(i + 1, value));
  }
  auto result = prepared->Execute();
  if (!result.ok()) return failed(result.error());
  auto columns = ColumnsOf(*result);
  return Cursor(planned.command, std::move(columns), std::move(*result), std::move(planned.tables),
                std::move(lease));
}

}  // namespace meshwork::query
