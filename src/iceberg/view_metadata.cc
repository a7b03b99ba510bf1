#include "iceberg/view_metadata.h"

#include <algorithm>
#include <charconv>

#include "common/time.h"
#include "iceberg/json_reader.h"

namespace meshwork::iceberg {
namespace {

Result<ViewVersion> VersionFromJson(const nlohmann::json& value, const std::string& path) {
  MW_ASSIGN_OR_RETURN(auto reader, json::ObjectReader::Make(value, path));
  ViewVersion version;
  MW_ASSIGN_OR_RETURN(version.version_id, reader.RequiredInt("version-id"));
  MW_ASSIGN_OR_RETURN(version.schema_id, reader.RequiredInt("schema-id"));
  MW_ASSIGN_OR_RETURN(version.timestamp_ms, reader.RequiredLong("timestamp-ms"));
  MW_ASSIGN_OR_RETURN(version.summary, reader.StringMap("summary"));
  MW_ASSIGN_OR_RETURN(auto representations, reader.RequiredArray("representations"));
  for (size_t i = 0; i < representations.size(); ++i) {
    const std::string item_path = json::IndexPath(reader.PathOf("representations"), i);
    MW_ASSIGN_OR_RETURN(auto item, json::ObjectReader::Make(*representations[i], item_path));
    MW_ASSIGN_OR_RETURN(std::string type, item.RequiredString("type"));
    if (type == "sql") {
      MW_ASSIGN_OR_RETURN(std::string sql, item.RequiredString("sql"));
      MW_ASSIGN_OR_RETURN(std::string dialect, item.RequiredString("dialect"));
      if (sql.empty()) return item.Invalid("sql", "is empty");
      if (dialect.empty()) return item.Invalid("dialect", "is empty");
    }
    version.representations.push_back(*representations[i]);
  }
  MW_ASSIGN_OR_RETURN(version.default_catalog, reader.OptionalString("default-catalog"));
  MW_ASSIGN_OR_RETURN(auto default_namespace, reader.RequiredArray("default-namespace"));
  for (size_t i = 0; i < default_namespace.size(); ++i) {
    if (!default_namespace[i]->is_string()) {
      return Status::InvalidArgument("{}: expected a string",
                                     json::IndexPath(reader.PathOf("default-namespace"), i));
    }
    version.default_namespace.push_back(default_namespace[i]->get<std::string>());
  }
  return version;
}

nlohmann::json VersionToJson(const ViewVersion& version) {
  nlohmann::json json = {{"version-id", version.version_id},
                         {"schema-id", version.schema_id},
                         {"timestamp-ms", version.timestamp_ms},
                         {"summary", version.summary},
                         {"representations", version.representations},
                         {"default-namespace", version.default_namespace}};
  if (version.default_catalog) json["default-catalog"] = *version.default_catalog;
  return json;
}

Status Validate(const ViewMetadata& m) {
  if (m.view_uuid.empty()) return Status::InvalidArgument("the view has no uuid");
  if (m.location.empty()) return Status::InvalidArgument("the view has no location");
  const ViewVersion* current = m.CurrentVersion();
  if (current == nullptr) {
    return Status::InvalidArgument("current view version {} does not exist", m.current_version_id)
        .WithHint("a view needs add-view-version and set-current-view-version");
  }
  if (m.SchemaById(current->schema_id) == nullptr) {
    return Status::InvalidArgument("view version {} refers to schema {}, which does not exist",
                                   current->version_id, current->schema_id);
  }
  if (current->representations.empty()) {
    return Status::InvalidArgument("view version {} has no representation", current->version_id);
  }
  return Status::OK();
}

}  // namespace

bool ViewVersion::SameDefinition(const ViewVersion& other) const {
  return schema_id == other.schema_id && representations == other.representations &&
         default_catalog == other.default_catalog && default_namespace == other.default_namespace;
}

const ViewVersion* ViewMetadata::VersionById(int32_t id) const {
  for (const ViewVersion& version : versions) {
    if (version.version_id == id) return &version;
  }
  return nullptr;
}

const Schema* ViewMetadata::SchemaById(int32_t id) const {
  for (const Schema& schema : schemas) {
    if (schema.schema_id() == id) return &schema;
  }
  return nullptr;
}

Result<ViewMetadata> ViewMetadataFromJson(std::string_view text, std::string_view document) {
  MW_ASSIGN_OR_RETURN(nlohmann::json value, json::Parse(text, document));
  MW_ASSIGN_OR_RETURN(auto reader, json::ObjectReader::Make(value, std::string(document)));
  ViewMetadata m;
  MW_ASSIGN_OR_RETURN(m.format_version, reader.RequiredInt("format-version"));
  if (m.format_version != 1) {
    return reader.Invalid(
        "format-version",
        fmt::format("view format version {} is not supported (only 1)", m.format_version));
  }
  MW_ASSIGN_OR_RETURN(m.view_uuid, reader.RequiredString("view-uuid"));
  MW_ASSIGN_OR_RETURN(m.location, reader.RequiredString("location"));
  MW_ASSIGN_OR_RETURN(auto schemas, reader.RequiredArray("schemas"));
  for (size_t i = 0; i < schemas.size(); ++i) {
    MW_ASSIGN_OR_RETURN(Schema schema,
                        SchemaFromJson(*schemas[i], json::IndexPath(reader.PathOf("schemas"), i)));
    m.schemas.push_back(std::move(schema));
  }
  MW_ASSIGN_OR_RETURN(m.current_version_id, reader.RequiredInt("current-version-id"));
  MW_ASSIGN_OR_RETURN(auto versions, reader.RequiredArray("versions"));
  for (size_t i = 0; i < versions.size(); ++i) {
    MW_ASSIGN_OR_RETURN(
        ViewVersion version,
        VersionFromJson(*versions[i], json::IndexPath(reader.PathOf("versions"), i)));
    m.versions.push_back(std::move(version));
  }
  MW_ASSIGN_OR_RETURN(auto log, reader.RequiredArray("version-log"));
  for (size_t i = 0; i < log.size(); ++i) {
    MW_ASSIGN_OR_RETURN(auto entry, json::ObjectReader::Make(
                                        *log[i], json::IndexPath(reader.PathOf("version-log"), i)));
    ViewLogEntry item;
    MW_ASSIGN_OR_RETURN(item.timestamp_ms, entry.RequiredLong("timestamp-ms"));
    MW_ASSIGN_OR_RETURN(item.version_id, entry.RequiredInt("version-id"));
    m.version_log.push_back(item);
  }
  MW_ASSIGN_OR_RETURN(m.properties, reader.StringMap("properties"));
  Status valid = Validate(m);
  if (!valid.ok()) return std::move(valid).WithContext("{}", document);
  return m;
}

nlohmann::json ViewMetadataToJson(const ViewMetadata& m) {
  nlohmann::json json = {{"view-uuid", m.view_uuid},
                         {"format-version", m.format_version},
                         {"location", m.location},
                         {"current-version-id", m.current_version_id},
                         {"properties", m.properties}};
  json["schemas"] = nlohmann::json::array();
  for (const Schema& schema : m.schemas)
    json["schemas"].push_back(SchemaToJson(schema));
  json["versions"] = nlohmann::json::array();
  for (const ViewVersion& version : m.versions)
    json["versions"].push_back(VersionToJson(version));
  json["version-log"] = nlohmann::json::array();
  for (const ViewLogEntry& entry : m.version_log) {
    json["version-log"].push_back(
        {{"timestamp-ms", entry.timestamp_ms}, {"version-id", entry.version_id}});
  }
  return json;
}

Status CheckViewRequirements(const nlohmann::json& requirements, const ViewMetadata* current,
                             const std::string& path) {
  if (requirements.is_null()) return Status::OK();
  if (!requirements.is_array()) {
    return Status::InvalidArgument("{}: expected an array, got {}", path,
                                   json::TypeName(requirements));
  }
  for (size_t i = 0; i < requirements.size(); ++i) {
    MW_ASSIGN_OR_RETURN(auto reader,
                        json::ObjectReader::Make(requirements[i], json::IndexPath(path, i)));
    MW_ASSIGN_OR_RETURN(std::string type, reader.RequiredString("type"));
    if (type != "assert-view-uuid") {
      return reader.Invalid("type", fmt::format("unknown view requirement '{}'", type));
    }
    MW_ASSIGN_OR_RETURN(std::string uuid, reader.RequiredString("uuid"));
    if (current == nullptr) {
      return Status::Conflict("requirement failed: the view does not exist");
    }
    if (uuid != current->view_uuid) {
      return Status::Conflict("requirement failed: view uuid does not match: expected {}, is {}",
                              uuid, current->view_uuid)
          .WithHint("the view was replaced by another one with the same name; reload it");
    }
  }
  return Status::OK();
}

Result<ViewMetadata> ApplyViewUpdates(ViewMetadata m, const nlohmann::json& updates,
                                      const std::string& path) {
  if (!updates.is_array()) {
    return Status::InvalidArgument("{}: expected an array, got {}", path, json::TypeName(updates));
  }
  std::optional<int32_t> last_schema, last_version;
  for (size_t i = 0; i < updates.size(); ++i) {
    MW_ASSIGN_OR_RETURN(auto reader,
                        json::ObjectReader::Make(updates[i], json::IndexPath(path, i)));
    MW_ASSIGN_OR_RETURN(std::string action, reader.RequiredString("action"));
    if (action == "assign-uuid") {
      MW_ASSIGN_OR_RETURN(std::string uuid, reader.RequiredString("uuid"));
      if (uuid.empty()) return reader.Invalid("uuid", "is empty");
      if (!m.view_uuid.empty() && m.view_uuid != uuid) {
        return reader.Invalid("uuid", "cannot reassign the view uuid");
      }
      m.view_uuid = uuid;
    } else if (action == "upgrade-format-version") {
      MW_ASSIGN_OR_RETURN(int32_t version, reader.RequiredInt("format-version"));
      if (version != 1) {
        return Status::NotImplemented("{}: view format version {} is not supported (only 1)",
                                      reader.PathOf("format-version"), version);
      }
    } else if (action == "add-schema") {
      const nlohmann::json* value = reader.Find("schema");
      if (value == nullptr) return reader.Missing("schema");
      MW_ASSIGN_OR_RETURN(Schema schema, SchemaFromJson(*value, reader.PathOf("schema")));
      std::optional<int32_t> reused;
      for (const Schema& existing : m.schemas) {
        if (existing.SameStructure(schema)) reused = existing.schema_id();
      }
      if (reused) {
        last_schema = reused;
        continue;
      }
      int32_t id = 0;
      for (const Schema& existing : m.schemas)
        id = std::max(id, existing.schema_id() + 1);
      MW_ASSIGN_OR_RETURN(Schema numbered,
                          Schema::Make(id, schema.fields(), schema.identifier_field_ids()));
      m.schemas.push_back(std::move(numbered));
      last_schema = id;
    } else if (action == "set-location") {
      MW_ASSIGN_OR_RETURN(std::string location, reader.RequiredString("location"));
      if (location.empty()) return reader.Invalid("location", "is empty");
      while (location.size() > 1 && location.back() == '/')
        location.pop_back();
      m.location = location;
    } else if (action == "set-properties") {
      if (!reader.Has("updates")) return reader.Missing("updates");
      MW_ASSIGN_OR_RETURN(auto set, reader.StringMap("updates"));
      for (auto& [key, value] : set)
        m.properties[key] = std::move(value);
    } else if (action == "remove-properties") {
      MW_ASSIGN_OR_RETURN(auto removals, reader.RequiredArray("removals"));
      for (size_t r = 0; r < removals.size(); ++r) {
        if (!removals[r]->is_string()) {
          return Status::InvalidArgument("{}: expected a string",
                                         json::IndexPath(reader.PathOf("removals"), r));
        }
        m.properties.erase(removals[r]->get<std::string>());
      }
    } else if (action == "add-view-version") {
      const nlohmann::json* value = reader.Find("view-version");
      if (value == nullptr) return reader.Missing("view-version");
      MW_ASSIGN_OR_RETURN(ViewVersion version,
                          VersionFromJson(*value, reader.PathOf("view-version")));
      if (version.schema_id == -1) {
        if (!last_schema) {
          return Status::InvalidArgument(
              "{}.schema-id: -1 means the schema this commit added, "
              "and it added none",
              reader.PathOf("view-version"));
        }
        version.schema_id = *last_schema;
      }
      if (m.SchemaById(version.schema_id) == nullptr) {
        return Status::InvalidArgument("{}.schema-id: no schema with id {}",
                                       reader.PathOf("view-version"), version.schema_id);
      }
      if (version.representations.empty()) {
        return Status::InvalidArgument("{}.representations: a view version needs one",
                                       reader.PathOf("view-version"));
      }
      std::optional<int32_t> reused;
      for (const ViewVersion& existing : m.versions) {
        if (existing.SameDefinition(version)) reused = existing.version_id;
      }
      if (reused) {
        last_version = reused;
        continue;
      }
      int32_t id = 1;
      for (const ViewVersion& existing : m.versions)
        id = std::max(id, existing.version_id + 1);
      version.version_id = id;
      m.versions.push_back(std::move(version));
      last_version = id;
    } else if (action == "set-current-view-version") {
      MW_ASSIGN_OR_RETURN(int32_t id, reader.RequiredInt("view-version-id"));
      if (id == -1) {
        if (!last_version) {
          return reader.Invalid("view-version-id",
                                "-1 means the version this commit added, and it added none");
        }
        id = *last_version;
      }
      if (m.VersionById(id) == nullptr) {
        return reader.Invalid("view-version-id", fmt::format("no view version with id {}", id));
      }
      if (id != m.current_version_id || m.version_log.empty()) {
        m.current_version_id = id;
        m.version_log.push_back({time::NowMillis(), id});
      }
    } else if (action == "add-encryption-key" || action == "remove-encryption-key") {
      return Status::NotImplemented("{}: encryption keys are not supported for views",
                                    reader.PathOf("action"));
    } else {
      return reader.Invalid("action", fmt::format("unknown view update '{}'", action));
    }
  }
  // Keep the history bounded: the newest versions and always the current one.
  int64_t keep = 10;
  if (auto found = m.properties.find("version.history.num-entries"); found != m.properties.end()) {
    const std::string& text = found->second;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), keep);
    if (error != std::errc() || end != text.data() + text.size() || keep < 1) {
      return Status::InvalidArgument("version.history.num-entries '{}' is not a positive number",
                                     text);
    }
  }
  while (static_cast<int64_t>(m.versions.size()) > keep) {
    auto oldest = std::min_element(m.versions.begin(), m.versions.end(),
                                   [&](const ViewVersion& a, const ViewVersion& b) {
                                     // The current version sorts last: it is never the one dropped.
                                     const bool a_current = a.version_id == m.current_version_id;
                                     const bool b_current = b.version_id == m.current_version_id;
                                     if (a_current != b_current) return b_current;
                                     return a.version_id < b.version_id;
                                   });
    if (oldest->version_id == m.current_version_id) break;
    m.versions.erase(oldest);
  }
  MW_RETURN_IF_ERROR(Validate(m));
  return m;
}

}  // namespace meshwork::iceberg
