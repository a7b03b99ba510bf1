// `meshwork doctor`: checks that this machine can run meshwork and prints a readable report.
#pragma once

#include "common/config.h"

namespace meshwork::cli {

/// Runs every check and prints the report (text, or JSON with `json`). Returns kExitOk when no
/// check failed (warnings allowed) and kExitFailed otherwise.
int RunDoctor(const config::Config& config, bool json);

}  // namespace meshwork::cli
