#pragma once
// The catalog's durable state behind one interface, with two backends: SQLite (embedded default,
// one file in the data dir) and PostgreSQL (production; several meshwork servers share one).
//
// What it holds: namespaces (domains) with properties, tables and views with their current
// metadata location, principals and their credentials (hashes only), roles, grants, settings
// (shared secrets such as the token signing key), and an event log. Every change is one database
// transaction that also appends its event, so the log never disagrees with the state.
//
// The table pointer swap is a compare-and-swap (`UPDATE … WHERE metadata_location = expected`):
// of two servers committing the same table, exactly one wins. No authorization happens here;
// that is the catalog service's job.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace meshwork::metastore {

class SqlPool;

/// A namespace path: {"finance"}, {"finance", "ledger"}.
using Levels = std::vector<std::string>;
using Properties = std::map<std::string, std::string>;

/// Who made a change, for the event log.
struct Actor {
  std::string principal;
  std::string request_id;
};

/// A page of a listing: `token` is what a previous page returned as next_token ("" = start);
/// `size` 0 = no limit.
struct PageRequest {
  std::string token;
  int64_t size = 0;
};

template <typename T>
struct Page {
  std::vector<T> items;
  /// Pass as PageRequest::token for the next page; "" when this was the last.
  std::string next_token;
};

struct NamespaceRecord {
  Levels levels;
  Properties properties;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

struct PropertiesUpdate {
  std::vector<std::string> updated;
  std::vector<std::string> removed;
  /// Keys asked to be removed that did not exist.
  std::vector<std::string> missing;
};

enum class ObjectKind { kTable, kView };
std::string_view ObjectKindName(ObjectKind kind);  // "table", "view"

struct ObjectRecord {
  Levels namespace_levels;
  std::string name;
  ObjectKind kind = ObjectKind::kTable;
  std::string metadata_location;
  /// Incremented by every swap.
  int64_t version = 0;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

/// One pointer change of a commit. `expected` nullopt creates the object (fails if the name is
/// taken by a table or a view).
struct PointerSwap {
  Levels namespace_levels;
  std::string name;
  ObjectKind kind = ObjectKind::kTable;
  std::optional<std::string> expected;
  std::string new_location;
};

struct PrincipalRecord {
  std::string name;
  std::string client_id;
  /// A self-describing salted slow hash ("scrypt$..."); never the secret.
  std::string secret_hash;
  /// Incremented by every rotation; tokens carry it, so rotating revokes older tokens.
  int64_t credential_version = 1;
  std::string kind = "user";  // user | service | root
  Properties properties;
  int64_t created_at_ms = 0;
  int64_t rotated_at_ms = 0;
};

struct RoleRecord {
  std::string name;
  std::string description;
  int64_t created_at_ms = 0;
};

/// `privilege` on a securable: kind "mesh" (path {}), "namespace" (path = its levels), "table" or
/// "view" (path = namespace levels, then the name).
struct GrantRecord {
  std::string role;
  std::string privilege;
  std::string securable_kind;
  Levels securable_path;
  std::string granted_by;
  int64_t granted_at_ms = 0;
};

struct EventRecord {
  int64_t id = 0;
  int64_t at_ms = 0;
  std::string principal;
  std::string request_id;
  std::string action;  // create_namespace, commit, rename_table, create_principal, ...
  std::string object_kind;
  std::string object_name;
  /// JSON object with the specifics (locations, changed keys); never secrets.
  std::string details;
};

/// One access decision or governance change, as the audit log keeps it.
struct AuditRecord {
  int64_t id = 0;  // assigned when stored
  int64_t at_ms = 0;
  std::string principal;
  std::string request_id;
  std::string channel;    // rest | http | pg | cli | internal
  std::string operation;  // READ_DATA, query, policy_apply, set_attributes, ...
  /// What it was about: "finance.q3_revenue", several separated by ',' for a query.
  std::string securables;
  bool allowed = true;
  std::string reason;       // why allowed or denied, as the caller was told
  std::string policies;     // the governance rules applied, separated by ','
  std::string fingerprint;  // of the statement, literals removed
  int64_t rows = -1;        // rows returned; -1 when not a query or not known
  std::string details;      // JSON object
};

/// Which audit records to list; empty strings and zeros do not filter.
struct AuditFilter {
  std::string principal;
  std::string securable;  // records naming this securable among theirs
  std::string operation;
  std::optional<bool> allowed;
  int64_t since_ms = 0;  // at_ms >= since_ms
  int64_t until_ms = 0;  // at_ms < until_ms
  /// Records older than this id (paging newest first); 0: from the newest.
  int64_t before_id = 0;
  int64_t limit = 100;
};

struct DocumentRecord {
  std::string collection;
  std::string key;
  std::string body;  // JSON
  /// 1 when created, incremented by every write.
  int64_t version = 0;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  bool operator==(const DocumentRecord&) const = default;
};

/// One document change. `expected_version`: 0 = must not exist yet, -1 = whatever it is, N = must
/// be at version N. `remove` deletes it.
struct DocumentWrite {
  std::string collection;
  std::string key;
  std::string body;
  int64_t expected_version = -1;
  bool remove = false;
};

struct MetastoreOptions {
  /// "postgresql://…" / "postgres://…" / "host=… dbname=…" for PostgreSQL; otherwise a SQLite
  /// file path (optionally "sqlite:PATH").
  std::string url;
  /// Connections kept open; requests beyond it wait for one.
  int max_connections = 8;
};

class Metastore {
 public:
  /// Opens the backend and applies pending schema migrations (safe when several servers start
  /// at once). Refuses a database migrated by a newer meshwork.
  static Result<std::unique_ptr<Metastore>> Open(const MetastoreOptions& options);
  ~Metastore();
  Metastore(const Metastore&) = delete;
  Metastore& operator=(const Metastore&) = delete;

