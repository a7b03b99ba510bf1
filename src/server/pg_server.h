#pragma once
// The PostgreSQL wire-protocol endpoint (DESIGN §4): psql, JDBC, BI tools and drivers such as
// node `pg` connect to 127.0.0.1:5433, database = the mesh's name, user = a client id, password
// = its secret (SCRAM-SHA-256). Simple and extended query protocol, text and binary results,
// CancelRequest, TLS when a certificate is configured. Every statement runs through a
// query::Session, so the firewall, RBAC and pinning apply exactly as over HTTP.
//
// One thread per connection, blocking I/O with timeouts: a slow reader slows only its own
// query (rows are produced as the socket takes them), never the others. A client that closes
// or resets its connection while a statement runs has the statement cancelled.

#include <memory>
#include <string>

#include "catalog/catalog.h"
#include "common/result.h"
#include "query/session.h"

namespace meshwork::server {

struct PgServerOptions {
  std::string host = "127.0.0.1";
  int port = 5433;  // 0: any free port
  std::string tls_certificate;
  std::string tls_key;
  int max_connections = 256;
  /// A connection idle (between statements) longer than this is closed; 0: never.
  int idle_timeout_seconds = 3600;
  /// Startup and authentication must finish within this.
  int authentication_timeout_seconds = 30;
  /// A client that takes no bytes for this long while a result is sent is disconnected.
  int write_timeout_seconds = 60;
};

class PgServer {
 public:
  PgServer(PgServerOptions options, catalog::Catalog& catalog, query::QueryService& queries);
  ~PgServer();
  /// Binds the port (fails clearly when it is taken).
  Status Bind();
  int port() const;
  /// Accepts connections until Stop(); returns once every connection has closed.
  Status Serve();
  /// Safe from any thread.
  void Stop();

  struct Impl;  // pg_server.cc: the listener, its connections and their sessions

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace meshwork::server
