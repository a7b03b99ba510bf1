// The catalog service on both metastore backends: authentication, namespaces, tables, commits,
// transactions and an RBAC matrix.
#include "catalog/catalog.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "catalog/credentials.h"
#include "common/time.h"
#include "storage/s3_server.h"
#include "testing/postgres_server.h"
#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork::catalog {
namespace {

using iceberg::TableIdentifier;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const json kSchema = {{"type", "struct"},
                      {"schema-id", 0},
                      {"fields",
                       {{{"id", 1}, {"name", "id"}, {"required", true}, {"type", "long"}},
                        {{"id", 2}, {"name", "region"}, {"required", false}, {"type", "string"}}}}};

json CreateRequest(const std::string& name) {
  return {{"name", name},
          {"schema", kSchema},
          {"partition-spec",
           {{"spec-id", 0},
            {"fields", {{{"source-id", 2}, {"name", "region"}, {"transform", "identity"}}}}}}};
}

class CatalogTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string url = (scratch_.path() / "meshwork.db").string();
    if (GetParam() == "postgresql") {
      std::string why;
      testing::PostgresServer* server = testing::SharedPostgresServer(why);
      if (server == nullptr) GTEST_SKIP() << "PostgreSQL backend NOT TESTED: " << why;
      url = server->CreateDatabase("catalog");
      ASSERT_FALSE(url.empty());
    }
    if (GetParam() == "s3") {
      // The warehouse on a real S3-compatible server (s3rver, started once for the suite), a
      // prefix per test.
      static std::string why;
      static testing::S3rver* server = testing::S3rver::Start({"meshwork-catalog"}, why).release();
      if (server == nullptr) GTEST_SKIP() << "S3 warehouse NOT TESTED: " << why;
      s3_endpoint_ = server->endpoint();
    }
    ASSERT_OK_AND_ASSIGN(metastore_, metastore::Metastore::Open({.url = url}));
    Open({});
    root_ = Caller{"root", true, "test"};
  }

  void Open(CatalogOptions options) {
    catalog_.reset();
    options.warehouse_root = (scratch_.path() / "warehouse").string();
    if (!s3_endpoint_.empty()) {
      std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
      std::replace(test.begin(), test.end(), '/', '-');  // "Name/2": one prefix level
      options.warehouse_root = "s3://meshwork-catalog/" + test;
      options.storage.s3.endpoint = s3_endpoint_;
      options.storage.s3.credentials = {"S3RVER", "S3RVER", ""};
      options.storage.s3.create_only = storage::S3Config::CreateOnly::kHeadThenPut;
      options.storage.cache_directory = (scratch_.path() / "cache").string();
      options.storage.staging_directory = (scratch_.path() / "staging").string();
    }
    auto opened = Catalog::Open(*metastore_, options);
    ASSERT_OK(opened.status());
    catalog_ = std::move(*opened);
  }

  // A principal holding one role with the given grants; returns its authenticated caller.
  Caller PrincipalWith(const std::string& name,
                       const std::vector<std::pair<Privilege, Securable>>& grants) {
    auto credentials = catalog_->CreatePrincipal(root_, name, "user");
    EXPECT_OK(credentials.status());
    EXPECT_OK(catalog_->CreateRole(root_, name + "_role", ""));
    EXPECT_OK(catalog_->AssignRole(root_, name, name + "_role"));
    for (const auto& [privilege, securable] : grants) {
      EXPECT_OK(catalog_->Grant(root_, name + "_role", privilege, securable));
    }
    auto token = catalog_->IssueToken(credentials->client_id, credentials->client_secret);
    EXPECT_OK(token.status());
    auto caller = catalog_->Authenticate(token->access_token, "r");
    EXPECT_OK(caller.status());
    return *caller;
  }

  TableCommit Commit(const TableIdentifier& id, const json& requirements, const json& updates) {
    requirements_.push_back(std::make_unique<json>(requirements));
    updates_.push_back(std::make_unique<json>(updates));
    return {id, requirements_.back().get(), updates_.back().get()};
  }

  testing::ScratchDir scratch_{"catalog"};
  std::string s3_endpoint_;  // set for the "s3" parameter: the warehouse is on s3rver
  std::unique_ptr<metastore::Metastore> metastore_;
  std::unique_ptr<Catalog> catalog_;
  Caller root_;
  std::vector<std::unique_ptr<json>> requirements_, updates_;
};

