#include "engine/database.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include "engine/internal.h"

namespace meshwork::engine {

std::string LibraryVersion() {
  return duckdb_library_version();
}

std::string LibraryPath() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&duckdb_library_version), &info) == 0 ||
      info.dli_fname == nullptr) {
    return "(unknown)";
  }
  char resolved[4096];
  return realpath(info.dli_fname, resolved) != nullptr ? resolved : info.dli_fname;
}

namespace {

struct ConfigHolder {
  duckdb_config handle = nullptr;
  ~ConfigHolder() {
    if (handle != nullptr) duckdb_destroy_config(&handle);
  }
};

Status SetConfig(duckdb_config config, const std::string& name, const std::string& value) {
  if (duckdb_set_config(config, name.c_str(), value.c_str()) == DuckDBError) {
    return Status::InvalidArgument("DuckDB refused setting {} = '{}'", name, value)
        .WithHint("check the setting's name and value in DuckDB's configuration reference");
  }
  return Status::OK();
}

}  // namespace

Result<Database> Database::Open(const DatabaseOptions& options) {
  ConfigHolder config;
  if (duckdb_create_config(&config.handle) == DuckDBError) {
    return Status::Internal("cannot allocate a DuckDB configuration");
  }
  // Offline by design: never try to download extensions at query time.
  MW_RETURN_IF_ERROR(SetConfig(config.handle, "autoinstall_known_extensions", "false"));
  MW_RETURN_IF_ERROR(SetConfig(config.handle, "autoload_known_extensions", "false"));
  if (options.threads < 0) {
    return Status::InvalidArgument("engine threads must be positive, got {}", options.threads);
  }
  if (options.threads > 0) {
    MW_RETURN_IF_ERROR(SetConfig(config.handle, "threads", std::to_string(options.threads)));
  }
  if (!options.memory_limit.empty()) {
    MW_RETURN_IF_ERROR(SetConfig(config.handle, "memory_limit", options.memory_limit)
                           .WithHint("memory_limit takes sizes such as '512MB', '4GB' or '75%'"));
  }

  auto handle = std::make_shared<DatabaseHandle>();
  handle->options = options;
  char* error = nullptr;
  const char* path = options.path.empty() ? nullptr : options.path.c_str();
  if (duckdb_open_ext(path, &handle->database, config.handle, &error) == DuckDBError) {
    std::string message = error != nullptr ? error : "unknown error";
    duckdb_free(error);
    handle->database = nullptr;
    return Status::IOError("cannot open DuckDB database {}: {}",
                           options.path.empty() ? "(in memory)" : options.path, message)
        .WithHint("check that the file is a DuckDB database and not opened by another process");
  }
  Database database(std::move(handle));

  // Settings DuckDB accepts only as SQL (temp_directory refuses duckdb_set_config), applied
  // before any lock-down.
  std::string setup;
  if (!options.temp_directory.empty()) {
    setup += fmt::format("SET temp_directory = {};", QuoteSqlString(options.temp_directory));
  }
  for (const auto& [name, value] : options.settings) {
    setup += fmt::format("SET \"{}\" = {};", name, QuoteSqlString(value));
  }
  if (!setup.empty() || options.lock_down) {
    MW_ASSIGN_OR_RETURN(Connection connection, database.Connect());
    if (!setup.empty()) {
      Status status = connection.Execute(setup);
      if (!status.ok()) return std::move(status).WithContext("cannot apply engine settings");
    }
    if (options.lock_down) {
      std::vector<std::string> allowed = options.allowed_directories;
      MW_RETURN_IF_ERROR(connection.LockDown(allowed));
    }
  }
  return database;
}

Result<Connection> Database::Connect() const {
  auto connection = std::make_shared<ConnectionHandle>();
  connection->database = handle_;
  {
    std::lock_guard<std::mutex> lock(handle_->spare_mutex);
    std::swap(connection->connection, handle_->spare);
  }
  if (connection->connection != nullptr) return Connection(std::move(connection));
  if (duckdb_connect(handle_->database, &connection->connection) == DuckDBError) {
    connection->connection = nullptr;
    return Status::Internal("cannot connect to the DuckDB database");
  }
  // A locked database refuses the setting; its spare connection was prepared before the lock.
  if (!handle_->locked) {
    MW_RETURN_IF_ERROR(EnableProgressTracking(connection->connection));
  }
  return Connection(std::move(connection));
}

const DatabaseOptions& Database::options() const {
  return handle_->options;
}

}  // namespace meshwork::engine
