#pragma once
// Private to src/product: how product state is stored in the metastore's documents (collections,
// keys, JSON forms), shared by the pipeline (service.cc), the published side (registry.cc) and
// the SLA monitor.

#include <nlohmann/json.hpp>
#include <string>

#include "product/service.h"

namespace meshwork::product::internal {

inline constexpr const char* kProducts = "product";          // one per major line
inline constexpr const char* kHistory = "product_history";   // deploys, deprecations, ...
inline constexpr const char* kInflight = "deploy_inflight";  // a running deploy, for cleanup
inline constexpr const char* kSlaState = "sla_state";        // fresh | late, per major line

/// "finance/q3_revenue/v0002": the record of a major line.
std::string ProductKey(const std::string& domain, const std::string& name, int major);
/// "finance/q3_revenue/001764644000000-0002": history sorts by time.
std::string HistoryKey(const std::string& domain, const std::string& name, int64_t at_ms,
                       int major);
/// Compact JSON, invalid UTF-8 replaced (user text ends up in documents).
std::string Dump(const nlohmann::json& value);

nlohmann::json RecordToStoredJson(const ProductRecord& record);
ProductRecord RecordFromStored(const metastore::DocumentRecord& document);
nlohmann::json QualityToJson(const QualityResult& result);
nlohmann::json PortToJson(const PublishedPort& port);
PublishedPort PortFromJson(const nlohmann::json& value);

}  // namespace meshwork::product::internal
