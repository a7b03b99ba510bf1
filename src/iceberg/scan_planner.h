#pragma once
// Scan planning: which data files of a snapshot can hold rows matching a filter. Manifests are
// pruned by their partition summaries, files by their partition values and column bounds; the
// plan reports how much was pruned.

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "iceberg/expression.h"
#include "iceberg/manifest.h"
#include "iceberg/warehouse.h"

namespace meshwork::iceberg {

struct ScanPlan {
  int64_t snapshot_id = 0;
  std::vector<DataFile> files;
  /// Position and equality delete files that may apply to `files` (v2 row-level deletes).
  std::vector<DataFile> delete_files;
  size_t delete_files_total = 0;
  size_t manifests_total = 0;
  size_t manifests_kept = 0;
  size_t files_total = 0;
  size_t files_kept = 0;
  int64_t records_total = 0;
  int64_t records_kept = 0;
  /// The filter on partition values that manifest and partition pruning used.
  std::string partition_filter;
  std::string ToString() const;
};

/// Plans a scan of `snapshot_id` (default: current). An empty table plans to no files.
Result<ScanPlan> PlanScan(Warehouse& warehouse, const LoadedTable& table,
                          std::optional<int64_t> snapshot_id, const Expression& filter);
/// The same over any FileIO (a table read from its folder, see static_table.h).
Result<ScanPlan> PlanScan(storage::FileIO& io, const LoadedTable& table,
                          std::optional<int64_t> snapshot_id, const Expression& filter);

/// Planning keeps decoded manifests in memory (they never change once written); this forgets
/// them, so a benchmark can measure a cold plan.
void ForgetDecodedManifests();

/// The filter rewritten over partition fields (inclusive projection: it is true for every
/// partition that may hold a matching row).
ExpressionPtr ProjectToPartition(const Expression& filter, const PartitionSpec& spec,
                                 const Schema& schema);

}  // namespace meshwork::iceberg
