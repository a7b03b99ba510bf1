#pragma once
// Open Data Contract Standard (ODCS v3) export and import, so that datacontract-cli and catalogs
// that speak ODCS can use our contracts.
//
// Export maps what we model (identity, version, status, description, tags, owner, ports as schema
// objects with their properties, quality rules, SLA, support) and carries the whole spec in the
// custom property `meshwork.spec`, so meshwork -> ODCS -> meshwork gives back the same spec.
// Import builds a spec from those fields (or takes `meshwork.spec` when there is one) and keeps
// the whole ODCS document under `x-odcs`; exporting that spec again starts from the kept
// document and only writes the fields whose value changed, so ODCS -> meshwork -> ODCS keeps
// every ODCS field, including the ones we do not model.

#include <string>

#include "common/result.h"
#include "product/spec.h"

namespace meshwork::product {

/// The ODCS v3 YAML of a spec; `status` is active, deprecated, ...
Result<std::string> ExportOdcs(const DataProductSpec& spec, const std::string& status = "active");

struct ImportedOdcs {
  std::string spec_yaml;           // a dataproduct.yaml
  std::string transform_sql;       // transform.sql (a stub when the contract has no transform)
  std::vector<std::string> notes;  // what the import could not map, for the user
};

/// A product spec from an ODCS v3 document; `file` names it in errors.
Result<ImportedOdcs> ImportOdcs(const std::string& text, const std::string& file);

}  // namespace meshwork::product
