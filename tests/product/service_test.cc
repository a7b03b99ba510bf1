// The deploy pipeline end to end on a real catalog (SQLite metastore, local warehouse): domains,
// publication, contract diffs and major versions, quality gates, access checks on inputs,
// line-accurate SQL errors, listings, search and lineage.
#include "product/service.h"

#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/database.h"
#include "iceberg/scan_planner.h"
#include "iceberg/scan_reader.h"
#include "product/monitor.h"
#include "product/scaffold.h"
#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork::product {
namespace {

using catalog::Caller;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr const char* kCustomers = R"yaml(apiVersion: meshwork/v1
kind: DataProduct
domain: customers
name: customers
version: 1.0.0
title: Customer master
owner: {team: customer-data, email: cd@example.com}
tags: [master-data]
transform:
  sql: |
    SELECT uuid_v AS customer_id, 'customer ' || i AS name, CASE WHEN i % 2 = 0 THEN 'DE' ELSE 'FR' END AS country
    FROM (SELECT i, md5(i::VARCHAR)::UUID AS uuid_v FROM range(1, 11) t(i))
ports:
  - name: customers
    columns:
      - {name: customer_id, type: uuid, primary_key: true, description: The customer}
      - {name: name, type: string, description: Full name, classification: pii.name}
      - {name: country, type: string, description: Country code}
quality:
  - {rule: accepted_values, column: country, values: [DE, FR]}
sla: {freshness: 1d}
)yaml";

constexpr const char* kOrders = R"yaml(apiVersion: meshwork/v1
kind: DataProduct
domain: sales
name: orders
version: 1.0.0
title: Orders
owner: {team: sales}
inputs:
  - {name: customers, port: customers.customers}
transform:
  sql: |
    SELECT o.i AS order_id, c.customer_id, o.i * 1.5 AS amount
    FROM range(1, 21) o(i)
    JOIN (SELECT customer_id, row_number() OVER (ORDER BY customer_id) - 1 AS k FROM customers) c
      ON c.k = o.i % 10
ports:
  - name: orders
    columns:
      - {name: order_id, type: long, primary_key: true, description: Order}
      - {name: customer_id, type: uuid, description: Who ordered}
      - {name: amount, type: "decimal(12,2)", description: EUR}
quality:
  - {rule: references, column: customer_id, reference: customers.customers.customer_id}
  - {rule: range, column: amount, min: 0}
)yaml";

class ProductServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(metastore_, metastore::Metastore::Open(
                                         {.url = (scratch_.path() / "meshwork.db").string()}));
    auto opened = catalog::Catalog::Open(
        *metastore_, {.warehouse_root = (scratch_.path() / "warehouse").string()});
    ASSERT_OK(opened.status());
    catalog_ = std::move(*opened);
    service_ = std::make_unique<ProductService>(*catalog_);
  }

  // Writes a spec into its own folder and parses it from there.
  DataProductSpec Spec(const std::string& text, const std::string& folder_name) {
    const auto folder = scratch_.path() / folder_name;
    std::filesystem::create_directories(folder);
    std::ofstream(folder / "dataproduct.yaml", std::ios::trunc) << text;
    auto spec = LoadSpec(folder.string());
    EXPECT_OK(spec.status());
    return spec.ok() ? *spec : DataProductSpec{};
  }

  DeployReport Deploy(const DataProductSpec& spec, const Caller& caller) {
    auto report = service_->Deploy(caller, spec, {.create_domain = true});
    EXPECT_OK(report.status());
    return report.ok() ? *report : DeployReport{};
  }

  // Every row of a table's current snapshot, as text, sorted.
  std::vector<std::vector<std::string>> Rows(const std::string& domain, const std::string& table,
                                             const std::string& order_by) {
    auto loaded = catalog_->LoadTable(root_, {{domain}, table});
    EXPECT_OK(loaded.status());
    if (!loaded.ok()) return {};
    auto plan = iceberg::PlanScan(catalog_->warehouse(), *loaded, std::nullopt, {});
    auto sql = iceberg::ScanSql(catalog_->warehouse().io(), loaded->metadata,
                                loaded->metadata.CurrentSchema(), *plan);
    auto database = engine::Database::Open();
    auto connection = database->Connect();
    auto rows = connection->QueryText("SELECT * FROM (" + *sql + ") ORDER BY " + order_by);
    EXPECT_OK(rows.status());
    return rows.ok() ? *rows : std::vector<std::vector<std::string>>{};
  }

  testing::ScratchDir scratch_{"product"};
  std::unique_ptr<metastore::Metastore> metastore_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<ProductService> service_;
  Caller root_{"root", true, "test"};
};

