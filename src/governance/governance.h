#pragma once
// The governance service: the council's policies (versioned in the metastore), evaluated at
// deploy time (metadata and data rules) and at query time (column masks and row filters).
// The product pipeline and the query rewriter call it through their extension points; nothing
// here knows those layers — they describe a product as ProductFacts.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/result.h"
#include "engine/connection.h"
#include "governance/encryption.h"
#include "governance/policy.h"

namespace meshwork::governance {

struct ColumnFacts {
  std::string name;
  std::string type;  // Iceberg type text: long, decimal(14,2), string, uuid, …
  std::string classification;
  std::string description;
  std::string semantic_type;
  bool nullable = true;
  bool primary_key = false;
  /// At query time: the column is stored encrypted (a meshwork.encrypted.* table property).
  bool encrypted = false;
};
struct PortFacts {
  std::string name;
  std::string table;  // domain.table
  std::string description;
  std::string partitioning;
  std::vector<ColumnFacts> columns;
};
/// What a rule may know about a product.
struct ProductFacts {
  std::string domain;
  std::string name;
  std::string version;
  std::string title;
  std::string description;
  std::string owner_team;
  std::string owner_email;
  std::vector<std::string> tags;
  std::string sla_freshness;
  std::string sla_schedule;
  std::vector<std::string> inputs;         // names of files or products read
  std::vector<std::string> quality_rules;  // their kinds
  std::vector<PortFacts> ports;
};

struct Finding {
  std::string rule;
  std::string policy;
  bool blocking = true;
  std::string where;  // finance.q3_revenue.card_number
  std::string message;
  std::string fix;
};

struct AppliedPolicies {
  int64_t version = 0;  // of the whole set, +1 per apply
  std::vector<Policy> policies;
  int64_t applied_at_ms = 0;
  std::string applied_by;
};

/// How a deploy writes one column of a port: mesh_encrypt(column, key_scope).
struct ColumnEncryption {
  std::string column;
  EncryptionMode mode = EncryptionMode::kRandomized;
  std::string key_scope;  // dom.<domain> | det.<rule>
  std::string rule;       // policy/rule
};

/// What governance does to one table for one caller.
struct TableDecision {
  struct Mask {
    std::string column;
    std::string expression;
    std::string rule;
  };
  std::vector<Mask> masks;
  std::string row_filter;  // SQL; empty: every row
  std::vector<std::string> row_filter_rules;
};

class Governance {
 public:
  /// `catalog` must outlive the service. The mesh_hash key comes from MESHWORK_HASH_KEY, or is
  /// generated once and kept in the metastore.
  explicit Governance(catalog::Catalog& catalog);

  /// Replaces the council's policy set (MANAGE_MESH). Every rule is checked first: metadata SQL
  /// must parse and run against empty metadata tables, masks must be valid SQL.
  Result<AppliedPolicies> Apply(const catalog::Caller& caller, std::vector<Policy> policies);
  Result<AppliedPolicies> Current();
  /// Every applied version, newest first.
  Result<std::vector<AppliedPolicies>> History();

  /// Metadata rules of `policies` (the applied set when null) on a product.
  Result<std::vector<Finding>> CheckMetadata(const ProductFacts& product,
                                             const std::vector<Policy>* policies = nullptr);
  /// Data rules on staged data: `staged` maps port name → a relation on `connection`.
  Result<std::vector<Finding>> CheckData(const ProductFacts& product,
                                         engine::Connection& connection,
                                         const std::map<std::string, std::string>& staged,
                                         const std::vector<Policy>* policies = nullptr);
  /// The columns of `port` that encrypt rules of `policies` (the applied set when null) say to
  /// store encrypted; the first matching rule decides a column. FailedPrecondition when a rule
  /// would encrypt a column that is not a string (its Iceberg type would have to change).
  Result<std::vector<ColumnEncryption>> EncryptionOf(const ProductFacts& product,
                                                     const PortFacts& port,
                                                     const std::vector<Policy>* policies = nullptr);

  /// Masks and row filters for `caller` on `table` (domain.table) with `columns` (their
  /// classifications), unless the caller holds UNMASK on it. Encrypted columns no mask covers
  /// are redacted for callers without UNMASK: they never see ciphertext or clear text.
  Result<TableDecision> ForTable(const catalog::Caller& caller, const std::string& table,
                                 const std::vector<ColumnFacts>& columns);

  /// A principal's attributes (region, cost_center, …) that row filters read through
  /// principal_attr('name'). Setting them needs MANAGE_MESH; they replace the previous ones.
  Status SetAttributes(const catalog::Caller& caller, const std::string& principal,
                       const std::map<std::string, std::string>& attributes);
  Result<std::map<std::string, std::string>> Attributes(const std::string& principal);
  /// The same for an API caller: its own, or anyone's with MANAGE_MESH.
  Result<std::map<std::string, std::string>> AttributesFor(const catalog::Caller& caller,
                                                           const std::string& principal);

  /// mesh_hash(VARCHAR) → 'mh1:' + HMAC-SHA256 hex under the mesh's key; and the detectors'
  /// helper functions. Register on every connection that runs transforms or rules.
  /// Also mesh_encrypt(value, key_scope) and mesh_decrypt(value, where), for the deploy.
  Status RegisterFunctions(engine::Connection& connection);
  /// Only mesh_decrypt(value, where): for the query engine, which decrypts in the secure
  /// relation (user SQL may not call it: the firewall refuses mesh_* functions).
  Status RegisterDecryption(engine::Connection& connection);

  /// The per-domain and per-rule data keys, wrapped by the master key.
  KeyStore& keys() { return keys_; }

 private:
  Result<std::string> HashKey();
  catalog::Catalog& catalog_;
  KeyStore keys_;
  std::mutex mutex_;
  std::string hash_key_;
  int64_t cached_version_ = -1;
  int64_t cached_at_ms_ = 0;
  std::shared_ptr<const AppliedPolicies> cached_;
};

/// The mesh_hash of `value` under `key`, as the SQL function computes it.
std::string MeshHash(std::string_view key, std::string_view value);

}  // namespace meshwork::governance
