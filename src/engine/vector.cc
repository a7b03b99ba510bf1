#include "engine/vector.h"

#include <fmt/format.h>

#include "engine/internal.h"

namespace meshwork::engine {

Vector::Vector(_duckdb_vector* handle, const Type* type, uint64_t size)
    : handle_(handle),
      type_(type),
      data_(duckdb_vector_get_data(handle)),
      validity_(duckdb_vector_get_validity(handle)),
      size_(size) {}

std::string_view Vector::GetString(uint64_t row) const {
  // duckdb_string_t: a 4-byte length, then up to 12 inlined bytes, or a 4-byte prefix and a
  // pointer to the bytes.
  const char* entry = static_cast<const char*>(data_) + row * sizeof(duckdb_string_t);
  uint32_t length;
  std::memcpy(&length, entry, sizeof(length));
  if (length <= 12) return {entry + 4, length};
  const char* pointer;
  std::memcpy(&pointer, entry + 8, sizeof(pointer));
  return {pointer, length};
}

Vector Vector::Child(size_t index) const {
  switch (type_->id) {
    case TypeId::kList:
      return Vector(duckdb_list_vector_get_child(handle_), &type_->children[0],
                    duckdb_list_vector_get_size(handle_));
    case TypeId::kMap:
      // A MAP is physically a LIST of STRUCT(key, value): Child(0) are the keys, Child(1) the
      // values, both indexed by GetListEntry().
      return Vector(duckdb_struct_vector_get_child(duckdb_list_vector_get_child(handle_), index),
                    &type_->children[index], duckdb_list_vector_get_size(handle_));
    case TypeId::kArray:
      return Vector(duckdb_array_vector_get_child(handle_), &type_->children[0],
                    size_ * type_->array_size);
    default:
      return Vector(duckdb_struct_vector_get_child(handle_, index), &type_->children[index], size_);
  }
}

namespace {

void AppendQuotedString(std::string& out, std::string_view text) {
  out += '\'';
  for (char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
}

void AppendBlob(std::string& out, std::string_view bytes) {
  for (unsigned char c : bytes) {
    if (c >= 32 && c <= 126 && c != '\\' && c != '\'' && c != '"') {
      out += static_cast<char>(c);
    } else {
      fmt::format_to(std::back_inserter(out), "\\x{:02X}", c);
    }
  }
}

void AppendUuid(std::string& out, HugeInt value) {
  // DuckDB stores a UUID as a HUGEINT whose top bit is flipped, so that signed comparison
  // orders UUIDs like their bytes.
  const uint64_t halves[2] = {static_cast<uint64_t>(value.upper) ^ (uint64_t{1} << 63),
                              value.lower};
  static constexpr char kHex[] = "0123456789abcdef";
  char text[36];
  size_t at = 0;
  for (int nibble = 0; nibble < 32; ++nibble) {
    if (nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20) text[at++] = '-';
    const uint64_t half = halves[nibble / 16];
    text[at++] = kHex[(half >> (60 - 4 * (nibble % 16))) & 0xf];
  }
  out.append(text, sizeof(text));
}

void AppendTimeTz(std::string& out, uint64_t bits) {
  // 40 bits of micros since midnight, then 24 bits holding (max_offset - offset_seconds).
  constexpr int64_t kMaxOffsetSeconds = 16 * 60 * 60 - 1;
  const int64_t micros = static_cast<int64_t>(bits >> 24);
  const int64_t offset = kMaxOffsetSeconds - static_cast<int64_t>(bits & 0xFFFFFF);
  out += FormatTime(micros);
  const int64_t magnitude = offset < 0 ? -offset : offset;
  fmt::format_to(std::back_inserter(out), "{}{:02d}", offset < 0 ? '-' : '+', magnitude / 3600);
  if (magnitude % 3600 != 0)
    fmt::format_to(std::back_inserter(out), ":{:02d}", magnitude / 60 % 60);
}

template <typename T>
void AppendFloat(std::string& out, T value) {
  const size_t start = out.size();
  fmt::format_to(std::back_inserter(out), "{}", value);
  // Like DuckDB, keep a ".0" on integral values so the text still reads as a floating type.
  if (out.find_first_of(".enai", start) == std::string::npos) out += ".0";
}

void AppendNanosTimestamp(std::string& out, int64_t nanos) {
  int64_t micros = nanos / 1000;
  int64_t extra = nanos % 1000;
  if (extra < 0) {
    extra += 1000;
    --micros;
  }
  std::string text = FormatTimestamp(micros);
  if (extra != 0) {
    // Extend the microsecond fraction to nine digits.
    const size_t bc = text.find(" (BC)");
    std::string suffix = bc == std::string::npos ? "" : text.substr(bc);
    text = text.substr(0, bc);
    const size_t dot = text.find('.', 11);
    std::string fraction = dot == std::string::npos ? "000000" : text.substr(dot + 1);
    fraction.resize(6, '0');
    text = text.substr(0, dot) + "." + fraction + fmt::format("{:03d}", extra);
    while (text.back() == '0')
      text.pop_back();
    text += suffix;
  }
  out += text;
}

}  // namespace

Status Vector::AppendText(uint64_t row, std::string& out) const {
  if (IsNull(row)) {
    out += "NULL";
    return Status::OK();
  }
  auto append = [&](auto value) { fmt::format_to(std::back_inserter(out), "{}", value); };
  switch (type_->id) {
    case TypeId::kBoolean:
      out += Get<bool>(row) ? "true" : "false";
      break;
    case TypeId::kTinyInt:
      append(Get<int8_t>(row));
      break;
    case TypeId::kSmallInt:
      append(Get<int16_t>(row));
      break;
    case TypeId::kInteger:
      append(Get<int32_t>(row));
      break;
    case TypeId::kBigInt:
      append(Get<int64_t>(row));
      break;
    case TypeId::kUTinyInt:
      append(Get<uint8_t>(row));
      break;
    case TypeId::kUSmallInt:
      append(Get<uint16_t>(row));
      break;
    case TypeId::kUInteger:
      append(Get<uint32_t>(row));
      break;
    case TypeId::kUBigInt:
      append(Get<uint64_t>(row));
      break;
    case TypeId::kHugeInt:
      out += Get<HugeInt>(row).ToString();
      break;
    case TypeId::kUHugeInt: {
      const auto value = Get<HugeInt>(row);
      unsigned __int128 magnitude =
          (static_cast<unsigned __int128>(static_cast<uint64_t>(value.upper)) << 64) | value.lower;
      std::string digits;
      do {
        digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(magnitude % 10)));
        magnitude /= 10;
      } while (magnitude != 0);
      out += digits;
      break;
    }
    case TypeId::kFloat:
      AppendFloat(out, Get<float>(row));
      break;
    case TypeId::kDouble:
      AppendFloat(out, Get<double>(row));
      break;
    case TypeId::kDecimal: {
      HugeInt unscaled;
      switch (type_->decimal_storage) {
        case TypeId::kSmallInt:
          unscaled = {static_cast<uint64_t>(int64_t{Get<int16_t>(row)}),
                      Get<int16_t>(row) < 0 ? -1 : 0};
          break;
        case TypeId::kInteger:
          unscaled = {static_cast<uint64_t>(int64_t{Get<int32_t>(row)}),
                      Get<int32_t>(row) < 0 ? -1 : 0};
          break;
        case TypeId::kBigInt:
          unscaled = {static_cast<uint64_t>(Get<int64_t>(row)), Get<int64_t>(row) < 0 ? -1 : 0};
          break;
        default:
          unscaled = Get<HugeInt>(row);
          break;
      }
      out += FormatDecimal(unscaled, type_->decimal_scale);
      break;
    }
    case TypeId::kDate:
      AppendDate(out, Get<int32_t>(row));
      break;
    case TypeId::kTime:
      out += FormatTime(Get<int64_t>(row));
      break;
    case TypeId::kTimeNanos: {
      const int64_t nanos = Get<int64_t>(row);
      std::string text = FormatTime(nanos / 1000);
      if (nanos % 1000 != 0) {
        if (text.find('.') == std::string::npos) text += ".";
        const size_t dot = text.find('.');
        std::string fraction = text.substr(dot + 1);
        fraction.resize(6, '0');
        fraction += fmt::format("{:03d}", nanos % 1000);
        while (fraction.back() == '0')
          fraction.pop_back();
        text = text.substr(0, dot) + "." + fraction;
      }
      out += text;
      break;
    }
    case TypeId::kTimeTz:
      AppendTimeTz(out, Get<uint64_t>(row));
      break;
    case TypeId::kTimestamp:
      AppendTimestamp(out, Get<int64_t>(row));
      break;
    case TypeId::kTimestampTz:
      AppendTimestamp(out, Get<int64_t>(row));
      out += "+00";
      break;
    case TypeId::kTimestampSeconds: {
      const int64_t seconds = Get<int64_t>(row);
      const bool infinite = seconds == INT64_MAX || seconds == -INT64_MAX;
      out += FormatTimestamp(infinite ? seconds : seconds * 1000000);
      break;
    }
    case TypeId::kTimestampMillis: {
      const int64_t millis = Get<int64_t>(row);
      const bool infinite = millis == INT64_MAX || millis == -INT64_MAX;
      out += FormatTimestamp(infinite ? millis : millis * 1000);
      break;
    }
    case TypeId::kTimestampNanos:
      AppendNanosTimestamp(out, Get<int64_t>(row));
      break;
    case TypeId::kInterval:
      out += FormatInterval(Get<Interval>(row));
      break;
    case TypeId::kUuid:
      AppendUuid(out, Get<HugeInt>(row));
      break;
    case TypeId::kVarchar:
      out += GetString(row);
      break;
    case TypeId::kBlob:
      AppendBlob(out, GetString(row));
      break;
    case TypeId::kEnum: {
      uint64_t code = 0;
      switch (type_->enum_storage) {
        case TypeId::kUTinyInt:
          code = Get<uint8_t>(row);
          break;
        case TypeId::kUSmallInt:
          code = Get<uint16_t>(row);
          break;
        default:
          code = Get<uint32_t>(row);
          break;
      }
      if (code >= type_->enum_values.size()) {
        return Status::Internal("ENUM code {} is outside its dictionary of {} values", code,
                                type_->enum_values.size());
      }
      out += type_->enum_values[code];
      break;
    }
    case TypeId::kList:
    case TypeId::kArray: {
      const Vector child = Child(0);
      uint64_t offset = 0, length = type_->array_size;
      if (type_->id == TypeId::kList) {
        const ListEntry entry = GetListEntry(row);
        offset = entry.offset;
        length = entry.length;
      } else {
        offset = row * type_->array_size;
      }
      out += '[';
      for (uint64_t index = 0; index < length; ++index) {
        if (index > 0) out += ", ";
        MW_RETURN_IF_ERROR(child.AppendNested(offset + index, out));
      }
      out += ']';
      break;
    }
    case TypeId::kMap: {
      const Vector keys = Child(0);
      const Vector values = Child(1);
      const ListEntry entry = GetListEntry(row);
      out += '{';
      for (uint64_t index = 0; index < entry.length; ++index) {
        if (index > 0) out += ", ";
        MW_RETURN_IF_ERROR(keys.AppendNested(entry.offset + index, out));
        out += '=';
        MW_RETURN_IF_ERROR(values.AppendNested(entry.offset + index, out));
      }
      out += '}';
      break;
    }
    case TypeId::kStruct: {
      out += '{';
      for (size_t index = 0; index < type_->children.size(); ++index) {
        if (index > 0) out += ", ";
        AppendQuotedString(out, type_->child_names[index]);
        out += ": ";
        MW_RETURN_IF_ERROR(Child(index).AppendNested(row, out));
      }
      out += '}';
      break;
    }
    default:
      return Status::NotImplemented("cannot render a {} value as text", type_->ToString())
          .WithHint("CAST the column to VARCHAR in the query");
  }
  return Status::OK();
}

