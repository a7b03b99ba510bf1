#include "product/service.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "common/logging.h"
#include "common/time.h"
#include "engine/database.h"
#include "governance/encryption.h"
#include "iceberg/ddl_parser.h"
#include "iceberg/maintenance.h"
#include "iceberg/partition_spec.h"
#include "iceberg/scan_reader.h"
#include "iceberg/schema.h"
#include "iceberg/schema_update.h"
#include "iceberg/sql_text.h"
#include "iceberg/table_writer.h"
#include "product/column_lineage.h"
#include "product/quality.h"
#include "product/records.h"

namespace meshwork::product {
using nlohmann::json;
using namespace internal;  // NOLINT
namespace {

using catalog::Caller;
using catalog::Privilege;
using catalog::Securable;
using iceberg::QuoteIdentifier;
using iceberg::QuoteString;
using nlohmann::json;

// Provisioning after the caller's right to do it was checked: the audit log still names the
// caller, but the platform creates the roles and principals a domain needs.
Caller Elevated(const Caller& caller) {
  Caller elevated = caller;
  elevated.is_root = true;
  return elevated;
}

}  // namespace

namespace internal {

std::string ProductKey(const std::string& domain, const std::string& name, int major) {
  return fmt::format("{}/{}/v{:04d}", domain, name, major);
}

std::string HistoryKey(const std::string& domain, const std::string& name, int64_t at_ms,
                       int major) {
  return fmt::format("{}/{}/{:015d}-{:04d}", domain, name, at_ms, major);
}

std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}
// ---------------------------------------------------------------------------------------------
// JSON forms of the records (stored in the metastore and served by the API).

json QualityToJson(const QualityResult& result) {
  return {{"rule", result.rule},
          {"kind", result.kind},
          {"port", result.port},
          {"columns", result.columns},
          {"severity", result.severity == Severity::kError ? "error" : "warn"},
          {"passed", result.passed},
          {"implicit", result.implicit},
          {"failing_rows", result.failing_rows},
          {"detail", result.detail},
          {"samples", result.samples},
          {"where", result.where.ToString()}};
}

QualityResult QualityFromJson(const json& value) {
  QualityResult result;
  result.rule = value.value("rule", "");
  result.kind = value.value("kind", "");
  result.port = value.value("port", "");
  if (value.contains("columns") && value["columns"].is_array()) {
    for (const auto& column : value["columns"])
      if (column.is_string()) result.columns.push_back(column.get<std::string>());
  }
  result.severity = value.value("severity", "error") == "warn" ? Severity::kWarn : Severity::kError;
  result.passed = value.value("passed", true);
  result.implicit = value.value("implicit", false);
  result.failing_rows = value.value("failing_rows", int64_t{0});
  result.detail = value.value("detail", "");
  if (value.contains("samples") && value["samples"].is_array()) {
    for (const auto& sample : value["samples"])
      if (sample.is_string()) result.samples.push_back(sample.get<std::string>());
  }
  return result;
}

json PortToJson(const PublishedPort& port) {
  return {{"port", port.port},
          {"table", port.table},
          {"snapshot_id", port.snapshot_id},
          {"records", port.records},
          {"added_records", port.added_records},
          {"added_files", port.added_files},
          {"added_bytes", port.added_bytes}};
}

PublishedPort PortFromJson(const json& value) {
  PublishedPort port;
  port.port = value.value("port", "");
  port.table = value.value("table", "");
  port.snapshot_id = value.value("snapshot_id", int64_t{0});
  port.records = value.value("records", int64_t{0});
  port.added_records = value.value("added_records", int64_t{0});
  port.added_files = value.value("added_files", int64_t{0});
  port.added_bytes = value.value("added_bytes", int64_t{0});
  return port;
}

json RecordToStoredJson(const ProductRecord& record) {
  json ports = json::array(), quality = json::array();
  for (const auto& port : record.ports)
    ports.push_back(PortToJson(port));
  for (const auto& result : record.quality)
    quality.push_back(QualityToJson(result));
  return {{"domain", record.domain},
          {"name", record.name},
          {"major", record.major},
          {"version", record.version},
          {"state", record.state},
          {"sunset", record.sunset},
          {"deprecation_message", record.deprecation_message},
          {"published_by", record.published_by},
          {"published_at_ms", record.published_at_ms},
          {"deploys", record.deploys},
          {"ports", ports},
          {"quality", quality},
          {"warnings", record.warnings},
          {"column_lineage", record.column_lineage},
          {"spec_yaml", record.spec_yaml},
          {"transform_sql", record.transform_sql}};
}

ProductRecord RecordFromStored(const metastore::DocumentRecord& document) {
  ProductRecord record;
  json value = json::parse(document.body, nullptr, false);
  if (!value.is_object()) value = json::object();
  record.domain = value.value("domain", "");
  record.name = value.value("name", "");
  record.major = value.value("major", 1);
  record.version = value.value("version", "");
  record.state = value.value("state", "active");
  record.sunset = value.value("sunset", "");
  record.deprecation_message = value.value("deprecation_message", "");
  record.published_by = value.value("published_by", "");
  record.published_at_ms = value.value("published_at_ms", int64_t{0});
  record.deploys = value.value("deploys", int64_t{0});
  if (value.contains("ports") && value["ports"].is_array()) {
    for (const auto& port : value["ports"])
      if (port.is_object()) record.ports.push_back(PortFromJson(port));
  }
  if (value.contains("quality") && value["quality"].is_array()) {
    for (const auto& result : value["quality"])
      if (result.is_object()) record.quality.push_back(QualityFromJson(result));
  }
  if (value.contains("warnings") && value["warnings"].is_array()) {
    for (const auto& warning : value["warnings"])
      if (warning.is_string()) record.warnings.push_back(warning.get<std::string>());
  }
  if (value.contains("column_lineage") && value["column_lineage"].is_object()) {
    for (const auto& [column, sources] : value["column_lineage"].items()) {
      if (!sources.is_array()) continue;
      for (const auto& source : sources)
        if (source.is_string()) record.column_lineage[column].push_back(source.get<std::string>());
    }
  }
  record.spec_yaml = value.value("spec_yaml", "");
  record.transform_sql = value.value("transform_sql", "");
  record.document_version = document.version;
  return record;
}

}  // namespace internal

namespace {

// DuckDB reports "LINE 3:" relative to the SQL text; a spec error points into the spec file.
Status AtSqlLocation(Status status, const SourceLocation& sql_start) {
  const std::string& message = status.message();
  SourceLocation where = sql_start;
  const size_t at = message.find("LINE ");
  if (at != std::string::npos) {
    int line = 0;
    for (size_t i = at + 5;
         i < message.size() && std::isdigit(static_cast<unsigned char>(message[i])); ++i)
      line = line * 10 + (message[i] - '0');
    if (line > 0) where.line = sql_start.line + line - 1, where.column = 0;
  }
  return std::move(status).WithLocation(where);
}

}  // namespace

Result<DataProductSpec> ProductRecord::Spec() const {
  // Search, listings and the portal read every product's spec per request: parsing the YAML of
  // 200 products took most of a search. Published specs never change, so parsed ones are kept
  // (by product and version, checked against the text) for the life of the process.
  struct Parsed {
    std::string yaml;
    std::string sql;
    DataProductSpec spec;
  };
  static std::mutex mutex;
  static std::unordered_map<std::string, std::shared_ptr<const Parsed>> cache;
  const std::string key = QualifiedName() + "@" + version;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto found = cache.find(key);
    if (found != cache.end() && found->second->yaml == spec_yaml &&
        found->second->sql == transform_sql) {
      return found->second->spec;
    }
  }
  MW_ASSIGN_OR_RETURN(
      DataProductSpec spec,
      ParseSpec(spec_yaml, fmt::format("{} v{} (published)", QualifiedName(), version)));
  spec.transform.sql = transform_sql;
  auto parsed = std::make_shared<const Parsed>(Parsed{spec_yaml, transform_sql, spec});
  std::lock_guard<std::mutex> lock(mutex);
  if (cache.size() >= 4096) cache.clear();
  cache[key] = std::move(parsed);
  return spec;
}

