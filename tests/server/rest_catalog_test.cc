// The REST catalog's handlers through the router, without sockets: authentication on every
// endpoint, status codes and ErrorModel bodies, hostile input.
#include "server/rest_catalog.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork::server {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

const json kSchema = {{"type", "struct"},
                      {"fields",
                       {{{"id", 1}, {"name", "id"}, {"required", true}, {"type", "long"}},
                        {{"id", 2}, {"name", "region"}, {"required", false}, {"type", "string"}}}}};

class RestCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(metastore_, metastore::Metastore::Open(
                                         {.url = (scratch_.path() / "meshwork.db").string()}));
    ASSERT_OK_AND_ASSIGN(
        catalog_,
        catalog::Catalog::Open(*metastore_, {.warehouse_root = (scratch_.path() / "wh").string(),
                                             .bootstrap_credentials = "admin:admin-secret"}));
    AddRestCatalogRoutes(router_, *catalog_, {});
    root_token_ = Token("admin", "admin-secret");
  }

  HttpResponse Send(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& token, std::map<std::string, std::string> headers = {}) {
    HttpRequest request;
    request.method = method;
    const size_t question = path.find('?');
    request.path = path.substr(0, question);
    if (question != std::string::npos) {
      std::string_view query = std::string_view(path).substr(question + 1);
      while (!query.empty()) {
        const size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        const size_t eq = pair.find('=');
        request.query.emplace(std::string(pair.substr(0, eq)),
                              eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1)));
        query = amp == std::string_view::npos ? "" : query.substr(amp + 1);
      }
    }
    request.body = body;
    request.headers = std::move(headers);
    if (!token.empty()) request.headers["authorization"] = "Bearer " + token;
    request.request_id = "test";
    Router::Match match = router_.Find(request);
    if (match.handler == nullptr) return {.status = match.path_known ? 405 : 404};
    return (*match.handler)(request);
  }

  std::string Token(const std::string& id, const std::string& secret) {
    HttpResponse response =
        Send("POST", "/catalog/v1/oauth/tokens",
             "grant_type=client_credentials&client_id=" + id + "&client_secret=" + secret, "",
             {{"content-type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(response.status, 200) << response.body;
    return json::parse(response.body).value("access_token", "");
  }

  // The status, after checking that an error body is the spec's ErrorModel.
  int Status(const HttpResponse& response) {
    if (response.status >= 400 && !response.body.empty()) {
      const json body = json::parse(response.body, nullptr, false);
      EXPECT_TRUE(body.is_object() && body.contains("error")) << response.body;
      if (body.contains("error") && body["error"].is_object()) {
        EXPECT_TRUE(body["error"]["message"].is_string()) << response.body;
        EXPECT_TRUE(body["error"]["type"].is_string()) << response.body;
        EXPECT_EQ(body["error"]["code"], response.status) << response.body;
      }
    }
    return response.status;
  }

  void CreateOrders() {
    ASSERT_EQ(Status(Send("POST", "/catalog/v1/mesh/namespaces", R"({"namespace":["sales"]})",
                          root_token_)),
              200);
    ASSERT_EQ(Status(Send("POST", "/catalog/v1/mesh/namespaces/sales/tables",
                          json({{"name", "orders"}, {"schema", kSchema}}).dump(), root_token_)),
              200);
  }

  testing::ScratchDir scratch_{"rest"};
  std::unique_ptr<metastore::Metastore> metastore_;
  std::unique_ptr<catalog::Catalog> catalog_;
  Router router_;
  std::string root_token_;
};

TEST_F(RestCatalogTest, EveryEndpointButTheTokenEndpointNeedsAValidToken) {
  CreateOrders();
  const std::vector<std::pair<std::string, std::string>> endpoints = {
      {"GET", "/catalog/v1/config"},
      {"GET", "/catalog/v1/mesh/namespaces"},
      {"POST", "/catalog/v1/mesh/namespaces"},
      {"GET", "/catalog/v1/mesh/namespaces/sales"},
      {"HEAD", "/catalog/v1/mesh/namespaces/sales"},
      {"DELETE", "/catalog/v1/mesh/namespaces/sales"},
      {"POST", "/catalog/v1/mesh/namespaces/sales/properties"},
      {"GET", "/catalog/v1/mesh/namespaces/sales/tables"},
      {"POST", "/catalog/v1/mesh/namespaces/sales/tables"},
      {"GET", "/catalog/v1/mesh/namespaces/sales/tables/orders"},
      {"HEAD", "/catalog/v1/mesh/namespaces/sales/tables/orders"},
      {"POST", "/catalog/v1/mesh/namespaces/sales/tables/orders"},
      {"DELETE", "/catalog/v1/mesh/namespaces/sales/tables/orders"},
      {"POST", "/catalog/v1/mesh/namespaces/sales/register"},
      {"POST", "/catalog/v1/mesh/namespaces/sales/tables/orders/metrics"},
      {"POST", "/catalog/v1/mesh/namespaces/sales/tables/orders/plan"},
      {"GET", "/catalog/v1/mesh/namespaces/sales/tables/orders/plan/abc"},
      {"DELETE", "/catalog/v1/mesh/namespaces/sales/tables/orders/plan/abc"},
      {"POST", "/catalog/v1/mesh/namespaces/sales/tables/orders/tasks"},
      {"POST", "/catalog/v1/mesh/namespaces/sales/tables/orders/sign"},
      {"POST", "/catalog/v1/mesh/tables/rename"},
      {"POST", "/catalog/v1/mesh/transactions/commit"},
      {"GET", "/catalog/v1/mesh/namespaces/sales/views"},
      {"POST", "/catalog/v1/mesh/namespaces/sales/views"},
      {"GET", "/catalog/v1/mesh/namespaces/sales/views/v"},
      {"HEAD", "/catalog/v1/mesh/namespaces/sales/views/v"},
      {"POST", "/catalog/v1/mesh/namespaces/sales/views/v"},
      {"DELETE", "/catalog/v1/mesh/namespaces/sales/views/v"},
      {"POST", "/catalog/v1/mesh/views/rename"},
  };
  // Every advertised endpoint is in the list above.
  EXPECT_EQ(AdvertisedEndpoints().size() + 1, endpoints.size());
  // A rotated principal's token, an expired one, garbage.
  ASSERT_OK_AND_ASSIGN(auto bob, catalog_->CreatePrincipal({"admin", true, "t"}, "bob", "user"));
  const std::string bob_token = Token(bob.client_id, bob.client_secret);
  ASSERT_OK(catalog_->RotateCredentials({"admin", true, "t"}, "bob").status());
  for (const auto& [method, path] : endpoints) {
    for (const std::string& token : {std::string(), std::string("garbage"), bob_token}) {
      SCOPED_TRACE(method + " " + path + " token=" + token.substr(0, 10));
      HttpResponse response = Send(method, path, "{}", token);
      EXPECT_EQ(Status(response), 401) << response.body;
      EXPECT_EQ(response.headers["WWW-Authenticate"], "Bearer");
    }
  }
  // The table is untouched.
  EXPECT_EQ(Status(Send("GET", "/catalog/v1/mesh/namespaces/sales/tables/orders", "", root_token_)),
            200);
}

TEST_F(RestCatalogTest, TokenEndpointSpeaksOAuth) {
  auto token = [&](const std::string& body, std::map<std::string, std::string> headers = {}) {
    return Send("POST", "/catalog/v1/oauth/tokens", body, "", std::move(headers));
  };
  HttpResponse ok =
      token("grant_type=client_credentials&client_id=admin&client_secret=admin-secret");
  ASSERT_EQ(ok.status, 200);
  const json body = json::parse(ok.body);
  EXPECT_EQ(body["token_type"], "bearer");
  EXPECT_EQ(body["expires_in"], 3600);
  EXPECT_EQ(body["issued_token_type"], "urn:ietf:params:oauth:token-type:access_token");
  // HTTP Basic credentials ("admin:admin-secret").
  EXPECT_EQ(
      token("grant_type=client_credentials", {{"authorization", "Basic YWRtaW46YWRtaW4tc2VjcmV0"}})
          .status,
      200);
  HttpResponse wrong = token("grant_type=client_credentials&client_id=admin&client_secret=nope");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(json::parse(wrong.body)["error"], "invalid_client");
  EXPECT_THAT(wrong.body, ::testing::Not(HasSubstr("nope")));
  EXPECT_EQ(json::parse(token("grant_type=password&client_id=a&client_secret=b").body)["error"],
            "unsupported_grant_type");
  EXPECT_EQ(json::parse(token("grant_type=client_credentials&client_id=%zz").body)["error"],
            "invalid_request");
  EXPECT_EQ(json::parse(token("grant_type=client_credentials").body)["error"], "invalid_request");
  EXPECT_EQ(token("%").status, 400);
}

TEST_F(RestCatalogTest, StatusCodesFollowTheSpec) {
  CreateOrders();
  const std::string& t = root_token_;
  EXPECT_EQ(Status(Send("POST", "/catalog/v1/mesh/namespaces", R"({"namespace":["sales"]})", t)),
            409);
  EXPECT_EQ(Status(Send("GET", "/catalog/v1/mesh/namespaces/nope", "", t)), 404);
  HttpResponse missing = Send("GET", "/catalog/v1/mesh/namespaces/sales/tables/nope", "", t);
  EXPECT_EQ(Status(missing), 404);
  EXPECT_THAT(missing.body, HasSubstr("NoSuchTableException"));
  EXPECT_THAT(Send("GET", "/catalog/v1/mesh/namespaces/nope/tables", "", t).body,
              HasSubstr("NoSuchNamespaceException"));
  EXPECT_EQ(Status(Send("HEAD", "/catalog/v1/mesh/namespaces/sales/tables/orders", "", t)), 204);
  EXPECT_EQ(Status(Send("HEAD", "/catalog/v1/mesh/namespaces/sales/tables/nope", "", t)), 404);
  HttpResponse not_empty = Send("DELETE", "/catalog/v1/mesh/namespaces/sales", "", t);
  EXPECT_EQ(Status(not_empty), 409);
  EXPECT_THAT(not_empty.body, HasSubstr("NamespaceNotEmptyException"));
  HttpResponse stale = Send("POST", "/catalog/v1/mesh/namespaces/sales/tables/orders",
                            R"({"requirements":[{"type":"assert-current-schema-id",
                                "current-schema-id":7}],"updates":[]})",
                            t);
  EXPECT_EQ(Status(stale), 409);
  EXPECT_THAT(stale.body, HasSubstr("CommitFailedException"));
  EXPECT_EQ(
      Status(Send("POST", "/catalog/v1/mesh/namespaces/sales/tables/orders",
                  R"({"updates":[{"action":"upgrade-format-version","format-version":3}]})", t)),
      406);
  EXPECT_EQ(Status(Send("GET", "/catalog/v1/other/namespaces", "", t)), 404);
  EXPECT_EQ(Status(Send("GET", "/catalog/v1/config?warehouse=other", "", t)), 404);
  // Metrics reports are acknowledged; vended-credential requests are accepted (the warehouse is
  // local: there is nothing to vend).
  EXPECT_EQ(Status(Send("POST", "/catalog/v1/mesh/namespaces/sales/tables/orders/metrics",
                        R"({"report-type":"scan-report","table-name":"sales.orders"})", t)),
            204);
  EXPECT_EQ(Status(Send("POST", "/catalog/v1/mesh/namespaces/sales/tables/orders/metrics",
                        R"({"report-type":"nonsense"})", t)),
            400);
  EXPECT_EQ(Status(Send("GET", "/catalog/v1/mesh/namespaces/sales/tables/orders", "", t,
                        {{"x-iceberg-access-delegation", "vended-credentials,remote-signing"}})),
            200);
  // Prefix-less routes work for clients that skip /config.
  EXPECT_EQ(Status(Send("GET", "/catalog/v1/namespaces", "", t)), 200);
  // Denied: 403 naming the privilege.
  ASSERT_OK_AND_ASSIGN(auto eve, catalog_->CreatePrincipal({"admin", true, "t"}, "eve", "user"));
  HttpResponse denied = Send("GET", "/catalog/v1/mesh/namespaces/sales/tables/orders", "",
                             Token(eve.client_id, eve.client_secret));
  EXPECT_EQ(Status(denied), 403);
  EXPECT_THAT(denied.body, HasSubstr("lacks READ_METADATA on table sales.orders"));
  // Paging.
  for (const char* name : {"b", "c", "d"}) {
    Send("POST", "/catalog/v1/mesh/namespaces", json({{"namespace", {name}}}).dump(), t);
  }
  json first = json::parse(Send("GET", "/catalog/v1/mesh/namespaces?pageSize=2", "", t).body);
  ASSERT_EQ(first["namespaces"].size(), 2u);
  ASSERT_TRUE(first["next-page-token"].is_string());
  json rest = json::parse(Send("GET",
                               "/catalog/v1/mesh/namespaces?pageSize=2&pageToken=" +
                                   first["next-page-token"].get<std::string>(),
                               "", t)
                              .body);
  EXPECT_EQ(rest["namespaces"].size(), 2u);
  EXPECT_TRUE(rest["next-page-token"].is_null());
  EXPECT_EQ(Status(Send("GET", "/catalog/v1/mesh/namespaces?pageSize=0", "", t)), 400);
  EXPECT_EQ(Status(Send("GET", "/catalog/v1/mesh/namespaces?pageToken=%25%25", "", t)), 400);
}

