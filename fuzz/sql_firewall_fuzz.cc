// Feeds arbitrary text to the SQL firewall: DuckDB parses it, our walker checks the tree; it must
// accept or refuse, never crash or hang. An accepted query's tree is rendered back to SQL, and
// its WHERE clause read for what mesh.audit would push to the metastore.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/database.h"
#include "query/data_plan.h"
#include "query/firewall.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static meshwork::engine::Database database = *meshwork::engine::Database::Open();
  static meshwork::engine::Connection connection = *database.Connect();
  const std::string sql(reinterpret_cast<const char*>(data), size);
  auto checked = meshwork::query::CheckQuery(connection, sql);
  if (checked.ok()) {
    (void)meshwork::query::RenderQuery(connection, checked->tree_json);
    (void)meshwork::query::AuditPushdown(*checked);
  }
  return 0;
}
