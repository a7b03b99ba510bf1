#pragma once
// Typed, zero-copy access to result data: a DataChunk is up to 2048 rows of a result (or of a
// UDF's arguments); a Vector is one column of it.

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "engine/handles.h"
#include "engine/types.h"

namespace meshwork::engine {

/// A read-only view of one column of a DataChunk. Valid while the chunk lives.
class Vector {
 public:
  Vector(_duckdb_vector* handle, const Type* type, uint64_t size);

  const Type& type() const { return *type_; }
  uint64_t size() const { return size_; }
  bool IsNull(uint64_t row) const {
    return validity_ != nullptr && (validity_[row / 64] & (uint64_t{1} << (row % 64))) == 0;
  }
  /// The raw value of a fixed-width column: T must match the physical type (int32_t for INTEGER,
  /// int64_t for BIGINT and TIMESTAMP, double for DOUBLE, bool for BOOLEAN, Interval, HugeInt).
  template <typename T>
  T Get(uint64_t row) const {
    T value;
    std::memcpy(&value, static_cast<const char*>(data_) + row * sizeof(T), sizeof(T));
    return value;
  }
  /// The bytes of a VARCHAR or BLOB value, pointing into the chunk.
  std::string_view GetString(uint64_t row) const;
  /// Any value as text, with NULL as "NULL"; nested values in DuckDB's literal syntax.
  /// Fails (not_implemented) for types without a text form here (BIT, BIGNUM, UNION).
  Status AppendText(uint64_t row, std::string& out) const;
  Result<std::string> ToText(uint64_t row) const;

  /// Children: LIST/ARRAY → Child(0) holds the elements; MAP → Child(0) the keys, Child(1) the
  /// values; STRUCT → one per member. LIST and MAP rows index children through GetListEntry().
  Vector Child(size_t index) const;
  /// For LIST and MAP: where row's entries are in Child(0).
  struct ListEntry {
    uint64_t offset;
    uint64_t length;
  };
  ListEntry GetListEntry(uint64_t row) const { return Get<ListEntry>(row); }

  _duckdb_vector* handle() const { return handle_; }

 private:
  Status AppendNested(uint64_t row, std::string& out) const;

  _duckdb_vector* handle_;
  const Type* type_;
  const void* data_;
  const uint64_t* validity_;
  uint64_t size_;
};

/// Owns (or, inside a UDF, borrows) one duckdb_data_chunk. Move-only.
class DataChunk {
 public:
  DataChunk() = default;
  /// Wraps `handle`; destroys it when `owned`. `types` must outlive the chunk.
  DataChunk(_duckdb_data_chunk* handle, std::shared_ptr<const std::vector<Type>> types, bool owned);
  DataChunk(DataChunk&& other) noexcept;
  DataChunk& operator=(DataChunk&& other) noexcept;
  DataChunk(const DataChunk&) = delete;
  DataChunk& operator=(const DataChunk&) = delete;
  ~DataChunk();

  /// False for the end-of-stream marker.
  explicit operator bool() const { return handle_ != nullptr; }
  uint64_t size() const { return size_; }
  size_t column_count() const { return columns_.size(); }
  const Vector& column(size_t index) const { return columns_[index]; }

 private:
  void Reset();
  _duckdb_data_chunk* handle_ = nullptr;
  bool owned_ = false;
  uint64_t size_ = 0;
  std::shared_ptr<const std::vector<Type>> types_;
  std::vector<Vector> columns_;
};

}  // namespace meshwork::engine
