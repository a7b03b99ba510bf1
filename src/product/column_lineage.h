#pragma once
// Column-level lineage of a transform: which input columns each output column is computed from,
// read off the SQL's syntax tree (DuckDB's json_serialize_sql) through CTEs, subqueries, joins,
// aliases and stars. Where the SQL does not tell (a table function, a column whose relation is
// unknown), the column has fewer sources or none; the lineage never invents one.

#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "engine/connection.h"

namespace meshwork::product {

/// Output column (lower case) -> sorted "input.column" sources. `input_columns` names the
/// relations the SQL may read (the product's inputs) with their columns.
using ColumnLineage = std::map<std::string, std::vector<std::string>>;
Result<ColumnLineage> DeriveColumnLineage(
    engine::Connection& connection, const std::string& sql,
    const std::map<std::string, std::vector<std::string>>& input_columns);

}  // namespace meshwork::product
