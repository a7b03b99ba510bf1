#pragma once
// The catalog service every front end calls (Iceberg REST, mesh API, CLI, SQL): namespaces,
// tables, commits, multi-table transactions, and who may do what. Every operation authorizes
// its caller here, never in a handler; a denial names the missing privilege and the securable.
//
// State lives in the metastore (pointers, principals, grants) and in the warehouse (metadata
// and data files). A commit validates the client's requirements against the current metadata,
// applies its updates (src/iceberg), writes the next metadata file, and compare-and-swaps the
// pointer in the metastore; when another commit won the race and the requirements still hold on
// the new state, it is re-applied there (a few times) instead of failing the client.

#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "catalog/access.h"
#include "catalog/audit_log.h"
#include "common/result.h"
#include "iceberg/scan_planner.h"
#include "iceberg/view_metadata.h"
#include "iceberg/warehouse.h"
#include "metastore/metastore.h"

namespace meshwork::catalog {

struct CatalogOptions {
  /// The local warehouse folder (created if missing), or s3://bucket/prefix.
  std::string warehouse_root;
  /// How an s3:// warehouse is reached, and its local cache and staging folders.
  iceberg::WarehouseStorage storage;
  /// "CLIENT_ID:SECRET" for the root principal; empty: keep the existing root, or generate one.
  std::string bootstrap_credentials;
  int64_t token_lifetime_seconds = 3600;
  /// How long a server trusts what it read about a principal (credential version, grants);
  /// changes made through this server apply at once, through others within this time.
  int64_t principal_cache_millis = 1000;
  /// Audit records older than this are deleted (hourly); 0 keeps them forever.
  int64_t audit_retention_days = 0;
};

/// What Open did about the root principal.
struct BootstrapReport {
  bool root_created = false;
  bool root_reset = false;
  std::string client_id;
  /// Only when meshwork generated it: shown once, stored nowhere.
  std::string generated_secret;
};

struct IssuedToken {
  std::string access_token;
  int64_t expires_in = 0;
};

struct NewCredentials {
  std::string principal;
  std::string client_id;
  std::string client_secret;  // shown once
  int64_t credential_version = 1;
};

/// A commit of one table: the REST CommitTableRequest's requirements and updates.
struct TableCommit {
  iceberg::TableIdentifier identifier;
  const nlohmann::json* requirements = nullptr;
  const nlohmann::json* updates = nullptr;
};

struct CommitOutcome {
  iceberg::LoadedTable table;
  int attempts = 1;
};

struct WhoAmI {
  metastore::PrincipalRecord principal;  // secret_hash cleared
  std::vector<std::string> roles;
  std::vector<metastore::GrantRecord> grants;
};

/// Mounts the own storage of every domain (top-level namespace) that names a storage profile,
/// for processes that use a warehouse without a Catalog (`meshwork table --metastore`). Domains
/// whose profile is missing or whose store cannot be opened are logged and skipped.
void MountDomainStorage(metastore::Metastore& metastore, iceberg::Warehouse& warehouse,
                        bool warn = true);

class Catalog {
 public:
  /// `metastore` must outlive the catalog.
  static Result<std::unique_ptr<Catalog>> Open(metastore::Metastore& metastore,
                                               const CatalogOptions& options);
  ~Catalog();

  const BootstrapReport& bootstrap() const { return bootstrap_; }
  iceberg::Warehouse& warehouse() { return *warehouse_; }
  metastore::Metastore& metastore() { return metastore_; }

  // Authentication.
  /// client_credentials: unauthenticated (without saying which part was wrong) on a bad pair.
  Result<IssuedToken> IssueToken(const std::string& client_id, const std::string& client_secret);
  Result<Caller> Authenticate(std::string_view bearer_token, std::string request_id);
  /// PostgreSQL clients log in with SCRAM-SHA-256 (user = client id, password = secret). Begins
  /// the exchange for `client_id`: unknown clients and secrets stored before SCRAM existed get
  /// an exchange no proof passes, so the answer does not reveal which client ids exist.
  struct ScramLogin {
    std::string principal;  // empty for an unknown client
    int64_t credential_version = 0;
    std::string verifier;
  };
  Result<ScramLogin> BeginScramLogin(const std::string& client_id);
  /// The caller a finished SCRAM exchange proved, if the principal still holds those
  /// credentials.
  Result<Caller> CallerAfterScram(const ScramLogin& login, std::string request_id);

