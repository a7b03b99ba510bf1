#pragma once
// Commits as the Iceberg REST catalog receives them (CommitTableRequest): requirements that must
// hold on the table's current metadata, then updates applied in order to produce the next
// metadata. The rules follow the reference implementation's metadata builder: ids of equal
// schemas, specs and sort orders are reused, -1 means "the one added in this commit", partition
// field ids are reused for the same source and transform, the main branch moves the current
// snapshot and the snapshot log.
//
// Errors: a requirement that no longer holds is `conflict` (the client reloads and retries; REST
// 409); a malformed or invalid update is `invalid_argument` naming the update
// ("updates[2].spec-id: no partition spec with id 7"); format v3 features are `not_implemented`.

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "common/result.h"
#include "iceberg/table_metadata.h"

namespace meshwork::iceberg {

/// Checks a JSON array of requirements against `current` (nullptr: the table does not exist).
Status CheckTableRequirements(const nlohmann::json& requirements, const TableMetadata* current,
                              const std::string& path = "requirements");

/// Applies a JSON array of updates to `base` (for a table being created: a default-constructed
/// TableMetadata with no schema). The result is validated as a whole: a current schema, default
/// spec and sort order that exist, refs to existing snapshots.
Result<TableMetadata> ApplyTableUpdates(TableMetadata base, const nlohmann::json& updates,
                                        const std::string& path = "updates");

/// The checks ApplyTableUpdates ends with, for metadata built another way.
Status ValidateTableMetadata(const TableMetadata& metadata);

/// True for the update actions of the spec that ApplyTableUpdates knows (for the /config
/// endpoint list and for clear errors on unknown ones).
bool IsKnownTableUpdate(std::string_view action);

}  // namespace meshwork::iceberg
