#include "catalog/catalog.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "catalog/credentials.h"
#include "catalog/metastore_pointer_store.h"
#include "catalog/scram.h"
#include "common/logging.h"
#include "common/time.h"
#include "common/uuid.h"
#include "iceberg/json_reader.h"
#include "iceberg/rest_scan.h"
#include "iceberg/table_update.h"
#include "storage/location.h"

namespace meshwork::catalog {
namespace {

using iceberg::LoadedTable;
using iceberg::TableIdentifier;
using iceberg::TableMetadata;
using metastore::Levels;
using metastore::ObjectKind;

constexpr std::string_view kRootPrincipal = "root";
constexpr std::string_view kSigningKeySetting = "token-signing-key";
constexpr int kCommitAttempts = 4;
constexpr size_t kMetadataCacheEntries = 4096;

bool IsNameCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

Status ValidateName(std::string_view what, std::string_view name) {
  if (name.empty()) {
    return Status::InvalidArgument("{} name is empty", what).WithHint("give every level a name");
  }
  if (name.size() > 255) {
    return Status::InvalidArgument("{} name is {} characters long; the limit is 255", what,
                                   name.size());
  }
  for (char c : name) {
    if (!IsNameCharacter(c)) {
      std::string shown;
      for (char s : name.substr(0, 64)) {
        shown += static_cast<unsigned char>(s) < 0x20 || s == 0x7f ? '?' : s;
      }
      return Status::InvalidArgument("{} name '{}' contains '{}'", what, shown,
                                     static_cast<unsigned char>(c) < 0x20 || c == 0x7f
                                         ? std::string("a control character")
                                         : std::string(1, c))
          .WithHint("names use letters, digits, '_' and '-' (they become folder names)");
    }
  }
  return Status::OK();
}

// Update actions that only add or move data (WRITE_DATA); everything else changes the table's
// definition (ALTER).
bool IsDataUpdate(std::string_view action) {
  static const std::set<std::string, std::less<>> kData = {"add-snapshot",
                                                           "set-snapshot-ref",
                                                           "remove-snapshots",
                                                           "remove-snapshot-ref",
                                                           "set-statistics",
                                                           "remove-statistics",
                                                           "set-partition-statistics",
                                                           "remove-partition-statistics"};
  return kData.contains(action);
}

bool RequiresCreate(const nlohmann::json* requirements) {
  if (requirements == nullptr || !requirements->is_array()) return false;
  for (const auto& requirement : *requirements) {
    if (iceberg::json::StringOr(requirement, "type", "") == "assert-create") return true;
  }
  return false;
}

const nlohmann::json& EmptyArray() {
  static const nlohmann::json empty = nlohmann::json::array();
  return empty;
}

}  // namespace

Status ValidateNamespace(const Levels& levels) {
  if (levels.empty()) return Status::InvalidArgument("namespace is empty");
  if (levels.size() > 16) {
    return Status::InvalidArgument("namespace has {} levels; the limit is 16", levels.size());
  }
  for (const std::string& level : levels)
    MW_RETURN_IF_ERROR(ValidateName("namespace", level));
  return Status::OK();
}

Status ValidateIdentifier(const Levels& namespace_levels, const std::string& name) {
  MW_RETURN_IF_ERROR(ValidateNamespace(namespace_levels));
  return ValidateName("table", name);
}

Catalog::Catalog(metastore::Metastore& metastore, CatalogOptions options)
    : metastore_(metastore),
      options_(std::move(options)),
      audit_(std::make_unique<AuditLog>(metastore)) {}
Catalog::~Catalog() = default;

Result<std::unique_ptr<Catalog>> Catalog::Open(metastore::Metastore& metastore,
                                               const CatalogOptions& options) {
  std::unique_ptr<Catalog> catalog(new Catalog(metastore, options));
  MW_ASSIGN_OR_RETURN(
      catalog->warehouse_,
      iceberg::Warehouse::Open(
          options.warehouse_root,
          [&](storage::FileIO&) { return std::make_unique<MetastorePointerStore>(metastore); },
          options.storage));
  // Every server on this metastore signs with the same key, so any of them accepts a token.
  MW_ASSIGN_OR_RETURN(std::string encoded, metastore.SetSettingIfAbsent(
                                               std::string(kSigningKeySetting), GenerateSecret()));
  MW_ASSIGN_OR_RETURN(catalog->signing_key_, Base64UrlDecode(encoded));
  MW_RETURN_IF_ERROR(catalog->Bootstrap());
  if (options.audit_retention_days < 0) {
    return Status::InvalidArgument("audit retention of {} days is negative",
                                   options.audit_retention_days)
        .WithHint("set audit.retention_days to a number of days, or 0 to keep every record");
  }
  if (options.audit_retention_days > 0) {
    catalog->audit_->SetRetention(options.audit_retention_days * 86'400'000);
  }
  catalog->MountDomainStorage();
  // Domains that other servers on this metastore create later are mounted when first named.
  catalog->warehouse_->SetMountFinder([raw = catalog.get()] { raw->RefreshDomainStorage(); });
  return catalog;
}

void Catalog::MountDomainStorage() {
  std::lock_guard lock(domain_storage_mutex_);
  catalog::MountDomainStorage(metastore_, *warehouse_);
}

void Catalog::RefreshDomainStorage() {
  // Unknown locations can come in bursts (every file of a scan): one listing a second at most.
  std::lock_guard lock(domain_storage_mutex_);
  const int64_t now = time::NowMillis();
  if (now - last_domain_refresh_ms_ < 1000) return;
  last_domain_refresh_ms_ = now;
  catalog::MountDomainStorage(metastore_, *warehouse_, /*warn=*/false);
}

void MountDomainStorage(metastore::Metastore& metastore, iceberg::Warehouse& warehouse, bool warn) {
  if (!warehouse.remote()) return;
  metastore::PageRequest page{.token = "", .size = 1000};
  for (;;) {
    auto listed = metastore.ListNamespaces({}, page);
    if (!listed.ok()) {
      logging::Warn("cannot list the domains to mount their own storage: {}",
                    listed.error().ToString());
      return;
    }
    for (const metastore::NamespaceRecord& record : listed->items) {
      auto profile = record.properties.find(std::string(Catalog::kStorageProfileProperty));
      auto location = record.properties.find("location");
      if (profile == record.properties.end() || location == record.properties.end() ||
          record.levels.size() != 1) {
        continue;
      }
      const std::string folder = iceberg::Warehouse::MountFolder(record.levels[0]);
      auto store = warehouse.OpenDomainStorage(folder, location->second, profile->second);
      Status mounted =
          store.ok() ? warehouse.MountDomainStorage(folder, std::move(*store)) : store.error();
      if (!mounted.ok() && warn) {
        logging::Warn(
            "domain {} keeps its tables in {} (storage profile '{}'), which this server "
            "cannot reach: {}",
            record.levels[0], location->second, profile->second, mounted.ToString());
      }
    }
    if (listed->next_token.empty()) return;
    page.token = listed->next_token;
  }
}

Status Catalog::Bootstrap() {
  std::string client_id, secret;
  if (!options_.bootstrap_credentials.empty()) {
    const size_t colon = options_.bootstrap_credentials.find(':');
    if (colon == std::string::npos || colon == 0 ||
        colon + 1 >= options_.bootstrap_credentials.size()) {
      return Status::InvalidArgument("bootstrap credentials must look like CLIENT_ID:SECRET")
          .WithHint("pass --bootstrap-credentials ID:SECRET or MESHWORK_BOOTSTRAP_CREDENTIALS");
    }
    client_id = options_.bootstrap_credentials.substr(0, colon);
    secret = options_.bootstrap_credentials.substr(colon + 1);
    if (secret.size() < 8) {
      return Status::InvalidArgument("the bootstrap secret is shorter than 8 characters")
          .WithHint("use a longer secret");
    }
  }
  // Servers starting together race here: whoever loses re-reads what the winner wrote.
  Status last;
  for (int attempt = 0; attempt < 5; ++attempt) {
    last = BootstrapOnce(client_id, secret);
    if (last.code() != StatusCode::kAlreadyExists && last.code() != StatusCode::kNotFound) {
      return last;
    }
  }
  return last;
}

Status Catalog::BootstrapOnce(const std::string& client_id, const std::string& secret) {
  const metastore::Actor actor{"meshwork", "bootstrap"};
  auto root = metastore_.LoadPrincipal(std::string(kRootPrincipal));
  if (root.ok()) {
    bootstrap_.client_id = root->client_id;
    if (secret.empty()) return Status::OK();
    if (root->client_id == client_id && VerifySecret(secret, root->secret_hash)) {
      return Status::OK();
    }
    // The operator restarted with other root credentials: they win (whoever can restart the
    // server with a flag is the administrator anyway).
    if (root->client_id == client_id) {
      MW_RETURN_IF_ERROR(
          metastore_.RotateCredentials(actor, std::string(kRootPrincipal), HashSecret(secret))
              .status());
    } else {
      MW_RETURN_IF_ERROR(metastore_.DropPrincipal(actor, std::string(kRootPrincipal)));
      MW_RETURN_IF_ERROR(metastore_.CreatePrincipal(actor, {.name = std::string(kRootPrincipal),
                                                            .client_id = client_id,
                                                            .secret_hash = HashSecret(secret),
                                                            .kind = "root"}));
    }
    bootstrap_.root_reset = true;
    bootstrap_.client_id = client_id;
    return Status::OK();
  }
  if (root.error().code() != StatusCode::kNotFound) return root.error();
  std::string new_id = client_id, new_secret = secret;
  if (new_secret.empty()) {
    new_id = GenerateClientId();
    new_secret = GenerateSecret();
  }
  MW_RETURN_IF_ERROR(metastore_.CreatePrincipal(actor, {.name = std::string(kRootPrincipal),
                                                        .client_id = new_id,
                                                        .secret_hash = HashSecret(new_secret),
                                                        .kind = "root"}));
  if (secret.empty()) bootstrap_.generated_secret = new_secret;
  bootstrap_.root_created = true;
  bootstrap_.client_id = new_id;
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// Authentication and authorization

Result<IssuedToken> Catalog::IssueToken(const std::string& client_id,
                                        const std::string& client_secret) {
  // The same work whether or not the client exists, so timing does not reveal client ids.
  static const std::string kDecoy = HashSecret("decoy-secret-for-unknown-clients");
  auto principal = metastore_.LoadPrincipalByClientId(client_id);
  if (!principal.ok() && principal.error().code() != StatusCode::kNotFound) {
    return principal.error();
  }
  const bool valid =
      VerifySecret(client_secret, principal.ok() ? principal->secret_hash : kDecoy) &&
      principal.ok();
  if (!valid) {
    return Status::Unauthenticated("invalid client credentials")
        .WithHint("check the client id and secret; a rotated secret replaces the old one");
  }
  const int64_t now = time::NowMillis() / 1000;
  const std::string token = SignToken({.principal = principal->name,
                                       .credential_version = principal->credential_version,
                                       .issued_at = now,
                                       .expires_at = now + options_.token_lifetime_seconds,
                                       .token_id = Uuid::V4().ToString()},
                                      signing_key_);
  return IssuedToken{token, options_.token_lifetime_seconds};
}

Result<Catalog::PrincipalState> Catalog::State(const std::string& principal) {
  const int64_t now = time::NowMillis();
  {
    std::lock_guard<std::mutex> lock(principals_mutex_);
    auto found = principals_.find(principal);
    if (found != principals_.end() &&
        now - found->second.fetched_at_ms < options_.principal_cache_millis) {
      return found->second;
    }
  }
  MW_ASSIGN_OR_RETURN(auto record, metastore_.LoadPrincipal(principal));
  PrincipalState state;
  state.credential_version = record.credential_version;
  state.is_root = record.kind == "root";
  MW_ASSIGN_OR_RETURN(state.grants, metastore_.GrantsOfPrincipal(principal));
  state.fetched_at_ms = now;
  std::lock_guard<std::mutex> lock(principals_mutex_);
  if (principals_.size() > 100000) principals_.clear();
  principals_[principal] = state;
  return state;
}

void Catalog::ForgetPrincipals() {
  std::lock_guard<std::mutex> lock(principals_mutex_);
  principals_.clear();
}

Result<Caller> Catalog::Authenticate(std::string_view bearer_token, std::string request_id) {
  MW_ASSIGN_OR_RETURN(TokenClaims claims,
                      VerifyToken(bearer_token, signing_key_, time::NowMillis() / 1000));
  auto state = State(claims.principal);
  if (!state.ok()) {
    if (state.error().code() == StatusCode::kNotFound) {
      return Status::Unauthenticated("the token's principal '{}' no longer exists",
                                     claims.principal);
    }
    return state.error();
  }
  if (state->credential_version != claims.credential_version) {
    return Status::Unauthenticated("the token was revoked: the principal's secret was rotated")
        .WithHint("get a new token with the current secret");
  }
  return Caller{claims.principal, state->is_root, std::move(request_id)};
}

Status Catalog::AuthorizeRawAccess(const Caller& caller, const LoadedTable& table,
                                   const TableIdentifier& identifier) {
  if (!raw_access_guard_ || caller.is_root) return Status::OK();
  std::vector<std::string> columns;
  for (const auto& field : table.metadata.CurrentSchema().fields())
    columns.push_back(field.name);
  std::string name;
  for (const auto& level : identifier.namespace_levels)
    name += level + ".";
  name += identifier.name;
  Status decision = raw_access_guard_(caller, name, columns);
  audit_->Record(caller,
                 {.operation = "raw_access",
                  .securables = name,
                  .allowed = decision.ok(),
                  .reason = decision.ok() ? "no masks or row filters apply" : decision.message()});
  return decision;
}

Result<Catalog::ScramLogin> Catalog::BeginScramLogin(const std::string& client_id) {
  auto principal = metastore_.LoadPrincipalByClientId(client_id);
  if (!principal.ok()) {
    if (principal.error().code() != StatusCode::kNotFound) return principal.error();
    return ScramLogin{};
  }
  return ScramLogin{principal->name, principal->credential_version,
                    std::string(ScramVerifierOf(principal->secret_hash))};
}

Result<Caller> Catalog::CallerAfterScram(const ScramLogin& login, std::string request_id) {
  if (login.principal.empty()) return Status::Unauthenticated("invalid client credentials");
  auto state = State(login.principal);
  if (!state.ok()) {
    if (state.error().code() == StatusCode::kNotFound) {
      return Status::Unauthenticated("principal '{}' no longer exists", login.principal);
    }
    return state.error();
  }
  if (state->credential_version != login.credential_version) {
    return Status::Unauthenticated("the principal's secret was rotated during the login");
  }
  return Caller{login.principal, state->is_root, std::move(request_id)};
}

Status Catalog::Authorize(const Caller& caller, Privilege privilege, const Securable& securable) {
  metastore::AuditRecord record{.operation = std::string(PrivilegeName(privilege)),
                                .securables = securable.Name()};
  if (caller.is_root) {
    record.reason = "root";
    audit_->Record(caller, std::move(record));
    return Status::OK();
  }
  auto state = State(caller.principal);
  if (!state.ok()) {
    record.allowed = false;
    record.reason = state.error().message();
    audit_->Record(caller, std::move(record));
    return state.error();
  }
  if (state->is_root) {
    record.reason = "root";
    audit_->Record(caller, std::move(record));
    return Status::OK();
  }
  if (const auto* grant = FindGrant(state->grants, privilege, securable)) {
    record.reason = fmt::format(
        "role {} holds {} on {}", grant->role, grant->privilege,
        grant->securable_kind == "mesh"
            ? std::string("mesh")
            : grant->securable_kind + " " + metastore::JoinLevels(grant->securable_path));
    audit_->Record(caller, std::move(record));
    return Status::OK();
  }
  Status denied = Status::PermissionDenied("principal '{}' lacks {} on {}", caller.principal,
                                           PrivilegeName(privilege), securable.ToString())
                      .WithResource(securable.ToString())
                      .WithHint("ask someone with MANAGE_GRANTS on it to grant " +
                                std::string(PrivilegeName(privilege)) + " to one of your roles");
  record.allowed = false;
  record.reason = denied.message();
  audit_->Record(caller, std::move(record));
  return denied;
}

Result<std::vector<metastore::AuditRecord>> Catalog::ListAudit(
    const Caller& caller, const metastore::AuditFilter& filter) {
  MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kReadAudit, Securable::Mesh()));
  if (filter.limit > kMaxAuditPage) {
    return Status::InvalidArgument("limit {} is above the largest audit page ({})", filter.limit,
                                   kMaxAuditPage)
        .WithHint("page with before_id instead");
  }
  return audit_->List(filter);
}

