#pragma once
// Private to src/server: JSON bodies in and out of the API handlers.

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "server/http.h"

namespace meshwork::server {

/// A JSON response; invalid UTF-8 in strings is replaced, never a throw.
inline HttpResponse Json(int status, const nlohmann::json& body) {
  return {.status = status,
          .body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

/// The request body as a JSON object, or invalid_argument.
inline Result<nlohmann::json> Body(const HttpRequest& request) {
  nlohmann::json body = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return Status::InvalidArgument("the request body is not a JSON object")
        .WithHint("send a JSON object, e.g. {\"sql\": \"SELECT 1\"}");
  }
  return body;
}

}  // namespace meshwork::server
