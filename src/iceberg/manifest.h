#pragma once
// Manifests (spec "Manifests") and manifest lists (spec "Manifest Lists") as Avro files with the
// spec's schemas, field ids and header metadata, written by us and read from any writer.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "iceberg/literal.h"
#include "iceberg/partition_spec.h"
#include "iceberg/schema.h"

namespace meshwork::iceberg {

enum class FileContent : int { kData = 0, kPositionDeletes = 1, kEqualityDeletes = 2 };
enum class EntryStatus : int { kExisting = 0, kAdded = 1, kDeleted = 2 };

struct DataFile {
  FileContent content = FileContent::kData;
  std::string file_path;
  std::string file_format = "PARQUET";
  /// One value per partition field of the manifest's spec (nullopt = null).
  std::vector<std::optional<Literal>> partition;
  int64_t record_count = 0;
  int64_t file_size_in_bytes = 0;
  std::map<int32_t, int64_t> column_sizes;
  std::map<int32_t, int64_t> value_counts;
  std::map<int32_t, int64_t> null_value_counts;
  std::map<int32_t, int64_t> nan_value_counts;
  /// Single-value serialized bounds (spec Appendix D), by field id.
  std::map<int32_t, std::string> lower_bounds;
  std::map<int32_t, std::string> upper_bounds;
  std::vector<int64_t> split_offsets;
  std::vector<int32_t> equality_ids;
  std::optional<int32_t> sort_order_id;
  std::optional<std::string> referenced_data_file;
  /// The spec of the manifest the file is listed in (not stored per file; filled on read).
  int32_t partition_spec_id = 0;
  /// The entry's data sequence number, inherited as the spec says (filled on read; decides
  /// which delete files apply to which data files).
  int64_t data_sequence_number = 0;
  /// The snapshot that added the file (filled on read, inherited as the spec says).
  int64_t added_snapshot_id = 0;
};

struct ManifestEntry {
  EntryStatus status = EntryStatus::kAdded;
  /// Null in the file means "inherit from the manifest list entry"; readers fill them in.
  std::optional<int64_t> snapshot_id;
  std::optional<int64_t> sequence_number;
  std::optional<int64_t> file_sequence_number;
  DataFile data_file;
};

struct PartitionFieldSummary {
  bool contains_null = false;
  std::optional<bool> contains_nan;
  std::optional<std::string> lower_bound;  // single-value serialized
  std::optional<std::string> upper_bound;
};

struct ManifestFile {
  std::string manifest_path;
  int64_t manifest_length = 0;
  int32_t partition_spec_id = 0;
  int32_t content = 0;  // 0 data, 1 deletes
  int64_t sequence_number = 0;
  int64_t min_sequence_number = 0;
  int64_t added_snapshot_id = 0;
  int32_t added_files_count = 0;
  int32_t existing_files_count = 0;
  int32_t deleted_files_count = 0;
  int64_t added_rows_count = 0;
  int64_t existing_rows_count = 0;
  int64_t deleted_rows_count = 0;
  std::vector<PartitionFieldSummary> partitions;
};

/// Writes a manifest of `entries` (all data or all deletes) for one spec. Returns the file bytes
/// and fills `summary` with everything but path, length and sequence numbers.
Result<std::string> WriteManifest(const Schema& schema, const PartitionSpec& spec,
                                  FileContent content, const std::vector<ManifestEntry>& entries,
                                  int64_t snapshot_id, ManifestFile& summary);

/// Reads a manifest; null snapshot ids and sequence numbers of ADDED entries are inherited from
/// `manifest` (its added_snapshot_id and sequence_number), as the spec requires. `specs` maps
/// spec ids to specs of the table (partition values are typed by the manifest's spec).
/// What a reader needs of each entry: everything (to rewrite manifests), or what scan planning
/// uses (column sizes, NaN counts, split offsets, key metadata and sort order ids are skipped
/// undecoded: planning large tables is dominated by decoding).
enum class ManifestDetail { kFull, kForPlanning };
Result<std::vector<ManifestEntry>> ReadManifest(std::string_view bytes,
                                                const ManifestFile& manifest, const Schema& schema,
                                                const std::vector<PartitionSpec>& specs,
                                                ManifestDetail detail = ManifestDetail::kFull);

Result<std::string> WriteManifestList(const std::vector<ManifestFile>& manifests,
                                      int64_t snapshot_id, std::optional<int64_t> parent_id,
                                      int64_t sequence_number);
Result<std::vector<ManifestFile>> ReadManifestList(std::string_view bytes, std::string_view name);

}  // namespace meshwork::iceberg
