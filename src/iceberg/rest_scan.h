#pragma once
// Server-side scan planning in the REST catalog's terms: filters arrive as the spec's JSON
// expressions, plans leave as FileScanTasks with ContentFile JSON (partition values and bounds
// as PrimitiveTypeValues).

#include <nlohmann/json.hpp>
#include <string>

#include "common/result.h"
#include "iceberg/expression.h"
#include "iceberg/manifest.h"
#include "iceberg/scan_planner.h"

namespace meshwork::iceberg {

/// The spec's Expression JSON → a pruning filter over `schema`. Malformed JSON, unknown columns
/// and values that do not fit the column's type are errors (400). Predicates this planner cannot
/// prune with (starts-with, NaN checks, transforms, not-in) become "true": planning returns a
/// superset and the client applies the filter as the residual, as the spec intends.
Result<ExpressionPtr> ExpressionFromJson(const nlohmann::json& value, const Schema& schema,
                                         bool case_sensitive = true);

/// A literal as a PrimitiveTypeValue (numbers, booleans, strings; binary as uppercase hex).
nlohmann::json LiteralToJson(const Literal& literal);

/// A data or delete file as the spec's ContentFile object. `schema` gives the column types of
/// the bounds; `partition_type` those of the partition values.
nlohmann::json ContentFileToJson(const DataFile& file, const Schema& schema);

/// {"file-scan-tasks": [...], "delete-files": [...]} for files[begin, end) of a plan; each task
/// references the delete files that apply to it (by index into "delete-files").
nlohmann::json ScanTasksToJson(const ScanPlan& plan, const Schema& schema, size_t begin, size_t end,
                               const nlohmann::json& residual_filter);

}  // namespace meshwork::iceberg
