#pragma once
// Quality checks on staged data: each rule of the spec (and the implicit rules of the contract)
// becomes one SQL query over the staged relation that counts the failing rows and keeps a few
// of them as samples.

#include <functional>
#include <string>
#include <vector>

#include "engine/connection.h"
#include "product/service.h"

namespace meshwork::product {

/// Resolves a `references` rule's target ("customers.customers.customer_id") to a SQL relation
/// the connection can read (with access checked by the caller), or an error.
using ReferenceResolver = std::function<Result<std::string>(const QualityRule& rule)>;

/// Runs the port's rules against `relation`. An error only when a rule cannot run at all (its
/// SQL is wrong); a failing rule is a result with passed = false.
Result<std::vector<QualityResult>> RunQualityChecks(engine::Connection& connection,
                                                    const DataProductSpec& spec, const Port& port,
                                                    const std::string& relation,
                                                    const ReferenceResolver& references,
                                                    int64_t now_micros);

}  // namespace meshwork::product
