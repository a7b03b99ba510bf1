// meshwork's configuration keys, declared once: the config file, MESHWORK_* variables and flags all
// set these (see common/config.h for the layering).
#pragma once

#include <vector>

#include "common/config.h"

namespace meshwork::cli {

std::vector<config::SettingSpec> MeshworkSettings();

}  // namespace meshwork::cli
