#pragma once
// The HTTP listener (cpp-httplib, kept out of every other header): a thread pool, request size
// limits and timeouts, optional TLS, an access log line per request, and a graceful stop that
// finishes the requests in flight.

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "server/http.h"

namespace meshwork::server {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8181;  // 0: any free port
  int threads = 16;
  size_t max_body_bytes = 16 << 20;
  int read_timeout_seconds = 30;
  int write_timeout_seconds = 30;
  /// Both set: HTTPS.
  std::string tls_certificate;
  std::string tls_key;
};

/// One finished request, for the access log and metrics.
struct RequestRecord {
  std::string request_id;
  std::string method;
  std::string path;
  std::string route;  // "" when no route matched
  int status = 0;
  double seconds = 0;
  std::string remote_address;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, const Router& router,
             std::function<void(const RequestRecord&)> on_request);
  ~HttpServer();

  /// Binds the port (fails clearly when it is taken).
  Status Bind();
  int port() const { return port_; }
  /// Serves until Stop(); returns after in-flight requests finished.
  Status Serve();
  /// Safe from any thread (and a signal-watching one).
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace meshwork::server