// ---------------------------------------------------------------------------------------------
// Namespaces

Result<metastore::Page<metastore::NamespaceRecord>> Catalog::ListNamespaces(
    const Caller& caller, const Levels& parent, const metastore::PageRequest& page) {
  if (!parent.empty()) MW_RETURN_IF_ERROR(ValidateNamespace(parent));
  MW_ASSIGN_OR_RETURN(auto listed, metastore_.ListNamespaces(parent, page));
  if (caller.is_root) return listed;
  MW_ASSIGN_OR_RETURN(PrincipalState state, State(caller.principal));
  if (state.is_root) return listed;
  std::erase_if(listed.items, [&](const metastore::NamespaceRecord& record) {
    return !GrantsReveal(state.grants, Securable::Namespace(record.levels));
  });
  return listed;
}

Result<metastore::NamespaceRecord> Catalog::CreateNamespace(
    const Caller& caller, const Levels& levels, const metastore::Properties& properties) {
  MW_RETURN_IF_ERROR(ValidateNamespace(levels));
  const Levels parent(levels.begin(), levels.end() - 1);
  MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kCreateDomain,
                               parent.empty() ? Securable::Mesh() : Securable::Namespace(parent)));
  metastore::Properties checked = properties;
  auto location = checked.find("location");
  auto profile = checked.find(std::string(kStorageProfileProperty));
  if (profile != checked.end()) {
    // A bucket of its own, reached with a profile's credentials.
    const std::string where = fmt::format("namespace {}", fmt::join(levels, "."));
    if (levels.size() != 1) {
      return Status::InvalidArgument(
                 "{} cannot have storage of its own: only domains (top-level "
                 "namespaces) can",
                 where)
          .WithHint("leave out meshwork.storage-profile; the namespace uses its domain's storage");
    }
    if (location == checked.end() || location->second.empty()) {
      return Status::InvalidArgument("{} names storage profile '{}' but no location", where,
                                     profile->second)
          .WithHint("give the bucket and prefix too: location=s3://bucket/prefix");
    }
    std::lock_guard lock(domain_storage_mutex_);
    const std::string folder = iceberg::Warehouse::MountFolder(levels[0]);
    auto store = warehouse_->OpenDomainStorage(folder, location->second, profile->second);
    if (!store.ok()) {
      return std::move(store).error().WithContext(
          fmt::format("cannot give {} the storage {}", where, location->second));
    }
    location->second = (*store)->RootUri();
    MW_RETURN_IF_ERROR(metastore_.CreateNamespace(caller.actor(), levels, checked));
    MW_RETURN_IF_ERROR(warehouse_->MountDomainStorage(folder, std::move(*store)));
    return metastore_.LoadNamespace(levels);
  }
  if (location != checked.end()) {
    MW_ASSIGN_OR_RETURN(location->second, NamespaceLocation(location->second));
  }
  MW_RETURN_IF_ERROR(metastore_.CreateNamespace(caller.actor(), levels, checked));
  return metastore_.LoadNamespace(levels);
}

