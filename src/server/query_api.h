#pragma once
// SQL over HTTP (DESIGN §6), through the same query sessions as the PostgreSQL wire:
//
//   POST /api/v1/query {"sql", "parameters": [...], "max-rows", "timeout-ms", "query-id"}
//     → {"query-id", "columns": [{"name", "type"}], "rows": [[...]],
//        "stats": {"rows", "truncated", "elapsed-ms", "tables": [...]}}
//     With `Accept: application/x-ndjson` the answer streams: a {"query-id", "columns"} line,
//     one JSON array per row, then a {"stats"} line (or an {"error"} line if the query fails
//     midway). Refusals are 400 with the line and column of the construct refused.
//   POST /api/v1/query/{id}/cancel → 204; the query fails with "canceling statement due to
//     user request" (sqlstate 57014), also when the cancel arrives while it is still being
//     planned. Only its principal may cancel it.

#include "catalog/catalog.h"
#include "query/session.h"
#include "server/http.h"

namespace meshwork::server {

void AddQueryApiRoutes(Router& router, catalog::Catalog& catalog, query::QueryService& queries);

}  // namespace meshwork::server
