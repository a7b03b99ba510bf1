// meshwork reads every table of ../shared/reference/iceberg-tables (written by Spark, the Java
// API, Athena and pyiceberg) with the row counts and values their README lists: position and
// equality deletes, renamed and added columns, partition values kept only in manifests,
// partition evolution, foreign locations.
#include <gtest/gtest.h>

#include <filesystem>

#include "engine/database.h"
#include "iceberg/scan_planner.h"
#include "iceberg/scan_reader.h"
#include "iceberg/static_table.h"
#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork::iceberg {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Rows = std::vector<std::vector<std::string>>;

class ReferenceTablesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto shared = testing::SharedDir();
    if (!shared) GTEST_SKIP() << "SKIPPED LOUDLY: ../shared is absent, reference tables not read";
    tables_ = *shared / "reference" / "iceberg-tables";
  }

  // Runs `select` (with the table's rows as `t`) on the table at `metadata` (relative to the
  // reference folder), reading through a locked-down engine that sees only the table's folder.
  Result<Rows> Query(const std::string& metadata, const std::string& select = "SELECT * FROM t") {
    MW_ASSIGN_OR_RETURN(StaticTable opened, OpenStaticTable((tables_ / metadata).string()));
    MW_ASSIGN_OR_RETURN(ScanPlan plan,
                        PlanScan(*opened.io, opened.table, std::nullopt, Expression()));
    MW_ASSIGN_OR_RETURN(std::string sql, ScanSql(*opened.io, opened.table.metadata,
                                                 opened.table.metadata.CurrentSchema(), plan));
    const std::string folder =
        std::filesystem::path(opened.table.metadata_location).parent_path().parent_path().string();
    MW_ASSIGN_OR_RETURN(auto database, engine::Database::Open({.threads = 2,
                                                               .allowed_directories = {folder},
                                                               .lock_down = true,
                                                               .settings = {{"TimeZone", "UTC"}}}));
    MW_ASSIGN_OR_RETURN(auto connection, database.Connect());
    return connection.QueryText("WITH t AS (" + sql + ") " + select);
  }

  int64_t Count(const std::string& metadata) {
    auto rows = Query(metadata, "SELECT count(*) FROM t");
    EXPECT_OK(rows.status()) << metadata;
    return rows.ok() ? std::stoll((*rows)[0][0]) : -1;
  }

  std::filesystem::path tables_;
};

TEST_F(ReferenceTablesTest, SparkBunniesWithPositionDeletesAndAnAddedColumn) {
  EXPECT_EQ(Count("icebird-spark-bunnies/metadata/v1.metadata.json"), 21);
  EXPECT_EQ(Count("icebird-spark-bunnies/metadata/v3.metadata.json"), 20);
  EXPECT_EQ(Count("icebird-spark-bunnies/metadata/v5.metadata.json"), 20);
  ASSERT_OK_AND_ASSIGN(Rows first,
                       Query("icebird-spark-bunnies/metadata/v5.metadata.json",
                             "SELECT \"Breed Name\", breed_name_length FROM t LIMIT 1"));
  EXPECT_THAT(first, ElementsAre(ElementsAre("Netherland Dwarf", "16")));
  // The folder alone opens its newest version (version-hint.text).
  EXPECT_EQ(Count("icebird-spark-bunnies"), 20);
}

TEST_F(ReferenceTablesTest, JavaBunniesWithEqualityAndPositionDeletes) {
  EXPECT_EQ(Count("icebird-java-bunnies/metadata/v2.metadata.json"), 21);
  EXPECT_EQ(Count("icebird-java-bunnies/metadata/v3.metadata.json"), 21);
  EXPECT_EQ(Count("icebird-java-bunnies/metadata/v4.metadata.json"), 15);
  EXPECT_EQ(Count("icebird-java-bunnies/metadata/v5.metadata.json"), 15);
}

TEST_F(ReferenceTablesTest, SparkRenamedColumnWithBucketAndNullPartitions) {
  ASSERT_OK_AND_ASSIGN(Rows rows, Query("icebird-spark-rename-column/metadata/v3.metadata.json",
                                        "SELECT * FROM t ORDER BY id"));
  EXPECT_THAT(rows, ElementsAre(ElementsAre("1", "Flopsy 🐇", "2022-01-01", "9.99", "true"),
                                ElementsAre("2", "Mopsy–Naïve", "2022-01-01", "-5.00", "false"),
                                ElementsAre("3", "Cottontail", "NULL", "0.00", "true"),
                                ElementsAre("4", "Thumper", "2022-01-02", "99999999.99", "false")));
  ASSERT_OK_AND_ASSIGN(Rows names, Query("icebird-spark-rename-column/metadata/v3.metadata.json",
                                         "SELECT event_date FROM t WHERE id = 4"));
  EXPECT_THAT(names, ElementsAre(ElementsAre("2022-01-02")));
  EXPECT_EQ(Count("icebird-spark-rename-column/metadata/v2.metadata.json"), 4);
}

