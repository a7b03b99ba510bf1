#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "engine/handles.h"
#include "engine/types.h"

namespace meshwork::engine {

struct ConnectionHandle;

/// Fast row-wise loading into a table, bypassing SQL parsing. Rows become visible at Flush or
/// Close; the destructor closes, but only Close() reports an error.
class Appender {
 public:
  Appender(std::shared_ptr<ConnectionHandle> connection, _duckdb_appender* handle,
           std::string table);
  Appender(Appender&& other) noexcept;
  Appender& operator=(Appender&& other) noexcept;
  Appender(const Appender&) = delete;
  Appender& operator=(const Appender&) = delete;
  ~Appender();

  size_t column_count() const;
  /// Appends the next column's value of the current row.
  Status Append(const Value& value);
  /// Appends a whole row: one value per column, then EndRow.
  template <typename... Args>
  Status AppendRow(Args&&... args) {
    Status status;
    ((status.ok() ? (status = Append(Value(std::forward<Args>(args)))) : status), ...);
    if (!status.ok()) return status;
    return EndRow();
  }
  Status EndRow();
  Status Flush();
  Status Close();

 private:
  Status Check(int state, std::string_view action);
  std::shared_ptr<ConnectionHandle> connection_;
  _duckdb_appender* handle_ = nullptr;
  std::string table_;
};

}  // namespace meshwork::engine