TEST_F(ProductServiceTest, DomainCreationProvisionsNamespaceRolesAndCiPrincipal) {
  ASSERT_OK_AND_ASSIGN(DomainInfo domain, service_->CreateDomain(root_, {.name = "finance",
                                                                         .description = "Money",
                                                                         .owner = "fiona",
                                                                         .storage_prefix = ""}));
  EXPECT_EQ(domain.owner_role, "finance_owner");
  ASSERT_TRUE(domain.ci_credentials.has_value());
  ASSERT_TRUE(domain.owner_credentials.has_value());
  EXPECT_THAT(domain.location, HasSubstr("/warehouse/finance"));
  // The CI principal can publish in its domain, not elsewhere.
  ASSERT_OK_AND_ASSIGN(auto token, catalog_->IssueToken(domain.ci_credentials->client_id,
                                                        domain.ci_credentials->client_secret));
  ASSERT_OK_AND_ASSIGN(Caller ci, catalog_->Authenticate(token.access_token, "t"));
  EXPECT_OK(catalog_->Authorize(ci, catalog::Privilege::kCreateTable,
                                catalog::Securable::Namespace({"finance"})));
  EXPECT_THAT(catalog_->Authorize(ci, catalog::Privilege::kCreateTable,
                                  catalog::Securable::Namespace({"marketing"})),
              IsError(StatusCode::kPermissionDenied));
  EXPECT_THAT(service_->CreateDomain(root_, {.name = "finance", .owner = "fiona"}),
              IsError(StatusCode::kAlreadyExists));
  // Creating domains needs CREATE_DOMAIN.
  ASSERT_OK_AND_ASSIGN(auto fiona_token,
                       catalog_->IssueToken(domain.owner_credentials->client_id,
                                            domain.owner_credentials->client_secret));
  ASSERT_OK_AND_ASSIGN(Caller fiona, catalog_->Authenticate(fiona_token.access_token, "t"));
  EXPECT_THAT(service_->CreateDomain(fiona, {.name = "hr", .owner = "fiona"}),
              IsError(StatusCode::kPermissionDenied, "CREATE_DOMAIN"));
  ASSERT_OK_AND_ASSIGN(auto domains, service_->ListDomains(root_));
  ASSERT_THAT(domains, SizeIs(1));
  EXPECT_EQ(domains[0].owner, "fiona");
}

