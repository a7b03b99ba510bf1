#include "iceberg/table_update.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "common/time.h"
#include "iceberg/json_reader.h"

namespace meshwork::iceberg {
namespace {

constexpr std::string_view kMainBranch = "main";

Status RequirementFailed(std::string message) {
  return Status::Conflict("requirement failed: {}", message)
      .WithHint("the table changed since it was loaded: reload it and retry the commit");
}

Status CheckRequirement(const json::ObjectReader& reader, const TableMetadata* current) {
  MW_ASSIGN_OR_RETURN(std::string type, reader.RequiredString("type"));
  if (type == "assert-create") {
    if (current != nullptr) return RequirementFailed("the table already exists");
    return Status::OK();
  }
  static const std::set<std::string, std::less<>> kKnown = {"assert-table-uuid",
                                                            "assert-ref-snapshot-id",
                                                            "assert-last-assigned-field-id",
                                                            "assert-current-schema-id",
                                                            "assert-last-assigned-partition-id",
                                                            "assert-default-spec-id",
                                                            "assert-default-sort-order-id"};
  if (!kKnown.contains(type)) {
    return reader.Invalid("type", fmt::format("unknown requirement '{}'", type));
  }
  if (current == nullptr) return RequirementFailed("the table does not exist");
  const TableMetadata& m = *current;
  auto expect_int = [&](std::string_view key, int64_t actual, std::string_view what) -> Status {
    MW_ASSIGN_OR_RETURN(int64_t expected, reader.RequiredLong(key));
    if (expected != actual) {
      return RequirementFailed(
          fmt::format("{} changed: expected {}, is {}", what, expected, actual));
    }
    return Status::OK();
  };
  if (type == "assert-table-uuid") {
    MW_ASSIGN_OR_RETURN(std::string uuid, reader.RequiredString("uuid"));
    if (uuid != m.table_uuid) {
      return RequirementFailed(
          fmt::format("table uuid does not match: expected {}, is {}", uuid, m.table_uuid));
    }
    return Status::OK();
  }
  if (type == "assert-ref-snapshot-id") {
    MW_ASSIGN_OR_RETURN(std::string ref, reader.RequiredString("ref"));
    if (!reader.json().contains("snapshot-id")) return reader.Missing("snapshot-id");
    MW_ASSIGN_OR_RETURN(std::optional<int64_t> expected, reader.OptionalLong("snapshot-id"));
    const auto found = m.refs.find(ref);
    if (!expected) {
      if (found != m.refs.end()) {
        return RequirementFailed(fmt::format("ref '{}' was created concurrently", ref));
      }
      return Status::OK();
    }
    if (found == m.refs.end()) {
      return RequirementFailed(
          fmt::format("ref '{}' is missing, expected snapshot {}", ref, *expected));
    }
    if (found->second.snapshot_id != *expected) {
      return RequirementFailed(fmt::format("ref '{}' changed: expected snapshot {}, is {}", ref,
                                           *expected, found->second.snapshot_id));
    }
    return Status::OK();
  }
  if (type == "assert-last-assigned-field-id") {
    return expect_int("last-assigned-field-id", m.last_column_id, "last assigned field id");
  }
  if (type == "assert-current-schema-id") {
    return expect_int("current-schema-id", m.current_schema_id, "current schema id");
  }
  if (type == "assert-last-assigned-partition-id") {
    return expect_int("last-assigned-partition-id", m.last_partition_id,
                      "last assigned partition id");
  }
  if (type == "assert-default-spec-id") {
    return expect_int("default-spec-id", m.default_spec_id, "default partition spec id");
  }
  return expect_int("default-sort-order-id", m.default_sort_order_id, "default sort order id");
}

// Applies updates one by one, remembering what this commit added (for the -1 ids and the
// snapshot log).
class Builder {
 public:
  explicit Builder(TableMetadata& metadata) : m_(metadata) {}

