#include "governance/governance.h"

#include <fmt/format.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <nlohmann/json.hpp>

#include "common/text.h"
#include "common/time.h"
#include "engine/database.h"
#include "engine/scalar_function.h"
#include "governance/detectors.h"
#include "iceberg/sql_text.h"

namespace meshwork::governance {
namespace {

using iceberg::QuoteIdentifier;
using iceberg::QuoteString;
using nlohmann::json;

constexpr std::string_view kCollection = "governance";
constexpr std::string_view kPoliciesKey = "policies";
constexpr std::string_view kHashKeyKey = "mesh_hash_key";
// How long a server trusts the policy set it read (changes through it apply at once).
constexpr int64_t kCacheMillis = 1000;

// The metadata tables rules are written against.
constexpr std::string_view kMetadataSchema = R"sql(
CREATE TABLE product (domain VARCHAR, name VARCHAR, version VARCHAR, title VARCHAR,
  description VARCHAR, owner_team VARCHAR, owner_email VARCHAR, tags VARCHAR[]);
CREATE TABLE ports (port VARCHAR, table_name VARCHAR, description VARCHAR, partitioning VARCHAR);
CREATE TABLE columns (port VARCHAR, table_name VARCHAR, column_name VARCHAR, type VARCHAR,
  classification VARCHAR, description VARCHAR, semantic_type VARCHAR, nullable BOOLEAN,
  primary_key BOOLEAN);
CREATE TABLE inputs (name VARCHAR);
CREATE TABLE quality_rules (kind VARCHAR);
CREATE TABLE sla (freshness VARCHAR, schedule VARCHAR);
)sql";

std::string Hex(const unsigned char* bytes, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 0xf];
  }
  return out;
}

std::string OrNull(const std::string& value) {
  return value.empty() ? "NULL" : QuoteString(value);
}

bool InScope(const Scope& scope, const std::string& domain, const std::string& product,
             const std::string& table) {
  const auto any = [](const std::vector<std::string>& patterns, const std::string& value) {
    if (patterns.empty()) return true;
    for (const auto& pattern : patterns)
      if (GlobMatch(pattern, value)) return true;
    return false;
  };
  return any(scope.domains, domain) && any(scope.products, product) &&
         (table.empty() || any(scope.tables, table));
}

bool ColumnInScope(const Scope& scope, const ColumnFacts& column) {
  if (!scope.classifications.empty()) {
    bool matched = false;
    for (const auto& pattern : scope.classifications)
      matched =
          matched || (!column.classification.empty() && GlobMatch(pattern, column.classification));
    if (!matched) return false;
  }
  if (!scope.columns.empty()) {
    bool matched = false;
    for (const auto& pattern : scope.columns)
      matched = matched || GlobMatch(pattern, column.name);
    if (!matched) return false;
  }
  return true;
}

// A value shown in a report without revealing it: its first and last two characters.
std::string Redact(const std::string& value) {
  if (value.size() <= 4) return std::string(value.size(), '*');
  return value.substr(0, 2) + std::string(value.size() - 4, '*') + value.substr(value.size() - 2);
}

