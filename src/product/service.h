#pragma once
// The data product service: domains and the self-serve deploy pipeline (DESIGN §5), the same code
// behind the CLI (embedded) and the server. Every operation authorizes its caller through the
// catalog service; published state lives in the metastore (documents) and in Iceberg tables.
//
// Deploy, step by step (the order Run::Execute follows; cheap checks before any data moves):
//   1. checks:      the spec's domain exists (or may be created); the caller may create and write
//                   tables in it
//   2. governance:  GovernanceGate::CheckSpec (the governance issue's rules plug in here)
//   3. diff:        against the version published on the same major line; a breaking change
//                   needs a new major version, which is published beside the old one
//   4. inputs:      files inside the product folder; other products' ports through the catalog,
//                   with READ_DATA checked, pinned to their current snapshot
//   5. transform:   the SQL runs in DuckDB, locked to the product folder and the tables involved,
//                   into a staged relation named like the port
//   6. contract:    the staged columns match the port's contract (names; types are cast)
//   7. quality:     every rule, plus implicit not_null for required columns and unique for keys
//   8. governance:  GovernanceGate::CheckStagedData (data rules on what is about to publish)
//   9. publish:     one Iceberg commit per port (overwrite, append past the watermark, or merge
//                   on keys), the snapshot tagged with the version; then the product record,
//                   its lineage and the audit event, compare-and-swapped in the metastore
// A failure before step 9 leaves the published version untouched; staged data lived only in the
// engine. A deploy killed while writing data files leaves files no snapshot references: the next
// start of any product command finds the unfinished deploy and removes them.

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "product/contract.h"
#include "product/spec.h"

namespace meshwork::engine {
class Connection;
}

