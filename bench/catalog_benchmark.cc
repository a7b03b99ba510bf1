// The Iceberg REST catalog under load, client and server on this machine over loopback:
// loadTable and commit throughput and latency (p50/p99) with 8 and 32 concurrent keep-alive
// clients, on the SQLite and the PostgreSQL metastore. Targets: loadTable >= 5,000 requests/s
// with SQLite; commit p99 < 20 ms.
//
// For comparison (published, other hardware): a Polaris Gatling sample run shows loadTable p50
// 90 ms / p99 890 ms and commit p50 609 ms; Rustberg claims 9,100 loadTable/s on 4 vCPUs with
// p99 21 ms.

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "bench/bench_util.h"
#include "catalog/catalog.h"
#include "metastore/metastore.h"
#include "server/http_server.h"
#include "server/rest_catalog.h"
#include "testing/postgres_server.h"

using namespace meshwork;

namespace {

constexpr double kSeconds = 3.0;

struct Outcome {
  double requests_per_second = 0;
  double p50_ms = 0, p99_ms = 0;
  int64_t errors = 0;
};

// `clients` threads, each with its own keep-alive connection, send `request(client, n)` for
// kSeconds.
Outcome Load(int port, int clients,
             const std::function<bool(httplib::Client&, int client, int n)>& request) {
  std::vector<std::vector<double>> latencies(clients);
  std::atomic<int64_t> errors = 0;
  std::atomic<bool> stop = false;
  std::vector<std::thread> threads;
  const auto started = std::chrono::steady_clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      httplib::Client client("127.0.0.1", port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      for (int n = 0; !stop; ++n) {
        const auto t0 = std::chrono::steady_clock::now();
        if (!request(client, c, n)) ++errors;
        latencies[c].push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(kSeconds));
  stop = true;
  for (auto& thread : threads)
    thread.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::vector<double> all;
  for (const auto& list : latencies)
    all.insert(all.end(), list.begin(), list.end());
  std::sort(all.begin(), all.end());
  Outcome outcome;
  outcome.requests_per_second = all.size() / elapsed;
  outcome.p50_ms = all.empty() ? 0 : all[all.size() / 2];
  outcome.p99_ms = all.empty() ? 0 : all[std::min(all.size() - 1, all.size() * 99 / 100)];
  outcome.errors = errors;
  return outcome;
}

// "commit" / "load" as the first argument runs only that part (for profiling).
std::string only;

void Run(const std::string& backend, const std::string& metastore_url) {
  bench::ScratchFolder scratch("meshwork-catalog-bench-" + backend);
  auto metastore = bench::Must(
      metastore::Metastore::Open({.url = metastore_url, .max_connections = 16}), "metastore");
  auto catalog = bench::Must(
      catalog::Catalog::Open(*metastore, {.warehouse_root = (scratch.path() / "wh").string(),
                                          .bootstrap_credentials = "bench:bench-secret"}),
      "catalog");
  server::Router router;
  server::AddRestCatalogRoutes(router, *catalog, {});
  server::HttpServer http({.host = "127.0.0.1", .port = 0, .threads = 32}, router, nullptr);
  bench::MustOk(http.Bind(), "bind");
  std::thread serving([&] { (void)http.Serve(); });

  const std::string token =
      bench::Must(catalog->IssueToken("bench", "bench-secret"), "token").access_token;
  const httplib::Headers headers = {{"Authorization", "Bearer " + token}};
  const catalog::Caller root{"root", true, "bench"};
  bench::MustOk(catalog->CreateNamespace(root, {"bench"}, {}).status(), "namespace");
  const nlohmann::json schema = {
      {"type", "struct"},
      {"fields",
       {{{"id", 1}, {"name", "id"}, {"required", true}, {"type", "long"}},
        {{"id", 2}, {"name", "ts"}, {"required", false}, {"type", "timestamptz"}},
        {{"id", 3}, {"name", "region"}, {"required", false}, {"type", "string"}}}}};
  for (int t = 0; t < 32; ++t) {
    bench::MustOk(
        catalog
            ->CreateTable(root, {"bench"}, {{"name", "t" + std::to_string(t)}, {"schema", schema}})
            .status(),
        "table");
  }

  for (int clients : {8, 32}) {
    if (only == "commit") break;
    const Outcome load = Load(http.port(), clients, [&](httplib::Client& client, int c, int) {
      auto response = client.Get(
          "/catalog/v1/mesh/namespaces/bench/tables/t" + std::to_string(c % 32), headers);
      return response && response->status == 200;
    });
    std::printf(
        "%-10s loadTable %2d clients: %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %lld%s\n",
        backend.c_str(), clients, load.requests_per_second, load.p50_ms, load.p99_ms,
        static_cast<long long>(load.errors),
        backend == "sqlite" ? (load.requests_per_second >= 5000 ? "  (target 5000/s MET)"
                                                                : "  (target 5000/s MISSED)")
                            : "");
  }
  for (int clients : {8, 32}) {
    if (only == "load") break;
    // Each client commits to its own table (no contention): a property change, as small as a
    // commit gets, so the figure is the catalog's own cost.
    const Outcome commit = Load(http.port(), clients, [&](httplib::Client& client, int c, int n) {
      const nlohmann::json body = {
          {"requirements", nlohmann::json::array()},
          {"updates", {{{"action", "set-properties"}, {"updates", {{"n", std::to_string(n)}}}}}}};
      auto response = client.Post("/catalog/v1/mesh/namespaces/bench/tables/t" + std::to_string(c),
                                  headers, body.dump(), "application/json");
      if (response && response->status == 200) return true;
      static std::atomic<bool> reported = false;
      if (!reported.exchange(true)) {
        std::fprintf(stderr, "first failed commit (client %d, request %d): %s\n", c, n,
                     response ? (std::to_string(response->status) + " " + response->body).c_str()
                              : httplib::to_string(response.error()).c_str());
      }
      return false;
    });
    std::printf(
        "%-10s commit    %2d clients: %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %lld  (p99 "
        "target 20 ms %s)\n",
        backend.c_str(), clients, commit.requests_per_second, commit.p50_ms, commit.p99_ms,
        static_cast<long long>(commit.errors), commit.p99_ms < 20 ? "MET" : "MISSED");
  }
  http.Stop();
  serving.join();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) only = argv[1];
  {
    bench::ScratchFolder folder("meshwork-catalog-bench-sqlite-db");
    Run("sqlite", (folder.path() / "meshwork.db").string());
  }
  if (!only.empty()) return 0;
  std::string why;
  testing::PostgresServer* postgres = testing::SharedPostgresServer(why);
  if (postgres == nullptr) {
    std::printf("postgresql: not measured (%s)\n", why.c_str());
    return 0;
  }
  Run("postgresql", postgres->CreateDatabase("bench"));
  return 0;
}
