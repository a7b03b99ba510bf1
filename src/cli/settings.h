// meshwork's configuration keys, declared once: the config file, MESHWORK_* variables and flags all
// set these (see common/config.h for the layering).
#pragma once

#include <string>
#include <vector>

#include "common/config.h"
#include "common/result.h"
#include "iceberg/warehouse.h"

namespace meshwork::cli {

std::vector<config::SettingSpec> MeshworkSettings();

/// A command's flag when given, else the configured value of `key` ("" when unset).
std::string Setting(const config::Config& config, const std::string& flag, const char* key);

/// How an s3:// warehouse is reached (s3.*, cache.* settings; AWS_* variables fill the gaps),
/// with the cache and staging folders under `data_dir` unless configured.
Result<iceberg::WarehouseStorage> WarehouseStorageSettings(const config::Config& config,
                                                           const std::string& data_dir);

}  // namespace meshwork::cli
