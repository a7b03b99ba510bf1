// The engine wrapper against DuckDB's raw C API on the same queries, in the same process.
// Reports the best of several runs of each side and the ratio ours / raw (1.00 = no overhead).

#include <duckdb.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>

#include "engine/connection.h"
#include "engine/database.h"

namespace {

using Clock = std::chrono::steady_clock;

double BestSeconds(int runs, const std::function<uint64_t()>& body, uint64_t& checksum) {
  double best = 1e9;
  for (int run = 0; run < runs; ++run) {
    const auto start = Clock::now();
    checksum = body();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - start).count());
  }
  return best;
}

// Raw C API: stream chunks and sum the BIGINT column and the VARCHAR lengths.
uint64_t RawScan(duckdb_connection connection, const char* sql) {
  duckdb_prepared_statement statement;
  duckdb_prepare(connection, sql, &statement);
  duckdb_pending_result pending;
  duckdb_pending_prepared_streaming(statement, &pending);
  duckdb_result result;
  duckdb_execute_pending(pending, &result);
  uint64_t checksum = 0;
  while (duckdb_data_chunk chunk = duckdb_fetch_chunk(result)) {
    const idx_t rows = duckdb_data_chunk_get_size(chunk);
    if (rows == 0) {
      duckdb_destroy_data_chunk(&chunk);
      break;
    }
    auto* numbers =
        static_cast<int64_t*>(duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 0)));
    auto* strings = static_cast<duckdb_string_t*>(
        duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 1)));
    for (idx_t row = 0; row < rows; ++row) {
      checksum += static_cast<uint64_t>(numbers[row]) + duckdb_string_t_length(strings[row]);
    }
    duckdb_destroy_data_chunk(&chunk);
  }
  duckdb_destroy_result(&result);
  duckdb_destroy_pending(&pending);
  duckdb_destroy_prepare(&statement);
  return checksum;
}

uint64_t OurScan(meshwork::engine::Connection& connection, const char* sql) {
  auto result = connection.Query(sql);
  if (!result.ok()) {
    std::fprintf(stderr, "%s\n", result.error().ToString().c_str());
    std::exit(1);
  }
  uint64_t checksum = 0;
  while (true) {
    auto chunk = result->Fetch();
    if (!chunk.ok() || !*chunk) break;
    const auto& numbers = chunk->column(0);
    const auto& strings = chunk->column(1);
    for (uint64_t row = 0; row < chunk->size(); ++row) {
      checksum += static_cast<uint64_t>(numbers.Get<int64_t>(row)) + strings.GetString(row).size();
    }
  }
  return checksum;
}

// Text rendering: ours (Vector::AppendText) against DuckDB casting every column to VARCHAR.
uint64_t OurText(meshwork::engine::Connection& connection, const char* sql) {
  auto result = connection.Query(sql);
  uint64_t bytes = 0;
  std::string buffer;
  while (true) {
    auto chunk = result->Fetch();
    if (!chunk.ok() || !*chunk) break;
    for (uint64_t row = 0; row < chunk->size(); ++row) {
      for (size_t column = 0; column < chunk->column_count(); ++column) {
        buffer.clear();
        (void)chunk->column(column).AppendText(row, buffer);
        bytes += buffer.size();
      }
    }
  }
  return bytes;
}

}  // namespace

int main() {
  constexpr const char* kScan = "SELECT i AS n, 'label ' || i AS s FROM range(20000000) t(i)";
  constexpr const char* kTypedRow =
      "SELECT i, i * 0.5 AS d, (i % 100000)::DECIMAL(12,2) AS m, DATE '2024-01-01' + (i % "
      "1000)::INT "
      "AS day, TIMESTAMP '2024-01-01' + to_microseconds(i) AS ts FROM range(3000000) t(i)";
  std::string text_reference = "SELECT ";
  for (const char* column : {"i", "d", "m", "day", "ts"}) {
    text_reference += std::string(column == std::string("i") ? "" : ", ") + "CAST(" + column +
                      " AS VARCHAR) AS " + column;
  }
  text_reference += std::string(" FROM (") + kTypedRow + ")";

  auto database = meshwork::engine::Database::Open({.threads = 2});
  auto ours = database->Connect();

  duckdb_database raw_database;
  duckdb_config config;
  duckdb_create_config(&config);
  duckdb_set_config(config, "threads", "2");
  duckdb_open_ext(nullptr, &raw_database, config, nullptr);
  duckdb_destroy_config(&config);
  duckdb_connection raw;
  duckdb_connect(raw_database, &raw);

  std::printf("%-44s %10s %10s %7s\n", "benchmark (best of 3)", "raw C API", "meshwork", "ratio");
  uint64_t raw_sum = 0, our_sum = 0;
  const double raw_scan = BestSeconds(
      3, [&] { return RawScan(raw, kScan); }, raw_sum);
  const double our_scan = BestSeconds(
      3, [&] { return OurScan(*ours, kScan); }, our_sum);
  std::printf("%-44s %9.3fs %9.3fs %7.2f%s\n", "stream 20M rows (BIGINT + VARCHAR)", raw_scan,
              our_scan, our_scan / raw_scan, raw_sum == our_sum ? "" : "  CHECKSUM MISMATCH");

  uint64_t raw_bytes = 0, our_bytes = 0;
  const double raw_text = BestSeconds(
      3, [&] { return OurText(*ours, text_reference.c_str()); }, raw_bytes);
  const double our_text = BestSeconds(
      3, [&] { return OurText(*ours, kTypedRow); }, our_bytes);
  std::printf("%-44s %9.3fs %9.3fs %7.2f%s\n", "3M rows x 5 typed columns as text (CAST)", raw_text,
              our_text, our_text / raw_text,
              raw_bytes == our_bytes ? "" : "  TEXT LENGTH MISMATCH");

  duckdb_disconnect(&raw);
  duckdb_close(&raw_database);
  return raw_sum == our_sum && raw_bytes == our_bytes ? 0 : 1;
}
