#include "iceberg/maintenance.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <set>

#include "common/time.h"
#include "iceberg/literal_text.h"
#include "iceberg/manifest.h"

namespace meshwork::iceberg {

Result<OrphanReport> RemoveOrphanFiles(Warehouse& warehouse, const TableIdentifier& identifier,
                                       std::chrono::seconds older_than, bool dry_run) {
  MW_ASSIGN_OR_RETURN(LoadedTable table, warehouse.LoadTable(identifier));
  storage::FileIO& io = warehouse.io();
  // Everything reachable from the current metadata, as paths relative to the warehouse.
  std::set<std::string> referenced;
  auto reference = [&](const std::string& location) -> Status {
    MW_ASSIGN_OR_RETURN(std::string relative, warehouse.Resolve(location));
    referenced.insert(std::move(relative));
    return Status::OK();
  };
  MW_RETURN_IF_ERROR(reference(table.metadata_location));
  for (const MetadataLogEntry& entry : table.metadata.metadata_log) {
    MW_RETURN_IF_ERROR(reference(entry.metadata_file));
  }
  for (const StatisticsFile& file : table.metadata.statistics)
    MW_RETURN_IF_ERROR(reference(file.statistics_path));
  for (const Snapshot& snapshot : table.metadata.snapshots) {
    MW_RETURN_IF_ERROR(reference(snapshot.manifest_list));
    MW_ASSIGN_OR_RETURN(std::string list, io.ReadFile(snapshot.manifest_list));
    MW_ASSIGN_OR_RETURN(auto manifests, ReadManifestList(list, snapshot.manifest_list));
    for (const ManifestFile& manifest : manifests) {
      MW_ASSIGN_OR_RETURN(std::string manifest_relative, warehouse.Resolve(manifest.manifest_path));
      if (referenced.contains(manifest_relative)) continue;
      MW_RETURN_IF_ERROR(reference(manifest.manifest_path));
      MW_ASSIGN_OR_RETURN(std::string bytes, io.ReadFile(manifest.manifest_path));
      MW_ASSIGN_OR_RETURN(auto entries,
                          ReadManifest(bytes, manifest, table.metadata.CurrentSchema(),
                                       table.metadata.partition_specs));
      // Deleted entries still count: older snapshots that are not expired read them.
      for (const ManifestEntry& entry : entries)
        MW_RETURN_IF_ERROR(reference(entry.data_file.file_path));
    }
  }
  const std::string prefix = warehouse.TableFolder(table) + "/";
  referenced.insert(prefix + std::string(FilesystemPointerStore::kPointerFile));
  referenced.insert(prefix + std::string(FilesystemPointerStore::kLockFile));
  referenced.insert(prefix + std::string(FilesystemPointerStore::kCommitLockFile));

  MW_ASSIGN_OR_RETURN(auto files, io.List(prefix));
  OrphanReport report;
  const int64_t cutoff =
      time::NowMicros() - std::chrono::duration_cast<std::chrono::microseconds>(older_than).count();
  for (const storage::FileInfo& file : files) {
    ++report.files_scanned;
    if (referenced.contains(file.path)) {
      ++report.referenced;
      continue;
    }
    if (file.modified_micros > cutoff) {
      ++report.too_recent;
      continue;
    }
    report.orphans.push_back(file.path);
    report.orphan_bytes += file.size;
    if (!dry_run) {
      Status deleted = io.Delete(file.path);
      if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) return deleted;
    }
  }
  return report;
}

}  // namespace meshwork::iceberg

