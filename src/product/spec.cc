#include "product/spec.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/text.h"
#include "common/yaml_reader.h"
#include "iceberg/ddl_parser.h"

namespace meshwork::product {
namespace {

// Specs are small; a bigger file is a mistake (or an attack on the YAML parser).
constexpr size_t kMaxSpecBytes = 1 << 20;
// yaml-cpp recurses per nesting level: refuse documents nested deeper than any spec needs.
constexpr int kMaxNesting = 64;

bool IsSnakeCase(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (!(name[0] >= 'a' && name[0] <= 'z')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool IsColumnName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!letter(name[0]) && name[0] != '_') return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return letter(c) || (c >= '0' && c <= '9') || c == '_'; });
}

using SpecReader = yaml::Reader;

Status CheckName(const SpecReader& reader, const YAML::Node& node, std::string_view what,
                 const std::string& name) {
  if (IsSnakeCase(name)) return Status::OK();
  return reader.Error(node, "{} '{}' is not a valid name", what, name)
      .WithHint("use 1 to 63 lower-case letters, digits and '_', starting with a letter");
}

Result<Owner> ReadOwner(const SpecReader& reader, const YAML::Node& root) {
  const YAML::Node node = root["owner"];
  if (!node.IsDefined() || node.IsNull()) {
    return reader.Error(root, "the spec is missing 'owner'")
        .WithHint("add owner: {team: ..., email: ...}: every product has an accountable owner");
  }
  MW_RETURN_IF_ERROR(reader.CheckMap(node, "'owner'", {"team", "email"}));
  Owner owner;
  MW_ASSIGN_OR_RETURN(owner.team, reader.RequiredString(node, "team", "'owner'"));
  MW_ASSIGN_OR_RETURN(owner.email, reader.OptionalString(node, "email"));
  if (!owner.email.empty() &&
      (owner.email.find('@') == std::string::npos || owner.email.find(' ') != std::string::npos)) {
    return reader.Error(node["email"], "'{}' is not an e-mail address", owner.email);
  }
  return owner;
}

Result<std::vector<Input>> ReadInputs(const SpecReader& reader, const YAML::Node& root) {
  std::vector<Input> inputs;
  MW_ASSIGN_OR_RETURN(YAML::Node list, reader.OptionalSequence(root, "inputs"));
  std::set<std::string> names;
  for (const YAML::Node& node : list) {
    MW_RETURN_IF_ERROR(
        reader.CheckMap(node, "an input", {"name", "file", "format", "options", "port", "major"}));
    Input input;
    input.where = reader.At(node);
    MW_ASSIGN_OR_RETURN(input.name, reader.RequiredString(node, "name", "an input"));
    MW_RETURN_IF_ERROR(CheckName(reader, node["name"], "input name", input.name));
    if (!names.insert(input.name).second) {
      return reader.Error(node["name"], "two inputs are named '{}'", input.name);
    }
    MW_ASSIGN_OR_RETURN(input.file, reader.OptionalString(node, "file"));
    MW_ASSIGN_OR_RETURN(std::string port, reader.OptionalString(node, "port"));
    if (input.file.empty() == port.empty()) {
      return reader.Error(node, "input '{}' needs exactly one of 'file' or 'port'", input.name)
          .WithHint("file: data/orders.csv (in the product folder), or port: customers.customers");
    }
    if (!input.file.empty()) {
      if (node["major"].IsDefined() && !node["major"].IsNull()) {
        return reader.Error(node["major"], "'major' is for port inputs, not files");
      }
      const std::filesystem::path path(input.file);
      if (path.is_absolute() || input.file.find("..") != std::string::npos) {
        return reader.Error(node["file"],
                            "input file '{}' must be a path inside the product folder", input.file);
      }
      MW_ASSIGN_OR_RETURN(input.format, reader.OptionalString(node, "format"));
      if (input.format.empty()) {
        const std::string extension = path.extension().string();
        input.format = extension == ".csv"                              ? "csv"
                       : extension == ".json" || extension == ".ndjson" ? "json"
                       : extension == ".parquet"                        ? "parquet"
                                                                        : "";
        if (input.format.empty()) {
          return reader.Error(node["file"], "cannot tell the format of input file '{}'", input.file)
              .WithHint("add format: csv, json or parquet");
        }
      } else if (input.format != "csv" && input.format != "json" && input.format != "parquet") {
        return reader.Error(node["format"], "format '{}' is not one of csv, json, parquet",
                            input.format);
      }
      const YAML::Node options = node["options"];
      if (options.IsDefined() && !options.IsNull()) {
        if (!options.IsMap()) return reader.Error(options, "'options' must be a mapping");
        for (auto it = options.begin(); it != options.end(); ++it) {
          MW_ASSIGN_OR_RETURN(std::string key, reader.String(it->first, "an option name"));
          if (!IsSnakeCase(key)) {
            return reader.Error(it->first, "option name '{}' is not a valid name", key);
          }
          MW_ASSIGN_OR_RETURN(std::string value,
                              reader.String(it->second, fmt::format("option '{}'", key)));
          input.options[key] = value;
        }
      }
    } else {
      const auto present = [&](const char* key) {
        return node[key].IsDefined() && !node[key].IsNull();
      };
      if (present("options") || present("format")) {
        return reader.Error(node, "input '{}' reads a port: 'format' and 'options' are for files",
                            input.name);
      }
      const size_t dot = port.find('.');
      input.product_domain = port.substr(0, dot);
      input.product_port = dot == std::string::npos ? "" : port.substr(dot + 1);
      if (dot == std::string::npos || !IsSnakeCase(input.product_domain) ||
          !IsSnakeCase(input.product_port)) {
        return reader.Error(node["port"], "port '{}' is not of the form domain.port", port);
      }
      MW_ASSIGN_OR_RETURN(auto major, reader.OptionalNumber(node, "major"));
      if (major) {
        if (*major < 1 || *major != static_cast<int>(*major)) {
          return reader.Error(node["major"], "'major' must be a whole number from 1");
        }
        input.major = static_cast<int>(*major);
      }
    }
    inputs.push_back(std::move(input));
  }
  return inputs;
}

