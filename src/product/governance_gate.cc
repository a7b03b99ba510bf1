#include "product/governance_gate.h"

namespace meshwork::product {
namespace {

std::vector<GovernanceFinding> Convert(const std::vector<governance::Finding>& findings) {
  std::vector<GovernanceFinding> out;
  for (const auto& finding : findings) {
    out.push_back({finding.policy + "/" + finding.rule, finding.blocking, finding.where,
                   finding.message, finding.fix});
  }
  return out;
}

class PolicyGate : public GovernanceGate {
 public:
  PolicyGate(governance::Governance& governance,
             std::shared_ptr<const std::vector<governance::Policy>> policies)
      : governance_(governance), policies_(std::move(policies)) {}

  Result<std::vector<GovernanceFinding>> CheckSpec(const DataProductSpec& spec) override {
    MW_ASSIGN_OR_RETURN(auto findings, governance_.CheckMetadata(FactsOf(spec), policies_.get()));
    return Convert(findings);
  }

  Result<std::vector<GovernanceFinding>> CheckStagedData(
      const DataProductSpec& spec, engine::Connection& connection,
      const std::map<std::string, std::string>& staged) override {
    MW_ASSIGN_OR_RETURN(auto findings,
                        governance_.CheckData(FactsOf(spec), connection, staged, policies_.get()));
    return Convert(findings);
  }

  Status PrepareEngine(engine::Connection& connection) override {
    return governance_.RegisterFunctions(connection);
  }

 private:
  governance::Governance& governance_;
  std::shared_ptr<const std::vector<governance::Policy>> policies_;
};

}  // namespace

governance::ProductFacts FactsOf(const DataProductSpec& spec) {
  governance::ProductFacts facts;
  facts.domain = spec.domain;
  facts.name = spec.name;
  facts.version = spec.version.ToString();
  facts.title = spec.title;
  facts.description = spec.description;
  facts.owner_team = spec.owner.team;
  facts.owner_email = spec.owner.email;
  facts.tags = spec.tags;
  facts.sla_freshness = spec.sla.freshness;
  facts.sla_schedule = spec.sla.schedule;
  for (const auto& input : spec.inputs)
    facts.inputs.push_back(input.name);
  for (const auto& rule : spec.quality)
    facts.quality_rules.push_back(rule.rule);
  const int major = spec.version.major;
  for (size_t i = 0; i < spec.ports.size(); ++i) {
    const Port& port = spec.ports[i];
    governance::PortFacts out;
    out.name = port.name;
    out.table = spec.domain + "." + port.name + (major > 1 ? "_v" + std::to_string(major) : "");
    out.description = port.description;
    out.partitioning = port.partitioning;
    for (const auto& column : port.columns) {
      out.columns.push_back({column.name, column.type, column.classification, column.description,
                             column.semantic_type, column.nullable, column.primary_key});
    }
    facts.ports.push_back(std::move(out));
  }
  return facts;
}

std::unique_ptr<GovernanceGate> MakePolicyGate(
    governance::Governance& governance,
    std::shared_ptr<const std::vector<governance::Policy>> policies) {
  return std::make_unique<PolicyGate>(governance, std::move(policies));
}

}  // namespace meshwork::product