namespace meshwork::iceberg {
namespace {

// Every file a snapshot reaches: its manifest list, manifests and data files (relative paths).
Status CollectReachable(Warehouse& warehouse, const TableMetadata& metadata,
                        const Snapshot& snapshot, std::set<std::string>& files,
                        std::set<std::string>& seen_manifests) {
  storage::FileIO& io = warehouse.io();
  MW_ASSIGN_OR_RETURN(std::string list_relative, warehouse.Resolve(snapshot.manifest_list));
  files.insert(list_relative);
  MW_ASSIGN_OR_RETURN(std::string list, io.ReadFile(snapshot.manifest_list));
  MW_ASSIGN_OR_RETURN(auto manifests, ReadManifestList(list, snapshot.manifest_list));
  for (const ManifestFile& manifest : manifests) {
    MW_ASSIGN_OR_RETURN(std::string relative, warehouse.Resolve(manifest.manifest_path));
    files.insert(relative);
    if (!seen_manifests.insert(relative).second) continue;
    MW_ASSIGN_OR_RETURN(std::string bytes, io.ReadFile(manifest.manifest_path));
    MW_ASSIGN_OR_RETURN(auto entries, ReadManifest(bytes, manifest, metadata.CurrentSchema(),
                                                   metadata.partition_specs));
    for (const ManifestEntry& entry : entries) {
      if (entry.status == EntryStatus::kDeleted) continue;
      MW_ASSIGN_OR_RETURN(std::string data, warehouse.Resolve(entry.data_file.file_path));
      files.insert(data);
    }
  }
  return Status::OK();
}

Result<LoadedTable> CommitMetadataChange(Warehouse& warehouse, const TableIdentifier& identifier,
                                         const std::function<Status(TableMetadata&)>& change) {
  for (int attempt = 1;; ++attempt) {
    MW_ASSIGN_OR_RETURN(LoadedTable table, warehouse.LoadTable(identifier));
    TableMetadata updated = table.metadata;
    MW_RETURN_IF_ERROR(change(updated));
    // No new metadata file (and no new history entry) for a change that changes nothing.
    if (TableMetadataToString(updated) == TableMetadataToString(table.metadata)) return table;
    auto committed = warehouse.Commit(table, std::move(updated));
    if (committed.ok() || committed.error().code() != StatusCode::kConflict || attempt >= 10) {
      return committed;
    }
  }
}

}  // namespace

Result<ExpireReport> ExpireSnapshots(Warehouse& warehouse, const TableIdentifier& identifier,
                                     int64_t older_than_ms, int retain_last) {
  MW_ASSIGN_OR_RETURN(LoadedTable before, warehouse.LoadTable(identifier));
  std::set<int64_t> expired;
  auto committed = CommitMetadataChange(warehouse, identifier, [&](TableMetadata& metadata) {
    std::set<int64_t> keep;
    for (const auto& [name, ref] : metadata.refs)
      keep.insert(ref.snapshot_id);
    int kept_on_main = 0;
    for (const Snapshot* snapshot = metadata.CurrentSnapshot();
         snapshot != nullptr && kept_on_main < retain_last;
         snapshot = snapshot->parent_snapshot_id
                        ? metadata.SnapshotById(*snapshot->parent_snapshot_id)
                        : nullptr) {
      keep.insert(snapshot->snapshot_id);
      ++kept_on_main;
    }
    expired.clear();
    std::vector<Snapshot> remaining;
    for (Snapshot& snapshot : metadata.snapshots) {
      if (keep.contains(snapshot.snapshot_id) || snapshot.timestamp_ms >= older_than_ms) {
        remaining.push_back(std::move(snapshot));
      } else {
        expired.insert(snapshot.snapshot_id);
      }
    }
    metadata.snapshots = std::move(remaining);
    // History entries of expired snapshots go: the log lists only snapshots one can read.
    std::erase_if(metadata.snapshot_log, [&](const SnapshotLogEntry& entry) {
      return expired.contains(entry.snapshot_id);
    });
    return Status::OK();
  });
  if (!committed.ok()) return committed.error();
  ExpireReport report;
  report.expired_snapshots.assign(expired.begin(), expired.end());
  if (expired.empty()) return report;

  // Files reachable only from expired snapshots can go now: no snapshot reads them any more.
  std::set<std::string> still_reachable, seen_manifests;
  for (const Snapshot& snapshot : committed->metadata.snapshots) {
    MW_RETURN_IF_ERROR(CollectReachable(warehouse, committed->metadata, snapshot, still_reachable,
                                        seen_manifests));
  }
  std::set<std::string> expired_files, expired_manifests;
  for (const Snapshot& snapshot : before.metadata.snapshots) {
    if (!expired.contains(snapshot.snapshot_id)) continue;
    // Deleted entries matter here: an expired snapshot may be the last to reference a file.
    storage::FileIO& io = warehouse.io();
    MW_ASSIGN_OR_RETURN(std::string list_relative, warehouse.Resolve(snapshot.manifest_list));
    expired_files.insert(list_relative);
    MW_ASSIGN_OR_RETURN(std::string list, io.ReadFile(snapshot.manifest_list));
    MW_ASSIGN_OR_RETURN(auto manifests, ReadManifestList(list, snapshot.manifest_list));
    for (const ManifestFile& manifest : manifests) {
      MW_ASSIGN_OR_RETURN(std::string relative, warehouse.Resolve(manifest.manifest_path));
      expired_files.insert(relative);
      if (!expired_manifests.insert(relative).second) continue;
      MW_ASSIGN_OR_RETURN(std::string bytes, io.ReadFile(manifest.manifest_path));
      MW_ASSIGN_OR_RETURN(auto entries,
                          ReadManifest(bytes, manifest, before.metadata.CurrentSchema(),
                                       before.metadata.partition_specs));
      for (const ManifestEntry& entry : entries) {
        MW_ASSIGN_OR_RETURN(std::string data, warehouse.Resolve(entry.data_file.file_path));
        expired_files.insert(data);
      }
    }
  }
  for (const std::string& path : expired_files) {
    if (still_reachable.contains(path)) continue;
    auto size = warehouse.io().Size(path);
    Status deleted = warehouse.io().Delete(path);
    if (deleted.ok()) {
      ++report.deleted_files;
      report.deleted_bytes += size.ok() ? *size : 0;
    } else if (deleted.code() != StatusCode::kNotFound) {
      return deleted;
    }
  }
  return report;
}

Result<LoadedTable> RollbackTo(Warehouse& warehouse, const TableIdentifier& identifier,
                               int64_t snapshot_id, bool force) {
  return CommitMetadataChange(warehouse, identifier, [&](TableMetadata& metadata) -> Status {
    if (metadata.SnapshotById(snapshot_id) == nullptr) {
      return Status::NotFound("table {} has no snapshot {}", identifier.ToString(), snapshot_id)
          .WithHint("list snapshots with `meshwork table snapshots`");
    }
    if (!force) {
      bool ancestor = false;
      for (const Snapshot* snapshot = metadata.CurrentSnapshot(); snapshot != nullptr;
           snapshot = snapshot->parent_snapshot_id
                          ? metadata.SnapshotById(*snapshot->parent_snapshot_id)
                          : nullptr) {
        if (snapshot->snapshot_id == snapshot_id) ancestor = true;
        if (ancestor) break;
      }
      if (!ancestor) {
        return Status::FailedPrecondition("snapshot {} is not an ancestor of the current snapshot",
                                          snapshot_id)
            .WithHint("to jump to a snapshot of another line of history, set it explicitly");
      }
    }
    if (metadata.current_snapshot_id == snapshot_id) return Status::OK();  // nothing to log
    metadata.current_snapshot_id = snapshot_id;
    metadata.refs["main"] = SnapshotRef{snapshot_id, true, {}, {}, {}};
    metadata.snapshot_log.push_back({time::NowMicros() / 1000, snapshot_id});
    return Status::OK();
  });
}

Result<LoadedTable> SetRef(Warehouse& warehouse, const TableIdentifier& identifier,
                           const std::string& name, bool is_branch,
                           std::optional<int64_t> snapshot_id) {
  if (name.empty() || name == "main") {
    return Status::InvalidArgument("'{}' cannot be set here", name)
        .WithHint("main follows the table's commits; use rollback to move it");
  }
  return CommitMetadataChange(warehouse, identifier, [&](TableMetadata& metadata) -> Status {
    const int64_t target =
        snapshot_id ? *snapshot_id
                    : (metadata.current_snapshot_id ? *metadata.current_snapshot_id : -1);
    if (metadata.SnapshotById(target) == nullptr) {
      return Status::NotFound("table {} has no snapshot {}", identifier.ToString(), target)
          .WithHint("a table needs a snapshot before it can be tagged");
    }
    auto existing = metadata.refs.find(name);
    if (existing != metadata.refs.end() && existing->second.is_branch != is_branch) {
      return Status::AlreadyExists("'{}' already exists as a {}", name,
                                   existing->second.is_branch ? "branch" : "tag");
    }
    metadata.refs[name] = SnapshotRef{target, is_branch, {}, {}, {}};
    return Status::OK();
  });
}

Result<LoadedTable> DropRef(Warehouse& warehouse, const TableIdentifier& identifier,
                            const std::string& name) {
  return CommitMetadataChange(warehouse, identifier, [&](TableMetadata& metadata) -> Status {
    if (name == "main") return Status::InvalidArgument("the main branch cannot be dropped");
    if (metadata.refs.erase(name) == 0) {
      return Status::NotFound("table {} has no branch or tag '{}'", identifier.ToString(), name);
    }
    return Status::OK();
  });
}

Result<int64_t> ResolveSnapshot(const TableMetadata& metadata, const std::string& text) {
  int64_t id = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error == std::errc() && end == text.data() + text.size()) {
    if (metadata.SnapshotById(id) == nullptr) {
      return Status::NotFound("the table has no snapshot {}", id)
          .WithHint("list snapshots with `meshwork table snapshots`");
    }
    return id;
  }
  if (metadata.refs.contains(text)) {
    MW_ASSIGN_OR_RETURN(const Snapshot* snapshot, metadata.SnapshotForRef(text));
    return snapshot->snapshot_id;
  }
  auto timestamp = ParseLiteralText(Type::TimestampTz(), text);
  if (!timestamp.ok()) {
    return Status::InvalidArgument("'{}' is not a snapshot id, a branch or tag, or a timestamp",
                                   text)
        .WithHint(
            "use a snapshot id from `meshwork table snapshots`, a tag name, or a time like "
            "'2026-01-02 10:00:00'");
  }
  MW_ASSIGN_OR_RETURN(const Snapshot* snapshot,
                      metadata.SnapshotAsOf(timestamp->as<int64_t>() / 1000));
  return snapshot->snapshot_id;
}