  Status Apply(const json::ObjectReader& reader) {
    MW_ASSIGN_OR_RETURN(std::string action, reader.RequiredString("action"));
    if (action == "assign-uuid") return AssignUuid(reader);
    if (action == "upgrade-format-version") return UpgradeFormatVersion(reader);
    if (action == "add-schema") return AddSchema(reader);
    if (action == "set-current-schema") return SetCurrentSchema(reader);
    if (action == "add-spec") return AddSpec(reader);
    if (action == "set-default-spec") return SetDefaultSpec(reader);
    if (action == "add-sort-order") return AddSortOrder(reader);
    if (action == "set-default-sort-order") return SetDefaultSortOrder(reader);
    if (action == "add-snapshot") return AddSnapshot(reader);
    if (action == "set-snapshot-ref") return SetSnapshotRef(reader);
    if (action == "remove-snapshots") return RemoveSnapshots(reader);
    if (action == "remove-snapshot-ref") return RemoveSnapshotRef(reader);
    if (action == "set-location") return SetLocation(reader);
    if (action == "set-properties") return SetProperties(reader);
    if (action == "remove-properties") return RemoveProperties(reader);
    if (action == "set-statistics") return SetStatistics(reader);
    if (action == "remove-statistics") return RemoveStatistics(reader);
    if (action == "set-partition-statistics") return SetPartitionStatistics(reader);
    if (action == "remove-partition-statistics") return RemovePartitionStatistics(reader);
    if (action == "remove-partition-specs") return RemovePartitionSpecs(reader);
    if (action == "remove-schemas") return RemoveSchemas(reader);
    if (action == "add-encryption-key" || action == "remove-encryption-key") {
      return Status::NotImplemented("{}: table encryption keys (format v3) are not supported yet",
                                    reader.PathOf("action"));
    }
    if (action == "add-view-version" || action == "set-current-view-version") {
      return reader.Invalid("action",
                            fmt::format("'{}' is a view update, not a table update", action));
    }
    return reader.Invalid("action", fmt::format("unknown table update '{}'", action));
  }

 private:
  Status AssignUuid(const json::ObjectReader& reader) {
    MW_ASSIGN_OR_RETURN(std::string uuid, reader.RequiredString("uuid"));
    if (uuid.empty()) return reader.Invalid("uuid", "is empty");
    if (!m_.table_uuid.empty() && m_.table_uuid != uuid) {
      return reader.Invalid(
          "uuid", fmt::format("cannot reassign the table uuid {} to {}", m_.table_uuid, uuid));
    }
    m_.table_uuid = uuid;
    return Status::OK();
  }

  Status UpgradeFormatVersion(const json::ObjectReader& reader) {
    MW_ASSIGN_OR_RETURN(int32_t version, reader.RequiredInt("format-version"));
    if (version > TableMetadata::kMaxSupportedFormatVersion) {
      return Status::NotImplemented("{}: format version {} is not supported yet (at most {})",
                                    reader.PathOf("format-version"), version,
                                    TableMetadata::kMaxSupportedFormatVersion);
    }
    if (version < m_.format_version) {
      return reader.Invalid(
          "format-version",
          fmt::format("cannot downgrade format version {} to {}", m_.format_version, version));
    }
    if (version < 1) return reader.Invalid("format-version", "must be 1 or 2");
    m_.format_version = version;
    return Status::OK();
  }

  Status AddSchema(const json::ObjectReader& reader) {
    const nlohmann::json* value = reader.Find("schema");
    if (value == nullptr) return reader.Missing("schema");
    MW_ASSIGN_OR_RETURN(Schema schema, SchemaFromJson(*value, reader.PathOf("schema")));
    MW_ASSIGN_OR_RETURN(std::optional<int32_t> last_column_id,
                        reader.OptionalInt("last-column-id"));
    for (const Schema& existing : m_.schemas) {
      if (existing.SameStructure(schema)) {
        last_added_schema_ = existing.schema_id();
        return Status::OK();
      }
    }
    int32_t id = 0;
    for (const Schema& existing : m_.schemas)
      id = std::max(id, existing.schema_id() + 1);
    MW_ASSIGN_OR_RETURN(Schema renumbered,
                        Schema::Make(id, schema.fields(), schema.identifier_field_ids()));
    m_.last_column_id =
        std::max({m_.last_column_id, renumbered.HighestFieldId(), last_column_id.value_or(0)});
    m_.schemas.push_back(std::move(renumbered));
    last_added_schema_ = id;
    return Status::OK();
  }

  // -1: the last one this commit added.
  Result<int32_t> ResolveLastAdded(const json::ObjectReader& reader, std::string_view key,
                                   const std::optional<int32_t>& last_added,
                                   std::string_view what) {
    MW_ASSIGN_OR_RETURN(int32_t id, reader.RequiredInt(key));
    if (id != -1) return id;
    if (!last_added) {
      return reader.Invalid(key, fmt::format("-1 means the last {} this commit added, and it "
                                             "added none",
                                             what));
    }
    return *last_added;
  }

