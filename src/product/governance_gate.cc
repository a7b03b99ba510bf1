#include "product/governance_gate.h"

#include <fmt/format.h>

#include "iceberg/sql_text.h"

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
    const governance::ProductFacts facts = FactsOf(spec);
    MW_ASSIGN_OR_RETURN(auto findings, governance_.CheckMetadata(facts, policies_.get()));
    auto converted = Convert(findings);
    // An encrypt rule that cannot apply (a non-string column) blocks here, before any data
    // moves, so that `product validate` says it too.
    for (const auto& port : facts.ports) {
      auto encryption = governance_.EncryptionOf(facts, port, policies_.get());
      if (!encryption.ok()) {
        const Status& error = encryption.error();
        converted.push_back({"encryption", true, port.table, error.message(), error.hint()});
      }
    }
    return converted;
  }

  Result<std::vector<EncryptedColumn>> EncryptionOf(const DataProductSpec& spec,
                                                    const Port& port) override {
    const governance::ProductFacts facts = FactsOf(spec);
    const governance::PortFacts* found = nullptr;
    for (const auto& candidate : facts.ports)
      if (candidate.name == port.name) found = &candidate;
    if (found == nullptr) return std::vector<EncryptedColumn>{};
    MW_ASSIGN_OR_RETURN(auto columns, governance_.EncryptionOf(facts, *found, policies_.get()));
    std::vector<EncryptedColumn> out;
    for (const auto& column : columns) {
      out.push_back({column.column, std::string(governance::EncryptionModeName(column.mode)),
                     fmt::format("mesh_encrypt({}, {})", iceberg::QuoteIdentifier(column.column),
                                 iceberg::QuoteString(column.key_scope)),
                     column.rule});
    }
    if (!out.empty()) {
      // Fail before the transform runs, not in the middle of writing the data files.
      MW_RETURN_IF_ERROR(governance_.keys().CheckMasterKey());
    }
    return out;
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
