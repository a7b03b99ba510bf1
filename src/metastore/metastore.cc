#include "metastore/metastore.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "common/time.h"
#include "metastore/migrations.h"
#include "metastore/sql_pool.h"

namespace meshwork::metastore {
namespace {

// Levels are stored joined by the ASCII unit separator, which names may not contain: the key is
// unambiguous and sorts like the levels themselves.
constexpr char kSeparator = '\x1f';

std::string EncodeLevels(const Levels& levels) {
  std::string key;
  for (size_t i = 0; i < levels.size(); ++i) {
    if (i > 0) key += kSeparator;
    key += levels[i];
  }
  return key;
}

Levels DecodeLevels(std::string_view key) {
  Levels levels;
  if (key.empty()) return levels;
  size_t start = 0;
  while (true) {
    const size_t end = key.find(kSeparator, start);
    levels.emplace_back(key.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return levels;
}

Status CheckName(std::string_view what, std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("{} name is empty", what);
  for (const char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Status::InvalidArgument("{} name '{}' contains a control character", what,
                                     std::string(name.begin(), name.end()));
    }
  }
  return Status::OK();
}

Status CheckLevels(const Levels& levels) {
  if (levels.empty()) return Status::InvalidArgument("namespace has no levels");
  for (const std::string& level : levels)
    MW_RETURN_IF_ERROR(CheckName("namespace", level));
  return Status::OK();
}

std::string QualifiedName(const Levels& levels, const std::string& name) {
  return levels.empty() ? name : JoinLevels(levels) + "." + name;
}

std::string PropertiesJson(const Properties& properties) {
  return nlohmann::json(properties).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Properties ParseProperties(const std::string& text) {
  Properties properties;
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_object()) {
    for (const auto& [key, value] : json.items()) {
      if (value.is_string()) properties[key] = value.get<std::string>();
    }
  }
  return properties;
}

ObjectKind ParseKind(std::string_view text) {
  return text == "view" ? ObjectKind::kView : ObjectKind::kTable;
}

std::string_view KindTitle(ObjectKind kind) {
  return kind == ObjectKind::kView ? "view" : "table";
}

// LIMIT for a page: one more row than asked tells whether another page follows.
int64_t FetchLimit(const PageRequest& page) {
  return page.size > 0 ? page.size + 1 : std::numeric_limits<int32_t>::max();
}

template <typename T>
void TrimPage(Page<T>& page, const PageRequest& request, std::string last_key) {
  if (request.size > 0 && static_cast<int64_t>(page.items.size()) > request.size) {
    page.items.resize(request.size);
    page.next_token = std::move(last_key);
  }
}

Status AppendEvent(SqlConnection& sql, const Actor& actor, std::string_view action,
                   std::string_view object_kind, const std::string& object_name,
                   const nlohmann::json& details = nlohmann::json::object()) {
  return sql
      .Execute(
          "INSERT INTO events (at_ms, principal, request_id, action, object_kind, object_name, "
          "details) VALUES ($1, $2, $3, $4, $5, $6, $7)",
          {time::NowMillis(), actor.principal, actor.request_id, std::string(action),
           std::string(object_kind), object_name,
           details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)})
      .status();
}

constexpr const char* kObjectColumns =
    "namespace, name, kind, metadata_location, version, created_at_ms, updated_at_ms";

ObjectRecord ObjectFromRow(const SqlRow& row) {
  return {.namespace_levels = DecodeLevels(row.Text(0)),
          .name = row.Text(1),
          .kind = ParseKind(row.Text(2)),
          .metadata_location = row.Text(3),
          .version = row.Int(4),
          .created_at_ms = row.Int(5),
          .updated_at_ms = row.Int(6)};
}

constexpr const char* kPrincipalColumns =
    "name, client_id, secret_hash, credential_version, kind, properties, created_at_ms, "
    "rotated_at_ms";

PrincipalRecord PrincipalFromRow(const SqlRow& row) {
  return {.name = row.Text(0),
          .client_id = row.Text(1),
          .secret_hash = row.Text(2),
          .credential_version = row.Int(3),
          .kind = row.Text(4),
          .properties = ParseProperties(row.Text(5)),
          .created_at_ms = row.Int(6),
          .rotated_at_ms = row.Int(7)};
}

GrantRecord GrantFromRow(const SqlRow& row) {
  return {.role = row.Text(0),
          .privilege = row.Text(1),
          .securable_kind = row.Text(2),
          .securable_path = DecodeLevels(row.Text(3)),
          .granted_by = row.Text(4),
          .granted_at_ms = row.Int(5)};
}

Result<bool> NamespaceKeyExists(SqlConnection& sql, const std::string& key) {
  MW_ASSIGN_OR_RETURN(auto rows, sql.Query("SELECT 1 FROM namespaces WHERE name = $1", {key}));
  return !rows.empty();
}

Status NamespaceNotFound(const Levels& levels) {
  return Status::NotFound("namespace '{}' does not exist", JoinLevels(levels))
      .WithResource(JoinLevels(levels));
}

Status ObjectNotFound(ObjectKind kind, const Levels& levels, const std::string& name) {
  return Status::NotFound("{} '{}' does not exist", KindTitle(kind), QualifiedName(levels, name))
      .WithResource(QualifiedName(levels, name));
}

}  // namespace

std::string_view ObjectKindName(ObjectKind kind) {
  return KindTitle(kind);
}

std::string JoinLevels(const Levels& levels) {
  std::string joined;
  for (size_t i = 0; i < levels.size(); ++i) {
    if (i > 0) joined += '.';
    joined += levels[i];
  }
  return joined;
}

Metastore::Metastore(std::unique_ptr<SqlPool> pool) : pool_(std::move(pool)) {}
Metastore::~Metastore() = default;

Result<std::unique_ptr<Metastore>> Metastore::Open(const MetastoreOptions& options) {
  std::string url = options.url;
  const bool postgresql = url.starts_with("postgresql://") || url.starts_with("postgres://") ||
                          url.find("dbname=") != std::string::npos;
  if (url.starts_with("sqlite:")) url = url.substr(7);
  if (url.empty()) {
    return Status::InvalidArgument("no metastore given")
        .WithHint("pass a SQLite file path or a postgresql://user@host:port/db URL");
  }
  SqlPool::Opener opener;
  if (postgresql) {
    opener = [url] { return OpenPostgresql(url); };
  } else {
    opener = [url] { return OpenSqlite(url); };
  }
  auto pool = std::make_unique<SqlPool>(postgresql ? SqlDialect::kPostgresql : SqlDialect::kSqlite,
                                        opener, std::max(1, options.max_connections));
  {
    MW_ASSIGN_OR_RETURN(auto lease, pool->Acquire());
    Status migrated = ApplyMigrations(*lease);
    if (!migrated.ok()) {
      return std::move(migrated).WithContext("cannot prepare the metastore {}", RedactUrl(url));
    }
  }
  return std::unique_ptr<Metastore>(new Metastore(std::move(pool)));
}

std::string_view Metastore::backend() const {
  return pool_->dialect() == SqlDialect::kPostgresql ? "postgresql" : "sqlite";
}

Result<int64_t> Metastore::SchemaVersion() {
  int64_t version = 0;
  MW_RETURN_IF_ERROR(pool_->Read([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(auto rows, sql.Query("SELECT MAX(version) FROM schema_migrations"));
    version = rows.empty() ? 0 : rows[0].Int(0);
    return Status::OK();
  }));
  return version;
}

Status Metastore::Ping() {
  return pool_->Read([](SqlConnection& sql) { return sql.Query("SELECT 1").status(); });
}

// ---------------------------------------------------------------------------------------------
// Namespaces

Status Metastore::CreateNamespace(const Actor& actor, const Levels& levels,
                                  const Properties& properties) {
  MW_RETURN_IF_ERROR(CheckLevels(levels));
  const std::string key = EncodeLevels(levels);
  const Levels parent_levels(levels.begin(), levels.end() - 1);
  const std::string parent = EncodeLevels(parent_levels);
  return pool_->Write([&](SqlConnection& sql) -> Status {
    if (!parent.empty()) {
      MW_ASSIGN_OR_RETURN(bool parent_exists, NamespaceKeyExists(sql, parent));
      if (!parent_exists) {
        return NamespaceNotFound(parent_levels).WithHint("create the parent namespace first");
      }
    }
    const int64_t now = time::NowMillis();
    auto inserted = sql.Execute(
        "INSERT INTO namespaces (name, parent, properties, created_at_ms, updated_at_ms) VALUES "
        "($1, $2, $3, $4, $4) ON CONFLICT (name) DO NOTHING",
        {key, parent, PropertiesJson(properties), now});
    MW_RETURN_IF_ERROR(inserted.status());
    if (*inserted == 0) {
      return Status::AlreadyExists("namespace '{}' already exists", JoinLevels(levels))
          .WithResource(JoinLevels(levels));
    }
    return AppendEvent(sql, actor, "create_namespace", "namespace", JoinLevels(levels),
                       {{"properties", properties}});
  });
}

Result<NamespaceRecord> Metastore::LoadNamespace(const Levels& levels) {
  MW_RETURN_IF_ERROR(CheckLevels(levels));
  NamespaceRecord record;
  MW_RETURN_IF_ERROR(pool_->Read([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(
        auto rows,
        sql.Query("SELECT properties, created_at_ms, updated_at_ms FROM namespaces WHERE name = $1",
                  {EncodeLevels(levels)}));
    if (rows.empty()) return NamespaceNotFound(levels);
    record = {.levels = levels,
              .properties = ParseProperties(rows[0].Text(0)),
              .created_at_ms = rows[0].Int(1),
              .updated_at_ms = rows[0].Int(2)};
    return Status::OK();
  }));
  return record;
}

Result<bool> Metastore::NamespaceExists(const Levels& levels) {
  MW_RETURN_IF_ERROR(CheckLevels(levels));
  bool exists = false;
  MW_RETURN_IF_ERROR(pool_->Read([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(exists, NamespaceKeyExists(sql, EncodeLevels(levels)));
    return Status::OK();
  }));
  return exists;
}

Result<Page<NamespaceRecord>> Metastore::ListNamespaces(const Levels& parent,
                                                        const PageRequest& page) {
  if (!parent.empty()) MW_RETURN_IF_ERROR(CheckLevels(parent));
  Page<NamespaceRecord> result;
  MW_RETURN_IF_ERROR(pool_->Read([&](SqlConnection& sql) -> Status {
    result.items.clear();
    const std::string parent_key = EncodeLevels(parent);
    if (!parent.empty()) {
      MW_ASSIGN_OR_RETURN(bool exists, NamespaceKeyExists(sql, parent_key));
      if (!exists) return NamespaceNotFound(parent);
    }
    MW_ASSIGN_OR_RETURN(
        auto rows,
        sql.Query("SELECT name, properties, created_at_ms, updated_at_ms FROM namespaces "
                  "WHERE parent = $1 AND name > $2 ORDER BY name LIMIT $3",
                  {parent_key, page.token, FetchLimit(page)}));
    for (const SqlRow& row : rows) {
      result.items.push_back({.levels = DecodeLevels(row.Text(0)),
                              .properties = ParseProperties(row.Text(1)),
                              .created_at_ms = row.Int(2),
                              .updated_at_ms = row.Int(3)});
    }
    if (page.size > 0 && static_cast<int64_t>(rows.size()) > page.size) {
      TrimPage(result, page, rows[page.size - 1].Text(0));
    }
    return Status::OK();
  }));
  return result;
}

Result<PropertiesUpdate> Metastore::UpdateNamespaceProperties(
    const Actor& actor, const Levels& levels, const std::vector<std::string>& removals,
    const Properties& updates) {
  MW_RETURN_IF_ERROR(CheckLevels(levels));
  for (const std::string& key : removals) {
    if (updates.contains(key)) {
      return Status::InvalidArgument("property '{}' is both updated and removed", key)
          .WithHint("name each key in either updates or removals");
    }
  }
  PropertiesUpdate outcome;
  MW_RETURN_IF_ERROR(pool_->Write([&](SqlConnection& sql) -> Status {
    outcome = {};
    const std::string key = EncodeLevels(levels);
    MW_ASSIGN_OR_RETURN(auto rows,
                        sql.Query("SELECT properties FROM namespaces WHERE name = $1", {key}));
    if (rows.empty()) return NamespaceNotFound(levels);
    Properties properties = ParseProperties(rows[0].Text(0));
    for (const std::string& removal : removals) {
      if (properties.erase(removal) > 0) {
        outcome.removed.push_back(removal);
      } else {
        outcome.missing.push_back(removal);
      }
    }
    for (const auto& [name, value] : updates) {
      properties[name] = value;
      outcome.updated.push_back(name);
    }
    MW_RETURN_IF_ERROR(
        sql.Execute("UPDATE namespaces SET properties = $1, updated_at_ms = $2 WHERE name = $3",
                    {PropertiesJson(properties), time::NowMillis(), key})
            .status());
    return AppendEvent(sql, actor, "update_namespace_properties", "namespace", JoinLevels(levels),
                       {{"updated", outcome.updated}, {"removed", outcome.removed}});
  }));
  return outcome;
}

Status Metastore::DropNamespace(const Actor& actor, const Levels& levels) {
  MW_RETURN_IF_ERROR(CheckLevels(levels));
  const std::string key = EncodeLevels(levels);
  return pool_->Write([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(bool exists, NamespaceKeyExists(sql, key));
    if (!exists) return NamespaceNotFound(levels);
    MW_ASSIGN_OR_RETURN(auto children,
                        sql.Query("SELECT (SELECT COUNT(*) FROM namespaces WHERE parent = $1), "
                                  "(SELECT COUNT(*) FROM objects WHERE namespace = $1)",
                                  {key}));
    const int64_t namespaces = children[0].Int(0), objects = children[0].Int(1);
    if (namespaces > 0 || objects > 0) {
      return Status::FailedPrecondition(
                 "namespace '{}' is not empty: it holds {} table(s) or view(s) and {} "
                 "namespace(s)",
                 JoinLevels(levels), objects, namespaces)
          .WithResource(JoinLevels(levels))
          .WithHint("drop what it holds first");
    }
    MW_RETURN_IF_ERROR(sql.Execute("DELETE FROM namespaces WHERE name = $1", {key}).status());
    MW_RETURN_IF_ERROR(sql.Execute("DELETE FROM grants WHERE securable_kind = 'namespace' AND "
                                   "securable_name = $1",
                                   {key})
                           .status());
    return AppendEvent(sql, actor, "drop_namespace", "namespace", JoinLevels(levels));
  });
}

// ---------------------------------------------------------------------------------------------
// Tables and views

Result<ObjectRecord> Metastore::LoadObject(const Levels& namespace_levels, const std::string& name,
                                           ObjectKind kind) {
  MW_RETURN_IF_ERROR(CheckLevels(namespace_levels));
  MW_RETURN_IF_ERROR(CheckName(KindTitle(kind), name));
  ObjectRecord record;
  MW_RETURN_IF_ERROR(pool_->Read([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(
        auto rows, sql.Query(fmt::format("SELECT {} FROM objects WHERE namespace = $1 AND name = "
                                         "$2 AND kind = $3",
                                         kObjectColumns),
                             {EncodeLevels(namespace_levels), name, std::string(KindTitle(kind))}));
    if (rows.empty()) return ObjectNotFound(kind, namespace_levels, name);
    record = ObjectFromRow(rows[0]);
    return Status::OK();
  }));
  return record;
}

Result<Page<ObjectRecord>> Metastore::ListObjects(const Levels& namespace_levels, ObjectKind kind,
                                                  const PageRequest& page) {
  MW_RETURN_IF_ERROR(CheckLevels(namespace_levels));
  Page<ObjectRecord> result;
  MW_RETURN_IF_ERROR(pool_->Read([&](SqlConnection& sql) -> Status {
    result.items.clear();
    const std::string key = EncodeLevels(namespace_levels);
    MW_ASSIGN_OR_RETURN(bool exists, NamespaceKeyExists(sql, key));
    if (!exists) return NamespaceNotFound(namespace_levels);
    MW_ASSIGN_OR_RETURN(
        auto rows,
        sql.Query(fmt::format("SELECT {} FROM objects WHERE namespace = $1 AND kind = $2 AND "
                              "name > $3 ORDER BY name LIMIT $4",
                              kObjectColumns),
                  {key, std::string(KindTitle(kind)), page.token, FetchLimit(page)}));
    for (const SqlRow& row : rows)
      result.items.push_back(ObjectFromRow(row));
    if (page.size > 0 && static_cast<int64_t>(rows.size()) > page.size) {
      TrimPage(result, page, rows[page.size - 1].Text(1));
    }
    return Status::OK();
  }));
  return result;
}

Status Metastore::CommitPointers(const Actor& actor, const std::vector<PointerSwap>& swaps) {
  if (swaps.empty()) return Status::InvalidArgument("a commit needs at least one table or view");
  std::vector<const PointerSwap*> ordered;
  std::set<std::pair<std::string, std::string>> seen;
  for (const PointerSwap& swap : swaps) {
    MW_RETURN_IF_ERROR(CheckLevels(swap.namespace_levels));
    MW_RETURN_IF_ERROR(CheckName(KindTitle(swap.kind), swap.name));
    if (swap.new_location.empty()) {
      return Status::InvalidArgument("commit of '{}' has no metadata location",
                                     QualifiedName(swap.namespace_levels, swap.name));
    }
    if (!seen.insert({EncodeLevels(swap.namespace_levels), swap.name}).second) {
      return Status::InvalidArgument("'{}' appears twice in one commit",
                                     QualifiedName(swap.namespace_levels, swap.name))
          .WithHint("combine its changes into one");
    }
    ordered.push_back(&swap);
  }
  // One lock order for every transaction, so that two multi-table commits cannot deadlock.
  std::sort(ordered.begin(), ordered.end(), [](const PointerSwap* a, const PointerSwap* b) {
    return std::tie(a->namespace_levels, a->name) < std::tie(b->namespace_levels, b->name);
  });
  return pool_->Write([&](SqlConnection& sql) -> Status {
    const int64_t now = time::NowMillis();
    for (const PointerSwap* swap : ordered) {
      const std::string key = EncodeLevels(swap->namespace_levels);
      const std::string qualified = QualifiedName(swap->namespace_levels, swap->name);
      const std::string kind(KindTitle(swap->kind));
      if (!swap->expected) {
        MW_ASSIGN_OR_RETURN(bool namespace_exists, NamespaceKeyExists(sql, key));
        if (!namespace_exists) return NamespaceNotFound(swap->namespace_levels);
        MW_ASSIGN_OR_RETURN(auto inserted,
                            sql.Execute("INSERT INTO objects (namespace, name, kind, "
                                        "metadata_location, version, created_at_ms, "
                                        "updated_at_ms) VALUES ($1, $2, $3, $4, 1, $5, $5) "
                                        "ON CONFLICT (namespace, name) DO NOTHING",
                                        {key, swap->name, kind, swap->new_location, now}));
        if (inserted == 0) {
          MW_ASSIGN_OR_RETURN(auto taken,
                              sql.Query("SELECT kind, metadata_location FROM objects WHERE "
                                        "namespace = $1 AND name = $2",
                                        {key, swap->name}));
          // A retry of a create whose first attempt did commit (the connection died during
          // COMMIT): metadata locations are unique, so this is that very create.
          if (!taken.empty() && taken[0].Text(1) == swap->new_location) continue;
          const std::string holder = taken.empty() ? kind : taken[0].Text(0);
          return Status::AlreadyExists("{} '{}' already exists", holder, qualified)
              .WithResource(qualified);
        }
        MW_RETURN_IF_ERROR(AppendEvent(sql, actor, "create", kind, qualified,
                                       {{"metadata-location", swap->new_location}}));
        continue;
      }
      MW_ASSIGN_OR_RETURN(
          auto updated,
          sql.Execute("UPDATE objects SET metadata_location = $1, previous_metadata_location = "
                      "metadata_location, version = version + 1, updated_at_ms = $2 WHERE "
                      "namespace = $3 AND name = $4 AND kind = $5 AND metadata_location = $6",
                      {swap->new_location, now, key, swap->name, kind, *swap->expected}));
      if (updated == 0) {
        MW_ASSIGN_OR_RETURN(auto current, sql.Query("SELECT metadata_location FROM objects WHERE "
                                                    "namespace = $1 AND name = $2 AND kind = $3",
                                                    {key, swap->name, kind}));
        if (current.empty()) return ObjectNotFound(swap->kind, swap->namespace_levels, swap->name);
        // A retry of this very swap whose first attempt committed: already done.
        if (current[0].Text(0) == swap->new_location) continue;
        return Status::Conflict(
                   "{} '{}' was changed by another commit: its metadata is now {}, not {}", kind,
                   qualified, current[0].Text(0), *swap->expected)
            .WithResource(qualified)
            .WithHint("reload it and apply the change again");
      }
      MW_RETURN_IF_ERROR(
          AppendEvent(sql, actor, "commit", kind, qualified,
                      {{"metadata-location", swap->new_location}, {"previous", *swap->expected}}));
    }
    return Status::OK();
  });
}

Status Metastore::RenameObject(const Actor& actor, ObjectKind kind, const Levels& from_namespace,
                               const std::string& from_name, const Levels& to_namespace,
                               const std::string& to_name) {
  MW_RETURN_IF_ERROR(CheckLevels(from_namespace));
  MW_RETURN_IF_ERROR(CheckLevels(to_namespace));
  MW_RETURN_IF_ERROR(CheckName(KindTitle(kind), from_name));
  MW_RETURN_IF_ERROR(CheckName(KindTitle(kind), to_name));
  const std::string from_key = EncodeLevels(from_namespace);
  const std::string to_key = EncodeLevels(to_namespace);
  const std::string kind_name(KindTitle(kind));
  return pool_->Write([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(bool target_namespace, NamespaceKeyExists(sql, to_key));
    if (!target_namespace) return NamespaceNotFound(to_namespace);
    MW_ASSIGN_OR_RETURN(auto taken, sql.Query("SELECT kind FROM objects WHERE namespace = $1 AND "
                                              "name = $2",
                                              {to_key, to_name}));
    if (!taken.empty()) {
      return Status::AlreadyExists("{} '{}' already exists", taken[0].Text(0),
                                   QualifiedName(to_namespace, to_name))
          .WithResource(QualifiedName(to_namespace, to_name));
    }
    MW_ASSIGN_OR_RETURN(
        auto moved,
        sql.Execute("UPDATE objects SET namespace = $1, name = $2, updated_at_ms "
                    "= $3 WHERE namespace = $4 AND name = $5 AND kind = $6",
                    {to_key, to_name, time::NowMillis(), from_key, from_name, kind_name}));
    if (moved == 0) return ObjectNotFound(kind, from_namespace, from_name);
    const auto path_key = [](const std::string& ns, const std::string& name) {
      return ns + kSeparator + name;
    };
    MW_RETURN_IF_ERROR(
        sql.Execute("UPDATE grants SET securable_name = $1 WHERE securable_kind = "
                    "$2 AND securable_name = $3",
                    {path_key(to_key, to_name), kind_name, path_key(from_key, from_name)})
            .status());
    return AppendEvent(sql, actor, "rename", kind_name, QualifiedName(from_namespace, from_name),
                       {{"to", QualifiedName(to_namespace, to_name)}});
  });
}

Result<ObjectRecord> Metastore::DropObject(const Actor& actor, ObjectKind kind,
                                           const Levels& namespace_levels,
                                           const std::string& name) {
  MW_RETURN_IF_ERROR(CheckLevels(namespace_levels));
  MW_RETURN_IF_ERROR(CheckName(KindTitle(kind), name));
  const std::string key = EncodeLevels(namespace_levels);
  const std::string kind_name(KindTitle(kind));
  ObjectRecord record;
  MW_RETURN_IF_ERROR(pool_->Write([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(
        auto rows,
        sql.Query(fmt::format("SELECT {} FROM objects WHERE namespace = $1 AND name = $2 AND "
                              "kind = $3",
                              kObjectColumns),
                  {key, name, kind_name}));
    if (rows.empty()) return ObjectNotFound(kind, namespace_levels, name);
    record = ObjectFromRow(rows[0]);
    MW_RETURN_IF_ERROR(
        sql.Execute("DELETE FROM objects WHERE namespace = $1 AND name = $2", {key, name})
            .status());
    // A table created later under the same name must not inherit these grants.
    MW_RETURN_IF_ERROR(sql.Execute("DELETE FROM grants WHERE securable_kind = $1 AND "
                                   "securable_name = $2",
                                   {kind_name, key + kSeparator + name})
                           .status());
    return AppendEvent(sql, actor, "drop", kind_name, QualifiedName(namespace_levels, name),
                       {{"metadata-location", record.metadata_location}});
  }));
  return record;
}

// ---------------------------------------------------------------------------------------------
// Principals

Status Metastore::CreatePrincipal(const Actor& actor, const PrincipalRecord& principal) {
  MW_RETURN_IF_ERROR(CheckName("principal", principal.name));
  MW_RETURN_IF_ERROR(CheckName("client id", principal.client_id));
  if (principal.secret_hash.empty()) {
    return Status::InvalidArgument("principal '{}' has no secret hash", principal.name);
  }
  return pool_->Write([&](SqlConnection& sql) -> Status {
    const int64_t now = time::NowMillis();
    auto inserted = sql.Execute(
        fmt::format("INSERT INTO principals ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
                    kPrincipalColumns),
        {principal.name, principal.client_id, principal.secret_hash, principal.credential_version,
         principal.kind, PropertiesJson(principal.properties), now});
    if (!inserted.ok() && inserted.error().code() == StatusCode::kAlreadyExists) {
      return Status::AlreadyExists("principal '{}' (or its client id) already exists",
                                   principal.name)
          .WithResource(principal.name);
    }
    MW_RETURN_IF_ERROR(inserted.status());
    return AppendEvent(sql, actor, "create_principal", "principal", principal.name,
                       {{"kind", principal.kind}, {"client-id", principal.client_id}});
  });
}

namespace {
Result<PrincipalRecord> LoadPrincipalWhere(SqlPool& pool, std::string_view column,
                                           const std::string& value) {
  PrincipalRecord record;
  MW_RETURN_IF_ERROR(pool.Read([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(auto rows, sql.Query(fmt::format("SELECT {} FROM principals WHERE {} = $1",
                                                         kPrincipalColumns, column),
                                             {value}));
    if (rows.empty()) {
      return Status::NotFound("principal with {} '{}' does not exist",
                              column == "name" ? "name" : "client id", value);
    }
    record = PrincipalFromRow(rows[0]);
    return Status::OK();
  }));
  return record;
}
}  // namespace

Result<PrincipalRecord> Metastore::LoadPrincipal(const std::string& name) {
  return LoadPrincipalWhere(*pool_, "name", name);
}

Result<PrincipalRecord> Metastore::LoadPrincipalByClientId(const std::string& client_id) {
  return LoadPrincipalWhere(*pool_, "client_id", client_id);
}

Result<std::vector<PrincipalRecord>> Metastore::ListPrincipals() {
  std::vector<PrincipalRecord> principals;
  MW_RETURN_IF_ERROR(pool_->Read([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(auto rows, sql.Query(fmt::format("SELECT {} FROM principals ORDER BY name",
                                                         kPrincipalColumns)));
    principals.clear();
    for (const SqlRow& row : rows)
      principals.push_back(PrincipalFromRow(row));
    return Status::OK();
  }));
  return principals;
}

Result<int64_t> Metastore::RotateCredentials(const Actor& actor, const std::string& name,
                                             const std::string& secret_hash) {
  if (secret_hash.empty()) return Status::InvalidArgument("rotation needs a secret hash");
  int64_t version = 0;
  MW_RETURN_IF_ERROR(pool_->Write([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(auto updated,
                        sql.Execute("UPDATE principals SET secret_hash = $1, credential_version = "
                                    "credential_version + 1, rotated_at_ms = $2 WHERE name = $3",
                                    {secret_hash, time::NowMillis(), name}));
    if (updated == 0) return Status::NotFound("principal '{}' does not exist", name);
    MW_ASSIGN_OR_RETURN(auto rows, sql.Query("SELECT credential_version FROM principals WHERE "
                                             "name = $1",
                                             {name}));
    version = rows[0].Int(0);
    return AppendEvent(sql, actor, "rotate_credentials", "principal", name,
                       {{"credential-version", version}});
  }));
  return version;
}

Status Metastore::DropPrincipal(const Actor& actor, const std::string& name) {
  return pool_->Write([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(auto deleted,
                        sql.Execute("DELETE FROM principals WHERE name = $1", {name}));
    if (deleted == 0) return Status::NotFound("principal '{}' does not exist", name);
    return AppendEvent(sql, actor, "drop_principal", "principal", name);
  });
}

// ---------------------------------------------------------------------------------------------
// Roles and grants

Status Metastore::CreateRole(const Actor& actor, const RoleRecord& role) {
  MW_RETURN_IF_ERROR(CheckName("role", role.name));
  return pool_->Write([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(auto inserted,
                        sql.Execute("INSERT INTO roles (name, description, created_at_ms) VALUES "
                                    "($1, $2, $3) ON CONFLICT (name) DO NOTHING",
                                    {role.name, role.description, time::NowMillis()}));
    if (inserted == 0) {
      return Status::AlreadyExists("role '{}' already exists", role.name).WithResource(role.name);
    }
    return AppendEvent(sql, actor, "create_role", "role", role.name);
  });
}

Result<std::vector<RoleRecord>> Metastore::ListRoles() {
  std::vector<RoleRecord> roles;
  MW_RETURN_IF_ERROR(pool_->Read([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(
        auto rows, sql.Query("SELECT name, description, created_at_ms FROM roles ORDER BY name"));
    roles.clear();
    for (const SqlRow& row : rows)
      roles.push_back({row.Text(0), row.Text(1), row.Int(2)});
    return Status::OK();
  }));
  return roles;
}

Status Metastore::DropRole(const Actor& actor, const std::string& name) {
  return pool_->Write([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(auto deleted, sql.Execute("DELETE FROM roles WHERE name = $1", {name}));
    if (deleted == 0) return Status::NotFound("role '{}' does not exist", name);
    return AppendEvent(sql, actor, "drop_role", "role", name);
  });
}

Status Metastore::AssignRole(const Actor& actor, const std::string& principal,
                             const std::string& role) {
  return pool_->Write([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(auto found,
                        sql.Query("SELECT (SELECT COUNT(*) FROM principals WHERE name = $1), "
                                  "(SELECT COUNT(*) FROM roles WHERE name = $2)",
                                  {principal, role}));
    if (found[0].Int(0) == 0) return Status::NotFound("principal '{}' does not exist", principal);
    if (found[0].Int(1) == 0) return Status::NotFound("role '{}' does not exist", role);
    MW_ASSIGN_OR_RETURN(auto inserted,
                        sql.Execute("INSERT INTO principal_roles (principal, role) VALUES ($1, "
                                    "$2) ON CONFLICT (principal, role) DO NOTHING",
                                    {principal, role}));
    if (inserted == 0) return Status::OK();  // already held: nothing to record
    return AppendEvent(sql, actor, "assign_role", "principal", principal, {{"role", role}});
  });
}

Status Metastore::UnassignRole(const Actor& actor, const std::string& principal,
                               const std::string& role) {
  return pool_->Write([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(
        auto deleted, sql.Execute("DELETE FROM principal_roles WHERE principal = $1 AND role = $2",
                                  {principal, role}));
    if (deleted == 0) {
      return Status::NotFound("principal '{}' does not hold role '{}'", principal, role);
    }
    return AppendEvent(sql, actor, "unassign_role", "principal", principal, {{"role", role}});
  });
}

Result<std::vector<std::string>> Metastore::RolesOfPrincipal(const std::string& principal) {
  std::vector<std::string> roles;
  MW_RETURN_IF_ERROR(pool_->Read([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(auto rows, sql.Query("SELECT role FROM principal_roles WHERE principal = "
                                             "$1 ORDER BY role",
                                             {principal}));
    roles.clear();
    for (const SqlRow& row : rows)
      roles.push_back(row.Text(0));
    return Status::OK();
  }));
  return roles;
}

Status Metastore::AddGrant(const Actor& actor, const GrantRecord& grant) {
  MW_RETURN_IF_ERROR(CheckName("privilege", grant.privilege));
  for (const std::string& part : grant.securable_path)
    MW_RETURN_IF_ERROR(CheckName("securable", part));
  return pool_->Write([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(auto role, sql.Query("SELECT 1 FROM roles WHERE name = $1", {grant.role}));
    if (role.empty()) return Status::NotFound("role '{}' does not exist", grant.role);
    MW_ASSIGN_OR_RETURN(
        auto inserted,
        sql.Execute("INSERT INTO grants (role, privilege, securable_kind, "
                    "securable_name, granted_by, granted_at_ms) VALUES ($1, $2, "
                    "$3, $4, $5, $6) ON CONFLICT (role, privilege, "
                    "securable_kind, securable_name) DO NOTHING",
                    {grant.role, grant.privilege, grant.securable_kind,
                     EncodeLevels(grant.securable_path), actor.principal, time::NowMillis()}));
    if (inserted == 0) return Status::OK();
    return AppendEvent(sql, actor, "grant", grant.securable_kind, JoinLevels(grant.securable_path),
                       {{"role", grant.role}, {"privilege", grant.privilege}});
  });
}

Status Metastore::RemoveGrant(const Actor& actor, const GrantRecord& grant) {
  return pool_->Write([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(auto deleted,
                        sql.Execute("DELETE FROM grants WHERE role = $1 AND privilege = $2 AND "
                                    "securable_kind = $3 AND securable_name = $4",
                                    {grant.role, grant.privilege, grant.securable_kind,
                                     EncodeLevels(grant.securable_path)}));
    if (deleted == 0) {
      return Status::NotFound("role '{}' has no grant of {} on {} '{}'", grant.role,
                              grant.privilege, grant.securable_kind,
                              JoinLevels(grant.securable_path));
    }
    return AppendEvent(sql, actor, "revoke", grant.securable_kind, JoinLevels(grant.securable_path),
                       {{"role", grant.role}, {"privilege", grant.privilege}});
  });
}

Result<std::vector<GrantRecord>> Metastore::ListGrants(const std::string& role) {
  std::vector<GrantRecord> grants;
  MW_RETURN_IF_ERROR(pool_->Read([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(
        auto rows, sql.Query("SELECT role, privilege, securable_kind, securable_name, granted_by, "
                             "granted_at_ms FROM grants WHERE $1 = '' OR role = $1 ORDER BY role, "
                             "securable_kind, securable_name, privilege",
                             {role}));
    grants.clear();
    for (const SqlRow& row : rows)
      grants.push_back(GrantFromRow(row));
    return Status::OK();
  }));
  return grants;
}

Result<std::vector<GrantRecord>> Metastore::GrantsOfPrincipal(const std::string& principal) {
  std::vector<GrantRecord> grants;
  MW_RETURN_IF_ERROR(pool_->Read([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(
        auto rows,
        sql.Query("SELECT g.role, g.privilege, g.securable_kind, g.securable_name, g.granted_by, "
                  "g.granted_at_ms FROM grants g JOIN principal_roles p ON p.role = g.role "
                  "WHERE p.principal = $1 ORDER BY g.role, g.securable_kind, g.securable_name, "
                  "g.privilege",
                  {principal}));
    grants.clear();
    for (const SqlRow& row : rows)
      grants.push_back(GrantFromRow(row));
    return Status::OK();
  }));
  return grants;
}

// ---------------------------------------------------------------------------------------------
// Settings and events

Result<std::optional<std::string>> Metastore::GetSetting(const std::string& key) {
  std::optional<std::string> value;
  MW_RETURN_IF_ERROR(pool_->Read([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(auto rows, sql.Query("SELECT value FROM settings WHERE key = $1", {key}));
    value = rows.empty() ? std::nullopt : rows[0].OptionalText(0);
    return Status::OK();
  }));
  return value;
}

Result<std::string> Metastore::SetSettingIfAbsent(const std::string& key,
                                                  const std::string& value) {
  std::string effective;
  MW_RETURN_IF_ERROR(pool_->Write([&](SqlConnection& sql) -> Status {
    MW_RETURN_IF_ERROR(sql.Execute("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT "
                                   "(key) DO NOTHING",
                                   {key, value})
                           .status());
    MW_ASSIGN_OR_RETURN(auto rows, sql.Query("SELECT value FROM settings WHERE key = $1", {key}));
    effective = rows.at(0).Text(0);
    return Status::OK();
  }));
  return effective;
}

Result<std::optional<Metastore::StoredResponse>> Metastore::LoadStoredResponse(
    const std::string& key) {
  std::optional<StoredResponse> stored;
  MW_RETURN_IF_ERROR(pool_->Read([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(auto rows,
                        sql.Query("SELECT principal, route, status, headers, body, created_at_ms "
                                  "FROM idempotency_keys WHERE key = $1",
                                  {key}));
    if (rows.empty()) {
      stored.reset();
      return Status::OK();
    }
    stored = StoredResponse{rows[0].Text(0), rows[0].Text(1), rows[0].Int(2),
                            rows[0].Text(3), rows[0].Text(4), rows[0].Int(5)};
    return Status::OK();
  }));
  return stored;
}

Status Metastore::StoreResponse(const std::string& key, const StoredResponse& response) {
  MW_RETURN_IF_ERROR(CheckName("idempotency key", key));
  return pool_->Write([&](SqlConnection& sql) -> Status {
    return sql
        .Execute(
            "INSERT INTO idempotency_keys (key, principal, route, status, headers, body, "
            "created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key) DO NOTHING",
            {key, response.principal, response.route, response.status, response.headers,
             response.body, time::NowMillis()})
        .status();
  });
}

Result<int64_t> Metastore::ExpireStoredResponses(int64_t before_ms) {
  int64_t removed = 0;
  MW_RETURN_IF_ERROR(pool_->Write([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(
        removed, sql.Execute("DELETE FROM idempotency_keys WHERE created_at_ms < $1", {before_ms}));
    return Status::OK();
  }));
  return removed;
}

Result<std::optional<DocumentRecord>> Metastore::LoadDocument(const std::string& collection,
                                                              const std::string& key) {
  std::optional<DocumentRecord> document;
  MW_RETURN_IF_ERROR(pool_->Read([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(auto rows, sql.Query("SELECT body, version, created_at_ms, updated_at_ms "
                                             "FROM documents WHERE collection = $1 AND key = $2",
                                             {collection, key}));
    document.reset();
    if (!rows.empty()) {
      document = DocumentRecord{collection,     key,           rows[0].Text(0), rows[0].Int(1),
                                rows[0].Int(2), rows[0].Int(3)};
    }
    return Status::OK();
  }));
  return document;
}

Result<std::vector<DocumentRecord>> Metastore::ListDocuments(const std::string& collection,
                                                             const std::string& key_prefix) {
  std::vector<DocumentRecord> documents;
  MW_RETURN_IF_ERROR(pool_->Read([&](SqlConnection& sql) -> Status {
    // A range instead of LIKE: prefixes may hold '%' or '_', and the key columns sort byte-wise
    // on both backends. U+10FFFF is the highest code point (and still valid UTF-8, which
    // PostgreSQL insists on), so prefix + it bounds the keys that start with the prefix.
    MW_ASSIGN_OR_RETURN(auto rows,
                        sql.Query("SELECT key, body, version, created_at_ms, updated_at_ms FROM "
                                  "documents WHERE collection = $1 AND key >= $2 AND key < $3 "
                                  "ORDER BY key",
                                  {collection, key_prefix, key_prefix + "\xf4\x8f\xbf\xbf"}));
    documents.clear();
    for (const SqlRow& row : rows) {
      documents.push_back(
          {collection, row.Text(0), row.Text(1), row.Int(2), row.Int(3), row.Int(4)});
    }
    return Status::OK();
  }));
  return documents;
}

Status Metastore::WriteDocuments(const Actor& actor, const std::vector<DocumentWrite>& writes,
                                 std::string_view action, std::string_view object_kind,
                                 const std::string& object_name, const std::string& details_json) {
  for (const DocumentWrite& write : writes) {
    MW_RETURN_IF_ERROR(CheckName("document collection", write.collection));
    MW_RETURN_IF_ERROR(CheckName("document key", write.key));
  }
  auto details = nlohmann::json::parse(details_json, nullptr, /*allow_exceptions=*/false);
  if (details.is_discarded()) details = nlohmann::json::object();
  return pool_->Write([&](SqlConnection& sql) -> Status {
    const int64_t now = time::NowMillis();
    for (const DocumentWrite& write : writes) {
      MW_ASSIGN_OR_RETURN(auto rows,
                          sql.Query("SELECT version FROM documents WHERE collection = $1 AND "
                                    "key = $2",
                                    {write.collection, write.key}));
      const int64_t current = rows.empty() ? 0 : rows[0].Int(0);
      if (write.expected_version >= 0 && current != write.expected_version) {
        return Status::Conflict("{} '{}' changed concurrently (version {} expected, {} found)",
                                write.collection, write.key, write.expected_version, current);
      }
      if (write.remove) {
        if (current == 0) continue;
        MW_RETURN_IF_ERROR(sql.Execute("DELETE FROM documents WHERE collection = $1 AND key = $2",
                                       {write.collection, write.key})
                               .status());
      } else if (current == 0) {
        MW_RETURN_IF_ERROR(sql.Execute("INSERT INTO documents (collection, key, body, version, "
                                       "created_at_ms, updated_at_ms) VALUES ($1, $2, $3, 1, $4, "
                                       "$4)",
                                       {write.collection, write.key, write.body, now})
                               .status());
      } else {
        MW_RETURN_IF_ERROR(sql.Execute("UPDATE documents SET body = $3, version = version + 1, "
                                       "updated_at_ms = $4 WHERE collection = $1 AND key = $2",
                                       {write.collection, write.key, write.body, now})
                               .status());
      }
    }
    return AppendEvent(sql, actor, action, object_kind, object_name, details);
  });
}

Result<std::vector<EventRecord>> Metastore::ListEvents(int64_t after_id, int64_t limit) {
  std::vector<EventRecord> events;
  MW_RETURN_IF_ERROR(pool_->Read([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(
        auto rows,
        sql.Query("SELECT id, at_ms, principal, request_id, action, object_kind, object_name, "
                  "details FROM events WHERE id > $1 ORDER BY id LIMIT $2",
                  {after_id, limit > 0 ? limit : std::numeric_limits<int32_t>::max()}));
    events.clear();
    for (const SqlRow& row : rows) {
      events.push_back({row.Int(0), row.Int(1), row.Text(2), row.Text(3), row.Text(4), row.Text(5),
                        row.Text(6), row.Text(7)});
    }
    return Status::OK();
  }));
  return events;
}

Status Metastore::AppendAudit(const std::vector<AuditRecord>& records) {
  if (records.empty()) return Status::OK();
  return pool_->Write([&](SqlConnection& sql) -> Status {
    for (const AuditRecord& record : records) {
      MW_RETURN_IF_ERROR(
          sql.Execute("INSERT INTO audit (at_ms, principal, request_id, channel, operation, "
                      "securables, allowed, reason, policies, fingerprint, rows_returned, "
                      "details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                      {record.at_ms, record.principal, record.request_id, record.channel,
                       record.operation, record.securables, int64_t{record.allowed ? 1 : 0},
                       record.reason, record.policies, record.fingerprint, record.rows,
                       record.details.empty() ? std::string("{}") : record.details})
              .status());
    }
    return Status::OK();
  });
}

