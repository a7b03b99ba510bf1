#include "cli/policy_command.h"

#include <fmt/format.h>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/exit_codes.h"
#include "cli/sql_command.h"
#include "common/time.h"
#include "engine/database.h"
#include "governance/governance.h"
#include "iceberg/scan_planner.h"
#include "iceberg/scan_reader.h"
#include "product/governance_gate.h"
#include "product/service.h"

namespace meshwork::cli {
namespace {

using nlohmann::json;

std::string Severity(const governance::Rule& rule) {
  return rule.blocking ? "block" : "warn";
}

std::map<std::string, const governance::Rule*> RulesById(
    const std::vector<governance::Policy>& policies) {
  std::map<std::string, const governance::Rule*> out;
  for (const auto& policy : policies)
    for (const auto& rule : policy.rules)
      out[policy.name + "/" + rule.id] = &rule;
  return out;
}

// What `policies` find on every published product: metadata rules on its spec, data rules on
// its published tables.
Result<std::vector<governance::Finding>> TestAgainstPublished(
    catalog::Catalog& catalog, governance::Governance& governance,
    product::ProductService& products, const catalog::Caller& caller,
    const std::vector<governance::Policy>& policies, size_t& product_count) {
  MW_ASSIGN_OR_RETURN(auto records, products.ListProducts(caller));
  product_count = records.size();
  iceberg::Warehouse& warehouse = catalog.warehouse();
  MW_ASSIGN_OR_RETURN(
      auto database, engine::Database::Open({.allowed_directories = warehouse.ReadableDirectories(),
                                             .lock_down = true}));
  MW_ASSIGN_OR_RETURN(auto connection, database.Connect());
  MW_RETURN_IF_ERROR(governance.RegisterFunctions(connection));
  std::vector<governance::Finding> findings;
  for (const auto& record : records) {
    MW_ASSIGN_OR_RETURN(auto spec, record.Spec());
    const governance::ProductFacts facts = product::FactsOf(spec);
    MW_ASSIGN_OR_RETURN(auto metadata, governance.CheckMetadata(facts, &policies));
    findings.insert(findings.end(), metadata.begin(), metadata.end());
    std::map<std::string, std::string> relations;
    for (const auto& port : record.ports) {
      const size_t dot = port.table.find('.');
      MW_ASSIGN_OR_RETURN(auto table, catalog.LoadTable(caller, {{port.table.substr(0, dot)},
                                                                 port.table.substr(dot + 1)}));
      MW_ASSIGN_OR_RETURN(auto plan,
                          iceberg::PlanScan(warehouse, table, std::nullopt, iceberg::Expression()));
      MW_ASSIGN_OR_RETURN(std::string scan, iceberg::ScanSql(warehouse.io(), table.metadata,
                                                             table.metadata.CurrentSchema(), plan));
      // Data rules judge the clear values of encrypted columns.
      relations[port.port] =
          "(" +
          governance::DecryptingSelect(
              scan, governance::EncryptedColumns(table.metadata.properties), port.table) +
          ")";
    }
    MW_ASSIGN_OR_RETURN(auto data, governance.CheckData(facts, connection, relations, &policies));
    findings.insert(findings.end(), data.begin(), data.end());
  }
  return findings;
}

void PrintFindings(const std::vector<governance::Finding>& findings) {
  for (const auto& finding : findings) {
    std::printf("  %-5s %s/%s  %s: %s\n", finding.blocking ? "BLOCK" : "warn",
                finding.policy.c_str(), finding.rule.c_str(), finding.where.c_str(),
                finding.message.c_str());
    if (!finding.fix.empty()) std::printf("        fix: %s\n", finding.fix.c_str());
  }
}

}  // namespace

int RunPolicyCommand(catalog::Catalog& catalog, governance::Governance& governance,
                     product::ProductService& products, const catalog::Caller& caller,
                     const PolicyRequest& request) {
  if (request.action == "apply") {
    auto policies = governance::LoadPolicies(request.folder);
    if (!policies.ok()) return ReportError(policies.error());
    auto applied = governance.Apply(caller, std::move(*policies));
    if (!applied.ok()) return ReportError(applied.error());
    size_t rules = 0;
    for (const auto& policy : applied->policies)
      rules += policy.rules.size();
    std::printf("applied policy set v%lld: %zu policies, %zu rules\n",
                static_cast<long long>(applied->version), applied->policies.size(), rules);
    return kExitOk;
  }
  auto current = governance.Current();
  if (!current.ok()) return ReportError(current.error());
  if (request.action == "list") {
    if (request.json) {
      json out = json::array();
      for (const auto& policy : current->policies) {
        for (const auto& rule : policy.rules) {
          out.push_back({{"policy", policy.name},
                         {"rule", rule.id},
                         {"severity", Severity(rule)},
                         {"kind", governance::CheckKindName(rule.kind)},
                         {"description", rule.description}});
        }
      }
      std::printf("%s\n", json({{"version", current->version}, {"rules", out}}).dump(2).c_str());
      return kExitOk;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& policy : current->policies)
      for (const auto& rule : policy.rules)
        rows.push_back({policy.name, rule.id, Severity(rule),
                        std::string(governance::CheckKindName(rule.kind)), rule.description});
    std::printf("policy set v%lld\n", static_cast<long long>(current->version));
    PrintTable({"policy", "rule", "severity", "kind", "description"}, rows);
    return kExitOk;
  }
  if (request.action == "show") {
    for (const auto& policy : current->policies) {
      if (policy.name == request.name) {
        std::printf("%s", policy.source_text.c_str());
        return kExitOk;
      }
    }
    return ReportError(Status::NotFound("no applied policy named {}", request.name)
                           .WithHint("`meshwork policy list` shows the applied policies"));
  }
  if (request.action == "history") {
    auto history = governance.History();
    if (!history.ok()) return ReportError(history.error());
    std::vector<std::vector<std::string>> rows;
    for (const auto& entry : *history) {
      std::string names;
      for (const auto& policy : entry.policies)
        names += (names.empty() ? "" : ", ") + policy.name;
      rows.push_back({"v" + std::to_string(entry.version),
                      time::FormatRfc3339Millis(entry.applied_at_ms), entry.applied_by, names});
    }
    PrintTable({"version", "applied at", "by", "policies"}, rows);
    return kExitOk;
  }
  if (request.action == "attributes") {
    std::map<std::string, std::string> attributes;
    for (const auto& assignment : request.assignments) {
      const size_t equals = assignment.find('=');
      if (equals == std::string::npos || equals == 0) {
        return ReportError(Status::InvalidArgument("'{}' is not key=value", assignment),
                           kExitUsage);
      }
      attributes[assignment.substr(0, equals)] = assignment.substr(equals + 1);
    }
    if (Status set = governance.SetAttributes(caller, request.name, attributes); !set.ok()) {
      return ReportError(set);
    }
    std::printf("%s: %zu attributes\n", request.name.c_str(), attributes.size());
    return kExitOk;
  }
  auto proposed = governance::LoadPolicies(request.folder);
  if (!proposed.ok()) return ReportError(proposed.error());
  if (request.action == "diff") {
    const auto before = RulesById(current->policies), after = RulesById(*proposed);
    int changes = 0;
    for (const auto& [id, rule] : after) {
      auto old = before.find(id);
      if (old == before.end()) {
        std::printf("+ %s (%s, %s): %s\n", id.c_str(), Severity(*rule).c_str(),
                    std::string(governance::CheckKindName(rule->kind)).c_str(),
                    rule->description.c_str());
        ++changes;
      } else if (old->second->sql != rule->sql || old->second->mask != rule->mask ||
                 old->second->blocking != rule->blocking || old->second->kind != rule->kind ||
                 old->second->detector != rule->detector ||
                 old->second->description != rule->description) {
        std::printf("~ %s: %s\n", id.c_str(), rule->description.c_str());
        ++changes;
      }
    }
    for (const auto& [id, rule] : before) {
      if (!after.contains(id)) {
        std::printf("- %s: %s\n", id.c_str(), rule->description.c_str());
        ++changes;
      }
    }
    if (changes == 0)
      std::printf("no changes against policy set v%lld\n",
                  static_cast<long long>(current->version));
    return kExitOk;
  }
  if (request.action == "test") {
    size_t product_count = 0;
    auto findings =
        TestAgainstPublished(catalog, governance, products, caller, *proposed, product_count);
    if (!findings.ok()) return ReportError(findings.error());
    std::set<std::string> failing;
    for (const auto& finding : *findings) {
      if (finding.blocking)
        failing.insert(
            finding.where.substr(0, finding.where.find('.', finding.where.find('.') + 1)));
    }
    if (request.json) {
      json out = json::array();
      for (const auto& finding : *findings) {
        out.push_back({{"policy", finding.policy},
                       {"rule", finding.rule},
                       {"blocking", finding.blocking},
                       {"where", finding.where},
                       {"message", finding.message}});
      }
      std::printf("%s\n", json({{"products", product_count}, {"findings", out}}).dump(2).c_str());
    } else {
      std::printf("%zu published products checked against %s: %zu findings, %zu would be blocked\n",
                  product_count, request.folder.c_str(), findings->size(), failing.size());
      PrintFindings(*findings);
    }
    return failing.empty() ? kExitOk : kExitFailed;
  }
  return ReportError(Status::InvalidArgument("unknown policy action {}", request.action),
                     kExitUsage);
}

}  // namespace meshwork::cli