  Status SetCurrentSchema(const json::ObjectReader& reader) {
    MW_ASSIGN_OR_RETURN(int32_t id,
                        ResolveLastAdded(reader, "schema-id", last_added_schema_, "schema"));
    if (m_.SchemaById(id) == nullptr) {
      return reader.Invalid("schema-id", fmt::format("no schema with id {}", id));
    }
    m_.current_schema_id = id;
    return Status::OK();
  }

  Status AddSpec(const json::ObjectReader& reader) {
    const nlohmann::json* value = reader.Find("spec");
    if (value == nullptr) return reader.Missing("spec");
    // Fields without an id get the id a field of the same source and transform had in an
    // earlier spec (the spec's rule for v2), or the next free one.
    nlohmann::json spec_json = *value;
    int32_t last_partition_id = m_.last_partition_id;
    if (spec_json.is_object() && spec_json.contains("fields") && spec_json["fields"].is_array()) {
      for (nlohmann::json& field : spec_json["fields"]) {
        if (!field.is_object() || field.contains("field-id")) continue;
        std::optional<int32_t> reused;
        for (const PartitionSpec& spec : m_.partition_specs) {
          for (const PartitionField& existing : spec.fields()) {
            if (json::IntOr(field, "source-id", -1) == existing.source_id &&
                json::StringOr(field, "transform", "") == existing.transform.ToString()) {
              reused = existing.field_id;
            }
          }
        }
        field["field-id"] = reused ? *reused : ++last_partition_id;
      }
    }
    if (spec_json.is_object() && !spec_json.contains("spec-id")) spec_json["spec-id"] = 0;
    MW_ASSIGN_OR_RETURN(PartitionSpec spec,
                        PartitionSpecFromJson(spec_json, reader.PathOf("spec")));
    if (!m_.schemas.empty()) {
      Status valid = spec.Validate(m_.CurrentSchema());
      if (!valid.ok()) return std::move(valid).WithContext("{}", reader.PathOf("spec"));
    }
    for (const PartitionSpec& existing : m_.partition_specs) {
      if (existing.SameFields(spec)) {
        last_added_spec_ = existing.spec_id();
        return Status::OK();
      }
    }
    int32_t id = 0;
    for (const PartitionSpec& existing : m_.partition_specs) {
      id = std::max(id, existing.spec_id() + 1);
    }
    m_.last_partition_id = std::max({m_.last_partition_id, last_partition_id, spec.LastFieldId()});
    m_.partition_specs.emplace_back(id, spec.fields());
    last_added_spec_ = id;
    return Status::OK();
  }

  Status SetDefaultSpec(const json::ObjectReader& reader) {
    MW_ASSIGN_OR_RETURN(int32_t id,
                        ResolveLastAdded(reader, "spec-id", last_added_spec_, "partition spec"));
    if (m_.SpecById(id) == nullptr) {
      return reader.Invalid("spec-id", fmt::format("no partition spec with id {}", id));
    }
    m_.default_spec_id = id;
    return Status::OK();
  }

  Status AddSortOrder(const json::ObjectReader& reader) {
    const nlohmann::json* value = reader.Find("sort-order");
    if (value == nullptr) return reader.Missing("sort-order");
    MW_ASSIGN_OR_RETURN(SortOrder order, SortOrderFromJson(*value, reader.PathOf("sort-order")));
    if (!m_.schemas.empty()) {
      for (size_t i = 0; i < order.fields.size(); ++i) {
        if (m_.CurrentSchema().FindField(order.fields[i].source_id) == nullptr) {
          return Status::InvalidArgument("{}.fields[{}].source-id: no column with id {}",
                                         reader.PathOf("sort-order"), i, order.fields[i].source_id);
        }
      }
    }
    if (order.fields.empty()) {
      if (m_.SortOrderById(0) == nullptr) m_.sort_orders.push_back(SortOrder::Unsorted());
      last_added_order_ = 0;
      return Status::OK();
    }
    for (const SortOrder& existing : m_.sort_orders) {
      if (existing.fields == order.fields) {
        last_added_order_ = existing.order_id;
        return Status::OK();
      }
    }
    int32_t id = 1;
    for (const SortOrder& existing : m_.sort_orders)
      id = std::max(id, existing.order_id + 1);
    order.order_id = id;
    m_.sort_orders.push_back(std::move(order));
    last_added_order_ = id;
    return Status::OK();
  }

