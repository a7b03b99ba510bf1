#pragma once
// The deploy pipeline's governance step backed by the council's policies (src/governance):
// metadata rules on the spec, data rules on the staged ports, mesh_hash() in the transform.

#include <memory>

#include "governance/governance.h"
#include "product/service.h"

namespace meshwork::product {

/// What governance rules know of a product: its spec, the tables its ports publish to.
governance::ProductFacts FactsOf(const DataProductSpec& spec);

/// A gate over `governance`, which must outlive it. `policies`, when given, replaces the
/// applied set (for `policy test` of proposed rules).
std::unique_ptr<GovernanceGate> MakePolicyGate(
    governance::Governance& governance,
    std::shared_ptr<const std::vector<governance::Policy>> policies = nullptr);

}  // namespace meshwork::product
