#include "product/mesh_file.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "product/spec.h"

namespace meshwork::product {
namespace {

Status At(const std::string& file, const YAML::Node& node, std::string message) {
  const YAML::Mark mark = node.Mark();
  return Status::InvalidArgument("{}", message)
      .WithLocation({file, mark.line + 1, mark.column + 1});
}

std::string Text(const YAML::Node& node, const char* key) {
  const YAML::Node value = node[key];
  return value.IsDefined() && value.IsScalar() ? value.Scalar() : std::string();
}

}  // namespace

Result<MeshDescription> LoadMeshDescription(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Status::NotFound("{} does not exist", path)
        .WithHint("pass --examples DIR: the folder holding mesh.yaml and the product folders");
  } catch (const YAML::Exception& error) {
    return Status::InvalidArgument("YAML syntax error: {}", error.msg)
        .WithLocation({path, error.mark.line + 1, error.mark.column + 1});
  }
  MeshDescription mesh;
  mesh.folder = std::filesystem::path(path).parent_path().string();
  try {
    if (!root.IsMap()) return At(path, root, "a mesh file is a mapping");
    for (const YAML::Node& node : root["domains"]) {
      MeshDescription::Domain domain{Text(node, "name"), Text(node, "owner"),
                                     Text(node, "description")};
      MW_RETURN_IF_ERROR(ValidateProductName("domain", domain.name)
                             .WithLocation({path, node.Mark().line + 1, node.Mark().column + 1}));
      if (domain.owner.empty()) return At(path, node, "a domain needs an 'owner'");
      mesh.domains.push_back(domain);
    }
    for (const YAML::Node& node : root["principals"]) {
      MeshDescription::Principal principal{Text(node, "name"), Text(node, "description"), {}};
      if (principal.name.empty()) return At(path, node, "a principal needs a 'name'");
      for (const YAML::Node& role : node["roles"])
        principal.roles.push_back(role.Scalar());
      if (node["attributes"].IsDefined() && node["attributes"].IsMap()) {
        for (auto it = node["attributes"].begin(); it != node["attributes"].end(); ++it)
          principal.attributes[it->first.Scalar()] = it->second.Scalar();
      }
      mesh.principals.push_back(principal);
    }
    for (const YAML::Node& node : root["roles"]) {
      MeshDescription::Role role{Text(node, "name"), Text(node, "description"), {}};
      if (role.name.empty()) return At(path, node, "a role needs a 'name'");
      if (node["grants"].IsDefined())
        for (const YAML::Node& grant : node["grants"])
          role.grants.push_back(grant.Scalar());
      mesh.roles.push_back(role);
    }
    if (root["policies"].IsDefined()) {
      mesh.policies = root["policies"].Scalar();
      if (mesh.policies.find("..") != std::string::npos || mesh.policies.starts_with("/")) {
        return At(path, root["policies"], "policies is a folder inside the mesh file's folder");
      }
    }
    for (const YAML::Node& node : root["products"]) {
      const std::string folder = node.Scalar();
      if (folder.empty() || folder.find("..") != std::string::npos || folder.front() == '/') {
        return At(path, node, "a product is a folder inside the mesh file's folder");
      }
      mesh.products.push_back(folder);
    }
    if (root["query"].IsDefined()) {
      mesh.query_title = Text(root["query"], "title");
      mesh.query_sql = Text(root["query"], "sql");
    }
  } catch (const YAML::Exception& error) {
    return Status::InvalidArgument("unexpected structure: {}", error.msg)
        .WithLocation({path, error.mark.line + 1, error.mark.column + 1});
  }
  if (mesh.products.empty()) return Status::InvalidArgument("{} lists no products", path);
  return mesh;
}

}  // namespace meshwork::product
