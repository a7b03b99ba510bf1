// The portal's session login, CSRF protection and static assets through the router, without
// sockets.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/mesh_api.h"
#include "server/portal.h"
#include "server/session.h"
#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork::server {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

class PortalSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(metastore_, metastore::Metastore::Open(
                                         {.url = (scratch_.path() / "meshwork.db").string()}));
    ASSERT_OK_AND_ASSIGN(
        catalog_,
        catalog::Catalog::Open(*metastore_, {.warehouse_root = (scratch_.path() / "wh").string(),
                                             .bootstrap_credentials = "admin:admin-secret"}));
    products_ = std::make_unique<product::ProductService>(*catalog_, nullptr);
    AddMeshApiRoutes(router_, *catalog_);
    AddPortalRoutes(router_, *catalog_, *products_, {});
  }

  HttpResponse Send(const std::string& method, const std::string& path, const std::string& body,
                    std::map<std::string, std::string> headers = {}) {
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.body = body;
    request.headers = std::move(headers);
    request.request_id = "test";
    Router::Match match = router_.Find(request);
    if (match.handler == nullptr) return {.status = match.path_known ? 405 : 404};
    return (*match.handler)(request);
  }

  // Logs in as admin: {cookie value, csrf token}.
  std::pair<std::string, std::string> Login() {
    HttpResponse response = Send("POST", "/api/v1/session",
                                 R"({"client_id": "admin", "client_secret": "admin-secret"})",
                                 {{"content-type", "application/json"}});
    EXPECT_EQ(response.status, 200) << response.body;
    const std::string cookie = response.headers["Set-Cookie"];
    const size_t start = cookie.find('=') + 1;
    return {cookie.substr(start, cookie.find(';') - start),
            json::parse(response.body).value("csrf_token", "")};
  }

  testing::ScratchDir scratch_;
  std::unique_ptr<metastore::Metastore> metastore_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<product::ProductService> products_;
  Router router_;
};

TEST(SessionHelpersTest, CookiesCsrfAndComparison) {
  HttpRequest request;
  request.headers["cookie"] = "theme=dark; mw_session=abc.def.ghi;other=1";
  EXPECT_EQ(CookieValue(request, "mw_session").value_or(""), "abc.def.ghi");
  EXPECT_EQ(CookieValue(request, "other").value_or(""), "1");
  EXPECT_FALSE(CookieValue(request, "mw").has_value());
  EXPECT_EQ(CsrfToken("token-a"), CsrfToken("token-a"));
  EXPECT_NE(CsrfToken("token-a"), CsrfToken("token-b"));
  EXPECT_THAT(CsrfToken("token-a"), Not(HasSubstr("token-a")));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
}

TEST_F(PortalSessionTest, LoginSetsAStrictHttpOnlyCookieAndReturnsTheCsrfToken) {
  HttpResponse response =
      Send("POST", "/api/v1/session", R"({"client_id": "admin", "client_secret": "admin-secret"})",
           {{"content-type", "application/json"}});
  ASSERT_EQ(response.status, 200) << response.body;
  const std::string cookie = response.headers["Set-Cookie"];
  EXPECT_THAT(cookie, HasSubstr("mw_session="));
  EXPECT_THAT(cookie, HasSubstr("HttpOnly"));
  EXPECT_THAT(cookie, HasSubstr("SameSite=Strict"));
  EXPECT_THAT(cookie, HasSubstr("Max-Age=3600"));
  EXPECT_THAT(cookie, Not(HasSubstr("Secure")));  // plain HTTP here
  EXPECT_EQ(response.headers["Cache-Control"], "no-store");
  const json body = json::parse(response.body);
  EXPECT_EQ(body["principal"], "root");  // client id admin is the root principal
  const size_t start = cookie.find('=') + 1;
  EXPECT_EQ(body["csrf_token"], CsrfToken(cookie.substr(start, cookie.find(';') - start)));
  EXPECT_GT(body["expires_at"].get<int64_t>(), 0);
}

