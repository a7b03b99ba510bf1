#pragma once
// Role-based access control: principals hold roles, roles hold grants of privileges on
// securables (the mesh, a namespace, a table, a view), and a grant on a container applies to
// everything inside it. Some privileges include others (WRITE_DATA includes READ_DATA, which
// includes READ_METADATA; MANAGE_MESH includes everything).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "metastore/metastore.h"

namespace meshwork::catalog {

enum class Privilege {
  kManageMesh,    // principals, roles, everything
  kManageGrants,  // grant and revoke on the securable
  kCreateDomain,  // create namespaces inside the securable (the mesh: top-level domains)
  kCreateTable,   // create or register tables and views inside
  kReadMetadata,  // see it: list, load metadata, exists
  kReadData,      // read its rows (load with credentials, scan planning, SQL)
  kWriteData,     // commit snapshots
  kAlter,         // change schema, partitioning, properties, location; replace views
  kDrop,          // drop it
  kUnmask,        // see clear values where governance masks, and every row despite row filters
  kReadAudit,     // read the audit log (the governance role)
};

std::string_view PrivilegeName(Privilege privilege);  // "READ_DATA"
Result<Privilege> ParsePrivilege(std::string_view name);
/// Every privilege, in declaration order.
const std::vector<Privilege>& AllPrivileges();

/// kClassification: the data classes products declare on columns (pii.email); a grant on
/// `pii` covers pii and every pii.* class. Only UNMASK means something on it.
enum class SecurableKind { kMesh, kNamespace, kTable, kView, kClassification };
std::string_view SecurableKindName(SecurableKind kind);  // "mesh", "namespace", ...
Result<SecurableKind> ParseSecurableKind(std::string_view name);

struct Securable {
  SecurableKind kind = SecurableKind::kMesh;
  /// Namespace levels, then the table or view name; empty for the mesh.
  std::vector<std::string> path;

  static Securable Mesh() { return {}; }
  static Securable Namespace(std::vector<std::string> levels) {
    return {SecurableKind::kNamespace, std::move(levels)};
  }
  static Securable Table(std::vector<std::string> levels, const std::string& name);
  static Securable View(std::vector<std::string> levels, const std::string& name);
  static Securable Classification(const std::string& name) {
    return {SecurableKind::kClassification, {name}};
  }
  /// "mesh", "namespace finance.ledger", "table finance.revenue".
  std::string ToString() const;
  /// "mesh", "finance.ledger", "finance.revenue", "pii.email".
  std::string Name() const;
};

/// The authenticated caller of an operation.
struct Caller {
  std::string principal;
  bool is_root = false;
  std::string request_id;
  /// How the caller reached meshwork, for the audit log: rest, http, pg, cli.
  std::string channel;
  /// The platform acting on its own behalf (reading classifications, …): not audited.
  bool internal = false;
  metastore::Actor actor() const { return {principal, request_id}; }
};

/// Whether `grants` (of every role the caller holds) give `privilege` on `securable`.
bool GrantsAllow(const std::vector<metastore::GrantRecord>& grants, Privilege privilege,
                 const Securable& securable);
/// The first of `grants` that gives it, or null.
const metastore::GrantRecord* FindGrant(const std::vector<metastore::GrantRecord>& grants,
                                        Privilege privilege, const Securable& securable);

/// Whether the caller can see `securable` at all: some grant on it, inside it or above it.
/// Listings show only what the caller can see.
bool GrantsReveal(const std::vector<metastore::GrantRecord>& grants, const Securable& securable);

}  // namespace meshwork::catalog
