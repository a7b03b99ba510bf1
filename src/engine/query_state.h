#pragma once
// Private to src/engine: what a QueryResult owns.

#include <memory>
#include <string>
#include <vector>

#include "engine/internal.h"

namespace meshwork::engine {

struct QueryState {
  QueryState(std::shared_ptr<ConnectionHandle> owner, duckdb_result materialized,
             std::string statement);
  QueryState(const QueryState&) = delete;
  QueryState& operator=(const QueryState&) = delete;
  ~QueryState();

  // A streaming result reads from its connection: keep the connection alive.
  std::shared_ptr<ConnectionHandle> connection;
  duckdb_result result;
  std::string sql;
  std::vector<std::string> names;
  std::shared_ptr<const std::vector<Type>> types;
  uint64_t rows_changed = 0;
  bool done = false;
};

}  // namespace meshwork::engine
