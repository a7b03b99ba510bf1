// Scalar UDFs from C++ lambdas, and bulk loading with the Appender.

#include <gtest/gtest.h>

#include "engine/connection.h"
#include "engine/database.h"
#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class UdfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(database_, Database::Open({.threads = 2}));
    ASSERT_OK_AND_ASSIGN(connection_, database_->Connect());
  }
  std::optional<Database> database_;
  std::optional<Connection> connection_;
};

TEST_F(UdfTest, TypedLambdaOverManyRowsWithNulls) {
  ASSERT_OK(connection_->RegisterScalarFunction(MakeScalarFunction<int64_t(int64_t, int32_t)>(
      "times_plus", [](int64_t value, int32_t factor) { return value * factor + 1; })));
  ASSERT_OK_AND_ASSIGN(
      auto rows, connection_->QueryText("SELECT sum(times_plus(i, 3)), count(times_plus(NULL, 3)), "
                                        "times_plus(2, NULL) FROM range(100000) t(i)"));
  // sum(3i + 1) for i < 100000 = 3 * 4999950000 + 100000
  EXPECT_THAT(rows, ElementsAre(ElementsAre("14999950000", "0", "NULL")));
}

TEST_F(UdfTest, StringFunctionsAndConstantArguments) {
  ASSERT_OK(connection_->RegisterScalarFunction(
      MakeScalarFunction<std::string(std::string_view)>("mask_email", [](std::string_view email) {
        const size_t at = email.find('@');
        if (at == std::string_view::npos) return std::string("****");
        return std::string(1, email[0]) + "***" + std::string(email.substr(at));
      })));
  ASSERT_OK_AND_ASSIGN(
      auto rows, connection_->QueryText("SELECT mask_email('alice@example.com'), "
                                        "mask_email(e) FROM (VALUES ('bob.long.name@corp.io'), "
                                        "('nobody'), (NULL)) v(e)"));
  EXPECT_THAT(rows, ElementsAre(ElementsAre("a***@example.com", "b***@corp.io"),
                                ElementsAre("a***@example.com", "****"),
                                ElementsAre("a***@example.com", "NULL")));
}

TEST_F(UdfTest, ErrorsFromTheBodyFailTheQuery) {
  ASSERT_OK(connection_->RegisterScalarFunction(
      MakeScalarFunction<int32_t(int32_t)>("checked_inverse", [](int32_t value) -> Result<int32_t> {
        if (value == 0) return Status::InvalidArgument("cannot invert zero");
        return 100 / value;
      })));
  ASSERT_OK_AND_ASSIGN(auto rows, connection_->QueryText("SELECT checked_inverse(4)"));
  EXPECT_THAT(rows, ElementsAre(ElementsAre("25")));
  auto failed = connection_->QueryText("SELECT checked_inverse(i::INTEGER) FROM range(3) t(i)");
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.error().ToString(), HasSubstr("cannot invert zero"));
  EXPECT_THAT(failed.error().ToString(), HasSubstr("checked_inverse"));

  ASSERT_OK(connection_->RegisterScalarFunction(MakeScalarFunction<int32_t(int32_t)>(
      "throws", [](int32_t) -> int32_t { throw std::runtime_error("boom"); })));
  auto thrown = connection_->QueryText("SELECT throws(1)");
  ASSERT_FALSE(thrown.ok());
  EXPECT_THAT(thrown.error().ToString(), HasSubstr("boom"));
}

TEST_F(UdfTest, VectorizedBodyAndNullHandling) {
  ScalarFunctionSpec spec;
  spec.name = "coalesce_len";
  spec.parameters = {Type(TypeId::kVarchar)};
  spec.return_type = Type(TypeId::kBigInt);
  spec.handles_nulls = true;
  spec.body = [](const DataChunk& input, OutputVector& output) {
    for (uint64_t row = 0; row < input.size(); ++row) {
      const Vector& text = input.column(0);
      output.Set<int64_t>(row,
                          text.IsNull(row) ? -1 : static_cast<int64_t>(text.GetString(row).size()));
    }
    return Status::OK();
  };
  ASSERT_OK(connection_->RegisterScalarFunction(spec));
  ASSERT_OK_AND_ASSIGN(auto rows,
                       connection_->QueryText("SELECT coalesce_len(s) FROM (VALUES ('abc'), "
                                              "(NULL), ('a much longer string value')) v(s)"));
  EXPECT_THAT(rows, ElementsAre(ElementsAre("3"), ElementsAre("-1"), ElementsAre("26")));
  // Same name and signature twice is refused.
  EXPECT_FALSE(connection_->RegisterScalarFunction(spec).ok());
}

TEST_F(UdfTest, UdfsAreVisibleFromOtherConnections) {
  ASSERT_OK(connection_->RegisterScalarFunction(
      MakeScalarFunction<bool(int64_t)>("is_even", [](int64_t v) { return v % 2 == 0; })));
  ASSERT_OK_AND_ASSIGN(Connection other, database_->Connect());
  ASSERT_OK_AND_ASSIGN(auto rows,
                       other.QueryText("SELECT count(*) FILTER (is_even(i)) FROM range(10) t(i)"));
  EXPECT_THAT(rows, ElementsAre(ElementsAre("5")));
}

TEST_F(UdfTest, AppenderLoadsTypedRows) {
  ASSERT_OK(connection_->Execute(
      "CREATE TABLE events(id BIGINT, name VARCHAR, amount DECIMAL(10,2), day DATE, "
      "happened_at TIMESTAMPTZ, ok BOOLEAN, payload BLOB)"));
  ASSERT_OK_AND_ASSIGN(Appender appender, connection_->CreateAppender("", "events"));
  EXPECT_EQ(appender.column_count(), 7u);
  for (int64_t id = 0; id < 10000; ++id) {
    ASSERT_OK(appender.AppendRow(id, "event-" + std::to_string(id),
                                 Decimal{HugeInt{static_cast<uint64_t>(id * 100 + 5), 0}, 10, 2},
                                 Date{19723}, TimestampTz{1704067200000000 + id}, id % 2 == 0,
                                 Blob{"\x01\x02"}));
  }
  ASSERT_OK(appender.AppendRow(int64_t{-1}, std::monostate{}, std::monostate{}, std::monostate{},
                               std::monostate{}, std::monostate{}, std::monostate{}));
  ASSERT_OK(appender.Close());
  ASSERT_OK_AND_ASSIGN(auto rows, connection_->QueryText(
                                      "SELECT count(*), sum(amount), min(happened_at), count(name) "
                                      "FROM events"));
  EXPECT_THAT(rows,
              ElementsAre(ElementsAre("10001", "49995500.00", "2024-01-01 00:00:00+00", "10000")));
}

TEST_F(UdfTest, AppenderReportsBadRowsAndMissingTables) {
  EXPECT_THAT(connection_->CreateAppender("", "nope").status(),
              IsError(StatusCode::kNotFound, "nope"));
  ASSERT_OK(connection_->Execute("CREATE TABLE pairs(a INTEGER, b INTEGER)"));
  ASSERT_OK_AND_ASSIGN(Appender appender, connection_->CreateAppender("main", "pairs"));
  ASSERT_OK(appender.Append(1));
  Status ended = appender.EndRow();  // one column short
  EXPECT_FALSE(ended.ok());
  EXPECT_THAT(ended.ToString(), HasSubstr("pairs"));
}

}  // namespace
}  // namespace meshwork::engine
