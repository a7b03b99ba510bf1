// Result<T>: a value or an error Status, shaped like C++23 std::expected (has_value, value, error)
// so that a later move to std::expected is mechanical.
#pragma once

#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>

#include "common/status.h"

namespace meshwork {

namespace internal_abort {
/// Prints the misuse (value() on an error, error() on a value) and aborts: a bug, not a user error.
[[noreturn]] void AbortOnError(const Status& status, const char* accessor);
}  // namespace internal_abort

template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::decay_t<T>, Status>, "use Status for Result<void>");

 public:
  /// A value.
  template <typename U = T, typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                                        !std::is_same_v<std::decay_t<U>, Status> &&
                                                        !std::is_same_v<std::decay_t<U>, Result>>>
  Result(U&& value) : storage_(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT
  /// An error. An OK status here is a bug in the caller and becomes an Internal error.
  Result(Status status)  // NOLINT(google-explicit-constructor)
      : storage_(std::in_place_index<1>,
                 status.ok() ? Status::Internal("Result constructed from an OK Status")
                             : std::move(status)) {}

  bool has_value() const noexcept { return storage_.index() == 0; }
  bool ok() const noexcept { return has_value(); }
  explicit operator bool() const noexcept { return has_value(); }

  /// The value; calling it on an error is a bug and aborts with the error printed.
  T& value() & { return CheckValue(), std::get<0>(storage_); }
  const T& value() const& { return CheckValue(), std::get<0>(storage_); }
  T&& value() && { return CheckValue(), std::get<0>(std::move(storage_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(storage_) : static_cast<T>(std::forward<U>(fallback));
  }

  /// The error; calling it on a value is a bug and aborts.
  const Status& error() const& { return CheckError(), std::get<1>(storage_); }
  Status&& error() && { return CheckError(), std::get<1>(std::move(storage_)); }
  /// OK when there is a value, else the error.
  Status status() const { return has_value() ? Status::OK() : std::get<1>(storage_); }

  /// Adds an outer frame of context to an error; keeps a value as is.
  Result WithContext(std::string context) && {
    if (has_value()) return std::move(*this);
    return std::get<1>(std::move(storage_)).WithContext(std::move(context));
  }

 private:
  void CheckValue() const {
    if (!has_value()) internal_abort::AbortOnError(std::get<1>(storage_), "value()");
  }
  void CheckError() const {
    if (has_value()) internal_abort::AbortOnError(Status::OK(), "error()");
  }
  std::variant<T, Status> storage_;
};

namespace internal_status {
inline const Status& ToStatus(const Status& status) {
  return status;
}
template <typename T>
Status ToStatus(const Result<T>& result) {
  return result.status();
}
}  // namespace internal_status

}  // namespace meshwork

#define MESHWORK_CONCAT_INNER(a, b) a##b
#define MESHWORK_CONCAT(a, b) MESHWORK_CONCAT_INNER(a, b)

/// Returns the Status of `expr` (a Status or a Result) from the enclosing function if it is an
/// error.
#define MW_RETURN_IF_ERROR(expr)                                                    \
  do {                                                                              \
    if (auto&& _mw_status = (expr); !_mw_status.ok())                               \
      return ::meshwork::Status(::meshwork::internal_status::ToStatus(_mw_status)); \
  } while (false)

/// `MW_ASSIGN_OR_RETURN(auto x, MakeX());` declares/assigns x from a Result or returns its error.
/// Traps: it expands to several statements, so brace it when it is the body of an if/for; an lhs
/// with commas (std::pair<int, int> p) must be parenthesised; the Result is moved from.
#define MW_ASSIGN_OR_RETURN(lhs, rexpr) \
  MW_ASSIGN_OR_RETURN_IMPL(MESHWORK_CONCAT(_mw_result_, __LINE__), lhs, rexpr)
#define MW_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr)      \
  auto tmp = (rexpr);                                  \
  if (!tmp.has_value()) return std::move(tmp).error(); \
  MESHWORK_REMOVE_PARENS(lhs) = std::move(tmp).value()

#define MESHWORK_REMOVE_PARENS(x) MESHWORK_REMOVE_PARENS_IMPL(MESHWORK_STRIP x)
#define MESHWORK_STRIP(...) MESHWORK_STRIP __VA_ARGS__
#define MESHWORK_REMOVE_PARENS_IMPL(...) MESHWORK_REMOVE_PARENS_IMPL2(__VA_ARGS__)
#define MESHWORK_REMOVE_PARENS_IMPL2(...) MESHWORK_DROP_##__VA_ARGS__
#define MESHWORK_DROP_MESHWORK_STRIP
