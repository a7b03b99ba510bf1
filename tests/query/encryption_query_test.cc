// Encryption at rest, end to end in one process: products with pii columns deployed under the
// council's encrypt rules; plain DuckDB reading their Parquet files sees only ciphertext;
// through meshwork an UNMASK holder sees clear values (and joins two domains on the
// deterministically encrypted e-mail), an analyst sees masks or redactions, never ciphertext;
// anything that cannot be decrypted stops the query.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/database.h"
#include "governance/encryption.h"
#include "governance/governance.h"
#include "iceberg/scan_planner.h"
#include "iceberg/table_writer.h"
#include "product/governance_gate.h"
#include "product/service.h"
#include "query/governance_access.h"
#include "query/query.h"
#include "query/session.h"
#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork::query {
namespace {

using nlohmann::json;
using ::testing::AllOf;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kPolicy[] = R"yaml(
kind: Policy
name: personal-data
rules:
  - id: emails-joinable
    description: E-mail addresses encrypted deterministically, so that domains still join on them
    scope: {classifications: [pii.email]}
    check: {kind: encrypt, mode: deterministic}
  - id: encrypt-pii
    description: All other personal data encrypted
    scope: {classifications: ["pii.*"]}
    check: {kind: encrypt, mode: randomized}
  - id: mask-emails
    description: E-mails keep their domain
    scope: {classifications: [pii.email]}
    check: {kind: mask, mask: email_domain}
)yaml";

class EncryptionQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("MESHWORK_MASTER_KEY",
             "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 1);
    metastore_ = *metastore::Metastore::Open({.url = (scratch_.path() / "meshwork.db").string()});
    catalog_ = std::move(*catalog::Catalog::Open(
        *metastore_, {.warehouse_root = (scratch_.path() / "warehouse").string()}));
    governance_ = std::make_unique<governance::Governance>(*catalog_);
    gate_ = product::MakePolicyGate(*governance_);
    products_ = std::make_unique<product::ProductService>(*catalog_, gate_.get());
    access_ = MakeGovernanceAccess(*governance_, *products_);
    ASSERT_OK_AND_ASSIGN(auto policy, governance::ParsePolicy(kPolicy, "personal-data.yaml"));
    ASSERT_OK(governance_->Apply(root_, {policy}).status());
  }
  void TearDown() override { ::unsetenv("MESHWORK_MASTER_KEY"); }

  Status Deploy(const std::string& name, const std::string& yaml) {
    const auto folder = scratch_.path() / name;
    std::filesystem::create_directories(folder);
    std::ofstream(folder / "dataproduct.yaml", std::ios::trunc) << yaml;
    MW_ASSIGN_OR_RETURN(auto spec, product::LoadSpec(folder.string()));
    MW_ASSIGN_OR_RETURN(auto report, products_->Deploy(root_, spec, {.create_domain = true}));
    return report.failure;
  }

  static std::string Contacts(const std::string& version, const std::string& sql) {
    return fmt::format(
        "apiVersion: meshwork/v1\nkind: DataProduct\ndomain: crm\nname: contacts\nversion: {}\n"
        "owner: {{team: crm}}\ntransform:\n  sql: \"{}\"\nports:\n  - name: contacts\n"
        "    columns:\n"
        "      - {{name: id, type: long, description: Id}}\n"
        "      - {{name: name, type: string, classification: pii.name, description: Name}}\n"
        "      - {{name: email, type: string, classification: pii.email, description: Mail}}\n"
        "      - {{name: country, type: string, description: Country}}\n"
        // On ciphertext the regex would fail: quality rules see the clear values.
        "quality:\n  - {{rule: regex, column: email, pattern: 'user[0-9]+@example[.]com'}}\n",
        version, sql);
  }
  static constexpr char kContactsSql[] =
      "SELECT i AS id, 'Person ' || i AS name, 'user' || i || '@example.com' AS email, "
      "CASE WHEN i % 2 = 0 THEN 'DE' ELSE 'FR' END AS country FROM range(100) t(i)";

  // The data files of a table's current snapshot, as local paths.
  std::vector<std::string> DataFiles(const std::string& domain, const std::string& table) {
    auto loaded = *catalog_->LoadTable(root_, {{domain}, table});
    auto plan =
        *iceberg::PlanScan(catalog_->warehouse(), loaded, std::nullopt, iceberg::Expression());
    std::vector<std::string> paths;
    for (const auto& file : plan.files)
      paths.push_back(*catalog_->warehouse().io().LocalPath(file.file_path));
    return paths;
  }

  // Plain DuckDB, no meshwork functions: what any engine reading the files sees.
  std::vector<std::vector<std::string>> ReadRaw(const std::vector<std::string>& files,
                                                const std::string& columns) {
    auto database = *engine::Database::Open();
    auto connection = *database.Connect();
    std::string list;
    for (const auto& file : files)
      list += (list.empty() ? "'" : ", '") + file + "'";
    auto rows = connection.QueryText(
        fmt::format("SELECT {} FROM read_parquet([{}]) ORDER BY 1", columns, list));
    EXPECT_OK(rows.status());
    return rows.ok() ? *rows : std::vector<std::vector<std::string>>{};
  }

  Result<QueryResultTable> Query(const catalog::Caller& caller, const std::string& sql) {
    MW_ASSIGN_OR_RETURN(auto service,
                        QueryService::Open(*catalog_, {.access_policy = access_.get()}));
    MW_ASSIGN_OR_RETURN(auto session, service->OpenSession(caller));
    MW_ASSIGN_OR_RETURN(Cursor cursor, session->Execute(sql));
    return ReadAll(cursor, 1000);
  }

  catalog::Caller Principal(const std::string& name, const std::vector<std::string>& roles) {
    auto created = *catalog_->CreatePrincipal(root_, name, "user");
    for (const auto& role : roles)
      EXPECT_OK(catalog_->AssignRole(root_, name, role));
    auto token = *catalog_->IssueToken(created.client_id, created.client_secret);
    return *catalog_->Authenticate(token.access_token, "t");
  }

  testing::ScratchDir scratch_{"crypt_query"};
  std::unique_ptr<metastore::Metastore> metastore_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<governance::Governance> governance_;
  std::unique_ptr<product::GovernanceGate> gate_;
  std::unique_ptr<product::ProductService> products_;
  std::unique_ptr<AccessPolicy> access_;
  const catalog::Caller root_{"root", true, "test"};
};

