#include "product/monitor.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "common/logging.h"
#include "common/time.h"
#include "product/records.h"

namespace meshwork::product {
namespace {

using nlohmann::json;

size_t Discard(char*, size_t size, size_t count, void*) {
  return size * count;
}

}  // namespace

Status PostWebhook(const std::string& url, const std::string& body) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Status::Internal("cannot start libcurl");
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
  const CURLcode code = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (code != CURLE_OK) {
    return Status::Unavailable("webhook {} failed: {}", url, curl_easy_strerror(code));
  }
  if (status < 200 || status >= 300) {
    return Status::Unavailable("webhook {} answered {}", url, status);
  }
  return Status::OK();
}

SlaMonitor::SlaMonitor(catalog::Catalog& catalog, ProductService& products,
                       SlaMonitorOptions options)
    : catalog_(catalog), products_(products), options_(std::move(options)) {}

SlaMonitor::~SlaMonitor() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SlaMonitor::Start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      const SlaTick tick = Tick(std::chrono::system_clock::now());
      for (const auto& line : tick.refreshed)
        logging::Info("sla: refreshed {}", line);
      for (const auto& line : tick.failed)
        logging::Warn("sla: refresh failed: {}", line);
      for (const auto& line : tick.breached)
        logging::Warn("sla: breach: {}", line);
      for (const auto& line : tick.recovered)
        logging::Info("sla: recovered: {}", line);
      for (const auto& line : tick.webhook_errors)
        logging::Warn("sla: {}", line);
      lock.lock();
      // Wake at the start of the next interval (minutes line up with cron's).
      const auto now = std::chrono::system_clock::now();
      const auto next = std::chrono::ceil<std::chrono::minutes>(now + std::chrono::seconds(1));
      wake_.wait_until(
          lock, options_.interval == std::chrono::seconds(60) ? next : now + options_.interval,
          [this] { return stopping_; });
    }
  });
}

SlaTick SlaMonitor::Tick(std::chrono::system_clock::time_point now) {
  SlaTick tick;
  const catalog::Caller scheduler{"sla-monitor", true, "sla-" + std::to_string(time::NowMillis())};
  auto records = products_.ListProducts(scheduler);
  if (!records.ok()) {
    tick.failed.push_back("cannot list products: " + records.error().ToString());
    return tick;
  }
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  for (ProductRecord record : *records) {
    if (record.state != "active") continue;
    auto spec = record.Spec();
    if (!spec.ok()) continue;
    const std::string name = fmt::format("{} v{}", record.QualifiedName(), record.version);
    // Scheduled refresh: the published spec again, same version.
    if (!spec->sla.schedule.empty() && CronMatches(spec->sla.schedule, utc.tm_min, utc.tm_hour,
                                                   utc.tm_mday, utc.tm_mon + 1, utc.tm_wday)) {
      bool files = false;
      for (const Input& input : spec->inputs)
        files |= !input.is_port();
      // Once per minute even when several servers tick (the newest publish tells).
      const bool done_this_minute = now_ms - record.published_at_ms < 60'000;
      if (files) {
        tick.skipped.push_back(name + ": reads files, which only its CI has; refresh from CI");
      } else if (!done_this_minute) {
        auto report = products_.Deploy(scheduler, *spec);
        if (report.ok() && report->failure.ok()) {
          tick.refreshed.push_back(name);
          auto reloaded =
              products_.LoadProduct(scheduler, record.domain, record.name, record.major);
          if (reloaded.ok()) record = *reloaded;
        } else {
          tick.failed.push_back(
              name + ": " + (report.ok() ? report->failure.ToString() : report.error().ToString()));
        }
      }
    }
    // Freshness against the SLA.
    auto max_age = ParseDurationSeconds(spec->sla.freshness);
    if (!max_age.ok()) continue;
    const int64_t age = (now_ms - record.published_at_ms) / 1000;
    const std::string state = age <= *max_age ? "fresh" : "late";
    const std::string key = internal::ProductKey(record.domain, record.name, record.major);
    auto stored = catalog_.metastore().LoadDocument(internal::kSlaState, key);
    if (!stored.ok()) continue;
    std::string previous = "fresh";
    int64_t expected = 0;
    if (stored->has_value()) {
      const json value = json::parse((*stored)->body, nullptr, false);
      if (value.is_object()) previous = value.value("state", "fresh");
      expected = (*stored)->version;
    }
    if (previous == state) continue;
    const json event = {{"event", state == "late" ? "sla_breach" : "sla_recovered"},
                        {"product", record.QualifiedName()},
                        {"version", record.version},
                        {"major", record.major},
                        {"age_seconds", age},
                        {"max_age_seconds", *max_age},
                        {"owner", spec->owner.team},
                        {"owner_email", spec->owner.email},
                        {"support", spec->sla.support},
                        {"published_at_ms", record.published_at_ms},
                        {"at_ms", now_ms}};
    // Whoever swaps the state sends the webhook.
    Status swapped = catalog_.metastore().WriteDocuments(
        {"sla-monitor", ""},
        {{.collection = internal::kSlaState,
          .key = key,
          .body = json({{"state", state}, {"since_ms", now_ms}}).dump(),
          .expected_version = expected}},
        state == "late" ? "sla_breach" : "sla_recovered", "product", record.QualifiedName(),
        event.dump());
    if (!swapped.ok()) continue;
    (state == "late" ? tick.breached : tick.recovered)
        .push_back(fmt::format("{}: {} s old, max age {} s", name, age, *max_age));
    if (!options_.webhook_url.empty()) {
      Status sent = PostWebhook(options_.webhook_url, event.dump());
      if (!sent.ok()) tick.webhook_errors.push_back(sent.ToString());
    }
  }
  return tick;
}

}  // namespace meshwork::product
