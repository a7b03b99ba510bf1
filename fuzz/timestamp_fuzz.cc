// RFC 3339 parsing must accept or reject any input; what it accepts must format and parse back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/time.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed =
      meshwork::time::ParseRfc3339(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!parsed.ok()) return 0;
  auto again = meshwork::time::ParseRfc3339(meshwork::time::FormatRfc3339Micros(*parsed));
  if (!again.ok() || *again != *parsed) std::abort();
  return 0;
}
