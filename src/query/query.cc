#include "query/query.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "common/text.h"
#include "common/time.h"
#include "engine/database.h"
#include "governance/encryption.h"
#include "iceberg/expression.h"
#include "iceberg/json_reader.h"
#include "iceberg/maintenance.h"
#include "iceberg/scan_planner.h"
#include "iceberg/scan_reader.h"
#include "iceberg/sql_text.h"
#include "query/data_plan.h"
#include "query/firewall.h"
#include "query/metadata.h"
#include "query/session.h"

namespace meshwork::query {
namespace {

using iceberg::json::StringOr;
using nlohmann::json;

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
  if (StringOr(value, "type", "") == "BASE_TABLE" && value.contains("query_location") &&
      value["query_location"].is_number_unsigned()) {
    auto found = by_position.find(static_cast<int64_t>(value["query_location"].get<uint64_t>()));
    if (found != by_position.end()) {
      std::string alias = StringOr(value, "alias", "");
      if (alias.empty()) alias = StringOr(value, "table_name", "");
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

// A constant of the syntax tree as filter text ('it''s', 42, true); nullopt if it is no plain
// constant (an expression, a NULL).
// What kind of value a constant is, so that it is compared only with columns of that kind (our
// filters type a literal by its column, DuckDB by casting: '05' = 5 must not prune).
enum class ValueKind { kNumber, kText, kTemporal, kBoolean };

std::optional<std::string> ConstantText(const json& node, ValueKind& kind) {
  const json* constant = &node;
  std::string cast;
  if (StringOr(node, "class", "") == "CAST" && node.contains("child")) {
    constant = &node["child"];
    cast = node.contains("cast_type") ? StringOr(node["cast_type"], "id", "") : "";
  }
  if (StringOr(*constant, "class", "") != "CONSTANT" || !constant->contains("value"))
    return std::nullopt;
  const json& value = (*constant)["value"];
  if (!value.is_object() || value.value("is_null", true) || !value.contains("value")) {
    return std::nullopt;
  }
  const json& raw = value["value"];
  const std::string type = value.contains("type") ? StringOr(value["type"], "id", "") : "";
  if (cast == "BOOLEAN" && type == "VARCHAR" && raw.is_string()) {
    // DuckDB's parser writes true and false as CAST('t' AS BOOLEAN) and CAST('f' AS BOOLEAN).
    const std::string text = raw.get<std::string>();
    if (text != "t" && text != "f") return std::nullopt;
    kind = ValueKind::kBoolean;
    return text == "t" ? "true" : "false";
  }
  if (!cast.empty()) {
    if (cast == "DATE" || cast.starts_with("TIMESTAMP") || cast == "TIME") {
      kind = ValueKind::kTemporal;
    } else {
      return std::nullopt;  // other casts: left to DuckDB
    }
  } else if (type == "VARCHAR") {
    kind = ValueKind::kText;
  } else if (type == "BOOLEAN") {
    kind = ValueKind::kBoolean;
  } else if (type == "INTEGER" || type == "BIGINT" || type == "HUGEINT" || type == "DECIMAL" ||
             type == "DOUBLE" || type == "FLOAT" || type == "SMALLINT" || type == "TINYINT" ||
             type == "UBIGINT" || type == "UINTEGER") {
    kind = ValueKind::kNumber;
  } else {
    return std::nullopt;
  }
  if (raw.is_string()) {
    std::string quoted = "'";
    for (const char c : raw.get<std::string>())
      quoted += c == '\'' ? std::string("''") : std::string(1, c);
    return quoted + "'";
  }
  if (raw.is_number() || raw.is_boolean()) return raw.dump();
  return std::nullopt;
}

// The filter a table's scan can be pruned with: the conjuncts of the WHERE clause that compare
// one of its columns with a constant (or test it for NULL). The WHERE clause itself stays in the
// query, so pruning only skips files that cannot hold a matching row.
void CollectConjuncts(const json& node, std::vector<const json*>& out) {
  if (StringOr(node, "type", "") == "CONJUNCTION_AND" && node.contains("children")) {
    for (const auto& child : node["children"])
      CollectConjuncts(child, out);
  } else {
    out.push_back(&node);
  }
}

struct Conjunct {
  std::string column;
  std::string text;
  std::optional<ValueKind> kind;  // none for null tests
  std::string op;                 // column <op> constant: = != < > <= >= (empty for null tests)
  std::string constant;           // as SQL text ('it''s', 42, true)
};

std::vector<Conjunct> PushableConjuncts(const json& where, const std::string& table_name,
                                        const std::string& alias, bool require_qualifier) {
  std::vector<const json*> conjuncts;
  CollectConjuncts(where, conjuncts);
  const auto column_of = [&](const json& ref) -> std::optional<std::string> {
    if (StringOr(ref, "class", "") != "COLUMN_REF" || !ref.contains("column_names"))
      return std::nullopt;
    const json& names = ref["column_names"];
    if (names.empty() || names.size() > 2 || !names.back().is_string()) return std::nullopt;
    if (require_qualifier && names.size() != 2) return std::nullopt;
    if (names.size() == 2) {
      const std::string qualifier =
          text::ToLower(names[0].is_string() ? names[0].get<std::string>() : "");
      if (qualifier != text::ToLower(alias.empty() ? table_name : alias)) return std::nullopt;
    }
    const std::string column = names.back().get<std::string>();
    if (column.empty() || column.find_first_not_of(
                              "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
                              std::string::npos) {
      return std::nullopt;
    }
    return column;
  };
  static const std::map<std::string, std::pair<std::string, std::string>> kOperators = {
      {"COMPARE_EQUAL", {"=", "="}},
      {"COMPARE_NOTEQUAL", {"!=", "!="}},
      {"COMPARE_LESSTHAN", {"<", ">"}},
      {"COMPARE_GREATERTHAN", {">", "<"}},
      {"COMPARE_LESSTHANOREQUALTO", {"<=", ">="}},
      {"COMPARE_GREATERTHANOREQUALTO", {">=", "<="}}};
  std::vector<Conjunct> pieces;
  for (const json* conjunct : conjuncts) {
    const std::string type = StringOr(*conjunct, "type", "");
    if (auto op = kOperators.find(type); op != kOperators.end()) {
      const json& left = conjunct->value("left", json());
      const json& right = conjunct->value("right", json());
      ValueKind kind = ValueKind::kText;
      if (auto column = column_of(left); column) {
        if (auto constant = ConstantText(right, kind)) {
          pieces.push_back({*column, *column + " " + op->second.first + " " + *constant, kind,
                            op->second.first, *constant});
        }
      } else if (auto flipped = column_of(right); flipped) {
        if (auto constant = ConstantText(left, kind)) {
          pieces.push_back({*flipped, *flipped + " " + op->second.second + " " + *constant, kind,
                            op->second.second, *constant});
        }
      }
    } else if ((type == "OPERATOR_IS_NULL" || type == "OPERATOR_IS_NOT_NULL") &&
               conjunct->contains("children") && (*conjunct)["children"].size() == 1) {
      if (auto column = column_of((*conjunct)["children"][0])) {
        pieces.push_back(
            {*column, *column + (type == "OPERATOR_IS_NULL" ? " is null" : " is not null"), {}});
      }
    }
  }
  return pieces;
}

// The tables of a FROM clause whose rows a WHERE conjunct on them may prune: every table of
// inner and cross joins, the preserved side of outer joins (pruning the other side would turn
// its matches into NULL-extended rows a later test could accept).
void PrunableTables(const json& from, std::vector<const json*>& out) {
  const std::string type = StringOr(from, "type", "");
  if (type == "BASE_TABLE") {
    if (from.contains("query_location") && from["query_location"].is_number_unsigned()) {
      out.push_back(&from);
    }
    return;
  }
  if (type != "JOIN" || !from.contains("left") || !from.contains("right")) return;
  const std::string join = StringOr(from, "join_type", "");
  if (join == "INNER" || StringOr(from, "ref_type", "") == "CROSS") {
    PrunableTables(from["left"], out);
    PrunableTables(from["right"], out);
  } else if (join == "LEFT") {
    PrunableTables(from["left"], out);
  } else if (join == "RIGHT") {
    PrunableTables(from["right"], out);
  }
}

// Filters by table position, from every SELECT's WHERE clause over the tables it may prune.
void FindPushdowns(const json& value, std::map<int64_t, std::vector<Conjunct>>& out) {
  if (value.is_array()) {
    for (const auto& item : value)
      FindPushdowns(item, out);
    return;
  }
  if (!value.is_object()) return;
  if (StringOr(value, "type", "") == "SELECT_NODE" && value.contains("from_table") &&
      value.contains("where_clause") && value["where_clause"].is_object()) {
    std::vector<const json*> tables;
    PrunableTables(value["from_table"], tables);
    for (const json* table : tables) {
      const auto position = static_cast<int64_t>((*table)["query_location"].get<uint64_t>());
      // With several tables a column must name its table (t.column): unqualified names could
      // belong to any of them.
      out[position] = PushableConjuncts(value["where_clause"], StringOr(*table, "table_name", ""),
                                        StringOr(*table, "alias", ""),
                                        /*require_qualifier=*/tables.size() > 1);
    }
  }
  for (const auto& [key, child] : value.items()) {
    if (child.is_structured()) FindPushdowns(child, out);
  }
}

bool KindFits(ValueKind kind, iceberg::TypeKind type) {
  using iceberg::TypeKind;
  const bool number = type == TypeKind::kInt || type == TypeKind::kLong ||
                      type == TypeKind::kFloat || type == TypeKind::kDouble ||
                      type == TypeKind::kDecimal;
  const bool temporal = type == TypeKind::kDate || type == TypeKind::kTime ||
                        type == TypeKind::kTimestamp || type == TypeKind::kTimestampTz;
  const bool text = type == TypeKind::kString || type == TypeKind::kUuid;
  return (kind == ValueKind::kNumber && number) || (kind == ValueKind::kTemporal && temporal) ||
         (kind == ValueKind::kText && (text || temporal)) ||
         (kind == ValueKind::kBoolean && type == TypeKind::kBoolean);
}

struct Located {
  std::string domain;
  std::string port;
  iceberg::LoadedTable table;
};

// domain.port, or port through the session's search path (the first domain holding it).
Result<Located> Locate(catalog::Catalog& catalog, const catalog::Caller& caller,
                       const TableReference& reference,
                       const std::vector<std::string>& search_path) {
  const std::string port = text::ToLower(reference.table);
  std::vector<std::string> domains;
  if (!reference.schema.empty()) {
    domains.push_back(text::ToLower(reference.schema));
  } else {
    domains = search_path;
  }
  if (domains.empty()) {
    return Status::InvalidArgument("table '{}' needs its domain: write domain.port",
                                   reference.table)
        .WithHint(
            "`meshwork product list` shows the products and their domains; or SET "
            "search_path TO a domain");
  }
  Status first_error;
  for (const std::string& domain : domains) {
    auto table = catalog.LoadTable(caller, {{domain}, port});
    if (table.ok()) return Located{domain, port, std::move(*table)};
    if (table.error().code() != StatusCode::kNotFound) {
      return std::move(table).error().WithResource(domain + "." + port);
    }
  }
  if (!reference.schema.empty()) {
    return Status::NotFound("no data product port {}.{} in the mesh", domains[0], port)
        .WithResource(domains[0] + "." + port)
        .WithHint("`meshwork product list` shows what is published");
  }
  return Status::NotFound("no data product port '{}' in the search path ({})", port,
                          fmt::join(domains, ", "))
      .WithHint("qualify it as domain.port");
}

}  // namespace

Result<DataPlan> PlanDataQuery(catalog::Catalog& catalog, const catalog::Caller& caller,
                               engine::Connection& connection, const CheckedQuery& checked,
                               const std::vector<std::string>& search_path,
                               AccessPolicy* access_policy) {
  iceberg::Warehouse& warehouse = catalog.warehouse();
  // Resolve and pin every table; a query sees one snapshot of each for its whole run.
  std::map<int64_t, std::vector<Conjunct>> pushdowns;
  FindPushdowns(json::parse(checked.tree_json), pushdowns);
  std::vector<Resolved> resolved;
  resolved.reserve(checked.tables.size());
  for (const TableReference& reference : checked.tables) {
    MW_ASSIGN_OR_RETURN(auto located, Locate(catalog, caller, reference, search_path));
    auto& [domain, port, table] = located;
    const std::string name = domain + "." + port;
    MW_RETURN_IF_ERROR(catalog.Authorize(caller, catalog::Privilege::kReadData,
                                         catalog::Securable::Table({domain}, port)));
    std::optional<int64_t> snapshot;
    if (!reference.at_unit.empty()) {
      auto pinned = iceberg::ResolveSnapshot(table.metadata, reference.at_value);
      if (!pinned.ok()) return std::move(pinned).error().WithContext("AT clause of {}", name);
      snapshot = *pinned;
    }
    const iceberg::Schema* schema = &table.metadata.CurrentSchema();
    if (snapshot) {
      if (const auto* at = table.metadata.SnapshotById(*snapshot); at && at->schema_id) {
        if (const auto* old = table.metadata.SchemaById(*at->schema_id)) schema = old;
      }
    }
    // Columns stored encrypted (meshwork.encrypted.* properties, set by the deploy before the
    // data they describe is committed): decrypted first, then masked and filtered.
    // The snapshot read says how its files store them (time travel across a change of the
    // council's encrypt rules); snapshots that do not say go by the table's properties.
    const iceberg::Snapshot* read =
        snapshot ? table.metadata.SnapshotById(*snapshot) : table.metadata.CurrentSnapshot();
    auto of_snapshot = read ? governance::EncryptedColumnsOfSnapshot(read->summary) : std::nullopt;
    std::map<std::string, governance::EncryptionMode> encrypted;
    for (const auto& [column, mode] :
         of_snapshot ? *of_snapshot : governance::EncryptedColumns(table.metadata.properties))
      if (schema->FindField(std::string_view(column)) != nullptr) encrypted[column] = mode;
    // The conjuncts our filter language reads (against the table's types) prune the scan.
    std::string pushed;
    iceberg::ExpressionPtr filter = std::make_shared<iceberg::Expression>();
    if (auto found = pushdowns.find(reference.position); found != pushdowns.end()) {
      for (const Conjunct& piece : found->second) {
        // The statistics of an encrypted column bound its ciphertext, not its values.
        if (encrypted.contains(piece.column)) continue;
        // Boolean bounds are not something our pruning has been tested on: DuckDB filters.
        if (piece.kind == ValueKind::kBoolean) continue;
        if (piece.kind) {
          const auto* field = schema->FindField(std::string_view(piece.column));
          if (field == nullptr || !field->type->is_primitive()) continue;
          if (!KindFits(*piece.kind, field->type->kind())) continue;
        }
        const std::string candidate = pushed.empty() ? piece.text : pushed + " and " + piece.text;
        auto parsed = iceberg::ParseFilter(candidate, *schema);
        if (!parsed.ok()) continue;  // a type our filters do not compare: DuckDB filters it
        pushed = candidate;
        filter = *parsed;
      }
    }
    MW_ASSIGN_OR_RETURN(auto plan, iceberg::PlanScan(warehouse, table, snapshot, *filter));
    MW_ASSIGN_OR_RETURN(std::string scan,
                        iceberg::ScanSql(warehouse.io(), table.metadata, *schema, plan));
    Resolved entry;
    entry.pinned = {name, name, plan.snapshot_id, plan.files.size(), plan.files_total, pushed};
    if (!encrypted.empty()) {
      if (access_policy == nullptr || !access_policy->Decrypts()) {
        // Fail closed: never ciphertext as if it were data.
        return Status::FailedPrecondition(
                   "{} stores columns encrypted and this query engine has no key store to "
                   "decrypt them",
                   name)
            .WithResource(name)
            .WithHint("query it through `meshwork serve` or `meshwork sql`, which decrypt it");
      }
      for (const auto& [column, mode] : encrypted) {
        entry.pinned.decrypted.push_back(column + " (" +
                                         std::string(governance::EncryptionModeName(mode)) + ")");
      }
      scan = governance::DecryptingSelect(scan, encrypted, name);
    }
    // Governance first: the caller's query sees the masked columns and filtered rows only.
    if (access_policy != nullptr) {
      std::vector<std::string> columns;
      for (const auto& field : schema->fields())
        columns.push_back(field.name);
      std::set<std::string> encrypted_names;
      for (const auto& [column, mode] : encrypted)
        encrypted_names.insert(column);
      MW_ASSIGN_OR_RETURN(TableAccess access,
                          access_policy->ForTable(caller, name, columns, encrypted_names));
      if (!access.masks.empty() || !access.row_filter.empty()) {
        std::string select;
        for (const std::string& column : columns) {
          const auto mask = std::find_if(access.masks.begin(), access.masks.end(),
                                         [&](const ColumnMask& m) { return m.column == column; });
          if (!select.empty()) select += ", ";
          if (mask == access.masks.end()) {
            select += iceberg::QuoteIdentifier(column);
          } else {
            select += "(" + mask->expression + ") AS " + iceberg::QuoteIdentifier(column);
            entry.pinned.masks.push_back(column + " by " + mask->policy);
          }
        }
        scan = "SELECT " + select + " FROM (" + scan + ") AS unmasked" +
               (access.row_filter.empty() ? "" : " WHERE (" + access.row_filter + ")");
        entry.pinned.row_filters = access.row_filter_policies;
      }
    }
    MW_ASSIGN_OR_RETURN(auto parsed, connection.QueryText("SELECT json_serialize_sql(" +
                                                          iceberg::QuoteString(scan) + ")"));
    const json tree = json::parse(parsed.at(0).at(0), nullptr, false);
    if (!tree.is_object() || tree.value("error", false)) {
      return Status::Internal("cannot parse the scan of {}: {}", name,
                              tree.is_object() ? StringOr(tree, "error_message", "") : "");
    }
    entry.subquery_node = tree["statements"][0]["node"];
    resolved.push_back(std::move(entry));
  }
  std::map<int64_t, const Resolved*> by_position;
  for (size_t i = 0; i < resolved.size(); ++i)
    by_position[checked.tables[i].position] = &resolved[i];
  json tree = json::parse(checked.tree_json);
  Rewrite(tree, by_position);
  DataPlan out;
  MW_ASSIGN_OR_RETURN(out.sql, RenderQuery(connection, tree.dump()));
  for (const auto& entry : resolved)
    out.tables.push_back(entry.pinned);
  return out;
}

metastore::AuditFilter AuditPushdown(const CheckedQuery& checked) {
  metastore::AuditFilter filter;
  filter.limit = catalog::Catalog::kMaxAuditPage;
  const TableReference* audit = nullptr;
  for (const TableReference& table : checked.tables) {
    if (!IsAuditTable(table)) continue;
    if (audit != nullptr) return filter;  // each reference may filter differently
    audit = &table;
  }
  if (audit == nullptr || checked.tree_json.empty()) return filter;
  std::map<int64_t, std::vector<Conjunct>> pushdowns;
  FindPushdowns(json::parse(checked.tree_json), pushdowns);
  const auto found = pushdowns.find(audit->position);
  if (found == pushdowns.end()) return filter;
  const auto unquoted = [](const std::string& constant) {
    std::string out;
    for (size_t i = 1; i + 1 < constant.size(); ++i) {
      out += constant[i];
      if (constant[i] == '\'') ++i;  // '' stands for '
    }
    return out;
  };
  // A timestamp literal in milliseconds, rounded so that the bound stays as wide as the
  // query's (`up`: the next millisecond for a fraction of one).
  const auto millis = [&](const std::string& constant, bool up) -> std::optional<int64_t> {
    if (constant.size() < 2 || constant.front() != '\'') return std::nullopt;
    std::string text = unquoted(constant);
    auto micros = time::ParseRfc3339(text);
    if (!micros.ok()) micros = time::ParseRfc3339(text + "Z");  // DuckDB's TIMESTAMP is UTC
    if (!micros.ok()) return std::nullopt;
    return *micros / 1000 + (up && *micros % 1000 != 0 ? 1 : 0);
  };
  for (const Conjunct& piece : found->second) {
    const std::string column = text::ToLower(piece.column);
    const bool text_constant = piece.kind == ValueKind::kText;
    if ((column == "principal" || column == "operation") && piece.op == "=" && text_constant) {
      (column == "principal" ? filter.principal : filter.operation) = unquoted(piece.constant);
    } else if (column == "allowed" && piece.op == "=" && piece.kind == ValueKind::kBoolean) {
      filter.allowed = piece.constant == "true";
    } else if (column == "happened_at" && (piece.op == ">=" || piece.op == ">")) {
      if (auto since = millis(piece.constant, false)) {
        filter.since_ms = std::max(filter.since_ms, *since);
      }
    } else if (column == "happened_at" && (piece.op == "<" || piece.op == "<=")) {
      if (auto until = millis(piece.constant, true)) {
        const int64_t bound = *until + (piece.op == "<=" ? 1 : 0);
        filter.until_ms = filter.until_ms == 0 ? bound : std::min(filter.until_ms, bound);
      }
    } else if (column == "id" && (piece.op == "<" || piece.op == "<=") &&
               piece.kind == ValueKind::kNumber) {
      const int64_t id = std::strtoll(piece.constant.c_str(), nullptr, 10);
      const int64_t before = id + (piece.op == "<=" ? 1 : 0);
      if (id > 0)
        filter.before_id = filter.before_id == 0 ? before : std::min(filter.before_id, before);
    }
  }
  return filter;
}

std::string ExplainTables(const std::vector<PinnedTable>& tables) {
  std::string out;
  for (const auto& table : tables) {
    out +=
        fmt::format("{}: snapshot {}, data files {} of {} kept{}\n", table.name, table.snapshot_id,
                    table.files, table.files_total,
                    table.pushed_filter.empty() ? "" : " (pruned by " + table.pushed_filter + ")");
    for (const auto& column : table.decrypted)
      out += "  decrypt " + column + "\n";
    for (const auto& mask : table.masks)
      out += "  mask " + mask + "\n";
    for (const auto& filter : table.row_filters)
      out += "  row filter " + filter + "\n";
  }
  return out;
}

Result<QueryResultTable> RunQuery(catalog::Catalog& catalog, const catalog::Caller& caller,
                                  const std::string& sql, size_t max_rows) {
  MW_ASSIGN_OR_RETURN(auto service, QueryService::Open(catalog, {}));
  MW_ASSIGN_OR_RETURN(auto session, service->OpenSession(caller));
  MW_ASSIGN_OR_RETURN(Cursor cursor, session->Execute(sql));
  return ReadAll(cursor, max_rows);
}

}  // namespace meshwork::query
