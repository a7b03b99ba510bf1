// The CLI's one mapping from errors to exit codes and messages (DESIGN §4: 0 ok, 1 failed, 2
// usage).
#pragma once

#include "common/status.h"

namespace meshwork::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

/// Prints "meshwork: <error>" to stderr and returns `exit_code` (kExitFailed by default; callers
/// pass kExitUsage for errors in the command line or configuration).
int ReportError(const Status& status, int exit_code = kExitFailed);

}  // namespace meshwork::cli
