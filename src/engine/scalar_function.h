#pragma once
// Scalar SQL functions implemented in C++: vectorized (a callback per chunk) or typed (a lambda
// per row, NULL in → NULL out).

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/result.h"
#include "engine/handles.h"
#include "engine/types.h"
#include "engine/vector.h"

namespace meshwork::engine {

/// Where a UDF writes its results: one value per input row.
class OutputVector {
 public:
  explicit OutputVector(_duckdb_vector* handle) : handle_(handle) {}
  void SetNull(uint64_t row);
  void SetString(uint64_t row, std::string_view value);
  template <typename T>
  void Set(uint64_t row, T value) {
    std::memcpy(static_cast<char*>(Data()) + row * sizeof(T), &value, sizeof(T));
  }

 private:
  void* Data();
  _duckdb_vector* handle_;
  void* data_ = nullptr;
};

/// A vectorized body: read the arguments from `input` (input.size() rows), write `output`.
/// A non-OK status fails the query with its message.
using ScalarFunctionBody = std::function<Status(const DataChunk& input, OutputVector& output)>;

struct ScalarFunctionSpec {
  std::string name;
  std::vector<Type> parameters;
  Type return_type;
  ScalarFunctionBody body;
  /// Volatile functions (random, clocks) are never constant-folded.
  bool is_volatile = false;
  /// Called with NULL arguments too (otherwise DuckDB returns NULL for any NULL argument).
  bool handles_nulls = false;
};

namespace detail {
template <typename T>
struct SqlTypeOf;
template <>
struct SqlTypeOf<bool> {
  static constexpr TypeId kId = TypeId::kBoolean;
};
template <>
struct SqlTypeOf<int32_t> {
  static constexpr TypeId kId = TypeId::kInteger;
};
template <>
struct SqlTypeOf<int64_t> {
  static constexpr TypeId kId = TypeId::kBigInt;
};
template <>
struct SqlTypeOf<double> {
  static constexpr TypeId kId = TypeId::kDouble;
};
template <>
struct SqlTypeOf<std::string_view> {
  static constexpr TypeId kId = TypeId::kVarchar;
};
template <>
struct SqlTypeOf<std::string> {
  static constexpr TypeId kId = TypeId::kVarchar;
};

template <typename T>
T ReadArgument(const Vector& vector, uint64_t row) {
  if constexpr (std::is_same_v<T, std::string_view>) {
    return vector.GetString(row);
  } else {
    return vector.Get<T>(row);
  }
}

template <typename T>
void WriteResult(OutputVector& output, uint64_t row, const T& value) {
  if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>) {
    output.SetString(row, value);
  } else {
    output.Set<T>(row, value);
  }
}

template <typename T>
struct Unwrap {
  using type = T;
};
template <typename T>
struct Unwrap<Result<T>> {
  using type = T;
};
}  // namespace detail

/// Builds a spec from a typed lambda, e.g.
///   MakeScalarFunction<int32_t(std::string_view, int32_t)>("bucket", [](auto s, int32_t n) {...})
/// The lambda may return R or Result<R>; an error fails the query with its message.
/// Supported types: bool, int32_t, int64_t, double, std::string_view (arguments),
/// std::string (result).
template <typename Signature, typename Fn>
ScalarFunctionSpec MakeScalarFunction(std::string name, Fn fn);

template <typename Signature>
struct FunctionArity;
template <typename R, typename... Args>
struct FunctionArity<R(Args...)> {
  static constexpr size_t value = sizeof...(Args);
};

template <typename R, typename... Args, typename Fn, size_t... Index>
ScalarFunctionSpec MakeScalarFunctionImpl(std::string name, Fn fn, R (*)(Args...),
                                          std::index_sequence<Index...>) {
  ScalarFunctionSpec spec;
  spec.name = std::move(name);
  spec.parameters = {Type(detail::SqlTypeOf<Args>::kId)...};
  spec.return_type = Type(detail::SqlTypeOf<R>::kId);
  spec.body = [fn = std::move(fn)](const DataChunk& input, OutputVector& output) -> Status {
    for (uint64_t row = 0; row < input.size(); ++row) {
      if ((input.column(Index).IsNull(row) || ...)) {
        output.SetNull(row);
        continue;
      }
      auto result = fn(detail::ReadArgument<Args>(input.column(Index), row)...);
      using Returned = decltype(result);
      if constexpr (std::is_same_v<typename detail::Unwrap<Returned>::type, Returned>) {
        detail::WriteResult<R>(output, row, result);
      } else {
        if (!result.ok()) return std::move(result).error();
        detail::WriteResult<R>(output, row, *result);
      }
    }
    return Status::OK();
  };
  return spec;
}

template <typename Signature, typename Fn>
ScalarFunctionSpec MakeScalarFunction(std::string name, Fn fn) {
  return MakeScalarFunctionImpl(std::move(name), std::move(fn), static_cast<Signature*>(nullptr),
                                std::make_index_sequence<FunctionArity<Signature>::value>());
}

}  // namespace meshwork::engine
