#pragma once
// Turning a change (files added, files removed) into a new snapshot: manifests that lose files
// are rewritten with those entries marked DELETED, the others are carried over, a manifest list
// and metadata file are written, and the pointer is swapped. On a lost race the change is rebased
// onto the new snapshot after validation: removing a file someone else already removed, or (with
// a conflict filter) ignoring rows someone else added that the change would have covered, fails
// with a conflict instead of silently losing data.

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "iceberg/expression.h"
#include "iceberg/manifest.h"
#include "iceberg/warehouse.h"

namespace meshwork::iceberg {

struct TableChange {
  std::string operation;  // append, overwrite, delete, replace
  /// New data files by partition spec id (written, with statistics and partition values).
  std::map<int32_t, std::vector<DataFile>> added;
  /// file_path of live data files the change removes.
  std::set<std::string> removed;
  /// When set, data files that other writers add concurrently and that might hold rows matching
  /// this filter make the commit fail (the change would not have seen them).
  ExpressionPtr conflict_filter;
  int max_attempts = 50;
  /// Written into the snapshot's summary besides the standard keys (which it cannot replace).
  std::map<std::string, std::string> summary;
};

struct CommitResult {
  int64_t snapshot_id = 0;
  int attempts = 0;
  std::string metadata_location;
  int64_t added_files = 0, added_records = 0, added_bytes = 0;
  int64_t removed_files = 0, removed_records = 0;
};

/// A fresh positive 63-bit snapshot id.
int64_t NewSnapshotId();

/// Commits `change` on top of `base` (the state the change was computed from).
Result<CommitResult> CommitTableChange(Warehouse& warehouse, const LoadedTable& base,
                                       const TableChange& change);

}  // namespace meshwork::iceberg