TEST_F(EncryptionQueryTest, RawReadersSeeCiphertextMeshworkDecryptsMasksAndJoins) {
  ASSERT_OK(Deploy("contacts", Contacts("1.0.0", kContactsSql)));
  ASSERT_OK(Deploy("orders",
                   "apiVersion: meshwork/v1\nkind: DataProduct\ndomain: shop\nname: orders\n"
                   "version: 1.0.0\nowner: {team: shop}\ntransform:\n  sql: \"SELECT i AS "
                   "order_id, 'user' || (i % 10) || '@example.com' AS email, i * 10 AS amount FROM "
                   "range(30) t(i)\"\nports:\n  - name: orders\n    columns:\n"
                   "      - {name: order_id, type: long, description: Order}\n"
                   "      - {name: email, type: string, classification: pii.email, description: "
                   "Buyer}\n      - {name: amount, type: long, description: Amount}\n"));

  // 1. Plain DuckDB read_parquet: ciphertext in the pii columns, clear text elsewhere.
  const auto contacts_files = DataFiles("crm", "contacts");
  ASSERT_FALSE(contacts_files.empty());
  const auto raw = ReadRaw(contacts_files, "id, name, email, country");
  ASSERT_EQ(raw.size(), 100u);
  for (const auto& row : raw) {
    EXPECT_THAT(row[1], StartsWith("me1:dom.crm.v1:"));
    EXPECT_THAT(row[2], StartsWith("me1:det.emails-joinable.v1:"));
    EXPECT_THAT(row[1] + row[2], AllOf(Not(HasSubstr("Person")), Not(HasSubstr("@example.com"))));
    EXPECT_THAT(row[3], ::testing::AnyOf("DE", "FR"));
  }
  // Deterministic: a raw engine can join the two domains on the ciphertext; and so do we.
  const auto raw_orders = ReadRaw(DataFiles("shop", "orders"), "order_id, email");
  std::set<std::string> contact_emails;
  for (const auto& row : raw)
    contact_emails.insert(row[2]);
  for (const auto& row : raw_orders)
    EXPECT_TRUE(contact_emails.contains(row[1])) << row[1];
  // The Iceberg column stays a string; its metrics bound ciphertext, never clear values.
  auto loaded = *catalog_->LoadTable(root_, {{"crm"}, "contacts"});
  EXPECT_EQ(loaded.metadata.properties.at("meshwork.encrypted.email"), "deterministic");
  EXPECT_EQ(loaded.metadata.properties.at("meshwork.encrypted.name"), "randomized");
  EXPECT_FALSE(loaded.metadata.properties.contains("meshwork.encrypted.country"));

  // 2. Through meshwork: the officer (UNMASK) sees clear values and the join matches.
  ASSERT_OK(catalog_->CreateRole(root_, "council", "sees everything"));
  for (const std::string domain : {"crm", "shop"}) {
    ASSERT_OK(catalog_->Grant(root_, "council", catalog::Privilege::kReadData,
                              catalog::Securable::Namespace({domain})));
    ASSERT_OK(catalog_->Grant(root_, "council", catalog::Privilege::kUnmask,
                              catalog::Securable::Namespace({domain})));
  }
  const auto officer = Principal("officer", {"council"});
  ASSERT_OK_AND_ASSIGN(auto clear,
                       Query(officer, "SELECT name, email FROM crm.contacts WHERE id = 7"));
  EXPECT_THAT(clear.rows, ElementsAre(ElementsAre("Person 7", "user7@example.com")));
  ASSERT_OK_AND_ASSIGN(auto joined, Query(officer,
                                          "SELECT count(*), count(DISTINCT c.id), sum(o.amount) "
                                          "FROM shop.orders o JOIN crm.contacts c USING (email)"));
  EXPECT_THAT(joined.rows, ElementsAre(ElementsAre("30", "10", "4350")));
  // A WHERE on an encrypted column filters clear values (no pruning on ciphertext bounds).
  ASSERT_OK_AND_ASSIGN(
      auto where, Query(officer, "SELECT id FROM crm.contacts WHERE email = 'user42@example.com'"));
  EXPECT_THAT(where.rows, ElementsAre(ElementsAre("42")));
  ASSERT_OK_AND_ASSIGN(auto explain, Query(officer, "EXPLAIN SELECT * FROM crm.contacts"));
  EXPECT_THAT(explain.explain, AllOf(HasSubstr("decrypt email (deterministic)"),
                                     HasSubstr("decrypt name (randomized)")));

  // 3. An analyst without UNMASK: the mask for e-mails, a redaction for names (no mask
  //    policy), never ciphertext, never clear text.
  const auto analyst = Principal("analyst", {"crm_consumer"});
  ASSERT_OK_AND_ASSIGN(auto masked,
                       Query(analyst, "SELECT name, email, country FROM crm.contacts ORDER BY id"));
  ASSERT_EQ(masked.rows.size(), 100u);
  for (const auto& row : masked.rows) {
    EXPECT_EQ(row[0], "****");
    EXPECT_EQ(row[1], "***@example.com");
  }
  ASSERT_OK_AND_ASSIGN(auto analyst_explain, Query(analyst, "EXPLAIN SELECT * FROM crm.contacts"));
  EXPECT_THAT(analyst_explain.explain,
              AllOf(HasSubstr("mask email by personal-data/mask-emails"),
                    HasSubstr("mask name by encryption (redacted without UNMASK)")));

  // 4. User SQL may not call the key functions (a raw reader's stolen ciphertext stays shut).
  EXPECT_THAT(Query(officer, "SELECT mesh_decrypt('" + raw[0][2] + "', 'x')"),
              IsError(StatusCode::kInvalidArgument, "mesh_decrypt"));
}

