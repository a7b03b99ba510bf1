#pragma once
// Table pointers kept in the metastore, for a Warehouse that works on catalog tables (the catalog's
// own maintenance and data writes, `meshwork table --metastore`). Swaps are the metastore's
// compare-and-swap, recorded in its event log under `actor`.

#include "iceberg/pointer_store.h"
#include "metastore/metastore.h"

namespace meshwork::catalog {

// Metastore-backed pointers for the warehouse's own reads and writes (table maintenance and
// data writes that go through src/iceberg); catalog commits swap pointers themselves.
class MetastorePointerStore final : public iceberg::PointerStore {
 public:
  explicit MetastorePointerStore(metastore::Metastore& metastore,
                                 metastore::Actor actor = {"meshwork", ""})
      : metastore_(metastore), actor_(std::move(actor)) {}

  Result<std::optional<std::string>> Load(const iceberg::TableIdentifier& table) override {
    auto record =
        metastore_.LoadObject(table.namespace_levels, table.name, metastore::ObjectKind::kTable);
    if (!record.ok()) {
      if (record.error().code() == StatusCode::kNotFound) return std::optional<std::string>();
      return record.error();
    }
    return std::optional<std::string>(record->metadata_location);
  }
  Status CompareAndSwap(const iceberg::TableIdentifier& table,
                        const std::optional<std::string>& expected,
                        const std::string& new_location) override {
    return metastore_.CommitPointers(actor_, {{.namespace_levels = table.namespace_levels,
                                               .name = table.name,
                                               .expected = expected,
                                               .new_location = new_location}});
  }
  Status Drop(const iceberg::TableIdentifier& table) override {
    return metastore_
        .DropObject(actor_, metastore::ObjectKind::kTable, table.namespace_levels, table.name)
        .status();
  }
  Result<std::vector<iceberg::TableIdentifier>> List(
      const metastore::Levels& namespace_levels) override {
    std::vector<iceberg::TableIdentifier> tables;
    metastore::PageRequest page;
    do {
      MW_ASSIGN_OR_RETURN(auto listed, metastore_.ListObjects(namespace_levels,
                                                              metastore::ObjectKind::kTable, page));
      for (const auto& record : listed.items)
        tables.push_back({namespace_levels, record.name});
      page.token = listed.next_token;
    } while (!page.token.empty());
    return tables;
  }

 private:
  metastore::Metastore& metastore_;
  metastore::Actor actor_;
};

}  // namespace meshwork::catalog
