#include "cli/serve_command.h"

#include <signal.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "catalog/catalog.h"
#include "cli/exit_codes.h"
#include "cli/key_command.h"
#include "cli/settings.h"
#include "common/config.h"
#include "common/logging.h"
#include "governance/governance.h"
#include "metastore/metastore.h"
#include "product/governance_gate.h"
#include "product/monitor.h"
#include "product/service.h"
#include "query/governance_access.h"
#include "query/session.h"
#include "server/governance_api.h"
#include "server/http_server.h"
#include "server/mesh_api.h"
#include "server/metrics.h"
#include "server/pg_server.h"
#include "server/portal.h"
#include "server/product_api.h"
#include "server/query_api.h"
#include "server/rest_catalog.h"

namespace meshwork::cli {
namespace {

Result<std::pair<std::string, int>> ParseAddress(const std::string& text) {
  const size_t colon = text.rfind(':');
  int port = -1;
  if (colon != std::string::npos) {
    auto [end, error] = std::from_chars(text.data() + colon + 1, text.data() + text.size(), port);
    if (error != std::errc() || end != text.data() + text.size()) port = -1;
  }
  if (colon == std::string::npos || colon == 0 || port < 0 || port > 65535) {
    return Status::InvalidArgument("'{}' is not ADDRESS:PORT", text)
        .WithHint("for example --http 127.0.0.1:8181 (port 0 picks a free one)");
  }
  return std::pair<std::string, int>(text.substr(0, colon), port);
}

}  // namespace

ServeCommand* AddServeCommand(CLI::App& app) {
  static ServeCommand command;
  CLI::App* serve = app.add_subcommand(
      "serve", "Serve the catalog: Iceberg REST on http://127.0.0.1:8181/catalog, /healthz");
  serve->add_option("--http", command.http, "Listen address (default 127.0.0.1:8181)");
  serve->add_option("--pg", command.pg,
                    "PostgreSQL wire address (default 127.0.0.1:5433; \"off\" to disable)");
  serve->add_option("--query-memory-limit", command.query_memory_limit,
                    "Memory for all SQL queries together, e.g. 4GB (default: 80% of RAM)");
  serve->add_option("--max-queries-per-principal", command.max_queries_per_principal,
                    "Queries one principal may run at once (default 8)");
  serve->add_option("--statement-timeout", command.statement_timeout_ms,
                    "Cancel SQL statements running longer, in ms (default: none)");
  serve->add_option("--pg-idle-timeout", command.pg_idle_timeout_seconds,
                    "Close PostgreSQL connections idle this many seconds (default 3600; 0: never)");
  serve->add_option("--pg-max-connections", command.pg_max_connections,
                    "PostgreSQL connections at once (default 256)");
  serve->add_option("--metastore", command.metastore,
                    "postgresql://user@host:port/db (default: SQLite in the data dir)");
  serve->add_option("--warehouse", command.warehouse,
                    "Warehouse folder or s3://bucket/prefix (default: data dir/warehouse); "
                    "S3 settings: s3.* (MESHWORK_S3_*) or AWS_* variables");
  serve->add_option("--tls-cert", command.tls_certificate, "PEM certificate: serve HTTPS");
  serve->add_option("--tls-key", command.tls_key, "PEM private key for --tls-cert");
  serve->add_option("--bootstrap-credentials", command.bootstrap_credentials,
                    "Root CLIENT_ID:SECRET (or MESHWORK_BOOTSTRAP_CREDENTIALS)");
  serve->add_option("--mesh", command.mesh, "The mesh's name: the REST warehouse and prefix");
  serve->add_option("--threads", command.threads, "HTTP worker threads (default 16)");
  serve->add_option("--sla-webhook", command.sla_webhook,
                    "URL POSTed a JSON event when a product breaches its SLA or recovers "
                    "(or MESHWORK_SLA_WEBHOOK)");
  serve->add_flag("--no-scheduler", command.no_scheduler,
                  "Neither refresh products on their schedules nor watch their SLAs");
  command.parsed = serve;
  return &command;
}

bool ServeCommandParsed(const ServeCommand& command) {
  return command.parsed != nullptr && static_cast<CLI::App*>(command.parsed)->parsed();
}

int RunServeCommand(ServeCommand& command, const config::Config& config) {
  // Signals are taken by one thread with sigwait, so every other thread keeps them blocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const std::string data_dir = Setting(config, "", "data_dir");
  std::error_code ignored;
  std::filesystem::create_directories(data_dir, ignored);
  std::string metastore_url = Setting(config, command.metastore, "metastore");
  if (metastore_url.empty()) metastore_url = data_dir + "/meshwork.db";
  std::string warehouse = Setting(config, command.warehouse, "warehouse");
  if (warehouse.empty()) warehouse = data_dir + "/warehouse";
  auto storage = WarehouseStorageSettings(config, data_dir);
  if (!storage.ok()) return ReportError(storage.error(), kExitUsage);
  auto address = ParseAddress(Setting(config, command.http, "http.address"));
  if (!address.ok()) return ReportError(address.error(), kExitUsage);

  auto metastore = metastore::Metastore::Open({.url = metastore_url, .max_connections = 16});
  if (!metastore.ok()) return ReportError(metastore.error());
  auto retention_days = config.GetInt("audit.retention_days");
  if (!retention_days.ok()) return ReportError(retention_days.error(), kExitUsage);
  catalog::CatalogOptions catalog_options{
      .warehouse_root = warehouse,
      .storage = *storage,
      .bootstrap_credentials =
          Setting(config, command.bootstrap_credentials, "bootstrap_credentials"),
      .audit_retention_days = *retention_days};
  auto catalog = catalog::Catalog::Open(**metastore, catalog_options);
  if (!catalog.ok()) return ReportError(catalog.error());
  const catalog::BootstrapReport& bootstrap = (*catalog)->bootstrap();
  if (!bootstrap.generated_secret.empty()) {
    // Printed once, stored nowhere: the operator must keep it.
    std::cout << "root credentials (shown once, keep them): " << bootstrap.client_id << ":"
              << bootstrap.generated_secret << std::endl;
  }

  server::Router router;
  router.Add("GET", "/healthz", "healthz", [&](server::HttpRequest&) {
    Status ping = (*metastore)->Ping();
    return server::HttpResponse{
        .status = ping.ok() ? 200 : 503,
        .body = nlohmann::json({{"status", ping.ok() ? "ok" : "unavailable"},
                                {"metastore", (*metastore)->backend()}})
                    .dump()};
  });
  server::AddRestCatalogRoutes(router, **catalog, {.warehouse = command.mesh});
  server::AddMeshApiRoutes(router, **catalog);
  governance::Governance governance(**catalog);
  if (Status key = ConfigureMasterKey(config, data_dir, governance, /*warn_about_demo_key=*/true);
      !key.ok()) {
    return ReportError(key, kExitUsage);
  }
  auto gate = product::MakePolicyGate(governance);
  product::ProductService products(**catalog, gate.get());
  auto access_policy = query::MakeGovernanceAccess(governance, products);
  (*catalog)->SetRawAccessGuard(query::MakeRawAccessGuard(*access_policy));
  if (auto recovered = products.RecoverInterruptedDeploys(); !recovered.ok()) {
    logging::Warn("cannot clean up interrupted deploys: {}", recovered.error().ToString());
  }
  server::AddProductApiRoutes(router, **catalog, products, {.upload_root = data_dir + "/uploads"});
  auto queries = query::QueryService::Open(
      **catalog, {.mesh_name = command.mesh,
                  .max_queries_per_principal = command.max_queries_per_principal,
                  .memory_limit = command.query_memory_limit,
                  .statement_timeout_ms = command.statement_timeout_ms,
                  .products = &products,
                  .access_policy = access_policy.get()});
  if (!queries.ok()) return ReportError(queries.error());
  server::AddQueryApiRoutes(router, **catalog, **queries);
  server::AddGovernanceApiRoutes(router, **catalog, governance);
  // The developer portal at / (compiled in): login, search, product pages, SQL workbench.
  product::AccessRequests access_requests(**catalog, products);
  // Where tools connect, for the product pages: the ports are set once the listeners are bound.
  server::PortalEndpoints endpoints{.mesh = command.mesh, .http_host = address->first};
  server::AddPortalRoutes(router, **catalog, products,
                          {.tls = !command.tls_certificate.empty(),
                           .access_policy = access_policy.get(),
                           .access_requests = &access_requests,
                           .governance = &governance,
                           .endpoints = &endpoints});
  // Scheduled refreshes, freshness against the SLAs, webhooks on breaches.
  std::string webhook = command.sla_webhook;
  if (webhook.empty()) {
    if (const char* from_env = std::getenv("MESHWORK_SLA_WEBHOOK")) webhook = from_env;
  }
  product::SlaMonitor monitor(**catalog, products, {.webhook_url = webhook});
  if (!command.no_scheduler) monitor.Start();
  server::Metrics metrics;
  router.Add("GET", "/metrics", "metrics", [&](server::HttpRequest& request) {
    // Like every endpoint but the token endpoint and /healthz: a valid token.
    const auto header = request.Header("authorization");
    auto caller =
        header && header->starts_with("Bearer ")
            ? (*catalog)->Authenticate(header->substr(7), request.request_id)
            : Result<catalog::Caller>(Status::Unauthenticated("/metrics needs a bearer token"));
    if (!caller.ok()) return server::ErrorResponse(caller.error());
    return server::HttpResponse{
        .status = 200, .content_type = "text/plain; version=0.0.4", .body = metrics.Render()};
  });

  server::HttpServer http({.host = address->first,
                           .port = address->second,
                           .threads = command.threads,
                           .tls_certificate = command.tls_certificate,
                           .tls_key = command.tls_key},
                          router, [&metrics](const server::RequestRecord& record) {
                            metrics.Record(record);
                            logging::Info("{} {} {} {:.1f}ms route={} id={} from={}", record.method,
                                          record.path, record.status, record.seconds * 1000,
                                          record.route, record.request_id, record.remote_address);
                          });
  if (Status bound = http.Bind(); !bound.ok()) return ReportError(bound);
  std::string pg_setting = Setting(config, command.pg, "pg.address");
  if (pg_setting.empty()) pg_setting = "127.0.0.1:5433";
  std::unique_ptr<server::PgServer> pg;
  if (pg_setting != "off") {
    auto pg_address = ParseAddress(pg_setting);
    if (!pg_address.ok()) return ReportError(pg_address.error(), kExitUsage);
    pg = std::make_unique<server::PgServer>(
        server::PgServerOptions{.host = pg_address->first,
                                .port = pg_address->second,
                                .tls_certificate = command.tls_certificate,
                                .tls_key = command.tls_key,
                                .max_connections = command.pg_max_connections,
                                .idle_timeout_seconds = command.pg_idle_timeout_seconds},
        **catalog, **queries);
    if (Status bound = pg->Bind(); !bound.ok()) return ReportError(bound);
    endpoints.pg_host = pg_address->first;
    endpoints.pg_port = pg->port();
  }
  endpoints.http_port = http.port();
  const bool tls = !command.tls_certificate.empty();
  std::cout << "meshwork serving " << (tls ? "https" : "http") << "://" << address->first << ":"
            << http.port() << "/catalog (metastore: " << (*metastore)->backend()
            << ", warehouse: " << warehouse << ")" << std::endl;
  std::cout << "meshwork portal " << (tls ? "https" : "http") << "://" << address->first << ":"
            << http.port() << "/" << std::endl;
  std::thread pg_thread;
  if (pg) {
    std::cout << "meshwork serving PostgreSQL on " << pg_setting.substr(0, pg_setting.rfind(':'))
              << ":" << pg->port() << " (database " << command.mesh << ")" << std::endl;
    pg_thread = std::thread([&] {
      if (Status served = pg->Serve(); !served.ok()) logging::Warn("{}", served.ToString());
    });
  }

  std::thread watcher([&] {
    int received = 0;
    sigwait(&signals, &received);
    logging::Info("signal {}: finishing requests in flight, then stopping", received);
    http.Stop();
    if (pg) pg->Stop();
  });
  Status served = http.Serve();
  if (pg) pg->Stop();
  if (pg_thread.joinable()) pg_thread.join();
  // Stopped by something else than a signal: release the watcher.
  pthread_kill(watcher.native_handle(), SIGTERM);
  watcher.join();
  if (!served.ok()) return ReportError(served);
  std::cout << "meshwork stopped" << std::endl;
  return kExitOk;
}

}  // namespace meshwork::cli
