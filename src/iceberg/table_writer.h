#pragma once
// Writes rows into an Iceberg table: DuckDB runs the query and writes Parquet files with Iceberg
// field ids (partitioned by the table's spec, the transforms computed in SQL, bucket through our
// Murmur3 as a UDF); we take statistics from the written files' footers, write a manifest and a
// manifest list, and commit a new snapshot with optimistic concurrency.

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "engine/connection.h"
#include "iceberg/manifest.h"
#include "iceberg/warehouse.h"

namespace meshwork::iceberg {

struct AppendOptions {
  /// Commit attempts before giving up on conflicts.
  int max_attempts = 50;
  /// Called with each stage of the write ("writing Parquet files", ...); may be empty.
  std::function<void(const std::string&)> progress;
  /// Called every `progress_interval` while DuckDB writes the data files, with DuckDB's estimate
  /// of how far it is (0..100, or -1 when it cannot tell) and the seconds since the write began.
  std::function<void(double percent, double seconds)> write_progress;
  std::chrono::milliseconds progress_interval{500};
  /// Called with the written data files (statistics collected, not committed) just before the
  /// commit: what a caller checks before publishing (quality rules on the staged data). An error
  /// aborts the write: the files are removed and the error returned.
  std::function<Status(const std::vector<DataFile>& staged)> before_commit;
  /// Extra snapshot summary properties (what a reader of this snapshot must know about it).
  std::map<std::string, std::string> summary;
};

struct AppendResult {
  int64_t snapshot_id = 0;
  int64_t added_records = 0;
  int64_t added_files = 0;
  int64_t added_bytes = 0;
  int64_t removed_files = 0;
  int64_t removed_records = 0;
  int attempts = 0;
  std::string metadata_location;
};

/// Registers meshwork_bucket_long(BIGINT, INTEGER) and meshwork_bucket_string(VARCHAR, INTEGER)
/// (Iceberg's bucket transform) on the connection's database.
Status RegisterIcebergFunctions(engine::Connection& connection);

/// DuckDB's spelling of an Iceberg type ("DECIMAL(12,2)", "STRUCT(...)", "BIGINT[]").
Result<std::string> DuckDBType(const Type& type);

/// Appends the rows of `source_sql` (any DuckDB query: read_csv(...), SELECT ...) to the table.
/// Columns are matched by name (case-insensitive) and cast to the table's types; optional
/// columns the source lacks are NULL; extra source columns are an error.
Result<AppendResult> AppendQuery(Warehouse& warehouse, const TableIdentifier& table,
                                 engine::Connection& connection, const std::string& source_sql,
                                 const AppendOptions& options = {});

/// Deletes the rows matching `filter_text` (copy-on-write: files that lose every row are dropped,
/// files that lose some are rewritten without them). Fails with conflict when a concurrent
/// commit removed those files or added files that may hold matching rows.
Result<AppendResult> DeleteWhere(Warehouse& warehouse, const TableIdentifier& table,
                                 engine::Connection& connection, const std::string& filter_text,
                                 const AppendOptions& options = {});

/// Replaces the rows matching `filter_text` (all rows when empty) by the rows of `source_sql`,
/// in one snapshot.
Result<AppendResult> OverwriteQuery(Warehouse& warehouse, const TableIdentifier& table,
                                    engine::Connection& connection, const std::string& source_sql,
                                    const std::string& filter_text,
                                    const AppendOptions& options = {});

struct CompactOptions {
  /// Size of the files written; 0 takes write.target-file-size-bytes (default 128 MiB).
  int64_t target_file_size = 0;
  /// A partition's small files are rewritten only when there are at least this many.
  int min_input_files = 2;
  /// Only files that may hold rows matching this filter are considered ("" = all). Whole files
  /// are rewritten: every row is kept.
  std::string filter;
  std::function<void(const std::string&)> progress;
  std::function<void(double percent, double seconds)> write_progress;  // as AppendOptions
};

struct CompactResult {
  int64_t snapshot_id = 0;  // 0: nothing to do
  int64_t rewritten_files = 0;
  int64_t rewritten_bytes = 0;
  int64_t added_files = 0;
  int64_t added_bytes = 0;
  int64_t records = 0;
  int64_t partitions = 0;
};

/// Compaction: per partition, data files smaller than 3/4 of the target size are rewritten into
/// target-sized files, all rows kept (read by field id, written in the current partition spec
/// and sort order); files of an older partition spec are always rewritten into the current one.
/// Commits one `replace` snapshot. A concurrent append is kept; a concurrent delete or rewrite
/// of an input file makes it fail with a conflict and leave nothing behind.
Result<CompactResult> CompactTable(Warehouse& warehouse, const TableIdentifier& table,
                                   engine::Connection& connection,
                                   const CompactOptions& options = {});

/// COPY options that make DuckDB write Iceberg data files for `schema`: field ids, zstd, the
/// Iceberg schema in the footer.
std::string ParquetCopyOptions(const Schema& schema);
/// A query reading data files by field id under `schema` (renamed, added, widened columns).
Result<std::string> ReadParquetSql(const Schema& schema,
                                   const std::vector<std::string>& local_paths);

/// The data files of a snapshot (default: current) as absolute local paths, for reading.
Result<std::vector<DataFile>> LiveDataFiles(Warehouse& warehouse, const LoadedTable& table,
                                            std::optional<int64_t> snapshot_id = std::nullopt);

}  // namespace meshwork::iceberg
