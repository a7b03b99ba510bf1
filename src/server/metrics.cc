#include "server/metrics.h"

#include <fmt/format.h>

namespace meshwork::server {
namespace {

// Label values are our route names and methods, but escape anyway: a label must never break
// the exposition format.
std::string Escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

void Metrics::Record(const RequestRecord& record) {
  const std::string route = record.route.empty() ? "unmatched" : record.route;
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{route, record.method, record.status}];
  Histogram& histogram = latency_[route];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (record.seconds <= kBuckets[i]) ++histogram.counts[i];
  }
  ++histogram.count;
  histogram.sum += record.seconds;
  if (route == "updateTable" || route == "commitTransaction") {
    ++commits_[record.status < 300 ? "committed" : record.status == 409 ? "conflict" : "failed"];
  }
}

std::string Metrics::Render() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  out += "# HELP meshwork_http_requests_total HTTP requests by route, method and status.\n";
  out += "# TYPE meshwork_http_requests_total counter\n";
  for (const auto& [key, count] : requests_) {
    const auto& [route, method, status] = key;
    out +=
        fmt::format("meshwork_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}\n",
                    Escape(route), Escape(method), status, count);
  }
  out += "# HELP meshwork_http_request_duration_seconds HTTP request latency by route.\n";
  out += "# TYPE meshwork_http_request_duration_seconds histogram\n";
  for (const auto& [route, histogram] : latency_) {
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      out += fmt::format(
          "meshwork_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
          Escape(route), kBuckets[i], histogram.counts[i]);
    }
    out += fmt::format(
        "meshwork_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n",
        Escape(route), histogram.count);
    out += fmt::format("meshwork_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n",
                       Escape(route), histogram.sum);
    out += fmt::format("meshwork_http_request_duration_seconds_count{{route=\"{}\"}} {}\n",
                       Escape(route), histogram.count);
  }
  out += "# HELP meshwork_catalog_commits_total Table commits by outcome.\n";
  out += "# TYPE meshwork_catalog_commits_total counter\n";
  for (const char* outcome : {"committed", "conflict", "failed"}) {
    const auto found = commits_.find(outcome);
    out += fmt::format("meshwork_catalog_commits_total{{outcome=\"{}\"}} {}\n", outcome,
                       found == commits_.end() ? 0 : found->second);
  }
  return out;
}

}  // namespace meshwork::server
