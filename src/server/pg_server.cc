#include "server/pg_server.h"

#include <fmt/format.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <atomic>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "catalog/scram.h"
#include "common/logging.h"
#include "common/text.h"
#include "common/time.h"
#include "server/pg_protocol.h"
#include "server/pg_values.h"

namespace meshwork::server {
namespace {

using asio::ip::tcp;
namespace pg = server::pg;

// Output is sent in pieces of about this size; a result never sits in memory whole.
constexpr size_t kFlushBytes = 256 * 1024;

// The SQLSTATE a failure is reported with.
std::string SqlState(const Status& status) {
  if (!status.sqlstate().empty()) return status.sqlstate();
  switch (status.code()) {
    case StatusCode::kPermissionDenied:
      return "42501";
    case StatusCode::kNotFound:
      return "42P01";
    case StatusCode::kUnauthenticated:
      return "28P01";
    case StatusCode::kCancelled:
      return "57014";
    case StatusCode::kUnavailable:
      return "53300";
    case StatusCode::kNotImplemented:
      return "0A000";
    case StatusCode::kIOError:
      return "58030";
    case StatusCode::kInternal:
      return "XX000";
    case StatusCode::kConflict:
      return "40001";
    case StatusCode::kInvalidArgument: {
      const std::string& message = status.message();
      if (message.find("not allowed") != std::string::npos ||
          message.find("refused") != std::string::npos ||
          message.find("cannot be changed") != std::string::npos ||
          message.find("is not the mesh") != std::string::npos) {
        return "42501";
      }
      if (message.find("syntax") != std::string::npos) return "42601";
      return "42000";
    }
    default:
      return "XX000";
  }
}

// The 1-based character position of a status's line:column in `sql`, for the 'P' field.
int PositionIn(const Status& status, std::string_view sql) {
  const SourceLocation* where = status.location();
  if (where == nullptr || where->line <= 0) return 0;
  int line = 1, characters = 0;
  size_t i = 0;
  for (; i < sql.size() && line < where->line; ++i) {
    if ((static_cast<unsigned char>(sql[i]) & 0xc0) != 0x80) ++characters;
    if (sql[i] == '\n') ++line;
  }
  return characters + std::max(where->column, 1);
}

// The first keyword of a statement, lower-cased.
std::string FirstWord(std::string_view sql) {
  size_t i = 0;
  while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i])))
    ++i;
  size_t j = i;
  while (j < sql.size() && std::isalpha(static_cast<unsigned char>(sql[j])))
    ++j;
  return text::ToLower(std::string(sql.substr(i, j - i)));
}

bool IsBlank(std::string_view sql) {
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c)) || c == ';') continue;
    if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      while (i < sql.size() && sql[i] != '\n')
        ++i;
      continue;
    }
    return false;
  }
  return true;
}

// `status` with `sqlstate` unless it already carries a more precise one (the decoders say 22021
// for text that is not UTF-8).
Status WithDefaultSqlState(Status status, std::string sqlstate) {
  if (!status.sqlstate().empty()) return status;
  return std::move(status).WithSqlState(std::move(sqlstate));
}

// A message the decoder refused: protocol_violation by default.
Status Malformed(Status status) {
  return WithDefaultSqlState(std::move(status), "08P01");
}

// Transaction control: every query reads its own consistent snapshots and nothing writes, so
// BEGIN/COMMIT/ROLLBACK only change what ReadyForQuery reports. Returns the command tag.
std::optional<std::string> TransactionCommand(std::string_view sql) {
  const std::string word = FirstWord(sql);
  std::string rest = text::ToLower(std::string(sql));
  if (rest.find(';') != std::string::npos &&
      !IsBlank(std::string_view(rest).substr(rest.find(';')))) {
    return std::nullopt;  // more than one statement: the firewall says no
  }
  if (word == "begin" || word == "start") return std::string("BEGIN");
  if (word == "commit" || word == "end") return std::string("COMMIT");
  if (word == "rollback" || word == "abort") return std::string("ROLLBACK");
  return std::nullopt;
}

// A socket, or TLS over it, with timeouts on every read and write.
class Transport {
 public:
  explicit Transport(tcp::socket socket) : socket_(std::move(socket)) {}
  int fd() { return socket_.native_handle(); }

