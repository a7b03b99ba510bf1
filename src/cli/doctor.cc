#include "cli/doctor.h"

#include <fmt/ranges.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "cli/exit_codes.h"
#include "cli/settings.h"
#include "cli/version.h"
#include "common/uuid.h"
#include "engine/connection.h"
#include "engine/database.h"
#include "metastore/metastore.h"
#include "storage/local_file_io.h"
#include "storage/s3_file_io.h"
#include "storage/storage_profiles.h"

namespace meshwork::cli {
namespace {

enum class Outcome { kOk, kWarn, kFail };

struct Check {
  std::string name;
  Outcome outcome;
  std::string detail;
};

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kWarn:
      return "warn";
    case Outcome::kFail:
      return "FAIL";
  }
  return "?";
}

std::string ExecutablePath() {
  std::error_code error;
  auto path = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? "(unknown)" : path.string();
}

Check CheckDuckDB(const config::Config& config) {
  engine::DatabaseOptions options;
  if (auto threads = config.GetInt("engine.threads"); threads.ok()) options.threads = *threads;
  if (auto limit = config.GetString("engine.memory_limit"); limit.ok())
    options.memory_limit = *limit;
  auto database = engine::Database::Open(options);
  if (!database.ok()) return {"duckdb engine", Outcome::kFail, database.error().ToString()};
  auto connection = database->Connect();
  if (!connection.ok()) return {"duckdb engine", Outcome::kFail, connection.error().ToString()};
  auto rows = connection->QueryText(
      "SELECT count(*)::VARCHAR, current_setting('threads')::VARCHAR, "
      "current_setting('memory_limit') FROM range(100000)");
  if (!rows.ok()) return {"duckdb engine", Outcome::kFail, rows.error().ToString()};
  if (rows->size() != 1 || (*rows)[0].size() != 3 || (*rows)[0][0] != "100000") {
    return {"duckdb engine", Outcome::kFail, "a query over range(100000) returned a wrong count"};
  }
  return {"duckdb engine", Outcome::kOk,
          fmt::format("queries run ({} threads, memory limit {})", (*rows)[0][1], (*rows)[0][2])};
}

Check CheckDataDir(const config::Config& config) {
  const std::string data_dir = config.GetString("data_dir").value_or(".meshwork");
  auto io = storage::LocalFileIO::Make(data_dir);
  if (!io.ok()) return {"data dir", Outcome::kFail, io.error().ToString()};
  const std::string probe = ".doctor-probe-" + Uuid::V4().ToString();
  const std::string payload = "meshwork doctor probe";
  Status written = (*io)->WriteFileAtomic(probe, payload);
  if (!written.ok()) return {"data dir", Outcome::kFail, written.ToString()};
  auto read = (*io)->ReadFile(probe);
  Status deleted = (*io)->Delete(probe);
  if (!read.ok()) return {"data dir", Outcome::kFail, read.error().ToString()};
  if (*read != payload)
    return {"data dir", Outcome::kFail, "read back different bytes than written"};
  if (!deleted.ok()) return {"data dir", Outcome::kFail, deleted.ToString()};

  std::error_code error;
  const auto root = std::filesystem::canonical(data_dir, error);
  struct statvfs space {};
  std::string detail = fmt::format("{} is writable", error ? data_dir : root.string());
  if (::statvfs(data_dir.c_str(), &space) == 0) {
    const double free_gib = static_cast<double>(space.f_bavail) * space.f_frsize / (1 << 30);
    detail += fmt::format(", {:.1f} GiB free", free_gib);
    if (free_gib < 1.0) return {"data dir", Outcome::kWarn, detail + " (less than 1 GiB)"};
  }
  return {"data dir", Outcome::kOk, detail};
}

