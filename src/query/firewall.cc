#include "query/firewall.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <set>

#include "common/text.h"
#include "iceberg/json_reader.h"
#include "iceberg/sql_text.h"

namespace meshwork::query {
namespace {

using iceberg::json::StringOr;
using nlohmann::json;

// Table functions a query may use in FROM: they compute rows, they read nothing.
constexpr std::array kAllowedTableFunctions = {"range", "generate_series", "unnest"};

// Scalar functions that reach outside the query: files, the environment, the engine's state and
// settings, other databases. Prefixes cover families (read_csv, read_json_auto, ...).
constexpr std::array kDeniedFunctionPrefixes = {
    "read_",    "parquet_", "iceberg_",     "delta_",
    "sniff_",   "glob",     "duckdb_",      "pragma_",
    "getenv",   "query",    "json_execute", "current_setting",
    "enable_",  "disable_", "checkpoint",   "force_checkpoint",
    "install_", "load_",    "sqlite_",      "postgres_",
    "mysql_",   "http",     "s3_",          "which_secret",
    "icu_",     "export_",  "import_",      "copy_",
    "attach",   "detach"};

SourceLocation LocationOf(std::string_view sql, int64_t offset) {
  SourceLocation where{"query", 1, 1};
  if (offset < 0 || static_cast<size_t>(offset) > sql.size()) return where;
  for (int64_t i = 0; i < offset; ++i) {
    if (sql[i] == '\n') {
      ++where.line, where.column = 1;
    } else {
      ++where.column;
    }
  }
  return where;
}

int64_t Position(const json& node) {
  if (!node.contains("query_location") || !node["query_location"].is_number_unsigned()) return -1;
  const uint64_t value = node["query_location"].get<uint64_t>();
  return value > (uint64_t{1} << 40) ? -1 : static_cast<int64_t>(value);
}

class Checker {
 public:
  Checker(std::string_view sql, CheckedQuery& out) : sql_(sql), out_(out) {}

  Status Walk(const json& value, int depth) {
    if (depth > 2000) return Refuse(-1, "the query is nested too deeply");
    if (value.is_array()) {
      for (const auto& item : value)
        MW_RETURN_IF_ERROR(Walk(item, depth + 1));
      return Status::OK();
    }
    if (!value.is_object()) return Status::OK();
    const std::string type = StringOr(value, "type", "");
    const std::string kind = StringOr(value, "class", "");
    if (type == "BASE_TABLE") {
      MW_RETURN_IF_ERROR(Table(value));
    } else if (type == "TABLE_FUNCTION") {
      const json& function = value.value("function", json::object());
      const std::string name = text::ToLower(StringOr(function, "function_name", ""));
      if (std::find(kAllowedTableFunctions.begin(), kAllowedTableFunctions.end(), name) ==
          kAllowedTableFunctions.end()) {
        return Refuse(Position(value),
                      "table function {}() is not allowed: a query reads the mesh's data "
                      "products by name, never files or other sources",
                      name);
      }
    } else if (kind == "FUNCTION" || kind == "AGGREGATE" || kind == "WINDOW") {
      const std::string name = text::ToLower(StringOr(value, "function_name", ""));
      const std::string function_schema = text::ToLower(StringOr(value, "schema", ""));
      if ((!function_schema.empty() && function_schema != "pg_catalog") ||
          !StringOr(value, "catalog", "").empty()) {
        return Refuse(Position(value), "function {}.{}() names a schema; call functions by name",
                      StringOr(value, "schema", ""), name);
      }
      for (const std::string_view prefix : kDeniedFunctionPrefixes) {
        if (name.starts_with(prefix)) {
          return Refuse(Position(value),
                        "function {}() is not allowed: it reaches outside the query (files, the "
                        "environment or the engine's settings)",
                        name);
        }
      }
    }
    if (value.contains("cte_map") && value["cte_map"].contains("map")) {
      for (const auto& entry : value["cte_map"]["map"])
        ctes_.insert(text::ToLower(StringOr(entry, "key", "")));
    }
    for (const auto& [key, child] : value.items()) {
      if (child.is_structured()) MW_RETURN_IF_ERROR(Walk(child, depth + 1));
    }
    return Status::OK();
  }

  // CTE names are known only once the whole tree was walked: drop their references then.
  void DropCteReferences() {
    std::erase_if(out_.tables, [&](const TableReference& table) {
      return table.schema.empty() && ctes_.contains(text::ToLower(table.table));
    });
  }

 private:
  template <typename... Args>
  Status Refuse(int64_t position, fmt::format_string<Args...> format, Args&&... args) {
    Status status = Status::InvalidArgument(format, std::forward<Args>(args)...);
    if (position >= 0) status = std::move(status).WithLocation(LocationOf(sql_, position));
    return status;
  }

