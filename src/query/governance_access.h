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

/// The catalog's raw-access guard over `access`: loading a table through /catalog (or planning
/// its scan) is refused with 403 naming the policy when masks or row filters apply to the
/// caller, because an engine reading the files would see them unmasked.
catalog::Catalog::RawAccessGuard MakeRawAccessGuard(AccessPolicy& access);

}  // namespace meshwork::query
