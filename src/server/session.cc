#include "server/session.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "catalog/credentials.h"
#include "common/time.h"

namespace meshwork::server {
namespace {

struct Revoked {
  std::mutex mutex;
  std::map<std::string, int64_t> until;  // SHA-256 of the token → its expiry
};

Revoked& RevokedTokens() {
  static Revoked revoked;
  return revoked;
}

std::string Sha256(std::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

bool ChangesState(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

}  // namespace

std::optional<std::string> CookieValue(const HttpRequest& request, std::string_view name) {
  const auto header = request.Header("cookie");
  if (!header) return std::nullopt;
  std::string_view rest = *header;
  while (!rest.empty()) {
    const size_t end = rest.find(';');
    std::string_view pair = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    while (!pair.empty() && pair.front() == ' ')
      pair.remove_prefix(1);
    const size_t equals = pair.find('=');
    if (equals == std::string_view::npos) continue;
    if (pair.substr(0, equals) == name) return std::string(pair.substr(equals + 1));
  }
  return std::nullopt;
}

std::string CsrfToken(std::string_view session_token) {
  return catalog::Base64UrlEncode(
      Sha256(std::string("meshwork portal csrf v1") + '\0' + std::string(session_token)));
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void RevokeSessionToken(std::string_view token, int64_t expires_at_seconds) {
  Revoked& revoked = RevokedTokens();
  const int64_t now = time::NowMillis() / 1000;
  std::lock_guard<std::mutex> lock(revoked.mutex);
  std::erase_if(revoked.until, [now](const auto& entry) { return entry.second < now; });
  revoked.until[Sha256(token)] = expires_at_seconds > 0 ? expires_at_seconds : now + 86400;
}

bool SessionTokenRevoked(std::string_view token) {
  Revoked& revoked = RevokedTokens();
  std::lock_guard<std::mutex> lock(revoked.mutex);
  return revoked.until.contains(Sha256(token));
}

int64_t TokenExpiry(std::string_view token) {
  const size_t first = token.find('.');
  const size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos) return 0;
  auto payload = catalog::Base64UrlDecode(token.substr(first + 1, second - first - 1));
  if (!payload.ok()) return 0;
  const nlohmann::json claims = nlohmann::json::parse(*payload, nullptr, false);
  if (!claims.is_object() || !claims.contains("exp") || !claims["exp"].is_number_integer()) {
    return 0;
  }
  return claims["exp"].get<int64_t>();
}

Result<RequestAuth> AuthenticateRequest(catalog::Catalog& catalog, const HttpRequest& request) {
  if (const auto header = request.Header("authorization")) {
    if (!header->starts_with("Bearer ")) {
      return Status::Unauthenticated("the Authorization header is not a bearer token")
          .WithHint(
              "send 'Authorization: Bearer TOKEN' with a token from "
              "POST /catalog/v1/oauth/tokens");
    }
    MW_ASSIGN_OR_RETURN(catalog::Caller caller,
                        catalog.Authenticate(header->substr(7), request.request_id));
    caller.channel = "http";  // the audit log's name for the mesh API
    return RequestAuth{std::move(caller), header->substr(7), false};
  }
  const auto cookie = CookieValue(request, kSessionCookie);
  if (!cookie || cookie->empty()) {
    return Status::Unauthenticated("this endpoint needs a bearer token or a portal session")
        .WithHint("get a token from POST /catalog/v1/oauth/tokens, or log in to the portal at /");
  }
  if (SessionTokenRevoked(*cookie)) {
    return Status::Unauthenticated("this portal session was logged out")
        .WithHint("log in again at /");
  }
  auto caller = catalog.Authenticate(*cookie, request.request_id);
  if (!caller.ok()) {
    return Status::Unauthenticated("the portal session ended: {}", caller.error().message())
        .WithHint("log in again at /");
  }
  if (ChangesState(request.method)) {
    const std::string sent = request.Header(kCsrfHeader).value_or("");
    if (sent.empty() || !ConstantTimeEquals(sent, CsrfToken(*cookie))) {
      return Status::PermissionDenied(
                 "{} {} with the portal's session cookie needs its CSRF token in the X-CSRF-Token "
                 "header, and {}",
                 request.method, request.path, sent.empty() ? "none was sent" : "it does not match")
          .WithHint("reload the portal page; scripts and API clients send a bearer token instead");
    }
    if (const auto origin = request.Header("origin")) {
      const std::string host = request.Header("host").value_or("");
      if (host.empty() || (*origin != "http://" + host && *origin != "https://" + host)) {
        return Status::PermissionDenied("{} {} came from another site ({}), not this server's page",
                                        request.method, request.path, origin->substr(0, 100))
            .WithHint("use the portal served by this server");
      }
    }
  }
  caller->channel = "portal";
  return RequestAuth{std::move(*caller), std::move(*cookie), true};
}

}  // namespace meshwork::server