  Status Table(const json& node) {
    TableReference table;
    table.schema = StringOr(node, "schema_name", "");
    table.table = StringOr(node, "table_name", "");
    table.alias = StringOr(node, "alias", "");
    table.position = Position(node);
    if (!StringOr(node, "catalog_name", "").empty()) {
      const std::string catalog = text::ToLower(StringOr(node, "catalog_name", ""));
      // mesh.domain.port is the mesh's own catalog; nothing else is reachable.
      if (catalog != "mesh") {
        return Refuse(table.position, "catalog '{}' is not the mesh: tables are domain.port",
                      catalog);
      }
    }
    if (node.contains("at_clause") && node["at_clause"].is_object()) {
      const json& at = node["at_clause"];
      table.at_unit = StringOr(at, "unit", "");
      const json& expression = at.value("expr", json::object());
      if (StringOr(expression, "class", "") != "CONSTANT" || !expression.contains("value")) {
        return Refuse(table.position, "AT ({} => ...) takes a literal", table.at_unit);
      }
      const json& literal = expression["value"];
      table.at_value = literal.contains("value")
                           ? (literal["value"].is_string() ? literal["value"].get<std::string>()
                                                           : literal["value"].dump())
                           : "";
    }
    out_.tables.push_back(std::move(table));
    return Status::OK();
  }

  std::string_view sql_;
  CheckedQuery& out_;
  std::set<std::string> ctes_;
};

// The first keyword, skipping whitespace and comments.
std::string_view LeadingKeyword(std::string_view sql, size_t& end) {
  size_t i = 0;
  while (i < sql.size()) {
    if (std::isspace(static_cast<unsigned char>(sql[i]))) {
      ++i;
    } else if (sql.substr(i, 2) == "--") {
      while (i < sql.size() && sql[i] != '\n')
        ++i;
    } else if (sql.substr(i, 2) == "/*") {
      const size_t close = sql.find("*/", i + 2);
      i = close == std::string_view::npos ? sql.size() : close + 2;
    } else {
      break;
    }
  }
  size_t j = i;
  while (j < sql.size() && std::isalpha(static_cast<unsigned char>(sql[j])))
    ++j;
  end = j;
  return sql.substr(i, j - i);
}

}  // namespace

Result<CheckedQuery> CheckQuery(engine::Connection& connection, std::string_view text) {
  if (text.size() > (1u << 20)) {
    return Status::InvalidArgument("the query is {} bytes; at most {} are accepted", text.size(),
                                   1u << 20);
  }
  CheckedQuery out;
  out.sql = std::string(text);
  size_t keyword_end = 0;
  const std::string keyword = text::ToLower(std::string(LeadingKeyword(text, keyword_end)));
  if (keyword == "explain") {
    out.explain = true;
    out.kind = StatementKind::kExplain;
    out.sql = std::string(text.substr(keyword_end));
    size_t next = 0;
    if (text::ToLower(std::string(LeadingKeyword(out.sql, next))) == "analyze") {
      return Status::InvalidArgument("EXPLAIN ANALYZE is not supported; use EXPLAIN");
    }
  }
  MW_ASSIGN_OR_RETURN(auto rows, connection.QueryText("SELECT json_serialize_sql(" +
                                                      iceberg::QuoteString(out.sql) + ")"));
  const json tree = json::parse(rows.at(0).at(0), nullptr, /*allow_exceptions=*/false);
  if (!tree.is_object()) return Status::Internal("the parser answered no syntax tree");
  if (tree.value("error", false)) {
    const std::string type = StringOr(tree, "error_type", "");
    const std::string message = StringOr(tree, "error_message", "");
    if (type == "not implemented") {
      return Status::InvalidArgument(
                 "only one read-only query is accepted (SELECT, WITH, VALUES, EXPLAIN); '{}' "
                 "statements are refused",
                 keyword.empty() ? "this" : keyword)
          .WithHint("data products are changed by deploying them, not by SQL");
    }
    Status status = Status::InvalidArgument("SQL {} error: {}", type, message);
    if (tree.contains("position")) {
      const std::string position = tree["position"].is_string()
                                       ? tree["position"].get<std::string>()
                                       : tree["position"].dump();
      status = std::move(status).WithLocation(
          LocationOf(out.sql, static_cast<int64_t>(std::strtoll(position.c_str(), nullptr, 10))));
    }
    return status;
  }
  if (!tree.contains("statements") || tree["statements"].size() != 1) {
    return Status::InvalidArgument("one statement at a time: {} were given",
                                   tree.contains("statements") ? tree["statements"].size() : 0);
  }
  Checker checker(out.sql, out);
  MW_RETURN_IF_ERROR(checker.Walk(tree["statements"][0], 0));
  checker.DropCteReferences();
  out.tree_json = tree.dump();
  return out;
}

Result<std::string> RenderQuery(engine::Connection& connection, const std::string& tree_json) {
  MW_ASSIGN_OR_RETURN(auto rows, connection.QueryText("SELECT json_deserialize_sql(" +
                                                      iceberg::QuoteString(tree_json) + ")"));
  return rows.at(0).at(0);
}

}  // namespace meshwork::query