Result<engine::Connection> MetadataConnection(const ProductFacts& product) {
  MW_ASSIGN_OR_RETURN(auto database, engine::Database::Open({.threads = 1, .lock_down = true}));
  MW_ASSIGN_OR_RETURN(auto connection, database.Connect());
  MW_RETURN_IF_ERROR(connection.Execute(kMetadataSchema));
  std::string tags = "[";
  for (const auto& tag : product.tags)
    tags += (tags.size() > 1 ? ", " : "") + QuoteString(tag);
  tags += "]";
  if (!product.name.empty()) {
    MW_RETURN_IF_ERROR(connection.Execute(
        fmt::format("INSERT INTO product VALUES ({}, {}, {}, {}, {}, {}, {}, {}::VARCHAR[]); "
                    "INSERT INTO sla VALUES ({}, {});",
                    QuoteString(product.domain), QuoteString(product.name), OrNull(product.version),
                    OrNull(product.title), OrNull(product.description), OrNull(product.owner_team),
                    OrNull(product.owner_email), tags, OrNull(product.sla_freshness),
                    OrNull(product.sla_schedule))));
  }
  for (const auto& port : product.ports) {
    MW_RETURN_IF_ERROR(connection.Execute(
        fmt::format("INSERT INTO ports VALUES ({}, {}, {}, {})", QuoteString(port.name),
                    QuoteString(port.table), OrNull(port.description), OrNull(port.partitioning))));
    for (const auto& column : port.columns) {
      MW_RETURN_IF_ERROR(connection.Execute(fmt::format(
          "INSERT INTO columns VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {})", QuoteString(port.name),
          QuoteString(port.table), QuoteString(column.name), QuoteString(column.type),
          OrNull(column.classification), OrNull(column.description), OrNull(column.semantic_type),
          column.nullable ? "true" : "false", column.primary_key ? "true" : "false")));
    }
  }
  for (const auto& input : product.inputs)
    MW_RETURN_IF_ERROR(
        connection.Execute("INSERT INTO inputs VALUES (" + QuoteString(input) + ")"));
  for (const auto& kind : product.quality_rules) {
    MW_RETURN_IF_ERROR(
        connection.Execute("INSERT INTO quality_rules VALUES (" + QuoteString(kind) + ")"));
  }
  return connection;
}

// principal_attr('name') → the caller's attribute as a literal (NULL when it has none, which
// makes a filter on it match nothing: fail closed).
std::string SubstituteAttributes(const std::string& sql,
                                 const std::map<std::string, std::string>& attributes) {
  std::string out;
  size_t at = 0;
  while (true) {
    const size_t found = text::ToLower(sql).find("principal_attr(", at);
    if (found == std::string::npos) break;
    out += sql.substr(at, found - at);
    const size_t open = sql.find('\'', found);
    const size_t close = open == std::string::npos ? open : sql.find('\'', open + 1);
    const size_t paren = close == std::string::npos ? close : sql.find(')', close);
    if (paren == std::string::npos) {
      out += "NULL";
      at = sql.size();
      break;
    }
    const std::string name = sql.substr(open + 1, close - open - 1);
    auto value = attributes.find(name);
    out += value == attributes.end() ? std::string("NULL::VARCHAR") : QuoteString(value->second);
    at = paren + 1;
  }
  out += sql.substr(std::min(at, sql.size()));
  return out;
}

json PoliciesJson(const AppliedPolicies& applied) {
  json policies = json::array();
  for (const auto& policy : applied.policies)
    policies.push_back(
        {{"name", policy.name}, {"file", policy.file}, {"source", policy.source_text}});
  return {{"version", applied.version},
          {"applied-at-ms", applied.applied_at_ms},
          {"applied-by", applied.applied_by},
          {"policies", policies}};
}

Result<AppliedPolicies> PoliciesFromJson(const std::string& body) {
  const json value = json::parse(body, nullptr, false);
  if (!value.is_object()) return Status::Internal("the stored policy set is not JSON");
  AppliedPolicies out;
  out.version = value.value("version", int64_t{0});
  out.applied_at_ms = value.value("applied-at-ms", int64_t{0});
  out.applied_by = value.value("applied-by", "");
  for (const auto& entry : value.value("policies", json::array())) {
    MW_ASSIGN_OR_RETURN(Policy policy,
                        ParsePolicy(entry.value("source", ""), entry.value("file", "")));
    out.policies.push_back(std::move(policy));
  }
  return out;
}

}  // namespace

std::string MeshHash(std::string_view key, std::string_view value) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(value.data()), value.size(), digest, &length);
  return "mh1:" + Hex(digest, length);
}

Governance::Governance(catalog::Catalog& catalog) : catalog_(catalog), keys_(catalog.metastore()) {}