TEST_F(ProductServiceTest, TheScaffoldDeploysAsItIsAndIsDiscoverable) {
  const auto folder = scratch_.path() / "orders_summary";
  ASSERT_OK(WriteScaffold(folder.string(), "sales", "orders_summary", false).status());
  ASSERT_OK_AND_ASSIGN(DataProductSpec spec, LoadSpec(folder.string()));
  DeployReport report = Deploy(spec, root_);
  ASSERT_OK(report.failure);
  EXPECT_TRUE(report.published);
  ASSERT_THAT(report.ports, SizeIs(1));
  EXPECT_EQ(report.ports[0].table, "sales.orders_summary");
  EXPECT_EQ(report.ports[0].records, 9);  // distinct (day, country) pairs of the sample data
  const auto rows = Rows("sales", "orders_summary", "order_date, country");
  ASSERT_THAT(rows, SizeIs(9));
  EXPECT_EQ(rows[0], (std::vector<std::string>{"2026-01-05", "DE", "2", "133.49"}));

  ASSERT_OK_AND_ASSIGN(auto products, service_->ListProducts(root_));
  ASSERT_THAT(products, SizeIs(1));
  EXPECT_EQ(products[0].version, "1.0.0");
  ASSERT_OK_AND_ASSIGN(auto found, service_->Search(root_, "revenue country"));
  ASSERT_THAT(found.hits, SizeIs(1));
  EXPECT_EQ(found.hits[0].product, "sales.orders_summary");
  EXPECT_EQ(found.facets["domain"]["sales"], 1);
  ASSERT_OK_AND_ASSIGN(auto nothing, service_->Search(root_, "salaries"));
  EXPECT_THAT(nothing.hits, SizeIs(0));

  // A second deploy of the same version is a refresh; the version is tagged on its snapshot.
  DeployReport again = Deploy(spec, root_);
  ASSERT_OK(again.failure);
  EXPECT_THAT(again.diff.verdict, HasSubstr("refresh"));
  ASSERT_OK_AND_ASSIGN(auto table, catalog_->LoadTable(root_, {{"sales"}, "orders_summary"}));
  EXPECT_TRUE(table.metadata.refs.contains("v1.0.0"));
  ASSERT_OK_AND_ASSIGN(auto history, service_->History(root_, "sales", "orders_summary"));
  EXPECT_THAT(history, SizeIs(2));
}

