#pragma once
// Where a table's current metadata file is recorded. A commit writes a new metadata file and then
// swaps the pointer with compare-and-swap: the swap is the commit point, so of two concurrent
// committers exactly one wins and the other reloads and retries.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace meshwork::iceberg {

/// "sales.orders" → namespace {"sales"}, name "orders". Nested namespaces: "a.b.table".
struct TableIdentifier {
  std::vector<std::string> namespace_levels;
  std::string name;

  /// Parses "ns.table" / "ns1.ns2.table". Names are 1..255 characters of letters, digits and
  /// '_' (and '-' for namespaces): they become folder names in the warehouse.
  static Result<TableIdentifier> Parse(std::string_view text);
  std::string ToString() const;
  /// "ns1/ns2/table": the table's folder below the warehouse root.
  std::string RelativeLocation() const;
  bool operator==(const TableIdentifier&) const = default;
};

class PointerStore {
 public:
  virtual ~PointerStore() = default;

  /// The current metadata location, or nullopt when the table does not exist.
  virtual Result<std::optional<std::string>> Load(const TableIdentifier& table) = 0;
  /// Sets the pointer to `new_location` if it is still `expected` (nullopt: the table must not
  /// exist yet — that is how a create commits). conflict when it moved; nothing changes then.
  virtual Status CompareAndSwap(const TableIdentifier& table,
                                const std::optional<std::string>& expected,
                                const std::string& new_location) = 0;
  /// Removes the pointer (the table stops existing); not_found if it does not exist.
  virtual Status Drop(const TableIdentifier& table) = 0;
  /// Tables directly in a namespace, sorted.
  virtual Result<std::vector<TableIdentifier>> List(
      const std::vector<std::string>& namespace_levels) = 0;

  /// Held while a committer that keeps losing races prepares and swaps, so that heavy contention
  /// turns into a queue instead of starving someone. Optional: stores that cannot lock return
  /// nullptr and committers rely on optimistic retries alone. Not needed for correctness (the
  /// compare-and-swap is), only for progress.
  class CommitGuard {
   public:
    virtual ~CommitGuard() = default;
  };
  virtual Result<std::unique_ptr<CommitGuard>> LockForCommit(const TableIdentifier& table) {
    (void)table;
    return std::unique_ptr<CommitGuard>();
  }
};

}  // namespace meshwork::iceberg
