#pragma once
// The mesh API under /api/v1 for access management: principals (secrets shown once), roles,
// role assignments, grants, whoami. Authorization happens in the catalog service.
//
//   GET  /api/v1/whoami                        GET  /api/v1/roles
//   GET  /api/v1/principals                    POST /api/v1/roles {"name", "description"}
//   POST /api/v1/principals {"name", "type"}   DELETE /api/v1/roles/{name}
//   POST /api/v1/principals/{name}/rotate      GET  /api/v1/grants[?role=R]
//   DELETE /api/v1/principals/{name}           POST /api/v1/grants {"role", "privilege",
//   POST /api/v1/principals/{name}/roles {"role"}    "securable": {"type", "name"}}
//   DELETE /api/v1/principals/{name}/roles/{role}  POST /api/v1/grants/revoke (same body)

#include <functional>

#include "catalog/catalog.h"
#include "server/http.h"

namespace meshwork::server {

void AddMeshApiRoutes(Router& router, catalog::Catalog& catalog);

/// Wraps a handler that needs an authenticated caller: 401 without a valid bearer token or portal
/// session cookie, 403 for a cookie call that changes state without its CSRF token (session.h).
using AuthenticatedHandler = std::function<HttpResponse(HttpRequest&, const catalog::Caller&)>;
Router::Handler RequireCaller(catalog::Catalog& catalog, AuthenticatedHandler handler);

}  // namespace meshwork::server
