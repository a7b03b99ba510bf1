#include "iceberg/schema_update.h"

#include <gtest/gtest.h>

#include "iceberg/ddl_parser.h"
#include "testing/status_matchers.h"

namespace meshwork::iceberg {
namespace {

TEST(SchemaUpdateTest, KeepsIdsAcrossEveryChange) {
  ASSERT_OK_AND_ASSIGN(Schema schema, ParseColumnList("id int not null, name string, score float, "
                                                      "price decimal(10,2), addr struct<city: "
                                                      "string>"));
  SchemaUpdate update(schema, schema.HighestFieldId());
  update.RenameColumn("name", "label")
      .UpdateColumnType("id", Type::Long())
      .UpdateColumnType("score", Type::Double())
      .UpdateColumnType("price", Type::Decimal(12, 2))
      .AddColumn("tags", Type::List(0, Type::String(), false))
      .AddColumn("zip", Type::Int(), "", "addr")
      .MoveFirst("label");
  ASSERT_OK_AND_ASSIGN(auto applied, update.Apply());
  const auto& [evolved, last_id] = applied;
  EXPECT_EQ(evolved.schema_id(), 1);
  EXPECT_EQ(evolved.fields()[0].name, "label");
  EXPECT_EQ(evolved.FindField("label")->id, 2);  // the renamed column keeps its id
  EXPECT_EQ(evolved.FindField("id")->type->kind(), TypeKind::kLong);
  EXPECT_EQ(evolved.FindField("tags")->id, 7);
  EXPECT_EQ(evolved.FindField("tags.element")->id, 8);
  EXPECT_EQ(evolved.FindField("addr.zip")->id, 9);
  EXPECT_EQ(last_id, 9);
  EXPECT_FALSE(evolved.FindField("tags")->required);
}

TEST(SchemaUpdateTest, EnforcesTheSpecsRules) {
  ASSERT_OK_AND_ASSIGN(Schema base, ParseColumnList("id long not null, name string, d "
                                                    "decimal(10,2)"));
  ASSERT_OK_AND_ASSIGN(Schema schema, Schema::Make(0, base.fields(), {1}));
  auto fails = [&](const std::function<void(SchemaUpdate&)>& change, std::string_view message) {
    SchemaUpdate update(schema, 3);
    change(update);
    EXPECT_THAT(update.Apply().status(), IsError(update.Apply().status().code(), message))
        << message;
    EXPECT_FALSE(update.Apply().ok()) << message;
  };
  fails([](SchemaUpdate& u) { u.UpdateColumnType("id", Type::Int()); }, "cannot change column");
  fails([](SchemaUpdate& u) { u.UpdateColumnType("name", Type::Binary()); }, "from string");
  fails([](SchemaUpdate& u) { u.UpdateColumnType("d", Type::Decimal(12, 3)); }, "decimal");
  fails([](SchemaUpdate& u) { u.DeleteColumn("id"); }, "identifier field");
  fails([](SchemaUpdate& u) { u.MakeOptional("id"); }, "identifier field");
  fails([](SchemaUpdate& u) { u.RenameColumn("name", "id"); }, "that column exists");
  fails([](SchemaUpdate& u) { u.AddColumn("name", Type::Int()); }, "already exists");
  fails([](SchemaUpdate& u) { u.DeleteColumn("nope"); }, "no column 'nope'");
  fails([](SchemaUpdate& u) { u.RenameColumn("name", "a").DeleteColumn("name"); },
        "no column 'name'");
  fails([](SchemaUpdate& u) { u.UpdateColumnType("d", Type::Decimal(12, 2)).DeleteColumn("d"); },
        "changed twice");
  fails([](SchemaUpdate& u) { u.AddColumn("x.y", Type::Int()); }, "not a valid column name");
}

}  // namespace
}  // namespace meshwork::iceberg
