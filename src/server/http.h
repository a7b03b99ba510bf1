#pragma once
// HTTP requests and responses as plain values, and a router over path templates
// ("/catalog/v1/{prefix}/namespaces/{namespace}"). Handlers never see the HTTP library, so they
// are tested without sockets and the library's header stays in one file (http_server.cc).

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshwork::server {

struct HttpRequest {
  std::string method;  // GET, POST, ... (HEAD arrives as HEAD)
  std::string path;    // percent-decoded
  std::multimap<std::string, std::string> query;
  /// Header names in lower case.
  std::map<std::string, std::string> headers;
  std::string body;
  std::string remote_address;
  /// Filled by the router: {name} → value.
  std::map<std::string, std::string> captures;
  /// Filled by the server: a fresh id for logs and events.
  std::string request_id;

  std::optional<std::string> Header(std::string_view lower_name) const;
  std::optional<std::string> Query(std::string_view name) const;
  std::string Capture(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;
  /// When set, the body is streamed (chunked) instead: `stream` is called with a writer until
  /// it returns; the writer returns false once the client has gone (stop producing then).
  using Writer = std::function<bool(std::string_view)>;
  std::function<void(const Writer& write)> stream;
};

class Router {
 public:
  using Handler = std::function<HttpResponse(HttpRequest&)>;

  /// `route` names the route for metrics ("loadTable"); the template's {name} segments match one
  /// path segment each.
  void Add(std::string method, std::string path_template, std::string route, Handler handler);

  struct Match {
    const Handler* handler = nullptr;
    std::string route;
    /// The path matched some template, but not for this method (405 rather than 404).
    bool path_known = false;
  };
  /// Fills request.captures on a match. HEAD falls back to GET handlers only when no HEAD
  /// handler is registered.
  Match Find(HttpRequest& request) const;

 private:
  struct Entry {
    std::string method;
    std::vector<std::string> segments;
    std::string route;
    Handler handler;
  };
  std::vector<Entry> entries_;
};

/// Splits "/a/b/c" into {"a", "b", "c"}.
std::vector<std::string> SplitPath(std::string_view path);

}  // namespace meshwork::server