  Status SetDefaultSortOrder(const json::ObjectReader& reader) {
    MW_ASSIGN_OR_RETURN(int32_t id,
                        ResolveLastAdded(reader, "sort-order-id", last_added_order_, "sort order"));
    if (m_.SortOrderById(id) == nullptr) {
      return reader.Invalid("sort-order-id", fmt::format("no sort order with id {}", id));
    }
    m_.default_sort_order_id = id;
    return Status::OK();
  }

  Status AddSnapshot(const json::ObjectReader& reader) {
    const nlohmann::json* value = reader.Find("snapshot");
    if (value == nullptr) return reader.Missing("snapshot");
    MW_ASSIGN_OR_RETURN(Snapshot snapshot,
                        SnapshotFromJson(*value, reader.PathOf("snapshot"), m_.format_version));
    const std::string path = reader.PathOf("snapshot");
    if (m_.SnapshotById(snapshot.snapshot_id) != nullptr) {
      return Status::InvalidArgument("{}: snapshot {} already exists", path, snapshot.snapshot_id);
    }
    if (m_.format_version >= 2 && snapshot.parent_snapshot_id &&
        snapshot.sequence_number <= m_.last_sequence_number) {
      return Status::InvalidArgument(
                 "{}: sequence number {} is not newer than the table's last sequence number {}",
                 path, snapshot.sequence_number, m_.last_sequence_number)
          .WithHint(
              "the table changed since it was loaded: reload it and write the snapshot again");
    }
    if (snapshot.schema_id && m_.SchemaById(*snapshot.schema_id) == nullptr) {
      return Status::InvalidArgument("{}.schema-id: no schema with id {}", path,
                                     *snapshot.schema_id);
    }
    if (snapshot.manifest_list.empty() && snapshot.v1_manifests.empty()) {
      return Status::InvalidArgument("{}: has no manifest-list", path);
    }
    m_.last_sequence_number = std::max(m_.last_sequence_number, snapshot.sequence_number);
    m_.last_updated_ms = std::max(m_.last_updated_ms, snapshot.timestamp_ms);
    added_snapshots_.insert(snapshot.snapshot_id);
    m_.snapshots.push_back(std::move(snapshot));
    return Status::OK();
  }

  Status SetSnapshotRef(const json::ObjectReader& reader) {
    MW_ASSIGN_OR_RETURN(std::string name, reader.RequiredString("ref-name"));
    if (name.empty()) return reader.Invalid("ref-name", "is empty");
    MW_ASSIGN_OR_RETURN(SnapshotRef ref, SnapshotRefFromJson(reader.json(), reader.path()));
    const Snapshot* snapshot = m_.SnapshotById(ref.snapshot_id);
    if (snapshot == nullptr) {
      return reader.Invalid("snapshot-id", fmt::format("no snapshot with id {}", ref.snapshot_id));
    }
    if (name == kMainBranch && !ref.is_branch) {
      return reader.Invalid("type", "'main' must be a branch");
    }
    const auto existing = m_.refs.find(name);
    if (existing != m_.refs.end() && existing->second.is_branch != ref.is_branch) {
      return reader.Invalid("type",
                            fmt::format("'{}' is a {}; remove it before reusing the name", name,
                                        existing->second.is_branch ? "branch" : "tag"));
    }
    const bool moved = existing == m_.refs.end() || existing->second.snapshot_id != ref.snapshot_id;
    m_.refs[name] = ref;
    if (name == kMainBranch && moved) {
      m_.current_snapshot_id = ref.snapshot_id;
      const int64_t at =
          added_snapshots_.contains(ref.snapshot_id) ? snapshot->timestamp_ms : time::NowMillis();
      m_.snapshot_log.push_back({at, ref.snapshot_id});
      m_.last_updated_ms = std::max(m_.last_updated_ms, at);
    }
    return Status::OK();
  }

  Status RemoveSnapshots(const json::ObjectReader& reader) {
    MW_ASSIGN_OR_RETURN(auto ids, reader.RequiredArray("snapshot-ids"));
    std::set<int64_t> removed;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!ids[i]->is_number_integer()) {
        return Status::InvalidArgument("{}: expected a long",
                                       json::IndexPath(reader.PathOf("snapshot-ids"), i));
      }
      removed.insert(ids[i]->get<int64_t>());
    }
    std::erase_if(m_.snapshots, [&](const Snapshot& s) { return removed.contains(s.snapshot_id); });
    std::erase_if(m_.refs,
                  [&](const auto& entry) { return removed.contains(entry.second.snapshot_id); });
    if (m_.current_snapshot_id && removed.contains(*m_.current_snapshot_id)) {
      m_.current_snapshot_id.reset();
    }
    std::erase_if(m_.snapshot_log,
                  [&](const SnapshotLogEntry& e) { return removed.contains(e.snapshot_id); });
    std::erase_if(m_.statistics,
                  [&](const StatisticsFile& f) { return removed.contains(f.snapshot_id); });
    std::erase_if(m_.partition_statistics, [&](const PartitionStatisticsFile& f) {
      return removed.contains(f.snapshot_id);
    });
    return Status::OK();
  }

