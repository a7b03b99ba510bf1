#include "storage/mounted_file_io.h"

#include <gtest/gtest.h>

#include "storage/cached_file_io.h"
#include "storage/s3_server.h"
#include "storage/storage_profiles.h"
#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// ---- Storage profiles file ----

TEST(StorageProfilesTest, ParsesProfilesWithTheirConnectionAndCredentials) {
  ASSERT_OK_AND_ASSIGN(auto profiles, ParseStorageProfiles(R"(
profiles:
  finance:
    endpoint: http://127.0.0.1:9001
    region: eu-central-1
    path_style: true
    conditional_writes: false
    access_key_id: FIN
    secret_access_key: finsecret
  aws-lab:
    aws_profile: lab
    credentials_file: /etc/meshwork/aws-credentials
)",
                                                           "profiles.yaml"));
  ASSERT_EQ(profiles.size(), 2u);
  const S3Config& finance = profiles.at("finance");
  EXPECT_EQ(finance.endpoint, "http://127.0.0.1:9001");
  EXPECT_EQ(finance.region, "eu-central-1");
  EXPECT_EQ(finance.addressing, S3Config::Addressing::kPath);
  EXPECT_EQ(finance.create_only, S3Config::CreateOnly::kHeadThenPut);
  EXPECT_EQ(finance.credentials.access_key_id, "FIN");
  EXPECT_EQ(finance.credentials.secret_access_key, "finsecret");
  const S3Config& lab = profiles.at("aws-lab");
  EXPECT_EQ(lab.addressing, S3Config::Addressing::kAuto);
  EXPECT_EQ(lab.create_only, S3Config::CreateOnly::kConditionalPut);
  EXPECT_EQ(lab.profile, "lab");
  EXPECT_EQ(lab.credentials_file, "/etc/meshwork/aws-credentials");
  EXPECT_THAT(ParseStorageProfiles("", "empty.yaml"), IsOk());
}

TEST(StorageProfilesTest, RefusesMistakesWithTheirPosition) {
  EXPECT_THAT(ParseStorageProfiles("profiles:\n  fin:\n    endpiont: http://x\n", "p.yaml"),
              IsError(StatusCode::kInvalidArgument, "unknown key 'endpiont'"));
  auto typo = ParseStorageProfiles("profiles:\n  fin:\n    endpiont: http://x\n", "p.yaml");
  ASSERT_FALSE(typo.ok());
  EXPECT_THAT(typo.error().ToString(), HasSubstr("p.yaml:3:5"));
  EXPECT_THAT(typo.error().hint(), HasSubstr("endpoint"));
  EXPECT_THAT(ParseStorageProfiles("profiles:\n  Fin Ance:\n    region: x\n", "p.yaml"),
              IsError(StatusCode::kInvalidArgument, "not a storage profile name"));
  EXPECT_THAT(ParseStorageProfiles("profiles:\n  fin:\n    access_key_id: A\n", "p.yaml"),
              IsError(StatusCode::kInvalidArgument, "one of access_key_id and secret_access_key"));
  EXPECT_THAT(ParseStorageProfiles("profile:\n  fin: {}\n", "p.yaml"),
              IsError(StatusCode::kInvalidArgument, "unknown key 'profile'"));
  EXPECT_THAT(LoadStorageProfiles("/nonexistent/profiles.yaml"),
              IsError(StatusCode::kNotFound, "/nonexistent/profiles.yaml"));
}

// ---- Routing, against s3rver: the warehouse's bucket and a domain's own ----

class S3MountedFileIOTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = testing::S3rver::Start({"mount-wh", "mount-fin"}, why_).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (server_ == nullptr) GTEST_SKIP() << "S3 server tests skipped: " << why_;
    const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    auto base = Make("s3://mount-wh/" + test);
    auto finance = Make("s3://mount-fin/" + test + "/finance");
    ASSERT_NE(base, nullptr);
    ASSERT_NE(finance, nullptr);
    base_ = base.get();
    finance_ = finance.get();
    io_ = std::make_unique<MountedFileIO>(std::move(base));
    ASSERT_OK(io_->Mount("@finance", std::move(finance)));
  }

  static std::unique_ptr<S3FileIO> Make(const std::string& warehouse) {
    S3Config config;
    config.warehouse = warehouse;
    config.endpoint = server_->endpoint();
    config.credentials = {"S3RVER", "S3RVER", ""};
    config.create_only = S3Config::CreateOnly::kHeadThenPut;
    config.max_attempts = 2;
    auto io = S3FileIO::Make(config);
    EXPECT_OK(io);
    return io.ok() ? *std::move(io) : nullptr;
  }

  static testing::S3rver* server_;
  static std::string why_;
  S3FileIO* base_ = nullptr;
  S3FileIO* finance_ = nullptr;
  std::unique_ptr<MountedFileIO> io_;
};
testing::S3rver* S3MountedFileIOTest::server_ = nullptr;
std::string S3MountedFileIOTest::why_;

