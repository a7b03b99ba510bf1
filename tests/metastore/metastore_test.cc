// The same suite against both backends: SQLite (a file in a scratch folder) and PostgreSQL (a
// fresh database per test on the CTest fixture's server).
#include "metastore/metastore.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "metastore/sql_connection.h"  // white-box: to fake a newer schema
#include "testing/postgres_server.h"
#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork::metastore {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

const Actor kAlice{.principal = "alice", .request_id = "req-1"};

class MetastoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      url_ = (scratch_.path() / "meshwork.db").string();
    } else {
      std::string why;
      testing::PostgresServer* server = testing::SharedPostgresServer(why);
      if (server == nullptr) GTEST_SKIP() << "PostgreSQL backend NOT TESTED: " << why;
      url_ = server->CreateDatabase("metastore");
      ASSERT_FALSE(url_.empty()) << "createdb failed";
    }
    ASSERT_OK_AND_ASSIGN(store_, Metastore::Open({.url = url_}));
  }

  std::unique_ptr<Metastore> OpenAnother() {
    auto opened = Metastore::Open({.url = url_});
    EXPECT_OK(opened.status());
    return opened.ok() ? std::move(*opened) : nullptr;
  }

  Status CreateTable(const Levels& ns, const std::string& name, const std::string& location,
                     ObjectKind kind = ObjectKind::kTable) {
    return store_->CommitPointers(kAlice, {{.namespace_levels = ns,
                                            .name = name,
                                            .kind = kind,
                                            .expected = std::nullopt,
                                            .new_location = location}});
  }

  Status Swap(const Levels& ns, const std::string& name, const std::string& expected,
              const std::string& next) {
    return store_->CommitPointers(
        kAlice,
        {{.namespace_levels = ns, .name = name, .expected = expected, .new_location = next}});
  }

  testing::ScratchDir scratch_{"metastore"};
  std::string url_;
  std::unique_ptr<Metastore> store_;
};

TEST_P(MetastoreTest, MigratesOnceAndReopens) {
  EXPECT_EQ(store_->backend(), GetParam());
  ASSERT_OK_AND_ASSIGN(int64_t version, store_->SchemaVersion());
  EXPECT_GE(version, 1);
  ASSERT_OK(store_->CreateNamespace(kAlice, {"finance"}, {}));
  store_.reset();
  ASSERT_OK_AND_ASSIGN(store_, Metastore::Open({.url = url_}));
  EXPECT_THAT(store_->SchemaVersion(), IsOkAndHolds(version));
  EXPECT_THAT(store_->NamespaceExists({"finance"}), IsOkAndHolds(true));
  EXPECT_OK(store_->Ping());
}

TEST_P(MetastoreTest, ServersStartingTogetherMigrateOnce) {
  // A fresh database each for SQLite and PostgreSQL, opened by four "servers" at once.
  std::string fresh = GetParam() == "sqlite" ? (scratch_.path() / "fresh.db").string() : "";
  if (GetParam() != "sqlite") {
    std::string why;
    fresh = testing::SharedPostgresServer(why)->CreateDatabase("migrate");
  }
  std::atomic<int> opened = 0;
  std::vector<std::thread> servers;
  for (int i = 0; i < 4; ++i) {
    servers.emplace_back([&] {
      auto store = Metastore::Open({.url = fresh});
      EXPECT_OK(store.status());
      if (store.ok()) ++opened;
    });
  }
  for (auto& server : servers)
    server.join();
  EXPECT_EQ(opened, 4);
}

