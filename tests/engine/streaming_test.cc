// Results stream: reading 10 million rows must not hold them in memory.

#include <gtest/gtest.h>

#include "engine/connection.h"
#include "engine/database.h"
#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork::engine {
namespace {

TEST(StreamingTest, TenMillionRowsKeepMemoryFlat) {
  ASSERT_OK_AND_ASSIGN(Database database, Database::Open({.threads = 2}));
  ASSERT_OK_AND_ASSIGN(Connection connection, database.Connect());
  // Warm up the engine so its fixed allocations are not counted as growth.
  ASSERT_OK(connection.QueryText("SELECT count(*) FROM range(100000)").status());

  constexpr uint64_t kRows = 10'000'000;
  ASSERT_OK_AND_ASSIGN(
      QueryResult result,
      connection.Query(fmt::format("SELECT i, i * 2 AS doubled, 'row number ' || i AS label "
                                   "FROM range({}) t(i)",
                                   kRows)));
  const uint64_t rss_before = testing::CurrentRssBytes();
  ASSERT_GT(rss_before, 0u);
  uint64_t rss_peak = rss_before;
  uint64_t rows = 0, chunks = 0, label_bytes = 0, checksum = 0;
  while (true) {
    ASSERT_OK_AND_ASSIGN(DataChunk chunk, result.Fetch());
    if (!chunk) break;
    for (uint64_t row = 0; row < chunk.size(); ++row) {
      checksum += static_cast<uint64_t>(chunk.column(1).Get<int64_t>(row));
      label_bytes += chunk.column(2).GetString(row).size();
    }
    rows += chunk.size();
    if (++chunks % 256 == 0) rss_peak = std::max(rss_peak, testing::CurrentRssBytes());
  }
  rss_peak = std::max(rss_peak, testing::CurrentRssBytes());
  EXPECT_EQ(rows, kRows);
  EXPECT_EQ(checksum, kRows * (kRows - 1));  // sum of 2i for i < n
  // Each row carries 16 bytes of integers plus its label: hundreds of MB in total.
  const uint64_t data_bytes = rows * 16 + label_bytes;
  const uint64_t growth = rss_peak > rss_before ? rss_peak - rss_before : 0;
  RecordProperty("data_mib", std::to_string(data_bytes >> 20));
  RecordProperty("rss_growth_mib", std::to_string(growth >> 20));
  std::printf("streamed %llu rows (%llu MiB of data); RSS %llu MiB -> peak %llu MiB (+%llu MiB)\n",
              static_cast<unsigned long long>(rows),
              static_cast<unsigned long long>(data_bytes >> 20),
              static_cast<unsigned long long>(rss_before >> 20),
              static_cast<unsigned long long>(rss_peak >> 20),
              static_cast<unsigned long long>(growth >> 20));
  EXPECT_GT(data_bytes, uint64_t{250} << 20);
  // Flat: growth stays a small fraction of what materializing would take.
  EXPECT_LT(growth, data_bytes / 8);
  EXPECT_LT(growth, uint64_t{64} << 20);
}

}  // namespace
}  // namespace meshwork::engine