TEST_F(PortalSessionTest, LoginRefusesFormsAndWrongSecrets) {
  EXPECT_EQ(Send("POST", "/api/v1/session", "client_id=admin&client_secret=admin-secret",
                 {{"content-type", "application/x-www-form-urlencoded"}})
                .status,
            400);
  HttpResponse wrong =
      Send("POST", "/api/v1/session", R"({"client_id": "admin", "client_secret": "nope"})",
           {{"content-type", "application/json"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_FALSE(wrong.headers.contains("Set-Cookie"));
  EXPECT_EQ(Send("POST", "/api/v1/session", R"({"client_id": "admin"})",
                 {{"content-type", "application/json"}})
                .status,
            400);
}

TEST_F(PortalSessionTest, CookieCallsThatChangeStateNeedTheCsrfTokenAndThisOrigin) {
  auto [session, csrf] = Login();
  const std::string cookie = "mw_session=" + session;
  EXPECT_EQ(Send("GET", "/api/v1/whoami", "", {{"cookie", cookie}}).status, 200);
  const std::string role = R"({"name": "analysts"})";
  HttpResponse missing = Send("POST", "/api/v1/roles", role, {{"cookie", cookie}});
  EXPECT_EQ(missing.status, 403);
  EXPECT_THAT(missing.body, HasSubstr("X-CSRF-Token"));
  EXPECT_EQ(Send("POST", "/api/v1/roles", role, {{"cookie", cookie}, {"x-csrf-token", csrf + "x"}})
                .status,
            403);
  EXPECT_EQ(Send("POST", "/api/v1/roles", role,
                 {{"cookie", cookie},
                  {"x-csrf-token", csrf},
                  {"origin", "https://evil.example"},
                  {"host", "127.0.0.1:8181"}})
                .status,
            403);
  EXPECT_EQ(Send("POST", "/api/v1/roles", role,
                 {{"cookie", cookie},
                  {"x-csrf-token", csrf},
                  {"origin", "http://127.0.0.1:8181"},
                  {"host", "127.0.0.1:8181"}})
                .status,
            201);
  // Without any credentials: 401 that says how to get some.
  HttpResponse anonymous = Send("GET", "/api/v1/whoami", "");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_THAT(anonymous.body, HasSubstr("log in to the portal"));
  // Bearer tokens keep working without CSRF (API clients).
  EXPECT_EQ(Send("POST", "/api/v1/roles", R"({"name": "engineers"})",
                 {{"authorization", "Bearer " + session}})
                .status,
            201);
  EXPECT_EQ(Send("GET", "/api/v1/whoami", "", {{"authorization", "Basic YTpi"}}).status, 401);
}

TEST_F(PortalSessionTest, LogoutNeedsCsrfClearsTheCookieAndRevokesTheToken) {
  auto [session, csrf] = Login();
  const std::string cookie = "mw_session=" + session;
  EXPECT_EQ(Send("DELETE", "/api/v1/session", "", {{"cookie", cookie}}).status, 403);
  HttpResponse out =
      Send("DELETE", "/api/v1/session", "", {{"cookie", cookie}, {"x-csrf-token", csrf}});
  EXPECT_EQ(out.status, 204);
  EXPECT_THAT(out.headers["Set-Cookie"], HasSubstr("Max-Age=0"));
  HttpResponse after = Send("GET", "/api/v1/session", "", {{"cookie", cookie}});
  EXPECT_EQ(after.status, 401);
  EXPECT_THAT(after.body, HasSubstr("logged out"));
}

TEST_F(PortalSessionTest, ThePageIsServedWithAStrictPolicyAndCompressedCachedAssets) {
  HttpResponse page = Send("GET", "/", "");
  ASSERT_EQ(page.status, 200);
  EXPECT_THAT(page.content_type, HasSubstr("text/html"));
  const std::string policy = page.headers["Content-Security-Policy"];
  EXPECT_THAT(policy, HasSubstr("default-src 'self'"));
  EXPECT_THAT(policy, HasSubstr("script-src 'self' 'sha256-"));
  EXPECT_THAT(policy, HasSubstr("frame-ancestors 'none'"));
  EXPECT_EQ(page.headers["X-Content-Type-Options"], "nosniff");
  EXPECT_THAT(page.body, HasSubstr("<script type=\"importmap\">"));

  HttpResponse plain = Send("GET", "/assets/vendor/preact.mjs", "");
  ASSERT_EQ(plain.status, 200);
  HttpResponse gzipped =
      Send("GET", "/assets/vendor/preact.mjs", "", {{"accept-encoding", "gzip, br"}});
  EXPECT_EQ(gzipped.headers["Content-Encoding"], "gzip");
  EXPECT_LT(gzipped.body.size(), plain.body.size());
  HttpResponse cached =
      Send("GET", "/assets/vendor/preact.mjs", "", {{"if-none-match", plain.headers["ETag"]}});
  EXPECT_EQ(cached.status, 304);
  EXPECT_TRUE(cached.body.empty());
  EXPECT_EQ(Send("GET", "/assets/nothing.js", "").status, 404);
  EXPECT_EQ(Send("GET", "/assets/main.js", "").status, 200);
}

TEST_F(PortalSessionTest, ThePortalProductViewNeedsASession) {
  EXPECT_EQ(Send("GET", "/api/v1/portal/products/finance/q3_revenue", "").status, 401);
  auto [session, csrf] = Login();
  EXPECT_EQ(Send("GET", "/api/v1/portal/products/finance/q3_revenue", "",
                 {{"cookie", "mw_session=" + session}})
                .status,
            404);
}

}  // namespace
}  // namespace meshwork::server
