#include "server/mesh_api.h"

#include <nlohmann/json.hpp>

#include "iceberg/json_reader.h"
#include "server/json_http.h"
#include "server/rest_catalog.h"
#include "server/session.h"

namespace meshwork::server {
namespace {

using catalog::Caller;
using nlohmann::json;

HttpResponse NoContent() {
  return {.status = 204, .content_type = "", .body = ""};
}

Result<std::string> RequiredString(const json& body, const char* key) {
  const std::string value = iceberg::json::StringOr(body, key, "");
  if (value.empty()) return Status::InvalidArgument("{}: required string is missing", key);
  return value;
}

json GrantJson(const metastore::GrantRecord& grant) {
  return {{"role", grant.role},
          {"privilege", grant.privilege},
          {"securable",
           {{"type", grant.securable_kind}, {"name", metastore::JoinLevels(grant.securable_path)}}},
          {"granted-by", grant.granted_by},
          {"granted-at-ms", grant.granted_at_ms}};
}

json PrincipalJson(const metastore::PrincipalRecord& principal) {
  return {{"name", principal.name},
          {"client-id", principal.client_id},
          {"type", principal.kind},
          {"credential-version", principal.credential_version},
          {"created-at-ms", principal.created_at_ms},
          {"rotated-at-ms", principal.rotated_at_ms}};
}

json CredentialsJson(const catalog::NewCredentials& credentials) {
  return {{"name", credentials.principal},
          {"client-id", credentials.client_id},
          {"client-secret", credentials.client_secret},
          {"credential-version", credentials.credential_version}};
}

// {"type": "table", "name": "finance.revenue"}
Result<catalog::Securable> SecurableFromJson(const json& body) {
  if (!body.contains("securable") || !body["securable"].is_object()) {
    return Status::InvalidArgument(
        "securable: expected {{\"type\": \"mesh|namespace|table|view|classification\", \"name\": "
        "\"a.b\"}}");
  }
  const json& securable = body["securable"];
  MW_ASSIGN_OR_RETURN(catalog::SecurableKind kind,
                      catalog::ParseSecurableKind(iceberg::json::StringOr(securable, "type", "")));
  const std::string name = iceberg::json::StringOr(securable, "name", "");
  if (kind == catalog::SecurableKind::kMesh) return catalog::Securable::Mesh();
  // A classification's name is one dotted word (pii.email), not a path.
  if (kind == catalog::SecurableKind::kClassification) {
    return catalog::Securable::Classification(name);
  }
  std::vector<std::string> path;
  size_t start = 0;
  while (true) {
    const size_t dot = name.find('.', start);
    path.push_back(name.substr(start, dot == std::string::npos ? dot : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (kind == catalog::SecurableKind::kNamespace) {
    MW_RETURN_IF_ERROR(catalog::ValidateNamespace(path));
  } else {
    if (path.size() < 2) {
      return Status::InvalidArgument("securable.name: a {} is named namespace.name",
                                     securable["type"].get<std::string>());
    }
    const std::vector<std::string> levels(path.begin(), path.end() - 1);
    MW_RETURN_IF_ERROR(catalog::ValidateIdentifier(levels, path.back()));
  }
  return catalog::Securable{kind, path};
}

}  // namespace

Router::Handler RequireCaller(catalog::Catalog& catalog, AuthenticatedHandler handler) {
  return [&catalog, handler = std::move(handler)](HttpRequest& request) -> HttpResponse {
    auto auth = AuthenticateRequest(catalog, request);
    if (!auth.ok()) return ErrorResponse(auth.error());
    return handler(request, auth->caller);
  };
}

void AddMeshApiRoutes(Router& router, catalog::Catalog& catalog) {
  auto authed = [&catalog](AuthenticatedHandler body) { return RequireCaller(catalog, body); };

  router.Add("GET", "/api/v1/whoami", "whoami",
             authed([&catalog](HttpRequest&, const Caller& caller) {
               auto who = catalog.Describe(caller);
               if (!who.ok()) return ErrorResponse(who.error());
               json grants = json::array();
               for (const auto& grant : who->grants)
                 grants.push_back(GrantJson(grant));
               json body = PrincipalJson(who->principal);
               body["roles"] = who->roles;
               body["grants"] = grants;
               return Json(200, body);
             }));

  router.Add("GET", "/api/v1/principals", "listPrincipals",
             authed([&catalog](HttpRequest&, const Caller& caller) {
               auto principals = catalog.ListPrincipals(caller);
               if (!principals.ok()) return ErrorResponse(principals.error());
               json list = json::array();
               for (const auto& principal : *principals)
                 list.push_back(PrincipalJson(principal));
               return Json(200, {{"principals", list}});
             }));

  router.Add("POST", "/api/v1/principals", "createPrincipal",
             authed([&catalog](HttpRequest& request, const Caller& caller) {
               auto body = Body(request);
               if (!body.ok()) return ErrorResponse(body.error());
               auto name = RequiredString(*body, "name");
               if (!name.ok()) return ErrorResponse(name.error());
               auto created = catalog.CreatePrincipal(
                   caller, *name, iceberg::json::StringOr(*body, "type", "user"));
               if (!created.ok()) return ErrorResponse(created.error());
               return Json(201, CredentialsJson(*created));
             }));

  router.Add("POST", "/api/v1/principals/{name}/rotate", "rotateCredentials",
             authed([&catalog](HttpRequest& request, const Caller& caller) {
               auto rotated = catalog.RotateCredentials(caller, request.Capture("name"));
               if (!rotated.ok()) return ErrorResponse(rotated.error());
               return Json(200, CredentialsJson(*rotated));
             }));

  router.Add("DELETE", "/api/v1/principals/{name}", "dropPrincipal",
             authed([&catalog](HttpRequest& request, const Caller& caller) {
               Status dropped = catalog.DropPrincipal(caller, request.Capture("name"));
               return dropped.ok() ? NoContent() : ErrorResponse(dropped);
             }));

  router.Add("POST", "/api/v1/principals/{name}/roles", "assignRole",
             authed([&catalog](HttpRequest& request, const Caller& caller) {
               auto body = Body(request);
               if (!body.ok()) return ErrorResponse(body.error());
               auto role = RequiredString(*body, "role");
               if (!role.ok()) return ErrorResponse(role.error());
               Status assigned = catalog.AssignRole(caller, request.Capture("name"), *role);
               return assigned.ok() ? NoContent() : ErrorResponse(assigned);
             }));

  router.Add("DELETE", "/api/v1/principals/{name}/roles/{role}", "unassignRole",
             authed([&catalog](HttpRequest& request, const Caller& caller) {
               Status removed =
                   catalog.UnassignRole(caller, request.Capture("name"), request.Capture("role"));
               return removed.ok() ? NoContent() : ErrorResponse(removed);
             }));

  router.Add("GET", "/api/v1/roles", "listRoles",
             authed([&catalog](HttpRequest&, const Caller& caller) {
               auto roles = catalog.ListRoles(caller);
               if (!roles.ok()) return ErrorResponse(roles.error());
               json list = json::array();
               for (const auto& role : *roles) {
                 list.push_back({{"name", role.name},
                                 {"description", role.description},
                                 {"created-at-ms", role.created_at_ms}});
               }
               return Json(200, {{"roles", list}});
             }));

  router.Add("POST", "/api/v1/roles", "createRole",
             authed([&catalog](HttpRequest& request, const Caller& caller) {
               auto body = Body(request);
               if (!body.ok()) return ErrorResponse(body.error());
               auto name = RequiredString(*body, "name");
               if (!name.ok()) return ErrorResponse(name.error());
               Status created = catalog.CreateRole(
                   caller, *name, iceberg::json::StringOr(*body, "description", ""));
               if (!created.ok()) return ErrorResponse(created);
               return Json(201, {{"name", *name}});
             }));

  router.Add("DELETE", "/api/v1/roles/{name}", "dropRole",
             authed([&catalog](HttpRequest& request, const Caller& caller) {
               Status dropped = catalog.DropRole(caller, request.Capture("name"));
               return dropped.ok() ? NoContent() : ErrorResponse(dropped);
             }));

  router.Add("GET", "/api/v1/grants", "listGrants",
             authed([&catalog](HttpRequest& request, const Caller& caller) {
               auto grants = catalog.ListGrants(caller, request.Query("role").value_or(""));
               if (!grants.ok()) return ErrorResponse(grants.error());
               json list = json::array();
               for (const auto& grant : *grants)
                 list.push_back(GrantJson(grant));
               return Json(200, {{"grants", list}});
             }));

  auto change_grant = [&catalog, authed](bool add) {
    return authed([&catalog, add](HttpRequest& request, const Caller& caller) {
      auto body = Body(request);
      if (!body.ok()) return ErrorResponse(body.error());
      auto role = RequiredString(*body, "role");
      if (!role.ok()) return ErrorResponse(role.error());
      auto privilege_name = RequiredString(*body, "privilege");
      if (!privilege_name.ok()) return ErrorResponse(privilege_name.error());
      auto privilege = catalog::ParsePrivilege(*privilege_name);
      if (!privilege.ok()) return ErrorResponse(privilege.error());
      auto securable = SecurableFromJson(*body);
      if (!securable.ok()) return ErrorResponse(securable.error());
      Status changed = add ? catalog.Grant(caller, *role, *privilege, *securable)
                           : catalog.Revoke(caller, *role, *privilege, *securable);
      return changed.ok() ? NoContent() : ErrorResponse(changed);
    });
  };
  router.Add("POST", "/api/v1/grants", "grant", change_grant(true));
  router.Add("POST", "/api/v1/grants/revoke", "revoke", change_grant(false));
}

}  // namespace meshwork::server
