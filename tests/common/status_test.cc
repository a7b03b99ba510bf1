#include "common/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "common/result.h"
#include "testing/status_matchers.h"

namespace meshwork {
namespace {

TEST(StatusTest, DefaultIsOkAndOnePointerWide) {
  Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kOk);
  EXPECT_EQ(status.message(), "");
  EXPECT_EQ(status.ToString(), "ok");
  EXPECT_EQ(sizeof(Status), sizeof(void*));
}

TEST(StatusTest, FactoriesFormatTheirMessage) {
  Status status = Status::NotFound("table '{}.{}' does not exist", "sales", "orders");
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "table 'sales.orders' does not exist");
  EXPECT_EQ(status.ToString(), "not_found: table 'sales.orders' does not exist");
}

TEST(StatusTest, EveryCodeHasASnakeCaseName) {
  EXPECT_EQ(StatusCodeName(StatusCode::kInvalidArgument), "invalid_argument");
  EXPECT_EQ(StatusCodeName(StatusCode::kAlreadyExists), "already_exists");
  EXPECT_EQ(StatusCodeName(StatusCode::kConflict), "conflict");
  EXPECT_EQ(StatusCodeName(StatusCode::kFailedPrecondition), "failed_precondition");
  EXPECT_EQ(StatusCodeName(StatusCode::kPermissionDenied), "permission_denied");
  EXPECT_EQ(StatusCodeName(StatusCode::kUnauthenticated), "unauthenticated");
  EXPECT_EQ(StatusCodeName(StatusCode::kUnavailable), "unavailable");
  EXPECT_EQ(StatusCodeName(StatusCode::kIOError), "io_error");
  EXPECT_EQ(StatusCodeName(StatusCode::kNotImplemented), "not_implemented");
  EXPECT_EQ(StatusCodeName(StatusCode::kCancelled), "cancelled");
  EXPECT_EQ(StatusCodeName(StatusCode::kInternal), "internal");
}

TEST(StatusTest, ContextChainsOutermostFirstInToString) {
  Status status = Status::IOError("open failed: No such file or directory")
                      .WithContext("cannot read spec {}", "dataproduct.yaml")
                      .WithContext("cannot deploy marketing.campaigns");
  ASSERT_EQ(status.context().size(), 2u);
  EXPECT_EQ(status.context()[0], "cannot read spec dataproduct.yaml");
  EXPECT_EQ(status.ToString(),
            "io_error: cannot deploy marketing.campaigns: cannot read spec dataproduct.yaml: "
            "open failed: No such file or directory");
  EXPECT_EQ(status.message(), "open failed: No such file or directory");
}

TEST(StatusTest, DetailFieldsTravelWithTheError) {
  Status status = Status::InvalidArgument("expected a semantic version, got '1.x'")
                      .WithLocation({"dataproduct.yaml", 3, 10})
                      .WithResource("marketing.campaigns")
                      .WithSqlState("22023")
                      .WithHint("use MAJOR.MINOR.PATCH, e.g. 1.2.0");
  ASSERT_NE(status.location(), nullptr);
  EXPECT_EQ(status.location()->line, 3);
  EXPECT_EQ(status.resource(), "marketing.campaigns");
  EXPECT_EQ(status.sqlstate(), "22023");
  EXPECT_EQ(status.ToString(),
            "invalid_argument: dataproduct.yaml:3:10: expected a semantic version, got '1.x' "
            "(resource: marketing.campaigns) [SQLSTATE 22023]; hint: use MAJOR.MINOR.PATCH, e.g. "
            "1.2.0");
}

TEST(StatusTest, CopiesAreDeepAndIndependent) {
  Status original = Status::Conflict("commit lost the race").WithLocation({"f", 1, 2});
  Status copy = original;
  copy = std::move(copy).WithContext("retrying");
  EXPECT_TRUE(original.context().empty());
  EXPECT_EQ(copy.context().size(), 1u);
  ASSERT_NE(copy.location(), nullptr);
  EXPECT_EQ(copy, original);  // equality compares code and message only
  Status ok;
  copy = ok;
  EXPECT_TRUE(copy.ok());
}

TEST(StatusTest, DecoratingAnOkStatusKeepsItOk) {
  Status status = Status::OK().WithContext("ignored").WithHint("ignored");
  EXPECT_TRUE(status.ok());
  EXPECT_TRUE(status.context().empty());
}

TEST(StatusTest, FromErrnoNamesTheOperationAndTheReason) {
  Status status = Status::FromErrno(ENOENT, "cannot open '/nope'");
  EXPECT_THAT(status, IsError(StatusCode::kIOError, "cannot open '/nope': No such file"));
}

Result<int> ParsePositive(int value) {
  if (value <= 0) return Status::InvalidArgument("{} is not positive", value);
  return value;
}

Result<int> DoubleIt(int value) {
  MW_ASSIGN_OR_RETURN(int parsed, ParsePositive(value));
  return parsed * 2;
}

Status CheckBoth(int a, int b) {
  MW_RETURN_IF_ERROR(ParsePositive(a));
  MW_RETURN_IF_ERROR(ParsePositive(b).status());
  return Status::OK();
}

TEST(ResultTest, HoldsAValueOrAnError) {
  Result<int> good = ParsePositive(4);
  ASSERT_TRUE(good.has_value());
  EXPECT_EQ(*good, 4);
  EXPECT_TRUE(good.status().ok());
  Result<int> bad = ParsePositive(-1);
  EXPECT_FALSE(bad.has_value());
  EXPECT_THAT(bad, IsError(StatusCode::kInvalidArgument, "-1 is not positive"));
  EXPECT_EQ(bad.value_or(7), 7);
}

TEST(ResultTest, MacrosPropagateErrorsAndValues) {
  EXPECT_EQ(DoubleIt(21).value(), 42);
  EXPECT_THAT(DoubleIt(0), IsError(StatusCode::kInvalidArgument));
  EXPECT_OK(CheckBoth(1, 2));
  EXPECT_THAT(CheckBoth(1, -2), IsError(StatusCode::kInvalidArgument, "-2"));
}

TEST(ResultTest, AssignMacroAcceptsParenthesisedTypesWithCommas) {
  auto make_pair = []() -> Result<std::pair<int, int>> { return std::pair<int, int>{1, 2}; };
  auto use = [&]() -> Result<int> {
    MW_ASSIGN_OR_RETURN((std::pair<int, int> p), make_pair());
    return p.first + p.second;
  };
  EXPECT_EQ(use().value(), 3);
}

TEST(ResultTest, MoveOnlyValues) {
  auto make = []() -> Result<std::unique_ptr<int>> { return std::make_unique<int>(5); };
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<int> owned, make());
  EXPECT_EQ(*owned, 5);
}

TEST(ResultTest, AnOkStatusIsNotAValidError) {
  Result<int> result{Status::OK()};
  EXPECT_THAT(result, IsError(StatusCode::kInternal));
}

TEST(ResultTest, WithContextDecoratesOnlyErrors) {
  EXPECT_EQ(ParsePositive(3).WithContext("ctx").value(), 3);
  EXPECT_THAT(ParsePositive(-3).WithContext("while checking x"),
              IsError(StatusCode::kInvalidArgument, "while checking x: -3"));
}

TEST(ResultDeathTest, ValueOnAnErrorAbortsWithTheError) {
  EXPECT_DEATH((void)ParsePositive(-5).value(), "-5 is not positive");
}

}  // namespace
}  // namespace meshwork
