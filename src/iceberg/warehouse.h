#pragma once
// Tables in a warehouse folder, with no server: the filesystem pointer store decides which
// metadata file is current; metadata files are written once (create-only) and never changed.
// Commits follow the spec's optimistic protocol: write NNNNN-<uuid>.metadata.json, then
// compare-and-swap the pointer from the base file to the new one.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "iceberg/filesystem_pointer_store.h"
#include "iceberg/table_metadata.h"
#include "storage/local_file_io.h"
#include "storage/mounted_file_io.h"
#include "storage/s3_file_io.h"

namespace meshwork::iceberg {

struct LoadedTable {
  TableIdentifier identifier;
  /// The metadata file this state was read from (the commit's expected pointer value).
  std::string metadata_location;
  TableMetadata metadata;
};

/// How a warehouse on object storage is reached, and the two local folders it needs: the
/// read-through cache the engine reads data files from, and the staging folder DuckDB writes
/// Parquet into before it is uploaded. Ignored for local warehouses.
struct WarehouseStorage {
  /// Endpoint, region, addressing, credentials, retries (S3Config::warehouse is set from root).
  storage::S3Config s3;
  /// Empty: <system temp>/meshwork-<uid>/cache.
  std::string cache_directory;
  uint64_t cache_bytes = uint64_t{10} << 30;
  /// Ranged, parallel downloads into the cache (CacheOptions).
  uint64_t cache_download_part_size = uint64_t{8} << 20;
  int cache_download_concurrency = 4;
  /// Empty: <system temp>/meshwork-<uid>/staging.
  std::string staging_directory;
  /// Named stores that domains may keep their tables in (storage.profiles_file): connection and
  /// credentials only; transfer tuning (parts, retries, timeouts) comes from `s3`.
  std::map<std::string, storage::S3Config> profiles;
};

class Warehouse {
 public:
  /// Makes the store that decides which metadata file is current (a catalog's); by default the
  /// filesystem pointer store in the table folders (local warehouses only). The argument is the
  /// warehouse's FileIO.
  using PointerStoreFactory = std::function<std::unique_ptr<PointerStore>(storage::FileIO&)>;

  /// Opens (creating if needed) the warehouse folder, or with an s3:// root the bucket/prefix
  /// (not contacted here) behind a read-through cache. An s3:// warehouse needs `pointers` (a
  /// metastore): object stores have no lock for the filesystem pointer store.
  static Result<std::unique_ptr<Warehouse>> Open(const std::string& root,
                                                 PointerStoreFactory pointers = {},
                                                 WarehouseStorage storage = {});

  /// Every table file goes through this: the local folder, or S3 behind CachedFileIO (whose
  /// LocalPath gives cached copies the engine can read).
  storage::FileIO& io() { return *io_; }
  PointerStore& pointers() { return *pointers_; }
  /// Whether table files live in object storage (written through staging()).
  bool remote() const { return local_ == nullptr; }
  /// The S3 backend of a remote warehouse (null when local).
  storage::S3FileIO* s3() { return s3_; }
  /// The S3 backend that holds `location` (a URI or a relative path): a domain's own store when
  /// the location is in one, else the warehouse's; null when local.
  storage::S3FileIO* S3For(std::string_view location);

  // Domains with storage of their own. Their bucket/prefix is mounted at the folder "@<domain>"
  // of the warehouse's relative path space, so table folders, staging and the cache work for
  // them unchanged; FileUri and Resolve translate between that folder and the store's s3:// URIs.
  /// The mount folder of a domain: "@finance".
  static std::string MountFolder(std::string_view domain);
  /// Checks that `location` (s3://bucket[/prefix]) can hold a domain's tables through storage
  /// profile `profile` and opens (does not contact) that store. failed_precondition for a local
  /// warehouse; invalid_argument for a location that is not s3://, lies inside the warehouse or
  /// contains it; not_found for an unknown profile; the store's own errors (no credentials).
  /// already_exists when it overlaps the storage another domain than `folder` has mounted.
  Result<std::unique_ptr<storage::S3FileIO>> OpenDomainStorage(const std::string& folder,
                                                               const std::string& location,
                                                               const std::string& profile);
  /// Mounts a store that OpenDomainStorage opened. Idempotent for the same location (several
  /// callers may mount a domain they found); already_exists for another one, or an overlap.
  Status MountDomainStorage(const std::string& folder, std::unique_ptr<storage::S3FileIO> store);
  /// Called (at most a few times a second; the callee limits it) when a location names object
  /// storage that is neither the warehouse nor a mounted domain's: `find` may mount what other
  /// servers on the same catalog created since this one started. Remote warehouses only; set it
  /// before the warehouse is shared between threads.
  void SetMountFinder(std::function<void()> find);
  /// Whether `relative` (a Resolve result) is inside a domain's own store; its folder if so.
  std::optional<std::string> MountOf(std::string_view relative) const;
  /// The local folder root, or "s3://bucket/prefix".
  const std::string& root() const { return root_; }
  /// Where DuckDB writes new data files under the same relative paths as in the warehouse: the
  /// warehouse itself when local; a local staging folder, uploaded by Publish, when remote.
  storage::LocalFileIO& staging() { return local_ != nullptr ? *local_ : *staging_; }
  /// Uploads staged files (relative paths) into the warehouse and deletes the staged copies; a
  /// no-op for local warehouses. Stops at the first failed upload.
  Status Publish(const std::vector<std::string>& relative_paths);
  /// Deletes the staged copies below a staging folder (remote warehouses; a no-op when local).
  void RemoveStagedFolder(const std::string& relative_folder);
  /// The folders a locked engine may read table files from: the warehouse root when local; the
  /// read-through cache only when remote.
  std::vector<std::string> ReadableDirectories() const;
  /// The local folder DuckDB writes a table folder's new files into.
  std::string LocalWriteDirectory(std::string_view relative_folder) const;
  /// The path relative to the root that `path` (relative, or a URI inside the warehouse) names;
  /// refuses everything that leaves the warehouse.
  Result<std::string> Resolve(std::string_view path) const;

