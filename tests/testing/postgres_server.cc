#include "testing/postgres_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <vector>

namespace meshwork::testing {
namespace {

namespace fs = std::filesystem;

// PostgreSQL refuses to run as root; as root, the server's commands run as `postgres`.
std::string AsServerUser() {
  return ::geteuid() == 0 ? "runuser -u postgres -- " : "";
}

bool Run(const std::string& command, const std::string& log, std::string& error) {
  const std::string full = command + " >>'" + log + "' 2>&1";
  if (std::system(full.c_str()) == 0) return true;
  std::ifstream in(log);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  error = "'" + command + "' failed: " + text.substr(text.size() > 2000 ? text.size() - 2000 : 0);
  return false;
}

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace

std::optional<std::string> PostgresServer::BinaryDirectory() {
  std::error_code ignored;
  std::vector<std::string> candidates;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ignored)) {
    if (fs::exists(entry.path() / "bin" / "initdb", ignored)) {
      candidates.push_back((entry.path() / "bin").string());
    }
  }
  if (candidates.empty()) return std::nullopt;
  std::sort(candidates.begin(), candidates.end());
  return candidates.back();
}

std::unique_ptr<PostgresServer> PostgresServer::Start(const std::string& directory,
                                                      std::string& error) {
  const auto binaries = BinaryDirectory();
  if (!binaries) {
    error =
        "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); "
        "scripts/bootstrap.sh installs postgresql-15";
    return nullptr;
  }
  std::error_code fs_error;
  fs::create_directories(directory, fs_error);
  if (fs_error) {
    error = "cannot create " + directory + ": " + fs_error.message();
    return nullptr;
  }
  if (::geteuid() == 0) {
    const passwd* user = ::getpwnam("postgres");
    if (user == nullptr || ::chown(directory.c_str(), user->pw_uid, user->pw_gid) != 0) {
      error = "running as root needs the 'postgres' user (from the postgresql-15 package)";
      return nullptr;
    }
  }
  const std::string log = directory + "/setup.log";
  if (!Run(AsServerUser() + *binaries + "/initdb -D '" + directory +
               "/data' -U meshwork -A trust -E UTF8 --no-sync",
           log, error)) {
    return nullptr;
  }
  // A few attempts: another process may take the free port before the server binds it.
  for (int attempt = 0; attempt < 5; ++attempt) {
    const int port = FreePort();
    if (port == 0) continue;
    const std::string options = "-p " + std::to_string(port) + " -k " + directory +
                                " -c listen_addresses=127.0.0.1 -c fsync=off "
                                "-c synchronous_commit=off -c full_page_writes=off "
                                "-c max_connections=300";
    if (Run(AsServerUser() + *binaries + "/pg_ctl -D '" + directory + "/data' -l '" + directory +
                "/server.log' -w -t 60 -o '" + options + "' start",
            log, error)) {
      std::ofstream(directory + "/port") << port << "\n";
      return std::unique_ptr<PostgresServer>(new PostgresServer(directory, *binaries, port, true));
    }
  }
  return nullptr;
}

std::unique_ptr<PostgresServer> PostgresServer::Attach(const std::string& directory,
                                                       std::string& error) {
  std::ifstream in(directory + "/port");
  int port = 0;
  if (!(in >> port) || port <= 0) {
    error = "no PostgreSQL server was started in " + directory;
    return nullptr;
  }
  const auto binaries = BinaryDirectory();
  if (!binaries) {
    error = "PostgreSQL binaries are gone";
    return nullptr;
  }
  return std::unique_ptr<PostgresServer>(new PostgresServer(directory, *binaries, port, false));
}

bool PostgresServer::Stop(const std::string& directory, std::string& error) {
  const auto binaries = BinaryDirectory();
  bool stopped = true;
  std::error_code ignored;
  if (binaries && fs::exists(directory + "/data/postmaster.pid", ignored)) {
    stopped =
        Run(AsServerUser() + *binaries + "/pg_ctl -D '" + directory + "/data' -m immediate -w stop",
            directory + "/stop.log", error);
  }
  fs::remove_all(directory, ignored);
  return stopped;
}

PostgresServer::~PostgresServer() {
  if (!owned_) return;
  std::string ignored;
  Stop(directory_, ignored);
}

std::string PostgresServer::Url(const std::string& database) const {
  return "postgresql://meshwork@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string PostgresServer::CreateDatabase(const std::string& prefix) {
  static std::atomic<int> counter = 0;
  std::random_device random;
  const std::string name = prefix + "_" + std::to_string(::getpid()) + "_" +
                           std::to_string(counter++) + "_" + std::to_string(random() % 100000);
  std::string error;
  if (!Run(
          binaries_ + "/createdb -h 127.0.0.1 -p " + std::to_string(port_) + " -U meshwork " + name,
          directory_ + "/client.log", error)) {
    return "";
  }
  return Url(name);
}

PostgresServer* SharedPostgresServer(std::string& why) {
  static std::mutex mutex;
  static std::unique_ptr<PostgresServer> server;
  static std::string failure;
  std::lock_guard<std::mutex> lock(mutex);
  if (server) return server.get();
  if (!failure.empty()) {
    why = failure;
    return nullptr;
  }
  const char* fixture = std::getenv("MESHWORK_TEST_POSTGRES_DIR");
  if (fixture != nullptr && *fixture != '\0') {
    server = PostgresServer::Attach(fixture, failure);
  } else {
    std::random_device random;
    const std::string directory =
        (fs::temp_directory_path() /
         ("meshwork-pg-" + std::to_string(::getpid()) + "-" + std::to_string(random() % 1000000)))
            .string();
    server = PostgresServer::Start(directory, failure);
  }
  if (!server) why = failure;
  return server.get();
}

}  // namespace meshwork::testing