  /// permission_denied "principal 'bob' lacks READ_DATA on table finance.revenue" unless allowed.
  /// Every decision lands in the audit log.
  Status Authorize(const Caller& caller, Privilege privilege, const Securable& securable);

  /// The audit log, for layers above that record their own decisions (queries, policy changes).
  AuditLog& audit() { return *audit_; }
  /// Newest first; needs READ_AUDIT on the mesh.
  Result<std::vector<metastore::AuditRecord>> ListAudit(const Caller& caller,
                                                        const metastore::AuditFilter& filter);
  static constexpr int64_t kMaxAuditPage = 10000;

  // Namespaces.
  Result<metastore::Page<metastore::NamespaceRecord>> ListNamespaces(
      const Caller& caller, const metastore::Levels& parent, const metastore::PageRequest& page);
  Result<metastore::NamespaceRecord> CreateNamespace(const Caller& caller,
                                                     const metastore::Levels& levels,
                                                     const metastore::Properties& properties);
  Result<metastore::NamespaceRecord> LoadNamespace(const Caller& caller,
                                                   const metastore::Levels& levels);
  Result<metastore::PropertiesUpdate> UpdateNamespaceProperties(
      const Caller& caller, const metastore::Levels& levels,
      const std::vector<std::string>& removals, const metastore::Properties& updates);
  Status DropNamespace(const Caller& caller, const metastore::Levels& levels);

  // Tables.
  Result<metastore::Page<std::string>> ListTables(const Caller& caller,
                                                  const metastore::Levels& namespace_levels,
                                                  const metastore::PageRequest& page);
  /// A REST CreateTableRequest. With "stage-create", nothing is committed: the returned
  /// metadata (location and uuid assigned) is what a later commit with assert-create creates.
  Result<iceberg::LoadedTable> CreateTable(const Caller& caller,
                                           const metastore::Levels& namespace_levels,
                                           const nlohmann::json& request);
  Result<iceberg::LoadedTable> LoadTable(const Caller& caller,
                                         const iceberg::TableIdentifier& identifier);
  Result<CommitOutcome> CommitTable(const Caller& caller, const TableCommit& commit);
  /// All tables or none.
  Result<std::vector<CommitOutcome>> CommitTransaction(const Caller& caller,
                                                       const std::vector<TableCommit>& commits);
  Status RenameTable(const Caller& caller, const iceberg::TableIdentifier& from,
                     const iceberg::TableIdentifier& to);
  /// Adopts an existing metadata file (inside the warehouse) as a table.
  Result<iceberg::LoadedTable> RegisterTable(const Caller& caller,
                                             const iceberg::TableIdentifier& identifier,
                                             const std::string& metadata_location, bool overwrite);
  /// With `purge`, also deletes the table's files.
  Status DropTable(const Caller& caller, const iceberg::TableIdentifier& identifier, bool purge);

  /// Server-side scan planning: READ_DATA on the table; `request` is the spec's
  /// PlanTableScanRequest (snapshot-id, filter, case-sensitive, use-snapshot-schema).
  struct PlannedScan {
    iceberg::LoadedTable table;
    iceberg::ScanPlan plan;
    /// The schema the file statistics are rendered with.
    int32_t schema_id = 0;
  };
  Result<PlannedScan> PlanTableScan(const Caller& caller,
                                    const iceberg::TableIdentifier& identifier,
                                    const nlohmann::json& request);

