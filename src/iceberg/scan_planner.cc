#include "iceberg/scan_planner.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "iceberg/value_codec.h"

namespace meshwork::iceberg {
namespace {

// Decoded manifests by file: a manifest is written once and never changes, so what was decoded
// stays right for as long as the reading schema is the same. Planning the same table again (a
// server answering many queries) then reads the manifest list only. Bounded by entries (LRU).
class ManifestCache {
 public:
  using Entries = std::shared_ptr<const std::vector<ManifestEntry>>;

  Entries Find(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto found = index_.find(key);
    if (found == index_.end()) return nullptr;
    lru_.splice(lru_.begin(), lru_, found->second);
    return found->second->second;
  }

  void Clear() {
    std::lock_guard lock(mutex_);
    lru_.clear(), index_.clear(), entries_ = 0;
  }

  void Insert(const std::string& key, Entries entries) {
    std::lock_guard lock(mutex_);
    if (index_.contains(key) || entries->size() > kMaxEntries / 4) return;
    entries_ += entries->size();
    lru_.emplace_front(key, std::move(entries));
    index_[key] = lru_.begin();
    while (entries_ > kMaxEntries && !lru_.empty()) {
      entries_ -= lru_.back().second->size();
      index_.erase(lru_.back().first);
      lru_.pop_back();
    }
  }