TEST_F(EncryptionQueryTest, RotationKeepsOldSnapshotsReadableAndEverythingFailsClosed) {
  ASSERT_OK(Deploy("contacts", Contacts("1.0.0", kContactsSql)));
  ASSERT_OK(governance_->keys().Rotate({"root", "test"}, "dom.crm").status());
  ASSERT_OK(Deploy("contacts", Contacts("1.0.1", kContactsSql)));
  for (const auto& row : ReadRaw(DataFiles("crm", "contacts"), "name"))
    EXPECT_THAT(row[0], StartsWith("me1:dom.crm.v2:"));
  ASSERT_OK_AND_ASSIGN(
      auto old,
      Query(root_, "SELECT name FROM crm.contacts AT (VERSION => 'v1.0.0') WHERE id = 3"));
  EXPECT_THAT(old.rows, ElementsAre(ElementsAre("Person 3")));
  ASSERT_OK_AND_ASSIGN(auto now, Query(root_, "SELECT name FROM crm.contacts WHERE id = 3"));
  EXPECT_THAT(now.rows, ElementsAre(ElementsAre("Person 3")));

  // A snapshot that says a column is encrypted while it holds clear values: refused, the
  // column named.
  auto database = *engine::Database::Open();
  auto connection = *database.Connect();
  iceberg::AppendOptions forged;
  forged.summary[std::string(governance::kEncryptedSummaryKey)] =
      R"({"name": "randomized", "email": "deterministic", "country": "randomized"})";
  ASSERT_OK(iceberg::AppendQuery(catalog_->warehouse(), {{"crm"}, "contacts"}, connection,
                                 "SELECT 1000::BIGINT AS id, NULL::VARCHAR AS name, NULL::VARCHAR "
                                 "AS email, 'DE' AS country",
                                 forged)
                .status());
  auto refused = Query(root_, "SELECT country FROM crm.contacts");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().ToString(),
              AllOf(HasSubstr("column country of crm.contacts"),
                    HasSubstr("not a meshwork ciphertext"), Not(HasSubstr("'DE'"))));

  // A query engine without the key store refuses instead of showing ciphertext.
  ASSERT_OK_AND_ASSIGN(auto service, QueryService::Open(*catalog_, {}));
  ASSERT_OK_AND_ASSIGN(auto session, service->OpenSession(root_));
  EXPECT_THAT(session->Execute("SELECT name FROM crm.contacts"),
              IsError(StatusCode::kFailedPrecondition, "no key store"));

  // Without the master key nothing opens, and the error says how to configure it.
  ::unsetenv("MESHWORK_MASTER_KEY");
  governance::Governance keyless(*catalog_);
  auto keyless_access = MakeGovernanceAccess(keyless, *products_);
  ASSERT_OK_AND_ASSIGN(auto keyless_service,
                       QueryService::Open(*catalog_, {.access_policy = keyless_access.get()}));
  ASSERT_OK_AND_ASSIGN(auto keyless_session, keyless_service->OpenSession(root_));
  auto cursor = keyless_session->Execute("SELECT name FROM crm.contacts");
  Status failed = cursor.ok() ? ReadAll(*cursor, 10).status() : cursor.status();
  EXPECT_THAT(failed.ToString(), HasSubstr("MESHWORK_MASTER_KEY"));
}

