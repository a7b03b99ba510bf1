#pragma once
// Running a user's query over the mesh (DESIGN §6): the firewall accepts one read-only query
// over catalog names; each `domain.port` is resolved through the catalog with READ_DATA checked
// for the caller, pinned to one snapshot (the current one, or the AT (VERSION => id | 'tag'),
// AT (TIMESTAMP => ...) it names), and replaced in the syntax tree by a subquery over exactly
// that snapshot's live data files; the rewritten SQL runs on a DuckDB locked to the warehouse.
//
// Filters: WHERE conjuncts comparing a column of a single-table FROM with a constant prune the
// scan (manifests, partitions, column bounds); the WHERE clause still runs on what is read.
//
// Sessions, metadata queries and the access-policy hook are in session.h; RunQuery is the
// one-shot form of a session.

#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/result.h"

namespace meshwork::query {

struct PinnedTable {
  std::string name;   // domain.port as written
  std::string table;  // the Iceberg table read
  int64_t snapshot_id = 0;
  size_t files = 0;                      // read, after pruning
  size_t files_total = 0;                // in the snapshot
  std::string pushed_filter;             // the WHERE conjuncts scan planning pruned with
  std::vector<std::string> masks;        // "card_number by pii_mask"
  std::vector<std::string> row_filters;  // the row-filter policies applied
  std::vector<std::string> decrypted;    // "email (deterministic)": stored encrypted
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