  std::string_view backend() const;  // "sqlite" | "postgresql"
  /// The highest migration applied.
  Result<int64_t> SchemaVersion();
  /// A cheap round trip, for /healthz.
  Status Ping();

  // Namespaces. Levels must be non-empty strings without control characters.
  Status CreateNamespace(const Actor& actor, const Levels& levels, const Properties& properties);
  Result<NamespaceRecord> LoadNamespace(const Levels& levels);
  Result<bool> NamespaceExists(const Levels& levels);
  /// Direct children of `parent` ({} = top level), sorted by name.
  Result<Page<NamespaceRecord>> ListNamespaces(const Levels& parent, const PageRequest& page);
  Result<PropertiesUpdate> UpdateNamespaceProperties(const Actor& actor, const Levels& levels,
                                                     const std::vector<std::string>& removals,
                                                     const Properties& updates);
  /// failed_precondition when it still holds namespaces, tables or views. Grants on it go too.
  Status DropNamespace(const Actor& actor, const Levels& levels);

  // Tables and views.
  Result<ObjectRecord> LoadObject(const Levels& namespace_levels, const std::string& name,
                                  ObjectKind kind);
  Result<Page<ObjectRecord>> ListObjects(const Levels& namespace_levels, ObjectKind kind,
                                         const PageRequest& page);
  /// Applies every swap or none: conflict naming the first object whose pointer moved,
  /// not_found for a missing object or namespace, already_exists for a taken name. A swap whose
  /// pointer already holds its new location counts as done, so retrying a commit whose outcome
  /// was unknown (the connection died during COMMIT) is safe: new locations are unique.
  Status CommitPointers(const Actor& actor, const std::vector<PointerSwap>& swaps);
  /// Moves an object to another name or namespace; grants on it follow.
  Status RenameObject(const Actor& actor, ObjectKind kind, const Levels& from_namespace,
                      const std::string& from_name, const Levels& to_namespace,
                      const std::string& to_name);
  /// Forgets the object and the grants on it. Returns the record it had.
  Result<ObjectRecord> DropObject(const Actor& actor, ObjectKind kind,
                                  const Levels& namespace_levels, const std::string& name);