Result<std::string> Governance::HashKey() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!hash_key_.empty()) return hash_key_;
  if (const char* key = std::getenv("MESHWORK_HASH_KEY"); key != nullptr && *key) {
    hash_key_ = key;
    return hash_key_;
  }
  metastore::Metastore& store = catalog_.metastore();
  MW_ASSIGN_OR_RETURN(auto stored,
                      store.LoadDocument(std::string(kCollection), std::string(kHashKeyKey)));
  if (!stored) {
    unsigned char bytes[32];
    RAND_bytes(bytes, sizeof(bytes));
    const std::string key = Hex(bytes, sizeof(bytes));
    Status written = store.WriteDocuments(
        {"meshwork", "governance"},
        {{std::string(kCollection), std::string(kHashKeyKey), json({{"key", key}}).dump(), 0}},
        "create", "governance_key", "mesh_hash");
    // Another server may have created it first: read the winner.
    if (!written.ok() && written.code() != StatusCode::kConflict &&
        written.code() != StatusCode::kAlreadyExists) {
      return written;
    }
    MW_ASSIGN_OR_RETURN(stored,
                        store.LoadDocument(std::string(kCollection), std::string(kHashKeyKey)));
    if (!stored) return Status::Internal("the mesh_hash key could not be stored");
  }
  hash_key_ = json::parse(stored->body, nullptr, false).value("key", "");
  if (hash_key_.empty()) return Status::Internal("the stored mesh_hash key is empty");
  return hash_key_;
}

Status Governance::RegisterFunctions(engine::Connection& connection) {
  MW_ASSIGN_OR_RETURN(std::string key, HashKey());
  MW_RETURN_IF_ERROR(
      connection.RegisterScalarFunction(engine::MakeScalarFunction<std::string(std::string_view)>(
          "mesh_hash", [key](std::string_view value) { return MeshHash(key, value); })));
  MW_RETURN_IF_ERROR(
      connection.RegisterScalarFunction(engine::MakeScalarFunction<bool(std::string_view)>(
          "mesh_looks_like_card",
          [](std::string_view value) { return LooksLikeCardNumber(value); })));
  MW_RETURN_IF_ERROR(
      connection.RegisterScalarFunction(engine::MakeScalarFunction<bool(std::string_view)>(
          "mesh_looks_like_iban", [](std::string_view value) { return LooksLikeIban(value); })));
  MW_RETURN_IF_ERROR(
      connection.RegisterScalarFunction(engine::MakeScalarFunction<bool(std::string_view)>(
          "mesh_looks_like_national_id",
          [](std::string_view value) { return LooksLikeNationalId(value); })));
  MW_RETURN_IF_ERROR(connection.RegisterScalarFunction(
      engine::MakeScalarFunction<std::string(std::string_view, std::string_view)>(
          "mesh_encrypt",
          [this](std::string_view value, std::string_view scope) -> Result<std::string> {
            const EncryptionMode mode = scope.starts_with("det.") ? EncryptionMode::kDeterministic
                                                                  : EncryptionMode::kRandomized;
            auto key = keys_.CurrentKey(std::string(scope), mode);
            if (!key.ok()) {
              return std::move(key).error().WithContext("cannot encrypt with key {}", scope);
            }
            return EncryptValue(**key, value);
          })));
  return RegisterDecryption(connection);
}

Status Governance::RegisterDecryption(engine::Connection& connection) {
  return connection.RegisterScalarFunction(
      engine::MakeScalarFunction<std::string(std::string_view, std::string_view)>(
          "mesh_decrypt",
          [this](std::string_view value, std::string_view where) -> Result<std::string> {
            auto clear = keys_.Decrypt(value);
            if (!clear.ok()) {
              // Fail closed: the query stops; neither the value nor a guess is shown.
              return std::move(clear).error().WithContext("cannot decrypt {}", where);
            }
            return std::move(*clear);
          }));
}