  Status RemoveSnapshotRef(const json::ObjectReader& reader) {
    MW_ASSIGN_OR_RETURN(std::string name, reader.RequiredString("ref-name"));
    m_.refs.erase(name);
    if (name == kMainBranch) m_.current_snapshot_id.reset();
    return Status::OK();
  }

  Status SetLocation(const json::ObjectReader& reader) {
    MW_ASSIGN_OR_RETURN(std::string location, reader.RequiredString("location"));
    if (location.empty()) return reader.Invalid("location", "is empty");
    while (location.size() > 1 && location.back() == '/')
      location.pop_back();
    m_.location = location;
    return Status::OK();
  }

  Status SetProperties(const json::ObjectReader& reader) {
    if (!reader.Has("updates")) return reader.Missing("updates");
    MW_ASSIGN_OR_RETURN(auto updates, reader.StringMap("updates"));
    for (auto& [key, value] : updates)
      m_.properties[key] = std::move(value);
    return Status::OK();
  }

  Status RemoveProperties(const json::ObjectReader& reader) {
    MW_ASSIGN_OR_RETURN(auto removals, reader.RequiredArray("removals"));
    for (size_t i = 0; i < removals.size(); ++i) {
      if (!removals[i]->is_string()) {
        return Status::InvalidArgument("{}: expected a string",
                                       json::IndexPath(reader.PathOf("removals"), i));
      }
      m_.properties.erase(removals[i]->get<std::string>());
    }
    return Status::OK();
  }

  Status SetStatistics(const json::ObjectReader& reader) {
    const nlohmann::json* value = reader.Find("statistics");
    if (value == nullptr) return reader.Missing("statistics");
    MW_ASSIGN_OR_RETURN(StatisticsFile file,
                        StatisticsFromJson(*value, reader.PathOf("statistics")));
    std::erase_if(m_.statistics,
                  [&](const StatisticsFile& f) { return f.snapshot_id == file.snapshot_id; });
    m_.statistics.push_back(std::move(file));
    return Status::OK();
  }

  Status RemoveStatistics(const json::ObjectReader& reader) {
    MW_ASSIGN_OR_RETURN(int64_t id, reader.RequiredLong("snapshot-id"));
    std::erase_if(m_.statistics, [&](const StatisticsFile& f) { return f.snapshot_id == id; });
    return Status::OK();
  }

  Status SetPartitionStatistics(const json::ObjectReader& reader) {
    const nlohmann::json* value = reader.Find("partition-statistics");
    if (value == nullptr) return reader.Missing("partition-statistics");
    MW_ASSIGN_OR_RETURN(PartitionStatisticsFile file,
                        PartitionStatisticsFromJson(*value, reader.PathOf("partition-statistics")));
    std::erase_if(m_.partition_statistics, [&](const PartitionStatisticsFile& f) {
      return f.snapshot_id == file.snapshot_id;
    });
    m_.partition_statistics.push_back(std::move(file));
    return Status::OK();
  }

  Status RemovePartitionStatistics(const json::ObjectReader& reader) {
    MW_ASSIGN_OR_RETURN(int64_t id, reader.RequiredLong("snapshot-id"));
    std::erase_if(m_.partition_statistics,
                  [&](const PartitionStatisticsFile& f) { return f.snapshot_id == id; });
    return Status::OK();
  }

  Status RemovePartitionSpecs(const json::ObjectReader& reader) {
    MW_ASSIGN_OR_RETURN(std::vector<int32_t> ids, reader.IntList("spec-ids"));
    for (int32_t id : ids) {
      if (id == m_.default_spec_id) {
        return reader.Invalid("spec-ids", fmt::format("cannot remove the default spec {}", id));
      }
    }
    std::erase_if(m_.partition_specs, [&](const PartitionSpec& spec) {
      return std::find(ids.begin(), ids.end(), spec.spec_id()) != ids.end();
    });
    return Status::OK();
  }

