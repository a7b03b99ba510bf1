// Object storage against local disk, in one run, on a ~1 GB product's Parquet files:
//
//  1. Upload: the files written to the S3 server through S3FileIO (multipart above 64 MiB, parts
//     in parallel) vs the same bytes written to local disk through LocalFileIO (atomic, fsynced).
//  2. Scan: an aggregate over every row of every file, as the engine runs it — DuckDB reading
//     local paths — with the files (a) on local disk, (b) in S3 with the read-through cache empty
//     (cold: every file downloaded first, as 8 MiB ranged parts 4 at a time), (b') cold with
//     each file fetched in one GET (the cache before ranged downloads), (c) in S3 with the cache
//     filled (warm).
//
// The S3 server is s3rver (npm, tests/e2e/node_modules), started on 127.0.0.1 by the benchmark:
// a JavaScript server writing to the same disk, so these figures bound meshwork's side, not
// what MinIO or AWS would give. No targets in the issue: the figures go in the closing note.
//
// Usage: s3_benchmark [MEGABYTES] [RUNS]   (defaults: 1024 MB of Parquet, 3 runs)

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "bench/bench_util.h"
#include "engine/database.h"
#include "storage/cached_file_io.h"
#include "storage/local_file_io.h"
#include "storage/s3_file_io.h"
#include "storage/s3_server.h"

using namespace meshwork;

namespace {

constexpr int kFiles = 8;

double Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t megabytes = argc > 1 ? std::atoll(argv[1]) : 1024;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 3;
  bench::ScratchFolder scratch("meshwork-s3-bench");
  const auto generated = scratch.path() / "generated";
  std::filesystem::create_directories(generated);

  std::string why;
  auto server = testing::S3rver::Start({"bench"}, why);
  if (server == nullptr) {
    std::fprintf(stderr, "s3_benchmark: cannot start s3rver: %s\n", why.c_str());
    return 1;
  }

  // ~megabytes of Parquet: hex digests do not compress, so rows ≈ bytes / 45.
  auto database = bench::Must(engine::Database::Open({.settings = {{"TimeZone", "UTC"}}}), "open");
  auto connection = bench::Must(database.Connect(), "connect");
  const int64_t rows_per_file = megabytes * (1 << 20) / 45 / kFiles;
  std::vector<std::string> names;
  uint64_t total_bytes = 0;
  for (int f = 0; f < kFiles; ++f) {
    const std::string name = fmt::format("data/part-{:05d}.parquet", f);
    std::filesystem::create_directories(generated / "data");
    bench::MustOk(connection.Execute(fmt::format(
                      "COPY (SELECT i AS id, md5(i::VARCHAR) AS digest, (i % 997) * 1.5 AS amount "
                      "FROM range({}, {}) t(i)) TO '{}' (FORMAT parquet, COMPRESSION zstd)",
                      f * rows_per_file, (f + 1) * rows_per_file, (generated / name).string())),
                  "generate");
    total_bytes += std::filesystem::file_size(generated / name);
    names.push_back(name);
  }
  const double mib = static_cast<double>(total_bytes) / (1 << 20);
  std::printf("s3 benchmark: %d Parquet files, %.0f MiB, %lld rows; s3rver at %s\n", kFiles, mib,
              static_cast<long long>(rows_per_file * kFiles), server->endpoint().c_str());

  storage::S3Config config{.warehouse = "s3://bench/wh",
                           .endpoint = server->endpoint(),
                           .region = "us-east-1",
                           .addressing = storage::S3Config::Addressing::kPath};
  config.credentials.access_key_id = "S3RVER";
  config.credentials.secret_access_key = "S3RVER";
  config.create_only = storage::S3Config::CreateOnly::kHeadThenPut;