Result<AppliedPolicies> Governance::Current() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cached_ && time::NowMillis() - cached_at_ms_ < kCacheMillis) return *cached_;
  }
  MW_ASSIGN_OR_RETURN(auto stored, catalog_.metastore().LoadDocument(std::string(kCollection),
                                                                     std::string(kPoliciesKey)));
  AppliedPolicies applied;
  if (stored) {
    MW_ASSIGN_OR_RETURN(applied, PoliciesFromJson(stored->body));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  cached_ = std::make_shared<const AppliedPolicies>(applied);
  cached_at_ms_ = time::NowMillis();
  cached_version_ = stored ? stored->version : 0;
  return applied;
}

Result<std::vector<AppliedPolicies>> Governance::History() {
  MW_ASSIGN_OR_RETURN(auto documents,
                      catalog_.metastore().ListDocuments(std::string(kCollection), "history/"));
  std::vector<AppliedPolicies> out;
  for (auto it = documents.rbegin(); it != documents.rend(); ++it) {
    MW_ASSIGN_OR_RETURN(auto applied, PoliciesFromJson(it->body));
    out.push_back(std::move(applied));
  }
  return out;
}

Result<AppliedPolicies> Governance::Apply(const catalog::Caller& caller,
                                          std::vector<Policy> policies) {
  MW_RETURN_IF_ERROR(
      catalog_.Authorize(caller, catalog::Privilege::kManageMesh, catalog::Securable::Mesh()));
  // Every rule must be able to run before the set replaces the one in force.
  MW_ASSIGN_OR_RETURN(auto probe, MetadataConnection(ProductFacts{}));
  for (const auto& policy : policies) {
    for (const auto& rule : policy.rules) {
      std::string sql;
      if (rule.kind == CheckKind::kMetadata) {
        sql = "SELECT * FROM (" + rule.sql + ") LIMIT 0";
      } else if (rule.kind == CheckKind::kRowFilter) {
        sql = "SELECT 1 FROM (SELECT 1) WHERE (" + SubstituteAttributes(rule.sql, {}) + ") LIMIT 0";
        // The predicate names columns of the tables it filters: only its syntax can be checked.
        auto parsed =
            probe.QueryText("SELECT json_serialize_sql(" + QuoteString(sql) + ")::JSON->>'error'");
        if (!parsed.ok() || parsed->empty() || parsed->at(0).at(0) == "true") {
          return Status::InvalidArgument("row filter of rule {} is not a SQL predicate", rule.id)
              .WithLocation(rule.where);
        }
        continue;
      } else if (rule.kind == CheckKind::kEncrypt) {
        // Deploys under this rule need the master key; say so now, not at the next deploy.
        if (Status key = keys_.CheckMasterKey(); !key.ok()) {
          return std::move(key)
              .WithContext("rule {} of policy {} encrypts columns", rule.id, policy.name)
              .WithLocation(rule.where);
        }
        continue;
      } else if (rule.kind == CheckKind::kMask) {
        MW_ASSIGN_OR_RETURN(std::string expression, MaskExpression(rule.mask, "x"));
        sql = "SELECT " + expression + " FROM (SELECT NULL::VARCHAR AS x) LIMIT 0";
      } else {
        continue;
      }
      if (Status ran = probe.Execute(sql); !ran.ok()) {
        return Status::InvalidArgument("rule {} of policy {} cannot run: {}", rule.id, policy.name,
                                       ran.message())
            .WithLocation(rule.where)
            .WithHint(rule.kind == CheckKind::kMetadata
                          ? "metadata rules read the tables product, ports, columns, inputs, "
                            "quality_rules and sla"
                          : "check the SQL of the mask");
      }
    }
  }
  MW_ASSIGN_OR_RETURN(auto stored, catalog_.metastore().LoadDocument(std::string(kCollection),
                                                                     std::string(kPoliciesKey)));
  AppliedPolicies applied;
  applied.version = 1;
  if (stored) {
    MW_ASSIGN_OR_RETURN(auto previous, PoliciesFromJson(stored->body));
    applied.version = previous.version + 1;
  }
  applied.policies = std::move(policies);
  applied.applied_at_ms = time::NowMillis();
  applied.applied_by = caller.principal;
  const std::string body = PoliciesJson(applied).dump();
  MW_RETURN_IF_ERROR(catalog_.metastore().WriteDocuments(
      caller.actor(),
      {{std::string(kCollection), std::string(kPoliciesKey), body, stored ? stored->version : 0},
       {std::string(kCollection), fmt::format("history/{:08}", applied.version), body, 0}},
      "apply", "policies", fmt::format("v{}", applied.version)));
  std::string names;
  for (const auto& policy : applied.policies)
    names += (names.empty() ? "" : ",") + policy.name;
  catalog_.audit().Record(caller, {.operation = "policy_apply",
                                   .securables = "policies",
                                   .reason = "MANAGE_MESH",
                                   .policies = names,
                                   .details = json({{"version", applied.version}}).dump()});
  std::lock_guard<std::mutex> lock(mutex_);
  cached_.reset();
  return applied;
}