std::string FindOnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  std::string_view rest(path);
  while (!rest.empty()) {
    const size_t colon = rest.find(':');
    const std::string dir(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? "" : rest.substr(colon + 1);
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// The tools scripts/bootstrap.sh installs for building and for the end-to-end tests. A deployed
// server needs none of them, so a missing one is a warning.
std::vector<Check> CheckTools() {
  std::vector<Check> checks;
  for (const char* tool :
       {"cmake", "ninja", "c++", "ccache", "clang-format", "psql", "node", "npm"}) {
    const std::string found = FindOnPath(tool);
    if (found.empty()) {
      checks.push_back({std::string("tool ") + tool, Outcome::kWarn,
                        "not found on PATH (needed to build or test; run scripts/bootstrap.sh)"});
    } else {
      checks.push_back({std::string("tool ") + tool, Outcome::kOk, found});
    }
  }
  return checks;
}

// One object store, step by step, so that the failing step names the problem: credentials
// found, endpoint reachable (and the keys accepted), then a probe object written, read back and
// deleted. `label` starts each check's name ("s3", "s3 finance").
void ProbeObjectStore(const std::string& label, storage::S3Config s3, const std::string& context,
                      std::vector<Check>& checks) {
  // A doctor answers quickly: two attempts, short timeouts.
  s3.max_attempts = 2;
  s3.connect_timeout = std::chrono::milliseconds(3000);
  s3.request_timeout = std::chrono::milliseconds(15000);
  const std::string suffix = context.empty() ? "" : " (" + context + ")";
  auto credentials = storage::ResolveS3Credentials(s3);
  if (!credentials.ok()) {
    checks.push_back(
        {label + " credentials", Outcome::kFail, credentials.error().ToString() + suffix});
    return;
  }
  checks.push_back(
      {label + " credentials", Outcome::kOk,
       fmt::format("access key {}…{}", credentials->access_key_id.substr(0, 4), suffix)});
  auto io = storage::S3FileIO::Make(s3);
  if (!io.ok()) {
    checks.push_back({label + " store", Outcome::kFail, io.error().ToString() + suffix});
    return;
  }
  const std::string where = (*io)->Describe();
  const std::string probe = ".meshwork-doctor-probe-" + Uuid::V4().ToString();
  auto exists = (*io)->Exists(probe);
  if (!exists.ok()) {
    checks.push_back({label + " reachable", Outcome::kFail, exists.error().ToString() + suffix});
    return;
  }
  checks.push_back(
      {label + " reachable", Outcome::kOk, where + " answers, credentials accepted" + suffix});
  const std::string payload = "meshwork doctor probe " + probe;
  Status written = (*io)->WriteFileAtomic(probe, payload);
  if (!written.ok()) {
    checks.push_back({label + " write", Outcome::kFail, written.ToString()});
    return;
  }
  checks.push_back(
      {label + " write", Outcome::kOk, fmt::format("PUT {}/{}", (*io)->RootUri(), probe)});
  auto read = (*io)->ReadFile(probe);
  if (!read.ok()) {
    checks.push_back({label + " read", Outcome::kFail, read.error().ToString()});
  } else if (*read != payload) {
    checks.push_back({label + " read", Outcome::kFail,
                      fmt::format("GET {} returned {} bytes that differ from the {} written (a "
                                  "proxy or the store altered them)",
                                  probe, read->size(), payload.size())});
  } else {
    checks.push_back({label + " read", Outcome::kOk, "the probe object reads back unchanged"});
  }
  Status deleted = (*io)->Delete(probe);
  if (!deleted.ok()) {
    checks.push_back({label + " delete", Outcome::kFail,
                      deleted.ToString() + " (delete " + probe + " by hand)"});
  } else {
    checks.push_back({label + " delete", Outcome::kOk, "the probe object is gone"});
  }
}

// Domains that keep their tables in a bucket of their own (the catalog database says which, and
// through which storage profile): each store probed as the warehouse's is. Profiles that no
// domain uses have their credentials checked only.
void CheckDomainStorage(const config::Config& config, const iceberg::WarehouseStorage& storage,
                        std::vector<Check>& checks) {
  const std::string data_dir = config.GetString("data_dir").value_or(".meshwork");
  std::string url = config.GetString("metastore").value_or("");
  const bool sqlite = url.empty() || (!url.starts_with("postgres") && url.find('=') == url.npos);
  if (url.empty()) url = data_dir + "/meshwork.db";
  std::set<std::string> unused;
  for (const auto& [name, ignored] : storage.profiles)
    unused.insert(name);
  std::error_code missing;
  const std::string sqlite_path = url.starts_with("sqlite:") ? url.substr(7) : url;
  if (sqlite && !std::filesystem::exists(sqlite_path, missing)) {
    // Opening would create (and migrate) a database: a doctor changes nothing.
    checks.push_back({"metastore", Outcome::kOk,
                      fmt::format("{} does not exist yet (`meshwork serve` creates it)", url)});
  } else if (auto metastore = metastore::Metastore::Open({.url = url, .max_connections = 1});
             !metastore.ok()) {
    checks.push_back({"metastore", Outcome::kFail, metastore.error().ToString()});
  } else {
    size_t domains = 0, own = 0;
    metastore::PageRequest page{.token = "", .size = 1000};
    for (;;) {
      auto listed = (*metastore)->ListNamespaces({}, page);
      if (!listed.ok()) {
        checks.push_back({"metastore", Outcome::kFail, listed.error().ToString()});
        return;
      }
      for (const metastore::NamespaceRecord& record : listed->items) {
        ++domains;
        auto profile =
            record.properties.find(std::string(catalog::Catalog::kStorageProfileProperty));
        auto location = record.properties.find("location");
        if (profile == record.properties.end() || location == record.properties.end()) continue;
        ++own;
        const std::string domain = fmt::format("{}", fmt::join(record.levels, "."));
        const std::string context = fmt::format("domain {}, {} via profile '{}'", domain,
                                                location->second, profile->second);
        auto found = storage.profiles.find(profile->second);
        if (found == storage.profiles.end()) {
          checks.push_back(
              {"s3 " + domain, Outcome::kFail,
               fmt::format("domain {} keeps its tables in {} through storage profile '{}', which "
                           "is not defined here; its tables cannot be read or written (define "
                           "the profile in storage.profiles_file)",
                           domain, location->second, profile->second)});
          continue;
        }
        unused.erase(profile->second);
        ProbeObjectStore("s3 " + domain,
                         storage::StoreThroughProfile(storage.s3, found->second, location->second),
                         context, checks);
      }
      if (listed->next_token.empty()) break;
      page.token = listed->next_token;
    }
    checks.push_back(
        {"metastore", Outcome::kOk,
         fmt::format("{} answers: {} domain{}, {} with storage of {} own", url, domains,
                     domains == 1 ? "" : "s", own, own == 1 ? "its" : "their")});
  }
  for (const std::string& name : unused) {
    auto credentials = storage::ResolveS3Credentials(storage.profiles.at(name));
    if (!credentials.ok()) {
      checks.push_back({"profile " + name, Outcome::kWarn,
                        credentials.error().ToString() + " (no domain uses the profile yet)"});
    } else {
      checks.push_back({"profile " + name, Outcome::kOk,
                        fmt::format("access key {}…; no domain uses it yet",
                                    credentials->access_key_id.substr(0, 4))});
    }
  }
}

// The configured object store (an s3:// warehouse) and the domains' own stores.
std::vector<Check> CheckObjectStore(const config::Config& config) {
  std::vector<Check> checks;
  const std::string warehouse = config.GetString("warehouse").value_or("");
  if (!warehouse.starts_with("s3://") && !warehouse.starts_with("s3a://") &&
      !warehouse.starts_with("s3n://")) {
    return checks;
  }
  const std::string data_dir = config.GetString("data_dir").value_or(".meshwork");
  auto storage = WarehouseStorageSettings(config, data_dir);
  if (!storage.ok()) {
    checks.push_back({"object store", Outcome::kFail, storage.error().ToString()});
    return checks;
  }
  storage::S3Config s3 = storage->s3;
  s3.warehouse = warehouse;
  ProbeObjectStore("s3", s3, "", checks);
  CheckDomainStorage(config, *storage, checks);
  return checks;
}

Check CheckSystem() {
  const long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
  const double memory_gib =
      static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * ::sysconf(_SC_PAGE_SIZE) / (1 << 30);
  return {"system", Outcome::kOk, fmt::format("{} cores, {:.1f} GiB memory", cores, memory_gib)};
}

}  // namespace

int RunDoctor(const config::Config& config, bool json) {
  std::vector<Check> checks;
  checks.push_back(
      {"meshwork", Outcome::kOk, fmt::format("{} at {}", MESHWORK_VERSION, ExecutablePath())});
  checks.push_back(
      {"duckdb library", Outcome::kOk,
       fmt::format("{} loaded from {}", engine::LibraryVersion(), engine::LibraryPath())});
  checks.push_back(CheckDuckDB(config));
  checks.push_back(CheckDataDir(config));
  for (auto& check : CheckObjectStore(config))
    checks.push_back(std::move(check));
  checks.push_back(CheckSystem());
  for (auto& tool : CheckTools())
    checks.push_back(std::move(tool));

  size_t failures = 0, warnings = 0;
  for (const auto& check : checks) {
    failures += check.outcome == Outcome::kFail;
    warnings += check.outcome == Outcome::kWarn;
  }

  if (json) {
    nlohmann::json report;
    report["ok"] = failures == 0;
    report["checks"] = nlohmann::json::array();
    for (const auto& check : checks) {
      report["checks"].push_back(
          {{"name", check.name},
           {"status", check.outcome == Outcome::kFail ? "fail" : OutcomeName(check.outcome)},
           {"detail", check.detail}});
    }
    report["settings"] = config.Describe();
    std::printf("%s\n", report.dump(2).c_str());
  } else {
    std::printf("meshwork doctor\n");
    for (const auto& check : checks) {
      std::printf("  %-4s  %-18s %s\n", std::string(OutcomeName(check.outcome)).c_str(),
                  check.name.c_str(), check.detail.c_str());
    }
    std::printf("settings\n");
    for (const auto& line : config.Describe())
      std::printf("  %s\n", line.c_str());
    if (failures == 0) {
      std::printf("all checks passed (%zu warning%s)\n", warnings, warnings == 1 ? "" : "s");
    } else {
      std::printf("%zu check%s failed, %zu warning%s\n", failures, failures == 1 ? "" : "s",
                  warnings, warnings == 1 ? "" : "s");
    }
  }
  return failures == 0 ? kExitOk : kExitFailed;
}

}  // namespace meshwork::cli
