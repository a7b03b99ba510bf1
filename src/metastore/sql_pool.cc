#include "metastore/sql_pool.h"

#include <chrono>
#include <random>
#include <thread>

namespace meshwork::metastore {

SqlPool::Lease::~Lease() {
  if (pool_ != nullptr && connection_ != nullptr) pool_->Release(std::move(connection_));
}

Result<SqlPool::Lease> SqlPool::Acquire() {
  std::unique_lock<std::mutex> lock(mutex_);
  available_.wait(lock, [&] { return !idle_.empty() || open_ < max_connections_; });
  if (!idle_.empty()) {
    std::unique_ptr<SqlConnection> connection = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(connection));
  }
  ++open_;
  lock.unlock();
  auto opened = opener_();
  if (!opened.ok()) {
    lock.lock();
    --open_;
    available_.notify_one();
    return opened.error();
  }
  return Lease(this, std::move(*opened));
}

void SqlPool::Release(std::unique_ptr<SqlConnection> connection) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (connection->healthy()) {
    idle_.push_back(std::move(connection));
  } else {
    --open_;  // dropped; the next Acquire opens a fresh one
  }
  available_.notify_one();
}

Status SqlPool::Run(bool transaction, const std::function<Status(SqlConnection&)>& body) {
  constexpr int kAttempts = 6;
  // Seeded once per thread: a random_device per call costs a file open.
  thread_local std::minstd_rand jitter(std::random_device{}());
  Status status;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    {
      std::unique_lock<std::mutex> writer(sqlite_writer_, std::defer_lock);
      if (transaction && dialect_ == SqlDialect::kSqlite) writer.lock();
      auto lease = Acquire();
      if (!lease.ok()) {
        status = lease.error();
      } else if (!transaction) {
        status = body(**lease);
      } else if (status = (*lease)->Begin(); status.ok()) {
        status = body(**lease);
        if (status.ok()) status = (*lease)->Commit();
        if (!status.ok()) (void)(*lease)->Rollback();
      }
    }
    if (status.ok() || status.code() != StatusCode::kUnavailable || attempt == kAttempts) break;
    // Transient: back off 10, 20, 40 ... ms with jitter so that retrying writers spread out.
    const int base = 10 << (attempt - 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(base + jitter() % base));
  }
  return status;
}

Status SqlPool::Write(const std::function<Status(SqlConnection&)>& body) {
  return Run(true, body);
}

Status SqlPool::Read(const std::function<Status(SqlConnection&)>& body) {
  return Run(false, body);
}

}  // namespace meshwork::metastore