TEST_F(RestCatalogTest, BadInputIsA4xxWithTheErrorModel) {
  CreateOrders();
  const std::string& t = root_token_;
  const std::string table = "/catalog/v1/mesh/namespaces/sales/tables/orders";
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"POST", "/catalog/v1/mesh/namespaces", "{not json"},
      {"POST", "/catalog/v1/mesh/namespaces", "[]"},
      {"POST", "/catalog/v1/mesh/namespaces", R"({"namespace":"sales"})"},
      {"POST", "/catalog/v1/mesh/namespaces", R"({"namespace":[1,2]})"},
      {"POST", "/catalog/v1/mesh/namespaces", R"({"namespace":[""]})"},
      {"POST", "/catalog/v1/mesh/namespaces", R"({"namespace":[".."]})"},
      {"POST", "/catalog/v1/mesh/namespaces", R"({"namespace":["a\u0001b"]})"},
      {"POST", "/catalog/v1/mesh/namespaces",
       json({{"namespace", {std::string(300, 'x')}}}).dump()},
      {"POST", "/catalog/v1/mesh/namespaces", R"({"namespace":["x"],"properties":{"a":1}})"},
      {"POST", "/catalog/v1/mesh/namespaces", ""},
      {"POST", "/catalog/v1/mesh/namespaces/sales/properties", R"({"removals":"a"})"},
      {"POST", "/catalog/v1/mesh/namespaces/sales/tables", R"({"name":5})"},
      {"POST", "/catalog/v1/mesh/namespaces/sales/tables", R"({"name":"t","schema":"long"})"},
      {"POST", "/catalog/v1/mesh/namespaces/sales/tables",
       R"({"name":"t","schema":{"type":"struct","fields":[{"id":"1"}]}})"},
      {"POST", table, R"({"updates":[{"action":"teleport"}]})"},
      {"POST", table, R"({"updates":[{"action":"set-properties","updates":[1]}]})"},
      {"POST", table, R"({"updates":{}})"},
      {"POST", table, R"({"requirements":[{"type":"assert-nothing"}],"updates":[]})"},
      {"POST", table, R"({"requirements":"x","updates":[]})"},
      {"POST", table, R"({"updates":[{"action":"add-snapshot","snapshot":{"snapshot-id":"x"}}]})"},
      {"POST", table, R"({})"},
      {"DELETE", table + "?purgeRequested=maybe", ""},
      {"GET", table + "?snapshots=some", ""},
      {"POST", "/catalog/v1/mesh/tables/rename", R"({"source":{"namespace":["sales"]}})"},
      {"POST", "/catalog/v1/mesh/tables/rename",
       R"({"source":{"namespace":["sales"],"name":"orders"},"destination":{"namespace":["sa/les"],"name":"x"}})"},
      {"POST", "/catalog/v1/mesh/transactions/commit", R"({"table-changes":[{"updates":[]}]})"},
      {"POST", "/catalog/v1/mesh/transactions/commit", R"({"table-changes":5})"},
      {"POST", "/catalog/v1/mesh/namespaces/sales/register", R"({"name":"x"})"},
      {"POST", "/catalog/v1/mesh/namespaces/sales/register",
       R"({"name":"x","metadata-location":"file:///etc/passwd"})"},
      {"GET", "/catalog/v1/mesh/namespaces/sa%1Fles", ""},
      // Invalid UTF-8 in a path segment ends up in the error message: never an exception.
      {"GET", "/catalog/v1/mesh/namespaces/sa\xCE\xFFles", ""},
      {"GET", "/catalog/v1/mesh/namespaces/sales/tables/or\xC3", ""},
  };
  for (const auto& [method, path, body] : cases) {
    SCOPED_TRACE(method + " " + path + " " + body.substr(0, 80));
    HttpResponse response = Send(method, path, body, t);
    const int status = Status(response);
    EXPECT_GE(status, 400) << response.body;
    EXPECT_LT(status, 500) << response.body;
  }
  // Nothing of that changed the table.
  json loaded = json::parse(Send("GET", table, "", t).body);
  EXPECT_EQ(loaded["metadata"]["current-schema-id"], 0);
  EXPECT_TRUE(loaded["metadata"]["snapshots"].empty());
}

