// UUIDs (RFC 9562): version 4 (random) for identifiers that must not leak order, version 7
// (Unix-millisecond timestamp + random) for identifiers that should sort by creation time, such as
// Iceberg table UUIDs, snapshot ids' companions, events and query ids.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace meshwork {

class Uuid {
 public:
  /// The nil UUID 00000000-0000-0000-0000-000000000000.
  constexpr Uuid() = default;
  explicit constexpr Uuid(const std::array<uint8_t, 16>& bytes) : bytes_(bytes) {}

  /// A random version-4 UUID from the kernel's CSPRNG (getrandom).
  static Uuid V4();
  /// A version-7 UUID: 48-bit Unix milliseconds, then a 12-bit counter that keeps UUIDs created in
  /// the same millisecond by this process strictly increasing (RFC 9562 §6.2 method 1), then
  /// random.
  static Uuid V7();
  /// V7 at a given Unix millisecond (for tests and for deterministic replays).
  static Uuid V7At(int64_t unix_millis);

  /// Parses the canonical 8-4-4-4-12 hex form (either case), optionally in braces or as a
  /// "urn:uuid:" URN. InvalidArgument says which character is wrong.
  static Result<Uuid> Parse(std::string_view text);

  /// Lower-case canonical form, e.g. "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".
  std::string ToString() const;
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  /// The version nibble (4, 7, …; 0 for nil).
  int version() const { return bytes_[6] >> 4; }
  bool IsNil() const { return *this == Uuid(); }
  /// For a version-7 UUID, its Unix millisecond timestamp.
  int64_t V7UnixMillis() const;

  friend constexpr auto operator<=>(const Uuid&, const Uuid&) = default;

 private:
  std::array<uint8_t, 16> bytes_{};
};

/// Fills `out` with `size` bytes from the kernel's CSPRNG. Aborts if the kernel cannot provide them
/// (there is no safe fallback for key and id material).
void SecureRandomBytes(void* out, size_t size);

}  // namespace meshwork