TEST_P(CatalogTest, RootIsBootstrappedOnceAndTokensWork) {
  const BootstrapReport& report = catalog_->bootstrap();
  EXPECT_TRUE(report.root_created);
  ASSERT_FALSE(report.generated_secret.empty());
  const std::string client_id = report.client_id, secret = report.generated_secret;
  ASSERT_OK_AND_ASSIGN(IssuedToken token, catalog_->IssueToken(client_id, secret));
  EXPECT_EQ(token.expires_in, 3600);
  ASSERT_OK_AND_ASSIGN(Caller caller, catalog_->Authenticate(token.access_token, "req"));
  EXPECT_EQ(caller.principal, "root");
  EXPECT_TRUE(caller.is_root);
  EXPECT_THAT(catalog_->IssueToken(client_id, secret + "x").status(),
              IsError(StatusCode::kUnauthenticated, "invalid client credentials"));
  EXPECT_THAT(catalog_->IssueToken("nobody", secret).status(),
              IsError(StatusCode::kUnauthenticated, "invalid client credentials"));

  // A second server on the same metastore: no new root, same signing key.
  Open({});
  EXPECT_FALSE(catalog_->bootstrap().root_created);
  EXPECT_TRUE(catalog_->bootstrap().generated_secret.empty());
  EXPECT_OK(catalog_->Authenticate(token.access_token, "req").status());
  // Explicit bootstrap credentials replace the root's.
  Open({.bootstrap_credentials = "admin:correct-horse-battery"});
  EXPECT_TRUE(catalog_->bootstrap().root_reset);
  EXPECT_OK(catalog_->IssueToken("admin", "correct-horse-battery").status());
  EXPECT_THAT(catalog_->IssueToken(client_id, secret).status(),
              IsError(StatusCode::kUnauthenticated));
  EXPECT_THAT(Catalog::Open(*metastore_, {.warehouse_root = (scratch_.path() / "w").string(),
                                          .bootstrap_credentials = "no-colon"})
                  .status(),
              IsError(StatusCode::kInvalidArgument, "CLIENT_ID:SECRET"));
}

TEST_P(CatalogTest, TamperedExpiredAndRotatedTokensAreRefused) {
  Caller alice = PrincipalWith("alice", {});
  ASSERT_OK_AND_ASSIGN(NewCredentials fresh, catalog_->CreatePrincipal(root_, "bob", "service"));
  ASSERT_OK_AND_ASSIGN(IssuedToken token,
                       catalog_->IssueToken(fresh.client_id, fresh.client_secret));
  ASSERT_OK(catalog_->Authenticate(token.access_token, "r").status());
  std::string tampered = token.access_token;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_THAT(catalog_->Authenticate(tampered, "r").status(),
              IsError(StatusCode::kUnauthenticated));
  EXPECT_THAT(catalog_->Authenticate("not-a-token", "r").status(),
              IsError(StatusCode::kUnauthenticated, "not a JWT"));
  const std::string none_alg = Base64UrlEncode(R"({"alg":"none"})") + "." +
                               Base64UrlEncode(R"({"sub":"root","cv":1,"exp":9999999999})") + ".";
  EXPECT_THAT(catalog_->Authenticate(none_alg, "r").status(),
              IsError(StatusCode::kUnauthenticated));

  // Rotation: the old secret and every older token stop working at once on this server.
  ASSERT_OK_AND_ASSIGN(NewCredentials rotated, catalog_->RotateCredentials(root_, "bob"));
  EXPECT_EQ(rotated.credential_version, 2);
  EXPECT_THAT(catalog_->Authenticate(token.access_token, "r").status(),
              IsError(StatusCode::kUnauthenticated, "revoked"));
  EXPECT_THAT(catalog_->IssueToken(fresh.client_id, fresh.client_secret).status(),
              IsError(StatusCode::kUnauthenticated));
  EXPECT_OK(catalog_->IssueToken(rotated.client_id, rotated.client_secret).status());
  // Only the principal itself or a mesh manager rotates.
  EXPECT_THAT(catalog_->RotateCredentials(alice, "bob").status(),
              IsError(StatusCode::kPermissionDenied, "lacks MANAGE_MESH on mesh"));
  EXPECT_OK(catalog_->RotateCredentials(alice, "alice").status());

  // Expired tokens.
  Open({.token_lifetime_seconds = 0});
  ASSERT_OK_AND_ASSIGN(IssuedToken expired,
                       catalog_->IssueToken(rotated.client_id, rotated.client_secret));
  EXPECT_THAT(catalog_->Authenticate(expired.access_token, "r").status(),
              IsError(StatusCode::kUnauthenticated, "expired"));
  // Dropped principals' tokens die too.
  Open({});
  ASSERT_OK_AND_ASSIGN(IssuedToken live,
                       catalog_->IssueToken(rotated.client_id, rotated.client_secret));
  ASSERT_OK(catalog_->DropPrincipal(root_, "bob"));
  EXPECT_THAT(catalog_->Authenticate(live.access_token, "r").status(),
              IsError(StatusCode::kUnauthenticated, "no longer exists"));
}