TEST_F(RestCatalogTest, ViewsFollowTheViewSpec) {
  CreateOrders();
  const std::string& t = root_token_;
  const json version = {{"version-id", 1},
                        {"schema-id", 0},
                        {"timestamp-ms", 1700000000000},
                        {"summary", {{"engine-name", "duckdb"}}},
                        {"representations",
                         {{{"type", "sql"},
                           {"sql", "SELECT id FROM sales.orders WHERE region = 'emea'"},
                           {"dialect", "duckdb"}}}},
                        {"default-namespace", {"sales"}}};
  const json view_schema = {
      {"type", "struct"},
      {"schema-id", 0},
      {"fields", {{{"id", 1}, {"name", "id"}, {"required", true}, {"type", "long"}}}}};
  HttpResponse created = Send("POST", "/catalog/v1/mesh/namespaces/sales/views",
                              json({{"name", "emea_orders"},
                                    {"schema", view_schema},
                                    {"view-version", version},
                                    {"properties", {{"comment", "EMEA only"}}}})
                                  .dump(),
                              t);
  ASSERT_EQ(Status(created), 200) << created.body;
  const json view = json::parse(created.body);
  EXPECT_EQ(view["metadata"]["format-version"], 1);
  EXPECT_EQ(view["metadata"]["current-version-id"], 1);
  EXPECT_EQ(view["metadata"]["properties"]["comment"], "EMEA only");
  EXPECT_EQ(view["metadata"]["version-log"].size(), 1u);
  const std::string uuid = view["metadata"]["view-uuid"];
  // A table and a view share the namespace's names.
  EXPECT_EQ(Status(Send("POST", "/catalog/v1/mesh/namespaces/sales/views",
                        json({{"name", "orders"},
                              {"schema", view_schema},
                              {"view-version", version},
                              {"properties", json::object()}})
                            .dump(),
                        t)),
            409);
  EXPECT_EQ(Status(Send("HEAD", "/catalog/v1/mesh/namespaces/sales/views/emea_orders", "", t)),
            204);
  HttpResponse missing = Send("GET", "/catalog/v1/mesh/namespaces/sales/views/nope", "", t);
  EXPECT_EQ(Status(missing), 404);
  EXPECT_THAT(missing.body, HasSubstr("NoSuchViewException"));

  // Replace: a new version becomes current, guarded by the view's uuid.
  json replacement = version;
  replacement["representations"][0]["sql"] = "SELECT id FROM sales.orders";
  replacement["schema-id"] = 0;
  const json replace = {{"requirements", {{{"type", "assert-view-uuid"}, {"uuid", uuid}}}},
                        {"updates",
                         {{{"action", "add-view-version"}, {"view-version", replacement}},
                          {{"action", "set-current-view-version"}, {"view-version-id", -1}}}}};
  HttpResponse replaced =
      Send("POST", "/catalog/v1/mesh/namespaces/sales/views/emea_orders", replace.dump(), t);
  ASSERT_EQ(Status(replaced), 200) << replaced.body;
  const json after = json::parse(replaced.body);
  EXPECT_EQ(after["metadata"]["current-version-id"], 2);
  EXPECT_EQ(after["metadata"]["versions"].size(), 2u);
  EXPECT_EQ(after["metadata"]["version-log"].size(), 2u);
  EXPECT_NE(after["metadata-location"], view["metadata-location"]);
  json stale = replace;
  stale["requirements"][0]["uuid"] = "00000000-0000-0000-0000-000000000000";
  EXPECT_EQ(
      Status(Send("POST", "/catalog/v1/mesh/namespaces/sales/views/emea_orders", stale.dump(), t)),
      409);
  EXPECT_EQ(Status(Send("POST", "/catalog/v1/mesh/namespaces/sales/views/emea_orders",
                        R"({"updates":[{"action":"add-snapshot"}]})", t)),
            400);

  json listed = json::parse(Send("GET", "/catalog/v1/mesh/namespaces/sales/views", "", t).body);
  ASSERT_EQ(listed["identifiers"].size(), 1u);
  EXPECT_EQ(listed["identifiers"][0]["name"], "emea_orders");
  EXPECT_EQ(Status(Send("POST", "/catalog/v1/mesh/views/rename",
                        R"({"source":{"namespace":["sales"],"name":"emea_orders"},
                            "destination":{"namespace":["sales"],"name":"emea"}})",
                        t)),
            204);
  EXPECT_EQ(Status(Send("GET", "/catalog/v1/mesh/namespaces/sales/views/emea", "", t)), 200);
  EXPECT_EQ(Status(Send("DELETE", "/catalog/v1/mesh/namespaces/sales/views/emea", "", t)), 204);
  EXPECT_EQ(Status(Send("GET", "/catalog/v1/mesh/namespaces/sales/views/emea", "", t)), 404);
  // Loading a table as a view (and back) is a 404 of the right kind.
  EXPECT_THAT(Send("GET", "/catalog/v1/mesh/namespaces/sales/views/orders", "", t).body,
              HasSubstr("NoSuchViewException"));
}

