// UTC time helpers. meshwork stores and exchanges instants as integer microseconds (or, where the
// Iceberg spec says so, milliseconds) since the Unix epoch, and prints them as RFC 3339 in UTC.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace meshwork::time {

/// Microseconds / milliseconds since 1970-01-01T00:00:00Z, from the system clock.
int64_t NowMicros();
int64_t NowMillis();

/// Days since 1970-01-01 of a proleptic Gregorian date (negative before the epoch).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);

struct CivilDate {
  int64_t year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};
/// The proleptic Gregorian date of a day count since 1970-01-01.
CivilDate CivilFromDays(int64_t days);

/// "2026-11-24T19:16:05.123456Z" (always six fractional digits).
std::string FormatRfc3339Micros(int64_t micros);
/// "2026-11-24T19:16:05.123Z" (always three fractional digits).
std::string FormatRfc3339Millis(int64_t millis);

/// Parses an RFC 3339 / ISO 8601 instant into microseconds since the epoch: date, 'T' or ' ',
/// time with optional fraction (up to 9 digits, truncated to micros), then 'Z' or ±hh:mm.
/// A date alone ("2026-11-24") means midnight UTC. InvalidArgument names the offending position.
Result<int64_t> ParseRfc3339(std::string_view text);

}  // namespace meshwork::time
