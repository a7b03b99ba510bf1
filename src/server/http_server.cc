#include "server/http_server.h"

#include <httplib.h>
#include <netinet/tcp.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/uuid.h"

namespace meshwork::server {

struct HttpServer::Impl {
  HttpServerOptions options;
  const Router& router;
  std::function<void(const RequestRecord&)> on_request;
  std::unique_ptr<httplib::Server> server;
  // A stop may come before the listener runs (a signal right after start): it must not be lost.
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> serving_done{false};

  Impl(HttpServerOptions o, const Router& r, std::function<void(const RequestRecord&)> log)
      : options(std::move(o)), router(r), on_request(std::move(log)) {}

  void Handle(const httplib::Request& in, httplib::Response& out) {
    const auto started = std::chrono::steady_clock::now();
    HttpRequest request;
    request.method = in.method;
    request.path = in.path;
    for (const auto& [key, value] : in.params)
      request.query.emplace(key, value);
    for (const auto& [key, value] : in.headers) {
      std::string lower = key;
      for (char& c : lower)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers[lower] = value;
    }
    request.body = in.body;
    request.remote_address = in.remote_addr;
    request.request_id = Uuid::V7().ToString();
    Router::Match match = router.Find(request);
    HttpResponse response;
    if (match.handler != nullptr) {
      try {
        response = (*match.handler)(request);
      } catch (const std::exception& error) {
        // A bug, never a crash: the client gets a 500 that names the request.
        response = {.status = 500,
                    .body = std::string(R"({"error":{"message":"internal error in request )") +
                            request.request_id + R"(","type":"InternalServerError","code":500}})"};
      }
    } else {
      const int status = match.path_known ? 405 : 404;
      response = {.status = status,
                  .body = std::string(R"({"error":{"message":")") +
                          (status == 405 ? "method not allowed on this path" : "no such endpoint") +
                          R"(","type":")" +
                          (status == 405 ? "MethodNotAllowed" : "NoSuchEndpoint") + R"(","code":)" +
                          std::to_string(status) + "}}"};
    }
    out.status = response.status;
    for (const auto& [key, value] : response.headers)
      out.set_header(key, value);
    out.set_header("X-Request-Id", request.request_id);
    if (!response.headers.contains("X-Content-Type-Options")) {
      out.set_header("X-Content-Type-Options", "nosniff");
    }
    if (response.stream && request.method != "HEAD") {
      auto stream = std::move(response.stream);
      out.set_chunked_content_provider(
          response.content_type, [stream = std::move(stream)](size_t, httplib::DataSink& sink) {
            stream([&sink](std::string_view bytes) {
              return sink.is_writable() && sink.write(bytes.data(), bytes.size());
            });
            sink.done();
            return true;
          });
    } else if (!response.body.empty() && request.method != "HEAD") {
      out.set_content(response.body, response.content_type);
    }
    if (on_request) {
      on_request({request.request_id, request.method, request.path, match.route, response.status,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                  request.remote_address});
    }
  }
};

HttpServer::HttpServer(HttpServerOptions options, const Router& router,
                       std::function<void(const RequestRecord&)> on_request)
    : impl_(std::make_unique<Impl>(std::move(options), router, std::move(on_request))) {}

HttpServer::~HttpServer() {
  Stop();
}

Status HttpServer::Bind() {
  const HttpServerOptions& options = impl_->options;
  if (!options.tls_certificate.empty() || !options.tls_key.empty()) {
    if (options.tls_certificate.empty() || options.tls_key.empty()) {
      return Status::InvalidArgument("TLS needs both --tls-cert and --tls-key");
    }
    auto tls = std::make_unique<httplib::SSLServer>(options.tls_certificate.c_str(),
                                                    options.tls_key.c_str());
    if (!tls->is_valid()) {
      return Status::InvalidArgument("cannot load the TLS certificate {} or key {}",
                                     options.tls_certificate, options.tls_key)
          .WithHint("give PEM files readable by meshwork");
    }
    impl_->server = std::move(tls);
  } else {
    impl_->server = std::make_unique<httplib::Server>();
  }
  httplib::Server& server = *impl_->server;
  const int threads = std::max(1, options.threads);
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_payload_max_length(options.max_body_bytes);
  server.set_read_timeout(options.read_timeout_seconds, 0);
  server.set_write_timeout(options.write_timeout_seconds, 0);
  server.set_keep_alive_max_count(1000000);
  // Small JSON responses must leave at once: with Nagle's algorithm on, a keep-alive client that
  // delays its ACKs waits ~40 ms per request.
  auto listening = std::make_shared<int>(-1);
  server.set_socket_options([listening](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    *listening = sock;
  });
  auto handle = [this](const httplib::Request& in, httplib::Response& out) {
    impl_->Handle(in, out);
  };
  const std::string any = ".*";
  server.Get(any, handle);
  server.Post(any, handle);
  server.Put(any, handle);
  server.Delete(any, handle);
  server.Patch(any, handle);
  server.Options(any, handle);
  // Oversized bodies and unparseable requests get the same JSON error shape.
  server.set_error_handler([](const httplib::Request&, httplib::Response& out) {
    if (!out.body.empty()) return;
    const std::string type = out.status == 413 ? "RequestTooLarge" : "BadRequest";
    out.set_content(R"({"error":{"message":")" +
                        std::string(out.status == 413 ? "the request body is too large"
                                                      : "the request could not be processed") +
                        R"(","type":")" + type + R"(","code":)" + std::to_string(out.status) + "}}",
                    "application/json");
  });
  if (options.port == 0) {
    port_ = server.bind_to_any_port(options.host);
    if (port_ <= 0) return Status::Unavailable("cannot listen on {}", options.host);
  } else if (!server.bind_to_port(options.host, options.port)) {
    return Status::Unavailable("cannot listen on {}:{}", options.host, options.port)
        .WithHint("another process may use the port; pick another with --http ADDR:PORT");
  } else {
    port_ = options.port;
  }
  // The library listens with a backlog of 5: a burst of clients connecting at once would see
  // resets. Listening again on the bound socket raises it.
  if (*listening >= 0) ::listen(*listening, 4096);
  return Status::OK();
}

Status HttpServer::Serve() {
  if (!impl_->server) return Status::FailedPrecondition("Bind() the server first");
  if (!impl_->stop_requested) impl_->server->listen_after_bind();
  impl_->serving_done = true;
  return Status::OK();
}

void HttpServer::Stop() {
  if (!impl_ || !impl_->server) return;
  impl_->stop_requested = true;
  // httplib ignores stop() until it listens: wait (briefly) for Serve to start or to end.
  for (int i = 0; i < 500 && !impl_->serving_done; ++i) {
    if (impl_->server->is_running()) {
      impl_->server->stop();
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace meshwork::server
