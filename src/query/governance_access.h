#pragma once
// The query rewriter's access hook backed by the council's policies: column masks bound to the
// classifications the products declare, and row filters, for every caller without UNMASK.

#include <memory>

#include "governance/governance.h"
#include "query/session.h"

namespace meshwork::product {
class ProductService;
}

namespace meshwork::query {

/// `governance` and `products` (the column classifications) must outlive the policy.
std::unique_ptr<AccessPolicy> MakeGovernanceAccess(governance::Governance& governance,
                                                   product::ProductService& products);

}  // namespace meshwork::query