Result<metastore::NamespaceRecord> Catalog::LoadNamespace(const Caller& caller,
                                                          const Levels& levels) {
  MW_RETURN_IF_ERROR(ValidateNamespace(levels));
  MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kReadMetadata, Securable::Namespace(levels)));
  return metastore_.LoadNamespace(levels);
}

Result<metastore::PropertiesUpdate> Catalog::UpdateNamespaceProperties(
    const Caller& caller, const Levels& levels, const std::vector<std::string>& removals,
    const metastore::Properties& updates) {
  MW_RETURN_IF_ERROR(ValidateNamespace(levels));
  MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kAlter, Securable::Namespace(levels)));
  const std::string profile_key(kStorageProfileProperty);
  MW_ASSIGN_OR_RETURN(metastore::NamespaceRecord current, metastore_.LoadNamespace(levels));
  const bool own_storage = current.properties.count(profile_key) != 0;
  const auto changes = [&](const std::string& key) {
    return updates.count(key) != 0 ||
           std::find(removals.begin(), removals.end(), key) != removals.end();
  };
  if (changes(profile_key) || (own_storage && changes("location"))) {
    return Status::FailedPrecondition(
               "the storage of namespace {} is fixed when it is created; {} cannot be changed",
               fmt::join(levels, "."), changes(profile_key) ? profile_key : "location")
        .WithHint("create a new domain with the storage you want and move the products there");
  }
  metastore::Properties checked = updates;
  if (auto location = checked.find("location"); location != checked.end()) {
    MW_ASSIGN_OR_RETURN(location->second, NamespaceLocation(location->second));
  }
  return metastore_.UpdateNamespaceProperties(caller.actor(), levels, removals, checked);
}

Status Catalog::DropNamespace(const Caller& caller, const Levels& levels) {
  MW_RETURN_IF_ERROR(ValidateNamespace(levels));
  MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kDrop, Securable::Namespace(levels)));
  return metastore_.DropNamespace(caller.actor(), levels);
}

// ---------------------------------------------------------------------------------------------
// Tables

Result<metastore::Page<std::string>> Catalog::ListTables(const Caller& caller,
                                                         const Levels& namespace_levels,
                                                         const metastore::PageRequest& page) {
  MW_RETURN_IF_ERROR(ValidateNamespace(namespace_levels));
  MW_ASSIGN_OR_RETURN(auto listed,
                      metastore_.ListObjects(namespace_levels, ObjectKind::kTable, page));
  std::optional<PrincipalState> state;
  if (!caller.is_root) {
    MW_ASSIGN_OR_RETURN(state, State(caller.principal));
  }
  metastore::Page<std::string> names;
  names.next_token = listed.next_token;
  for (const auto& record : listed.items) {
    if (state && !state->is_root &&
        !GrantsReveal(state->grants, Securable::Table(namespace_levels, record.name))) {
      continue;
    }
    names.items.push_back(record.name);
  }
  return names;
}

Result<std::string> Catalog::NamespaceLocation(const std::string& location) {
  auto inside = warehouse_->Resolve(location);
  if (!inside.ok() || inside->empty() || warehouse_->MountOf(*inside)) {
    return Status::InvalidArgument(
               "namespace location {} is not a folder inside this catalog's warehouse {}", location,
               warehouse_->root())
        .WithHint(fmt::format(
            "give the domain a prefix inside the warehouse (e.g. {}/domains/NAME), or a bucket "
            "of its own with the property {}=PROFILE (a profile of storage.profiles_file)",
            warehouse_->root(), kStorageProfileProperty));
  }
  return warehouse_->FileUri(*inside);
}

Status Catalog::CheckStorageBoundary(const TableIdentifier& identifier, const std::string& relative,
                                     const std::string& domain_folder) {
  const auto mount = warehouse_->MountOf(relative);
  const auto domain_mount = warehouse_->MountOf(domain_folder);
  if (!mount && !domain_mount) return Status::OK();
  if (relative.starts_with(domain_folder + "/")) return Status::OK();
  return Status::PermissionDenied(
             "table {} cannot be placed at {}: it is outside its domain's "
             "storage {}",
             identifier.ToString(), warehouse_->FileUri(relative),
             warehouse_->FileUri(domain_folder))
      .WithHint(
          "leave out the location (the catalog places tables under their domain), or give "
          "one below the domain's own location");
}

Result<std::string> Catalog::DomainFolder(const Levels& levels) {
  // A namespace without a location of its own lives inside its parent's: a domain's sub-namespaces
  // follow it into its prefix, or into its bucket.
  for (size_t depth = levels.size(); depth >= 1; --depth) {
    const Levels ancestor(levels.begin(), levels.begin() + static_cast<std::ptrdiff_t>(depth));
    auto record = metastore_.LoadNamespace(ancestor);
    if (!record.ok()) {
      if (record.error().code() == StatusCode::kNotFound) continue;
      return record.error();
    }
    auto location = record->properties.find("location");
    if (location == record->properties.end()) continue;
    auto inside = warehouse_->Resolve(location->second);
    if (!inside.ok() || inside->empty()) {
      auto profile = record->properties.find(std::string(kStorageProfileProperty));
      if (profile != record->properties.end()) {
        return Status::FailedPrecondition(
                   "domain {} keeps its tables in {} (storage profile '{}'), which this server "
                   "cannot reach",
                   fmt::join(ancestor, "."), location->second, profile->second)
            .WithHint(
                "define the profile in this server's storage.profiles_file (every server of a "
                "mesh needs the same profiles) and check it with `meshwork doctor`");
      }
      continue;  // a location elsewhere (set by another tool): tables still go to the warehouse
    }
    std::string folder = *inside;
    for (size_t level = depth; level < levels.size(); ++level)
      folder += "/" + levels[level];
    return folder;
  }
  std::string folder;
  for (const std::string& level : levels)
    folder += (folder.empty() ? "" : "/") + level;
  return folder;
}