Result<Transform> ReadTransform(const SpecReader& reader, const YAML::Node& root) {
  const YAML::Node node = root["transform"];
  if (!node.IsDefined() || node.IsNull()) {
    return reader.Error(root, "the spec is missing 'transform'")
        .WithHint("add transform: {sql_file: transform.sql}");
  }
  MW_RETURN_IF_ERROR(reader.CheckMap(node, "'transform'",
                                     {"sql", "sql_file", "dialect", "mode", "watermark", "keys"}));
  Transform transform;
  transform.where = reader.At(node);
  MW_ASSIGN_OR_RETURN(transform.sql, reader.OptionalString(node, "sql"));
  MW_ASSIGN_OR_RETURN(transform.sql_file, reader.OptionalString(node, "sql_file"));
  if (transform.sql.empty() == transform.sql_file.empty()) {
    return reader.Error(node, "'transform' needs exactly one of 'sql' or 'sql_file'");
  }
  if (!transform.sql.empty()) {
    transform.sql_where = reader.At(node["sql"]);
    // A block scalar (sql: |) is marked at its indicator; its text starts on the next line.
    if (transform.sql.find('\n') != std::string::npos) {
      transform.sql_where.line += 1;
      transform.sql_where.column = 1;
    }
  } else {
    const std::filesystem::path path(transform.sql_file);
    if (path.is_absolute() || transform.sql_file.find("..") != std::string::npos) {
      return reader.Error(node["sql_file"], "'{}' must be a path inside the product folder",
                          transform.sql_file);
    }
    transform.sql_where = {transform.sql_file, 1, 1};
  }
  MW_ASSIGN_OR_RETURN(transform.dialect, reader.OptionalString(node, "dialect"));
  if (transform.dialect.empty()) transform.dialect = "duckdb";
  if (transform.dialect != "duckdb") {
    return reader.Error(node["dialect"], "dialect '{}' is not supported", transform.dialect)
        .WithHint("transforms run in DuckDB: dialect: duckdb");
  }
  MW_ASSIGN_OR_RETURN(std::string mode, reader.OptionalString(node, "mode"));
  if (mode.empty() || mode == "full") {
    transform.mode = TransformMode::kFull;
  } else if (mode == "append") {
    transform.mode = TransformMode::kAppend;
  } else if (mode == "merge") {
    transform.mode = TransformMode::kMerge;
  } else {
    return reader.Error(node["mode"], "mode '{}' is not one of full, append, merge", mode);
  }
  MW_ASSIGN_OR_RETURN(transform.watermark, reader.OptionalString(node, "watermark"));
  MW_ASSIGN_OR_RETURN(transform.keys, reader.StringList(node, "keys"));
  if (transform.mode == TransformMode::kAppend && transform.watermark.empty()) {
    return reader.Error(node, "mode append needs a 'watermark' column")
        .WithHint("the watermark is the column whose maximum marks what was loaded, e.g. event_ts");
  }
  if (transform.mode == TransformMode::kMerge && transform.keys.empty()) {
    return reader.Error(node, "mode merge needs 'keys': the columns that identify a row");
  }
  if (transform.mode != TransformMode::kAppend && !transform.watermark.empty()) {
    return reader.Error(node["watermark"], "'watermark' is only for mode append");
  }
  if (transform.mode != TransformMode::kMerge && !transform.keys.empty()) {
    return reader.Error(node["keys"], "'keys' is only for mode merge");
  }
  return transform;
}