ProductService::ProductService(catalog::Catalog& catalog, GovernanceGate* gate)
    : catalog_(catalog), gate_(gate) {}

ProductService::~ProductService() = default;

// ---------------------------------------------------------------------------------------------
// Domains

Result<DomainInfo> ProductService::CreateDomain(const Caller& caller,
                                                const DomainRequest& request) {
  MW_RETURN_IF_ERROR(ValidateProductName("domain", request.name));
  MW_RETURN_IF_ERROR(catalog_.Authorize(caller, Privilege::kCreateDomain, Securable::Mesh()));
  const Caller platform = Elevated(caller);
  DomainInfo info;
  info.name = request.name;
  info.description = request.description;
  info.owner = request.owner.empty() ? request.name + "_owner_user" : request.owner;
  info.owner_role = request.name + "_owner";
  info.consumer_role = request.name + "_consumer";
  info.ci_principal = request.name + "_ci";
  if (!request.location.empty() && !request.storage_prefix.empty()) {
    return Status::InvalidArgument(
               "domain {}: give either a storage prefix inside the warehouse or a location of its "
               "own, not both",
               request.name)
        .WithHint("--storage-prefix FOLDER, or --location s3://bucket/prefix --storage-profile P");
  }
  if (!request.storage_profile.empty() && request.location.empty()) {
    return Status::InvalidArgument("domain {}: storage profile '{}' needs a location", request.name,
                                   request.storage_profile)
        .WithHint("add --location s3://bucket/prefix (the bucket the profile reaches)");
  }
  if (!request.location.empty()) {
    // Inside the warehouse it is a prefix; elsewhere the catalog mounts it with the profile.
    info.location = request.location;
  } else {
    const std::string prefix =
        request.storage_prefix.empty() ? request.name : request.storage_prefix;
    if (prefix.find("..") != std::string::npos || prefix.starts_with("/") ||
        prefix.find("://") != std::string::npos) {
      return Status::InvalidArgument("storage prefix '{}' must be a folder inside the warehouse",
                                     prefix)
          .WithHint(
              "for a bucket of its own use --location s3://bucket/prefix --storage-profile P");
    }
    info.location = catalog_.warehouse().FileUri(prefix);
  }
  info.storage_profile = request.storage_profile;
  metastore::Properties properties = {{"owner", info.owner},
                                      {"description", request.description},
                                      {"location", info.location},
                                      {"meshwork.domain", "true"},
                                      {"meshwork.owner-role", info.owner_role},
                                      {"meshwork.consumer-role", info.consumer_role},
                                      {"meshwork.ci-principal", info.ci_principal}};
  if (!info.storage_profile.empty()) {
    properties.emplace(std::string(catalog::Catalog::kStorageProfileProperty),
                       info.storage_profile);
  }
  MW_ASSIGN_OR_RETURN(auto created, catalog_.CreateNamespace(platform, {request.name}, properties));
  info.created_at_ms = created.created_at_ms;
  info.location = created.properties["location"];

  const Securable domain = Securable::Namespace({request.name});
  const auto ignore_exists = [](Status status) {
    return status.code() == StatusCode::kAlreadyExists ? Status::OK() : status;
  };
  MW_RETURN_IF_ERROR(ignore_exists(
      catalog_.CreateRole(platform, info.owner_role,
                          fmt::format("owns domain {}: publishes its products", info.name))));
  MW_RETURN_IF_ERROR(ignore_exists(
      catalog_.CreateRole(platform, info.consumer_role,
                          fmt::format("reads the data products of domain {}", info.name))));
  for (Privilege privilege : {Privilege::kCreateTable, Privilege::kWriteData, Privilege::kAlter,
                              Privilege::kDrop, Privilege::kManageGrants}) {
    MW_RETURN_IF_ERROR(ignore_exists(catalog_.Grant(platform, info.owner_role, privilege, domain)));
  }
  MW_RETURN_IF_ERROR(
      ignore_exists(catalog_.Grant(platform, info.consumer_role, Privilege::kReadData, domain)));

  auto ci = catalog_.CreatePrincipal(platform, info.ci_principal, "service");
  if (ci.ok()) {
    info.ci_credentials = *ci;
  } else if (ci.error().code() != StatusCode::kAlreadyExists) {
    return ci.error();
  }
  MW_RETURN_IF_ERROR(
      ignore_exists(catalog_.AssignRole(platform, info.ci_principal, info.owner_role)));
  auto owner = catalog_.CreatePrincipal(platform, info.owner, "user");
  if (owner.ok()) {
    info.owner_credentials = *owner;
  } else if (owner.error().code() != StatusCode::kAlreadyExists) {
    return owner.error();
  }
  MW_RETURN_IF_ERROR(ignore_exists(catalog_.AssignRole(platform, info.owner, info.owner_role)));
  return info;
}

namespace {
DomainInfo DomainFromNamespace(const metastore::NamespaceRecord& record) {
  DomainInfo info;
  info.name = record.levels.empty() ? "" : record.levels[0];
  const auto get = [&](const char* key) {
    auto it = record.properties.find(key);
    return it == record.properties.end() ? std::string() : it->second;
  };
  info.description = get("description");
  info.owner = get("owner");
  info.owner_role = get("meshwork.owner-role");
  info.consumer_role = get("meshwork.consumer-role");
  info.ci_principal = get("meshwork.ci-principal");
  info.location = get("location");
  info.storage_profile = get(catalog::Catalog::kStorageProfileProperty.data());
  info.created_at_ms = record.created_at_ms;
  return info;
}
}  // namespace

Result<std::vector<DomainInfo>> ProductService::ListDomains(const Caller& caller) {
  MW_ASSIGN_OR_RETURN(auto page, catalog_.ListNamespaces(caller, {}, {}));
  std::vector<DomainInfo> domains;
  for (const auto& record : page.items) {
    if (record.properties.contains("meshwork.domain")) {
      domains.push_back(DomainFromNamespace(record));
    }
  }
  return domains;
}

Result<DomainInfo> ProductService::LoadDomain(const Caller& caller, const std::string& name) {
  MW_RETURN_IF_ERROR(ValidateProductName("domain", name));
  auto record = catalog_.LoadNamespace(caller, {name});
  if (!record.ok()) {
    if (record.error().code() == StatusCode::kNotFound) {
      return Status::NotFound("domain '{}' does not exist", name)
          .WithHint(
              fmt::format("create it with `meshwork domain create {} --owner PRINCIPAL`", name));
    }
    return record.error();
  }
  return DomainFromNamespace(*record);
}

// ---------------------------------------------------------------------------------------------
// Deploy

class ProductService::Run {
 public:
  Run(ProductService& service, const Caller& caller, const DataProductSpec& spec,
      const DeployOptions& options, DeployReport& report)
      : service_(service),
        catalog_(service.catalog_),
        caller_(caller),
        spec_(spec),
        options_(options),
        report_(report) {}

  Status Execute();

