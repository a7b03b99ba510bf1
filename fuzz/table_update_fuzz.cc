// REST commit bodies ({"requirements": [...], "updates": [...]}) come from any client: any text
// must be applied or refused, never crash; what applies must be valid metadata that writes and
// parses back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "iceberg/json_reader.h"
#include "iceberg/table_metadata.h"
#include "iceberg/table_update.h"

namespace {

// A small table with one snapshot, so that ref, snapshot and removal updates have something to
// work on.
const meshwork::iceberg::TableMetadata& Base() {
  static const meshwork::iceberg::TableMetadata base = [] {
    auto parsed = meshwork::iceberg::TableMetadataFromJson(R"({
      "format-version": 2, "table-uuid": "9c12d441-03fe-4693-9a96-a0705ddf69c1",
      "location": "file:///w/t", "last-sequence-number": 1, "last-updated-ms": 1700000000000,
      "last-column-id": 2, "current-schema-id": 0,
      "schemas": [{"type": "struct", "schema-id": 0, "fields": [
        {"id": 1, "name": "id", "required": true, "type": "long"},
        {"id": 2, "name": "ts", "required": false, "type": "timestamptz"}]}],
      "default-spec-id": 0, "partition-specs": [{"spec-id": 0, "fields": [
        {"source-id": 2, "field-id": 1000, "name": "ts_day", "transform": "day"}]}],
      "last-partition-id": 1000, "default-sort-order-id": 0,
      "sort-orders": [{"order-id": 0, "fields": []}], "properties": {},
      "current-snapshot-id": 1, "snapshots": [{"snapshot-id": 1, "sequence-number": 1,
        "timestamp-ms": 1700000000000, "manifest-list": "file:///w/t/metadata/snap-1.avro",
        "summary": {"operation": "append"}}],
      "refs": {"main": {"snapshot-id": 1, "type": "branch"}}})",
                                                           "base.metadata.json");
    if (!parsed.ok()) std::abort();
    return *parsed;
  }();
  return base;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const nlohmann::json body = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return 0;
  const nlohmann::json requirements =
      body.contains("requirements") ? body["requirements"] : nlohmann::json::array();
  const nlohmann::json updates =
      body.contains("updates") ? body["updates"] : nlohmann::json::array();
  const bool create = meshwork::iceberg::json::BoolOr(body, "create", false);
  (void)meshwork::iceberg::CheckTableRequirements(requirements, create ? nullptr : &Base());
  auto applied = meshwork::iceberg::ApplyTableUpdates(
      create ? meshwork::iceberg::TableMetadata{} : Base(), updates);
  if (!applied.ok()) return 0;
  if (!meshwork::iceberg::ValidateTableMetadata(*applied).ok()) std::abort();
  const std::string written = meshwork::iceberg::TableMetadataToString(*applied);
  if (!meshwork::iceberg::TableMetadataFromJson(written, "applied.metadata.json").ok()) {
    std::abort();
  }
  return 0;
}
