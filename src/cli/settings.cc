#include "cli/settings.h"

#include <fmt/format.h>

#include <type_traits>

#include "storage/storage_profiles.h"

namespace meshwork::cli {

std::vector<config::SettingSpec> MeshworkSettings() {
  using config::SettingType;
  return {
      {"data_dir", SettingType::kString, ".meshwork", "state folder: meshwork.db and warehouse/"},
      {"log.level", SettingType::kString, "info", "trace, debug, info, warn, error or off"},
      {"log.format", SettingType::kString, "text", "text or json"},
      {"log.file", SettingType::kString, "", "log file (default: stderr)"},
      {"http.address", SettingType::kString, "127.0.0.1:8181", "HTTP listen address"},
      {"pg.address", SettingType::kString, "127.0.0.1:5433", "PostgreSQL wire listen address"},
      {"metastore", SettingType::kString, "", "postgresql://… (default: SQLite in data_dir)"},
      {"warehouse", SettingType::kString, "", "s3://bucket/prefix (default: data_dir/warehouse)"},
      {"s3.endpoint", SettingType::kString, "",
       "S3 endpoint, e.g. http://127.0.0.1:9000 (default: AWS_ENDPOINT_URL, else AWS)"},
      {"s3.region", SettingType::kString, "", "S3 region (default: AWS_REGION, else us-east-1)"},
      {"s3.path_style", SettingType::kBool, "", "path-style URLs (default: on custom endpoints)"},
      {"s3.access_key_id", SettingType::kString, "",
       "S3 access key (default: AWS_ACCESS_KEY_ID, else the profile)"},
      {"s3.secret_access_key", SettingType::kString, "", "S3 secret key", /*secret=*/true},
      {"s3.session_token", SettingType::kString, "", "S3 session token", /*secret=*/true},
      {"s3.profile", SettingType::kString, "", "profile in ~/.aws/credentials (default: default)"},
      {"s3.conditional_writes", SettingType::kBool, "true",
       "If-None-Match on create-only writes; false for stores that ignore it (s3rver)"},
      {"s3.multipart_threshold", SettingType::kInt, "67108864",
       "files of at least this many bytes are uploaded in parts"},
      {"s3.part_size", SettingType::kInt, "16777216",
       "bytes per uploaded part (S3: 5 MiB or more)"},
      {"storage.profiles_file", SettingType::kString, "",
       "YAML file of named object stores that domains may keep their tables in"},
      {"cache.directory", SettingType::kString, "",
       "read-through cache of object-store files (default: data_dir/cache)"},
      {"cache.max_bytes", SettingType::kInt, "10737418240", "bound of the read-through cache"},
      {"cache.download_part_size", SettingType::kInt, "8388608",
       "files larger than this are downloaded into the cache as ranged parts of this size"},
      {"cache.download_concurrency", SettingType::kInt, "4", "ranged parts fetched at once"},
      {"engine.threads", SettingType::kInt, "", "DuckDB worker threads (default: all cores)"},
      {"engine.memory_limit", SettingType::kString, "", "DuckDB memory limit, e.g. 4GB"},
      {"engine.temp_directory", SettingType::kString, "", "DuckDB spill folder"},
      {"audit.retention_days", SettingType::kInt, "365",
       "audit records older than this many days are deleted (hourly); 0 keeps them all"},
      {"bootstrap_credentials", SettingType::kString, "", "root ID:SECRET", /*secret=*/true},
      {"master_key", SettingType::kString, "",
       "32 bytes (64 hex digits or base64) that wrap the keys of encrypted columns",
       /*secret=*/true},
      {"master_key_file", SettingType::kString, "",
       "a file holding the master key (keep it outside the data folder)"},
  };
}

Result<iceberg::WarehouseStorage> WarehouseStorageSettings(const config::Config& config,
                                                           const std::string& data_dir) {
  iceberg::WarehouseStorage storage;
  storage.s3.endpoint = Setting(config, "", "s3.endpoint");
  storage.s3.region = Setting(config, "", "s3.region");
  if (auto path_style = config.GetBool("s3.path_style"); path_style.ok()) {
    storage.s3.addressing =
        *path_style ? storage::S3Config::Addressing::kPath : storage::S3Config::Addressing::kAuto;
  }
  storage.s3.credentials.access_key_id = Setting(config, "", "s3.access_key_id");
  storage.s3.credentials.secret_access_key = Setting(config, "", "s3.secret_access_key");
  storage.s3.credentials.session_token = Setting(config, "", "s3.session_token");
  if (storage.s3.credentials.access_key_id.empty() !=
      storage.s3.credentials.secret_access_key.empty()) {
    return Status::InvalidArgument("s3.access_key_id and s3.secret_access_key go together")
        .WithHint(
            "set both (MESHWORK_S3_ACCESS_KEY_ID and MESHWORK_S3_SECRET_ACCESS_KEY), or neither "
            "to use AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ~/.aws/credentials");
  }
  storage.s3.profile = Setting(config, "", "s3.profile");
  if (auto conditional = config.GetBool("s3.conditional_writes");
      conditional.ok() && !*conditional) {
    storage.s3.create_only = storage::S3Config::CreateOnly::kHeadThenPut;
  }
  storage.cache_directory = Setting(config, "", "cache.directory");
  if (storage.cache_directory.empty()) storage.cache_directory = data_dir + "/cache";
  if (auto bytes = config.GetInt("cache.max_bytes"); bytes.ok()) {
    if (*bytes <= 0) {
      return Status::InvalidArgument("cache.max_bytes is {}, not a positive size", *bytes)
          .WithHint("give the read-through cache a bound in bytes, e.g. 10737418240 (10 GiB)");
    }
    storage.cache_bytes = static_cast<uint64_t>(*bytes);
  }
  const auto positive = [&](const char* key, auto& target) -> Status {
    auto value = config.GetInt(key);
    if (!value.ok()) return Status::OK();
    if (*value <= 0) {
      return Status::InvalidArgument("{} is {}, not a positive number", key, *value)
          .WithHint(fmt::format("set {} ({}) above zero, or leave it unset for the default", key,
                                config::EnvironmentName(key)));
    }
    target = static_cast<std::remove_reference_t<decltype(target)>>(*value);
    return Status::OK();
  };
  MW_RETURN_IF_ERROR(positive("s3.multipart_threshold", storage.s3.multipart_threshold));
  MW_RETURN_IF_ERROR(positive("s3.part_size", storage.s3.part_size));
  MW_RETURN_IF_ERROR(positive("cache.download_part_size", storage.cache_download_part_size));
  MW_RETURN_IF_ERROR(positive("cache.download_concurrency", storage.cache_download_concurrency));
  storage.staging_directory = data_dir + "/staging";
  if (const std::string profiles = Setting(config, "", "storage.profiles_file");
      !profiles.empty()) {
    MW_ASSIGN_OR_RETURN(storage.profiles, storage::LoadStorageProfiles(profiles));
  }
  return storage;
}

std::string Setting(const config::Config& config, const std::string& flag, const char* key) {
  if (!flag.empty()) return flag;
  auto value = config.GetString(key);
  return value.ok() ? *value : std::string();
}

}  // namespace meshwork::cli