Result<Column> ReadColumn(const SpecReader& reader, const YAML::Node& node) {
  MW_RETURN_IF_ERROR(reader.CheckMap(node, "a column",
                                     {"name", "type", "nullable", "description", "classification",
                                      "semantic_type", "primary_key"}));
  Column column;
  column.where = reader.At(node);
  MW_ASSIGN_OR_RETURN(column.name, reader.RequiredString(node, "name", "a column"));
  if (!IsColumnName(column.name)) {
    return reader.Error(node["name"], "column name '{}' is not a valid name", column.name)
        .WithHint("use letters, digits and '_', starting with a letter or '_'");
  }
  MW_ASSIGN_OR_RETURN(column.type,
                      reader.RequiredString(node, "type", fmt::format("column '{}'", column.name)));
  auto parsed = iceberg::ParseColumnList(column.name + " " + column.type);
  // The type alone: nothing that adds columns or constraints ("long, x int", "long not null").
  if (parsed.ok() && (parsed->fields().size() != 1 || parsed->fields()[0].required)) {
    parsed = Status::InvalidArgument("a type names one type; use 'nullable: false' for NOT NULL");
  }
  if (!parsed.ok()) {
    return reader
        .Error(node["type"], "column '{}': '{}' is not an Iceberg type ({})", column.name,
               column.type, parsed.error().message())
        .WithHint("e.g. long, string, decimal(12,2), timestamptz, uuid, list<string>");
  }
  MW_ASSIGN_OR_RETURN(column.primary_key, reader.OptionalBool(node, "primary_key", false));
  // A key column cannot be null; say so only when the spec claims otherwise.
  MW_ASSIGN_OR_RETURN(column.nullable, reader.OptionalBool(node, "nullable", !column.primary_key));
  if (column.primary_key && column.nullable) {
    return reader.Error(node["nullable"], "primary key column '{}' cannot be nullable",
                        column.name);
  }
  MW_ASSIGN_OR_RETURN(column.description, reader.OptionalString(node, "description"));
  MW_ASSIGN_OR_RETURN(column.classification, reader.OptionalString(node, "classification"));
  if (!column.classification.empty()) {
    const bool valid =
        std::all_of(column.classification.begin(), column.classification.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
        });
    if (!valid) {
      return reader
          .Error(node["classification"], "classification '{}' is not a valid tag",
                 column.classification)
          .WithHint("use dotted lower-case tags: pii.email, pii.credit_card, confidential");
    }
  }
  MW_ASSIGN_OR_RETURN(column.semantic_type, reader.OptionalString(node, "semantic_type"));
  return column;
}

Result<Port> ReadPort(const SpecReader& reader, const YAML::Node& node) {
  MW_RETURN_IF_ERROR(reader.CheckMap(
      node, "a port",
      {"name", "description", "columns", "partitioning", "sort", "sql", "sql_file"}));
  Port port;
  port.where = reader.At(node);
  MW_ASSIGN_OR_RETURN(port.name, reader.RequiredString(node, "name", "a port"));
  MW_RETURN_IF_ERROR(CheckName(reader, node["name"], "port name", port.name));
  MW_ASSIGN_OR_RETURN(port.description, reader.OptionalString(node, "description"));
  const YAML::Node columns = node["columns"];
  if (!columns.IsDefined() || !columns.IsSequence() || columns.size() == 0) {
    return reader
        .Error(columns.IsDefined() ? columns : node, "port '{}' needs 'columns': a non-empty list",
               port.name)
        .WithHint("columns: [{name: id, type: long, nullable: false, description: ...}]");
  }
  std::set<std::string> seen;
  std::string column_list;
  for (const YAML::Node& item : columns) {
    MW_ASSIGN_OR_RETURN(Column column, ReadColumn(reader, item));
    std::string lower = column.name;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (!seen.insert(lower).second) {
      return reader.Error(item["name"], "port '{}' has two columns named '{}'", port.name,
                          column.name);
    }
    if (!column_list.empty()) column_list += ", ";
    column_list += column.name + " " + column.type + (column.nullable ? "" : " not null");
    port.columns.push_back(std::move(column));
  }
  MW_ASSIGN_OR_RETURN(iceberg::Schema schema, iceberg::ParseColumnList(column_list));
  // Docs and the primary key travel into the Iceberg schema, so every engine sees them.
  std::vector<iceberg::NestedField> fields = schema.fields();
  std::vector<int32_t> identifiers;
  for (size_t i = 0; i < fields.size(); ++i) {
    fields[i].doc = port.columns[i].description;
    if (port.columns[i].primary_key) identifiers.push_back(fields[i].id);
  }
  auto keyed = iceberg::Schema::Make(0, std::move(fields), identifiers);
  if (!keyed.ok()) {
    return reader.Error(node["columns"], "port '{}': {}", port.name, keyed.error().message());
  }
  port.schema = std::move(*keyed);
  MW_ASSIGN_OR_RETURN(port.partitioning, reader.OptionalString(node, "partitioning"));
  if (!port.partitioning.empty()) {
    auto spec = iceberg::ParsePartitionExpression(port.partitioning, *port.schema);
    if (!spec.ok()) {
      return reader.Error(node["partitioning"], "port '{}': partitioning '{}': {}", port.name,
                          port.partitioning, spec.error().message());
    }
  }
  MW_ASSIGN_OR_RETURN(port.sql, reader.OptionalString(node, "sql"));
  MW_ASSIGN_OR_RETURN(port.sql_file, reader.OptionalString(node, "sql_file"));
  if (!port.sql.empty() && !port.sql_file.empty()) {
    return reader.Error(node, "port '{}' takes 'sql' or 'sql_file', not both", port.name);
  }
  if (!port.sql.empty()) {
    port.sql_where = reader.At(node["sql"]);
    if (port.sql.find('\n') != std::string::npos)
      port.sql_where.line += 1, port.sql_where.column = 1;
  }
  if (!port.sql_file.empty()) {
    const std::filesystem::path path(port.sql_file);
    if (path.is_absolute() || port.sql_file.find("..") != std::string::npos) {
      return reader.Error(node["sql_file"], "'{}' must be a path inside the product folder",
                          port.sql_file);
    }
    port.sql_where = {port.sql_file, 1, 1};
  }
  MW_ASSIGN_OR_RETURN(port.sort, reader.OptionalString(node, "sort"));
  if (!port.sort.empty()) {
    auto order = iceberg::ParseSortOrder(port.sort, *port.schema);
    if (!order.ok()) {
      return reader.Error(node["sort"], "port '{}': sort '{}': {}", port.name, port.sort,
                          order.error().message());
    }
  }
  return port;
}

