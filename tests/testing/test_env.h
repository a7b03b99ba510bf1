// Test environment helpers: scratch directories, the ../shared reference folder, process RSS.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace meshwork::testing {

/// A fresh directory under $TMPDIR that is removed (recursively) when the object dies.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag = "test");
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// The ../shared folder (MESHWORK_SHARED_DIR), or nullopt when it is absent: tests that need it
/// call GTEST_SKIP() with a loud message, so a fresh clone without ../shared still passes.
std::optional<std::filesystem::path> SharedDir();

/// Resident set size of this process in bytes (from /proc/self/status), 0 if unknown.
uint64_t CurrentRssBytes();

}  // namespace meshwork::testing
