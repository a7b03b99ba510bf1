// The portal's product view (GET /api/v1/portal/products/{d}/{p}) marks what governance hides
// from the caller, the same decision SQL gets: masked columns, and encrypted columns no mask
// covers (redacted for callers without UNMASK).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "governance/governance.h"
#include "product/governance_gate.h"
#include "product/service.h"
#include "query/governance_access.h"
#include "query/query.h"
#include "server/portal.h"
#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork::server {
namespace {

using nlohmann::json;

constexpr char kPolicy[] = R"yaml(
kind: Policy
name: personal-data
rules:
  - id: encrypt-pii
    description: Personal data encrypted in the data files
    scope: {classifications: ["pii.*"]}
    check: {kind: encrypt, mode: randomized}
  - id: mask-emails
    description: E-mails keep their domain
    scope: {classifications: [pii.email]}
    check: {kind: mask, mask: email_domain}
)yaml";

// name: encrypted, no mask; email: encrypted and masked; country: neither.
constexpr char kContacts[] = R"yaml(apiVersion: meshwork/v1
kind: DataProduct
domain: crm
name: contacts
version: 1.0.0
owner: {team: crm}
transform:
  sql: "SELECT i AS id, 'Person ' || i AS name, 'user' || i || '@example.com' AS email, 'DE' AS country FROM range(5) t(i)"
ports:
  - name: contacts
    columns:
      - {name: id, type: long, description: Id}
      - {name: name, type: string, classification: pii.name, description: Name}
      - {name: email, type: string, classification: pii.email, description: Mail}
      - {name: country, type: string, description: Country}
)yaml";

class PortalProductTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("MESHWORK_MASTER_KEY",
             "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 1);
    ASSERT_OK_AND_ASSIGN(metastore_, metastore::Metastore::Open(
                                         {.url = (scratch_.path() / "meshwork.db").string()}));
    ASSERT_OK_AND_ASSIGN(
        catalog_,
        catalog::Catalog::Open(*metastore_, {.warehouse_root = (scratch_.path() / "wh").string(),
                                             .bootstrap_credentials = "admin:admin-secret"}));
    governance_ = std::make_unique<governance::Governance>(*catalog_);
    gate_ = product::MakePolicyGate(*governance_);
    products_ = std::make_unique<product::ProductService>(*catalog_, gate_.get());
    access_ = query::MakeGovernanceAccess(*governance_, *products_);
    ASSERT_OK_AND_ASSIGN(auto policy, governance::ParsePolicy(kPolicy, "personal-data.yaml"));
    ASSERT_OK(governance_->Apply(root_, {policy}).status());
    const auto folder = scratch_.path() / "contacts";
    std::filesystem::create_directories(folder);
    std::ofstream(folder / "dataproduct.yaml", std::ios::trunc) << kContacts;
    ASSERT_OK_AND_ASSIGN(auto spec, product::LoadSpec(folder.string()));
    ASSERT_OK_AND_ASSIGN(auto report, products_->Deploy(root_, spec, {.create_domain = true}));
    ASSERT_OK(report.failure);
    AddPortalRoutes(router_, *catalog_, *products_,
                    {.access_policy = access_.get(), .endpoints = &endpoints_});
  }
  void TearDown() override { ::unsetenv("MESHWORK_MASTER_KEY"); }

  // A principal with `roles`: its bearer token.
  std::string Token(const std::string& name, const std::vector<std::string>& roles) {
    auto created = catalog_->CreatePrincipal(root_, name, "user");
    EXPECT_OK(created.status());
    for (const auto& role : roles)
      EXPECT_OK(catalog_->AssignRole(root_, name, role));
    auto token = catalog_->IssueToken(created->client_id, created->client_secret);
    EXPECT_OK(token.status());
    return token->access_token;
  }

  // The product view as the portal gets it for `token`, from a browser that reached the server
  // as `host`.
  json View(const std::string& token, const std::string& host = "") {
    HttpRequest request;
    request.method = "GET";
    request.path = "/api/v1/portal/products/crm/contacts";
    request.headers["authorization"] = "Bearer " + token;
    if (!host.empty()) request.headers["host"] = host;
    request.request_id = "test";
    Router::Match match = router_.Find(request);
    EXPECT_NE(match.handler, nullptr);
    if (match.handler == nullptr) return json::object();
    HttpResponse response = (*match.handler)(request);
    EXPECT_EQ(response.status, 200) << response.body;
    return json::parse(response.body);
  }

  // column → {"masked", "mask_policy", "encrypted"} as the portal shows them to `token`.
  std::map<std::string, json> Columns(const std::string& token) {
    const json view = View(token);
    EXPECT_FALSE(view["ports"][0].contains("access_error")) << view["ports"][0].dump();
    std::map<std::string, json> out;
    for (const auto& column : view["ports"][0]["columns"])
      out[column["name"]] = column;
    return out;
  }

  // The rows a caller's SQL gets, for comparison with what the page says.
  std::vector<std::string> FirstRow(const std::string& token, const std::string& sql) {
    auto caller = catalog_->Authenticate(token, "t");
    EXPECT_OK(caller.status());
    auto service = query::QueryService::Open(*catalog_, {.access_policy = access_.get()});
    EXPECT_OK(service.status());
    auto session = (*service)->OpenSession(*caller);
    EXPECT_OK(session.status());
    auto cursor = (*session)->Execute(sql);
    EXPECT_OK(cursor.status());
    auto table = query::ReadAll(*cursor, 10);
    EXPECT_OK(table.status());
    return table->rows.empty() ? std::vector<std::string>{} : table->rows.front();
  }

  testing::ScratchDir scratch_{"portal_product"};
  std::unique_ptr<metastore::Metastore> metastore_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<governance::Governance> governance_;
  std::unique_ptr<product::GovernanceGate> gate_;
  std::unique_ptr<product::ProductService> products_;
  std::unique_ptr<query::AccessPolicy> access_;
  PortalEndpoints endpoints_{.mesh = "lake", .http_host = "0.0.0.0", .http_port = 8181};
  Router router_;
  const catalog::Caller root_{"root", true, "test"};
};