const std::vector<std::string_view> kRuleKinds = {"not_null",  "unique",     "accepted_values",
                                                  "range",     "regex",      "row_count",
                                                  "freshness", "references", "sql"};

Result<QualityRule> ReadRule(const SpecReader& reader, const YAML::Node& node,
                             const std::vector<Port>& ports) {
  MW_RETURN_IF_ERROR(
      reader.CheckMap(node, "a quality rule",
                      {"rule", "name", "port", "column", "columns", "severity", "values", "min",
                       "max", "pattern", "max_age", "reference", "sql", "description"}));
  QualityRule rule;
  rule.where = reader.At(node);
  MW_ASSIGN_OR_RETURN(rule.rule, reader.RequiredString(node, "rule", "a quality rule"));
  if (std::find(kRuleKinds.begin(), kRuleKinds.end(), rule.rule) == kRuleKinds.end()) {
    auto status = reader.Error(node["rule"], "unknown quality rule '{}'", rule.rule);
    const std::string closest = text::ClosestMatch(rule.rule, kRuleKinds);
    return closest.empty()
               ? std::move(status).WithHint(
                     "rules: not_null, unique, accepted_values, range, regex, row_count, "
                     "freshness, references, sql")
               : std::move(status).WithHint(fmt::format("did you mean '{}'?", closest));
  }
  MW_ASSIGN_OR_RETURN(rule.port, reader.OptionalString(node, "port"));
  const Port* port = nullptr;
  if (rule.port.empty()) {
    if (ports.size() != 1) {
      return reader.Error(node, "rule '{}' must name its 'port' (the product has {} ports)",
                          rule.rule, ports.size());
    }
    port = &ports[0];
    rule.port = port->name;
  } else {
    for (const Port& candidate : ports)
      if (candidate.name == rule.port) port = &candidate;
    if (port == nullptr) return reader.Error(node["port"], "no port named '{}'", rule.port);
  }
  MW_ASSIGN_OR_RETURN(std::string column, reader.OptionalString(node, "column"));
  MW_ASSIGN_OR_RETURN(rule.columns, reader.StringList(node, "columns"));
  if (!column.empty()) {
    if (!rule.columns.empty()) {
      return reader.Error(node, "a rule takes 'column' or 'columns', not both");
    }
    rule.columns.push_back(column);
  }
  for (const std::string& name : rule.columns) {
    if (port->FindColumn(name) == nullptr) {
      const YAML::Node at = node["column"].IsDefined() ? node["column"] : node["columns"];
      return reader.Error(at, "rule '{}': port '{}' has no column '{}'", rule.rule, port->name,
                          name);
    }
  }
  MW_ASSIGN_OR_RETURN(std::string severity, reader.OptionalString(node, "severity"));
  if (severity.empty() || severity == "error") {
    rule.severity = Severity::kError;
  } else if (severity == "warn" || severity == "warning") {
    rule.severity = Severity::kWarn;
  } else {
    return reader.Error(node["severity"], "severity '{}' is not error or warn", severity);
  }
  MW_ASSIGN_OR_RETURN(rule.values, reader.StringList(node, "values"));
  MW_ASSIGN_OR_RETURN(rule.min, reader.OptionalNumber(node, "min"));
  MW_ASSIGN_OR_RETURN(rule.max, reader.OptionalNumber(node, "max"));
  MW_ASSIGN_OR_RETURN(rule.pattern, reader.OptionalString(node, "pattern"));
  MW_ASSIGN_OR_RETURN(rule.max_age, reader.OptionalString(node, "max_age"));
  MW_ASSIGN_OR_RETURN(rule.reference, reader.OptionalString(node, "reference"));
  MW_ASSIGN_OR_RETURN(rule.sql, reader.OptionalString(node, "sql"));
  MW_ASSIGN_OR_RETURN(rule.description, reader.OptionalString(node, "description"));

  // Keys that belong to another kind of rule are mistakes, not options.
  static const std::map<std::string, std::vector<std::string>> kKindKeys = {
      {"not_null", {}},
      {"unique", {}},
      {"accepted_values", {"values"}},
      {"range", {"min", "max"}},
      {"regex", {"pattern"}},
      {"row_count", {"min", "max"}},
      {"freshness", {"max_age"}},
      {"references", {"reference"}},
      {"sql", {"sql"}}};
  for (const char* key : {"values", "min", "max", "pattern", "max_age", "reference", "sql"}) {
    const auto& allowed = kKindKeys.at(rule.rule);
    if (node[key].IsDefined() && std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return reader.Error(node[key], "'{}' does not apply to rule {}", key, rule.rule);
    }
  }
  if (rule.rule == "row_count" && !rule.columns.empty()) {
    return reader.Error(node, "rule row_count counts rows; it takes no columns");
  }
  const auto need_columns = [&](size_t count) -> Status {
    if (rule.columns.size() == count || (count == 0 && !rule.columns.empty())) {
      return Status::OK();
    }
    return reader.Error(node, "rule '{}' needs {}", rule.rule,
                        count == 1 ? "one 'column'" : "'columns' (one or more)");
  };
  if (rule.rule == "not_null" || rule.rule == "unique") {
    MW_RETURN_IF_ERROR(need_columns(0));
  } else if (rule.rule == "accepted_values") {
    MW_RETURN_IF_ERROR(need_columns(1));
    if (rule.values.empty()) return reader.Error(node, "rule accepted_values needs 'values'");
  } else if (rule.rule == "range") {
    MW_RETURN_IF_ERROR(need_columns(1));
    if (!rule.min && !rule.max) return reader.Error(node, "rule range needs 'min', 'max' or both");
  } else if (rule.rule == "regex") {
    MW_RETURN_IF_ERROR(need_columns(1));
    if (rule.pattern.empty()) return reader.Error(node, "rule regex needs a 'pattern'");
  } else if (rule.rule == "row_count") {
    if (!rule.min && !rule.max) {
      return reader.Error(node, "rule row_count needs 'min', 'max' or both");
    }
  } else if (rule.rule == "freshness") {
    MW_RETURN_IF_ERROR(need_columns(1));
    if (rule.max_age.empty()) return reader.Error(node, "rule freshness needs 'max_age'");
    auto seconds = ParseDurationSeconds(rule.max_age);
    if (!seconds.ok()) return reader.Error(node["max_age"], "{}", seconds.error().message());
  } else if (rule.rule == "references") {
    MW_RETURN_IF_ERROR(need_columns(1));
    const size_t dots = std::count(rule.reference.begin(), rule.reference.end(), '.');
    const size_t first = rule.reference.find('.'), last = rule.reference.rfind('.');
    if (dots != 2 || !IsSnakeCase(rule.reference.substr(0, first)) ||
        !IsSnakeCase(rule.reference.substr(first + 1, last - first - 1)) ||
        !IsColumnName(rule.reference.substr(last + 1))) {
      return reader.Error(node["reference"].IsDefined() ? node["reference"] : node,
                          "rule references needs 'reference: domain.port.column'");
    }
  } else if (rule.rule == "sql") {
    if (rule.sql.empty()) {
      return reader.Error(node, "rule sql needs 'sql': a query returning the failing rows");
    }
  }
  MW_ASSIGN_OR_RETURN(rule.name, reader.OptionalString(node, "name"));
  if (rule.name.empty()) {
    rule.name = rule.rule;
    if (!rule.columns.empty()) {
      rule.name += "(";
      for (size_t i = 0; i < rule.columns.size(); ++i)
        rule.name += (i ? ", " : "") + rule.columns[i];
      rule.name += ")";
    }
    if (ports.size() > 1) rule.name = rule.port + "." + rule.name;
  }
  return rule;
}

