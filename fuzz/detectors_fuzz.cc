// Feeds arbitrary text to the data rules' detectors, as any staged value may reach them: each
// answers yes or no, never crashes, and a value a detector accepts is accepted again with the
// separators it ignores removed (what a person types between groups must not matter).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "governance/detectors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  using namespace meshwork::governance;
  const bool card = LooksLikeCardNumber(text);
  const bool iban = LooksLikeIban(text);
  (void)LooksLikeNationalId(text);
  std::string without_spaces;
  for (const char c : text)
    if (c != ' ') without_spaces += c;
  if (iban && !LooksLikeIban(without_spaces)) std::abort();
  if (card && text.find('-') == std::string::npos && !LooksLikeCardNumber(without_spaces))
    std::abort();
  return 0;
}
