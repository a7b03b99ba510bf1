#pragma once
// Private to src/query: the rewrite of a checked data query into SQL over pinned snapshots.

#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "engine/connection.h"
#include "query/firewall.h"
#include "query/query.h"
#include "query/session.h"

namespace meshwork::query {

struct DataPlan {
  std::string sql;  // runs on a connection locked to the warehouse
  std::vector<PinnedTable> tables;
};

/// Resolves (through `search_path` for unqualified names), authorizes, pins and prunes every
/// table of `checked`, applies `access_policy`, and renders the rewritten query.
Result<DataPlan> PlanDataQuery(catalog::Catalog& catalog, const catalog::Caller& caller,
                               engine::Connection& connection, const CheckedQuery& checked,
                               const std::vector<std::string>& search_path,
                               AccessPolicy* access_policy);

/// What the metastore can filter mesh.audit by before the records are loaded for a query: the
/// conjuncts of the WHERE clause over its only reference that compare principal, operation,
/// allowed, happened_at or id with a constant. Never narrower than the WHERE clause, which
/// still runs; an empty filter when nothing applies (or mesh.audit is read more than once).
metastore::AuditFilter AuditPushdown(const CheckedQuery& checked);

/// EXPLAIN's header: per table, the snapshot, files kept of total, filter, masks, row filters.
std::string ExplainTables(const std::vector<PinnedTable>& tables);

}  // namespace meshwork::query
