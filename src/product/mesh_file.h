#pragma once
// A mesh description (examples/mesh.yaml): the domains, principals and products of a mesh, and
// a query that shows them working together. `meshwork demo` builds the demo mesh from one.

#include <map>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/result.h"

namespace meshwork::product {

struct MeshDescription {
  struct Domain {
    std::string name, owner, description;
  };
  struct Principal {
    std::string name, description;
    std::vector<std::string> roles;
    std::map<std::string, std::string> attributes;  // for row filters: principal_attr('x')
  };
  /// A mesh-wide role: grants are "PRIVILEGE" on the whole mesh (UNMASK, READ_DATA, …).
  struct Role {
    std::string name, description;
    std::vector<std::string> grants;
  };
  std::vector<Domain> domains;
  std::vector<Role> roles;
  std::vector<Principal> principals;
  /// Product folders relative to the file's folder, in deploy order.
  std::vector<std::string> products;
  /// The governance council's policy folder, relative to the file's folder; empty: none.
  std::string policies;
  std::string query_title;
  std::string query_sql;
  std::string folder;  // where the file is
};

Result<MeshDescription> LoadMeshDescription(const std::string& path);

}  // namespace meshwork::product
