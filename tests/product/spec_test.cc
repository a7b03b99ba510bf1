#include "product/spec.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork::product {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr const char* kGoodSpec = R"yaml(apiVersion: meshwork/v1
kind: DataProduct
domain: finance
name: q3_revenue
version: 1.2.0
title: Q3 revenue
description: Revenue per customer and day in the third quarter.
owner:
  team: finance-analytics
  email: finance@example.com
tags: [revenue, quarterly]
glossary: [revenue]
inputs:
  - name: orders
    file: data/orders.csv
    options: {header: "true"}
  - name: customers
    port: customers.customers
    major: 1
transform:
  sql: |
    SELECT o.id, o.ts, o.customer_id, o.amount
    FROM orders o JOIN customers c USING (customer_id)
ports:
  - name: q3_revenue
    description: One row per order.
    columns:
      - {name: id, type: long, primary_key: true, description: Order id}
      - {name: ts, type: timestamptz, description: When it was ordered}
      - name: customer_id
        type: uuid
        description: The customer
        semantic_type: uuid
      - {name: amount, type: "decimal(12,2)", nullable: false, description: Amount in EUR}
      - {name: card_hash, type: string, classification: pii.credit_card, description: Hashed card}
    partitioning: day(ts)
    sort: ts desc
quality:
  - {rule: not_null, columns: [id, customer_id]}
  - {rule: range, column: amount, min: 0}
  - {rule: references, column: customer_id, reference: customers.customers.customer_id}
  - {rule: row_count, min: 1, severity: warn}
  - {rule: sql, name: no_future_orders, sql: "SELECT * FROM q3_revenue WHERE ts > now()"}
sla:
  freshness: 1d
  schedule: "0 6 * * 1-5"
  availability: 99.5
  support: "#finance-data"
sample_queries:
  - {title: Revenue per day, sql: "SELECT day(ts), sum(amount) FROM finance.q3_revenue GROUP BY 1"}
links:
  - {title: Dashboard, url: "https://bi.example.com/q3"}
)yaml";

TEST(SpecTest, ParsesEveryPartOfAFullSpec) {
  ASSERT_OK_AND_ASSIGN(DataProductSpec spec, ParseSpec(kGoodSpec, "dataproduct.yaml"));
  EXPECT_EQ(spec.QualifiedName(), "finance.q3_revenue");
  EXPECT_EQ(spec.version.ToString(), "1.2.0");
  EXPECT_EQ(spec.owner.team, "finance-analytics");
  ASSERT_THAT(spec.inputs, SizeIs(2));
  EXPECT_EQ(spec.inputs[0].format, "csv");  // from the extension
  EXPECT_EQ(spec.inputs[0].options.at("header"), "true");
  EXPECT_TRUE(spec.inputs[1].is_port());
  EXPECT_EQ(spec.inputs[1].product_domain, "customers");
  EXPECT_THAT(spec.transform.sql, HasSubstr("JOIN customers"));
  EXPECT_EQ(spec.transform.sql_where.line, 22);  // the SQL's first line, below "sql: |"
  ASSERT_THAT(spec.ports, SizeIs(1));
  const Port& port = spec.ports[0];
  ASSERT_TRUE(port.schema.has_value());
  EXPECT_THAT(port.schema->fields(), SizeIs(5));
  EXPECT_TRUE(port.schema->fields()[0].required);  // primary keys are not null
  EXPECT_EQ(port.schema->fields()[0].doc, "Order id");
  EXPECT_EQ(port.schema->identifier_field_ids(), std::vector<int32_t>{1});
  EXPECT_EQ(port.PrimaryKey(), std::vector<std::string>{"id"});
  EXPECT_EQ(port.FindColumn("card_hash")->classification, "pii.credit_card");
  ASSERT_THAT(spec.quality, SizeIs(5));
  EXPECT_EQ(spec.quality[0].name, "not_null(id, customer_id)");
  EXPECT_EQ(spec.quality[3].severity, Severity::kWarn);
  EXPECT_EQ(spec.quality[4].name, "no_future_orders");
  EXPECT_EQ(spec.sla.availability, 99.5);
  EXPECT_THAT(spec.sample_queries, SizeIs(1));
  EXPECT_THAT(spec.links, SizeIs(1));
  EXPECT_EQ(spec.source_text, kGoodSpec);
}

