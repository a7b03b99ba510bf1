#include "iceberg/scan_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "iceberg/sql_text.h"
#include "iceberg/table_writer.h"

namespace meshwork::iceberg {
namespace {

// Reserved field ids of position delete files (spec: "Position Delete Files").
constexpr int32_t kDeleteFilePathId = 2147483546;
constexpr int32_t kDeletePosId = 2147483545;

// Internal column names cannot clash with user columns, which are only ever selected by alias.
std::string DataColumn(int32_t field_id) {
  return fmt::format("__c{}", field_id);
}

bool IsParquet(const DataFile& file) {
  std::string format = file.file_format;
  std::transform(format.begin(), format.end(), format.begin(), ::toupper);
  return format == "PARQUET";
}

// read_parquet over `paths`, mapping field ids to (internal name, DuckDB type); columns a file
// lacks read as NULL.
std::string ReadByFieldId(const std::vector<std::string>& paths,
                          const std::vector<std::pair<int32_t, std::string>>& columns,
                          const std::map<int32_t, std::string>& types,
                          const std::map<int32_t, std::string>& defaults = {}) {
  std::string list, id_map;
  for (const std::string& path : paths)
    list += (list.empty() ? "" : ", ") + QuoteString(path);
  for (const auto& [field_id, name] : columns) {
    // Defaults go in as text, which DuckDB casts to the column's type: the map's values must
    // all have one type.
    auto fallback = defaults.find(field_id);
    const std::string default_value = fallback == defaults.end()
                                          ? std::string("NULL")
                                          : fmt::format("CAST({} AS VARCHAR)", fallback->second);
    id_map +=
        fmt::format("{}{}: {{name: {}, type: {}, default_value: {}}}", id_map.empty() ? "" : ", ",
                    field_id, QuoteString(name), QuoteString(types.at(field_id)), default_value);
  }
  return fmt::format("read_parquet([{}], schema = MAP {{{}}}, hive_partitioning = false)", list,
                     id_map);
}

// read_parquet by column name, for files known to hold every read column under its current
// name. DuckDB then binds with the files' own metadata — row estimates that order joins, a scan
// of one file spread over the threads — which it skips when given `schema`.
std::string ReadByName(const std::vector<std::string>& paths,
                       const std::vector<std::pair<int32_t, std::string>>& columns,
                       const std::map<int32_t, std::string>& names,
                       const std::map<int32_t, std::string>& types) {
  std::string list, select;
  for (const std::string& path : paths)
    list += (list.empty() ? "" : ", ") + QuoteString(path);
  for (const auto& [field_id, internal] : columns) {
    select += fmt::format("{}CAST({} AS {}) AS {}", select.empty() ? "" : ", ",
                          QuoteIdentifier(names.at(field_id)), types.at(field_id), internal);
  }
  return fmt::format("(SELECT {} FROM read_parquet([{}], hive_partitioning = false))", select,
                     list);
}

// The field (top level, in any of the table's schemas) with this id, for equality deletes on a
// column the read schema no longer has.
const NestedField* FindTopLevelField(const TableMetadata& metadata, const Schema& schema,
                                     int32_t field_id) {
  for (const NestedField& field : schema.fields())
    if (field.id == field_id) return &field;
  for (auto it = metadata.schemas.rbegin(); it != metadata.schemas.rend(); ++it) {
    for (const NestedField& field : it->fields())
      if (field.id == field_id) return &field;
  }
  return nullptr;
}

// Spec id and partition values as one comparable string; NULL and "null" stay distinct.
std::string PartitionKey(const DataFile& file) {
  std::string key = std::to_string(file.partition_spec_id);
  for (const std::optional<Literal>& value : file.partition) {
    if (!value) {
      key += "|n";
      continue;
    }
    const std::string text = value->ToString();
    key += fmt::format("|v{}:{}", text.size(), text);
  }
  return key;
}

}  // namespace

Result<std::string> ScanSql(storage::FileIO& io, const TableMetadata& metadata,
                            const Schema& schema, const ScanPlan& plan) {
  std::map<int32_t, std::string> types;
  std::vector<std::pair<int32_t, std::string>> read_columns;
  std::string output;
  for (const NestedField& field : schema.fields()) {
    MW_ASSIGN_OR_RETURN(types[field.id], DuckDBType(*field.type));
    read_columns.emplace_back(field.id, DataColumn(field.id));
    output += fmt::format("{}{} AS {}", output.empty() ? "" : ", ", DataColumn(field.id),
                          QuoteIdentifier(field.name));
  }
  if (plan.files.empty()) {
    std::string nulls;
    for (const NestedField& field : schema.fields()) {
      nulls += fmt::format("{}CAST(NULL AS {}) AS {}", nulls.empty() ? "" : ", ", types[field.id],
                           QuoteIdentifier(field.name));
    }
    return fmt::format("SELECT {} WHERE false", nulls);
  }

  for (const DataFile& file : plan.files) {
    if (!IsParquet(file)) {
      return Status::NotImplemented("data file {} is {}; only Parquet data files can be read",
                                    file.file_path, file.file_format)
          .WithHint("rewrite the table's data as Parquet with the engine that wrote it");
    }
  }

  // Identity partition values stand in for columns a data file does not store (spec "Column
  // Projection"); pyiceberg and Hive migrations write files without them. Manifest metrics cannot
  // tell (Spark records metrics for a partition column its DuckDB-written files lack: the
  // reference table duckdb-partition-integer), so every file needs the fallback. Files are read
  // in groups of equal partition values, given to read_parquet as the default of a missing
  // column: free for files that have the column, where a COALESCE would cost every row.
  // meshwork's own writers always store every column, so files they added need no fallback
  // (known from the adding snapshot's engine-name; once it is expired, the fallback applies).
  std::set<int64_t> complete_writers;
  for (const Snapshot& snapshot : metadata.snapshots) {
    auto engine = snapshot.summary.find("engine-name");
    if (engine != snapshot.summary.end() && engine->second == "meshwork") {
      complete_writers.insert(snapshot.snapshot_id);
    }
  }
  std::map<int32_t, std::vector<std::string>> partition_constants;  // field id → per file SQL
  std::vector<bool> stores_every_column(plan.files.size());
  for (size_t index = 0; index < plan.files.size(); ++index) {
    const DataFile& file = plan.files[index];
    stores_every_column[index] = complete_writers.contains(file.added_snapshot_id);
    const PartitionSpec* spec = metadata.SpecById(file.partition_spec_id);
    if (spec == nullptr) continue;
    for (size_t position = 0; position < spec->fields().size(); ++position) {
      const PartitionField& field = spec->fields()[position];
      if (field.transform.kind() != Transform::Kind::kIdentity || !types.contains(field.source_id))
        continue;
      auto& constants = partition_constants[field.source_id];
      constants.resize(plan.files.size(), "NULL");
      if (position < file.partition.size() && file.partition[position]) {
        constants[index] = LiteralSql(*file.partition[position]);
      }
    }
  }

  std::vector<const DataFile*> position_deletes;
  std::map<std::vector<int32_t>, std::vector<const DataFile*>> equality_deletes;
  for (const DataFile& file : plan.delete_files) {
    if (!IsParquet(file)) {
      return Status::NotImplemented("delete file {} is {}; only Parquet delete files can be read",
                                    file.file_path, file.file_format);
    }
    if (file.content == FileContent::kPositionDeletes) {
      position_deletes.push_back(&file);
    } else {
      if (file.equality_ids.empty()) {
        return Status::InvalidArgument("equality delete file {} has no equality_ids",
                                       file.file_path)
            .WithHint("the manifest is damaged: equality deletes must name their columns");
      }
      std::vector<int32_t> ids = file.equality_ids;
      std::sort(ids.begin(), ids.end());
      equality_deletes[ids].push_back(&file);
    }
  }

  // Equality deletes may be on columns the read schema dropped: read those too.
  for (const auto& [ids, files] : equality_deletes) {
    for (int32_t id : ids) {
      if (types.contains(id)) continue;
      const NestedField* field = FindTopLevelField(metadata, schema, id);
      if (field == nullptr || !field->type->is_primitive()) {
        return Status::NotImplemented(
                   "equality delete file {} matches on field {}, which is not a top-level "
                   "primitive column of the table",
                   files[0]->file_path, id)
            .WithHint("equality deletes on nested columns are not supported yet");
      }
      MW_ASSIGN_OR_RETURN(types[id], DuckDBType(*field->type));
      read_columns.emplace_back(id, DataColumn(id));
    }
  }

  // Group the files by their identity partition values (first-appearance order); with too many
  // groups, one read with a per-row fallback instead.
  constexpr size_t kMaxReadGroups = 64;
  std::vector<std::string> group_keys(plan.files.size());
  for (const auto& [field_id, constants] : partition_constants) {
    for (size_t index = 0; index < plan.files.size(); ++index) {
      if (!stores_every_column[index]) group_keys[index] += "v" + constants[index] + "\x1f";
    }
  }
  std::vector<std::string> order_of_groups;
  std::map<std::string, std::vector<size_t>> members;
  for (size_t index = 0; index < plan.files.size(); ++index) {
    auto [it, fresh] = members.try_emplace(group_keys[index]);
    if (fresh) order_of_groups.push_back(group_keys[index]);
    it->second.push_back(index);
  }
  const bool per_row_fallback = order_of_groups.size() > kMaxReadGroups;
  if (per_row_fallback) {
    order_of_groups = {""};
    members = {{"", {}}};
    for (size_t index = 0; index < plan.files.size(); ++index)
      members[""].push_back(index);
  }
  const bool with_deletes = !position_deletes.empty() || !equality_deletes.empty();
  // Whether every read column has had one name in every schema of the table (no renames).
  std::map<int32_t, std::string> current_names;
  for (const NestedField& field : schema.fields())
    current_names[field.id] = field.name;
  bool stable_names = true;
  for (const auto& [field_id, internal] : read_columns)
    stable_names = stable_names && current_names.contains(field_id);
  for (const Schema& other : metadata.schemas) {
    for (const NestedField& field : other.fields()) {
      auto current = current_names.find(field.id);
      if (current != current_names.end() && current->second != field.name) stable_names = false;
    }
  }
  // `files` holds the plan's files in read order; __file (file_index + the group's offset) is a
  // position in it.
  std::vector<const DataFile*> files;
  std::string all_rows;
  for (const std::string& key : order_of_groups) {
    const std::vector<size_t>& group = members[key];
    std::vector<std::string> paths;
    std::map<int32_t, std::string> defaults;
    if (!per_row_fallback && !stores_every_column[group.front()]) {
      for (const auto& [field_id, constants] : partition_constants)
        defaults[field_id] = constants[group.front()];
    }
    const size_t offset = files.size();
    for (size_t index : group) {
      MW_ASSIGN_OR_RETURN(std::string local, io.LocalPath(plan.files[index].file_path));
      paths.push_back(std::move(local));
      files.push_back(&plan.files[index]);
    }
    std::string columns;
    for (const auto& [field_id, name] : read_columns) {
      auto constants = partition_constants.find(field_id);
      columns += columns.empty() ? "" : ", ";
      if (!per_row_fallback || constants == partition_constants.end()) {
        columns += name;
        continue;
      }
      std::string list;
      for (size_t index : group)
        list += (list.empty() ? "" : ", ") + constants->second[index];
      // A list indexed by file_index, NULL where the spec had no value.
      columns += fmt::format(
          "COALESCE({0}, CAST(([{1}])[CAST(file_index AS BIGINT) + 1] AS {2})) "
          "AS {0}",
          name, list, types.at(field_id));
    }
    if (with_deletes) {
      columns += fmt::format(", file_index + {} AS __file, file_row_number AS __pos", offset);
    }
    // By name where that reads the same values: meshwork wrote every file of the group with
    // every read column (its metrics say so), and no schema ever gave those ids other names.
    bool by_name = !with_deletes && !per_row_fallback && defaults.empty() && stable_names;
    for (size_t index : group) {
      if (!by_name) break;
      const DataFile& file = plan.files[index];
      by_name = stores_every_column[index];
      for (const auto& [field_id, internal] : read_columns)
        by_name = by_name && file.value_counts.contains(field_id);
    }
    all_rows += fmt::format("{}SELECT {} FROM {}", all_rows.empty() ? "" : " UNION ALL ", columns,
                            by_name ? ReadByName(paths, read_columns, current_names, types)
                                    : ReadByFieldId(paths, read_columns, types, defaults));
  }
  if (!with_deletes) return fmt::format("SELECT {} FROM ({})", output, all_rows);

  // __rows: every row with the index of its data file and its position in it.
  std::string sql = fmt::format("WITH __rows AS ({})", all_rows);
  std::string anti_joins;

  if (!position_deletes.empty() || !equality_deletes.empty()) {
    // Data files with what decides which deletes apply to them: their recorded path (position
    // deletes name it), data sequence number and partition.
    std::string values;
    for (size_t index = 0; index < files.size(); ++index) {
      const DataFile& data = *files[index];
      values += fmt::format("{}({}, {}, {}, {})", values.empty() ? "" : ", ", index,
                            QuoteString(data.file_path), data.data_sequence_number,
                            QuoteString(PartitionKey(data)));
    }
    sql += fmt::format(", __data_files(__file, __path, __seq, __partition) AS (VALUES {})", values);
  }

  if (!position_deletes.empty()) {
    // A position delete applies to data files no newer than itself (same commit included); the
    // path it names fixes the data file, and with it the partition.
    std::string values;
    std::vector<std::string> delete_paths;
    for (size_t index = 0; index < position_deletes.size(); ++index) {
      MW_ASSIGN_OR_RETURN(std::string local, io.LocalPath(position_deletes[index]->file_path));
      delete_paths.push_back(std::move(local));
      values += fmt::format("{}({}, {})", values.empty() ? "" : ", ", index,
                            position_deletes[index]->data_sequence_number);
    }
    const std::map<int32_t, std::string> delete_types = {{kDeleteFilePathId, "VARCHAR"},
                                                         {kDeletePosId, "BIGINT"}};
    sql += fmt::format(
        ", __position_files(__delete, __seq) AS (VALUES {}), __positions AS (SELECT f.__file, "
        "d.__pos FROM (SELECT file_index AS __delete, __path, __pos FROM {}) d JOIN "
        "__position_files pf ON pf.__delete = d.__delete JOIN __data_files f ON f.__path = "
        "d.__path AND f.__seq <= pf.__seq)",
        values,
        ReadByFieldId(delete_paths, {{kDeleteFilePathId, "__path"}, {kDeletePosId, "__pos"}},
                      delete_types));
    anti_joins += " ANTI JOIN __positions p ON p.__file = r.__file AND p.__pos = r.__pos";
  }

  size_t group_number = 0;
  for (const auto& [ids, files] : equality_deletes) {
    // An equality delete applies to strictly older data files of its partition, or of every
    // partition when its spec is unpartitioned (a global delete).
    std::string values;
    std::vector<std::string> delete_paths;
    for (size_t index = 0; index < files.size(); ++index) {
      const DataFile& deletes = *files[index];
      MW_ASSIGN_OR_RETURN(std::string local, io.LocalPath(deletes.file_path));
      delete_paths.push_back(std::move(local));
      const PartitionSpec* spec = metadata.SpecById(deletes.partition_spec_id);
      const bool global = spec == nullptr || spec->fields().empty();
      values += fmt::format("{}({}, {}, {})", values.empty() ? "" : ", ", index,
                            deletes.data_sequence_number,
                            global ? "CAST(NULL AS VARCHAR)" : QuoteString(PartitionKey(deletes)));
    }
    const std::string name = fmt::format("__equality{}", group_number++);
    std::vector<std::pair<int32_t, std::string>> delete_columns;
    std::string selected, condition;
    for (int32_t id : ids) {
      delete_columns.emplace_back(id, DataColumn(id));
      selected += ", d." + DataColumn(id);
      // A NULL in a delete row matches a NULL in the data row (spec: "col IS NULL").
      condition += fmt::format(" AND {0}.{1} IS NOT DISTINCT FROM r.{1}", name, DataColumn(id));
    }
    sql += fmt::format(
        ", {0}_files(__delete, __seq, __partition) AS (VALUES {1}), {0} AS (SELECT f.__file{2} "
        "FROM (SELECT file_index AS __delete, * FROM {3}) d JOIN {0}_files ef ON ef.__delete = "
        "d.__delete JOIN __data_files f ON f.__seq < ef.__seq AND (ef.__partition IS NULL OR "
        "ef.__partition = f.__partition))",
        name, values, selected, ReadByFieldId(delete_paths, delete_columns, types));
    anti_joins += fmt::format(" ANTI JOIN {0} ON {0}.__file = r.__file{1}", name, condition);
  }

  return sql + fmt::format(" SELECT {} FROM __rows r{}", output, anti_joins);
}

}  // namespace meshwork::iceberg
