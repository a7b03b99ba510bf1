// REST requests from any client: method, path, query, headers and body decoded by the catalog's
// handlers (through the router, with a valid root token so that decoding goes deep). Any input
// must give a response below 500 or a well-formed error, never a crash or an exception.
// Input layout: "METHOD PATH?QUERY\n[header: value\n...]\nBODY".
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "catalog/catalog.h"
#include "metastore/metastore.h"
#include "server/mesh_api.h"
#include "server/rest_catalog.h"

using namespace meshwork;

namespace {

struct Fixture {
  std::unique_ptr<metastore::Metastore> metastore;
  std::unique_ptr<catalog::Catalog> catalog;
  server::Router router;
  std::string token;

  Fixture() {
    const auto dir = std::filesystem::temp_directory_path() / "meshwork-rest-fuzz";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    metastore = std::move(*metastore::Metastore::Open({.url = (dir / "meshwork.db").string()}));
    catalog = std::move(*catalog::Catalog::Open(
        *metastore,
        {.warehouse_root = (dir / "wh").string(), .bootstrap_credentials = "root:fuzz-secret"}));
    server::AddRestCatalogRoutes(router, *catalog, {});
    server::AddMeshApiRoutes(router, *catalog);
    token = catalog->IssueToken("root", "fuzz-secret")->access_token;
    const catalog::Caller root{"root", true, "fuzz"};
    (void)catalog->CreateNamespace(root, {"sales"}, {});
    (void)catalog->CreateTable(
        root, {"sales"},
        nlohmann::json::parse(R"({"name":"orders","schema":{"type":"struct","fields":[
          {"id":1,"name":"id","required":true,"type":"long"}]}})"));
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  const std::string input(reinterpret_cast<const char*>(data), size);
  server::HttpRequest request;
  const size_t line_end = input.find('\n');
  const std::string first = input.substr(0, line_end);
  const size_t space = first.find(' ');
  if (space == std::string::npos) return 0;
  request.method = first.substr(0, space);
  std::string target = first.substr(space + 1);
  const size_t question = target.find('?');
  request.path = target.substr(0, question);
  if (question != std::string::npos) {
    std::string query = target.substr(question + 1);
    size_t start = 0;
    while (start <= query.size()) {
      size_t amp = query.find('&', start);
      if (amp == std::string::npos) amp = query.size();
      const std::string pair = query.substr(start, amp - start);
      const size_t eq = pair.find('=');
      request.query.emplace(pair.substr(0, eq), eq == std::string::npos ? "" : pair.substr(eq + 1));
      start = amp + 1;
    }
  }
  size_t position = line_end == std::string::npos ? input.size() : line_end + 1;
  while (position < input.size()) {
    const size_t end = input.find('\n', position);
    const std::string line =
        input.substr(position, end == std::string::npos ? end : end - position);
    position = end == std::string::npos ? input.size() : end + 1;
    if (line.empty()) break;
    const size_t colon = line.find(": ");
    if (colon != std::string::npos) request.headers[line.substr(0, colon)] = line.substr(colon + 2);
  }
  request.body = input.substr(std::min(position, input.size()));
  if (!request.headers.contains("authorization")) {
    request.headers["authorization"] = "Bearer " + fixture.token;
  }
  request.request_id = "fuzz";
  server::Router::Match match = fixture.router.Find(request);
  if (match.handler == nullptr) return 0;
  server::HttpResponse response = (*match.handler)(request);
  // A 5xx on hostile input is a bug, except a metastore that is busy (503).
  if (response.status >= 500 && response.status != 503) std::abort();
  if (response.status >= 400 && response.status != 413 && !response.body.empty()) {
    const auto body = nlohmann::json::parse(response.body, nullptr, false);
    if (!body.is_object() || !body.contains("error")) std::abort();
  }
  return 0;
}
