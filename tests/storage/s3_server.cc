#include "storage/s3_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

namespace meshwork::testing {
namespace {

std::string Lower(std::string text) {
  for (char& c : text)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return text;
}

// s3rver's entry point: $MESHWORK_S3RVER, else the one the bootstrap installs into tests/e2e.
std::string S3rverScript() {
  if (const char* path = std::getenv("MESHWORK_S3RVER"); path != nullptr && *path != '\0') {
    return path;
  }
  return std::string(MESHWORK_SOURCE_DIR) + "/tests/e2e/node_modules/s3rver/bin/s3rver.js";
}

std::string FindNode() {
  for (const char* candidate : {"/usr/bin/node", "/usr/local/bin/node", "/usr/bin/nodejs"}) {
    if (::access(candidate, X_OK) == 0) return candidate;
  }
  return {};
}

}  // namespace

std::unique_ptr<S3rver> S3rver::Start(const std::vector<std::string>& buckets, std::string& why) {
  const std::string node = FindNode();
  if (node.empty()) {
    why = "node is not installed (scripts/bootstrap.sh installs it)";
    return nullptr;
  }
  const std::string script = S3rverScript();
  if (::access(script.c_str(), R_OK) != 0) {
    why = script + " is missing; run scripts/bootstrap.sh (npm ci in tests/e2e)";
    return nullptr;
  }
  char pattern[] = "/tmp/meshwork-s3rver-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) {
    why = std::string("mkdtemp: ") + std::strerror(errno);
    return nullptr;
  }
  const std::string directory = pattern;
  // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 offers only
  // through its legacy provider; without it every listing past 1000 keys fails with a 500.
  std::vector<std::string> args = {
      node, "--openssl-legacy-provider", script, "-d", directory, "-a", "127.0.0.1", "-p", "0"};
  // MESHWORK_S3RVER_LOG=1 keeps its request log (<folder>.log) for debugging a failure.
  const char* verbose = std::getenv("MESHWORK_S3RVER_LOG");
  if (verbose == nullptr || *verbose == '\0') args.push_back("--silent");
  for (const std::string& bucket : buckets) {
    args.push_back("--configure-bucket");
    args.push_back(bucket);
  }
  // Its output goes to a file beside the folder rather than a pipe, so that it never blocks on
  // (or dies of) a pipe nobody reads once the port is known.
  const std::string log = directory + ".log";
  const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    why = "cannot create " + log + ": " + std::strerror(errno);
    return nullptr;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    why = std::string("fork: ") + std::strerror(errno);
    return nullptr;
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive a crashed test
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    std::vector<char*> argv;
    for (std::string& arg : args)
      argv.push_back(arg.data());
    argv.push_back(nullptr);
    ::execv(node.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(out);
  // Wait (at most 20 s) for "S3rver listening on 127.0.0.1:PORT".
  std::string output;
  int port = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (port == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream input(log);
    output.assign(std::istreambuf_iterator<char>(input), std::istreambuf_iterator<char>());
    const size_t at = output.find("listening on 127.0.0.1:");
    if (at != std::string::npos && output.find('\n', at) != std::string::npos) {
      port = std::atoi(output.c_str() + at + std::strlen("listening on 127.0.0.1:"));
    }
    if (::waitpid(pid, nullptr, WNOHANG) == pid) break;  // it exited
  }
  if (port == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    std::filesystem::remove_all(directory);
    std::filesystem::remove(log);
    why = "s3rver did not start within 20 s; it printed: " + output;
    return nullptr;
  }
  return std::unique_ptr<S3rver>(new S3rver(pid, port, directory));
}

S3rver::~S3rver() {
  ::kill(pid_, SIGTERM);
  ::waitpid(pid_, nullptr, 0);
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
  const char* verbose = std::getenv("MESHWORK_S3RVER_LOG");
  if (verbose == nullptr || *verbose == '\0') std::filesystem::remove(directory_ + ".log", ignored);
}

std::string StubRequest::Header(const std::string& name) const {
  for (const auto& [key, value] : headers)
    if (key == name) return value;
  return {};
}

HttpStub::HttpStub(std::function<StubResponse(const StubRequest&)> handler)
    : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::listen(listen_fd_, 16);
  socklen_t length = sizeof address;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { Serve(); });
}

HttpStub::~HttpStub() {
  stop_.store(true);
  thread_.join();
  ::close(listen_fd_);
}

std::vector<StubRequest> HttpStub::requests() {
  std::lock_guard lock(mutex_);
  return requests_;
}

void HttpStub::Serve() {
  while (!stop_.load()) {
    pollfd poll_fd{listen_fd_, POLLIN, 0};
    if (::poll(&poll_fd, 1, 50) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::string data;
    char buffer[65536];
    size_t header_end = std::string::npos;
    size_t content_length = 0;
    bool complete = false;
    while (!complete) {
      pollfd client{fd, POLLIN, 0};
      if (::poll(&client, 1, 2000) <= 0) break;
      const ssize_t size = ::read(fd, buffer, sizeof buffer);
      if (size <= 0) break;
      data.append(buffer, static_cast<size_t>(size));
      if (header_end == std::string::npos) {
        header_end = data.find("\r\n\r\n");
        if (header_end == std::string::npos) continue;
        const std::string lower = Lower(data.substr(0, header_end));
        const size_t at = lower.find("\r\ncontent-length:");
        if (at != std::string::npos)
          content_length = std::strtoull(lower.c_str() + at + 17, nullptr, 10);
      }
      complete = data.size() >= header_end + 4 + content_length;
    }
    if (!complete) {
      ::close(fd);
      continue;
    }
    StubRequest request;
    const std::string head = data.substr(0, header_end);
    size_t line_end = head.find("\r\n");
    const std::string request_line = head.substr(0, line_end);
    const size_t space = request_line.find(' ');
    request.method = request_line.substr(0, space);
    request.target = request_line.substr(space + 1, request_line.rfind(' ') - space - 1);
    while (line_end != std::string::npos && line_end < head.size()) {
      const size_t next = head.find("\r\n", line_end + 2);
      const std::string line = head.substr(
          line_end + 2, next == std::string::npos ? std::string::npos : next - line_end - 2);
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        request.headers.emplace_back(Lower(line.substr(0, colon)), value);
      }
      line_end = next;
    }
    request.body = data.substr(header_end + 4, content_length);
    StubResponse response = handler_(request);
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
    }
    std::string reply = "HTTP/1.1 " + std::to_string(response.status) + " Stub\r\n";
    for (const auto& [name, value] : response.headers)
      reply += name + ": " + value + "\r\n";
    if (request.method != "HEAD") {
      reply += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
    }
    reply += "Connection: close\r\n\r\n";
    if (request.method != "HEAD") reply += response.body;
    size_t written = 0;
    while (written < reply.size()) {
      // MSG_NOSIGNAL: a client that went away (a killed test child) must not SIGPIPE the test.
      const ssize_t size = ::send(fd, reply.data() + written, reply.size() - written, MSG_NOSIGNAL);
      if (size <= 0) break;
      written += static_cast<size_t>(size);
    }
    ::close(fd);
  }
}

}  // namespace meshwork::testing
