#pragma once
// Turning a scan plan into the SQL that reads it: data files are read by field id (so renamed,
// added and dropped columns come out right), identity partition values missing from a file come
// from its manifest entry, and v2 row-level deletes are applied as anti-joins under the spec's
// scope rules (sequence numbers, partitions). The SQL only names files of the plan.

#include <string>

#include "common/result.h"
#include "iceberg/scan_planner.h"
#include "iceberg/table_metadata.h"
#include "storage/file_io.h"

namespace meshwork::iceberg {

/// A SELECT producing the columns of `schema` (in order, named as in `schema`) for every live
/// row of the plan's files. `io` resolves file paths to local paths. Empty plans give a query
/// with no rows.
Result<std::string> ScanSql(storage::FileIO& io, const TableMetadata& metadata,
                            const Schema& schema, const ScanPlan& plan);

}  // namespace meshwork::iceberg
