#pragma once
// The governance council's rules as code (kind: Policy YAML files, applied with
// `meshwork policy apply DIR`). A policy is a named list of rules; each rule has a scope (which
// domains, products, ports and columns it looks at) and one check:
//
//   metadata    SQL over the product's metadata (tables product, ports, columns, inputs,
//               quality_rules, sla); every row it returns is a violation
//   data        a detector run on the staged data before publication: card_number (Luhn),
//               email, phone, iban (MOD 97), national_id (SSN, NINO, DNI/NIE, BSN, Steuer-IdNr,
//               NIR, with their check digits) in columns not classified so; mandated_hash (values
//               must be mesh_hash() outputs); uuid (values must be UUIDs)
//   mask        at query time, the scoped columns are shown through a mask (email_domain,
//               hash, last4, redact, null, or SQL with {column}) unless the caller holds UNMASK
//   row_filter  at query time, only rows for which the SQL predicate holds are visible
//               (principal_attr('region') is the caller's attribute), unless UNMASK
//   encrypt     the scoped (string) columns are written encrypted value by value (mode
//               randomized: AES-256-GCM under the domain's key; deterministic: AES-256-SIV
//               under the rule's mesh-wide key, so equal values still join); meshwork decrypts
//               them at query time, then masks them (or redacts them when no mask applies)
//               for callers without UNMASK; raw readers of the files see only ciphertext
//
// Severity block stops a deploy; warn is reported and lands on the product's scorecard.

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace meshwork::governance {

enum class CheckKind { kMetadata, kData, kMask, kRowFilter, kEncrypt };
std::string_view CheckKindName(CheckKind kind);

enum class Detector { kCardNumber, kEmail, kPhone, kIban, kNationalId, kMandatedHash, kUuid };
std::string_view DetectorName(Detector detector);

/// Which objects a rule looks at; an empty list means all. Patterns may use * (pii.*).
struct Scope {
  std::vector<std::string> domains;
  std::vector<std::string> products;         // domain.name
  std::vector<std::string> tables;           // domain.table (a port's table)
  std::vector<std::string> classifications;  // of columns
  std::vector<std::string> columns;          // column name patterns
  bool Empty() const;
};

struct Rule {
  std::string id;
  std::string description;
  std::string rationale;
  bool blocking = true;  // severity: block | warn
  Scope scope;
  CheckKind kind = CheckKind::kMetadata;
  std::string sql;  // metadata: the query; row_filter: the predicate
  Detector detector = Detector::kCardNumber;
  std::string mask;             // mask: a built-in name or SQL with {column}
  int64_t sample_rows = 10000;  // data: rows sampled per column; 0 = every row (exact)
  bool deterministic = false;   // encrypt: mode deterministic (else randomized)
  SourceLocation where;
};

struct Policy {
  std::string name;
  std::string description;
  std::string owner;
  std::vector<Rule> rules;
  std::string file;
  std::string source_text;
};

/// Parses one Policy document; errors carry file:line:column and what to write instead.
Result<Policy> ParsePolicy(std::string_view text, const std::string& file);
/// Every *.yaml / *.yml in `folder` (not recursive), sorted by file name; policy names and rule
/// ids must be unique across them.
Result<std::vector<Policy>> LoadPolicies(const std::string& folder);

/// `pattern` with * matching any run of characters, case-insensitive.
bool GlobMatch(std::string_view pattern, std::string_view text);

/// The SQL of a built-in mask (or the rule's own SQL) applied to `quoted_column`.
Result<std::string> MaskExpression(const std::string& mask, const std::string& quoted_column);

}  // namespace meshwork::governance