TEST_F(ReferenceTablesTest, AthenaTableWithObjectStorageLayout) {
  ASSERT_OK_AND_ASSIGN(Rows rows, Query("icebird-athena-example/metadata/"
                                        "00001-aaf0d033-d06b-43c7-be60-67f83abd4aca.metadata.json",
                                        "SELECT * FROM t ORDER BY id"));
  EXPECT_THAT(rows, ElementsAre(ElementsAre("1", "Alice"), ElementsAre("2", "Bob")));
  // No version-hint.text: the folder opens the highest NNNNN- file.
  EXPECT_EQ(Count("icebird-athena-example"), 2);
}

TEST_F(ReferenceTablesTest, LineitemBeforeAndAfterACopyOnWriteDelete) {
  EXPECT_EQ(Count("duckdb-lineitem-iceberg/metadata/v1.metadata.json"), 60175);
  EXPECT_EQ(Count("duckdb-lineitem-iceberg/metadata/v2.metadata.json"), 51793);
  // TPC-H Q6, whose answer the table's README gives.
  ASSERT_OK_AND_ASSIGN(
      Rows q6, Query("duckdb-lineitem-iceberg/metadata/v2.metadata.json",
                     "SELECT CAST(sum(l_extendedprice * l_discount) AS DECIMAL(18,4)) FROM t "
                     "WHERE l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1995-01-01' "
                     "AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24"));
  EXPECT_THAT(q6, ElementsAre(ElementsAre("1077536.9101")));
}

TEST_F(ReferenceTablesTest, IdentityPartitionValuesOnlyInManifests) {
  ASSERT_OK_AND_ASSIGN(Rows rows, Query("duckdb-partition-integer/metadata/v2.metadata.json",
                                        "SELECT * FROM t ORDER BY partition_col DESC"));
  EXPECT_THAT(rows, ElementsAre(ElementsAre("1337", "67890", "purchase"),
                                ElementsAre("42", "12345", "click")));
  ASSERT_OK_AND_ASSIGN(Rows timestamps,
                       Query("duckdb-partition-timestamp-pyiceberg/metadata/"
                             "00001-0c9938a5-103e-4185-b46d-331368ae4db7.metadata.json",
                             "SELECT * FROM t ORDER BY user_id"));
  EXPECT_THAT(timestamps, ElementsAre(ElementsAre("2023-05-15 14:30:45", "12345", "click"),
                                      ElementsAre("2023-08-22 09:15:20", "67890", "purchase")));
}

TEST_F(ReferenceTablesTest, EqualityDeletesFollowSequenceNumbers) {
  EXPECT_EQ(Count("duckdb-equality-deletes/metadata/v2.metadata.json"), 4);
  EXPECT_EQ(Count("duckdb-equality-deletes/metadata/v4.metadata.json"), 2);
  EXPECT_EQ(Count("duckdb-equality-deletes/metadata/v5.metadata.json"), 1);
  EXPECT_EQ(Count("duckdb-equality-deletes/metadata/v6.metadata.json"), 3);
  ASSERT_OK_AND_ASSIGN(Rows rows,
                       Query("duckdb-equality-deletes/metadata/v7.metadata.json",
                             "SELECT id, name, CAST(bir AS VARCHAR) FROM t ORDER BY id"));
  EXPECT_THAT(
      rows, ElementsAre(ElementsAre("4", "d", "2025-01-04"), ElementsAre("5", "e", "2025-01-05")));
  // Known defect of the fixture (its README): v3's manifest list is missing upstream.
  auto missing = Query("duckdb-equality-deletes/metadata/v3.metadata.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.error().message(), HasSubstr("snap-7342794868382145167-1-"));
}

TEST_F(ReferenceTablesTest, PartitionEvolutionWithHiveStyleFolders) {
  EXPECT_EQ(Count("duckdb-hive-partitioned/metadata/v2.metadata.json"), 2);
  ASSERT_OK_AND_ASSIGN(Rows rows, Query("duckdb-hive-partitioned/metadata/v4.metadata.json",
                                        "SELECT CAST(event_date AS VARCHAR), event_type, count(*) "
                                        "FROM t GROUP BY ALL ORDER BY ALL"));
  EXPECT_EQ(rows.size(), 6u);
  EXPECT_THAT(rows[0], ElementsAre("2024-01-01", "click", "1"));
}

TEST_F(ReferenceTablesTest, EmptyFirstVersionsReadAsEmpty) {
  EXPECT_EQ(Count("icebird-java-bunnies/metadata/v1.metadata.json"), 0);
  EXPECT_EQ(Count("duckdb-partition-integer/metadata/v1.metadata.json"), 0);
}

TEST_F(ReferenceTablesTest, ForeignPathsCannotLeaveTheTableFolder) {
  ASSERT_OK_AND_ASSIGN(StaticTable opened,
                       OpenStaticTable((tables_ / "icebird-spark-bunnies").string()));
  EXPECT_EQ(opened.io->ReadFile("s3a://hyperparam-iceberg/spark/bunnies/../../etc/passwd")
                .status()
                .code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(opened.io->ReadFile("/etc/passwd").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(opened.io->WriteFileAtomic("metadata/x.json", "{}").code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(opened.io->Exists("s3a://hyperparam-iceberg/spark/bunnies/metadata/v1.metadata.json")
                  .value_or(false));
}

}  // namespace
}  // namespace meshwork::iceberg
