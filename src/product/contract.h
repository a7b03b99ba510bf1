#pragma once
// The contract diff: what changes for the consumers of a port when a new version is published,
// and the version bump that change needs. A consumer reading a port at major version N must never
// break silently, so anything that can break a reader is a major change:
//   major: a column removed or renamed, a type changed other than by a safe widening (int→long,
//          float→double, decimal precision up), a column made nullable (readers may assume
//          non-null), a primary key changed, a port removed;
//   minor: an optional column added, a port added, a column made required, a type widened;
//   patch: docs, classifications, semantic types, quality rules, SLA, partitioning, sort order.

#include <optional>
#include <string>
#include <vector>

#include "product/spec.h"

namespace meshwork::product {

enum class Bump { kNone, kPatch, kMinor, kMajor };
std::string_view BumpName(Bump bump);  // "none", "patch", "minor", "major"

struct ContractChange {
  std::string port;
  std::string column;  // empty for port-level changes
  Bump bump = Bump::kPatch;
  std::string what;  // "column removed", "type long -> int", ...
};

struct ContractDiff {
  std::vector<ContractChange> changes;
  /// The largest bump any change needs (kNone when nothing changed).
  Bump required = Bump::kNone;
  /// The bump from the published version to the proposed one.
  Bump proposed = Bump::kNone;
  /// Whether the proposed version is allowed: a later version whose bump covers the changes.
  bool compatible = true;
  std::string verdict;  // one line for people
};

/// Compares the proposed spec with the one published on the same major line (`published` null:
/// a first publication or a new major line, which is always allowed).
ContractDiff DiffContracts(const DataProductSpec* published, const DataProductSpec& proposed);

/// Human-readable lines ("- q3_revenue.amount: column removed (major)").
std::vector<std::string> DescribeDiff(const ContractDiff& diff);

}  // namespace meshwork::product
