#pragma once
// The PostgreSQL frontend/backend protocol v3, as bytes: framing, the messages a client sends
// (decoded with every length and count checked against what was received) and the messages
// the server answers (encoded). No sockets here — the decoder is what the fuzz target drives.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace meshwork::server::pg {

/// The largest message accepted from a client: a longer length is refused before anything is
/// allocated for it.
constexpr uint32_t kMaxMessageBytes = 64u << 20;
constexpr uint32_t kMaxStartupBytes = 10000;

constexpr int32_t kProtocolVersion3 = 196608;  // 3.0
constexpr int32_t kSslRequestCode = 80877103;
constexpr int32_t kGssEncRequestCode = 80877104;
constexpr int32_t kCancelRequestCode = 80877102;

/// The first message of a connection (it has no type byte).
struct StartupMessage {
  enum class Kind { kStartup, kSslRequest, kGssEncRequest, kCancel } kind = Kind::kStartup;
  int32_t protocol = 0;
  std::map<std::string, std::string> parameters;  // user, database, application_name, …
  int32_t cancel_process_id = 0;
  int32_t cancel_secret = 0;
};

/// `body` is everything after the 4-byte length.
Result<StartupMessage> DecodeStartup(std::string_view body);

/// A typed message after startup.
struct Message {
  char type = 0;
  std::string body;
};

/// Splits a byte stream into messages. Feed() what arrived; Next() yields complete messages,
/// nullopt when more bytes are needed, an error (and the connection must close) for a length
/// below 4 or above kMaxMessageBytes.
class MessageReader {
 public:
  void Feed(std::string_view bytes) { buffer_.append(bytes); }
  Result<std::optional<Message>> Next();
  size_t buffered() const { return buffer_.size() - offset_; }

 private:
  std::string buffer_;
  size_t offset_ = 0;
};

/// Reads the fields of one message body, failing (protocol_violation-like invalid_argument)
/// when a field runs past the end.
class FieldReader {
 public:
  FieldReader(std::string_view body, char type) : body_(body), type_(type) {}
  Result<int32_t> Int32();
  Result<int16_t> Int16();
  Result<std::string> CString();
  Result<std::string> Bytes(size_t count);
  Result<std::string> Rest();
  bool done() const { return offset_ == body_.size(); }

 private:
  Status Truncated(std::string_view what) const;
  std::string_view body_;
  char type_;
  size_t offset_ = 0;
};

struct ParseMessage {
  std::string statement;
  std::string query;
  std::vector<int32_t> parameter_types;
};
struct BindMessage {
  std::string portal;
  std::string statement;
  std::vector<int16_t> parameter_formats;  // 0 text, 1 binary; none: all text; one: all
  std::vector<std::optional<std::string>> parameters;
  std::vector<int16_t> result_formats;
};
struct DescribeMessage {
  char kind = 'S';  // 'S' statement, 'P' portal
  std::string name;
};
struct ExecuteMessage {
  std::string portal;
  int32_t max_rows = 0;  // 0: all
};

Result<ParseMessage> DecodeParse(std::string_view body);
Result<BindMessage> DecodeBind(std::string_view body);
Result<DescribeMessage> DecodeDescribe(std::string_view body, char type);  // 'D' or 'C'
Result<ExecuteMessage> DecodeExecute(std::string_view body);
/// A simple Query's SQL (without the terminator); refuses NUL inside and invalid UTF-8.
Result<std::string> DecodeQuery(std::string_view body);

/// Whether `text` is valid UTF-8 (no overlongs, no surrogates).
bool ValidUtf8(std::string_view text);

/// Builds backend messages into one output buffer.
class MessageWriter {
 public:
  /// Starts a message of `type`; the length is filled in by End().
  MessageWriter& Begin(char type);
  MessageWriter& Int32(int32_t value);
  MessageWriter& Int16(int16_t value);
  MessageWriter& Byte(char value);
  MessageWriter& CString(std::string_view text);
  MessageWriter& Bytes(std::string_view bytes);
  MessageWriter& End();

  // Whole messages.
  MessageWriter& AuthenticationOk();
  MessageWriter& AuthenticationSasl(std::string_view mechanism);
  MessageWriter& AuthenticationSaslContinue(std::string_view data);
  MessageWriter& AuthenticationSaslFinal(std::string_view data);
  MessageWriter& ParameterStatus(std::string_view name, std::string_view value);
  MessageWriter& BackendKeyData(int32_t process_id, int32_t secret);
  MessageWriter& ReadyForQuery(char status);
  MessageWriter& CommandComplete(std::string_view tag);
  MessageWriter& EmptyQueryResponse();
  MessageWriter& ParseComplete();
  MessageWriter& BindComplete();
  MessageWriter& CloseComplete();
  MessageWriter& NoData();
  MessageWriter& PortalSuspended();
  MessageWriter& ParameterDescription(const std::vector<int32_t>& types);
  /// severity ERROR/FATAL, a SQLSTATE, the message, and optional detail, hint and position
  /// (1-based character offset in the query).
  MessageWriter& Error(std::string_view severity, std::string_view sqlstate,
                       std::string_view message, std::string_view detail = {},
                       std::string_view hint = {}, int position = 0);
  MessageWriter& Notice(std::string_view message);

  std::string& buffer() { return buffer_; }
  size_t size() const { return buffer_.size(); }
  void Clear() { buffer_.clear(); }

 private:
  std::string buffer_;
  size_t start_ = std::string::npos;
};

}  // namespace meshwork::server::pg
