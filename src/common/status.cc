#include "common/status.h"

#include <cstdio>
#include <cstring>

#include "common/result.h"

namespace meshwork {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kInvalidArgument:
      return "invalid_argument";
    case StatusCode::kNotFound:
      return "not_found";
    case StatusCode::kAlreadyExists:
      return "already_exists";
    case StatusCode::kConflict:
      return "conflict";
    case StatusCode::kFailedPrecondition:
      return "failed_precondition";
    case StatusCode::kPermissionDenied:
      return "permission_denied";
    case StatusCode::kUnauthenticated:
      return "unauthenticated";
    case StatusCode::kUnavailable:
      return "unavailable";
    case StatusCode::kIOError:
      return "io_error";
    case StatusCode::kNotImplemented:
      return "not_implemented";
    case StatusCode::kCancelled:
      return "cancelled";
    case StatusCode::kInternal:
      return "internal";
  }
  return "unknown";
}

std::string SourceLocation::ToString() const {
  if (line <= 0) return file;
  if (column <= 0) return fmt::format("{}:{}", file, line);
  return fmt::format("{}:{}:{}", file, line, column);
}

Status::Status(StatusCode code, std::string message) {
  if (code == StatusCode::kOk) return;
  state_ = std::make_unique<State>();
  state_->code = code;
  state_->message = std::move(message);
}

Status::Status(const Status& other) {
  *this = other;
}

Status& Status::operator=(const Status& other) {
  if (this == &other) return *this;
  if (!other.state_) {
    state_.reset();
    return *this;
  }
  auto copy = std::make_unique<State>();
  copy->code = other.state_->code;
  copy->message = other.state_->message;
  copy->context = other.state_->context;
  copy->resource = other.state_->resource;
  if (other.state_->location)
    copy->location = std::make_unique<SourceLocation>(*other.state_->location);
  copy->sqlstate = other.state_->sqlstate;
  copy->hint = other.state_->hint;
  state_ = std::move(copy);
  return *this;
}

Status Status::FromErrno(int errno_value, std::string_view what) {
  char buffer[256];
  // GNU strerror_r returns the message pointer (which may or may not be `buffer`).
  const char* reason = strerror_r(errno_value, buffer, sizeof(buffer));
  return Status(StatusCode::kIOError, fmt::format("{}: {}", what, reason));
}

namespace {
const std::string& EmptyString() {
  static const std::string kEmpty;
  return kEmpty;
}
}  // namespace

const std::string& Status::message() const noexcept {
  return state_ ? state_->message : EmptyString();
}
const std::vector<std::string>& Status::context() const noexcept {
  static const std::vector<std::string> kNoContext;
  return state_ ? state_->context : kNoContext;
}
const std::string& Status::resource() const noexcept {
  return state_ ? state_->resource : EmptyString();
}
const SourceLocation* Status::location() const noexcept {
  return state_ ? state_->location.get() : nullptr;
}
const std::string& Status::sqlstate() const noexcept {
  return state_ ? state_->sqlstate : EmptyString();
}
const std::string& Status::hint() const noexcept {
  return state_ ? state_->hint : EmptyString();
}

Status::State& Status::MutableState() {
  return *state_;
}

Status Status::WithContext(std::string context) && {
  if (ok()) return std::move(*this);
  MutableState().context.push_back(std::move(context));
  return std::move(*this);
}
Status Status::WithResource(std::string resource) && {
  if (ok()) return std::move(*this);
  MutableState().resource = std::move(resource);
  return std::move(*this);
}
Status Status::WithLocation(SourceLocation location) && {
  if (ok()) return std::move(*this);
  MutableState().location = std::make_unique<SourceLocation>(std::move(location));
  return std::move(*this);
}
Status Status::WithSqlState(std::string sqlstate) && {
  if (ok()) return std::move(*this);
  MutableState().sqlstate = std::move(sqlstate);
  return std::move(*this);
}
Status Status::WithHint(std::string hint) && {
  if (ok()) return std::move(*this);
  MutableState().hint = std::move(hint);
  return std::move(*this);
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out(StatusCodeName(state_->code));
  out += ": ";
  for (auto it = state_->context.rbegin(); it != state_->context.rend(); ++it) {
    out += *it;
    out += ": ";
  }
  if (state_->location) {
    out += state_->location->ToString();
    out += ": ";
  }
  out += state_->message;
  if (!state_->resource.empty()) out += fmt::format(" (resource: {})", state_->resource);
  if (!state_->sqlstate.empty()) out += fmt::format(" [SQLSTATE {}]", state_->sqlstate);
  if (!state_->hint.empty()) out += fmt::format("; hint: {}", state_->hint);
  return out;
}

namespace internal_abort {
void AbortOnError(const Status& status, const char* accessor) {
  std::fprintf(stderr, "meshwork: Result::%s called on the wrong alternative: %s\n", accessor,
               status.ToString().c_str());
  std::abort();
}
}  // namespace internal_abort

}  // namespace meshwork
