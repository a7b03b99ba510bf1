#include "iceberg/table_commit.h"

#include <fmt/format.h>

#include <chrono>
#include <random>
#include <thread>

#include "common/time.h"
#include "common/uuid.h"
#include "iceberg/scan_planner.h"
#include "iceberg/value_codec.h"

namespace meshwork::iceberg {
namespace {

int64_t SummaryLong(const std::map<std::string, std::string>& summary, const std::string& key) {
  auto it = summary.find(key);
  if (it == summary.end()) return 0;
  try {
    return std::stoll(it->second);
  } catch (...) {
    return 0;
  }
}

// Snapshot ids on the parent chain of `snapshot` (itself included).
std::set<int64_t> Ancestry(const TableMetadata& metadata, const Snapshot* snapshot) {
  std::set<int64_t> ids;
  while (snapshot != nullptr && ids.insert(snapshot->snapshot_id).second) {
    snapshot = snapshot->parent_snapshot_id ? metadata.SnapshotById(*snapshot->parent_snapshot_id)
                                            : nullptr;
  }
  return ids;
}

Result<std::string> SaveManifest(Warehouse& warehouse, const LoadedTable& table,
                                 const std::string& bytes) {
  const std::string relative =
      fmt::format("{}/metadata/{}-m0.avro", warehouse.TableFolder(table), Uuid::V4().ToString());
  MW_RETURN_IF_ERROR(warehouse.io().WriteFileAtomic(relative, bytes, {.create_only = true}));
  return relative;
}

}  // namespace

int64_t NewSnapshotId() {
  const auto bytes = Uuid::V4().bytes();
  int64_t id = 0;
  for (int index = 0; index < 8; ++index)
    id = (id << 8) | bytes[static_cast<size_t>(index)];
  return id & 0x7fffffffffffffffLL;
}

Result<CommitResult> CommitTableChange(Warehouse& warehouse, const LoadedTable& base,
                                       const TableChange& change) {
  const TableIdentifier& identifier = base.identifier;
  CommitResult result;
  result.snapshot_id = NewSnapshotId();
  const Schema& schema = base.metadata.CurrentSchema();

  // Manifests of the added files, written once: their entries inherit snapshot id and sequence
  // number from whichever manifest list finally commits.
  std::vector<ManifestFile> added_manifests;
  std::vector<std::string> written;  // relative paths to remove if the commit fails for good
  auto cleanup = [&]() {
    for (const std::string& path : written)
      (void)warehouse.io().Delete(path);
  };
  for (const auto& [spec_id, files] : change.added) {
    if (files.empty()) continue;
    const PartitionSpec* spec = base.metadata.SpecById(spec_id);
    if (spec == nullptr) return Status::Internal("unknown partition spec {}", spec_id);
    std::vector<ManifestEntry> entries;
    for (const DataFile& file : files) {
      entries.push_back({EntryStatus::kAdded, std::nullopt, std::nullopt, std::nullopt, file});
      ++result.added_files;
      result.added_records += file.record_count;
      result.added_bytes += file.file_size_in_bytes;
    }
    ManifestFile summary;
    MW_ASSIGN_OR_RETURN(std::string bytes, WriteManifest(schema, *spec, FileContent::kData, entries,
                                                         result.snapshot_id, summary));
    auto relative = SaveManifest(warehouse, base, bytes);
    if (!relative.ok()) {
      cleanup();
      return relative.error();
    }
    written.push_back(*relative);
    summary.manifest_path = warehouse.FileUri(*relative);
    summary.manifest_length = static_cast<int64_t>(bytes.size());
    added_manifests.push_back(std::move(summary));
  }

  std::mt19937_64 jitter(static_cast<uint64_t>(result.snapshot_id));
  LoadedTable table = base;
  // After two lost races, queue on the table's commit guard (where the store has one): each
  // attempt re-reads and re-writes manifest lists, so under heavy contention pure optimism lets
  // slow writers lose forever.
  constexpr int kAttemptsBeforeQueueing = 3;
  std::unique_ptr<PointerStore::CommitGuard> guard;
  for (int attempt = 1; attempt <= change.max_attempts; ++attempt) {
    result.attempts = attempt;
    if (attempt == kAttemptsBeforeQueueing) {
      auto locked = warehouse.pointers().LockForCommit(identifier);
      if (!locked.ok()) {
        cleanup();
        return locked.error();
      }
      guard = std::move(*locked);
    }
    if (attempt > 1) {
      auto reloaded = warehouse.LoadTable(identifier);
      if (!reloaded.ok()) {
        cleanup();
        return reloaded.error();
      }
      table = std::move(*reloaded);
    }
    TableMetadata updated = table.metadata;
    const Snapshot* parent = updated.CurrentSnapshot();
    const int64_t sequence = updated.last_sequence_number + 1;
    const std::set<int64_t> seen = Ancestry(base.metadata, base.metadata.CurrentSnapshot());

    std::vector<ManifestFile> manifests = added_manifests;
    for (ManifestFile& manifest : manifests) {
      manifest.sequence_number = sequence;
      manifest.min_sequence_number = sequence;
      manifest.added_snapshot_id = result.snapshot_id;
    }
    std::vector<std::string> attempt_files;  // this attempt's manifests and list
    std::set<std::string> still_to_remove = change.removed;
    result.removed_files = 0;
    result.removed_records = 0;
    Status failure;
    if (parent != nullptr) {
      auto list = warehouse.io().ReadFile(parent->manifest_list);
      if (!list.ok()) failure = list.error();
      auto previous = failure.ok() ? ReadManifestList(*list, parent->manifest_list)
                                   : Result<std::vector<ManifestFile>>(failure);
      if (!previous.ok()) failure = previous.error();
      for (size_t index = 0; failure.ok() && index < previous->size(); ++index) {
        ManifestFile& manifest = (*previous)[index];
        const bool needs_reading =
            !change.removed.empty() ||
            (change.conflict_filter && !seen.contains(manifest.added_snapshot_id));
        if (!needs_reading) {
          manifests.push_back(std::move(manifest));
          continue;
        }
        auto bytes = warehouse.io().ReadFile(manifest.manifest_path);
        if (!bytes.ok()) {
          failure = bytes.error();
          break;
        }
        auto entries = ReadManifest(*bytes, manifest, schema, updated.partition_specs);
        if (!entries.ok()) {
          failure = entries.error();
          break;
        }
        bool touched = false;
        for (ManifestEntry& entry : *entries) {
          if (entry.status == EntryStatus::kDeleted) continue;
          // Serializable check: live files committed by others since `base` that our filter
          // covers.
          if (change.conflict_filter && entry.snapshot_id && !seen.contains(*entry.snapshot_id)) {
            const DataFile& file = entry.data_file;
            const bool might = MightMatch(*change.conflict_filter, [&](int32_t field_id) {
              const NestedField* field = schema.FindField(field_id);
              if (field == nullptr || !field->type->is_primitive())
                return std::optional<ColumnRange>();
              ColumnRange range;
              if (auto it = file.lower_bounds.find(field_id); it != file.lower_bounds.end()) {
                if (auto v = DeserializeValue(field->type, it->second); v.ok()) range.lower = *v;
              }
              if (auto it = file.upper_bounds.find(field_id); it != file.upper_bounds.end()) {
                if (auto v = DeserializeValue(field->type, it->second); v.ok()) range.upper = *v;
              }
              return std::optional<ColumnRange>(range);
            });
            if (might) {
              failure = Status::Conflict(
                            "table {} changed concurrently: {} was added by another writer and may "
                            "hold rows "
                            "this {} covers",
                            identifier.ToString(), file.file_path, change.operation)
                            .WithHint("rerun the " + change.operation + " on the new table state");
              break;
            }
          }
          if (still_to_remove.contains(entry.data_file.file_path)) touched = true;
        }
        if (!failure.ok()) break;
        if (!touched) {
          manifests.push_back(std::move(manifest));
          continue;
        }
        // Rewrite the manifest: removed files become DELETED, the rest EXISTING.
        std::vector<ManifestEntry> rewritten;
        for (ManifestEntry& entry : *entries) {
          if (entry.status == EntryStatus::kDeleted) continue;
          if (still_to_remove.erase(entry.data_file.file_path) > 0) {
            ++result.removed_files;
            result.removed_records += entry.data_file.record_count;
            entry.status = EntryStatus::kDeleted;
            entry.snapshot_id = result.snapshot_id;
          } else {
            entry.status = EntryStatus::kExisting;
          }
          rewritten.push_back(std::move(entry));
        }
        const PartitionSpec* spec = updated.SpecById(manifest.partition_spec_id);
        ManifestFile summary;
        // A delete manifest stays one (a data file's delete never touches it today, but the
        // content must never flip).
        const FileContent content = manifest.content == 0 ? FileContent::kData
                                    : rewritten.empty()   ? FileContent::kPositionDeletes
                                                          : rewritten.front().data_file.content;
        auto manifest_bytes =
            WriteManifest(schema, *spec, content, rewritten, result.snapshot_id, summary);
        if (!manifest_bytes.ok()) {
          failure = manifest_bytes.error();
          break;
        }
        auto relative = SaveManifest(warehouse, table, *manifest_bytes);
        if (!relative.ok()) {
          failure = relative.error();
          break;
        }
        attempt_files.push_back(*relative);
        summary.manifest_path = warehouse.FileUri(*relative);
        summary.manifest_length = static_cast<int64_t>(manifest_bytes->size());
        summary.sequence_number = sequence;
        summary.min_sequence_number = manifest.min_sequence_number;
        manifests.push_back(std::move(summary));
      }
    }
    if (failure.ok() && !still_to_remove.empty()) {
      failure = Status::Conflict(
                    "table {} changed concurrently: {} was already removed or rewritten by "
                    "another writer",
                    identifier.ToString(), *still_to_remove.begin())
                    .WithHint("rerun the " + change.operation + " on the new table state");
    }
    std::string list_relative;
    if (failure.ok()) {
      auto list_bytes =
          WriteManifestList(manifests, result.snapshot_id,
                            parent ? std::optional(parent->snapshot_id) : std::nullopt, sequence);
      if (!list_bytes.ok()) failure = list_bytes.error();
      if (failure.ok()) {
        list_relative = fmt::format("{}/metadata/snap-{}-{}-{}.avro", warehouse.TableFolder(table),
                                    result.snapshot_id, attempt, Uuid::V4().ToString());
        failure = warehouse.io().WriteFileAtomic(list_relative, *list_bytes, {.create_only = true});
        if (failure.ok()) attempt_files.push_back(list_relative);
      }
    }
    if (!failure.ok()) {
      for (const std::string& path : attempt_files)
        (void)warehouse.io().Delete(path);
      cleanup();
      return failure;
    }

    Snapshot snapshot;
    snapshot.snapshot_id = result.snapshot_id;
    if (parent) snapshot.parent_snapshot_id = parent->snapshot_id;
    snapshot.sequence_number = sequence;
    snapshot.timestamp_ms = time::NowMicros() / 1000;
    snapshot.manifest_list = warehouse.FileUri(list_relative);
    snapshot.schema_id = schema.schema_id();
    const auto& before = parent ? parent->summary : std::map<std::string, std::string>();
    snapshot.summary = {
        {"operation", change.operation},
        {"added-data-files", std::to_string(result.added_files)},
        {"added-records", std::to_string(result.added_records)},
        {"added-files-size", std::to_string(result.added_bytes)},
        {"deleted-data-files", std::to_string(result.removed_files)},
        {"deleted-records", std::to_string(result.removed_records)},
        {"total-data-files", std::to_string(SummaryLong(before, "total-data-files") +
                                            result.added_files - result.removed_files)},
        {"total-records", std::to_string(SummaryLong(before, "total-records") +
                                         result.added_records - result.removed_records)},
        {"total-delete-files", std::to_string(SummaryLong(before, "total-delete-files"))},
        {"total-position-deletes", std::to_string(SummaryLong(before, "total-position-deletes"))},
        {"total-equality-deletes", std::to_string(SummaryLong(before, "total-equality-deletes"))},
        {"engine-name", "meshwork"},
    };
    for (const auto& [key, value] : change.summary)
      snapshot.summary.try_emplace(key, value);
    // meshwork.* keys describe the table's data (how its columns are stored): a change that does
    // not restate them (an append, a compaction, a delete) keeps what its parent said.
    for (const auto& [key, value] : before)
      if (key.starts_with("meshwork.")) snapshot.summary.try_emplace(key, value);
    updated.snapshots.push_back(snapshot);
    updated.current_snapshot_id = snapshot.snapshot_id;
    updated.last_sequence_number = sequence;
    updated.refs["main"] = SnapshotRef{snapshot.snapshot_id, true, {}, {}, {}};
    updated.snapshot_log.push_back({snapshot.timestamp_ms, snapshot.snapshot_id});
    auto committed = warehouse.Commit(table, std::move(updated));
    if (committed.ok()) {
      result.metadata_location = committed->metadata_location;
      return result;
    }
    for (const std::string& path : attempt_files)
      (void)warehouse.io().Delete(path);
    if (committed.error().code() != StatusCode::kConflict) {
      cleanup();
      return committed.error();
    }
    // Another writer won: back off with jitter, then rebase onto its snapshot.
    const int64_t ceiling_ms = std::min<int64_t>(5 * (int64_t{1} << std::min(attempt, 6)), 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(
        1 + static_cast<int64_t>(jitter() % static_cast<uint64_t>(ceiling_ms))));
  }
  cleanup();
  return Status::Conflict("cannot commit the {} to {}: {} attempts lost to concurrent writers",
                          change.operation, identifier.ToString(), change.max_attempts)
      .WithHint("retry later");
}

}  // namespace meshwork::iceberg