Result<std::vector<Finding>> Governance::CheckMetadata(const ProductFacts& product,
                                                       const std::vector<Policy>* policies) {
  AppliedPolicies current;
  if (policies == nullptr) {
    MW_ASSIGN_OR_RETURN(current, Current());
    policies = &current.policies;
  }
  std::vector<Finding> findings;
  std::optional<engine::Connection> connection;
  const std::string qualified = product.domain + "." + product.name;
  for (const auto& policy : *policies) {
    for (const auto& rule : policy.rules) {
      if (rule.kind != CheckKind::kMetadata) continue;
      if (!InScope(rule.scope, product.domain, qualified, "")) continue;
      if (!connection) {
        MW_ASSIGN_OR_RETURN(auto opened, MetadataConnection(product));
        connection.emplace(std::move(opened));
      }
      auto result = connection->Query(rule.sql);
      if (!result.ok()) {
        return Status::Internal("metadata rule {} failed on {}: {}", rule.id, qualified,
                                result.error().message());
      }
      const auto& names = result->column_names();
      MW_ASSIGN_OR_RETURN(auto rows, result->FetchAllText());
      for (const auto& row : rows) {
        Finding finding{rule.id, policy.name, rule.blocking, qualified, rule.description, ""};
        // `where` names a port or column of the product (the product itself: its name or NULL).
        const auto located = [&](const std::string& value) {
          return value.empty() || value == "NULL" || value == product.name
                     ? qualified
                     : qualified + "." + value;
        };
        for (size_t i = 0; i < names.size() && i < row.size(); ++i) {
          if (names[i] == "where") finding.where = located(row[i]);
          if (names[i] == "message") finding.message = row[i];
          if (names[i] == "fix") finding.fix = row[i];
        }
        if (std::find(names.begin(), names.end(), "where") == names.end() && !row.empty()) {
          finding.where = located(row[0]);
        }
        if (finding.fix.empty()) finding.fix = rule.rationale;
        findings.push_back(std::move(finding));
      }
    }
  }
  return findings;
}