  // Views (Iceberg view spec): metadata files in the warehouse, pointers in the metastore.
  struct LoadedView {
    iceberg::TableIdentifier identifier;
    std::string metadata_location;
    iceberg::ViewMetadata metadata;
  };
  Result<metastore::Page<std::string>> ListViews(const Caller& caller,
                                                 const metastore::Levels& namespace_levels,
                                                 const metastore::PageRequest& page);
  /// A REST CreateViewRequest (name, schema, view-version, properties, optional location).
  Result<LoadedView> CreateView(const Caller& caller, const metastore::Levels& namespace_levels,
                                const nlohmann::json& request);
  Result<LoadedView> LoadView(const Caller& caller, const iceberg::TableIdentifier& identifier);
  /// A REST CommitViewRequest: assert-view-uuid, then view updates (replace).
  Result<LoadedView> ReplaceView(const Caller& caller, const iceberg::TableIdentifier& identifier,
                                 const nlohmann::json* requirements, const nlohmann::json* updates);
  Status DropView(const Caller& caller, const iceberg::TableIdentifier& identifier);
  Status RenameView(const Caller& caller, const iceberg::TableIdentifier& from,
                    const iceberg::TableIdentifier& to);

  // Principals, roles, grants.
  Result<NewCredentials> CreatePrincipal(const Caller& caller, const std::string& name,
                                         const std::string& kind);
  Result<std::vector<metastore::PrincipalRecord>> ListPrincipals(const Caller& caller);
  /// A principal may rotate its own secret; others need MANAGE_MESH. Older tokens stop working.
  Result<NewCredentials> RotateCredentials(const Caller& caller, const std::string& name);
  Status DropPrincipal(const Caller& caller, const std::string& name);
  Status CreateRole(const Caller& caller, const std::string& name, const std::string& description);
  Result<std::vector<metastore::RoleRecord>> ListRoles(const Caller& caller);
  Status DropRole(const Caller& caller, const std::string& name);
  Status AssignRole(const Caller& caller, const std::string& principal, const std::string& role);
  Status UnassignRole(const Caller& caller, const std::string& principal, const std::string& role);
  Status Grant(const Caller& caller, const std::string& role, Privilege privilege,
               const Securable& securable);
  Status Revoke(const Caller& caller, const std::string& role, Privilege privilege,
                const Securable& securable);
  Result<std::vector<metastore::GrantRecord>> ListGrants(const Caller& caller,
                                                         const std::string& role);
  Result<WhoAmI> Describe(const Caller& caller);

  /// Raw access: an engine reading a table's files itself (through /catalog loadTable or scan
  /// planning) sees every value and row, whatever masks and row filters meshwork's own SQL
  /// would apply. Governance sets the guard that refuses raw access where they would apply.
  using RawAccessGuard = std::function<Status(const Caller& caller, const std::string& table,
                                              const std::vector<std::string>& columns)>;
  void SetRawAccessGuard(RawAccessGuard guard) { raw_access_guard_ = std::move(guard); }
  /// REST remote signing (POST …/tables/{t}/sign): signs `request` (method, uri, headers, and
  /// for DeleteObjects the body) with the warehouse's S3 credentials, after checking that the
  /// caller holds READ_DATA (GET, HEAD) or WRITE_DATA (PUT, POST, DELETE) on the table and that
  /// every object the request touches lies under the table's location. permission_denied
  /// otherwise; failed_precondition when the warehouse is not in object storage.
  struct SignedRequest {
    std::string uri;
    std::vector<std::pair<std::string, std::string>> headers;
  };
  Result<SignedRequest> SignRemoteRequest(const Caller& caller,
                                          const iceberg::TableIdentifier& identifier,
                                          const nlohmann::json& request);

  /// The folder (relative to the warehouse root) where a namespace's tables go: the "location"
  /// property of the namespace or of its nearest ancestor that has one (per-domain storage), with
  /// the levels below it appended; else the namespace path. failed_precondition when that
  /// location is a domain's own bucket this server cannot reach (its profile is missing here).
  Result<std::string> DomainFolder(const metastore::Levels& levels);