  Status RemoveSchemas(const json::ObjectReader& reader) {
    MW_ASSIGN_OR_RETURN(std::vector<int32_t> ids, reader.IntList("schema-ids"));
    for (int32_t id : ids) {
      if (id == m_.current_schema_id) {
        return reader.Invalid("schema-ids", fmt::format("cannot remove the current schema {}", id));
      }
    }
    std::erase_if(m_.schemas, [&](const Schema& schema) {
      return std::find(ids.begin(), ids.end(), schema.schema_id()) != ids.end();
    });
    return Status::OK();
  }

  TableMetadata& m_;
  std::optional<int32_t> last_added_schema_, last_added_spec_, last_added_order_;
  std::set<int64_t> added_snapshots_;
};

}  // namespace

bool IsKnownTableUpdate(std::string_view action) {
  static const std::set<std::string, std::less<>> kKnown = {"assign-uuid",
                                                            "upgrade-format-version",
                                                            "add-schema",
                                                            "set-current-schema",
                                                            "add-spec",
                                                            "set-default-spec",
                                                            "add-sort-order",
                                                            "set-default-sort-order",
                                                            "add-snapshot",
                                                            "set-snapshot-ref",
                                                            "remove-snapshots",
                                                            "remove-snapshot-ref",
                                                            "set-location",
                                                            "set-properties",
                                                            "remove-properties",
                                                            "set-statistics",
                                                            "remove-statistics",
                                                            "set-partition-statistics",
                                                            "remove-partition-statistics",
                                                            "remove-partition-specs",
                                                            "remove-schemas"};
  return kKnown.contains(action);
}

Status CheckTableRequirements(const nlohmann::json& requirements, const TableMetadata* current,
                              const std::string& path) {
  if (requirements.is_null()) return Status::OK();
  if (!requirements.is_array()) {
    return Status::InvalidArgument("{}: expected an array, got {}", path,
                                   json::TypeName(requirements));
  }
  for (size_t i = 0; i < requirements.size(); ++i) {
    MW_ASSIGN_OR_RETURN(auto reader,
                        json::ObjectReader::Make(requirements[i], json::IndexPath(path, i)));
    MW_RETURN_IF_ERROR(CheckRequirement(reader, current));
  }
  return Status::OK();
}

Result<TableMetadata> ApplyTableUpdates(TableMetadata base, const nlohmann::json& updates,
                                        const std::string& path) {
  if (!updates.is_array()) {
    return Status::InvalidArgument("{}: expected an array, got {}", path, json::TypeName(updates));
  }
  Builder builder(base);
  for (size_t i = 0; i < updates.size(); ++i) {
    MW_ASSIGN_OR_RETURN(auto reader,
                        json::ObjectReader::Make(updates[i], json::IndexPath(path, i)));
    MW_RETURN_IF_ERROR(builder.Apply(reader));
  }
  // A table being created may leave the spec and order implicit.
  if (base.partition_specs.empty()) base.partition_specs.push_back(PartitionSpec::Unpartitioned());
  if (base.sort_orders.empty()) base.sort_orders.push_back(SortOrder::Unsorted());
  MW_RETURN_IF_ERROR(ValidateTableMetadata(base));
  return base;
}

Status ValidateTableMetadata(const TableMetadata& m) {
  if (m.schemas.empty()) {
    return Status::InvalidArgument("the table has no schema")
        .WithHint("a create needs an add-schema update");
  }
  if (m.SchemaById(m.current_schema_id) == nullptr) {
    return Status::InvalidArgument("current schema {} does not exist", m.current_schema_id);
  }
  const PartitionSpec* spec = m.SpecById(m.default_spec_id);
  if (spec == nullptr) {
    return Status::InvalidArgument("default partition spec {} does not exist", m.default_spec_id);
  }
  MW_RETURN_IF_ERROR(spec->Validate(m.CurrentSchema()));
  if (m.SortOrderById(m.default_sort_order_id) == nullptr) {
    return Status::InvalidArgument("default sort order {} does not exist", m.default_sort_order_id);
  }
  if (m.current_snapshot_id && m.SnapshotById(*m.current_snapshot_id) == nullptr) {
    return Status::InvalidArgument("current snapshot {} does not exist", *m.current_snapshot_id);
  }
  for (const auto& [name, ref] : m.refs) {
    if (m.SnapshotById(ref.snapshot_id) == nullptr) {
      return Status::InvalidArgument("ref '{}' points to snapshot {}, which does not exist", name,
                                     ref.snapshot_id);
    }
  }
  if (m.location.empty()) return Status::InvalidArgument("the table has no location");
  return Status::OK();
}

}  // namespace meshwork::iceberg
