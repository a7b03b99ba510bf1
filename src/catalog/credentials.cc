#include "catalog/credentials.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <nlohmann/json.hpp>
#include <vector>

#include "catalog/scram.h"
#include "common/uuid.h"
#include "iceberg/json_reader.h"

namespace meshwork::catalog {
namespace {

constexpr uint64_t kScryptN = 1 << 14;
constexpr uint64_t kScryptR = 8;
constexpr uint64_t kScryptP = 1;
constexpr size_t kHashBytes = 32;
constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

bool Scrypt(std::string_view secret, std::string_view salt, uint64_t n, uint64_t r, uint64_t p,
            unsigned char* out) {
  // 128 * N * r bytes of memory, plus slack.
  const uint64_t max_memory = 128 * n * r * p + (1 << 20);
  return EVP_PBE_scrypt(secret.data(), secret.size(),
                        reinterpret_cast<const unsigned char*>(salt.data()), salt.size(), n, r, p,
                        max_memory, out, kHashBytes) == 1;
}

std::string RandomBytes(size_t count) {
  std::string bytes(count, '\0');
  SecureRandomBytes(bytes.data(), bytes.size());
  return bytes;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
  return std::string(reinterpret_cast<char*>(digest), length);
}

bool ParseUnsigned(std::string_view text, uint64_t& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> bits) & 0x3f];
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 0x3f];
  return out;
}

Result<std::string> Base64UrlDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const size_t value = kAlphabet.find(c);
    if (value == std::string_view::npos) {
      return Status::InvalidArgument("not base64url: unexpected character");
    }
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

std::string HashSecret(std::string_view secret) {
  const std::string salt = RandomBytes(16);
  unsigned char hash[kHashBytes];
  if (!Scrypt(secret, salt, kScryptN, kScryptR, kScryptP, hash)) {
    // Only an allocation failure gets here; an empty hash never verifies.
    return "";
  }
  // The SCRAM verifier rides along, so PostgreSQL clients can log in with the same secret.
  return fmt::format("scrypt${}${}${}${}${};{}", kScryptN, kScryptR, kScryptP,
                     Base64UrlEncode(salt),
                     Base64UrlEncode(std::string_view(reinterpret_cast<char*>(hash), kHashBytes)),
                     MakeScramVerifier(secret));
}

bool VerifySecret(std::string_view secret, std::string_view stored) {
  const std::string_view hash = stored.substr(0, stored.find(';'));
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (parts.size() < 6) {
    const size_t end = hash.find('$', start);
    parts.push_back(hash.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  uint64_t n = 0, r = 0, p = 0;
  if (parts.size() != 6 || parts[0] != "scrypt" || !ParseUnsigned(parts[1], n) ||
      !ParseUnsigned(parts[2], r) || !ParseUnsigned(parts[3], p)) {
    return false;
  }
  // Refuse parameters no hash of ours has (a tampered row must not become a memory bomb).
  if (n != kScryptN || r != kScryptR || p != kScryptP) return false;
  auto salt = Base64UrlDecode(parts[4]);
  auto expected = Base64UrlDecode(parts[5]);
  if (!salt.ok() || !expected.ok() || expected->size() != kHashBytes) return false;
  unsigned char actual[kHashBytes];
  if (!Scrypt(secret, *salt, n, r, p, actual)) return false;
  return CRYPTO_memcmp(actual, expected->data(), kHashBytes) == 0;
}

std::string GenerateSecret() {
  return Base64UrlEncode(RandomBytes(32));
}

std::string GenerateClientId() {
  const std::string bytes = RandomBytes(8);
  std::string id = "mw-";
  for (unsigned char c : bytes)
    id += fmt::format("{:02x}", c);
  return id;
}

std::string SignToken(const TokenClaims& claims, std::string_view key) {
  static const std::string header = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})");
  const nlohmann::json payload = {
      {"iss", "meshwork"},       {"sub", claims.principal},  {"cv", claims.credential_version},
      {"iat", claims.issued_at}, {"exp", claims.expires_at}, {"jti", claims.token_id}};
  const std::string signing_input =
      header + "." +
      Base64UrlEncode(payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  return signing_input + "." + Base64UrlEncode(HmacSha256(key, signing_input));
}

Result<TokenClaims> VerifyToken(std::string_view token, std::string_view key, int64_t now_seconds) {
  auto invalid = [](std::string_view why) {
    return Status::Unauthenticated("the bearer token is not valid: {}", why)
        .WithHint("get a new token from /catalog/v1/oauth/tokens");
  };
  if (token.size() > 4096) return invalid("too long");
  const size_t first = token.find('.');
  const size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return invalid("not a JWT");
  }
  auto header = Base64UrlDecode(token.substr(0, first));
  if (!header.ok()) return invalid("malformed header");
  const auto header_json = nlohmann::json::parse(*header, nullptr, false);
  // Only our own algorithm: no "none", no algorithm confusion.
  if (!header_json.is_object() || iceberg::json::StringOr(header_json, "alg", "") != "HS256") {
    return invalid("unsupported algorithm");
  }
  auto signature = Base64UrlDecode(token.substr(second + 1));
  const std::string expected = HmacSha256(key, token.substr(0, second));
  if (!signature.ok() || signature->size() != expected.size() ||
      CRYPTO_memcmp(signature->data(), expected.data(), expected.size()) != 0) {
    return invalid("bad signature");
  }
  auto payload = Base64UrlDecode(token.substr(first + 1, second - first - 1));
  if (!payload.ok()) return invalid("malformed claims");
  const auto claims_json = nlohmann::json::parse(*payload, nullptr, false);
  if (!claims_json.is_object() || !claims_json.contains("sub") || !claims_json["sub"].is_string() ||
      !claims_json.contains("exp") || !claims_json["exp"].is_number_integer() ||
      !claims_json.contains("cv") || !claims_json["cv"].is_number_integer()) {
    return invalid("missing claims");
  }
  TokenClaims claims;
  claims.principal = claims_json["sub"].get<std::string>();
  claims.credential_version = claims_json["cv"].get<int64_t>();
  claims.expires_at = claims_json["exp"].get<int64_t>();
  claims.issued_at = iceberg::json::IntOr(claims_json, "iat", 0);
  claims.token_id = iceberg::json::StringOr(claims_json, "jti", "");
  if (claims.expires_at <= now_seconds) return invalid("expired");
  return claims;
}

}  // namespace meshwork::catalog
