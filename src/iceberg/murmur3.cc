#include "iceberg/murmur3.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <string>

namespace meshwork::iceberg {

uint32_t Murmur3_32(const void* data, size_t size, uint32_t seed) {
  constexpr uint32_t kC1 = 0xcc9e2d51, kC2 = 0x1b873593;
  const auto* bytes = static_cast<const uint8_t*>(data);
  uint32_t hash = seed;
  const size_t blocks = size / 4;
  for (size_t block = 0; block < blocks; ++block) {
    uint32_t k;
    std::memcpy(&k, bytes + block * 4, 4);  // little-endian load (x86 variant)
    if constexpr (std::endian::native == std::endian::big) k = __builtin_bswap32(k);
    k *= kC1;
    k = std::rotl(k, 15);
    k *= kC2;
    hash ^= k;
    hash = std::rotl(hash, 13);
    hash = hash * 5 + 0xe6546b64;
  }
  const uint8_t* tail = bytes + blocks * 4;
  uint32_t k = 0;
  switch (size & 3) {
    case 3:
      k ^= static_cast<uint32_t>(tail[2]) << 16;
      [[fallthrough]];
    case 2:
      k ^= static_cast<uint32_t>(tail[1]) << 8;
      [[fallthrough]];
    case 1:
      k ^= tail[0];
      k *= kC1;
      k = std::rotl(k, 15);
      k *= kC2;
      hash ^= k;
  }
  hash ^= static_cast<uint32_t>(size);
  hash ^= hash >> 16;
  hash *= 0x85ebca6b;
  hash ^= hash >> 13;
  hash *= 0xc2b2ae35;
  hash ^= hash >> 16;
  return hash;
}

namespace {

int32_t HashLong(int64_t value) {
  uint8_t bytes[8];
  for (int index = 0; index < 8; ++index) {
    bytes[index] = static_cast<uint8_t>(static_cast<uint64_t>(value) >> (8 * index));
  }
  return static_cast<int32_t>(Murmur3_32(bytes, 8));
}

int32_t HashBytes(std::string_view bytes) {
  return static_cast<int32_t>(Murmur3_32(bytes.data(), bytes.size()));
}

int32_t HashDouble(double value) {
  if (std::isnan(value)) return HashLong(0x7ff8000000000000LL);
  if (value == 0) value = 0;  // -0.0 hashes like 0.0
  return HashLong(std::bit_cast<int64_t>(value));
}

}  // namespace

std::string MinimalBigEndian(__int128 value) {
  std::string bytes;
  for (int index = 15; index >= 0; --index) {
    bytes += static_cast<char>(
        static_cast<uint8_t>(static_cast<unsigned __int128>(value) >> (8 * index)));
  }
  // Drop leading bytes that only repeat the sign: 0x00 before a byte < 0x80, 0xFF before >= 0x80.
  size_t start = 0;
  while (start + 1 < bytes.size()) {
    const auto lead = static_cast<uint8_t>(bytes[start]);
    const auto next = static_cast<uint8_t>(bytes[start + 1]);
    if ((lead == 0x00 && next < 0x80) || (lead == 0xFF && next >= 0x80)) {
      ++start;
    } else {
      break;
    }
  }
  return bytes.substr(start);
}

int32_t IcebergHash(const Literal& value) {
  switch (value.type()->kind()) {
    case TypeKind::kBoolean:
      return HashLong(value.as<bool>() ? 1 : 0);
    case TypeKind::kInt:
    case TypeKind::kDate:
      return HashLong(value.as<int32_t>());
    case TypeKind::kLong:
    case TypeKind::kTime:
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampTz:
      return HashLong(value.as<int64_t>());
    case TypeKind::kFloat:
      return HashDouble(static_cast<double>(value.as<float>()));
    case TypeKind::kDouble:
      return HashDouble(value.as<double>());
    case TypeKind::kDecimal:
      return HashBytes(MinimalBigEndian(value.as<DecimalValue>().unscaled));
    case TypeKind::kString:
      return HashBytes(value.as<std::string>());
    case TypeKind::kUuid: {
      const UuidBytes& bytes = value.as<UuidBytes>();
      return HashBytes(std::string_view(reinterpret_cast<const char*>(bytes.data()), 16));
    }
    case TypeKind::kFixed:
    case TypeKind::kBinary:
      return HashBytes(value.as<Bytes>().data);
    default:
      return 0;
  }
}

}  // namespace meshwork::iceberg