// Each snapshot records how its files store the columns: time travel reads a snapshot from
// before the encrypt rules came in as clear values, and one from before they went away
// decrypted.
TEST_F(EncryptionQueryTest, TimeTravelReadsEachSnapshotAsItWasWritten) {
  ASSERT_OK_AND_ASSIGN(auto masks_only, governance::ParsePolicy(R"yaml(
kind: Policy
name: personal-data
rules:
  - id: mask-emails
    description: E-mails keep their domain
    scope: {classifications: [pii.email]}
    check: {kind: mask, mask: email_domain}
)yaml",
                                                                "personal-data.yaml"));
  ASSERT_OK_AND_ASSIGN(auto with_encryption,
                       governance::ParsePolicy(kPolicy, "personal-data.yaml"));
  ASSERT_OK(governance_->Apply(root_, {masks_only}).status());
  ASSERT_OK(Deploy("contacts", Contacts("1.0.0", kContactsSql)));  // clear
  ASSERT_OK(governance_->Apply(root_, {with_encryption}).status());
  ASSERT_OK(Deploy("contacts", Contacts("1.0.1", kContactsSql)));  // encrypted
  for (const auto& row : ReadRaw(DataFiles("crm", "contacts"), "name"))
    EXPECT_THAT(row[0], StartsWith("me1:dom.crm."));
  ASSERT_OK(governance_->Apply(root_, {masks_only}).status());
  ASSERT_OK(Deploy("contacts", Contacts("1.0.2", kContactsSql)));  // clear again
  for (const auto& row : ReadRaw(DataFiles("crm", "contacts"), "name"))
    EXPECT_THAT(row[0], StartsWith("Person "));
  for (const std::string version : {"v1.0.0", "v1.0.1", "v1.0.2"}) {
    ASSERT_OK_AND_ASSIGN(auto rows, Query(root_,
                                          "SELECT name, email FROM crm.contacts AT (VERSION "
                                          "=> '" +
                                              version + "') WHERE id = 3"));
    EXPECT_THAT(rows.rows, ElementsAre(ElementsAre("Person 3", "user3@example.com"))) << version;
  }
}