TEST_F(ProductServiceTest, BreakingChangesNeedAMajorVersionPublishedBesideTheOld) {
  DataProductSpec v1 = Spec(kCustomers, "customers");
  ASSERT_OK(Deploy(v1, root_).failure);
  // Removing a column at 1.1.0: refused, with the diff.
  std::string text = kCustomers;
  text.replace(text.find("version: 1.0.0"), 14, "version: 1.1.0");
  text.replace(text.find(", 'customer ' || i AS name"), 26, "");
  text.replace(text.find("      - {name: name, type: string, description: Full name, "
                         "classification: pii.name}\n"),
               84, "");
  DataProductSpec removed = Spec(text, "customers_v1_1");
  ASSERT_OK_AND_ASSIGN(auto refused, service_->Deploy(root_, removed));
  EXPECT_THAT(refused.failure, IsError(StatusCode::kFailedPrecondition, "need a major version"));
  EXPECT_THAT(refused.failure.ToString(), HasSubstr("customers.name: column removed"));
  EXPECT_FALSE(refused.published);
  EXPECT_EQ(service_->LoadProduct(root_, "customers", "customers")->version, "1.0.0");

  // The same at 2.0.0: a new table beside v1, which keeps its rows.
  text.replace(text.find("version: 1.1.0"), 14, "version: 2.0.0");
  DataProductSpec v2 = Spec(text, "customers_v2");
  DeployReport published = Deploy(v2, root_);
  ASSERT_OK(published.failure);
  EXPECT_EQ(published.ports[0].table, "customers.customers_v2");
  EXPECT_THAT(Rows("customers", "customers", "customer_id"), SizeIs(10));
  const auto v2_rows = Rows("customers", "customers_v2", "customer_id");
  ASSERT_THAT(v2_rows, SizeIs(10));
  EXPECT_THAT(v2_rows[0], SizeIs(2));
  EXPECT_EQ(service_->LoadProduct(root_, "customers", "customers")->version, "2.0.0");
  EXPECT_EQ(service_->LoadProduct(root_, "customers", "customers", 1)->version, "1.0.0");

  // Adding an optional column is a minor change on the same table.
  std::string minor = kCustomers;
  minor.replace(minor.find("version: 1.0.0"), 14, "version: 1.1.0");
  minor.replace(minor.find(" AS country\n"), 12, " AS country, i AS score\n");
  minor.replace(minor.find("quality:"), 8,
                "      - {name: score, type: long, description: Loyalty score}\nquality:");
  DeployReport evolved = Deploy(Spec(minor, "customers_v1_1b"), root_);
  ASSERT_OK(evolved.failure);
  EXPECT_EQ(evolved.diff.required, Bump::kMinor);
  EXPECT_THAT(Rows("customers", "customers", "customer_id")[0], SizeIs(4));
  // The changelog keeps each deploy's contract diff (what the portal's versions list shows).
  ASSERT_OK_AND_ASSIGN(auto history, service_->History(root_, "customers", "customers"));
  const auto minor_entry = std::find_if(history.begin(), history.end(),
                                        [](const HistoryEntry& e) { return e.version == "1.1.0"; });
  ASSERT_NE(minor_entry, history.end());
  const auto& changes = minor_entry->changes;
  const auto score = std::find_if(changes.begin(), changes.end(),
                                  [](const ContractChange& c) { return c.column == "score"; });
  ASSERT_NE(score, changes.end());
  EXPECT_EQ(score->bump, Bump::kMinor);
  const auto as_json = HistoryToJson(history);
  EXPECT_NE(as_json.dump().find(R"("bump":"minor")"), std::string::npos);

  ASSERT_OK_AND_ASSIGN(
      ProductRecord deprecated,
      service_->Deprecate(root_, "customers", "customers", 1, "2027-06-30", "move to v2"));
  EXPECT_EQ(deprecated.state, "deprecated");
  EXPECT_THAT(service_->Deprecate(root_, "customers", "customers", 1, "soon", ""),
              IsError(StatusCode::kInvalidArgument, "not a date"));

  // Deleting a line: not before its sunset, not an active one; after the sunset it goes.
  EXPECT_THAT(service_->DeleteProduct(root_, "customers", "customers", 1, false),
              IsError(StatusCode::kFailedPrecondition, "deprecated until 2027-06-30"));
  EXPECT_THAT(service_->DeleteProduct(root_, "customers", "customers", 2, false),
              IsError(StatusCode::kFailedPrecondition, "active"));
  ASSERT_OK(service_->Deprecate(root_, "customers", "customers", 1, "2020-01-01", "gone").status());
  ASSERT_OK(service_->DeleteProduct(root_, "customers", "customers", 1, false));
  EXPECT_THAT(service_->LoadProduct(root_, "customers", "customers", 1),
              IsError(StatusCode::kNotFound));
  EXPECT_THAT(catalog_->LoadTable(root_, {{"customers"}, "customers"}),
              IsError(StatusCode::kNotFound));
  EXPECT_THAT(Rows("customers", "customers_v2", "customer_id"), SizeIs(10));
}

TEST_F(ProductServiceTest, AFailingQualityRuleBlocksAndNamesRuleColumnAndRows) {
  ASSERT_OK(Deploy(Spec(kCustomers, "customers"), root_).failure);
  std::string text = kCustomers;
  text.replace(text.find("version: 1.0.0"), 14, "version: 1.0.1");
  text.replace(text.find("ELSE 'FR'"), 9, "ELSE 'XX'");
  ASSERT_OK_AND_ASSIGN(auto report, service_->Deploy(root_, Spec(text, "customers_bad")));
  EXPECT_FALSE(report.published);
  const std::string message = report.failure.ToString();
  EXPECT_THAT(message, HasSubstr("accepted_values(country)"));
  EXPECT_THAT(message, HasSubstr("column country"));
  EXPECT_THAT(message, HasSubstr("\"country\":\"XX\""));
  ASSERT_NE(report.failure.location(), nullptr);
  EXPECT_EQ(report.failure.location()->line, 20);
  // v1.0.0 stays published with its rows; the failed deploy left no files behind.
  EXPECT_EQ(service_->LoadProduct(root_, "customers", "customers")->version, "1.0.0");
  const auto rows = Rows("customers", "customers", "customer_id");
  ASSERT_THAT(rows, SizeIs(10));
  for (const auto& row : rows)
    EXPECT_NE(row[2], "XX");

  // severity warn publishes and keeps the warning in the record.
  text.replace(text.find("values: [DE, FR]}"), 17, "values: [DE, FR], severity: warn}");
  DeployReport warned = Deploy(Spec(text, "customers_warn"), root_);
  ASSERT_OK(warned.failure);
  ASSERT_OK_AND_ASSIGN(auto record, service_->LoadProduct(root_, "customers", "customers"));
  bool saw_failed_warning = false;
  for (const auto& result : record.quality)
    saw_failed_warning |= !result.passed && result.severity == Severity::kWarn;
  EXPECT_TRUE(saw_failed_warning);
}

