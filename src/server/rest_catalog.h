#pragma once
// The Iceberg REST Catalog API (../shared/reference/iceberg-rest-catalog-open-api.yaml) under
// /catalog, on top of the catalog service. Handlers parse and render; the catalog service
// authorizes. Errors use the spec's ErrorModel with its status codes.

#include <string>

#include "catalog/catalog.h"
#include "common/status.h"
#include "server/http.h"

namespace meshwork::server {

struct RestCatalogOptions {
  /// The warehouse name clients pass to /v1/config; it becomes the route prefix.
  std::string warehouse = "mesh";
};

/// Adds every route under /catalog to `router`.
void AddRestCatalogRoutes(Router& router, catalog::Catalog& catalog,
                          const RestCatalogOptions& options);

/// The ErrorModel response for a status: 400 bad input, 401 unauthenticated, 403 denied,
/// 404 missing (NoSuchNamespace/Table/View), 406 unsupported, 409 exists/conflict/not empty,
/// 503 unavailable (CommitStateUnknown when a commit's outcome is unknown), 500 otherwise.
HttpResponse ErrorResponse(const Status& status);

/// The endpoints /v1/config advertises ("GET /v1/{prefix}/namespaces", ...).
const std::vector<std::string>& AdvertisedEndpoints();

}  // namespace meshwork::server
