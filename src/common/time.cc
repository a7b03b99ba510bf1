#include "common/time.h"

#include <chrono>
#include <cstdlib>

namespace meshwork::time {

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t NowMillis() {
  return NowMicros() / 1000;
}

// The civil-calendar conversion follows the well-known "days from civil" derivation (H. Hinnant,
// chrono-Compatible Low-Level Date Algorithms): shift the year to start in March so the leap day is
// the last day of the year.
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<int64_t>(day_of_era) - 719468;
}

CivilDate CivilFromDays(int64_t days) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto day_of_era = static_cast<unsigned>(days - era * 146097);
  const unsigned year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const unsigned day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned shifted_month = (5 * day_of_year + 2) / 153;
  const unsigned day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
  const unsigned month = shifted_month < 10 ? shifted_month + 3 : shifted_month - 9;
  return {static_cast<int64_t>(year_of_era) + era * 400 + (month <= 2), month, day};
}

namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

std::string FormatWithFraction(int64_t units, int64_t units_per_second, int fraction_digits) {
  const int64_t seconds = FloorDiv(units, units_per_second);
  const int64_t fraction = units - seconds * units_per_second;
  const int64_t days = FloorDiv(seconds, 86400);
  const int64_t second_of_day = seconds - days * 86400;
  const CivilDate date = CivilFromDays(days);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:0{}}Z", date.year, date.month, date.day,
                     second_of_day / 3600, second_of_day / 60 % 60, second_of_day % 60, fraction,
                     fraction_digits);
}

class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}
  bool AtEnd() const { return pos_ >= text_.size(); }
  size_t pos() const { return pos_; }
  bool Peek(char c) const { return !AtEnd() && text_[pos_] == c; }
  bool Consume(char c) {
    if (!Peek(c)) return false;
    ++pos_;
    return true;
  }
  char Next() { return text_[pos_++]; }
  // Reads exactly `digits` decimal digits.
  bool Digits(int digits, int64_t* out) {
    int64_t value = 0;
    for (int i = 0; i < digits; ++i) {
      if (AtEnd() || text_[pos_] < '0' || text_[pos_] > '9') return false;
      value = value * 10 + (text_[pos_++] - '0');
    }
    *out = value;
    return true;
  }
  bool IsDigit() const { return !AtEnd() && text_[pos_] >= '0' && text_[pos_] <= '9'; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

std::string FormatRfc3339Micros(int64_t micros) {
  return FormatWithFraction(micros, 1000000, 6);
}

std::string FormatRfc3339Millis(int64_t millis) {
  return FormatWithFraction(millis, 1000, 3);
}

Result<int64_t> ParseRfc3339(std::string_view text) {
  Scanner scan(text);
  auto fail = [&](std::string_view expected) {
    return Status::InvalidArgument("invalid timestamp '{}': expected {} at position {}", text,
                                   expected, scan.pos() + 1)
        .WithHint("write an RFC 3339 instant such as 2026-11-24T19:16:05.123Z");
  };
  int64_t year, month, day;
  if (!scan.Digits(4, &year)) return fail("a 4-digit year");
  if (!scan.Consume('-') || !scan.Digits(2, &month)) return fail("'-' and a 2-digit month");
  if (!scan.Consume('-') || !scan.Digits(2, &day)) return fail("'-' and a 2-digit day");
  if (month < 1 || month > 12) return fail("a month from 01 to 12");
  static constexpr int kDaysInMonth[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day < 1 || day > kDaysInMonth[month - 1] || (month == 2 && day == 29 && !leap)) {
    return fail("a day that exists in that month");
  }
  int64_t micros = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) *
                   86400LL * 1000000;
  if (scan.AtEnd()) return micros;

  if (!scan.Consume('T') && !scan.Consume('t') && !scan.Consume(' ')) return fail("'T'");
  int64_t hour, minute, second = 0;
  if (!scan.Digits(2, &hour) || hour > 23) return fail("an hour from 00 to 23");
  if (!scan.Consume(':') || !scan.Digits(2, &minute) || minute > 59) {
    return fail("':' and minutes from 00 to 59");
  }
  if (scan.Consume(':') && (!scan.Digits(2, &second) || second > 60)) {
    return fail("seconds from 00 to 60");
  }
  int64_t fraction_micros = 0;
  if (scan.Consume('.')) {
    if (!scan.IsDigit()) return fail("fractional digits");
    int digits = 0;
    while (scan.IsDigit()) {
      const int digit = scan.Next() - '0';
      if (digits < 6) fraction_micros = fraction_micros * 10 + digit;
      if (++digits > 9) return fail("at most 9 fractional digits");
    }
    for (int i = digits; i < 6; ++i)
      fraction_micros *= 10;
  }
  // A leap second (:60) is folded into the next second, as most systems do.
  micros += ((hour * 60 + minute) * 60 + second) * 1000000 + fraction_micros;

  if (scan.Consume('Z') || scan.Consume('z')) {
    // UTC
  } else if (scan.Peek('+') || scan.Peek('-')) {
    const int sign = scan.Next() == '-' ? -1 : 1;
    int64_t offset_hours, offset_minutes = 0;
    if (!scan.Digits(2, &offset_hours) || offset_hours > 23) return fail("a 2-digit offset hour");
    if (scan.Consume(':') || scan.IsDigit()) {
      if (!scan.Digits(2, &offset_minutes) || offset_minutes > 59) {
        return fail("2-digit offset minutes");
      }
    }
    micros -= sign * (offset_hours * 60 + offset_minutes) * 60 * 1000000;
  } else if (!scan.AtEnd()) {
    return fail("'Z' or an offset such as +02:00");
  }
  if (!scan.AtEnd()) return fail("the end of the timestamp");
  return micros;
}

}  // namespace meshwork::time