Result<std::string> Catalog::DefaultLocation(const TableIdentifier& identifier) {
  MW_ASSIGN_OR_RETURN(std::string domain, DomainFolder(identifier.namespace_levels));
  std::string folder = domain + "/" + identifier.name;
  // A renamed or unpurged table may still own the folder: never share one. A listing, not
  // Exists: object stores have no folders to find. When the listing fails (a store that allows
  // writes but not listings) the folder gets a suffix: sharing is the one thing to avoid.
  auto taken = warehouse_->io().List(folder + "/metadata/");
  if (!taken.ok() || !taken->empty()) folder += "-" + Uuid::V4().ToString().substr(0, 8);
  return warehouse_->FileUri(folder);
}

Status Catalog::CheckLocation(const TableIdentifier& identifier, const std::string& location,
                              const std::string& expected) {
  std::string normalized = location;
  while (normalized.size() > 1 && normalized.back() == '/')
    normalized.pop_back();
  if (normalized == expected) return Status::OK();
  return Status::InvalidArgument("table {} cannot be placed at {}", identifier.ToString(), location)
      .WithHint("this catalog places tables itself (at " + expected + "); leave out the location");
}

Result<LoadedTable> Catalog::CreateTable(const Caller& caller, const Levels& namespace_levels,
                                         const nlohmann::json& request) {
  if (!request.is_object()) return Status::InvalidArgument("the request body is not an object");
  if (!request.contains("name") || !request["name"].is_string()) {
    return Status::InvalidArgument("name: required string is missing");
  }
  const std::string name = request["name"].get<std::string>();
  MW_RETURN_IF_ERROR(ValidateIdentifier(namespace_levels, name));
  MW_RETURN_IF_ERROR(
      Authorize(caller, Privilege::kCreateTable, Securable::Namespace(namespace_levels)));
  MW_RETURN_IF_ERROR(metastore_.LoadNamespace(namespace_levels).status());
  const TableIdentifier identifier{namespace_levels, name};
  if (!request.contains("schema")) return Status::InvalidArgument("schema: required, missing");

  MW_ASSIGN_OR_RETURN(std::string location, DefaultLocation(identifier));
  if (request.contains("location") && request["location"].is_string()) {
    // A client that staged a create sends back the location it was given.
    std::string asked = request["location"].get<std::string>();
    auto inside = warehouse_->Resolve(asked);
    if (!inside.ok() || inside->empty()) {
      return CheckLocation(identifier, asked, location);
    }
    MW_ASSIGN_OR_RETURN(std::string domain_folder, DomainFolder(namespace_levels));
    MW_RETURN_IF_ERROR(CheckStorageBoundary(identifier, *inside, domain_folder));
    location = warehouse_->FileUri(*inside);
  }
  nlohmann::json updates = nlohmann::json::array({
      {{"action", "assign-uuid"}, {"uuid", Uuid::V4().ToString()}},
      {{"action", "upgrade-format-version"}, {"format-version", 2}},
      {{"action", "add-schema"}, {"schema", request["schema"]}},
      {{"action", "set-current-schema"}, {"schema-id", -1}},
  });
  if (request.contains("partition-spec") && !request["partition-spec"].is_null()) {
    updates.push_back({{"action", "add-spec"}, {"spec", request["partition-spec"]}});
    updates.push_back({{"action", "set-default-spec"}, {"spec-id", -1}});
  }
  if (request.contains("write-order") && !request["write-order"].is_null()) {
    updates.push_back({{"action", "add-sort-order"}, {"sort-order", request["write-order"]}});
    updates.push_back({{"action", "set-default-sort-order"}, {"sort-order-id", -1}});
  }
  nlohmann::json properties = {{"write.format.default", "parquet"},
                               {"write.parquet.compression-codec", "zstd"}};
  if (request.contains("properties")) {
    if (!request["properties"].is_object()) {
      return Status::InvalidArgument("properties: expected an object of strings");
    }
    for (const auto& [key, value] : request["properties"].items())
      properties[key] = value;
  }
  updates.push_back({{"action", "set-location"}, {"location", location}});
  updates.push_back({{"action", "set-properties"}, {"updates", properties}});
  auto built = iceberg::ApplyTableUpdates(TableMetadata{}, updates, "create");
  if (!built.ok()) {
    // Name the request's fields, not our internal update list.
    return std::move(built).error().WithContext("invalid table definition");
  }
  TableMetadata metadata = std::move(*built);
  metadata.last_updated_ms = time::NowMillis();

  if (request.contains("stage-create") && !request["stage-create"].is_boolean() &&
      !request["stage-create"].is_null()) {
    return Status::InvalidArgument("stage-create: expected a boolean");
  }
  if (iceberg::json::BoolOr(request, "stage-create", false)) {
    auto existing = metastore_.LoadObject(namespace_levels, name, ObjectKind::kTable);
    if (existing.ok()) {
      return Status::AlreadyExists("table {} already exists", identifier.ToString());
    }
    return LoadedTable{identifier, "", std::move(metadata)};
  }
  MW_ASSIGN_OR_RETURN(std::string metadata_location,
                      warehouse_->WriteNextMetadataFile(nullptr, metadata));
  Status created = metastore_.CommitPointers(caller.actor(), {{.namespace_levels = namespace_levels,
                                                               .name = name,
                                                               .expected = std::nullopt,
                                                               .new_location = metadata_location}});
  if (!created.ok()) {
    if (created.code() != StatusCode::kUnavailable) {
      (void)warehouse_->io().Delete(metadata_location);
    }
    return created;
  }
  return LoadedTable{identifier, metadata_location, std::move(metadata)};
}

Result<std::shared_ptr<const TableMetadata>> Catalog::ReadMetadata(const std::string& location) {
  {
    std::lock_guard<std::mutex> lock(metadata_mutex_);
    auto found = metadata_cache_.find(location);
    if (found != metadata_cache_.end()) return found->second;
  }
  MW_ASSIGN_OR_RETURN(std::string text, warehouse_->io().ReadFile(location));
  MW_ASSIGN_OR_RETURN(TableMetadata metadata, iceberg::TableMetadataFromJson(text, location));
  auto shared = std::make_shared<const TableMetadata>(std::move(metadata));
  std::lock_guard<std::mutex> lock(metadata_mutex_);
  if (metadata_cache_.size() >= kMetadataCacheEntries) metadata_cache_.clear();
  metadata_cache_.emplace(location, shared);
  return shared;
}

Result<LoadedTable> Catalog::LoadTableUnchecked(const TableIdentifier& identifier) {
  MW_ASSIGN_OR_RETURN(auto record, metastore_.LoadObject(identifier.namespace_levels,
                                                         identifier.name, ObjectKind::kTable));
  MW_ASSIGN_OR_RETURN(auto metadata, ReadMetadata(record.metadata_location));
  return LoadedTable{identifier, record.metadata_location, *metadata};
}

Result<LoadedTable> Catalog::LoadTable(const Caller& caller, const TableIdentifier& identifier) {
  MW_RETURN_IF_ERROR(ValidateIdentifier(identifier.namespace_levels, identifier.name));
  MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kReadMetadata,
                               Securable::Table(identifier.namespace_levels, identifier.name)));
  return LoadTableUnchecked(identifier);
}

Result<CommitOutcome> Catalog::CommitTable(const Caller& caller, const TableCommit& commit) {
  MW_ASSIGN_OR_RETURN(auto outcomes, CommitTransaction(caller, {commit}));
  return std::move(outcomes.front());
}