TEST_F(ProductServiceTest, ContractViolationsInTheDataAreCaught) {
  // A required column holding NULL, and a duplicate key: the contract's implicit rules.
  std::string text = kCustomers;
  text.replace(text.find("range(1, 11)"), 12, "(SELECT unnest([1, 1, 2]))");
  ASSERT_OK_AND_ASSIGN(auto report,
                       service_->Deploy(root_, Spec(text, "dup"), {.create_domain = true}));
  EXPECT_THAT(report.failure, IsError(StatusCode::kFailedPrecondition, "contract: primary key"));
  // A column the contract does not declare.
  text = kCustomers;
  text.replace(text.find(" AS country\n"), 12, " AS country, 1 AS extra\n");
  ASSERT_OK_AND_ASSIGN(report,
                       service_->Deploy(root_, Spec(text, "extra"), {.create_domain = true}));
  EXPECT_THAT(report.failure, IsError(StatusCode::kInvalidArgument, "'extra'"));
}

TEST_F(ProductServiceTest, SqlErrorsPointIntoTheSpec) {
  std::string text = kCustomers;
  text.replace(text.find("FROM (SELECT i"), 14, "FROM (SELEC i");
  ASSERT_OK_AND_ASSIGN(auto report, service_->Deploy(root_, Spec(text, "bad_sql"),
                                                     {.skip_data = true, .create_domain = true}));
  EXPECT_THAT(report.failure, IsError(StatusCode::kInvalidArgument));
  ASSERT_NE(report.failure.location(), nullptr) << report.failure.ToString();
  EXPECT_EQ(report.failure.location()->line, 12) << report.failure.ToString();
  EXPECT_THAT(report.failure.location()->file, HasSubstr("dataproduct.yaml"));
}

TEST_F(ProductServiceTest, InputsFromOtherDomainsAreCheckedForAccessAndTracedInLineage) {
  // An input that is not published.
  ASSERT_OK_AND_ASSIGN(auto missing,
                       service_->Deploy(root_, Spec(kOrders, "orders"), {.create_domain = true}));
  EXPECT_THAT(missing.failure, IsError(StatusCode::kNotFound, "customers.customers"));
  ASSERT_NE(missing.failure.location(), nullptr);
  EXPECT_EQ(missing.failure.location()->line, 9);

  ASSERT_OK(Deploy(Spec(kCustomers, "customers"), root_).failure);
  ASSERT_OK_AND_ASSIGN(DomainInfo sales,
                       service_->CreateDomain(root_, {.name = "sales", .owner = "sam"}));
  ASSERT_OK_AND_ASSIGN(auto token, catalog_->IssueToken(sales.ci_credentials->client_id,
                                                        sales.ci_credentials->client_secret));
  ASSERT_OK_AND_ASSIGN(Caller ci, catalog_->Authenticate(token.access_token, "t"));
  // The sales CI may publish in sales but not read customers' data yet.
  ASSERT_OK_AND_ASSIGN(auto denied, service_->Deploy(ci, Spec(kOrders, "orders")));
  EXPECT_THAT(denied.failure, IsError(StatusCode::kPermissionDenied));
  EXPECT_THAT(denied.failure.ToString(), HasSubstr("customers_consumer"));
  ASSERT_OK(catalog_->AssignRole(root_, "sales_ci", "customers_consumer"));
  DeployReport published = Deploy(Spec(kOrders, "orders"), ci);
  ASSERT_OK(published.failure);
  EXPECT_THAT(Rows("sales", "orders", "order_id"), SizeIs(20));

  ASSERT_OK_AND_ASSIGN(LineageGraph graph, service_->Lineage(root_, "customers", "customers"));
  ASSERT_THAT(graph.edges, SizeIs(1));
  EXPECT_EQ(graph.edges[0].from, "customers.customers");
  EXPECT_EQ(graph.edges[0].to, "sales.orders");
  // Column level: orders.customer_id comes from customers.customer_id.
  ASSERT_TRUE(graph.edges[0].columns.contains("customer_id"));
  EXPECT_EQ(graph.edges[0].columns.at("customer_id"), std::vector<std::string>{"customer_id"});
  EXPECT_FALSE(graph.edges[0].columns.contains("amount"));
  ASSERT_OK_AND_ASSIGN(graph, service_->Lineage(root_, "sales", "orders"));
  EXPECT_THAT(graph.nodes, SizeIs(2));
}

