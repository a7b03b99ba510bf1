// Status: the error value that crosses every module boundary in meshwork.
//
// A Status is one pointer wide and costs nothing when OK. An error carries a code from a small
// closed set, a message, and detail in fields (resource, source location, SQLSTATE, hint) rather
// than in extra codes; callers add context as the error travels up ("while deploying
// marketing.campaigns"). Each edge (HTTP, PostgreSQL wire, CLI) maps codes in exactly one place.
#pragma once

#include <fmt/core.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshwork {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,     // the caller's input is wrong; fix the input
  kNotFound,            // the named thing does not exist
  kAlreadyExists,       // creating something that exists
  kConflict,            // concurrent change lost a race (commit CAS, requirement failed); retry
  kFailedPrecondition,  // the system is not in a state that allows this; change the state first
  kPermissionDenied,    // authenticated but not allowed
  kUnauthenticated,     // no or bad credentials
  kUnavailable,         // transient: a dependency is down or overloaded; retry later
  kIOError,             // the filesystem, object store or network failed
  kNotImplemented,      // valid but not supported (yet)
  kCancelled,           // interrupted on request
  kInternal,            // a bug in meshwork
};

/// snake_case name of a code, e.g. "invalid_argument"; stable, used in logs and JSON errors.
std::string_view StatusCodeName(StatusCode code);

/// Where in a user's file an error is: "spec.yaml:12:3". line/column are 1-based; 0 = unknown.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
  std::string ToString() const;
};

class [[nodiscard]] Status {
 public:
  /// OK.
  Status() noexcept = default;
  /// An error; `code` must not be kOk (an OK code yields an OK status and drops the message).
  Status(StatusCode code, std::string message);

  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  ~Status() = default;

  static Status OK() { return Status(); }

#define MESHWORK_STATUS_FACTORY(Name, Code)                                            \
  template <typename... Args>                                                          \
  static Status Name(fmt::format_string<Args...> format, Args&&... args) {             \
    return Status(StatusCode::Code, fmt::format(format, std::forward<Args>(args)...)); \
  }
  MESHWORK_STATUS_FACTORY(InvalidArgument, kInvalidArgument)
  MESHWORK_STATUS_FACTORY(NotFound, kNotFound)
  MESHWORK_STATUS_FACTORY(AlreadyExists, kAlreadyExists)
  MESHWORK_STATUS_FACTORY(Conflict, kConflict)
  MESHWORK_STATUS_FACTORY(FailedPrecondition, kFailedPrecondition)
  MESHWORK_STATUS_FACTORY(PermissionDenied, kPermissionDenied)
  MESHWORK_STATUS_FACTORY(Unauthenticated, kUnauthenticated)
  MESHWORK_STATUS_FACTORY(Unavailable, kUnavailable)
  MESHWORK_STATUS_FACTORY(IOError, kIOError)
  MESHWORK_STATUS_FACTORY(NotImplemented, kNotImplemented)
  MESHWORK_STATUS_FACTORY(Cancelled, kCancelled)
  MESHWORK_STATUS_FACTORY(Internal, kInternal)
#undef MESHWORK_STATUS_FACTORY

  /// An IOError for a failed system call: the message ends with strerror(errno_value).
  static Status FromErrno(int errno_value, std::string_view what);

  bool ok() const noexcept {
    return state_ == nullptr;
  }
  StatusCode code() const noexcept {
    return state_ ? state_->code : StatusCode::kOk;
  }
  /// The innermost message, without context, code or detail. Empty when OK.
  const std::string& message() const noexcept;
  /// Context frames, innermost first ("while reading x", then "while deploying y").
  const std::vector<std::string>& context() const noexcept;
  const std::string& resource() const noexcept;
  const SourceLocation* location() const noexcept;
  const std::string& sqlstate() const noexcept;
  const std::string& hint() const noexcept;

  /// Adds an outer frame of context, e.g. "cannot deploy marketing.campaigns". No-op when OK.
  Status WithContext(std::string context) &&;
  template <typename... Args>
  Status WithContext(fmt::format_string<Args...> format, Args&&... args) && {
    return std::move(*this).WithContext(fmt::format(format, std::forward<Args>(args)...));
  }
  /// The securable, file or object the error is about ("marketing.campaigns", "s3://b/k").
  Status WithResource(std::string resource) &&;
  Status WithLocation(SourceLocation location) &&;
  Status WithSqlState(std::string sqlstate) &&;
  /// What the user can do about it ("run `meshwork domain create finance` first").
  Status WithHint(std::string hint) &&;

  /// "not_found: cannot deploy x: spec.yaml:3:1: no port named 'y' (resource: a.b) hint: ...".
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.message() == b.message();
  }

 private:
  struct State {
    StatusCode code;
    std::string message;
    std::vector<std::string> context;
    std::string resource;
    std::unique_ptr<SourceLocation> location;
    std::string sqlstate;
    std::string hint;
  };
  State& MutableState();
  std::unique_ptr<State> state_;
};

}  // namespace meshwork