namespace meshwork::product {

/// One finding of a governance rule.
struct GovernanceFinding {
  std::string rule;
  bool blocking = false;  // block | warn
  std::string where;      // "finance.q3_revenue.card_number"
  std::string message;
  std::string fix;
};

/// A column the publish stores encrypted (policy check kind encrypt).
struct EncryptedColumn {
  std::string column;
  std::string mode;        // randomized | deterministic: the table property's value
  std::string expression;  // SQL over the clear column (quoted name) that encrypts it
  std::string rule;        // policy/rule
};

/// The extension point of the governance step (DESIGN §5): the governance issue implements it.
class GovernanceGate {
 public:
  virtual ~GovernanceGate() = default;
  /// Metadata rules, run by validate and deploy.
  virtual Result<std::vector<GovernanceFinding>> CheckSpec(const DataProductSpec& spec) = 0;
  /// Data rules on the staged data: `staged` maps each port to its relation on `connection`.
  virtual Result<std::vector<GovernanceFinding>> CheckStagedData(
      const DataProductSpec& spec, engine::Connection& connection,
      const std::map<std::string, std::string>& staged) = 0;
  /// Called on the connection that runs the transform before it runs: the functions the
  /// council mandates (mesh_hash) become available to the product's SQL.
  virtual Status PrepareEngine(engine::Connection&) { return Status::OK(); }
  /// The columns of `port` its data files store encrypted; the publish writes them through
  /// `expression` after every check ran on the clear values, and marks them in the table's
  /// properties (meshwork.encrypted.<column>) so that readers decrypt them.
  virtual Result<std::vector<EncryptedColumn>> EncryptionOf(const DataProductSpec&, const Port&) {
    return std::vector<EncryptedColumn>{};
  }
};

struct QualityResult {
  std::string rule;  // its name
  std::string kind;  // not_null, unique, ...
  std::string port;
  std::vector<std::string> columns;
  Severity severity = Severity::kError;
  bool passed = true;
  bool implicit = false;  // from the contract (required columns, keys), not the quality list
  int64_t failing_rows = 0;
  std::string detail;  // "3 rows with amount < 0", "max(ts) is 3 days old"
  /// Up to five failing rows, as JSON objects of their values rendered as text.
  std::vector<std::string> samples;
  SourceLocation where;
};

struct StepReport {
  std::string step;
  std::string outcome;  // ok | failed | skipped | warn
  std::string detail;
  double seconds = 0;
};

struct PublishedPort {
  std::string port;
  std::string table;  // "finance.q3_revenue" or "finance.q3_revenue_v2"
  int64_t snapshot_id = 0;
  int64_t records = 0;  // rows in the table after the publish
  int64_t added_records = 0;
  int64_t added_files = 0;
  int64_t added_bytes = 0;
};

struct DeployReport {
  std::string product;  // domain.name
  std::string version;
  int major = 1;
  bool published = false;
  bool dry_run = false;
  std::vector<StepReport> steps;
  ContractDiff diff;
  std::vector<QualityResult> quality;
  std::vector<GovernanceFinding> governance;
  std::vector<PublishedPort> ports;
  /// Output column -> the input columns it is computed from ("customers.customers.email",
  /// "file:data/orders.csv.amount"), where the SQL tells.
  std::map<std::string, std::vector<std::string>> column_lineage;
  /// Why it did not publish (empty when it did).
  Status failure;
};

struct DeployOptions {
  /// Validate and plan only: run everything up to the publish, change nothing.
  bool dry_run = false;
  /// Stop after the checks that need no data (spec, inputs exist, SQL binds, contract diff).
  bool skip_data = false;
  /// Create the spec's domain when it does not exist (and the caller may create domains), with
  /// the caller as its owner: the self-serve path from nothing to a published product.
  bool create_domain = false;
  /// DuckDB variables set before the transform runs, read in SQL as getvariable('scale').
  std::map<std::string, std::string> variables;
  /// Called as each step starts ("running the transform") and ends.
  std::function<void(const StepReport&)> progress;
};

struct DomainRequest {
  std::string name;
  std::string description;
  /// A principal that owns the domain (created if missing; its credentials are returned).
  std::string owner;
  /// The domain's storage prefix inside the warehouse (default: the domain's name).
  std::string storage_prefix;
  /// Storage of its own instead: s3://bucket/prefix, reached through `storage_profile` (a
  /// profile of the server's storage.profiles_file; only its name is recorded).
  std::string location;
  std::string storage_profile;
};

struct DomainInfo {
  std::string name;
  std::string description;
  std::string owner;
  std::string owner_role;     // "<domain>_owner": create, write, alter, drop, grant inside
  std::string consumer_role;  // "<domain>_consumer": read data inside
  std::string ci_principal;   // "<domain>_ci": a service principal holding the owner role
  std::string location;
  /// Set for a domain with storage of its own: the profile its bucket is reached with.
  std::string storage_profile;
  int64_t created_at_ms = 0;
  /// Only when created now: shown once.
  std::optional<catalog::NewCredentials> ci_credentials;
  std::optional<catalog::NewCredentials> owner_credentials;
};

/// A published major line of a product.
struct ProductRecord {
  std::string domain;
  std::string name;
  int major = 1;
  std::string version;
  std::string state;   // active | deprecated
  std::string sunset;  // date after which a deprecated line may go
  std::string deprecation_message;
  std::string published_by;
  int64_t published_at_ms = 0;
  int64_t deploys = 0;
  std::vector<PublishedPort> ports;
  std::vector<QualityResult> quality;
  std::vector<std::string> warnings;  // governance warnings of the last deploy
  std::map<std::string, std::vector<std::string>> column_lineage;  // as DeployReport
  /// The published spec (its source and the SQL it ran).
  std::string spec_yaml;
  std::string transform_sql;
  int64_t document_version = 0;

  std::string QualifiedName() const { return domain + "." + name; }
  /// Re-parses the stored spec.
  Result<DataProductSpec> Spec() const;
};

struct HistoryEntry {
  std::string version;
  int major = 1;
  int64_t at_ms = 0;
  std::string by;
  std::string action;  // deploy | deprecate | rollback
  std::string summary;
  /// A deploy's contract diff against the version it replaced (empty for other actions, a first
  /// publication, and deploys recorded before the diff was kept).
  std::vector<ContractChange> changes;
  std::vector<PublishedPort> ports;
  int64_t quality_passed = 0;
  int64_t quality_total = 0;
};

/// How trustworthy a product looks to a consumer, from what the platform knows.
struct Scorecard {
  double documentation = 0;      // 0..1: description, owner e-mail, SLA, every column documented
  std::string freshness;         // fresh | late | unknown (no SLA freshness)
  int64_t age_seconds = 0;       // since the last publication
  double quality_pass_rate = 0;  // 0..1 over the rules of the last 10 deploys
  int64_t governance_warnings = 0;
  int score = 0;  // 0..100
  std::vector<std::string> improvements;
};

struct LineageNode {
  std::string id;    // "finance.q3_revenue" (product) or "file:data/orders.csv"
  std::string kind;  // product | file
  std::string domain;
  std::string version;
};
struct LineageEdge {
  std::string from;
  std::string to;
  std::string port;  // the port read ("customers.customers")
  /// Column-level: output column -> the input columns it is computed from, where DuckDB's
  /// plan of the transform tells.
  std::map<std::string, std::vector<std::string>> columns;
};
struct LineageGraph {
  std::vector<LineageNode> nodes;
  std::vector<LineageEdge> edges;
};

struct SearchHit {
  std::string product;  // domain.name
  std::string domain;
  std::string title;
  std::string description;
  std::string owner;
  std::string version;
  std::vector<std::string> tags;
  /// stale (older than its SLA's freshness) | warning (a warn rule failed at the last deploy) |
  /// healthy
  std::string health;
  double score = 0;
  std::vector<std::string> matched;  // which fields matched ("name", "column customer_id", ...)
};
struct SearchResults {
  std::vector<SearchHit> hits;
  /// facet -> value -> count, over every product that matched.
  std::map<std::string, std::map<std::string, int64_t>> facets;
};

class ProductService {
 public:
  /// `catalog` must outlive the service; `gate` may be null (no governance rules yet).
  explicit ProductService(catalog::Catalog& catalog, GovernanceGate* gate = nullptr);
  ~ProductService();

