#include "product/column_lineage.h"

#include <gtest/gtest.h>

#include "engine/database.h"
#include "testing/status_matchers.h"

namespace meshwork::product {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class ColumnLineageTest : public ::testing::Test {
 protected:
  ColumnLineage Derive(const std::string& sql) {
    auto lineage = DeriveColumnLineage(*connection_, sql, inputs_);
    EXPECT_OK(lineage.status());
    return lineage.ok() ? *lineage : ColumnLineage{};
  }
  engine::Database database_ = *engine::Database::Open();
  std::optional<engine::Connection> connection_{*database_.Connect()};
  std::map<std::string, std::vector<std::string>> inputs_ = {
      {"orders", {"id", "customer_id", "amount", "ts"}},
      {"customers", {"customer_id", "name", "Country"}}};
};

TEST_F(ColumnLineageTest, FollowsAliasesJoinsCtesSubqueriesAndStars) {
  const ColumnLineage lineage = Derive(R"sql(
    WITH big AS (SELECT id, amount * 1.2 AS gross, customer_id FROM orders WHERE amount > 10)
    SELECT b.id AS order_id, upper(c.name) AS customer, gross, country,
           count(*) AS n, 42 AS answer, s.total
    FROM big b JOIN customers c ON c.customer_id = b.customer_id
    JOIN (SELECT customer_id, sum(amount) AS total FROM orders GROUP BY 1) s USING (customer_id)
    GROUP BY ALL)sql");
  EXPECT_THAT(lineage.at("order_id"), ElementsAre("orders.id"));
  EXPECT_THAT(lineage.at("customer"), ElementsAre("customers.name"));
  EXPECT_THAT(lineage.at("gross"), ElementsAre("orders.amount"));
  EXPECT_THAT(lineage.at("country"), ElementsAre("customers.country"));
  EXPECT_THAT(lineage.at("n"), IsEmpty());
  EXPECT_THAT(lineage.at("answer"), IsEmpty());
  EXPECT_THAT(lineage.at("total"), ElementsAre("orders.amount"));

  const ColumnLineage star = Derive("SELECT * FROM customers UNION ALL SELECT * FROM customers");
  EXPECT_THAT(star.at("name"), ElementsAre("customers.name"));
  // Unknown relations and table functions yield no sources, never invented ones.
  const ColumnLineage unknown = Derive("SELECT x AS y FROM range(3) t(x)");
  EXPECT_THAT(unknown.at("y"), IsEmpty());
  EXPECT_THAT(Derive("this is not sql"), IsEmpty());
}

}  // namespace
}  // namespace meshwork::product
