#pragma once
// Metadata from SQL: what psql's \dn, \dt, \d, JDBC/BI drivers and analysts read to discover
// the mesh, answered from a small in-memory DuckDB database that holds only descriptions of what
// one caller may see — never data.
//
//  - pg_catalog: the subset of PostgreSQL's system catalogs (pg_namespace, pg_class,
//    pg_attribute, pg_type, pg_description, pg_database, pg_roles, …, with the columns psql 15
//    reads) and functions (format_type, pg_get_userbyid, col_description, …);
//  - information_schema: schemata, tables, columns, views;
//  - mesh.catalog: domains, products, ports, columns (with docs and classifications), versions.
//
// Queries reach it after the firewall; their syntax tree is rewritten so that PostgreSQL's
// spellings (pg_catalog.f(), ::regclass, OPERATOR(pg_catalog.~), COLLATE pg_catalog.default,
// `~` as a partial regex match) mean what they mean in PostgreSQL.

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "catalog/catalog.h"
#include "common/result.h"
#include "engine/connection.h"
#include "engine/database.h"
#include "query/firewall.h"

namespace meshwork::product {
class ProductService;
}

namespace meshwork::query {

/// Whether a table reference names metadata rather than a data product: pg_catalog.*,
/// information_schema.*, catalog.* (all also with the mesh prefix) and unqualified pg_* names.
bool IsMetadataTable(const TableReference& table);
/// mesh.audit (also catalog.audit): the audit log, for READ_AUDIT holders.
bool IsAuditTable(const TableReference& table);

/// PostgreSQL spellings DuckDB's parser does not take, rewritten in the SQL text (outside
/// string literals and quoted names): OPERATOR(pg_catalog.~) → ~, ::pg_catalog.text → ::text.
std::string NormalizePostgresSpellings(std::string_view sql);

/// Rewrites a checked metadata query's syntax tree to run on a MetadataDatabase.
void RewriteMetadataQuery(nlohmann::json& tree);

class MetadataDatabase {
 public:
  /// Describes what `caller` may see. `products` may be null (mesh.catalog is then empty of
  /// product rows, but still lists the tables).
  static Result<std::unique_ptr<MetadataDatabase>> Build(catalog::Catalog& catalog,
                                                         product::ProductService* products,
                                                         const catalog::Caller& caller,
                                                         const std::string& mesh_name);
  engine::Connection& connection() { return connection_; }
  /// Replaces the rows of mesh.audit.
  Status LoadAudit(const std::vector<metastore::AuditRecord>& records);
  int64_t built_at_ms() const { return built_at_ms_; }

 private:
  MetadataDatabase(engine::Database database, engine::Connection connection)
      : database_(std::move(database)), connection_(std::move(connection)) {}
  engine::Database database_;
  engine::Connection connection_;
  int64_t built_at_ms_ = 0;
};

}  // namespace meshwork::query
