#include "server/rest_catalog.h"

#include <atomic>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>
#include <set>

#include "catalog/credentials.h"
#include "common/logging.h"
#include "common/time.h"
#include "common/uuid.h"
#include "iceberg/json_reader.h"
#include "iceberg/rest_scan.h"
#include "iceberg/table_metadata.h"
#include "iceberg/view_metadata.h"
#include "server/json_http.h"

namespace meshwork::server {
namespace {

using catalog::Caller;
using iceberg::TableIdentifier;
using nlohmann::json;

constexpr char kNamespaceSeparator = '\x1f';

HttpResponse NoContent() {
  return {.status = 204, .content_type = "", .body = ""};
}

std::string ErrorType(const Status& status) {
  const std::string& message = status.message();
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return "BadRequestException";
    case StatusCode::kUnauthenticated:
      return "NotAuthorizedException";
    case StatusCode::kPermissionDenied:
      return "ForbiddenException";
    case StatusCode::kNotFound:
      if (message.starts_with("namespace")) return "NoSuchNamespaceException";
      if (message.starts_with("view")) return "NoSuchViewException";
      return "NoSuchTableException";
    case StatusCode::kAlreadyExists:
      return "AlreadyExistsException";
    case StatusCode::kConflict:
      return "CommitFailedException";
    case StatusCode::kFailedPrecondition:
      return message.find("not empty") != std::string::npos ? "NamespaceNotEmptyException"
                                                            : "BadRequestException";
    case StatusCode::kNotImplemented:
      return "UnsupportedOperationException";
    case StatusCode::kUnavailable:
      return status.hint().starts_with("CommitStateUnknown") ? "CommitStateUnknownException"
                                                             : "ServiceUnavailableException";
    case StatusCode::kCancelled:
      return "CancelledException";
    default:
      return "InternalServerErrorException";
  }
}

int HttpStatus(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kNotImplemented:
      return 406;
    case StatusCode::kAlreadyExists:
    case StatusCode::kConflict:
      return 409;
    case StatusCode::kFailedPrecondition:
      return status.message().find("not empty") != std::string::npos ? 409 : 400;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kCancelled:
      // A statement cancelled on request or by its timeout: the request's outcome, not a fault
      // of the server (PostgreSQL's 57014 comes with it in the query API).
      return 409;
    default:
      return 500;
  }
}

