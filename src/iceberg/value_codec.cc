#include "iceberg/value_codec.h"

#include <cstring>

#include "iceberg/murmur3.h"

namespace meshwork::iceberg {
namespace {

template <typename T>
std::string LittleEndian(T value) {
  std::string bytes(sizeof(T), '\0');
  std::memcpy(bytes.data(), &value, sizeof(T));  // little-endian hosts (x86-64, arm64)
  return bytes;
}

template <typename T>
T FromLittleEndian(std::string_view bytes) {
  T value;
  std::memcpy(&value, bytes.data(), sizeof(T));
  return value;
}

}  // namespace

std::string SerializeValue(const Literal& value) {
  switch (value.type()->kind()) {
    case TypeKind::kBoolean:
      return std::string(1, value.as<bool>() ? '\x01' : '\x00');
    case TypeKind::kInt:
    case TypeKind::kDate:
      return LittleEndian(value.as<int32_t>());
    case TypeKind::kLong:
    case TypeKind::kTime:
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampTz:
      return LittleEndian(value.as<int64_t>());
    case TypeKind::kFloat:
      return LittleEndian(value.as<float>());
    case TypeKind::kDouble:
      return LittleEndian(value.as<double>());
    case TypeKind::kDecimal:
      return MinimalBigEndian(value.as<DecimalValue>().unscaled);
    case TypeKind::kString:
      return value.as<std::string>();
    case TypeKind::kUuid: {
      const UuidBytes& bytes = value.as<UuidBytes>();
      return std::string(reinterpret_cast<const char*>(bytes.data()), 16);
    }
    case TypeKind::kFixed:
    case TypeKind::kBinary:
      return value.as<Bytes>().data;
    default:
      return "";
  }
}

Result<Literal> DeserializeValue(const TypePtr& type, std::string_view bytes) {
  auto need = [&](size_t size) -> Status {
    if (bytes.size() == size) return Status::OK();
    return Status::InvalidArgument("a serialized {} value must be {} bytes, got {}",
                                   type->ToString(), size, bytes.size());
  };
  switch (type->kind()) {
    case TypeKind::kBoolean:
      MW_RETURN_IF_ERROR(need(1));
      return Literal::Boolean(bytes[0] != 0);
    case TypeKind::kInt:
    case TypeKind::kDate:
      // Readers accept a long-width value for int columns promoted from int (spec note).
      if (bytes.size() == 8)
        return Literal(type, static_cast<int32_t>(FromLittleEndian<int64_t>(bytes)));
      MW_RETURN_IF_ERROR(need(4));
      return Literal(type, FromLittleEndian<int32_t>(bytes));
    case TypeKind::kLong:
    case TypeKind::kTime:
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampTz:
      // A long column promoted from int may still carry 4-byte bounds in old manifests.
      if (bytes.size() == 4)
        return Literal(type, static_cast<int64_t>(FromLittleEndian<int32_t>(bytes)));
      MW_RETURN_IF_ERROR(need(8));
      return Literal(type, FromLittleEndian<int64_t>(bytes));
    case TypeKind::kFloat:
      MW_RETURN_IF_ERROR(need(4));
      return Literal(type, FromLittleEndian<float>(bytes));
    case TypeKind::kDouble:
      if (bytes.size() == 4)
        return Literal(type, static_cast<double>(FromLittleEndian<float>(bytes)));
      MW_RETURN_IF_ERROR(need(8));
      return Literal(type, FromLittleEndian<double>(bytes));
    case TypeKind::kDecimal: {
      if (bytes.empty() || bytes.size() > 16) {
        return Status::InvalidArgument("a serialized decimal must be 1 to 16 bytes, got {}",
                                       bytes.size());
      }
      __int128 unscaled = static_cast<int8_t>(bytes[0]) < 0 ? -1 : 0;
      for (unsigned char byte : bytes)
        unscaled = static_cast<__int128>((static_cast<unsigned __int128>(unscaled) << 8) | byte);
      return Literal(type, DecimalValue{unscaled});
    }
    case TypeKind::kString:
      return Literal(type, std::string(bytes));
    case TypeKind::kUuid: {
      MW_RETURN_IF_ERROR(need(16));
      UuidBytes uuid;
      std::memcpy(uuid.data(), bytes.data(), 16);
      return Literal(type, uuid);
    }
    case TypeKind::kFixed:
      MW_RETURN_IF_ERROR(need(static_cast<size_t>(type->length())));
      return Literal(type, Bytes{std::string(bytes)});
    case TypeKind::kBinary:
      return Literal(type, Bytes{std::string(bytes)});
    default:
      return Status::InvalidArgument("{} values have no single-value serialization",
                                     type->ToString());
  }
}

}  // namespace meshwork::iceberg
