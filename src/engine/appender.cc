#include "engine/appender.h"

#include <fmt/format.h>

#include "engine/internal.h"

namespace meshwork::engine {

Status AppenderErrorToStatus(duckdb_appender appender) {
  if (appender == nullptr) return Status::Internal("DuckDB returned no appender");
  duckdb_error_data error = duckdb_appender_error_data(appender);
  Status status = ErrorToStatus(
      duckdb_error_data_error_type(error),
      duckdb_error_data_has_error(error) ? duckdb_error_data_message(error) : "unknown error", "");
  duckdb_destroy_error_data(&error);
  return status;
}

Appender::Appender(std::shared_ptr<ConnectionHandle> connection, _duckdb_appender* handle,
                   std::string table)
    : connection_(std::move(connection)), handle_(handle), table_(std::move(table)) {}

Appender::Appender(Appender&& other) noexcept
    : connection_(std::move(other.connection_)),
      handle_(std::exchange(other.handle_, nullptr)),
      table_(std::move(other.table_)) {}

Appender& Appender::operator=(Appender&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) duckdb_appender_destroy(&handle_);
    connection_ = std::move(other.connection_);
    handle_ = std::exchange(other.handle_, nullptr);
    table_ = std::move(other.table_);
  }
  return *this;
}

Appender::~Appender() {
  // duckdb_appender_destroy flushes; an error here has nowhere to go, which is why callers that
  // care call Close() first.
  if (handle_ != nullptr) duckdb_appender_destroy(&handle_);
}

size_t Appender::column_count() const {
  return duckdb_appender_column_count(handle_);
}

Status Appender::Check(int state, std::string_view action) {
  if (state != DuckDBError) return Status::OK();
  return AppenderErrorToStatus(handle_).WithContext(
      fmt::format("cannot {} (appending to {})", action, table_));
}

Status Appender::Append(const Value& value) {
  if (handle_ == nullptr) return Status::FailedPrecondition("the appender to {} is closed", table_);
  const duckdb_state state = std::visit(
      [&](const auto& v) -> duckdb_state {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return duckdb_append_null(handle_);
        } else if constexpr (std::is_same_v<T, bool>) {
          return duckdb_append_bool(handle_, v);
        } else if constexpr (std::is_same_v<T, int32_t>) {
          return duckdb_append_int32(handle_, v);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return duckdb_append_int64(handle_, v);
        } else if constexpr (std::is_same_v<T, uint64_t>) {
          return duckdb_append_uint64(handle_, v);
        } else if constexpr (std::is_same_v<T, double>) {
          return duckdb_append_double(handle_, v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return duckdb_append_varchar_length(handle_, v.data(), v.size());
        } else if constexpr (std::is_same_v<T, Blob>) {
          return duckdb_append_blob(handle_, v.bytes.data(), v.bytes.size());
        } else if constexpr (std::is_same_v<T, Date>) {
          return duckdb_append_date(handle_, duckdb_date{v.days});
        } else if constexpr (std::is_same_v<T, Time>) {
          return duckdb_append_time(handle_, duckdb_time{v.micros});
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          return duckdb_append_timestamp(handle_, duckdb_timestamp{v.micros});
        } else if constexpr (std::is_same_v<T, TimestampTz>) {
          // Appending a plain TIMESTAMP would be shifted by the session time zone.
          duckdb_value instant = duckdb_create_timestamp_tz(duckdb_timestamp{v.micros});
          const duckdb_state appended = duckdb_append_value(handle_, instant);
          duckdb_destroy_value(&instant);
          return appended;
        } else if constexpr (std::is_same_v<T, Interval>) {
          return duckdb_append_interval(handle_, duckdb_interval{v.months, v.days, v.micros});
        } else if constexpr (std::is_same_v<T, HugeInt>) {
          return duckdb_append_hugeint(handle_, duckdb_hugeint{v.lower, v.upper});
        } else {
          static_assert(std::is_same_v<T, Decimal>);
          duckdb_value decimal = duckdb_create_decimal(
              duckdb_decimal{v.width, v.scale, duckdb_hugeint{v.unscaled.lower, v.unscaled.upper}});
          const duckdb_state appended = duckdb_append_value(handle_, decimal);
          duckdb_destroy_value(&decimal);
          return appended;
        }
      },
      value);
  return Check(state, "append a value");
}

Status Appender::EndRow() {
  if (handle_ == nullptr) return Status::FailedPrecondition("the appender to {} is closed", table_);
  return Check(duckdb_appender_end_row(handle_), "end the row");
}

Status Appender::Flush() {
  if (handle_ == nullptr) return Status::FailedPrecondition("the appender to {} is closed", table_);
  return Check(duckdb_appender_flush(handle_), "flush rows");
}

Status Appender::Close() {
  if (handle_ == nullptr) return Status::OK();
  Status status = Check(duckdb_appender_close(handle_), "close");
  duckdb_appender_destroy(&handle_);
  handle_ = nullptr;
  return status;
}

}  // namespace meshwork::engine
