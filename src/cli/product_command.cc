#include "cli/product_command.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "catalog/credentials.h"
#include "cli/exit_codes.h"
#include "cli/key_command.h"
#include "cli/policy_command.h"
#include "cli/server_client.h"
#include "cli/settings.h"
#include "cli/sql_command.h"
#include "common/uuid.h"
#include "governance/governance.h"
#include "metastore/metastore.h"
#include "product/governance_gate.h"
#include "product/mesh_file.h"
#include "product/odcs.h"
#include "product/scaffold.h"
#include "product/service.h"
#include "query/governance_access.h"
#include "query/query.h"
#include "query/session.h"

namespace meshwork::cli {

struct ProductCommands {
  CLI::App* product = nullptr;
  CLI::App* domain = nullptr;
  CLI::App* init = nullptr;
  CLI::App* validate = nullptr;
  CLI::App* plan = nullptr;
  CLI::App* deploy = nullptr;
  CLI::App* list = nullptr;
  CLI::App* show = nullptr;
  CLI::App* history = nullptr;
  CLI::App* deprecate = nullptr;
  CLI::App* lineage = nullptr;
  CLI::App* status = nullptr;
  CLI::App* remove = nullptr;
  CLI::App* export_command = nullptr;
  CLI::App* import_command = nullptr;
  std::string format = "odcs";
  std::string output;
  CLI::App* rollback = nullptr;
  CLI::App* search = nullptr;
  CLI::App* domain_create = nullptr;
  CLI::App* domain_list = nullptr;
  CLI::App* demo = nullptr;
  CLI::App* sql = nullptr;
  CLI::App* policy = nullptr;
  PolicyRequest policy_request;
  CLI::App* key = nullptr;
  KeyRequest key_request;
  std::string sql_text;
  std::string sql_format = "table";
  size_t sql_max_rows = 10000;
  int64_t sql_timeout_ms = 0;
  std::string examples;
  int scale = 1;
  bool no_serve = false;
  std::string http = "127.0.0.1:8181";
  std::string pg = "127.0.0.1:5433";
  std::string bootstrap;

