#include "storage/location.h"

#include <gtest/gtest.h>

#include "testing/status_matchers.h"

namespace meshwork::storage {
namespace {

TEST(LocationTest, ParsesUrisAndPlainPaths) {
  ASSERT_OK_AND_ASSIGN(ParsedLocation file, ParseLocation("file:///srv/w/a%20b.parquet"));
  EXPECT_EQ(file.scheme, "file");
  EXPECT_EQ(file.path, "/srv/w/a b.parquet");
  ASSERT_OK_AND_ASSIGN(ParsedLocation short_form, ParseLocation("file:/srv/w/x"));
  EXPECT_EQ(short_form.path, "/srv/w/x");
  ASSERT_OK_AND_ASSIGN(ParsedLocation localhost, ParseLocation("FILE://localhost/srv/w/x"));
  EXPECT_EQ(localhost.scheme, "file");
  EXPECT_EQ(localhost.path, "/srv/w/x");
  ASSERT_OK_AND_ASSIGN(ParsedLocation s3, ParseLocation("s3://bucket/prefix/key.parquet"));
  EXPECT_EQ(s3.scheme, "s3");
  EXPECT_EQ(s3.authority, "bucket");
  EXPECT_EQ(s3.path, "prefix/key.parquet");
  // An S3 key is taken as written: '%' is part of it (Hive-escaped partition values).
  ASSERT_OK_AND_ASSIGN(ParsedLocation escaped, ParseLocation("s3a://b/t/hour=05%3A00/f%20g"));
  EXPECT_EQ(escaped.path, "t/hour=05%3A00/f%20g");
  ASSERT_OK_AND_ASSIGN(ParsedLocation plain, ParseLocation("data/a:b%20.parquet"));
  EXPECT_EQ(plain.scheme, "");
  EXPECT_EQ(plain.path, "data/a:b%20.parquet");  // plain paths are not percent-decoded
}

TEST(LocationTest, RefusesMalformedLocations) {
  EXPECT_THAT(ParseLocation("").status(), IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseLocation("file://otherhost/x").status(),
              IsError(StatusCode::kInvalidArgument, "otherhost"));
  EXPECT_THAT(ParseLocation("file:///x%zz").status(),
              IsError(StatusCode::kInvalidArgument, "percent escape"));
  EXPECT_THAT(ParseLocation("file:///x%2").status(), IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseLocation("file:///x%00y").status(),
              IsError(StatusCode::kInvalidArgument, "NUL"));
  EXPECT_THAT(ParseLocation(std::string("a\0b", 3)).status(),
              IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseLocation(std::string(10000, 'a')).status(),
              IsError(StatusCode::kInvalidArgument, "longer than"));
}

TEST(LocationTest, NormalizesRelativePaths) {
  EXPECT_THAT(NormalizeRelativePath("a//b/./c/"), IsOkAndHolds(std::string("a/b/c")));
  EXPECT_THAT(NormalizeRelativePath("/a/b"), IsOkAndHolds(std::string("a/b")));
  EXPECT_THAT(NormalizeRelativePath("..").status(), IsError(StatusCode::kPermissionDenied, ".."));
  EXPECT_THAT(NormalizeRelativePath("a/../../x").status(),
              IsError(StatusCode::kPermissionDenied, "warehouse root"));
  EXPECT_THAT(NormalizeRelativePath("a/..").status(), IsError(StatusCode::kPermissionDenied));
  EXPECT_THAT(NormalizeRelativePath("./.").status(), IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(NormalizeRelativePath("").status(), IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(NormalizeRelativePath(std::string(300, 'x')).status(),
              IsError(StatusCode::kInvalidArgument, "255"));
  EXPECT_OK(NormalizeRelativePath("..a/b..").status());  // names that merely contain dots
}

TEST(LocationTest, PercentEncodedDotDotIsCaughtAfterDecoding) {
  // Decoding comes first, so an encoded ".." reaches NormalizeRelativePath as a real "..".
  ASSERT_OK_AND_ASSIGN(ParsedLocation parsed, ParseLocation("file:///w/a/%2e%2e/%2E%2E/x"));
  EXPECT_EQ(parsed.path, "/w/a/../../x");
  EXPECT_THAT(NormalizeRelativePath(parsed.path).status(),
              IsError(StatusCode::kPermissionDenied, "warehouse root"));
  ASSERT_OK_AND_ASSIGN(ParsedLocation slash, ParseLocation("file:///w/a%2F..%2Fx"));
  EXPECT_EQ(slash.path, "/w/a/../x");
  EXPECT_THAT(NormalizeRelativePath(slash.path).status(), IsError(StatusCode::kPermissionDenied));
  // Even a ".." that would stay inside is refused: warehouse paths never need one.
  EXPECT_THAT(NormalizeRelativePath("a/b/../c").status(), IsError(StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace meshwork::storage
