#include "iceberg/table_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include "common/time.h"
#include "common/uuid.h"
#include "iceberg/ddl_parser.h"
#include "iceberg/literal_text.h"
#include "iceberg/manifest.h"
#include "iceberg/murmur3.h"
#include "iceberg/scan_planner.h"
#include "iceberg/scan_reader.h"
#include "iceberg/sql_text.h"
#include "iceberg/table_commit.h"
#include "iceberg/value_codec.h"

namespace meshwork::iceberg {
namespace {

std::string Lower(std::string text) {
  for (char& c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// FIELD_IDS {"a": 1, "s": {__duckdb_field_id: 2, "x": 3}, "l": {__duckdb_field_id: 4,
// element: 5}}: how DuckDB's Parquet writer learns Iceberg's field ids.
std::string FieldIdsOf(const NestedField& field) {
  if (field.type->is_primitive()) return std::to_string(field.id);
  std::string text = fmt::format("{{__duckdb_field_id: {}", field.id);
  for (const NestedField& child : field.type->fields()) {
    text += fmt::format(", {}: {}", QuoteIdentifier(child.name), FieldIdsOf(child));
  }
  return text + "}";
}

}  // namespace

std::string ParquetCopyOptions(const Schema& schema) {
  std::string field_ids;
  for (const NestedField& field : schema.fields()) {
    field_ids += fmt::format("{}{}: {}", field_ids.empty() ? "" : ", ", QuoteIdentifier(field.name),
                             FieldIdsOf(field));
  }
  // The Iceberg schema in the footer, as the reference writers put it: readers that map columns
  // through it (icebird, older Spark) then find renamed columns by id.
  return fmt::format(
      "FORMAT parquet, COMPRESSION zstd, FIELD_IDS {{{}}}, KV_METADATA {{'iceberg.schema': {}}}",
      field_ids, QuoteString(SchemaToJson(schema).dump()));
}

Result<std::string> ReadParquetSql(const Schema& schema,
                                   const std::vector<std::string>& local_paths) {
  std::string list, id_map, columns;
  for (const std::string& path : local_paths)
    list += (list.empty() ? "" : ", ") + QuoteString(path);
  for (const NestedField& field : schema.fields()) {
    MW_ASSIGN_OR_RETURN(std::string type, DuckDBType(*field.type));
    id_map +=
        fmt::format("{}{}: {{name: {}, type: {}, default_value: NULL}}", id_map.empty() ? "" : ", ",
                    field.id, QuoteString(field.name), QuoteString(type));
    columns += (columns.empty() ? "" : ", ") + QuoteIdentifier(field.name);
  }
  // Our own partition folders look like Hive's ("__p0=v2026-01-02"); DuckDB must not turn them
  // into columns.
  return fmt::format(
      "SELECT {} FROM read_parquet([{}], schema = MAP {{{}}}, hive_partitioning = false)", columns,
      list, id_map);
}

namespace {

// Leaf column paths as parquet_metadata prints them ("s, a", "l, list, element") → field ids.
void CollectLeafPaths(const NestedField& field, const std::string& prefix,
                      std::unordered_map<std::string, int32_t>& paths) {
  const std::string path = prefix.empty() ? field.name : prefix + ", " + field.name;
  switch (field.type->kind()) {
    case TypeKind::kStruct:
      for (const NestedField& child : field.type->fields())
        CollectLeafPaths(child, path, paths);
      break;
    case TypeKind::kList:
      CollectLeafPaths(
          {field.type->fields()[0].id, "element", false, field.type->fields()[0].type, ""},
          path + ", list", paths);
      break;
    case TypeKind::kMap:
      CollectLeafPaths({field.type->fields()[0].id, "key", true, field.type->fields()[0].type, ""},
                       path + ", key_value", paths);
      CollectLeafPaths(
          {field.type->fields()[1].id, "value", false, field.type->fields()[1].type, ""},
          path + ", key_value", paths);
      break;
    default:
      paths.emplace(path, field.id);
  }
}

// Epoch microseconds of a timestamp or timestamptz column, independent of the session time zone.
std::string EpochMicros(const std::string& column) {
  return fmt::format("epoch_us({})", column);
}

// A UTC-naive TIMESTAMP for year()/month() of timestamps and timestamptz values.
std::string UtcTimestamp(const std::string& column, TypeKind kind) {
  if (kind == TypeKind::kDate) return fmt::format("CAST({} AS TIMESTAMP)", column);
  return fmt::format("make_timestamp({})", EpochMicros(column));
}

// SQL producing the transformed partition value in the canonical text form that ParseLiteralText
// reads back for the transform's result type.
Result<std::string> PartitionExpression(const PartitionField& field, const Schema& schema) {
  const NestedField* source = schema.FindField(field.source_id);
  if (source == nullptr) {
    return Status::InvalidArgument("partition field {} refers to a missing column", field.name);
  }
  const std::string column = QuoteIdentifier(schema.FullName(field.source_id));
  const TypeKind kind = source->type->kind();
  const int32_t parameter = field.transform.parameter();
  // Rarer cases go through our own Literal and Transform code (the spec-tested one) one value at
  // a time: slower than native SQL, exact for every type.
  auto through_literal = [&]() -> Result<std::string> {
    const bool bytes = kind == TypeKind::kBinary || kind == TypeKind::kFixed;
    return fmt::format(
        "meshwork_partition_text({}, {}, {})",
        bytes ? fmt::format("'0x' || hex({})", column) : fmt::format("CAST({} AS VARCHAR)", column),
        QuoteString(source->type->ToString()), QuoteString(field.transform.ToString()));
  };
  switch (field.transform.kind()) {
    case Transform::Kind::kVoid:
      return std::string("NULL");
    case Transform::Kind::kIdentity:
      switch (kind) {
        case TypeKind::kTimestamp:
        case TypeKind::kTimestampTz:
          return fmt::format("make_timestamp({})", EpochMicros(column));
        case TypeKind::kFloat:
        case TypeKind::kDouble:
        case TypeKind::kFixed:
        case TypeKind::kBinary:
          return through_literal();
        default:
          return column;
      }
    case Transform::Kind::kDay:
      // Writes run with TimeZone=UTC (UseUtc, or the locked engine's settings), so a plain cast
      // takes the UTC day of a timestamptz; it is much cheaper than epoch arithmetic.
      return fmt::format("CAST({} AS DATE)", column);
    case Transform::Kind::kHour:
      return fmt::format("CAST(floor({} / 3600000000) AS INTEGER)", EpochMicros(column));
    case Transform::Kind::kYear:
      return fmt::format("(year({}) - 1970)", UtcTimestamp(column, kind));
    case Transform::Kind::kMonth:
      return fmt::format("((year({0}) - 1970) * 12 + month({0}) - 1)", UtcTimestamp(column, kind));
    case Transform::Kind::kBucket:
      switch (kind) {
        case TypeKind::kInt:
        case TypeKind::kLong:
          return fmt::format("meshwork_bucket_long(CAST({} AS BIGINT), {})", column, parameter);
        case TypeKind::kDate:
          return fmt::format(
              "meshwork_bucket_long(CAST(date_diff('day', DATE '1970-01-01', {}) "
              "AS BIGINT), {})",
              column, parameter);
        case TypeKind::kTimestamp:
        case TypeKind::kTimestampTz:
          return fmt::format("meshwork_bucket_long({}, {})", EpochMicros(column), parameter);
        case TypeKind::kString:
          return fmt::format("meshwork_bucket_string({}, {})", column, parameter);
        default:
          return through_literal();
      }
    case Transform::Kind::kTruncate:
      switch (kind) {
        case TypeKind::kInt:
        case TypeKind::kLong:
          return fmt::format("({0} - ((({0} % {1}) + {1}) % {1}))", column, parameter);
        case TypeKind::kString:
          return fmt::format("left({}, {})", column, parameter);
        default:
          return through_literal();
      }
  }
  return through_literal();  // unreachable: every transform kind is handled above
}

struct WrittenFile {
  std::string relative_path;
  DataFile data_file;
};

}  // namespace

Status RegisterIcebergFunctions(engine::Connection& connection) {
  Status status =
      connection.RegisterScalarFunction(engine::MakeScalarFunction<int32_t(int64_t, int32_t)>(
          "meshwork_bucket_long", [](int64_t value, int32_t buckets) -> Result<int32_t> {
            if (buckets <= 0) return Status::InvalidArgument("bucket count must be positive");
            return BucketOf(IcebergHash(Literal::Long(value)), buckets);
          }));
  if (!status.ok() && status.code() != StatusCode::kAlreadyExists) return status;
  status = connection.RegisterScalarFunction(
      engine::MakeScalarFunction<int32_t(std::string_view, int32_t)>(
          "meshwork_bucket_string", [](std::string_view value, int32_t buckets) -> Result<int32_t> {
            if (buckets <= 0) return Status::InvalidArgument("bucket count must be positive");
            return BucketOf(static_cast<int32_t>(Murmur3_32(value.data(), value.size())), buckets);
          }));
  if (!status.ok() && status.code() != StatusCode::kAlreadyExists) return status;
  status = connection.RegisterScalarFunction(
      engine::MakeScalarFunction<std::string(std::string_view, std::string_view, std::string_view)>(
          "meshwork_partition_text",
          [](std::string_view value, std::string_view type_text,
             std::string_view transform_text) -> Result<std::string> {
            // Type and transform are constants of the query: parse each once per thread.
            thread_local std::map<std::pair<std::string, std::string>,
                                  std::pair<TypePtr, Transform>>
                parsed;
            auto key = std::make_pair(std::string(type_text), std::string(transform_text));
            auto it = parsed.find(key);
            if (it == parsed.end()) {
              MW_ASSIGN_OR_RETURN(Schema column, ParseColumnList("v " + key.first));
              MW_ASSIGN_OR_RETURN(Transform transform, Transform::Parse(key.second));
              it = parsed.emplace(key, std::make_pair(column.fields()[0].type, transform)).first;
            }
            MW_ASSIGN_OR_RETURN(Literal literal, ParseLiteralText(it->second.first, value));
            MW_ASSIGN_OR_RETURN(std::optional<Literal> result, it->second.second.Apply(literal));
            if (!result) return Status::Internal("transform {} gave no value", transform_text);
            return result->ToString();
          }));
  if (!status.ok() && status.code() != StatusCode::kAlreadyExists) return status;
  return Status::OK();
}

Result<std::string> DuckDBType(const Type& type) {
  switch (type.kind()) {
    case TypeKind::kBoolean:
      return std::string("BOOLEAN");
    case TypeKind::kInt:
      return std::string("INTEGER");
    case TypeKind::kLong:
      return std::string("BIGINT");
    case TypeKind::kFloat:
      return std::string("FLOAT");
    case TypeKind::kDouble:
      return std::string("DOUBLE");
    case TypeKind::kDecimal:
      return fmt::format("DECIMAL({},{})", type.precision(), type.scale());
    case TypeKind::kDate:
      return std::string("DATE");
    case TypeKind::kTime:
      return std::string("TIME");
    case TypeKind::kTimestamp:
      return std::string("TIMESTAMP");
    case TypeKind::kTimestampTz:
      return std::string("TIMESTAMPTZ");
    case TypeKind::kString:
      return std::string("VARCHAR");
    case TypeKind::kUuid:
      return std::string("UUID");
    case TypeKind::kFixed:
    case TypeKind::kBinary:
      return std::string("BLOB");
    case TypeKind::kList: {
      MW_ASSIGN_OR_RETURN(std::string element, DuckDBType(*type.fields()[0].type));
      return element + "[]";
    }
    case TypeKind::kMap: {
      MW_ASSIGN_OR_RETURN(std::string key, DuckDBType(*type.fields()[0].type));
      MW_ASSIGN_OR_RETURN(std::string value, DuckDBType(*type.fields()[1].type));
      return fmt::format("MAP({}, {})", key, value);
    }
    case TypeKind::kStruct: {
      std::string text = "STRUCT(";
      for (size_t index = 0; index < type.fields().size(); ++index) {
        MW_ASSIGN_OR_RETURN(std::string member, DuckDBType(*type.fields()[index].type));
        text += fmt::format("{}{} {}", index > 0 ? ", " : "",
                            QuoteIdentifier(type.fields()[index].name), member);
      }
      return text + ")";
    }
  }
  return Status::Internal("unknown type");
}

namespace {

// Runs the COPY that writes the staged Parquet files; returns their relative paths.
Result<std::vector<WrittenFile>> WriteDataFiles(Warehouse& warehouse, const LoadedTable& table,
                                                engine::Connection& connection,
                                                const std::string& source_sql,
                                                const std::string& staging_dir,
                                                const AppendOptions& options) {
  const Schema& schema = table.metadata.CurrentSchema();
  const PartitionSpec& spec = table.metadata.DefaultSpec();

  // Match source columns by name.
  MW_ASSIGN_OR_RETURN(engine::QueryResult probe,
                      connection.Query("SELECT * FROM (" + source_sql + ") LIMIT 0"));
  std::unordered_map<std::string, std::string> source_columns;
  for (const std::string& name : probe.column_names())
    source_columns.emplace(Lower(name), name);
  std::string select;
  for (const NestedField& field : schema.fields()) {
    MW_ASSIGN_OR_RETURN(std::string type, DuckDBType(*field.type));
    auto it = source_columns.find(Lower(field.name));
    if (!select.empty()) select += ", ";
    if (it == source_columns.end()) {
      if (field.required) {
        return Status::InvalidArgument("the input has no column '{}', which the table requires",
                                       field.name)
            .WithHint("add the column to the input, or make it optional in the table");
      }
      select += fmt::format("CAST(NULL AS {}) AS {}", type, QuoteIdentifier(field.name));
    } else {
      select += fmt::format("CAST({} AS {}) AS {}", QuoteIdentifier(it->second), type,
                            QuoteIdentifier(field.name));
      source_columns.erase(it);
    }
  }
  if (!source_columns.empty()) {
    std::string extra;
    for (const auto& [lower, name] : source_columns)
      extra += (extra.empty() ? "" : ", ") + name;
    return Status::InvalidArgument("the input has columns the table does not: {}", extra)
        .WithHint("evolve the table's schema first, or select only the table's columns");
  }
  MW_ASSIGN_OR_RETURN(TypePtr partition_type, spec.PartitionType(schema));
  std::vector<bool> encoded_partition;
  for (const NestedField& field : partition_type->fields()) {
    const TypeKind kind = field.type->kind();
    encoded_partition.push_back(kind == TypeKind::kString || kind == TypeKind::kBinary ||
                                kind == TypeKind::kFixed);
  }
  std::string partition_columns, partition_by;
  for (size_t index = 0; index < spec.fields().size(); ++index) {
    MW_ASSIGN_OR_RETURN(std::string expression, PartitionExpression(spec.fields()[index], schema));
    if (encoded_partition[index]) {
      // 'n' marks NULL, 'v<text>' a value: DuckDB writes NULL partitions as "NULL", which would
      // be ambiguous with the string 'NULL'.
      partition_columns += fmt::format(
          ", CASE WHEN ({0}) IS NULL THEN 'n' ELSE 'v' || CAST(({0}) AS VARCHAR) END AS __p{1}",
          expression, index);
    } else {
      // Numbers, dates and times cannot be 'NULL': DuckDB's own NULL folder name is unambiguous,
      // and partitioning by the typed value saves building a string per row.
      partition_columns += fmt::format(", ({}) AS __p{}", expression, index);
    }
    partition_by += fmt::format("{}__p{}", index > 0 ? ", " : "", index);
  }
  // Required columns must not receive NULLs: DuckDB's cast would let them through. A filter (not
  // a projected column, which the optimizer would drop) raises the error.
  std::string checks;
  for (const NestedField& field : schema.fields()) {
    if (!field.required) continue;
    checks += fmt::format(
        "{}CASE WHEN {} IS NULL THEN error('column {} is required but the input has a NULL')"
        "::BOOLEAN ELSE true END",
        checks.empty() ? "" : " AND ", QuoteIdentifier(field.name), field.name);
  }
  // Local warehouses stage inside the table folder; remote ones in a local staging folder whose
  // files Publish uploads before the commit.
  MW_ASSIGN_OR_RETURN(std::string target, warehouse.staging().LocalPath(staging_dir));
  {
    // DuckDB creates the staging folder but not its parents. LocalPath has checked the path for
    // symlinks, so creating the missing folders here stays inside the warehouse.
    std::error_code error;
    std::filesystem::create_directories(std::filesystem::path(target).parent_path(), error);
    if (error) {
      return Status::IOError("cannot create the data folder of table {}: {}",
                             table.identifier.ToString(), error.message())
          .WithResource(target);
    }
  }
  const int64_t target_file_size =
      table.metadata.PropertyAsLong("write.target-file-size-bytes", 128LL << 20);
  // The table's sort order: rows are sorted within each written file, which tightens column
  // bounds (better pruning) and is what readers that trust sort_order_id expect. DuckDB keeps an
  // ORDER BY only when it writes one file from one stream: its partitioned and size-rotated
  // writes interleave threads. So files are written first and then each one is sorted.
  std::string order_by;
  const SortOrder* sort_order = table.metadata.SortOrderById(table.metadata.default_sort_order_id);
  if (sort_order != nullptr) {
    for (const SortField& field : sort_order->fields) {
      if (field.transform.kind() != Transform::Kind::kIdentity ||
          schema.FindField(field.source_id) == nullptr) {
        return Status::NotImplemented(
                   "table {} has sort order {} with a transform or a dropped column; writing it "
                   "is not supported yet",
                   table.identifier.ToString(), sort_order->order_id)
            .WithHint("set a sort order of plain columns");
      }
      order_by +=
          fmt::format("{}{} {} NULLS {}", order_by.empty() ? "ORDER BY " : ", ",
                      QuoteIdentifier(schema.FullName(field.source_id)),
                      field.ascending ? "ASC" : "DESC", field.nulls_first ? "FIRST" : "LAST");
    }
  }
  // Cast first, then compute partition values from the cast columns.
  const std::string inner =
      fmt::format("SELECT *{} FROM (SELECT {} FROM ({}) AS source) AS typed{}", partition_columns,
                  select, source_sql, checks.empty() ? "" : " WHERE " + checks);
  std::string copy_options = ParquetCopyOptions(schema) + ", FILENAME_PATTERN 'data-{uuid}'";
  if (partition_by.empty()) {
    copy_options += fmt::format(", FILE_SIZE_BYTES {}", target_file_size);
  } else {
    copy_options += fmt::format(", PARTITION_BY ({})", partition_by);
  }
  if (options.progress) options.progress("writing Parquet files");
  {
    // A long write reports how far DuckDB is, from a thread that polls the connection.
    std::mutex mutex;
    std::condition_variable finished_signal;
    bool finished = false;
    std::thread monitor;
    const auto started = std::chrono::steady_clock::now();
    if (options.write_progress) {
      monitor = std::thread([&]() {
        std::unique_lock<std::mutex> lock(mutex);
        while (
            !finished_signal.wait_for(lock, options.progress_interval, [&] { return finished; })) {
          const engine::QueryProgress progress = connection.Progress();
          const double seconds =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
          lock.unlock();
          options.write_progress(progress.percentage, seconds);
          lock.lock();
        }
      });
    }
    Status written = connection.Execute(
        fmt::format("COPY ({}) TO {} ({})", inner, QuoteString(target), copy_options));
    if (monitor.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        finished = true;
      }
      finished_signal.notify_all();
      monitor.join();
    }
    MW_RETURN_IF_ERROR(written);
  }

  MW_ASSIGN_OR_RETURN(auto listed, warehouse.staging().List(staging_dir + "/"));
  std::vector<WrittenFile> files;
  for (const storage::FileInfo& info : listed) {
    if (!info.path.ends_with(".parquet")) continue;
    WrittenFile file;
    file.relative_path = info.path;
    if (!order_by.empty()) file.data_file.sort_order_id = table.metadata.default_sort_order_id;
    file.data_file.file_size_in_bytes = static_cast<int64_t>(info.size);
    // Partition values from the hive directories: ".../__p0=2024-03-05/__p1=n/data-....parquet".
    file.data_file.partition.resize(spec.fields().size());
    size_t start = staging_dir.size() + 1;
    while (true) {
      const size_t slash = info.path.find('/', start);
      if (slash == std::string::npos) break;
      const std::string component = info.path.substr(start, slash - start);
      start = slash + 1;
      if (!component.starts_with("__p")) continue;
      const size_t equals = component.find('=');
      const size_t index = std::stoul(component.substr(3, equals - 3));
      std::string encoded = component.substr(equals + 1), decoded;
      for (size_t offset = 0; offset < encoded.size(); ++offset) {
        if (encoded[offset] == '%' && offset + 2 < encoded.size()) {
          decoded += static_cast<char>(std::stoi(encoded.substr(offset + 1, 2), nullptr, 16));
          offset += 2;
        } else {
          decoded += encoded[offset];
        }
      }
      if (index >= spec.fields().size() || decoded.empty()) {
        return Status::Internal("unexpected partition directory '{}'", component);
      }
      if (encoded_partition[index] ? decoded[0] == 'n' : decoded == "NULL") continue;
      MW_ASSIGN_OR_RETURN(Literal value,
                          ParseLiteralText(partition_type->fields()[index].type,
                                           encoded_partition[index] ? decoded.substr(1) : decoded));
      file.data_file.partition[index] = std::move(value);
    }
    files.push_back(std::move(file));
  }
  if (!order_by.empty()) {
    if (options.progress) options.progress(fmt::format("sorting {} files", files.size()));
    for (WrittenFile& file : files) {
      MW_ASSIGN_OR_RETURN(std::string local, warehouse.staging().LocalPath(file.relative_path));
      // The temp name does not end in .parquet; if we die here, orphan cleanup removes it.
      const std::string sorting = local + ".sorting";
      MW_RETURN_IF_ERROR(connection.Execute(
          fmt::format("COPY (SELECT * FROM read_parquet({}) {}) TO {} ({})", QuoteString(local),
                      order_by, QuoteString(sorting), ParquetCopyOptions(schema))));
      std::error_code error;
      std::filesystem::rename(sorting, local, error);
      if (error) {
        return Status::IOError("cannot replace {} by its sorted copy: {}", local, error.message())
            .WithResource(local);
      }
      MW_ASSIGN_OR_RETURN(uint64_t size, warehouse.staging().Size(file.relative_path));
      file.data_file.file_size_in_bytes = static_cast<int64_t>(size);
    }
  }
  return files;
}

// Record counts and column metrics from the Parquet footers (no data is re-read).
Status CollectStatistics(Warehouse& warehouse, const Schema& schema, engine::Connection& connection,
                         std::vector<WrittenFile>& files) {
  if (files.empty()) return Status::OK();
  std::string list;
  std::unordered_map<std::string, WrittenFile*> by_local_path;
  for (WrittenFile& file : files) {
    MW_ASSIGN_OR_RETURN(std::string local, warehouse.staging().LocalPath(file.relative_path));
    list += (list.empty() ? "" : ", ") + QuoteString(local);
    by_local_path[local] = &file;
  }
  std::unordered_map<std::string, int32_t> leaf_ids;
  for (const NestedField& field : schema.fields())
    CollectLeafPaths(field, "", leaf_ids);

  MW_ASSIGN_OR_RETURN(auto rows,
                      connection.QueryText(fmt::format(
                          "SELECT file_name, num_rows FROM parquet_file_metadata([{}])", list)));
  for (const auto& row : rows) {
    auto it = by_local_path.find(row[0]);
    if (it != by_local_path.end()) it->second->data_file.record_count = std::stoll(row[1]);
  }
  MW_ASSIGN_OR_RETURN(engine::QueryResult result,
                      connection.Query(fmt::format(
                          "SELECT file_name, path_in_schema, num_values, stats_null_count, "
                          "total_compressed_size, stats_min_value, stats_max_value "
                          "FROM parquet_metadata([{}])",
                          list)));
  std::map<std::pair<WrittenFile*, int32_t>,
           std::pair<std::optional<Literal>, std::optional<Literal>>>
      bounds;
  while (true) {
    MW_ASSIGN_OR_RETURN(engine::DataChunk chunk, result.Fetch());
    if (!chunk) break;
    for (uint64_t row = 0; row < chunk.size(); ++row) {
      const std::string file_name(chunk.column(0).GetString(row));
      const std::string path(chunk.column(1).GetString(row));
      auto file_it = by_local_path.find(file_name);
      auto leaf_it = leaf_ids.find(path);
      if (file_it == by_local_path.end() || leaf_it == leaf_ids.end()) continue;
      DataFile& file = file_it->second->data_file;
      const int32_t id = leaf_it->second;
      file.value_counts[id] += chunk.column(2).Get<int64_t>(row);
      if (!chunk.column(3).IsNull(row))
        file.null_value_counts[id] += chunk.column(3).Get<int64_t>(row);
      file.column_sizes[id] += chunk.column(4).Get<int64_t>(row);
      // Bounds for top-level primitive columns only (nested bounds are optional in the spec).
      const NestedField* field = schema.FindField(id);
      if (path.find(',') != std::string::npos || field == nullptr ||
          field->type->kind() == TypeKind::kFloat || field->type->kind() == TypeKind::kDouble ||
          field->type->kind() == TypeKind::kBinary || field->type->kind() == TypeKind::kFixed ||
          chunk.column(5).IsNull(row) || chunk.column(6).IsNull(row)) {
        continue;
      }
      auto low = ParseLiteralText(field->type, chunk.column(5).GetString(row));
      auto high = ParseLiteralText(field->type, chunk.column(6).GetString(row));
      if (!low.ok() || !high.ok()) continue;  // a value we cannot read back: no bound
      auto& [lower, upper] = bounds[{file_it->second, id}];
      if (!lower || low->Compare(*lower) == std::partial_ordering::less) lower = *low;
      if (!upper || high->Compare(*upper) == std::partial_ordering::greater) upper = *high;
    }
  }
  for (auto& [key, range] : bounds) {
    DataFile& file = key.first->data_file;
    // Strings: keep bounds short like the reference implementation's truncate(16) metrics,
    // dropping an upper bound that would need rounding up.
    if (range.first->type()->kind() == TypeKind::kString) {
      const std::string& low = range.first->as<std::string>();
      const std::string& high = range.second->as<std::string>();
      file.lower_bounds[key.second] = SerializeValue(Literal::String(low.substr(0, 16)));
      if (high.size() <= 16) file.upper_bounds[key.second] = SerializeValue(*range.second);
      continue;
    }
    file.lower_bounds[key.second] = SerializeValue(*range.first);
    file.upper_bounds[key.second] = SerializeValue(*range.second);
  }
  return Status::OK();
}

}  // namespace

namespace {

Status UseUtc(engine::Connection& connection) {
  // Partition values and statistics are read as text in UTC. A locked-down database cannot SET,
  // so callers open it with TimeZone=UTC; others get it set here.
  MW_ASSIGN_OR_RETURN(auto zone, connection.QueryText("SELECT current_setting('TimeZone')"));
  if (zone.empty() || (zone[0][0] != "UTC" && zone[0][0] != "Etc/UTC")) {
    MW_RETURN_IF_ERROR(connection.Execute("SET TimeZone = 'UTC'"));
  }
  return Status::OK();
}

std::string StagingDir(const Warehouse& warehouse, const LoadedTable& table,
                       std::string_view kind) {
  return fmt::format("{}/data/{}-{}", warehouse.TableFolder(table), kind, Uuid::V7().ToString());
}

void RemoveStaged(Warehouse& warehouse, const std::string& staging_dir) {
  // Remote warehouses: the local staging copies, then whatever was uploaded already.
  warehouse.RemoveStagedFolder(staging_dir);
  auto files = warehouse.io().List(staging_dir + "/");
  if (!files.ok()) return;
  for (const auto& file : *files)
    (void)warehouse.io().Delete(file.path);
}

// Runs `source_sql` into Parquet files under `staging_dir` and returns them as data files of the
// default spec, with statistics; empty files are dropped.
Result<std::vector<DataFile>> StageQuery(Warehouse& warehouse, const LoadedTable& table,
                                         engine::Connection& connection,
                                         const std::string& source_sql,
                                         const std::string& staging_dir,
                                         const AppendOptions& options) {
  MW_ASSIGN_OR_RETURN(
      std::vector<WrittenFile> files,
      WriteDataFiles(warehouse, table, connection, source_sql, staging_dir, options));
  MW_RETURN_IF_ERROR(CollectStatistics(warehouse, table.metadata.CurrentSchema(), connection, files)
                         .WithContext("cannot read the statistics of the written files"));
  std::vector<DataFile> data_files;
  std::vector<std::string> kept;
  for (WrittenFile& file : files) {
    if (file.data_file.record_count == 0) {
      (void)warehouse.staging().Delete(file.relative_path);
      continue;
    }
    kept.push_back(file.relative_path);
    file.data_file.file_path = warehouse.FileUri(file.relative_path);
    file.data_file.partition_spec_id = table.metadata.default_spec_id;
    data_files.push_back(std::move(file.data_file));
  }
  if (options.progress && warehouse.remote() && !kept.empty()) {
    options.progress(fmt::format("uploading {} files to {}", kept.size(), warehouse.root()));
  }
  MW_RETURN_IF_ERROR(warehouse.Publish(kept));
  return data_files;
}

// For a row-level delete: which live files lose rows, and the rewritten remainders of files that
// lose only some (copy-on-write), in their original partitions.
struct RowDeletePlan {
  std::set<std::string> removed;
  std::map<int32_t, std::vector<DataFile>> rewritten;
  int64_t deleted_rows = 0;
};

Result<RowDeletePlan> PlanRowDelete(Warehouse& warehouse, const LoadedTable& table,
                                    engine::Connection& connection, const Expression& filter,
                                    const std::string& staging_dir) {
  const Schema& schema = table.metadata.CurrentSchema();
  MW_ASSIGN_OR_RETURN(ScanPlan plan, PlanScan(warehouse, table, std::nullopt, filter));
  const std::string condition = FilterToSql(filter);
  RowDeletePlan result;
  for (const DataFile& file : plan.files) {
    MW_ASSIGN_OR_RETURN(std::string local, warehouse.io().LocalPath(file.file_path));
    MW_ASSIGN_OR_RETURN(std::string read, ReadParquetSql(schema, {local}));
    MW_ASSIGN_OR_RETURN(auto counts, connection.QueryText(fmt::format(
                                         "SELECT count(*) FILTER (WHERE {}), count(*) FROM ({})",
                                         condition, read)));
    const int64_t matching = std::stoll(counts[0][0]);
    const int64_t total = std::stoll(counts[0][1]);
    if (matching == 0) continue;
    result.removed.insert(file.file_path);
    result.deleted_rows += matching;
    if (matching == total) continue;
    // Keep the rows the filter does not select (NULL counts as "not selected", as in SQL).
    const std::string relative =
        fmt::format("{}/data-{}.parquet", staging_dir, Uuid::V4().ToString());
    MW_ASSIGN_OR_RETURN(std::string target, warehouse.staging().LocalPath(relative));
    std::error_code error;
    std::filesystem::create_directories(std::filesystem::path(target).parent_path(), error);
    MW_RETURN_IF_ERROR(connection.Execute(
        fmt::format("COPY (SELECT * FROM ({}) WHERE ({}) IS NOT TRUE) TO {} ({})", read, condition,
                    QuoteString(target), ParquetCopyOptions(schema))));
    MW_ASSIGN_OR_RETURN(uint64_t size, warehouse.staging().Size(relative));
    std::vector<WrittenFile> rewritten(1);
    rewritten[0].relative_path = relative;
    rewritten[0].data_file.file_size_in_bytes = static_cast<int64_t>(size);
    MW_RETURN_IF_ERROR(CollectStatistics(warehouse, schema, connection, rewritten));
    MW_RETURN_IF_ERROR(warehouse.Publish({relative}));
    DataFile& remainder = rewritten[0].data_file;
    remainder.file_path = warehouse.FileUri(relative);
    remainder.partition = file.partition;
    remainder.partition_spec_id = file.partition_spec_id;
    result.rewritten[file.partition_spec_id].push_back(std::move(remainder));
  }
  return result;
}

AppendResult ToAppendResult(const CommitResult& commit) {
  AppendResult result;
  result.snapshot_id = commit.snapshot_id;
  result.added_records = commit.added_records;
  result.added_files = commit.added_files;
  result.added_bytes = commit.added_bytes;
  result.removed_files = commit.removed_files;
  result.removed_records = commit.removed_records;
  result.attempts = commit.attempts;
  result.metadata_location = commit.metadata_location;
  return result;
}

}  // namespace

Result<AppendResult> AppendQuery(Warehouse& warehouse, const TableIdentifier& identifier,
                                 engine::Connection& connection, const std::string& source_sql,
                                 const AppendOptions& options) {
  MW_RETURN_IF_ERROR(RegisterIcebergFunctions(connection));
  MW_RETURN_IF_ERROR(UseUtc(connection));
  MW_ASSIGN_OR_RETURN(LoadedTable table, warehouse.LoadTable(identifier));
  const std::string staging_dir = StagingDir(warehouse, table, "append");
  auto staged = StageQuery(warehouse, table, connection, source_sql, staging_dir, options);
  if (!staged.ok()) {
    RemoveStaged(warehouse, staging_dir);
    return std::move(staged).error().WithContext(
        fmt::format("cannot append to {}", identifier.ToString()));
  }
  if (options.before_commit) {
    Status checked = options.before_commit(*staged);
    if (!checked.ok()) {
      RemoveStaged(warehouse, staging_dir);
      return checked;
    }
  }
  TableChange change;
  change.operation = "append";
  change.added[table.metadata.default_spec_id] = std::move(*staged);
  change.max_attempts = options.max_attempts;
  change.summary = options.summary;
  auto committed = CommitTableChange(warehouse, table, change);
  if (!committed.ok()) {
    RemoveStaged(warehouse, staging_dir);
    return committed.error();
  }
  return ToAppendResult(*committed);
}

Result<AppendResult> DeleteWhere(Warehouse& warehouse, const TableIdentifier& identifier,
                                 engine::Connection& connection, const std::string& filter_text,
                                 const AppendOptions& options) {
  MW_RETURN_IF_ERROR(UseUtc(connection));
  MW_ASSIGN_OR_RETURN(LoadedTable table, warehouse.LoadTable(identifier));
  MW_ASSIGN_OR_RETURN(ExpressionPtr filter,
                      ParseFilter(filter_text, table.metadata.CurrentSchema()));
  if (filter->kind == Expression::Kind::kTrue) {
    return Status::InvalidArgument("a delete needs a filter")
        .WithHint(
            "to empty the table, use --where with a condition that is always true, e.g. "
            "\"id is null or id is not null\"");
  }
  const std::string staging_dir = StagingDir(warehouse, table, "delete");
  auto plan = PlanRowDelete(warehouse, table, connection, *filter, staging_dir);
  if (!plan.ok()) {
    RemoveStaged(warehouse, staging_dir);
    return std::move(plan).error().WithContext(
        fmt::format("cannot delete from {}", identifier.ToString()));
  }
  if (plan->removed.empty()) return AppendResult{};  // nothing matched: no new snapshot
  TableChange change;
  change.operation = plan->rewritten.empty() ? "delete" : "overwrite";
  change.added = std::move(plan->rewritten);
  change.removed = std::move(plan->removed);
  change.conflict_filter = filter;
  change.max_attempts = options.max_attempts;
  change.summary = options.summary;
  auto committed = CommitTableChange(warehouse, table, change);
  if (!committed.ok()) {
    RemoveStaged(warehouse, staging_dir);
    return committed.error();
  }
  return ToAppendResult(*committed);
}

Result<AppendResult> OverwriteQuery(Warehouse& warehouse, const TableIdentifier& identifier,
                                    engine::Connection& connection, const std::string& source_sql,
                                    const std::string& filter_text, const AppendOptions& options) {
  MW_RETURN_IF_ERROR(RegisterIcebergFunctions(connection));
  MW_RETURN_IF_ERROR(UseUtc(connection));
  MW_ASSIGN_OR_RETURN(LoadedTable table, warehouse.LoadTable(identifier));
  MW_ASSIGN_OR_RETURN(ExpressionPtr filter,
                      ParseFilter(filter_text, table.metadata.CurrentSchema()));
  const std::string staging_dir = StagingDir(warehouse, table, "overwrite");
  TableChange change;
  change.operation = "overwrite";
  change.max_attempts = options.max_attempts;
  change.summary = options.summary;
  change.conflict_filter = filter;
  auto fail = [&](Status status) {
    RemoveStaged(warehouse, staging_dir);
    return std::move(status).WithContext(fmt::format("cannot overwrite {}", identifier.ToString()));
  };
  if (filter->kind == Expression::Kind::kTrue) {
    // The whole table: every live file goes.
    auto live = LiveDataFiles(warehouse, table);
    if (!live.ok()) return fail(live.error());
    for (const DataFile& file : *live)
      change.removed.insert(file.file_path);
  } else {
    auto plan = PlanRowDelete(warehouse, table, connection, *filter, staging_dir);
    if (!plan.ok()) return fail(plan.error());
    change.removed = std::move(plan->removed);
    change.added = std::move(plan->rewritten);
  }
  auto staged = StageQuery(warehouse, table, connection, source_sql, staging_dir, options);
  if (!staged.ok()) return fail(staged.error());
  if (options.before_commit) {
    Status checked = options.before_commit(*staged);
    if (!checked.ok()) {
      RemoveStaged(warehouse, staging_dir);
      return checked;
    }
  }
  auto& added = change.added[table.metadata.default_spec_id];
  for (DataFile& file : *staged)
    added.push_back(std::move(file));
  auto committed = CommitTableChange(warehouse, table, change);
  if (!committed.ok()) return fail(committed.error());
  return ToAppendResult(*committed);
}

Result<CompactResult> CompactTable(Warehouse& warehouse, const TableIdentifier& identifier,
                                   engine::Connection& connection, const CompactOptions& options) {
  MW_RETURN_IF_ERROR(RegisterIcebergFunctions(connection));
  MW_RETURN_IF_ERROR(UseUtc(connection));
  MW_ASSIGN_OR_RETURN(LoadedTable table, warehouse.LoadTable(identifier));
  if (options.min_input_files < 1) {
    return Status::InvalidArgument("--min-input-files must be at least 1");
  }
  const int64_t target =
      options.target_file_size > 0
          ? options.target_file_size
          : table.metadata.PropertyAsLong("write.target-file-size-bytes", 128LL << 20);
  if (target < 1024) {
    return Status::InvalidArgument("a target file size of {} bytes is too small", target)
        .WithHint("use at least 1 KiB; the default is 128 MiB");
  }
  MW_ASSIGN_OR_RETURN(ExpressionPtr filter,
                      ParseFilter(options.filter, table.metadata.CurrentSchema()));
  MW_ASSIGN_OR_RETURN(ScanPlan plan, PlanScan(warehouse, table, std::nullopt, *filter));
  if (!plan.delete_files.empty()) {
    return Status::NotImplemented(
               "table {} has row-level delete files; compacting such a table is not supported yet",
               identifier.ToString())
        .WithHint("compact its deletes with the engine that wrote them");
  }

  // Group candidates by spec and partition: small files, and every file of an older spec.
  std::map<std::pair<int32_t, std::string>, std::vector<DataFile>> groups;
  for (DataFile& file : plan.files) {
    const bool old_spec = file.partition_spec_id != table.metadata.default_spec_id;
    if (!old_spec && file.file_size_in_bytes >= target / 4 * 3) continue;
    std::string key;
    for (const auto& value : file.partition)
      key += value ? "v" + value->ToString() + "\x1f" : std::string("n\x1f");
    groups[{file.partition_spec_id, key}].push_back(std::move(file));
  }
  ScanPlan inputs;
  CompactResult result;
  for (auto& [key, files] : groups) {
    const bool old_spec = key.first != table.metadata.default_spec_id;
    if (!old_spec && static_cast<int>(files.size()) < options.min_input_files) continue;
    ++result.partitions;
    for (DataFile& file : files) {
      ++result.rewritten_files;
      result.rewritten_bytes += file.file_size_in_bytes;
      result.records += file.record_count;
      inputs.files.push_back(std::move(file));
    }
  }
  if (inputs.files.empty()) return result;

  // One COPY rewrites every group: it partitions by the current spec and splits by the target.
  LoadedTable writing = table;
  writing.metadata.properties["write.target-file-size-bytes"] = std::to_string(target);
  const std::string staging_dir = StagingDir(warehouse, table, "compact");
  auto fail = [&](Status status) {
    RemoveStaged(warehouse, staging_dir);
    return std::move(status).WithContext(fmt::format("cannot compact {}", identifier.ToString()));
  };
  auto source = ScanSql(warehouse.io(), table.metadata, table.metadata.CurrentSchema(), inputs);
  if (!source.ok()) return fail(source.error());
  if (options.progress) {
    options.progress(fmt::format("rewriting {} files ({} rows) of {} partitions",
                                 result.rewritten_files, result.records, result.partitions));
  }
  AppendOptions append_options;
  append_options.progress = options.progress;
  append_options.write_progress = options.write_progress;
  auto staged = StageQuery(warehouse, writing, connection, *source, staging_dir, append_options);
  if (!staged.ok()) return fail(staged.error());
  int64_t written_records = 0;
  for (const DataFile& file : *staged) {
    written_records += file.record_count;
    ++result.added_files;
    result.added_bytes += file.file_size_in_bytes;
  }
  if (written_records != result.records) {  // never commit a rewrite that lost or made rows
    return fail(Status::Internal("the rewrite wrote {} rows for {} rows read", written_records,
                                 result.records));
  }
  TableChange change;
  change.operation = "replace";
  for (const DataFile& file : inputs.files)
    change.removed.insert(file.file_path);
  change.added[table.metadata.default_spec_id] = std::move(*staged);
  auto committed = CommitTableChange(warehouse, table, change);
  if (!committed.ok()) return fail(committed.error());
  result.snapshot_id = committed->snapshot_id;
  return result;
}

Result<std::vector<DataFile>> LiveDataFiles(Warehouse& warehouse, const LoadedTable& table,
                                            std::optional<int64_t> snapshot_id) {
  const Snapshot* snapshot =
      snapshot_id ? table.metadata.SnapshotById(*snapshot_id) : table.metadata.CurrentSnapshot();
  if (snapshot_id && snapshot == nullptr) {
    return Status::NotFound("table {} has no snapshot {}", table.identifier.ToString(),
                            *snapshot_id)
        .WithHint("list snapshots with `meshwork table snapshots`");
  }
  std::vector<DataFile> files;
  if (snapshot == nullptr) return files;
  MW_ASSIGN_OR_RETURN(std::string list, warehouse.io().ReadFile(snapshot->manifest_list));
  MW_ASSIGN_OR_RETURN(auto manifests, ReadManifestList(list, snapshot->manifest_list));
  for (const ManifestFile& manifest : manifests) {
    if (manifest.content != 0) {
      // Rewriting data files would resurrect rows the delete files remove.
      return Status::NotImplemented(
                 "table {} has row-level delete files (written by another engine); changing "
                 "such a table is not supported yet",
                 table.identifier.ToString())
          .WithHint("compact the table's deletes with the engine that wrote them, then retry");
    }
    MW_ASSIGN_OR_RETURN(std::string bytes, warehouse.io().ReadFile(manifest.manifest_path));
    MW_ASSIGN_OR_RETURN(auto entries, ReadManifest(bytes, manifest, table.metadata.CurrentSchema(),
                                                   table.metadata.partition_specs));
    for (ManifestEntry& entry : entries) {
      if (entry.status == EntryStatus::kDeleted) continue;
      files.push_back(std::move(entry.data_file));
    }
  }
  return files;
}

}  // namespace meshwork::iceberg
