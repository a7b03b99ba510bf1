#pragma once
// The backends the table suites run on, as a test parameter: "local" (a warehouse folder) and
// "s3" (the warehouse on s3rver, a real S3-compatible server on 127.0.0.1, started once per test
// process, a prefix per test). On S3 the pointers live in a local folder with the filesystem
// pointer store: object stores have no lock, and a real deployment keeps them in the metastore
// (the catalog's suites cover that pairing); everything else — metadata, manifests, data files,
// listings, deletes — goes to the object store, and reads go through the read-through cache.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>

#include "iceberg/filesystem_pointer_store.h"
#include "iceberg/warehouse.h"
#include "storage/local_file_io.h"
#include "storage/s3_server.h"
#include "testing/test_env.h"

namespace meshwork::iceberg::test_backends {

/// A filesystem pointer store that owns the local folder it keeps pointers in.
class LocalFolderPointers final : public PointerStore {
 public:
  explicit LocalFolderPointers(std::unique_ptr<storage::LocalFileIO> folder)
      : folder_(std::move(folder)), store_(*folder_) {}
  Result<std::optional<std::string>> Load(const TableIdentifier& table) override {
    return store_.Load(table);
  }
  Status CompareAndSwap(const TableIdentifier& table, const std::optional<std::string>& expected,
                        const std::string& new_location) override {
    return store_.CompareAndSwap(table, expected, new_location);
  }
  Status Drop(const TableIdentifier& table) override { return store_.Drop(table); }
  Result<std::vector<TableIdentifier>> List(
      const std::vector<std::string>& namespace_levels) override {
    return store_.List(namespace_levels);
  }
  Result<std::unique_ptr<CommitGuard>> LockForCommit(const TableIdentifier& table) override {
    return store_.LockForCommit(table);
  }

 private:
  std::unique_ptr<storage::LocalFileIO> folder_;
  FilesystemPointerStore store_;
};

/// The s3rver endpoint of this process ("" and a reason when it cannot run).
inline std::string SharedS3Endpoint(std::string& why) {
  static std::string reason;
  static testing::S3rver* server = testing::S3rver::Start({"meshwork-tables"}, reason).release();
  why = reason;
  return server == nullptr ? "" : server->endpoint();
}

/// Opens the warehouse of the running test on `backend` below `scratch`. Each call opens a new
/// one on the same storage (a forked writer opens its own, as another process would).
inline Result<std::unique_ptr<Warehouse>> OpenWarehouse(const std::string& backend,
                                                        const std::filesystem::path& scratch) {
  if (backend != "s3") return Warehouse::Open((scratch / "wh").string());
  std::string why;
  const std::string endpoint = SharedS3Endpoint(why);
  if (endpoint.empty()) return Status::FailedPrecondition("no S3 server: {}", why);
  std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::replace(test.begin(), test.end(), '/', '-');  // "Name/1": one prefix level
  const std::string pointers = (scratch / "pointers").string();
  WarehouseStorage storage;
  storage.s3.endpoint = endpoint;
  storage.s3.credentials = {"S3RVER", "S3RVER", ""};
  storage.s3.create_only = storage::S3Config::CreateOnly::kHeadThenPut;
  storage.cache_directory = (scratch / "cache").string();
  storage.staging_directory = (scratch / "staging").string();
  return Warehouse::Open(
      // The scratch folder's unique name keeps runs apart; a forked writer shares it.
      "s3://meshwork-tables/" + test + "-" + scratch.filename().string(),
      [pointers](storage::FileIO&) -> std::unique_ptr<PointerStore> {
        auto folder = storage::LocalFileIO::Make(pointers);
        if (!folder.ok()) return nullptr;
        return std::make_unique<LocalFolderPointers>(std::move(*folder));
      },
      storage);
}

/// Skips the running test when its backend cannot run here (loudly), else opens its warehouse.
#define MESHWORK_OPEN_TEST_WAREHOUSE(target, backend, scratch)                               \
  do {                                                                                       \
    if ((backend) == "s3") {                                                                 \
      std::string why_s3_is_missing;                                                         \
      if (::meshwork::iceberg::test_backends::SharedS3Endpoint(why_s3_is_missing).empty()) { \
        GTEST_SKIP() << "S3 warehouse NOT TESTED: " << why_s3_is_missing;                    \
      }                                                                                      \
    }                                                                                        \
    auto opened_warehouse =                                                                  \
        ::meshwork::iceberg::test_backends::OpenWarehouse((backend), (scratch));             \
    ASSERT_TRUE(opened_warehouse.ok()) << opened_warehouse.status().ToString();              \
    (target) = std::move(*opened_warehouse);                                                 \
  } while (false)

}  // namespace meshwork::iceberg::test_backends
