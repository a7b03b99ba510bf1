#include "iceberg/warehouse.h"

#include <fmt/format.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>

#include "common/time.h"
#include "common/uuid.h"
#include "iceberg/schema_update.h"
#include "storage/cached_file_io.h"
#include "storage/storage_profiles.h"

namespace meshwork::iceberg {

int64_t MetadataFileVersion(std::string_view location) {
  const size_t slash = location.rfind('/');
  const std::string_view name =
      slash == std::string_view::npos ? location : location.substr(slash + 1);
  const size_t dash = name.find('-');
  if (dash == std::string_view::npos) return -1;
  int64_t version = -1;
  auto [end, error] = std::from_chars(name.data(), name.data() + dash, version);
  return error == std::errc() && end == name.data() + dash ? version : -1;
}

namespace {

bool IsObjectStoreUri(std::string_view root) {
  return root.starts_with("s3://") || root.starts_with("s3a://") || root.starts_with("s3n://");
}

std::string DefaultLocalFolder(std::string_view what) {
  std::error_code error;
  std::filesystem::path temp = std::filesystem::temp_directory_path(error);
  if (error) temp = "/tmp";
  return (temp / fmt::format("meshwork-{}", getuid()) / what).string();
}

}  // namespace

Result<std::unique_ptr<Warehouse>> Warehouse::Open(const std::string& root,
                                                   PointerStoreFactory pointers,
                                                   WarehouseStorage storage) {
  std::unique_ptr<Warehouse> warehouse(new Warehouse());
  if (IsObjectStoreUri(root)) {
    if (!pointers) {
      return Status::InvalidArgument(
                 "warehouse {} is in object storage, which has no lock for committing tables "
                 "without a catalog",
                 root)
          .WithHint("pass --metastore (a catalog database) with an s3:// warehouse");
    }
    storage.s3.warehouse = root;
    MW_ASSIGN_OR_RETURN(auto s3, storage::S3FileIO::Make(storage.s3));
    warehouse->s3_ = s3.get();
    warehouse->root_ = s3->RootUri();
    if (storage.cache_directory.empty()) storage.cache_directory = DefaultLocalFolder("cache");
    if (storage.staging_directory.empty()) {
      storage.staging_directory = DefaultLocalFolder("staging");
    }
    warehouse->s3_settings_ = storage.s3;
    warehouse->profiles_ = storage.profiles;
    auto mounted = std::make_unique<storage::MountedFileIO>(std::move(s3));
    warehouse->mounted_ = mounted.get();
    MW_ASSIGN_OR_RETURN(
        auto cached,
        storage::CachedFileIO::Make(std::move(mounted),
                                    {.directory = storage.cache_directory,
                                     .max_bytes = storage.cache_bytes,
                                     .download_part_size = storage.cache_download_part_size,
                                     .download_concurrency = storage.cache_download_concurrency}));
    auto staging = storage::LocalFileIO::Make(storage.staging_directory);
    if (!staging.ok()) {
      return std::move(staging).error().WithContext(
          fmt::format("cannot open the local staging folder of warehouse {}", root));
    }
    warehouse->staging_ = std::move(*staging);
    std::error_code error;
    const auto canonical = std::filesystem::canonical(storage.cache_directory, error);
    // The engine's file lock compares canonical paths.
    warehouse->cache_directory_ = error ? storage.cache_directory : canonical.string();
    warehouse->io_ = std::move(cached);
  } else {
    MW_ASSIGN_OR_RETURN(auto io, storage::LocalFileIO::Make(root));
    warehouse->local_ = io.get();
    warehouse->root_ = io->root();
    warehouse->io_ = std::move(io);
  }
  warehouse->pointers_ = pointers ? pointers(*warehouse->io_)
                                  : std::make_unique<FilesystemPointerStore>(*warehouse->local_);
  if (warehouse->pointers_ == nullptr) {
    return Status::Internal("the pointer store of warehouse {} could not be opened", root)
        .WithHint("see the errors logged before this one");
  }
  return warehouse;
}

Result<std::string> Warehouse::Resolve(std::string_view path) const {
  if (local_ != nullptr) return local_->Resolve(path);
  if (auto mounted = mounted_->MountedRelative(path)) return *mounted;
  return s3_->Relative(path);
}

storage::S3FileIO* Warehouse::S3For(std::string_view location) {
  if (local_ != nullptr) return nullptr;
  auto relative = Resolve(location);
  if (relative.ok()) {
    if (auto folder = MountOf(*relative)) return mounted_->MountAt(*folder);
  }
  return s3_;
}

std::string Warehouse::MountFolder(std::string_view domain) {
  return "@" + std::string(domain);
}

std::optional<std::string> Warehouse::MountOf(std::string_view relative) const {
  if (mounted_ == nullptr || !relative.starts_with('@')) return std::nullopt;
  const std::string folder(relative.substr(0, relative.find('/')));
  // Routing asks the mount finder about a folder this process has not mounted yet.
  if (mounted_->RouteOf(folder).mount == nullptr) return std::nullopt;
  return folder;
}

Result<std::unique_ptr<storage::S3FileIO>> Warehouse::OpenDomainStorage(
    const std::string& folder, const std::string& location, const std::string& profile) {
  if (local_ != nullptr) {
    return Status::FailedPrecondition(
               "domain storage {} needs an object-store warehouse; this one is the local folder {}",
               location, root_)
        .WithHint(
            "serve with --warehouse s3://bucket/prefix, or give the domain a folder inside "
            "the warehouse (--storage-prefix)");
  }
  if (!IsObjectStoreUri(location)) {
    return Status::InvalidArgument("domain storage {} is not an s3:// location", location)
        .WithHint("give the bucket and prefix as s3://bucket/prefix");
  }
  auto found = profiles_.find(profile);
  if (found == profiles_.end()) {
    std::string known;
    for (const auto& [name, ignored] : profiles_)
      known += (known.empty() ? "" : ", ") + name;
    return Status::NotFound("storage profile '{}' is not configured", profile)
        .WithHint(known.empty()
                      ? std::string("define it in the storage profiles file "
                                    "(storage.profiles_file, MESHWORK_STORAGE_PROFILES_FILE)")
                      : fmt::format("configured profiles: {}; add '{}' to storage.profiles_file",
                                    known, profile));
  }
  // The profile says how to reach the store; parts, retries and timeouts stay the warehouse's.
  auto store =
      storage::S3FileIO::Make(storage::StoreThroughProfile(s3_settings_, found->second, location));
  if (!store.ok()) {
    return std::move(store).error().WithContext(
        fmt::format("cannot use storage profile '{}' for {}", profile, location));
  }
  const std::string store_root = (*store)->RootUri();
  if (s3_->Relative(store_root).ok() || (*store)->Relative(root_).ok()) {
    return Status::InvalidArgument("domain storage {} overlaps the warehouse {}", location, root_)
        .WithHint(
            "a prefix inside the warehouse needs no storage profile (it uses the "
            "warehouse's credentials); otherwise choose a bucket or prefix outside it");
  }
  for (const auto& [mounted_folder, mounted] : mounted_->Mounts()) {
    if (mounted_folder == folder) continue;
    if (mounted->Relative(store_root).ok() || (*store)->Relative(mounted->RootUri()).ok()) {
      return Status::AlreadyExists("domain storage {} overlaps {}, the storage of domain {}",
                                   location, mounted->RootUri(), mounted_folder.substr(1))
          .WithHint("give each domain a bucket or prefix that does not contain another's");
    }
  }
  return std::move(*store);
}

void Warehouse::SetMountFinder(std::function<void()> find) {
  if (mounted_ == nullptr) return;
  mounted_->SetMountFinder([find = std::move(find)](std::string_view) { find(); });
}

Status Warehouse::MountDomainStorage(const std::string& folder,
                                     std::unique_ptr<storage::S3FileIO> store) {
  if (mounted_ == nullptr) return Status::FailedPrecondition("the warehouse {} is local", root_);
  if (storage::S3FileIO* existing = mounted_->MountAt(folder); existing != nullptr) {
    if (existing->RootUri() == store->RootUri() &&
        existing->config().endpoint == store->config().endpoint) {
      return Status::OK();
    }
  }
  return mounted_->Mount(folder, std::move(store));
}

std::vector<std::string> Warehouse::ReadableDirectories() const {
  if (local_ != nullptr) return {local_->root()};
  return {cache_directory_};
}

std::string Warehouse::LocalWriteDirectory(std::string_view relative_folder) const {
  const std::string& base = local_ != nullptr ? local_->root() : staging_->root();
  return relative_folder.empty() ? base : base + "/" + std::string(relative_folder);
}

Status Warehouse::Publish(const std::vector<std::string>& relative_paths) {
  if (local_ != nullptr) return Status::OK();
  for (const std::string& path : relative_paths) {
    MW_ASSIGN_OR_RETURN(std::string bytes, staging_->ReadFile(path));
    // Data files have fresh UUID names: a plain PUT (a conditional one costs a HEAD on s3rver).
    Status uploaded = io_->WriteFileAtomic(path, bytes);
    if (!uploaded.ok()) {
      return std::move(uploaded).WithContext(
          fmt::format("cannot upload the staged data file {} to {}", path, root_));
    }
    (void)staging_->Delete(path);
  }
  return Status::OK();
}

void Warehouse::RemoveStagedFolder(const std::string& relative_folder) {
  if (local_ != nullptr || relative_folder.empty()) return;
  auto folder = staging_->Resolve(relative_folder);
  if (!folder.ok() || folder->empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(staging_->root() + "/" + *folder, ignored);
}

std::string Warehouse::TableFolder(const LoadedTable& table) const {
  auto folder = Resolve(table.metadata.location);
  return folder.ok() && !folder->empty() ? *folder : table.identifier.RelativeLocation();
}

std::string Warehouse::TableLocation(const TableIdentifier& identifier) const {
  return FileUri(identifier.RelativeLocation());
}

std::string Warehouse::FileUri(std::string_view relative) const {
  // Object keys are written as they are: Iceberg's S3 readers do not decode s3:// URIs.
  if (local_ == nullptr) {
    if (auto folder = MountOf(relative)) {
      const std::string root = mounted_->MountAt(*folder)->RootUri();
      const std::string_view rest = relative.substr(folder->size());
      return rest.size() <= 1 ? root : root + std::string(rest);
    }
    return root_ + "/" + std::string(relative);
  }
  const std::string path = root_ + "/" + std::string(relative);
  std::string uri = "file://";
  for (unsigned char c : path) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '/' || c == '-' || c == '_' || c == '.' || c == '~' || c == '=' ||
                       c == '+' || c == ',' || c == ':' || c == '@';
    if (plain) {
      uri += static_cast<char>(c);
    } else {
      uri += fmt::format("%{:02X}", c);
    }
  }
  return uri;
}

Result<std::string> Warehouse::WriteMetadataFile(const std::string& folder, int64_t version,
                                                 const TableMetadata& metadata) {
  const std::string relative =
      fmt::format("{}/metadata/{:05d}-{}.metadata.json", folder, version, Uuid::V4().ToString());
  MW_RETURN_IF_ERROR(
      io_->WriteFileAtomic(relative, TableMetadataToString(metadata), {.create_only = true}));
  return FileUri(relative);
}

Result<LoadedTable> Warehouse::CreateTable(const TableIdentifier& identifier, const Schema& schema,
                                           const PartitionSpec& spec,
                                           std::map<std::string, std::string> properties,
                                           const SortOrder& sort_order) {
  MW_ASSIGN_OR_RETURN(auto existing, pointers_->Load(identifier));
  if (existing) {
    return Status::AlreadyExists("table {} already exists", identifier.ToString())
        .WithHint("choose another name, or drop the table first");
  }
  MW_RETURN_IF_ERROR(spec.Validate(schema));
  TableMetadata metadata;
  metadata.format_version = 2;
  metadata.table_uuid = Uuid::V4().ToString();
  metadata.location = TableLocation(identifier);
  metadata.last_updated_ms = time::NowMicros() / 1000;
  metadata.last_column_id = schema.HighestFieldId();
  MW_ASSIGN_OR_RETURN(Schema fresh,
                      Schema::Make(0, schema.fields(), schema.identifier_field_ids()));
  metadata.schemas.push_back(std::move(fresh));
  metadata.current_schema_id = 0;
  metadata.partition_specs.push_back(PartitionSpec(0, spec.fields()));
  metadata.default_spec_id = 0;
  metadata.last_partition_id = spec.LastFieldId();
  metadata.sort_orders.push_back(SortOrder::Unsorted());
  metadata.default_sort_order_id = 0;
  if (!sort_order.fields.empty()) {
    for (const SortField& field : sort_order.fields) {
      if (schema.FindField(field.source_id) == nullptr) {
        return Status::InvalidArgument(
            "the sort order refers to column id {}, which the schema "
            "does not have",
            field.source_id);
      }
    }
    metadata.sort_orders.push_back(SortOrder{1, sort_order.fields});
    metadata.default_sort_order_id = 1;
  }
  properties.emplace("write.format.default", "parquet");
  properties.emplace("write.parquet.compression-codec", "zstd");
  metadata.properties = std::move(properties);

  MW_ASSIGN_OR_RETURN(std::string location,
                      WriteMetadataFile(identifier.RelativeLocation(), 0, metadata));
  Status swapped = pointers_->CompareAndSwap(identifier, std::nullopt, location);
  if (!swapped.ok()) {
    (void)io_->Delete(location);
    return swapped;
  }
  return LoadedTable{identifier, location, std::move(metadata)};
}

Result<LoadedTable> Warehouse::LoadTable(const TableIdentifier& identifier) {
  MW_ASSIGN_OR_RETURN(auto location, pointers_->Load(identifier));
  if (!location) {
    return Status::NotFound("table {} does not exist in warehouse {}", identifier.ToString(), root_)
        .WithHint("list tables with `meshwork table list --warehouse " + root_ + "`");
  }
  MW_ASSIGN_OR_RETURN(std::string text, io_->ReadFile(*location));
  MW_ASSIGN_OR_RETURN(TableMetadata metadata, TableMetadataFromJson(text, *location));
  return LoadedTable{identifier, *location, std::move(metadata)};
}

Result<std::string> Warehouse::WriteNextMetadataFile(const LoadedTable* base,
                                                     TableMetadata& updated) {
  const int64_t now = time::NowMicros() / 1000;
  int64_t version = 0;
  if (base != nullptr) {
    updated.last_updated_ms = std::max(now, base->metadata.last_updated_ms + 1);
    updated.metadata_log.push_back({base->metadata.last_updated_ms, base->metadata_location});
    // Keep the log bounded like the reference implementation's default (100 previous files).
    const int64_t keep = updated.PropertyAsLong("write.metadata.previous-versions-max", 100);
    if (keep >= 0 && static_cast<int64_t>(updated.metadata_log.size()) > keep) {
      updated.metadata_log.erase(updated.metadata_log.begin(), updated.metadata_log.end() - keep);
    }
    version = std::max<int64_t>(MetadataFileVersion(base->metadata_location), 0) + 1;
  } else {
    updated.last_updated_ms = std::max(now, updated.last_updated_ms);
  }
  MW_ASSIGN_OR_RETURN(std::string folder, Resolve(updated.location));
  if (folder.empty()) {
    return Status::InvalidArgument("table location {} is the warehouse root", updated.location)
        .WithHint("give each table its own folder");
  }
  return WriteMetadataFile(folder, version, updated);
}

Result<LoadedTable> Warehouse::Commit(const LoadedTable& base, TableMetadata updated) {
  MW_ASSIGN_OR_RETURN(std::string location, WriteNextMetadataFile(&base, updated));
  Status swapped = pointers_->CompareAndSwap(base.identifier, base.metadata_location, location);
  if (!swapped.ok()) {
    // Only a definite "no" makes the file garbage; after an unknown outcome (a metastore that
    // stopped answering mid-commit) the pointer may already name it.
    const StatusCode code = swapped.code();
    if (code == StatusCode::kConflict || code == StatusCode::kNotFound ||
        code == StatusCode::kAlreadyExists) {
      (void)io_->Delete(location);
    }
    return swapped;
  }
  return LoadedTable{base.identifier, location, std::move(updated)};
}

Status Warehouse::DeleteTableFiles(const std::string& folder) {
  if (folder.empty()) return Status::InvalidArgument("refusing to purge the warehouse root");
  MW_ASSIGN_OR_RETURN(auto files, io_->List(folder + "/"));
  for (const storage::FileInfo& file : files) {
    Status deleted = io_->Delete(file.path);
    if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) return deleted;
  }
  return Status::OK();
}

