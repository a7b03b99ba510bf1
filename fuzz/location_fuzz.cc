// Storage locations come from metadata files other engines wrote: any bytes must parse or be
// refused, and a normalized path must never climb out of the warehouse.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "storage/location.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)meshwork::storage::ParseLocation(input);
  auto normalized = meshwork::storage::NormalizeRelativePath(input);
  if (!normalized.ok()) return 0;
  const std::string& path = *normalized;
  if (path.empty() || path.front() == '/' || path.back() == '/') std::abort();
  if (path == ".." || path.starts_with("../") || path.ends_with("/..") ||
      path.find("/../") != std::string::npos || path.find("//") != std::string::npos) {
    std::abort();
  }
  // Normalizing is idempotent.
  auto again = meshwork::storage::NormalizeRelativePath(path);
  if (!again.ok() || *again != path) std::abort();
  return 0;
}