Result<std::vector<Finding>> Governance::CheckData(const ProductFacts& product,
                                                   engine::Connection& connection,
                                                   const std::map<std::string, std::string>& staged,
                                                   const std::vector<Policy>* policies) {
  AppliedPolicies current;
  if (policies == nullptr) {
    MW_ASSIGN_OR_RETURN(current, Current());
    policies = &current.policies;
  }
  std::vector<Finding> findings;
  const std::string qualified = product.domain + "." + product.name;
  for (const auto& policy : *policies) {
    for (const auto& rule : policy.rules) {
      if (rule.kind != CheckKind::kData) continue;
      for (const auto& port : product.ports) {
        if (!InScope(rule.scope, product.domain, qualified, port.table)) continue;
        auto relation = staged.find(port.name);
        if (relation == staged.end()) continue;
        for (const auto& column : port.columns) {
          if (!ColumnInScope(rule.scope, column)) continue;
          const bool text = column.type == "string";
          std::string matches;  // SQL: the value v is a violation
          std::string unclassified;
          double threshold = 0;  // share of non-null sampled values
          switch (rule.detector) {
            case Detector::kCardNumber:
              matches = "mesh_looks_like_card(v)";
              unclassified = "pii.credit_card";
              break;
            case Detector::kEmail:
              matches = "regexp_full_match(v, '[^@\\s]+@[^@\\s]+\\.[A-Za-z]{2,}')";
              unclassified = "pii.email";
              threshold = 0.5;
              break;
            case Detector::kPhone:
              matches = "regexp_full_match(v, '\\+?[0-9][0-9 ()./-]{6,18}[0-9]')";
              unclassified = "pii.phone";
              threshold = 0.8;
              break;
            case Detector::kIban:
              matches = "mesh_looks_like_iban(v)";
              unclassified = "pii.iban";
              threshold = 0.5;
              break;
            case Detector::kNationalId:
              matches = "mesh_looks_like_national_id(v)";
              unclassified = "pii.national_id";
              threshold = 0.5;  // some order numbers pass a check digit by chance, not half
              break;
            case Detector::kMandatedHash:
              matches = "NOT regexp_full_match(v, 'mh1:[0-9a-f]{64}')";
              break;
            case Detector::kUuid:
              matches = "TRY_CAST(v AS UUID) IS NULL";
              break;
          }
          // Detectors of unclassified personal data look at text columns not classified so.
          if (!unclassified.empty()) {
            if (!text || GlobMatch(unclassified + "*", column.classification)) continue;
          }
          const std::string limit =
              rule.sample_rows > 0 ? fmt::format(" LIMIT {}", rule.sample_rows) : "";
          const std::string sql = fmt::format(
              "SELECT count(*) FILTER (WHERE {0}), count(v), first(v) FILTER (WHERE {0}) FROM "
              "(SELECT CAST({1} AS VARCHAR) AS v FROM {2}{3}) WHERE v IS NOT NULL",
              matches, QuoteIdentifier(column.name), relation->second, limit);
          auto rows = connection.QueryText(sql);
          if (!rows.ok()) {
            return Status::Internal("data rule {} failed on {}.{}: {}", rule.id, port.table,
                                    column.name, rows.error().message());
          }
          const auto& row = rows->at(0);
          const int64_t hits = std::strtoll(row[0].c_str(), nullptr, 10);
          const int64_t total = std::strtoll(row[1].c_str(), nullptr, 10);
          if (hits == 0 || total == 0) continue;
          if (threshold > 0 && static_cast<double>(hits) < threshold * static_cast<double>(total)) {
            continue;
          }
          Finding finding{rule.id, policy.name, rule.blocking, port.table + "." + column.name,
                          "",      ""};
          const std::string sample = Redact(row[2]);
          switch (rule.detector) {
            case Detector::kMandatedHash:
              finding.message =
                  fmt::format("{} of {} sampled values are not mesh_hash() values (e.g. {})", hits,
                              total, sample);
              finding.fix = fmt::format("write mesh_hash({}) in the transform", column.name);
              break;
            case Detector::kUuid:
              finding.message = fmt::format("{} of {} sampled values are not UUIDs (e.g. {})", hits,
                                            total, sample);
              finding.fix = "store identifiers as UUIDs";
              break;
            default:
              finding.message = fmt::format(
                  "{} of {} sampled values look like {} (e.g. {}) but the column is not "
                  "classified {}",
                  hits, total, DetectorName(rule.detector), sample, unclassified);
              finding.fix =
                  fmt::format("classify the column ({}) so masking applies, or remove the values",
                              unclassified);
              break;
          }
          findings.push_back(std::move(finding));
        }
      }
    }
  }
  return findings;
}

