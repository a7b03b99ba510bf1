#include "iceberg/ddl_parser.h"

#include <gtest/gtest.h>

#include "testing/status_matchers.h"

namespace meshwork::iceberg {
namespace {

using ::testing::HasSubstr;

TEST(DdlParserTest, ParsesTheIssueExampleAndNestedTypes) {
  ASSERT_OK_AND_ASSIGN(Schema schema,
                       ParseColumnList("id long not null, ts timestamptz, customer uuid, "
                                       "amount decimal(12,2)"));
  ASSERT_EQ(schema.fields().size(), 4u);
  EXPECT_EQ(schema.fields()[0].id, 1);
  EXPECT_TRUE(schema.fields()[0].required);
  EXPECT_FALSE(schema.fields()[1].required);
  EXPECT_EQ(schema.fields()[3].type->ToString(), "decimal(12, 2)");
  EXPECT_EQ(ToColumnList(schema),
            "id long not null, ts timestamptz, customer uuid, amount decimal(12,2)");

  ASSERT_OK_AND_ASSIGN(
      Schema nested,
      ParseColumnList("tags list<string>, attrs map<string, long not null>, "
                      "address struct<city: string, zip: int not null>, Name VARCHAR"));
  EXPECT_EQ(nested.HighestFieldId(), 9);
  EXPECT_EQ(nested.FindField("tags.element")->id, 5);
  EXPECT_EQ(nested.FindField("attrs.key")->id, 6);
  EXPECT_TRUE(nested.FindField("attrs.value")->required);
  EXPECT_EQ(nested.FindField("address.zip")->id, 9);
  EXPECT_EQ(nested.FindField("Name")->type->kind(), TypeKind::kString);
  ASSERT_OK_AND_ASSIGN(Schema again, ParseColumnList(ToColumnList(nested)));
  EXPECT_TRUE(again.SameStructure(nested));
}

TEST(DdlParserTest, ErrorsGiveThePositionAndWhatWasExpected) {
  EXPECT_THAT(ParseColumnList("id long, ts").status(),
              IsError(StatusCode::kInvalidArgument, "position 12 at the end: expected a type"));
  EXPECT_THAT(ParseColumnList("id lng").status(),
              IsError(StatusCode::kInvalidArgument, "unknown Iceberg type 'lng'"));
  EXPECT_THAT(ParseColumnList("a decimal(40, 2)").status(),
              IsError(StatusCode::kInvalidArgument, "out of range"));
  EXPECT_THAT(ParseColumnList("a int, a long").status(),
              IsError(StatusCode::kInvalidArgument, "two fields are named 'a'"));
  EXPECT_THAT(ParseColumnList("a map<string long>").status(),
              IsError(StatusCode::kInvalidArgument, "expected ','"));
  EXPECT_THAT(ParseColumnList("a int not").status(),
              IsError(StatusCode::kInvalidArgument, "expected 'null'"));
  EXPECT_THAT(ParseColumnList("a variant").status(), IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseColumnList(std::string(5000, '<')).status(),
              IsError(StatusCode::kInvalidArgument));
  std::string deep = "a ";
  for (int i = 0; i < 100; ++i)
    deep += "list<";
  EXPECT_THAT(ParseColumnList(deep + "int").status(),
              IsError(StatusCode::kInvalidArgument, "nest too deeply"));
}

TEST(DdlParserTest, PartitionExpressions) {
  ASSERT_OK_AND_ASSIGN(Schema schema, ParseColumnList("id long not null, ts timestamptz, name "
                                                      "string, region string, d date"));
  ASSERT_OK_AND_ASSIGN(PartitionSpec spec,
                       ParsePartitionExpression("day(ts), bucket(16, id), truncate(4, name), "
                                                "region, year(d)",
                                                schema));
  ASSERT_EQ(spec.fields().size(), 5u);
  EXPECT_EQ(spec.fields()[0].name, "ts_day");
  EXPECT_EQ(spec.fields()[0].field_id, 1000);
  EXPECT_EQ(spec.fields()[1].name, "id_bucket");
  EXPECT_EQ(spec.fields()[1].transform.ToString(), "bucket[16]");
  EXPECT_EQ(spec.fields()[2].transform.ToString(), "truncate[4]");
  EXPECT_EQ(spec.fields()[3].name, "region");
  EXPECT_EQ(spec.fields()[4].field_id, 1004);
  EXPECT_EQ(ToPartitionExpression(spec, schema),
            "day(ts), bucket(16, id), truncate(4, name), region, year(d)");
  ASSERT_OK_AND_ASSIGN(TypePtr partition_type, spec.PartitionType(schema));
  EXPECT_EQ(partition_type->fields()[0].type->kind(), TypeKind::kDate);

  EXPECT_THAT(ParsePartitionExpression("day(nope)", schema).status(),
              IsError(StatusCode::kInvalidArgument, "no column 'nope'"));
  EXPECT_THAT(ParsePartitionExpression("hour(d)", schema).status(),
              IsError(StatusCode::kInvalidArgument, "hour cannot be applied"));
  EXPECT_THAT(ParsePartitionExpression("bucket(id)", schema).status(),
              IsError(StatusCode::kInvalidArgument, "expected a number"));
  EXPECT_THAT(ParsePartitionExpression("weekday(ts)", schema).status(),
              IsError(StatusCode::kInvalidArgument, "unknown transform 'weekday'"));
  EXPECT_THAT(ParsePartitionExpression("day(ts), day(ts)", schema).status(),
              IsError(StatusCode::kInvalidArgument, "two partition fields"));
  ASSERT_OK_AND_ASSIGN(PartitionSpec none, ParsePartitionExpression("  ", schema));
  EXPECT_TRUE(none.IsUnpartitioned());
}

TEST(DdlParserTest, SortOrders) {
  ASSERT_OK_AND_ASSIGN(Schema schema,
                       ParseColumnList("id long, ts timestamptz, tags list<string>"));
  ASSERT_OK_AND_ASSIGN(SortOrder order, ParseSortOrder("ts DESC, id asc nulls last", schema));
  EXPECT_EQ(order.order_id, 1);
  ASSERT_EQ(order.fields.size(), 2u);
  EXPECT_EQ(order.fields[0].source_id, 2);
  EXPECT_FALSE(order.fields[0].ascending);
  EXPECT_FALSE(order.fields[0].nulls_first);  // desc defaults to nulls last
  EXPECT_TRUE(order.fields[1].ascending);
  EXPECT_FALSE(order.fields[1].nulls_first);
  EXPECT_EQ(ToSortExpression(order, schema), "ts desc nulls last, id asc nulls last");
  ASSERT_OK_AND_ASSIGN(SortOrder none, ParseSortOrder("  ", schema));
  EXPECT_EQ(none.order_id, 0);
  EXPECT_EQ(ToSortExpression(none, schema), "(unsorted)");
  EXPECT_THAT(ParseSortOrder("nope", schema).status(),
              IsError(StatusCode::kInvalidArgument, "the schema has no column 'nope'"));
  EXPECT_THAT(ParseSortOrder("tags", schema).status(),
              IsError(StatusCode::kInvalidArgument, "cannot be sorted by"));
  EXPECT_THAT(ParseSortOrder("id, id desc", schema).status(),
              IsError(StatusCode::kInvalidArgument, "appears twice"));
  EXPECT_THAT(ParseSortOrder("id nulls sometimes", schema).status(),
              IsError(StatusCode::kInvalidArgument, "expected FIRST or LAST"));
  EXPECT_THAT(ParseSortOrder("day(ts)", schema).status(),
              IsError(StatusCode::kNotImplemented, "not supported yet"));
  EXPECT_THAT(ParseSortOrder("id sideways", schema).status(),
              IsError(StatusCode::kInvalidArgument, "expected ','"));
}

}  // namespace
}  // namespace meshwork::iceberg
