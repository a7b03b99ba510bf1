// Table metadata JSON comes from any Iceberg writer (and from REST clients): any text must parse
// or be refused; what parses must write and parse back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "iceberg/table_metadata.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto metadata = meshwork::iceberg::TableMetadataFromJson(text, "fuzz.metadata.json");
  if (!metadata.ok()) return 0;
  const std::string written = meshwork::iceberg::TableMetadataToString(*metadata);
  auto again = meshwork::iceberg::TableMetadataFromJson(written, "rewritten.metadata.json");
  if (!again.ok()) std::abort();
  return 0;
}