TEST_P(CatalogTest, TableLifecycle) {
  ASSERT_OK(catalog_->CreateNamespace(root_, {"sales"}, {{"owner", "sales-team"}}).status());
  ASSERT_OK_AND_ASSIGN(auto created,
                       catalog_->CreateTable(root_, {"sales"}, CreateRequest("orders")));
  EXPECT_EQ(created.metadata.location, catalog_->warehouse().FileUri("sales/orders"));
  EXPECT_EQ(created.metadata.properties.at("write.format.default"), "parquet");
  EXPECT_THAT(catalog_->CreateTable(root_, {"sales"}, CreateRequest("orders")).status(),
              IsError(StatusCode::kAlreadyExists));
  EXPECT_THAT(catalog_->CreateTable(root_, {"nowhere"}, CreateRequest("x")).status(),
              IsError(StatusCode::kNotFound, "namespace 'nowhere'"));

  const TableIdentifier orders{{"sales"}, "orders"};
  json evolved = kSchema;
  evolved["fields"].push_back(
      {{"id", 3}, {"name", "amount"}, {"required", false}, {"type", "double"}});
  ASSERT_OK_AND_ASSIGN(
      CommitOutcome changed,
      catalog_->CommitTable(
          root_,
          Commit(orders,
                 json::array({{{"type", "assert-current-schema-id"}, {"current-schema-id", 0}}}),
                 json::array({{{"action", "add-schema"}, {"schema", evolved}},
                              {{"action", "set-current-schema"}, {"schema-id", -1}}}))));
  EXPECT_EQ(changed.table.metadata.current_schema_id, 1);
  ASSERT_EQ(changed.table.metadata.metadata_log.size(), 1u);
  EXPECT_EQ(changed.table.metadata.metadata_log[0].metadata_file, created.metadata_location);
  // The same requirement is now stale.
  EXPECT_THAT(
      catalog_
          ->CommitTable(
              root_,
              Commit(
                  orders,
                  json::array({{{"type", "assert-current-schema-id"}, {"current-schema-id", 0}}}),
                  json::array({{{"action", "set-properties"}, {"updates", {{"a", "b"}}}}})))
          .status(),
      IsError(StatusCode::kConflict, "current schema id changed"));
  // Moving the table out of the warehouse is refused.
  EXPECT_THAT(catalog_
                  ->CommitTable(root_, Commit(orders, json::array(),
                                              json::array({{{"action", "set-location"},
                                                            {"location", "file:///etc"}}})))
                  .status(),
              IsError(StatusCode::kInvalidArgument, "cannot be placed at file:///etc"));
  ASSERT_OK_AND_ASSIGN(auto loaded, catalog_->LoadTable(root_, orders));
  EXPECT_EQ(loaded.metadata_location, changed.table.metadata_location);

  ASSERT_OK_AND_ASSIGN(auto listed, catalog_->ListTables(root_, {"sales"}, {}));
  EXPECT_THAT(listed.items, ElementsAre("orders"));
  ASSERT_OK(catalog_->CreateNamespace(root_, {"archive"}, {}).status());
  ASSERT_OK(catalog_->RenameTable(root_, orders, {{"archive"}, "orders_2025"}));
  EXPECT_THAT(catalog_->LoadTable(root_, orders).status(), IsError(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(auto moved, catalog_->LoadTable(root_, {{"archive"}, "orders_2025"}));
  // A new table under the old name gets a folder of its own.
  ASSERT_OK_AND_ASSIGN(auto again,
                       catalog_->CreateTable(root_, {"sales"}, CreateRequest("orders")));
  EXPECT_NE(again.metadata.location, moved.metadata.location);

  // Register the moved table's metadata under a second name, then drop with purge.
  ASSERT_OK(
      catalog_->RegisterTable(root_, {{"sales"}, "copy"}, moved.metadata_location, false).status());
  EXPECT_THAT(
      catalog_->RegisterTable(root_, {{"sales"}, "evil"}, "file:///etc/passwd", false).status(),
      IsError(StatusCode::kInvalidArgument, "outside"));
  ASSERT_OK(catalog_->DropTable(root_, {{"sales"}, "copy"}, false));
  ASSERT_OK_AND_ASSIGN(std::string folder, catalog_->warehouse().Resolve(moved.metadata.location));
  ASSERT_OK(catalog_->DropTable(root_, {{"archive"}, "orders_2025"}, true));
  // Through the warehouse's FileIO: local folders and object-store prefixes alike.
  ASSERT_OK_AND_ASSIGN(auto left, catalog_->warehouse().io().List(folder + "/"));
  EXPECT_THAT(left, ::testing::IsEmpty())
      << "purge leaves no files: " << (left.empty() ? "" : left[0].path);
  EXPECT_THAT(catalog_->DropNamespace(root_, {"sales"}),
              IsError(StatusCode::kFailedPrecondition, "not empty"));
  ASSERT_OK(catalog_->DropNamespace(root_, {"archive"}));
}

TEST_P(CatalogTest, StagedCreateCommitsThroughAssertCreate) {
  ASSERT_OK(catalog_->CreateNamespace(root_, {"sales"}, {}).status());
  json request = CreateRequest("staged");
  request["stage-create"] = true;
  ASSERT_OK_AND_ASSIGN(auto staged, catalog_->CreateTable(root_, {"sales"}, request));
  EXPECT_EQ(staged.metadata_location, "");
  EXPECT_THAT(catalog_->LoadTable(root_, {{"sales"}, "staged"}).status(),
              IsError(StatusCode::kNotFound));
  // The client commits the staged metadata as updates with assert-create.
  const json updates =
      json::array({{{"action", "assign-uuid"}, {"uuid", staged.metadata.table_uuid}},
                   {{"action", "upgrade-format-version"}, {"format-version", 2}},
                   {{"action", "add-schema"}, {"schema", kSchema}},
                   {{"action", "set-current-schema"}, {"schema-id", -1}},
                   {{"action", "set-location"}, {"location", staged.metadata.location}}});
  ASSERT_OK_AND_ASSIGN(
      auto committed,
      catalog_->CommitTable(root_, Commit({{"sales"}, "staged"},
                                          json::array({{{"type", "assert-create"}}}), updates)));
  EXPECT_EQ(committed.table.metadata.table_uuid, staged.metadata.table_uuid);
  EXPECT_THAT(catalog_
                  ->CommitTable(root_, Commit({{"sales"}, "staged"},
                                              json::array({{{"type", "assert-create"}}}), updates))
                  .status(),
              IsError(StatusCode::kConflict, "already exists"));
}

TEST_P(CatalogTest, TransactionsAreAllOrNothingAndRacesAreRetried) {
  ASSERT_OK(catalog_->CreateNamespace(root_, {"a"}, {}).status());
  ASSERT_OK(catalog_->CreateTable(root_, {"a"}, CreateRequest("t1")).status());
  ASSERT_OK(catalog_->CreateTable(root_, {"a"}, CreateRequest("t2")).status());
  const json set = json::array({{{"action", "set-properties"}, {"updates", {{"k", "v"}}}}});
  EXPECT_THAT(
      catalog_
          ->CommitTransaction(
              root_,
              {Commit({{"a"}, "t1"}, json::array(), set),
               Commit({{"a"}, "t2"},
                      json::array({{{"type", "assert-table-uuid"}, {"uuid", "stale"}}}), set)})
          .status(),
      IsError(StatusCode::kConflict, "table uuid does not match"));
  ASSERT_OK_AND_ASSIGN(auto t1, catalog_->LoadTable(root_, {{"a"}, "t1"}));
  EXPECT_FALSE(t1.metadata.properties.contains("k"));
  ASSERT_OK(catalog_
                ->CommitTransaction(root_, {Commit({{"a"}, "t1"}, json::array(), set),
                                            Commit({{"a"}, "t2"}, json::array(), set)})
                .status());

  // Eight writers setting different properties on one table: requirements that still hold are
  // re-applied on the winner's metadata, so nobody's change is lost.
  std::vector<std::thread> writers;
  std::atomic<int> failures = 0;
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&, w] {
      for (int n = 0; n < 5; ++n) {
        const json requirements =
            json::array({{{"type", "assert-table-uuid"}, {"uuid", t1.metadata.table_uuid}}});
        const json updates = json::array(
            {{{"action", "set-properties"},
              {"updates", {{"w" + std::to_string(w) + "-" + std::to_string(n), "x"}}}}});
        Status status =
            catalog_->CommitTable(root_, {{{"a"}, "t1"}, &requirements, &updates}).status();
        while (status.code() == StatusCode::kConflict) {  // the client's retry
          status = catalog_->CommitTable(root_, {{{"a"}, "t1"}, &requirements, &updates}).status();
        }
        if (!status.ok()) ++failures;
      }
    });
  }
  for (auto& writer : writers)
    writer.join();
  EXPECT_EQ(failures, 0);
  ASSERT_OK_AND_ASSIGN(t1, catalog_->LoadTable(root_, {{"a"}, "t1"}));
  int written = 0;
  for (const auto& [key, value] : t1.metadata.properties) {
    written += key.size() > 1 && key[0] == 'w' && std::isdigit(static_cast<unsigned char>(key[1]));
  }
  EXPECT_EQ(written, 40);
  EXPECT_EQ(t1.metadata.metadata_log.size(), 41u);  // the transaction's and the 40 commits' bases
}

