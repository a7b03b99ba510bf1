#pragma once
// A DuckDB database instance. Cheap to copy (shared handle); closes when the last copy, and the
// last connection made from it, goes away.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "engine/connection.h"

namespace meshwork::engine {

struct DatabaseHandle;

struct DatabaseOptions {
  /// A database file, or empty for an in-memory database.
  std::string path;
  /// Worker threads; 0 = DuckDB's default (all cores).
  int threads = 0;
  /// e.g. "2GB" or "75%"; empty = DuckDB's default (80% of RAM).
  std::string memory_limit;
  /// Where operators spill when memory_limit is reached; empty = DuckDB's default
  /// ("<path>.tmp", or none for in-memory databases).
  std::string temp_directory;
  /// When non-empty, the database is locked down at open (see Connection::LockDown): SQL can
  /// touch files only under these directories, and no setting can change any more.
  std::vector<std::string> allowed_directories;
  bool lock_down = false;
  /// Further settings, applied before lock-down, e.g. {"preserve_insertion_order", "false"}.
  std::vector<std::pair<std::string, std::string>> settings;
};

class Database {
 public:
  /// Opens (or creates) the database. Errors name the option or file that was refused.
  static Result<Database> Open(const DatabaseOptions& options = {});

  Result<Connection> Connect() const;
  const DatabaseOptions& options() const;

 private:
  explicit Database(std::shared_ptr<DatabaseHandle> handle) : handle_(std::move(handle)) {}
  std::shared_ptr<DatabaseHandle> handle_;
};

/// The DuckDB version the process loaded, e.g. "v1.4.4".
std::string LibraryVersion();
/// The file libduckdb.so was loaded from (resolved through RPATH at run time).
std::string LibraryPath();

}  // namespace meshwork::engine