Result<std::vector<CommitOutcome>> Catalog::CommitTransaction(
    const Caller& caller, const std::vector<TableCommit>& commits) {
  if (commits.empty()) return Status::InvalidArgument("table-changes: the transaction is empty");
  std::set<std::pair<Levels, std::string>> seen;
  for (const TableCommit& commit : commits) {
    const TableIdentifier& id = commit.identifier;
    MW_RETURN_IF_ERROR(ValidateIdentifier(id.namespace_levels, id.name));
    if (!seen.insert({id.namespace_levels, id.name}).second) {
      return Status::InvalidArgument("table {} appears twice in one transaction", id.ToString())
          .WithHint("combine its requirements and updates into one change");
    }
    const nlohmann::json& updates = commit.updates ? *commit.updates : EmptyArray();
    if (!updates.is_array()) return Status::InvalidArgument("updates: expected an array");
    bool data = updates.empty(), alter = false;
    for (const auto& update : updates) {
      const std::string action = iceberg::json::StringOr(update, "action", "");
      (IsDataUpdate(action) ? data : alter) = true;
    }
    const Securable table = Securable::Table(id.namespace_levels, id.name);
    if (RequiresCreate(commit.requirements)) {
      MW_RETURN_IF_ERROR(
          Authorize(caller, Privilege::kCreateTable, Securable::Namespace(id.namespace_levels)));
      continue;
    }
    if (data) MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kWriteData, table));
    if (alter) MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kAlter, table));
  }

  Status last_conflict;
  for (int attempt = 1; attempt <= kCommitAttempts; ++attempt) {
    std::vector<CommitOutcome> outcomes;
    std::vector<metastore::PointerSwap> swaps;
    std::vector<std::string> written;
    auto discard = [&] {
      for (const std::string& location : written)
        (void)warehouse_->io().Delete(location);
    };
    Status prepared;
    for (const TableCommit& commit : commits) {
      const TableIdentifier& id = commit.identifier;
      const nlohmann::json& requirements =
          commit.requirements ? *commit.requirements : EmptyArray();
      const nlohmann::json& updates = commit.updates ? *commit.updates : EmptyArray();
      std::optional<LoadedTable> base;
      auto loaded = LoadTableUnchecked(id);
      if (loaded.ok()) {
        base = std::move(*loaded);
      } else if (loaded.error().code() != StatusCode::kNotFound) {
        prepared = loaded.error();
        break;
      }
      if (!base && !RequiresCreate(commit.requirements)) {
        prepared = loaded.error();
        break;
      }
      prepared = iceberg::CheckTableRequirements(requirements, base ? &base->metadata : nullptr);
      if (!prepared.ok()) break;
      auto updated = iceberg::ApplyTableUpdates(base ? base->metadata : TableMetadata{}, updates);
      if (!updated.ok()) {
        prepared = std::move(updated).error().WithContext("cannot commit {}", id.ToString());
        break;
      }
      if (base && updates.empty()) {
        outcomes.push_back({*base, attempt});
        continue;
      }
      // Tables stay where the catalog put them: data and metadata must not leave the warehouse.
      if (base) {
        prepared = CheckLocation(id, updated->location, base->metadata.location);
      } else {
        auto inside = warehouse_->Resolve(updated->location);
        if (!inside.ok() || inside->empty()) {
          auto expected = DefaultLocation(id);
          prepared =
              expected.ok() ? CheckLocation(id, updated->location, *expected) : expected.error();
        }
      }
      if (!prepared.ok()) break;
      auto location = warehouse_->WriteNextMetadataFile(base ? &*base : nullptr, *updated);
      if (!location.ok()) {
        prepared = location.error();
        break;
      }
      written.push_back(*location);
      swaps.push_back({.namespace_levels = id.namespace_levels,
                       .name = id.name,
                       .expected = base ? std::optional(base->metadata_location) : std::nullopt,
                       .new_location = *location});
      outcomes.push_back({LoadedTable{id, *location, std::move(*updated)}, attempt});
    }
    if (!prepared.ok()) {
      discard();
      return prepared;
    }
    if (swaps.empty()) return outcomes;  // nothing changed anywhere
    Status swapped = metastore_.CommitPointers(caller.actor(), swaps);
    if (swapped.ok()) {
      // The next load of these tables needs exactly this metadata: keep it parsed.
      std::lock_guard<std::mutex> lock(metadata_mutex_);
      if (metadata_cache_.size() + outcomes.size() >= kMetadataCacheEntries)
        metadata_cache_.clear();
      for (const CommitOutcome& outcome : outcomes) {
        metadata_cache_.emplace(outcome.table.metadata_location,
                                std::make_shared<const TableMetadata>(outcome.table.metadata));
      }
      return outcomes;
    }
    if (swapped.code() == StatusCode::kUnavailable) {
      // The metastore may or may not have applied it: keep the files, tell the client.
      return Status::Unavailable("the commit's outcome is unknown: {}", swapped.message())
          .WithHint("CommitStateUnknown: reload the table to see whether the commit applied");
    }
    discard();
    if (swapped.code() != StatusCode::kConflict) return swapped;
    last_conflict = swapped;  // another commit won: re-check the requirements on its result
  }
  return std::move(last_conflict)
      .WithHint("the table kept changing under this commit; reload it and retry");
}

Status Catalog::RenameTable(const Caller& caller, const TableIdentifier& from,
                            const TableIdentifier& to) {
  MW_RETURN_IF_ERROR(ValidateIdentifier(from.namespace_levels, from.name));
  MW_RETURN_IF_ERROR(ValidateIdentifier(to.namespace_levels, to.name));
  MW_RETURN_IF_ERROR(
      Authorize(caller, Privilege::kAlter, Securable::Table(from.namespace_levels, from.name)));
  MW_RETURN_IF_ERROR(
      Authorize(caller, Privilege::kCreateTable, Securable::Namespace(to.namespace_levels)));
  // A table keeps its files where they are: moving it between domains when either keeps its
  // tables in a bucket of its own would leave one domain's table in the other's storage.
  const auto own_storage = [&](const std::string& domain) -> Result<bool> {
    MW_ASSIGN_OR_RETURN(std::string folder, DomainFolder({domain}));
    return warehouse_->MountOf(folder).has_value();
  };
  bool either_own = false;
  if (!from.namespace_levels.empty() && !to.namespace_levels.empty() &&
      from.namespace_levels[0] != to.namespace_levels[0]) {
    MW_ASSIGN_OR_RETURN(bool from_own, own_storage(from.namespace_levels[0]));
    MW_ASSIGN_OR_RETURN(bool to_own, own_storage(to.namespace_levels[0]));
    either_own = from_own || to_own;
  }
  if (either_own) {
    return Status::FailedPrecondition(
               "cannot move table {} to {}: domain {} or {} keeps its tables in storage of its own",
               from.ToString(), to.ToString(), from.namespace_levels[0], to.namespace_levels[0])
        .WithHint("copy the data into a new table in the target domain instead");
  }
  return metastore_.RenameObject(caller.actor(), ObjectKind::kTable, from.namespace_levels,
                                 from.name, to.namespace_levels, to.name);
}

Result<LoadedTable> Catalog::RegisterTable(const Caller& caller, const TableIdentifier& identifier,
                                           const std::string& metadata_location, bool overwrite) {
  MW_RETURN_IF_ERROR(ValidateIdentifier(identifier.namespace_levels, identifier.name));
  MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kCreateTable,
                               Securable::Namespace(identifier.namespace_levels)));
  auto inside = warehouse_->Resolve(metadata_location);
  if (!inside.ok()) {
    return Status::InvalidArgument("metadata-location {} is outside this catalog's warehouse",
                                   metadata_location)
        .WithHint("copy the table into the warehouse first");
  }
  const std::string location = warehouse_->FileUri(*inside);
  MW_ASSIGN_OR_RETURN(auto metadata, ReadMetadata(location));
  auto table_folder = warehouse_->Resolve(metadata->location);
  if (!table_folder.ok() || table_folder->empty()) {
    return Status::InvalidArgument("the table's location {} is outside this catalog's warehouse",
                                   metadata->location);
  }
  MW_ASSIGN_OR_RETURN(std::string domain_folder, DomainFolder(identifier.namespace_levels));
  MW_RETURN_IF_ERROR(CheckStorageBoundary(identifier, *table_folder, domain_folder));
  std::optional<std::string> expected;
  if (overwrite) {
    MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kAlter,
                                 Securable::Table(identifier.namespace_levels, identifier.name)));
    auto existing =
        metastore_.LoadObject(identifier.namespace_levels, identifier.name, ObjectKind::kTable);
    if (existing.ok()) expected = existing->metadata_location;
  }
  MW_RETURN_IF_ERROR(
      metastore_.CommitPointers(caller.actor(), {{.namespace_levels = identifier.namespace_levels,
                                                  .name = identifier.name,
                                                  .expected = expected,
                                                  .new_location = location}}));
  return LoadedTable{identifier, location, *metadata};
}

Status Catalog::DropTable(const Caller& caller, const TableIdentifier& identifier, bool purge) {
  MW_RETURN_IF_ERROR(ValidateIdentifier(identifier.namespace_levels, identifier.name));
  MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kDrop,
                               Securable::Table(identifier.namespace_levels, identifier.name)));
  MW_ASSIGN_OR_RETURN(auto dropped,
                      metastore_.DropObject(caller.actor(), ObjectKind::kTable,
                                            identifier.namespace_levels, identifier.name));
  if (!purge) return Status::OK();
  auto metadata = ReadMetadata(dropped.metadata_location);
  if (!metadata.ok()) {
    return std::move(metadata).error().WithContext("dropped, but cannot purge the files");
  }
  auto folder = warehouse_->Resolve((*metadata)->location);
  if (!folder.ok() || folder->empty()) {
    return Status::FailedPrecondition(
        "dropped, but the table's files at {} are not in a folder "
        "of its own inside the warehouse; nothing was deleted",
        (*metadata)->location);
  }
  return warehouse_->DeleteTableFiles(*folder);
}

