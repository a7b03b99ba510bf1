#pragma once
// Iceberg views (../shared/reference/iceberg-view-spec.md): view metadata JSON (format version
// 1), and the REST catalog's view requirements and updates.

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "iceberg/schema.h"

namespace meshwork::iceberg {

struct ViewVersion {
  int32_t version_id = 0;
  int32_t schema_id = 0;
  int64_t timestamp_ms = 0;
  std::map<std::string, std::string> summary;
  /// Representation objects as given ({"type": "sql", "sql": ..., "dialect": ...}); kept whole so
  /// that types this version does not know survive a round trip.
  std::vector<nlohmann::json> representations;
  std::optional<std::string> default_catalog;
  std::vector<std::string> default_namespace;

  /// Same definition (ignoring id and timestamp).
  bool SameDefinition(const ViewVersion& other) const;
};

struct ViewLogEntry {
  int64_t timestamp_ms = 0;
  int32_t version_id = 0;
};

struct ViewMetadata {
  std::string view_uuid;
  int format_version = 1;
  std::string location;
  std::vector<Schema> schemas;
  int32_t current_version_id = 0;
  std::vector<ViewVersion> versions;
  std::vector<ViewLogEntry> version_log;
  std::map<std::string, std::string> properties;

  const ViewVersion* VersionById(int32_t id) const;
  const ViewVersion* CurrentVersion() const { return VersionById(current_version_id); }
  const Schema* SchemaById(int32_t id) const;
};

Result<ViewMetadata> ViewMetadataFromJson(std::string_view text, std::string_view document);
nlohmann::json ViewMetadataToJson(const ViewMetadata& metadata);

/// assert-view-uuid; conflict when it does not hold (nullptr: the view does not exist).
Status CheckViewRequirements(const nlohmann::json& requirements, const ViewMetadata* current,
                             const std::string& path = "requirements");

/// assign-uuid, upgrade-format-version, add-schema, set-location, set-properties,
/// remove-properties, add-view-version, set-current-view-version (-1: the last added). Keeps at
/// most `version.history.num-entries` (default 10) versions besides the current one. The result is
/// validated: a current version with an existing schema and at least one representation.
Result<ViewMetadata> ApplyViewUpdates(ViewMetadata base, const nlohmann::json& updates,
                                      const std::string& path = "updates");

}  // namespace meshwork::iceberg