 private:
  // Runs one step, timing it and recording its outcome.
  template <typename F>
  Status Step(const std::string& name, F&& body) {
    StepReport step{name, "running", "", 0};
    if (options_.progress) options_.progress(step);
    const auto started = std::chrono::steady_clock::now();
    std::string detail;
    Status status = body(detail);
    step.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    step.outcome = status.ok() ? (detail.starts_with("warn:") ? "warn" : "ok") : "failed";
    step.detail = status.ok() ? detail : status.message();
    report_.steps.push_back(step);
    if (options_.progress) options_.progress(step);
    return status;
  }

  Status Checks(std::string& detail);
  void TraceColumns();
  Status GovernanceOnSpec(std::string& detail);
  Status RecordGovernance(const std::vector<GovernanceFinding>& findings, std::string& detail);
  Status ResolveInputs(std::string& detail);
  Status OpenEngine();
  Status RunTransform(std::string& detail);
  Status CheckContract(std::string& detail);
  Status Quality(std::string& detail);
  Status GovernanceOnData(std::string& detail);
  Status Diff(std::string& detail);
  Status Publish(std::string& detail);
  Status Record(std::string& detail);

  // The SQL that reads a table's current snapshot (all of its live rows).
  Result<std::string> TableSql(const iceberg::LoadedTable& table);
  // A published port of another product, checked for READ_DATA: its SQL and its folder.
  Result<std::string> ReadPort(const std::string& domain, const std::string& port, int major,
                               const SourceLocation& where);

  ProductService& service_;
  catalog::Catalog& catalog_;
  const Caller& caller_;
  const DataProductSpec& spec_;
  const DeployOptions& options_;
  DeployReport& report_;

  std::optional<ProductRecord> published_;  // this major line, if published
  std::optional<DataProductSpec> published_spec_;
  std::vector<std::string> readable_dirs_;        // what the engine may read
  std::map<std::string, std::string> input_sql_;  // input name -> SQL
  std::optional<engine::Database> database_;
  std::optional<engine::Connection> connection_;
  std::map<std::string, std::string> staged_;  // port -> relation
  bool create_domain_ = false;
  // Streaming: the transform runs once, straight into the staged data files of the publish, and
  // the quality checks read those files before the commit (no copy of the data in the engine).
  // Plans, validations and merges stage the transform in the engine instead.
  bool streaming_ = false;
  std::string transform_sql_;
  std::vector<std::string> produced_columns_;
  // The port being deployed, and the SQL that computes it (the transform for the first port).
  const Port* port_ = nullptr;
  const std::vector<iceberg::DataFile>* staged_files_ = nullptr;  // while checking them
  std::optional<iceberg::Schema> staged_schema_;
  std::string port_sql_;
  SourceLocation port_sql_where_;
  // Publish: the port's encrypted columns and the SQL that writes them.
  Result<std::string> EncryptedWrite(const std::vector<EncryptedColumn>& encryption,
                                     const std::string& sql);
  Status MarkEncryption(const iceberg::TableIdentifier& table,
                        const std::map<std::string, std::string>& set,
                        const std::vector<std::string>& removed);

 public:
  // Undone when the deploy fails: tables it created are dropped, ports it committed go back
  // to the snapshot they had.
  std::vector<iceberg::TableIdentifier> created_tables;
  struct Committed {
    iceberg::TableIdentifier table;
    int64_t snapshot = 0;                      // what this deploy committed
    std::optional<int64_t> previous_snapshot;  // its parent: what the table goes back to
  };
  std::vector<Committed> committed;
  // Tables whose meshwork.encrypted.* properties this deploy changed, with what they were.
  std::vector<std::pair<iceberg::TableIdentifier, std::map<std::string, std::string>>>
      encryption_marks_before;
};

Status ProductService::Run::Execute() {
  report_.product = spec_.QualifiedName();
  report_.version = spec_.version.ToString();
  report_.major = spec_.version.major;
  report_.dry_run = options_.dry_run;
  MW_RETURN_IF_ERROR(Step("checks", [&](std::string& d) { return Checks(d); }));
  MW_RETURN_IF_ERROR(
      Step("governance (spec)", [&](std::string& d) { return GovernanceOnSpec(d); }));
  MW_RETURN_IF_ERROR(Step("contract diff", [&](std::string& d) { return Diff(d); }));
  MW_RETURN_IF_ERROR(Step("inputs", [&](std::string& d) { return ResolveInputs(d); }));
  MW_RETURN_IF_ERROR(OpenEngine());
  streaming_ =
      !options_.dry_run && !options_.skip_data && spec_.transform.mode != TransformMode::kMerge;
  // Port by port: the first is computed by the transform, the others by their own SQL over the
  // same inputs. A later port that fails undoes the earlier ones (Deploy).
  for (const Port& port : spec_.ports) {
    const bool first = &port == &spec_.ports.front();
    port_ = &port;
    port_sql_ = first ? spec_.transform.sql : port.sql;
    port_sql_where_ = first ? spec_.transform.sql_where : port.sql_where;
    const std::string suffix = spec_.ports.size() > 1 ? " " + port.name : "";
    MW_RETURN_IF_ERROR(Step("transform" + suffix, [&](std::string& d) { return RunTransform(d); }));
    MW_RETURN_IF_ERROR(Step("contract" + suffix, [&](std::string& d) { return CheckContract(d); }));
    if (first) TraceColumns();
    if (options_.skip_data) continue;
    if (!streaming_) {
      MW_RETURN_IF_ERROR(Step("quality" + suffix, [&](std::string& d) { return Quality(d); }));
      MW_RETURN_IF_ERROR(
          Step("governance (data)" + suffix, [&](std::string& d) { return GovernanceOnData(d); }));
      if (options_.dry_run) continue;
    }
    MW_RETURN_IF_ERROR(Step("publish" + suffix, [&](std::string& d) { return Publish(d); }));
  }
  if (options_.skip_data || options_.dry_run) return Status::OK();
  return Step("catalog", [&](std::string& d) { return Record(d); });
}

Status ProductService::Run::Checks(std::string& detail) {
  auto loaded = service_.LoadDomain(caller_, spec_.domain);
  if (!loaded.ok() && loaded.error().code() == StatusCode::kNotFound && options_.create_domain) {
    // Created at the publish, so that a deploy that fails leaves nothing behind.
    MW_RETURN_IF_ERROR(
        catalog_.Authorize(caller_, Privilege::kCreateDomain, Securable::Mesh())
            .WithHint(fmt::format("ask the platform team for `meshwork domain create {}`",
                                  spec_.domain)));
    create_domain_ = true;
    detail =
        fmt::format("domain {} will be created, owned by {}; ", spec_.domain, caller_.principal);
  } else {
    if (!loaded.ok()) return loaded.error();
    const Securable securable = Securable::Namespace({spec_.domain});
    MW_RETURN_IF_ERROR(catalog_.Authorize(caller_, Privilege::kCreateTable, securable));
    MW_RETURN_IF_ERROR(catalog_.Authorize(caller_, Privilege::kWriteData, securable));
    detail = fmt::format("domain {} (owner {}), ", loaded->name, loaded->owner);
  }
  // Encryption is the platform's: product SQL that could decrypt values (or forge ciphertext)
  // would open every domain's encrypted columns to whoever deploys.
  const auto refuse_key_functions = [](const std::string& sql,
                                       const SourceLocation& where) -> Status {
    std::string lower = sql;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    for (const char* name : {"mesh_decrypt", "mesh_encrypt"}) {
      if (lower.find(name) == std::string::npos) continue;
      return Status::InvalidArgument("the product's SQL calls {}, which only meshwork may call",
                                     name)
          .WithLocation(where)
          .WithHint(
              "meshwork encrypts the columns the council's encrypt rules name when it writes "
              "the ports, and inputs arrive decrypted: use the columns as they are");
    }
    return Status::OK();
  };
  MW_RETURN_IF_ERROR(refuse_key_functions(spec_.transform.sql, spec_.transform.sql_where));
  for (const Port& port : spec_.ports)
    MW_RETURN_IF_ERROR(refuse_key_functions(port.sql, port.sql_where));
  for (const QualityRule& rule : spec_.quality)
    MW_RETURN_IF_ERROR(refuse_key_functions(rule.sql, rule.where));
  for (const Input& input : spec_.inputs) {
    if (spec_.FindPort(input.name) != nullptr) {
      return Status::InvalidArgument("input '{}' has the name of a port; rename one of them",
                                     input.name)
          .WithLocation(input.where);
    }
  }
  auto document = catalog_.metastore().LoadDocument(
      kProducts, ProductKey(spec_.domain, spec_.name, spec_.version.major));
  if (!document.ok()) return document.error();
  if (document->has_value()) {
    published_ = RecordFromStored(**document);
    auto parsed = published_->Spec();
    if (parsed.ok()) published_spec_ = std::move(*parsed);
  }
  detail += published_ ? "v" + published_->version + " published" : "not published yet";
  return Status::OK();
}

