#include "product/odcs.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "testing/status_matchers.h"

namespace meshwork::product {
namespace {

using ::testing::HasSubstr;

// An ODCS v3.1 contract written by someone else: fields we model and many we do not.
constexpr const char* kContract = R"yaml(apiVersion: v3.1.0
kind: DataContract
id: 53581432-6c55-4ba2-a65f-72344a91553a
name: Seller payments
version: 2.1.0
status: active
domain: Seller Domain
dataProduct: seller_payments
tenant: ClimateQuantumInc
description:
  purpose: Views built on top of the seller tables.
  limitations: Not for regulatory reporting.
  usage: Join with seller master data.
tags: [finance, payments]
team:
  name: seller-team
  members:
    - username: ceastwood@example.com
      name: Clint
      role: owner
      dateIn: "2022-10-01"
    - username: mhopper
      role: analyst
roles:
  - role: microstrategy_user_opr
    access: read
    firstLevelApprovers: Reporting Manager
price:
  priceAmount: 9.95
  priceCurrency: USD
  priceUnit: megabyte
servers:
  - server: prod
    type: bigquery
    project: dataset-1
schema:
  - name: tbl
    physicalName: tbl_1
    logicalType: object
    physicalType: table
    description: Provides core payment metrics
    dataGranularityDescription: Aggregation on columns txn_ref_dt, pmt_txn_id
    properties:
      - name: txn_ref_dt
        businessName: transaction reference date
        logicalType: date
        physicalType: date
        required: false
        description: Reference date for transaction
        partitioned: true
        partitionKeyPosition: 1
        criticalDataElement: false
        transformSourceObjects: [table_name_1, table_name_2]
      - name: rcvr_id
        primaryKey: true
        primaryKeyPosition: 1
        logicalType: string
        physicalType: varchar(18)
        required: false
        description: A description for column rcvr_id.
        classification: restricted
        quality:
          - name: rcvr_not_null
            type: library
            metric: nullValues
            mustBe: 0
      - name: rcvr_cntry_code
        logicalType: string
        physicalType: varchar(2)
        required: true
        description: Country code
        quality:
          - type: library
            metric: invalidValues
            arguments:
              validValues: [DE, FR, US]
            mustBe: 0
            severity: warning
          - type: text
            description: Must be a country the seller ships to.
    quality:
      - type: library
        metric: rowCount
        mustBeGreaterOrEqualTo: 5
      - type: sql
        query: SELECT COUNT(*) FROM ${object} WHERE rcvr_id IS NULL
        mustBe: 0
slaProperties:
  - property: latency
    value: 4
    unit: d
    schedule: "0 20 * * *"
  - property: availability
    value: 99.9
  - property: retention
    value: 3
    unit: y
support:
  - channel: "#product-help"
    tool: slack
    url: https://aidaug.slack.com/archives/C05UZRSBKLY
customProperties:
  - property: refRulesetName
    value: gcsc.ruleset.name
contractCreatedTs: "2022-11-15T02:59:43+00:00"
)yaml";

// Structural equality of two YAML trees (scalars by text, maps by key set).
bool Same(const YAML::Node& a, const YAML::Node& b) {
  if (a.Type() != b.Type()) return false;
  if (a.IsScalar()) return a.Scalar() == b.Scalar();
  if (a.IsSequence()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!Same(a[i], b[i])) return false;
    return true;
  }
  if (a.IsMap()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      const YAML::Node other = b[it->first.Scalar()];
      if (!other.IsDefined() || !Same(it->second, other)) return false;
    }
    return true;
  }
  return true;
}

