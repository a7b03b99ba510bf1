#include "product/column_lineage.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "common/text.h"
#include "iceberg/json_reader.h"
#include "iceberg/sql_text.h"

namespace meshwork::product {
namespace {

using iceberg::json::StringOr;
using nlohmann::json;

// The columns a relation yields, in order, each with its sources.
using Columns = std::vector<std::pair<std::string, std::set<std::string>>>;

struct Relation {
  std::string input;  // an input of the product: sources are "input.column"
  Columns derived;    // a CTE or subquery: sources as computed
  bool known = false;
};

class Deriver {
 public:
  explicit Deriver(const std::map<std::string, std::vector<std::string>>& inputs) {
    for (const auto& [name, columns] : inputs) {
      std::vector<std::string> lowered;
      for (const auto& column : columns)
        lowered.push_back(text::ToLower(column));
      inputs_[text::ToLower(name)] = lowered;
    }
  }

  Columns Node(const json& node, std::map<std::string, Columns> ctes, int depth = 0) {
    if (!node.is_object() || depth > 64) return {};
    const std::string type = StringOr(node, "type", "");
    if (type == "SET_OPERATION_NODE") {
      // Columns by position: the left side names them, both sides feed them.
      Columns left = Node(node["left"], ctes, depth + 1);
      const Columns right = Node(node["right"], ctes, depth + 1);
      for (size_t i = 0; i < left.size() && i < right.size(); ++i)
        left[i].second.insert(right[i].second.begin(), right[i].second.end());
      return left;
    }
    if (type != "SELECT_NODE") return {};
    if (node.contains("cte_map") && node["cte_map"].contains("map")) {
      for (const auto& entry : node["cte_map"]["map"]) {
        if (!entry.contains("value") || !entry["value"].contains("query")) continue;
        ctes[text::ToLower(StringOr(entry, "key", ""))] =
            Node(entry["value"]["query"]["node"], ctes, depth + 1);
      }
    }
    std::map<std::string, Relation> scope;
    Scope(node.value("from_table", json()), ctes, scope, depth);
    Columns out;
    if (!node.contains("select_list")) return out;
    for (const auto& expression : node["select_list"]) {
      const std::string kind = StringOr(expression, "class", "");
      if (kind == "STAR") {
        const std::string only = text::ToLower(StringOr(expression, "relation_name", ""));
        for (const auto& [alias, relation] : scope) {
          if (!only.empty() && alias != only) continue;
          for (const auto& column : ColumnsOf(relation))
            out.push_back(column);
        }
        continue;
      }
      std::string name = StringOr(expression, "alias", "");
      if (name.empty() && kind == "COLUMN_REF" && expression.contains("column_names") &&
          !expression["column_names"].empty()) {
        name = expression["column_names"].back().get<std::string>();
      }
      std::set<std::string> sources;
      References(expression, scope, sources, 0);
      out.emplace_back(text::ToLower(name), std::move(sources));
    }
    return out;
  }

 private:
  Columns ColumnsOf(const Relation& relation) {
    if (!relation.input.empty()) {
      Columns columns;
      for (const auto& column : inputs_[relation.input])
        columns.emplace_back(column, std::set<std::string>{relation.input + "." + column});
      return columns;
    }
    return relation.derived;
  }

  void Scope(const json& table, const std::map<std::string, Columns>& ctes,
             std::map<std::string, Relation>& scope, int depth) {
    if (!table.is_object()) return;
    const std::string type = StringOr(table, "type", "");
    const std::string alias = text::ToLower(StringOr(table, "alias", ""));
    if (type == "BASE_TABLE") {
      const std::string name = text::ToLower(StringOr(table, "table_name", ""));
      Relation relation;
      if (auto cte = ctes.find(name);
          cte != ctes.end() && StringOr(table, "schema_name", "").empty()) {
        relation.derived = cte->second, relation.known = true;
      } else if (inputs_.contains(name)) {
        relation.input = name, relation.known = true;
      }
      scope[alias.empty() ? name : alias] = relation;
    } else if (type == "JOIN") {
      Scope(table.value("left", json()), ctes, scope, depth);
      Scope(table.value("right", json()), ctes, scope, depth);
    } else if (type == "SUBQUERY" && table.contains("subquery")) {
      Relation relation;
      relation.derived = Node(table["subquery"]["node"], ctes, depth + 1);
      relation.known = true;
      scope[alias] = relation;
    }
  }

  // Every column the expression reads, resolved to its sources.
  void References(const json& value, const std::map<std::string, Relation>& scope,
                  std::set<std::string>& sources, int depth) {
    if (depth > 256) return;
    if (value.is_array()) {
      for (const auto& item : value)
        References(item, scope, sources, depth + 1);
      return;
    }
    if (!value.is_object()) return;
    if (StringOr(value, "class", "") == "COLUMN_REF" && value.contains("column_names")) {
      std::vector<std::string> names;
      for (const auto& part : value["column_names"])
        if (part.is_string()) names.push_back(text::ToLower(part.get<std::string>()));
      if (names.empty()) return;
      const std::string column = names.back();
      for (const auto& [alias, relation] : scope) {
        if (names.size() >= 2 && alias != names[names.size() - 2]) continue;
        for (const auto& [name, from] : ColumnsOf(relation)) {
          if (name == column) sources.insert(from.begin(), from.end());
        }
      }
      return;
    }
    for (const auto& [key, child] : value.items()) {
      // A subquery in an expression reads other relations; its own lineage is not this column's.
      if (key == "subquery") continue;
      References(child, scope, sources, depth + 1);
    }
  }

  std::map<std::string, std::vector<std::string>> inputs_;
};

}  // namespace

Result<ColumnLineage> DeriveColumnLineage(
    engine::Connection& connection, const std::string& sql,
    const std::map<std::string, std::vector<std::string>>& input_columns) {
  MW_ASSIGN_OR_RETURN(auto rows, connection.QueryText("SELECT json_serialize_sql(" +
                                                      iceberg::QuoteString(sql) + ")"));
  if (rows.empty() || rows[0].empty()) return ColumnLineage{};
  const json tree = json::parse(rows[0][0], nullptr, /*allow_exceptions=*/false);
  if (!tree.is_object() || tree.value("error", false) || !tree.contains("statements") ||
      tree["statements"].empty()) {
    return ColumnLineage{};  // not a plain SELECT (the transform itself reports SQL errors)
  }
  Deriver deriver(input_columns);
  ColumnLineage lineage;
  for (const auto& [column, sources] : deriver.Node(tree["statements"][0]["node"], {})) {
    if (column.empty()) continue;
    auto& target = lineage[column];
    target.insert(target.end(), sources.begin(), sources.end());
    std::sort(target.begin(), target.end());
    target.erase(std::unique(target.begin(), target.end()), target.end());
  }
  return lineage;
}

}  // namespace meshwork::product