Status ProductService::Run::RecordGovernance(const std::vector<GovernanceFinding>& findings,
                                             std::string& detail) {
  report_.governance.insert(report_.governance.end(), findings.begin(), findings.end());
  const auto first = std::find_if(findings.begin(), findings.end(),
                                  [](const GovernanceFinding& f) { return f.blocking; });
  if (first != findings.end()) {
    const auto blocking = std::count_if(findings.begin(), findings.end(),
                                        [](const GovernanceFinding& f) { return f.blocking; });
    return Status::FailedPrecondition(
               "{} governance finding{} block the deploy; first: {} at {}: {}", blocking,
               blocking == 1 ? "" : "s", first->rule, first->where, first->message)
        .WithHint(first->fix);
  }
  detail = findings.empty() ? "passed" : fmt::format("warn: {} warnings", findings.size());
  return Status::OK();
}

Status ProductService::Run::GovernanceOnSpec(std::string& detail) {
  if (service_.gate_ == nullptr) {
    detail = "no policies apply";
    return Status::OK();
  }
  MW_ASSIGN_OR_RETURN(auto findings, service_.gate_->CheckSpec(spec_));
  return RecordGovernance(findings, detail);
}

Result<std::string> ProductService::Run::TableSql(const iceberg::LoadedTable& table) {
  iceberg::Warehouse& warehouse = catalog_.warehouse();
  const iceberg::Expression everything;
  MW_ASSIGN_OR_RETURN(auto plan, iceberg::PlanScan(warehouse, table, std::nullopt, everything));
  // Local: the table's folder; object storage: the read-through cache its files come through.
  readable_dirs_.push_back(warehouse.remote()
                               ? warehouse.ReadableDirectories().front()
                               : warehouse.LocalWriteDirectory(warehouse.TableFolder(table)));
  MW_ASSIGN_OR_RETURN(std::string scan, iceberg::ScanSql(warehouse.io(), table.metadata,
                                                         table.metadata.CurrentSchema(), plan));
  // Encrypted columns arrive decrypted: transforms and checks work on the values.
  return governance::DecryptingSelect(scan, governance::EncryptedColumns(table.metadata.properties),
                                      table.identifier.ToString());
}

Result<std::string> ProductService::Run::EncryptedWrite(
    const std::vector<EncryptedColumn>& encryption, const std::string& sql) {
  if (encryption.empty()) return sql;
  std::string replaced;
  for (const auto& column : encryption) {
    replaced += fmt::format("{}{} AS {}", replaced.empty() ? "" : ", ", column.expression,
                            QuoteIdentifier(column.column));
  }
  return fmt::format("SELECT * REPLACE ({}) FROM ({}\n) AS clear_rows", replaced, sql);
}

Status ProductService::Run::MarkEncryption(const iceberg::TableIdentifier& table,
                                           const std::map<std::string, std::string>& set,
                                           const std::vector<std::string>& removed) {
  json updates = json::array();
  if (!set.empty()) updates.push_back({{"action", "set-properties"}, {"updates", set}});
  if (!removed.empty()) {
    updates.push_back({{"action", "remove-properties"}, {"removals", removed}});
  }
  if (updates.empty()) return Status::OK();
  const json requirements = json::array();
  return catalog_.CommitTable(caller_, {table, &requirements, &updates}).status();
}

Result<std::string> ProductService::Run::ReadPort(const std::string& domain,
                                                  const std::string& port, int major,
                                                  const SourceLocation& where) {
  const std::string table_name = PortTableName(port, major);
  const iceberg::TableIdentifier identifier{{domain}, table_name};
  auto table = catalog_.LoadTable(caller_, identifier);
  if (!table.ok()) {
    Status error = table.error();
    if (error.code() == StatusCode::kNotFound) {
      error = Status::NotFound("input port {}.{} (major {}) is not published", domain, port, major)
                  .WithHint("check the name with `meshwork product list`, or deploy it first");
    } else if (error.code() == StatusCode::kPermissionDenied) {
      error = std::move(error).WithHint(
          fmt::format("ask the owners of domain {} for the {}_consumer role", domain, domain));
    }
    return std::move(error).WithLocation(where);
  }
  Status allowed =
      catalog_.Authorize(caller_, Privilege::kReadData, Securable::Table({domain}, table_name));
  if (!allowed.ok()) {
    return std::move(allowed).WithLocation(where).WithHint(
        fmt::format("ask the owners of domain {} for the {}_consumer role", domain, domain));
  }
  return TableSql(*table);
}

Status ProductService::Run::ResolveInputs(std::string& detail) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::path folder =
      fs::weakly_canonical(fs::absolute(spec_.folder.empty() ? "." : spec_.folder), error);
  size_t files = 0, ports = 0;
  for (const Input& input : spec_.inputs) {
    if (input.is_port()) {
      MW_ASSIGN_OR_RETURN(input_sql_[input.name], ReadPort(input.product_domain, input.product_port,
                                                           input.major, input.where));
      ++ports;
      continue;
    }
    if (spec_.folder.empty()) {
      return Status::InvalidArgument("input '{}' reads a file but the spec has no folder",
                                     input.name)
          .WithLocation(input.where);
    }
    const fs::path path = fs::weakly_canonical(folder / input.file, error);
    if (!path.string().starts_with(folder.string() + "/")) {
      return Status::InvalidArgument("input file '{}' leaves the product folder", input.file)
          .WithLocation(input.where);
    }
    if (!fs::is_regular_file(path, error)) {
      return Status::NotFound("input file '{}' does not exist in {}", input.file, folder.string())
          .WithLocation(input.where);
    }
    std::string options;
    for (const auto& [key, value] : input.options) {
      const bool literal =
          value == "true" || value == "false" || std::all_of(value.begin(), value.end(), ::isdigit);
      options +=
          fmt::format(", {} = {}", key, literal && !value.empty() ? value : QuoteString(value));
    }
    const std::string reader = input.format == "csv"    ? "read_csv"
                               : input.format == "json" ? "read_json_auto"
                                                        : "read_parquet";
    input_sql_[input.name] =
        fmt::format("SELECT * FROM {}({}{})", reader, QuoteString(path.string()), options);
    ++files;
  }
  readable_dirs_.push_back(folder.string());
  for (const QualityRule& rule : spec_.quality) {
    if (rule.rule != "references") continue;
    const size_t first = rule.reference.find('.');
    const size_t last = rule.reference.rfind('.');
    const std::string domain = rule.reference.substr(0, first);
    const std::string port = rule.reference.substr(first + 1, last - first - 1);
    auto sql = ReadPort(domain, port, 1, rule.where);
    if (!sql.ok()) return sql.error();
    input_sql_["__ref_" + rule.name] = *sql;
  }
  detail = fmt::format("{} file{}, {} port{} of other products", files, files == 1 ? "" : "s",
                       ports, ports == 1 ? "" : "s");
  return Status::OK();
}

