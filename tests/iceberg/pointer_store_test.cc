#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "iceberg/filesystem_pointer_store.h"
#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork::iceberg {
namespace {

using ::testing::ElementsAre;

TEST(TableIdentifierTest, ParsesAndRefusesNames) {
  ASSERT_OK_AND_ASSIGN(TableIdentifier orders, TableIdentifier::Parse("sales.orders"));
  EXPECT_THAT(orders.namespace_levels, ElementsAre("sales"));
  EXPECT_EQ(orders.name, "orders");
  EXPECT_EQ(orders.RelativeLocation(), "sales/orders");
  ASSERT_OK_AND_ASSIGN(TableIdentifier nested, TableIdentifier::Parse("a.b-c.t_1"));
  EXPECT_EQ(nested.ToString(), "a.b-c.t_1");
  EXPECT_EQ(nested.RelativeLocation(), "a/b-c/t_1");
  EXPECT_THAT(TableIdentifier::Parse("orders").status(),
              IsError(StatusCode::kInvalidArgument, "no namespace"));
  EXPECT_THAT(TableIdentifier::Parse("sales..orders").status(),
              IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(TableIdentifier::Parse("sales./etc").status(), IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(TableIdentifier::Parse("../x.y").status(), IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(TableIdentifier::Parse("s.t-1").status(),
              IsError(StatusCode::kInvalidArgument, "'-'"));
}

class FilesystemPointerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(io_, storage::LocalFileIO::Make(scratch_.path().string()));
    store_.emplace(*io_);
    table_ = *TableIdentifier::Parse("sales.orders");
  }
  testing::ScratchDir scratch_{"pointer"};
  std::unique_ptr<storage::LocalFileIO> io_;
  std::optional<FilesystemPointerStore> store_;
  TableIdentifier table_;
};

TEST_F(FilesystemPointerStoreTest, CreateSwapConflictDrop) {
  EXPECT_THAT(store_->Load(table_), IsOkAndHolds(std::optional<std::string>()));
  ASSERT_OK(store_->CompareAndSwap(table_, std::nullopt, "v1.json"));
  EXPECT_THAT(store_->CompareAndSwap(table_, std::nullopt, "other.json"),
              IsError(StatusCode::kAlreadyExists, "sales.orders"));
  ASSERT_OK(store_->CompareAndSwap(table_, "v1.json", "v2.json"));
  Status stale = store_->CompareAndSwap(table_, "v1.json", "v3.json");
  EXPECT_THAT(stale, IsError(StatusCode::kConflict, "v2.json"));
  EXPECT_THAT(store_->Load(table_), IsOkAndHolds(std::optional<std::string>("v2.json")));
  ASSERT_OK_AND_ASSIGN(auto tables, store_->List({"sales"}));
  ASSERT_EQ(tables.size(), 1u);
  EXPECT_EQ(tables[0], table_);
  ASSERT_OK(store_->Drop(table_));
  EXPECT_THAT(store_->Drop(table_), IsError(StatusCode::kNotFound));
  EXPECT_THAT(store_->CompareAndSwap(table_, "v2.json", "v3.json"),
              IsError(StatusCode::kNotFound, "dropped"));
  ASSERT_OK_AND_ASSIGN(tables, store_->List({"sales"}));
  EXPECT_TRUE(tables.empty());
}

// Eight processes increment a counter stored as the pointer value through load + CAS retries:
// no increment may be lost.
TEST_F(FilesystemPointerStoreTest, ConcurrentProcessesNeverLoseASwap) {
  ASSERT_OK(store_->CompareAndSwap(table_, std::nullopt, "0"));
  constexpr int kProcesses = 8, kIncrements = 50;
  std::vector<pid_t> children;
  for (int process = 0; process < kProcesses; ++process) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      for (int done = 0; done < kIncrements;) {
        auto current = store_->Load(table_);
        if (!current.ok() || !*current) ::_exit(2);
        const std::string next = std::to_string(std::stoi(**current) + 1);
        Status swapped = store_->CompareAndSwap(table_, *current, next);
        if (swapped.ok()) {
          ++done;
        } else if (swapped.code() != StatusCode::kConflict) {
          ::_exit(3);
        }
      }
      ::_exit(0);
    }
    children.push_back(child);
  }
  for (pid_t child : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_THAT(store_->Load(table_),
              IsOkAndHolds(std::optional<std::string>(std::to_string(kProcesses * kIncrements))));
}

}  // namespace
}  // namespace meshwork::iceberg
