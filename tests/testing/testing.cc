#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>

#include "testing/test_env.h"

namespace meshwork::testing {

ScratchDir::ScratchDir(const std::string& tag) {
  std::random_device random;
  for (int attempt = 0; attempt < 16; ++attempt) {
    auto candidate =
        std::filesystem::temp_directory_path() /
        ("meshwork-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
    std::error_code error;
    if (std::filesystem::create_directory(candidate, error)) {
      path_ = std::filesystem::canonical(candidate);
      return;
    }
  }
  throw std::runtime_error("cannot create a scratch directory in " +
                           std::filesystem::temp_directory_path().string());
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::optional<std::filesystem::path> SharedDir() {
  const char* configured = std::getenv("MESHWORK_SHARED_DIR");
  if (configured == nullptr || *configured == '\0') return std::nullopt;
  std::error_code error;
  if (!std::filesystem::is_directory(std::filesystem::path(configured) / "reference", error)) {
    return std::nullopt;
  }
  return std::filesystem::path(configured);
}

uint64_t CurrentRssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;  // in kB
  }
  return 0;
}

}  // namespace meshwork::testing
