#include "iceberg/transform.h"

#include <gtest/gtest.h>

#include "common/time.h"
#include "iceberg/murmur3.h"
#include "testing/status_matchers.h"

namespace meshwork::iceberg {
namespace {

int64_t Micros(int64_t year, unsigned month, unsigned day, int64_t hour, int64_t minute,
               int64_t second, int64_t micros = 0) {
  return ((time::DaysFromCivil(year, month, day) * 24 + hour) * 60 + minute) * 60000000 +
         second * 1000000 + micros;
}

// Appendix B of the spec publishes these values.
TEST(Murmur3Test, MatchesTheSpecsPublishedHashes) {
  EXPECT_EQ(IcebergHash(Literal::Int(34)), 2017239379);
  EXPECT_EQ(IcebergHash(Literal::Long(34)), 2017239379);
  EXPECT_EQ(IcebergHash(Literal::Decimal(4, 2, 1420)), -500754589);
  EXPECT_EQ(IcebergHash(Literal::Date(static_cast<int32_t>(time::DaysFromCivil(2017, 11, 16)))),
            -653330422);
  EXPECT_EQ(IcebergHash(Literal::Time((22 * 3600 + 31 * 60 + 8) * 1000000LL)), -662762989);
  EXPECT_EQ(IcebergHash(Literal::Timestamp(Micros(2017, 11, 16, 22, 31, 8))), -2047944441);
  EXPECT_EQ(IcebergHash(Literal::Timestamp(Micros(2017, 11, 16, 22, 31, 8, 1))), -1207196810);
  EXPECT_EQ(IcebergHash(Literal::TimestampTz(Micros(2017, 11, 16, 22, 31, 8))), -2047944441);
  EXPECT_EQ(IcebergHash(Literal::String("iceberg")), 1210000089);
  EXPECT_EQ(IcebergHash(Literal::Uuid({0xF7, 0x9C, 0x3E, 0x09, 0x67, 0x7C, 0x4B, 0xBD, 0xA4, 0x79,
                                       0x3F, 0x34, 0x9C, 0xB7, 0x85, 0xE7})),
            1488055340);
  EXPECT_EQ(IcebergHash(Literal::Fixed(std::string("\x00\x01\x02\x03", 4))), -188683207);
  EXPECT_EQ(IcebergHash(Literal::Binary(std::string("\x00\x01\x02\x03", 4))), -188683207);
  EXPECT_EQ(IcebergHash(Literal::Boolean(true)), 1392991556);
  EXPECT_EQ(IcebergHash(Literal::Float(1.0f)), -142385009);
  EXPECT_EQ(IcebergHash(Literal::Double(1.0)), -142385009);
  EXPECT_EQ(IcebergHash(Literal::Double(0.0)), 1669671676);
  EXPECT_EQ(IcebergHash(Literal::Double(-0.0)), 1669671676);
}

TEST(Murmur3Test, MinimalBigEndianDecimalBytes) {
  EXPECT_EQ(MinimalBigEndian(0), std::string("\x00", 1));
  EXPECT_EQ(MinimalBigEndian(127), "\x7f");
  EXPECT_EQ(MinimalBigEndian(128), std::string("\x00\x80", 2));
  EXPECT_EQ(MinimalBigEndian(-1), "\xff");
  EXPECT_EQ(MinimalBigEndian(-128), "\x80");
  EXPECT_EQ(MinimalBigEndian(-129), "\xff\x7f");
  EXPECT_EQ(MinimalBigEndian(1420), "\x05\x8c");
}

std::optional<Literal> Apply(const Transform& transform, const Literal& value) {
  auto result = transform.Apply(value);
  EXPECT_OK(result.status());
  return result.ok() ? *result : std::nullopt;
}

TEST(TransformTest, ParsesAndPrints) {
  for (const char* text :
       {"identity", "bucket[16]", "truncate[4]", "year", "month", "day", "hour", "void"}) {
    ASSERT_OK_AND_ASSIGN(Transform transform, Transform::Parse(text));
    EXPECT_EQ(transform.ToString(), text);
  }
  for (const char* bad : {"bucket[0]", "bucket[-1]", "bucket", "truncate[x]", "days", ""}) {
    EXPECT_THAT(Transform::Parse(bad).status(), IsError(StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(TransformTest, TimeTransformsFloorNegativeValues) {
  const Literal before_epoch = Literal::Timestamp(-1);  // 1969-12-31T23:59:59.999999
  EXPECT_EQ(Apply(Transform::Hour(), before_epoch)->as<int32_t>(), -1);
  EXPECT_EQ(Apply(Transform::Day(), before_epoch)->as<int32_t>(), -1);
  EXPECT_EQ(Apply(Transform::Month(), before_epoch)->as<int32_t>(), -1);
  EXPECT_EQ(Apply(Transform::Year(), before_epoch)->as<int32_t>(), -1);
  const Literal ts = Literal::TimestampTz(Micros(2024, 3, 5, 13, 4, 5));
  EXPECT_EQ(Transform::Year().HumanString(Apply(Transform::Year(), ts)), "2024");
  EXPECT_EQ(Transform::Month().HumanString(Apply(Transform::Month(), ts)), "2024-03");
  EXPECT_EQ(Transform::Day().HumanString(Apply(Transform::Day(), ts)), "2024-03-05");
  EXPECT_EQ(Transform::Hour().HumanString(Apply(Transform::Hour(), ts)), "2024-03-05-13");
  EXPECT_EQ(Transform::Hour().HumanString(Literal::Int(-1)), "1969-12-31-23");
  EXPECT_EQ(Transform::Month().HumanString(Literal::Int(-1)), "1969-12");
  const Literal date = Literal::Date(static_cast<int32_t>(time::DaysFromCivil(2024, 2, 29)));
  EXPECT_EQ(Apply(Transform::Month(), date)->as<int32_t>(), 54 * 12 + 1);
  EXPECT_EQ(Apply(Transform::Day(), date)->type()->kind(), TypeKind::kDate);
}

TEST(TransformTest, TruncateAndBucket) {
  EXPECT_EQ(Apply(Transform::Truncate(10), Literal::Int(1))->as<int32_t>(), 0);
  EXPECT_EQ(Apply(Transform::Truncate(10), Literal::Int(-1))->as<int32_t>(), -10);
  EXPECT_EQ(Apply(Transform::Truncate(10), Literal::Long(-11))->as<int64_t>(), -20);
  EXPECT_EQ(
      Apply(Transform::Truncate(50), Literal::Decimal(4, 2, 1065))->as<DecimalValue>().unscaled,
      1050);
  EXPECT_EQ(Apply(Transform::Truncate(3), Literal::String("iceberg"))->as<std::string>(), "ice");
  // Code points, not bytes: "Ä" and "β" take two bytes each.
  EXPECT_EQ(Apply(Transform::Truncate(2), Literal::String("Äβc"))->as<std::string>(), "Äβ");
  EXPECT_EQ(Apply(Transform::Truncate(3), Literal::Binary("\x01\x02\x03\x04"))->as<Bytes>().data,
            "\x01\x02\x03");
  EXPECT_EQ(Apply(Transform::Bucket(16), Literal::Int(34))->as<int32_t>(),
            (2017239379 & 0x7fffffff) % 16);
  EXPECT_FALSE(Apply(Transform::Void(), Literal::Int(3)).has_value());
  EXPECT_FALSE(Transform::Identity().Apply(std::nullopt)->has_value());
  EXPECT_THAT(Transform::Bucket(4).Apply(Literal::Double(1.0)).status(),
              IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(Transform::Hour().ResultType(Type::Date()).status(),
              IsError(StatusCode::kInvalidArgument, "hour"));
}

}  // namespace
}  // namespace meshwork::iceberg
