#pragma once
// Versioned schema migrations of the metastore, applied at start. Private to src/metastore.

#include <cstdint>

#include "metastore/sql_connection.h"

namespace meshwork::metastore {

/// The schema version this build creates.
int64_t LatestSchemaVersion();

/// Brings the database to LatestSchemaVersion() in one transaction (PostgreSQL: under an
/// advisory lock, so servers that start together migrate once). Refuses a newer schema.
Status ApplyMigrations(SqlConnection& connection);

}  // namespace meshwork::metastore