// ---------------------------------------------------------------------------------------------
// Scan planning

Result<Catalog::PlannedScan> Catalog::PlanTableScan(const Caller& caller,
                                                    const TableIdentifier& identifier,
                                                    const nlohmann::json& request) {
  MW_RETURN_IF_ERROR(ValidateIdentifier(identifier.namespace_levels, identifier.name));
  MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kReadData,
                               Securable::Table(identifier.namespace_levels, identifier.name)));
  if (!request.is_object()) return Status::InvalidArgument("the request body is not an object");
  if (request.contains("start-snapshot-id") || request.contains("end-snapshot-id")) {
    return Status::NotImplemented("incremental scan planning is not supported yet")
        .WithHint("plan a point-in-time scan with snapshot-id");
  }
  MW_ASSIGN_OR_RETURN(LoadedTable table, LoadTableUnchecked(identifier));
  MW_RETURN_IF_ERROR(AuthorizeRawAccess(caller, table, identifier));
  std::optional<int64_t> snapshot_id;
  if (request.contains("snapshot-id") && !request["snapshot-id"].is_null()) {
    if (!request["snapshot-id"].is_number_integer()) {
      return Status::InvalidArgument("snapshot-id: expected a long");
    }
    snapshot_id = request["snapshot-id"].get<int64_t>();
    if (table.metadata.SnapshotById(*snapshot_id) == nullptr) {
      return Status::NotFound("table {} has no snapshot {}", identifier.ToString(), *snapshot_id);
    }
  }
  // The schema the filter's columns are resolved in: the snapshot's when asked (time travel).
  const iceberg::Schema* schema = &table.metadata.CurrentSchema();
  if (snapshot_id && iceberg::json::BoolOr(request, "use-snapshot-schema", false)) {
    const auto* snapshot = table.metadata.SnapshotById(*snapshot_id);
    if (snapshot->schema_id) {
      if (const auto* old = table.metadata.SchemaById(*snapshot->schema_id)) schema = old;
    }
  }
  iceberg::ExpressionPtr filter = std::make_shared<iceberg::Expression>();
  if (request.contains("filter") && !request["filter"].is_null()) {
    MW_ASSIGN_OR_RETURN(filter, iceberg::ExpressionFromJson(
                                    request["filter"], *schema,
                                    iceberg::json::BoolOr(request, "case-sensitive", true)));
  }
  MW_ASSIGN_OR_RETURN(iceberg::ScanPlan plan,
                      iceberg::PlanScan(*warehouse_, table, snapshot_id, *filter));
  return PlannedScan{std::move(table), std::move(plan), schema->schema_id()};
}

// ---------------------------------------------------------------------------------------------
// Views

Result<metastore::Page<std::string>> Catalog::ListViews(const Caller& caller,
                                                        const Levels& namespace_levels,
                                                        const metastore::PageRequest& page) {
  MW_RETURN_IF_ERROR(ValidateNamespace(namespace_levels));
  MW_ASSIGN_OR_RETURN(auto listed,
                      metastore_.ListObjects(namespace_levels, ObjectKind::kView, page));
  std::optional<PrincipalState> state;
  if (!caller.is_root) {
    MW_ASSIGN_OR_RETURN(state, State(caller.principal));
  }
  metastore::Page<std::string> names;
  names.next_token = listed.next_token;
  for (const auto& record : listed.items) {
    if (state && !state->is_root &&
        !GrantsReveal(state->grants, Securable::View(namespace_levels, record.name))) {
      continue;
    }
    names.items.push_back(record.name);
  }
  return names;
}

Result<std::string> Catalog::WriteViewMetadata(const iceberg::ViewMetadata& metadata,
                                               const std::string& previous_location) {
  MW_ASSIGN_OR_RETURN(std::string folder, warehouse_->Resolve(metadata.location));
  if (folder.empty()) return Status::InvalidArgument("a view cannot live at the warehouse root");
  const int64_t version =
      previous_location.empty()
          ? 0
          : std::max<int64_t>(iceberg::MetadataFileVersion(previous_location), 0) + 1;
  const std::string relative =
      fmt::format("{}/metadata/{:05d}-{}.metadata.json", folder, version, Uuid::V4().ToString());
  MW_RETURN_IF_ERROR(warehouse_->io().WriteFileAtomic(
      relative, iceberg::ViewMetadataToJson(metadata).dump(), {.create_only = true}));
  return warehouse_->FileUri(relative);
}

Result<Catalog::LoadedView> Catalog::CreateView(const Caller& caller,
                                                const Levels& namespace_levels,
                                                const nlohmann::json& request) {
  if (!request.is_object()) return Status::InvalidArgument("the request body is not an object");
  const std::string name = iceberg::json::StringOr(request, "name", "");
  if (name.empty()) return Status::InvalidArgument("name: required string is missing");
  MW_RETURN_IF_ERROR(ValidateIdentifier(namespace_levels, name));
  MW_RETURN_IF_ERROR(
      Authorize(caller, Privilege::kCreateTable, Securable::Namespace(namespace_levels)));
  MW_RETURN_IF_ERROR(metastore_.LoadNamespace(namespace_levels).status());
  const TableIdentifier identifier{namespace_levels, name};
  for (const char* field : {"schema", "view-version"}) {
    if (!request.contains(field)) return Status::InvalidArgument("{}: required, missing", field);
  }
  MW_ASSIGN_OR_RETURN(std::string location, DefaultLocation(identifier));
  if (request.contains("location") && request["location"].is_string()) {
    MW_RETURN_IF_ERROR(CheckLocation(identifier, request["location"].get<std::string>(), location));
  }
  nlohmann::json version = request["view-version"];
  if (version.is_object()) {
    // The spec: the schema id in the version is replaced by the one the schema gets.
    version["schema-id"] = -1;
    if (!version.contains("version-id")) version["version-id"] = 1;
    if (!version.contains("timestamp-ms")) version["timestamp-ms"] = time::NowMillis();
  }
  nlohmann::json updates = nlohmann::json::array({
      {{"action", "assign-uuid"}, {"uuid", Uuid::V4().ToString()}},
      {{"action", "add-schema"}, {"schema", request["schema"]}},
      {{"action", "add-view-version"}, {"view-version", version}},
      {{"action", "set-current-view-version"}, {"view-version-id", -1}},
      {{"action", "set-location"}, {"location", location}},
  });
  if (request.contains("properties")) {
    updates.push_back({{"action", "set-properties"}, {"updates", request["properties"]}});
  }
  auto built = iceberg::ApplyViewUpdates(iceberg::ViewMetadata{}, updates, "create");
  if (!built.ok()) return std::move(built).error().WithContext("invalid view definition");
  MW_ASSIGN_OR_RETURN(std::string metadata_location, WriteViewMetadata(*built, ""));
  Status created = metastore_.CommitPointers(caller.actor(), {{.namespace_levels = namespace_levels,
                                                               .name = name,
                                                               .kind = ObjectKind::kView,
                                                               .expected = std::nullopt,
                                                               .new_location = metadata_location}});
  if (!created.ok()) {
    if (created.code() != StatusCode::kUnavailable) {
      (void)warehouse_->io().Delete(metadata_location);
    }
    return created;
  }
  return LoadedView{identifier, metadata_location, std::move(*built)};
}

Result<Catalog::LoadedView> Catalog::LoadViewUnchecked(const TableIdentifier& identifier) {
  MW_ASSIGN_OR_RETURN(auto record, metastore_.LoadObject(identifier.namespace_levels,
                                                         identifier.name, ObjectKind::kView));
  MW_ASSIGN_OR_RETURN(std::string text, warehouse_->io().ReadFile(record.metadata_location));
  MW_ASSIGN_OR_RETURN(auto metadata, iceberg::ViewMetadataFromJson(text, record.metadata_location));
  return LoadedView{identifier, record.metadata_location, std::move(metadata)};
}