TEST_P(CatalogTest, HostileNamesAndLocationsAreRefused) {
  for (const auto& levels : std::vector<metastore::Levels>{
           {""}, {".."}, {"a/b"}, {"a\nb"}, {std::string(256, 'x')}, {"ok", "."}}) {
    EXPECT_THAT(catalog_->CreateNamespace(root_, levels, {}).status(),
                IsError(StatusCode::kInvalidArgument));
  }
  ASSERT_OK(catalog_->CreateNamespace(root_, {"ok"}, {}).status());
  EXPECT_THAT(catalog_->CreateTable(root_, {"ok"}, CreateRequest("../../etc")).status(),
              IsError(StatusCode::kInvalidArgument, "contains '.'"));
  json outside = CreateRequest("t");
  outside["location"] = "file:///tmp/elsewhere";
  EXPECT_THAT(catalog_->CreateTable(root_, {"ok"}, outside).status(),
              IsError(StatusCode::kInvalidArgument, "cannot be placed"));
  EXPECT_THAT(catalog_->CreateTable(root_, {"ok"}, json::array()).status(),
              IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(catalog_->CreateTable(root_, {"ok"}, {{"name", "t"}}).status(),
              IsError(StatusCode::kInvalidArgument, "schema"));
  json bad_stage = CreateRequest("t");
  bad_stage["stage-create"] = 5;
  EXPECT_THAT(catalog_->CreateTable(root_, {"ok"}, bad_stage).status(),
              IsError(StatusCode::kInvalidArgument, "stage-create: expected a boolean"));
  json bad_spec = CreateRequest("t");
  bad_spec["partition-spec"]["fields"][0]["source-id"] = "2";
  EXPECT_THAT(catalog_->CreateTable(root_, {"ok"}, bad_spec).status(),
              IsError(StatusCode::kInvalidArgument));
  json bad_schema = CreateRequest("t");
  bad_schema["schema"]["fields"][0]["type"] = "varchar";
  EXPECT_THAT(catalog_->CreateTable(root_, {"ok"}, bad_schema).status(),
              IsError(StatusCode::kInvalidArgument));
}

// Principal x privilege x securable: each operation is allowed exactly when a grant includes
// the privilege it needs on its securable or a container of it.
TEST_P(CatalogTest, RbacMatrix) {
  ASSERT_OK(catalog_->CreateNamespace(root_, {"finance"}, {}).status());
  ASSERT_OK(catalog_->CreateNamespace(root_, {"other"}, {}).status());
  ASSERT_OK(catalog_->CreateTable(root_, {"finance"}, CreateRequest("revenue")).status());
  const TableIdentifier revenue{{"finance"}, "revenue"};

  // What each privilege includes, written out independently of the implementation.
  const std::map<std::string, std::set<std::string>> includes = {
      {"MANAGE_MESH",
       {"MANAGE_MESH", "MANAGE_GRANTS", "CREATE_DOMAIN", "CREATE_TABLE", "READ_METADATA",
        "READ_DATA", "WRITE_DATA", "ALTER", "DROP"}},
      {"MANAGE_GRANTS", {"MANAGE_GRANTS"}},
      {"CREATE_DOMAIN", {"CREATE_DOMAIN"}},
      {"CREATE_TABLE", {"CREATE_TABLE", "READ_METADATA"}},
      {"READ_METADATA", {"READ_METADATA"}},
      {"READ_DATA", {"READ_DATA", "READ_METADATA"}},
      {"WRITE_DATA", {"WRITE_DATA", "READ_DATA", "READ_METADATA"}},
      {"ALTER", {"ALTER", "READ_METADATA"}},
      {"DROP", {"DROP", "READ_METADATA"}},
  };
  struct Location {
    std::string name;
    Securable securable;
    // Which operation securables a grant here covers.
    std::set<std::string> covers;
  };
  const std::vector<Location> locations = {
      {"mesh", Securable::Mesh(), {"mesh", "finance", "revenue"}},
      {"namespace finance", Securable::Namespace({"finance"}), {"finance", "revenue"}},
      {"table finance.revenue", Securable::Table({"finance"}, "revenue"), {"revenue"}},
      {"namespace other", Securable::Namespace({"other"}), {}},
  };
  int counter = 0;
  struct Operation {
    std::string name;
    std::string privilege;
    std::string securable;  // mesh, finance or revenue
    std::function<Status(const Caller&)> run;
  };
  const json property = json::array({{{"action", "set-properties"}, {"updates", {{"x", "y"}}}}});
  const std::vector<Operation> operations = {
      {"load table", "READ_METADATA", "revenue",
       [&](const Caller& c) { return catalog_->LoadTable(c, revenue).status(); }},
      {"load namespace", "READ_METADATA", "finance",
       [&](const Caller& c) { return catalog_->LoadNamespace(c, {"finance"}).status(); }},
      {"alter table", "ALTER", "revenue",
       [&](const Caller& c) {
         return catalog_->CommitTable(c, {revenue, nullptr, &property}).status();
       }},
      {"write data", "WRITE_DATA", "revenue",
       [&](const Caller& c) {
         static const json empty = json::array();
         return catalog_->CommitTable(c, {revenue, nullptr, &empty}).status();
       }},
      {"create table", "CREATE_TABLE", "finance",
       [&](const Caller& c) {
         return catalog_
             ->CreateTable(c, {"finance"}, CreateRequest("t" + std::to_string(++counter)))
             .status();
       }},
      {"create domain", "CREATE_DOMAIN", "mesh",
       [&](const Caller& c) {
         return catalog_->CreateNamespace(c, {"d" + std::to_string(++counter)}, {}).status();
       }},
      {"drop table", "DROP", "revenue",
       [&](const Caller& c) {
         // Dropped, then recreated by root for the next check.
         Status status = catalog_->DropTable(c, revenue, false);
         if (status.ok()) {
           EXPECT_OK(catalog_->CreateTable(root_, {"finance"}, CreateRequest("revenue")).status());
         }
         return status;
       }},
      {"alter namespace", "ALTER", "finance",
       [&](const Caller& c) {
         return catalog_->UpdateNamespaceProperties(c, {"finance"}, {}, {{"k", "v"}}).status();
       }},
      {"grant on table", "MANAGE_GRANTS", "revenue",
       [&](const Caller& c) {
         return catalog_->Grant(c, "matrix_target", Privilege::kReadData,
                                Securable::Table({"finance"}, "revenue"));
       }},
      {"create role", "MANAGE_MESH", "mesh",
       [&](const Caller& c) {
         return catalog_->CreateRole(c, "r" + std::to_string(++counter), "");
       }},
  };
  ASSERT_OK(catalog_->CreateRole(root_, "matrix_target", ""));
  int checks = 0, allowed = 0;
  for (const auto& [privilege_name, included] : includes) {
    ASSERT_OK_AND_ASSIGN(Privilege privilege, ParsePrivilege(privilege_name));
    for (const Location& location : locations) {
      const std::string principal = "p" + std::to_string(++counter);
      Caller caller = PrincipalWith(principal, {{privilege, location.securable}});
      for (const Operation& operation : operations) {
        SCOPED_TRACE(privilege_name + " on " + location.name + ": " + operation.name);
        const bool expected =
            included.contains(operation.privilege) && location.covers.contains(operation.securable);
        Status status = operation.run(caller);
        ++checks;
        if (expected) {
          ++allowed;
          EXPECT_OK(status);
        } else {
          EXPECT_THAT(status,
                      IsError(StatusCode::kPermissionDenied,
                              "principal '" + principal + "' lacks " + operation.privilege));
        }
      }
    }
  }
  RecordProperty("checks", checks);
  RecordProperty("allowed", allowed);
  EXPECT_EQ(checks, 9 * 4 * 10);

  // Listings show only what the caller may see.
  Caller reader =
      PrincipalWith("reader", {{Privilege::kReadData, Securable::Table({"finance"}, "revenue")}});
  ASSERT_OK_AND_ASSIGN(auto namespaces, catalog_->ListNamespaces(reader, {}, {}));
  ASSERT_EQ(namespaces.items.size(), 1u);
  EXPECT_THAT(namespaces.items[0].levels, ElementsAre("finance"));
  ASSERT_OK_AND_ASSIGN(auto tables, catalog_->ListTables(reader, {"finance"}, {}));
  EXPECT_THAT(tables.items, ElementsAre("revenue"));
}

INSTANTIATE_TEST_SUITE_P(Backends, CatalogTest, ::testing::Values("sqlite", "postgresql", "s3"),
                         [](const auto& info) { return info.param; });

TEST_P(CatalogTest, EveryAccessDecisionIsAuditedAndOnlyAuditorsReadTheLog) {
  ASSERT_OK(catalog_->CreateNamespace(root_, {"finance"}, {}).status());
  Caller reader =
      PrincipalWith("reader", {{Privilege::kReadData, Securable::Namespace({"finance"})}});
  reader.channel = "pg";
  Caller auditor = PrincipalWith("auditor", {{Privilege::kReadAudit, Securable::Mesh()}});
  ASSERT_OK(catalog_->Authorize(reader, Privilege::kReadData, Securable::Table({"finance"}, "t")));
  EXPECT_THAT(catalog_->Authorize(reader, Privilege::kWriteData, Securable::Namespace({"finance"})),
              IsError(StatusCode::kPermissionDenied));
  Caller internal{.principal = "meshwork", .is_root = true, .internal = true};
  ASSERT_OK(catalog_->Authorize(internal, Privilege::kReadData, Securable::Mesh()));

  EXPECT_THAT(catalog_->ListAudit(reader, {}), IsError(StatusCode::kPermissionDenied));
  ASSERT_OK_AND_ASSIGN(auto records, catalog_->ListAudit(auditor, {.principal = "reader"}));
  // Newest first: the auditor's refusal of the reader's ListAudit, the denied write, the read.
  ASSERT_GE(records.size(), 3u);
  EXPECT_EQ(records[0].operation, "READ_AUDIT");
  EXPECT_FALSE(records[0].allowed);
  EXPECT_EQ(records[1].operation, "WRITE_DATA");
  EXPECT_FALSE(records[1].allowed);
  EXPECT_THAT(records[1].reason, HasSubstr("lacks WRITE_DATA on namespace finance"));
  EXPECT_EQ(records[1].channel, "pg");
  EXPECT_EQ(records[2].operation, "READ_DATA");
  EXPECT_TRUE(records[2].allowed);
  EXPECT_EQ(records[2].securables, "finance.t");
  EXPECT_EQ(records[2].reason, "role reader_role holds READ_DATA on namespace finance");
  ASSERT_OK_AND_ASSIGN(auto internal_records,
                       catalog_->ListAudit(auditor, {.principal = "meshwork"}));
  EXPECT_TRUE(internal_records.empty());
  EXPECT_THAT(catalog_->ListAudit(auditor, {.limit = Catalog::kMaxAuditPage + 1}),
              IsError(StatusCode::kInvalidArgument));
}

TEST_P(CatalogTest, AuditRetentionDeletesOldRecordsAndSaysSo) {
  constexpr int64_t kDay = 86'400'000;
  const int64_t now = time::NowMillis();
  // Two records from 400 and 10 days ago, written straight to the metastore.
  ASSERT_OK(metastore_->AppendAudit(
      {{.at_ms = now - 400 * kDay, .principal = "old", .channel = "rest", .operation = "READ_DATA"},
       {.at_ms = now - 10 * kDay,
        .principal = "recent",
        .channel = "rest",
        .operation = "READ_DATA"}}));
  EXPECT_THAT(
      Catalog::Open(*metastore_, {.warehouse_root = (scratch_.path() / "warehouse").string(),
                                  .audit_retention_days = -1}),
      IsError(StatusCode::kInvalidArgument));
  Open({.audit_retention_days = 365});
  Caller auditor = PrincipalWith("auditor", {{Privilege::kReadAudit, Securable::Mesh()}});
  // The writer expires at start, in the background: wait for its record.
  std::vector<metastore::AuditRecord> expiries;
  for (int attempt = 0; attempt < 100 && expiries.empty(); ++attempt) {
    ASSERT_OK_AND_ASSIGN(expiries, catalog_->ListAudit(auditor, {.operation = "audit_expire"}));
    if (expiries.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(expiries.size(), 1u);
  EXPECT_EQ(expiries[0].principal, "meshwork");
  EXPECT_EQ(expiries[0].channel, "system");
  EXPECT_THAT(expiries[0].reason, HasSubstr("retention of 365 days"));
  EXPECT_THAT(expiries[0].details, HasSubstr(R"("removed": 1)"));
  ASSERT_OK_AND_ASSIGN(auto old, catalog_->ListAudit(auditor, {.principal = "old"}));
  EXPECT_TRUE(old.empty());
  ASSERT_OK_AND_ASSIGN(auto recent, catalog_->ListAudit(auditor, {.principal = "recent"}));
  EXPECT_EQ(recent.size(), 1u);
}

TEST_P(CatalogTest, UnmaskOnAClassificationCoversItsSubclassesOnly) {
  Caller officer =
      PrincipalWith("officer", {{Privilege::kUnmask, Securable::Classification("pii")}});
  EXPECT_TRUE(
      catalog_->Authorize(officer, Privilege::kUnmask, Securable::Classification("pii")).ok());
  EXPECT_TRUE(
      catalog_->Authorize(officer, Privilege::kUnmask, Securable::Classification("pii.email"))
          .ok());
  EXPECT_FALSE(
      catalog_->Authorize(officer, Privilege::kUnmask, Securable::Classification("piix")).ok());
  EXPECT_FALSE(
      catalog_->Authorize(officer, Privilege::kUnmask, Securable::Classification("confidential"))
          .ok());
  EXPECT_FALSE(
      catalog_->Authorize(officer, Privilege::kUnmask, Securable::Table({"finance"}, "t")).ok());
  EXPECT_FALSE(
      catalog_->Authorize(officer, Privilege::kReadData, Securable::Classification("pii")).ok());
  ASSERT_OK(catalog_->CreateRole(root_, "r2", ""));
  EXPECT_THAT(catalog_->Grant(root_, "r2", Privilege::kReadData, Securable::Classification("pii")),
              IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(
      catalog_->Grant(root_, "r2", Privilege::kUnmask, Securable::Classification("Bad Name")),
      IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(catalog_->Grant(root_, "r2", Privilege::kReadAudit, Securable::Namespace({"x"})),
              IsError(StatusCode::kInvalidArgument));
  ASSERT_OK(catalog_->Grant(root_, "r2", Privilege::kUnmask, Securable::Classification("pii.*")));
}

TEST(CredentialsTest, SecretsAreSaltedSlowHashes) {
  const std::string hash = HashSecret("s3cret");
  EXPECT_TRUE(hash.starts_with("scrypt$16384$8$1$"));
  EXPECT_THAT(hash, ::testing::Not(HasSubstr("s3cret")));
  EXPECT_NE(hash, HashSecret("s3cret"));  // salted
  EXPECT_TRUE(VerifySecret("s3cret", hash));
  EXPECT_FALSE(VerifySecret("s3cret!", hash));
  EXPECT_FALSE(VerifySecret("s3cret", "scrypt$1048576$8$1$AAAA$AAAA"));  // no memory bombs
  EXPECT_FALSE(VerifySecret("s3cret", "garbage"));
  EXPECT_FALSE(VerifySecret("s3cret", ""));
  for (const std::string text : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    ASSERT_OK_AND_ASSIGN(std::string decoded, Base64UrlDecode(Base64UrlEncode(text)));
    EXPECT_EQ(decoded, text);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  // Hostile tokens: wrong member types are refusals, never exceptions.
  for (const std::string header : {R"({"alg":5})", R"([1])", R"("x")", R"({"alg":"HS256"})"}) {
    const std::string token = Base64UrlEncode(header) + "." +
                              Base64UrlEncode(R"({"sub":5,"cv":"1","exp":true,"iat":"x"})") +
                              ".sig";
    EXPECT_THAT(VerifyToken(token, "key", 0).status(), IsError(StatusCode::kUnauthenticated));
  }
  EXPECT_THAT(Base64UrlDecode("a+b").status(), IsError(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace meshwork::catalog