Result<Sla> ReadSla(const SpecReader& reader, const YAML::Node& root) {
  Sla sla;
  const YAML::Node node = root["sla"];
  if (!node.IsDefined() || node.IsNull()) return sla;
  MW_RETURN_IF_ERROR(
      reader.CheckMap(node, "'sla'", {"freshness", "schedule", "availability", "support"}));
  MW_ASSIGN_OR_RETURN(sla.freshness, reader.OptionalString(node, "freshness"));
  if (!sla.freshness.empty()) {
    auto seconds = ParseDurationSeconds(sla.freshness);
    if (!seconds.ok()) return reader.Error(node["freshness"], "{}", seconds.error().message());
  }
  MW_ASSIGN_OR_RETURN(sla.schedule, reader.OptionalString(node, "schedule"));
  if (!sla.schedule.empty()) {
    Status cron = ValidateCron(sla.schedule);
    if (!cron.ok()) return reader.Error(node["schedule"], "{}", cron.message());
  }
  MW_ASSIGN_OR_RETURN(sla.availability, reader.OptionalNumber(node, "availability"));
  if (sla.availability && (*sla.availability <= 0 || *sla.availability > 100)) {
    return reader.Error(node["availability"],
                        "'availability' is a percentage: above 0, at most 100");
  }
  MW_ASSIGN_OR_RETURN(sla.support, reader.OptionalString(node, "support"));
  return sla;
}

