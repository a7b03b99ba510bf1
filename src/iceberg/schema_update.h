#pragma once
// Schema evolution that keeps field ids (spec "Schema Evolution"): add, drop, rename, move,
// make optional, and the allowed type promotions. Renames and reorders never rewrite data: files
// are read by field id.

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "iceberg/schema.h"

namespace meshwork::iceberg {

class SchemaUpdate {
 public:
  /// Starts from `schema`; new fields get ids after `last_column_id`.
  SchemaUpdate(const Schema& schema, int32_t last_column_id);

  /// Adds an optional top-level column (or, with `parent`, a field of a struct column). Nested
  /// types get fresh ids for their fields too. Required columns cannot be added: existing rows
  /// have no value for them.
  SchemaUpdate& AddColumn(std::string name, TypePtr type, std::string doc = "",
                          std::string parent = "");
  SchemaUpdate& DeleteColumn(std::string name);
  SchemaUpdate& RenameColumn(std::string name, std::string new_name);
  /// int → long, float → double, decimal(P,S) → decimal(P',S) with P' > P.
  SchemaUpdate& UpdateColumnType(std::string name, TypePtr new_type);
  SchemaUpdate& MakeOptional(std::string name);
  SchemaUpdate& MoveFirst(std::string name);
  SchemaUpdate& MoveAfter(std::string name, std::string after);

  /// The evolved schema (id = old id + 1) and the new last column id; the first error any change
  /// caused, naming the column.
  Result<std::pair<Schema, int32_t>> Apply() const;

 private:
  Status error_;
  std::vector<NestedField> fields_;
  std::vector<int32_t> identifier_ids_;
  int32_t schema_id_;
  int32_t last_column_id_;
  std::vector<int32_t> touched_;  // ids changed in this update (conflict detection)

  NestedField* Find(const std::string& name, std::vector<NestedField>** container);
  bool Touch(int32_t id, const std::string& name);
  void Fail(Status status);
};

}  // namespace meshwork::iceberg
