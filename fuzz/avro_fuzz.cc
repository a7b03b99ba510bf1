// Manifests come from other engines' writers: any bytes must be read or refused, never crash,
// hang or allocate without bound.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "iceberg/avro.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto reader = meshwork::iceberg::avro::FileReader::Open(bytes, "fuzz.avro");
  if (!reader.ok()) return 0;
  for (int records = 0; records < 100000; ++records) {
    auto next = reader->Next();
    if (!next.ok() || !next->has_value()) break;
  }
  return 0;
}
