#pragma once
// Running a user's query over the mesh (DESIGN §6): the firewall accepts one read-only query
// over catalog names; each `domain.port` is resolved through the catalog with READ_DATA checked
// for the caller, pinned to one snapshot (the current one, or the AT (VERSION => id | 'tag'),
// AT (TIMESTAMP => ...) it names), and replaced in the syntax tree by a subquery over exactly
// that snapshot's live data files; the rewritten SQL runs on a DuckDB locked to the warehouse.
//
// Not yet here (the query-layer issue): filter and projection pushdown into scan planning,
// masks and row filters (the governance hook), information_schema, the HTTP and PostgreSQL
// front ends.

#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/result.h"

namespace meshwork::query {

struct PinnedTable {
  std::string name;   // domain.port as written
  std::string table;  // the Iceberg table read
  int64_t snapshot_id = 0;
  size_t files = 0;
};

struct QueryResultTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  std::vector<PinnedTable> tables;
  /// For EXPLAIN: the tables with their snapshots and files, then DuckDB's plan.
  std::string explain;
};

/// Runs `sql` for `caller`. Errors name the table and privilege (403-like permission_denied),
/// the construct refused by the firewall, or the SQL error, with its position.
Result<QueryResultTable> RunQuery(catalog::Catalog& catalog, const catalog::Caller& caller,
                                  const std::string& sql, size_t max_rows = 10000);

}  // namespace meshwork::query