TEST_F(RestCatalogTest, IdempotencyKeysReplayTheFinalResponse) {
  const std::string& t = root_token_;
  const std::string key = "01931f2e-79b0-7cc3-98c4-dc0c0c07398f";
  const std::string create = R"({"namespace":["sales"]})";
  HttpResponse first =
      Send("POST", "/catalog/v1/mesh/namespaces", create, t, {{"idempotency-key", key}});
  ASSERT_EQ(first.status, 200);
  // A retry of the same operation gets the same answer, not "already exists".
  HttpResponse retry =
      Send("POST", "/catalog/v1/mesh/namespaces", create, t, {{"idempotency-key", key}});
  EXPECT_EQ(retry.status, 200);
  EXPECT_EQ(retry.body, first.body);
  EXPECT_EQ(retry.headers["Idempotent-Replayed"], "true");
  EXPECT_EQ(Status(Send("POST", "/catalog/v1/mesh/namespaces", create, t)), 409);
  // The key belongs to that operation and that principal.
  EXPECT_EQ(Status(Send("DELETE", "/catalog/v1/mesh/namespaces/sales", "", t,
                        {{"idempotency-key", key}})),
            400);
  ASSERT_OK_AND_ASSIGN(auto bob, catalog_->CreatePrincipal({"admin", true, "t"}, "bob", "user"));
  EXPECT_EQ(Status(Send("POST", "/catalog/v1/mesh/namespaces", create,
                        Token(bob.client_id, bob.client_secret), {{"idempotency-key", key}})),
            400);
  EXPECT_EQ(Status(Send("POST", "/catalog/v1/mesh/namespaces", create, t,
                        {{"idempotency-key", "not-a-uuid"}})),
            400);
  EXPECT_EQ(Status(Send("POST", "/catalog/v1/mesh/namespaces", create, t,
                        {{"idempotency-key", "\xCE\xFF-not-utf8"}})),
            400);
  // Final 4xx are replayed too; a drop retried after success stays 204.
  const std::string drop_key = "01931f2e-79b0-7cc3-98c4-dc0c0c073990";
  EXPECT_EQ(
      Send("DELETE", "/catalog/v1/mesh/namespaces/sales", "", t, {{"idempotency-key", drop_key}})
          .status,
      204);
  EXPECT_EQ(
      Send("DELETE", "/catalog/v1/mesh/namespaces/sales", "", t, {{"idempotency-key", drop_key}})
          .status,
      204);
  EXPECT_EQ(Status(Send("DELETE", "/catalog/v1/mesh/namespaces/sales", "", t)), 404);
  json config = json::parse(Send("GET", "/catalog/v1/config", "", t).body);
  EXPECT_EQ(config["idempotency-key-lifetime"], "PT1H");
}

}  // namespace
}  // namespace meshwork::server
