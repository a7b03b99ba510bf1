// Feeds arbitrary bytes to the governance policy parser: it must return a policy or an error
// (with a location where there is one), never crash or hang. Every mask of a parsed policy is
// turned into SQL, and every scope pattern is matched, as query time would.
#include <cstddef>
#include <cstdint>
#include <string>

#include "governance/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto policy = meshwork::governance::ParsePolicy(text, "fuzz/policy.yaml");
  if (!policy.ok()) {
    (void)policy.error().ToString();
    return 0;
  }
  for (const auto& rule : policy->rules) {
    if (rule.kind == meshwork::governance::CheckKind::kMask) {
      auto expression = meshwork::governance::MaskExpression(rule.mask, "\"column\"");
      if (!expression.ok()) __builtin_trap();  // the parser accepted a mask it cannot build
    }
    for (const auto& pattern : rule.scope.classifications)
      (void)meshwork::governance::GlobMatch(pattern, "pii.email");
    for (const auto& pattern : rule.scope.columns)
      (void)meshwork::governance::GlobMatch(pattern, std::string(pattern.size() * 2, 'a'));
  }
  return 0;
}
