#include "server/governance_api.h"

#include <charconv>

#include "common/time.h"
#include "server/json_http.h"
#include "server/mesh_api.h"
#include "server/rest_catalog.h"

namespace meshwork::server {
namespace {

using catalog::Caller;
using nlohmann::json;

json RuleJson(const governance::Rule& rule) {
  json out = {{"id", rule.id},
              {"description", rule.description},
              {"rationale", rule.rationale},
              {"severity", rule.blocking ? "block" : "warn"},
              {"kind", governance::CheckKindName(rule.kind)}};
  switch (rule.kind) {
    case governance::CheckKind::kMetadata:
    case governance::CheckKind::kRowFilter:
      out["sql"] = rule.sql;
      break;
    case governance::CheckKind::kData:
      out["detector"] = governance::DetectorName(rule.detector);
      out["sample-rows"] = rule.sample_rows;
      break;
    case governance::CheckKind::kMask:
      out["mask"] = rule.mask;
      break;
    case governance::CheckKind::kEncrypt:
      out["mode"] = rule.deterministic ? "deterministic" : "randomized";
      break;
  }
  const auto& scope = rule.scope;
  out["scope"] = {{"domains", scope.domains},
                  {"products", scope.products},
                  {"tables", scope.tables},
                  {"classifications", scope.classifications},
                  {"columns", scope.columns}};
  return out;
}

json SplitList(const std::string& joined) {
  json out = json::array();
  size_t start = 0;
  while (start < joined.size()) {
    size_t comma = joined.find(',', start);
    if (comma == std::string::npos) comma = joined.size();
    out.push_back(joined.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

json AuditJson(const metastore::AuditRecord& record) {
  json details = json::parse(record.details, nullptr, false);
  return {{"id", record.id},
          {"at", time::FormatRfc3339Millis(record.at_ms)},
          {"at-ms", record.at_ms},
          {"principal", record.principal},
          {"request-id", record.request_id},
          {"channel", record.channel},
          {"operation", record.operation},
          {"securables", SplitList(record.securables)},
          {"decision", record.allowed ? "allowed" : "denied"},
          {"reason", record.reason},
          {"policies", SplitList(record.policies)},
          {"fingerprint", record.fingerprint},
          {"rows", record.rows < 0 ? json(nullptr) : json(record.rows)},
          {"details", details.is_discarded() ? json::object() : details}};
}

// An instant as epoch milliseconds or RFC 3339.
Result<int64_t> ParseInstant(const std::string& name, const std::string& text) {
  int64_t millis = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), millis);
  if (error == std::errc() && end == text.data() + text.size()) return millis;
  auto micros = time::ParseRfc3339(text);
  if (!micros.ok()) {
    return Status::InvalidArgument("{}={} is not an instant", name, text)
        .WithHint("give epoch milliseconds or RFC 3339, e.g. 2026-12-02T07:00:00Z");
  }
  return *micros / 1000;
}

Result<int64_t> ParseCount(const std::string& name, const std::string& text) {
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0) {
    return Status::InvalidArgument("{}={} is not a non-negative integer", name, text);
  }
  return value;
}

Result<metastore::AuditFilter> AuditFilterOf(const HttpRequest& request) {
  metastore::AuditFilter filter;
  filter.principal = request.Query("principal").value_or("");
  filter.securable = request.Query("securable").value_or("");
  filter.operation = request.Query("operation").value_or("");
  if (auto decision = request.Query("decision")) {
    if (*decision == "allowed") {
      filter.allowed = true;
    } else if (*decision == "denied") {
      filter.allowed = false;
    } else if (!decision->empty()) {
      return Status::InvalidArgument("decision={} is neither allowed nor denied", *decision);
    }
  }
  if (auto since = request.Query("since"); since && !since->empty()) {
    MW_ASSIGN_OR_RETURN(filter.since_ms, ParseInstant("since", *since));
  }
  if (auto until = request.Query("until"); until && !until->empty()) {
    MW_ASSIGN_OR_RETURN(filter.until_ms, ParseInstant("until", *until));
  }
  if (auto before = request.Query("before_id"); before && !before->empty()) {
    MW_ASSIGN_OR_RETURN(filter.before_id, ParseCount("before_id", *before));
  }
  if (auto limit = request.Query("limit"); limit && !limit->empty()) {
    MW_ASSIGN_OR_RETURN(filter.limit, ParseCount("limit", *limit));
    if (filter.limit == 0) filter.limit = 100;
  }
  return filter;
}

}  // namespace

json AppliedPoliciesJson(const governance::AppliedPolicies& applied, bool with_source) {
  json policies = json::array();
  for (const auto& policy : applied.policies) {
    json rules = json::array();
    for (const auto& rule : policy.rules)
      rules.push_back(RuleJson(rule));
    json entry = {{"name", policy.name},
                  {"description", policy.description},
                  {"owner", policy.owner},
                  {"file", policy.file},
                  {"rules", rules}};
    if (with_source) entry["source"] = policy.source_text;
    policies.push_back(std::move(entry));
  }
  return {{"version", applied.version},
          {"applied-at-ms", applied.applied_at_ms},
          {"applied-by", applied.applied_by},
          {"policies", policies}};
}

void AddGovernanceApiRoutes(Router& router, catalog::Catalog& catalog,
                            governance::Governance& governance) {
  auto authed = [&catalog](AuthenticatedHandler body) { return RequireCaller(catalog, body); };

  // The council's rules are public to everyone in the mesh: producers must know them.
  router.Add("GET", "/api/v1/policies", "listPolicies",
             authed([&governance](HttpRequest&, const Caller&) {
               auto current = governance.Current();
               if (!current.ok()) return ErrorResponse(current.error());
               return Json(200, AppliedPoliciesJson(*current, /*with_source=*/true));
             }));

  router.Add("GET", "/api/v1/policies/history", "policyHistory",
             authed([&governance](HttpRequest&, const Caller&) {
               auto history = governance.History();
               if (!history.ok()) return ErrorResponse(history.error());
               json versions = json::array();
               for (const auto& applied : *history)
                 versions.push_back(AppliedPoliciesJson(applied, /*with_source=*/false));
               return Json(200, {{"versions", versions}});
             }));

  router.Add(
      "GET", "/api/v1/principals/{name}/attributes", "principalAttributes",
      authed([&governance](HttpRequest& request, const Caller& caller) {
        auto attributes = governance.AttributesFor(caller, request.Capture("name"));
        if (!attributes.ok()) return ErrorResponse(attributes.error());
        return Json(200, {{"principal", request.Capture("name")}, {"attributes", *attributes}});
      }));

  router.Add(
      "PUT", "/api/v1/principals/{name}/attributes", "setPrincipalAttributes",
      authed([&governance](HttpRequest& request, const Caller& caller) {
        auto body = Body(request);
        if (!body.ok()) return ErrorResponse(body.error());
        const json attributes = body->value("attributes", json());
        if (!attributes.is_object()) {
          return ErrorResponse(Status::InvalidArgument("attributes: expected an object of strings")
                                   .WithHint("{\"attributes\": {\"country\": \"DE\"}}"));
        }
        std::map<std::string, std::string> values;
        for (const auto& [name, value] : attributes.items()) {
          if (!value.is_string()) {
            return ErrorResponse(Status::InvalidArgument("attributes.{}: expected a string", name));
          }
          values[name] = value.get<std::string>();
        }
        Status set = governance.SetAttributes(caller, request.Capture("name"), values);
        if (!set.ok()) return ErrorResponse(set);
        return Json(200, {{"principal", request.Capture("name")}, {"attributes", values}});
      }));

  router.Add("GET", "/api/v1/audit", "listAudit",
             authed([&catalog](HttpRequest& request, const Caller& caller) {
               auto filter = AuditFilterOf(request);
               if (!filter.ok()) return ErrorResponse(filter.error());
               auto records = catalog.ListAudit(caller, *filter);
               if (!records.ok()) return ErrorResponse(records.error());
               json list = json::array();
               for (const auto& record : *records)
                 list.push_back(AuditJson(record));
               json body = {{"records", list}};
               // Another page follows when this one is full.
               body["next-before-id"] =
                   !records->empty() && static_cast<int64_t>(records->size()) == filter->limit
                       ? json(records->back().id)
                       : json(nullptr);
               return Json(200, body);
             }));
}

}  // namespace meshwork::server
