#pragma once
// Table metadata (spec "Table Metadata", "Snapshots", "Snapshot References", Appendix C): read
// format v1 and v2, write v2.

#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "iceberg/partition_spec.h"
#include "iceberg/schema.h"

namespace meshwork::iceberg {

struct Snapshot {
  int64_t snapshot_id = 0;
  std::optional<int64_t> parent_snapshot_id;
  int64_t sequence_number = 0;
  int64_t timestamp_ms = 0;
  std::string manifest_list;
  /// v1 tables may list manifests directly instead of a manifest list.
  std::vector<std::string> v1_manifests;
  /// "operation" (append, replace, overwrite, delete) plus the optional counters.
  std::map<std::string, std::string> summary;
  std::optional<int32_t> schema_id;

  std::string operation() const;
};

struct SnapshotRef {
  int64_t snapshot_id = 0;
  bool is_branch = true;  // else a tag
  std::optional<int32_t> min_snapshots_to_keep;
  std::optional<int64_t> max_snapshot_age_ms;
  std::optional<int64_t> max_ref_age_ms;
};

struct SnapshotLogEntry {
  int64_t timestamp_ms = 0;
  int64_t snapshot_id = 0;
};

struct MetadataLogEntry {
  int64_t timestamp_ms = 0;
  std::string metadata_file;
};

struct BlobMetadata {
  std::string type;
  int64_t snapshot_id = 0;
  int64_t sequence_number = 0;
  std::vector<int32_t> fields;
  std::map<std::string, std::string> properties;
};

struct StatisticsFile {
  int64_t snapshot_id = 0;
  std::string statistics_path;
  int64_t file_size_in_bytes = 0;
  int64_t file_footer_size_in_bytes = 0;
  std::optional<std::string> key_metadata;
  std::vector<BlobMetadata> blob_metadata;
};

struct PartitionStatisticsFile {
  int64_t snapshot_id = 0;
  std::string statistics_path;
  int64_t file_size_in_bytes = 0;
};

struct TableMetadata {
  static constexpr int kMaxSupportedFormatVersion = 2;

  int format_version = 2;
  std::string table_uuid;
  std::string location;
  int64_t last_sequence_number = 0;
  int64_t last_updated_ms = 0;
  int32_t last_column_id = 0;
  std::vector<Schema> schemas;
  int32_t current_schema_id = 0;
  std::vector<PartitionSpec> partition_specs;
  int32_t default_spec_id = 0;
  int32_t last_partition_id = PartitionSpec::kFirstFieldId - 1;
  std::vector<SortOrder> sort_orders;
  int32_t default_sort_order_id = 0;
  std::map<std::string, std::string> properties;
  std::optional<int64_t> current_snapshot_id;
  std::vector<Snapshot> snapshots;
  std::vector<SnapshotLogEntry> snapshot_log;
  std::vector<MetadataLogEntry> metadata_log;
  std::map<std::string, SnapshotRef> refs;
  std::vector<StatisticsFile> statistics;
  std::vector<PartitionStatisticsFile> partition_statistics;

  const Schema* SchemaById(int32_t id) const;
  const Schema& CurrentSchema() const;
  const PartitionSpec* SpecById(int32_t id) const;
  const PartitionSpec& DefaultSpec() const;
  const SortOrder* SortOrderById(int32_t id) const;
  const Snapshot* SnapshotById(int64_t id) const;
  const Snapshot* CurrentSnapshot() const;
  /// The snapshot a branch or tag points to; not_found when the ref does not exist.
  Result<const Snapshot*> SnapshotForRef(const std::string& ref) const;
  /// The snapshot that was current at `timestamp_ms` (from the snapshot log).
  Result<const Snapshot*> SnapshotAsOf(int64_t timestamp_ms) const;
  int64_t PropertyAsLong(const std::string& key, int64_t fallback) const;
};

/// Parses a metadata file. `document` names it in errors. Versions above 2 are refused with
/// "unsupported format version".
Result<TableMetadata> TableMetadataFromJson(std::string_view text, std::string_view document);
Result<TableMetadata> TableMetadataFromJsonValue(const nlohmann::json& value,
                                                 std::string_view document);
/// The parts of metadata JSON on their own (REST commit updates carry them); `path` names the
/// object in errors.
Result<Snapshot> SnapshotFromJson(const nlohmann::json& value, const std::string& path,
                                  int format_version);
Result<SnapshotRef> SnapshotRefFromJson(const nlohmann::json& value, const std::string& path);
Result<StatisticsFile> StatisticsFromJson(const nlohmann::json& value, const std::string& path);
Result<PartitionStatisticsFile> PartitionStatisticsFromJson(const nlohmann::json& value,
                                                            const std::string& path);

/// Writes format v2 (a v1 table is upgraded on write).
nlohmann::json TableMetadataToJson(const TableMetadata& metadata);
std::string TableMetadataToString(const TableMetadata& metadata);

}  // namespace meshwork::iceberg
