#include "cli/settings.h"

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
      {"engine.threads", SettingType::kInt, "", "DuckDB worker threads (default: all cores)"},
      {"engine.memory_limit", SettingType::kString, "", "DuckDB memory limit, e.g. 4GB"},
      {"engine.temp_directory", SettingType::kString, "", "DuckDB spill folder"},
      {"bootstrap_credentials", SettingType::kString, "", "root ID:SECRET", /*secret=*/true},
      {"master_key", SettingType::kString, "",
       "32 bytes (64 hex digits or base64) that wrap the keys of encrypted columns",
       /*secret=*/true},
      {"master_key_file", SettingType::kString, "",
       "a file holding the master key (keep it outside the data folder)"},
  };
}

std::string Setting(const config::Config& config, const std::string& flag, const char* key) {
  if (!flag.empty()) return flag;
  auto value = config.GetString(key);
  return value.ok() ? *value : std::string();
}

}  // namespace meshwork::cli