Status ProductService::Run::OpenEngine() {
  // The output table's folder too: the publish writes its data files there.
  // (Remote warehouses: their local staging folder, and the cache the checks read through.)
  MW_ASSIGN_OR_RETURN(std::string domain_folder, catalog_.DomainFolder({spec_.domain}));
  readable_dirs_.push_back(catalog_.warehouse().LocalWriteDirectory(domain_folder));
  if (catalog_.warehouse().remote()) {
    readable_dirs_.push_back(catalog_.warehouse().ReadableDirectories().front());
  }
  MW_ASSIGN_OR_RETURN(auto database, engine::Database::Open({.allowed_directories = readable_dirs_,
                                                             .lock_down = true,
                                                             .settings = {{"TimeZone", "UTC"}}}));
  database_ = std::move(database);
  MW_ASSIGN_OR_RETURN(auto connection, database_->Connect());
  connection_ = std::move(connection);
  MW_RETURN_IF_ERROR(iceberg::RegisterIcebergFunctions(*connection_));
  if (service_.gate_ != nullptr) MW_RETURN_IF_ERROR(service_.gate_->PrepareEngine(*connection_));
  for (const auto& [name, value] : options_.variables) {
    MW_RETURN_IF_ERROR(ValidateProductName("variable", name));
    const bool number =
        !value.empty() && value.find_first_not_of("0123456789.") == std::string::npos;
    MW_RETURN_IF_ERROR(connection_->Execute(fmt::format(
        "SET VARIABLE {} = {}", QuoteIdentifier(name), number ? value : QuoteString(value))));
  }
  for (const auto& [name, sql] : input_sql_) {
    Status created =
        connection_->Execute(fmt::format("CREATE TEMP VIEW {} AS {}", QuoteIdentifier(name), sql));
    if (!created.ok()) {
      return std::move(created).WithContext("cannot read input '{}'", name);
    }
  }
  return Status::OK();
}

Status ProductService::Run::RunTransform(std::string& detail) {
  const Port& port = *port_;
  std::string sql = port_sql_;
  while (!sql.empty() &&
         (std::isspace(static_cast<unsigned char>(sql.back())) || sql.back() == ';'))
    sql.pop_back();
  transform_sql_ = sql;
  const std::string relation = QuoteIdentifier(port.name);
  // Validations and streaming deploys bind the SQL here without running it.
  const bool bind_only = options_.skip_data || streaming_;
  Status ran;
  if (bind_only) {
    auto bound = connection_->Query(fmt::format("SELECT * FROM ({}\n) LIMIT 0", sql));
    if (bound.ok()) produced_columns_ = bound->column_names();
    ran = bound.status();
  } else {
    ran = connection_->Execute(fmt::format("CREATE TEMP TABLE {} AS {}\n", relation, sql));
  }
  if (!ran.ok()) {
    // DuckDB's own message, without the engine's "in SQL: CREATE TEMP TABLE ..." frame: the
    // user wrote only the SELECT, and the location says where it is.
    Status bare(ran.code(), ran.message());
    if (!ran.hint().empty()) bare = std::move(bare).WithHint(ran.hint());
    return AtSqlLocation(std::move(bare), port_sql_where_)
        .WithContext(port_ == &spec_.ports.front()
                         ? fmt::format("the transform of {} failed", spec_.QualifiedName())
                         : fmt::format("the SQL of port {} failed", port.name));
  }
  if (bind_only) {
    detail = streaming_ ? "bound; it runs into the staged data files of the publish"
                        : "bound (validate runs no data)";
    return Status::OK();
  }
  staged_[port.name] = relation;
  MW_ASSIGN_OR_RETURN(auto described,
                      connection_->Query(fmt::format("SELECT * FROM {} LIMIT 0", relation)));
  produced_columns_ = described.column_names();
  MW_ASSIGN_OR_RETURN(auto counted,
                      connection_->QueryText(fmt::format("SELECT count(*) FROM {}", relation)));
  detail = fmt::format("{} rows staged for port {}", counted.at(0).at(0), port.name);
  return Status::OK();
}

// Column-level lineage from the transform's syntax tree; best effort (never fails a deploy).
void ProductService::Run::TraceColumns() {
  std::map<std::string, std::vector<std::string>> input_columns;
  std::map<std::string, std::string> qualified;  // input name -> what lineage calls it
  for (const Input& input : spec_.inputs) {
    auto described =
        connection_->Query(fmt::format("SELECT * FROM {} LIMIT 0", QuoteIdentifier(input.name)));
    if (!described.ok()) continue;
    std::string lower = input.name;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    input_columns[lower] = described->column_names();
    qualified[lower] =
        input.is_port() ? input.product_domain + "." + input.product_port : "file:" + input.file;
  }
  auto lineage = DeriveColumnLineage(*connection_, transform_sql_, input_columns);
  if (!lineage.ok()) {
    logging::Debug("no column lineage for {}: {}", spec_.QualifiedName(),
                   lineage.error().ToString());
    return;
  }
  for (const auto& [column, sources] : *lineage) {
    auto& target = report_.column_lineage[column];
    for (const std::string& source : sources) {
      const size_t dot = source.find('.');
      auto name = qualified.find(source.substr(0, dot));
      target.push_back((name != qualified.end() ? name->second : source.substr(0, dot)) +
                       source.substr(dot));
    }
  }
}

Status ProductService::Run::CheckContract(std::string& detail) {
  const Port& port = *port_;
  std::set<std::string> produced;
  for (const std::string& name : produced_columns_) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    produced.insert(lower);
    bool declared = false;
    for (const Column& column : port.columns) {
      std::string declared_lower = column.name;
      std::transform(declared_lower.begin(), declared_lower.end(), declared_lower.begin(),
                     ::tolower);
      declared |= declared_lower == lower;
    }
    if (!declared) {
      return Status::InvalidArgument(
                 "the transform produces column '{}', which port '{}' does not declare", name,
                 port.name)
          .WithLocation(port.where)
          .WithHint("declare it in the port's columns, or leave it out of the SELECT");
    }
  }
  for (const Column& column : port.columns) {
    std::string lower = column.name;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (!produced.contains(lower)) {
      return Status::InvalidArgument(
                 "port '{}' declares column '{}' but the transform does not "
                 "produce it",
                 port.name, column.name)
          .WithLocation(column.where);
    }
  }
  // Types: every value must cast to the declared type; a failing cast names the column. Bound
  // and streamed transforms are cast by the write itself (a value that does not fit fails it).
  for (const Column& column : port.columns) {
    if (streaming_ || !staged_.contains(port.name)) break;
    const auto* field =
        port.schema->FindField(port.schema->fields()[&column - &port.columns[0]].id);
    MW_ASSIGN_OR_RETURN(std::string type, iceberg::DuckDBType(*field->type));
    auto cast = connection_->QueryText(
        fmt::format("SELECT count(*) FROM {} WHERE {} IS NOT NULL AND TRY_CAST({} AS {}) IS NULL",
                    QuoteIdentifier(port.name), QuoteIdentifier(column.name),
                    QuoteIdentifier(column.name), type));
    if (!cast.ok()) {
      return Status::InvalidArgument("column '{}' of the transform cannot become {}: {}",
                                     column.name, column.type, cast.error().message())
          .WithLocation(column.where);
    }
    if (cast->at(0).at(0) != "0") {
      return Status::InvalidArgument("{} values of column '{}' are not valid {}", cast->at(0).at(0),
                                     column.name, column.type)
          .WithLocation(column.where);
    }
  }
  detail = fmt::format("{} columns match the contract", port.columns.size());
  return Status::OK();
}

