#pragma once
// Partition specs and sort orders (spec "Partitioning", "Sorting", Appendix C).

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "common/result.h"
#include "iceberg/schema.h"
#include "iceberg/transform.h"

namespace meshwork::iceberg {

struct PartitionField {
  int32_t source_id = 0;
  int32_t field_id = 0;
  std::string name;
  Transform transform = Transform::Identity();
  bool operator==(const PartitionField&) const = default;
};

class PartitionSpec {
 public:
  /// Partition field ids start here (spec: v1 assigned 1000, 1001, ...).
  static constexpr int32_t kFirstFieldId = 1000;

  PartitionSpec() = default;
  PartitionSpec(int32_t spec_id, std::vector<PartitionField> fields)
      : spec_id_(spec_id), fields_(std::move(fields)) {}
  static PartitionSpec Unpartitioned() { return PartitionSpec(0, {}); }

  int32_t spec_id() const { return spec_id_; }
  const std::vector<PartitionField>& fields() const { return fields_; }
  bool IsUnpartitioned() const;
  /// The highest field id, or kFirstFieldId - 1 when there is none.
  int32_t LastFieldId() const;

  /// Checks the spec against a schema: sources exist, transforms apply, names are unique and
  /// do not clash with other schema columns (unless identity of that very column).
  Status Validate(const Schema& schema) const;
  /// The struct type of partition tuples (field ids = partition field ids).
  Result<TypePtr> PartitionType(const Schema& schema) const;

  /// Same fields ignoring the spec id.
  bool SameFields(const PartitionSpec& other) const { return fields_ == other.fields_; }

 private:
  int32_t spec_id_ = 0;
  std::vector<PartitionField> fields_;
};

/// A full spec object {"spec-id": .., "fields": [...]}, or (v1 "partition-spec") a bare array
/// of fields whose ids, when missing, are assigned from 1000 in order.
Result<PartitionSpec> PartitionSpecFromJson(const nlohmann::json& value, const std::string& path,
                                            int32_t default_spec_id = 0);
nlohmann::json PartitionSpecToJson(const PartitionSpec& spec);
/// Just the fields array, as the manifest header and v1 metadata carry it.
nlohmann::json PartitionFieldsToJson(const PartitionSpec& spec);

struct SortField {
  Transform transform = Transform::Identity();
  int32_t source_id = 0;
  bool ascending = true;
  bool nulls_first = true;
  bool operator==(const SortField&) const = default;
};

struct SortOrder {
  int32_t order_id = 0;  // 0 = unsorted
  std::vector<SortField> fields;
  static SortOrder Unsorted() { return {}; }
  bool operator==(const SortOrder&) const = default;
};

Result<SortOrder> SortOrderFromJson(const nlohmann::json& value, const std::string& path);
nlohmann::json SortOrderToJson(const SortOrder& order);

}  // namespace meshwork::iceberg