TEST_F(S3MountedFileIOTest, TheMountFolderAndItsUrisReachTheDomainsBucket) {
  ASSERT_OK(io_->WriteFileAtomic("@finance/ledger/data/a.parquet", "fin"));
  ASSERT_OK(io_->WriteFileAtomic("sales/orders/data/b.parquet", "sales"));
  // Each object is in its own bucket, under the key its store's prefix gives it.
  EXPECT_THAT(finance_->ReadFile("ledger/data/a.parquet"), IsOkAndHolds(std::string("fin")));
  EXPECT_THAT(base_->Exists("@finance/ledger/data/a.parquet"), IsOkAndHolds(false));
  EXPECT_THAT(base_->ReadFile("sales/orders/data/b.parquet"), IsOkAndHolds(std::string("sales")));
  // Absolute URIs are routed by the store that holds them.
  const std::string uri =
      "s3://mount-fin/TheMountFolderAndItsUrisReachTheDomainsBucket/finance/ledger/data/a.parquet";
  EXPECT_THAT(io_->ReadFile(uri), IsOkAndHolds(std::string("fin")));
  EXPECT_THAT(io_->MountedRelative(uri),
              ::testing::Optional(std::string("@finance/ledger/data/a.parquet")));
  EXPECT_EQ(io_->MountedRelative("s3://mount-wh/x"), std::nullopt);
  EXPECT_THAT(io_->ReadRange("@finance/ledger/data/a.parquet", 1, 10),
              IsOkAndHolds(std::string("in")));
  ASSERT_OK_AND_ASSIGN(FileVersion version, io_->Version("@finance/ledger/data/a.parquet"));
  EXPECT_EQ(version.size, 3u);
  EXPECT_FALSE(version.etag.empty());
  // A prefix inside the mount lists the mount; the root lists both stores.
  ASSERT_OK_AND_ASSIGN(auto inside, io_->List("@finance/ledger/"));
  ASSERT_EQ(inside.size(), 1u);
  EXPECT_EQ(inside[0].path, "@finance/ledger/data/a.parquet");
  ASSERT_OK_AND_ASSIGN(auto everything, io_->List(""));
  std::vector<std::string> paths;
  for (const FileInfo& file : everything)
    paths.push_back(file.path);
  EXPECT_THAT(paths, ElementsAre("@finance/ledger/data/a.parquet", "sales/orders/data/b.parquet"));
  ASSERT_OK(io_->Delete("@finance/ledger/data/a.parquet"));
  EXPECT_THAT(finance_->Exists("ledger/data/a.parquet"), IsOkAndHolds(false));
  EXPECT_THAT(io_->Delete("@finance/ledger/data/a.parquet"), IsError(StatusCode::kNotFound));
}

TEST_F(S3MountedFileIOTest, MountsMayNotOverlapOrRepeat) {
  EXPECT_THAT(io_->Mount("@finance", Make("s3://mount-fin/elsewhere")),
              IsError(StatusCode::kAlreadyExists, "already mounted"));
  EXPECT_THAT(io_->Mount("@sub", Make("s3://mount-fin/MountsMayNotOverlapOrRepeat/finance/sub")),
              IsError(StatusCode::kAlreadyExists, "overlaps"));
  EXPECT_THAT(io_->Mount("@all", Make("s3://mount-fin")),
              IsError(StatusCode::kAlreadyExists, "overlaps"));
  EXPECT_THAT(io_->Mount("hr", Make("s3://mount-fin/hr")),
              IsError(StatusCode::kInvalidArgument, "starting with '@'"));
  EXPECT_OK(io_->Mount("@hr", Make("s3://mount-fin/hr")));
  EXPECT_EQ(io_->Mounts().size(), 2u);
}

TEST_F(S3MountedFileIOTest, TheCacheInFrontNamesCopiesAfterTheRightStore) {
  testing::ScratchDir scratch("mount-cache");
  MountedFileIO* mounted = io_.get();
  ASSERT_OK_AND_ASSIGN(
      auto cached, CachedFileIO::Make(std::move(io_), {(scratch.path() / "c").string(), 1 << 20}));
  ASSERT_OK(mounted->WriteFileAtomic("@finance/t/data/x.parquet", "from finance"));
  ASSERT_OK(mounted->WriteFileAtomic("t/data/x.parquet", "from the warehouse"));
  ASSERT_OK_AND_ASSIGN(std::string finance_copy, cached->LocalPath("@finance/t/data/x.parquet"));
  ASSERT_OK_AND_ASSIGN(std::string warehouse_copy, cached->LocalPath("t/data/x.parquet"));
  EXPECT_NE(finance_copy, warehouse_copy);
  EXPECT_EQ(cached->stats().misses, 2u);
}

}  // namespace
}  // namespace meshwork::storage