Result<std::vector<TableIdentifier>> Warehouse::ListTables(
    const std::vector<std::string>& namespace_levels) {
  return pointers_->List(namespace_levels);
}

Status Warehouse::DropTable(const TableIdentifier& identifier, bool purge) {
  if (!purge) return pointers_->Drop(identifier);
  // The folder comes from the table's own metadata: a registered or renamed table need not sit
  // at namespace/name, and purging that path would delete another table's files (or nothing).
  MW_ASSIGN_OR_RETURN(LoadedTable table, LoadTable(identifier));
  const std::string folder = TableFolder(table);
  MW_RETURN_IF_ERROR(pointers_->Drop(identifier));
  return DeleteTableFiles(folder);
}

Result<LoadedTable> UpdateTableSchema(Warehouse& warehouse, const TableIdentifier& identifier,
                                      const std::function<void(SchemaUpdate&)>& change,
                                      int max_attempts) {
  for (int attempt = 1;; ++attempt) {
    MW_ASSIGN_OR_RETURN(LoadedTable table, warehouse.LoadTable(identifier));
    SchemaUpdate update(table.metadata.CurrentSchema(), table.metadata.last_column_id);
    change(update);
    auto applied = update.Apply();
    if (!applied.ok()) {
      return std::move(applied).error().WithContext(
          fmt::format("cannot change the schema of {}", identifier.ToString()));
    }
    auto& [schema, last_column_id] = *applied;
    Status spec_ok = table.metadata.DefaultSpec().Validate(schema);
    if (!spec_ok.ok()) {
      return std::move(spec_ok)
          .WithHint("the table is partitioned by that column; evolve the partitioning first")
          .WithContext(fmt::format("cannot change the schema of {}", identifier.ToString()));
    }
    TableMetadata updated = table.metadata;
    // Reuse the id of an identical earlier schema (a change that was undone), else a new id.
    int32_t schema_id = -1;
    for (const Schema& existing : updated.schemas) {
      if (existing.SameStructure(schema)) schema_id = existing.schema_id();
    }
    if (schema_id < 0) {
      schema_id = 0;
      for (const Schema& existing : updated.schemas)
        schema_id = std::max(schema_id, existing.schema_id() + 1);
      MW_ASSIGN_OR_RETURN(Schema numbered,
                          Schema::Make(schema_id, schema.fields(), schema.identifier_field_ids()));
      updated.schemas.push_back(std::move(numbered));
    }
    updated.current_schema_id = schema_id;
    updated.last_column_id = std::max(updated.last_column_id, last_column_id);
    auto committed = warehouse.Commit(table, std::move(updated));
    if (committed.ok() || committed.error().code() != StatusCode::kConflict ||
        attempt >= max_attempts) {
      return committed;
    }
  }
}

}  // namespace meshwork::iceberg