TEST_P(MetastoreTest, NamespacesNestListPageAndCarryProperties) {
  ASSERT_OK(store_->CreateNamespace(kAlice, {"finance"}, {{"owner", "finance-team"}}));
  ASSERT_OK(store_->CreateNamespace(kAlice, {"marketing"}, {}));
  ASSERT_OK(store_->CreateNamespace(kAlice, {"Zeta"}, {}));
  ASSERT_OK(store_->CreateNamespace(kAlice, {"finance", "ledger"}, {}));
  EXPECT_THAT(store_->CreateNamespace(kAlice, {"finance"}, {}),
              IsError(StatusCode::kAlreadyExists, "namespace 'finance' already exists"));
  EXPECT_THAT(store_->CreateNamespace(kAlice, {"sales", "eu"}, {}),
              IsError(StatusCode::kNotFound, "namespace 'sales' does not exist"));

  ASSERT_OK_AND_ASSIGN(NamespaceRecord finance, store_->LoadNamespace({"finance"}));
  EXPECT_EQ(finance.properties.at("owner"), "finance-team");
  EXPECT_GT(finance.created_at_ms, 0);
  EXPECT_THAT(store_->LoadNamespace({"nope"}).status(),
              IsError(StatusCode::kNotFound, "namespace 'nope' does not exist"));

  // Byte order on both backends: upper case before lower case.
  ASSERT_OK_AND_ASSIGN(auto top, store_->ListNamespaces({}, {}));
  std::vector<std::string> names;
  for (const auto& ns : top.items)
    names.push_back(JoinLevels(ns.levels));
  EXPECT_THAT(names, ElementsAre("Zeta", "finance", "marketing"));
  EXPECT_EQ(top.next_token, "");
  ASSERT_OK_AND_ASSIGN(auto children, store_->ListNamespaces({"finance"}, {}));
  ASSERT_THAT(children.items, SizeIs(1));
  EXPECT_THAT(children.items[0].levels, ElementsAre("finance", "ledger"));

  // Pages of two: the token continues where the last page ended.
  ASSERT_OK_AND_ASSIGN(auto first, store_->ListNamespaces({}, {.size = 2}));
  ASSERT_THAT(first.items, SizeIs(2));
  ASSERT_NE(first.next_token, "");
  ASSERT_OK_AND_ASSIGN(auto second,
                       store_->ListNamespaces({}, {.token = first.next_token, .size = 2}));
  ASSERT_THAT(second.items, SizeIs(1));
  EXPECT_THAT(second.items[0].levels, ElementsAre("marketing"));
  EXPECT_EQ(second.next_token, "");

  ASSERT_OK_AND_ASSIGN(PropertiesUpdate update,
                       store_->UpdateNamespaceProperties(kAlice, {"finance"}, {"owner", "ghost"},
                                                         {{"sla", "gold"}}));
  EXPECT_THAT(update.updated, ElementsAre("sla"));
  EXPECT_THAT(update.removed, ElementsAre("owner"));
  EXPECT_THAT(update.missing, ElementsAre("ghost"));
  ASSERT_OK_AND_ASSIGN(finance, store_->LoadNamespace({"finance"}));
  EXPECT_EQ(finance.properties, (Properties{{"sla", "gold"}}));
  EXPECT_THAT(store_->UpdateNamespaceProperties(kAlice, {"finance"}, {"sla"}, {{"sla", "x"}}),
              IsError(StatusCode::kInvalidArgument, "both updated and removed"));

  EXPECT_THAT(store_->DropNamespace(kAlice, {"finance"}),
              IsError(StatusCode::kFailedPrecondition, "not empty"));
  ASSERT_OK(store_->DropNamespace(kAlice, {"finance", "ledger"}));
  ASSERT_OK(store_->DropNamespace(kAlice, {"finance"}));
  EXPECT_THAT(store_->DropNamespace(kAlice, {"finance"}), IsError(StatusCode::kNotFound));
  EXPECT_THAT(store_->ListNamespaces({"finance"}, {}).status(), IsError(StatusCode::kNotFound));
}

TEST_P(MetastoreTest, RefusesBadNames) {
  EXPECT_THAT(store_->CreateNamespace(kAlice, {}, {}), IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->CreateNamespace(kAlice, {""}, {}),
              IsError(StatusCode::kInvalidArgument, "empty"));
  EXPECT_THAT(store_->CreateNamespace(kAlice,
                                      {"a\x1f"
                                       "b"},
                                      {}),
              IsError(StatusCode::kInvalidArgument, "control character"));
  EXPECT_THAT(store_->CreateNamespace(kAlice, {std::string("a\0b", 3)}, {}),
              IsError(StatusCode::kInvalidArgument, "control character"));
  ASSERT_OK(store_->CreateNamespace(kAlice, {"ok"}, {}));
  EXPECT_THAT(CreateTable({"ok"}, "bad\nname", "file:///m.json"),
              IsError(StatusCode::kInvalidArgument, "control character"));
  // Quotes and SQL in names are data, never SQL.
  ASSERT_OK(store_->CreateNamespace(kAlice, {"x'; DROP TABLE objects; --"}, {}));
  EXPECT_THAT(store_->NamespaceExists({"x'; DROP TABLE objects; --"}), IsOkAndHolds(true));
}

