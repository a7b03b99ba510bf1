#pragma once
// Quality checks on staged data: each rule of the spec (and the implicit rules of the contract)
// becomes one SQL query over the staged relation that counts the failing rows and keeps a few
// of them as samples.

#include <functional>
#include <string>
#include <vector>

#include "engine/connection.h"
#include "iceberg/manifest.h"
#include "iceberg/schema.h"
#include "product/service.h"

namespace meshwork::product {

/// Resolves a `references` rule's target ("customers.customers.customer_id") to a SQL relation
/// the connection can read (with access checked by the caller), or an error.
using ReferenceResolver = std::function<Result<std::string>(const QualityRule& rule)>;

/// The statistics of the data files that hold exactly the rows of the relation (the staged
/// files of a full publish): rules they decide need no scan.
struct FileStatistics {
  const iceberg::Schema* schema = nullptr;
  const std::vector<iceberg::DataFile>* files = nullptr;
};

/// Runs the port's rules against `relation`. An error only when a rule cannot run at all (its
/// SQL is wrong); a failing rule is a result with passed = false. With `statistics`, a
/// not_null, range or row_count rule that the files' exact null counts, bounds and record
/// counts prove to pass is not run (failures are always run, for their rows).
Result<std::vector<QualityResult>> RunQualityChecks(engine::Connection& connection,
                                                    const DataProductSpec& spec, const Port& port,
                                                    const std::string& relation,
                                                    const ReferenceResolver& references,
                                                    int64_t now_micros,
                                                    const FileStatistics& statistics = {});

}  // namespace meshwork::product