Result<Catalog::LoadedView> Catalog::LoadView(const Caller& caller,
                                              const TableIdentifier& identifier) {
  MW_RETURN_IF_ERROR(ValidateIdentifier(identifier.namespace_levels, identifier.name));
  MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kReadMetadata,
                               Securable::View(identifier.namespace_levels, identifier.name)));
  return LoadViewUnchecked(identifier);
}

Result<Catalog::LoadedView> Catalog::ReplaceView(const Caller& caller,
                                                 const TableIdentifier& identifier,
                                                 const nlohmann::json* requirements,
                                                 const nlohmann::json* updates) {
  MW_RETURN_IF_ERROR(ValidateIdentifier(identifier.namespace_levels, identifier.name));
  MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kAlter,
                               Securable::View(identifier.namespace_levels, identifier.name)));
  Status last_conflict;
  for (int attempt = 1; attempt <= kCommitAttempts; ++attempt) {
    MW_ASSIGN_OR_RETURN(LoadedView base, LoadViewUnchecked(identifier));
    MW_RETURN_IF_ERROR(iceberg::CheckViewRequirements(requirements ? *requirements : EmptyArray(),
                                                      &base.metadata));
    auto updated = iceberg::ApplyViewUpdates(base.metadata, updates ? *updates : EmptyArray());
    if (!updated.ok()) {
      return std::move(updated).error().WithContext("cannot replace view {}",
                                                    identifier.ToString());
    }
    MW_RETURN_IF_ERROR(CheckLocation(identifier, updated->location, base.metadata.location));
    MW_ASSIGN_OR_RETURN(std::string location, WriteViewMetadata(*updated, base.metadata_location));
    Status swapped =
        metastore_.CommitPointers(caller.actor(), {{.namespace_levels = identifier.namespace_levels,
                                                    .name = identifier.name,
                                                    .kind = ObjectKind::kView,
                                                    .expected = base.metadata_location,
                                                    .new_location = location}});
    if (swapped.ok()) return LoadedView{identifier, location, std::move(*updated)};
    if (swapped.code() == StatusCode::kUnavailable) {
      return Status::Unavailable("the commit's outcome is unknown: {}", swapped.message())
          .WithHint("CommitStateUnknown: reload the view to see whether the commit applied");
    }
    (void)warehouse_->io().Delete(location);
    if (swapped.code() != StatusCode::kConflict) return swapped;
    last_conflict = swapped;
  }
  return last_conflict;
}

Status Catalog::DropView(const Caller& caller, const TableIdentifier& identifier) {
  MW_RETURN_IF_ERROR(ValidateIdentifier(identifier.namespace_levels, identifier.name));
  MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kDrop,
                               Securable::View(identifier.namespace_levels, identifier.name)));
  return metastore_
      .DropObject(caller.actor(), ObjectKind::kView, identifier.namespace_levels, identifier.name)
      .status();
}

Status Catalog::RenameView(const Caller& caller, const TableIdentifier& from,
                           const TableIdentifier& to) {
  MW_RETURN_IF_ERROR(ValidateIdentifier(from.namespace_levels, from.name));
  MW_RETURN_IF_ERROR(ValidateIdentifier(to.namespace_levels, to.name));
  MW_RETURN_IF_ERROR(
      Authorize(caller, Privilege::kAlter, Securable::View(from.namespace_levels, from.name)));
  MW_RETURN_IF_ERROR(
      Authorize(caller, Privilege::kCreateTable, Securable::Namespace(to.namespace_levels)));
  return metastore_.RenameObject(caller.actor(), ObjectKind::kView, from.namespace_levels,
                                 from.name, to.namespace_levels, to.name);
}

// ---------------------------------------------------------------------------------------------
// Principals, roles, grants

Result<NewCredentials> Catalog::CreatePrincipal(const Caller& caller, const std::string& name,
                                                const std::string& kind) {
  MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kManageMesh, Securable::Mesh()));
  MW_RETURN_IF_ERROR(ValidateName("principal", name));
  if (kind != "user" && kind != "service") {
    return Status::InvalidArgument("principal type '{}' is unknown", kind)
        .WithHint("use user or service");
  }
  NewCredentials credentials{name, GenerateClientId(), GenerateSecret(), 1};
  MW_RETURN_IF_ERROR(metastore_.CreatePrincipal(
      caller.actor(), {.name = name,
                       .client_id = credentials.client_id,
                       .secret_hash = HashSecret(credentials.client_secret),
                       .kind = kind}));
  return credentials;
}

Result<std::vector<metastore::PrincipalRecord>> Catalog::ListPrincipals(const Caller& caller) {
  MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kManageMesh, Securable::Mesh()));
  MW_ASSIGN_OR_RETURN(auto principals, metastore_.ListPrincipals());
  for (auto& principal : principals)
    principal.secret_hash.clear();
  return principals;
}

Result<NewCredentials> Catalog::RotateCredentials(const Caller& caller, const std::string& name) {
  if (name != caller.principal) {
    MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kManageMesh, Securable::Mesh()));
  }
  MW_ASSIGN_OR_RETURN(auto principal, metastore_.LoadPrincipal(name));
  NewCredentials credentials{name, principal.client_id, GenerateSecret(), 0};
  MW_ASSIGN_OR_RETURN(
      credentials.credential_version,
      metastore_.RotateCredentials(caller.actor(), name, HashSecret(credentials.client_secret)));
  ForgetPrincipals();
  return credentials;
}

Status Catalog::DropPrincipal(const Caller& caller, const std::string& name) {
  MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kManageMesh, Securable::Mesh()));
  if (name == kRootPrincipal) {
    return Status::FailedPrecondition("the root principal cannot be dropped")
        .WithHint("rotate its secret instead");
  }
  MW_RETURN_IF_ERROR(metastore_.DropPrincipal(caller.actor(), name));
  ForgetPrincipals();
  return Status::OK();
}

Status Catalog::CreateRole(const Caller& caller, const std::string& name,
                           const std::string& description) {
  MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kManageMesh, Securable::Mesh()));
  MW_RETURN_IF_ERROR(ValidateName("role", name));
  return metastore_.CreateRole(caller.actor(), {.name = name, .description = description});
}

Result<std::vector<metastore::RoleRecord>> Catalog::ListRoles(const Caller& caller) {
  MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kManageMesh, Securable::Mesh()));
  return metastore_.ListRoles();
}

Status Catalog::DropRole(const Caller& caller, const std::string& name) {
  MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kManageMesh, Securable::Mesh()));
  MW_RETURN_IF_ERROR(metastore_.DropRole(caller.actor(), name));
  ForgetPrincipals();
  return Status::OK();
}

Status Catalog::AssignRole(const Caller& caller, const std::string& principal,
                           const std::string& role) {
  MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kManageMesh, Securable::Mesh()));
  MW_RETURN_IF_ERROR(metastore_.AssignRole(caller.actor(), principal, role));
  ForgetPrincipals();
  return Status::OK();
}

Status Catalog::UnassignRole(const Caller& caller, const std::string& principal,
                             const std::string& role) {
  MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kManageMesh, Securable::Mesh()));
  MW_RETURN_IF_ERROR(metastore_.UnassignRole(caller.actor(), principal, role));
  ForgetPrincipals();
  return Status::OK();
}

namespace {
Status CheckSecurableExists(metastore::Metastore& metastore, const Securable& securable) {
  switch (securable.kind) {
    case SecurableKind::kMesh:
      return Status::OK();
    case SecurableKind::kClassification: {
      // Classifications are names products declare, not objects: any well-formed one.
      const std::string& name = securable.path.empty() ? std::string() : securable.path[0];
      const bool well_formed =
          !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
            return std::islower(static_cast<unsigned char>(c)) ||
                   std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                   c == '-' || c == '*';
          });
      if (!well_formed) {
        return Status::InvalidArgument("'{}' is not a classification", name)
            .WithHint("classifications are lowercase dotted names such as pii or pii.email");
      }
      return Status::OK();
    }
    case SecurableKind::kNamespace:
      MW_RETURN_IF_ERROR(ValidateNamespace(securable.path));
      return metastore.LoadNamespace(securable.path).status();
    case SecurableKind::kTable:
    case SecurableKind::kView: {
      if (securable.path.size() < 2) {
        return Status::InvalidArgument("a {} is named namespace.name",
                                       SecurableKindName(securable.kind));
      }
      const Levels levels(securable.path.begin(), securable.path.end() - 1);
      return metastore
          .LoadObject(
              levels, securable.path.back(),
              securable.kind == SecurableKind::kTable ? ObjectKind::kTable : ObjectKind::kView)
          .status();
    }
  }
  return Status::OK();
}