  // --- Upload ----------------------------------------------------------------------------
  std::vector<std::string> contents;
  for (const auto& name : names)
    contents.push_back(Slurp(generated / name));
  auto local_root = scratch.path() / "local";
  std::filesystem::create_directories(local_root);
  auto local = bench::Must(storage::LocalFileIO::Make(local_root.string()), "local io");
  auto s3 = bench::Must(storage::S3FileIO::Make(config), "s3 io");
  std::vector<double> local_seconds, s3_seconds;
  for (int run = 0; run < runs; ++run) {
    auto start = std::chrono::steady_clock::now();
    for (size_t f = 0; f < names.size(); ++f)
      bench::MustOk(local->WriteFileAtomic(names[f], contents[f]), "local write");
    local_seconds.push_back(Since(start));
    start = std::chrono::steady_clock::now();
    for (size_t f = 0; f < names.size(); ++f)
      bench::MustOk(s3->WriteFileAtomic(names[f], contents[f]), "s3 upload");
    s3_seconds.push_back(Since(start));
  }
  std::sort(local_seconds.begin(), local_seconds.end());
  std::sort(s3_seconds.begin(), s3_seconds.end());
  const double local_write = local_seconds[runs / 2], s3_write = s3_seconds[runs / 2];
  std::printf(
      "  upload: S3 multipart %.1f MiB/s (%.2f s), local disk %.1f MiB/s (%.2f s): "
      "%.2fx the local time\n",
      mib / s3_write, s3_write, mib / local_write, local_write, s3_write / local_write);
  contents.clear();

  // --- Scan ------------------------------------------------------------------------------
  const auto scan = [&](const std::vector<std::string>& paths) {
    std::string list;
    for (const auto& path : paths)
      list += (list.empty() ? "'" : ", '") + path + "'";
    auto rows =
        bench::Must(connection.QueryText(fmt::format(
                        "SELECT count(*), sum(amount), max(digest) FROM read_parquet([{}])", list)),
                    "scan");
    return rows.at(0).at(0);
  };
  std::vector<std::string> local_paths;
  for (const auto& name : names)
    local_paths.push_back((local_root / name).string());
  const std::string expected = scan(local_paths);  // also warms the page cache for local
  std::vector<double> local_scan, cold_scan, cold_whole_scan, warm_scan;
  for (int run = 0; run < runs; ++run) {
    auto start = std::chrono::steady_clock::now();
    if (scan(local_paths) != expected) {
      std::fprintf(stderr, "s3_benchmark: local scan disagrees\n");
      return 1;
    }
    local_scan.push_back(Since(start));

    const auto cache_dir = scratch.path() / fmt::format("cache-{}", run);
    auto cached = bench::Must(
        storage::CachedFileIO::Make(bench::Must(storage::S3FileIO::Make(config), "s3 io"),
                                    {.directory = cache_dir.string()}),
        "cache");
    const auto through_cache = [&] {
      std::vector<std::string> paths;
      for (const auto& name : names)
        paths.push_back(bench::Must(cached->LocalPath(name), "cached path"));
      return scan(paths);
    };
    start = std::chrono::steady_clock::now();
    if (through_cache() != expected) {
      std::fprintf(stderr, "s3_benchmark: cold scan disagrees\n");
      return 1;
    }
    cold_scan.push_back(Since(start));
    start = std::chrono::steady_clock::now();
    if (through_cache() != expected) {
      std::fprintf(stderr, "s3_benchmark: warm scan disagrees\n");
      return 1;
    }
    warm_scan.push_back(Since(start));
    std::filesystem::remove_all(cache_dir);

    auto whole =
        bench::Must(storage::CachedFileIO::Make(
                        bench::Must(storage::S3FileIO::Make(config), "s3 io"),
                        {.directory = cache_dir.string(), .download_part_size = UINT64_MAX}),
                    "cache");
    start = std::chrono::steady_clock::now();
    {
      std::vector<std::string> paths;
      for (const auto& name : names)
        paths.push_back(bench::Must(whole->LocalPath(name), "cached path"));
      if (scan(paths) != expected) {
        std::fprintf(stderr, "s3_benchmark: cold scan (whole-file GETs) disagrees\n");
        return 1;
      }
    }
    cold_whole_scan.push_back(Since(start));
    std::filesystem::remove_all(cache_dir);
  }
  for (auto* list : {&local_scan, &cold_scan, &cold_whole_scan, &warm_scan})
    std::sort(list->begin(), list->end());
  const double l = local_scan[runs / 2], c = cold_scan[runs / 2], w = warm_scan[runs / 2];
  const double cw = cold_whole_scan[runs / 2];
  std::printf(
      "  scan of every row: local disk %.3f s; S3 cold (cache empty) %.3f s = %.2fx, "
      "%.1f MiB/s fetched; S3 warm (cached) %.3f s = %.2fx\n",
      l, c, c / l, mib / std::max(c - l, 1e-3), w, w / l);
  std::printf("  cold with one GET per file instead of ranged parts: %.3f s = %.2fx, %.1f MiB/s\n",
              cw, cw / l, mib / std::max(cw - l, 1e-3));
  return 0;
}
