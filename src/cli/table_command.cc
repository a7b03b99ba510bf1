#include "cli/table_command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "catalog/metastore_pointer_store.h"
#include "cli/exit_codes.h"
#include "cli/settings.h"
#include "common/logging.h"
#include "common/time.h"
#include "engine/database.h"
#include "iceberg/ddl_parser.h"
#include "iceberg/maintenance.h"
#include "iceberg/scan_planner.h"
#include "iceberg/scan_reader.h"
#include "iceberg/schema_update.h"
#include "iceberg/static_table.h"
#include "iceberg/table_writer.h"
#include "iceberg/warehouse.h"
#include "metastore/metastore.h"

namespace meshwork::cli {

struct TableCommand {
  CLI::App* table = nullptr;
  CLI::App* create = nullptr;
  CLI::App* list = nullptr;
  CLI::App* schema = nullptr;
  CLI::App* history = nullptr;
  CLI::App* snapshots = nullptr;
  CLI::App* drop = nullptr;
  CLI::App* append = nullptr;
  CLI::App* scan = nullptr;
  CLI::App* orphans = nullptr;
  CLI::App* alter = nullptr;
  CLI::App* remove = nullptr;
  CLI::App* overwrite = nullptr;
  CLI::App* expire = nullptr;
  CLI::App* compact = nullptr;
  int64_t target_file_size = 0;
  int min_input_files = 2;
  std::optional<std::string> new_partition;
  CLI::App* rollback = nullptr;
  CLI::App* tag = nullptr;
  CLI::App* branch = nullptr;
  int retain_last = 1;
  std::string target_snapshot;
  std::string ref_name;
  bool force = false;
  bool drop_ref = false;
  std::vector<std::string> add_columns;
  std::vector<std::string> drop_columns;
  std::vector<std::string> renames;
  std::vector<std::string> widens;
  std::vector<std::string> optionals;
  std::vector<std::string> set_properties;
  std::vector<std::string> unset_properties;
  std::string older_than = "1d";
  std::string expire_older_than = "5d";
  bool dry_run = false;
  std::string from;
  std::string where;
  std::string format = "table";
  std::string as_of;
  int64_t limit = -1;
  bool explain = false;
  std::string warehouse = "./warehouse";
  std::string metastore;
  std::string name;
  std::string namespace_name;
  std::string columns;
  std::string partition;
  std::string sort;
  std::vector<std::string> properties;
  bool json = false;
  bool purge = false;
};

namespace {

void AddCommon(CLI::App* command, TableCommand& options, bool needs_table) {
  command->add_option("--warehouse", options.warehouse, "Warehouse folder (default ./warehouse)");
  command->add_option("--metastore", options.metastore,
                      "The catalog's metastore (SQLite file or postgresql://...): work on the "
                      "tables `meshwork serve` publishes instead of a bare warehouse folder");
  command->add_flag("--json", options.json, "Machine-readable output");
  if (needs_table) {
    command
        ->add_option("table", options.name,
                     "Table: namespace.table (or, to read, a table folder or metadata file)")
        ->required();
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

// Progress of a long write on stderr: one line rewritten in place on a terminal, a plain line
// every few seconds otherwise (logs, CI), nothing at all with --json.
struct ProgressPrinter {
  bool terminal = ::isatty(2) == 1;
  double last_line_seconds = 0;
  bool line_open = false;

  void Stage(const std::string& message) {
    Finish();
    std::fprintf(stderr, "%s...\n", message.c_str());
  }
  void Write(double percent, double seconds) {
    if (!terminal && seconds - last_line_seconds < 5) return;
    last_line_seconds = seconds;
    const std::string done = percent >= 0 ? fmt::format("{:.0f}%", percent) : "working";
    if (terminal) {
      std::fprintf(stderr, "\r  %s, %.1f s   ", done.c_str(), seconds);
      line_open = true;
    } else {
      std::fprintf(stderr, "  %s, %.1f s\n", done.c_str(), seconds);
    }
    std::fflush(stderr);
  }
  void Finish() {
    if (line_open) std::fprintf(stderr, "\n");
    line_open = false;
  }
};

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
  auto sort_order = iceberg::ParseSortOrder(options.sort, *schema);
  if (!sort_order.ok()) return Fail(sort_order.error());
  auto properties = ParseProperties(options.properties);
  if (!properties.ok()) return Fail(properties.error());
  auto created = warehouse.CreateTable(identifier, *schema, *spec, *properties, *sort_order);
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
  for (const auto& [key, value] : table.metadata.properties)
    std::printf("property:  %s = %s\n", key.c_str(), value.c_str());
  if (const iceberg::SortOrder* order =
          table.metadata.SortOrderById(table.metadata.default_sort_order_id)) {
    std::printf("sort:      %s\n", iceberg::ToSortExpression(*order, schema).c_str());
  }
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
      nlohmann::json refs = nlohmann::json::array();
      for (const auto& [name, ref] : table.metadata.refs) {
        if (ref.snapshot_id == snapshot.snapshot_id) {
          refs.push_back(ref.is_branch ? "branch:" + name : "tag:" + name);
        }
      }
      rows.push_back(
          {{"committed-at", FormatMillis(snapshot.timestamp_ms)},
           {"snapshot-id", snapshot.snapshot_id},
           {"parent-id", snapshot.parent_snapshot_id ? nlohmann::json(*snapshot.parent_snapshot_id)
                                                     : nlohmann::json()},
           {"operation", snapshot.operation()},
           {"refs", refs},
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
    std::string refs;
    for (const auto& ref : row.value("refs", nlohmann::json::array()))
      refs += " " + ref.get<std::string>();
    std::printf("%s  %20lld  %-9s%s\n",
                row.value(history ? "made-current-at" : "committed-at", "").c_str(),
                static_cast<long long>(row["snapshot-id"].get<int64_t>()),
                row["operation"].get<std::string>().c_str(), refs.c_str());
  }
  return kExitOk;
}

std::string QuoteSqlString(std::string_view text) {
  std::string quoted = "'";
  for (char c : text) {
    quoted += c;
    if (c == '\'') quoted += '\'';
  }
  return quoted + "'";
}

// The DuckDB reader for an input file, by extension.
Result<std::string> ReaderFor(const std::string& path) {
  std::error_code error;
  const std::filesystem::path absolute = std::filesystem::absolute(path, error);
  if (error || !std::filesystem::is_regular_file(absolute, error)) {
    return Status::NotFound("input file {} does not exist", path)
        .WithHint("pass a CSV, JSON (newline-delimited) or Parquet file with --from");
  }
  const std::string quoted = QuoteSqlString(absolute.string());
  const std::string extension = absolute.extension().string();
  if (extension == ".csv" || extension == ".tsv" || extension == ".txt") {
    return "SELECT * FROM read_csv(" + quoted + ")";
  }
  if (extension == ".json" || extension == ".ndjson" || extension == ".jsonl") {
    return "SELECT * FROM read_json_auto(" + quoted + ")";
  }
  if (extension == ".parquet") return "SELECT * FROM read_parquet(" + quoted + ")";
  return Status::InvalidArgument("cannot tell the format of {} from its extension", path)
      .WithHint("use .csv, .tsv, .json, .ndjson, .jsonl or .parquet");
}

int Append(TableCommand& options, iceberg::Warehouse& warehouse,
           const iceberg::TableIdentifier& identifier) {
  const bool deleting = options.remove->parsed();
  const bool overwriting = options.overwrite->parsed();
  Result<std::string> source = std::string();
  if (!deleting) source = ReaderFor(options.from);
  if (!source.ok()) return Fail(source.error());
  // The engine may read only the input file's folder and the warehouse.
  std::vector<std::string> allowed = warehouse.ReadableDirectories();
  allowed.push_back(warehouse.LocalWriteDirectory(""));
  if (!deleting) allowed.push_back(std::filesystem::absolute(options.from).parent_path().string());
  auto database = engine::Database::Open(
      {.allowed_directories = allowed, .lock_down = true, .settings = {{"TimeZone", "UTC"}}});
  if (!database.ok()) return Fail(database.error());
  auto connection = database->Connect();
  if (!connection.ok()) return Fail(connection.error());
  iceberg::AppendOptions append_options;
  ProgressPrinter printer;
  if (!options.json) {
    append_options.progress = [&](const std::string& message) { printer.Stage(message); };
    append_options.write_progress = [&](double percent, double seconds) {
      printer.Write(percent, seconds);
    };
  }
  auto result =
      deleting
          ? iceberg::DeleteWhere(warehouse, identifier, *connection, options.where, append_options)
      : overwriting
          ? iceberg::OverwriteQuery(warehouse, identifier, *connection, *source, options.where,
                                    append_options)
          : iceberg::AppendQuery(warehouse, identifier, *connection, *source, append_options);
  printer.Finish();
  if (!result.ok()) return Fail(result.error());
  if (options.json) {
    std::printf("%s\n", nlohmann::json({{"snapshot-id", result->snapshot_id},
                                        {"added-records", result->added_records},
                                        {"added-files", result->added_files},
                                        {"added-bytes", result->added_bytes},
                                        {"removed-files", result->removed_files},
                                        {"removed-records", result->removed_records},
                                        {"commit-attempts", result->attempts}})
                            .dump()
                            .c_str());
  } else if (deleting || overwriting) {
    if (result->snapshot_id == 0) {
      std::printf("no rows of %s match; nothing changed\n", identifier.ToString().c_str());
    } else {
      std::printf(
          "%s %s: removed %lld files (%lld rows), added %lld files (%lld rows) as "
          "snapshot %lld\n",
          deleting ? "deleted from" : "overwrote", identifier.ToString().c_str(),
          static_cast<long long>(result->removed_files),
          static_cast<long long>(result->removed_records),
          static_cast<long long>(result->added_files),
          static_cast<long long>(result->added_records),
          static_cast<long long>(result->snapshot_id));
    }
  } else {
    std::printf("appended %lld rows in %lld files (%lld bytes) to %s as snapshot %lld\n",
                static_cast<long long>(result->added_records),
                static_cast<long long>(result->added_files),
                static_cast<long long>(result->added_bytes), identifier.ToString().c_str(),
                static_cast<long long>(result->snapshot_id));
  }
  return kExitOk;
}

void PrintRows(const std::vector<std::string>& names,
               const std::vector<std::vector<std::string>>& rows, const std::string& format) {
  if (format == "json") {
    for (const auto& row : rows) {
      nlohmann::json object = nlohmann::json::object();
      for (size_t index = 0; index < names.size(); ++index) {
        if (row[index] == "NULL") {
          object[names[index]] = nullptr;
        } else {
          object[names[index]] = row[index];
        }
      }
      std::printf("%s\n", object.dump().c_str());
    }
    return;
  }
  if (format == "csv") {
    auto quote = [](const std::string& value) {
      if (value.find_first_of(",\"\n") == std::string::npos) return value;
      std::string quoted = "\"";
      for (char c : value) {
        quoted += c;
        if (c == '"') quoted += '"';
      }
      return quoted + "\"";
    };
    for (size_t index = 0; index < names.size(); ++index)
      std::printf("%s%s", index ? "," : "", quote(names[index]).c_str());
    std::printf("\n");
    for (const auto& row : rows) {
      for (size_t index = 0; index < row.size(); ++index)
        std::printf("%s%s", index ? "," : "",
                    row[index] == "NULL" ? "" : quote(row[index]).c_str());
      std::printf("\n");
    }
    return;
  }
  std::vector<size_t> widths(names.size());
  for (size_t index = 0; index < names.size(); ++index)
    widths[index] = names[index].size();
  for (const auto& row : rows)
    for (size_t index = 0; index < row.size(); ++index)
      widths[index] = std::max(widths[index], row[index].size());
  for (size_t index = 0; index < names.size(); ++index)
    std::printf("%s%-*s", index ? " | " : "", static_cast<int>(widths[index]),
                names[index].c_str());
  std::printf("\n");
  for (size_t index = 0; index < names.size(); ++index)
    std::printf("%s%s", index ? "-+-" : "", std::string(widths[index], '-').c_str());
  std::printf("\n");
  for (const auto& row : rows) {
    for (size_t index = 0; index < row.size(); ++index)
      std::printf("%s%-*s", index ? " | " : "", static_cast<int>(widths[index]),
                  row[index].c_str());
    std::printf("\n");
  }
  std::printf("(%zu rows)\n", rows.size());
}

// `io` reads the table's files; the engine may read only below `readable_root`.
int Scan(TableCommand& options, storage::FileIO& io, const std::string& readable_root,
         const iceberg::LoadedTable& table) {
  if (options.format != "table" && options.format != "csv" && options.format != "json") {
    return Fail(Status::InvalidArgument("unknown --format '{}'", options.format)
                    .WithHint("use table, csv or json"));
  }
  std::optional<int64_t> snapshot;
  if (!options.as_of.empty()) {
    auto resolved = iceberg::ResolveSnapshot(table.metadata, options.as_of);
    if (!resolved.ok()) return Fail(resolved.error());
    snapshot = *resolved;
  }
  // Time travel reads with the schema the snapshot was written with (as Spark and Trino do for
  // snapshot ids and tags), so an older state shows the old column names.
  const iceberg::Schema* snapshot_schema = &table.metadata.CurrentSchema();
  if (snapshot && options.as_of != "main") {
    const iceberg::Snapshot* chosen = table.metadata.SnapshotById(*snapshot);
    const bool is_branch = table.metadata.refs.contains(options.as_of) &&
                           table.metadata.refs.at(options.as_of).is_branch;
    if (chosen && chosen->schema_id && !is_branch) {
      if (const iceberg::Schema* old = table.metadata.SchemaById(*chosen->schema_id)) {
        snapshot_schema = old;
      }
    }
  }
  const iceberg::Schema& schema = *snapshot_schema;
  // The filter is parsed against the schema and rendered back as SQL: it prunes manifests and
  // files, and user text never reaches the engine verbatim.
  auto filter = iceberg::ParseFilter(options.where, schema);
  if (!filter.ok()) return Fail(filter.error());
  auto plan = iceberg::PlanScan(io, table, snapshot, **filter);
  if (!plan.ok()) return Fail(plan.error());
  if (options.explain) {
    if (options.json) {
      std::printf("%s\n", nlohmann::json({{"snapshot-id", plan->snapshot_id},
                                          {"manifests-total", plan->manifests_total},
                                          {"manifests-kept", plan->manifests_kept},
                                          {"files-total", plan->files_total},
                                          {"files-kept", plan->files_kept},
                                          {"records-total", plan->records_total},
                                          {"records-kept", plan->records_kept},
                                          {"partition-filter", plan->partition_filter},
                                          {"row-filter", iceberg::FilterToSql(**filter)}})
                              .dump(2)
                              .c_str());
    } else {
      std::printf("scan of %s\n  %s\n  row filter: %s\n", table.identifier.ToString().c_str(),
                  plan->ToString().c_str(), iceberg::FilterToSql(**filter).c_str());
    }
    return kExitOk;
  }
  std::vector<std::string> names;
  for (const auto& field : schema.fields())
    names.push_back(field.name);
  if (plan->files.empty()) {
    PrintRows(names, {}, options.format);
    return kExitOk;
  }
  // The engine reads only the table's files.
  auto database = engine::Database::Open({.allowed_directories = {readable_root},
                                          .lock_down = true,
                                          .settings = {{"TimeZone", "UTC"}}});
  if (!database.ok()) return Fail(database.error());
  auto connection = database->Connect();
  if (!connection.ok()) return Fail(connection.error());
  // Files are read by field id, so columns renamed, added or widened since a file was written
  // come out right; row-level deletes are applied.
  auto read = iceberg::ScanSql(io, table.metadata, schema, *plan);
  if (!read.ok()) return Fail(read.error());
  std::string sql = "SELECT * FROM (" + *read + ")";
  if ((*filter)->kind != iceberg::Expression::Kind::kTrue) {
    sql += " WHERE " + iceberg::FilterToSql(**filter);
  }
  if (options.limit >= 0) sql += fmt::format(" LIMIT {}", options.limit);
  logging::Debug("scan of {} runs: {}", table.identifier.ToString(), sql);
  auto rows = connection->QueryText(sql);
  if (!rows.ok()) return Fail(rows.error());
  PrintRows(names, *rows, options.format);
  return kExitOk;
}

// "90s", "30m", "12h", "7d" or plain seconds.
Result<std::chrono::seconds> ParseDuration(const std::string& text) {
  if (text.empty()) return Status::InvalidArgument("empty duration");
  const char unit = text.back();
  const bool has_unit = unit == 's' || unit == 'm' || unit == 'h' || unit == 'd';
  const std::string digits = has_unit ? text.substr(0, text.size() - 1) : text;
  int64_t value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() || value < 0) {
    return Status::InvalidArgument("'{}' is not a duration", text)
        .WithHint("write a number with s, m, h or d, e.g. 12h");
  }
  const int64_t factor = unit == 'm' ? 60 : unit == 'h' ? 3600 : unit == 'd' ? 86400 : 1;
  return std::chrono::seconds(value * factor);
}

int Orphans(TableCommand& options, iceberg::Warehouse& warehouse,
            const iceberg::TableIdentifier& identifier) {
  auto window = ParseDuration(options.older_than);
  if (!window.ok()) return Fail(window.error());
  auto report = iceberg::RemoveOrphanFiles(warehouse, identifier, *window, options.dry_run);
  if (!report.ok()) return Fail(report.error());
  if (options.json) {
    std::printf("%s\n", nlohmann::json({{"files-scanned", report->files_scanned},
                                        {"referenced", report->referenced},
                                        {"orphans", report->orphans},
                                        {"orphan-bytes", report->orphan_bytes},
                                        {"kept-too-recent", report->too_recent},
                                        {"dry-run", options.dry_run}})
                            .dump()
                            .c_str());
    return kExitOk;
  }
  for (const auto& path : report->orphans)
    std::printf("%s %s\n", options.dry_run ? "would delete" : "deleted", path.c_str());
  std::printf("%zu orphan files (%llu bytes) %s; %zu referenced; %zu younger than %s kept\n",
              report->orphans.size(), static_cast<unsigned long long>(report->orphan_bytes),
              options.dry_run ? "found" : "deleted", report->referenced, report->too_recent,
              options.older_than.c_str());
  return kExitOk;
}

int Expire(TableCommand& options, iceberg::Warehouse& warehouse,
           const iceberg::TableIdentifier& identifier) {
  auto age = ParseDuration(options.expire_older_than);
  if (!age.ok()) return Fail(age.error());
  if (options.retain_last < 1) {
    return Fail(Status::InvalidArgument("--retain-last must be at least 1")
                    .WithHint("the current snapshot is always kept"));
  }
  const int64_t cutoff_ms = time::NowMicros() / 1000 -
                            std::chrono::duration_cast<std::chrono::milliseconds>(*age).count();
  auto report = iceberg::ExpireSnapshots(warehouse, identifier, cutoff_ms, options.retain_last);
  if (!report.ok()) return Fail(report.error());
  if (options.json) {
    std::printf("%s\n", nlohmann::json({{"expired-snapshots", report->expired_snapshots},
                                        {"deleted-files", report->deleted_files},
                                        {"deleted-bytes", report->deleted_bytes}})
                            .dump()
                            .c_str());
    return kExitOk;
  }
  for (int64_t id : report->expired_snapshots)
    std::printf("expired snapshot %lld\n", static_cast<long long>(id));
  std::printf("%zu snapshots expired; %zu files (%llu bytes) no longer reachable deleted\n",
              report->expired_snapshots.size(), report->deleted_files,
              static_cast<unsigned long long>(report->deleted_bytes));
  return kExitOk;
}

int Compact(TableCommand& options, iceberg::Warehouse& warehouse,
            const iceberg::TableIdentifier& identifier) {
  std::vector<std::string> allowed = warehouse.ReadableDirectories();
  allowed.push_back(warehouse.LocalWriteDirectory(""));
  auto database = engine::Database::Open(
      {.allowed_directories = allowed, .lock_down = true, .settings = {{"TimeZone", "UTC"}}});
  if (!database.ok()) return Fail(database.error());
  auto connection = database->Connect();
  if (!connection.ok()) return Fail(connection.error());
  iceberg::CompactOptions compact_options;
  compact_options.target_file_size = options.target_file_size;
  compact_options.min_input_files = options.min_input_files;
  compact_options.filter = options.where;
  ProgressPrinter printer;
  if (!options.json) {
    compact_options.progress = [&](const std::string& message) { printer.Stage(message); };
    compact_options.write_progress = [&](double percent, double seconds) {
      printer.Write(percent, seconds);
    };
  }
  auto result = iceberg::CompactTable(warehouse, identifier, *connection, compact_options);
  printer.Finish();
  if (!result.ok()) return Fail(result.error());
  if (options.json) {
    std::printf("%s\n", nlohmann::json({{"snapshot-id", result->snapshot_id},
                                        {"rewritten-files", result->rewritten_files},
                                        {"rewritten-bytes", result->rewritten_bytes},
                                        {"added-files", result->added_files},
                                        {"added-bytes", result->added_bytes},
                                        {"records", result->records},
                                        {"partitions", result->partitions}})
                            .dump()
                            .c_str());
    return kExitOk;
  }
  if (result->snapshot_id == 0) {
    std::printf("%s: nothing to compact\n", identifier.ToString().c_str());
    return kExitOk;
  }
  std::printf(
      "compacted %s: %lld files (%lld bytes) of %lld partitions rewritten as %lld files (%lld "
      "bytes), %lld rows, snapshot %lld\n",
      identifier.ToString().c_str(), static_cast<long long>(result->rewritten_files),
      static_cast<long long>(result->rewritten_bytes), static_cast<long long>(result->partitions),
      static_cast<long long>(result->added_files), static_cast<long long>(result->added_bytes),
      static_cast<long long>(result->records), static_cast<long long>(result->snapshot_id));
  return kExitOk;
}

int Rollback(TableCommand& options, iceberg::Warehouse& warehouse,
             const iceberg::TableIdentifier& identifier) {
  auto table = warehouse.LoadTable(identifier);
  if (!table.ok()) return Fail(table.error());
  auto target = iceberg::ResolveSnapshot(table->metadata, options.target_snapshot);
  if (!target.ok()) return Fail(target.error());
  auto rolled = iceberg::RollbackTo(warehouse, identifier, *target, options.force);
  if (!rolled.ok()) return Fail(rolled.error());
  std::printf("%s is at snapshot %lld again\n", identifier.ToString().c_str(),
              static_cast<long long>(*target));
  return kExitOk;
}

int Ref(TableCommand& options, iceberg::Warehouse& warehouse,
        const iceberg::TableIdentifier& identifier, bool is_branch) {
  const char* kind = is_branch ? "branch" : "tag";
  if (options.drop_ref) {
    auto dropped = iceberg::DropRef(warehouse, identifier, options.ref_name);
    if (!dropped.ok()) return Fail(dropped.error());
    std::printf("dropped %s %s of %s\n", kind, options.ref_name.c_str(),
                identifier.ToString().c_str());
    return kExitOk;
  }
  std::optional<int64_t> snapshot;
  if (!options.target_snapshot.empty()) {
    auto table = warehouse.LoadTable(identifier);
    if (!table.ok()) return Fail(table.error());
    auto resolved = iceberg::ResolveSnapshot(table->metadata, options.target_snapshot);
    if (!resolved.ok()) return Fail(resolved.error());
    snapshot = *resolved;
  }
  auto updated = iceberg::SetRef(warehouse, identifier, options.ref_name, is_branch, snapshot);
  if (!updated.ok()) return Fail(updated.error());
  std::printf("%s %s of %s points at snapshot %lld\n", kind, options.ref_name.c_str(),
              identifier.ToString().c_str(),
              static_cast<long long>(updated->metadata.refs.at(options.ref_name).snapshot_id));
  return kExitOk;
}

// "old:new" → {old, new}.
Result<std::pair<std::string, std::string>> SplitPair(const std::string& text,
                                                      std::string_view flag) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return Status::InvalidArgument("{} '{}' must look like column:value", flag, text);
  }
  return std::make_pair(text.substr(0, colon), text.substr(colon + 1));
}

int Alter(TableCommand& options, iceberg::Warehouse& warehouse,
          const iceberg::TableIdentifier& identifier) {
  // Parse everything first, so a typo changes nothing.
  std::vector<iceberg::NestedField> additions;
  for (const std::string& text : options.add_columns) {
    auto parsed = iceberg::ParseColumnList(text);
    if (!parsed.ok()) return Fail(parsed.error());
    for (const auto& field : parsed->fields()) {
      if (field.required) {
        return Fail(Status::InvalidArgument(
                        "cannot add column '{}' as not null: the table's existing rows have no "
                        "value for it",
                        field.name)
                        .WithHint("add it as optional"));
      }
      additions.push_back(field);
    }
  }
  std::vector<std::pair<std::string, std::string>> renames, widens;
  for (const std::string& text : options.renames) {
    auto pair = SplitPair(text, "--rename");
    if (!pair.ok()) return Fail(pair.error());
    renames.push_back(*pair);
  }
  std::vector<std::pair<std::string, iceberg::TypePtr>> widen_types;
  for (const std::string& text : options.widens) {
    auto pair = SplitPair(text, "--widen");
    if (!pair.ok()) return Fail(pair.error());
    auto type = iceberg::ParseColumnList("x " + pair->second);
    if (!type.ok()) return Fail(type.error());
    widen_types.emplace_back(pair->first, type->fields()[0].type);
  }
  auto set_properties = ParseProperties(options.set_properties);
  if (!set_properties.ok()) return Fail(set_properties.error());
  const bool schema_change = !additions.empty() || !renames.empty() || !widen_types.empty() ||
                             !options.drop_columns.empty() || !options.optionals.empty();
  const bool property_change = !set_properties->empty() || !options.unset_properties.empty();
  if (!schema_change && !property_change && !options.new_partition) {
    return Fail(Status::InvalidArgument("nothing to change")
                    .WithHint("use --add, --drop, --rename, --widen, --optional, --partition, "
                              "--set or --unset"));
  }
  if (options.new_partition) {
    auto table = warehouse.LoadTable(identifier);
    if (!table.ok()) return Fail(table.error());
    auto spec =
        iceberg::ParsePartitionExpression(*options.new_partition, table->metadata.CurrentSchema());
    if (!spec.ok()) return Fail(spec.error());
    auto updated = iceberg::UpdatePartitionSpec(warehouse, identifier, *spec);
    if (!updated.ok()) return Fail(updated.error());
    std::printf("%s now writes partition spec %d: %s (existing files keep theirs)\n",
                identifier.ToString().c_str(), updated->metadata.default_spec_id,
                iceberg::ToPartitionExpression(updated->metadata.DefaultSpec(),
                                               updated->metadata.CurrentSchema())
                    .c_str());
    if (!schema_change && !property_change) return kExitOk;
  }
  if (property_change) {
    auto updated =
        iceberg::UpdateProperties(warehouse, identifier, *set_properties, options.unset_properties);
    if (!updated.ok()) return Fail(updated.error());
    std::printf("%s properties: %zu set, %zu removed\n", identifier.ToString().c_str(),
                set_properties->size(), options.unset_properties.size());
    if (!schema_change) return kExitOk;
  }
  auto updated =
      iceberg::UpdateTableSchema(warehouse, identifier, [&](iceberg::SchemaUpdate& update) {
        for (const auto& field : additions)
          update.AddColumn(field.name, field.type);
        for (const auto& name : options.drop_columns)
          update.DeleteColumn(name);
        for (const auto& [from, to] : renames)
          update.RenameColumn(from, to);
        for (const auto& [name, type] : widen_types)
          update.UpdateColumnType(name, type);
        for (const auto& name : options.optionals)
          update.MakeOptional(name);
      });
  if (!updated.ok()) return Fail(updated.error());
  std::printf("%s now has schema %d: %s\n", identifier.ToString().c_str(),
              updated->metadata.current_schema_id,
              iceberg::ToColumnList(updated->metadata.CurrentSchema()).c_str());
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
  options.create->add_option("--sort", options.sort,
                             "Sort rows within written files: 'ts desc, id' (asc by default)");
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
  options.append = options.table->add_subcommand("append", "Append rows from a file");
  AddCommon(options.append, options, true);
  options.append->add_option("--from", options.from, "Input file: .csv, .json/.ndjson, .parquet")
      ->required();
  options.scan = options.table->add_subcommand("scan", "Print a table's rows");
  AddCommon(options.scan, options, true);
  options.scan->add_option("--where", options.where, "Row filter (SQL expression)");
  options.scan->add_option("--as-of", options.as_of,
                           "Read an older state: snapshot id, tag or branch, or a UTC time");
  options.scan->add_option("--format", options.format, "table (default), csv or json");
  options.scan->add_option("--limit", options.limit, "At most this many rows");
  options.scan->add_flag("--explain", options.explain,
                         "Print the scan plan (manifests and files kept) instead of rows");
  options.orphans = options.table->add_subcommand(
      "orphans", "Delete files no snapshot references (left by failed or killed writers)");
  AddCommon(options.orphans, options, true);
  options.orphans->add_option("--older-than", options.older_than,
                              "Only files older than this (default 1d): 90s, 30m, 12h, 7d");
  options.orphans->add_flag("--dry-run", options.dry_run, "List, do not delete");
  options.remove = options.table->add_subcommand(
      "delete", "Delete the rows matching a filter (rewrites only the affected files)");
  AddCommon(options.remove, options, true);
  options.remove->add_option("--where", options.where, "Rows to delete")->required();
  options.overwrite = options.table->add_subcommand(
      "overwrite", "Replace the rows matching --where (or all rows) by a file's rows");
  AddCommon(options.overwrite, options, true);
  options.overwrite->add_option("--from", options.from, "Input file")->required();
  options.overwrite->add_option("--where", options.where, "Rows to replace (default: all)");
  options.alter = options.table->add_subcommand(
      "alter", "Evolve the schema (ids are kept: no data is rewritten)");
  AddCommon(options.alter, options, true);
  options.alter->add_option("--add", options.add_columns, "Add columns: 'name type, ...'");
  options.alter->add_option("--drop", options.drop_columns, "Drop a column");
  options.alter->add_option("--rename", options.renames, "Rename a column: old:new");
  options.alter->add_option("--widen", options.widens,
                            "Promote a type: col:long (int→long, float→double, wider decimal)");
  options.alter->add_option("--optional", options.optionals, "Make a required column optional");
  options.alter->add_option("--partition", options.new_partition,
                            "New partitioning for new writes: 'day(ts), bucket(16, id)' ('' = "
                            "unpartitioned)");
  options.alter->add_option("--set", options.set_properties, "Set a table property KEY=VALUE");
  options.alter->add_option("--unset", options.unset_properties, "Remove a table property");
  options.expire = options.table->add_subcommand(
      "expire", "Expire old snapshots and delete the files only they referenced");
  AddCommon(options.expire, options, true);
  options.expire->add_option("--older-than", options.expire_older_than,
                             "Expire snapshots older than this (default 5d): 30m, 12h, 7d");
  options.expire->add_option("--retain-last", options.retain_last,
                             "Always keep this many most recent snapshots (default 1)");
  options.compact = options.table->add_subcommand(
      "compact", "Rewrite small files into target-sized ones (all rows kept, one snapshot)");
  AddCommon(options.compact, options, true);
  options.compact->add_option("--target-file-size", options.target_file_size,
                              "Bytes per written file (default: write.target-file-size-bytes)");
  options.compact->add_option("--min-input-files", options.min_input_files,
                              "Rewrite a partition's small files only if there are this many "
                              "(default 2)");
  options.compact->add_option("--where", options.where, "Only files that may hold matching rows");
  options.rollback = options.table->add_subcommand(
      "rollback", "Make an earlier snapshot current again (no data is rewritten)");
  AddCommon(options.rollback, options, true);
  options.rollback->add_option("--to", options.target_snapshot, "Snapshot id, tag, or a UTC time")
      ->required();
  options.rollback->add_flag("--force", options.force,
                             "Allow a snapshot that is not an ancestor of the current one");
  for (bool is_branch : {false, true}) {
    CLI::App* command = options.table->add_subcommand(
        is_branch ? "branch" : "tag",
        is_branch ? "Create, move or drop a branch" : "Create, move or drop a tag");
    AddCommon(command, options, true);
    command->add_option("name", options.ref_name, "Name of the branch or tag")->required();
    command->add_option("--at", options.target_snapshot,
                        "Snapshot id, tag or UTC time (default: current snapshot)");
    command->add_flag("--drop", options.drop_ref, "Drop it instead");
    (is_branch ? options.branch : options.tag) = command;
  }
  return &options;
}

bool TableCommandParsed(const TableCommand& command) {
  return command.table->parsed();
}

// Read-only commands on a table folder or metadata file that no warehouse manages, e.g. a
// table Spark wrote: `meshwork table scan ./exports/orders/metadata/v7.metadata.json`.
int RunOnTableFolder(TableCommand& options) {
  if (!options.schema->parsed() && !options.scan->parsed() && !options.history->parsed() &&
      !options.snapshots->parsed()) {
    return Fail(
        Status::InvalidArgument("{} names a table folder, which is read-only here", options.name)
            .WithHint("schema, scan, history and snapshots read a table folder; to "
                      "change a table, use its name in a warehouse: namespace.table"));
  }
  auto opened = iceberg::OpenStaticTable(options.name);
  if (!opened.ok()) return Fail(opened.error());
  const std::string folder =
      std::filesystem::path(opened->table.metadata_location).parent_path().parent_path().string();
  if (options.schema->parsed()) return Schema(options, opened->table);
  if (options.scan->parsed()) return Scan(options, *opened->io, folder, opened->table);
  return Snapshots(options, opened->table, options.history->parsed());
}

int RunTableCommand(TableCommand& options, const config::Config& config) {
  if (iceberg::LooksLikeTablePath(options.name)) return RunOnTableFolder(options);
  // Only create makes a warehouse folder: a typo in --warehouse must not leave empty folders.
  std::error_code missing;
  // (An s3:// warehouse is reached through AWS_* variables: AWS_ENDPOINT_URL, AWS_REGION, keys.)
  const bool object_store = options.warehouse.starts_with("s3://") ||
                            options.warehouse.starts_with("s3a://") ||
                            options.warehouse.starts_with("s3n://");
  if (!object_store && !options.create->parsed() &&
      !std::filesystem::is_directory(options.warehouse, missing)) {
    return Fail(Status::NotFound("there is no warehouse at {}", options.warehouse)
                    .WithHint("pass --warehouse DIR (default ./warehouse); `meshwork table create` "
                              "makes one"));
  }
  // Catalog tables: pointers in the metastore, swaps recorded in its event log.
  std::unique_ptr<metastore::Metastore> metastore;
  iceberg::Warehouse::PointerStoreFactory pointers;
  if (!options.metastore.empty()) {
    auto opened = metastore::Metastore::Open({.url = options.metastore, .max_connections = 2});
    if (!opened.ok()) return Fail(opened.error());
    metastore = std::move(*opened);
    const char* user = std::getenv("USER");
    const metastore::Actor actor{std::string("cli:") + (user ? user : "unknown"), ""};
    metastore::Metastore* store = metastore.get();
    pointers = [store, actor](storage::FileIO&) {
      return std::make_unique<catalog::MetastorePointerStore>(*store, actor);
    };
  }
  iceberg::WarehouseStorage storage;
  if (object_store) {
    // The CLI has no data dir of its own: cache and staging stay in the system temp folder.
    auto configured = WarehouseStorageSettings(config, "");
    if (!configured.ok()) return Fail(configured.error());
    storage = std::move(*configured);
    storage.cache_directory = Setting(config, "", "cache.directory");
    storage.staging_directory.clear();
  }
  auto warehouse = iceberg::Warehouse::Open(options.warehouse, pointers, storage);
  if (!warehouse.ok()) return Fail(warehouse.error());
  // Tables of domains with buckets of their own are reached through their storage profiles.
  if (metastore != nullptr) catalog::MountDomainStorage(*metastore, **warehouse);
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
  if (options.append->parsed() || options.remove->parsed() || options.overwrite->parsed()) {
    return Append(options, **warehouse, *identifier);
  }
  if (options.orphans->parsed()) return Orphans(options, **warehouse, *identifier);
  if (options.alter->parsed()) return Alter(options, **warehouse, *identifier);
  if (options.expire->parsed()) return Expire(options, **warehouse, *identifier);
  if (options.compact->parsed()) return Compact(options, **warehouse, *identifier);
  if (options.rollback->parsed()) return Rollback(options, **warehouse, *identifier);
  if (options.tag->parsed()) return Ref(options, **warehouse, *identifier, false);
  if (options.branch->parsed()) return Ref(options, **warehouse, *identifier, true);
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
  if (options.scan->parsed()) {
    return Scan(options, (*warehouse)->io(), (*warehouse)->ReadableDirectories().front(), *table);
  }
  if (options.history->parsed()) return Snapshots(options, *table, true);
  if (options.snapshots->parsed()) return Snapshots(options, *table, false);
  return kExitUsage;
}

}  // namespace meshwork::cli
