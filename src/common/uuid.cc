#include "common/uuid.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "common/time.h"

namespace meshwork {

void SecureRandomBytes(void* out, size_t size) {
  auto* cursor = static_cast<uint8_t*>(out);
  while (size > 0) {
    const ssize_t got = ::getrandom(cursor, size, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      std::perror("meshwork: getrandom failed");
      std::abort();
    }
    cursor += got;
    size -= static_cast<size_t>(got);
  }
}

namespace {

void SetVersionAndVariant(std::array<uint8_t, 16>& bytes, uint8_t version) {
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0F) | (version << 4));
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3F) | 0x80);  // RFC 9562 variant 10xx
}

std::array<uint8_t, 16> MakeV7(int64_t unix_millis, uint16_t counter) {
  std::array<uint8_t, 16> bytes;
  SecureRandomBytes(bytes.data(), bytes.size());
  const auto millis = static_cast<uint64_t>(unix_millis);
  for (int i = 0; i < 6; ++i)
    bytes[i] = static_cast<uint8_t>(millis >> (40 - 8 * i));
  bytes[6] = static_cast<uint8_t>((counter >> 8) & 0x0F);
  bytes[7] = static_cast<uint8_t>(counter & 0xFF);
  SetVersionAndVariant(bytes, 7);
  return bytes;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Uuid Uuid::V4() {
  std::array<uint8_t, 16> bytes;
  SecureRandomBytes(bytes.data(), bytes.size());
  SetVersionAndVariant(bytes, 4);
  return Uuid(bytes);
}

Uuid Uuid::V7() {
  // The 12-bit rand_a field holds a counter, started at a random value below 2048 in each new
  // millisecond so that ids stay unguessable while leaving room to count up. When the clock stands
  // still or steps back, or the counter overflows, we borrow the next millisecond.
  static std::mutex mutex;
  static int64_t last_millis = 0;
  static uint16_t counter = 0;
  int64_t millis;
  uint16_t value;
  {
    std::lock_guard lock(mutex);
    millis = time::NowMillis();
    if (millis > last_millis) {
      uint16_t seed;
      SecureRandomBytes(&seed, sizeof(seed));
      counter = seed & 0x07FF;
      last_millis = millis;
    } else if (++counter > 0x0FFF) {
      counter = 0;
      ++last_millis;
    }
    millis = last_millis;
    value = counter;
  }
  return Uuid(MakeV7(millis, value));
}

Uuid Uuid::V7At(int64_t unix_millis) {
  uint16_t counter;
  SecureRandomBytes(&counter, sizeof(counter));
  return Uuid(MakeV7(unix_millis, counter & 0x0FFF));
}

int64_t Uuid::V7UnixMillis() const {
  uint64_t millis = 0;
  for (int i = 0; i < 6; ++i)
    millis = (millis << 8) | bytes_[i];
  return static_cast<int64_t>(millis);
}

Result<Uuid> Uuid::Parse(std::string_view text) {
  const std::string_view original = text;
  if (text.size() == 45 && text.substr(0, 9) == "urn:uuid:") text.remove_prefix(9);
  if (text.size() == 38 && text.front() == '{' && text.back() == '}') text = text.substr(1, 36);
  if (text.size() != 36) {
    return Status::InvalidArgument(
        "invalid UUID '{}': expected 36 characters (8-4-4-4-12 hex), got {}", original,
        text.size());
  }
  std::array<uint8_t, 16> bytes{};
  size_t byte_index = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') {
        return Status::InvalidArgument("invalid UUID '{}': expected '-' at position {}", original,
                                       i + 1);
      }
      continue;
    }
    const int high = HexValue(text[i]);
    const int low = i + 1 < text.size() ? HexValue(text[i + 1]) : -1;
    if (high < 0 || low < 0) {
      return Status::InvalidArgument("invalid UUID '{}': expected a hex digit at position {}",
                                     original, high < 0 ? i + 1 : i + 2);
    }
    bytes[byte_index++] = static_cast<uint8_t>(high * 16 + low);
    ++i;
  }
  return Uuid(bytes);
}

std::string Uuid::ToString() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < bytes_.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[bytes_[i] >> 4]);
    out.push_back(kHex[bytes_[i] & 0x0F]);
  }
  return out;
}

}  // namespace meshwork
