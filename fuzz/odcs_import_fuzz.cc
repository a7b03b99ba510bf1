// Feeds arbitrary bytes to the ODCS importer: it must return a spec or an error, never crash or
// hang; an imported spec is exported again (the round trip code on hostile shapes).
#include <cstddef>
#include <cstdint>
#include <string>

#include "product/odcs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto imported = meshwork::product::ImportOdcs(text, "fuzz.odcs.yaml");
  if (!imported.ok()) return 0;
  auto spec = meshwork::product::ParseSpec(imported->spec_yaml, "imported.yaml");
  if (spec.ok()) (void)meshwork::product::ExportOdcs(*spec);
  return 0;
}
