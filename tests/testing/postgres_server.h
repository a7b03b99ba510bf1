// A throwaway PostgreSQL server for tests: initdb in a scratch folder, listening on 127.0.0.1 on a
// free port, trust authentication, fsync off. Debian's PostgreSQL 15 (`postgresql-15`, installed
// by the bootstrap) provides the binaries. Running as root, the server runs as the `postgres`
// user, as PostgreSQL refuses to run as root.
//
// CTest starts one server per build as the `postgres` fixture (tests/metastore/CMakeLists.txt)
// and passes its folder in MESHWORK_TEST_POSTGRES_DIR; a test binary run by hand starts its own.
#pragma once

#include <memory>
#include <optional>
#include <string>

namespace meshwork::testing {

class PostgresServer {
 public:
  /// Starts a server whose files live in `directory` (created; must not exist or be empty).
  /// On failure returns nullptr and sets `error`.
  static std::unique_ptr<PostgresServer> Start(const std::string& directory, std::string& error);
  /// Attaches to a server Start() left running in `directory` (the CTest fixture's).
  static std::unique_ptr<PostgresServer> Attach(const std::string& directory, std::string& error);
  /// Stops the server running in `directory` and removes the folder.
  static bool Stop(const std::string& directory, std::string& error);

  /// The folder with PostgreSQL's binaries (initdb, pg_ctl, createdb), or nullopt when
  /// PostgreSQL is not installed.
  static std::optional<std::string> BinaryDirectory();

  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }
  /// Leaves the server running when this object dies (the CTest fixture's `start`).
  void KeepRunning() { owned_ = false; }
  /// postgresql://meshwork@127.0.0.1:PORT/DATABASE
  std::string Url(const std::string& database = "postgres") const;
  /// Creates a fresh database (a test's own, for isolation) and returns its URL; "" on failure.
  std::string CreateDatabase(const std::string& prefix);

 private:
  PostgresServer(std::string directory, std::string binaries, int port, bool owned)
      : directory_(std::move(directory)),
        binaries_(std::move(binaries)),
        port_(port),
        owned_(owned) {}
  std::string directory_;
  std::string binaries_;
  int port_;
  bool owned_;  // stop it when this object dies
};

/// The server for this test process: the CTest fixture's when MESHWORK_TEST_POSTGRES_DIR is set,
/// otherwise one started on first use and stopped at exit. nullptr (and `why`) when PostgreSQL is
/// not installed; tests then GTEST_SKIP loudly.
PostgresServer* SharedPostgresServer(std::string& why);

}  // namespace meshwork::testing