TEST_F(PortalProductTest, EncryptedColumnsWithoutAMaskAreMarkedMaskedForCallersWithoutUnmask) {
  const std::string analyst = Token("analyst", {"crm_consumer"});
  auto columns = Columns(analyst);
  ASSERT_EQ(columns.size(), 4u);
  // Encrypted, no mask: redacted for the analyst, and the page says so.
  EXPECT_TRUE(columns["name"]["masked"].get<bool>());
  EXPECT_EQ(columns["name"]["mask_policy"], "encryption (redacted without UNMASK)");
  EXPECT_EQ(columns["name"]["encrypted"], "randomized");
  // Encrypted and masked: the mask's rule.
  EXPECT_TRUE(columns["email"]["masked"].get<bool>());
  EXPECT_EQ(columns["email"]["mask_policy"], "personal-data/mask-emails");
  EXPECT_EQ(columns["email"]["encrypted"], "randomized");
  // Neither.
  EXPECT_FALSE(columns["country"]["masked"].get<bool>());
  EXPECT_FALSE(columns["country"].contains("encrypted"));
  EXPECT_FALSE(columns["id"]["masked"].get<bool>());
  // What the page says is what SQL does.
  EXPECT_THAT(FirstRow(analyst, "SELECT name, email, country FROM crm.contacts WHERE id = 1"),
              ::testing::ElementsAre("****", "***@example.com", "DE"));

  // With UNMASK on the domain nothing is masked (and the values are clear).
  ASSERT_OK(catalog_->CreateRole(root_, "council", "sees everything"));
  ASSERT_OK(catalog_->Grant(root_, "council", catalog::Privilege::kReadData,
                            catalog::Securable::Namespace({"crm"})));
  ASSERT_OK(catalog_->Grant(root_, "council", catalog::Privilege::kUnmask,
                            catalog::Securable::Namespace({"crm"})));
  const std::string officer = Token("officer", {"council"});
  for (const auto& [name, column] : Columns(officer))
    EXPECT_FALSE(column["masked"].get<bool>()) << name;
  EXPECT_THAT(FirstRow(officer, "SELECT name, email FROM crm.contacts WHERE id = 1"),
              ::testing::ElementsAre("Person 1", "user1@example.com"));
}

TEST_F(PortalProductTest, HowToConnectNamesTheListenersTheServerReallyHas) {
  const std::string analyst = Token("analyst", {"crm_consumer"});
  // The PostgreSQL wire server off: no psql line; the HTTP base as the browser reached it.
  json connect = View(analyst, "portal.example:9443")["connect"];
  EXPECT_EQ(connect["http_base"], "http://portal.example:9443");
  EXPECT_EQ(connect["catalog_uri"], "http://portal.example:9443/catalog");
  EXPECT_EQ(connect["mesh"], "lake");
  EXPECT_TRUE(connect["pg"].is_null());

  // On a port of its own, on every interface: the host this browser used, the real port.
  endpoints_.pg_host = "0.0.0.0";
  endpoints_.pg_port = 45432;
  connect = View(analyst, "portal.example:9443")["connect"];
  EXPECT_EQ(
      connect["pg"],
      json({{"host", "portal.example"}, {"port", 45432}, {"database", "lake"}, {"tls", false}}));
  // IPv6 literals lose their brackets for libpq.
  EXPECT_EQ(View(analyst, "[::1]:8181")["connect"]["pg"]["host"], "::1");
  // On one address: that address, whatever the browser used.
  endpoints_.pg_host = "10.0.0.7";
  EXPECT_EQ(View(analyst, "portal.example:9443")["connect"]["pg"]["host"], "10.0.0.7");
  // A Host header that is not a host name is not echoed: the listener's address instead.
  connect = View(analyst, "evil\"><script>")["connect"];
  EXPECT_EQ(connect["http_base"], "http://127.0.0.1:8181");
}

}  // namespace
}  // namespace meshwork::server
