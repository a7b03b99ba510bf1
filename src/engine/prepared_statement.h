#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "engine/handles.h"
#include "engine/query_result.h"
#include "engine/types.h"

namespace meshwork::engine {

struct ConnectionHandle;

/// A parsed and planned statement with `?`, `$1` or `$name` parameters. Bind, Execute, rebind,
/// execute again. Must not outlive... nothing: it keeps its connection alive.
class PreparedStatement {
 public:
  PreparedStatement(std::shared_ptr<ConnectionHandle> connection,
                    _duckdb_prepared_statement* handle, std::string sql);
  PreparedStatement(PreparedStatement&& other) noexcept;
  PreparedStatement& operator=(PreparedStatement&& other) noexcept;
  PreparedStatement(const PreparedStatement&) = delete;
  PreparedStatement& operator=(const PreparedStatement&) = delete;
  ~PreparedStatement();

  size_t parameter_count() const;
  /// The type DuckDB inferred for parameter `index` (1-based); INVALID where it cannot tell.
  Type parameter_type(size_t index) const;
  /// The columns the statement returns (names and types), known before it runs.
  std::vector<std::string> result_column_names() const;
  std::vector<Type> result_column_types() const;
  /// The 1-based index of a named parameter (`$name`).
  Result<size_t> ParameterIndex(std::string_view name) const;
  /// Binds parameter `index` (1-based). Type mismatches the planner cannot cast are reported at
  /// Execute.
  Status Bind(size_t index, const Value& value);
  /// Binds every parameter in order: Bind(1, a), Bind(2, b), ...
  template <typename... Args>
  Status BindAll(Args&&... args) {
    size_t index = 0;
    Status status;
    ((status.ok() ? (status = Bind(++index, Value(std::forward<Args>(args)))) : status), ...);
    return status;
  }
  Status ClearBindings();
  /// Runs the statement; the result streams (see QueryResult).
  Result<QueryResult> Execute();

 private:
  void Reset();
  std::shared_ptr<ConnectionHandle> connection_;
  _duckdb_prepared_statement* handle_ = nullptr;
  std::string sql_;
};

}  // namespace meshwork::engine
