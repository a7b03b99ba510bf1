#pragma once
// `meshwork sql "…"`: one query over the mesh, on the local mesh in --data-dir or through a
// server's POST /api/v1/query. Output as an aligned table, CSV, JSON (one array of objects) or
// NDJSON (one object per line); CSV and NDJSON stream however many rows the query returns.
// On a terminal a long query shows its progress on stderr; Ctrl-C cancels it.

#include <string>
#include <vector>

#include "catalog/catalog.h"

namespace meshwork::product {
class ProductService;
}
namespace meshwork::governance {
class Governance;
}

namespace meshwork::cli {

struct SqlOptions {
  std::string sql;
  std::string format = "table";  // table | csv | json | ndjson
  /// The table format shows at most this many rows (the others stream everything).
  size_t max_rows = 10000;
  int64_t timeout_ms = 0;
};

int RunLocalSql(catalog::Catalog& catalog, product::ProductService& products,
                governance::Governance& governance, const catalog::Caller& caller,
                const SqlOptions& options);
int RunRemoteSql(const std::string& server, const SqlOptions& options);

/// An aligned table (cells cut at 40 characters), as psql prints one.
void PrintTable(const std::vector<std::string>& columns,
                const std::vector<std::vector<std::string>>& rows);

}  // namespace meshwork::cli