Result<std::vector<AuditRecord>> Metastore::ListAudit(const AuditFilter& filter) {
  std::string where = "1 = 1";
  std::vector<SqlValue> params;
  const auto add = [&](std::string_view condition, SqlValue value) {
    params.push_back(std::move(value));
    where += fmt::format(" AND {}", fmt::format(fmt::runtime(condition), params.size()));
  };
  if (!filter.principal.empty()) add("principal = ${}", filter.principal);
  if (!filter.operation.empty()) add("operation = ${}", filter.operation);
  // Exact membership in the comma-separated list, written the same way for both backends.
  if (!filter.securable.empty()) {
    std::string escaped;
    for (const char c : filter.securable) {
      if (c == '%' || c == '_' || c == '!') escaped += '!';
      escaped += c;
    }
    add("(',' || securables || ',') LIKE ${} ESCAPE '!'", "%," + escaped + ",%");
  }
  if (filter.allowed) add("allowed = ${}", int64_t{*filter.allowed ? 1 : 0});
  if (filter.since_ms > 0) add("at_ms >= ${}", filter.since_ms);
  if (filter.until_ms > 0) add("at_ms < ${}", filter.until_ms);
  if (filter.before_id > 0) add("id < ${}", filter.before_id);
  params.push_back(filter.limit > 0 ? filter.limit : std::numeric_limits<int32_t>::max());
  const std::string query = fmt::format(
      "SELECT id, at_ms, principal, request_id, channel, operation, securables, allowed, reason, "
      "policies, fingerprint, rows_returned, details FROM audit WHERE {} ORDER BY id DESC "
      "LIMIT ${}",
      where, params.size());
  std::vector<AuditRecord> records;
  MW_RETURN_IF_ERROR(pool_->Read([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(auto rows, sql.Query(query, params));
    records.clear();
    for (const SqlRow& row : rows) {
      records.push_back({.id = row.Int(0),
                         .at_ms = row.Int(1),
                         .principal = row.Text(2),
                         .request_id = row.Text(3),
                         .channel = row.Text(4),
                         .operation = row.Text(5),
                         .securables = row.Text(6),
                         .allowed = row.Int(7) != 0,
                         .reason = row.Text(8),
                         .policies = row.Text(9),
                         .fingerprint = row.Text(10),
                         .rows = row.Int(11),
                         .details = row.Text(12)});
    }
    return Status::OK();
  }));
  return records;
}

Result<int64_t> Metastore::ExpireAudit(int64_t before_ms) {
  int64_t removed = 0;
  MW_RETURN_IF_ERROR(pool_->Write([&](SqlConnection& sql) -> Status {
    MW_ASSIGN_OR_RETURN(removed, sql.Execute("DELETE FROM audit WHERE at_ms < $1", {before_ms}));
    return Status::OK();
  }));
  return removed;
}

}  // namespace meshwork::metastore