Result<DataProductSpec> ReadSpec(const SpecReader& reader, const YAML::Node& root) {
  MW_RETURN_IF_ERROR(reader.CheckMap(
      root, "the spec",
      {"apiVersion", "kind", "domain", "name", "version", "title", "description", "owner", "tags",
       "glossary", "inputs", "transform", "ports", "quality", "sla", "sample_queries", "links"}));
  DataProductSpec spec;
  MW_ASSIGN_OR_RETURN(std::string api_version,
                      reader.RequiredString(root, "apiVersion", "the spec"));
  if (api_version != "meshwork/v1") {
    return reader.Error(root["apiVersion"], "apiVersion '{}' is not supported", api_version)
        .WithHint("this meshwork reads apiVersion: meshwork/v1");
  }
  MW_ASSIGN_OR_RETURN(std::string kind, reader.RequiredString(root, "kind", "the spec"));
  if (kind != "DataProduct") {
    return reader.Error(root["kind"], "kind '{}' is not DataProduct", kind);
  }
  MW_ASSIGN_OR_RETURN(spec.domain, reader.RequiredString(root, "domain", "the spec"));
  MW_RETURN_IF_ERROR(CheckName(reader, root["domain"], "domain", spec.domain));
  MW_ASSIGN_OR_RETURN(spec.name, reader.RequiredString(root, "name", "the spec"));
  MW_RETURN_IF_ERROR(CheckName(reader, root["name"], "product name", spec.name));
  MW_ASSIGN_OR_RETURN(std::string version, reader.RequiredString(root, "version", "the spec"));
  auto parsed_version = SemanticVersion::Parse(version);
  if (!parsed_version.ok()) {
    return reader.Error(root["version"], "{}", parsed_version.error().message())
        .WithHint("versions are MAJOR.MINOR.PATCH, e.g. 1.0.0");
  }
  spec.version = *parsed_version;
  MW_ASSIGN_OR_RETURN(spec.title, reader.OptionalString(root, "title"));
  MW_ASSIGN_OR_RETURN(spec.description, reader.OptionalString(root, "description"));
  MW_ASSIGN_OR_RETURN(spec.owner, ReadOwner(reader, root));
  MW_ASSIGN_OR_RETURN(spec.tags, reader.StringList(root, "tags"));
  MW_ASSIGN_OR_RETURN(spec.glossary, reader.StringList(root, "glossary"));
  MW_ASSIGN_OR_RETURN(spec.inputs, ReadInputs(reader, root));
  MW_ASSIGN_OR_RETURN(spec.transform, ReadTransform(reader, root));

  const YAML::Node ports = root["ports"];
  if (!ports.IsDefined() || !ports.IsSequence() || ports.size() == 0) {
    return reader
        .Error(ports.IsDefined() ? ports : root,
               "the spec needs 'ports': a non-empty list of output ports")
        .WithHint(fmt::format("the primary port is usually named like the product: - name: {}",
                              spec.name));
  }
  std::set<std::string> port_names;
  for (const YAML::Node& node : ports) {
    MW_ASSIGN_OR_RETURN(Port port, ReadPort(reader, node));
    if (!port_names.insert(port.name).second) {
      return reader.Error(node["name"], "two ports are named '{}'", port.name);
    }
    const bool own_sql = !port.sql.empty() || !port.sql_file.empty();
    if (spec.ports.empty() && own_sql) {
      return reader.Error(node,
                          "the first port '{}' is computed by 'transform'; only further "
                          "ports take 'sql' or 'sql_file'",
                          port.name);
    }
    if (!spec.ports.empty() && !own_sql) {
      return reader
          .Error(node, "port '{}' needs 'sql' or 'sql_file': how it is computed from the inputs",
                 port.name)
          .WithHint("the transform computes the first port; every further port has SQL of its own");
    }
    spec.ports.push_back(std::move(port));
  }
  for (const std::string& key : spec.transform.keys) {
    for (const Port& port : spec.ports) {
      if (port.FindColumn(key) == nullptr) {
        return reader.Error(root["transform"]["keys"],
                            "merge key '{}' is not a column of port '{}'", key, port.name);
      }
    }
  }
  if (!spec.transform.watermark.empty()) {
    for (const Port& port : spec.ports) {
      if (port.FindColumn(spec.transform.watermark) == nullptr) {
        return reader.Error(root["transform"]["watermark"],
                            "watermark '{}' is not a column of port '{}'", spec.transform.watermark,
                            port.name);
      }
    }
  }
  MW_ASSIGN_OR_RETURN(YAML::Node quality, reader.OptionalSequence(root, "quality"));
  std::set<std::string> rule_names;
  for (const YAML::Node& node : quality) {
    MW_ASSIGN_OR_RETURN(QualityRule rule, ReadRule(reader, node, spec.ports));
    if (!rule_names.insert(rule.name).second) {
      return reader.Error(node, "two quality rules are named '{}'", rule.name)
          .WithHint("give one of them a 'name'");
    }
    spec.quality.push_back(std::move(rule));
  }
  MW_ASSIGN_OR_RETURN(spec.sla, ReadSla(reader, root));
  MW_ASSIGN_OR_RETURN(YAML::Node samples, reader.OptionalSequence(root, "sample_queries"));
  for (const YAML::Node& node : samples) {
    MW_RETURN_IF_ERROR(reader.CheckMap(node, "a sample query", {"title", "sql"}));
    SampleQuery sample;
    MW_ASSIGN_OR_RETURN(sample.title, reader.OptionalString(node, "title"));
    MW_ASSIGN_OR_RETURN(sample.sql, reader.RequiredString(node, "sql", "a sample query"));
    spec.sample_queries.push_back(std::move(sample));
  }
  MW_ASSIGN_OR_RETURN(YAML::Node links, reader.OptionalSequence(root, "links"));
  for (const YAML::Node& node : links) {
    MW_RETURN_IF_ERROR(reader.CheckMap(node, "a link", {"title", "url"}));
    Link link;
    MW_ASSIGN_OR_RETURN(link.title, reader.OptionalString(node, "title"));
    MW_ASSIGN_OR_RETURN(link.url, reader.RequiredString(node, "url", "a link"));
    spec.links.push_back(std::move(link));
  }
  return spec;
}

