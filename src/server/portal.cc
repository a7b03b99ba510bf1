#include "server/portal.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <zlib.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "catalog/credentials.h"
#include "governance/encryption.h"
#include "iceberg/json_reader.h"
#include "server/governance_api.h"
#include "server/json_http.h"
#include "server/mesh_api.h"
#include "server/portal_assets.h"
#include "server/rest_catalog.h"
#include "server/session.h"

namespace meshwork::server {
namespace {

using nlohmann::json;

struct Asset {
  std::string content_type;
  std::string body;
  std::string gzipped;  // empty when compressing does not pay
  std::string etag;
};

std::string Gzip(const std::string& input) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return "";
  }
  std::string out(deflateBound(&stream, input.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  stream.avail_in = static_cast<uInt>(input.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return result == Z_STREAM_END ? out : "";
}

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()),
                                      static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(written));
  return out;
}

std::string Sha256(std::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

const std::map<std::string, Asset>& Assets() {
  static const std::map<std::string, Asset> assets = [] {
    std::map<std::string, Asset> out;
    for (const EmbeddedFile& file : PortalAssets()) {
      Asset asset;
      asset.content_type = file.content_type;
      asset.body.assign(reinterpret_cast<const char*>(file.data), file.size);
      std::string gzipped = Gzip(asset.body);
      if (!gzipped.empty() && gzipped.size() + 64 < asset.body.size()) {
        asset.gzipped = std::move(gzipped);
      }
      asset.etag = "\"" + catalog::Base64UrlEncode(Sha256(asset.body).substr(0, 12)) + "\"";
      out.emplace(file.path, std::move(asset));
    }
    return out;
  }();
  return assets;
}

// The page's inline import map is the only script not loaded from a file: allowed by its hash.
std::string ImportMapHash() {
  const auto& assets = Assets();
  auto index = assets.find("/index.html");
  if (index == assets.end()) return "";
  const std::string& page = index->second.body;
  const std::string open = "<script type=\"importmap\">";
  const size_t start = page.find(open);
  if (start == std::string::npos) return "";
  const size_t end = page.find("</script>", start);
  if (end == std::string::npos) return "";
  return "'sha256-" + Base64(Sha256(page.substr(start + open.size(), end - start - open.size()))) +
         "'";
}

void AddSecurityHeaders(HttpResponse& response) {
  response.headers["Content-Security-Policy"] = PortalContentSecurityPolicy();
  response.headers["X-Content-Type-Options"] = "nosniff";
  response.headers["X-Frame-Options"] = "DENY";
  response.headers["Referrer-Policy"] = "no-referrer";
  response.headers["Cross-Origin-Opener-Policy"] = "same-origin";
  response.headers["Cross-Origin-Resource-Policy"] = "same-origin";
}

HttpResponse ServeAsset(const HttpRequest& request, const std::string& path) {
  const auto& assets = Assets();
  auto found = assets.find(path);
  if (found == assets.end()) {
    HttpResponse missing =
        ErrorResponse(Status::NotFound("the portal has no file {}", path.substr(0, 200))
                          .WithHint("open the portal at / ; its files are under /assets/"));
    AddSecurityHeaders(missing);
    return missing;
  }
  const Asset& asset = found->second;
  HttpResponse response{.status = 200, .content_type = asset.content_type};
  AddSecurityHeaders(response);
  response.headers["ETag"] = asset.etag;
  // Revalidated on every load (a 304 is a few bytes): a new binary's assets show at once.
  response.headers["Cache-Control"] = "no-cache";
  response.headers["Vary"] = "Accept-Encoding";
  if (request.Header("if-none-match").value_or("") == asset.etag) {
    response.status = 304;
    response.content_type = "";
    return response;
  }
  const std::string accept = request.Header("accept-encoding").value_or("");
  if (!asset.gzipped.empty() && accept.find("gzip") != std::string::npos) {
    response.headers["Content-Encoding"] = "gzip";
    response.body = asset.gzipped;
  } else {
    response.body = asset.body;
  }
  return response;
}

HttpResponse NoStore(HttpResponse response) {
  response.headers["Cache-Control"] = "no-store";
  response.headers["X-Content-Type-Options"] = "nosniff";
  return response;
}

std::string SessionCookie(const std::string& value, int64_t max_age, bool tls) {
  return std::string(kSessionCookie) + "=" + value +
         "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age) +
         (tls ? "; Secure" : "");
}

json SessionJson(catalog::Catalog& catalog, const RequestAuth& auth) {
  json out = {{"principal", auth.caller.principal},
              {"is_root", auth.caller.is_root},
              {"expires_at", TokenExpiry(auth.token)}};
  if (auth.by_cookie) out["csrf_token"] = CsrfToken(auth.token);
  if (auto who = catalog.Describe(auth.caller); who.ok()) out["roles"] = who->roles;
  return out;
}

json ColumnJson(const product::Column& column) {
  return {{"name", column.name},
          {"type", column.type},
          {"nullable", column.nullable},
          {"description", column.description},
          {"classification", column.classification},
          {"semantic_type", column.semantic_type},
          {"primary_key", column.primary_key}};
}

// The columns of `table` (domain.table) its data files store encrypted, read as the query layer
// reads them (the table's meshwork.encrypted.* properties, for columns of its current schema):
// governance redacts those no mask covers for callers without UNMASK.
Result<std::map<std::string, governance::EncryptionMode>> StoredEncrypted(
    catalog::Catalog& catalog, const catalog::Caller& caller, const std::string& table) {
  const size_t dot = table.find('.');
  if (dot == std::string::npos) {
    return Status::InvalidArgument("table {} has no domain", table)
        .WithHint("republish the product: its ports are tables domain.name");
  }
  MW_ASSIGN_OR_RETURN(auto loaded,
                      catalog.LoadTable(caller, {{table.substr(0, dot)}, table.substr(dot + 1)}));
  const iceberg::Schema& schema = loaded.metadata.CurrentSchema();
  std::map<std::string, governance::EncryptionMode> out;
  for (const auto& [column, mode] : governance::EncryptedColumns(loaded.metadata.properties))
    if (schema.FindField(std::string_view(column)) != nullptr) out[column] = mode;
  return out;
}

// The host name in a Host header ("example.org:8181", "[::1]:8181"); empty when it is missing or
// holds anything but a host name or address.
std::string RequestHostName(const HttpRequest& request) {
  const std::string host = request.Header("host").value_or("");
  if (host.empty() || host.size() > 255) return "";
  for (const char c : host) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '.' || c == '-' || c == ':' || c == '[' ||
                         c == ']';
    if (!allowed) return "";
  }
  if (host.front() == '[') {
    const size_t end = host.find(']');
    return end == std::string::npos ? "" : host.substr(0, end + 1);
  }
  const size_t colon = host.find(':');
  if (colon != std::string::npos && host.find(':', colon + 1) != std::string::npos) return "";
  return host.substr(0, colon);
}

