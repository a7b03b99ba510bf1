#include "storage/sigv4.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <ctime>

namespace meshwork::storage::sigv4 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string Hex(const unsigned char* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (size_t index = 0; index < size; ++index) {
    out[2 * index] = kDigits[data[index] >> 4];
    out[2 * index + 1] = kDigits[data[index] & 0xf];
  }
  return out;
}

std::string Digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  // EVP_Digest fails only on allocation failure; an empty digest then fails the signature check
  // on the server rather than crashing here.
  if (EVP_Digest(data.data(), data.size(), out, &size, md, nullptr) != 1) return {};
  return std::string(reinterpret_cast<const char*>(out), size);
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Header values are signed trimmed, with runs of spaces collapsed to one (the suite's
// get-header-value-trim: `"a   b   c"` signs as `"a b c"`).
std::string TrimAndCollapse(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

// The date part ("20150830") of an amz date.
std::string_view DateOf(std::string_view amz_date) {
  return amz_date.substr(0, std::min<size_t>(8, amz_date.size()));
}

std::string CredentialScope(const Scope& scope) {
  return fmt::format("{}/{}/{}/aws4_request", DateOf(scope.amz_date), scope.region, scope.service);
}

std::string Sign(const Credentials& credentials, const Scope& scope,
                 std::string_view string_to_sign) {
  const std::string key = SigningKey(credentials.secret_access_key, DateOf(scope.amz_date),
                                     scope.region, scope.service);
  const std::string mac = HmacSha256(key, string_to_sign);
  return Hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
}

}  // namespace

std::string AmzDate(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[20];
  std::strftime(buffer, sizeof buffer, "%Y%m%dT%H%M%SZ", &utc);
  return buffer;
}

std::string UriEncode(std::string_view text, bool encode_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved || (c == '/' && !encode_slash)) {
      out += c;
      continue;
    }
    const auto byte = static_cast<unsigned char>(c);
    out += '%';
    out += kDigits[byte >> 4];
    out += kDigits[byte & 0xf];
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  const std::string digest = Digest(EVP_sha256(), data);
  return Hex(reinterpret_cast<const unsigned char*>(digest.data()), digest.size());
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
           &size) == nullptr) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(out), size);
}

std::string Md5Base64(std::string_view data) {
  const std::string digest = Digest(EVP_md5(), data);
  unsigned char out[64];
  const int size = EVP_EncodeBlock(out, reinterpret_cast<const unsigned char*>(digest.data()),
                                   static_cast<int>(digest.size()));
  return std::string(reinterpret_cast<const char*>(out), size > 0 ? size : 0);
}

std::string CanonicalQueryString(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, true), UriEncode(value, true));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

std::string CanonicalRequest(const Request& request, std::string* signed_headers) {
  // Lower-case names, sorted; values of repeated names joined with ',' in the order given.
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : request.headers) {
    std::string lower = Lower(name);
    std::string trimmed = TrimAndCollapse(value);
    auto same = std::find_if(headers.begin(), headers.end(),
                             [&](const auto& header) { return header.first == lower; });
    if (same != headers.end()) {
      same->second += ',';
      same->second += trimmed;
    } else {
      headers.emplace_back(std::move(lower), std::move(trimmed));
    }
  }
  std::sort(headers.begin(), headers.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string canonical_headers;
  std::string names;
  for (const auto& [name, value] : headers) {
    canonical_headers += name;
    canonical_headers += ':';
    canonical_headers += value;
    canonical_headers += '\n';
    if (!names.empty()) names += ';';
    names += name;
  }
  const std::string path = request.path.empty() ? "/" : UriEncode(request.path, false);
  if (signed_headers != nullptr) *signed_headers = names;
  return fmt::format("{}\n{}\n{}\n{}\n{}\n{}", request.method, path,
                     CanonicalQueryString(request.query), canonical_headers, names,
                     request.payload_hash);
}

std::string StringToSign(const Scope& scope, std::string_view canonical_request) {
  return fmt::format("{}\n{}\n{}\n{}", kAlgorithm, scope.amz_date, CredentialScope(scope),
                     Sha256Hex(canonical_request));
}

std::string SigningKey(std::string_view secret_access_key, std::string_view date,
                       std::string_view region, std::string_view service) {
  const std::string date_key = HmacSha256("AWS4" + std::string(secret_access_key), date);
  const std::string region_key = HmacSha256(date_key, region);
  const std::string service_key = HmacSha256(region_key, service);
  return HmacSha256(service_key, "aws4_request");
}

Signed SignRequest(Request& request, const Credentials& credentials, const Scope& scope) {
  request.headers.emplace_back("X-Amz-Date", scope.amz_date);
  if (!credentials.session_token.empty()) {
    request.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  Signed result;
  result.canonical_request = CanonicalRequest(request, &result.signed_headers);
  result.string_to_sign = StringToSign(scope, result.canonical_request);
  result.signature = Sign(credentials, scope, result.string_to_sign);
  result.authorization = fmt::format("{} Credential={}/{}, SignedHeaders={}, Signature={}",
                                     kAlgorithm, credentials.access_key_id, CredentialScope(scope),
                                     result.signed_headers, result.signature);
  return result;
}

Signed PresignRequest(Request& request, const Credentials& credentials, const Scope& scope,
                      int64_t expires_seconds) {
  if (request.payload_hash.empty()) request.payload_hash = std::string(kUnsignedPayload);
  std::string signed_headers;
  CanonicalRequest(request, &signed_headers);  // only for the list of signed header names
  request.query.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  request.query.emplace_back("X-Amz-Credential",
                             credentials.access_key_id + "/" + CredentialScope(scope));
  request.query.emplace_back("X-Amz-Date", scope.amz_date);
  request.query.emplace_back("X-Amz-Expires", std::to_string(expires_seconds));
  if (!credentials.session_token.empty()) {
    request.query.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  request.query.emplace_back("X-Amz-SignedHeaders", signed_headers);
  Signed result;
  result.canonical_request = CanonicalRequest(request, &result.signed_headers);
  result.string_to_sign = StringToSign(scope, result.canonical_request);
  result.signature = Sign(credentials, scope, result.string_to_sign);
  return result;
}

}  // namespace meshwork::storage::sigv4
