#pragma once
// A bounded pool of SQL connections shared by the server's threads, and the transaction runner
// every metastore change goes through. Private to src/metastore.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "metastore/sql_connection.h"

namespace meshwork::metastore {

class SqlPool {
 public:
  using Opener = std::function<Result<std::unique_ptr<SqlConnection>>()>;
  SqlPool(SqlDialect dialect, Opener opener, int max_connections)
      : dialect_(dialect), opener_(std::move(opener)), max_connections_(max_connections) {}

  SqlDialect dialect() const { return dialect_; }

  /// A connection for the caller's exclusive use until the lease is destroyed.
  class Lease {
   public:
    Lease(SqlPool* pool, std::unique_ptr<SqlConnection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = default;
    ~Lease();
    SqlConnection& operator*() { return *connection_; }
    SqlConnection* operator->() { return connection_.get(); }

   private:
    SqlPool* pool_;
    std::unique_ptr<SqlConnection> connection_;
  };

  /// Waits for a free connection (or opens one while under the limit).
  Result<Lease> Acquire();

  /// Runs `body` in a write transaction: commits when it returns OK, rolls back otherwise.
  /// Transient failures (lock timeouts, serialization failures, deadlocks, a dropped
  /// connection) are retried a few times with backoff; `body` must therefore have no effects
  /// outside the transaction.
  Status Write(const std::function<Status(SqlConnection&)>& body);

  /// Runs `body` outside a transaction (one consistent statement per call), retrying transient
  /// failures like Write.
  Status Read(const std::function<Status(SqlConnection&)>& body);

 private:
  void Release(std::unique_ptr<SqlConnection> connection);
  Status Run(bool transaction, const std::function<Status(SqlConnection&)>& body);

  SqlDialect dialect_;
  Opener opener_;
  int max_connections_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<SqlConnection>> idle_;
  int open_ = 0;
  // SQLite has one writer at a time, and a writer that finds the lock taken sleeps in growing
  // steps (up to 100 ms) before trying again: in-process writers queue here instead, and only
  // other processes meet the busy timeout.
  std::mutex sqlite_writer_;
};

}  // namespace meshwork::metastore
