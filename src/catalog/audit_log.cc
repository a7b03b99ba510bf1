#include "catalog/audit_log.h"

#include <fmt/format.h>

#include <chrono>

#include "common/logging.h"
#include "common/time.h"

namespace meshwork::catalog {
namespace {

constexpr auto kFlushInterval = std::chrono::milliseconds(200);
constexpr size_t kBatchSize = 512;

}  // namespace

AuditLog::AuditLog(metastore::Metastore& metastore)
    : metastore_(metastore), writer_([this] { Run(); }) {}

AuditLog::~AuditLog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_writer_.notify_all();
  writer_.join();
}

void AuditLog::Record(const Caller& caller, metastore::AuditRecord record) {
  if (caller.internal) return;
  if (record.at_ms == 0) record.at_ms = time::NowMillis();
  if (record.principal.empty()) record.principal = caller.principal;
  if (record.request_id.empty()) record.request_id = caller.request_id;
  if (record.channel.empty()) record.channel = caller.channel.empty() ? "api" : caller.channel;
  std::unique_lock<std::mutex> lock(mutex_);
  space_or_written_.wait(lock, [&] { return queue_.size() < kMaxQueued || stopping_; });
  queue_.push_back(std::move(record));
  ++enqueued_;
  if (queue_.size() >= kBatchSize) wake_writer_.notify_one();
}

Status AuditLog::WriteBatch(std::vector<metastore::AuditRecord> batch) {
  Status written = metastore_.AppendAudit(batch);
  if (!written.ok()) {
    // A second try covers a busy SQLite or a PostgreSQL failover; after that the batch is
    // reported (logs and the next Flush) rather than held forever.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    written = metastore_.AppendAudit(batch);
  }
  if (!written.ok()) {
    logging::Error("audit: {} records could not be written: {}", batch.size(), written.ToString());
  }
  return written;
}

void AuditLog::SetRetention(int64_t keep_ms, int64_t check_every_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  retention_ms_ = keep_ms;
  retention_check_ms_ = check_every_ms;
  next_expiry_ms_ = keep_ms > 0 ? time::NowMillis() : 0;
  wake_writer_.notify_one();
}

void AuditLog::ExpireOld(std::unique_lock<std::mutex>& lock) {
  const int64_t keep_ms = retention_ms_;
  const int64_t days = keep_ms / 86'400'000;
  next_expiry_ms_ = time::NowMillis() + retention_check_ms_;
  lock.unlock();
  auto removed = metastore_.ExpireAudit(time::NowMillis() - keep_ms);
  lock.lock();
  if (!removed.ok()) {
    logging::Error("audit: expiring records older than {} days failed: {}", days,
                   removed.error().ToString());
    return;
  }
  if (*removed == 0) return;
  logging::Info("audit: removed {} records older than the retention of {} days", *removed, days);
  // Queued directly: Record() could wait on this very thread for queue space.
  queue_.push_back({.at_ms = time::NowMillis(),
                    .principal = "meshwork",
                    .request_id = "audit-retention",
                    .channel = "system",
                    .operation = "audit_expire",
                    .securables = "audit",
                    .allowed = true,
                    .reason = fmt::format("retention of {} days (audit.retention_days)", days),
                    .details = fmt::format(R"({{"removed": {}}})", *removed)});
  ++enqueued_;
}

void AuditLog::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_writer_.wait_for(lock, kFlushInterval, [&] {
      return stopping_ || flush_requested_ || queue_.size() >= kBatchSize ||
             (next_expiry_ms_ > 0 && time::NowMillis() >= next_expiry_ms_);
    });
    if (next_expiry_ms_ > 0 && time::NowMillis() >= next_expiry_ms_ && !stopping_) {
      ExpireOld(lock);
    }
    if (queue_.empty()) {
      flush_requested_ = false;
      if (stopping_) return;
      continue;
    }
    std::vector<metastore::AuditRecord> batch;
    while (!queue_.empty() && batch.size() < kBatchSize) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    const size_t count = batch.size();
    lock.unlock();
    Status written = WriteBatch(std::move(batch));
    lock.lock();
    if (!written.ok() && last_error_.ok()) last_error_ = std::move(written);
    written_ += count;
    space_or_written_.notify_all();
  }
}

Status AuditLog::Flush() {
  std::unique_lock<std::mutex> lock(mutex_);
  const uint64_t target = enqueued_;
  // The writer takes batches in order, so everything queued before now is written once the
  // count reaches it.
  while (written_ < target) {
    flush_requested_ = true;
    wake_writer_.notify_one();
    space_or_written_.wait_for(lock, std::chrono::milliseconds(50));
  }
  Status error = std::move(last_error_);
  last_error_ = Status::OK();
  return error;
}

Result<std::vector<metastore::AuditRecord>> AuditLog::List(const metastore::AuditFilter& filter) {
  Status flushed = Flush();
  if (!flushed.ok()) {
    return std::move(flushed).WithContext("some audit records could not be written");
  }
  return metastore_.ListAudit(filter);
}

}  // namespace meshwork::catalog
