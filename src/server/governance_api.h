#pragma once
// The governance API under /api/v1: the council's policies, principals' attributes (what row
// filters read through principal_attr()), and the audit log. Authorization happens in the
// catalog and governance services.
//
//   GET /api/v1/policies                     the set in force: version, policies with their rules
//   GET /api/v1/policies/history             every applied version, newest first
//   GET /api/v1/principals/{name}/attributes the principal itself, or MANAGE_MESH
//   PUT /api/v1/principals/{name}/attributes {"attributes": {"country": "DE"}}  (MANAGE_MESH)
//   GET /api/v1/audit?principal=&securable=&operation=&decision=allowed|denied
//                    &since=&until=&before_id=&limit=   (READ_AUDIT; newest first; since/until
//                    are RFC 3339 instants or epoch milliseconds)

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "governance/governance.h"
#include "server/http.h"

namespace meshwork::server {

/// A set of policies as the API shows it: version, applied-at-ms, applied-by and the policies
/// with their rules (each rule's check: sql, detector, mask or mode) and, with `with_source`,
/// each policy's YAML as applied.
nlohmann::json AppliedPoliciesJson(const governance::AppliedPolicies& applied, bool with_source);

void AddGovernanceApiRoutes(Router& router, catalog::Catalog& catalog,
                            governance::Governance& governance);

}  // namespace meshwork::server