bool Wildcard(const std::string& host) {
  return host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]" || host == "*";
}

std::string UrlHost(const std::string& host) {
  return host.find(':') != std::string::npos && host.front() != '[' ? "[" + host + "]" : host;
}

// How tools reach this server: the HTTP base the request came to (the Host header, which is how
// this client reached it; else the listener), and the PostgreSQL listener (its own address
// unless it listens on every interface, then the host this client used).
json ConnectJson(const HttpRequest& request, const PortalOptions& options) {
  const PortalEndpoints none;
  const PortalEndpoints& at = options.endpoints != nullptr ? *options.endpoints : none;
  const std::string scheme = options.tls ? "https" : "http";
  const std::string asked = RequestHostName(request);
  std::string base;
  if (!asked.empty()) {
    base = scheme + "://" + *request.Header("host");
  } else if (at.http_port > 0) {
    base = scheme + "://" +
           UrlHost(Wildcard(at.http_host) ? std::string("127.0.0.1") : at.http_host) + ":" +
           std::to_string(at.http_port);
  }
  json out = {
      {"mesh", at.mesh}, {"http_base", base}, {"catalog_uri", base + "/catalog"}, {"pg", nullptr}};
  if (at.pg_port > 0) {
    const std::string host = !Wildcard(at.pg_host) ? at.pg_host
                             : asked.empty()       ? std::string("127.0.0.1")
                                                   : asked;
    out["pg"] = {{"host", host.front() == '[' ? host.substr(1, host.size() - 2) : host},
                 {"port", at.pg_port},
                 {"database", at.mesh},
                 {"tls", options.tls}};
  }
  return out;
}

}  // namespace

