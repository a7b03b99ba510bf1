#pragma once
// `meshwork serve`: the catalog server (Iceberg REST under /catalog, /healthz), DESIGN §4.

#include <string>

namespace CLI {
class App;
}
namespace meshwork::config {
class Config;
}

namespace meshwork::cli {

struct ServeCommand {
  std::string http;
  std::string pg;  // PostgreSQL wire address; "off" disables it
  std::string query_memory_limit;
  int max_queries_per_principal = 8;
  int64_t statement_timeout_ms = 0;
  int pg_idle_timeout_seconds = 3600;
  int pg_max_connections = 256;
  std::string metastore;
  std::string warehouse;
  std::string tls_certificate;
  std::string tls_key;
  std::string bootstrap_credentials;
  std::string mesh = "mesh";
  int threads = 16;
  std::string sla_webhook;
  bool no_scheduler = false;
  void* parsed = nullptr;  // the CLI11 subcommand
};

ServeCommand* AddServeCommand(CLI::App& app);
bool ServeCommandParsed(const ServeCommand& command);
/// Serves until SIGTERM or SIGINT; returns the exit code.
int RunServeCommand(ServeCommand& command, const config::Config& config);

}  // namespace meshwork::cli
