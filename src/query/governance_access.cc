#include "query/governance_access.h"

#include <mutex>

#include "common/time.h"
#include "product/service.h"

namespace meshwork::query {
namespace {

// Classifications change with deploys only: read them again at most every second.
constexpr int64_t kRefreshMillis = 1000;

class GovernanceAccess : public AccessPolicy {
 public:
  GovernanceAccess(governance::Governance& governance, product::ProductService& products)
      : governance_(governance), products_(products) {}

  Result<TableAccess> ForTable(const catalog::Caller& caller, const std::string& table,
                               const std::vector<std::string>& columns,
                               const std::set<std::string>& encrypted) override {
    MW_ASSIGN_OR_RETURN(auto classified, Classifications());
    std::vector<governance::ColumnFacts> facts;
    for (const auto& column : columns) {
      governance::ColumnFacts fact;
      fact.name = column;
      fact.encrypted = encrypted.contains(column);
      if (auto found = classified->find(table + "." + column); found != classified->end()) {
        fact.classification = found->second;
      }
      facts.push_back(std::move(fact));
    }
    MW_ASSIGN_OR_RETURN(auto decision, governance_.ForTable(caller, table, facts));
    TableAccess access;
    for (auto& mask : decision.masks)
      access.masks.push_back({mask.column, mask.expression, mask.rule});
    access.row_filter = decision.row_filter;
    access.row_filter_policies = decision.row_filter_rules;
    return access;
  }

  Status PrepareEngine(engine::Connection& connection) override {
    MW_RETURN_IF_ERROR(governance_.RegisterDecryption(connection));
    decrypts_ = true;
    return Status::OK();
  }
  bool Decrypts() const override { return decrypts_; }

 private:
  using Map = std::map<std::string, std::string>;  // domain.table.column → classification

  Result<std::shared_ptr<const Map>> Classifications() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (map_ && time::NowMillis() - read_at_ms_ < kRefreshMillis) return map_;
    // Every product's declared classifications, whoever asks: masks must not depend on what
    // the caller may list.
    const catalog::Caller system{
        .principal = "meshwork", .is_root = true, .request_id = "governance", .internal = true};
    MW_ASSIGN_OR_RETURN(auto records, products_.ListProducts(system));
    auto map = std::make_shared<Map>();
    for (const auto& record : records) {
      auto spec = record.Spec();
      if (!spec.ok()) continue;
      for (const auto& published : record.ports) {
        const product::Port* port = spec->FindPort(published.port);
        if (port == nullptr) continue;
        for (const auto& column : port->columns) {
          if (!column.classification.empty()) {
            (*map)[published.table + "." + column.name] = column.classification;
          }
        }
      }
    }
    map_ = map;
    read_at_ms_ = time::NowMillis();
    return map_;
  }

  governance::Governance& governance_;
  product::ProductService& products_;
  std::mutex mutex_;
  std::shared_ptr<const Map> map_;
  int64_t read_at_ms_ = 0;
  bool decrypts_ = false;
};

}  // namespace

std::unique_ptr<AccessPolicy> MakeGovernanceAccess(governance::Governance& governance,
                                                   product::ProductService& products) {
  return std::make_unique<GovernanceAccess>(governance, products);
}

catalog::Catalog::RawAccessGuard MakeRawAccessGuard(AccessPolicy& access) {
  return [&access](const catalog::Caller& caller, const std::string& table,
                   const std::vector<std::string>& columns) -> Status {
    // Raw readers get the files as they are: encrypted columns stay ciphertext for every
    // engine but meshwork, so they do not by themselves close this door (masks and filters do).
    MW_ASSIGN_OR_RETURN(TableAccess decision, access.ForTable(caller, table, columns, {}));
    std::vector<std::string> policies = decision.row_filter_policies;
    for (const auto& mask : decision.masks)
      policies.push_back(mask.policy);
    if (policies.empty()) return Status::OK();
    return Status::PermissionDenied(
               "principal '{}' may not read the files of {} directly: policy {} applies to it",
               caller.principal, table, policies.front())
        .WithResource(table)
        .WithHint(
            "query it through meshwork (SQL, HTTP, PostgreSQL wire), where masks and row "
            "filters apply, or ask for UNMASK on it");
  };
}

}  // namespace meshwork::query
