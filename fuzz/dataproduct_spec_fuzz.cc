// Feeds arbitrary bytes to the dataproduct.yaml parser: it must return a spec or an error with a
// location, never crash or hang. A parsed spec goes through the contract diff against itself.
#include <cstddef>
#include <cstdint>
#include <string>

#include "product/contract.h"
#include "product/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto spec = meshwork::product::ParseSpec(text, "fuzz/dataproduct.yaml");
  if (spec.ok()) {
    const auto diff = meshwork::product::DiffContracts(&*spec, *spec);
    (void)meshwork::product::DescribeDiff(diff);
  } else {
    (void)spec.error().ToString();
  }
  return 0;
}