  Status StartTls(asio::ssl::context& context) {
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, context);
    asio::error_code error;
    tls_->handshake(asio::ssl::stream_base::server, error);
    if (error) return Status::Unauthenticated("TLS handshake failed: {}", error.message());
    return Status::OK();
  }
  bool tls() const { return tls_ != nullptr; }

  /// Waits up to `timeout_ms` (-1: forever, checking `stopping`) for bytes; 0 bytes = closed.
  Result<size_t> Read(char* data, size_t size, int timeout_ms, const std::atomic<bool>& stopping) {
    const int64_t deadline = timeout_ms < 0 ? -1 : time::NowMillis() + timeout_ms;
    while (true) {
      asio::error_code error;
      size_t count = 0;
      if (tls_) {
        // TLS may already hold the client's bytes (read ahead with the handshake, or a record
        // decrypted in part) where poll() cannot see them: try the read first, without
        // blocking, and wait on the socket only when TLS itself has nothing.
        socket_.non_blocking(true, error);
        count = tls_->read_some(asio::buffer(data, size), error);
        asio::error_code ignored;
        socket_.non_blocking(false, ignored);
        if (!error) return count;
        if (error != asio::error::would_block && error != asio::error::try_again) {
          if (error == asio::error::eof || error == asio::ssl::error::stream_truncated) {
            return size_t{0};
          }
          return Status::IOError("read failed: {}", error.message());
        }
      }
      if (stopping) return Status::Cancelled("the server is shutting down");
      pollfd descriptor{fd(), POLLIN, 0};
      const int ready = ::poll(&descriptor, 1, 200);
      if (ready < 0 && errno != EINTR) return Status::IOError("poll failed");
      if (ready > 0 && !tls_) {
        count = socket_.read_some(asio::buffer(data, size), error);
        if (error == asio::error::eof) return size_t{0};
        if (error) return Status::IOError("read failed: {}", error.message());
        return count;
      }
      if (ready <= 0 && deadline >= 0 && time::NowMillis() >= deadline) {
        return Status::Unavailable("timed out waiting for the client");
      }
    }
  }

  Status Write(std::string_view bytes, int timeout_ms) {
    if (tls_) {
      asio::error_code error;
      asio::write(*tls_, asio::buffer(bytes.data(), bytes.size()), error);
      if (error) return Status::IOError("write failed: {}", error.message());
      return Status::OK();
    }
    size_t sent = 0;
    int64_t last_progress = time::NowMillis();
    while (sent < bytes.size()) {
      const ssize_t count =
          ::send(fd(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (count > 0) {
        sent += static_cast<size_t>(count);
        last_progress = time::NowMillis();
        continue;
      }
      if (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        return Status::IOError("the client went away: {}", std::strerror(errno));
      }
      // Backpressure: wait until the client takes more.
      pollfd descriptor{fd(), POLLOUT, 0};
      ::poll(&descriptor, 1, 200);
      if (time::NowMillis() - last_progress > timeout_ms) {
        return Status::Unavailable("the client took no data for {} ms", timeout_ms);
      }
    }
    return Status::OK();
  }

  void Close() {
    asio::error_code ignored;
    if (tls_) tls_->shutdown(ignored);
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  tcp::socket socket_;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
};

struct PreparedStatementEntry {
  std::string sql;
  std::vector<int32_t> parameter_types;  // as Parse gave them; 0 = unspecified
};

struct Portal {
  std::string sql;
  std::vector<int32_t> parameter_types;
  std::vector<std::optional<std::string>> parameters;
  std::vector<int16_t> result_formats;
  std::optional<query::Cursor> cursor;
  uint64_t cursor_generation = 0;
  // A chunk partly sent when Execute's row limit was reached.
  engine::DataChunk pending;
  uint64_t pending_row = 0;
  uint64_t rows_sent = 0;
  bool finished = false;
  std::string command;
};

class ConnectionClosed {};

}  // namespace

struct PgServer::Impl {
  PgServerOptions options;
  catalog::Catalog& catalog;
  query::QueryService& queries;
  asio::io_context io;
  std::optional<tcp::acceptor> acceptor;
  std::unique_ptr<asio::ssl::context> tls;
  std::atomic<bool> stopping{false};
  int port = 0;

  std::mutex mutex;
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::list<Worker> threads;
  int connections = 0;
  std::atomic<int32_t> next_process_id{1000};
  // The authenticated connections by process id: for CancelRequest, and to cancel what a
  // client that went away left running.
  struct SessionEntry {
    int32_t secret = 0;
    query::Session* session = nullptr;
    int fd = -1;
    bool running = false;  // a statement runs or streams its rows now
    bool hung_up = false;  // the client closed or reset the connection while one ran
  };
  std::map<int32_t, SessionEntry> sessions;

  Impl(PgServerOptions o, catalog::Catalog& c, query::QueryService& q)
      : options(std::move(o)), catalog(c), queries(q) {}

  void Cancel(int32_t process_id, int32_t secret) {
    std::lock_guard<std::mutex> lock(mutex);
    auto found = sessions.find(process_id);
    // A wrong secret is ignored silently, as PostgreSQL does.
    if (found != sessions.end() && found->second.secret == secret) found->second.session->Cancel();
  }

  // A statement whose client is gone would run to its end for nobody, holding the principal's
  // query slot and the cores (a connection thread inside DuckDB only sees the hang-up when it
  // next writes). So the accept loop also polls the sockets of connections running a statement
  // for a hang-up (POLLRDHUP: the peer closed or reset) and cancels their statements.
  // Appends those sockets to `descriptors`; returns their process ids in the same order.
  std::vector<int32_t> WatchRunning(std::vector<pollfd>& descriptors) {
    std::lock_guard<std::mutex> lock(mutex);
    std::vector<int32_t> owners;
    for (const auto& [id, entry] : sessions) {
      if (!entry.running || entry.hung_up) continue;
      descriptors.push_back({entry.fd, POLLRDHUP, 0});
      owners.push_back(id);
    }
    return owners;
  }

  // `descriptors` after poll: [listener, the sockets of `owners`...].
  void CancelAbandoned(const std::vector<pollfd>& descriptors, const std::vector<int32_t>& owners) {
    std::lock_guard<std::mutex> lock(mutex);
    for (size_t i = 0; i < owners.size(); ++i) {
      const pollfd& polled = descriptors[i + 1];
      if ((polled.revents & (POLLRDHUP | POLLHUP | POLLERR)) == 0) continue;
      auto found = sessions.find(owners[i]);
      if (found != sessions.end() && found->second.fd == polled.fd) found->second.hung_up = true;
    }
    // Each round until the statement ends: an interrupt that came before DuckDB started it
    // would be lost.
    for (auto& [id, entry] : sessions)
      if (entry.running && entry.hung_up) entry.session->Cancel();
  }
};

namespace {

// While alive, the connection's statement counts as running for PgServer::Impl::WatchRunning.
// A client found gone gets no further statement run.
class RunningStatement {
 public:
  RunningStatement(PgServer::Impl& server, int32_t process_id)
      : server_(server), process_id_(process_id) {
    std::lock_guard<std::mutex> lock(server_.mutex);
    PgServer::Impl::SessionEntry& entry = server_.sessions.at(process_id_);
    if (entry.hung_up) throw ConnectionClosed();
    entry.running = true;
  }
  ~RunningStatement() {
    std::lock_guard<std::mutex> lock(server_.mutex);
    auto found = server_.sessions.find(process_id_);
    if (found != server_.sessions.end()) found->second.running = false;
  }
  RunningStatement(const RunningStatement&) = delete;
  RunningStatement& operator=(const RunningStatement&) = delete;

 private:
  PgServer::Impl& server_;
  int32_t process_id_;
};

// One client connection: startup, authentication, then statements until it leaves.
class Connection {
 public:
  Connection(PgServer::Impl& server, tcp::socket socket, bool over_limit)
      : server_(server), transport_(std::move(socket)), over_limit_(over_limit) {}

  void Run() {
    try {
      if (Startup()) Loop();
    } catch (const ConnectionClosed&) {
    }
    if (process_id_ != 0) {
      std::lock_guard<std::mutex> lock(server_.mutex);
      server_.sessions.erase(process_id_);
    }
    portals_.clear();
    session_.reset();
    transport_.Close();
  }

 private:
  // ---- I/O ----
  void Flush() {
    if (out_.size() == 0) return;
    Status written = transport_.Write(out_.buffer(), server_.options.write_timeout_seconds * 1000);
    out_.Clear();
    if (!written.ok()) throw ConnectionClosed();
  }

  // Reads at least `count` bytes into `in_` (startup: raw, untyped).
  void Fill(size_t count, int timeout_ms) {
    char buffer[65536];
    while (raw_.size() < count) {
      auto read = transport_.Read(buffer, sizeof(buffer), timeout_ms, server_.stopping);
      if (!read.ok() || *read == 0) throw ConnectionClosed();
      raw_.append(buffer, *read);
    }
  }

  int AuthenticationTimeoutMs() const {
    return server_.options.authentication_timeout_seconds * 1000;
  }

  // The next typed message; during startup and authentication with the authentication timeout.
  pg::Message NextMessage(bool authenticating) {
    char buffer[65536];
    while (true) {
      auto next = reader_.Next();
      if (!next.ok()) {
        Fatal("08P01", next.error().message());
        throw ConnectionClosed();
      }
      if (*next) return std::move(**next);
      const int timeout = authenticating ? AuthenticationTimeoutMs()
                          : server_.options.idle_timeout_seconds > 0
                              ? server_.options.idle_timeout_seconds * 1000
                              : -1;
      auto read = transport_.Read(buffer, sizeof(buffer), timeout, server_.stopping);
      if (!read.ok()) {
        if (read.error().code() == StatusCode::kUnavailable) {
          Fatal(authenticating ? "08006" : "57P05",
                authenticating ? "authentication timed out"
                               : "terminating connection due to idle-session timeout");
        } else if (server_.stopping) {
          Fatal("57P01", "terminating connection due to administrator command");
        }
        throw ConnectionClosed();
      }
      if (*read == 0) throw ConnectionClosed();
      reader_.Feed(std::string_view(buffer, *read));
    }
  }

  void Fatal(std::string_view sqlstate, std::string_view message, std::string_view hint = {}) {
    out_.Error("FATAL", sqlstate, message, {}, hint);
    try {
      Flush();
    } catch (const ConnectionClosed&) {
    }
  }

  void SendError(const Status& status, std::string_view sql = {}) {
    std::string detail;
    if (!status.resource().empty()) detail = "resource: " + status.resource();
    std::string message = status.message();
    for (const auto& context : status.context())
      message = context + ": " + message;
    out_.Error("ERROR", SqlState(status), message, detail, status.hint(),
               sql.empty() ? 0 : PositionIn(status, sql));
  }

  // ---- Startup and authentication ----
  bool Startup() {
    pg::StartupMessage startup;
    for (int attempt = 0;; ++attempt) {
      Fill(4, AuthenticationTimeoutMs());
      const auto length = static_cast<uint32_t>((static_cast<unsigned char>(raw_[0]) << 24) |
                                                (static_cast<unsigned char>(raw_[1]) << 16) |
                                                (static_cast<unsigned char>(raw_[2]) << 8) |
                                                static_cast<unsigned char>(raw_[3]));
      if (length < 8 || length > pg::kMaxStartupBytes) {
        Fatal("08P01", fmt::format("invalid startup packet length {}", length));
        return false;
      }
      Fill(length, AuthenticationTimeoutMs());
      auto decoded = pg::DecodeStartup(std::string_view(raw_).substr(4, length - 4));
      raw_.erase(0, length);
      if (!decoded.ok()) {
        Fatal(decoded.error().code() == StatusCode::kNotImplemented ? "0A000" : "08P01",
              decoded.error().message());
        return false;
      }
      startup = std::move(*decoded);
      using Kind = pg::StartupMessage::Kind;
      if (startup.kind == Kind::kCancel) {
        server_.Cancel(startup.cancel_process_id, startup.cancel_secret);
        return false;
      }
      if (attempt > 2) {
        Fatal("08P01", "too many SSL/GSS negotiation requests");
        return false;
      }
      if (startup.kind == Kind::kGssEncRequest) {
        out_.Byte('N');
        Flush();
        continue;
      }
      if (startup.kind == Kind::kSslRequest) {
        if (transport_.tls() || server_.tls == nullptr || !raw_.empty()) {
          out_.Byte('N');  // no TLS configured: the client decides whether plain text will do
          Flush();
          continue;
        }
        out_.Byte('S');
        Flush();
        if (!transport_.StartTls(*server_.tls).ok()) return false;
        continue;
      }
      break;
    }
    if (!raw_.empty()) reader_.Feed(raw_), raw_.clear();
    if (over_limit_) {
      Fatal("53300", "sorry, too many clients already",
            "close idle connections or raise the server's connection limit");
      return false;
    }
    const std::string user = startup.parameters.contains("user") ? startup.parameters["user"] : "";
    if (user.empty()) {
      Fatal("28000", "no user name given", "connect with user = a client id");
      return false;
    }
    std::string database =
        startup.parameters.contains("database") ? startup.parameters["database"] : user;
    if (database.empty()) database = user;
    const std::string& mesh = server_.queries.options().mesh_name;
    if (database != mesh) {
      Fatal("3D000", fmt::format("database \"{}\" does not exist", database),
            fmt::format("connect to database \"{}\", the mesh", mesh));
      return false;
    }
    if (!Authenticate(user)) return false;
    auto session = server_.queries.OpenSession(caller_);
    if (!session.ok()) {
      Fatal("53000", session.error().message());
      return false;
    }
    session_ = std::move(*session);
    if (startup.parameters.contains("application_name")) {
      (void)session_->Execute("SET application_name = " +
                              iceberg_quote(startup.parameters["application_name"]));
    }
    RAND_bytes(reinterpret_cast<unsigned char*>(&secret_), sizeof(secret_));
    process_id_ = server_.next_process_id++;
    {
      std::lock_guard<std::mutex> lock(server_.mutex);
      server_.sessions[process_id_] = {
          .secret = secret_, .session = session_.get(), .fd = transport_.fd()};
    }
    for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
             {"server_version", "15.0 (meshwork)"},
             {"server_encoding", "UTF8"},
             {"client_encoding", "UTF8"},
             {"DateStyle", "ISO, MDY"},
             {"TimeZone", "UTC"},
             {"IntervalStyle", "postgres"},
             {"integer_datetimes", "on"},
             {"standard_conforming_strings", "on"},
             {"is_superuser", caller_.is_root ? "on" : "off"},
             {"session_authorization", user},
             {"application_name", session_->settings().at("application_name")}}) {
      out_.ParameterStatus(name, value);
    }
    out_.BackendKeyData(process_id_, secret_);
    out_.ReadyForQuery('I');
    Flush();
    return true;
  }

  static std::string iceberg_quote(std::string_view value) {
    std::string quoted = "'";
    for (const char c : value)
      quoted += c == '\'' ? std::string("''") : std::string(1, c);
    return quoted + "'";
  }

  bool Authenticate(const std::string& user) {
    auto login = server_.catalog.BeginScramLogin(user);
    if (!login.ok()) {
      Fatal("58000", login.error().message());
      return false;
    }
    catalog::ScramServerExchange exchange(login->verifier);
    out_.AuthenticationSasl("SCRAM-SHA-256");
    Flush();
    const auto failed = [&] {
      Fatal("28P01", fmt::format("password authentication failed for user \"{}\"", user),
            "the user is a client id and the password its secret");
      return false;
    };
    pg::Message initial = NextMessage(true);
    if (initial.type != 'p') return failed();
    pg::FieldReader reader(initial.body, 'p');
    auto mechanism = reader.CString();
    auto length = reader.Int32();
    if (!mechanism.ok() || !length.ok() || *mechanism != "SCRAM-SHA-256" || *length < 0) {
      return failed();
    }
    auto first = reader.Bytes(static_cast<size_t>(*length));
    if (!first.ok()) return failed();
    auto server_first = exchange.Start(*first);
    if (!server_first.ok()) return failed();
    out_.AuthenticationSaslContinue(*server_first);
    Flush();
    pg::Message response = NextMessage(true);
    if (response.type != 'p') return failed();
    auto server_final = exchange.Finish(response.body);
    if (!server_final.ok()) return failed();
    auto caller =
        server_.catalog.CallerAfterScram(*login, "pg-" + std::to_string(time::NowMillis()));
    if (!caller.ok()) return failed();
    caller_ = std::move(*caller);
    caller_.channel = "pg";
    out_.AuthenticationSaslFinal(*server_final);
    out_.AuthenticationOk();
    return true;
  }

  // ---- Statements ----
  char TransactionStatus() const {
    return failed_transaction_ ? 'E' : (in_transaction_ ? 'T' : 'I');
  }

  void Loop() {
    while (true) {
      pg::Message message = NextMessage(false);
      if (skip_until_sync_ && message.type != 'S' && message.type != 'X') continue;
      switch (message.type) {
        case 'Q':
          SimpleQuery(message.body);
          break;
        case 'P':
          ParseMessage(message.body);
          break;
        case 'B':
          BindMessage(message.body);
          break;
        case 'D':
          DescribeMessage(message.body);
          break;
        case 'E':
          ExecuteMessage(message.body);
          break;
        case 'C':
          CloseMessage(message.body);
          break;
        case 'H':
          Flush();
          break;
        case 'S':
          skip_until_sync_ = false;
          portals_.erase("");
          out_.ReadyForQuery(TransactionStatus());
          Flush();
          break;
        case 'X':
          return;
        case 'p':
          ExtendedError(Status::InvalidArgument("unexpected password message"));
          break;
        default:
          Fatal("08P01", fmt::format("invalid frontend message type {}",
                                     static_cast<int>(static_cast<unsigned char>(message.type))));
          return;
      }
      if (out_.size() >= kFlushBytes) Flush();
    }
  }

  void ExtendedError(const Status& status, std::string_view sql = {}) {
    SendError(status, sql);
    skip_until_sync_ = true;
    if (in_transaction_) failed_transaction_ = true;
  }

  bool HandleTransaction(std::string_view sql) {
    auto command = TransactionCommand(sql);
    if (!command) return false;
    if (*command == "BEGIN") {
      in_transaction_ = true;
    } else {
      in_transaction_ = failed_transaction_ = false;
    }
    out_.CommandComplete(*command);
    return true;
  }

  std::string CommandTag(const query::Cursor& cursor, uint64_t rows) const {
    if (cursor.command() == "SELECT") return fmt::format("SELECT {}", rows);
    return cursor.command();
  }

  void RowDescription(const std::vector<query::ResultColumn>& columns,
                      const std::vector<int16_t>& formats) {
    out_.Begin('T').Int16(static_cast<int16_t>(columns.size()));
    for (size_t i = 0; i < columns.size(); ++i) {
      const int32_t oid = pg::TypeOid(columns[i].type);
      out_.CString(columns[i].name).Int32(0).Int16(0).Int32(oid).Int16(pg::TypeSize(oid));
      out_.Int32(pg::TypeModifier(columns[i].type)).Int16(FormatOf(formats, i));
    }
    out_.End();
  }

  static int16_t FormatOf(const std::vector<int16_t>& formats, size_t column) {
    if (formats.empty()) return 0;
    return formats.size() == 1 ? formats[0] : (column < formats.size() ? formats[column] : 0);
  }

  Status CheckFormats(const std::vector<query::ResultColumn>& columns,
                      const std::vector<int16_t>& formats) {
    if (formats.size() > 1 && formats.size() != columns.size()) {
      return Status::InvalidArgument("Bind has {} result formats for {} columns", formats.size(),
                                     columns.size())
          .WithSqlState("08P01");
    }
    for (size_t i = 0; i < columns.size(); ++i) {
      if (FormatOf(formats, i) == 1 && !pg::HasBinaryFormat(columns[i].type)) {
        return Status::NotImplemented("binary format for column \"{}\" of type {} is not supported",
                                      columns[i].name, columns[i].type.ToString())
            .WithHint("request text format for it");
      }
    }
    return Status::OK();
  }

  // Sends up to `limit` rows (0: all); true when the result is exhausted.
  Result<bool> SendRows(query::Cursor& cursor, engine::DataChunk& pending, uint64_t& pending_row,
                        const std::vector<int16_t>& formats, uint64_t limit, uint64_t& sent) {
    const size_t columns = cursor.columns().size();
    uint64_t sent_now = 0;
    while (true) {
      if (!pending || pending_row >= pending.size()) {
        MW_ASSIGN_OR_RETURN(pending, cursor.Fetch());
        pending_row = 0;
        if (!pending) return true;
        continue;
      }
      for (; pending_row < pending.size(); ++pending_row) {
        if (limit > 0 && sent_now >= limit) return false;
        const size_t row_start = out_.size();
        out_.Begin('D').Int16(static_cast<int16_t>(columns));
        std::string& buffer = out_.buffer();
        for (size_t c = 0; c < columns; ++c) {
          const engine::Vector& vector = pending.column(c);
          if (vector.IsNull(pending_row)) {
            out_.Int32(-1);
            continue;
          }
          const size_t length_at = buffer.size();
          out_.Int32(0);
          Status appended = FormatOf(formats, c) == 1
                                ? pg::AppendBinary(vector, pending_row, buffer)
                                : pg::AppendText(vector, pending_row, buffer);
          if (!appended.ok()) {
            // Drop the half-written row before reporting (from its start: searching back for a
            // 'D' could stop inside one of its values).
            buffer.resize(row_start);
            return appended;
          }
          const auto length = static_cast<uint32_t>(buffer.size() - length_at - 4);
          buffer[length_at] = static_cast<char>(length >> 24);
          buffer[length_at + 1] = static_cast<char>(length >> 16);
          buffer[length_at + 2] = static_cast<char>(length >> 8);
          buffer[length_at + 3] = static_cast<char>(length);
        }
        out_.End();
        ++sent_now;
        ++sent;
        if (out_.size() >= kFlushBytes) Flush();
      }
    }
  }

  void SimpleQuery(std::string_view body) {
    auto decoded = pg::DecodeQuery(body);
    if (!decoded.ok()) {
      SendError(Malformed(std::move(decoded).error()));
      out_.ReadyForQuery(TransactionStatus());
      Flush();
      return;
    }
    const std::string& sql = *decoded;
    if (IsBlank(sql)) {
      out_.EmptyQueryResponse();
    } else if (failed_transaction_ && !TransactionCommand(sql)) {
      out_.Error("ERROR", "25P02",
                 "current transaction is aborted, commands ignored until end of transaction "
                 "block");
    } else if (!HandleTransaction(sql)) {
      RunSimple(sql);
    }
    out_.ReadyForQuery(TransactionStatus());
    Flush();
  }

  void RunSimple(const std::string& sql) {
    RunningStatement running(server_, process_id_);
    ++cursor_generation_;
    auto cursor = session_->Execute(sql);
    if (!cursor.ok()) {
      SendError(cursor.error(), sql);
      if (in_transaction_) failed_transaction_ = true;
      return;
    }
    if (cursor->returns_rows()) RowDescription(cursor->columns(), {});
    engine::DataChunk pending;
    uint64_t row = 0, sent = 0;
    auto done = SendRows(*cursor, pending, row, {}, 0, sent);
    if (!done.ok()) {
      SendError(done.error(), sql);
      if (in_transaction_) failed_transaction_ = true;
      return;
    }
    out_.CommandComplete(CommandTag(*cursor, sent));
  }

  void ParseMessage(std::string_view body) {
    auto parsed = pg::DecodeParse(body);
    if (!parsed.ok()) return ExtendedError(Malformed(std::move(parsed).error()));
    if (!parsed->statement.empty() && statements_.contains(parsed->statement)) {
      return ExtendedError(
          Status::AlreadyExists("prepared statement \"{}\" already exists", parsed->statement)
              .WithSqlState("42P05"));
    }
    if (statements_.size() > 1000) {
      return ExtendedError(Status::Unavailable("too many prepared statements (1000)")
                               .WithHint("Close statements you no longer need"));
    }
    statements_[parsed->statement] = {parsed->query, parsed->parameter_types};
    out_.ParseComplete();
  }

  void BindMessage(std::string_view body) {
    auto bind = pg::DecodeBind(body);
    if (!bind.ok()) return ExtendedError(Malformed(std::move(bind).error()));
    auto statement = statements_.find(bind->statement);
    if (statement == statements_.end()) {
      return ExtendedError(
          Status::NotFound("prepared statement \"{}\" does not exist", bind->statement)
              .WithSqlState("26000"));
    }
    if (!bind->portal.empty() && portals_.contains(bind->portal)) {
      return ExtendedError(Status::AlreadyExists("portal \"{}\" already exists", bind->portal)
                               .WithSqlState("42P03"));
    }
    Portal portal;
    portal.sql = statement->second.sql;
    portal.parameter_types = statement->second.parameter_types;
    portal.result_formats = bind->result_formats;
    for (size_t i = 0; i < bind->parameters.size(); ++i) {
      auto& value = bind->parameters[i];
      const int16_t format = FormatOf(bind->parameter_formats, i);
      if (value && format == 1) {
        const int32_t oid = i < portal.parameter_types.size() ? portal.parameter_types[i] : 0;
        auto text = pg::BinaryParameterAsText(oid, *value);
        if (!text.ok()) {
          return ExtendedError(WithDefaultSqlState(std::move(text).error(), "22P03"));
        }
        value = std::move(*text);
      } else if (value && !pg::ValidUtf8(*value)) {
        return ExtendedError(
            Status::InvalidArgument("invalid byte sequence for encoding \"UTF8\" in parameter ${}",
                                    i + 1)
                .WithSqlState("22021"));
      }
      portal.parameters.push_back(std::move(value));
    }
    portals_[bind->portal] = std::move(portal);
    out_.BindComplete();
  }

  // Runs a portal's statement if it has not run yet.
  Status Start(Portal& portal) {
    if (portal.cursor) {
      if (portal.cursor_generation != cursor_generation_ && !portal.finished) {
        return Status::FailedPrecondition(
                   "portal was closed: another statement ran on this connection since")
            .WithSqlState("55000");
      }
      return Status::OK();
    }
    if (auto command = TransactionCommand(portal.sql)) {
      portal.command = *command;
      portal.finished = true;
      return Status::OK();
    }
    if (IsBlank(portal.sql)) {
      portal.command = "EMPTY";
      portal.finished = true;
      return Status::OK();
    }
    ++cursor_generation_;
    RunningStatement running(server_, process_id_);
    auto cursor = session_->Execute(portal.sql, portal.parameters);
    if (!cursor.ok()) return cursor.error();
    MW_RETURN_IF_ERROR(CheckFormats(cursor->columns(), portal.result_formats));
    portal.cursor = std::move(*cursor);
    portal.cursor_generation = cursor_generation_;
    return Status::OK();
  }

  void DescribeMessage(std::string_view body) {
    auto describe = pg::DecodeDescribe(body, 'D');
    if (!describe.ok()) return ExtendedError(Malformed(std::move(describe).error()));
    if (describe->kind == 'S') {
      auto statement = statements_.find(describe->name);
      if (statement == statements_.end()) {
        return ExtendedError(
            Status::NotFound("prepared statement \"{}\" does not exist", describe->name)
                .WithSqlState("26000"));
      }
      const std::string& sql = statement->second.sql;
      if (TransactionCommand(sql) || IsBlank(sql)) {
        out_.ParameterDescription({});
        out_.NoData();
        return;
      }
      auto description = session_->Describe(sql);
      if (!description.ok()) return ExtendedError(description.error(), sql);
      std::vector<int32_t> types;
      for (size_t i = 0; i < description->parameter_types.size(); ++i) {
        const auto& given = statement->second.parameter_types;
        types.push_back(i < given.size() && given[i] != 0
                            ? given[i]
                            : pg::TypeOid(description->parameter_types[i]));
      }
      out_.ParameterDescription(types);
      if (description->columns.empty()) {
        out_.NoData();
      } else {
        RowDescription(description->columns, {});
      }
      return;
    }
    auto portal = portals_.find(describe->name);
    if (portal == portals_.end()) {
      return ExtendedError(
          Status::NotFound("portal \"{}\" does not exist", describe->name).WithSqlState("34000"));
    }
    Status started = Start(portal->second);
    if (!started.ok()) return ExtendedError(started, portal->second.sql);
    if (portal->second.cursor && portal->second.cursor->returns_rows()) {
      RowDescription(portal->second.cursor->columns(), portal->second.result_formats);
    } else {
      out_.NoData();
    }
  }

  void ExecuteMessage(std::string_view body) {
    auto execute = pg::DecodeExecute(body);
    if (!execute.ok()) return ExtendedError(Malformed(std::move(execute).error()));
    auto found = portals_.find(execute->portal);
    if (found == portals_.end()) {
      return ExtendedError(
          Status::NotFound("portal \"{}\" does not exist", execute->portal).WithSqlState("34000"));
    }
    Portal& portal = found->second;
    if (failed_transaction_) {
      return ExtendedError(Status::FailedPrecondition(
                               "current transaction is aborted, commands ignored until end of "
                               "transaction block")
                               .WithSqlState("25P02"));
    }
    Status started = Start(portal);
    if (!started.ok()) return ExtendedError(started, portal.sql);
    if (!portal.cursor) {  // BEGIN/COMMIT or an empty query
      if (portal.command == "EMPTY") {
        out_.EmptyQueryResponse();
      } else {
        HandleTransaction(portal.sql);
      }
      return;
    }
    if (portal.finished) {
      out_.CommandComplete(CommandTag(*portal.cursor, 0));
      return;
    }
    RunningStatement running(server_, process_id_);
    auto done = SendRows(*portal.cursor, portal.pending, portal.pending_row, portal.result_formats,
                         execute->max_rows > 0 ? static_cast<uint64_t>(execute->max_rows) : 0,
                         portal.rows_sent);
    if (!done.ok()) return ExtendedError(done.error(), portal.sql);
    if (*done) {
      portal.finished = true;
      out_.CommandComplete(CommandTag(*portal.cursor, portal.rows_sent));
    } else {
      out_.PortalSuspended();
    }
  }

  void CloseMessage(std::string_view body) {
    auto close = pg::DecodeDescribe(body, 'C');
    if (!close.ok()) return ExtendedError(Malformed(std::move(close).error()));
    if (close->kind == 'S') {
      statements_.erase(close->name);
    } else {
      portals_.erase(close->name);
    }
    out_.CloseComplete();
  }

  PgServer::Impl& server_;
  Transport transport_;
  bool over_limit_;
  std::string raw_;
  pg::MessageReader reader_;
  pg::MessageWriter out_;
  catalog::Caller caller_;
  std::unique_ptr<query::Session> session_;
  int32_t process_id_ = 0;
  int32_t secret_ = 0;
  bool skip_until_sync_ = false;
  bool in_transaction_ = false;
  bool failed_transaction_ = false;
  uint64_t cursor_generation_ = 0;
  std::map<std::string, PreparedStatementEntry> statements_;
  std::map<std::string, Portal> portals_;
};

}  // namespace