TEST(OdcsTest, AnImportedContractExportsBackWithEveryField) {
  ASSERT_OK_AND_ASSIGN(ImportedOdcs imported, ImportOdcs(kContract, "payments.odcs.yaml"));
  ASSERT_OK_AND_ASSIGN(DataProductSpec spec, ParseSpec(imported.spec_yaml, "imported.yaml"));
  EXPECT_EQ(spec.QualifiedName(), "seller_domain.seller_payments");
  EXPECT_EQ(spec.version.ToString(), "2.1.0");
  EXPECT_EQ(spec.owner.team, "Clint");
  EXPECT_EQ(spec.owner.email, "ceastwood@example.com");
  const Port& port = spec.ports.at(0);
  EXPECT_EQ(port.partitioning, "txn_ref_dt");
  EXPECT_EQ(port.FindColumn("rcvr_id")->type, "string");  // varchar(18) is no Iceberg type
  EXPECT_TRUE(port.FindColumn("rcvr_id")->primary_key);
  EXPECT_FALSE(port.FindColumn("rcvr_cntry_code")->nullable);
  EXPECT_EQ(spec.sla.freshness, "4d");
  EXPECT_EQ(spec.sla.schedule, "0 20 * * *");
  EXPECT_EQ(spec.sla.availability, 99.9);
  EXPECT_EQ(spec.quality.size(), 4u);  // not null, accepted values, row count, sql
  EXPECT_THAT(imported.transform_sql, HasSubstr("CAST(NULL AS VARCHAR) AS rcvr_id"));
  bool noted_text_rule = false;
  for (const auto& note : imported.notes)
    noted_text_rule |= note.find("no meshwork equivalent") != std::string::npos;
  EXPECT_TRUE(noted_text_rule);

  // Unchanged, the export is the contract as it came, unknown fields and all.
  ASSERT_OK_AND_ASSIGN(std::string exported, ExportOdcs(spec));
  EXPECT_TRUE(Same(YAML::Load(exported), YAML::Load(kContract))) << exported;

  // A change we model is written; everything else stays.
  std::string edited = imported.spec_yaml;
  edited.replace(edited.find("version: 2.1.0"), 14, "version: 2.2.0");
  edited.replace(edited.find("description: Country code"), 25, "description: ISO country code");
  ASSERT_OK_AND_ASSIGN(DataProductSpec changed, ParseSpec(edited, "edited.yaml"));
  ASSERT_OK_AND_ASSIGN(exported, ExportOdcs(changed));
  const YAML::Node out = YAML::Load(exported);
  EXPECT_EQ(out["version"].Scalar(), "2.2.0");
  EXPECT_EQ(out["schema"][0]["properties"][2]["description"].Scalar(), "ISO country code");
  EXPECT_EQ(out["schema"][0]["properties"][1]["physicalType"].Scalar(), "varchar(18)");
  EXPECT_EQ(out["price"]["priceAmount"].Scalar(), "9.95");
  EXPECT_EQ(out["team"]["members"][1]["username"].Scalar(), "mhopper");
  EXPECT_EQ(out["slaProperties"][2]["property"].Scalar(), "retention");
}

TEST(OdcsTest, OurContractsRoundTripThroughOdcs) {
  constexpr const char* kSpec = R"yaml(apiVersion: meshwork/v1
kind: DataProduct
domain: shop
name: orders
version: 1.3.0
title: Orders
owner: {team: shop, email: shop@example.com}
transform:
  sql: SELECT 1 AS id, 'x@y.z' AS email
ports:
  - name: orders
    columns:
      - {name: id, type: long, primary_key: true, description: Order}
      - {name: email, type: string, classification: pii.email, semantic_type: email, description: Buyer}
quality:
  - {rule: regex, column: email, pattern: '.+@.+'}
  - {rule: range, column: id, min: 1}
sla: {freshness: 6h, availability: 99.5, support: "https://chat.example.com/shop"}
)yaml";
  ASSERT_OK_AND_ASSIGN(DataProductSpec spec, ParseSpec(kSpec, "dataproduct.yaml"));
  ASSERT_OK_AND_ASSIGN(std::string exported, ExportOdcs(spec, "deprecated"));
  const YAML::Node odcs = YAML::Load(exported);
  EXPECT_EQ(odcs["kind"].Scalar(), "DataContract");
  EXPECT_EQ(odcs["status"].Scalar(), "deprecated");
  EXPECT_EQ(odcs["schema"][0]["physicalName"].Scalar(), "shop.orders");
  EXPECT_EQ(odcs["schema"][0]["properties"][1]["classification"].Scalar(), "pii.email");
  EXPECT_EQ(odcs["schema"][0]["properties"][1]["quality"][0]["metric"].Scalar(), "invalidValues");
  EXPECT_EQ(odcs["schema"][0]["quality"][0]["type"].Scalar(), "sql");
  EXPECT_EQ(odcs["slaProperties"][0]["unit"].Scalar(), "h");
  ASSERT_OK_AND_ASSIGN(ImportedOdcs back, ImportOdcs(exported, "orders.odcs.yaml"));
  EXPECT_EQ(back.spec_yaml, kSpec);
}

TEST(OdcsTest, RefusesWhatIsNotAContract) {
  EXPECT_THAT(ImportOdcs("kind: DataProduct\n", "x.yaml"),
              IsError(StatusCode::kInvalidArgument, "not an ODCS v3 data contract"));
  EXPECT_THAT(ImportOdcs("a: [", "x.yaml"), IsError(StatusCode::kInvalidArgument, "YAML syntax"));
  EXPECT_FALSE(ImportOdcs("apiVersion: v3.1.0\nkind: DataContract\nschema: 3\n", "x.yaml").ok());
}

}  // namespace
}  // namespace meshwork::product
