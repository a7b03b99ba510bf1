#pragma once
// Test servers for the S3 backend: a real S3-compatible server (s3rver from npm, installed into
// tests/e2e/node_modules by scripts/bootstrap.sh) and a scripted HTTP stub for fault injection.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace meshwork::testing {

/// s3rver on 127.0.0.1 with a free port, storing into a scratch folder, with the given buckets.
/// Its credentials are S3RVER/S3RVER. Stopped (and its folder removed) when the object dies.
class S3rver {
 public:
  /// nullptr and `why` when node or s3rver is missing or the server does not start.
  static std::unique_ptr<S3rver> Start(const std::vector<std::string>& buckets, std::string& why);
  ~S3rver();
  S3rver(const S3rver&) = delete;
  S3rver& operator=(const S3rver&) = delete;

  /// "http://127.0.0.1:PORT"
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int pid() const { return pid_; }

 private:
  S3rver(int pid, int port, std::string directory)
      : pid_(pid), port_(port), directory_(std::move(directory)) {}
  int pid_;
  int port_;
  std::string directory_;
};

/// One HTTP request as the stub saw it.
struct StubRequest {
  std::string method;
  std::string target;                                        // path and query, as sent
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string Header(const std::string& name) const;
};

struct StubResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

/// A one-thread HTTP/1.1 server on 127.0.0.1 (free port) that answers each request with what
/// `handler` returns and closes the connection. Records every request.
class HttpStub {
 public:
  explicit HttpStub(std::function<StubResponse(const StubRequest&)> handler);
  ~HttpStub();
  HttpStub(const HttpStub&) = delete;
  HttpStub& operator=(const HttpStub&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<StubRequest> requests();

 private:
  void Serve();
  std::function<StubResponse(const StubRequest&)> handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<StubRequest> requests_;
  std::thread thread_;
};

}  // namespace meshwork::testing
