#include "product/odcs.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>

#include "iceberg/ddl_parser.h"

namespace meshwork::product {
namespace {

constexpr const char* kSpecProperty = "meshwork.spec";
constexpr const char* kTransformProperty = "meshwork.transform";

// yaml-cpp: a missing key of a const node is an invalid node, and asking its type throws; these
// ask IsDefined() first.
bool IsSeq(const YAML::Node& node) {
  return node.IsDefined() && node.IsSequence();
}
bool IsMapNode(const YAML::Node& node) {
  return node.IsDefined() && node.IsMap();
}
bool IsScalarNode(const YAML::Node& node) {
  return node.IsDefined() && node.IsScalar();
}

std::string Scalar(const YAML::Node& node, const char* key) {
  const YAML::Node value = node[key];
  return value.IsDefined() && value.IsScalar() ? value.Scalar() : std::string();
}

// "Customer Orders" -> "customer_orders": names in specs are snake_case.
std::string SnakeCase(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_')
    out.pop_back();
  if (out.empty() || !std::isalpha(static_cast<unsigned char>(out[0]))) out = "p_" + out;
  return out.substr(0, 63);
}

// ODCS logical types from Iceberg types, and back.
std::string LogicalType(const std::string& iceberg) {
  const std::string type = iceberg.substr(0, iceberg.find_first_of("(<["));
  if (type == "boolean") return "boolean";
  if (type == "int" || type == "long") return "integer";
  if (type == "float" || type == "double" || type == "decimal") return "number";
  if (type == "date") return "date";
  if (type == "time") return "time";
  if (type == "timestamp" || type == "timestamptz") return "timestamp";
  if (type == "list") return "array";
  if (type == "struct" || type == "map") return "object";
  return "string";
}

std::string IcebergType(const YAML::Node& property) {
  const std::string physical = Scalar(property, "physicalType");
  if (!physical.empty() && iceberg::ParseColumnList("x " + physical).ok()) return physical;
  const std::string logical = Scalar(property, "logicalType");
  if (logical == "integer") return "long";
  if (logical == "number") return "double";
  if (logical == "boolean") return "boolean";
  if (logical == "date") return "date";
  if (logical == "time") return "time";
  if (logical == "timestamp") return "timestamptz";
  if (logical == "array") return "list<string>";
  return "string";
}

std::string DurationText(const YAML::Node& sla) {
  std::string value = Scalar(sla, "value");
  std::string unit = Scalar(sla, "unit");
  std::transform(unit.begin(), unit.end(), unit.begin(), ::tolower);
  if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos) return "";
  const char suffix = unit.starts_with("w")                   ? 'w'
                      : unit.starts_with("d")                 ? 'd'
                      : unit.starts_with("h")                 ? 'h'
                      : unit.starts_with("mi") || unit == "m" ? 'm'
                      : unit.starts_with("s")                 ? 's'
                                                              : 0;
  return suffix ? value + suffix : "";
}

// The spec (as YAML) an ODCS document describes, with what could not be mapped.
YAML::Node SpecFromOdcs(const YAML::Node& odcs, std::vector<std::string>& notes) {
  YAML::Node spec;
  spec["apiVersion"] = "meshwork/v1";
  spec["kind"] = "DataProduct";
  const std::string domain = Scalar(odcs, "domain");
  spec["domain"] = SnakeCase(domain.empty() ? "imported" : domain);
  std::string name = Scalar(odcs, "dataProduct");
  if (name.empty()) name = Scalar(odcs, "name");
  if (name.empty()) name = Scalar(odcs, "id");
  spec["name"] = SnakeCase(name.empty() ? "product" : name);
  const std::string version = Scalar(odcs, "version");
  if (SemanticVersion::Parse(version).ok()) {
    spec["version"] = version;
  } else {
    spec["version"] = "1.0.0";
    notes.push_back("version '" + version + "' is not MAJOR.MINOR.PATCH: 1.0.0 used");
  }
  if (!Scalar(odcs, "name").empty()) spec["title"] = Scalar(odcs, "name");
  const YAML::Node description = odcs["description"];
  if (IsScalarNode(description)) {
    spec["description"] = description.Scalar();
  } else if (IsMapNode(description) && !Scalar(description, "purpose").empty()) {
    spec["description"] = Scalar(description, "purpose");
  }
  // The owner: a team member with role owner (ODCS 3.0 list or 3.1 {members}).
  // reset() rebinds; yaml-cpp's operator= would write into the contract instead.
  YAML::Node members;
  members.reset(odcs["team"]);
  if (IsMapNode(members)) members.reset(odcs["team"]["members"]);
  YAML::Node owner;
  if (IsSeq(members)) {
    for (const YAML::Node& member : members) {
      if (!member.IsMap()) continue;
      const std::string role = Scalar(member, "role");
      if (owner.IsNull() || role == "owner" || role == "Owner") {
        std::string team = Scalar(member, "name");
        if (team.empty()) team = Scalar(member, "username");
        owner.reset(YAML::Node(YAML::NodeType::Map));
        owner["team"] = team.empty() ? spec["domain"].Scalar() : team;
        const std::string username = Scalar(member, "username");
        if (username.find('@') != std::string::npos) owner["email"] = username;
        if (role == "owner" || role == "Owner") break;
      }
    }
  }
  if (owner.IsNull()) {
    owner["team"] = spec["domain"].Scalar();
    notes.push_back("no team member with role owner: the domain is the owner");
  }
  spec["owner"] = owner;
  if (IsSeq(odcs["tags"])) {
    for (const YAML::Node& tag : odcs["tags"])
      if (tag.IsScalar()) spec["tags"].push_back(tag.Scalar());
  }
  spec["transform"]["sql_file"] = "transform.sql";

  std::set<std::string> rule_names;
  const auto add_rule = [&](YAML::Node rule, const YAML::Node& source) {
    std::string name = Scalar(source, "name");
    if (!name.empty()) {
      while (!rule_names.insert(name).second)
        name += "_2";
      rule["name"] = name;
    }
    const std::string severity = Scalar(source, "severity");
    if (severity == "warning" || severity == "warn" || severity == "info")
      rule["severity"] = "warn";
    spec["quality"].push_back(rule);
  };
  // One quality entry of ODCS, on a port (and a column for property-level ones).
  const auto map_quality = [&](const YAML::Node& quality, const std::string& port,
                               const std::string& column, size_t ports) {
    const std::string type = Scalar(quality, "type");
    const std::string metric =
        !Scalar(quality, "metric").empty() ? Scalar(quality, "metric") : Scalar(quality, "rule");
    YAML::Node rule;
    if (ports > 1) rule["port"] = port;
    const YAML::Node arguments = quality["arguments"];
    if ((type == "library" || type.empty()) && (metric == "nullValues" || metric == "not_null") &&
        !column.empty()) {
      rule["rule"] = "not_null", rule["column"] = column;
    } else if ((type == "library" || type.empty()) &&
               (metric == "duplicateValues" || metric == "unique")) {
      rule["rule"] = "unique";
      if (!column.empty()) {
        rule["column"] = column;
      } else if (IsSeq(arguments["properties"])) {
        rule["columns"] = arguments["properties"];
      } else {
        return false;
      }
    } else if (metric == "invalidValues" && !column.empty() && IsSeq(arguments["validValues"])) {
      rule["rule"] = "accepted_values", rule["column"] = column;
      for (const YAML::Node& value : arguments["validValues"])
        if (value.IsScalar()) rule["values"].push_back(value.Scalar());
    } else if (metric == "invalidValues" && !column.empty() && IsScalarNode(arguments["pattern"])) {
      rule["rule"] = "regex", rule["column"] = column,
      rule["pattern"] = arguments["pattern"].Scalar();
    } else if (metric == "rowCount") {
      rule["rule"] = "row_count";
      for (const char* key : {"mustBeGreaterOrEqualTo", "mustBeGreaterThanOrEqualTo"})
        if (IsScalarNode(quality[key])) rule["min"] = quality[key].Scalar();
      if (IsScalarNode(quality["mustBeGreaterThan"]))
        rule["min"] = quality["mustBeGreaterThan"].Scalar();
      for (const char* key : {"mustBeLessOrEqualTo", "mustBeLessThanOrEqualTo"})
        if (IsScalarNode(quality[key])) rule["max"] = quality[key].Scalar();
      if (!rule["min"] && !rule["max"]) return false;
    } else if (type == "sql" && IsScalarNode(quality["query"]) && IsScalarNode(quality["mustBe"])) {
      // ODCS queries return a number that must be a value; ours return the failing rows.
      std::string query = quality["query"].Scalar();
      for (size_t at; (at = query.find("${object}")) != std::string::npos;)
        query.replace(at, 9, port);
      rule["rule"] = "sql";
      rule["sql"] = "SELECT * FROM (SELECT (" + query + ") AS measured) WHERE measured <> " +
                    quality["mustBe"].Scalar();
    } else {
      return false;
    }
    add_rule(rule, quality);
    return true;
  };

  const YAML::Node objects = odcs["schema"];
  const size_t ports = IsSeq(objects) ? objects.size() : 0;
  if (ports == 0) notes.push_back("the contract has no schema objects: the spec needs a port");
  for (size_t index = 0; index < ports; ++index) {
    const YAML::Node object = objects[index];
    YAML::Node port;
    const std::string port_name = SnakeCase(Scalar(object, "name"));
    port["name"] = port_name;
    if (!Scalar(object, "description").empty()) port["description"] = Scalar(object, "description");
    std::vector<std::pair<int, std::string>> partition_keys;
    if (IsSeq(object["properties"])) {
      for (const YAML::Node& property : object["properties"]) {
        YAML::Node column;
        const std::string column_name = Scalar(property, "name");
        column["name"] = column_name;
        column["type"] = IcebergType(property);
        const bool key = Scalar(property, "primaryKey") == "true";
        if (key) column["primary_key"] = true;
        if (Scalar(property, "required") == "true" && !key) column["nullable"] = false;
        if (!Scalar(property, "description").empty()) {
          column["description"] = Scalar(property, "description");
        }
        const std::string classification = Scalar(property, "classification");
        if (!classification.empty()) {
          std::string tag;
          for (const char c : classification) {
            tag += std::isalnum(static_cast<unsigned char>(c)) || c == '.'
                       ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                       : '_';
          }
          column["classification"] = tag;
        }
        if (IsSeq(property["customProperties"])) {
          for (const YAML::Node& custom : property["customProperties"]) {
            if (Scalar(custom, "property") == "semanticType") {
              column["semantic_type"] = Scalar(custom, "value");
            }
          }
        }
        if (Scalar(property, "partitioned") == "true") {
          const std::string position = Scalar(property, "partitionKeyPosition");
          partition_keys.emplace_back(position.empty() ? 0 : std::atoi(position.c_str()),
                                      column_name);
        }
        port["columns"].push_back(column);
        if (IsSeq(property["quality"])) {
          for (const YAML::Node& quality : property["quality"]) {
            if (!map_quality(quality, port_name, column_name, ports)) {
              notes.push_back("quality '" + Scalar(quality, "name") + "' on " + column_name +
                              " has no meshwork equivalent: kept in x-odcs only");
            }
          }
        }
        if (Scalar(property, "unique") == "true" && !key) {
          YAML::Node rule;
          if (ports > 1) rule["port"] = port_name;
          rule["rule"] = "unique", rule["column"] = column_name;
          spec["quality"].push_back(rule);
        }
      }
    }
    std::sort(partition_keys.begin(), partition_keys.end());
    std::string partitioning;
    for (const auto& [position, column] : partition_keys)
      partitioning += (partitioning.empty() ? "" : ", ") + column;
    if (!partitioning.empty()) port["partitioning"] = partitioning;
    if (IsSeq(object["quality"])) {
      for (const YAML::Node& quality : object["quality"]) {
        if (!map_quality(quality, port_name, "", ports)) {
          notes.push_back("quality '" + Scalar(quality, "name") + "' of " + port_name +
                          " has no meshwork equivalent: kept in x-odcs only");
        }
      }
    }
    spec["ports"].push_back(port);
  }
  if (IsSeq(odcs["slaProperties"])) {
    for (const YAML::Node& sla : odcs["slaProperties"]) {
      const std::string property = Scalar(sla, "property");
      if (property == "freshness" || property == "latency") {
        const std::string duration = DurationText(sla);
        if (!duration.empty()) spec["sla"]["freshness"] = duration;
        if (!Scalar(sla, "schedule").empty()) spec["sla"]["schedule"] = Scalar(sla, "schedule");
      } else if (property == "availability" && !Scalar(sla, "value").empty()) {
        std::string value = Scalar(sla, "value");
        if (!value.empty() && value.back() == '%') value.pop_back();
        spec["sla"]["availability"] = value;
      } else if (property == "frequency" && ValidateCron(Scalar(sla, "value")).ok()) {
        spec["sla"]["schedule"] = Scalar(sla, "value");
      }
    }
  }
  if (IsSeq(odcs["support"]) && odcs["support"].size() > 0) {
    const YAML::Node first = odcs["support"][0];
    std::string channel = Scalar(first, "url");
    if (channel.empty()) channel = Scalar(first, "channel");
    if (!channel.empty()) spec["sla"]["support"] = channel;
  }
  if (IsSeq(odcs["authoritativeDefinitions"])) {
    for (const YAML::Node& definition : odcs["authoritativeDefinitions"]) {
      if (Scalar(definition, "url").empty()) continue;
      YAML::Node link;
      link["title"] =
          Scalar(definition, "type").empty() ? "definition" : Scalar(definition, "type");
      link["url"] = Scalar(definition, "url");
      spec["links"].push_back(link);
    }
  }
  return spec;
}

std::string Emit(const YAML::Node& node) {
  YAML::Emitter out;
  out << node;
  return std::string(out.c_str()) + "\n";
}

// Sets `key` to `ours` unless the kept document already says what import read as `ours`.
void Overlay(YAML::Node node, const char* key, const std::string& ours, const std::string& derived,
             bool has_base) {
  if (has_base && node[key].IsDefined() && ours == derived) return;
  if (ours.empty()) {
    if (!has_base) return;
    node.remove(key);
    return;
  }
  node[key] = ours;
}

YAML::Node FindByName(const YAML::Node& sequence, const std::string& snake_name) {
  if (!IsSeq(sequence)) return YAML::Node(YAML::NodeType::Undefined);
  for (const YAML::Node& item : sequence) {
    if (item.IsMap() &&
        (Scalar(item, "name") == snake_name || SnakeCase(Scalar(item, "name")) == snake_name)) {
      return item;
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

YAML::Node QualityFor(const QualityRule& rule, const std::string& port) {
  YAML::Node quality;
  quality["name"] = rule.name;
  if (rule.severity == Severity::kWarn) quality["severity"] = "warning";
  if (rule.rule == "not_null") {
    quality["type"] = "library", quality["metric"] = "nullValues", quality["mustBe"] = 0;
  } else if (rule.rule == "unique") {
    quality["type"] = "library", quality["metric"] = "duplicateValues", quality["mustBe"] = 0;
    if (rule.columns.size() > 1) quality["arguments"]["properties"] = rule.columns;
  } else if (rule.rule == "accepted_values") {
    quality["type"] = "library", quality["metric"] = "invalidValues", quality["mustBe"] = 0;
    quality["arguments"]["validValues"] = rule.values;
  } else if (rule.rule == "regex") {
    quality["type"] = "library", quality["metric"] = "invalidValues", quality["mustBe"] = 0;
    quality["arguments"]["pattern"] = rule.pattern;
  } else if (rule.rule == "row_count") {
    quality["type"] = "library", quality["metric"] = "rowCount";
    if (rule.min) quality["mustBeGreaterOrEqualTo"] = *rule.min;
    if (rule.max) quality["mustBeLessOrEqualTo"] = *rule.max;
  } else {
    // range, freshness, references, sql: as SQL counting the failing rows.
    std::string failing;
    const std::string column = rule.columns.empty() ? "" : rule.columns[0];
    if (rule.rule == "range") {
      std::string condition;
      if (rule.min) condition = column + " < " + fmt::format("{}", *rule.min);
      if (rule.max) {
        condition +=
            (condition.empty() ? "" : " OR ") + column + " > " + fmt::format("{}", *rule.max);
      }
      failing = "SELECT * FROM ${object} WHERE " + condition;
    } else if (rule.rule == "sql") {
      failing = rule.sql;
      for (size_t at = 0; (at = failing.find(" " + port + " ", at)) != std::string::npos;)
        failing.replace(at + 1, port.size(), "${object}");
    } else if (rule.rule == "references") {
      const std::string target = rule.reference.substr(0, rule.reference.rfind('.'));
      const std::string target_column = rule.reference.substr(rule.reference.rfind('.') + 1);
      failing = "SELECT * FROM ${object} s WHERE s." + column + " IS NOT NULL AND NOT EXISTS " +
                "(SELECT 1 FROM " + target + " r WHERE r." + target_column + " = s." + column + ")";
    } else {
      failing = "SELECT * FROM (SELECT max(" + column +
                ") AS newest FROM ${object}) WHERE newest < " + "now() - INTERVAL '" +
                rule.max_age + "'";
    }
    quality["type"] = "sql";
    quality["query"] = "SELECT count(*) FROM (" + failing + ")";
    quality["mustBe"] = 0;
  }
  return quality;
}

}  // namespace

Result<std::string> ExportOdcs(const DataProductSpec& spec, const std::string& status) {
  YAML::Node source;
  try {
    source = YAML::Load(spec.source_text);
  } catch (const YAML::Exception&) {
    source = YAML::Node();
  }
  const bool has_base = source.IsMap() && IsMapNode(source["x-odcs"]);
  YAML::Node odcs = has_base ? YAML::Clone(source["x-odcs"]) : YAML::Node(YAML::NodeType::Map);
  // What import made of the kept document: fields we did not change keep their ODCS text.
  DataProductSpec derived;
  if (has_base) {
    std::vector<std::string> notes;
    auto parsed = ParseSpec(Emit(SpecFromOdcs(odcs, notes)), "x-odcs");
    if (parsed.ok()) derived = *parsed;
  }
  if (!has_base) {
    odcs["apiVersion"] = "v3.1.0";
    odcs["kind"] = "DataContract";
    odcs["id"] = spec.QualifiedName();
  }
  Overlay(odcs, "name", spec.title.empty() ? spec.name : spec.title,
          derived.title.empty() ? derived.name : derived.title, has_base);
  Overlay(odcs, "version", spec.version.ToString(), derived.version.ToString(), has_base);
  if (!has_base || !odcs["status"]) odcs["status"] = status;
  Overlay(odcs, "domain", spec.domain, derived.domain, has_base);
  Overlay(odcs, "dataProduct", spec.name, derived.name, has_base);
  if (!has_base || spec.description != derived.description) {
    if (IsScalarNode(odcs["description"])) {
      odcs["description"] = spec.description;
    } else {
      odcs["description"]["purpose"] = spec.description;
    }
  }
  if (!has_base || spec.tags != derived.tags) odcs["tags"] = spec.tags;
  if (!has_base || spec.owner.team != derived.owner.team ||
      spec.owner.email != derived.owner.email) {
    YAML::Node member;
    member["name"] = spec.owner.team;
    if (!spec.owner.email.empty()) member["username"] = spec.owner.email;
    member["role"] = "owner";
    odcs["team"] = YAML::Node(YAML::NodeType::Sequence);
    odcs["team"].push_back(member);
  }
  // Ports as schema objects; kept objects are updated in place.
  YAML::Node schema = IsSeq(odcs["schema"]) ? odcs["schema"] : YAML::Node(YAML::NodeType::Sequence);
  for (const Port& port : spec.ports) {
    const Port* before = derived.FindPort(port.name);
    YAML::Node object = FindByName(schema, port.name);
    const bool kept = object.IsDefined();
    if (!kept) {
      object.reset(YAML::Node(YAML::NodeType::Map));
      object["name"] = port.name;
      object["physicalName"] = spec.domain + "." + PortTableName(port.name, spec.version.major);
      object["logicalType"] = "object";
      object["physicalType"] = "table";
    }
    Overlay(object, "description", port.description, before ? before->description : "", kept);
    YAML::Node properties =
        IsSeq(object["properties"]) ? object["properties"] : YAML::Node(YAML::NodeType::Sequence);
    int key_position = 0;
    for (const Column& column : port.columns) {
      const Column* old = before ? before->FindColumn(column.name) : nullptr;
      YAML::Node property = FindByName(properties, column.name);
      const bool kept_property = property.IsDefined() && old != nullptr;
      if (!property.IsDefined()) {
        property.reset(YAML::Node(YAML::NodeType::Map));
        property["name"] = column.name;
        properties.push_back(property);
      }
      Overlay(property, "physicalType", column.type, old ? old->type : "", kept_property);
      Overlay(property, "logicalType", LogicalType(column.type), old ? LogicalType(old->type) : "",
              kept_property);
      const auto flag = [&](const char* key, bool ours, bool was) {
        if (kept_property && ours == was) return;
        if (ours) {
          property[key] = true;
        } else if (property[key]) {
          property[key] = false;
        }
      };
      flag("required", !column.nullable, old && !old->nullable);
      flag("primaryKey", column.primary_key, old && old->primary_key);
      if (column.primary_key && !(kept_property && old->primary_key)) {
        property["primaryKeyPosition"] = ++key_position;
      }
      Overlay(property, "description", column.description, old ? old->description : "",
              kept_property);
      Overlay(property, "classification", column.classification, old ? old->classification : "",
              kept_property);
      if (!column.semantic_type.empty() &&
          !(kept_property && old->semantic_type == column.semantic_type)) {
        YAML::Node custom;
        custom["property"] = "semanticType";
        custom["value"] = column.semantic_type;
        property["customProperties"].push_back(custom);
      }
    }
    object["properties"] = properties;
    // Quality: rules on one column go on that property, the others on the object.
    const bool same_rules =
        kept && derived.quality.size() == spec.quality.size() &&
        std::equal(derived.quality.begin(), derived.quality.end(), spec.quality.begin(),
                   [](const QualityRule& a, const QualityRule& b) {
                     return a.rule == b.rule && a.columns == b.columns && a.values == b.values &&
                            a.min == b.min && a.max == b.max && a.pattern == b.pattern &&
                            a.sql == b.sql && a.severity == b.severity;
                   });
    if (!same_rules) {
      if (kept) {
        object.remove("quality");
        for (YAML::Node property : object["properties"])
          property.remove("quality");
      }
      for (const QualityRule& rule : spec.quality) {
        if (rule.port != port.name) continue;
        const YAML::Node quality = QualityFor(rule, port.name);
        const bool column_rule = rule.columns.size() == 1 && rule.rule != "range" &&
                                 rule.rule != "references" && rule.rule != "freshness";
        if (column_rule) {
          YAML::Node property = FindByName(object["properties"], rule.columns[0]);
          property["quality"].push_back(quality);
        } else {
          object["quality"].push_back(quality);
        }
      }
    }
    if (!kept) schema.push_back(object);
  }
  odcs["schema"] = schema;
  // SLA and support.
  const bool same_sla = has_base && spec.sla.freshness == derived.sla.freshness &&
                        spec.sla.schedule == derived.sla.schedule &&
                        spec.sla.availability == derived.sla.availability;
  if (!same_sla) {
    YAML::Node sla(YAML::NodeType::Sequence);
    if (!spec.sla.freshness.empty()) {
      YAML::Node freshness;
      freshness["property"] = "freshness";
      freshness["value"] = spec.sla.freshness.substr(0, spec.sla.freshness.size() - 1);
      const char unit = spec.sla.freshness.back();
      freshness["unit"] = unit == 'd'   ? "d"
                          : unit == 'h' ? "h"
                          : unit == 'w' ? "w"
                          : unit == 'm' ? "m"
                                        : "s";
      if (!spec.sla.schedule.empty()) freshness["schedule"] = spec.sla.schedule;
      sla.push_back(freshness);
    } else if (!spec.sla.schedule.empty()) {
      YAML::Node frequency;
      frequency["property"] = "frequency";
      frequency["value"] = spec.sla.schedule;
      sla.push_back(frequency);
    }
    if (spec.sla.availability) {
      YAML::Node availability;
      availability["property"] = "availability";
      availability["value"] = *spec.sla.availability;
      availability["unit"] = "percent";
      sla.push_back(availability);
    }
    if (sla.size() > 0 || has_base) odcs["slaProperties"] = sla;
  }
  if (!(has_base && spec.sla.support == derived.sla.support) && !spec.sla.support.empty()) {
    YAML::Node support;
    if (spec.sla.support.find("://") != std::string::npos) {
      support["channel"] = "web", support["url"] = spec.sla.support;
    } else {
      support["channel"] = spec.sla.support;
    }
    odcs["support"] = YAML::Node(YAML::NodeType::Sequence);
    odcs["support"].push_back(support);
  }
  if (!has_base) {
    // The whole spec, so meshwork -> ODCS -> meshwork loses nothing (transform, inputs, ...).
    YAML::Node custom;
    custom["property"] = kSpecProperty;
    custom["value"] = spec.source_text;
    odcs["customProperties"].push_back(custom);
    if (!spec.transform.sql_file.empty()) {
      YAML::Node transform;
      transform["property"] = kTransformProperty;
      transform["value"] = spec.transform.sql;
      odcs["customProperties"].push_back(transform);
    }
  }
  return Emit(odcs);
}

Result<ImportedOdcs> ImportOdcs(const std::string& text, const std::string& file) {
  if (text.size() > (4u << 20))
    return Status::InvalidArgument("{} is too big for a contract", file);
  YAML::Node odcs;
  try {
    odcs = YAML::Load(text);
  } catch (const YAML::Exception& error) {
    return Status::InvalidArgument("YAML syntax error: {}", error.msg)
        .WithLocation({file, error.mark.line + 1, error.mark.column + 1});
  }
  if (!odcs.IsMap() || Scalar(odcs, "kind") != "DataContract" ||
      !Scalar(odcs, "apiVersion").starts_with("v3")) {
    return Status::InvalidArgument(
        "{} is not an ODCS v3 data contract (kind: DataContract, "
        "apiVersion: v3.x)",
        file);
  }
  ImportedOdcs imported;
  try {
    // A contract meshwork exported carries its spec: take it as it was.
    if (IsSeq(odcs["customProperties"])) {
      for (const YAML::Node& custom : odcs["customProperties"]) {
        if (Scalar(custom, "property") == kSpecProperty && IsScalarNode(custom["value"])) {
          imported.spec_yaml = custom["value"].Scalar();
        }
        if (Scalar(custom, "property") == kTransformProperty && IsScalarNode(custom["value"])) {
          imported.transform_sql = custom["value"].Scalar();
        }
      }
    }
    if (imported.spec_yaml.empty()) {
      YAML::Node spec = SpecFromOdcs(odcs, imported.notes);
      spec["x-odcs"] = odcs;  // everything, so an export gives it back
      imported.spec_yaml =
          "# Imported from " + file + "; x-odcs keeps the contract as it was.\n" + Emit(spec);
    }
  } catch (const YAML::Exception& error) {
    return Status::InvalidArgument("unexpected structure: {}", error.msg)
        .WithLocation({file, error.mark.line + 1, error.mark.column + 1});
  }
  MW_ASSIGN_OR_RETURN(DataProductSpec spec, ParseSpec(imported.spec_yaml, file + " (imported)"));
  if (spec.transform.sql_file.empty()) {
    imported.transform_sql.clear();  // inline in the spec
  } else if (imported.transform_sql.empty()) {
    // ODCS describes data, not how it is made: a transform that yields the contract's columns.
    std::string columns;
    for (const Column& column : spec.ports.at(0).columns) {
      columns +=
          fmt::format("{}  CAST(NULL AS VARCHAR) AS {}", columns.empty() ? "" : ",\n", column.name);
    }
    imported.transform_sql = "-- TODO: compute " + spec.ports.at(0).name +
                             " from the product's inputs (DuckDB SQL).\nSELECT\n" + columns +
                             "\nWHERE false\n";
    imported.notes.push_back("transform.sql is a stub: write how the port is computed");
  }
  return imported;
}

}  // namespace meshwork::product
