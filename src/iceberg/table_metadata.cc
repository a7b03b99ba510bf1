#include "iceberg/table_metadata.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "iceberg/json_reader.h"

namespace meshwork::iceberg {

std::string Snapshot::operation() const {
  auto it = summary.find("operation");
  return it == summary.end() ? "" : it->second;
}

const Schema* TableMetadata::SchemaById(int32_t id) const {
  for (const Schema& schema : schemas) {
    if (schema.schema_id() == id) return &schema;
  }
  return nullptr;
}

const Schema& TableMetadata::CurrentSchema() const {
  return *SchemaById(current_schema_id);
}

const PartitionSpec* TableMetadata::SpecById(int32_t id) const {
  for (const PartitionSpec& spec : partition_specs) {
    if (spec.spec_id() == id) return &spec;
  }
  return nullptr;
}

const PartitionSpec& TableMetadata::DefaultSpec() const {
  return *SpecById(default_spec_id);
}

const SortOrder* TableMetadata::SortOrderById(int32_t id) const {
  for (const SortOrder& order : sort_orders) {
    if (order.order_id == id) return &order;
  }
  return nullptr;
}

const Snapshot* TableMetadata::SnapshotById(int64_t id) const {
  for (const Snapshot& snapshot : snapshots) {
    if (snapshot.snapshot_id == id) return &snapshot;
  }
  return nullptr;
}

const Snapshot* TableMetadata::CurrentSnapshot() const {
  return current_snapshot_id ? SnapshotById(*current_snapshot_id) : nullptr;
}

Result<const Snapshot*> TableMetadata::SnapshotForRef(const std::string& ref) const {
  auto it = refs.find(ref);
  if (it == refs.end()) {
    if (ref == "main" && current_snapshot_id) return CurrentSnapshot();
    std::string known;
    for (const auto& [name, unused] : refs)
      known += (known.empty() ? "" : ", ") + name;
    return Status::NotFound("the table has no branch or tag named '{}'", ref)
        .WithHint(known.empty() ? "the table has no refs yet" : "refs: " + known);
  }
  const Snapshot* snapshot = SnapshotById(it->second.snapshot_id);
  if (snapshot == nullptr) {
    return Status::Internal("ref '{}' points to snapshot {}, which the table does not have", ref,
                            it->second.snapshot_id);
  }
  return snapshot;
}

Result<const Snapshot*> TableMetadata::SnapshotAsOf(int64_t timestamp_ms) const {
  const Snapshot* found = nullptr;
  for (const SnapshotLogEntry& entry : snapshot_log) {
    if (entry.timestamp_ms <= timestamp_ms) found = SnapshotById(entry.snapshot_id);
  }
  if (found == nullptr) {
    return Status::NotFound("the table had no current snapshot at timestamp {} ms", timestamp_ms)
        .WithHint("use a later time, or a snapshot id from `meshwork table history`");
  }
  return found;
}

int64_t TableMetadata::PropertyAsLong(const std::string& key, int64_t fallback) const {
  auto it = properties.find(key);
  if (it == properties.end()) return fallback;
  try {
    return std::stoll(it->second);
  } catch (...) {
    return fallback;
  }
}

Result<Snapshot> SnapshotFromJson(const nlohmann::json& value, const std::string& path,
                                  int format_version) {
  MW_ASSIGN_OR_RETURN(auto reader, json::ObjectReader::Make(value, path));
  Snapshot snapshot;
  MW_ASSIGN_OR_RETURN(snapshot.snapshot_id, reader.RequiredLong("snapshot-id"));
  MW_ASSIGN_OR_RETURN(snapshot.parent_snapshot_id, reader.OptionalLong("parent-snapshot-id"));
  MW_ASSIGN_OR_RETURN(auto sequence, reader.OptionalLong("sequence-number"));
  if (!sequence && format_version >= 2) return reader.Missing("sequence-number");
  snapshot.sequence_number = sequence.value_or(0);
  MW_ASSIGN_OR_RETURN(snapshot.timestamp_ms, reader.RequiredLong("timestamp-ms"));
  MW_ASSIGN_OR_RETURN(auto manifest_list, reader.OptionalString("manifest-list"));
  MW_ASSIGN_OR_RETURN(auto manifests, reader.OptionalArray("manifests"));
  if (manifest_list) {
    snapshot.manifest_list = *manifest_list;
  } else if (format_version >= 2) {
    return reader.Missing("manifest-list");
  } else if (manifests) {
    for (size_t index = 0; index < manifests->size(); ++index) {
      if (!(*manifests)[index]->is_string()) {
        return Status::InvalidArgument("{}: expected a string",
                                       json::IndexPath(reader.PathOf("manifests"), index));
      }
      snapshot.v1_manifests.push_back((*manifests)[index]->get<std::string>());
    }
  }
  MW_ASSIGN_OR_RETURN(snapshot.summary, reader.StringMap("summary"));
  if (format_version >= 2 && !snapshot.summary.contains("operation")) {
    return Status::InvalidArgument("{}: the summary has no 'operation'", reader.PathOf("summary"));
  }
  MW_ASSIGN_OR_RETURN(snapshot.schema_id, reader.OptionalInt("schema-id"));
  return snapshot;
}

Result<SnapshotRef> SnapshotRefFromJson(const nlohmann::json& value, const std::string& path) {
  MW_ASSIGN_OR_RETURN(auto reader, json::ObjectReader::Make(value, path));
  SnapshotRef ref;
  MW_ASSIGN_OR_RETURN(ref.snapshot_id, reader.RequiredLong("snapshot-id"));
  MW_ASSIGN_OR_RETURN(std::string type, reader.RequiredString("type"));
  if (type != "branch" && type != "tag") {
    return reader.Invalid("type", "must be 'branch' or 'tag', got '" + type + "'");
  }
  ref.is_branch = type == "branch";
  MW_ASSIGN_OR_RETURN(ref.min_snapshots_to_keep, reader.OptionalInt("min-snapshots-to-keep"));
  MW_ASSIGN_OR_RETURN(ref.max_snapshot_age_ms, reader.OptionalLong("max-snapshot-age-ms"));
  MW_ASSIGN_OR_RETURN(ref.max_ref_age_ms, reader.OptionalLong("max-ref-age-ms"));
  return ref;
}

Result<StatisticsFile> StatisticsFromJson(const nlohmann::json& value, const std::string& path) {
  MW_ASSIGN_OR_RETURN(auto reader, json::ObjectReader::Make(value, path));
  StatisticsFile file;
  MW_ASSIGN_OR_RETURN(file.snapshot_id, reader.RequiredLong("snapshot-id"));
  MW_ASSIGN_OR_RETURN(file.statistics_path, reader.RequiredString("statistics-path"));
  MW_ASSIGN_OR_RETURN(file.file_size_in_bytes, reader.RequiredLong("file-size-in-bytes"));
  MW_ASSIGN_OR_RETURN(file.file_footer_size_in_bytes,
                      reader.RequiredLong("file-footer-size-in-bytes"));
  MW_ASSIGN_OR_RETURN(file.key_metadata, reader.OptionalString("key-metadata"));
  MW_ASSIGN_OR_RETURN(auto blobs, reader.RequiredArray("blob-metadata"));
  for (size_t index = 0; index < blobs.size(); ++index) {
    MW_ASSIGN_OR_RETURN(auto blob_reader,
                        json::ObjectReader::Make(
                            *blobs[index], json::IndexPath(reader.PathOf("blob-metadata"), index)));
    BlobMetadata blob;
    MW_ASSIGN_OR_RETURN(blob.type, blob_reader.RequiredString("type"));
    MW_ASSIGN_OR_RETURN(blob.snapshot_id, blob_reader.RequiredLong("snapshot-id"));
    MW_ASSIGN_OR_RETURN(blob.sequence_number, blob_reader.RequiredLong("sequence-number"));
    MW_ASSIGN_OR_RETURN(blob.fields, blob_reader.IntList("fields"));
    MW_ASSIGN_OR_RETURN(blob.properties, blob_reader.StringMap("properties"));
    file.blob_metadata.push_back(std::move(blob));
  }
  return file;
}

Result<PartitionStatisticsFile> PartitionStatisticsFromJson(const nlohmann::json& value,
                                                            const std::string& path) {
  MW_ASSIGN_OR_RETURN(auto entry, json::ObjectReader::Make(value, path));
  PartitionStatisticsFile file;
  MW_ASSIGN_OR_RETURN(file.snapshot_id, entry.RequiredLong("snapshot-id"));
  MW_ASSIGN_OR_RETURN(file.statistics_path, entry.RequiredString("statistics-path"));
  MW_ASSIGN_OR_RETURN(file.file_size_in_bytes, entry.RequiredLong("file-size-in-bytes"));
  return file;
}

namespace {

// The upstream Java messages, so users who search for them find the same explanations.
Status MissingInV2(std::string_view field) {
  return Status::InvalidArgument("{} must exist in format v2", field)
      .WithHint("the metadata file was written by a broken writer or edited by hand");
}

Result<TableMetadata> Parse(const nlohmann::json& value, const std::string& document) {
  MW_ASSIGN_OR_RETURN(auto reader, json::ObjectReader::Make(value, ""));
  TableMetadata metadata;
  MW_ASSIGN_OR_RETURN(metadata.format_version, reader.RequiredInt("format-version"));
  if (metadata.format_version < 1 ||
      metadata.format_version > TableMetadata::kMaxSupportedFormatVersion) {
    return Status::NotImplemented(
               "Cannot read unsupported version {}: meshwork reads format versions 1 and 2",
               metadata.format_version)
        .WithHint(metadata.format_version == 3
                      ? "format v3 (row lineage, new types) is not supported yet"
                      : "the file is not Iceberg table metadata meshwork can read");
  }
  const int version = metadata.format_version;
  MW_ASSIGN_OR_RETURN(auto uuid, reader.OptionalString("table-uuid"));
  if (!uuid && version >= 2) return reader.Missing("table-uuid");
  metadata.table_uuid = uuid.value_or("");
  MW_ASSIGN_OR_RETURN(metadata.location, reader.RequiredString("location"));
  MW_ASSIGN_OR_RETURN(auto last_sequence, reader.OptionalLong("last-sequence-number"));
  if (!last_sequence && version >= 2) return reader.Missing("last-sequence-number");
  metadata.last_sequence_number = last_sequence.value_or(0);
  MW_ASSIGN_OR_RETURN(metadata.last_updated_ms, reader.RequiredLong("last-updated-ms"));
  MW_ASSIGN_OR_RETURN(metadata.last_column_id, reader.RequiredInt("last-column-id"));

  // Schemas: "schemas" + "current-schema-id", or v1's single "schema".
  MW_ASSIGN_OR_RETURN(auto schemas, reader.OptionalArray("schemas"));
  if (schemas) {
    for (size_t index = 0; index < schemas->size(); ++index) {
      MW_ASSIGN_OR_RETURN(Schema schema,
                          SchemaFromJson(*(*schemas)[index], json::IndexPath("schemas", index)));
      metadata.schemas.push_back(std::move(schema));
    }
    MW_ASSIGN_OR_RETURN(auto current, reader.OptionalInt("current-schema-id"));
    if (!current) return reader.Missing("current-schema-id");
    metadata.current_schema_id = *current;
  } else if (version >= 2) {
    return MissingInV2("schemas");
  } else {
    const nlohmann::json* schema = reader.Find("schema");
    if (schema == nullptr) return reader.Missing("schema");
    MW_ASSIGN_OR_RETURN(Schema parsed, SchemaFromJson(*schema, "schema"));
    metadata.current_schema_id = parsed.schema_id();
    metadata.schemas.push_back(std::move(parsed));
  }
  if (metadata.SchemaById(metadata.current_schema_id) == nullptr) {
    std::string ids;
    for (const Schema& schema : metadata.schemas)
      ids += (ids.empty() ? "" : ", ") + std::to_string(schema.schema_id());
    return Status::InvalidArgument("Cannot find schema with current-schema-id={} from schemas [{}]",
                                   metadata.current_schema_id, ids);
  }

  // Partition specs.
  MW_ASSIGN_OR_RETURN(auto specs, reader.OptionalArray("partition-specs"));
  if (specs) {
    for (size_t index = 0; index < specs->size(); ++index) {
      MW_ASSIGN_OR_RETURN(
          PartitionSpec spec,
          PartitionSpecFromJson(*(*specs)[index], json::IndexPath("partition-specs", index)));
      metadata.partition_specs.push_back(std::move(spec));
    }
    MW_ASSIGN_OR_RETURN(auto default_spec, reader.OptionalInt("default-spec-id"));
    if (!default_spec) return reader.Missing("default-spec-id");
    metadata.default_spec_id = *default_spec;
  } else if (version >= 2) {
    return MissingInV2("partition-specs");
  } else {
    const nlohmann::json* spec = reader.Find("partition-spec");
    if (spec == nullptr) return reader.Missing("partition-spec");
    MW_ASSIGN_OR_RETURN(PartitionSpec parsed, PartitionSpecFromJson(*spec, "partition-spec", 0));
    metadata.partition_specs.push_back(std::move(parsed));
    metadata.default_spec_id = 0;
  }
  if (metadata.SpecById(metadata.default_spec_id) == nullptr) {
    return Status::InvalidArgument("default-spec-id {} is not one of the partition specs",
                                   metadata.default_spec_id);
  }
  MW_ASSIGN_OR_RETURN(auto last_partition_id, reader.OptionalInt("last-partition-id"));
  if (last_partition_id) {
    metadata.last_partition_id = *last_partition_id;
  } else if (version >= 2) {
    return MissingInV2("last-partition-id");
  } else {
    for (const PartitionSpec& spec : metadata.partition_specs)
      metadata.last_partition_id = std::max(metadata.last_partition_id, spec.LastFieldId());
  }

  // Sort orders.
  MW_ASSIGN_OR_RETURN(auto orders, reader.OptionalArray("sort-orders"));
  if (orders) {
    for (size_t index = 0; index < orders->size(); ++index) {
      MW_ASSIGN_OR_RETURN(
          SortOrder order,
          SortOrderFromJson(*(*orders)[index], json::IndexPath("sort-orders", index)));
      metadata.sort_orders.push_back(std::move(order));
    }
    MW_ASSIGN_OR_RETURN(auto default_order, reader.OptionalInt("default-sort-order-id"));
    if (!default_order) return reader.Missing("default-sort-order-id");
    metadata.default_sort_order_id = *default_order;
  } else if (version >= 2) {
    return MissingInV2("sort-orders");
  } else {
    metadata.sort_orders.push_back(SortOrder::Unsorted());
  }
  if (metadata.SortOrderById(metadata.default_sort_order_id) == nullptr) {
    return Status::InvalidArgument("default-sort-order-id {} is not one of the sort orders",
                                   metadata.default_sort_order_id);
  }

  MW_ASSIGN_OR_RETURN(metadata.properties, reader.StringMap("properties"));
  MW_ASSIGN_OR_RETURN(metadata.current_snapshot_id, reader.OptionalLong("current-snapshot-id"));
  // Writers use -1 for "no snapshot".
  if (metadata.current_snapshot_id == -1) metadata.current_snapshot_id.reset();

  MW_ASSIGN_OR_RETURN(auto snapshots, reader.OptionalArray("snapshots"));
  for (size_t index = 0; snapshots && index < snapshots->size(); ++index) {
    MW_ASSIGN_OR_RETURN(
        Snapshot snapshot,
        SnapshotFromJson(*(*snapshots)[index], json::IndexPath("snapshots", index), version));
    metadata.snapshots.push_back(std::move(snapshot));
  }
  if (metadata.current_snapshot_id && !metadata.CurrentSnapshot()) {
    return Status::InvalidArgument("current-snapshot-id {} is not one of the snapshots",
                                   *metadata.current_snapshot_id);
  }

  MW_ASSIGN_OR_RETURN(auto snapshot_log, reader.OptionalArray("snapshot-log"));
  for (size_t index = 0; snapshot_log && index < snapshot_log->size(); ++index) {
    MW_ASSIGN_OR_RETURN(
        auto entry,
        json::ObjectReader::Make(*(*snapshot_log)[index], json::IndexPath("snapshot-log", index)));
    SnapshotLogEntry log;
    MW_ASSIGN_OR_RETURN(log.timestamp_ms, entry.RequiredLong("timestamp-ms"));
    MW_ASSIGN_OR_RETURN(log.snapshot_id, entry.RequiredLong("snapshot-id"));
    metadata.snapshot_log.push_back(log);
  }
  MW_ASSIGN_OR_RETURN(auto metadata_log, reader.OptionalArray("metadata-log"));
  for (size_t index = 0; metadata_log && index < metadata_log->size(); ++index) {
    MW_ASSIGN_OR_RETURN(
        auto entry,
        json::ObjectReader::Make(*(*metadata_log)[index], json::IndexPath("metadata-log", index)));
    MetadataLogEntry log;
    MW_ASSIGN_OR_RETURN(log.timestamp_ms, entry.RequiredLong("timestamp-ms"));
    MW_ASSIGN_OR_RETURN(log.metadata_file, entry.RequiredString("metadata-file"));
    metadata.metadata_log.push_back(std::move(log));
  }

  if (const nlohmann::json* refs = reader.Find("refs")) {
    if (!refs->is_object()) return reader.Invalid("refs", "expected an object");
    for (const auto& [name, ref_value] : refs->items()) {
      MW_ASSIGN_OR_RETURN(SnapshotRef ref, SnapshotRefFromJson(ref_value, "refs." + name));
      if (metadata.SnapshotById(ref.snapshot_id) == nullptr) {
        return Status::InvalidArgument("refs.{}: snapshot {} does not exist", name,
                                       ref.snapshot_id);
      }
      metadata.refs.emplace(name, ref);
    }
  }
  // "There is always a main branch reference pointing to the current-snapshot-id."
  if (metadata.current_snapshot_id && !metadata.refs.contains("main")) {
    metadata.refs.emplace("main", SnapshotRef{*metadata.current_snapshot_id, true, {}, {}, {}});
  }

  MW_ASSIGN_OR_RETURN(auto statistics, reader.OptionalArray("statistics"));
  for (size_t index = 0; statistics && index < statistics->size(); ++index) {
    MW_ASSIGN_OR_RETURN(
        StatisticsFile file,
        StatisticsFromJson(*(*statistics)[index], json::IndexPath("statistics", index)));
    metadata.statistics.push_back(std::move(file));
  }
  MW_ASSIGN_OR_RETURN(auto partition_statistics, reader.OptionalArray("partition-statistics"));
  for (size_t index = 0; partition_statistics && index < partition_statistics->size(); ++index) {
    MW_ASSIGN_OR_RETURN(
        PartitionStatisticsFile file,
        PartitionStatisticsFromJson(*(*partition_statistics)[index],
                                    json::IndexPath("partition-statistics", index)));
    metadata.partition_statistics.push_back(std::move(file));
  }
  (void)document;
  return metadata;
}

}  // namespace

Result<TableMetadata> TableMetadataFromJsonValue(const nlohmann::json& value,
                                                 std::string_view document) {
  auto metadata = Parse(value, std::string(document));
  if (!metadata.ok()) {
    return std::move(metadata)
        .error()
        .WithResource(std::string(document))
        .WithContext(fmt::format("cannot read table metadata {}", document));
  }
  return metadata;
}

Result<TableMetadata> TableMetadataFromJson(std::string_view text, std::string_view document) {
  MW_ASSIGN_OR_RETURN(nlohmann::json value, json::Parse(text, document));
  return TableMetadataFromJsonValue(value, document);
}

nlohmann::json TableMetadataToJson(const TableMetadata& metadata) {
  nlohmann::json json = {
      {"format-version", 2},
      {"table-uuid", metadata.table_uuid},
      {"location", metadata.location},
      {"last-sequence-number", metadata.last_sequence_number},
      {"last-updated-ms", metadata.last_updated_ms},
      {"last-column-id", metadata.last_column_id},
      {"current-schema-id", metadata.current_schema_id},
      {"default-spec-id", metadata.default_spec_id},
      {"last-partition-id", metadata.last_partition_id},
      {"default-sort-order-id", metadata.default_sort_order_id},
      {"properties", metadata.properties},
      {"current-snapshot-id", metadata.current_snapshot_id.value_or(-1)},
  };
  json["schemas"] = nlohmann::json::array();
  for (const Schema& schema : metadata.schemas)
    json["schemas"].push_back(SchemaToJson(schema));
  json["partition-specs"] = nlohmann::json::array();
  for (const PartitionSpec& spec : metadata.partition_specs)
    json["partition-specs"].push_back(PartitionSpecToJson(spec));
  json["sort-orders"] = nlohmann::json::array();
  for (const SortOrder& order : metadata.sort_orders)
    json["sort-orders"].push_back(SortOrderToJson(order));
  json["snapshots"] = nlohmann::json::array();
  for (const Snapshot& snapshot : metadata.snapshots) {
    nlohmann::json entry = {{"snapshot-id", snapshot.snapshot_id},
                            {"sequence-number", snapshot.sequence_number},
                            {"timestamp-ms", snapshot.timestamp_ms},
                            {"manifest-list", snapshot.manifest_list},
                            {"summary", snapshot.summary}};
    if (snapshot.parent_snapshot_id) entry["parent-snapshot-id"] = *snapshot.parent_snapshot_id;
    if (snapshot.schema_id) entry["schema-id"] = *snapshot.schema_id;
    json["snapshots"].push_back(std::move(entry));
  }
  json["snapshot-log"] = nlohmann::json::array();
  for (const SnapshotLogEntry& entry : metadata.snapshot_log) {
    json["snapshot-log"].push_back(
        {{"timestamp-ms", entry.timestamp_ms}, {"snapshot-id", entry.snapshot_id}});
  }
  json["metadata-log"] = nlohmann::json::array();
  for (const MetadataLogEntry& entry : metadata.metadata_log) {
    json["metadata-log"].push_back(
        {{"timestamp-ms", entry.timestamp_ms}, {"metadata-file", entry.metadata_file}});
  }
  json["refs"] = nlohmann::json::object();
  for (const auto& [name, ref] : metadata.refs) {
    nlohmann::json entry = {{"snapshot-id", ref.snapshot_id},
                            {"type", ref.is_branch ? "branch" : "tag"}};
    if (ref.min_snapshots_to_keep) entry["min-snapshots-to-keep"] = *ref.min_snapshots_to_keep;
    if (ref.max_snapshot_age_ms) entry["max-snapshot-age-ms"] = *ref.max_snapshot_age_ms;
    if (ref.max_ref_age_ms) entry["max-ref-age-ms"] = *ref.max_ref_age_ms;
    json["refs"][name] = std::move(entry);
  }
  if (!metadata.statistics.empty()) {
    json["statistics"] = nlohmann::json::array();
    for (const StatisticsFile& file : metadata.statistics) {
      nlohmann::json blobs = nlohmann::json::array();
      for (const BlobMetadata& blob : file.blob_metadata) {
        nlohmann::json entry = {{"type", blob.type},
                                {"snapshot-id", blob.snapshot_id},
                                {"sequence-number", blob.sequence_number},
                                {"fields", blob.fields}};
        if (!blob.properties.empty()) entry["properties"] = blob.properties;
        blobs.push_back(std::move(entry));
      }
      nlohmann::json entry = {{"snapshot-id", file.snapshot_id},
                              {"statistics-path", file.statistics_path},
                              {"file-size-in-bytes", file.file_size_in_bytes},
                              {"file-footer-size-in-bytes", file.file_footer_size_in_bytes},
                              {"blob-metadata", std::move(blobs)}};
      if (file.key_metadata) entry["key-metadata"] = *file.key_metadata;
      json["statistics"].push_back(std::move(entry));
    }
  }
  if (!metadata.partition_statistics.empty()) {
    json["partition-statistics"] = nlohmann::json::array();
    for (const PartitionStatisticsFile& file : metadata.partition_statistics) {
      json["partition-statistics"].push_back({{"snapshot-id", file.snapshot_id},
                                              {"statistics-path", file.statistics_path},
                                              {"file-size-in-bytes", file.file_size_in_bytes}});
    }
  }
  return json;
}

std::string TableMetadataToString(const TableMetadata& metadata) {
  // Compact, as the reference implementation writes it: smaller files, faster commits.
  return TableMetadataToJson(metadata).dump();
}

}  // namespace meshwork::iceberg