PgServer::PgServer(PgServerOptions options, catalog::Catalog& catalog, query::QueryService& queries)
    : impl_(std::make_unique<Impl>(std::move(options), catalog, queries)) {}

PgServer::~PgServer() {
  Stop();
  std::list<Impl::Worker> threads;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    threads.swap(impl_->threads);
  }
  for (auto& worker : threads)
    if (worker.thread.joinable()) worker.thread.join();
}

int PgServer::port() const {
  return impl_->port;
}

Status PgServer::Bind() {
  const PgServerOptions& options = impl_->options;
  if (!options.tls_certificate.empty() || !options.tls_key.empty()) {
    try {
      auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
      context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                           asio::ssl::context::no_tlsv1_1);
      context->use_certificate_chain_file(options.tls_certificate);
      context->use_private_key_file(options.tls_key, asio::ssl::context::pem);
      impl_->tls = std::move(context);
    } catch (const std::exception& error) {
      return Status::InvalidArgument("cannot load the TLS certificate {} / key {}: {}",
                                     options.tls_certificate, options.tls_key, error.what())
          .WithHint("give PEM files readable by the server");
    }
  }
  asio::error_code error;
  const auto address = asio::ip::make_address(options.host, error);
  if (error) {
    return Status::InvalidArgument("--pg address '{}' is not an IP address", options.host)
        .WithHint("use 127.0.0.1:5433, or 0.0.0.0:5433 for every interface");
  }
  tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
  impl_->acceptor.emplace(impl_->io);
  impl_->acceptor->open(endpoint.protocol(), error);
  if (!error) impl_->acceptor->set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) impl_->acceptor->bind(endpoint, error);
  if (!error) impl_->acceptor->listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    return Status::Unavailable("cannot listen for PostgreSQL clients on {}:{}: {}", options.host,
                               options.port, error.message())
        .WithHint(
            "another server (PostgreSQL itself?) may hold the port; choose another with "
            "--pg HOST:PORT");
  }
  impl_->port = impl_->acceptor->local_endpoint().port();
  return Status::OK();
}