  // Principals.
  Status CreatePrincipal(const Actor& actor, const PrincipalRecord& principal);
  Result<PrincipalRecord> LoadPrincipal(const std::string& name);
  Result<PrincipalRecord> LoadPrincipalByClientId(const std::string& client_id);
  Result<std::vector<PrincipalRecord>> ListPrincipals();
  /// Replaces the secret hash and bumps credential_version; returns the new version.
  Result<int64_t> RotateCredentials(const Actor& actor, const std::string& name,
                                    const std::string& secret_hash);
  Status DropPrincipal(const Actor& actor, const std::string& name);

  // Roles and grants.
  Status CreateRole(const Actor& actor, const RoleRecord& role);
  Result<std::vector<RoleRecord>> ListRoles();
  Status DropRole(const Actor& actor, const std::string& name);
  Status AssignRole(const Actor& actor, const std::string& principal, const std::string& role);
  Status UnassignRole(const Actor& actor, const std::string& principal, const std::string& role);
  Result<std::vector<std::string>> RolesOfPrincipal(const std::string& principal);
  Status AddGrant(const Actor& actor, const GrantRecord& grant);
  Status RemoveGrant(const Actor& actor, const GrantRecord& grant);
  /// Grants of one role, or of every role when `role` is empty.
  Result<std::vector<GrantRecord>> ListGrants(const std::string& role);
  /// Grants of every role the principal holds.
  Result<std::vector<GrantRecord>> GrantsOfPrincipal(const std::string& principal);

  // Settings shared by every server on this metastore.
  Result<std::optional<std::string>> GetSetting(const std::string& key);
  /// Stores `value` unless the key is set; returns the value that is set afterwards (so servers
  /// starting together agree on one).
  Result<std::string> SetSettingIfAbsent(const std::string& key, const std::string& value);

  // Idempotency keys (REST Idempotency-Key): the final response of a mutation, replayed when
  // the same key comes again.
  struct StoredResponse {
    std::string principal;
    std::string route;
    int64_t status = 0;
    std::string headers;  // JSON object
    std::string body;
    int64_t created_at_ms = 0;
  };
  Result<std::optional<StoredResponse>> LoadStoredResponse(const std::string& key);
  /// Keeps the first response stored under a key (a concurrent duplicate does not replace it).
  Status StoreResponse(const std::string& key, const StoredResponse& response);
  /// Forgets keys stored before `before_ms`; returns how many.
  Result<int64_t> ExpireStoredResponses(int64_t before_ms);

  // Documents: JSON bodies in named collections, for the layers above the catalog (data
  // products, their versions, quality results), written with compare-and-swap on a version so
  // that two deploys of one product cannot both win.
  Result<std::optional<DocumentRecord>> LoadDocument(const std::string& collection,
                                                     const std::string& key);
  /// Documents whose key starts with `key_prefix`, sorted by key.
  Result<std::vector<DocumentRecord>> ListDocuments(const std::string& collection,
                                                    const std::string& key_prefix = "");
  /// Applies every write or none (conflict naming the first document whose version moved), and
  /// appends one event (`action` on `object_kind` `object_name`, with `details`).
  Status WriteDocuments(const Actor& actor, const std::vector<DocumentWrite>& writes,
                        std::string_view action, std::string_view object_kind,
                        const std::string& object_name, const std::string& details_json = "{}");

  // Audit log: appended in batches (one transaction each), listed newest first.
  Status AppendAudit(const std::vector<AuditRecord>& records);
  Result<std::vector<AuditRecord>> ListAudit(const AuditFilter& filter);
  /// Forgets records older than `before_ms`; returns how many.
  Result<int64_t> ExpireAudit(int64_t before_ms);

  // Event log, oldest first.
  Result<std::vector<EventRecord>> ListEvents(int64_t after_id, int64_t limit);

 private:
  explicit Metastore(std::unique_ptr<SqlPool> pool);
  std::unique_ptr<SqlPool> pool_;
};

/// "a.b" for {"a", "b"}: how namespaces appear in messages.
std::string JoinLevels(const Levels& levels);

}  // namespace meshwork::metastore
