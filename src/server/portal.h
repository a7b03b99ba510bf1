#pragma once
// The developer portal at / (web/, compiled into the binary) and the API only it needs:
//
//   GET  /, /assets/{file}, /assets/vendor/{file}   the page and its modules, styles, licenses
//   POST   /api/v1/session {"client_id", "client_secret"} → sets the mw_session cookie;
//          {"principal", "csrf_token", "expires_at"}
//   GET    /api/v1/session → the same for the current session (401 without one)
//   DELETE /api/v1/session → logs out (clears the cookie; the token is refused from then on)
//   GET    /api/v1/portal/products/{domain}/{product} → the product as its page shows it to the
//          caller: its record, sample queries, links, and per column whether governance masks it
//          for the caller (and by which policy), whether rows are filtered, whether the caller
//          may read the data at all; and "connect": the HTTP base URL, the Iceberg REST URI and
//          warehouse, the PostgreSQL host, port and database (null when the wire server is off).
//   GET  /api/v1/access-requests → {"requests": [...]}: the caller's own, and those it may decide
//   POST /api/v1/access-requests {"product": "domain.name", "reason"} → 201, the request
//   POST /api/v1/access-requests/{id}/approve|deny {"note"} → the decided request (approve
//        grants READ_DATA on the product's tables to the requester's personal role)
//   GET  /api/v1/governance/overview[?audit=WORDS] → the council's policies, every product's
//        scorecard and governance warnings, and the newest audit events (matching WORDS):
//        for callers holding UNMASK on the mesh (the governance council), 403 for others
//
// Every page response carries a strict Content-Security-Policy (scripts only from this server,
// the import map by its hash), nosniff, no framing and no referrer; assets have ETags and are
// sent gzip-compressed to clients that accept it. See session.h for how cookie calls are
// authenticated.

#include "catalog/catalog.h"
#include "governance/governance.h"
#include "product/access_requests.h"
#include "product/service.h"
#include "query/session.h"
#include "server/http.h"

namespace meshwork::server {

/// Where other tools connect, as `meshwork serve` listens: the product page's "how to connect".
/// The server fills the ports in after binding its listeners, before it serves a request.
struct PortalEndpoints {
  /// The mesh's name: the Iceberg REST warehouse and the PostgreSQL database.
  std::string mesh = "mesh";
  /// The HTTP listener (the API, the portal, /catalog).
  std::string http_host;
  int http_port = 0;
  /// The PostgreSQL wire listener; pg_port 0: not running (`serve --pg off`).
  std::string pg_host;
  int pg_port = 0;
};

struct PortalOptions {
  /// HTTPS: the session cookie gets the Secure attribute.
  bool tls = false;
  /// The query layer's masks and row filters (the same decision SQL gets); null: none.
  query::AccessPolicy* access_policy = nullptr;
  /// Access requests; null: their endpoints are not served.
  product::AccessRequests* access_requests = nullptr;
  /// The council's policies for the governance page; null: not served.
  governance::Governance* governance = nullptr;
  /// Where to connect, for the product view's "connect"; null: only the HTTP base the request
  /// came to, and no PostgreSQL.
  const PortalEndpoints* endpoints = nullptr;
};

void AddPortalRoutes(Router& router, catalog::Catalog& catalog, product::ProductService& products,
                     PortalOptions options);

/// The Content-Security-Policy of the portal's page.
std::string PortalContentSecurityPolicy();

}  // namespace meshwork::server
