// meshwork's PostgreSQL wire server against PostgreSQL 15 serving the same rows on the same
// machine, in one run:
//  (b) streaming logistics.shipments (10M rows of 14 columns at the demo's scale 100) to a
//      client: `SELECT * FROM logistics.shipments`, target ratio >= 1.0x (PostgreSQL's time /
//      meshwork's). Two clients: libpq in single-row mode (a C program streaming a result row by
//      row), and a lean reader that lets libpq log in (SCRAM-SHA-256 for meshwork, trust for
//      PostgreSQL) and then reads the protocol from the socket itself, so the client costs
//      almost nothing and the figure is the server's; text results over the simple query
//      protocol and binary results over the extended protocol. Then the same rows one group of
//      columns at a time (bigint, text, uuid, numeric, timestamptz), text and binary, to show
//      which encoders cost the time.
//  (c) the latency of a small point query by primary key, p50 (and p90/p99) over a fixed
//      sequence of keys: on the 10M-row fact table and on the customer master, as literal SQL
//      (simple protocol) and with a $1 parameter (extended protocol, as JDBC sends it).
// PostgreSQL gets the tables with the products' contracts as DDL (primary keys as PRIMARY KEY,
// so point queries use an index, as any PostgreSQL user would have it), loaded with COPY from the
// Parquet files meshwork serves, then VACUUM (FREEZE, ANALYZE). Every comparison checks that both
// servers sent the same rows (count and an order-independent hash of every value's bytes).
// Server and client CPU seconds are printed beside each streaming figure: where the time goes.
//
// Usage: pg_server_benchmark [--scale N] [--data-dir DIR] [--postgres-dir DIR] [--runs N]
//   --scale         the demo mesh's scale when it is built (default 100: 10M shipments)
//   --data-dir      build the mesh there and keep it, or reuse the mesh an earlier run left
//   --postgres-dir  keep the loaded PostgreSQL running there for the next run, or reuse it

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <libpq-fe.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bench/bench_util.h"
#include "bench/demo_mesh.h"
#include "catalog/catalog.h"
#include "engine/database.h"
#include "iceberg/expression.h"
#include "iceberg/scan_planner.h"
#include "iceberg/sql_text.h"
#include "metastore/metastore.h"
#include "testing/postgres_server.h"

using namespace meshwork;

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(p * values.size()))];
}

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "benchmark failed: %s\n", what.c_str());
  std::exit(1);
}

// ---------------------------------------------------------------------------------------------
// What a client received: rows and an order-independent digest of every value.

