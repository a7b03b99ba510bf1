// meshwork's configuration keys, declared once: the config file, MESHWORK_* variables and flags all
// set these (see common/config.h for the layering).
#pragma once

#include <string>
#include <vector>

#include "common/config.h"

namespace meshwork::cli {

std::vector<config::SettingSpec> MeshworkSettings();

/// A command's flag when given, else the configured value of `key` ("" when unset).
std::string Setting(const config::Config& config, const std::string& flag, const char* key);

}  // namespace meshwork::cli
