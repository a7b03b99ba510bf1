#pragma once
// The data product contract: `dataproduct.yaml` (apiVersion meshwork/v1, kind DataProduct),
// documented in docs/dataproduct-spec.md with a JSON Schema in schemas/dataproduct.schema.json.
//
// Parsing checks everything that can be checked without a catalog: structure, unknown keys (with
// a suggestion), types, names, versions, durations, cron schedules, column types, partitioning and
// sort order against the port's columns, quality rules against the columns they name. Every error
// names the file, line and column and says what is expected. Whether inputs exist, whether the
// deployer may read them and whether the SQL parses is checked by the deploy pipeline.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "iceberg/schema.h"

namespace meshwork::product {

struct SemanticVersion {
  int major = 0, minor = 0, patch = 0;
  static Result<SemanticVersion> Parse(std::string_view text);
  std::string ToString() const;
  auto operator<=>(const SemanticVersion&) const = default;
};

struct Owner {
  std::string team;
  std::string email;
};

struct Input {
  std::string name;  // how the transform SQL refers to it
  // A file (path relative to the product folder) ...
  std::string file;
  std::string format;  // csv | json | parquet
  std::map<std::string, std::string> options;
  // ... or another product's port, "domain.port", at a major version.
  std::string product_domain;
  std::string product_port;
  int major = 1;
  SourceLocation where;

  bool is_port() const { return !product_port.empty(); }
};

enum class TransformMode { kFull, kAppend, kMerge };

struct Transform {
  std::string sql;       // inline, or the contents of sql_file once loaded
  std::string sql_file;  // relative to the product folder
  std::string dialect = "duckdb";
  TransformMode mode = TransformMode::kFull;
  std::string watermark;          // append: the column whose maximum marks what was loaded
  std::vector<std::string> keys;  // merge: the columns that identify a row
  SourceLocation where;
  SourceLocation sql_where;  // where the SQL starts (inline) — SQL errors are reported from here
};

struct Column {
  std::string name;
  std::string type;  // an Iceberg type as `meshwork table` spells it: long, decimal(12,2), ...
  bool nullable = true;
  std::string description;
  std::string classification;  // pii.email, pii.credit_card, confidential, ...
  std::string semantic_type;   // uuid, email, currency, country, url, ...
  bool primary_key = false;
  SourceLocation where;
};

struct Port {
  std::string name;
  std::string description;
  std::vector<Column> columns;
  std::string partitioning;  // "day(ts), bucket(16, id)"
  std::string sort;          // "ts desc, id"
  /// How this port is computed: the transform for the first port; every further port has SQL
  /// of its own (inline or a file), over the same inputs.
  std::string sql;
  std::string sql_file;
  SourceLocation sql_where;
  SourceLocation where;
  /// The Iceberg schema of the columns (ids 1..N in order), built while parsing.
  std::optional<iceberg::Schema> schema;

  const Column* FindColumn(std::string_view column) const;
  std::vector<std::string> PrimaryKey() const;
};

enum class Severity { kError, kWarn };

struct QualityRule {
  std::string rule;  // not_null, unique, accepted_values, range, regex, row_count, freshness,
                     // references, sql
  std::string name;  // given, or derived: "not_null(customer_id)"
  std::string port;  // defaults to the only port
  std::vector<std::string> columns;
  Severity severity = Severity::kError;
  std::vector<std::string> values;  // accepted_values
  std::optional<double> min, max;   // range, row_count
  std::string pattern;              // regex
  std::string max_age;              // freshness
  std::string reference;            // references: "domain.port.column"
  std::string sql;                  // sql: a query returning the failing rows
  std::string description;          // why the rule exists, for people
  SourceLocation where;
};

struct Sla {
  std::string freshness;               // max age of the newest data: "1d"
  std::string schedule;                // refresh cron: "0 6 * * *"
  std::optional<double> availability;  // percent
  std::string support;                 // a channel or address
};

struct SampleQuery {
  std::string title;
  std::string sql;
};

struct Link {
  std::string title;
  std::string url;
};

struct DataProductSpec {
  std::string file;    // for messages
  std::string folder;  // the product folder (LoadSpec); inputs' files are relative to it
  /// The YAML as written, kept with every published version (and for ODCS export).
  std::string source_text;
  std::string domain;
  std::string name;
  SemanticVersion version;
  std::string title;
  std::string description;
  Owner owner;
  std::vector<std::string> tags;
  std::vector<std::string> glossary;
  std::vector<Input> inputs;
  Transform transform;
  std::vector<Port> ports;
  std::vector<QualityRule> quality;
  Sla sla;
  std::vector<SampleQuery> sample_queries;
  std::vector<Link> links;

  std::string QualifiedName() const { return domain + "." + name; }
  const Port* FindPort(std::string_view port) const;
};

/// Parses and checks a spec; `file` names it in errors ("finance/q3_revenue/dataproduct.yaml").
Result<DataProductSpec> ParseSpec(std::string_view text, const std::string& file);

/// Reads `folder`/dataproduct.yaml and the transform's sql_file (which must stay inside the
/// folder).
Result<DataProductSpec> LoadSpec(const std::string& folder);

/// Names of domains, products and ports: lower-case snake_case, 1..63 characters.
Status ValidateProductName(std::string_view what, std::string_view name);

/// The Iceberg table a port is published as: the port's name for major version 1, name_vN for
/// later majors (published beside the older ones, which keep working for their consumers).
std::string PortTableName(std::string_view port, int major);

/// "1d" → seconds; accepts s, m, h, d, w suffixes.
Result<int64_t> ParseDurationSeconds(std::string_view text);
/// Checks a 5-field cron expression (minute hour day-of-month month day-of-week; numbers, ranges,
/// steps, lists, '*').
Status ValidateCron(std::string_view text);
/// Whether a valid cron expression fires at the minute of `utc` (day-of-month and day-of-week
/// combine as in cron: either matches when both are restricted; 0 and 7 are Sunday).
bool CronMatches(std::string_view text, int minute, int hour, int day, int month, int weekday);

}  // namespace meshwork::product