uint64_t Mix(uint64_t x) {  // splitmix64's finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

struct Digest {
  uint64_t rows = 0;
  uint64_t sum = 0;    // of the row hashes: the order of rows does not matter
  uint64_t bytes = 0;  // value bytes received
  bool operator==(const Digest&) const = default;
};

// One row: its values in order, NULL distinct from every string.
class RowHasher {
 public:
  void Null() { hash_ = Mix(hash_ ^ 0x9e3779b97f4a7c15ULL) + 1; }
  void Value(const char* data, size_t size) {
    hash_ = Mix(hash_ ^ std::hash<std::string_view>()(std::string_view(data, size))) + 2;
    bytes_ += size;
  }
  void End(Digest& digest) {
    digest.rows += 1;
    digest.sum += Mix(hash_);
    digest.bytes += bytes_;
    hash_ = 0;
    bytes_ = 0;
  }

 private:
  uint64_t hash_ = 0;
  uint64_t bytes_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Clients

PGconn* Connect(const std::string& conninfo) {
  PGconn* connection = PQconnectdb(conninfo.c_str());
  if (PQstatus(connection) != CONNECTION_OK)
    Fail("connect: " + std::string(PQerrorMessage(connection)));
  return connection;
}

void Exec(PGconn* connection, const std::string& sql) {
  PGresult* result = PQexec(connection, sql.c_str());
  const auto status = PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_COPY_IN) {
    Fail(sql.substr(0, 200) + ": " + PQresultErrorMessage(result));
  }
  PQclear(result);
}

std::vector<std::vector<std::string>> Rows(PGconn* connection, const std::string& sql,
                                           const std::vector<std::string>& parameters = {},
                                           bool extended = false) {
  std::vector<const char*> values;
  for (const auto& p : parameters)
    values.push_back(p.c_str());
  PGresult* result = extended
                         ? PQexecParams(connection, sql.c_str(), static_cast<int>(values.size()),
                                        nullptr, values.data(), nullptr, nullptr, 0)
                         : PQexec(connection, sql.c_str());
  if (PQresultStatus(result) != PGRES_TUPLES_OK) {
    Fail(sql.substr(0, 200) + ": " + PQresultErrorMessage(result));
  }
  std::vector<std::vector<std::string>> rows(PQntuples(result));
  for (int r = 0; r < PQntuples(result); ++r) {
    for (int c = 0; c < PQnfields(result); ++c)
      rows[r].push_back(PQgetisnull(result, r, c) ? "<NULL>" : PQgetvalue(result, r, c));
  }
  PQclear(result);
  return rows;
}

// libpq in single-row mode: a PGresult per row.
Digest StreamLibpq(PGconn* connection, const std::string& sql) {
  if (PQsendQuery(connection, sql.c_str()) != 1 || PQsetSingleRowMode(connection) != 1) {
    Fail(std::string("send: ") + PQerrorMessage(connection));
  }
  Digest digest;
  RowHasher hasher;
  while (PGresult* result = PQgetResult(connection)) {
    const auto status = PQresultStatus(result);
    if (status == PGRES_SINGLE_TUPLE) {
      const int columns = PQnfields(result);
      for (int c = 0; c < columns; ++c) {
        if (PQgetisnull(result, 0, c)) {
          hasher.Null();
        } else {
          hasher.Value(PQgetvalue(result, 0, c), PQgetlength(result, 0, c));
        }
      }
      hasher.End(digest);
    } else if (status != PGRES_TUPLES_OK) {
      Fail(std::string("stream: ") + PQresultErrorMessage(result));
    }
    PQclear(result);
  }
  return digest;
}

// The lean client: after libpq's login the connection is idle (ReadyForQuery read), so the
// benchmark writes the query messages to the socket and reads the answer itself, up to and
// including ReadyForQuery, which leaves libpq's view of the connection true.
class WireReader {
 public:
  // libpq keeps its socket non-blocking; the reader blocks, and gives it back as it was.
  explicit WireReader(int fd) : fd_(fd), flags_(::fcntl(fd, F_GETFL)), buffer_(1 << 20) {
    ::fcntl(fd_, F_SETFL, flags_ & ~O_NONBLOCK);
  }
  ~WireReader() { ::fcntl(fd_, F_SETFL, flags_); }
  WireReader(const WireReader&) = delete;
  WireReader& operator=(const WireReader&) = delete;

  void Send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) Fail("socket send");
      sent += static_cast<size_t>(n);
    }
  }

  // Reads messages until ReadyForQuery; DataRows go into `digest`.
  Digest ReadResult() {
    Digest digest;
    RowHasher hasher;
    while (true) {
      Need(5);
      const char type = buffer_[begin_];
      const uint32_t length = Int32(begin_ + 1);
      Need(1 + length);
      const size_t body = begin_ + 5;
      const size_t end = begin_ + 1 + length;
      if (type == 'D') {
        const int columns = static_cast<int>(Int16(body));
        size_t at = body + 2;
        for (int c = 0; c < columns; ++c) {
          const auto size = static_cast<int32_t>(Int32(at));
          at += 4;
          if (size < 0) {
            hasher.Null();
          } else {
            hasher.Value(buffer_.data() + at, static_cast<size_t>(size));
            at += static_cast<size_t>(size);
          }
        }
        hasher.End(digest);
      } else if (type == 'E') {
        std::string message;
        for (size_t at = body; at < end && buffer_[at] != 0;) {
          const char field = buffer_[at++];
          const std::string value(buffer_.data() + at);
          at += value.size() + 1;
          if (field == 'M') message = value;
        }
        Fail("server error: " + message);
      } else if (type == 'Z') {
        begin_ = end;
        return digest;
      }
      begin_ = end;
    }
  }

  static std::string Message(char type, const std::string& body) {
    std::string out(1, type);
    const uint32_t length = htonl(static_cast<uint32_t>(body.size() + 4));
    out.append(reinterpret_cast<const char*>(&length), 4);
    return out + body;
  }
  // Simple query protocol.
  static std::string Query(const std::string& sql) { return Message('Q', sql + '\0'); }
  // Extended protocol, unnamed statement and portal, every result column in binary.
  static std::string BinaryQuery(const std::string& sql) {
    std::string parse = std::string(1, '\0') + sql + '\0' + std::string(2, '\0');
    std::string bind = std::string(2, '\0');  // portal "", statement ""
    bind += std::string(2, '\0');             // no parameter formats
    bind += std::string(2, '\0');             // no parameters
    bind += std::string("\0\1\0\1", 4);       // one result format for all columns: binary
    std::string execute = std::string(1, '\0') + std::string(4, '\0');  // all rows
    return Message('P', parse) + Message('B', bind) + Message('E', execute) + Message('S', "");
  }

 private:
  uint32_t Int32(size_t at) const {
    uint32_t value;
    std::memcpy(&value, buffer_.data() + at, 4);
    return ntohl(value);
  }
  uint16_t Int16(size_t at) const {
    uint16_t value;
    std::memcpy(&value, buffer_.data() + at, 2);
    return ntohs(value);
  }
  // At least `count` bytes from begin_ in the buffer.
  void Need(size_t count) {
    if (end_ - begin_ >= count) return;
    if (begin_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (buffer_.size() < count) buffer_.resize(count);
    while (end_ < count) {
      const ssize_t n = ::recv(fd_, buffer_.data() + end_, buffer_.size() - end_, 0);
      if (n <= 0) Fail("socket closed");
      end_ += static_cast<size_t>(n);
    }
  }

  int fd_;
  int flags_;
  std::vector<char> buffer_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

// ---------------------------------------------------------------------------------------------
// The two servers

struct Server {
  std::string label;
  std::string conninfo;
  // Whose CPU the server spends: meshwork's process, or the PostgreSQL backend of a connection.
  std::function<pid_t(PGconn*)> server_pid;
};

struct Streamed {
  double seconds = 0;
  double server_cpu = 0;
  double client_cpu = 0;
  Digest digest;
};

Streamed StreamOnce(const Server& server, const std::string& sql, const std::string& client) {
  PGconn* connection = Connect(server.conninfo);
  const pid_t pid = server.server_pid(connection);
  Streamed out;
  const double server_before = bench::ProcessCpuSeconds(pid);
  const double client_before = bench::SelfCpuSeconds();
  const auto start = Clock::now();
  if (client == "libpq") {
    out.digest = StreamLibpq(connection, sql);
  } else {
    WireReader reader(PQsocket(connection));
    reader.Send(client == "lean-binary" ? WireReader::BinaryQuery(sql) : WireReader::Query(sql));
    out.digest = reader.ReadResult();
  }
  out.seconds = Seconds(start);
  out.server_cpu = bench::ProcessCpuSeconds(pid) - server_before;
  out.client_cpu = bench::SelfCpuSeconds() - client_before;
  PQfinish(connection);
  return out;
}

// The PostgreSQL DDL of an Iceberg column type (the products' contracts use these).
std::string PostgresType(const iceberg::Type& type) {
  const std::string name = type.ToString();
  static const std::map<std::string, std::string> kTypes = {
      {"long", "bigint"},        {"int", "integer"},     {"string", "text"},
      {"uuid", "uuid"},          {"boolean", "boolean"}, {"double", "double precision"},
      {"float", "real"},         {"date", "date"},       {"timestamptz", "timestamptz"},
      {"timestamp", "timestamp"}};
  if (auto found = kTypes.find(name); found != kTypes.end()) return found->second;
  if (name.starts_with("decimal")) return "numeric" + name.substr(7);
  Fail("no PostgreSQL type for " + name);
}

struct LoadTable {
  const char* domain;
  const char* port;
  const char* primary_key;
};
constexpr LoadTable kLoaded[] = {{"logistics", "shipments", "shipment_id"},
                                 {"customers", "customers", "customer_id"}};

// Creates the products as PostgreSQL tables and loads the rows of their current snapshots.
void LoadPostgres(const std::string& conninfo, catalog::Catalog& catalog,
                  const catalog::Caller& root, const std::string& scratch) {
  auto duckdb = bench::Must(engine::Database::Open({.settings = {{"TimeZone", "UTC"}}}), "DuckDB");
  auto connection = bench::Must(duckdb.Connect(), "DuckDB connect");
  PGconn* pg = Connect(conninfo);
  for (const LoadTable& table : kLoaded) {
    const auto start = Clock::now();
    auto loaded = bench::Must(catalog.LoadTable(root, {{table.domain}, table.port}), table.port);
    const iceberg::Schema& schema = loaded.metadata.CurrentSchema();
    std::string columns, names;
    for (const auto& field : schema.fields()) {
      columns += fmt::format("{}{} {}{}", columns.empty() ? "" : ", ", field.name,
                             PostgresType(*field.type), field.required ? " NOT NULL" : "");
      names += (names.empty() ? "" : ", ") + field.name;
    }
    auto everything = bench::Must(iceberg::ParseFilter("", schema), "filter");
    auto plan = bench::Must(
        iceberg::PlanScan(catalog.warehouse(), loaded, std::nullopt, *everything), "plan");
    std::string files;
    for (const auto& file : plan.files) {
      files += (files.empty() ? "" : ", ") +
               iceberg::QuoteString(
                   bench::Must(catalog.warehouse().io().LocalPath(file.file_path), "path"));
    }
    const std::string csv = scratch + "/" + table.port + ".csv";
    bench::MustOk(connection.Execute(fmt::format(
                      "COPY (SELECT {} FROM read_parquet([{}], hive_partitioning = false)) TO {} "
                      "(FORMAT csv, HEADER false)",
                      names, files, iceberg::QuoteString(csv))),
                  "export CSV");
    const std::string name = fmt::format("{}.{}", table.domain, table.port);
    Exec(pg, fmt::format("CREATE SCHEMA IF NOT EXISTS {}", table.domain));
    Exec(pg, fmt::format("CREATE TABLE {} ({})", name, columns));
    Exec(pg, fmt::format("COPY {} FROM {} WITH (FORMAT csv)", name, iceberg::QuoteString(csv)));
    Exec(pg, fmt::format("ALTER TABLE {} ADD PRIMARY KEY ({})", name, table.primary_key));
    Exec(pg, fmt::format("VACUUM (FREEZE, ANALYZE) {}", name));
    std::filesystem::remove(csv);
    std::printf("  PostgreSQL: %s loaded, %lld rows, %.1f s\n", name.c_str(),
                static_cast<long long>(plan.records_kept), Seconds(start));
  }
  PQfinish(pg);
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress is visible when piped
  int scale = 100;
  int runs = 3;
  std::string data_dir, postgres_dir;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--scale" && i + 1 < argc) {
      scale = std::atoi(argv[++i]);
    } else if (arg == "--data-dir" && i + 1 < argc) {
      data_dir = argv[++i];
    } else if (arg == "--postgres-dir" && i + 1 < argc) {
      postgres_dir = argv[++i];
    } else if (arg == "--runs" && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr,
                   "usage: pg_server_benchmark [--scale N] [--data-dir DIR] [--postgres-dir DIR] "
                   "[--runs N]\n");
      return 2;
    }
  }
  bench::DemoMesh mesh(MESHWORK_BINARY, MESHWORK_SOURCE_DIR "/examples", scale, data_dir);
  bench::ScratchFolder scratch("meshwork-pg-bench");

  // PostgreSQL 15: a throwaway server (trust authentication, fsync off: it only reads here).
  std::unique_ptr<testing::PostgresServer> postgres;
  std::string error;
  const bool keep = !postgres_dir.empty();
  if (keep && std::filesystem::exists(postgres_dir + "/port")) {
    postgres = testing::PostgresServer::Attach(postgres_dir, error);
    if (!postgres) Fail("PostgreSQL: " + error);
    std::printf("reusing the loaded PostgreSQL in %s (port %d)\n", postgres_dir.c_str(),
                postgres->port());
  } else {
    const std::string directory = keep ? postgres_dir : (scratch.path() / "postgres").string();
    postgres = testing::PostgresServer::Start(directory, error);
    if (!postgres) Fail("PostgreSQL: " + error);
    if (keep) {
      postgres->KeepRunning();
    } else {
      // Failures exit without unwinding; the throwaway server is stopped at exit then too.
      static std::string started;
      started = directory;
      std::atexit([] {
        std::string ignored;
        testing::PostgresServer::Stop(started, ignored);
      });
    }
    auto metastore =
        bench::Must(metastore::Metastore::Open({.url = mesh.metastore()}), "metastore");
    auto catalog = bench::Must(
        catalog::Catalog::Open(*metastore, {.warehouse_root = mesh.warehouse()}), "catalog");
    LoadPostgres(
        fmt::format("host=127.0.0.1 port={} dbname=postgres user=meshwork", postgres->port()),
        *catalog, {"root", true, "bench"}, scratch.path().string());
  }
  bench::MeshworkServer meshwork(MESHWORK_BINARY, mesh.data_dir());

  const Server servers[] = {
      {"PostgreSQL 15",
       fmt::format("host=127.0.0.1 port={} dbname=postgres user=meshwork sslmode=disable "
                   "options='-c TimeZone=UTC'",
                   postgres->port()),
       [](PGconn* c) { return static_cast<pid_t>(PQbackendPID(c)); }},
      {"meshwork",
       fmt::format("host=127.0.0.1 port={} dbname=mesh user={} password={} sslmode=disable",
                   meshwork.port(), bench::kRootId, bench::kRootSecret),
       [pid = meshwork.pid()](PGconn*) { return pid; }},
  };
  const Server& pg = servers[0];
  const Server& ours = servers[1];

  // (b) streaming
  const std::string stream_sql = "SELECT * FROM logistics.shipments";
  std::printf(
      "\n(b) %s to one client, median of %d runs (servers interleaved, after one "
      "warm-up each)\n",
      stream_sql.c_str(), runs);
  bool all_equal = true;
  for (const Server* server : {&pg, &ours})
    (void)StreamOnce(*server, stream_sql, "lean-text");  // warm-up: page cache, plans, files
  for (const char* client : {"lean-text", "lean-binary", "libpq"}) {
    std::map<std::string, std::vector<Streamed>> results;
    for (int run = 0; run < runs; ++run) {
      for (const Server* server : {&pg, &ours})
        results[server->label].push_back(StreamOnce(*server, stream_sql, client));
    }
    const auto median = [&](const Server& server, double Streamed::*field) {
      std::vector<double> values;
      for (const auto& r : results[server.label])
        values.push_back(r.*field);
      return Median(values);
    };
    const Digest& theirs = results[pg.label].back().digest;
    const Digest& mine = results[ours.label].back().digest;
    const bool equal = theirs == mine;
    all_equal = all_equal && equal;
    const char* label = std::string_view(client) == "libpq"         ? "libpq single-row mode, text"
                        : std::string_view(client) == "lean-binary" ? "lean client, binary"
                                                                    : "lean client, text";
    std::printf("%s: %llu rows, %.0f MB of values; rows %s\n", label,
                static_cast<unsigned long long>(mine.rows), mine.bytes / 1e6,
                equal ? "equal" : "DIFFERENT (no ratio)");
    for (const Server* server : {&pg, &ours}) {
      const double seconds = median(*server, &Streamed::seconds);
      std::printf("  %-13s %6.2f s  %5.2f M rows/s  server CPU %.2f s, client CPU %.2f s\n",
                  server->label.c_str(), seconds,
                  results[server->label].back().digest.rows / seconds / 1e6,
                  median(*server, &Streamed::server_cpu), median(*server, &Streamed::client_cpu));
    }
    if (!equal) {
      std::printf("  PostgreSQL: %llu rows, %llu bytes; meshwork: %llu rows, %llu bytes\n",
                  static_cast<unsigned long long>(theirs.rows),
                  static_cast<unsigned long long>(theirs.bytes),
                  static_cast<unsigned long long>(mine.rows),
                  static_cast<unsigned long long>(mine.bytes));
      continue;
    }
    const double ratio = median(pg, &Streamed::seconds) / median(ours, &Streamed::seconds);
    bench::PrintRatio("  ratio PostgreSQL / meshwork", ratio, ">= 1.0x", ratio >= 1.0);
  }

  // Where the time goes, by column type: the same rows, one group of columns at a time (one
  // run each, lean client, text and binary).
  struct ColumnGroup {
    const char* label;
    const char* columns;
  };
  const ColumnGroup groups[] = {
      {"bigint x2", "shipment_id, order_id"},
      {"text x6",
       "tracking_number, carrier, service_level, status, origin_warehouse, destination_country"},
      {"uuid x1", "customer_id"},
      {"numeric x2", "weight_kg, shipping_cost"},
      {"timestamptz x3", "shipped_at, promised_at, delivered_at"},
  };
  std::printf(
      "by column type (the same rows, one run, lean client): PostgreSQL s (server CPU s) / "
      "meshwork s (server CPU s) ratio\n");
  for (const char* client : {"lean-text", "lean-binary"}) {
    for (const ColumnGroup& group : groups) {
      const std::string sql = fmt::format("SELECT {} FROM logistics.shipments", group.columns);
      const Streamed theirs = StreamOnce(pg, sql, client);
      const Streamed mine = StreamOnce(ours, sql, client);
      const bool equal = theirs.digest == mine.digest;
      all_equal = all_equal && equal;
      std::printf("  %-6s %-15s %6.2f s (%5.2f) / %6.2f s (%5.2f)  %.2fx%s\n", client + 5,
                  group.label, theirs.seconds, theirs.server_cpu, mine.seconds, mine.server_cpu,
                  theirs.seconds / mine.seconds, equal ? "" : "  rows DIFFERENT");
    }
  }

  // (c) point queries
  constexpr int kQueries = 200;
  constexpr int kWarmup = 20;
  std::printf(
      "\n(c) point query by primary key, %d queries after %d warm-ups, one connection "
      "each server\n",
      kQueries, kWarmup);
  std::vector<std::string> shipment_ids, customer_ids;
  uint64_t shipments = 0;
  {
    PGconn* connection = Connect(pg.conninfo);
    shipments = std::stoull(Rows(connection, "SELECT count(*) FROM logistics.shipments")[0][0]);
    // shipment_id runs from 1 to the row count (examples/logistics/shipments/transform.sql).
    for (int i = 0; i < kQueries + kWarmup; ++i)
      shipment_ids.push_back(std::to_string(1 + Mix(i + 1) % shipments));
    for (const auto& row : Rows(connection, fmt::format("SELECT customer_id FROM "
                                                        "customers.customers ORDER BY "
                                                        "md5(customer_id::text) LIMIT {}",
                                                        kQueries + kWarmup)))
      customer_ids.push_back(row[0]);
    PQfinish(connection);
  }
  struct PointCase {
    std::string label;
    const char* literal_sql;  // {} is the key
    const char* parameter_sql;
    const std::vector<std::string>* keys;
  };
  const PointCase cases[] = {
      {fmt::format("logistics.shipments ({} rows) by shipment_id", shipments),
       "SELECT * FROM logistics.shipments WHERE shipment_id = {}",
       "SELECT * FROM logistics.shipments WHERE shipment_id = $1", &shipment_ids},
      {"customers.customers by customer_id",
       "SELECT * FROM customers.customers WHERE customer_id = '{}'",
       "SELECT * FROM customers.customers WHERE customer_id = $1", &customer_ids},
  };
  for (const PointCase& point : cases) {
    for (const bool extended : {false, true}) {
      std::map<std::string, std::vector<double>> latencies;
      std::map<std::string, std::vector<std::vector<std::string>>> answers;
      std::map<std::string, PGconn*> connections;
      for (const Server* server : {&pg, &ours})
        connections[server->label] = Connect(server->conninfo);
      for (int i = 0; i < kQueries + kWarmup; ++i) {
        const std::string& key = (*point.keys)[i];
        for (const Server* server : {&pg, &ours}) {
          const auto start = Clock::now();
          auto rows = extended ? Rows(connections[server->label], point.parameter_sql, {key}, true)
                               : Rows(connections[server->label],
                                      fmt::format(fmt::runtime(point.literal_sql), key));
          const double seconds = Seconds(start);
          if (i < kWarmup) continue;
          latencies[server->label].push_back(seconds);
          for (auto& row : rows)
            answers[server->label].push_back(std::move(row));
        }
      }
      for (auto& [label, connection] : connections)
        PQfinish(connection);
      const bool equal = answers[pg.label] == answers[ours.label];
      all_equal = all_equal && equal;
      std::printf("%s, %s: %zu rows %s\n", point.label.c_str(),
                  extended ? "$1 parameter (extended protocol)" : "literal (simple protocol)",
                  answers[ours.label].size(), equal ? "equal" : "DIFFERENT (no ratio)");
      for (const Server* server : {&pg, &ours}) {
        const auto& values = latencies[server->label];
        std::printf("  %-13s p50 %7.2f ms  p90 %7.2f ms  p99 %7.2f ms\n", server->label.c_str(),
                    Percentile(values, 0.5) * 1e3, Percentile(values, 0.9) * 1e3,
                    Percentile(values, 0.99) * 1e3);
      }
      if (equal) {
        std::printf("  ratio PostgreSQL / meshwork at p50: %.3fx (no target: reported)\n",
                    Percentile(latencies[pg.label], 0.5) / Percentile(latencies[ours.label], 0.5));
      }
    }
  }
  return all_equal ? 0 : 1;
}