Status Governance::SetAttributes(const catalog::Caller& caller, const std::string& principal,
                                 const std::map<std::string, std::string>& attributes) {
  MW_RETURN_IF_ERROR(
      catalog_.Authorize(caller, catalog::Privilege::kManageMesh, catalog::Securable::Mesh()));
  MW_RETURN_IF_ERROR(catalog_.metastore().LoadPrincipal(principal).status());
  for (const auto& [name, value] : attributes) {
    if (name.empty() || name.size() > 63 || value.size() > 1024) {
      return Status::InvalidArgument(
          "attribute '{}' of {}: names are 1 to 63 characters, values "
          "at most 1024",
          name.substr(0, 64), principal);
    }
  }
  const std::string key = "attributes/" + principal;
  MW_ASSIGN_OR_RETURN(auto stored,
                      catalog_.metastore().LoadDocument(std::string(kCollection), key));
  MW_RETURN_IF_ERROR(catalog_.metastore().WriteDocuments(
      caller.actor(),
      {{std::string(kCollection), key, json(attributes).dump(), stored ? stored->version : 0}},
      "set_attributes", "principal", principal, json(attributes).dump()));
  catalog_.audit().Record(caller, {.operation = "set_attributes",
                                   .securables = principal,
                                   .reason = "MANAGE_MESH",
                                   .details = json({{"attributes", attributes}}).dump()});
  return Status::OK();
}

Result<std::map<std::string, std::string>> Governance::Attributes(const std::string& principal) {
  MW_ASSIGN_OR_RETURN(auto stored, catalog_.metastore().LoadDocument(std::string(kCollection),
                                                                     "attributes/" + principal));
  std::map<std::string, std::string> out;
  if (!stored) return out;
  const json value = json::parse(stored->body, nullptr, false);
  if (!value.is_object()) return Status::Internal("the attributes of {} are not JSON", principal);
  for (const auto& [name, item] : value.items())
    if (item.is_string()) out[name] = item.get<std::string>();
  return out;
}

Result<std::map<std::string, std::string>> Governance::AttributesFor(const catalog::Caller& caller,
                                                                     const std::string& principal) {
  if (caller.principal != principal) {
    MW_RETURN_IF_ERROR(
        catalog_.Authorize(caller, catalog::Privilege::kManageMesh, catalog::Securable::Mesh()));
  }
  MW_RETURN_IF_ERROR(catalog_.metastore().LoadPrincipal(principal).status());
  return Attributes(principal);
}

Result<std::vector<ColumnEncryption>> Governance::EncryptionOf(
    const ProductFacts& product, const PortFacts& port, const std::vector<Policy>* policies) {
  AppliedPolicies current;
  if (policies == nullptr) {
    MW_ASSIGN_OR_RETURN(current, Current());
    policies = &current.policies;
  }
  const std::string qualified = product.domain + "." + product.name;
  std::vector<ColumnEncryption> out;
  for (const auto& column : port.columns) {
    bool decided = false;
    for (const auto& policy : *policies) {
      for (const auto& rule : policy.rules) {
        if (rule.kind != CheckKind::kEncrypt) continue;
        if (!InScope(rule.scope, product.domain, qualified, port.table)) continue;
        if (!ColumnInScope(rule.scope, column)) continue;
        const std::string name = policy.name + "/" + rule.id;
        if (column.type != "string") {
          // Encrypting would change the column's type under its consumers; casting silently
          // would too. The contract has to say so.
          return Status::FailedPrecondition(
                     "policy {} encrypts column {} of {}, whose type is {}: only string columns "
                     "can be stored encrypted",
                     name, column.name, port.table, column.type)
              .WithLocation(rule.where)
              .WithHint(
                  "declare the column as string (and cast it in the transform), classify it "
                  "differently, or narrow the rule's scope (scope.columns, scope.tables)");
        }
        const EncryptionMode mode =
            rule.deterministic ? EncryptionMode::kDeterministic : EncryptionMode::kRandomized;
        out.push_back({column.name, mode, KeyScope(mode, product.domain, rule.id), name});
        decided = true;
        break;
      }
      if (decided) break;
    }
  }
  return out;
}

