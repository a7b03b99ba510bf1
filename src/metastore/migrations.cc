#include "metastore/migrations.h"

#include <fmt/format.h>

#include "common/time.h"

namespace meshwork::metastore {
namespace {

struct Migration {
  int64_t version;
  const char* name;
  // Written once for both backends; {key} is a column type for keys that sort byte-wise on
  // both (PostgreSQL's default collation would order "B" and "a" differently from SQLite), and
  // {serial} an auto-incrementing primary key.
  const char* sql;
};

// Append only: a migration that shipped is never edited, a change is a new migration.
constexpr Migration kMigrations[] = {
    {1, "catalog, principals, roles, grants, settings, events", R"sql(
CREATE TABLE namespaces (
  name {key} PRIMARY KEY,
  parent {key} NOT NULL,
  properties TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);
CREATE INDEX namespaces_by_parent ON namespaces (parent, name);
CREATE TABLE objects (
  namespace {key} NOT NULL REFERENCES namespaces (name),
  name {key} NOT NULL,
  kind TEXT NOT NULL,
  metadata_location TEXT NOT NULL,
  previous_metadata_location TEXT,
  version BIGINT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  PRIMARY KEY (namespace, name)
);
CREATE TABLE principals (
  name {key} PRIMARY KEY,
  client_id TEXT NOT NULL UNIQUE,
  secret_hash TEXT NOT NULL,
  credential_version BIGINT NOT NULL,
  kind TEXT NOT NULL,
  properties TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  rotated_at_ms BIGINT NOT NULL
);
CREATE TABLE roles (
  name {key} PRIMARY KEY,
  description TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL
);
CREATE TABLE principal_roles (
  principal {key} NOT NULL REFERENCES principals (name) ON DELETE CASCADE,
  role {key} NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
  PRIMARY KEY (principal, role)
);
CREATE TABLE grants (
  role {key} NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
  privilege TEXT NOT NULL,
  securable_kind TEXT NOT NULL,
  securable_name {key} NOT NULL,
  granted_by TEXT NOT NULL,
  granted_at_ms BIGINT NOT NULL,
  PRIMARY KEY (role, privilege, securable_kind, securable_name)
);
CREATE INDEX grants_by_securable ON grants (securable_kind, securable_name);
CREATE TABLE settings (
  key {key} PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE events (
  id {serial},
  at_ms BIGINT NOT NULL,
  principal TEXT NOT NULL,
  request_id TEXT NOT NULL,
  action TEXT NOT NULL,
  object_kind TEXT NOT NULL,
  object_name TEXT NOT NULL,
  details TEXT NOT NULL
);
)sql"},
    {2, "idempotency keys", R"sql(
CREATE TABLE idempotency_keys (
  key {key} PRIMARY KEY,
  principal TEXT NOT NULL,
  route TEXT NOT NULL,
  status BIGINT NOT NULL,
  headers TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at_ms);
)sql"},
    {3, "documents (data products, their versions, quality results)", R"sql(
CREATE TABLE documents (
  collection {key} NOT NULL,
  key {key} NOT NULL,
  body TEXT NOT NULL,
  version BIGINT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  PRIMARY KEY (collection, key)
);
)sql"},
    {4, "audit log of access decisions and policy changes", R"sql(
CREATE TABLE audit (
  id {serial},
  at_ms BIGINT NOT NULL,
  principal TEXT NOT NULL,
  request_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  operation TEXT NOT NULL,
  securables TEXT NOT NULL,
  allowed BIGINT NOT NULL,
  reason TEXT NOT NULL,
  policies TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  rows_returned BIGINT NOT NULL,
  details TEXT NOT NULL
);
CREATE INDEX audit_by_time ON audit (at_ms);
CREATE INDEX audit_by_principal ON audit (principal, at_ms);
)sql"},
};

std::string ForDialect(const char* sql, SqlDialect dialect) {
  const bool postgresql = dialect == SqlDialect::kPostgresql;
  return fmt::format(fmt::runtime(sql), fmt::arg("key", postgresql ? "TEXT COLLATE \"C\"" : "TEXT"),
                     fmt::arg("serial", postgresql ? "BIGSERIAL PRIMARY KEY"
                                                   : "INTEGER PRIMARY KEY AUTOINCREMENT"));
}

}  // namespace

int64_t LatestSchemaVersion() {
  return kMigrations[std::size(kMigrations) - 1].version;
}

Status ApplyMigrations(SqlConnection& connection) {
  MW_RETURN_IF_ERROR(connection.Begin());
  auto apply = [&]() -> Status {
    if (connection.dialect() == SqlDialect::kPostgresql) {
      // Servers starting together on one PostgreSQL take turns; the lock ends with the
      // transaction. SQLite's BEGIN IMMEDIATE already serializes writers.
      MW_RETURN_IF_ERROR(connection.Query("SELECT pg_advisory_xact_lock(81810001)").status());
    }
    MW_RETURN_IF_ERROR(connection.ExecuteScript(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
        "name TEXT NOT NULL, applied_at_ms BIGINT NOT NULL)"));
    MW_ASSIGN_OR_RETURN(
        auto rows, connection.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
    const int64_t current = rows.empty() ? 0 : rows[0].Int(0);
    if (current > LatestSchemaVersion()) {
      return Status::FailedPrecondition(
                 "the metastore's schema is at version {}, newer than this meshwork knows ({})",
                 current, LatestSchemaVersion())
          .WithHint("run the meshwork release that migrated it, or a newer one");
    }
    for (const Migration& migration : kMigrations) {
      if (migration.version <= current) continue;
      Status applied = connection.ExecuteScript(ForDialect(migration.sql, connection.dialect()));
      if (!applied.ok()) {
        return std::move(applied).WithContext("cannot apply metastore migration {} ({})",
                                              migration.version, migration.name);
      }
      MW_RETURN_IF_ERROR(
          connection
              .Execute("INSERT INTO schema_migrations VALUES ($1, $2, $3)",
                       {migration.version, std::string(migration.name), time::NowMillis()})
              .status());
    }
    return Status::OK();
  };
  Status status = apply();
  if (status.ok()) status = connection.Commit();
  if (!status.ok()) (void)connection.Rollback();
  return status;
}

}  // namespace meshwork::metastore
