// Manifests come from other engines' writers: any bytes must be read or refused, never crash,
// hang or allocate without bound.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "iceberg/avro.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // Both ways of reading: every field decoded, and manifest planning's skipped fields (ids of
  // column sizes, key metadata, split offsets, NaN counts, sort order) passed over undecoded.
  for (bool skipping : {false, true}) {
    auto reader = meshwork::iceberg::avro::FileReader::Open(bytes, "fuzz.avro");
    if (!reader.ok()) return 0;
    if (skipping) reader->SkipFieldIds({1, 2, 108, 131, 132, 137, 140});
    for (int records = 0; records < 100000; ++records) {
      auto next = reader->Next();
      if (!next.ok() || !next->has_value()) break;
    }
  }
  return 0;
}