TEST_P(MetastoreTest, PointerSwapIsACompareAndSwap) {
  ASSERT_OK(store_->CreateNamespace(kAlice, {"sales"}, {}));
  ASSERT_OK(CreateTable({"sales"}, "orders", "file:///w/orders/v1.json"));
  EXPECT_THAT(CreateTable({"sales"}, "orders", "file:///w/orders/other.json"),
              IsError(StatusCode::kAlreadyExists, "table 'sales.orders' already exists"));
  EXPECT_THAT(CreateTable({"sales"}, "orders", "file:///v.json", ObjectKind::kView),
              IsError(StatusCode::kAlreadyExists, "table 'sales.orders' already exists"));
  EXPECT_THAT(CreateTable({"nowhere"}, "orders", "file:///x.json"),
              IsError(StatusCode::kNotFound, "namespace 'nowhere' does not exist"));

  ASSERT_OK(Swap({"sales"}, "orders", "file:///w/orders/v1.json", "file:///w/orders/v2.json"));
  EXPECT_THAT(Swap({"sales"}, "orders", "file:///w/orders/v1.json", "file:///w/orders/v3.json"),
              IsError(StatusCode::kConflict, "its metadata is now file:///w/orders/v2.json"));
  EXPECT_THAT(Swap({"sales"}, "missing", "a", "b"),
              IsError(StatusCode::kNotFound, "table 'sales.missing' does not exist"));

  ASSERT_OK_AND_ASSIGN(ObjectRecord orders,
                       store_->LoadObject({"sales"}, "orders", ObjectKind::kTable));
  EXPECT_EQ(orders.metadata_location, "file:///w/orders/v2.json");
  EXPECT_EQ(orders.version, 2);
  // Retrying a swap (or a create) that already committed is done, not a conflict: after a lost
  // connection the caller cannot know, and must not delete a file the pointer names.
  ASSERT_OK(Swap({"sales"}, "orders", "file:///w/orders/v1.json", "file:///w/orders/v2.json"));
  ASSERT_OK(CreateTable({"sales"}, "orders", "file:///w/orders/v2.json"));
  ASSERT_OK_AND_ASSIGN(orders, store_->LoadObject({"sales"}, "orders", ObjectKind::kTable));
  EXPECT_EQ(orders.version, 2);
  // A table is not a view.
  EXPECT_THAT(store_->LoadObject({"sales"}, "orders", ObjectKind::kView).status(),
              IsError(StatusCode::kNotFound, "view 'sales.orders' does not exist"));
}

TEST_P(MetastoreTest, MultiTableCommitsAreAllOrNothing) {
  ASSERT_OK(store_->CreateNamespace(kAlice, {"a"}, {}));
  ASSERT_OK(CreateTable({"a"}, "t1", "t1-v1"));
  ASSERT_OK(CreateTable({"a"}, "t2", "t2-v1"));
  // t2's expectation is stale: t1 must not move either, and the new table must not appear.
  EXPECT_THAT(
      store_->CommitPointers(
          kAlice,
          {{.namespace_levels = {"a"}, .name = "t1", .expected = "t1-v1", .new_location = "t1-v2"},
           {.namespace_levels = {"a"}, .name = "t3", .new_location = "t3-v1"},
           {.namespace_levels = {"a"},
            .name = "t2",
            .expected = "stale",
            .new_location = "t2-v2"}}),
      IsError(StatusCode::kConflict, "table 'a.t2'"));
  EXPECT_EQ(store_->LoadObject({"a"}, "t1", ObjectKind::kTable)->metadata_location, "t1-v1");
  EXPECT_THAT(store_->LoadObject({"a"}, "t3", ObjectKind::kTable).status(),
              IsError(StatusCode::kNotFound));
  ASSERT_OK(store_->CommitPointers(
      kAlice,
      {{.namespace_levels = {"a"}, .name = "t2", .expected = "t2-v1", .new_location = "t2-v2"},
       {.namespace_levels = {"a"}, .name = "t1", .expected = "t1-v1", .new_location = "t1-v2"}}));
  EXPECT_EQ(store_->LoadObject({"a"}, "t2", ObjectKind::kTable)->metadata_location, "t2-v2");
  EXPECT_THAT(
      store_->CommitPointers(
          kAlice,
          {{.namespace_levels = {"a"}, .name = "t1", .expected = "t1-v2", .new_location = "x"},
           {.namespace_levels = {"a"}, .name = "t1", .expected = "t1-v2", .new_location = "y"}}),
      IsError(StatusCode::kInvalidArgument, "appears twice"));
}