Result<metastore::Levels> ParseNamespace(const std::string& text) {
  metastore::Levels levels;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(kNamespaceSeparator, start);
    levels.push_back(text.substr(start, end == std::string::npos ? end : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  MW_RETURN_IF_ERROR(catalog::ValidateNamespace(levels));
  return levels;
}

Result<metastore::Levels> NamespaceFromJson(const json& value, std::string_view field) {
  if (!value.is_array()) {
    return Status::InvalidArgument("{}: expected an array of strings", field);
  }
  metastore::Levels levels;
  for (const auto& level : value) {
    if (!level.is_string()) {
      return Status::InvalidArgument("{}: expected an array of strings", field);
    }
    levels.push_back(level.get<std::string>());
  }
  MW_RETURN_IF_ERROR(catalog::ValidateNamespace(levels));
  return levels;
}

Result<TableIdentifier> IdentifierFromJson(const json& value, std::string_view field) {
  if (!value.is_object() || !value.contains("namespace") || !value.contains("name") ||
      !value["name"].is_string()) {
    return Status::InvalidArgument("{}: expected {{\"namespace\": [...], \"name\": \"...\"}}",
                                   field);
  }
  MW_ASSIGN_OR_RETURN(auto levels, NamespaceFromJson(value["namespace"], field));
  TableIdentifier identifier{levels, value["name"].get<std::string>()};
  MW_RETURN_IF_ERROR(catalog::ValidateIdentifier(identifier.namespace_levels, identifier.name));
  return identifier;
}

Result<json> ParseBody(const HttpRequest& request) {
  if (request.body.empty()) return Status::InvalidArgument("the request has no JSON body");
  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    return Status::InvalidArgument("the request body is not valid JSON")
        .WithHint("send a JSON object as the Iceberg REST spec describes");
  }
  if (!body.is_object()) return Status::InvalidArgument("the request body is not a JSON object");
  return body;
}

Result<metastore::PageRequest> ParsePage(const HttpRequest& request) {
  metastore::PageRequest page;
  if (auto token = request.Query("pageToken"); token && !token->empty()) {
    auto decoded = catalog::Base64UrlDecode(*token);
    if (!decoded.ok()) return Status::InvalidArgument("pageToken is not one this server issued");
    page.token = *decoded;
  }
  if (auto size = request.Query("pageSize")) {
    int64_t value = 0;
    auto [end, error] = std::from_chars(size->data(), size->data() + size->size(), value);
    if (error != std::errc() || end != size->data() + size->size() || value < 1) {
      return Status::InvalidArgument("pageSize must be a positive integer, got '{}'", *size);
    }
    page.size = std::min<int64_t>(value, 1000);
  }
  return page;
}

json NamespaceJson(const metastore::Levels& levels) {
  return json(levels);
}

// What an engine needs to reach an object-store warehouse without its credentials: the store,
// and remote signing through this catalog (per table: the signer checks the table's grants).
// With a table location, the store that holds it (a domain's own bucket may be elsewhere).
json StorageConfig(catalog::Catalog& catalog, std::string_view location = "") {
  json config = json::object();
  storage::S3FileIO* s3 =
      location.empty() ? catalog.warehouse().s3() : catalog.warehouse().S3For(location);
  if (s3 == nullptr) return config;
  const storage::S3Config& settings = s3->config();
  config["s3.remote-signing-enabled"] = "true";
  config["client.region"] = settings.region;
  config["s3.endpoint"] = settings.endpoint;
  if (settings.addressing == storage::S3Config::Addressing::kPath ||
      (settings.addressing == storage::S3Config::Addressing::kAuto &&
       settings.endpoint.find("amazonaws.com") == std::string::npos)) {
    config["s3.path-style-access"] = "true";
  }
  return config;
}

std::string EncodePathSegment(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

json LoadTableResult(const iceberg::LoadedTable& table, catalog::Catalog* catalog = nullptr,
                     const std::string& prefix = "") {
  json config =
      catalog != nullptr ? StorageConfig(*catalog, table.metadata.location) : json::object();
  if (!config.empty()) {
    std::string ns;
    for (const std::string& level : table.identifier.namespace_levels)
      ns += (ns.empty() ? "" : "%1F") + EncodePathSegment(level);
    // Relative to the catalog's base URI (signer.uri unset: clients resolve it against that).
    config["signer.endpoint"] =
        fmt::format("v1/{}/namespaces/{}/tables/{}/sign", EncodePathSegment(prefix), ns,
                    EncodePathSegment(table.identifier.name));
  }
  json result = {{"metadata", iceberg::TableMetadataToJson(table.metadata)},
                 {"config", std::move(config)}};
  if (!table.metadata_location.empty()) result["metadata-location"] = table.metadata_location;
  return result;
}

}  // namespace

HttpResponse ErrorResponse(const Status& status) {
  std::string message = status.message();
  if (!status.hint().empty() && !status.hint().starts_with("CommitStateUnknown")) {
    message += " (" + status.hint() + ")";
  }
  const int code = HttpStatus(status);
  HttpResponse response =
      Json(code, {{"error", {{"message", message}, {"type", ErrorType(status)}, {"code", code}}}});
  if (code == 401) response.headers["WWW-Authenticate"] = "Bearer";
  return response;
}

const std::vector<std::string>& AdvertisedEndpoints() {
  static const std::vector<std::string> endpoints = {
      "GET /v1/{prefix}/namespaces",
      "POST /v1/{prefix}/namespaces",
      "GET /v1/{prefix}/namespaces/{namespace}",
      "HEAD /v1/{prefix}/namespaces/{namespace}",
      "DELETE /v1/{prefix}/namespaces/{namespace}",
      "POST /v1/{prefix}/namespaces/{namespace}/properties",
      "GET /v1/{prefix}/namespaces/{namespace}/tables",
      "POST /v1/{prefix}/namespaces/{namespace}/tables",
      "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}",
      "HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}",
      "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}",
      "DELETE /v1/{prefix}/namespaces/{namespace}/tables/{table}",
      "POST /v1/{prefix}/namespaces/{namespace}/register",
      "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}/metrics",
      "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}/plan",
      "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}/plan/{plan-id}",
      "DELETE /v1/{prefix}/namespaces/{namespace}/tables/{table}/plan/{plan-id}",
      "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}/tasks",
      "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}/sign",
      "POST /v1/{prefix}/tables/rename",
      "POST /v1/{prefix}/transactions/commit",
      "GET /v1/{prefix}/namespaces/{namespace}/views",
      "POST /v1/{prefix}/namespaces/{namespace}/views",
      "GET /v1/{prefix}/namespaces/{namespace}/views/{view}",
      "HEAD /v1/{prefix}/namespaces/{namespace}/views/{view}",
      "POST /v1/{prefix}/namespaces/{namespace}/views/{view}",
      "DELETE /v1/{prefix}/namespaces/{namespace}/views/{view}",
      "POST /v1/{prefix}/views/rename",
  };
  return endpoints;
}

void AddRestCatalogRoutes(Router& router, catalog::Catalog& catalog,
                          const RestCatalogOptions& options) {
  // Every route but the token endpoint needs a valid bearer token; the catalog authorizes.
  auto authed = [&catalog](auto body) {
    return [&catalog, body](HttpRequest& request) -> HttpResponse {
      const auto header = request.Header("authorization");
      if (!header || !header->starts_with("Bearer ")) {
        return ErrorResponse(Status::Unauthenticated("this endpoint needs a bearer token")
                                 .WithHint("get one from POST /catalog/v1/oauth/tokens"));
      }
      auto caller = catalog.Authenticate(header->substr(7), request.request_id);
      if (!caller.ok()) return ErrorResponse(caller.error());
      caller->channel = "rest";
      return body(request, *caller);
    };
  };
  // Idempotency-Key: the final response of a mutation is stored under the key and replayed
  // when the same principal sends the same key to the same operation again.
  metastore::Metastore& store = catalog.metastore();
  auto once = [&store](std::string route, auto body) {
    return [&store, route, body](HttpRequest& request, const Caller& caller) -> HttpResponse {
      const auto key = request.Header("idempotency-key");
      if (!key) return body(request, caller);
      if (key->size() != 36 || !Uuid::Parse(*key).ok()) {
        return ErrorResponse(
            Status::InvalidArgument("Idempotency-Key '{}' is not a UUID", key->substr(0, 64)));
      }
      auto stored = store.LoadStoredResponse(*key);
      if (!stored.ok()) return ErrorResponse(stored.error());
      if (*stored) {
        if ((*stored)->principal != caller.principal || (*stored)->route != route) {
          return ErrorResponse(
              Status::InvalidArgument("Idempotency-Key {} was used for another operation", *key)
                  .WithHint("generate a new key for every logical operation"));
        }
        HttpResponse replay{.status = static_cast<int>((*stored)->status), .body = (*stored)->body};
        const json headers = json::parse((*stored)->headers, nullptr, false);
        if (headers.is_object()) {
          for (auto item = headers.begin(); item != headers.end(); ++item) {
            if (item->is_string()) replay.headers[item.key()] = item->template get<std::string>();
          }
        }
        if (replay.body.empty()) replay.content_type = "";
        replay.headers["Idempotent-Replayed"] = "true";
        return replay;
      }
      HttpResponse response = body(request, caller);
      // Final: successes and deterministic 4xx. Not: 5xx, and 401/403/408/429, which may change.
      const int status = response.status;
      const bool final =
          status < 500 && status != 401 && status != 403 && status != 408 && status != 429;
      if (final) {
        const Status saved = store.StoreResponse(
            *key,
            {caller.principal, route, status,
             json(response.headers).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
             response.body});
        if (!saved.ok()) {
          logging::Warn("cannot store the response for Idempotency-Key {}: {}", *key,
                        saved.ToString());
        }
        // Keys outlive the tokens that could retry with them (1 h) by an hour.
        static std::atomic<uint64_t> stores = 0;
        if (++stores % 1000 == 0) {
          (void)store.ExpireStoredResponses(time::NowMillis() - 2 * 3600 * 1000);
        }
      }
      return response;
    };
  };
  const std::string warehouse = options.warehouse;
  auto check_prefix = [warehouse](const HttpRequest& request) -> Status {
    if (request.captures.contains("prefix") && request.Capture("prefix") != warehouse) {
      return Status::NotFound("warehouse '{}' does not exist", request.Capture("prefix"))
          .WithHint("this server's warehouse is '" + warehouse + "'");
    }
    return Status::OK();
  };
  // Each route with and without the {prefix} segment: clients use the prefix /v1/config gives.
  auto add = [&router](const std::string& method, const std::string& path, const std::string& route,
                       Router::Handler handler) {
    router.Add(method, "/catalog/v1/{prefix}" + path, route, handler);
    router.Add(method, "/catalog/v1" + path, route, handler);
  };

  router.Add("POST", "/catalog/v1/oauth/tokens", "getToken", [&catalog](HttpRequest& request) {
    auto oauth_error = [](int status, const std::string& error, const std::string& description) {
      HttpResponse response = Json(status, {{"error", error}, {"error_description", description}});
      return response;
    };
    std::map<std::string, std::string> form;
    // Form-encoded as the OAuth2 spec and every Iceberg client send it.
    std::string_view body = request.body;
    while (!body.empty()) {
      const size_t amp = body.find('&');
      const std::string_view pair = body.substr(0, amp);
      body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
      if (pair.empty()) continue;
      const size_t eq = pair.find('=');
      auto decode = [](std::string_view text) -> std::optional<std::string> {
        std::string out;
        for (size_t i = 0; i < text.size(); ++i) {
          if (text[i] == '+') {
            out += ' ';
          } else if (text[i] == '%') {
            if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
                !std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
              return std::nullopt;
            }
            out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
            i += 2;
          } else {
            out += text[i];
          }
        }
        return out;
      };
      auto key = decode(pair.substr(0, eq));
      auto value = decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
      if (!key || !value) return oauth_error(400, "invalid_request", "malformed form encoding");
      form[*key] = *value;
    }
    // Client credentials may also come as HTTP Basic authentication.
    if (auto basic = request.Header("authorization"); basic && basic->starts_with("Basic ")) {
      std::string standard = basic->substr(6);
      for (char& c : standard)
        c = c == '+' ? '-' : c == '/' ? '_' : c;
      while (!standard.empty() && standard.back() == '=')
        standard.pop_back();
      auto decoded = catalog::Base64UrlDecode(standard);
      if (!decoded.ok() || decoded->find(':') == std::string::npos) {
        return oauth_error(400, "invalid_request", "malformed Basic authorization");
      }
      form.try_emplace("client_id", decoded->substr(0, decoded->find(':')));
      form.try_emplace("client_secret", decoded->substr(decoded->find(':') + 1));
    }
    if (form["grant_type"] != "client_credentials") {
      return oauth_error(400, "unsupported_grant_type",
                         "only grant_type=client_credentials is supported");
    }
    if (form["client_id"].empty() || form["client_secret"].empty()) {
      return oauth_error(400, "invalid_request", "client_id and client_secret are required");
    }
    auto token = catalog.IssueToken(form["client_id"], form["client_secret"]);
    if (!token.ok()) {
      if (token.error().code() == StatusCode::kUnauthenticated) {
        return oauth_error(401, "invalid_client", "invalid client credentials");
      }
      return ErrorResponse(token.error());
    }
    return Json(200, {{"access_token", token->access_token},
                      {"token_type", "bearer"},
                      {"expires_in", token->expires_in},
                      {"issued_token_type", "urn:ietf:params:oauth:token-type:access_token"}});
  });

  router.Add(
      "GET", "/catalog/v1/config", "getConfig",
      authed([warehouse, &catalog](HttpRequest& request, const Caller&) {
        if (auto asked = request.Query("warehouse");
            asked && !asked->empty() && *asked != warehouse) {
          return ErrorResponse(Status::NotFound("warehouse '{}' does not exist", *asked)
                                   .WithHint("this server's warehouse is '" + warehouse + "'"));
        }
        return Json(200, {{"defaults", StorageConfig(catalog)},
                          {"overrides", {{"prefix", warehouse}}},
                          {"endpoints", AdvertisedEndpoints()},
                          {"idempotency-key-lifetime", "PT1H"}});
      }));

  add("GET", "/namespaces", "listNamespaces",
      authed([&catalog, check_prefix](HttpRequest& request, const Caller& caller) {
        if (Status prefix = check_prefix(request); !prefix.ok()) return ErrorResponse(prefix);
        metastore::Levels parent;
        if (auto text = request.Query("parent"); text && !text->empty()) {
          auto parsed = ParseNamespace(*text);
          if (!parsed.ok()) return ErrorResponse(parsed.error());
          parent = *parsed;
        }
        auto page = ParsePage(request);
        if (!page.ok()) return ErrorResponse(page.error());
        auto listed = catalog.ListNamespaces(caller, parent, *page);
        if (!listed.ok()) return ErrorResponse(listed.error());
        json namespaces = json::array();
        for (const auto& record : listed->items)
          namespaces.push_back(NamespaceJson(record.levels));
        json body = {{"namespaces", namespaces}};
        body["next-page-token"] = listed->next_token.empty()
                                      ? json(nullptr)
                                      : json(catalog::Base64UrlEncode(listed->next_token));
        return Json(200, body);
      }));

  add("POST", "/namespaces", "createNamespace",
      authed(once("createNamespace",
                  [&catalog, check_prefix](HttpRequest& request, const Caller& caller) {
                    if (Status prefix = check_prefix(request); !prefix.ok())
                      return ErrorResponse(prefix);
                    auto body = ParseBody(request);
                    if (!body.ok()) return ErrorResponse(body.error());
                    if (!body->contains("namespace")) {
                      return ErrorResponse(Status::InvalidArgument("namespace: required, missing"));
                    }
                    auto levels = NamespaceFromJson((*body)["namespace"], "namespace");
                    if (!levels.ok()) return ErrorResponse(levels.error());
                    metastore::Properties properties;
                    if (body->contains("properties")) {
                      auto reader = iceberg::json::ObjectReader::Make(*body, "");
                      auto parsed = reader->StringMap("properties");
                      if (!parsed.ok()) return ErrorResponse(parsed.error());
                      properties = *parsed;
                    }
                    auto created = catalog.CreateNamespace(caller, *levels, properties);
                    if (!created.ok()) return ErrorResponse(created.error());
                    return Json(200, {{"namespace", NamespaceJson(created->levels)},
                                      {"properties", created->properties}});
                  })));

  add("GET", "/namespaces/{namespace}", "loadNamespace",
      authed([&catalog, check_prefix](HttpRequest& request, const Caller& caller) {
        if (Status prefix = check_prefix(request); !prefix.ok()) return ErrorResponse(prefix);
        auto levels = ParseNamespace(request.Capture("namespace"));
        if (!levels.ok()) return ErrorResponse(levels.error());
        auto loaded = catalog.LoadNamespace(caller, *levels);
        if (!loaded.ok()) return ErrorResponse(loaded.error());
        if (request.method == "HEAD") return NoContent();
        return Json(200, {{"namespace", NamespaceJson(loaded->levels)},
                          {"properties", loaded->properties}});
      }));

  add("DELETE", "/namespaces/{namespace}", "dropNamespace",
      authed(once("dropNamespace",
                  [&catalog, check_prefix](HttpRequest& request, const Caller& caller) {
                    if (Status prefix = check_prefix(request); !prefix.ok())
                      return ErrorResponse(prefix);
                    auto levels = ParseNamespace(request.Capture("namespace"));
                    if (!levels.ok()) return ErrorResponse(levels.error());
                    Status dropped = catalog.DropNamespace(caller, *levels);
                    return dropped.ok() ? NoContent() : ErrorResponse(dropped);
                  })));

  add("POST", "/namespaces/{namespace}/properties", "updateProperties",
      authed(once("updateProperties", [&catalog, check_prefix](HttpRequest& request,
                                                               const Caller& caller) {
        if (Status prefix = check_prefix(request); !prefix.ok()) return ErrorResponse(prefix);
        auto levels = ParseNamespace(request.Capture("namespace"));
        if (!levels.ok()) return ErrorResponse(levels.error());
        auto body = ParseBody(request);
        if (!body.ok()) return ErrorResponse(body.error());
        auto reader = iceberg::json::ObjectReader::Make(*body, "");
        auto updates = reader->StringMap("updates");
        if (!updates.ok()) return ErrorResponse(updates.error());
        std::vector<std::string> removals;
        if (body->contains("removals")) {
          const json& list = (*body)["removals"];
          if (!list.is_array()) {
            return ErrorResponse(Status::InvalidArgument("removals: expected an array of strings"));
          }
          for (const auto& key : list) {
            if (!key.is_string()) {
              return ErrorResponse(
                  Status::InvalidArgument("removals: expected an array of strings"));
            }
            removals.push_back(key.get<std::string>());
          }
        }
        auto outcome = catalog.UpdateNamespaceProperties(caller, *levels, removals, *updates);
        if (!outcome.ok()) {
          // The spec's 422 for a key both set and removed.
          if (outcome.error().message().find("both updated and removed") != std::string::npos) {
            HttpResponse response = ErrorResponse(outcome.error());
            response.status = 422;
            response.body = json({{"error",
                                   {{"message", outcome.error().message()},
                                    {"type", "UnprocessableEntityException"},
                                    {"code", 422}}}})
                                .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            return response;
          }
          return ErrorResponse(outcome.error());
        }
        return Json(200, {{"updated", outcome->updated},
                          {"removed", outcome->removed},
                          {"missing", outcome->missing}});
      })));

  add("GET", "/namespaces/{namespace}/tables", "listTables",
      authed([&catalog, check_prefix](HttpRequest& request, const Caller& caller) {
        if (Status prefix = check_prefix(request); !prefix.ok()) return ErrorResponse(prefix);
        auto levels = ParseNamespace(request.Capture("namespace"));
        if (!levels.ok()) return ErrorResponse(levels.error());
        auto page = ParsePage(request);
        if (!page.ok()) return ErrorResponse(page.error());
        auto listed = catalog.ListTables(caller, *levels, *page);
        if (!listed.ok()) return ErrorResponse(listed.error());
        json identifiers = json::array();
        for (const std::string& name : listed->items) {
          identifiers.push_back({{"namespace", NamespaceJson(*levels)}, {"name", name}});
        }
        json body = {{"identifiers", identifiers}};
        body["next-page-token"] = listed->next_token.empty()
                                      ? json(nullptr)
                                      : json(catalog::Base64UrlEncode(listed->next_token));
        return Json(200, body);
      }));

  add("POST", "/namespaces/{namespace}/tables", "createTable",
      authed(once("createTable",
                  [&catalog, check_prefix, warehouse](HttpRequest& request, const Caller& caller) {
                    if (Status prefix = check_prefix(request); !prefix.ok())
                      return ErrorResponse(prefix);
                    auto levels = ParseNamespace(request.Capture("namespace"));
                    if (!levels.ok()) return ErrorResponse(levels.error());
                    auto body = ParseBody(request);
                    if (!body.ok()) return ErrorResponse(body.error());
                    auto created = catalog.CreateTable(caller, *levels, *body);
                    if (!created.ok()) return ErrorResponse(created.error());
                    return Json(200, LoadTableResult(*created, &catalog, warehouse));
                  })));

  add("GET", "/namespaces/{namespace}/tables/{table}", "loadTable",
      authed([&catalog, check_prefix, warehouse](HttpRequest& request, const Caller& caller) {
        if (Status prefix = check_prefix(request); !prefix.ok()) return ErrorResponse(prefix);
        auto levels = ParseNamespace(request.Capture("namespace"));
        if (!levels.ok()) return ErrorResponse(levels.error());
        const std::string snapshots = request.Query("snapshots").value_or("all");
        if (snapshots != "all" && snapshots != "refs") {
          return ErrorResponse(
              Status::InvalidArgument("snapshots must be 'all' or 'refs', got '{}'", snapshots));
        }
        auto loaded = catalog.LoadTable(caller, {*levels, request.Capture("table")});
        if (!loaded.ok()) return ErrorResponse(loaded.error());
        // An engine given the metadata reads the files itself: not where masks apply.
        if (Status raw =
                catalog.AuthorizeRawAccess(caller, *loaded, {*levels, request.Capture("table")});
            !raw.ok()) {
          return ErrorResponse(raw);
        }
        // The metadata file name is unique per version: a strong validator.
        const std::string etag =
            "\"" + loaded->metadata_location + (snapshots == "refs" ? ";refs" : "") + "\"";
        if (request.Header("if-none-match") == etag) {
          HttpResponse not_modified{.status = 304, .content_type = "", .body = ""};
          not_modified.headers["ETag"] = etag;
          return not_modified;
        }
        if (request.method == "HEAD") return NoContent();
        if (snapshots == "refs") {
          std::set<int64_t> referenced;
          for (const auto& [name, ref] : loaded->metadata.refs)
            referenced.insert(ref.snapshot_id);
          std::erase_if(loaded->metadata.snapshots, [&](const iceberg::Snapshot& snapshot) {
            return !referenced.contains(snapshot.snapshot_id);
          });
        }
        HttpResponse response = Json(200, LoadTableResult(*loaded, &catalog, warehouse));
        response.headers["ETag"] = etag;
        return response;
      }));

  // S3 remote signing: engines send the request they are about to make; the catalog checks the
  // caller's grants on the table and that the objects lie under its location, then signs.
  add("POST", "/namespaces/{namespace}/tables/{table}/sign", "signRequest",
      authed([&catalog, check_prefix](HttpRequest& request, const Caller& caller) {
        if (Status prefix = check_prefix(request); !prefix.ok()) return ErrorResponse(prefix);
        auto levels = ParseNamespace(request.Capture("namespace"));
        if (!levels.ok()) return ErrorResponse(levels.error());
        auto body = ParseBody(request);
        if (!body.ok()) return ErrorResponse(body.error());
        auto signed_request =
            catalog.SignRemoteRequest(caller, {*levels, request.Capture("table")}, *body);
        if (!signed_request.ok()) return ErrorResponse(signed_request.error());
        json headers = json::object();
        for (const auto& [name, value] : signed_request->headers)
          headers[name].push_back(value);
        HttpResponse response =
            Json(200, {{"uri", signed_request->uri}, {"headers", std::move(headers)}});
        // A signature is valid for minutes and for one request: never cached by the client.
        response.headers["Cache-Control"] = "no-cache";
        return response;
      }));

  add("POST", "/namespaces/{namespace}/tables/{table}", "updateTable",
      authed(
          once("updateTable", [&catalog, check_prefix](HttpRequest& request, const Caller& caller) {
            if (Status prefix = check_prefix(request); !prefix.ok()) return ErrorResponse(prefix);
            auto levels = ParseNamespace(request.Capture("namespace"));
            if (!levels.ok()) return ErrorResponse(levels.error());
            auto body = ParseBody(request);
            if (!body.ok()) return ErrorResponse(body.error());
            const json* requirements =
                body->contains("requirements") ? &(*body)["requirements"] : nullptr;
            const json* updates = body->contains("updates") ? &(*body)["updates"] : nullptr;
            if (updates == nullptr)
              return ErrorResponse(Status::InvalidArgument("updates: required, missing"));
            auto committed = catalog.CommitTable(
                caller, {{*levels, request.Capture("table")}, requirements, updates});
            if (!committed.ok()) return ErrorResponse(committed.error());
            HttpResponse response =
                Json(200, {{"metadata-location", committed->table.metadata_location},
                           {"metadata", iceberg::TableMetadataToJson(committed->table.metadata)}});
            response.headers["ETag"] = "\"" + committed->table.metadata_location + "\"";
            return response;
          })));

  add("DELETE", "/namespaces/{namespace}/tables/{table}", "dropTable",
      authed(
          once("dropTable", [&catalog, check_prefix](HttpRequest& request, const Caller& caller) {
            if (Status prefix = check_prefix(request); !prefix.ok()) return ErrorResponse(prefix);
            auto levels = ParseNamespace(request.Capture("namespace"));
            if (!levels.ok()) return ErrorResponse(levels.error());
            const std::string purge = request.Query("purgeRequested").value_or("false");
            if (purge != "true" && purge != "false") {
              return ErrorResponse(Status::InvalidArgument("purgeRequested must be true or false"));
            }
            Status dropped =
                catalog.DropTable(caller, {*levels, request.Capture("table")}, purge == "true");
            return dropped.ok() ? NoContent() : ErrorResponse(dropped);
          })));

  add("POST", "/namespaces/{namespace}/register", "registerTable",
      authed(once("registerTable", [&catalog, check_prefix](HttpRequest& request,
                                                            const Caller& caller) {
        if (Status prefix = check_prefix(request); !prefix.ok()) return ErrorResponse(prefix);
        auto levels = ParseNamespace(request.Capture("namespace"));
        if (!levels.ok()) return ErrorResponse(levels.error());
        auto body = ParseBody(request);
        if (!body.ok()) return ErrorResponse(body.error());
        const std::string name = iceberg::json::StringOr(*body, "name", "");
        const std::string location = iceberg::json::StringOr(*body, "metadata-location", "");
        if (name.empty() || location.empty()) {
          return ErrorResponse(
              Status::InvalidArgument("name and metadata-location are required strings"));
        }
        auto registered = catalog.RegisterTable(caller, {*levels, name}, location,
                                                iceberg::json::BoolOr(*body, "overwrite", false));
        if (!registered.ok()) return ErrorResponse(registered.error());
        return Json(200, LoadTableResult(*registered));
      })));

  // Clients report scan and commit metrics after their operations; the report is checked and
  // acknowledged (the server keeps its own metrics at /metrics).
  add("POST", "/namespaces/{namespace}/tables/{table}/metrics", "reportMetrics",
      authed([&catalog, check_prefix](HttpRequest& request, const Caller& caller) {
        if (Status prefix = check_prefix(request); !prefix.ok()) return ErrorResponse(prefix);
        auto levels = ParseNamespace(request.Capture("namespace"));
        if (!levels.ok()) return ErrorResponse(levels.error());
        auto body = ParseBody(request);
        if (!body.ok()) return ErrorResponse(body.error());
        const std::string type = iceberg::json::StringOr(*body, "report-type", "");
        if (type != "scan-report" && type != "commit-report") {
          return ErrorResponse(Status::InvalidArgument(
              "report-type must be scan-report or commit-report, got '{}'", type));
        }
        // Reporting on a table needs to be able to see it.
        auto loaded = catalog.LoadTable(caller, {*levels, request.Capture("table")});
        if (!loaded.ok()) return ErrorResponse(loaded.error());
        return NoContent();
      }));

  add("POST", "/tables/rename", "renameTable",
      authed(
          once("renameTable", [&catalog, check_prefix](HttpRequest& request, const Caller& caller) {
            if (Status prefix = check_prefix(request); !prefix.ok()) return ErrorResponse(prefix);
            auto body = ParseBody(request);
            if (!body.ok()) return ErrorResponse(body.error());
            auto from =
                IdentifierFromJson(body->contains("source") ? (*body)["source"] : json(), "source");
            if (!from.ok()) return ErrorResponse(from.error());
            auto to = IdentifierFromJson(
                body->contains("destination") ? (*body)["destination"] : json(), "destination");
            if (!to.ok()) return ErrorResponse(to.error());
            Status renamed = catalog.RenameTable(caller, *from, *to);
            return renamed.ok() ? NoContent() : ErrorResponse(renamed);
          })));

  // Server-side scan planning, stateless so that any server of a deployment can answer: a plan
  // id and a plan task carry the planning request (with the snapshot pinned at planning time) and
  // are re-planned on use; authorization is checked every time.
  static constexpr size_t kTasksPerResponse = 1000;
  auto encode = [](const json& value) {
    return catalog::Base64UrlEncode(value.dump(-1, ' ', false, json::error_handler_t::replace));
  };
  auto decode = [](const std::string& token, std::string_view what) -> Result<json> {
    auto text = catalog::Base64UrlDecode(token);
    json value = text.ok() ? json::parse(*text, nullptr, false) : json();
    if (!value.is_object()) {
      return Status::NotFound("{} '{}' is not one this server issued", what, token.substr(0, 64));
    }
    return value;
  };
  // The completed result for a planned scan: tasks inline when few, plan tasks otherwise.
  auto completed = [encode](const catalog::Catalog::PlannedScan& planned, const json& request) {
    const iceberg::Schema& schema = *planned.table.metadata.SchemaById(planned.schema_id);
    json pinned = request;
    pinned["snapshot-id"] = planned.plan.snapshot_id;
    const json filter = request.contains("filter") ? request["filter"] : json();
    json result;
    if (planned.plan.files.size() <= kTasksPerResponse) {
      result = iceberg::ScanTasksToJson(planned.plan, schema, 0, planned.plan.files.size(), filter);
    } else {
      json tasks = json::array();
      for (size_t begin = 0; begin < planned.plan.files.size(); begin += kTasksPerResponse) {
        tasks.push_back(
            encode({{"request", pinned}, {"begin", begin}, {"end", begin + kTasksPerResponse}}));
      }
      result = {{"plan-tasks", tasks}};
    }
    result["status"] = "completed";
    result["plan-id"] = encode(pinned);
    return result;
  };

  add("POST", "/namespaces/{namespace}/tables/{table}/plan", "planTableScan",
      authed([&catalog, check_prefix, completed](HttpRequest& request, const Caller& caller) {
        if (Status prefix = check_prefix(request); !prefix.ok()) return ErrorResponse(prefix);
        auto levels = ParseNamespace(request.Capture("namespace"));
        if (!levels.ok()) return ErrorResponse(levels.error());
        json body = json::object();
        if (!request.body.empty()) {
          auto parsed = ParseBody(request);
          if (!parsed.ok()) return ErrorResponse(parsed.error());
          body = *parsed;
        }
        auto planned = catalog.PlanTableScan(caller, {*levels, request.Capture("table")}, body);
        if (!planned.ok()) return ErrorResponse(planned.error());
        return Json(200, completed(*planned, body));
      }));

  add("GET", "/namespaces/{namespace}/tables/{table}/plan/{plan-id}", "fetchPlanningResult",
      authed([&catalog, check_prefix, completed, decode](HttpRequest& request,
                                                         const Caller& caller) {
        if (Status prefix = check_prefix(request); !prefix.ok()) return ErrorResponse(prefix);
        auto levels = ParseNamespace(request.Capture("namespace"));
        if (!levels.ok()) return ErrorResponse(levels.error());
        auto pinned = decode(request.Capture("plan-id"), "plan id");
        if (!pinned.ok()) return ErrorResponse(pinned.error());
        auto planned = catalog.PlanTableScan(caller, {*levels, request.Capture("table")}, *pinned);
        if (!planned.ok()) return ErrorResponse(planned.error());
        json result = completed(*planned, *pinned);
        result.erase("plan-id");
        return Json(200, result);
      }));

  add("DELETE", "/namespaces/{namespace}/tables/{table}/plan/{plan-id}", "cancelPlanning",
      authed([&catalog, check_prefix, decode](HttpRequest& request, const Caller& caller) {
        if (Status prefix = check_prefix(request); !prefix.ok()) return ErrorResponse(prefix);
        auto levels = ParseNamespace(request.Capture("namespace"));
        if (!levels.ok()) return ErrorResponse(levels.error());
        // Plans finish before they are returned: there is nothing running to cancel.
        auto loaded = catalog.LoadTable(caller, {*levels, request.Capture("table")});
        if (!loaded.ok()) return ErrorResponse(loaded.error());
        auto pinned = decode(request.Capture("plan-id"), "plan id");
        if (!pinned.ok()) return ErrorResponse(pinned.error());
        return NoContent();
      }));

  add("POST", "/namespaces/{namespace}/tables/{table}/tasks", "fetchScanTasks",
      authed([&catalog, check_prefix, decode](HttpRequest& request, const Caller& caller) {
        if (Status prefix = check_prefix(request); !prefix.ok()) return ErrorResponse(prefix);
        auto levels = ParseNamespace(request.Capture("namespace"));
        if (!levels.ok()) return ErrorResponse(levels.error());
        auto body = ParseBody(request);
        if (!body.ok()) return ErrorResponse(body.error());
        const std::string token = iceberg::json::StringOr(*body, "plan-task", "");
        if (token.empty()) return ErrorResponse(Status::InvalidArgument("plan-task: required"));
        auto task = decode(token, "plan task");
        if (!task.ok()) return ErrorResponse(task.error());
        const int64_t begin = iceberg::json::IntOr(*task, "begin", -1);
        const int64_t end = iceberg::json::IntOr(*task, "end", -1);
        if (!task->contains("request") || begin < 0 || end < begin) {
          return ErrorResponse(Status::InvalidArgument("plan-task is not one this server issued"));
        }
        auto planned =
            catalog.PlanTableScan(caller, {*levels, request.Capture("table")}, (*task)["request"]);
        if (!planned.ok()) return ErrorResponse(planned.error());
        const json& pinned = (*task)["request"];
        return Json(200, iceberg::ScanTasksToJson(
                             planned->plan, *planned->table.metadata.SchemaById(planned->schema_id),
                             static_cast<size_t>(begin), static_cast<size_t>(end),
                             pinned.contains("filter") ? pinned["filter"] : json()));
      }));

  auto view_result = [](const catalog::Catalog::LoadedView& view) {
    return json{{"metadata-location", view.metadata_location},
                {"metadata", iceberg::ViewMetadataToJson(view.metadata)},
                {"config", json::object()}};
  };

  add("GET", "/namespaces/{namespace}/views", "listViews",
      authed([&catalog, check_prefix](HttpRequest& request, const Caller& caller) {
        if (Status prefix = check_prefix(request); !prefix.ok()) return ErrorResponse(prefix);
        auto levels = ParseNamespace(request.Capture("namespace"));
        if (!levels.ok()) return ErrorResponse(levels.error());
        auto page = ParsePage(request);
        if (!page.ok()) return ErrorResponse(page.error());
        auto listed = catalog.ListViews(caller, *levels, *page);
        if (!listed.ok()) return ErrorResponse(listed.error());
        json identifiers = json::array();
        for (const std::string& name : listed->items) {
          identifiers.push_back({{"namespace", NamespaceJson(*levels)}, {"name", name}});
        }
        json body = {{"identifiers", identifiers}};
        body["next-page-token"] = listed->next_token.empty()
                                      ? json(nullptr)
                                      : json(catalog::Base64UrlEncode(listed->next_token));
        return Json(200, body);
      }));

  add("POST", "/namespaces/{namespace}/views", "createView",
      authed(once("createView", [&catalog, check_prefix, view_result](HttpRequest& request,
                                                                      const Caller& caller) {
        if (Status prefix = check_prefix(request); !prefix.ok()) return ErrorResponse(prefix);
        auto levels = ParseNamespace(request.Capture("namespace"));
        if (!levels.ok()) return ErrorResponse(levels.error());
        auto body = ParseBody(request);
        if (!body.ok()) return ErrorResponse(body.error());
        auto created = catalog.CreateView(caller, *levels, *body);
        if (!created.ok()) return ErrorResponse(created.error());
        return Json(200, view_result(*created));
      })));

  add("GET", "/namespaces/{namespace}/views/{view}", "loadView",
      authed([&catalog, check_prefix, view_result](HttpRequest& request, const Caller& caller) {
        if (Status prefix = check_prefix(request); !prefix.ok()) return ErrorResponse(prefix);
        auto levels = ParseNamespace(request.Capture("namespace"));
        if (!levels.ok()) return ErrorResponse(levels.error());
        auto loaded = catalog.LoadView(caller, {*levels, request.Capture("view")});
        if (!loaded.ok()) return ErrorResponse(loaded.error());
        if (request.method == "HEAD") return NoContent();
        return Json(200, view_result(*loaded));
      }));

  add("POST", "/namespaces/{namespace}/views/{view}", "replaceView",
      authed(once("replaceView", [&catalog, check_prefix, view_result](HttpRequest& request,
                                                                       const Caller& caller) {
        if (Status prefix = check_prefix(request); !prefix.ok()) return ErrorResponse(prefix);
        auto levels = ParseNamespace(request.Capture("namespace"));
        if (!levels.ok()) return ErrorResponse(levels.error());
        auto body = ParseBody(request);
        if (!body.ok()) return ErrorResponse(body.error());
        if (!body->contains("updates")) {
          return ErrorResponse(Status::InvalidArgument("updates: required, missing"));
        }
        auto replaced =
            catalog.ReplaceView(caller, {*levels, request.Capture("view")},
                                body->contains("requirements") ? &(*body)["requirements"] : nullptr,
                                &(*body)["updates"]);
        if (!replaced.ok()) return ErrorResponse(replaced.error());
        return Json(200, view_result(*replaced));
      })));

  add("DELETE", "/namespaces/{namespace}/views/{view}", "dropView",
      authed(once("dropView", [&catalog, check_prefix](HttpRequest& request, const Caller& caller) {
        if (Status prefix = check_prefix(request); !prefix.ok()) return ErrorResponse(prefix);
        auto levels = ParseNamespace(request.Capture("namespace"));
        if (!levels.ok()) return ErrorResponse(levels.error());
        Status dropped = catalog.DropView(caller, {*levels, request.Capture("view")});
        return dropped.ok() ? NoContent() : ErrorResponse(dropped);
      })));

  add("POST", "/views/rename", "renameView",
      authed(
          once("renameView", [&catalog, check_prefix](HttpRequest& request, const Caller& caller) {
            if (Status prefix = check_prefix(request); !prefix.ok()) return ErrorResponse(prefix);
            auto body = ParseBody(request);
            if (!body.ok()) return ErrorResponse(body.error());
            auto from =
                IdentifierFromJson(body->contains("source") ? (*body)["source"] : json(), "source");
            if (!from.ok()) return ErrorResponse(from.error());
            auto to = IdentifierFromJson(
                body->contains("destination") ? (*body)["destination"] : json(), "destination");
            if (!to.ok()) return ErrorResponse(to.error());
            Status renamed = catalog.RenameView(caller, *from, *to);
            return renamed.ok() ? NoContent() : ErrorResponse(renamed);
          })));

  add("POST", "/transactions/commit", "commitTransaction",
      authed(once("commitTransaction", [&catalog, check_prefix](HttpRequest& request,
                                                                const Caller& caller) {
        if (Status prefix = check_prefix(request); !prefix.ok()) return ErrorResponse(prefix);
        auto body = ParseBody(request);
        if (!body.ok()) return ErrorResponse(body.error());
        if (!body->contains("table-changes") || !(*body)["table-changes"].is_array()) {
          return ErrorResponse(Status::InvalidArgument("table-changes: required array, missing"));
        }
        std::vector<catalog::TableCommit> commits;
        const json& changes = (*body)["table-changes"];
        for (size_t i = 0; i < changes.size(); ++i) {
          const json& change = changes[i];
          const std::string field = fmt::format("table-changes[{}].identifier", i);
          auto identifier = IdentifierFromJson(
              change.is_object() && change.contains("identifier") ? change["identifier"] : json(),
              field);
          if (!identifier.ok()) return ErrorResponse(identifier.error());
          commits.push_back({*identifier,
                             change.contains("requirements") ? &change["requirements"] : nullptr,
                             change.contains("updates") ? &change["updates"] : nullptr});
        }
        auto committed = catalog.CommitTransaction(caller, commits);
        return committed.ok() ? NoContent() : ErrorResponse(committed.error());
      })));
}

}  // namespace meshwork::server