  /// The table's folder relative to the warehouse root, from its metadata location (tables a
  /// catalog created or registered need not sit at namespace/name).
  std::string TableFolder(const LoadedTable& table) const;

  /// `sort_order` (if not unsorted) becomes the default order: writes sort rows by it.
  Result<LoadedTable> CreateTable(const TableIdentifier& identifier, const Schema& schema,
                                  const PartitionSpec& spec,
                                  std::map<std::string, std::string> properties = {},
                                  const SortOrder& sort_order = SortOrder::Unsorted());
  Result<LoadedTable> LoadTable(const TableIdentifier& identifier);
  /// Writes `updated` as the next metadata file and swaps the pointer from `base`. conflict when
  /// another writer committed first (reload and retry); the new file is then removed.
  Result<LoadedTable> Commit(const LoadedTable& base, TableMetadata updated);
  /// The first half of Commit, for callers that swap pointers themselves (a catalog committing
  /// several tables at once): records `base` in the metadata log, stamps the time, and writes the
  /// next metadata file (version 0 when `base` is null) into the table folder of
  /// `updated.location`. Returns the new file's location.
  Result<std::string> WriteNextMetadataFile(const LoadedTable* base, TableMetadata& updated);
  /// Deletes every file below a table folder (purge).
  Status DeleteTableFiles(const std::string& folder);
  Result<std::vector<TableIdentifier>> ListTables(const std::vector<std::string>& namespace_levels);
  /// Forgets the table; with `purge`, also deletes every file under its location.
  Status DropTable(const TableIdentifier& identifier, bool purge);

  /// Absolute file:// (or s3://) location of a table folder.
  std::string TableLocation(const TableIdentifier& identifier) const;
  /// The file:// URI of a path relative to the warehouse root, percent-encoded so that any
  /// reader (ours, icebird, Spark) decodes it back to the same file.
  std::string FileUri(std::string_view relative) const;

 private:
  Warehouse() = default;
  Result<std::string> WriteMetadataFile(const std::string& folder, int64_t version,
                                        const TableMetadata& metadata);
  std::string root_;
  std::unique_ptr<storage::FileIO> io_;
  /// The warehouse's own LocalFileIO (io_) when local, else null.
  storage::LocalFileIO* local_ = nullptr;
  /// Remote only: the S3 backend inside io_, the router in front of it (domains' own stores),
  /// the staging folder, the cache folder, and the profiles domains may use.
  storage::S3FileIO* s3_ = nullptr;
  storage::MountedFileIO* mounted_ = nullptr;
  storage::S3Config s3_settings_;
  std::map<std::string, storage::S3Config> profiles_;
  std::unique_ptr<storage::LocalFileIO> staging_;
  std::string cache_directory_;
  std::unique_ptr<PointerStore> pointers_;
};

class SchemaUpdate;

/// Evolves a table's schema: `change` describes the update on a fresh SchemaUpdate; on a commit
/// conflict the table is reloaded and `change` applied again (up to `max_attempts`). Refuses
/// changes that break the default partition spec (dropping its source columns).
Result<LoadedTable> UpdateTableSchema(Warehouse& warehouse, const TableIdentifier& identifier,
                                      const std::function<void(SchemaUpdate&)>& change,
                                      int max_attempts = 10);

/// The version number in a metadata file name "00012-<uuid>.metadata.json" (-1 if none).
int64_t MetadataFileVersion(std::string_view location);

}  // namespace meshwork::iceberg