TEST_P(MetastoreTest, ConcurrentCommittersThroughSeveralStoresLoseNothing) {
  ASSERT_OK(store_->CreateNamespace(kAlice, {"hot"}, {}));
  ASSERT_OK(CreateTable({"hot"}, "t", "v0"));
  // Three "servers" on one database, 4 committers each, 15 commits per committer, each
  // reloading and retrying when it loses the race.
  std::vector<std::unique_ptr<Metastore>> servers;
  for (int i = 0; i < 3; ++i)
    servers.push_back(OpenAnother());
  constexpr int kPerCommitter = 15;
  std::atomic<int> conflicts = 0;
  std::vector<std::thread> committers;
  for (int c = 0; c < 12; ++c) {
    committers.emplace_back([&, c] {
      Metastore& server = *servers[c % servers.size()];
      for (int n = 0; n < kPerCommitter; ++n) {
        while (true) {
          auto current = server.LoadObject({"hot"}, "t", ObjectKind::kTable);
          ASSERT_OK(current.status());
          Status swapped = server.CommitPointers(
              kAlice, {{.namespace_levels = {"hot"},
                        .name = "t",
                        .expected = current->metadata_location,
                        .new_location = "c" + std::to_string(c) + "-" + std::to_string(n)}});
          if (swapped.ok()) break;
          ASSERT_EQ(swapped.code(), StatusCode::kConflict) << swapped.ToString();
          ++conflicts;
        }
      }
    });
  }
  for (auto& committer : committers)
    committer.join();
  ASSERT_OK_AND_ASSIGN(ObjectRecord t, store_->LoadObject({"hot"}, "t", ObjectKind::kTable));
  EXPECT_EQ(t.version, 1 + 12 * kPerCommitter);
  RecordProperty("conflicts", conflicts.load());

  // The event log is one linear chain: each commit's previous location is the one before.
  ASSERT_OK_AND_ASSIGN(auto events, store_->ListEvents(0, 0));
  std::string expected_previous = "v0";
  int commits = 0;
  std::set<std::string> seen;
  for (const EventRecord& event : events) {
    if (event.action != "commit") continue;
    ++commits;
    EXPECT_THAT(event.details, HasSubstr("\"previous\":\"" + expected_previous + "\""));
    const auto at = event.details.find("\"metadata-location\":\"") + 21;
    expected_previous = event.details.substr(at, event.details.find('"', at) - at);
    EXPECT_TRUE(seen.insert(expected_previous).second) << "a location committed twice";
  }
  EXPECT_EQ(commits, 12 * kPerCommitter);
  EXPECT_EQ(expected_previous, t.metadata_location);
}

