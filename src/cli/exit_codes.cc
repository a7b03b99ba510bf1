#include "cli/exit_codes.h"

#include <cstdio>

namespace meshwork::cli {

int ReportError(const Status& status, int exit_code) {
  if (status.ok()) return kExitOk;
  std::fprintf(stderr, "meshwork: %s\n", status.ToString().c_str());
  return exit_code;
}

}  // namespace meshwork::cli
