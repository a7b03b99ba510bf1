#include "cli/table_command.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/exit_codes.h"
#include "common/time.h"
#include "iceberg/ddl_parser.h"
#include "iceberg/warehouse.h"

namespace meshwork::cli {

struct TableCommand {
  CLI::App* table = nullptr;
  CLI::App* create = nullptr;
  CLI::App* list = nullptr;
  CLI::App* schema = nullptr;
  CLI::App* history = nullptr;
  CLI::App* snapshots = nullptr;
  CLI::App* drop = nullptr;
  std::string warehouse = "./warehouse";
  std::string name;
  std::string namespace_name;
  std::string columns;
  std::string partition;
  std::vector<std::string> properties;
  bool json = false;
  bool purge = false;
};

namespace {

void AddCommon(CLI::App* command, TableCommand& options, bool needs_table) {
  command->add_option("--warehouse", options.warehouse, "Warehouse folder (default ./warehouse)");
  command->add_flag("--json", options.json, "Machine-readable output");
  if (needs_table) {
    command->add_option("table", options.name, "Table name: namespace.table")->required();
  }
}

Result<std::map<std::string, std::string>> ParseProperties(const std::vector<std::string>& items) {
  std::map<std::string, std::string> properties;
  for (const std::string& item : items) {
    const size_t equals = item.find('=');
    if (equals == std::string::npos || equals == 0) {
      return Status::InvalidArgument("property '{}' is not KEY=VALUE", item)
          .WithHint("write --property write.target-file-size-bytes=134217728");
    }
    properties[item.substr(0, equals)] = item.substr(equals + 1);
  }
  return properties;
}

int Fail(const Status& status) {
  // Bad names, schemas and expressions are usage errors; everything else a failed operation.
  return ReportError(status,
                     status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailed);
}

std::string FormatMillis(int64_t millis) {
  return time::FormatRfc3339Millis(millis);
}

int Create(TableCommand& options, iceberg::Warehouse& warehouse,
           const iceberg::TableIdentifier& identifier) {
  auto schema = iceberg::ParseColumnList(options.columns);
  if (!schema.ok()) return Fail(schema.error());
  auto spec = iceberg::ParsePartitionExpression(options.partition, *schema);
  if (!spec.ok()) return Fail(spec.error());
  auto properties = ParseProperties(options.properties);
  if (!properties.ok()) return Fail(properties.error());
  auto created = warehouse.CreateTable(identifier, *schema, *spec, *properties);
  if (!created.ok()) return Fail(created.error());
  if (options.json) {
    std::printf("%s\n", nlohmann::json({{"table", identifier.ToString()},
                                        {"metadata-location", created->metadata_location},
                                        {"table-uuid", created->metadata.table_uuid}})
                            .dump()
                            .c_str());
  } else {
    std::printf("created %s\n  schema     %s\n  partition  %s\n  metadata   %s\n",
                identifier.ToString().c_str(), iceberg::ToColumnList(*schema).c_str(),
                iceberg::ToPartitionExpression(*spec, *schema).c_str(),
                created->metadata_location.c_str());
  }
  return kExitOk;
}

int Schema(TableCommand& options, const iceberg::LoadedTable& table) {
  const iceberg::Schema& schema = table.metadata.CurrentSchema();
  if (options.json) {
    std::printf("%s\n", iceberg::SchemaToJson(schema).dump(2).c_str());
    return kExitOk;
  }
  std::printf("%-6s %-24s %-28s %s\n", "id", "column", "type", "null");
  for (const iceberg::NestedField& field : schema.fields()) {
    std::printf("%-6d %-24s %-28s %s\n", field.id, field.name.c_str(),
                field.type->ToString().c_str(), field.required ? "not null" : "");
  }
  std::printf("partition: %s\n",
              iceberg::ToPartitionExpression(table.metadata.DefaultSpec(), schema).c_str());
  return kExitOk;
}

int Snapshots(TableCommand& options, const iceberg::LoadedTable& table, bool history) {
  nlohmann::json rows = nlohmann::json::array();
  if (history) {
    for (const auto& entry : table.metadata.snapshot_log) {
      const iceberg::Snapshot* snapshot = table.metadata.SnapshotById(entry.snapshot_id);
      rows.push_back({{"made-current-at", FormatMillis(entry.timestamp_ms)},
                      {"snapshot-id", entry.snapshot_id},
                      {"operation", snapshot ? snapshot->operation() : "(expired)"}});
    }
  } else {
    for (const iceberg::Snapshot& snapshot : table.metadata.snapshots) {
      rows.push_back(
          {{"committed-at", FormatMillis(snapshot.timestamp_ms)},
           {"snapshot-id", snapshot.snapshot_id},
           {"parent-id", snapshot.parent_snapshot_id ? nlohmann::json(*snapshot.parent_snapshot_id)
                                                     : nlohmann::json()},
           {"operation", snapshot.operation()},
           {"summary", snapshot.summary}});
    }
  }
  if (options.json) {
    std::printf("%s\n", rows.dump(2).c_str());
    return kExitOk;
  }
  if (rows.empty()) {
    std::printf("%s has no snapshots yet\n", table.identifier.ToString().c_str());
    return kExitOk;
  }
  for (const auto& row : rows) {
    std::printf("%s  %20lld  %s\n",
                row.value(history ? "made-current-at" : "committed-at", "").c_str(),
                static_cast<long long>(row["snapshot-id"].get<int64_t>()),
                row["operation"].get<std::string>().c_str());
  }
  return kExitOk;
}

}  // namespace

TableCommand* AddTableCommand(CLI::App& app) {
  static TableCommand options;
  options.table = app.add_subcommand("table", "Low-level Iceberg table operations on a warehouse");
  options.table->require_subcommand(1);
  options.create = options.table->add_subcommand("create", "Create a table");
  AddCommon(options.create, options, true);
  options.create
      ->add_option("--schema", options.columns,
                   "Columns: 'id long not null, ts timestamptz, amount decimal(12,2)'")
      ->required();
  options.create->add_option("--partition", options.partition,
                             "Partitioning: 'day(ts), bucket(16, id)'");
  options.create->add_option("--property", options.properties, "Table property KEY=VALUE");
  options.list = options.table->add_subcommand("list", "List the tables of a namespace");
  AddCommon(options.list, options, false);
  options.list->add_option("namespace", options.namespace_name, "Namespace")->required();
  options.schema = options.table->add_subcommand("schema", "Show a table's schema");
  AddCommon(options.schema, options, true);
  options.history = options.table->add_subcommand("history", "When each snapshot became current");
  AddCommon(options.history, options, true);
  options.snapshots = options.table->add_subcommand("snapshots", "List a table's snapshots");
  AddCommon(options.snapshots, options, true);
  options.drop = options.table->add_subcommand("drop", "Drop a table");
  AddCommon(options.drop, options, true);
  options.drop->add_flag("--purge", options.purge, "Also delete the table's files");
  return &options;
}

bool TableCommandParsed(const TableCommand& command) {
  return command.table->parsed();
}

int RunTableCommand(TableCommand& options) {
  auto warehouse = iceberg::Warehouse::Open(options.warehouse);
  if (!warehouse.ok()) return Fail(warehouse.error());
  if (options.list->parsed()) {
    std::vector<std::string> levels;
    for (size_t start = 0;;) {
      const size_t dot = options.namespace_name.find('.', start);
      levels.push_back(options.namespace_name.substr(start, dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    auto tables = (*warehouse)->ListTables(levels);
    if (!tables.ok()) return Fail(tables.error());
    nlohmann::json names = nlohmann::json::array();
    for (const auto& table : *tables)
      names.push_back(table.ToString());
    if (options.json) {
      std::printf("%s\n", names.dump().c_str());
    } else {
      for (const auto& name : names)
        std::printf("%s\n", name.get<std::string>().c_str());
    }
    return kExitOk;
  }
  auto identifier = iceberg::TableIdentifier::Parse(options.name);
  if (!identifier.ok()) return Fail(identifier.error());
  if (options.create->parsed()) return Create(options, **warehouse, *identifier);
  if (options.drop->parsed()) {
    Status dropped = (*warehouse)->DropTable(*identifier, options.purge);
    if (!dropped.ok()) return Fail(dropped);
    std::printf("dropped %s%s\n", identifier->ToString().c_str(),
                options.purge ? " and deleted its files" : "");
    return kExitOk;
  }
  auto table = (*warehouse)->LoadTable(*identifier);
  if (!table.ok()) return Fail(table.error());
  if (options.schema->parsed()) return Schema(options, *table);
  if (options.history->parsed()) return Snapshots(options, *table, true);
  if (options.snapshots->parsed()) return Snapshots(options, *table, false);
  return kExitUsage;
}

}  // namespace meshwork::cli