TEST_P(MetastoreTest, ListRenameAndDropObjectsWithTheirGrants) {
  ASSERT_OK(store_->CreateNamespace(kAlice, {"a"}, {}));
  ASSERT_OK(store_->CreateNamespace(kAlice, {"b"}, {}));
  for (const char* name : {"t3", "t1", "t2"})
    ASSERT_OK(CreateTable({"a"}, name, name));
  ASSERT_OK(CreateTable({"a"}, "v1", "v1", ObjectKind::kView));
  ASSERT_OK_AND_ASSIGN(auto tables, store_->ListObjects({"a"}, ObjectKind::kTable, {.size = 2}));
  ASSERT_THAT(tables.items, SizeIs(2));
  EXPECT_EQ(tables.items[0].name, "t1");
  EXPECT_EQ(tables.items[1].name, "t2");
  ASSERT_OK_AND_ASSIGN(auto rest, store_->ListObjects({"a"}, ObjectKind::kTable,
                                                      {.token = tables.next_token, .size = 2}));
  ASSERT_THAT(rest.items, SizeIs(1));
  EXPECT_EQ(rest.items[0].name, "t3");
  EXPECT_EQ(rest.next_token, "");
  ASSERT_OK_AND_ASSIGN(auto views, store_->ListObjects({"a"}, ObjectKind::kView, {}));
  ASSERT_THAT(views.items, SizeIs(1));

  ASSERT_OK(store_->CreateRole(kAlice, {.name = "readers"}));
  ASSERT_OK(store_->AddGrant(kAlice, {.role = "readers",
                                      .privilege = "READ_DATA",
                                      .securable_kind = "table",
                                      .securable_path = {"a", "t1"}}));
  ASSERT_OK(store_->RenameObject(kAlice, ObjectKind::kTable, {"a"}, "t1", {"b"}, "moved"));
  ASSERT_OK_AND_ASSIGN(auto grants, store_->ListGrants("readers"));
  ASSERT_THAT(grants, SizeIs(1));
  EXPECT_THAT(grants[0].securable_path, ElementsAre("b", "moved"));
  EXPECT_THAT(store_->RenameObject(kAlice, ObjectKind::kTable, {"a"}, "t2", {"a"}, "v1"),
              IsError(StatusCode::kAlreadyExists, "view 'a.v1' already exists"));
  EXPECT_THAT(store_->RenameObject(kAlice, ObjectKind::kTable, {"a"}, "t2", {"c"}, "x"),
              IsError(StatusCode::kNotFound, "namespace 'c'"));
  EXPECT_THAT(store_->RenameObject(kAlice, ObjectKind::kTable, {"a"}, "gone", {"a"}, "x"),
              IsError(StatusCode::kNotFound, "table 'a.gone'"));

  ASSERT_OK_AND_ASSIGN(ObjectRecord dropped,
                       store_->DropObject(kAlice, ObjectKind::kTable, {"b"}, "moved"));
  EXPECT_EQ(dropped.metadata_location, "t1");
  EXPECT_THAT(store_->ListGrants("readers"), IsOkAndHolds(IsEmpty()));
  // Recreated under the same name, it does not inherit the old grants.
  ASSERT_OK(CreateTable({"b"}, "moved", "again"));
  EXPECT_THAT(store_->GrantsOfPrincipal("anyone"), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(store_->DropObject(kAlice, ObjectKind::kView, {"b"}, "moved").status(),
              IsError(StatusCode::kNotFound, "view 'b.moved'"));
}

TEST_P(MetastoreTest, PrincipalsRolesAndGrants) {
  PrincipalRecord bob{.name = "bob", .client_id = "bob-id", .secret_hash = "scrypt$fake"};
  ASSERT_OK(store_->CreatePrincipal(kAlice, bob));
  EXPECT_THAT(store_->CreatePrincipal(kAlice, bob), IsError(StatusCode::kAlreadyExists));
  EXPECT_THAT(store_->CreatePrincipal(
                  kAlice, {.name = "bob2", .client_id = "bob-id", .secret_hash = "scrypt$x"}),
              IsError(StatusCode::kAlreadyExists, "client id"));
  ASSERT_OK_AND_ASSIGN(PrincipalRecord loaded, store_->LoadPrincipalByClientId("bob-id"));
  EXPECT_EQ(loaded.name, "bob");
  EXPECT_EQ(loaded.credential_version, 1);
  EXPECT_THAT(store_->LoadPrincipalByClientId("nobody").status(), IsError(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(int64_t version, store_->RotateCredentials(kAlice, "bob", "scrypt$new"));
  EXPECT_EQ(version, 2);
  ASSERT_OK_AND_ASSIGN(loaded, store_->LoadPrincipal("bob"));
  EXPECT_EQ(loaded.secret_hash, "scrypt$new");
  EXPECT_GE(loaded.rotated_at_ms, loaded.created_at_ms);

  ASSERT_OK(store_->CreateRole(kAlice, {.name = "analyst", .description = "reads"}));
  EXPECT_THAT(store_->CreateRole(kAlice, {.name = "analyst"}), IsError(StatusCode::kAlreadyExists));
  ASSERT_OK(store_->AssignRole(kAlice, "bob", "analyst"));
  ASSERT_OK(store_->AssignRole(kAlice, "bob", "analyst"));  // idempotent
  EXPECT_THAT(store_->AssignRole(kAlice, "bob", "ghost"), IsError(StatusCode::kNotFound, "role"));
  EXPECT_THAT(store_->AssignRole(kAlice, "ghost", "analyst"),
              IsError(StatusCode::kNotFound, "principal"));
  EXPECT_THAT(store_->RolesOfPrincipal("bob"), IsOkAndHolds(ElementsAre("analyst")));
  GrantRecord read{.role = "analyst",
                   .privilege = "READ_DATA",
                   .securable_kind = "namespace",
                   .securable_path = {"finance"}};
  ASSERT_OK(store_->AddGrant(kAlice, read));
  ASSERT_OK(store_->AddGrant(
      kAlice, {.role = "analyst", .privilege = "READ_METADATA", .securable_kind = "mesh"}));
  ASSERT_OK_AND_ASSIGN(auto grants, store_->GrantsOfPrincipal("bob"));
  ASSERT_THAT(grants, SizeIs(2));
  EXPECT_EQ(grants[0].securable_kind, "mesh");
  EXPECT_EQ(grants[1].granted_by, "alice");
  ASSERT_OK(store_->RemoveGrant(kAlice, read));
  EXPECT_THAT(store_->RemoveGrant(kAlice, read), IsError(StatusCode::kNotFound));

  ASSERT_OK(store_->UnassignRole(kAlice, "bob", "analyst"));
  EXPECT_THAT(store_->GrantsOfPrincipal("bob"), IsOkAndHolds(IsEmpty()));
  ASSERT_OK(store_->AssignRole(kAlice, "bob", "analyst"));
  // Dropping a role takes its grants and assignments along.
  ASSERT_OK(store_->DropRole(kAlice, "analyst"));
  EXPECT_THAT(store_->RolesOfPrincipal("bob"), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(store_->ListGrants(""), IsOkAndHolds(IsEmpty()));
  ASSERT_OK(store_->DropPrincipal(kAlice, "bob"));
  EXPECT_THAT(store_->ListPrincipals(), IsOkAndHolds(IsEmpty()));
}

TEST_P(MetastoreTest, SettingsAgreeAcrossServers) {
  auto other = OpenAnother();
  ASSERT_NE(other, nullptr);
  EXPECT_THAT(store_->GetSetting("signing-key"), IsOkAndHolds(std::nullopt));
  ASSERT_OK_AND_ASSIGN(std::string first, store_->SetSettingIfAbsent("signing-key", "one"));
  ASSERT_OK_AND_ASSIGN(std::string second, other->SetSettingIfAbsent("signing-key", "two"));
  EXPECT_EQ(first, "one");
  EXPECT_EQ(second, "one");
}

TEST_P(MetastoreTest, EveryChangeIsInTheEventLogWithItsActor) {
  ASSERT_OK(store_->CreateNamespace(kAlice, {"a"}, {}));
  ASSERT_OK(CreateTable({"a"}, "t", "l1"));
  ASSERT_OK(Swap({"a"}, "t", "l1", "l2"));
  EXPECT_THAT(Swap({"a"}, "t", "l1", "l3"), IsError(StatusCode::kConflict));  // not logged
  ASSERT_OK(store_->DropObject(kAlice, ObjectKind::kTable, {"a"}, "t").status());
  ASSERT_OK(store_->CreatePrincipal(kAlice, {.name = "p", .client_id = "c", .secret_hash = "h"}));
  ASSERT_OK_AND_ASSIGN(auto events, store_->ListEvents(0, 0));
  std::vector<std::string> actions;
  for (const auto& event : events) {
    actions.push_back(event.action + " " + event.object_kind + " " + event.object_name);
    EXPECT_EQ(event.principal, "alice");
    EXPECT_EQ(event.request_id, "req-1");
    EXPECT_THAT(event.details, ::testing::Not(HasSubstr("\"h\"")));  // no secret hashes
  }
  EXPECT_THAT(actions,
              ElementsAre("create_namespace namespace a", "create table a.t", "commit table a.t",
                          "drop table a.t", "create_principal principal p"));
  ASSERT_OK_AND_ASSIGN(auto tail, store_->ListEvents(events[2].id, 2));
  ASSERT_THAT(tail, SizeIs(2));
  EXPECT_EQ(tail[0].action, "drop");
}

TEST_P(MetastoreTest, AuditRecordsAreFilteredAndPagedNewestFirst) {
  std::vector<AuditRecord> batch;
  for (int i = 0; i < 30; ++i) {
    batch.push_back({.at_ms = 1000 + i,
                     .principal = i % 3 == 0 ? "mkt_analyst" : "gov_officer",
                     .request_id = "r" + std::to_string(i),
                     .channel = "pg",
                     .operation = i % 2 == 0 ? "query" : "READ_DATA",
                     .securables = i % 5 == 0 ? "finance.q3_revenue,customers.customers"
                                              : "finance.q3_revenue_v2",
                     .allowed = i % 4 != 0,
                     .reason = "why " + std::to_string(i),
                     .policies = "personal-data/mask-emails",
                     .fingerprint = "0123456789abcdef",
                     .rows = i,
                     .details = R"({"statement":"select ?"})"});
  }
  ASSERT_OK(store_->AppendAudit(batch));
  ASSERT_OK(store_->AppendAudit({}));  // nothing to write is fine

  ASSERT_OK_AND_ASSIGN(auto newest, store_->ListAudit({.limit = 5}));
  ASSERT_THAT(newest, SizeIs(5));
  EXPECT_EQ(newest[0].request_id, "r29");
  EXPECT_EQ(newest[0].rows, 29);
  EXPECT_EQ(newest[0].details, R"({"statement":"select ?"})");
  ASSERT_OK_AND_ASSIGN(auto next, store_->ListAudit({.before_id = newest[4].id, .limit = 5}));
  ASSERT_THAT(next, SizeIs(5));
  EXPECT_EQ(next[0].request_id, "r24");

  ASSERT_OK_AND_ASSIGN(auto analyst, store_->ListAudit({.principal = "mkt_analyst", .limit = 0}));
  EXPECT_THAT(analyst, SizeIs(10));
  ASSERT_OK_AND_ASSIGN(auto denied, store_->ListAudit({.allowed = false, .limit = 0}));
  EXPECT_THAT(denied, SizeIs(8));
  for (const auto& record : denied)
    EXPECT_FALSE(record.allowed);
  // Membership in the list, not a substring: q3_revenue does not match q3_revenue_v2.
  ASSERT_OK_AND_ASSIGN(auto customers,
                       store_->ListAudit({.securable = "customers.customers", .limit = 0}));
  EXPECT_THAT(customers, SizeIs(6));
  ASSERT_OK_AND_ASSIGN(auto q3, store_->ListAudit({.securable = "finance.q3_revenue", .limit = 0}));
  EXPECT_THAT(q3, SizeIs(6));
  ASSERT_OK_AND_ASSIGN(
      auto window,
      store_->ListAudit({.operation = "query", .since_ms = 1010, .until_ms = 1020, .limit = 0}));
  EXPECT_THAT(window, SizeIs(5));
  // A pattern character in the filter is not a wildcard for anything but itself.
  ASSERT_OK_AND_ASSIGN(auto none, store_->ListAudit({.securable = "%", .limit = 0}));
  EXPECT_THAT(none, IsEmpty());

  ASSERT_OK_AND_ASSIGN(int64_t expired, store_->ExpireAudit(1010));
  EXPECT_EQ(expired, 10);
  ASSERT_OK_AND_ASSIGN(auto rest, store_->ListAudit({.limit = 0}));
  EXPECT_THAT(rest, SizeIs(20));
}

TEST_P(MetastoreTest, DocumentsAreComparedAndSwappedAllOrNothing) {
  ASSERT_OK(store_->WriteDocuments(
      kAlice,
      {{.collection = "product",
        .key = "finance/revenue",
        .body = R"({"v":1})",
        .expected_version = 0},
       {.collection = "product", .key = "finance/revenue%_x", .body = "{}", .expected_version = 0}},
      "deploy_product", "product", "finance.revenue"));
  ASSERT_OK_AND_ASSIGN(auto loaded, store_->LoadDocument("product", "finance/revenue"));
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->body, R"({"v":1})");
  EXPECT_EQ(loaded->version, 1);

  // Creating again, or writing at a stale version, is a conflict and changes nothing.
  EXPECT_THAT(store_->WriteDocuments(
                  kAlice,
                  {{.collection = "product", .key = "other", .body = "{}", .expected_version = 0},
                   {.collection = "product",
                    .key = "finance/revenue",
                    .body = "{}",
                    .expected_version = 0}},
                  "deploy_product", "product", "finance.revenue"),
              IsError(StatusCode::kConflict, "finance/revenue"));
  EXPECT_THAT(store_->LoadDocument("product", "other"), IsOkAndHolds(std::nullopt));
  ASSERT_OK(store_->WriteDocuments(kAlice,
                                   {{.collection = "product",
                                     .key = "finance/revenue",
                                     .body = R"({"v":2})",
                                     .expected_version = 1}},
                                   "deploy_product", "product", "finance.revenue"));
  EXPECT_THAT(store_->WriteDocuments(kAlice,
                                     {{.collection = "product",
                                       .key = "finance/revenue",
                                       .body = R"({"v":3})",
                                       .expected_version = 1}},
                                     "deploy_product", "product", "finance.revenue"),
              IsError(StatusCode::kConflict));

  // Prefix listings treat '%' and '_' literally and stop at the prefix.
  ASSERT_OK(store_->WriteDocuments(
      kAlice, {{.collection = "product", .key = "finance0", .body = "{}"}}, "x", "y", "z"));
  ASSERT_OK_AND_ASSIGN(auto listed, store_->ListDocuments("product", "finance/"));
  ASSERT_THAT(listed, SizeIs(2));
  EXPECT_EQ(listed[0].key, "finance/revenue");
  EXPECT_EQ(listed[0].version, 2);
  EXPECT_EQ(listed[1].key, "finance/revenue%_x");
  ASSERT_OK_AND_ASSIGN(listed, store_->ListDocuments("product", "finance/revenue%"));
  ASSERT_THAT(listed, SizeIs(1));

  ASSERT_OK(store_->WriteDocuments(
      kAlice, {{.collection = "product", .key = "finance0", .remove = true}}, "x", "y", "z"));
  EXPECT_THAT(store_->LoadDocument("product", "finance0"), IsOkAndHolds(std::nullopt));
  ASSERT_OK_AND_ASSIGN(auto events, store_->ListEvents(0, 0));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().action, "x");
}

INSTANTIATE_TEST_SUITE_P(Backends, MetastoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

TEST(MetastoreOpenTest, ExplainsWhyItCannotOpen) {
  EXPECT_THAT(Metastore::Open({.url = ""}).status(), IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(Metastore::Open({.url = "/nonexistent-dir/x/meshwork.db"}).status(),
              IsError(StatusCode::kIOError, "cannot open the SQLite metastore"));
  // The password never appears in the message.
  auto refused = Metastore::Open({.url = "postgresql://user:hunter2@127.0.0.1:1/db"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(refused.error().ToString(), ::testing::Not(HasSubstr("hunter2")));
  EXPECT_THAT(refused.error().ToString(), HasSubstr("user:***@127.0.0.1:1"));
}

TEST(MetastoreOpenTest, RefusesASchemaFromANewerMeshwork) {
  testing::ScratchDir scratch("metastore-newer");
  const std::string path = (scratch.path() / "meshwork.db").string();
  ASSERT_OK(Metastore::Open({.url = path}).status());
  {
    // What a future release would leave behind.
    ASSERT_OK_AND_ASSIGN(auto sql, OpenSqlite(path));
    ASSERT_OK(sql->Execute("INSERT INTO schema_migrations VALUES (999, 'future', 0)").status());
  }
  EXPECT_THAT(Metastore::Open({.url = path}).status(),
              IsError(StatusCode::kFailedPrecondition, "schema is at version 999, newer"));
}

}  // namespace
}  // namespace meshwork::metastore
