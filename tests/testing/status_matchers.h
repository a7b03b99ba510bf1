// Test helpers for Status and Result: IsOk(), IsError(code), IsError(code, substring),
// ASSERT_OK(expr), EXPECT_OK(expr), ASSERT_OK_AND_ASSIGN(lhs, rexpr).
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "common/result.h"
#include "common/status.h"

namespace meshwork {

inline void PrintTo(const Status& status, std::ostream* os) {
  *os << status.ToString();
}
template <typename T>
void PrintTo(const Result<T>& result, std::ostream* os) {
  *os << (result.has_value() ? std::string("value") : result.error().ToString());
}

namespace testing_internal {
inline const Status& GetStatus(const Status& status) {
  return status;
}
template <typename T>
Status GetStatus(const Result<T>& result) {
  return result.status();
}
}  // namespace testing_internal

MATCHER(IsOk, "is OK") {
  auto status = ::meshwork::testing_internal::GetStatus(arg);
  if (!status.ok()) *result_listener << status.ToString();
  return status.ok();
}

MATCHER_P(IsError, code,
          std::string("is a ") + std::string(::meshwork::StatusCodeName(code)) + " error") {
  auto status = ::meshwork::testing_internal::GetStatus(arg);
  *result_listener << status.ToString();
  return status.code() == code;
}

MATCHER_P2(IsError, code, substring,
           std::string("is a ") + std::string(::meshwork::StatusCodeName(code)) +
               " error mentioning \"" + std::string(substring) + "\"") {
  auto status = ::meshwork::testing_internal::GetStatus(arg);
  *result_listener << status.ToString();
  return status.code() == code && status.ToString().find(substring) != std::string::npos;
}

/// A Result that holds a value matching `matcher` (a value or a gMock matcher).
MATCHER_P(IsOkAndHolds, matcher, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << arg.error().ToString();
    return false;
  }
  return ::testing::ExplainMatchResult(matcher, *arg, result_listener);
}

}  // namespace meshwork

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::meshwork::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::meshwork::IsOk())
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  ASSERT_OK_AND_ASSIGN_IMPL(MESHWORK_CONCAT(_mw_test_result_, __LINE__), lhs, rexpr)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                              \
  ASSERT_THAT(tmp, ::meshwork::IsOk());            \
  MESHWORK_REMOVE_PARENS(lhs) = std::move(tmp).value()
