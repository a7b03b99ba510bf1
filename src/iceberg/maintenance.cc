#include "iceberg/maintenance.h"

#include <set>

#include "common/time.h"
#include "iceberg/manifest.h"

namespace meshwork::iceberg {

Result<OrphanReport> RemoveOrphanFiles(Warehouse& warehouse, const TableIdentifier& identifier,
                                       std::chrono::seconds older_than, bool dry_run) {
  MW_ASSIGN_OR_RETURN(LoadedTable table, warehouse.LoadTable(identifier));
  storage::LocalFileIO& io = warehouse.io();
  // Everything reachable from the current metadata, as paths relative to the warehouse.
  std::set<std::string> referenced;
  auto reference = [&](const std::string& location) -> Status {
    MW_ASSIGN_OR_RETURN(std::string relative, io.Resolve(location));
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
      MW_ASSIGN_OR_RETURN(std::string manifest_relative, io.Resolve(manifest.manifest_path));
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
  const std::string prefix = identifier.RelativeLocation() + "/";
  referenced.insert(prefix + std::string(FilesystemPointerStore::kPointerFile));
  referenced.insert(prefix + std::string(FilesystemPointerStore::kLockFile));

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
