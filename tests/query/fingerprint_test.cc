// Statement fingerprints for the audit log: literals out, same shape same fingerprint.
#include "query/fingerprint.h"

#include <gtest/gtest.h>

namespace meshwork::query {
namespace {

TEST(FingerprintTest, LiteralsCommentsCaseAndSpacingDoNotChangeIt) {
  EXPECT_EQ(NormalizeStatement("SELECT email FROM customers.customers WHERE country = 'DE' "
                               "AND customer_number > 42 -- mine\n;"),
            "select email from customers.customers where country=? and customer_number>?");
  EXPECT_EQ(StatementFingerprint("select  email from customers.customers where country='FR'"),
            StatementFingerprint("SELECT email\nFROM customers.customers /* x */ WHERE "
                                 "country = 'it''s'"));
  EXPECT_NE(StatementFingerprint("SELECT email FROM customers.customers"),
            StatementFingerprint("SELECT name FROM customers.customers"));
  EXPECT_EQ(StatementFingerprint("SELECT 1").size(), 16u);
}

TEST(FingerprintTest, KeepsNamesAndQuotedIdentifiersButNeverTheLiterals) {
  const std::string normalized = NormalizeStatement(
      "SELECT \"Card Number\", q3_revenue.v2 FROM t WHERE card = "
      "'4111 1111 1111 1111' OR id IN (1.5e3, 7)");
  EXPECT_EQ(normalized, "select \"Card Number\",q3_revenue.v2 from t where card=? or id in(?,?)");
  EXPECT_EQ(normalized.find("4111"), std::string::npos);
}

TEST(FingerprintTest, HostileInputStaysBounded) {
  EXPECT_EQ(NormalizeStatement("SELECT 'unterminated"), "select ?");
  EXPECT_EQ(NormalizeStatement("/* unterminated"), "");
  EXPECT_EQ(NormalizeStatement(std::string("a\0b", 3)), std::string("a\0b", 3));
  EXPECT_LE(NormalizeStatement(std::string(1 << 20, 'x')).size(), 2000u);
  EXPECT_LE(NormalizeStatement(std::string(100000, '(')).size(), 2000u);
}

}  // namespace
}  // namespace meshwork::query
