#include "server/pg_protocol.h"

#include <fmt/format.h>

#include <cctype>
#include <cstring>

namespace meshwork::server::pg {
namespace {

int32_t ReadInt32At(std::string_view bytes, size_t offset) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i)
    value = (value << 8) | static_cast<unsigned char>(bytes[offset + i]);
  return static_cast<int32_t>(value);
}

std::string_view MessageName(char type) {
  switch (type) {
    case 'P':
      return "Parse";
    case 'B':
      return "Bind";
    case 'D':
      return "Describe";
    case 'E':
      return "Execute";
    case 'C':
      return "Close";
    case 'Q':
      return "Query";
    case 'p':
      return "password";
    case 0:
      return "startup";
    default:
      return "message";
  }
}

}  // namespace

bool ValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t length = 0;
    uint32_t code = 0;
    if ((c & 0xe0) == 0xc0) {
      length = 2, code = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      length = 3, code = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      length = 4, code = c & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code = (code << 6) | (next & 0x3f);
    }
    const uint32_t minimum = length == 2 ? 0x80 : (length == 3 ? 0x800 : 0x10000);
    if (code < minimum || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return false;
    i += length;
  }
  return true;
}

Result<StartupMessage> DecodeStartup(std::string_view body) {
  if (body.size() < 4) {
    return Status::InvalidArgument("startup packet of {} bytes: too short", body.size() + 4);
  }
  StartupMessage out;
  const int32_t code = ReadInt32At(body, 0);
  if (code == kSslRequestCode || code == kGssEncRequestCode) {
    if (body.size() != 4) return Status::InvalidArgument("malformed SSL/GSS request");
    out.kind = code == kSslRequestCode ? StartupMessage::Kind::kSslRequest
                                       : StartupMessage::Kind::kGssEncRequest;
    return out;
  }
  if (code == kCancelRequestCode) {
    if (body.size() != 12) return Status::InvalidArgument("malformed cancel request");
    out.kind = StartupMessage::Kind::kCancel;
    out.cancel_process_id = ReadInt32At(body, 4);
    out.cancel_secret = ReadInt32At(body, 8);
    return out;
  }
  out.protocol = code;
  if ((code >> 16) != 3) {
    return Status::NotImplemented("protocol version {}.{} is not supported; meshwork speaks 3.0",
                                  code >> 16, code & 0xffff);
  }
  size_t offset = 4;
  while (offset < body.size()) {
    const size_t name_end = body.find('\0', offset);
    if (name_end == std::string_view::npos) {
      return Status::InvalidArgument("startup packet: unterminated parameter name");
    }
    if (name_end == offset) {  // the final terminator
      if (name_end + 1 != body.size()) {
        return Status::InvalidArgument("startup packet: bytes after the terminator");
      }
      return out;
    }
    const size_t value_end = body.find('\0', name_end + 1);
    if (value_end == std::string_view::npos) {
      return Status::InvalidArgument("startup packet: unterminated value of parameter '{}'",
                                     body.substr(offset, name_end - offset));
    }
    std::string name(body.substr(offset, name_end - offset));
    std::string value(body.substr(name_end + 1, value_end - name_end - 1));
    if (!ValidUtf8(name) || !ValidUtf8(value)) {
      return Status::InvalidArgument("startup packet: parameter '{}' is not valid UTF-8",
                                     ValidUtf8(name) ? name : "?");
    }
    out.parameters[std::move(name)] = std::move(value);
    offset = value_end + 1;
  }
  return Status::InvalidArgument("startup packet: missing terminator");
}

Result<std::optional<Message>> MessageReader::Next() {
  if (buffer_.size() - offset_ < 5) return std::optional<Message>();
  const char type = buffer_[offset_];
  const int32_t length = ReadInt32At(buffer_, offset_ + 1);
  if (length < 4 || static_cast<uint32_t>(length) > kMaxMessageBytes) {
    return Status::InvalidArgument("invalid message length {} for message type '{}'", length,
                                   std::isprint(static_cast<unsigned char>(type)) ? type : '?')
        .WithHint(fmt::format("messages are 4 to {} bytes", kMaxMessageBytes));
  }
  if (buffer_.size() - offset_ < static_cast<size_t>(length) + 1) {
    return std::optional<Message>();
  }
  Message message{type, buffer_.substr(offset_ + 5, static_cast<size_t>(length) - 4)};
  offset_ += static_cast<size_t>(length) + 1;
  // Compact once the consumed prefix dominates, so the buffer does not grow without bound.
  if (offset_ > 65536 && offset_ * 2 > buffer_.size()) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  return std::optional<Message>(std::move(message));
}

Status FieldReader::Truncated(std::string_view what) const {
  return Status::InvalidArgument("malformed {} message: {} runs past its end ({} bytes)",
                                 MessageName(type_), what, body_.size());
}

Result<int32_t> FieldReader::Int32() {
  if (body_.size() - offset_ < 4) return Truncated("an int32 field");
  const int32_t value = ReadInt32At(body_, offset_);
  offset_ += 4;
  return value;
}

