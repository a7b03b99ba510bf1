#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

#include "common/time.h"
#include "common/uuid.h"
#include "testing/status_matchers.h"

namespace meshwork {
namespace {

TEST(TimeTest, CivilConversionsRoundTripAcrossEras) {
  EXPECT_EQ(time::DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(time::DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(time::DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(time::DaysFromCivil(1900, 3, 1), -25508);
  for (int64_t days = -800000; days <= 800000; days += 997) {
    const auto date = time::CivilFromDays(days);
    ASSERT_EQ(time::DaysFromCivil(date.year, date.month, date.day), days) << days;
  }
  const auto leap = time::CivilFromDays(time::DaysFromCivil(2024, 2, 29));
  EXPECT_EQ(leap.year, 2024);
  EXPECT_EQ(leap.month, 2u);
  EXPECT_EQ(leap.day, 29u);
}

TEST(TimeTest, FormatsRfc3339InUtc) {
  EXPECT_EQ(time::FormatRfc3339Micros(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(time::FormatRfc3339Millis(1732475765123), "2024-11-24T19:16:05.123Z");
  EXPECT_EQ(time::FormatRfc3339Micros(-1), "1969-12-31T23:59:59.999999Z");
}

TEST(TimeTest, ParsesRfc3339VariantsToMicros) {
  EXPECT_EQ(time::ParseRfc3339("2024-11-24T19:16:05.123Z").value(), 1732475765123000);
  EXPECT_EQ(time::ParseRfc3339("2024-11-24 19:16:05.123456789Z").value(), 1732475765123456);
  EXPECT_EQ(time::ParseRfc3339("2024-11-24T21:16:05.5+02:00").value(), 1732475765500000);
  EXPECT_EQ(time::ParseRfc3339("2024-11-24T14:16-0500").value(), 1732475760000000);
  EXPECT_EQ(time::ParseRfc3339("1970-01-01").value(), 0);
  EXPECT_EQ(time::ParseRfc3339("1969-12-31T23:59:59.999999Z").value(), -1);
  const int64_t now = time::NowMicros();
  EXPECT_EQ(time::ParseRfc3339(time::FormatRfc3339Micros(now)).value(), now);
}

TEST(TimeTest, RejectsMalformedTimestampsNamingThePosition) {
  EXPECT_THAT(time::ParseRfc3339(""), IsError(StatusCode::kInvalidArgument, "4-digit year"));
  EXPECT_THAT(time::ParseRfc3339("2024-13-01"), IsError(StatusCode::kInvalidArgument, "month"));
  EXPECT_THAT(time::ParseRfc3339("2023-02-29"), IsError(StatusCode::kInvalidArgument, "day"));
  EXPECT_THAT(time::ParseRfc3339("2024-01-01T25:00Z"),
              IsError(StatusCode::kInvalidArgument, "hour"));
  EXPECT_THAT(time::ParseRfc3339("2024-01-01T10:00:00Q"),
              IsError(StatusCode::kInvalidArgument, "position 20"));
  EXPECT_THAT(time::ParseRfc3339("2024-01-01T10:00:00.1234567891Z"),
              IsError(StatusCode::kInvalidArgument, "at most 9"));
  EXPECT_THAT(time::ParseRfc3339("2024-01-01T10:00:00Z trailing"),
              IsError(StatusCode::kInvalidArgument, "end of the timestamp"));
}

TEST(UuidTest, V4HasVersionVariantAndIsUnique) {
  std::set<Uuid> seen;
  for (int i = 0; i < 1000; ++i) {
    const Uuid id = Uuid::V4();
    EXPECT_EQ(id.version(), 4);
    EXPECT_EQ(id.bytes()[8] & 0xC0, 0x80);
    EXPECT_TRUE(seen.insert(id).second);
  }
}

TEST(UuidTest, V7CarriesTheTimeAndIsStrictlyIncreasingAcrossThreads) {
  const int64_t before = time::NowMillis();
  const Uuid first = Uuid::V7();
  EXPECT_EQ(first.version(), 7);
  EXPECT_EQ(first.bytes()[8] & 0xC0, 0x80);
  EXPECT_GE(first.V7UnixMillis(), before);
  EXPECT_LE(first.V7UnixMillis(), time::NowMillis() + 1);

  // Many ids in the same millisecond must still sort in creation order within each thread.
  std::vector<std::vector<Uuid>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& ids : per_thread) {
    threads.emplace_back([&ids] {
      for (int i = 0; i < 5000; ++i)
        ids.push_back(Uuid::V7());
    });
  }
  for (auto& thread : threads)
    thread.join();
  std::set<Uuid> all;
  for (const auto& ids : per_thread) {
    for (size_t i = 1; i < ids.size(); ++i)
      ASSERT_LT(ids[i - 1], ids[i]);
    all.insert(ids.begin(), ids.end());
  }
  EXPECT_EQ(all.size(), 20000u);
  EXPECT_EQ(Uuid::V7At(1732475765123).V7UnixMillis(), 1732475765123);
}

TEST(UuidTest, ParsesAndFormatsCanonicalText) {
  ASSERT_OK_AND_ASSIGN(Uuid id, Uuid::Parse("0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B"));
  EXPECT_EQ(id.ToString(), "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
  EXPECT_EQ(id.version(), 7);
  EXPECT_EQ(Uuid::Parse("{0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b}").value(), id);
  EXPECT_EQ(Uuid::Parse("urn:uuid:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b").value(), id);
  const Uuid random = Uuid::V4();
  EXPECT_EQ(Uuid::Parse(random.ToString()).value(), random);
  EXPECT_TRUE(Uuid().IsNil());
  EXPECT_EQ(Uuid().ToString(), "00000000-0000-0000-0000-000000000000");
}

TEST(UuidTest, RejectsMalformedTextNamingThePosition) {
  EXPECT_THAT(Uuid::Parse("0190a1b2"), IsError(StatusCode::kInvalidArgument, "36 characters"));
  EXPECT_THAT(Uuid::Parse("0190a1b2xc3d4-7e5f-8a9b-0c1d2e3f4a5b"),
              IsError(StatusCode::kInvalidArgument, "'-' at position 9"));
  EXPECT_THAT(Uuid::Parse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5g"),
              IsError(StatusCode::kInvalidArgument, "hex digit at position 36"));
}

}  // namespace
}  // namespace meshwork
