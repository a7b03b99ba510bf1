#pragma once
// 32-bit Murmur3 (x86 variant) and Iceberg's per-type bucket hash (spec Appendix B).

#include <cstddef>
#include <cstdint>
#include <string>

#include "iceberg/literal.h"

namespace meshwork::iceberg {

uint32_t Murmur3_32(const void* data, size_t size, uint32_t seed = 0);

/// The spec's hash of a value: ints, dates and longs hash as 8-byte little-endian longs (so
/// promotion keeps buckets), decimals as their minimal big-endian two's-complement unscaled
/// bytes, uuids as 16 big-endian bytes, strings as UTF-8, floats as the bits of the double.
int32_t IcebergHash(const Literal& value);

/// The fewest big-endian two's-complement bytes that hold `value` (decimal hashing and the
/// single-value serialization of decimals).
std::string MinimalBigEndian(__int128 value);

/// bucket[N]: (hash & INT_MAX) % N.
inline int32_t BucketOf(int32_t hash, int32_t buckets) {
  return (hash & 0x7fffffff) % buckets;
}

}  // namespace meshwork::iceberg
