#pragma once
// Table maintenance: removing files no snapshot references.

#include <chrono>
#include <map>
#include <optional>
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

struct ExpireReport {
  std::vector<int64_t> expired_snapshots;
  size_t deleted_files = 0;
  uint64_t deleted_bytes = 0;
};

/// Expires snapshots older than `older_than_ms` (epoch millis), keeping the current snapshot,
/// every snapshot a branch or tag points to, and the last `retain_last` snapshots of main; then
/// deletes the manifest lists, manifests and data files only expired snapshots referenced.
Result<ExpireReport> ExpireSnapshots(Warehouse& warehouse, const TableIdentifier& table,
                                     int64_t older_than_ms, int retain_last);

/// Makes `snapshot_id` (which must be an ancestor of the current snapshot, unless `force`)
/// the current snapshot of main again.
Result<LoadedTable> RollbackTo(Warehouse& warehouse, const TableIdentifier& table,
                               int64_t snapshot_id, bool force = false);

/// Creates (or moves) a branch or tag at `snapshot_id` (default: current).
Result<LoadedTable> SetRef(Warehouse& warehouse, const TableIdentifier& table,
                           const std::string& name, bool is_branch,
                           std::optional<int64_t> snapshot_id);
Result<LoadedTable> DropRef(Warehouse& warehouse, const TableIdentifier& table,
                            const std::string& name);

/// Sets and removes table properties in one commit. Values of properties meshwork acts on are
/// checked (write.target-file-size-bytes must be a positive number, ...); the spec's reserved
/// names (format-version, uuid, ...) are refused: they are not properties.
Result<LoadedTable> UpdateProperties(Warehouse& warehouse, const TableIdentifier& table,
                                     const std::map<std::string, std::string>& set,
                                     const std::vector<std::string>& unset);

/// Makes `spec` (parsed with ParsePartitionExpression; its field ids are reassigned here) the
/// table's default partition spec, as the spec's partition evolution requires: a field equal to
/// one of an earlier spec (same source, transform) keeps that field id, new fields continue from
/// last-partition-id, and an identical earlier spec is reused instead of adding a duplicate.
/// Existing files keep their spec; new writes use the new one. Returns the table and whether
/// the default changed.
Result<LoadedTable> UpdatePartitionSpec(Warehouse& warehouse, const TableIdentifier& table,
                                        const PartitionSpec& spec);

/// Resolves what a user wrote for a point in time: a snapshot id, a branch or tag name, or a
/// timestamp ("2026-01-02 10:00:00", interpreted as UTC).
Result<int64_t> ResolveSnapshot(const TableMetadata& metadata, const std::string& text);

}  // namespace meshwork::iceberg
