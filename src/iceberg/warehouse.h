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

namespace meshwork::iceberg {

struct LoadedTable {
  TableIdentifier identifier;
  /// The metadata file this state was read from (the commit's expected pointer value).
  std::string metadata_location;
  TableMetadata metadata;
};

class Warehouse {
 public:
  /// Makes the store that decides which metadata file is current (a catalog's); by default the
  /// filesystem pointer store in the table folders.
  using PointerStoreFactory = std::function<std::unique_ptr<PointerStore>(storage::LocalFileIO&)>;

  /// Opens (creating if needed) the warehouse folder.
  static Result<std::unique_ptr<Warehouse>> Open(const std::string& root,
                                                 PointerStoreFactory pointers = {});

  storage::LocalFileIO& io() { return *io_; }
  PointerStore& pointers() { return *pointers_; }

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

  /// Absolute file:// location of a table folder.
  std::string TableLocation(const TableIdentifier& identifier) const;
  /// The file:// URI of a path relative to the warehouse root, percent-encoded so that any
  /// reader (ours, icebird, Spark) decodes it back to the same file.
  std::string FileUri(std::string_view relative) const;

 private:
  explicit Warehouse(std::unique_ptr<storage::LocalFileIO> io) : io_(std::move(io)) {}
  Result<std::string> WriteMetadataFile(const std::string& folder, int64_t version,
                                        const TableMetadata& metadata);
  std::unique_ptr<storage::LocalFileIO> io_;
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
