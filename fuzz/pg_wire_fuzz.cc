// A client's byte stream to the PostgreSQL wire server, decoded as PgServer decodes it: the
// startup packets (SSL/GSS requests, then the startup or a CancelRequest), then typed messages
// split by MessageReader and decoded by DecodeParse/Bind/Describe/Execute/Query, binary
// parameters through BinaryParameterAsText, password messages through the server side of
// SCRAM. Beyond "no crash, no sanitizer report", it checks:
//  - MessageReader yields the same messages (and stops at the same bad length) whether the
//    stream arrives whole or in pieces of any size;
//  - what a decoder accepts re-encodes to exactly the bytes it was given, and every string it
//    returns is valid UTF-8 without NULs;
//  - a binary parameter accepted for an integer type has that type's size and reads back as
//    the same number; one of a text type comes back unchanged;
//  - an ErrorResponse built from any text is one well-framed message.
// Input layout: byte 0 picks the piece sizes (and whether a 70 KB message comes first, so that
// the reader's compaction runs); the rest is the stream.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/scram.h"
#include "server/pg_protocol.h"
#include "server/pg_values.h"

using namespace meshwork;
namespace pg = meshwork::server::pg;

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

uint32_t ReadUint32(std::string_view bytes) {
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i)
    value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

// The encoder side, written independently of the decoders, for the round trips.
struct Encoder {
  std::string out;
  Encoder& Int16(int16_t value) {
    out += static_cast<char>((static_cast<uint16_t>(value) >> 8) & 0xff);
    out += static_cast<char>(static_cast<uint16_t>(value) & 0xff);
    return *this;
  }
  Encoder& Int32(int32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8)
      out += static_cast<char>((static_cast<uint32_t>(value) >> shift) & 0xff);
    return *this;
  }
  Encoder& CString(std::string_view text) {
    out.append(text);
    out += '\0';
    return *this;
  }
};

void CheckText(const std::string& text) {
  Check(pg::ValidUtf8(text));
  Check(text.find('\0') == std::string::npos);
}

struct Split {
  std::vector<pg::Message> messages;
  bool refused = false;  // a bad length stopped the reader
};

// `sizes` gives the piece sizes in turn (cycled); empty: the stream in one piece.
Split SplitStream(std::string_view stream, const std::vector<size_t>& sizes) {
  Split out;
  pg::MessageReader reader;
  size_t offset = 0;
  size_t turn = 0;
  while (true) {
    while (true) {
      auto next = reader.Next();
      if (!next.ok()) {
        out.refused = true;
        return out;
      }
      if (!*next) break;
      Check(next->value().body.size() <= pg::kMaxMessageBytes);
      out.messages.push_back(std::move(**next));
    }
    if (offset >= stream.size()) break;
    const size_t piece = sizes.empty() ? stream.size() : sizes[turn++ % sizes.size()];
    reader.Feed(stream.substr(offset, piece));
    offset += piece;
  }
  return out;
}

void CheckBinaryParameter(int32_t oid, const std::string& bytes) {
  auto text = pg::BinaryParameterAsText(oid, bytes);
  if (!text.ok()) return;
  const auto read_back = [&](size_t width) {
    Check(bytes.size() == width);
    char* end = nullptr;
    const long long value = std::strtoll(text->c_str(), &end, 10);
    Check(end != nullptr && *end == '\0');
    Encoder encoded;
    if (width == 2) encoded.Int16(static_cast<int16_t>(value));
    if (width == 4) encoded.Int32(static_cast<int32_t>(value));
    if (width == 8)
      encoded.Int32(static_cast<int32_t>(value >> 32)).Int32(static_cast<int32_t>(value));
    Check(encoded.out == bytes);
  };
  switch (oid) {
    case 16:
      Check(bytes.size() == 1 && (*text == "true" || *text == "false"));
      break;
    case 21:
      read_back(2);
      break;
    case 23:
      read_back(4);
      break;
    case 20:
      read_back(8);
      break;
    case 700:
      Check(bytes.size() == 4);
      break;
    case 701:
      Check(bytes.size() == 8);
      break;
    case 0:
    case 25:
    case 705:
    case 1043:
      Check(*text == bytes && pg::ValidUtf8(*text));
      break;
    default:
      break;
  }
}

const std::string& Verifier() {
  static const std::string verifier = catalog::MakeScramVerifier("fuzz-secret");
  return verifier;
}