TEST_F(ProductServiceTest, TheSlaMonitorRefreshesOnScheduleAndReportsBreachesOnce) {
  std::string text = kCustomers;
  text.replace(text.find("sla: {freshness: 1d}"), 20,
               "sla: {freshness: 1h, schedule: \"0 * * * *\"}");
  ASSERT_OK(Deploy(Spec(text, "customers"), root_).failure);
  // A closed port: the webhook fails, and the failure is reported, not thrown.
  SlaMonitor monitor(*catalog_, *service_, {.webhook_url = "http://127.0.0.1:9/hook"});
  const auto now = std::chrono::system_clock::now();
  // Not at minute 0: nothing is refreshed; fresh, so nothing is breached.
  const auto at_minute = [&](int minute, std::chrono::hours later) {
    const auto base = std::chrono::floor<std::chrono::hours>(now + later);
    return base + std::chrono::minutes(minute);
  };
  SlaTick tick = monitor.Tick(at_minute(30, std::chrono::hours(0)) - std::chrono::hours(1) +
                              std::chrono::hours(1));
  EXPECT_TRUE(tick.refreshed.empty());
  // Three hours on, at minute 30: late, one breach, one (failed) webhook.
  tick = monitor.Tick(at_minute(30, std::chrono::hours(3)));
  ASSERT_THAT(tick.breached, SizeIs(1));
  EXPECT_THAT(tick.breached[0], HasSubstr("customers.customers v1.0.0"));
  ASSERT_THAT(tick.webhook_errors, SizeIs(1));
  EXPECT_THAT(tick.webhook_errors[0], HasSubstr("127.0.0.1:9/hook"));
  tick = monitor.Tick(at_minute(31, std::chrono::hours(3)));
  EXPECT_TRUE(tick.breached.empty()) << "a breach is reported once";
  // At minute 0 the schedule fires: the product is refreshed, fresh again, recovered.
  tick = monitor.Tick(at_minute(0, std::chrono::hours(4)));
  ASSERT_THAT(tick.refreshed, SizeIs(1)) << fmt::format("{}", fmt::join(tick.failed, "; "));
  ASSERT_OK_AND_ASSIGN(auto history, service_->History(root_, "customers", "customers"));
  EXPECT_THAT(history, SizeIs(2));
  EXPECT_EQ(history.back().by, "sla-monitor");
  ASSERT_OK_AND_ASSIGN(auto card, service_->ScoreProduct(root_, "customers", "customers"));
  EXPECT_EQ(card.freshness, "fresh");
  EXPECT_DOUBLE_EQ(card.quality_pass_rate, 1.0);
  EXPECT_GT(card.score, 50);
  EXPECT_THAT(card.improvements, ::testing::Contains(HasSubstr("add a description")));
}

