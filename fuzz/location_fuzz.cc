// Storage locations come from metadata files other engines wrote: any bytes must parse or be
// refused, and a normalized path must never climb out of the warehouse. Fails (abort) on a broken
// invariant; sanitizers catch memory errors.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "storage/location.h"

namespace {

[[noreturn]] void Fail() {
  std::abort();
}

// True when `path`, split at '/', has a component equal to `wanted`.
bool HasComponent(std::string_view path, std::string_view wanted) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (path.substr(start, end - start) == wanted) return true;
    start = end + 1;
  }
  return false;
}

// Checks a successful NormalizeRelativePath(input) result.
void CheckNormalized(std::string_view input, const std::string& path) {
  if (path.empty() || path.size() > 4096) Fail();
  if (path.front() == '/' || path.back() == '/') Fail();
  if (path.find("//") != std::string::npos) Fail();
  if (path.find('\0') != std::string::npos) Fail();
  if (HasComponent(path, "..") || HasComponent(path, ".")) Fail();
  // Refused inputs: a ".." component anywhere, even one that would not escape ("a/../b").
  if (HasComponent(input, "..")) Fail();
  size_t start = 0;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end - start > 255) Fail();
    start = end + 1;
  }
  // Normalizing is idempotent.
  auto again = meshwork::storage::NormalizeRelativePath(path);
  if (!again.ok() || *again != path) Fail();
}

void CheckNormalize(std::string_view input) {
  auto normalized = meshwork::storage::NormalizeRelativePath(input);
  if (normalized.ok()) CheckNormalized(input, *normalized);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckNormalize(input);

  auto parsed = meshwork::storage::ParseLocation(input);
  if (!parsed.ok()) return 0;
  const meshwork::storage::ParsedLocation& location = *parsed;
  if (location.path.find('\0') != std::string::npos) Fail();
  if (location.scheme.empty()) {
    if (!location.authority.empty() || location.path != input) Fail();  // plain paths as given
  } else {
    if (location.scheme.front() < 'a' || location.scheme.front() > 'z') Fail();
    for (char c : location.scheme) {
      const bool ok =
          (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
      if (!ok) Fail();  // lower-cased, RFC 3986 characters only
    }
    if (location.scheme == "file" &&
        (!location.authority.empty() || location.path.empty() || location.path.front() != '/')) {
      Fail();
    }
  }
  // The decoded path is what a backend normalizes next: "%2e%2e" must be caught there.
  CheckNormalize(location.path);
  return 0;
}