// One cron field: '*', numbers, ranges a-b, steps */n or a-b/n, lists of those.
Status CheckCronField(std::string_view field, int low, int high, std::string_view name) {
  if (field.empty()) return Status::InvalidArgument("cron {} field is empty", name);
  size_t start = 0;
  while (start <= field.size()) {
    size_t comma = field.find(',', start);
    if (comma == std::string_view::npos) comma = field.size();
    std::string_view part = field.substr(start, comma - start);
    const auto bad = [&]() {
      return Status::InvalidArgument("cron {} field '{}' is not valid (values {}-{})", name, field,
                                     low, high);
    };
    if (part.empty()) return bad();
    std::string_view range = part;
    const size_t slash = part.find('/');
    if (slash != std::string_view::npos) {
      range = part.substr(0, slash);
      const std::string_view step = part.substr(slash + 1);
      int value = 0;
      const auto [end, error] = std::from_chars(step.data(), step.data() + step.size(), value);
      if (error != std::errc() || end != step.data() + step.size() || value < 1) return bad();
    }
    if (range != "*") {
      const size_t dash = range.find('-');
      const auto number = [&](std::string_view text, int& out) {
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
        return error == std::errc() && end == text.data() + text.size() && out >= low &&
               out <= high;
      };
      int first = 0, last = 0;
      if (dash == std::string_view::npos) {
        if (!number(range, first)) return bad();
      } else if (!number(range.substr(0, dash), first) || !number(range.substr(dash + 1), last) ||
                 last < first) {
        return bad();
      }
    }
    start = comma + 1;
  }
  return Status::OK();
}

}  // namespace

Result<SemanticVersion> SemanticVersion::Parse(std::string_view text) {
  SemanticVersion version;
  int* parts[] = {&version.major, &version.minor, &version.patch};
  size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    size_t end = i < 2 ? text.find('.', start) : text.size();
    if (end == std::string_view::npos) end = text.size();
    const std::string_view part = text.substr(start, end - start);
    if (part.find_first_not_of("0123456789") != std::string_view::npos) {
      return Status::InvalidArgument("'{}' is not a semantic version", std::string(text));
    }
    const auto [stop, error] = std::from_chars(part.data(), part.data() + part.size(), *parts[i]);
    if (part.empty() || error != std::errc() || stop != part.data() + part.size() ||
        *parts[i] < 0 || (part.size() > 1 && part[0] == '0') || (i < 2 && end == text.size())) {
      return Status::InvalidArgument("'{}' is not a semantic version", std::string(text));
    }
    start = end + 1;
  }
  if (version.major < 1) {
    return Status::InvalidArgument("version '{}': the major version starts at 1",
                                   std::string(text));
  }
  return version;
}

std::string SemanticVersion::ToString() const {
  return fmt::format("{}.{}.{}", major, minor, patch);
}

const Column* Port::FindColumn(std::string_view column) const {
  for (const Column& candidate : columns) {
    if (candidate.name == column) return &candidate;
  }
  return nullptr;
}

std::vector<std::string> Port::PrimaryKey() const {
  std::vector<std::string> key;
  for (const Column& column : columns)
    if (column.primary_key) key.push_back(column.name);
  return key;
}

const Port* DataProductSpec::FindPort(std::string_view port) const {
  for (const Port& candidate : ports)
    if (candidate.name == port) return &candidate;
  return nullptr;
}

Result<DataProductSpec> ParseSpec(std::string_view text, const std::string& file) {
  if (text.size() > kMaxSpecBytes) {
    return Status::InvalidArgument("{} is {} bytes; a spec may have at most {}", file, text.size(),
                                   kMaxSpecBytes);
  }
  MW_ASSIGN_OR_RETURN(YAML::Node root, yaml::LoadDocument(text, file, kMaxNesting));
  if (root.IsNull()) {
    return Status::InvalidArgument("{} is empty", file)
        .WithHint("start from `meshwork product init DOMAIN/NAME`");
  }
  SpecReader reader(file);
  try {
    MW_ASSIGN_OR_RETURN(DataProductSpec spec, ReadSpec(reader, root));
    spec.file = file;
    spec.source_text = std::string(text);
    return spec;
  } catch (const YAML::Exception& error) {
    // yaml-cpp throws on some shapes (a key that is itself a collection, ...): still the user's.
    return Status::InvalidArgument("unexpected YAML structure: {}", error.msg)
        .WithLocation({file, error.mark.line + 1, error.mark.column + 1});
  }
}

Result<DataProductSpec> LoadSpec(const std::string& folder) {
  namespace fs = std::filesystem;
  const fs::path base(folder);
  const fs::path spec_path = base / "dataproduct.yaml";
  const auto read = [](const fs::path& path) -> Result<std::string> {
    std::error_code error;
    if (!fs::is_regular_file(path, error)) {
      return Status::NotFound("{} does not exist or is not a file", path.string());
    }
    if (fs::file_size(path, error) > kMaxSpecBytes * 4) {
      return Status::InvalidArgument("{} is too big for a spec file", path.string());
    }
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    if (!in.good() && !in.eof()) return Status::IOError("cannot read {}", path.string());
    return buffer.str();
  };
  auto text = read(spec_path);
  if (!text.ok()) {
    return std::move(text).error().WithHint(
        "a product folder holds dataproduct.yaml; create one with `meshwork product init "
        "DOMAIN/NAME`");
  }
  MW_ASSIGN_OR_RETURN(DataProductSpec spec, ParseSpec(*text, spec_path.string()));
  spec.folder = base.string();
  // A SQL file must resolve inside the folder (no symlink escapes either).
  const auto load_sql = [&](const std::string& relative, const char* what,
                            const SourceLocation& where, std::string& sql,
                            SourceLocation& sql_where) -> Status {
    const fs::path sql_path = base / relative;
    std::error_code error;
    const fs::path real_base = fs::weakly_canonical(base, error);
    if (!fs::weakly_canonical(sql_path, error).string().starts_with(real_base.string() + "/")) {
      return Status::InvalidArgument("{} sql_file '{}' leaves the product folder", what, relative)
          .WithLocation(where);
    }
    auto text = read(sql_path);
    if (!text.ok()) return std::move(text).error().WithLocation(where);
    sql = std::move(*text);
    sql_where = {sql_path.string(), 1, 1};
    return Status::OK();
  };
  if (!spec.transform.sql_file.empty()) {
    MW_RETURN_IF_ERROR(load_sql(spec.transform.sql_file, "transform", spec.transform.where,
                                spec.transform.sql, spec.transform.sql_where));
  }
  for (Port& port : spec.ports) {
    if (port.sql_file.empty()) continue;
    MW_RETURN_IF_ERROR(load_sql(port.sql_file, "port", port.where, port.sql, port.sql_where));
  }
  return spec;
}

