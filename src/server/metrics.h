#pragma once
// Server metrics in Prometheus text format (/metrics): requests by route, method and status,
// latency histograms by route, commits by outcome, requests in flight.

#include <array>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "server/http_server.h"

namespace meshwork::server {

class Metrics {
 public:
  /// Upper bounds of the latency buckets, in seconds.
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0,  5.0};

  void Record(const RequestRecord& record);
  /// The exposition text.
  std::string Render() const;

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> counts{};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::map<std::string, uint64_t> commits_;
};

}  // namespace meshwork::server