std::string PortalContentSecurityPolicy() {
  static const std::string policy =
      "default-src 'self'; script-src 'self' " + ImportMapHash() +
      "; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; "
      "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
  return policy;
}

void AddPortalRoutes(Router& router, catalog::Catalog& catalog, product::ProductService& products,
                     PortalOptions options) {
  router.Add("GET", "/", "portal",
             [](HttpRequest& request) { return ServeAsset(request, "/index.html"); });
  router.Add("GET", "/assets/{file}", "portalAsset", [](HttpRequest& request) {
    return ServeAsset(request, "/assets/" + request.Capture("file"));
  });
  router.Add("GET", "/assets/vendor/{file}", "portalAsset", [](HttpRequest& request) {
    return ServeAsset(request, "/assets/vendor/" + request.Capture("file"));
  });

  router.Add("POST", "/api/v1/session", "login", [&catalog, options](HttpRequest& request) {
    // A JSON body only: a form on another site cannot send one without the browser asking
    // this server first (CORS), which it never allows.
    const std::string type = request.Header("content-type").value_or("");
    if (!type.starts_with("application/json")) {
      return NoStore(ErrorResponse(
          Status::InvalidArgument("log in with a JSON body, not {}", type.substr(0, 64))
              .WithHint("send Content-Type: application/json and "
                        "{\"client_id\": \"…\", \"client_secret\": \"…\"}")));
    }
    auto body = Body(request);
    if (!body.ok()) return NoStore(ErrorResponse(body.error()));
    const std::string id = iceberg::json::StringOr(*body, "client_id", "");
    const std::string secret = iceberg::json::StringOr(*body, "client_secret", "");
    if (id.empty() || secret.empty()) {
      return NoStore(ErrorResponse(
          Status::InvalidArgument("client_id and client_secret are both required")
              .WithHint("use the credentials of your principal (meshwork demo prints them)")));
    }
    auto issued = catalog.IssueToken(id, secret);
    if (!issued.ok()) return NoStore(ErrorResponse(issued.error()));
    auto caller = catalog.Authenticate(issued->access_token, request.request_id);
    if (!caller.ok()) return NoStore(ErrorResponse(caller.error()));
    RequestAuth auth{*caller, issued->access_token, true};
    HttpResponse response = Json(200, SessionJson(catalog, auth));
    response.headers["Set-Cookie"] =
        SessionCookie(issued->access_token, issued->expires_in, options.tls);
    return NoStore(std::move(response));
  });
  router.Add("GET", "/api/v1/session", "session", [&catalog](HttpRequest& request) {
    auto auth = AuthenticateRequest(catalog, request);
    if (!auth.ok()) return NoStore(ErrorResponse(auth.error()));
    return NoStore(Json(200, SessionJson(catalog, *auth)));
  });
  router.Add("DELETE", "/api/v1/session", "logout", [&catalog, options](HttpRequest& request) {
    auto auth = AuthenticateRequest(catalog, request);
    if (!auth.ok() && auth.error().code() == StatusCode::kPermissionDenied) {
      return NoStore(ErrorResponse(auth.error()));
    }
    if (auth.ok()) RevokeSessionToken(auth->token, TokenExpiry(auth->token));
    HttpResponse response{.status = 204, .content_type = "", .body = ""};
    response.headers["Set-Cookie"] = SessionCookie("", 0, options.tls);
    return NoStore(std::move(response));
  });

  router.Add(
      "GET", "/api/v1/portal/products/{domain}/{product}", "portalProduct",
      [&catalog, &products, options](HttpRequest& request) {
        auto auth = AuthenticateRequest(catalog, request);
        if (!auth.ok()) return NoStore(ErrorResponse(auth.error()));
        const catalog::Caller& caller = auth->caller;
        auto record =
            products.LoadProduct(caller, request.Capture("domain"), request.Capture("product"));
        if (!record.ok()) return NoStore(ErrorResponse(record.error()));
        auto spec = record->Spec();
        if (!spec.ok()) return NoStore(ErrorResponse(spec.error()));
        json out = product::ProductRecordToJson(*record, /*with_spec=*/false);
        out.erase("columns");
        out["glossary"] = spec->glossary;
        json samples = json::array();
        for (const auto& sample : spec->sample_queries)
          samples.push_back({{"title", sample.title}, {"sql", sample.sql}});
        out["sample_queries"] = samples;
        json links = json::array();
        for (const auto& link : spec->links)
          links.push_back({{"title", link.title}, {"url", link.url}});
        out["links"] = links;
        json inputs = json::array();
        for (const auto& input : spec->inputs) {
          inputs.push_back({{"name", input.name},
                            {"product", input.product_domain.empty()
                                            ? ""
                                            : input.product_domain + "." + input.product_port},
                            {"file", input.file}});
        }
        out["inputs"] = inputs;
        json ports = json::array();
        for (const auto& published : record->ports) {
          const product::Port* port = spec->FindPort(published.port);
          if (port == nullptr) continue;
          json view = {{"name", port->name},
                       {"table", published.table},
                       {"description", port->description},
                       {"records", published.records},
                       {"snapshot_id", published.snapshot_id},
                       {"partitioning", port->partitioning}};
          const size_t dot = published.table.find('.');
          Status readable =
              dot == std::string::npos
                  ? Status::InvalidArgument("table {} has no domain", published.table)
                  : catalog.Authorize(caller, catalog::Privilege::kReadData,
                                      catalog::Securable::Table({published.table.substr(0, dot)},
                                                                published.table.substr(dot + 1)));
          view["can_read"] = readable.ok();
          if (!readable.ok()) view["read_denied"] = readable.message();
          std::vector<std::string> names;
          for (const auto& column : port->columns)
            names.push_back(column.name);
          std::map<std::string, std::string> masked;  // column → policy
          auto encrypted = StoredEncrypted(catalog, caller, published.table);
          if (!encrypted.ok()) {
            // Without the table's properties the page cannot tell which columns are redacted.
            const Status& error = encrypted.error();
            view["access_error"] = fmt::format(
                "cannot tell which columns of {} are masked for you: {}{}", published.table,
                error.message(), error.hint().empty() ? "" : " (" + error.hint() + ")");
          } else if (options.access_policy != nullptr) {
            std::set<std::string> encrypted_names;
            for (const auto& [column, mode] : *encrypted)
              encrypted_names.insert(column);
            auto access =
                options.access_policy->ForTable(caller, published.table, names, encrypted_names);
            if (access.ok()) {
              for (const auto& mask : access->masks)
                masked[mask.column] = mask.policy;
              view["row_filtered"] = !access->row_filter.empty();
              view["row_filter_policies"] = access->row_filter_policies;
            } else {
              view["access_error"] = access.error().message();
            }
          }
          json columns = json::array();
          for (const auto& column : port->columns) {
            json entry = ColumnJson(column);
            auto mask = masked.find(column.name);
            entry["masked"] = mask != masked.end();
            if (mask != masked.end()) entry["mask_policy"] = mask->second;
            if (encrypted.ok()) {
              if (auto stored = encrypted->find(column.name); stored != encrypted->end()) {
                entry["encrypted"] = std::string(governance::EncryptionModeName(stored->second));
              }
            }
            columns.push_back(std::move(entry));
          }
          view["columns"] = columns;
          ports.push_back(std::move(view));
        }
        out["ports"] = ports;
        out["connect"] = ConnectJson(request, options);
        return NoStore(Json(200, out));
      });

  if (options.governance != nullptr) {
    governance::Governance& council = *options.governance;
    router.Add(
        "GET", "/api/v1/governance/overview", "governanceOverview",
        RequireCaller(catalog, [&catalog, &products, &council](HttpRequest& request,
                                                               const catalog::Caller& caller) {
          // The council's view: who may read the audit log may see how the mesh complies.
          Status allowed =
              catalog.Authorize(caller, catalog::Privilege::kReadAudit, catalog::Securable::Mesh());
          if (!allowed.ok()) {
            return NoStore(ErrorResponse(
                Status::PermissionDenied("the governance page is for the governance council: {}",
                                         allowed.message())
                    .WithHint("ask an administrator for a role with READ_AUDIT on the mesh")));
          }
          json applied = {{"version", 0}, {"policies", json::array()}};
          if (auto current = council.Current(); current.ok()) {
            applied = AppliedPoliciesJson(*current, /*with_source=*/true);
          }
          auto listed = products.ListProducts(caller);
          if (!listed.ok()) return NoStore(ErrorResponse(listed.error()));
          json cards = json::array();
          for (const auto& record : *listed) {
            json entry = {{"product", record.QualifiedName()},
                          {"version", record.version},
                          {"warnings", record.warnings}};
            if (auto card = products.ScoreProduct(caller, record.domain, record.name); card.ok()) {
              entry["scorecard"] = product::ScorecardToJson(*card);
            }
            cards.push_back(std::move(entry));
          }
          // The newest events first; `audit` keeps those whose text holds every word.
          const std::string words = request.Query("audit").value_or("");
          std::vector<std::string> terms;
          for (size_t start = 0; start < words.size();) {
            size_t end = words.find(' ', start);
            if (end == std::string::npos) end = words.size();
            if (end > start) terms.push_back(words.substr(start, end - start));
            start = end + 1;
          }
          json events = json::array();
          if (auto all = catalog.metastore().ListEvents(0, 100000); all.ok()) {
            for (auto it = all->rbegin(); it != all->rend() && events.size() < 200; ++it) {
              const std::string text = it->principal + " " + it->action + " " + it->object_kind +
                                       " " + it->object_name + " " + it->details;
              bool match = true;
              for (const auto& term : terms)
                match = match && text.find(term) != std::string::npos;
              if (!match) continue;
              events.push_back({{"id", it->id},
                                {"at_ms", it->at_ms},
                                {"principal", it->principal},
                                {"action", it->action},
                                {"object_kind", it->object_kind},
                                {"object_name", it->object_name},
                                {"details", it->details}});
            }
          }
          json policies = applied["policies"];
          applied.erase("policies");
          return NoStore(Json(200, {{"policies", policies},
                                    {"applied", applied},
                                    {"products", cards},
                                    {"events", events}}));
        }));
  }

  if (options.access_requests == nullptr) return;
  product::AccessRequests& requests = *options.access_requests;
  router.Add("GET", "/api/v1/access-requests", "listAccessRequests",
             RequireCaller(catalog, [&requests](HttpRequest&, const catalog::Caller& caller) {
               auto listed = requests.List(caller);
               if (!listed.ok()) return NoStore(ErrorResponse(listed.error()));
               json out = json::array();
               for (const auto& request : *listed)
                 out.push_back(product::AccessRequestToJson(request));
               return NoStore(Json(200, {{"requests", out}}));
             }));
  router.Add(
      "POST", "/api/v1/access-requests", "requestAccess",
      RequireCaller(catalog, [&requests](HttpRequest& request, const catalog::Caller& caller) {
        auto body = Body(request);
        if (!body.ok()) return NoStore(ErrorResponse(body.error()));
        const std::string name = iceberg::json::StringOr(*body, "product", "");
        const size_t dot = name.find('.');
        if (dot == std::string::npos || dot == 0 || dot + 1 == name.size()) {
          return NoStore(ErrorResponse(
              Status::InvalidArgument("product: '{}' is not domain.name", name.substr(0, 64))
                  .WithHint("for example {\"product\": \"finance.q3_revenue\", "
                            "\"reason\": \"…\"}")));
        }
        auto created = requests.Create(caller, name.substr(0, dot), name.substr(dot + 1),
                                       iceberg::json::StringOr(*body, "reason", ""));
        if (!created.ok()) return NoStore(ErrorResponse(created.error()));
        return NoStore(Json(201, product::AccessRequestToJson(*created)));
      }));
  for (const bool approve : {true, false}) {
    router.Add(
        "POST",
        approve ? "/api/v1/access-requests/{id}/approve" : "/api/v1/access-requests/{id}/deny",
        approve ? "approveAccess" : "denyAccess",
        RequireCaller(
            catalog, [&requests, approve](HttpRequest& request, const catalog::Caller& caller) {
              std::string note;
              if (!request.body.empty()) {
                auto body = Body(request);
                if (!body.ok()) return NoStore(ErrorResponse(body.error()));
                note = iceberg::json::StringOr(*body, "note", "");
              }
              auto decided = requests.Decide(caller, request.Capture("id"), approve, note);
              if (!decided.ok()) return NoStore(ErrorResponse(decided.error()));
              return NoStore(Json(200, product::AccessRequestToJson(*decided)));
            }));
  }
}

}  // namespace meshwork::server