  // Domains.
  Result<DomainInfo> CreateDomain(const catalog::Caller& caller, const DomainRequest& request);
  Result<std::vector<DomainInfo>> ListDomains(const catalog::Caller& caller);
  Result<DomainInfo> LoadDomain(const catalog::Caller& caller, const std::string& name);

  // The pipeline. The report says what happened at every step, also on failure (then
  // report.failure is set); the Result is an error only when the pipeline could not run at all.
  Result<DeployReport> Deploy(const catalog::Caller& caller, const DataProductSpec& spec,
                              const DeployOptions& options = {});

  // Published products.
  Result<std::vector<ProductRecord>> ListProducts(const catalog::Caller& caller,
                                                  const std::string& domain = "");
  /// The newest active major line, or `major` when given.
  Result<ProductRecord> LoadProduct(const catalog::Caller& caller, const std::string& domain,
                                    const std::string& name, std::optional<int> major = {});
  Result<std::vector<HistoryEntry>> History(const catalog::Caller& caller,
                                            const std::string& domain, const std::string& name);
  /// Marks a major line deprecated, with a sunset date (YYYY-MM-DD) after which it may go.
  Result<ProductRecord> Deprecate(const catalog::Caller& caller, const std::string& domain,
                                  const std::string& name, int major, const std::string& sunset,
                                  const std::string& message);
  Result<Scorecard> ScoreProduct(const catalog::Caller& caller, const std::string& domain,
                                 const std::string& name);
  /// Publishes again what an earlier version of the same major line published: its snapshot
  /// becomes the tables' current one and its spec the product's.
  Result<ProductRecord> Rollback(const catalog::Caller& caller, const std::string& domain,
                                 const std::string& name, const std::string& version);
  /// Removes a major line: its tables (purged) and its record. Only a deprecated line whose
  /// sunset date has passed and that no other product reads, unless `force`.
  Status DeleteProduct(const catalog::Caller& caller, const std::string& domain,
                       const std::string& name, int major, bool force);
  Result<LineageGraph> Lineage(const catalog::Caller& caller, const std::string& domain,
                               const std::string& name);
  Result<SearchResults> Search(const catalog::Caller& caller, const std::string& query,
                               const std::map<std::string, std::string>& filters = {});

  /// Removes what deploys killed mid-write left behind (files no snapshot references). Called
  /// at start by the server and the product commands.
  Result<int64_t> RecoverInterruptedDeploys();

 private:
  class Run;
  catalog::Catalog& catalog_;
  GovernanceGate* gate_;
};

nlohmann::json DeployReportToJson(const DeployReport& report);
nlohmann::json ProductRecordToJson(const ProductRecord& record, bool with_spec = false);
nlohmann::json DomainInfoToJson(const DomainInfo& domain);
nlohmann::json LineageToJson(const LineageGraph& graph);
nlohmann::json SearchResultsToJson(const SearchResults& results);
nlohmann::json HistoryToJson(const std::vector<HistoryEntry>& history);
/// A contract diff's changes: [{port, column, bump, what}].
nlohmann::json ChangesToJson(const std::vector<ContractChange>& changes);
nlohmann::json ScorecardToJson(const Scorecard& scorecard);

}  // namespace meshwork::product