Result<TableDecision> Governance::ForTable(const catalog::Caller& caller, const std::string& table,
                                           const std::vector<ColumnFacts>& columns) {
  TableDecision decision;
  if (caller.is_root) return decision;
  MW_ASSIGN_OR_RETURN(AppliedPolicies current, Current());
  const size_t dot = table.find('.');
  const std::string domain = table.substr(0, dot);
  std::string product = table;
  // A major line N's table is product_vN.
  if (const size_t v = product.rfind("_v");
      v != std::string::npos && v + 2 < product.size() &&
      product.find_first_not_of("0123456789", v + 2) == std::string::npos) {
    product = product.substr(0, v);
  }
  std::vector<std::pair<const Rule*, const Policy*>> masks, filters;
  for (const auto& policy : current.policies) {
    for (const auto& rule : policy.rules) {
      if (!InScope(rule.scope, domain, product, table)) continue;
      if (rule.kind == CheckKind::kMask) masks.push_back({&rule, &policy});
      if (rule.kind == CheckKind::kRowFilter) filters.push_back({&rule, &policy});
    }
  }
  const bool encrypted = std::any_of(columns.begin(), columns.end(),
                                     [](const ColumnFacts& column) { return column.encrypted; });
  if (masks.empty() && filters.empty() && !encrypted) return decision;
  const std::string port = table.substr(dot == std::string::npos ? 0 : dot + 1);
  if (catalog_
          .Authorize(caller, catalog::Privilege::kUnmask, catalog::Securable::Table({domain}, port))
          .ok()) {
    return decision;
  }
  // UNMASK on a classification (pii, pii.email) clears that class's masks on every table;
  // row filters stay, since they are about rows, not classes of values.
  std::map<std::string, bool> unmasked_classes;
  const auto unmasked = [&](const std::string& classification) {
    if (classification.empty()) return false;
    auto [found, inserted] = unmasked_classes.try_emplace(classification, false);
    if (inserted) {
      found->second = catalog_
                          .Authorize(caller, catalog::Privilege::kUnmask,
                                     catalog::Securable::Classification(classification))
                          .ok();
    }
    return found->second;
  };
  for (const auto& column : columns) {
    bool masked = false;
    for (const auto& [rule, policy] : masks) {
      if (!ColumnInScope(rule->scope, column)) continue;
      if (unmasked(column.classification)) break;
      MW_ASSIGN_OR_RETURN(std::string expression,
                          MaskExpression(rule->mask, QuoteIdentifier(column.name)));
      decision.masks.push_back({column.name, expression, policy->name + "/" + rule->id});
      masked = true;
      break;  // the first matching mask wins
    }
    if (!masked && column.encrypted && !unmasked(column.classification)) {
      // Encrypted means sensitive: without UNMASK and without a mask that says what may be
      // shown, nothing of the value is.
      MW_ASSIGN_OR_RETURN(std::string expression,
                          MaskExpression("redact", QuoteIdentifier(column.name)));
      decision.masks.push_back({column.name, expression, "encryption (redacted without UNMASK)"});
    }
  }
  if (!filters.empty()) {
    MW_ASSIGN_OR_RETURN(auto attributes, Attributes(caller.principal));
    for (const auto& [rule, policy] : filters) {
      const std::string predicate = SubstituteAttributes(rule->sql, attributes);
      decision.row_filter += (decision.row_filter.empty() ? "(" : " AND (") + predicate + ")";
      decision.row_filter_rules.push_back(policy->name + "/" + rule->id);
    }
  }
  return decision;
}

}  // namespace meshwork::governance
