#include "governance/policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/connection.h"
#include "engine/database.h"
#include "governance/detectors.h"
#include "governance/governance.h"
#include "testing/status_matchers.h"

namespace meshwork::governance {
namespace {

using ::testing::HasSubstr;

TEST(PolicyTest, ParsesEveryCheckKind) {
  ASSERT_OK_AND_ASSIGN(auto policy, ParsePolicy(R"yaml(
kind: Policy
name: pii
rules:
  - id: documented
    description: Ports are documented
    severity: warn
    check: {kind: metadata, sql: "SELECT port FROM ports WHERE description IS NULL"}
  - id: hashed
    description: Cards are hashed
    scope: {classifications: [pii.credit_card]}
    check: {kind: data, detector: mandated_hash, sample_rows: 0}
  - id: mask
    description: E-mails keep their domain
    scope: {classifications: ["pii.email*"]}
    check: {kind: mask, mask: email_domain}
  - id: region
    description: Own region only
    scope: {tables: [sales.orders]}
    check: {kind: row_filter, sql: "region = principal_attr('region')"}
)yaml",
                                                "pii.yaml"));
  ASSERT_EQ(policy.rules.size(), 4u);
  EXPECT_FALSE(policy.rules[0].blocking);
  EXPECT_EQ(policy.rules[1].kind, CheckKind::kData);
  EXPECT_EQ(policy.rules[1].detector, Detector::kMandatedHash);
  EXPECT_EQ(policy.rules[1].sample_rows, 0);
  EXPECT_EQ(policy.rules[2].kind, CheckKind::kMask);
  EXPECT_EQ(policy.rules[3].scope.tables, std::vector<std::string>{"sales.orders"});
}

TEST(PolicyTest, RefusesBadPoliciesWithTheirPosition) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"kind: Policy\nname: x\nrules: [ {id: a", "YAML syntax error"},
      {"kind: Table\nname: x\nrules: []", "kind is 'Table'"},
      {"kind: Policy\nname: x\nrules: []", "has no rules"},
      {"kind: Policy\nname: x\nrules:\n  - {id: a, description: d, check: {kind: magic}}",
       "unknown check kind 'magic'"},
      {"kind: Policy\nname: x\nrules:\n  - {id: a, description: d, check: {kind: data}}",
       "needs a detector"},
      {"kind: Policy\nname: x\nrules:\n  - {id: a, description: d, check: {kind: mask, mask: "
       "hash}}",
       "selects no columns"},
      {"kind: Policy\nname: x\nrules:\n  - {id: a, description: d, scope: {columns: [c]}, "
       "check: {kind: mask, mask: scramble}}",
       "neither a built-in mask"},
      {"kind: Policy\nname: x\nrules:\n  - {id: a, description: d, check: {kind: metadata}}",
       "needs 'sql'"},
      {"kind: Policy\nname: x\nrules:\n  - {id: a, description: d, sevrity: warn, check: "
       "{kind: metadata, sql: SELECT 1}}",
       "unknown key 'sevrity'"},
      {"kind: Policy\nname: x\nrules:\n  - {id: a, description: d, check: {kind: metadata, "
       "sql: SELECT 1}}\n  - {id: a, description: d, check: {kind: metadata, sql: SELECT 1}}",
       "used twice"},
      {"kind: Policy\nname: Bad Name\nrules: []", "not a valid name"}};
  for (const auto& [text, message] : cases) {
    SCOPED_TRACE(text);
    auto parsed = ParsePolicy(text, "p.yaml");
    ASSERT_FALSE(parsed.ok());
    EXPECT_THAT(parsed.error().message(), HasSubstr(message));
  }
  auto located = ParsePolicy(
      "kind: Policy\nname: x\nrules:\n  - {id: a, description: d, check: {kind: magic}}", "p.yaml");
  ASSERT_NE(located.error().location(), nullptr);
  EXPECT_EQ(located.error().location()->line, 4);
}

TEST(PolicyTest, GlobsAndMasks) {
  EXPECT_TRUE(GlobMatch("pii.*", "pii.email"));
  EXPECT_TRUE(GlobMatch("PII.*", "pii.email"));
  EXPECT_FALSE(GlobMatch("pii.*", "confidential"));
  EXPECT_TRUE(GlobMatch("*_id", "customer_id"));
  EXPECT_TRUE(GlobMatch("a*b*c", "axxbyyc"));
  EXPECT_FALSE(GlobMatch("a*b*c", "axxbyy"));
  ASSERT_OK_AND_ASSIGN(auto custom, MaskExpression("left({column}, 1) || {column}", "c"));
  EXPECT_EQ(custom, "left(c, 1) || c");
}

