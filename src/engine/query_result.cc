#include "engine/query_result.h"

#include "engine/internal.h"
#include "engine/query_state.h"

namespace meshwork::engine {

QueryState::QueryState(std::shared_ptr<ConnectionHandle> owner, duckdb_result materialized,
                       std::string statement)
    : connection(std::move(owner)), result(materialized), sql(std::move(statement)) {
  const idx_t columns = duckdb_column_count(&result);
  auto column_types = std::make_shared<std::vector<Type>>();
  for (idx_t index = 0; index < columns; ++index) {
    const char* name = duckdb_column_name(&result, index);
    names.emplace_back(name != nullptr ? name : "");
    duckdb_logical_type logical = duckdb_column_logical_type(&result, index);
    LogicalTypeHolder holder(logical);
    column_types->push_back(TypeFromLogical(logical));
  }
  types = std::move(column_types);
  rows_changed = duckdb_rows_changed(&result);
}

QueryState::~QueryState() {
  duckdb_destroy_result(&result);
}

QueryResult::QueryResult() = default;
QueryResult::QueryResult(std::unique_ptr<QueryState> state) : state_(std::move(state)) {}
QueryResult::QueryResult(QueryResult&&) noexcept = default;
QueryResult& QueryResult::operator=(QueryResult&&) noexcept = default;
QueryResult::~QueryResult() = default;

namespace {
const std::vector<std::string> kNoNames;
const std::vector<Type> kNoTypes;
}  // namespace

size_t QueryResult::column_count() const {
  return state_ ? state_->names.size() : 0;
}
const std::string& QueryResult::column_name(size_t index) const {
  return state_->names[index];
}
const Type& QueryResult::column_type(size_t index) const {
  return (*state_->types)[index];
}
const std::vector<std::string>& QueryResult::column_names() const {
  return state_ ? state_->names : kNoNames;
}
const std::vector<Type>& QueryResult::column_types() const {
  return state_ ? *state_->types : kNoTypes;
}
uint64_t QueryResult::rows_changed() const {
  return state_ ? state_->rows_changed : 0;
}

Result<DataChunk> QueryResult::Fetch() {
  if (!state_ || state_->done) return DataChunk();
  duckdb_data_chunk chunk = duckdb_fetch_chunk(state_->result);
  if (chunk == nullptr) {
    state_->done = true;
    const char* error = duckdb_result_error(&state_->result);
    if (error != nullptr) {
      return ErrorToStatus(duckdb_result_error_type(&state_->result), error, state_->sql);
    }
    return DataChunk();
  }
  if (duckdb_data_chunk_get_size(chunk) == 0) {
    duckdb_destroy_data_chunk(&chunk);
    state_->done = true;
    return DataChunk();
  }
  return DataChunk(chunk, state_->types, /*owned=*/true);
}

Result<std::vector<std::vector<std::string>>> QueryResult::FetchAllText() {
  std::vector<std::vector<std::string>> rows;
  while (true) {
    MW_ASSIGN_OR_RETURN(DataChunk chunk, Fetch());
    if (!chunk) break;
    for (uint64_t row = 0; row < chunk.size(); ++row) {
      std::vector<std::string>& cells = rows.emplace_back();
      for (size_t column = 0; column < chunk.column_count(); ++column) {
        MW_ASSIGN_OR_RETURN(std::string text, chunk.column(column).ToText(row));
        cells.push_back(std::move(text));
      }
    }
  }
  return rows;
}

}  // namespace meshwork::engine