Result<LoadedTable> UpdateProperties(Warehouse& warehouse, const TableIdentifier& identifier,
                                     const std::map<std::string, std::string>& set,
                                     const std::vector<std::string>& unset) {
  static const std::set<std::string> kReserved = {
      "format-version",           "uuid",
      "snapshot-count",           "current-snapshot-id",
      "current-snapshot-summary", "current-snapshot-timestamp-ms",
      "current-schema",           "default-partition-spec",
      "default-sort-order"};
  static const std::set<std::string> kPositiveNumbers = {"write.target-file-size-bytes",
                                                         "write.metadata.previous-versions-max"};
  for (const auto& [key, value] : set) {
    if (key.empty()) return Status::InvalidArgument("a property needs a name");
    if (kReserved.contains(key)) {
      return Status::InvalidArgument("'{}' is reserved by the Iceberg spec and cannot be set", key)
          .WithHint("it is derived from the table's metadata");
    }
    if (kPositiveNumbers.contains(key)) {
      int64_t number = 0;
      auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
      if (error != std::errc() || end != value.data() + value.size() || number <= 0) {
        return Status::InvalidArgument("property {} must be a positive whole number, not '{}'", key,
                                       value)
            .WithHint(key == "write.target-file-size-bytes" ? "e.g. 134217728 for 128 MiB"
                                                            : "e.g. 100");
      }
    }
    if (std::find(unset.begin(), unset.end(), key) != unset.end()) {
      return Status::InvalidArgument("property {} is both set and removed", key);
    }
  }
  return CommitMetadataChange(warehouse, identifier, [&](TableMetadata& metadata) -> Status {
    for (const std::string& key : unset) {
      if (metadata.properties.erase(key) == 0) {
        return Status::NotFound("table {} has no property '{}'", identifier.ToString(), key)
            .WithHint("list properties with `meshwork table schema`");
      }
    }
    for (const auto& [key, value] : set)
      metadata.properties[key] = value;
    return Status::OK();
  });
}