Status ValidateProductName(std::string_view what, std::string_view name) {
  if (IsSnakeCase(name)) return Status::OK();
  return Status::InvalidArgument("{} '{}' is not a valid name", what, std::string(name))
      .WithHint("use 1 to 63 lower-case letters, digits and '_', starting with a letter");
}

std::string PortTableName(std::string_view port, int major) {
  return major <= 1 ? std::string(port) : fmt::format("{}_v{}", port, major);
}

Result<int64_t> ParseDurationSeconds(std::string_view text) {
  const auto bad = [&]() {
    return Status::InvalidArgument("'{}' is not a duration", std::string(text))
        .WithHint("write a number and a unit: 30m, 6h, 1d, 2w");
  };
  if (text.size() < 2) return bad();
  int64_t value = 0;
  const std::string_view number = text.substr(0, text.size() - 1);
  if (number.front() == '0' || number.find_first_not_of("0123456789") != std::string_view::npos) {
    return bad();
  }
  const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (error != std::errc() || end != number.data() + number.size() || value <= 0 ||
      value > 100000000) {
    return bad();
  }
  switch (text.back()) {
    case 's':
      return value;
    case 'm':
      return value * 60;
    case 'h':
      return value * 3600;
    case 'd':
      return value * 86400;
    case 'w':
      return value * 7 * 86400;
    default:
      return bad();
  }
}

Status ValidateCron(std::string_view text) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (start < text.size()) {
    while (start < text.size() && text[start] == ' ')
      ++start;
    if (start >= text.size()) break;
    size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    fields.push_back(text.substr(start, end - start));
    start = end;
  }
  if (fields.size() != 5) {
    return Status::InvalidArgument(
        "schedule '{}' is not a cron expression of 5 fields (minute hour day month weekday)",
        std::string(text));
  }
  static constexpr struct {
    int low, high;
    const char* name;
  } kFields[] = {
      {0, 59, "minute"}, {0, 23, "hour"}, {1, 31, "day"}, {1, 12, "month"}, {0, 7, "weekday"}};
  for (size_t i = 0; i < 5; ++i) {
    MW_RETURN_IF_ERROR(CheckCronField(fields[i], kFields[i].low, kFields[i].high, kFields[i].name));
  }
  return Status::OK();
}

namespace {
// Whether `value` is in one cron field (already validated).
bool FieldMatches(std::string_view field, int value, int low) {
  size_t start = 0;
  while (start <= field.size()) {
    size_t comma = field.find(',', start);
    if (comma == std::string_view::npos) comma = field.size();
    const std::string_view part = field.substr(start, comma - start);
    start = comma + 1;
    std::string_view range = part;
    int step = 1;
    const size_t slash = part.find('/');
    if (slash != std::string_view::npos) {
      range = part.substr(0, slash);
      std::from_chars(part.data() + slash + 1, part.data() + part.size(), step);
    }
    int first = low, last = 1 << 20;
    if (range != "*") {
      const size_t dash = range.find('-');
      std::from_chars(range.data(),
                      range.data() + (dash == std::string_view::npos ? range.size() : dash), first);
      last = first;
      if (dash != std::string_view::npos) {
        std::from_chars(range.data() + dash + 1, range.data() + range.size(), last);
      } else if (slash != std::string_view::npos) {
        last = 1 << 20;  // "5/15": from 5 on
      }
    }
    if (value >= first && value <= last && (value - first) % step == 0) return true;
  }
  return false;
}
}  // namespace

bool CronMatches(std::string_view text, int minute, int hour, int day, int month, int weekday) {
  if (!ValidateCron(text).ok()) return false;
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (start < text.size()) {
    while (start < text.size() && text[start] == ' ')
      ++start;
    if (start >= text.size()) break;
    size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    fields.push_back(text.substr(start, end - start));
    start = end;
  }
  const bool day_matches = FieldMatches(fields[2], day, 1);
  const bool weekday_matches =
      FieldMatches(fields[4], weekday, 0) || (weekday == 0 && FieldMatches(fields[4], 7, 0));
  const bool day_restricted = fields[2] != "*", weekday_restricted = fields[4] != "*";
  const bool calendar = day_restricted && weekday_restricted ? (day_matches || weekday_matches)
                                                             : (day_matches && weekday_matches);
  return FieldMatches(fields[0], minute, 0) && FieldMatches(fields[1], hour, 0) &&
         FieldMatches(fields[3], month, 1) && calendar;
}

}  // namespace meshwork::product
