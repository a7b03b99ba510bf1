#include "catalog/access.h"

#include <algorithm>
#include <array>

namespace meshwork::catalog {
namespace {

constexpr std::array<std::pair<Privilege, std::string_view>, 11> kPrivilegeNames = {{
    {Privilege::kManageMesh, "MANAGE_MESH"},
    {Privilege::kManageGrants, "MANAGE_GRANTS"},
    {Privilege::kCreateDomain, "CREATE_DOMAIN"},
    {Privilege::kCreateTable, "CREATE_TABLE"},
    {Privilege::kReadMetadata, "READ_METADATA"},
    {Privilege::kReadData, "READ_DATA"},
    {Privilege::kWriteData, "WRITE_DATA"},
    {Privilege::kAlter, "ALTER"},
    {Privilege::kDrop, "DROP"},
    {Privilege::kUnmask, "UNMASK"},
    {Privilege::kReadAudit, "READ_AUDIT"},
}};

constexpr std::array<std::pair<SecurableKind, std::string_view>, 5> kKindNames = {{
    {SecurableKind::kMesh, "mesh"},
    {SecurableKind::kNamespace, "namespace"},
    {SecurableKind::kTable, "table"},
    {SecurableKind::kView, "view"},
    {SecurableKind::kClassification, "classification"},
}};

// Whether holding `held` gives `wanted`.
bool Includes(Privilege held, Privilege wanted) {
  if (held == wanted || held == Privilege::kManageMesh) return true;
  switch (held) {
    case Privilege::kWriteData:
      return wanted == Privilege::kReadData || wanted == Privilege::kReadMetadata;
    case Privilege::kReadData:
    case Privilege::kAlter:
    case Privilege::kCreateTable:
    case Privilege::kDrop:
      return wanted == Privilege::kReadMetadata;
    default:
      return false;
  }
}

bool IsPrefix(const std::vector<std::string>& prefix, const std::vector<std::string>& path) {
  return prefix.size() <= path.size() && std::equal(prefix.begin(), prefix.end(), path.begin());
}

// Whether a grant on (kind, path) covers `securable`: the same securable, or a container of it.
bool Covers(std::string_view grant_kind, const std::vector<std::string>& grant_path,
            const Securable& securable) {
  if (grant_kind == "mesh") return true;
  if (grant_kind == "namespace") {
    // A namespace covers itself, its nested namespaces and everything in them.
    if (securable.kind == SecurableKind::kMesh) return false;
    const size_t namespace_depth = securable.kind == SecurableKind::kNamespace
                                       ? securable.path.size()
                                       : securable.path.size() - 1;
    return grant_path.size() <= namespace_depth && IsPrefix(grant_path, securable.path);
  }
  if (grant_kind == "classification") {
    if (securable.kind != SecurableKind::kClassification || grant_path.size() != 1 ||
        securable.path.size() != 1) {
      return false;
    }
    // pii covers pii and pii.email; "pii.*" is accepted as another spelling of pii.
    std::string_view held = grant_path[0];
    if (held.ends_with(".*")) held.remove_suffix(2);
    const std::string_view wanted = securable.path[0];
    return held == "*" || wanted == held ||
           (wanted.size() > held.size() && wanted.starts_with(held) && wanted[held.size()] == '.');
  }
  return grant_kind == SecurableKindName(securable.kind) && grant_path == securable.path;
}

}  // namespace

std::string_view PrivilegeName(Privilege privilege) {
  for (const auto& [value, name] : kPrivilegeNames) {
    if (value == privilege) return name;
  }
  return "UNKNOWN";
}

Result<Privilege> ParsePrivilege(std::string_view name) {
  for (const auto& [value, known] : kPrivilegeNames) {
    if (known == name) return value;
  }
  std::string list;
  for (const auto& [value, known] : kPrivilegeNames)
    list += (list.empty() ? "" : ", ") + std::string(known);
  return Status::InvalidArgument("unknown privilege '{}'", name).WithHint("use one of " + list);
}

const std::vector<Privilege>& AllPrivileges() {
  static const std::vector<Privilege> all = [] {
    std::vector<Privilege> list;
    for (const auto& [value, name] : kPrivilegeNames)
      list.push_back(value);
    return list;
  }();
  return all;
}

std::string_view SecurableKindName(SecurableKind kind) {
  for (const auto& [value, name] : kKindNames) {
    if (value == kind) return name;
  }
  return "unknown";
}

Result<SecurableKind> ParseSecurableKind(std::string_view name) {
  for (const auto& [value, known] : kKindNames) {
    if (known == name) return value;
  }
  return Status::InvalidArgument("unknown securable type '{}'", name)
      .WithHint("use mesh, namespace, table, view or classification");
}

Securable Securable::Table(std::vector<std::string> levels, const std::string& name) {
  levels.push_back(name);
  return {SecurableKind::kTable, std::move(levels)};
}

Securable Securable::View(std::vector<std::string> levels, const std::string& name) {
  levels.push_back(name);
  return {SecurableKind::kView, std::move(levels)};
}

std::string Securable::Name() const {
  if (kind == SecurableKind::kMesh) return "mesh";
  return metastore::JoinLevels(path);
}

std::string Securable::ToString() const {
  if (kind == SecurableKind::kMesh) return "mesh";
  return fmt::format("{} {}", SecurableKindName(kind), metastore::JoinLevels(path));
}

const metastore::GrantRecord* FindGrant(const std::vector<metastore::GrantRecord>& grants,
                                        Privilege privilege, const Securable& securable) {
  for (const metastore::GrantRecord& grant : grants) {
    auto held = ParsePrivilege(grant.privilege);
    if (!held.ok() || !Includes(*held, privilege)) continue;
    if (Covers(grant.securable_kind, grant.securable_path, securable)) return &grant;
  }
  return nullptr;
}

bool GrantsAllow(const std::vector<metastore::GrantRecord>& grants, Privilege privilege,
                 const Securable& securable) {
  return FindGrant(grants, privilege, securable) != nullptr;
}

bool GrantsReveal(const std::vector<metastore::GrantRecord>& grants, const Securable& securable) {
  for (const metastore::GrantRecord& grant : grants) {
    if (Covers(grant.securable_kind, grant.securable_path, securable)) return true;
    // A grant inside it: the caller needs to see the container to reach what it may use.
    if (securable.kind == SecurableKind::kMesh ||
        (securable.kind == SecurableKind::kNamespace && grant.securable_kind != "mesh" &&
         grant.securable_path.size() > securable.path.size() &&
         IsPrefix(securable.path, grant.securable_path))) {
      return true;
    }
  }
  return false;
}

}  // namespace meshwork::catalog