 private:
  // About 100-200 MB of decoded entries at most.
  static constexpr size_t kMaxEntries = 200000;
  std::mutex mutex_;
  std::list<std::pair<std::string, Entries>> lru_;
  std::unordered_map<std::string, std::list<std::pair<std::string, Entries>>::iterator> index_;
  size_t entries_ = 0;
};

ManifestCache& DecodedManifests() {
  static ManifestCache cache;
  return cache;
}

ExpressionPtr True() {
  return std::make_shared<Expression>();
}

ExpressionPtr Combine(Expression::Kind kind, ExpressionPtr left, ExpressionPtr right) {
  const bool left_true = left->kind == Expression::Kind::kTrue;
  const bool right_true = right->kind == Expression::Kind::kTrue;
  if (kind == Expression::Kind::kAnd) {
    if (left_true) return right;
    if (right_true) return left;
  } else if (left_true || right_true) {
    return True();  // "anything OR unknown" prunes nothing
  }
  auto node = std::make_shared<Expression>();
  node->kind = kind;
  node->left = std::move(left);
  node->right = std::move(right);
  return node;
}

// One predicate on a source column, projected through one partition field.
ExpressionPtr ProjectPredicate(const Expression& predicate, const PartitionField& field) {
  const Transform& transform = field.transform;
  auto node = std::make_shared<Expression>();
  node->field_id = field.field_id;
  node->column = field.name;
  if (transform.kind() == Transform::Kind::kVoid) return True();
  if (predicate.kind == Expression::Kind::kIsNull || predicate.kind == Expression::Kind::kNotNull) {
    node->kind = predicate.kind;  // a transform maps NULL, and only NULL, to NULL
    return node;
  }
  auto transformed = [&](const Literal& value) -> std::optional<Literal> {
    auto result = transform.Apply(value);
    if (!result.ok() || !result->has_value()) return std::nullopt;
    return **result;
  };
  if (predicate.kind == Expression::Kind::kIn ||
      (predicate.kind == Expression::Kind::kCompare && predicate.op == CompareOp::kEq)) {
    node->kind = predicate.kind == Expression::Kind::kIn ? Expression::Kind::kIn
                                                         : Expression::Kind::kCompare;
    node->op = CompareOp::kEq;
    for (const Literal& value : predicate.values) {
      auto projected = transformed(value);
      if (!projected) return True();
      node->values.push_back(*projected);
    }
    return node;
  }
  // Ranges carry over only through order-preserving transforms, and loosen: ts < X becomes
  // day(ts) <= day(X).
  if (predicate.kind != Expression::Kind::kCompare || !transform.PreservesOrder() ||
      predicate.op == CompareOp::kNotEq) {
    if (transform.kind() == Transform::Kind::kIdentity && predicate.op == CompareOp::kNotEq) {
      node->kind = Expression::Kind::kCompare;
      node->op = CompareOp::kNotEq;
      node->values = predicate.values;
      return node;
    }
    return True();
  }
  auto projected = transformed(predicate.values[0]);
  if (!projected) return True();
  node->kind = Expression::Kind::kCompare;
  node->values = {*projected};
  const bool exact = transform.kind() == Transform::Kind::kIdentity;
  switch (predicate.op) {
    case CompareOp::kLt:
      node->op = exact ? CompareOp::kLt : CompareOp::kLtEq;
      break;
    case CompareOp::kGt:
      node->op = exact ? CompareOp::kGt : CompareOp::kGtEq;
      break;
    default:
      node->op = predicate.op;
      break;
  }
  return node;
}

std::optional<Literal> Decode(const TypePtr& type, const std::optional<std::string>& bytes) {
  if (!bytes) return std::nullopt;
  auto value = DeserializeValue(type, *bytes);
  if (!value.ok()) return std::nullopt;
  return *value;
}

struct ManifestPruning {
  const PartitionSpec* spec = nullptr;
  ExpressionPtr partition_filter;
  bool may_match = true;
};

// Whether a manifest may hold files matching `filter`, from its partition summaries.
Result<ManifestPruning> PruneManifest(const ManifestFile& manifest, const TableMetadata& metadata,
                                      const Schema& schema, const Expression& filter) {
  ManifestPruning result;
  result.spec = metadata.SpecById(manifest.partition_spec_id);
  if (result.spec == nullptr) {
    return Status::InvalidArgument("manifest {} uses unknown partition spec {}",
                                   manifest.manifest_path, manifest.partition_spec_id);
  }
  const PartitionSpec& spec = *result.spec;
  MW_ASSIGN_OR_RETURN(TypePtr partition_type, spec.PartitionType(schema));
  result.partition_filter = ProjectToPartition(filter, spec, schema);
  result.may_match = MightMatch(*result.partition_filter, [&](int32_t field_id) {
    size_t index = 0;
    while (index < spec.fields().size() && spec.fields()[index].field_id != field_id)
      ++index;
    if (index >= spec.fields().size() || index >= manifest.partitions.size()) {
      return std::optional<ColumnRange>();
    }
    const PartitionFieldSummary& summary = manifest.partitions[index];
    const TypePtr& type = partition_type->fields()[index].type;
    ColumnRange range;
    range.lower = Decode(type, summary.lower_bound);
    range.upper = Decode(type, summary.upper_bound);
    range.may_have_null = summary.contains_null;
    range.may_have_value = summary.lower_bound.has_value() ||
                           summary.contains_nan.value_or(false) || !summary.contains_null;
    return std::optional<ColumnRange>(range);
  });
  return result;
}

}  // namespace

ExpressionPtr ProjectToPartition(const Expression& filter, const PartitionSpec& spec,
                                 const Schema& schema) {
  switch (filter.kind) {
    case Expression::Kind::kTrue:
      return True();
    case Expression::Kind::kAnd:
    case Expression::Kind::kOr:
      return Combine(filter.kind, ProjectToPartition(*filter.left, spec, schema),
                     ProjectToPartition(*filter.right, spec, schema));
    default:
      break;
  }
  ExpressionPtr result = True();
  for (const PartitionField& field : spec.fields()) {
    if (field.source_id != filter.field_id) continue;
    result = Combine(Expression::Kind::kAnd, result, ProjectPredicate(filter, field));
  }
  return result;
}

std::string ScanPlan::ToString() const {
  std::string deletes;
  if (delete_files_total > 0) {
    size_t positional = 0;
    for (const DataFile& file : delete_files)
      positional += file.content == FileContent::kPositionDeletes;
    deletes = fmt::format("\n  delete files: {} of {} kept ({} position, {} equality)",
                          delete_files.size(), delete_files_total, positional,
                          delete_files.size() - positional);
  }
  return fmt::format(
      "snapshot {}\n  manifests: {} of {} kept\n  data files: {} of {} kept{}\n  records: {} of "
      "{} in kept files\n  partition filter: {}",
      snapshot_id, manifests_kept, manifests_total, files_kept, files_total, deletes, records_kept,
      records_total, partition_filter);
}

Result<ScanPlan> PlanScan(Warehouse& warehouse, const LoadedTable& table,
                          std::optional<int64_t> snapshot_id, const Expression& filter) {
  return PlanScan(warehouse.io(), table, snapshot_id, filter);
}

void ForgetDecodedManifests() {
  DecodedManifests().Clear();
}

Result<ScanPlan> PlanScan(storage::FileIO& io, const LoadedTable& table,
                          std::optional<int64_t> snapshot_id, const Expression& filter) {
  const TableMetadata& metadata = table.metadata;
  const Snapshot* snapshot =
      snapshot_id ? metadata.SnapshotById(*snapshot_id) : metadata.CurrentSnapshot();
  if (snapshot_id && snapshot == nullptr) {
    return Status::NotFound("table {} has no snapshot {}", table.identifier.ToString(),
                            *snapshot_id)
        .WithHint("list snapshots with `meshwork table snapshots`");
  }
  ScanPlan plan;
  if (snapshot == nullptr) return plan;
  plan.snapshot_id = snapshot->snapshot_id;
  const Schema& schema = metadata.CurrentSchema();
  MW_ASSIGN_OR_RETURN(std::string list, io.ReadFile(snapshot->manifest_list));
  MW_ASSIGN_OR_RETURN(auto manifests, ReadManifestList(list, snapshot->manifest_list));
  // Pass 1: prune manifests by their partition summaries.
  std::vector<ManifestPruning> pruning;
  std::vector<size_t> to_read;
  for (size_t index = 0; index < manifests.size(); ++index) {
    MW_ASSIGN_OR_RETURN(ManifestPruning decided,
                        PruneManifest(manifests[index], metadata, schema, filter));
    // A pruned manifest is not read: the manifest list's counts say what it holds. (v1 lists
    // may lack the counts; then it is read just to count.)
    const ManifestFile& manifest = manifests[index];
    if (decided.may_match || manifest.added_files_count + manifest.existing_files_count == 0) {
      to_read.push_back(index);
    }
    pruning.push_back(std::move(decided));
  }
  // Pass 2: read and decode the manifests that survive, in parallel (decoding dominates).
  std::vector<std::optional<Result<ManifestCache::Entries>>> decoded(manifests.size());
  {
    std::atomic<size_t> next{0};
    auto work = [&]() {
      for (size_t slot = next++; slot < to_read.size(); slot = next++) {
        const ManifestFile& manifest = manifests[to_read[slot]];
        const std::string key =
            fmt::format("{}#{}", manifest.manifest_path, metadata.current_schema_id);
        if (auto cached = DecodedManifests().Find(key)) {
          decoded[to_read[slot]] = std::move(cached);
          continue;
        }
        auto bytes = io.ReadFile(manifest.manifest_path);
        if (!bytes.ok()) {
          decoded[to_read[slot]] = Result<ManifestCache::Entries>(bytes.error());
          continue;
        }
        auto entries = ReadManifest(*bytes, manifest, schema, metadata.partition_specs,
                                    ManifestDetail::kForPlanning);
        if (!entries.ok()) {
          decoded[to_read[slot]] = Result<ManifestCache::Entries>(entries.error());
          continue;
        }
        auto shared = std::make_shared<const std::vector<ManifestEntry>>(std::move(*entries));
        DecodedManifests().Insert(key, shared);
        decoded[to_read[slot]] = ManifestCache::Entries(std::move(shared));
      }
    };
    const size_t threads =
        std::min<size_t>(to_read.size(), std::clamp(std::thread::hardware_concurrency(), 1u, 8u));
    std::vector<std::thread> workers;
    for (size_t worker = 1; worker < threads; ++worker)
      workers.emplace_back(work);
    work();
    for (std::thread& worker : workers)
      worker.join();
  }
  // Pass 3: prune files, in manifest order (plans are deterministic).
  std::string partition_filters;
  for (size_t manifest_index = 0; manifest_index < manifests.size(); ++manifest_index) {
    const ManifestFile& manifest = manifests[manifest_index];
    const bool deletes = manifest.content != 0;
    ++plan.manifests_total;
    const PartitionSpec* spec = pruning[manifest_index].spec;
    const ExpressionPtr& partition_filter = pruning[manifest_index].partition_filter;
    const bool manifest_may_match = pruning[manifest_index].may_match;
    if (partition_filters.find(FilterToSql(*partition_filter)) == std::string::npos) {
      partition_filters += (partition_filters.empty() ? "" : "; ") + FilterToSql(*partition_filter);
    }
    auto field_index = [&](int32_t field_id) -> int {
      for (size_t index = 0; index < spec->fields().size(); ++index) {
        if (spec->fields()[index].field_id == field_id) return static_cast<int>(index);
      }
      return -1;
    };
    if (!decoded[manifest_index]) {
      const int64_t listed_files = manifest.added_files_count + manifest.existing_files_count;
      if (deletes) {
        plan.delete_files_total += static_cast<size_t>(listed_files);
      } else {
        plan.files_total += static_cast<size_t>(listed_files);
        plan.records_total += manifest.added_rows_count + manifest.existing_rows_count;
      }
      continue;
    }
    MW_ASSIGN_OR_RETURN(ManifestCache::Entries shared, std::move(*decoded[manifest_index]));
    const std::vector<ManifestEntry>& entries = *shared;
    for (const ManifestEntry& entry : entries) {
      if (entry.status == EntryStatus::kDeleted) continue;
      if (deletes) {
        ++plan.delete_files_total;
        continue;
      }
      ++plan.files_total;
      plan.records_total += entry.data_file.record_count;
    }
    if (!manifest_may_match) continue;
    ++plan.manifests_kept;
    for (const ManifestEntry& entry : entries) {
      if (entry.status == EntryStatus::kDeleted) continue;
      const DataFile& file = entry.data_file;
      const bool partition_match = MightMatch(*partition_filter, [&](int32_t field_id) {
        const int index = field_index(field_id);
        if (index < 0) return std::optional<ColumnRange>();
        const std::optional<Literal>& value = file.partition[static_cast<size_t>(index)];
        return std::optional<ColumnRange>(ColumnRange{value, value, !value, value.has_value()});
      });
      if (!partition_match) continue;
      if (deletes) {
        // A delete file in a pruned partition cannot touch a kept data file. Its column bounds
        // describe deleted rows, not the rows a filter keeps, so they are not used here.
        if (file.content != FileContent::kPositionDeletes &&
            file.content != FileContent::kEqualityDeletes) {
          return Status::InvalidArgument("delete manifest {} lists a file with content {}",
                                         manifest.manifest_path, static_cast<int>(file.content));
        }
        plan.delete_files.push_back(entry.data_file);
        continue;
      }
      if (file.content != FileContent::kData) {
        return Status::InvalidArgument("data manifest {} lists a delete file {}",
                                       manifest.manifest_path, file.file_path);
      }
      const bool bounds_match = MightMatch(filter, [&](int32_t field_id) {
        const NestedField* field = schema.FindField(field_id);
        if (field == nullptr || !field->type->is_primitive()) return std::optional<ColumnRange>();
        ColumnRange range;
        auto bound = [&](const std::map<int32_t, std::string>& bounds) -> std::optional<Literal> {
          auto it = bounds.find(field_id);
          if (it == bounds.end()) return std::nullopt;
          return Decode(field->type, it->second);
        };
        range.lower = bound(file.lower_bounds);
        range.upper = bound(file.upper_bounds);
        auto nulls = file.null_value_counts.find(field_id);
        auto values = file.value_counts.find(field_id);
        if (nulls != file.null_value_counts.end()) {
          range.may_have_null = nulls->second > 0;
          if (values != file.value_counts.end())
            range.may_have_value = values->second > nulls->second;
        }
        return std::optional<ColumnRange>(range);
      });
      if (!bounds_match) continue;
      ++plan.files_kept;
      plan.records_kept += file.record_count;
      plan.files.push_back(entry.data_file);
    }
  }
  plan.partition_filter = partition_filters.empty() ? "true" : partition_filters;
  return plan;
}

}  // namespace meshwork::iceberg
