#include "engine/prepared_statement.h"

#include <fmt/format.h>

#include "engine/internal.h"

namespace meshwork::engine {

PreparedStatement::PreparedStatement(std::shared_ptr<ConnectionHandle> connection,
                                     _duckdb_prepared_statement* handle, std::string sql)
    : connection_(std::move(connection)), handle_(handle), sql_(std::move(sql)) {}

PreparedStatement::PreparedStatement(PreparedStatement&& other) noexcept
    : connection_(std::move(other.connection_)),
      handle_(std::exchange(other.handle_, nullptr)),
      sql_(std::move(other.sql_)) {}

PreparedStatement& PreparedStatement::operator=(PreparedStatement&& other) noexcept {
  if (this != &other) {
    Reset();
    connection_ = std::move(other.connection_);
    handle_ = std::exchange(other.handle_, nullptr);
    sql_ = std::move(other.sql_);
  }
  return *this;
}

PreparedStatement::~PreparedStatement() {
  Reset();
}

void PreparedStatement::Reset() {
  if (handle_ != nullptr) duckdb_destroy_prepare(&handle_);
  handle_ = nullptr;
}

size_t PreparedStatement::parameter_count() const {
  return duckdb_nparams(handle_);
}

Type PreparedStatement::parameter_type(size_t index) const {
  duckdb_logical_type logical = duckdb_param_logical_type(handle_, index);
  if (logical == nullptr) return Type(TypeId::kInvalid);
  LogicalTypeHolder holder(logical);
  return TypeFromLogical(logical);
}

std::vector<std::string> PreparedStatement::result_column_names() const {
  std::vector<std::string> names;
  const idx_t count = duckdb_prepared_statement_column_count(handle_);
  for (idx_t i = 0; i < count; ++i) {
    const char* name = duckdb_prepared_statement_column_name(handle_, i);
    names.emplace_back(name == nullptr ? "" : name);
    duckdb_free(const_cast<char*>(name));
  }
  return names;
}

std::vector<Type> PreparedStatement::result_column_types() const {
  std::vector<Type> types;
  const idx_t count = duckdb_prepared_statement_column_count(handle_);
  for (idx_t i = 0; i < count; ++i) {
    duckdb_logical_type logical = duckdb_prepared_statement_column_logical_type(handle_, i);
    if (logical == nullptr) {
      types.emplace_back(TypeId::kInvalid);
      continue;
    }
    LogicalTypeHolder holder(logical);
    types.push_back(TypeFromLogical(logical));
  }
  return types;
}

Result<size_t> PreparedStatement::ParameterIndex(std::string_view name) const {
  const std::string text(name);
  idx_t index = 0;
  if (duckdb_bind_parameter_index(handle_, &index, text.c_str()) == DuckDBError) {
    return Status::NotFound("the statement has no parameter named ${}", name)
        .WithContext("in SQL: " + AbbreviateSql(sql_));
  }
  return static_cast<size_t>(index);
}

namespace {

duckdb_state BindOne(duckdb_prepared_statement statement, idx_t index, const Value& value) {
  return std::visit(
      [&](const auto& v) -> duckdb_state {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return duckdb_bind_null(statement, index);
        } else if constexpr (std::is_same_v<T, bool>) {
          return duckdb_bind_boolean(statement, index, v);
        } else if constexpr (std::is_same_v<T, int32_t>) {
          return duckdb_bind_int32(statement, index, v);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return duckdb_bind_int64(statement, index, v);
        } else if constexpr (std::is_same_v<T, uint64_t>) {
          return duckdb_bind_uint64(statement, index, v);
        } else if constexpr (std::is_same_v<T, double>) {
          return duckdb_bind_double(statement, index, v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return duckdb_bind_varchar_length(statement, index, v.data(), v.size());
        } else if constexpr (std::is_same_v<T, Blob>) {
          return duckdb_bind_blob(statement, index, v.bytes.data(), v.bytes.size());
        } else if constexpr (std::is_same_v<T, Date>) {
          return duckdb_bind_date(statement, index, duckdb_date{v.days});
        } else if constexpr (std::is_same_v<T, Time>) {
          return duckdb_bind_time(statement, index, duckdb_time{v.micros});
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          return duckdb_bind_timestamp(statement, index, duckdb_timestamp{v.micros});
        } else if constexpr (std::is_same_v<T, TimestampTz>) {
          return duckdb_bind_timestamp_tz(statement, index, duckdb_timestamp{v.micros});
        } else if constexpr (std::is_same_v<T, Interval>) {
          return duckdb_bind_interval(statement, index,
                                      duckdb_interval{v.months, v.days, v.micros});
        } else if constexpr (std::is_same_v<T, HugeInt>) {
          return duckdb_bind_hugeint(statement, index, duckdb_hugeint{v.lower, v.upper});
        } else {
          static_assert(std::is_same_v<T, Decimal>);
          duckdb_decimal decimal{v.width, v.scale,
                                 duckdb_hugeint{v.unscaled.lower, v.unscaled.upper}};
          return duckdb_bind_decimal(statement, index, decimal);
        }
      },
      value);
}

}  // namespace

Status PreparedStatement::Bind(size_t index, const Value& value) {
  if (index == 0 || index > parameter_count()) {
    return Status::InvalidArgument("parameter {} does not exist: the statement has {} parameters",
                                   index, parameter_count())
        .WithHint("parameters are numbered from 1")
        .WithContext("in SQL: " + AbbreviateSql(sql_));
  }
  if (BindOne(handle_, index, value) == DuckDBError) {
    const char* error = duckdb_prepare_error(handle_);
    return Status::InvalidArgument("cannot bind parameter {}{}{}", index, error ? ": " : "",
                                   error ? error : "")
        .WithContext("in SQL: " + AbbreviateSql(sql_));
  }
  return Status::OK();
}

Status PreparedStatement::ClearBindings() {
  if (duckdb_clear_bindings(handle_) == DuckDBError) {
    return Status::Internal("cannot clear the bindings of a prepared statement");
  }
  return Status::OK();
}

Result<QueryResult> PreparedStatement::Execute() {
  return RunPreparedStatement(connection_, handle_, sql_);
}

}  // namespace meshwork::engine
