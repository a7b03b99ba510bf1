#pragma once
// Table maintenance: removing files no snapshot references.

#include <chrono>
#include <string>
#include <vector>

#include "common/result.h"
#include "iceberg/warehouse.h"

namespace meshwork::iceberg {

struct OrphanReport {
  size_t files_scanned = 0;
  size_t referenced = 0;
  /// Unreferenced files older than the safety window (deleted unless dry_run).
  std::vector<std::string> orphans;
  /// Unreferenced but younger than the window: possibly an in-flight commit; kept.
  size_t too_recent = 0;
  uint64_t orphan_bytes = 0;
};

/// Deletes files under the table's folder that no snapshot, manifest or metadata file refers to
/// and that are older than `older_than` (a writer may be about to commit younger ones). Only
/// the table's own folder is touched.
Result<OrphanReport> RemoveOrphanFiles(Warehouse& warehouse, const TableIdentifier& table,
                                       std::chrono::seconds older_than, bool dry_run);

}  // namespace meshwork::iceberg