TEST_F(EncryptionQueryTest, DeploysRefuseWhatEncryptionCannotHonour) {
  // A pii column that is not a string: blocked before any data moves, the rule named.
  const std::string numeric =
      "apiVersion: meshwork/v1\nkind: DataProduct\ndomain: crm\nname: phones\nversion: 1.0.0\n"
      "owner: {team: crm}\ntransform:\n  sql: SELECT 1 AS id, 4915112345 AS phone\nports:\n"
      "  - name: phones\n    columns:\n      - {name: id, type: long, description: Id}\n"
      "      - {name: phone, type: long, classification: pii.phone, description: Phone}\n";
  Status blocked = Deploy("phones", numeric);
  EXPECT_THAT(blocked.ToString(), AllOf(HasSubstr("personal-data/encrypt-pii"), HasSubstr("phone"),
                                        HasSubstr("only string columns")));
  // Product SQL may not decrypt (it would open other domains' values) or forge ciphertext.
  Status decrypting =
      Deploy("contacts", Contacts("1.0.0",
                                  "SELECT 1 AS id, mesh_decrypt('x', 'y') AS name, 'a@b.cd' AS "
                                  "email, 'DE' AS country"));
  EXPECT_THAT(decrypting, IsError(StatusCode::kInvalidArgument, "mesh_decrypt"));
  ASSERT_OK(Deploy("contacts", Contacts("1.0.0", kContactsSql)));
  // Inputs from encrypted ports arrive decrypted in another product's transform.
  ASSERT_OK(Deploy("mailing",
                   "apiVersion: meshwork/v1\nkind: DataProduct\ndomain: shop\nname: mailing\n"
                   "version: 1.0.0\nowner: {team: shop}\ninputs:\n  - {name: contacts, port: "
                   "crm.contacts}\ntransform:\n  sql: SELECT id, split_part(email, '@', 2) AS "
                   "mail_domain FROM contacts\nports:\n  - name: mailing\n    columns:\n"
                   "      - {name: id, type: long, description: Id}\n"
                   "      - {name: mail_domain, type: string, description: Domain}\n"));
  ASSERT_OK_AND_ASSIGN(auto domains, Query(root_, "SELECT DISTINCT mail_domain FROM shop.mailing"));
  EXPECT_THAT(domains.rows, ElementsAre(ElementsAre("example.com")));
}

}  // namespace
}  // namespace meshwork::query