TEST_F(ProductServiceTest, RollbackPublishesAnEarlierVersionAgain) {
  ASSERT_OK(Deploy(Spec(kCustomers, "customers"), root_).failure);
  std::string text = kCustomers;
  text.replace(text.find("version: 1.0.0"), 14, "version: 1.0.1");
  text.replace(text.find("range(1, 11)"), 12, "range(1, 21)");
  ASSERT_OK(Deploy(Spec(text, "customers_more"), root_).failure);
  EXPECT_THAT(Rows("customers", "customers", "customer_id"), SizeIs(20));
  ASSERT_OK_AND_ASSIGN(ProductRecord back,
                       service_->Rollback(root_, "customers", "customers", "1.0.0"));
  EXPECT_EQ(back.version, "1.0.0");
  EXPECT_THAT(Rows("customers", "customers", "customer_id"), SizeIs(10));
  EXPECT_EQ(service_->LoadProduct(root_, "customers", "customers")->version, "1.0.0");
  EXPECT_THAT(service_->Rollback(root_, "customers", "customers", "1.0.7"),
              IsError(StatusCode::kNotFound, "never published as 1.0.7"));
}

TEST_F(ProductServiceTest, StatisticsDecidePassingRulesAndFailuresStillShowTheirRows) {
  constexpr const char* kScores = R"yaml(apiVersion: meshwork/v1
kind: DataProduct
domain: stats
name: scores
version: 1.0.0
owner: {team: stats}
transform:
  sql: SELECT i AS id, i - getvariable('offset') AS score FROM range(1, 1001) t(i)
ports:
  - name: scores
    columns:
      - {name: id, type: long, nullable: false, description: Row}
      - {name: score, type: long, description: Score}
quality:
  - {rule: range, column: score, min: 0, max: 1000}
  - {rule: row_count, min: 1000}
)yaml";
  DeployOptions options{.create_domain = true};
  options.variables["offset"] = "0";
  ASSERT_OK_AND_ASSIGN(auto passed, service_->Deploy(root_, Spec(kScores, "scores"), options));
  ASSERT_OK(passed.failure);
  std::map<std::string, std::string> details;
  for (const auto& result : passed.quality)
    details[result.rule] = result.detail;
  EXPECT_THAT(details["range(score)"], HasSubstr("from the files' bounds"));
  EXPECT_THAT(details["row_count"], HasSubstr("from the files' record counts"));
  EXPECT_THAT(details["contract: required columns"], HasSubstr("from the files' null counts"));
  // Out of range: the bounds do not prove it, the scan finds the rows.
  std::string text = kScores;
  text.replace(text.find("version: 1.0.0"), 14, "version: 1.0.1");
  options.variables["offset"] = "5";
  ASSERT_OK_AND_ASSIGN(auto failed, service_->Deploy(root_, Spec(text, "scores_bad"), options));
  EXPECT_THAT(failed.failure, IsError(StatusCode::kFailedPrecondition, "range(score)"));
  EXPECT_THAT(failed.failure.ToString(), HasSubstr("4 rows outside [0, 1000]"));
  EXPECT_THAT(failed.failure.ToString(), HasSubstr("\"score\":\"-4\""));
  EXPECT_EQ(service_->LoadProduct(root_, "stats", "scores")->version, "1.0.0");
}

