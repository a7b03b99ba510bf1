#pragma once
// The SLA monitor inside `meshwork serve`: once a minute it refreshes the products whose
// schedule (cron, UTC) fires, evaluates every product's freshness against its SLA's max age,
// and on a new breach posts a webhook. Breach state lives in the metastore, so several servers
// notify once (the compare-and-swap of the state decides who sends).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "product/service.h"

namespace meshwork::product {

struct SlaMonitorOptions {
  /// POSTed a JSON event on every new breach and recovery; empty = none.
  std::string webhook_url;
  std::chrono::seconds interval{60};
};

struct SlaTick {
  std::vector<std::string> refreshed;  // "finance.q3_revenue v1.2.0"
  std::vector<std::string> skipped;    // with why
  std::vector<std::string> failed;     // refreshes that did not publish, with why
  std::vector<std::string> breached;   // newly late
  std::vector<std::string> recovered;  // fresh again
  std::vector<std::string> webhook_errors;
};

class SlaMonitor {
 public:
  SlaMonitor(catalog::Catalog& catalog, ProductService& products, SlaMonitorOptions options);
  ~SlaMonitor();
  /// Runs Tick every interval on a thread of its own until destroyed.
  void Start();
  /// One pass as of `now` (tests call it directly).
  SlaTick Tick(std::chrono::system_clock::time_point now);

 private:
  catalog::Catalog& catalog_;
  ProductService& products_;
  SlaMonitorOptions options_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

/// POSTs `body` (JSON) to `url`; an error names the URL and the status or the network failure.
Status PostWebhook(const std::string& url, const std::string& body);

}  // namespace meshwork::product