Status ProductService::Run::Quality(std::string& detail) {
  const Port& port = *port_;
  const ReferenceResolver references = [&](const QualityRule& rule) -> Result<std::string> {
    return "SELECT * FROM " + QuoteIdentifier("__ref_" + rule.name);
  };
  MW_ASSIGN_OR_RETURN(
      std::vector<QualityResult> results,
      RunQualityChecks(*connection_, spec_, port, staged_.at(port.name), references,
                       time::NowMicros(),
                       {staged_schema_ ? &*staged_schema_ : nullptr, staged_files_}));
  staged_files_ = nullptr;
  report_.quality.insert(report_.quality.end(), results.begin(), results.end());
  const QualityResult* first_error = nullptr;
  size_t errors = 0, warnings = 0;
  for (const QualityResult& result : results) {
    if (result.passed) continue;
    if (result.severity == Severity::kError) {
      ++errors;
      if (first_error == nullptr) first_error = &result;
    } else {
      ++warnings;
    }
  }
  if (first_error != nullptr) {
    std::string samples;
    for (const std::string& sample : first_error->samples)
      samples += "\n    " + sample;
    return Status::FailedPrecondition(
               "quality rule '{}' failed on {}: {}; failing rows:{}", first_error->rule,
               first_error->columns.empty()
                   ? "port " + first_error->port
                   : "column " + fmt::format("{}", fmt::join(first_error->columns, ", ")),
               first_error->detail, samples.empty() ? " (none to show)" : samples)
        .WithLocation(first_error->where)
        .WithHint(errors > 1
                      ? fmt::format("{} rules with severity error failed; see the report", errors)
                      : "fix the data or the transform, or set severity: warn");
  }
  detail =
      fmt::format("{}{} rules passed", warnings ? fmt::format("warn: {} warnings, ", warnings) : "",
                  results.size() - warnings);
  return Status::OK();
}

Status ProductService::Run::GovernanceOnData(std::string& detail) {
  if (service_.gate_ == nullptr) {
    detail = "no policies apply";
    return Status::OK();
  }
  MW_ASSIGN_OR_RETURN(auto findings, service_.gate_->CheckStagedData(spec_, *connection_, staged_));
  return RecordGovernance(findings, detail);
}

Status ProductService::Run::Diff(std::string& detail) {
  // A newer major line may exist; publishing into an older one is allowed (a fix for the
  // consumers still on it) as long as its own contract holds.
  report_.diff = DiffContracts(published_spec_ ? &*published_spec_ : nullptr, spec_);
  detail = report_.diff.verdict;
  if (!report_.diff.compatible) {
    std::string lines;
    for (const std::string& line : DescribeDiff(report_.diff))
      lines += "\n  " + line;
    return Status::FailedPrecondition("{}:{}", report_.diff.verdict, lines)
        .WithHint(report_.diff.required == Bump::kMajor
                      ? fmt::format("breaking changes need version {}.0.0: it is published "
                                    "beside v{}, which keeps working for its consumers",
                                    spec_.version.major + 1, spec_.version.major)
                      : fmt::format("raise the version to cover a {} change",
                                    BumpName(report_.diff.required)));
  }
  return Status::OK();
}