TEST_F(ProductServiceTest, ProductsWithSeveralPortsPublishAllOrPutThemBack) {
  constexpr const char* kTwoPorts = R"yaml(apiVersion: meshwork/v1
kind: DataProduct
domain: sales
name: orders
version: 1.0.0
owner: {team: sales}
transform:
  sql: SELECT i AS order_id, i % 3 AS region FROM range(1, 31) t(i)
ports:
  - name: orders
    columns:
      - {name: order_id, type: long, primary_key: true, description: Order}
      - {name: region, type: long, description: Region}
  - name: orders_by_region
    sql: |
      SELECT i % 3 AS region, count(*) AS orders
      FROM range(1, 31) t(i) GROUP BY 1
    columns:
      - {name: region, type: long, primary_key: true, description: Region}
      - {name: orders, type: long, description: Orders}
quality:
  - {rule: row_count, port: orders, min: 1}
  - {rule: range, port: orders_by_region, column: orders, max: 10}
)yaml";
  DeployReport first = Deploy(Spec(kTwoPorts, "two"), root_);
  ASSERT_OK(first.failure);
  ASSERT_THAT(first.ports, SizeIs(2));
  EXPECT_EQ(first.ports[1].table, "sales.orders_by_region");
  EXPECT_THAT(Rows("sales", "orders", "order_id"), SizeIs(30));
  EXPECT_THAT(Rows("sales", "orders_by_region", "region"), SizeIs(3));
  ASSERT_OK_AND_ASSIGN(auto before, catalog_->LoadTable(root_, {{"sales"}, "orders"}));

  // The second port fails its rule after the first was committed: the first goes back.
  std::string text = kTwoPorts;
  text.replace(text.find("version: 1.0.0"), 14, "version: 1.0.1");
  text.replace(text.find("range(1, 31) t(i)"), 17, "range(1, 61) t(i)");
  text.replace(text.find("range(1, 31) t(i) GROUP"), 17, "range(1, 61) t(i)");
  ASSERT_OK_AND_ASSIGN(auto failed, service_->Deploy(root_, Spec(text, "two_bad")));
  EXPECT_THAT(failed.failure, IsError(StatusCode::kFailedPrecondition, "range(orders)"));
  ASSERT_OK_AND_ASSIGN(auto after, catalog_->LoadTable(root_, {{"sales"}, "orders"}));
  EXPECT_EQ(after.metadata.current_snapshot_id, before.metadata.current_snapshot_id);
  EXPECT_FALSE(after.metadata.refs.contains("v1.0.1")) << "the undone version's tag goes";
  EXPECT_TRUE(after.metadata.refs.contains("v1.0.0"));
  EXPECT_THAT(Rows("sales", "orders", "order_id"), SizeIs(30));
  EXPECT_EQ(service_->LoadProduct(root_, "sales", "orders")->version, "1.0.0");

  // A further port without SQL is a spec error.
  std::string no_sql = kTwoPorts;
  no_sql.replace(no_sql.find("    sql: |\n      SELECT i % 3"), 4, "    x-sql");
  EXPECT_THAT(ParseSpec(no_sql, "x.yaml"), IsError(StatusCode::kInvalidArgument, "needs 'sql'"));
}

TEST(CronTest, MatchesLikeCron) {
  EXPECT_TRUE(CronMatches("0 6 * * *", 0, 6, 15, 3, 2));
  EXPECT_FALSE(CronMatches("0 6 * * *", 1, 6, 15, 3, 2));
  EXPECT_TRUE(CronMatches("*/15 * * * *", 45, 1, 1, 1, 0));
  EXPECT_FALSE(CronMatches("*/15 * * * *", 46, 1, 1, 1, 0));
  EXPECT_TRUE(CronMatches("0 9 * * 1-5", 0, 9, 4, 12, 5));   // a Friday
  EXPECT_FALSE(CronMatches("0 9 * * 1-5", 0, 9, 5, 12, 6));  // a Saturday
  EXPECT_TRUE(CronMatches("0 0 * * 7", 0, 0, 6, 12, 0));     // 7 is Sunday too
  EXPECT_TRUE(CronMatches("0 0 1 * 1", 0, 0, 1, 12, 3));     // day 1 or a Monday
  EXPECT_TRUE(CronMatches("0 0 1 * 1", 0, 0, 8, 12, 1));
  EXPECT_FALSE(CronMatches("0 0 1 * 1", 0, 0, 8, 12, 2));
  EXPECT_TRUE(CronMatches("5,10-12 * * * *", 11, 0, 1, 1, 0));
  EXPECT_FALSE(CronMatches("not cron", 0, 0, 1, 1, 0));
}

}  // namespace
}  // namespace meshwork::product