metastore::GrantRecord ToRecord(const std::string& role, Privilege privilege,
                                const Securable& securable) {
  return {.role = role,
          .privilege = std::string(PrivilegeName(privilege)),
          .securable_kind = std::string(SecurableKindName(securable.kind)),
          .securable_path = securable.path};
}
}  // namespace

Status Catalog::Grant(const Caller& caller, const std::string& role, Privilege privilege,
                      const Securable& securable) {
  MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kManageGrants, securable));
  if (securable.kind == SecurableKind::kClassification && privilege != Privilege::kUnmask) {
    return Status::InvalidArgument("{} cannot be granted on a classification",
                                   PrivilegeName(privilege))
        .WithHint(
            "grant UNMASK on a classification (clear values of its columns everywhere); "
            "other privileges go on the mesh, a domain or a table");
  }
  if (privilege == Privilege::kReadAudit && securable.kind != SecurableKind::kMesh) {
    return Status::InvalidArgument("READ_AUDIT is granted on the mesh only")
        .WithHint("grant it with --on mesh");
  }
  MW_RETURN_IF_ERROR(CheckSecurableExists(metastore_, securable));
  MW_RETURN_IF_ERROR(metastore_.AddGrant(caller.actor(), ToRecord(role, privilege, securable)));
  ForgetPrincipals();
  return Status::OK();
}

Status Catalog::Revoke(const Caller& caller, const std::string& role, Privilege privilege,
                       const Securable& securable) {
  MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kManageGrants, securable));
  MW_RETURN_IF_ERROR(metastore_.RemoveGrant(caller.actor(), ToRecord(role, privilege, securable)));
  ForgetPrincipals();
  return Status::OK();
}

Result<std::vector<metastore::GrantRecord>> Catalog::ListGrants(const Caller& caller,
                                                                const std::string& role) {
  bool holds_role = false;
  if (!role.empty() && !caller.is_root) {
    MW_ASSIGN_OR_RETURN(auto roles, metastore_.RolesOfPrincipal(caller.principal));
    holds_role = std::find(roles.begin(), roles.end(), role) != roles.end();
  }
  if (!holds_role) MW_RETURN_IF_ERROR(Authorize(caller, Privilege::kManageMesh, Securable::Mesh()));
  return metastore_.ListGrants(role);
}

Result<WhoAmI> Catalog::Describe(const Caller& caller) {
  WhoAmI who;
  MW_ASSIGN_OR_RETURN(who.principal, metastore_.LoadPrincipal(caller.principal));
  who.principal.secret_hash.clear();
  MW_ASSIGN_OR_RETURN(who.roles, metastore_.RolesOfPrincipal(caller.principal));
  MW_ASSIGN_OR_RETURN(who.grants, metastore_.GrantsOfPrincipal(caller.principal));
  return who;
}

}  // namespace meshwork::catalog

namespace meshwork::catalog {

namespace {

// The <Key> elements of a DeleteObjects body, unescaped.
std::vector<std::string> DeleteObjectKeys(std::string_view body) {
  std::vector<std::string> keys;
  for (size_t start = body.find("<Key>"); start != std::string_view::npos;
       start = body.find("<Key>", start)) {
    start += 5;
    const size_t end = body.find("</Key>", start);
    if (end == std::string_view::npos) break;
    std::string key(body.substr(start, end - start));
    for (const auto& [entity, text] : std::vector<std::pair<std::string, std::string>>{
             {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&amp;", "&"}}) {
      for (size_t at = key.find(entity); at != std::string::npos; at = key.find(entity, at + 1))
        key.replace(at, entity.size(), text);
    }
    keys.push_back(std::move(key));
    start = end;
  }
  return keys;
}

}  // namespace

Result<Catalog::SignedRequest> Catalog::SignRemoteRequest(const Caller& caller,
                                                          const TableIdentifier& identifier,
                                                          const nlohmann::json& request) {
  MW_RETURN_IF_ERROR(ValidateIdentifier(identifier.namespace_levels, identifier.name));
  if (!request.is_object()) return Status::InvalidArgument("the request body is not an object");
  for (const char* field : {"method", "uri"}) {
    if (!request.contains(field) || !request[field].is_string()) {
      return Status::InvalidArgument("{}: required string is missing", field)
          .WithHint("send a RemoteSignRequest: region, uri, method, headers");
    }
  }
  std::string method = request["method"].get<std::string>();
  for (char& c : method)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::string uri = request["uri"].get<std::string>();
  if (request.contains("provider") && request["provider"].is_string() &&
      request["provider"].get<std::string>() != "s3") {
    return Status::InvalidArgument("provider '{}' cannot be signed here",
                                   request["provider"].get<std::string>())
        .WithHint("this catalog signs S3 requests only");
  }
  Privilege privilege = Privilege::kReadData;
  if (method == "GET" || method == "HEAD") {
    privilege = Privilege::kReadData;
  } else if (method == "PUT" || method == "POST" || method == "DELETE") {
    privilege = Privilege::kWriteData;
  } else {
    return Status::InvalidArgument("method {} is not signed", method)
        .WithHint("remote signing covers GET, HEAD, PUT, POST and DELETE");
  }
  const std::string table_name = identifier.ToString();
  MW_RETURN_IF_ERROR(
      Authorize(caller, privilege, Securable::Table(identifier.namespace_levels, identifier.name))
          .WithContext(fmt::format("cannot sign {} {} for table {}", method, uri.substr(0, 200),
                                   table_name)));
  if (warehouse_->s3() == nullptr) {
    return Status::FailedPrecondition("this catalog's warehouse {} is not in object storage",
                                      warehouse_->root())
        .WithHint("remote signing is for s3:// warehouses; read local tables' files directly");
  }
  MW_ASSIGN_OR_RETURN(LoadedTable table, LoadTableUnchecked(identifier));
  // Signed with the credentials of the store that holds the table: a domain's own, or the
  // warehouse's.
  storage::S3FileIO* s3 = warehouse_->S3For(table.metadata.location);
  if (privilege == Privilege::kReadData) {
    MW_RETURN_IF_ERROR(AuthorizeRawAccess(caller, table, identifier));
  }
  std::vector<std::pair<std::string, std::string>> headers;
  if (request.contains("headers") && request["headers"].is_object()) {
    for (const auto& [name, values] : request["headers"].items()) {
      if (values.is_string()) {
        headers.emplace_back(name, values.get<std::string>());
      } else if (values.is_array()) {
        std::string joined;
        for (const auto& value : values) {
          if (!value.is_string()) continue;
          joined += (joined.empty() ? "" : ",") + value.get<std::string>();
        }
        headers.emplace_back(name, joined);
      }
    }
  }
  MW_ASSIGN_OR_RETURN(storage::S3FileIO::ExternalSignature signature,
                      s3->SignExternal(method, uri, headers));
  // Which keys the request touches: its path, a listing's prefix, or DeleteObjects' keys.
  MW_ASSIGN_OR_RETURN(storage::ParsedLocation location,
                      storage::ParseLocation(table.metadata.location));
  std::string folder = location.path;
  while (!folder.empty() && folder.back() == '/')
    folder.pop_back();
  std::vector<std::string> touched;
  const auto query_value = [&](std::string_view name) -> std::optional<std::string> {
    for (const auto& [key, value] : signature.query)
      if (key == name) return value;
    return std::nullopt;
  };
  if (method == "POST" && query_value("delete")) {
    if (!request.contains("body") || !request["body"].is_string()) {
      return Status::InvalidArgument("a DeleteObjects request needs its body to be signed")
          .WithHint("send the request's XML body in the body field");
    }
    touched = DeleteObjectKeys(request["body"].get<std::string>());
    if (touched.empty()) return Status::InvalidArgument("the DeleteObjects body names no key");
  } else if (signature.key.empty() && (method == "GET" || method == "HEAD")) {
    touched.push_back(query_value("prefix").value_or(""));
  } else {
    touched.push_back(signature.key);
  }
  for (const std::string& key : touched) {
    const bool inside = location.scheme.starts_with("s3") &&
                        signature.bucket == location.authority && !folder.empty() &&
                        key.starts_with(folder + "/") && key.find("/../") == std::string::npos &&
                        !key.ends_with("/..");
    if (!inside) {
      return Status::PermissionDenied(
                 "cannot sign {} of s3://{}/{}: it is outside the location of table {} ({})",
                 method, signature.bucket, key.substr(0, 300), table_name, table.metadata.location)
          .WithHint("the catalog signs requests only for objects under the table's own location");
    }
  }
  SignedRequest result{uri, std::move(signature.headers)};
  return result;
}

}  // namespace meshwork::catalog
