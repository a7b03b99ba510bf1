#pragma once
// Timing helpers shared by the benchmarks: each side runs several times in the same process and
// the median (robust against one slow run on a busy machine) is compared.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace meshwork::bench {

inline double MedianSeconds(int runs, const std::function<void()>& body) {
  std::vector<double> times;
  for (int run = 0; run < runs; ++run) {
    const auto start = std::chrono::steady_clock::now();
    body();
    times.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

// Aborts the benchmark with a message: a benchmark whose setup failed must not print a ratio.
template <typename R>
auto Must(R&& result, const char* what) {
  if (!result.ok()) {
    std::fprintf(stderr, "benchmark setup failed (%s): %s\n", what,
                 result.error().ToString().c_str());
    std::exit(1);
  }
  return std::move(*result);
}

inline void MustOk(const Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "benchmark setup failed (%s): %s\n", what, status.ToString().c_str());
    std::exit(1);
  }
}

// A fresh scratch folder under the system temp dir, removed when the object dies.
class ScratchFolder {
 public:
  explicit ScratchFolder(const std::string& name)
      : path_(std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void PrintRatio(const char* what, double ratio, const char* target, bool met) {
  std::printf("%s: ratio %.2fx (target %s) %s\n", what, ratio, target, met ? "MET" : "MISSED");
}

}  // namespace meshwork::bench