// Replaces the first occurrence of `from` in the good spec.
std::string Edited(std::string_view from, std::string_view to) {
  std::string text = kGoodSpec;
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  return text;
}

struct BadSpec {
  const char* name;
  std::string text;
  int line;
  int column;
  const char* message;
};

TEST(SpecTest, BadSpecsGiveLineAccurateErrors) {
  const std::vector<BadSpec> cases = {
      {"yaml syntax", Edited("tags: [revenue, quarterly]", "tags: [revenue, quarterly"), 12, 0,
       "YAML syntax error"},
      {"unknown top-level key", Edited("glossary:", "glosary:"), 12, 1, "did you mean 'glossary'"},
      {"unknown column key", Edited("semantic_type: uuid", "semantic: uuid"), 33, 9,
       "unknown key 'semantic'"},
      {"wrong type", Edited("tags: [revenue, quarterly]", "tags: revenue"), 11, 7,
       "'tags' must be a list"},
      {"bad column type", Edited("type: uuid", "type: uuidd"), 31, 15, "not an Iceberg type"},
      {"bad version", Edited("version: 1.2.0", "version: 1.2"), 5, 10, "not a semantic version"},
      {"missing owner",
       Edited("owner:\n  team: finance-analytics\n  email: finance@example.com\n", ""), 1, 1,
       "missing 'owner'"},
      {"rule on a missing column", Edited("column: amount, min: 0", "column: amnt, min: 0"), 40, 27,
       "has no column 'amnt'"},
      {"unknown rule", Edited("rule: range", "rule: ranges"), 40, 12, "did you mean 'range'"},
      {"bad cron", Edited("0 6 * * 1-5", "0 25 * * *"), 46, 13, "cron hour field '25'"},
      {"bad duration", Edited("freshness: 1d", "freshness: one day"), 45, 14, "not a duration"},
      {"partition on a missing column", Edited("partitioning: day(ts)", "partitioning: day(t)"), 36,
       19, "partitioning 'day(t)'"},
      {"bad name", Edited("name: q3_revenue\nversion", "name: Q3-Revenue\nversion"), 4, 7,
       "not a valid name"},
      {"hostile input path", Edited("file: data/orders.csv", "file: ../../etc/passwd"), 15, 11,
       "inside the product folder"},
      {"input with both",
       Edited("port: customers.customers",
              "port: customers.customers\n    "
              "file: x.csv"),
       17, 5, "exactly one of 'file' or 'port'"},
      {"nullable key", Edited("primary_key: true,", "primary_key: true, nullable: true,"), 28, 61,
       "cannot be nullable"},
  };
  for (const BadSpec& bad : cases) {
    SCOPED_TRACE(bad.name);
    auto parsed = ParseSpec(bad.text, "finance/q3_revenue/dataproduct.yaml");
    ASSERT_FALSE(parsed.ok());
    const Status& error = parsed.error();
    EXPECT_EQ(error.code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(error.ToString(), HasSubstr(bad.message));
    ASSERT_NE(error.location(), nullptr) << error.ToString();
    EXPECT_EQ(error.location()->file, "finance/q3_revenue/dataproduct.yaml");
    EXPECT_EQ(error.location()->line, bad.line) << error.ToString();
    if (bad.column > 0) {
      EXPECT_EQ(error.location()->column, bad.column) << error.ToString();
    }
  }
}

TEST(SpecTest, HostileDocumentsAreRefusedWithoutCrashing) {
  EXPECT_THAT(ParseSpec("", "x.yaml"), IsError(StatusCode::kInvalidArgument, "empty"));
  EXPECT_THAT(ParseSpec(std::string(100000, '['), "x.yaml"),
              IsError(StatusCode::kInvalidArgument, "nested"));
  std::string dashes;
  for (int i = 0; i < 5000; ++i)
    dashes += "- ";
  EXPECT_THAT(ParseSpec(dashes + "x", "x.yaml"), IsError(StatusCode::kInvalidArgument, "nested"));
  EXPECT_THAT(ParseSpec(std::string(2 << 20, 'a'), "x.yaml"),
              IsError(StatusCode::kInvalidArgument, "at most"));
  EXPECT_THAT(ParseSpec("- a\n- b\n", "x.yaml"),
              IsError(StatusCode::kInvalidArgument, "must be a mapping"));
  EXPECT_THAT(ParseSpec("{[a]: b}", "x.yaml"), IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseSpec("a: &x [*x]", "x.yaml"), IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseSpec("apiVersion: meshwork/v2\nkind: DataProduct\n", "x.yaml"),
              IsError(StatusCode::kInvalidArgument, "not supported"));
}

TEST(SpecTest, LoadsTheSqlFileFromInsideTheFolderOnly) {
  testing::ScratchDir scratch("spec");
  const auto folder = scratch.path() / "q3_revenue";
  std::filesystem::create_directories(folder);
  std::ofstream(folder / "dataproduct.yaml") << Edited(
      "  sql: |\n    SELECT o.id, o.ts, o.customer_id, o.amount\n    FROM orders o "
      "JOIN customers c USING (customer_id)\n",
      "  sql_file: transform.sql\n");
  EXPECT_THAT(LoadSpec(folder.string()), IsError(StatusCode::kNotFound, "transform.sql"));
  std::ofstream(folder / "transform.sql") << "SELECT 1 AS id";
  ASSERT_OK_AND_ASSIGN(DataProductSpec spec, LoadSpec(folder.string()));
  EXPECT_EQ(spec.transform.sql, "SELECT 1 AS id");
  EXPECT_EQ(spec.folder, folder.string());

  // A symlink that leaves the folder is refused.
  std::filesystem::remove(folder / "transform.sql");
  std::ofstream(scratch.path() / "outside.sql") << "SELECT 2";
  std::filesystem::create_symlink(scratch.path() / "outside.sql", folder / "transform.sql");
  EXPECT_THAT(LoadSpec(folder.string()), IsError(StatusCode::kInvalidArgument, "leaves"));
  EXPECT_THAT(LoadSpec((scratch.path() / "missing").string()),
              IsError(StatusCode::kNotFound, "dataproduct.yaml"));
}

TEST(SpecTest, VersionsDurationsAndCron) {
  EXPECT_THAT(SemanticVersion::Parse("2.10.3"), IsOk());
  EXPECT_LT(*SemanticVersion::Parse("1.9.0"), *SemanticVersion::Parse("1.10.0"));
  for (const char* bad : {"1", "1.2", "1.2.3.4", "01.2.3", "0.1.0", "a.b.c", "1.-2.3", ""}) {
    EXPECT_FALSE(SemanticVersion::Parse(bad).ok()) << bad;
  }
  EXPECT_THAT(ParseDurationSeconds("90m"), IsOkAndHolds(5400));
  EXPECT_THAT(ParseDurationSeconds("2w"), IsOkAndHolds(1209600));
  for (const char* bad : {"", "d", "1y", "-1d", "1.5h", "0s"}) {
    EXPECT_FALSE(ParseDurationSeconds(bad).ok()) << bad;
  }
  for (const char* good : {"* * * * *", "*/15 0-6,22 1 1-12/2 0", "0 6 * * 7"}) {
    EXPECT_OK(ValidateCron(good)) << good;
  }
  for (const char* bad : {"* * * *", "60 * * * *", "* * 0 * *", "*/0 * * * *", "5-1 * * * *",
                          "a * * * *", "1,,2 * * * *"}) {
    EXPECT_FALSE(ValidateCron(bad).ok()) << bad;
  }
  EXPECT_EQ(PortTableName("revenue", 1), "revenue");
  EXPECT_EQ(PortTableName("revenue", 3), "revenue_v3");
}

}  // namespace
}  // namespace meshwork::product
