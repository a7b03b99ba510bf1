#include "server/product_api.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "catalog/credentials.h"
#include "common/uuid.h"
#include "iceberg/json_reader.h"
#include "product/scaffold.h"
#include "query/query.h"
#include "server/json_http.h"
#include "server/mesh_api.h"
#include "server/rest_catalog.h"

namespace meshwork::server {
namespace {

using catalog::Caller;
using nlohmann::json;

// A relative path of an uploaded file: plain segments only, nothing that leaves the folder.
Status CheckUploadPath(const std::string& path) {
  if (path.empty() || path.size() > 512 || path.front() == '/' || path.back() == '/') {
    return Status::InvalidArgument("file name '{}' is not a relative path", path.substr(0, 64));
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    const std::string segment = path.substr(start, slash - start);
    if (segment.empty() || segment == "." || segment == "..") {
      return Status::InvalidArgument("file name '{}' has an empty, '.' or '..' segment",
                                     path.substr(0, 64));
    }
    for (const char c : segment) {
      const bool ok =
          std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
      if (!ok) {
        return Status::InvalidArgument(
            "file name '{}' may hold only letters, digits, '_', '-', "
            "'.' and '/'",
            path.substr(0, 64));
      }
    }
    start = slash + 1;
  }
  return Status::OK();
}

// The HTTP status of a pipeline that ran but did not publish.
int FailureStatus(const Status& failure) {
  switch (failure.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
      return 422;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kConflict:
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kNotImplemented:
      return 501;
    default:
      return 500;
  }
}

std::optional<int> MajorQuery(const HttpRequest& request, Status& error) {
  const auto text = request.Query("major");
  if (!text || text->empty()) return std::nullopt;
  int value = 0;
  const auto [end, parsed] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (parsed != std::errc() || end != text->data() + text->size() || value < 1) {
    error = Status::InvalidArgument("major '{}' is not a whole number from 1", text->substr(0, 32));
    return std::nullopt;
  }
  return value;
}

// `text` without the server's temporary folder of an upload: errors name the uploaded files.
std::string WithoutFolder(std::string text, const std::string& folder) {
  const std::string prefix = folder + "/";
  for (size_t at; (at = text.find(prefix)) != std::string::npos;)
    text.erase(at, prefix.size());
  return text;
}

json UploadedReportJson(const product::DeployReport& report, const std::string& folder) {
  json out = product::DeployReportToJson(report);
  if (out.contains("error")) {
    for (const char* member : {"where", "message"}) {
      if (out["error"].contains(member) && out["error"][member].is_string()) {
        out["error"][member] = WithoutFolder(out["error"][member].get<std::string>(), folder);
      }
    }
  }
  for (auto& step : out["steps"])
    step["detail"] = WithoutFolder(step.value("detail", ""), folder);
  return out;
}

// The uploaded folder of a deploy, removed with the last owner (a streamed deploy runs after the
// handler returned).
struct UploadFolder {
  std::filesystem::path path;
  ~UploadFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

std::string JsonLine(const json& line) {
  return line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace

void AddProductApiRoutes(Router& router, catalog::Catalog& catalog,
                         product::ProductService& products, ProductApiOptions options) {
  auto authed = [&catalog](AuthenticatedHandler handler) {
    return RequireCaller(catalog, std::move(handler));
  };

  router.Add("GET", "/api/v1/domains", "listDomains",
             authed([&products](HttpRequest&, const Caller& caller) {
               auto domains = products.ListDomains(caller);
               if (!domains.ok()) return ErrorResponse(domains.error());
               json out = json::array();
               for (const auto& domain : *domains)
                 out.push_back(product::DomainInfoToJson(domain));
               return Json(200, {{"domains", out}});
             }));
  router.Add("POST", "/api/v1/domains", "createDomain",
             authed([&products](HttpRequest& request, const Caller& caller) {
               auto body = Body(request);
               if (!body.ok()) return ErrorResponse(body.error());
               product::DomainRequest domain{
                   .name = iceberg::json::StringOr(*body, "name", ""),
                   .description = iceberg::json::StringOr(*body, "description", ""),
                   .owner = iceberg::json::StringOr(*body, "owner", ""),
                   .storage_prefix = iceberg::json::StringOr(*body, "storage-prefix", ""),
                   .location = iceberg::json::StringOr(*body, "location", ""),
                   .storage_profile = iceberg::json::StringOr(*body, "storage-profile", "")};
               if (domain.owner.empty()) {
                 return ErrorResponse(Status::InvalidArgument("owner: required string is missing"));
               }
               auto created = products.CreateDomain(caller, domain);
               if (!created.ok()) return ErrorResponse(created.error());
               return Json(201, product::DomainInfoToJson(*created));
             }));
  router.Add("GET", "/api/v1/domains/{domain}", "loadDomain",
             authed([&products](HttpRequest& request, const Caller& caller) {
               auto domain = products.LoadDomain(caller, request.Capture("domain"));
               if (!domain.ok()) return ErrorResponse(domain.error());
               return Json(200, product::DomainInfoToJson(*domain));
             }));

  // The `meshwork product init` files for domain.name (templates, no data): what the portal's
  // wizard puts beside the spec it wrote, for teams that keep products in git.
  router.Add("GET", "/api/v1/scaffold", "scaffold", authed([](HttpRequest& request, const Caller&) {
               auto files = product::ScaffoldFiles(request.Query("domain").value_or(""),
                                                   request.Query("name").value_or(""));
               if (!files.ok()) return ErrorResponse(files.error());
               json out = json::array();
               for (const auto& [path, content] : *files)
                 out.push_back({{"path", path}, {"content", content}});
               return Json(200, {{"files", out}});
             }));
  router.Add("GET", "/api/v1/products", "listProducts",
             authed([&products](HttpRequest& request, const Caller& caller) {
               auto listed = products.ListProducts(caller, request.Query("domain").value_or(""));
               if (!listed.ok()) return ErrorResponse(listed.error());
               json out = json::array();
               for (const auto& record : *listed)
                 out.push_back(product::ProductRecordToJson(record));
               return Json(200, {{"products", out}});
             }));
  router.Add("GET", "/api/v1/products/{domain}/{product}", "loadProduct",
             authed([&products](HttpRequest& request, const Caller& caller) {
               Status bad;
               const auto major = MajorQuery(request, bad);
               if (!bad.ok()) return ErrorResponse(bad);
               auto record = products.LoadProduct(caller, request.Capture("domain"),
                                                  request.Capture("product"), major);
               if (!record.ok()) return ErrorResponse(record.error());
               return Json(200, product::ProductRecordToJson(*record, /*with_spec=*/true));
             }));
  router.Add("GET", "/api/v1/products/{domain}/{product}/versions", "productVersions",
             authed([&products](HttpRequest& request, const Caller& caller) {
               auto history =
                   products.History(caller, request.Capture("domain"), request.Capture("product"));
               if (!history.ok()) return ErrorResponse(history.error());
               return Json(200, {{"versions", product::HistoryToJson(*history)}});
             }));
  router.Add("GET", "/api/v1/products/{domain}/{product}/status", "productStatus",
             authed([&products](HttpRequest& request, const Caller& caller) {
               auto record = products.LoadProduct(caller, request.Capture("domain"),
                                                  request.Capture("product"));
               if (!record.ok()) return ErrorResponse(record.error());
               const json view = product::ProductRecordToJson(*record);
               auto card = products.ScoreProduct(caller, request.Capture("domain"),
                                                 request.Capture("product"));
               if (!card.ok()) return ErrorResponse(card.error());
               return Json(200, {{"product", view["product"]},
                                 {"scorecard", product::ScorecardToJson(*card)},
                                 {"version", view["version"]},
                                 {"state", view["state"]},
                                 {"sla", view.value("sla", json::object())},
                                 {"quality", view["quality"]},
                                 {"quality_passed", view["quality_passed"]},
                                 {"quality_total", view["quality_total"]},
                                 {"warnings", view["warnings"]}});
             }));
  router.Add("POST", "/api/v1/products/{domain}/{product}/deprecate", "deprecateProduct",
             authed([&products](HttpRequest& request, const Caller& caller) {
               auto body = Body(request);
               if (!body.ok()) return ErrorResponse(body.error());
               const int64_t major = iceberg::json::IntOr(*body, "major", 0);
               if (major < 1 || major > 100000) {
                 return ErrorResponse(Status::InvalidArgument("major: a whole number from 1"));
               }
               auto record = products.Deprecate(caller, request.Capture("domain"),
                                                request.Capture("product"), static_cast<int>(major),
                                                iceberg::json::StringOr(*body, "sunset", ""),
                                                iceberg::json::StringOr(*body, "message", ""));
               if (!record.ok()) return ErrorResponse(record.error());
               return Json(200, product::ProductRecordToJson(*record));
             }));

  router.Add("DELETE", "/api/v1/products/{domain}/{product}", "deleteProduct",
             authed([&products](HttpRequest& request, const Caller& caller) {
               Status bad;
               const auto major = MajorQuery(request, bad);
               if (!bad.ok()) return ErrorResponse(bad);
               if (!major) {
                 return ErrorResponse(
                     Status::InvalidArgument("major: say which major line goes (?major=N)"));
               }
               Status deleted = products.DeleteProduct(
                   caller, request.Capture("domain"), request.Capture("product"), *major,
                   request.Query("force").value_or("") == "true");
               if (!deleted.ok()) return ErrorResponse(deleted);
               return HttpResponse{.status = 204, .content_type = "", .body = ""};
             }));
  router.Add("POST", "/api/v1/products/{domain}/{product}/rollback", "rollbackProduct",
             authed([&products](HttpRequest& request, const Caller& caller) {
               auto body = Body(request);
               if (!body.ok()) return ErrorResponse(body.error());
               auto record =
                   products.Rollback(caller, request.Capture("domain"), request.Capture("product"),
                                     iceberg::json::StringOr(*body, "version", ""));
               if (!record.ok()) return ErrorResponse(record.error());
               return Json(200, product::ProductRecordToJson(*record));
             }));
  router.Add(
      "POST", "/api/v1/products/deploy", "deployProduct",
      authed([&products, options](HttpRequest& request, const Caller& caller) {
        namespace fs = std::filesystem;
        auto body = Body(request);
        if (!body.ok()) return ErrorResponse(body.error());
        const std::string mode = iceberg::json::StringOr(*body, "mode", "deploy");
        if (mode != "deploy" && mode != "plan" && mode != "validate") {
          return ErrorResponse(Status::InvalidArgument("mode '{}' is not deploy, plan or validate",
                                                       mode.substr(0, 32)));
        }
        if (!body->contains("files") || !(*body)["files"].is_object() ||
            !(*body)["files"].contains("dataproduct.yaml")) {
          return ErrorResponse(
              Status::InvalidArgument("files: an object of path -> base64url content holding "
                                      "at least dataproduct.yaml"));
        }
        // Decode and check everything before touching the disk.
        std::vector<std::pair<std::string, std::string>> files;
        size_t total = 0;
        for (const auto& [path, content] : (*body)["files"].items()) {
          Status checked = CheckUploadPath(path);
          if (!checked.ok()) return ErrorResponse(checked);
          if (!content.is_string()) {
            return ErrorResponse(
                Status::InvalidArgument("files.{}: expected base64url text", path));
          }
          auto decoded = catalog::Base64UrlDecode(content.get<std::string>());
          if (!decoded.ok()) {
            return ErrorResponse(Status::InvalidArgument("files.{}: not base64url: {}", path,
                                                         decoded.error().message()));
          }
          total += decoded->size();
          if (total > options.max_upload_bytes) {
            return ErrorResponse(Status::InvalidArgument("the product's files exceed {} bytes",
                                                         options.max_upload_bytes));
          }
          files.emplace_back(path, std::move(*decoded));
        }
        product::DeployOptions deploy;
        deploy.dry_run = mode != "deploy";
        deploy.skip_data = mode == "validate";
        deploy.create_domain = iceberg::json::BoolOr(*body, "create-domain", false);
        if (body->contains("variables") && (*body)["variables"].is_object()) {
          for (const auto& [name, value] : (*body)["variables"].items()) {
            deploy.variables[name] = value.is_string() ? value.get<std::string>() : value.dump();
          }
        }
        auto folder = std::make_shared<UploadFolder>(
            UploadFolder{fs::path(options.upload_root) / ("deploy-" + Uuid::V4().ToString())});
        const std::string root = folder->path.string();
        for (const auto& [path, content] : files) {
          const fs::path target = folder->path / path;
          std::error_code error;
          fs::create_directories(target.parent_path(), error);
          std::ofstream out(target, std::ios::binary | std::ios::trunc);
          out << content;
          if (!out) return ErrorResponse(Status::IOError("cannot store the uploaded {}", path));
        }
        auto spec = product::LoadSpec(root);
        if (!spec.ok()) {
          // Locations name the uploaded file, not the server's temporary folder.
          Status failure = spec.error();
          json error_json = {{"code", std::string(StatusCodeName(failure.code()))},
                             {"message", WithoutFolder(failure.message(), root)}};
          if (const auto* where = failure.location()) {
            error_json["where"] = fmt::format("{}:{}:{}", WithoutFolder(where->file, root),
                                              where->line, where->column);
          }
          if (!failure.hint().empty()) error_json["hint"] = failure.hint();
          return Json(422, {{"published", false}, {"error", error_json}});
        }
        // Accept: application/x-ndjson: one JSON line per step as it starts and as it ends
        // ({"step": {...}}), then {"status": HTTP status, "report": {...}} (or "error"): the
        // same pipeline, watched live. The deploy runs to its end even if the client leaves.
        if (request.Header("accept").value_or("").find("application/x-ndjson") !=
            std::string::npos) {
          HttpResponse response{.status = 200, .content_type = "application/x-ndjson"};
          response.headers["Cache-Control"] = "no-store";
          response.stream = [&products, caller, spec = std::move(*spec), deploy,
                             folder](const HttpResponse::Writer& write) mutable {
            const std::string root = folder->path.string();
            bool connected = true;
            const auto send = [&](const json& line) {
              if (connected) connected = write(JsonLine(line));
            };
            deploy.progress = [&](const product::StepReport& step) {
              send({{"step",
                     {{"step", step.step},
                      {"outcome", step.outcome},
                      {"detail", WithoutFolder(step.detail, root)},
                      {"seconds", step.seconds}}}});
            };
            auto report = products.Deploy(caller, spec, deploy);
            if (!report.ok()) {
              json line = json::parse(ErrorResponse(report.error()).body, nullptr, false);
              line["status"] = line.value("/error/code"_json_pointer, 500);
              send(line);
              return;
            }
            send({{"status", report->failure.ok() ? 200 : FailureStatus(report->failure)},
                  {"report", UploadedReportJson(*report, root)}});
          };
          return response;
        }
        auto report = products.Deploy(caller, *spec, deploy);
        if (!report.ok()) return ErrorResponse(report.error());
        return Json(report->failure.ok() ? 200 : FailureStatus(report->failure),
                    UploadedReportJson(*report, root));
      }));

  router.Add("GET", "/api/v1/search", "search",
             authed([&products](HttpRequest& request, const Caller& caller) {
               std::map<std::string, std::string> filters;
               for (const char* facet : {"domain", "tag", "owner", "classification", "health"}) {
                 if (auto value = request.Query(facet)) filters[facet] = *value;
               }
               auto results = products.Search(caller, request.Query("q").value_or(""), filters);
               if (!results.ok()) return ErrorResponse(results.error());
               return Json(200, product::SearchResultsToJson(*results));
             }));
  router.Add("GET", "/api/v1/lineage/{domain}/{product}", "lineage",
             authed([&products](HttpRequest& request, const Caller& caller) {
               auto graph =
                   products.Lineage(caller, request.Capture("domain"), request.Capture("product"));
               if (!graph.ok()) return ErrorResponse(graph.error());
               return Json(200, product::LineageToJson(*graph));
             }));
  router.Add("GET", "/api/v1/openapi.json", "openapi", authed([](HttpRequest&, const Caller&) {
               return HttpResponse{.status = 200, .body = MeshApiOpenApiDocument()};
             }));
}

std::string MeshApiOpenApiDocument() {
  const auto op = [](const char* id, const char* summary, bool body = false,
                     std::vector<std::string> path_params = {},
                     std::vector<std::string> query_params = {}) {
    json parameters = json::array();
    for (const auto& name : path_params) {
      parameters.push_back(
          {{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
    }
    for (const auto& name : query_params) {
      parameters.push_back(
          {{"name", name}, {"in", "query"}, {"required", false}, {"schema", {{"type", "string"}}}});
    }
    json operation = {{"operationId", id},
                      {"summary", summary},
                      {"parameters", parameters},
                      {"security", json::array({{{"bearer", json::array()}}})},
                      {"responses",
                       {{"200",
                         {{"description", "OK"},
                          {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}}},
                        {"401", {{"$ref", "#/components/responses/Error"}}},
                        {"403", {{"$ref", "#/components/responses/Error"}}},
                        {"404", {{"$ref", "#/components/responses/Error"}}}}}};
    if (body) {
      operation["requestBody"] = {
          {"required", true},
          {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}};
    }
    return operation;
  };
  json paths = {
      {"/api/v1/whoami", {{"get", op("whoami", "The caller, its roles and grants")}}},
      {"/api/v1/principals",
       {{"get", op("listPrincipals", "Principals (MANAGE_MESH)")},
        {"post", op("createPrincipal", "Create a principal; its secret is shown once", true)}}},
      {"/api/v1/principals/{name}",
       {{"delete", op("dropPrincipal", "Drop a principal", false, {"name"})}}},
      {"/api/v1/principals/{name}/rotate",
       {{"post",
         op("rotateCredentials", "New secret; older tokens stop working", false, {"name"})}}},
      {"/api/v1/principals/{name}/roles",
       {{"post", op("assignRole", "Give a principal a role", true, {"name"})}}},
      {"/api/v1/principals/{name}/roles/{role}",
       {{"delete", op("unassignRole", "Take a role away", false, {"name", "role"})}}},
      {"/api/v1/roles",
       {{"get", op("listRoles", "Roles")}, {"post", op("createRole", "Create a role", true)}}},
      {"/api/v1/roles/{name}", {{"delete", op("dropRole", "Drop a role", false, {"name"})}}},
      {"/api/v1/grants",
       {{"get", op("listGrants", "Grants", false, {}, {"role"})},
        {"post", op("grant", "Grant a privilege on a securable to a role", true)}}},
      {"/api/v1/grants/revoke", {{"post", op("revoke", "Revoke a grant", true)}}},
      {"/api/v1/domains",
       {{"get", op("listDomains", "Domains")},
        {"post",
         op("createDomain",
            "Provision a domain: namespace, storage, owner/consumer roles, CI principal", true)}}},
      {"/api/v1/domains/{domain}", {{"get", op("loadDomain", "A domain", false, {"domain"})}}},
      {"/api/v1/products",
       {{"get", op("listProducts", "Published products", false, {}, {"domain"})}}},
      {"/api/v1/products/deploy",
       {{"post", op("deployProduct",
                    "Validate, plan or deploy a product from its uploaded folder "
                    "(files: path -> base64url)",
                    true)}}},
      {"/api/v1/products/{domain}/{product}",
       {{"get", op("loadProduct", "A product: contract, ports, SLA, quality", false,
                   {"domain", "product"}, {"major"})},
        {"delete", op("deleteProduct", "Remove a deprecated major line after its sunset", false,
                      {"domain", "product"}, {"major", "force"})}}},
      {"/api/v1/products/{domain}/{product}/versions",
       {{"get", op("productVersions", "Deploys and deprecations", false, {"domain", "product"})}}},
      {"/api/v1/products/{domain}/{product}/status",
       {{"get", op("productStatus", "SLA and quality status", false, {"domain", "product"})}}},
      {"/api/v1/products/{domain}/{product}/deprecate",
       {{"post", op("deprecateProduct", "Deprecate a major line with a sunset date", true,
                    {"domain", "product"})}}},
      {"/api/v1/products/{domain}/{product}/rollback",
       {{"post", op("rollbackProduct", "Publish an earlier version of the same major line again",
                    true, {"domain", "product"})}}},
      {"/api/v1/search",
       {{"get", op("search", "Ranked full-text search with facets", false, {},
                   {"q", "domain", "tag", "owner", "classification", "health"})}}},
      {"/api/v1/lineage/{domain}/{product}",
       {{"get", op("lineage", "Upstream and downstream graph", false, {"domain", "product"})}}},
      {"/api/v1/query",
       {{"post", op("query",
                    "One read-only SQL query over domain.port names: {\"sql\", \"max-rows\"} -> "
                    "columns, rows, the snapshots read",
                    true)}}},
      {"/api/v1/session",
       {{"post", op("login",
                    "Portal login: {\"client_id\", \"client_secret\"} -> mw_session cookie "
                    "(HttpOnly, SameSite=Strict) and the CSRF token",
                    true)},
        {"get", op("session", "The current session and its CSRF token")},
        {"delete", op("logout", "Clear the session cookie; the token is refused from then on")}}},
      {"/api/v1/portal/products/{domain}/{product}",
       {{"get", op("portalProduct",
                   "The product as the caller sees it: masked columns, read access, samples", false,
                   {"domain", "product"})}}},
      {"/api/v1/access-requests",
       {{"get", op("listAccessRequests", "The caller's requests and those it may decide")},
        {"post",
         op("requestAccess", "Ask for READ_DATA on a product: {\"product\", \"reason\"}", true)}}},
      {"/api/v1/access-requests/{id}/approve",
       {{"post",
         op("approveAccess", "Grant READ_DATA to the requester (MANAGE_GRANTS)", true, {"id"})}}},
      {"/api/v1/access-requests/{id}/deny",
       {{"post", op("denyAccess", "Deny with a note (MANAGE_GRANTS)", true, {"id"})}}},
      {"/api/v1/openapi.json", {{"get", op("openapi", "This document")}}}};
  json document = json::parse(R"json({
    "openapi": "3.1.0",
    "info": {"title": "meshwork mesh API", "version": "1",
             "description": "Domains, data products, search, lineage and access management. The Iceberg REST catalog is served under /catalog."},
    "servers": [{"url": "/"}],
    "components": {
      "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
        "description": "a token from POST /catalog/v1/oauth/tokens (client_credentials)"}},
      "responses": {"Error": {"description": "An error: what, where, why and what to do",
        "content": {"application/json": {"schema": {"type": "object", "properties": {
          "error": {"type": "object", "properties": {
            "message": {"type": "string"}, "type": {"type": "string"}, "code": {"type": "integer"}}}}}}}}}
    }
  })json");
  document["paths"] = paths;
  return document.dump(2);
}

}  // namespace meshwork::server
