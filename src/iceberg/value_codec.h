#pragma once
// Single-value binary serialization (spec Appendix D): how manifests store column bounds and
// partition summaries.

#include <string>
#include <string_view>

#include "common/result.h"
#include "iceberg/literal.h"

namespace meshwork::iceberg {

std::string SerializeValue(const Literal& value);
/// Refuses byte counts that do not fit the type, naming both.
Result<Literal> DeserializeValue(const TypePtr& type, std::string_view bytes);

}  // namespace meshwork::iceberg
