// The portal's product view (GET /api/v1/portal/products/{d}/{p}) marks what governance hides
// from the caller, the same decision SQL gets: masked columns, and encrypted columns no mask
// covers (redacted for callers without UNMASK).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "catalog/credentials.h"
#include "governance/governance.h"
#include "product/governance_gate.h"
#include "product/service.h"
#include "query/governance_access.h"
#include "query/query.h"
#include "server/portal.h"
#include "server/product_api.h"
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
    AddProductApiRoutes(router_, *catalog_, *products_,
                        {.upload_root = (scratch_.path() / "uploads").string()});
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

  HttpResponse Send(const std::string& method, const std::string& path, const std::string& body,
                    std::map<std::string, std::string> headers) {
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.body = body;
    request.headers = std::move(headers);
    request.request_id = "test";
    Router::Match match = router_.Find(request);
    if (match.handler == nullptr) return {.status = 404};
    return (*match.handler)(request);
  }

  // POST /api/v1/products/deploy of `yaml` with Accept: application/x-ndjson: the lines streamed,
  // parsed. `keep` lines are read, then the writer reports the client gone.
  std::vector<json> DeployStreamed(const std::string& mode, const std::string& yaml,
                                   size_t keep = 1000) {
    auto token = catalog_->IssueToken("admin", "admin-secret");
    EXPECT_OK(token.status());
    const json body = {{"mode", mode},
                       {"files", {{"dataproduct.yaml", catalog::Base64UrlEncode(yaml)}}}};
    HttpResponse response = Send(
        "POST", "/api/v1/products/deploy", body.dump(),
        {{"authorization", "Bearer " + token->access_token}, {"accept", "application/x-ndjson"}});
    EXPECT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.content_type, "application/x-ndjson");
    EXPECT_TRUE(response.stream) << response.body;
    std::vector<json> lines;
    if (!response.stream) return lines;
    std::string pending;
    response.stream([&](std::string_view bytes) {
      if (lines.size() >= keep) return false;
      pending += bytes;
      for (size_t end; (end = pending.find('\n')) != std::string::npos;) {
        lines.push_back(json::parse(pending.substr(0, end)));
        pending.erase(0, end + 1);
      }
      return true;
    });
    EXPECT_EQ(pending, "");
    return lines;
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

// A downstream product of crm.contacts, for the wizard's deploy.
std::string Summary(const std::string& sql) {
  return "apiVersion: meshwork/v1\nkind: DataProduct\ndomain: crm\nname: by_country\n"
         "version: 1.0.0\nowner: {team: crm}\ninputs:\n  - {name: contacts, port: "
         "crm.contacts}\ntransform:\n  sql: \"" +
         sql +
         "\"\nports:\n  - name: by_country\n    columns:\n"
         "      - {name: country, type: string, description: Country}\n"
         "      - {name: contacts, type: long, description: Contacts}\n";
}

TEST_F(PortalProductTest, DeployStreamsEachStepAsItStartsAndEndsThenTheReport) {
  const auto lines = DeployStreamed(
      "deploy", Summary("SELECT country, count(*) AS contacts FROM contacts GROUP BY 1"));
  ASSERT_GE(lines.size(), 3u);
  // Every line but the last is a step; each step is announced running, then its outcome. Steps
  // nest (publish runs quality and governance on the staged data); a running step may say again
  // what it is doing (publish: its stages).
  std::vector<std::string> finished, running;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    ASSERT_TRUE(lines[i].contains("step")) << lines[i].dump();
    const json& step = lines[i]["step"];
    if (step["outcome"] == "running") {
      if (running.empty() || running.back() != step["step"]) running.push_back(step["step"]);
    } else {
      ASSERT_FALSE(running.empty()) << step.dump();
      EXPECT_EQ(step["step"], running.back()) << step.dump();
      finished.push_back(step["step"]);
      running.pop_back();
    }
  }
  EXPECT_TRUE(running.empty()) << running.back();
  const json& last = lines.back();
  ASSERT_EQ(last.value("status", 0), 200) << last.dump();
  EXPECT_TRUE(last["report"]["published"].get<bool>()) << last.dump();
  // The steps streamed are the report's, in its order: the same pipeline.
  std::vector<std::string> reported;
  for (const auto& step : last["report"]["steps"])
    reported.push_back(step["step"]);
  EXPECT_EQ(finished, reported);
  EXPECT_THAT(reported, ::testing::IsSupersetOf({"checks", "inputs", "transform", "publish"}));
  ASSERT_OK_AND_ASSIGN(auto record, products_->LoadProduct(root_, "crm", "by_country"));
  EXPECT_EQ(record.version, "1.0.0");
}

TEST_F(PortalProductTest, AStreamedDeployThatFailsEndsWithTheFailedStepAndTheErrorInItsWords) {
  const auto lines = DeployStreamed("plan", Summary("SELECT country, nonsense FROM contacts"));
  ASSERT_GE(lines.size(), 2u);
  const json& last = lines.back();
  EXPECT_EQ(last.value("status", 0), 422) << last.dump();
  const std::string message = last["report"]["error"]["message"];
  EXPECT_THAT(message, ::testing::HasSubstr("nonsense"));
  EXPECT_THAT(message, ::testing::Not(::testing::HasSubstr("uploads/deploy-")));
  const json& failed = lines[lines.size() - 2]["step"];
  EXPECT_EQ(failed["outcome"], "failed") << failed.dump();
  EXPECT_THAT(failed["detail"].get<std::string>(), ::testing::HasSubstr("nonsense"));
}

TEST_F(PortalProductTest, AStreamedDeployRunsToItsEndWhenTheClientLeaves) {
  const auto lines = DeployStreamed(
      "deploy", Summary("SELECT country, count(*) AS contacts FROM contacts GROUP BY 1"), 1);
  EXPECT_EQ(lines.size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto record, products_->LoadProduct(root_, "crm", "by_country"));
  EXPECT_EQ(record.version, "1.0.0");
  // Its uploaded files are gone with it.
  EXPECT_TRUE(std::filesystem::is_empty(scratch_.path() / "uploads"));
}

}  // namespace
}  // namespace meshwork::server