Status ProductService::Run::Publish(std::string& detail) {
  const Port& port = *port_;
  iceberg::Warehouse& warehouse = catalog_.warehouse();
  metastore::Metastore& metastore = catalog_.metastore();
  const std::string table_name = PortTableName(port.name, spec_.version.major);
  const iceberg::TableIdentifier identifier{{spec_.domain}, table_name};
  const std::string inflight_key = spec_.domain + "/" + spec_.name;

  if (create_domain_) {
    create_domain_ = false;  // once, before the first port
    MW_RETURN_IF_ERROR(service_
                           .CreateDomain(caller_, {.name = spec_.domain,
                                                   .description = "",
                                                   .owner = caller_.principal,
                                                   .storage_prefix = ""})
                           .status());
  }
  // Mark the deploy as running, so a killed one is cleaned up at the next start.
  // Every table of the deploy so far: the recovery cleans each.
  json tables = json::array();
  for (const PublishedPort& done : report_.ports)
    tables.push_back(done.table.substr(done.table.find('.') + 1));
  tables.push_back(table_name);
  json inflight = {{"table", table_name},
                   {"tables", tables},
                   {"domain", spec_.domain},
                   {"pid", ::getpid()},
                   {"started_at_ms", time::NowMillis()},
                   {"version", report_.version}};
  {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    inflight["host"] = host;
  }
  MW_RETURN_IF_ERROR(metastore.WriteDocuments(
      caller_.actor(), {{.collection = kInflight, .key = inflight_key, .body = Dump(inflight)}},
      "deploy_started", "product", spec_.QualifiedName()));

  // The columns the council's encrypt rules say to store encrypted, as table properties.
  std::vector<EncryptedColumn> encryption;
  if (service_.gate_ != nullptr) {
    MW_ASSIGN_OR_RETURN(encryption, service_.gate_->EncryptionOf(spec_, port));
  }
  std::map<std::string, std::string> encryption_marks;
  for (const auto& column : encryption)
    encryption_marks[std::string(governance::kEncryptedPropertyPrefix) + column.column] =
        column.mode;

  auto table = catalog_.LoadTable(caller_, identifier);
  if (!table.ok() && table.error().code() != StatusCode::kNotFound) return table.error();
  if (!table.ok()) {
    MW_ASSIGN_OR_RETURN(
        iceberg::PartitionSpec partition,
        port.partitioning.empty()
            ? Result<iceberg::PartitionSpec>(iceberg::PartitionSpec::Unpartitioned())
            : iceberg::ParsePartitionExpression(port.partitioning, *port.schema));
    MW_ASSIGN_OR_RETURN(iceberg::SortOrder order, iceberg::ParseSortOrder(port.sort, *port.schema));
    json request = {{"name", table_name},
                    {"schema", iceberg::SchemaToJson(*port.schema)},
                    {"partition-spec", iceberg::PartitionSpecToJson(partition)},
                    {"write-order", iceberg::SortOrderToJson(order)},
                    {"properties",
                     {{"meshwork.product", spec_.QualifiedName()},
                      {"meshwork.port", port.name},
                      {"meshwork.major", std::to_string(spec_.version.major)},
                      {"comment", port.description}}}};
    for (const auto& [key, mode] : encryption_marks)
      request["properties"][key] = mode;
    MW_ASSIGN_OR_RETURN(auto created, catalog_.CreateTable(caller_, {spec_.domain}, request));
    created_tables.push_back(identifier);
    table = std::move(created);
  } else {
    // Minor changes evolve the table's schema: new optional columns, widened types.
    const iceberg::Schema& current = table->metadata.CurrentSchema();
    bool differs = false;
    for (const auto& field : port.schema->fields()) {
      const auto* existing = current.FindField(std::string_view(field.name));
      differs |= existing == nullptr || !(*existing->type == *field.type);
    }
    if (differs) {
      MW_ASSIGN_OR_RETURN(
          auto evolved,
          iceberg::UpdateTableSchema(warehouse, identifier, [&](iceberg::SchemaUpdate& update) {
            for (const auto& field : port.schema->fields()) {
              const auto* existing = current.FindField(std::string_view(field.name));
              if (existing == nullptr) {
                update.AddColumn(field.name, field.type, field.doc);
              } else if (!(*existing->type == *field.type)) {
                update.UpdateColumnType(field.name, field.type);
              }
            }
          }));
      table = std::move(evolved);
    }
  }

  // Columns newly encrypted are marked before the data is committed, columns no longer
  // encrypted unmarked after it: in between a reader fails on the mark (a clear value is no
  // ciphertext) instead of ever taking ciphertext for data.
  std::map<std::string, std::string> marks_before;
  for (const auto& [key, value] : table->metadata.properties)
    if (key.starts_with(governance::kEncryptedPropertyPrefix)) marks_before[key] = value;
  std::vector<std::string> unmark_after;
  for (const auto& [key, value] : marks_before)
    if (!encryption_marks.contains(key)) unmark_after.push_back(key);
  if (marks_before != encryption_marks) {
    if (spec_.transform.mode == TransformMode::kAppend && table->metadata.CurrentSnapshot()) {
      std::string was, now;
      for (const auto& [key, value] : marks_before)
        was += (was.empty() ? "" : ", ") + key.substr(governance::kEncryptedPropertyPrefix.size());
      for (const auto& [key, value] : encryption_marks)
        now += (now.empty() ? "" : ", ") + key.substr(governance::kEncryptedPropertyPrefix.size());
      return Status::FailedPrecondition(
                 "the encrypted columns of {} change (from [{}] to [{}]), but an append leaves "
                 "the rows published before as they are",
                 identifier.ToString(), was, now)
          .WithHint(
              "deploy once with transform mode full (or as a new major version) so that every "
              "row is rewritten under the council's encrypt rules");
    }
    encryption_marks_before.push_back({identifier, marks_before});
    std::map<std::string, std::string> mark_now;
    for (const auto& [key, mode] : encryption_marks)
      if (!marks_before.contains(key) || marks_before.at(key) != mode) mark_now[key] = mode;
    MW_RETURN_IF_ERROR(MarkEncryption(identifier, mark_now, {}));
  }

  iceberg::AppendOptions append_options;
  append_options.progress = [&](const std::string& stage) {
    if (options_.progress) options_.progress({"publish", "running", stage, 0});
  };
  // The snapshot says how its files store each column, for readers that travel back to it.
  append_options.summary[std::string(governance::kEncryptedSummaryKey)] =
      governance::EncryptedSummary(encryption_marks);
  // The rows to write: the transform itself when streaming, else what the engine staged.
  const std::string relation = QuoteIdentifier(port.name);
  const std::string source = streaming_ ? "(" + transform_sql_ + "\n)" : relation;
  std::string current_sql;
  if (spec_.transform.mode != TransformMode::kFull) {
    MW_ASSIGN_OR_RETURN(current_sql, TableSql(*table));
  }
  if (streaming_) {
    // The checks run on what the table will hold after the commit, read from the staged files
    // (plus the rows already published, for an append).
    const iceberg::Schema schema = table->metadata.CurrentSchema();
    append_options.before_commit = [&, schema](const std::vector<iceberg::DataFile>& files) {
      std::vector<std::string> paths;
      for (const auto& file : files) {
        MW_ASSIGN_OR_RETURN(std::string path, warehouse.io().LocalPath(file.file_path));
        paths.push_back(path);
      }
      std::string staged_sql;
      if (paths.empty()) {
        std::string columns;
        for (const auto& field : schema.fields()) {
          MW_ASSIGN_OR_RETURN(std::string type, iceberg::DuckDBType(*field.type));
          columns += fmt::format("{}CAST(NULL AS {}) AS {}", columns.empty() ? "" : ", ", type,
                                 QuoteIdentifier(field.name));
        }
        staged_sql = "SELECT " + columns + " LIMIT 0";
      } else {
        MW_ASSIGN_OR_RETURN(staged_sql, iceberg::ReadParquetSql(schema, paths));
        // The checks see the clear values the files hold encrypted.
        std::map<std::string, governance::EncryptionMode> encrypted;
        for (const auto& column : encryption) {
          encrypted[column.column] = governance::ParseEncryptionMode(column.mode)
                                         .value_or(governance::EncryptionMode::kRandomized);
        }
        staged_sql = governance::DecryptingSelect(staged_sql, encrypted, identifier.ToString());
      }
      if (spec_.transform.mode == TransformMode::kAppend) {
        staged_sql = fmt::format("({}) UNION ALL BY NAME ({})", current_sql, staged_sql);
      }
      MW_RETURN_IF_ERROR(connection_->Execute(
          fmt::format("CREATE OR REPLACE TEMP VIEW {} AS {}", relation, staged_sql)));
      staged_[port.name] = relation;
      // For a full publish the staged files are all the table will hold: their statistics
      // decide some rules without a scan.
      // Not with encrypted columns: their statistics describe ciphertext.
      if (spec_.transform.mode == TransformMode::kFull && encryption.empty()) {
        staged_files_ = &files;
        staged_schema_ = schema;
      }
      MW_RETURN_IF_ERROR(Step("quality", [&](std::string& d) { return Quality(d); }));
      return Step("governance (data)", [&](std::string& d) { return GovernanceOnData(d); });
    };
  }
  std::optional<int64_t> previous_snapshot;
  if (const auto* snapshot = table->metadata.CurrentSnapshot()) {
    previous_snapshot = snapshot->snapshot_id;
  }
  Result<iceberg::AppendResult> written = Status::Internal("no write");
  switch (spec_.transform.mode) {
    case TransformMode::kFull: {
      MW_ASSIGN_OR_RETURN(std::string rows, EncryptedWrite(encryption, "SELECT * FROM " + source));
      written =
          iceberg::OverwriteQuery(warehouse, identifier, *connection_, rows, "", append_options);
      break;
    }
    case TransformMode::kAppend: {
      // Only rows past the watermark: what an earlier run loaded is not loaded again.
      const std::string watermark = QuoteIdentifier(spec_.transform.watermark);
      MW_ASSIGN_OR_RETURN(
          std::string rows,
          EncryptedWrite(encryption, fmt::format("SELECT * FROM {0} WHERE {1} > (SELECT max({1}) "
                                                 "FROM ({2})) OR (SELECT "
                                                 "max({1}) FROM ({2})) IS NULL",
                                                 source, watermark, current_sql)));
      written = iceberg::AppendQuery(warehouse, identifier, *connection_, rows, append_options);
      break;
    }
    case TransformMode::kMerge: {
      // Rows of the published table whose keys the staged data does not hold, then the staged
      // rows: one overwrite, so readers see the merge at once.
      std::string keys;
      for (const std::string& key : spec_.transform.keys)
        keys += (keys.empty() ? "" : ", ") + QuoteIdentifier(key);
      MW_ASSIGN_OR_RETURN(
          std::string rows,
          EncryptedWrite(encryption,
                         fmt::format("SELECT * FROM ({0}) WHERE ({1}) NOT IN (SELECT ({1}) FROM "
                                     "{2}) UNION ALL BY NAME SELECT * FROM {2}",
                                     current_sql, keys, relation)));
      written =
          iceberg::OverwriteQuery(warehouse, identifier, *connection_, rows, "", append_options);
      break;
    }
  }
  if (!written.ok()) return written.error();
  if (!unmark_after.empty()) MW_RETURN_IF_ERROR(MarkEncryption(identifier, {}, unmark_after));
  MW_ASSIGN_OR_RETURN(auto after, catalog_.LoadTable(caller_, identifier));
  if (std::find(created_tables.begin(), created_tables.end(), identifier) == created_tables.end() &&
      written->snapshot_id != 0) {
    // Undone by putting back this commit's parent (not what was current when the deploy began:
    // another writer may have committed in between).
    const auto* ours = after.metadata.SnapshotById(written->snapshot_id);
    committed.push_back(
        {identifier, written->snapshot_id, ours ? ours->parent_snapshot_id : previous_snapshot});
  }
  PublishedPort published;
  published.port = port.name;
  published.table = identifier.ToString();
  published.snapshot_id =
      written->snapshot_id != 0
          ? written->snapshot_id
          : (after.metadata.CurrentSnapshot() ? after.metadata.CurrentSnapshot()->snapshot_id : 0);
  published.added_records = written->added_records;
  published.added_files = written->added_files;
  published.added_bytes = written->added_bytes;
  if (const auto* snapshot = after.metadata.CurrentSnapshot()) {
    auto total = snapshot->summary.find("total-records");
    if (total != snapshot->summary.end()) published.records = std::stoll(total->second);
  }
  // The version as a tag on its snapshot: consumers can read exactly what v1.2.0 published.
  if (published.snapshot_id != 0) {
    const json requirements = json::array();
    const json updates = json::array({{{"action", "set-snapshot-ref"},
                                       {"ref-name", "v" + report_.version},
                                       {"type", "tag"},
                                       {"snapshot-id", published.snapshot_id}}});
    auto tagged = catalog_.CommitTable(caller_, {identifier, &requirements, &updates});
    if (!tagged.ok()) {
      logging::Warn("cannot tag {} with v{}: {}", identifier.ToString(), report_.version,
                    tagged.error().ToString());
    }
  }
  report_.ports.push_back(published);
  detail = fmt::format("{}: snapshot {}, {} rows written in {} files ({} bytes)", published.table,
                       published.snapshot_id, published.added_records, published.added_files,
                       published.added_bytes);
  return Status::OK();
}

