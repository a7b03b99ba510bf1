#pragma once
// The result of one statement, streamed chunk by chunk: memory stays bounded by a few chunks no
// matter how many rows the query returns.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "engine/types.h"
#include "engine/vector.h"

namespace meshwork::engine {

struct QueryState;  // defined in query_result.cc; owns the duckdb_result

class QueryResult {
 public:
  QueryResult();
  explicit QueryResult(std::unique_ptr<QueryState> state);
  QueryResult(QueryResult&&) noexcept;
  QueryResult& operator=(QueryResult&&) noexcept;
  ~QueryResult();

  size_t column_count() const;
  const std::string& column_name(size_t index) const;
  const Type& column_type(size_t index) const;
  const std::vector<std::string>& column_names() const;
  const std::vector<Type>& column_types() const;
  /// Rows inserted/updated/deleted by a DML statement; 0 for queries.
  uint64_t rows_changed() const;

  /// The next chunk of rows, or an empty (false) chunk at the end. An error raised while the
  /// query runs (division by zero, interrupt, out of memory) surfaces here.
  Result<DataChunk> Fetch();

  /// Reads the rest of the result as text rows, NULL as "NULL". For tests, diagnostics and small
  /// administrative queries; streaming consumers use Fetch().
  Result<std::vector<std::vector<std::string>>> FetchAllText();

 private:
  std::unique_ptr<QueryState> state_;
};

}  // namespace meshwork::engine
