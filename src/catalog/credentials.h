#pragma once
// Credentials: client secrets stored only as salted scrypt hashes, and the bearer tokens
// (JWT, HS256) the token endpoint issues. Tokens carry the principal's credential version, so
// rotating a secret revokes every token issued before.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace meshwork::catalog {

/// "scrypt$N$r$p$<salt>$<hash>" (base64url), then ";" and the SCRAM-SHA-256 verifier
/// (catalog/scram.h); about 50 ms and 16 MiB per call by design.
std::string HashSecret(std::string_view secret);
/// Constant-time check of `secret` against a HashSecret() string; false for malformed hashes.
bool VerifySecret(std::string_view secret, std::string_view hash);

/// A fresh random secret: 32 bytes, base64url (43 characters).
std::string GenerateSecret();
/// A fresh client id: "mw-" and 16 random hex characters.
std::string GenerateClientId();

struct TokenClaims {
  std::string principal;
  int64_t credential_version = 0;
  int64_t issued_at = 0;   // seconds since the epoch
  int64_t expires_at = 0;  // seconds since the epoch
  std::string token_id;
};

/// Signs claims as a compact JWT with HMAC-SHA256 under `key`.
std::string SignToken(const TokenClaims& claims, std::string_view key);
/// Verifies signature, algorithm (HS256 only) and expiry at `now_seconds`; unauthenticated with
/// the reason otherwise. Never echoes the token.
Result<TokenClaims> VerifyToken(std::string_view token, std::string_view key, int64_t now_seconds);

std::string Base64UrlEncode(std::string_view bytes);
/// nullopt-like error for characters outside the alphabet.
Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace meshwork::catalog