Status ProductService::Run::Record(std::string& detail) {
  metastore::Metastore& metastore = catalog_.metastore();
  ProductRecord record;
  record.domain = spec_.domain;
  record.name = spec_.name;
  record.major = spec_.version.major;
  record.version = report_.version;
  record.state = "active";
  record.published_by = caller_.principal;
  record.published_at_ms = time::NowMillis();
  record.deploys = published_ ? published_->deploys + 1 : 1;
  record.ports = report_.ports;
  record.quality = report_.quality;
  for (const auto& finding : report_.governance)
    record.warnings.push_back(finding.rule + ": " + finding.message);
  record.spec_yaml = spec_.source_text;
  record.transform_sql = spec_.transform.sql;
  record.column_lineage = report_.column_lineage;
  json ports = json::array();
  for (const auto& port : report_.ports)
    ports.push_back(PortToJson(port));
  const json history = {
      {"version", record.version},
      {"major", record.major},
      {"at_ms", record.published_at_ms},
      {"by", caller_.principal},
      {"action", "deploy"},
      {"summary", report_.diff.verdict},
      {"changes", ChangesToJson(report_.diff.changes)},
      {"ports", ports},
      {"quality_passed", std::count_if(report_.quality.begin(), report_.quality.end(),
                                       [](const QualityResult& result) { return result.passed; })},
      {"quality_total", report_.quality.size()},
      {"spec_yaml", record.spec_yaml},
      {"transform_sql", record.transform_sql}};
  const std::vector<metastore::DocumentWrite> writes = {
      {.collection = kProducts,
       .key = ProductKey(spec_.domain, spec_.name, record.major),
       .body = Dump(RecordToStoredJson(record)),
       .expected_version = published_ ? published_->document_version : 0},
      {.collection = kHistory,
       .key = HistoryKey(spec_.domain, spec_.name, record.published_at_ms, record.major),
       .body = Dump(history)},
      {.collection = kInflight, .key = spec_.domain + "/" + spec_.name, .remove = true}};
  Status written = metastore.WriteDocuments(caller_.actor(), writes, "deploy_product", "product",
                                            spec_.QualifiedName(),
                                            Dump({{"version", record.version}, {"ports", ports}}));
  if (written.code() == StatusCode::kConflict) {
    return std::move(written).WithHint(
        "another deploy of this product finished first; its data is what is published now: "
        "deploy again");
  }
  MW_RETURN_IF_ERROR(written);
  report_.published = true;
  detail = fmt::format("{} v{} published", spec_.QualifiedName(), record.version);
  return Status::OK();
}

Result<DeployReport> ProductService::Deploy(const Caller& caller, const DataProductSpec& spec,
                                            const DeployOptions& options) {
  DeployReport report;
  Run run(*this, caller, spec, options, report);
  report.failure = run.Execute();
  if (!report.failure.ok()) {
    // Undo what the failed deploy published: ports committed before a later one failed go back
    // to the snapshot they had; tables it created go.
    std::string published_version;
    if (auto record = LoadProduct(caller, spec.domain, spec.name, spec.version.major);
        record.ok()) {
      published_version = record->version;
    }
    for (const auto& done : run.committed) {
      if (!done.previous_snapshot) continue;
      // Only while main is still this deploy's snapshot: a later writer's commit stands.
      const json requirements = json::array(
          {{{"type", "assert-ref-snapshot-id"}, {"ref", "main"}, {"snapshot-id", done.snapshot}}});
      // The version tag goes with it; a refresh of the published version tags its parent again.
      const bool refresh = published_version == report.version;
      const json tag =
          refresh ? json{{"action", "set-snapshot-ref"},
                         {"ref-name", "v" + report.version},
                         {"type", "tag"},
                         {"snapshot-id", *done.previous_snapshot}}
                  : json{{"action", "remove-snapshot-ref"}, {"ref-name", "v" + report.version}};
      const json updates = json::array({{{"action", "set-snapshot-ref"},
                                         {"ref-name", "main"},
                                         {"type", "branch"},
                                         {"snapshot-id", *done.previous_snapshot}},
                                        tag});
      auto undone = catalog_.CommitTable(caller, {done.table, &requirements, &updates});
      if (!undone.ok()) {
        logging::Warn("cannot put {} back after the failed deploy: {}", done.table.ToString(),
                      undone.error().ToString());
      }
    }
    for (const auto& [table, marks] : run.encryption_marks_before) {
      // The data went back to what these marks describe.
      auto loaded = catalog_.LoadTable(caller, table);
      if (!loaded.ok()) continue;
      json removals = json::array();
      for (const auto& [key, value] : loaded->metadata.properties)
        if (key.starts_with(governance::kEncryptedPropertyPrefix) && !marks.contains(key))
          removals.push_back(key);
      json updates = json::array();
      if (!marks.empty()) updates.push_back({{"action", "set-properties"}, {"updates", marks}});
      if (!removals.empty()) {
        updates.push_back({{"action", "remove-properties"}, {"removals", removals}});
      }
      const json requirements = json::array();
      if (updates.empty()) continue;
      auto restored = catalog_.CommitTable(caller, {table, &requirements, &updates});
      if (!restored.ok()) {
        logging::Warn("cannot restore the encryption marks of {} after the failed deploy: {}",
                      table.ToString(), restored.error().ToString());
      }
    }
    for (const auto& table : run.created_tables) {
      Status dropped = catalog_.DropTable(caller, table, /*purge=*/true);
      if (!dropped.ok()) {
        logging::Warn("cannot drop {} after the failed deploy: {}", table.ToString(),
                      dropped.ToString());
      }
    }
  }
  if (!report.failure.ok() && !options.dry_run) {
    // The published version is untouched; the in-flight marker (if any) goes, and so do the
    // data files a failed write left.
    (void)catalog_.metastore().WriteDocuments(
        caller.actor(),
        {{.collection = kInflight, .key = spec.domain + "/" + spec.name, .remove = true}},
        "deploy_failed", "product", spec.QualifiedName(),
        Dump({{"error", report.failure.ToString()}}));
  }
  return report;
}

}  // namespace meshwork::product