Result<int16_t> FieldReader::Int16() {
  if (body_.size() - offset_ < 2) return Truncated("an int16 field");
  const auto value = static_cast<int16_t>((static_cast<unsigned char>(body_[offset_]) << 8) |
                                          static_cast<unsigned char>(body_[offset_ + 1]));
  offset_ += 2;
  return value;
}

Result<std::string> FieldReader::CString() {
  const size_t end = body_.find('\0', offset_);
  if (end == std::string_view::npos) return Truncated("a string field");
  std::string value(body_.substr(offset_, end - offset_));
  offset_ = end + 1;
  if (!ValidUtf8(value)) {
    return Status::InvalidArgument("invalid byte sequence for encoding \"UTF8\" in a {} message",
                                   MessageName(type_))
        .WithSqlState("22021");
  }
  return value;
}

Result<std::string> FieldReader::Bytes(size_t count) {
  if (body_.size() - offset_ < count) return Truncated("a value");
  std::string value(body_.substr(offset_, count));
  offset_ += count;
  return value;
}

Result<std::string> FieldReader::Rest() {
  std::string value(body_.substr(offset_));
  offset_ = body_.size();
  return value;
}

Result<ParseMessage> DecodeParse(std::string_view body) {
  FieldReader reader(body, 'P');
  ParseMessage out;
  MW_ASSIGN_OR_RETURN(out.statement, reader.CString());
  MW_ASSIGN_OR_RETURN(out.query, reader.CString());
  MW_ASSIGN_OR_RETURN(int16_t count, reader.Int16());
  if (count < 0) return Status::InvalidArgument("malformed Parse message: {} parameters", count);
  for (int16_t i = 0; i < count; ++i) {
    MW_ASSIGN_OR_RETURN(int32_t type, reader.Int32());
    out.parameter_types.push_back(type);
  }
  if (!reader.done()) return Status::InvalidArgument("malformed Parse message: trailing bytes");
  return out;
}

Result<BindMessage> DecodeBind(std::string_view body) {
  FieldReader reader(body, 'B');
  BindMessage out;
  MW_ASSIGN_OR_RETURN(out.portal, reader.CString());
  MW_ASSIGN_OR_RETURN(out.statement, reader.CString());
  MW_ASSIGN_OR_RETURN(int16_t formats, reader.Int16());
  if (formats < 0) return Status::InvalidArgument("malformed Bind message: negative counts");
  for (int16_t i = 0; i < formats; ++i) {
    MW_ASSIGN_OR_RETURN(int16_t format, reader.Int16());
    if (format != 0 && format != 1) {
      return Status::InvalidArgument("unsupported format code {} in Bind", format);
    }
    out.parameter_formats.push_back(format);
  }
  MW_ASSIGN_OR_RETURN(int16_t count, reader.Int16());
  if (count < 0) return Status::InvalidArgument("malformed Bind message: negative counts");
  if (formats > 1 && formats != count) {
    return Status::InvalidArgument("Bind has {} parameter formats for {} parameters", formats,
                                   count);
  }
  for (int16_t i = 0; i < count; ++i) {
    MW_ASSIGN_OR_RETURN(int32_t length, reader.Int32());
    if (length == -1) {
      out.parameters.emplace_back();
      continue;
    }
    if (length < 0) return Status::InvalidArgument("malformed Bind message: length {}", length);
    MW_ASSIGN_OR_RETURN(std::string value, reader.Bytes(static_cast<size_t>(length)));
    out.parameters.emplace_back(std::move(value));
  }
  MW_ASSIGN_OR_RETURN(int16_t results, reader.Int16());
  if (results < 0) return Status::InvalidArgument("malformed Bind message: negative counts");
  for (int16_t i = 0; i < results; ++i) {
    MW_ASSIGN_OR_RETURN(int16_t format, reader.Int16());
    if (format != 0 && format != 1) {
      return Status::InvalidArgument("unsupported format code {} in Bind", format);
    }
    out.result_formats.push_back(format);
  }
  if (!reader.done()) return Status::InvalidArgument("malformed Bind message: trailing bytes");
  return out;
}

Result<DescribeMessage> DecodeDescribe(std::string_view body, char type) {
  FieldReader reader(body, type);
  DescribeMessage out;
  MW_ASSIGN_OR_RETURN(std::string kind, reader.Bytes(1));
  out.kind = kind[0];
  if (out.kind != 'S' && out.kind != 'P') {
    return Status::InvalidArgument("malformed {} message: kind '{}' is neither S nor P",
                                   MessageName(type), std::isprint(kind[0]) ? kind[0] : '?');
  }
  MW_ASSIGN_OR_RETURN(out.name, reader.CString());
  if (!reader.done()) {
    return Status::InvalidArgument("malformed {} message: trailing bytes", MessageName(type));
  }
  return out;
}

Result<ExecuteMessage> DecodeExecute(std::string_view body) {
  FieldReader reader(body, 'E');
  ExecuteMessage out;
  MW_ASSIGN_OR_RETURN(out.portal, reader.CString());
  MW_ASSIGN_OR_RETURN(out.max_rows, reader.Int32());
  if (!reader.done()) return Status::InvalidArgument("malformed Execute message: trailing bytes");
  return out;
}