// What each built-in mask makes of values, NULLs and values without the expected shape.
TEST(PolicyTest, BuiltInMasksOnEdgeValues) {
  ASSERT_OK_AND_ASSIGN(auto database, engine::Database::Open({.threads = 1}));
  ASSERT_OK_AND_ASSIGN(auto connection, database.Connect());
  const auto masked = [&](const std::string& mask) -> std::vector<std::string> {
    auto expression = MaskExpression(mask, "\"v\"");
    if (!expression.ok()) return {expression.error().ToString()};
    auto rows = connection.QueryText(
        "SELECT coalesce(CAST(" + *expression +
        " AS VARCHAR), '<null>') FROM (VALUES (1, 'anna@example.com'), (2, NULL), (3, 'no-at'), "
        "(4, '@bare.org'), (5, 'a@b@c'), (6, '')) t(i, \"v\") ORDER BY i");
    if (!rows.ok()) return {rows.error().ToString()};
    std::vector<std::string> out;
    for (const auto& row : *rows)
      out.push_back(row.at(0));
    return out;
  };
  EXPECT_EQ(masked("email_domain"), (std::vector<std::string>{"***@example.com", "<null>", "***",
                                                              "***@bare.org", "***@b@c", "***"}));
  EXPECT_EQ(masked("redact"),
            (std::vector<std::string>{"****", "<null>", "****", "****", "****", "****"}));
  EXPECT_EQ(masked("last4"), (std::vector<std::string>{"****.com", "<null>", "****o-at", "****.org",
                                                       "****@b@c", "****"}));
  EXPECT_EQ(masked("null"), (std::vector<std::string>(6, "<null>")));
  const auto hashed = masked("hash");
  ASSERT_EQ(hashed.size(), 6u);
  EXPECT_EQ(hashed[0].size(), 64u);
  EXPECT_EQ(hashed[1], "<null>");
  EXPECT_NE(hashed[0], hashed[2]);
}

// Valid examples of each format pass; the same digits with one changed (a wrong check digit) or
// the format's reserved values do not.
TEST(PolicyTest, IbanAndNationalIdDetectorsCheckTheirCheckDigits) {
  EXPECT_TRUE(LooksLikeIban("DE89370400440532013000"));
  EXPECT_TRUE(LooksLikeIban("GB82 WEST 1234 5698 7654 32"));
  EXPECT_TRUE(LooksLikeIban("NL91ABNA0417164300"));
  EXPECT_FALSE(LooksLikeIban("DE89370400440532013001"));  // MOD 97 fails
  EXPECT_FALSE(LooksLikeIban("ORDER12345678901234"));
  EXPECT_FALSE(LooksLikeIban("DE89"));

  EXPECT_TRUE(LooksLikeNationalId("123-45-6789"));
  EXPECT_FALSE(LooksLikeNationalId("000-45-6789"));  // area 000
  EXPECT_FALSE(LooksLikeNationalId("666-45-6789"));
  EXPECT_FALSE(LooksLikeNationalId("912-45-6789"));
  EXPECT_FALSE(LooksLikeNationalId("123-00-6789"));
  EXPECT_TRUE(LooksLikeNationalId("AB 12 34 56 C"));
  EXPECT_TRUE(LooksLikeNationalId("JG103759A"));
  EXPECT_FALSE(LooksLikeNationalId("GB123456A"));  // unused prefix
  EXPECT_FALSE(LooksLikeNationalId("DA123456A"));  // D never first
  EXPECT_FALSE(LooksLikeNationalId("AB123456E"));  // suffix A-D
  EXPECT_TRUE(LooksLikeNationalId("12345678Z"));   // DNI: 12345678 mod 23 = 14 → Z
  EXPECT_FALSE(LooksLikeNationalId("12345678A"));
  EXPECT_TRUE(LooksLikeNationalId("X1234567L"));  // NIE: 01234567 mod 23 = 19 → L
  EXPECT_TRUE(LooksLikeNationalId("111222333"));  // BSN eleven test
  EXPECT_FALSE(LooksLikeNationalId("111222334"));
  EXPECT_TRUE(LooksLikeNationalId("86095742719"));  // Steuer-IdNr
  EXPECT_FALSE(LooksLikeNationalId("86095742718"));
  EXPECT_TRUE(LooksLikeNationalId("1 84 12 76 451 089 46"));  // NIR, key 97 - n mod 97
  EXPECT_FALSE(LooksLikeNationalId("1 84 12 76 451 089 47"));
  EXPECT_TRUE(LooksLikeNationalId("2 55 08 2A 212 345 09"));  // Corsica counts 2A as 19
  EXPECT_FALSE(LooksLikeNationalId("hello world"));
  EXPECT_FALSE(LooksLikeNationalId(""));
  // Sequential order numbers: a few pass a check digit by chance, far fewer than half.
  int passing = 0;
  for (int n = 100000000; n < 100001000; ++n)
    passing += LooksLikeNationalId(std::to_string(n)) ? 1 : 0;
  EXPECT_LT(passing, 150);
}

TEST(PolicyTest, DetectorsAndTheMandatedHash) {
  EXPECT_TRUE(LooksLikeCardNumber("4111111111111111"));
  EXPECT_TRUE(LooksLikeCardNumber("4111 1111 1111 1111"));
  EXPECT_FALSE(LooksLikeCardNumber("4111111111111112"));  // Luhn fails
  EXPECT_FALSE(LooksLikeCardNumber("411111111111"));      // too short
  EXPECT_FALSE(LooksLikeCardNumber("4111-1111-1111-111x"));
  const std::string hash = MeshHash("key", "4111111111111111");
  EXPECT_EQ(hash.size(), 4u + 64u);
  EXPECT_EQ(hash.substr(0, 4), "mh1:");
  EXPECT_EQ(hash, MeshHash("key", "4111111111111111"));
  EXPECT_NE(hash, MeshHash("other key", "4111111111111111"));
}

}  // namespace
}  // namespace meshwork::governance
