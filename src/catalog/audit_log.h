#pragma once
// The audit log: every access decision (who, what operation on which securable, allowed or
// denied and why, the governance policies applied, the statement's fingerprint, rows returned)
// and every governance change, persisted in the metastore.
//
// Recording must not put a metastore round trip on every request: records are queued and a
// background thread writes them in batches, one transaction each (every 200 ms, or sooner when
// 512 are waiting). Nothing is dropped: when the queue holds kMaxQueued records, Record() waits
// for the writer (back-pressure). Reading flushes first, so a query sees its own decisions.
//
// Retention: with a retention period set, the same thread deletes records older than it, once
// at start and then every hour (a metastore with years of records would otherwise grow without
// bound); each expiry is itself recorded, so the log says what was removed and when.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "catalog/access.h"
#include "metastore/metastore.h"

namespace meshwork::catalog {

class AuditLog {
 public:
  /// `metastore` must outlive the log.
  explicit AuditLog(metastore::Metastore& metastore);
  /// Writes what is still queued.
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  /// Queues a record; `at_ms` 0 is stamped now. Internal callers are not audited.
  void Record(const Caller& caller, metastore::AuditRecord record);
  /// Writes every queued record now; the first write error since the last Flush, if any.
  Status Flush();
  /// Flushes, then lists.
  Result<std::vector<metastore::AuditRecord>> List(const metastore::AuditFilter& filter);

  /// Keeps records for `keep_ms` (0: forever, the default): the writer deletes older ones now
  /// and then every `check_every_ms`.
  void SetRetention(int64_t keep_ms, int64_t check_every_ms = 3'600'000);

  static constexpr size_t kMaxQueued = 65536;

 private:
  void Run();
  /// Deletes what is older than the retention; called by the writer with `lock` held.
  void ExpireOld(std::unique_lock<std::mutex>& lock);
  Status WriteBatch(std::vector<metastore::AuditRecord> batch);

  metastore::Metastore& metastore_;
  std::mutex mutex_;
  std::condition_variable wake_writer_;
  std::condition_variable space_or_written_;
  std::deque<metastore::AuditRecord> queue_;
  uint64_t enqueued_ = 0;  // records ever queued
  uint64_t written_ = 0;   // of them, written (or failed) so far
  Status last_error_;
  bool stopping_ = false;
  bool flush_requested_ = false;
  int64_t retention_ms_ = 0;
  int64_t retention_check_ms_ = 0;
  int64_t next_expiry_ms_ = 0;  // when the writer next expires old records
  std::thread writer_;
};

}  // namespace meshwork::catalog
