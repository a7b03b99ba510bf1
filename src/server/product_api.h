#pragma once
// The mesh API for data products under /api/v1 (the same ProductService as the CLI):
//
//   GET  /api/v1/domains                       POST /api/v1/domains {"name", "owner", ...}
//   GET  /api/v1/domains/{domain}
//   GET  /api/v1/products[?domain=D]           POST /api/v1/products/deploy
//   GET  /api/v1/products/{domain}/{product}[?major=N]     {"files": {path: base64url},
//   GET  /api/v1/products/{domain}/{product}/versions       "mode": deploy|plan|validate,
//   GET  /api/v1/products/{domain}/{product}/status         "variables": {...}}
//   POST /api/v1/products/{domain}/{product}/deprecate {"major", "sunset", "message"}
//   GET  /api/v1/search?q=...&domain=&tag=&owner=&classification=
//   GET  /api/v1/lineage/{domain}/{product}
//   GET  /api/v1/openapi.json                  the OpenAPI 3.1 document of /api/v1
//
// A deploy uploads the product folder's files; they are written to a fresh folder under
// `upload_root`, deployed, and removed. With `Accept: application/x-ndjson` the deploy streams
// one JSON line per step as it starts and as it ends ({"step": {...}}), then {"status", "report"}
// (or {"status", "error"}): the same ProductService::Deploy, watched live.

#include <string>

#include "catalog/catalog.h"
#include "product/service.h"
#include "server/http.h"

namespace meshwork::server {

struct ProductApiOptions {
  std::string upload_root;
  /// Upper bound of the decoded files of one deploy.
  size_t max_upload_bytes = 64 << 20;
};

void AddProductApiRoutes(Router& router, catalog::Catalog& catalog,
                         product::ProductService& products, ProductApiOptions options);

/// The OpenAPI document served at /api/v1/openapi.json.
std::string MeshApiOpenApiDocument();

}  // namespace meshwork::server