Result<std::string> DecodeQuery(std::string_view body) {
  FieldReader reader(body, 'Q');
  MW_ASSIGN_OR_RETURN(std::string query, reader.CString());
  if (!reader.done()) return Status::InvalidArgument("malformed Query message: trailing bytes");
  return query;
}

MessageWriter& MessageWriter::Begin(char type) {
  buffer_ += type;
  start_ = buffer_.size();
  buffer_.append(4, '\0');
  return *this;
}

MessageWriter& MessageWriter::Int32(int32_t value) {
  const auto bits = static_cast<uint32_t>(value);
  const char bytes[4] = {static_cast<char>(bits >> 24), static_cast<char>(bits >> 16),
                         static_cast<char>(bits >> 8), static_cast<char>(bits)};
  buffer_.append(bytes, 4);
  return *this;
}

MessageWriter& MessageWriter::Int16(int16_t value) {
  const auto bits = static_cast<uint16_t>(value);
  const char bytes[2] = {static_cast<char>(bits >> 8), static_cast<char>(bits)};
  buffer_.append(bytes, 2);
  return *this;
}

MessageWriter& MessageWriter::Byte(char value) {
  buffer_ += value;
  return *this;
}

MessageWriter& MessageWriter::CString(std::string_view text) {
  // A NUL inside would end the field early on the client: cut there.
  buffer_.append(text.substr(0, text.find('\0')));
  buffer_ += '\0';
  return *this;
}

MessageWriter& MessageWriter::Bytes(std::string_view bytes) {
  buffer_.append(bytes);
  return *this;
}

MessageWriter& MessageWriter::End() {
  const auto length = static_cast<uint32_t>(buffer_.size() - start_);
  buffer_[start_] = static_cast<char>(length >> 24);
  buffer_[start_ + 1] = static_cast<char>(length >> 16);
  buffer_[start_ + 2] = static_cast<char>(length >> 8);
  buffer_[start_ + 3] = static_cast<char>(length);
  start_ = std::string::npos;
  return *this;
}

MessageWriter& MessageWriter::AuthenticationOk() {
  return Begin('R').Int32(0).End();
}
MessageWriter& MessageWriter::AuthenticationSasl(std::string_view mechanism) {
  return Begin('R').Int32(10).CString(mechanism).Byte('\0').End();
}
MessageWriter& MessageWriter::AuthenticationSaslContinue(std::string_view data) {
  return Begin('R').Int32(11).Bytes(data).End();
}
MessageWriter& MessageWriter::AuthenticationSaslFinal(std::string_view data) {
  return Begin('R').Int32(12).Bytes(data).End();
}
MessageWriter& MessageWriter::ParameterStatus(std::string_view name, std::string_view value) {
  return Begin('S').CString(name).CString(value).End();
}
MessageWriter& MessageWriter::BackendKeyData(int32_t process_id, int32_t secret) {
  return Begin('K').Int32(process_id).Int32(secret).End();
}
MessageWriter& MessageWriter::ReadyForQuery(char status) {
  return Begin('Z').Byte(status).End();
}
MessageWriter& MessageWriter::CommandComplete(std::string_view tag) {
  return Begin('C').CString(tag).End();
}
MessageWriter& MessageWriter::EmptyQueryResponse() {
  return Begin('I').End();
}
MessageWriter& MessageWriter::ParseComplete() {
  return Begin('1').End();
}
MessageWriter& MessageWriter::BindComplete() {
  return Begin('2').End();
}
MessageWriter& MessageWriter::CloseComplete() {
  return Begin('3').End();
}
MessageWriter& MessageWriter::NoData() {
  return Begin('n').End();
}
MessageWriter& MessageWriter::PortalSuspended() {
  return Begin('s').End();
}
MessageWriter& MessageWriter::ParameterDescription(const std::vector<int32_t>& types) {
  Begin('t').Int16(static_cast<int16_t>(types.size()));
  for (const int32_t type : types)
    Int32(type);
  return End();
}

MessageWriter& MessageWriter::Error(std::string_view severity, std::string_view sqlstate,
                                    std::string_view message, std::string_view detail,
                                    std::string_view hint, int position) {
  Begin('E');
  Byte('S').CString(severity);
  Byte('V').CString(severity);
  Byte('C').CString(sqlstate);
  Byte('M').CString(message);
  if (!detail.empty()) Byte('D').CString(detail);
  if (!hint.empty()) Byte('H').CString(hint);
  if (position > 0) Byte('P').CString(std::to_string(position));
  Byte('\0');
  return End();
}

MessageWriter& MessageWriter::Notice(std::string_view message) {
  Begin('N');
  Byte('S').CString("NOTICE");
  Byte('V').CString("NOTICE");
  Byte('C').CString("00000");
  Byte('M').CString(message);
  Byte('\0');
  return End();
}

}  // namespace meshwork::server::pg
