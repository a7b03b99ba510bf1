#include "query/query.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "engine/database.h"
#include "iceberg/maintenance.h"
#include "iceberg/scan_planner.h"
#include "iceberg/scan_reader.h"
#include "iceberg/sql_text.h"
#include "query/firewall.h"

namespace meshwork::query {
namespace {

using nlohmann::json;

// A string member, or "" when it is absent or not a string (nlohmann's value() throws then).
std::string Str(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

struct Resolved {
  PinnedTable pinned;
  json subquery_node;  // the SELECT over the pinned snapshot's files
};

// Replaces every BASE_TABLE that names a resolved table by a subquery over its snapshot.
void Rewrite(json& value, const std::map<int64_t, const Resolved*>& by_position) {
  if (value.is_array()) {
    for (auto& item : value)
      Rewrite(item, by_position);
    return;
  }
  if (!value.is_object()) return;
  if (Str(value, "type") == "BASE_TABLE" && value.contains("query_location") &&
      value["query_location"].is_number_unsigned()) {
    auto found = by_position.find(static_cast<int64_t>(value["query_location"].get<uint64_t>()));
    if (found != by_position.end()) {
      std::string alias = Str(value, "alias");
      if (alias.empty()) alias = Str(value, "table_name");
      value = json{{"type", "SUBQUERY"},
                   {"alias", alias},
                   {"sample", value.contains("sample") ? value["sample"] : json()},
                   {"query_location", value["query_location"]},
                   {"subquery",
                    {{"node", found->second->subquery_node}, {"named_param_map", json::array()}}},
                   {"column_name_alias", value.value("column_name_alias", json::array())}};
      return;
    }
  }
  for (auto& [key, child] : value.items()) {
    if (child.is_structured()) Rewrite(child, by_position);
  }
}

}  // namespace

Result<QueryResultTable> RunQuery(catalog::Catalog& catalog, const catalog::Caller& caller,
                                  const std::string& sql, size_t max_rows) {
  iceberg::Warehouse& warehouse = catalog.warehouse();
  MW_ASSIGN_OR_RETURN(auto database,
                      engine::Database::Open({.allowed_directories = {warehouse.io().root()},
                                              .lock_down = true,
                                              .settings = {{"TimeZone", "UTC"}}}));
  MW_ASSIGN_OR_RETURN(auto connection, database.Connect());
  MW_ASSIGN_OR_RETURN(CheckedQuery checked, CheckQuery(connection, sql));

  // Resolve and pin every table; a query sees one snapshot of each for its whole run.
  std::vector<Resolved> resolved;
  resolved.reserve(checked.tables.size());
  for (const TableReference& reference : checked.tables) {
    if (reference.schema.empty()) {
      return Status::InvalidArgument("table '{}' needs its domain: write domain.port",
                                     reference.table)
          .WithHint("`meshwork product list` shows the products and their domains");
    }
    const std::string domain = Lower(reference.schema), port = Lower(reference.table);
    const std::string name = domain + "." + port;
    auto table = catalog.LoadTable(caller, {{domain}, port});
    if (!table.ok()) {
      Status error = table.error();
      if (error.code() == StatusCode::kNotFound) {
        error = Status::NotFound("no data product port {} in the mesh", name)
                    .WithHint("`meshwork product list` shows what is published");
      }
      return std::move(error).WithResource(name);
    }
    MW_RETURN_IF_ERROR(catalog.Authorize(caller, catalog::Privilege::kReadData,
                                         catalog::Securable::Table({domain}, port)));
    std::optional<int64_t> snapshot;
    if (!reference.at_unit.empty()) {
      auto pinned = iceberg::ResolveSnapshot(table->metadata, reference.at_value);
      if (!pinned.ok()) return std::move(pinned).error().WithContext("AT clause of {}", name);
      snapshot = *pinned;
    }
    const iceberg::Expression everything;
    MW_ASSIGN_OR_RETURN(auto plan, iceberg::PlanScan(warehouse, *table, snapshot, everything));
    const iceberg::Schema* schema = &table->metadata.CurrentSchema();
    if (snapshot) {
      if (const auto* at = table->metadata.SnapshotById(*snapshot); at && at->schema_id) {
        if (const auto* old = table->metadata.SchemaById(*at->schema_id)) schema = old;
      }
    }
    MW_ASSIGN_OR_RETURN(std::string scan,
                        iceberg::ScanSql(warehouse.io(), table->metadata, *schema, plan));
    MW_ASSIGN_OR_RETURN(auto parsed, connection.QueryText("SELECT json_serialize_sql(" +
                                                          iceberg::QuoteString(scan) + ")"));
    const json tree = json::parse(parsed.at(0).at(0), nullptr, false);
    if (!tree.is_object() || tree.value("error", false)) {
      return Status::Internal("cannot parse the scan of {}", name);
    }
    Resolved entry;
    entry.pinned = {name, name, plan.snapshot_id, plan.files.size()};
    entry.subquery_node = tree["statements"][0]["node"];
    resolved.push_back(std::move(entry));
  }
  std::map<int64_t, const Resolved*> by_position;
  for (size_t i = 0; i < resolved.size(); ++i)
    by_position[checked.tables[i].position] = &resolved[i];
  json tree = json::parse(checked.tree_json);
  Rewrite(tree, by_position);
  MW_ASSIGN_OR_RETURN(std::string rewritten, RenderQuery(connection, tree.dump()));

  QueryResultTable out;
  for (const auto& entry : resolved)
    out.tables.push_back(entry.pinned);
  if (checked.explain) {
    for (const auto& table : out.tables) {
      out.explain += fmt::format("{}: snapshot {}, {} data files\n", table.name, table.snapshot_id,
                                 table.files);
    }
    MW_ASSIGN_OR_RETURN(auto plan, connection.QueryText("EXPLAIN " + rewritten));
    for (const auto& row : plan)
      if (row.size() > 1) out.explain += row[1];
    out.columns = {"explain"};
    out.rows = {{out.explain}};
    return out;
  }
  auto result = connection.Query(rewritten);
  if (!result.ok()) {
    // DuckDB's message, without the rewritten SQL (it names files the user never wrote).
    return Status(result.error().code(), result.error().message());
  }
  out.columns = result->column_names();
  MW_ASSIGN_OR_RETURN(auto rows, result->FetchAllText());
  if (rows.size() > max_rows) rows.resize(max_rows);
  out.rows = std::move(rows);
  return out;
}

}  // namespace meshwork::query
