#pragma once
// AWS Signature Version 4: the request signing that S3 and S3-compatible stores (MinIO, Ceph)
// require, both as an Authorization header and as a presigned URL (query-string auth).
//
// Follows "Signature Version 4 signing process" (canonical request → string to sign → signing
// key → signature) and S3's "Authenticating Requests (AWS Signature Version 4)". S3 flavour: the
// canonical URI is the path URI-encoded once and never normalized (other AWS services encode
// twice and remove dot segments; S3 keys may contain both). Pure functions over strings, OpenSSL
// kept out of this header.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshwork::storage::sigv4 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  /// STS session token; empty for long-term keys. Sent as X-Amz-Security-Token.
  std::string session_token;
};

/// What is signed for one request. Names and values are unencoded; the signer encodes them.
struct Request {
  std::string method;
  /// The path as the server sees it after decoding: "/bucket/a b.txt"; "" means "/".
  std::string path;
  /// Query parameters in any order ("lifecycle" with an empty value for a bare key).
  std::vector<std::pair<std::string, std::string>> query;
  /// Headers to sign, names in any case; must include Host. Several with one name are joined.
  std::vector<std::pair<std::string, std::string>> headers;
  /// Hex SHA-256 of the body, or "UNSIGNED-PAYLOAD".
  std::string payload_hash;
};

struct Scope {
  /// "20150830T123600Z" (ISO 8601 basic, UTC).
  std::string amz_date;
  std::string region;
  std::string service = "s3";
};

/// Every intermediate value, so tests can compare each step with the published suite.
struct Signed {
  std::string canonical_request;
  std::string string_to_sign;
  /// "host;x-amz-date".
  std::string signed_headers;
  /// Hex HMAC-SHA256.
  std::string signature;
  /// The Authorization header value (header signing only).
  std::string authorization;
};

/// The SHA-256 of an empty body, which GET/HEAD/DELETE sign.
inline constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

/// "20150830T123600Z" for a point in time (seconds precision, UTC).
std::string AmzDate(std::chrono::system_clock::time_point time);

/// RFC 3986 percent-encoding as SigV4 defines it: unreserved characters (A-Z a-z 0-9 - . _ ~)
/// stay, every other byte becomes %XX (upper-case hex); '/' stays unless `encode_slash`.
std::string UriEncode(std::string_view text, bool encode_slash);

/// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);
/// Raw 32-byte HMAC-SHA256.
std::string HmacSha256(std::string_view key, std::string_view data);
/// Base64 of the raw MD5 of `data` (the Content-MD5 header, which DeleteObjects requires).
std::string Md5Base64(std::string_view data);

/// "Param1=value1&Param2=value2": names and values encoded, sorted by name then value.
std::string CanonicalQueryString(const std::vector<std::pair<std::string, std::string>>& query);
/// The canonical request; `signed_headers` receives "host;x-amz-date".
std::string CanonicalRequest(const Request& request, std::string* signed_headers);
/// "AWS4-HMAC-SHA256\n<date>\n<scope>\n<hex sha256 of the canonical request>".
std::string StringToSign(const Scope& scope, std::string_view canonical_request);
/// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
std::string SigningKey(std::string_view secret_access_key, std::string_view date,
                       std::string_view region, std::string_view service);

/// Header signing: adds X-Amz-Date (and X-Amz-Security-Token with a session token) to
/// `request.headers`, then signs every header in it. The caller sends those headers plus
/// Authorization = result.authorization. S3 also wants X-Amz-Content-Sha256, which the caller
/// adds before signing (other services, as in the test suite, do not).
Signed SignRequest(Request& request, const Credentials& credentials, const Scope& scope);

/// Query-string signing (presigned URL): adds X-Amz-Algorithm, -Credential, -Date, -Expires,
/// -SignedHeaders (and -Security-Token) to `request.query` and signs with the payload hash
/// UNSIGNED-PAYLOAD unless one is set. The URL is the encoded path, then
/// "?" + CanonicalQueryString(request.query) + "&X-Amz-Signature=" + result.signature.
/// `expires_seconds` is 1..604800 (S3's limit of seven days).
Signed PresignRequest(Request& request, const Credentials& credentials, const Scope& scope,
                      int64_t expires_seconds);

}  // namespace meshwork::storage::sigv4