Result<LoadedTable> UpdatePartitionSpec(Warehouse& warehouse, const TableIdentifier& identifier,
                                        const PartitionSpec& requested) {
  return CommitMetadataChange(warehouse, identifier, [&](TableMetadata& metadata) -> Status {
    const Schema& schema = metadata.CurrentSchema();
    std::vector<PartitionField> fields;
    int32_t last_id = metadata.last_partition_id;
    for (PartitionField field : requested.fields()) {
      // Reuse the id of an equivalent field of any earlier spec (the spec requires it), so
      // readers see one partition field across specs.
      std::optional<int32_t> reused;
      for (const PartitionSpec& earlier : metadata.partition_specs) {
        for (const PartitionField& old : earlier.fields()) {
          if (old.source_id == field.source_id && old.transform == field.transform) {
            reused = old.field_id;
            field.name = old.name;
          }
        }
      }
      field.field_id = reused ? *reused : ++last_id;
      fields.push_back(std::move(field));
    }
    PartitionSpec candidate(0, fields);
    MW_RETURN_IF_ERROR(candidate.Validate(schema));
    for (const PartitionSpec& earlier : metadata.partition_specs) {
      if (earlier.fields() == fields) {
        metadata.default_spec_id = earlier.spec_id();  // an identical spec: no duplicate
        return Status::OK();
      }
    }
    int32_t next_spec_id = 0;
    for (const PartitionSpec& earlier : metadata.partition_specs)
      next_spec_id = std::max(next_spec_id, earlier.spec_id() + 1);
    metadata.partition_specs.push_back(PartitionSpec(next_spec_id, std::move(fields)));
    metadata.default_spec_id = next_spec_id;
    metadata.last_partition_id = std::max(metadata.last_partition_id, last_id);
    return Status::OK();
  });
}

}  // namespace meshwork::iceberg