  std::string folder = ".";
  std::string name;  // domain.name, or DOMAIN/NAME for init
  std::string dir;
  std::string domain_filter;
  std::string query;
  std::vector<std::string> query_words;
  std::string sunset;
  std::string message;
  std::string owner;
  std::string description;
  std::string storage_prefix;
  std::string domain_location;
  std::string storage_profile;
  std::vector<std::string> facets;
  std::vector<std::string> variables;
  std::string server;  // remote mode
  int major = 0;
  bool json = false;
  bool force = false;
};

ProductCommands* AddProductCommands(CLI::App& app) {
  static ProductCommands commands;
  ProductCommands& c = commands;
  c.product =
      app.add_subcommand("product", "Data products: init, validate, plan, deploy, list, ...");
  c.product->require_subcommand(1);
  const auto json_flag = [&](CLI::App* sub) {
    sub->add_flag("--json", c.json, "Machine-readable output");
  };
  c.init = c.product->add_subcommand("init", "Scaffold a product folder (spec, SQL, data, CI)");
  c.init->add_option("product", c.name, "DOMAIN/NAME")->required();
  c.init->add_option("--dir", c.dir, "Folder to create (default ./NAME)");
  c.init->add_flag("--force", c.force, "Write into an existing folder");
  json_flag(c.init);
  const std::pair<CLI::App**, const char*> pipeline[] = {
      {&c.validate, "Check the spec, its inputs, access and SQL without running it"},
      {&c.plan, "Run everything but the publish: diff, compatibility, quality"},
      {&c.deploy, "Run the pipeline and publish the product"}};
  for (const auto& [sub, what] : pipeline) {
    const char* name = sub == &c.validate ? "validate" : sub == &c.plan ? "plan" : "deploy";
    *sub = c.product->add_subcommand(name, what);
    (*sub)->add_option("folder", c.folder, "The product folder (default .)");
    (*sub)->add_option("--var", c.variables, "NAME=VALUE for the transform's getvariable('NAME')");
    json_flag(*sub);
  }
  c.list = c.product->add_subcommand("list", "Published products");
  c.list->add_option("--domain", c.domain_filter, "Only this domain's");
  json_flag(c.list);
  c.show = c.product->add_subcommand("show", "A product: contract, ports, SLA, quality");
  c.show->add_option("product", c.name, "domain.name")->required();
  c.show->add_option("--major", c.major, "A major version line (default: the newest)");
  json_flag(c.show);
  c.history = c.product->add_subcommand("history", "Deploys and deprecations of a product");
  c.history->add_option("product", c.name, "domain.name")->required();
  json_flag(c.history);
  c.deprecate = c.product->add_subcommand("deprecate", "Deprecate a major version line");
  c.deprecate->add_option("product", c.name, "domain.name")->required();
  c.deprecate->add_option("--major", c.major, "The major version to deprecate")->required();
  c.deprecate->add_option("--sunset", c.sunset, "YYYY-MM-DD after which it may go")->required();
  c.deprecate->add_option("--message", c.message, "What consumers should do");
  json_flag(c.deprecate);
  c.status = c.product->add_subcommand("status", "SLA, freshness, quality and the scorecard");
  c.status->add_option("product", c.name, "domain.name")->required();
  json_flag(c.status);
  c.rollback = c.product->add_subcommand(
      "rollback", "Publish again what an earlier version of the same major line published");
  c.rollback->add_option("product", c.name, "domain.name")->required();
  c.rollback->add_option("--to", c.sunset, "The version to go back to")->required();
  json_flag(c.rollback);
  c.export_command = c.product->add_subcommand(
      "export", "A contract as ODCS v3 YAML (of a published product or a product folder)");
  c.export_command->add_option("product", c.name, "domain.name or a product folder")->required();
  c.export_command->add_option("--format", c.format, "odcs (Open Data Contract Standard v3)")
      ->check(CLI::IsMember({"odcs"}));
  c.export_command->add_option("--output", c.output, "File to write (default: standard output)");
  c.import_command = c.product->add_subcommand(
      "import", "A product folder from an ODCS v3 contract (x-odcs keeps the whole contract)");
  c.import_command->add_option("file", c.name, "The ODCS YAML file")->required();
  c.import_command->add_option("--dir", c.dir, "Folder to create (default ./NAME)");
  c.import_command->add_flag("--force", c.force, "Write into an existing folder");
  json_flag(c.import_command);
  c.remove = c.product->add_subcommand(
      "delete", "Remove a deprecated major line after its sunset (tables purged)");
  c.remove->add_option("product", c.name, "domain.name")->required();
  c.remove->add_option("--major", c.major, "The major line")->required();
  c.remove->add_flag("--force", c.force, "Even before its sunset or while others read it");
  c.lineage = c.product->add_subcommand("lineage", "Upstream and downstream of a product");
  c.lineage->add_option("product", c.name, "domain.name")->required();
  json_flag(c.lineage);
  c.search = c.product->add_subcommand("search", "Search products, columns, docs, tags, owners");
  c.search->add_option("query", c.query_words, "Words to look for");
  c.search->add_option("--facet", c.facets, "domain=..., tag=..., owner=..., classification=...");
  json_flag(c.search);

  for (CLI::App* sub : {c.validate, c.plan, c.deploy, c.list, c.show, c.history, c.deprecate,
                        c.lineage, c.search, c.status, c.rollback, c.remove}) {
    sub->add_option("--server", c.server,
                    "Talk to a meshwork server (or MESHWORK_SERVER; credentials from "
                    "MESHWORK_CLIENT_ID/SECRET) instead of the local mesh in --data-dir");
  }
  c.demo = app.add_subcommand(
      "demo",
      "Build the demo mesh (domains, principals, products), run a cross-domain query, serve");
  c.demo->add_option("--examples", c.examples,
                     "Folder with mesh.yaml and the product folders (default: the repository's "
                     "examples/)");
  c.demo->add_option("--scale", c.scale, "Scale factor of the generated data (default 1)")
      ->check(CLI::Range(1, 100000));
  c.demo->add_flag("--no-serve", c.no_serve, "Stop after building the mesh");
  c.demo->add_option("--http", c.http, "Where to serve (default 127.0.0.1:8181)");
  c.demo->add_option("--pg", c.pg, "PostgreSQL wire address (default 127.0.0.1:5433)");
  c.demo->add_option("--bootstrap-credentials", c.bootstrap,
                     "Root CLIENT_ID:SECRET (or MESHWORK_BOOTSTRAP_CREDENTIALS)");
  json_flag(c.demo);
  c.sql = app.add_subcommand(
      "sql", "Run one read-only query over the mesh's data products (domain.port), on --data-dir");
  c.sql->add_option("query", c.sql_text, "SELECT ... FROM domain.port ...")->required();
  c.sql->add_option("--format", c.sql_format, "table|csv|json|ndjson (csv, ndjson stream)")
      ->check(CLI::IsMember({"table", "csv", "json", "ndjson"}));
  c.sql->add_option("--max-rows", c.sql_max_rows, "Rows the table format shows (default 10000)");
  c.sql->add_option("--timeout", c.sql_timeout_ms, "Cancel the query after this many ms");
  c.sql->add_option("--server", c.server, "Run it on a meshwork server (or MESHWORK_SERVER)");
  c.policy = app.add_subcommand("policy", "The governance council's rules as code");
  c.policy->require_subcommand(1);
  PolicyRequest& policy = c.policy_request;
  const auto policy_action = [&](const char* name, const char* help) {
    CLI::App* sub = c.policy->add_subcommand(name, help);
    sub->callback([&policy, name] { policy.action = name; });
    return sub;
  };
  policy_action("apply", "Apply the *.yaml policies of a folder as the new policy set")
      ->add_option("folder", policy.folder, "Folder of kind: Policy files")
      ->required();
  policy_action("list", "The rules in force")->add_flag("--json", policy.json, "JSON output");
  policy_action("show", "A policy as applied")->add_option("name", policy.name)->required();
  policy_action("diff", "Rules a folder would add, change or remove")
      ->add_option("folder", policy.folder)
      ->required();
  policy_action("history", "Every applied policy set");
  CLI::App* test = policy_action(
      "test", "What proposed policies would find on every published product (exit 1: blocked)");
  test->add_option("folder", policy.folder)->required();
  test->add_flag("--json", policy.json, "JSON output");
  CLI::App* attributes =
      policy_action("attributes", "Set a principal's attributes for row filters (key=value ...)");
  attributes->add_option("principal", policy.name)->required();
  attributes->add_option("assignments", policy.assignments, "region=emea ...");
  c.key = app.add_subcommand("key", "The data keys of encrypted columns (MANAGE_MESH)");
  c.key->require_subcommand(1);
  KeyRequest& key = c.key_request;
  const auto key_action = [&](const char* name, const char* help) {
    CLI::App* sub = c.key->add_subcommand(name, help);
    sub->callback([&key, name] { key.action = name; });
    sub->add_flag("--json", key.json, "JSON output");
    return sub;
  };
  key_action("list", "Every data key: scope, mode, versions, the master key that wraps them");
  CLI::App* rotate =
      key_action("rotate", "New key versions for new writes (all keys, or --domain / --rule)");
  rotate->add_option("--domain", key.domain, "Only this domain's randomized key");
  rotate->add_option("--rule", key.rule, "Only this encrypt rule's deterministic key");
  key_action("rewrap", "Re-wrap every data key under a new master key (no data changes)")
      ->add_option("--new-master-key-file", key.new_master_key_file,
                   "File with the new master key (64 hex digits or base64)")
      ->required();
  c.domain = app.add_subcommand("domain", "Domains: create, list");
  c.domain->require_subcommand(1);
  c.domain_create = c.domain->add_subcommand(
      "create", "Provision a domain: namespace, storage, owner and consumer roles, CI principal");
  c.domain_create->add_option("name", c.name, "The domain's name")->required();
  c.domain_create->add_option("--owner", c.owner, "Its owner principal (created if missing)")
      ->required();
  c.domain_create->add_option("--description", c.description, "What the domain is");
  c.domain_create->add_option("--storage-prefix", c.storage_prefix,
                              "Its folder in the warehouse (default: its name)");
  c.domain_create->add_option("--location", c.domain_location,
                              "A bucket of its own: s3://bucket/prefix (with --storage-profile)");
  c.domain_create->add_option("--storage-profile", c.storage_profile,
                              "The profile (storage.profiles_file) that reaches --location");
  json_flag(c.domain_create);
  c.domain_list = c.domain->add_subcommand("list", "Domains");
  json_flag(c.domain_list);
  for (CLI::App* sub : {c.domain_create, c.domain_list}) {
    sub->add_option("--server", c.server, "Talk to a meshwork server instead of --data-dir");
  }
  return &c;
}

bool ProductCommandParsed(const ProductCommands& commands) {
  return commands.product->parsed() || commands.domain->parsed() || commands.demo->parsed() ||
         commands.sql->parsed() || commands.policy->parsed() || commands.key->parsed();
}

namespace {

int Fail(const Status& status) {
  return ReportError(status, kExitFailed);
}

void Print(const nlohmann::json& value) {
  std::printf("%s\n", value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

// A mesh role's grant: "READ_DATA" (on the mesh) or "UNMASK on classification:pii.email".
Result<std::pair<catalog::Privilege, catalog::Securable>> ParseMeshGrant(const std::string& text) {
  const size_t on = text.find(" on ");
  MW_ASSIGN_OR_RETURN(catalog::Privilege privilege, catalog::ParsePrivilege(text.substr(0, on)));
  if (on == std::string::npos) return std::pair{privilege, catalog::Securable::Mesh()};
  const std::string target = text.substr(on + 4);
  const size_t colon = target.find(':');
  MW_ASSIGN_OR_RETURN(catalog::SecurableKind kind,
                      catalog::ParseSecurableKind(target.substr(0, colon)));
  const std::string name = colon == std::string::npos ? "" : target.substr(colon + 1);
  if (kind == catalog::SecurableKind::kMesh)
    return std::pair{privilege, catalog::Securable::Mesh()};
  if (name.empty()) {
    return Status::InvalidArgument("grant '{}' names no securable after the type", text)
        .WithHint("write PRIVILEGE on TYPE:NAME, e.g. UNMASK on classification:pii.email");
  }
  if (kind == catalog::SecurableKind::kClassification) {
    return std::pair{privilege, catalog::Securable::Classification(name)};
  }
  std::vector<std::string> path;
  for (size_t start = 0;;) {
    const size_t dot = name.find('.', start);
    path.push_back(name.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return std::pair{privilege, catalog::Securable{kind, path}};
}

// The local mesh in --data-dir, and who the caller is in it: the principal of
// MESHWORK_CLIENT_ID/SECRET when set (so RBAC applies as on the server), else the mesh's root
// (whoever can write the data dir owns the mesh anyway).
struct LocalMesh {
  std::unique_ptr<metastore::Metastore> metastore;
  std::unique_ptr<catalog::Catalog> catalog;
  std::unique_ptr<governance::Governance> governance;
  std::unique_ptr<product::GovernanceGate> gate;
  std::unique_ptr<product::ProductService> service;
  catalog::Caller caller;
};

Result<LocalMesh> OpenLocalMesh(const config::Config& config,
                                const std::string& bootstrap_credentials = "") {
  LocalMesh mesh;
  const std::string data_dir = Setting(config, "", "data_dir");
  std::error_code ignored;
  std::filesystem::create_directories(data_dir, ignored);
  std::string metastore_url = Setting(config, "", "metastore");
  if (metastore_url.empty()) metastore_url = data_dir + "/meshwork.db";
  std::string warehouse = Setting(config, "", "warehouse");
  if (warehouse.empty()) warehouse = data_dir + "/warehouse";
  MW_ASSIGN_OR_RETURN(mesh.metastore,
                      metastore::Metastore::Open({.url = metastore_url, .max_connections = 4}));
  MW_ASSIGN_OR_RETURN(iceberg::WarehouseStorage storage,
                      WarehouseStorageSettings(config, data_dir));
  MW_ASSIGN_OR_RETURN(
      mesh.catalog,
      catalog::Catalog::Open(*mesh.metastore, {.warehouse_root = warehouse,
                                               .storage = std::move(storage),
                                               .bootstrap_credentials = bootstrap_credentials}));
  const auto& bootstrap = mesh.catalog->bootstrap();
  if (!bootstrap.generated_secret.empty()) {
    std::fprintf(stderr, "root credentials of the new mesh in %s (shown once, keep them): %s:%s\n",
                 data_dir.c_str(), bootstrap.client_id.c_str(), bootstrap.generated_secret.c_str());
  }
  const char* client_id = std::getenv("MESHWORK_CLIENT_ID");
  const char* client_secret = std::getenv("MESHWORK_CLIENT_SECRET");
  const std::string request_id = "cli-" + Uuid::V4().ToString().substr(0, 8);
  if (client_id != nullptr && *client_id != '\0') {
    MW_ASSIGN_OR_RETURN(auto token,
                        mesh.catalog->IssueToken(client_id, client_secret ? client_secret : ""));
    MW_ASSIGN_OR_RETURN(mesh.caller, mesh.catalog->Authenticate(token.access_token, request_id));
  } else {
    mesh.caller = {.principal = "root", .is_root = true, .request_id = request_id};
  }
  mesh.caller.channel = "cli";
  mesh.governance = std::make_unique<governance::Governance>(*mesh.catalog);
  MW_RETURN_IF_ERROR(ConfigureMasterKey(config, data_dir, *mesh.governance,
                                        /*warn_about_demo_key=*/false));
  mesh.gate = product::MakePolicyGate(*mesh.governance);
  mesh.service = std::make_unique<product::ProductService>(*mesh.catalog, mesh.gate.get());
  auto recovered = mesh.service->RecoverInterruptedDeploys();
  if (!recovered.ok()) {
    std::fprintf(stderr, "meshwork: warning: %s\n", recovered.error().ToString().c_str());
  }
  return mesh;
}

Result<std::pair<std::string, std::string>> SplitProduct(const std::string& text, char separator) {
  const size_t at = text.find(separator);
  if (at == std::string::npos || at == 0 || at + 1 == text.size()) {
    return Status::InvalidArgument("'{}' is not a product name of the form domain{}name", text,
                                   separator);
  }
  std::string domain = text.substr(0, at), name = text.substr(at + 1);
  MW_RETURN_IF_ERROR(product::ValidateProductName("domain", domain));
  MW_RETURN_IF_ERROR(product::ValidateProductName("product", name));
  return std::make_pair(domain, name);
}

std::string Ago(int64_t at_ms) {
  const int64_t seconds = (std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count() -
                           at_ms) /
                          1000;
  if (seconds < 120) return fmt::format("{} s ago", seconds);
  if (seconds < 7200) return fmt::format("{} min ago", seconds / 60);
  if (seconds < 172800) return fmt::format("{} h ago", seconds / 3600);
  return fmt::format("{} days ago", seconds / 86400);
}

void PrintReport(const product::DeployReport& report) {
  for (const auto& step : report.steps) {
    const char* mark = step.outcome == "ok" ? "ok  " : step.outcome == "warn" ? "warn" : "FAIL";
    std::printf("  %s %-18s %6.2f s  %s\n", mark, step.step.c_str(), step.seconds,
                step.detail.substr(0, step.detail.find('\n')).c_str());
  }
  if (!report.diff.changes.empty()) {
    std::printf("contract diff (%s):\n", report.diff.verdict.c_str());
    for (const std::string& line : product::DescribeDiff(report.diff))
      std::printf("  %s\n", line.c_str());
  }
  for (const auto& result : report.quality) {
    if (result.passed) continue;
    std::printf("quality %s %s: %s\n",
                result.severity == product::Severity::kError ? "FAILED" : "warning",
                result.rule.c_str(), result.detail.c_str());
  }
  for (const auto& finding : report.governance) {
    std::printf("governance %s %s at %s: %s\n", finding.blocking ? "BLOCKED" : "warning",
                finding.rule.c_str(), finding.where.c_str(), finding.message.c_str());
    if (!finding.fix.empty()) std::printf("  fix: %s\n", finding.fix.c_str());
  }
}

int RunDeploy(ProductCommands& c, const config::Config& config) {
  // The spec first: a broken one needs no mesh to be reported.
  auto spec = product::LoadSpec(c.folder);
  if (!spec.ok()) {
    if (c.json) Print({{"error", {{"message", spec.error().ToString()}}}});
    return ReportError(spec.error(), kExitFailed);
  }
  auto opened = OpenLocalMesh(config);
  if (!opened.ok()) return Fail(opened.error());
  LocalMesh& mesh = *opened;
  product::DeployOptions options;
  options.dry_run = !c.deploy->parsed();
  options.skip_data = c.validate->parsed();
  // A missing domain is created by the deploy (when the caller may); validate and plan say so.
  options.create_domain = true;
  for (const std::string& variable : c.variables) {
    const size_t equals = variable.find('=');
    if (equals == std::string::npos || equals == 0) {
      return ReportError(Status::InvalidArgument("--var '{}' is not NAME=VALUE", variable),
                         kExitUsage);
    }
    options.variables[variable.substr(0, equals)] = variable.substr(equals + 1);
  }
  const bool terminal = ::isatty(2) == 1;
  if (!c.json) {
    options.progress = [&](const product::StepReport& step) {
      if (step.outcome == "running" && terminal) {
        std::fprintf(stderr, "  ... %s%s%s\n", step.step.c_str(), step.detail.empty() ? "" : ": ",
                     step.detail.c_str());
      }
    };
    std::printf("%s %s v%s\n",
                c.deploy->parsed() ? "deploying"
                : c.plan->parsed() ? "planning"
                                   : "validating",
                spec->QualifiedName().c_str(), spec->version.ToString().c_str());
  }
  auto report = mesh.service->Deploy(mesh.caller, *spec, options);
  if (!report.ok()) return Fail(report.error());
  if (c.json) {
    Print(product::DeployReportToJson(*report));
  } else {
    PrintReport(*report);
  }
  if (!report->failure.ok()) {
    return ReportError(report->failure, kExitFailed);
  }
  if (!c.json) {
    if (report->published) {
      for (const auto& port : report->ports) {
        std::printf("published %s v%s as %s (snapshot %lld, %lld rows)\n", report->product.c_str(),
                    report->version.c_str(), port.table.c_str(),
                    static_cast<long long>(port.snapshot_id), static_cast<long long>(port.records));
      }
    } else {
      std::printf("%s v%s: %s\n", report->product.c_str(), report->version.c_str(),
                  c.validate->parsed() ? "valid" : "would publish");
    }
  }
  return kExitOk;
}

int RunInit(ProductCommands& c) {
  auto names = SplitProduct(c.name, '/');
  if (!names.ok()) return ReportError(names.error(), kExitUsage);
  const std::string folder = c.dir.empty() ? names->second : c.dir;
  auto written = product::WriteScaffold(folder, names->first, names->second, c.force);
  if (!written.ok()) return Fail(written.error());
  if (c.json) {
    Print({{"folder", folder}, {"files", *written}});
  } else {
    std::printf("created %s/ for %s.%s:\n", folder.c_str(), names->first.c_str(),
                names->second.c_str());
    for (const std::string& file : *written)
      std::printf("  %s\n", file.c_str());
    std::printf("next: edit %s/transform.sql, then `meshwork product deploy %s`\n", folder.c_str(),
                folder.c_str());
  }
  return kExitOk;
}

int RunList(ProductCommands& c, LocalMesh& mesh) {
  auto products = mesh.service->ListProducts(mesh.caller, c.domain_filter);
  if (!products.ok()) return Fail(products.error());
  if (c.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& record : *products)
      out.push_back(product::ProductRecordToJson(record));
    Print(out);
    return kExitOk;
  }
  if (products->empty()) {
    std::printf("no data products published yet (see `meshwork product init`)\n");
    return kExitOk;
  }
  std::printf("%-36s %-9s %-11s %-20s %-6s %-8s %s\n", "PRODUCT", "VERSION", "STATE", "OWNER",
              "SLA", "QUALITY", "PUBLISHED");
  for (const auto& record : *products) {
    const nlohmann::json view = product::ProductRecordToJson(record);
    const std::string quality =
        fmt::format("{}/{}", view.value("quality_passed", 0), view.value("quality_total", 0));
    std::printf("%-36s %-9s %-11s %-20s %-6s %-8s %s\n",
                (record.QualifiedName() +
                 (record.major > 1 ? " (v" + std::to_string(record.major) + ")" : ""))
                    .c_str(),
                record.version.c_str(), record.state.c_str(),
                view.value("/owner/team"_json_pointer, std::string()).c_str(),
                view.value("/sla/status"_json_pointer, std::string("-")).c_str(), quality.c_str(),
                Ago(record.published_at_ms).c_str());
  }
  return kExitOk;
}

int RunShow(ProductCommands& c, LocalMesh& mesh) {
  auto names = SplitProduct(c.name, '.');
  if (!names.ok()) return ReportError(names.error(), kExitUsage);
  auto record = mesh.service->LoadProduct(mesh.caller, names->first, names->second,
                                          c.major > 0 ? std::optional<int>(c.major) : std::nullopt);
  if (!record.ok()) return Fail(record.error());
  const nlohmann::json view = product::ProductRecordToJson(*record, /*with_spec=*/c.json);
  if (c.json) {
    Print(view);
    return kExitOk;
  }
  std::printf("%s v%s (%s)  %s\n", record->QualifiedName().c_str(), record->version.c_str(),
              record->state.c_str(), view.value("title", "").c_str());
  std::printf("  %s\n", view.value("description", "").c_str());
  std::printf("owner: %s <%s>; published %s by %s\n",
              view.value("/owner/team"_json_pointer, std::string()).c_str(),
              view.value("/owner/email"_json_pointer, std::string()).c_str(),
              Ago(record->published_at_ms).c_str(), record->published_by.c_str());
  if (record->state == "deprecated") {
    std::printf("DEPRECATED: sunset %s. %s\n", record->sunset.c_str(),
                record->deprecation_message.c_str());
  }
  std::printf("sla: freshness %s (%s), schedule '%s', support %s\n",
              view.value("/sla/freshness"_json_pointer, std::string("-")).c_str(),
              view.value("/sla/status"_json_pointer, std::string("-")).c_str(),
              view.value("/sla/schedule"_json_pointer, std::string("-")).c_str(),
              view.value("/sla/support"_json_pointer, std::string("-")).c_str());
  for (const auto& port : record->ports) {
    std::printf("port %s -> table %s (snapshot %lld, %lld rows)\n", port.port.c_str(),
                port.table.c_str(), static_cast<long long>(port.snapshot_id),
                static_cast<long long>(port.records));
  }
  std::printf("  %-24s %-16s %-8s %-18s %s\n", "COLUMN", "TYPE", "NULL", "CLASSIFICATION",
              "DESCRIPTION");
  for (const auto& column : view["columns"]) {
    std::printf("  %-24s %-16s %-8s %-18s %s\n", column["name"].get<std::string>().c_str(),
                column["type"].get<std::string>().c_str(),
                column["nullable"].get<bool>() ? "yes" : "no",
                column["classification"].get<std::string>().c_str(),
                column["description"].get<std::string>().c_str());
  }
  std::printf("quality (last deploy): %lld of %lld rules passed\n",
              static_cast<long long>(view.value("quality_passed", 0)),
              static_cast<long long>(view.value("quality_total", 0)));
  for (const auto& result : record->quality) {
    std::printf("  %s %s: %s\n", result.passed ? "ok  " : "FAIL", result.rule.c_str(),
                result.detail.c_str());
  }
  return kExitOk;
}

int RunHistory(ProductCommands& c, LocalMesh& mesh) {
  auto names = SplitProduct(c.name, '.');
  if (!names.ok()) return ReportError(names.error(), kExitUsage);
  auto history = mesh.service->History(mesh.caller, names->first, names->second);
  if (!history.ok()) return Fail(history.error());
  if (c.json) {
    Print(product::HistoryToJson(*history));
    return kExitOk;
  }
  for (const auto& entry : *history) {
    std::printf("%-10s v%-9s %-14s by %-12s %s\n", entry.action.c_str(), entry.version.c_str(),
                Ago(entry.at_ms).c_str(), entry.by.c_str(), entry.summary.c_str());
  }
  return kExitOk;
}

int RunDeprecate(ProductCommands& c, LocalMesh& mesh) {
  auto names = SplitProduct(c.name, '.');
  if (!names.ok()) return ReportError(names.error(), kExitUsage);
  auto record = mesh.service->Deprecate(mesh.caller, names->first, names->second, c.major, c.sunset,
                                        c.message);
  if (!record.ok()) return Fail(record.error());
  if (c.json) {
    Print(product::ProductRecordToJson(*record));
  } else {
    std::printf("%s v%d is deprecated; sunset %s\n", record->QualifiedName().c_str(), c.major,
                c.sunset.c_str());
  }
  return kExitOk;
}

int RunStatus(ProductCommands& c, LocalMesh& mesh) {
  auto names = SplitProduct(c.name, '.');
  if (!names.ok()) return ReportError(names.error(), kExitUsage);
  auto record = mesh.service->LoadProduct(mesh.caller, names->first, names->second);
  if (!record.ok()) return Fail(record.error());
  auto card = mesh.service->ScoreProduct(mesh.caller, names->first, names->second);
  if (!card.ok()) return Fail(card.error());
  if (c.json) {
    nlohmann::json out = product::ProductRecordToJson(*record);
    out["scorecard"] = product::ScorecardToJson(*card);
    Print(out);
  } else {
    std::printf(
        "%s v%s: %s (published %s), quality %.0f%% of rules passed over the last "
        "deploys\n",
        record->QualifiedName().c_str(), record->version.c_str(), card->freshness.c_str(),
        Ago(record->published_at_ms).c_str(), 100 * card->quality_pass_rate);
    std::printf("scorecard %d/100: documentation %.0f%%, %lld governance warnings\n", card->score,
                100 * card->documentation, static_cast<long long>(card->governance_warnings));
    for (const auto& result : record->quality) {
      std::printf("  %s %s: %s\n", result.passed ? "ok  " : "FAIL", result.rule.c_str(),
                  result.detail.c_str());
    }
    for (const std::string& improvement : card->improvements)
      std::printf("  to improve: %s\n", improvement.c_str());
  }
  // A late product is a failed check: scripts and CI can act on the exit code.
  return card->freshness == "late" ? kExitFailed : kExitOk;
}

int RunRollback(ProductCommands& c, LocalMesh& mesh) {
  auto names = SplitProduct(c.name, '.');
  if (!names.ok()) return ReportError(names.error(), kExitUsage);
  auto record = mesh.service->Rollback(mesh.caller, names->first, names->second, c.sunset);
  if (!record.ok()) return Fail(record.error());
  if (c.json) {
    Print(product::ProductRecordToJson(*record));
  } else {
    std::printf("%s is back at v%s\n", record->QualifiedName().c_str(), record->version.c_str());
  }
  return kExitOk;
}

int WriteOut(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return kExitOk;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Fail(Status::IOError("cannot write {}", path));
  return kExitOk;
}

int RunExport(ProductCommands& c, const config::Config& config) {
  // A folder exports its spec as it is; a name exports what is published.
  if (std::filesystem::is_directory(c.name)) {
    auto spec = product::LoadSpec(c.name);
    if (!spec.ok()) return ReportError(spec.error(), kExitFailed);
    auto text = product::ExportOdcs(*spec);
    if (!text.ok()) return Fail(text.error());
    return WriteOut(c.output, *text);
  }
  auto names = SplitProduct(c.name, '.');
  if (!names.ok()) return ReportError(names.error(), kExitUsage);
  auto mesh = OpenLocalMesh(config);
  if (!mesh.ok()) return Fail(mesh.error());
  auto record = mesh->service->LoadProduct(mesh->caller, names->first, names->second);
  if (!record.ok()) return Fail(record.error());
  auto spec = record->Spec();
  if (!spec.ok()) return Fail(spec.error());
  auto text = product::ExportOdcs(*spec, record->state);
  if (!text.ok()) return Fail(text.error());
  return WriteOut(c.output, *text);
}

int RunImport(ProductCommands& c) {
  std::ifstream in(c.name, std::ios::binary);
  if (!in) return Fail(Status::NotFound("cannot read {}", c.name));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto imported = product::ImportOdcs(text, c.name);
  if (!imported.ok()) return ReportError(imported.error(), kExitFailed);
  auto spec = product::ParseSpec(imported->spec_yaml, c.name);
  if (!spec.ok()) return Fail(spec.error());
  const std::string folder = c.dir.empty() ? spec->name : c.dir;
  std::error_code error;
  if (std::filesystem::exists(folder, error) && !std::filesystem::is_empty(folder, error) &&
      !c.force) {
    return Fail(Status::AlreadyExists("{} exists and is not empty", folder)
                    .WithHint("pick another --dir, or pass --force"));
  }
  std::filesystem::create_directories(folder, error);
  if (int rc = WriteOut(folder + "/dataproduct.yaml", imported->spec_yaml); rc != kExitOk)
    return rc;
  if (!imported->transform_sql.empty()) {
    if (int rc = WriteOut(folder + "/transform.sql", imported->transform_sql); rc != kExitOk) {
      return rc;
    }
  }
  if (c.json) {
    Print({{"folder", folder}, {"product", spec->QualifiedName()}, {"notes", imported->notes}});
  } else {
    std::printf("imported %s into %s/\n", spec->QualifiedName().c_str(), folder.c_str());
    for (const std::string& note : imported->notes)
      std::printf("  note: %s\n", note.c_str());
  }
  return kExitOk;
}

int RunLineage(ProductCommands& c, LocalMesh& mesh) {
  auto names = SplitProduct(c.name, '.');
  if (!names.ok()) return ReportError(names.error(), kExitUsage);
  auto graph = mesh.service->Lineage(mesh.caller, names->first, names->second);
  if (!graph.ok()) return Fail(graph.error());
  if (c.json) {
    Print(product::LineageToJson(*graph));
    return kExitOk;
  }
  for (const auto& edge : graph->edges)
    std::printf("%s -> %s  (reads %s)\n", edge.from.c_str(), edge.to.c_str(), edge.port.c_str());
  if (graph->edges.empty()) std::printf("%s has no recorded inputs or consumers\n", c.name.c_str());
  return kExitOk;
}

int RunSearch(ProductCommands& c, LocalMesh& mesh) {
  c.query = fmt::format("{}", fmt::join(c.query_words, " "));
  std::map<std::string, std::string> filters;
  for (const std::string& facet : c.facets) {
    const size_t equals = facet.find('=');
    if (equals == std::string::npos) {
      return ReportError(Status::InvalidArgument("facet '{}' is not key=value", facet), kExitUsage);
    }
    filters[facet.substr(0, equals)] = facet.substr(equals + 1);
  }
  auto results = mesh.service->Search(mesh.caller, c.query, filters);
  if (!results.ok()) return Fail(results.error());
  if (c.json) {
    Print(product::SearchResultsToJson(*results));
    return kExitOk;
  }
  for (const auto& hit : results->hits) {
    std::printf("%-32s %6.1f  %s (matched %s)\n", hit.product.c_str(), hit.score, hit.title.c_str(),
                fmt::format("{}", fmt::join(hit.matched, ", ")).c_str());
  }
  if (results->hits.empty()) std::printf("no products match '%s'\n", c.query.c_str());
  return kExitOk;
}

int RunDomain(ProductCommands& c, LocalMesh& mesh) {
  if (c.domain_list->parsed()) {
    auto domains = mesh.service->ListDomains(mesh.caller);
    if (!domains.ok()) return Fail(domains.error());
    if (c.json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& domain : *domains)
        out.push_back(product::DomainInfoToJson(domain));
      Print(out);
    } else {
      for (const auto& domain : *domains)
        std::printf("%-20s owner %-20s %s\n", domain.name.c_str(), domain.owner.c_str(),
                    domain.description.c_str());
    }
    return kExitOk;
  }
  auto domain = mesh.service->CreateDomain(mesh.caller, {.name = c.name,
                                                         .description = c.description,
                                                         .owner = c.owner,
                                                         .storage_prefix = c.storage_prefix,
                                                         .location = c.domain_location,
                                                         .storage_profile = c.storage_profile});
  if (!domain.ok()) return Fail(domain.error());
  if (c.json) {
    Print(product::DomainInfoToJson(*domain));
    return kExitOk;
  }
  std::printf("domain %s created: namespace %s at %s%s\n", domain->name.c_str(),
              domain->name.c_str(), domain->location.c_str(),
              domain->storage_profile.empty()
                  ? ""
                  : (" (storage profile " + domain->storage_profile + ")").c_str());
  std::printf("  roles %s (publish) and %s (read); owner %s holds %s\n", domain->owner_role.c_str(),
              domain->consumer_role.c_str(), domain->owner.c_str(), domain->owner_role.c_str());
  if (domain->owner_credentials) {
    std::printf("  owner credentials (shown once): %s:%s\n",
                domain->owner_credentials->client_id.c_str(),
                domain->owner_credentials->client_secret.c_str());
  }
  if (domain->ci_credentials) {
    std::printf("  CI principal %s (shown once): %s:%s\n", domain->ci_principal.c_str(),
                domain->ci_credentials->client_id.c_str(),
                domain->ci_credentials->client_secret.c_str());
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// Remote mode: the same commands through the mesh API of a server.

std::string Escape(const std::string& text) {
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// The files a deploy needs: the spec, the transform's SQL file and the input files.
Result<nlohmann::json> FolderFiles(const product::DataProductSpec& spec) {
  namespace fs = std::filesystem;
  std::vector<std::string> names = {"dataproduct.yaml"};
  if (!spec.transform.sql_file.empty()) names.push_back(spec.transform.sql_file);
  for (const auto& input : spec.inputs)
    if (!input.is_port()) names.push_back(input.file);
  nlohmann::json files = nlohmann::json::object();
  for (const std::string& name : names) {
    std::ifstream in(fs::path(spec.folder) / name, std::ios::binary);
    if (!in) return Status::NotFound("cannot read {}/{}", spec.folder, name);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    files[name] = catalog::Base64UrlEncode(content);
  }
  return files;
}

void PrintReportJson(const nlohmann::json& report) {
  for (const auto& step : report.value("steps", nlohmann::json::array())) {
    const std::string outcome = step.value("outcome", "");
    const char* mark = outcome == "ok" ? "ok  " : outcome == "warn" ? "warn" : "FAIL";
    const std::string detail = step.value("detail", "");
    std::printf("  %s %-18s %6.2f s  %s\n", mark, step.value("step", "").c_str(),
                step.value("seconds", 0.0), detail.substr(0, detail.find('\n')).c_str());
  }
  for (const auto& result : report.value("quality", nlohmann::json::array())) {
    if (result.value("passed", true)) continue;
    std::printf("quality %s %s: %s\n",
                result.value("severity", "") == "error" ? "FAILED" : "warning",
                result.value("rule", "").c_str(), result.value("detail", "").c_str());
  }
}

int RunRemote(ProductCommands& c) {
  auto client = ServerClient::FromEnvironment(c.server);
  if (!client.ok()) return ReportError(client.error(), kExitUsage);
  const auto send = [&](const std::string& method, const std::string& path,
                        const std::string& body = "") -> int {
    auto reply = client->Send(method, path, body);
    if (!reply.ok()) return Fail(reply.error());
    Print(nlohmann::json::parse(reply->body, nullptr, false));
    return kExitOk;
  };
  if (c.validate->parsed() || c.plan->parsed() || c.deploy->parsed()) {
    auto spec = product::LoadSpec(c.folder);
    if (!spec.ok()) return ReportError(spec.error(), kExitFailed);
    auto files = FolderFiles(*spec);
    if (!files.ok()) return Fail(files.error());
    nlohmann::json variables = nlohmann::json::object();
    for (const std::string& variable : c.variables) {
      const size_t equals = variable.find('=');
      if (equals == std::string::npos || equals == 0) {
        return ReportError(Status::InvalidArgument("--var '{}' is not NAME=VALUE", variable),
                           kExitUsage);
      }
      variables[variable.substr(0, equals)] = variable.substr(equals + 1);
    }
    const nlohmann::json request = {{"files", *files},
                                    {"mode", c.deploy->parsed() ? "deploy"
                                             : c.plan->parsed() ? "plan"
                                                                : "validate"},
                                    {"variables", variables},
                                    {"create-domain", true}};
    auto reply = client->SendKeepingErrors("POST", "/api/v1/products/deploy", request.dump());
    if (!reply.ok()) return Fail(reply.error());
    const auto report = nlohmann::json::parse(reply->body, nullptr, false);
    if (!report.is_object()) {
      return Fail(Status::Internal("the server answered {} without a report", reply->status));
    }
    if (c.json) {
      Print(report);
    } else {
      PrintReportJson(report);
    }
    if (report.contains("error")) {
      const auto& error = report["error"];
      std::fprintf(stderr, "meshwork: %s%s%s\n", error.value("message", "").c_str(),
                   error.contains("hint") ? "; hint: " : "", error.value("hint", "").c_str());
      return reply->status == 401 || reply->status == 400 ? kExitUsage : kExitFailed;
    }
    if (reply->status >= 400)
      return Fail(Status::Internal("the server answered {}", reply->status));
    if (!c.json) {
      std::printf("%s %s v%s\n", report.value("published", false) ? "published" : "checked",
                  report.value("product", "").c_str(), report.value("version", "").c_str());
    }
    return kExitOk;
  }
  if (c.list->parsed()) {
    return send("GET", "/api/v1/products" +
                           (c.domain_filter.empty() ? "" : "?domain=" + Escape(c.domain_filter)));
  }
  if (c.domain_list->parsed()) return send("GET", "/api/v1/domains");
  if (c.domain_create->parsed()) {
    return send("POST", "/api/v1/domains",
                nlohmann::json({{"name", c.name},
                                {"owner", c.owner},
                                {"description", c.description},
                                {"storage-prefix", c.storage_prefix},
                                {"location", c.domain_location},
                                {"storage-profile", c.storage_profile}})
                    .dump());
  }
  if (c.search->parsed()) {
    c.query = fmt::format("{}", fmt::join(c.query_words, " "));
    std::string path = "/api/v1/search?q=" + Escape(c.query);
    for (const std::string& facet : c.facets) {
      const size_t equals = facet.find('=');
      if (equals == std::string::npos) {
        return ReportError(Status::InvalidArgument("facet '{}' is not key=value", facet),
                           kExitUsage);
      }
      path += "&" + Escape(facet.substr(0, equals)) + "=" + Escape(facet.substr(equals + 1));
    }
    return send("GET", path);
  }
  auto names = SplitProduct(c.name, '.');
  if (!names.ok()) return ReportError(names.error(), kExitUsage);
  const std::string product_path = Escape(names->first) + "/" + Escape(names->second);
  if (c.show->parsed()) {
    return send("GET", "/api/v1/products/" + product_path +
                           (c.major > 0 ? "?major=" + std::to_string(c.major) : ""));
  }
  if (c.history->parsed()) return send("GET", "/api/v1/products/" + product_path + "/versions");
  if (c.status->parsed()) return send("GET", "/api/v1/products/" + product_path + "/status");
  if (c.remove->parsed()) {
    auto reply = client->Send("DELETE", "/api/v1/products/" + product_path +
                                            "?major=" + std::to_string(c.major) +
                                            (c.force ? "&force=true" : ""));
    if (!reply.ok()) return Fail(reply.error());
    std::printf("%s v%d removed\n", c.name.c_str(), c.major);
    return kExitOk;
  }
  if (c.rollback->parsed()) {
    return send("POST", "/api/v1/products/" + product_path + "/rollback",
                nlohmann::json({{"version", c.sunset}}).dump());
  }
  if (c.lineage->parsed()) return send("GET", "/api/v1/lineage/" + product_path);
  if (c.deprecate->parsed()) {
    return send(
        "POST", "/api/v1/products/" + product_path + "/deprecate",
        nlohmann::json({{"major", c.major}, {"sunset", c.sunset}, {"message", c.message}}).dump());
  }
  return kExitUsage;
}

// ---------------------------------------------------------------------------------------------
// meshwork demo

std::string FindExamples(const std::string& given) {
  namespace fs = std::filesystem;
  if (!given.empty()) return given;
  if (const char* env = std::getenv("MESHWORK_EXAMPLES")) return env;
  std::error_code error;
  const fs::path exe = fs::read_symlink("/proc/self/exe", error);
  for (const fs::path& candidate :
       {fs::path("examples"), exe.parent_path().parent_path() / "examples",
        exe.parent_path().parent_path() / "share/meshwork/examples"}) {
    if (fs::exists(candidate / "mesh.yaml", error)) return candidate.string();
  }
  return "examples";
}

int RunSql(ProductCommands& c, const config::Config& config) {
  SqlOptions options{.sql = c.sql_text,
                     .format = c.sql_format,
                     .max_rows = c.sql_max_rows,
                     .timeout_ms = c.sql_timeout_ms};
  if (c.server.empty()) {
    if (const char* server = std::getenv("MESHWORK_SERVER"); server != nullptr && *server) {
      c.server = server;
    }
  }
  if (!c.server.empty()) return RunRemoteSql(c.server, options);
  auto mesh = OpenLocalMesh(config);
  if (!mesh.ok()) return Fail(mesh.error());
  return RunLocalSql(*mesh->catalog, *mesh->service, *mesh->governance, mesh->caller, options);
}

// The demo's policies encrypt personal data, which needs a master key. Without one configured
// the demo generates one into its data folder (and says so): convenient, not safe — the key
// lies next to the data; `meshwork serve` on this folder finds it there too.
Status EnsureDemoMasterKey(const config::Config& config, bool quiet) {
  for (const char* key : {"master_key", "master_key_file"}) {
    auto value = config.GetString(key);
    if (value.ok() && !value->empty()) return Status::OK();
  }
  const std::string data_dir = Setting(config, "", "data_dir");
  const std::string path = DemoMasterKeyFile(data_dir);
  std::error_code error;
  if (std::filesystem::exists(path, error)) return Status::OK();
  std::filesystem::create_directories(data_dir, error);
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return Status::Internal("OpenSSL could not generate the demo's master key");
  }
  std::string hex;
  for (const unsigned char byte : bytes)
    hex += fmt::format("{:02x}", byte);
  {
    std::ofstream out(path, std::ios::trunc);
    out << hex << "\n";
    if (!out) return Status::IOError("cannot write the demo master key {}", path);
  }
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, error);
  const std::string note = fmt::format(
      "no master key configured: generated the demo master key {} for the encrypted columns "
      "(a real mesh sets MESHWORK_MASTER_KEY or master_key_file, outside the data folder)",
      path);
  if (quiet) {
    std::fprintf(stderr, "meshwork: note: %s\n", note.c_str());
  } else {
    std::printf("%s\n", note.c_str());
  }
  return Status::OK();
}

int RunDemo(ProductCommands& c, const config::Config& config) {
  namespace fs = std::filesystem;
  const std::string examples = FindExamples(c.examples);
  auto description = product::LoadMeshDescription((fs::path(examples) / "mesh.yaml").string());
  if (!description.ok()) return Fail(description.error());
  std::string bootstrap = Setting(config, c.bootstrap, "bootstrap_credentials");
  if (Status key = EnsureDemoMasterKey(config, c.json); !key.ok()) return Fail(key);
  auto mesh = OpenLocalMesh(config, bootstrap);
  if (!mesh.ok()) return Fail(mesh.error());
  const auto started = std::chrono::steady_clock::now();
  nlohmann::json summary = {{"domains", nlohmann::json::array()},
                            {"principals", nlohmann::json::array()},
                            {"products", nlohmann::json::array()}};
  const auto say = [&](const std::string& text) {
    if (!c.json) std::printf("%s\n", text.c_str());
  };
  say(fmt::format("building the demo mesh from {} (scale {})", examples, c.scale));
  for (const auto& domain : description->domains) {
    auto created = mesh->service->CreateDomain(
        mesh->caller,
        {.name = domain.name, .description = domain.description, .owner = domain.owner});
    if (!created.ok() && created.error().code() != StatusCode::kAlreadyExists) {
      return Fail(created.error());
    }
    say(fmt::format("  domain {:<12} owner {}{}", domain.name, domain.owner,
                    created.ok() ? "" : " (exists)"));
    summary["domains"].push_back(domain.name);
  }
  for (const auto& role : description->roles) {
    Status created = mesh->catalog->CreateRole(mesh->caller, role.name, role.description);
    if (!created.ok() && created.code() != StatusCode::kAlreadyExists) return Fail(created);
    for (const std::string& grant : role.grants) {
      auto parsed = ParseMeshGrant(grant);
      if (!parsed.ok()) {
        return Fail(std::move(parsed).error().WithContext("role {} in the mesh file", role.name));
      }
      Status granted = mesh->catalog->Grant(mesh->caller, role.name, parsed->first, parsed->second);
      if (!granted.ok() && granted.code() != StatusCode::kAlreadyExists) return Fail(granted);
    }
    say(fmt::format("  role {:<17} {}", role.name, fmt::join(role.grants, ", ")));
  }
  for (const auto& principal : description->principals) {
    auto credentials = mesh->catalog->CreatePrincipal(mesh->caller, principal.name, "user");
    if (!credentials.ok() && credentials.error().code() == StatusCode::kAlreadyExists) {
      credentials = mesh->catalog->RotateCredentials(mesh->caller, principal.name);
    }
    if (!credentials.ok()) return Fail(credentials.error());
    for (const std::string& role : principal.roles) {
      Status assigned = mesh->catalog->AssignRole(mesh->caller, principal.name, role);
      if (!assigned.ok() && assigned.code() != StatusCode::kAlreadyExists) return Fail(assigned);
    }
    if (!principal.attributes.empty()) {
      Status set =
          mesh->governance->SetAttributes(mesh->caller, principal.name, principal.attributes);
      if (!set.ok()) return Fail(set);
    }
    say(fmt::format("  principal {:<12} {}:{}  ({})", principal.name, credentials->client_id,
                    credentials->client_secret, principal.description));
    summary["principals"].push_back({{"name", principal.name},
                                     {"client_id", credentials->client_id},
                                     {"client_secret", credentials->client_secret},
                                     {"roles", principal.roles}});
  }
  if (!description->policies.empty()) {
    auto policies = governance::LoadPolicies((fs::path(examples) / description->policies).string());
    if (!policies.ok()) return Fail(policies.error());
    auto applied = mesh->governance->Apply(mesh->caller, std::move(*policies));
    if (!applied.ok()) return Fail(applied.error());
    size_t rules = 0;
    for (const auto& policy : applied->policies)
      rules += policy.rules.size();
    say(fmt::format("  policies v{}: {} rules of the governance council ({})", applied->version,
                    rules, description->policies));
  }
  for (const std::string& folder : description->products) {
    auto spec = product::LoadSpec((fs::path(examples) / folder).string());
    if (!spec.ok()) return Fail(spec.error());
    product::DeployOptions options;
    options.variables["scale"] = std::to_string(c.scale);
    options.create_domain = true;
    const auto deploy_started = std::chrono::steady_clock::now();
    auto report = mesh->service->Deploy(mesh->caller, *spec, options);
    if (!report.ok()) return Fail(report.error());
    if (!report->failure.ok()) {
      if (!c.json) PrintReport(*report);
      return ReportError(std::move(report->failure).WithContext("cannot deploy {}", folder),
                         kExitFailed);
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - deploy_started).count();
    const auto& port = report->ports.at(0);
    say(fmt::format("  product {:<34} v{:<6} {:>10} rows  {:6.2f} s", report->product,
                    report->version, port.records, seconds));
    summary["products"].push_back({{"product", report->product},
                                   {"version", report->version},
                                   {"table", port.table},
                                   {"rows", port.records},
                                   {"seconds", seconds}});
  }
  if (!description->query_sql.empty()) {
    // Through the governance, as every query: it decrypts the encrypted columns.
    auto access = query::MakeGovernanceAccess(*mesh->governance, *mesh->service);
    auto result = [&]() -> Result<query::QueryResultTable> {
      MW_ASSIGN_OR_RETURN(
          auto service, query::QueryService::Open(*mesh->catalog, {.access_policy = access.get()}));
      MW_ASSIGN_OR_RETURN(auto session, service->OpenSession(mesh->caller));
      MW_ASSIGN_OR_RETURN(query::Cursor cursor, session->Execute(description->query_sql));
      return query::ReadAll(cursor, 10000);
    }();
    if (!result.ok()) return Fail(std::move(result).error().WithContext("the demo query failed"));
    if (c.json) {
      summary["query"] = {{"title", description->query_title},
                          {"columns", result->columns},
                          {"rows", result->rows}};
    } else {
      std::printf("\n%s\n", description->query_title.c_str());
      PrintTable(result->columns, result->rows);
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  summary["seconds"] = seconds;
  if (c.json) {
    Print(summary);
  } else {
    const std::string data_dir = Setting(config, "", "data_dir");
    std::printf("\ndemo mesh ready in %.1f s (data dir %s)\n", seconds, data_dir.c_str());
    std::printf("  portal:        http://%s/ (log in with a principal's client id and secret)\n",
                c.http.c_str());
    std::printf("  products:      meshwork --data-dir %s product list\n", data_dir.c_str());
    std::printf(
        "  Iceberg REST:  http://%s/catalog (warehouse 'mesh'; Spark, Trino, PyIceberg: "
        "docs/catalog.md)\n",
        c.http.c_str());
    std::printf("  mesh API:      http://%s/api/v1/products, /api/v1/search?q=customer\n",
                c.http.c_str());
    const size_t colon = c.pg.rfind(':');
    if (c.pg != "off" && colon != std::string::npos) {
      std::printf(
          "  psql:          PGPASSWORD=<secret> psql \"host=%s port=%s dbname=mesh "
          "user=<client id>\"\n",
          c.pg.substr(0, colon).c_str(), c.pg.substr(colon + 1).c_str());
    }
  }
  mesh->service.reset();
  mesh->catalog.reset();
  mesh->metastore.reset();
  if (c.no_serve) return kExitOk;
  // Serve in this process image: the same binary, the same data dir.
  std::fflush(stdout);
  const std::string data_dir = Setting(config, "", "data_dir");
  std::vector<std::string> arguments = {"meshwork", "--data-dir", data_dir, "serve",
                                        "--http",   c.http,       "--pg",   c.pg};
  if (!bootstrap.empty()) {
    arguments.push_back("--bootstrap-credentials");
    arguments.push_back(bootstrap);
  }
  std::vector<char*> argv;
  for (auto& argument : arguments)
    argv.push_back(argument.data());
  argv.push_back(nullptr);
  ::execv("/proc/self/exe", argv.data());
  return ReportError(Status::FromErrno(errno, "cannot start the server"));
}

}  // namespace

int RunProductCommand(ProductCommands& c, const config::Config& config) {
  if (c.demo->parsed()) return RunDemo(c, config);
  if (c.sql->parsed()) return RunSql(c, config);
  if (c.key->parsed()) {
    auto mesh = OpenLocalMesh(config);
    if (!mesh.ok()) return Fail(mesh.error());
    return RunKeyCommand(*mesh->governance, *mesh->catalog, mesh->caller, c.key_request);
  }
  if (c.policy->parsed()) {
    auto mesh = OpenLocalMesh(config);
    if (!mesh.ok()) return Fail(mesh.error());
    return RunPolicyCommand(*mesh->catalog, *mesh->governance, *mesh->service, mesh->caller,
                            c.policy_request);
  }
  if (c.init->parsed()) return RunInit(c);
  if (c.import_command->parsed()) return RunImport(c);
  if (c.export_command->parsed()) return RunExport(c, config);
  // CI sets MESHWORK_SERVER once for every step (the scaffold's workflow does).
  if (c.server.empty()) {
    if (const char* server = std::getenv("MESHWORK_SERVER"); server != nullptr && *server) {
      c.server = server;
    }
  }
  if (!c.server.empty()) return RunRemote(c);
  if (c.validate->parsed() || c.plan->parsed() || c.deploy->parsed()) return RunDeploy(c, config);
  auto mesh = OpenLocalMesh(config);
  if (!mesh.ok()) return Fail(mesh.error());
  if (c.domain->parsed()) return RunDomain(c, *mesh);
  if (c.list->parsed()) return RunList(c, *mesh);
  if (c.show->parsed()) return RunShow(c, *mesh);
  if (c.history->parsed()) return RunHistory(c, *mesh);
  if (c.deprecate->parsed()) return RunDeprecate(c, *mesh);
  if (c.lineage->parsed()) return RunLineage(c, *mesh);
  if (c.search->parsed()) return RunSearch(c, *mesh);
  if (c.status->parsed()) return RunStatus(c, *mesh);
  if (c.remove->parsed()) {
    auto names = SplitProduct(c.name, '.');
    if (!names.ok()) return ReportError(names.error(), kExitUsage);
    Status deleted =
        mesh->service->DeleteProduct(mesh->caller, names->first, names->second, c.major, c.force);
    if (!deleted.ok()) return Fail(deleted);
    std::printf("%s v%d removed\n", c.name.c_str(), c.major);
    return kExitOk;
  }
  if (c.rollback->parsed()) return RunRollback(c, *mesh);
  return kExitUsage;
}

}  // namespace meshwork::cli