Status PgServer::Serve() {
  if (!impl_->acceptor) return Status::FailedPrecondition("PgServer::Serve before Bind");
  Impl& impl = *impl_;
  while (!impl.stopping) {
    std::vector<pollfd> descriptors{{impl.acceptor->native_handle(), POLLIN, 0}};
    const std::vector<int32_t> running = impl.WatchRunning(descriptors);
    const int ready = ::poll(descriptors.data(), descriptors.size(), 200);
    impl.CancelAbandoned(descriptors, running);
    if (ready <= 0 || (descriptors[0].revents & POLLIN) == 0) continue;
    asio::error_code error;
    tcp::socket socket(impl.io);
    impl.acceptor->accept(socket, error);
    if (error) continue;
    socket.set_option(tcp::no_delay(true), error);
    std::lock_guard<std::mutex> lock(impl.mutex);
    // Finished threads are joined here so the list stays short.
    for (auto it = impl.threads.begin(); it != impl.threads.end();) {
      if (*it->done) {
        it->thread.join();
        it = impl.threads.erase(it);
      } else {
        ++it;
      }
    }
    const bool over_limit = impl.connections >= impl.options.max_connections;
    ++impl.connections;
    auto done = std::make_shared<std::atomic<bool>>(false);
    std::thread thread([&impl, over_limit, done, socket = std::move(socket)]() mutable {
      Connection(impl, std::move(socket), over_limit).Run();
      std::lock_guard<std::mutex> lock(impl.mutex);
      --impl.connections;
      *done = true;
    });
    impl.threads.push_back({std::move(thread), std::move(done)});
  }
  std::list<Impl::Worker> threads;
  {
    std::lock_guard<std::mutex> lock(impl.mutex);
    threads.swap(impl.threads);
  }
  for (auto& worker : threads)
    if (worker.thread.joinable()) worker.thread.join();
  return Status::OK();
}

void PgServer::Stop() {
  impl_->stopping = true;
  std::lock_guard<std::mutex> lock(impl_->mutex);
  for (auto& [id, entry] : impl_->sessions)
    entry.session->Cancel();
}

}  // namespace meshwork::server