Status Vector::AppendNested(uint64_t row, std::string& out) const {
  // Inside lists, maps and structs, strings are quoted so that "a, b" stays one element.
  if (!IsNull(row) && (type_->id == TypeId::kVarchar || type_->id == TypeId::kEnum)) {
    std::string text;
    MW_RETURN_IF_ERROR(AppendText(row, text));
    AppendQuotedString(out, text);
    return Status::OK();
  }
  return AppendText(row, out);
}

Result<std::string> Vector::ToText(uint64_t row) const {
  std::string text;
  MW_RETURN_IF_ERROR(AppendText(row, text));
  return text;
}

DataChunk::DataChunk(_duckdb_data_chunk* handle, std::shared_ptr<const std::vector<Type>> types,
                     bool owned)
    : handle_(handle), owned_(owned), types_(std::move(types)) {
  if (handle_ == nullptr) return;
  size_ = duckdb_data_chunk_get_size(handle_);
  const idx_t columns = duckdb_data_chunk_get_column_count(handle_);
  columns_.reserve(columns);
  for (idx_t index = 0; index < columns && index < types_->size(); ++index) {
    columns_.emplace_back(duckdb_data_chunk_get_vector(handle_, index), &(*types_)[index], size_);
  }
}

DataChunk::DataChunk(DataChunk&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)),
      owned_(other.owned_),
      size_(std::exchange(other.size_, 0)),
      types_(std::move(other.types_)),
      columns_(std::move(other.columns_)) {}

DataChunk& DataChunk::operator=(DataChunk&& other) noexcept {
  if (this != &other) {
    Reset();
    handle_ = std::exchange(other.handle_, nullptr);
    owned_ = other.owned_;
    size_ = std::exchange(other.size_, 0);
    types_ = std::move(other.types_);
    columns_ = std::move(other.columns_);
  }
  return *this;
}

DataChunk::~DataChunk() {
  Reset();
}

void DataChunk::Reset() {
  if (handle_ != nullptr && owned_) duckdb_destroy_data_chunk(&handle_);
  handle_ = nullptr;
  columns_.clear();
}

}  // namespace meshwork::engine