  /// The namespace property naming the storage profile of a domain with a bucket of its own
  /// (its "location" is then outside the warehouse). Only the name is stored: the credentials
  /// stay in the server's profiles file.
  static constexpr std::string_view kStorageProfileProperty = "meshwork.storage-profile";
  /// Mounts the own storage of every domain that has one (done by Open; servers sharing the
  /// metastore call it again to pick up domains others created). A domain whose profile is
  /// missing here is logged and skipped: its tables fail with an error naming the profile.
  void MountDomainStorage();
  /// MountDomainStorage again, at most once a second and without warnings: the warehouse's mount
  /// finder, for a location in a domain bucket this server has not mounted yet.
  void RefreshDomainStorage();

  /// OK when no guard is set or it allows `caller` the files of `table` (its columns given).
  Status AuthorizeRawAccess(const Caller& caller, const iceberg::LoadedTable& table,
                            const iceberg::TableIdentifier& identifier);

 private:
  RawAccessGuard raw_access_guard_;
  struct PrincipalState {
    int64_t credential_version = 0;
    bool is_root = false;
    std::vector<metastore::GrantRecord> grants;
    int64_t fetched_at_ms = 0;
  };

  Catalog(metastore::Metastore& metastore, CatalogOptions options);
  Status Bootstrap();
  Status BootstrapOnce(const std::string& client_id, const std::string& secret);
  Result<PrincipalState> State(const std::string& principal);
  void ForgetPrincipals();
  Result<std::shared_ptr<const iceberg::TableMetadata>> ReadMetadata(const std::string& location);
  Result<iceberg::LoadedTable> LoadTableUnchecked(const iceberg::TableIdentifier& identifier);
  Status CheckLocation(const iceberg::TableIdentifier& identifier, const std::string& location,
                       const std::string& expected);
  Result<std::string> DefaultLocation(const iceberg::TableIdentifier& identifier);
  /// A namespace "location" property checked and normalized (a URI inside the warehouse).
  Result<std::string> NamespaceLocation(const std::string& location);
  /// Refuses a table location inside a domain's own storage unless it is below `domain_folder`
  /// (and one inside the warehouse when the domain has storage of its own): a principal allowed
  /// to create tables in one domain must not write into another domain's bucket.
  Status CheckStorageBoundary(const iceberg::TableIdentifier& identifier,
                              const std::string& relative, const std::string& domain_folder);
  /// Domains created with storage of their own, one at a time (the overlap check and the mount
  /// must not interleave with another creation's).
  std::mutex domain_storage_mutex_;
  int64_t last_domain_refresh_ms_ = 0;  // guarded by domain_storage_mutex_
  Result<LoadedView> LoadViewUnchecked(const iceberg::TableIdentifier& identifier);
  /// Writes view metadata as the next version in its location's metadata folder.
  Result<std::string> WriteViewMetadata(const iceberg::ViewMetadata& metadata,
                                        const std::string& previous_location);

  metastore::Metastore& metastore_;
  CatalogOptions options_;
  std::unique_ptr<iceberg::Warehouse> warehouse_;
  std::string signing_key_;
  BootstrapReport bootstrap_;

  std::mutex principals_mutex_;
  std::unordered_map<std::string, PrincipalState> principals_;
  // Its destructor flushes into the metastore, which outlives the catalog.
  std::unique_ptr<AuditLog> audit_;

  // Parsed metadata files by location: they never change once written.
  std::mutex metadata_mutex_;
  std::unordered_map<std::string, std::shared_ptr<const iceberg::TableMetadata>> metadata_cache_;
};

/// Checks a namespace path and a table or view name: 1..255 characters of letters, digits, '_'
/// and '-' per level (names become folder names).
Status ValidateIdentifier(const metastore::Levels& namespace_levels, const std::string& name);
Status ValidateNamespace(const metastore::Levels& levels);

}  // namespace meshwork::catalog