// One typed message, decoded as the server's connection loop does.
void DecodeMessage(const pg::Message& message, catalog::ScramServerExchange& scram,
                   int& password_messages) {
  const std::string_view body = message.body;
  switch (message.type) {
    case 'Q': {
      auto query = pg::DecodeQuery(body);
      if (!query.ok()) return;
      CheckText(*query);
      Check(Encoder().CString(*query).out == body);
      break;
    }
    case 'P': {
      auto parse = pg::DecodeParse(body);
      if (!parse.ok()) return;
      CheckText(parse->statement);
      CheckText(parse->query);
      Encoder encoded;
      encoded.CString(parse->statement).CString(parse->query);
      encoded.Int16(static_cast<int16_t>(parse->parameter_types.size()));
      for (const int32_t type : parse->parameter_types)
        encoded.Int32(type);
      Check(encoded.out == body);
      break;
    }
    case 'B': {
      auto bind = pg::DecodeBind(body);
      if (!bind.ok()) return;
      CheckText(bind->portal);
      CheckText(bind->statement);
      Encoder encoded;
      encoded.CString(bind->portal).CString(bind->statement);
      encoded.Int16(static_cast<int16_t>(bind->parameter_formats.size()));
      for (const int16_t format : bind->parameter_formats)
        encoded.Int16(format);
      encoded.Int16(static_cast<int16_t>(bind->parameters.size()));
      for (const auto& value : bind->parameters) {
        if (!value) {
          encoded.Int32(-1);
          continue;
        }
        encoded.Int32(static_cast<int32_t>(value->size()));
        encoded.out += *value;
      }
      encoded.Int16(static_cast<int16_t>(bind->result_formats.size()));
      for (const int16_t format : bind->result_formats)
        encoded.Int16(format);
      Check(encoded.out == body);
      static constexpr int32_t kOids[] = {0, 16, 20, 21, 23, 25, 700, 701, 705, 1043, 1082, 1700};
      for (size_t i = 0; i < bind->parameters.size(); ++i) {
        if (!bind->parameters[i]) continue;
        CheckBinaryParameter(kOids[(i + bind->portal.size()) % std::size(kOids)],
                             *bind->parameters[i]);
      }
      break;
    }
    case 'D':
    case 'C': {
      auto describe = pg::DecodeDescribe(body, message.type);
      if (!describe.ok()) return;
      Check(describe->kind == 'S' || describe->kind == 'P');
      CheckText(describe->name);
      Check((std::string(1, describe->kind) + Encoder().CString(describe->name).out) == body);
      break;
    }
    case 'E': {
      auto execute = pg::DecodeExecute(body);
      if (!execute.ok()) return;
      CheckText(execute->portal);
      Check(Encoder().CString(execute->portal).Int32(execute->max_rows).out == body);
      break;
    }
    case 'p': {
      // SASLInitialResponse, then SASLResponse, as Connection::Authenticate reads them.
      if (password_messages++ == 0) {
        pg::FieldReader reader(body, 'p');
        auto mechanism = reader.CString();
        auto length = reader.Int32();
        if (!mechanism.ok() || !length.ok() || *length < 0) return;
        auto first = reader.Bytes(static_cast<size_t>(*length));
        if (!first.ok()) return;
        (void)reader.Rest();
        (void)scram.Start(*first);
      } else {
        (void)scram.Finish(body);
      }
      break;
    }
    default:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t control = data[0];
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);

  // Startup: up to three SSL/GSS requests, then the startup packet or a CancelRequest.
  (void)pg::DecodeStartup(stream);
  for (int attempt = 0; attempt < 4 && stream.size() >= 4; ++attempt) {
    const uint32_t length = ReadUint32(stream);
    if (length < 8 || length > pg::kMaxStartupBytes || length > stream.size()) break;
    auto startup = pg::DecodeStartup(stream.substr(4, length - 4));
    stream.remove_prefix(length);
    if (!startup.ok()) break;
    using Kind = pg::StartupMessage::Kind;
    if (startup->kind == Kind::kStartup) {
      Check((startup->protocol >> 16) == 3);
      for (const auto& [name, value] : startup->parameters) {
        CheckText(name);
        CheckText(value);
        Check(!name.empty());
      }
    }
    if (startup->kind != Kind::kSslRequest && startup->kind != Kind::kGssEncRequest) break;
  }

  // The typed messages, whole and in pieces: the same split.
  std::string prefixed;
  if (control & 0x80) {
    // A large message first: the reader compacts its buffer once it has consumed 64 KiB.
    prefixed = "Q" + Encoder().Int32(4 + 70000 + 1).out + std::string(70000, 'x') + '\0';
    prefixed.append(stream);
    stream = prefixed;
  }
  std::vector<size_t> sizes;
  switch (control & 0x3) {
    case 0:
      break;  // one piece
    case 1:
      sizes = {1};
      break;
    default:
      for (size_t i = 0; i < 8; ++i)
        sizes.push_back(1 + ((static_cast<size_t>(control) * 2654435761u >> (i * 3)) % 97));
      break;
  }
  const Split whole = SplitStream(stream, {});
  const Split pieces = SplitStream(stream, sizes);
  Check(whole.refused == pieces.refused);
  Check(whole.messages.size() == pieces.messages.size());
  for (size_t i = 0; i < whole.messages.size(); ++i) {
    Check(whole.messages[i].type == pieces.messages[i].type);
    Check(whole.messages[i].body == pieces.messages[i].body);
  }

  catalog::ScramServerExchange scram(Verifier());
  int password_messages = 0;
  for (const pg::Message& message : whole.messages)
    DecodeMessage(message, scram, password_messages);

  // An ErrorResponse carrying any text frames as exactly one message.
  if (!whole.messages.empty()) {
    const std::string& text = whole.messages.front().body;
    pg::MessageWriter writer;
    writer.Error("ERROR", "XX000", text, text, text, static_cast<int>(text.size()));
    pg::MessageReader reader;
    reader.Feed(writer.buffer());
    auto first = reader.Next();
    Check(first.ok() && first->has_value() && (*first)->type == 'E');
    auto second = reader.Next();
    Check(second.ok() && !second->has_value() && reader.buffered() == 0);
  }
  return 0;
}
