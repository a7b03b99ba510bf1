#pragma once
// Who calls the HTTP API: a bearer token (API clients, engines), or the portal's session cookie.
//
// The portal logs in with POST /api/v1/session and gets the catalog's own token in an HttpOnly,
// SameSite=Strict cookie `mw_session` (Secure over TLS), so page scripts never see it. Cookie
// calls that change state (every method but GET/HEAD/OPTIONS) must also send `X-CSRF-Token`:
// SHA-256 of a fixed label and the session token, base64url. It is bound to the session, the
// same on every server of a mesh and after restarts, and learning it reveals nothing about the
// token; a foreign site can read neither. The Origin header, when a browser sends one, must be
// this server's. Logged-out tokens are refused until they expire.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "catalog/catalog.h"
#include "common/result.h"
#include "server/http.h"

namespace meshwork::server {

inline constexpr std::string_view kSessionCookie = "mw_session";
inline constexpr std::string_view kCsrfHeader = "x-csrf-token";

/// The value of cookie `name` in the request's Cookie header.
std::optional<std::string> CookieValue(const HttpRequest& request, std::string_view name);

/// The CSRF token bound to a session token.
std::string CsrfToken(std::string_view session_token);

/// Equal strings, in time that depends only on their lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

/// Logout: the token is refused by this server until `expires_at_seconds`.
void RevokeSessionToken(std::string_view token, int64_t expires_at_seconds);
bool SessionTokenRevoked(std::string_view token);

/// The token's expiry (seconds since the epoch) read from its payload; 0 when unreadable. Only
/// for tokens Catalog::Authenticate accepted.
int64_t TokenExpiry(std::string_view token);

/// How a request authenticated.
struct RequestAuth {
  catalog::Caller caller;
  std::string token;
  bool by_cookie = false;
};

/// The caller of `request`: the bearer token, else the session cookie (with the CSRF and Origin
/// checks for state-changing methods). Unauthenticated without either, permission_denied when
/// the CSRF token is missing or wrong.
Result<RequestAuth> AuthenticateRequest(catalog::Catalog& catalog, const HttpRequest& request);

}  // namespace meshwork::server
