#include "storage/s3_file_io.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "common/logging.h"
#include "storage/location.h"

namespace meshwork::storage {
namespace {

constexpr size_t kMaxKeyBytes = 1024;  // S3's limit on object key length
constexpr size_t kDeleteBatch = 1000;  // DeleteObjects takes at most 1000 keys
constexpr uint64_t kMaxParts = 10000;  // S3's limit on parts per upload

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

std::string Trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  const size_t end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// ---- XML: S3 answers in a fixed, flat vocabulary; a scanner for <Tag>text</Tag> is enough. ----

std::string XmlUnescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t index = 0; index < text.size(); ++index) {
    if (text[index] != '&') {
      out += text[index];
      continue;
    }
    const size_t semicolon = text.find(';', index);
    if (semicolon == std::string_view::npos || semicolon - index > 10) {
      out += '&';
      continue;
    }
    const std::string_view entity = text.substr(index + 1, semicolon - index - 1);
    if (entity == "amp") {
      out += '&';
    } else if (entity == "lt") {
      out += '<';
    } else if (entity == "gt") {
      out += '>';
    } else if (entity == "quot") {
      out += '"';
    } else if (entity == "apos") {
      out += '\'';
    } else if (entity.size() > 1 && entity[0] == '#') {
      const bool hex = entity[1] == 'x' || entity[1] == 'X';
      const std::string digits(entity.substr(hex ? 2 : 1));
      const unsigned long code = std::strtoul(digits.c_str(), nullptr, hex ? 16 : 10);
      // UTF-8 encoding of the code point.
      if (code < 0x80) {
        out += static_cast<char>(code);
      } else if (code < 0x800) {
        out += static_cast<char>(0xc0 | (code >> 6));
        out += static_cast<char>(0x80 | (code & 0x3f));
      } else if (code < 0x10000) {
        out += static_cast<char>(0xe0 | (code >> 12));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (code & 0x3f));
      } else {
        out += static_cast<char>(0xf0 | (code >> 18));
        out += static_cast<char>(0x80 | ((code >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (code & 0x3f));
      }
    } else {
      out += '&';
      continue;
    }
    index = semicolon;
  }
  return out;
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// The raw contents of every <tag>…</tag> (or <tag attr=…>…</tag>) in `xml`, in order.
std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  const std::string open = "<" + std::string(tag);
  const std::string close = "</" + std::string(tag) + ">";
  size_t position = 0;
  while (true) {
    size_t start = xml.find(open, position);
    if (start == std::string_view::npos) break;
    const size_t after = start + open.size();
    if (after >= xml.size()) break;
    if (xml[after] != '>' && xml[after] != ' ' && xml[after] != '/') {
      position = after;  // a longer tag name that starts the same way
      continue;
    }
    const size_t gt = xml.find('>', after);
    if (gt == std::string_view::npos) break;
    if (xml[gt - 1] == '/') {  // <Tag/>
      out.emplace_back();
      position = gt + 1;
      continue;
    }
    const size_t end = xml.find(close, gt + 1);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(gt + 1, end - gt - 1));
    position = end + close.size();
  }
  return out;
}

std::string XmlText(std::string_view xml, std::string_view tag) {
  const auto elements = XmlElements(xml, tag);
  return elements.empty() ? std::string() : XmlUnescape(elements.front());
}

// "2009-10-12T17:50:30.000Z" → microseconds since the epoch; 0 if malformed.
int64_t ParseIsoTime(std::string_view text) {
  std::tm time{};
  int millis = 0;
  const std::string copy(text);
  const int fields = std::sscanf(copy.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &time.tm_year, &time.tm_mon,
                                 &time.tm_mday, &time.tm_hour, &time.tm_min, &time.tm_sec, &millis);
  if (fields < 6) return 0;
  time.tm_year -= 1900;
  time.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&time)) * 1000000 + int64_t{millis} * 1000;
}

std::string StripQuotes(std::string_view etag) {
  std::string out;
  for (char c : etag)
    if (c != '"') out += c;
  return out;
}

// ---- libcurl ----

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Easy handles kept for reuse: a handle keeps its connections (and TLS sessions) alive, so
// requests in sequence do not pay a handshake each.
class HandlePool {
 public:
  ~HandlePool() {
    for (CURL* handle : free_)
      curl_easy_cleanup(handle);
  }
  CURL* Acquire() {
    {
      std::lock_guard lock(mutex_);
      if (!free_.empty()) {
        CURL* handle = free_.back();
        free_.pop_back();
        return handle;
      }
    }
    return curl_easy_init();
  }
  void Release(CURL* handle) {
    curl_easy_reset(handle);
    std::lock_guard lock(mutex_);
    free_.push_back(handle);
  }

 private:
  std::mutex mutex_;
  std::vector<CURL*> free_;
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

struct ResponseHeaders {
  std::vector<std::pair<std::string, std::string>> values;
};

size_t WriteHeader(char* data, size_t size, size_t count, void* user) {
  auto* headers = static_cast<ResponseHeaders*>(user);
  const std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    headers->values.clear();  // a new response (after 100 Continue or a redirect)
  } else if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
    headers->values.emplace_back(Lower(Trim(line.substr(0, colon))), Trim(line.substr(colon + 1)));
  }
  return size * count;
}

bool IsPermanentCurlError(CURLcode code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_BAD_FUNCTION_ARGUMENT:
      return true;
    default:
      return false;
  }
}

struct Endpoint {
  std::string scheme;  // "http" or "https"
  std::string host;    // "127.0.0.1" or "s3.us-east-1.amazonaws.com"
  std::string port;    // "" when not given
  bool aws = false;    // an amazonaws.com endpoint
};

Result<Endpoint> ParseEndpoint(std::string_view url) {
  Endpoint endpoint;
  const size_t separator = url.find("://");
  if (separator == std::string_view::npos) {
    return Status::InvalidArgument("S3 endpoint '{}' has no scheme", url)
        .WithHint("write the endpoint as http://host:port or https://host");
  }
  endpoint.scheme = Lower(url.substr(0, separator));
  if (endpoint.scheme != "http" && endpoint.scheme != "https") {
    return Status::InvalidArgument("S3 endpoint '{}' uses scheme '{}'", url, endpoint.scheme)
        .WithHint("use http:// or https://");
  }
  std::string_view rest = url.substr(separator + 3);
  while (!rest.empty() && rest.back() == '/')
    rest.remove_suffix(1);
  if (rest.empty() || rest.find('/') != std::string_view::npos ||
      rest.find_first_of("?#@ ") != std::string_view::npos) {
    return Status::InvalidArgument("S3 endpoint '{}' must be scheme://host[:port] only", url)
        .WithHint("drop any path, query or user part from the endpoint");
  }
  const size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && rest.find(']') == std::string_view::npos) {
    endpoint.port = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (endpoint.port.empty() ||
        endpoint.port.find_first_not_of("0123456789") != std::string::npos) {
      return Status::InvalidArgument("S3 endpoint '{}' has a bad port", url)
          .WithHint("write the endpoint as http://host:port");
    }
  }
  endpoint.host = Lower(rest);
  endpoint.aws = endpoint.host.ends_with(".amazonaws.com");
  return endpoint;
}

// Parses an AWS shared credentials file (INI): [profile] sections of key = value lines.
Result<std::optional<sigv4::Credentials>> ReadProfile(const std::string& file,
                                                      const std::string& profile) {
  std::ifstream input(file);
  if (!input) return std::optional<sigv4::Credentials>();
  sigv4::Credentials credentials;
  bool in_profile = false;
  bool found = false;
  std::string line;
  while (std::getline(input, line)) {
    const std::string trimmed = Trim(line);
    if (trimmed.empty() || trimmed[0] == '#' || trimmed[0] == ';') continue;
    if (trimmed.front() == '[' && trimmed.back() == ']') {
      std::string name = Trim(std::string_view(trimmed).substr(1, trimmed.size() - 2));
      // ~/.aws/config spells sections "[profile name]"; accept that form here too.
      if (name.starts_with("profile ")) name = Trim(std::string_view(name).substr(8));
      in_profile = name == profile;
      found = found || in_profile;
      continue;
    }
    if (!in_profile) continue;
    const size_t equals = trimmed.find('=');
    if (equals == std::string::npos) continue;
    const std::string key = Lower(Trim(std::string_view(trimmed).substr(0, equals)));
    const std::string value = Trim(std::string_view(trimmed).substr(equals + 1));
    if (key == "aws_access_key_id") credentials.access_key_id = value;
    if (key == "aws_secret_access_key") credentials.secret_access_key = value;
    if (key == "aws_session_token") credentials.session_token = value;
  }
  if (!found) return std::optional<sigv4::Credentials>();
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return Status::InvalidArgument(
               "profile '{}' in {} lacks aws_access_key_id or aws_secret_access_key", profile, file)
        .WithResource(file)
        .WithHint("add both keys to the profile, or choose another with AWS_PROFILE");
  }
  return std::optional<sigv4::Credentials>(std::move(credentials));
}

}  // namespace

Result<sigv4::Credentials> ResolveS3Credentials(const S3Config& config) {
  if (!config.credentials.access_key_id.empty()) {
    if (config.credentials.secret_access_key.empty()) {
      return Status::InvalidArgument("the S3 access key id is set but the secret key is empty")
          .WithHint("give both the access key id and the secret access key");
    }
    return config.credentials;
  }
  const std::string env_id = Env("AWS_ACCESS_KEY_ID");
  const std::string env_secret = Env("AWS_SECRET_ACCESS_KEY");
  if (!env_id.empty() && !env_secret.empty()) {
    return sigv4::Credentials{env_id, env_secret, Env("AWS_SESSION_TOKEN")};
  }
  std::string profile = config.profile;
  if (profile.empty()) profile = Env("AWS_PROFILE");
  if (profile.empty()) profile = "default";
  std::string file = config.credentials_file;
  if (file.empty()) file = Env("AWS_SHARED_CREDENTIALS_FILE");
  if (file.empty() && !Env("HOME").empty()) file = Env("HOME") + "/.aws/credentials";
  if (!file.empty()) {
    MW_ASSIGN_OR_RETURN(auto from_file, ReadProfile(file, profile));
    if (from_file.has_value()) return *std::move(from_file);
  }
  return Status::Unauthenticated(
             "no S3 credentials: none configured, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are "
             "not both set, and {} has no profile '{}'",
             file.empty() ? std::string("no credentials file") : file, profile)
      .WithHint(
          "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add the profile to "
          "~/.aws/credentials");
}

// ---- The backend ----

struct HttpResponse {
  long status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  int attempts = 0;

  std::string Header(std::string_view name) const {
    for (const auto& [key, value] : headers)
      if (key == name) return value;
    return {};
  }
};

struct HttpRequest {
  std::string method;
  /// Empty for bucket-level requests (ListObjectsV2, DeleteObjects).
  std::string key;
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;
};

class S3FileIO::Impl {
 public:
  Impl(S3Config config, Endpoint endpoint, std::string bucket, std::string prefix,
       sigv4::Credentials credentials, bool virtual_hosted)
      : config_(std::move(config)),
        endpoint_(std::move(endpoint)),
        bucket_(std::move(bucket)),
        prefix_(std::move(prefix)),
        credentials_(std::move(credentials)),
        virtual_hosted_(virtual_hosted) {}

  const S3Config& config() const { return config_; }
  const std::string& bucket() const { return bucket_; }
  const std::string& prefix() const { return prefix_; }

  std::string Describe() const {
    return fmt::format("S3 warehouse s3://{}{}{} at {}://{}{}{} (region {})", bucket_,
                       prefix_.empty() ? "" : "/", prefix_, endpoint_.scheme, HostOnly(),
                       endpoint_.port.empty() ? "" : ":", endpoint_.port, config_.region);
  }

  /// The key for `path`; with `allow_root`, a path naming the warehouse itself gives the
  /// prefix (for List).
  Result<std::string> KeyFor(std::string_view path, bool allow_root) const {
    MW_ASSIGN_OR_RETURN(ParsedLocation location, ParseLocation(path));
    std::string relative = location.path;
    if (!location.scheme.empty()) {
      if (location.scheme != "s3" && location.scheme != "s3a" && location.scheme != "s3n") {
        return Status::InvalidArgument("'{}' is a {} location, not one in {}", path.substr(0, 200),
                                       location.scheme, Describe())
            .WithResource(std::string(path.substr(0, 200)))
            .WithHint("name files relative to the warehouse root or by s3:// URIs inside it");
      }
      const std::string root = prefix_.empty() ? std::string() : prefix_ + "/";
      const bool inside = location.authority == bucket_ &&
                          (relative.starts_with(root) || (allow_root && relative == prefix_));
      if (!inside) {
        return Status::PermissionDenied("'{}' is outside {}", path.substr(0, 200), Describe())
            .WithResource(std::string(path.substr(0, 200)))
            .WithHint("paths must stay inside the warehouse root");
      }
      relative = relative.substr(std::min(relative.size(), root.size()));
    } else if (!relative.empty() && relative[0] == '/') {
      return Status::PermissionDenied("absolute path '{}' is outside {}", path.substr(0, 200),
                                      Describe())
          .WithResource(std::string(path.substr(0, 200)))
          .WithHint(
              "paths must stay inside the warehouse root; name files relative to it or by "
              "s3:// URI");
    }
    std::string normalized;
    auto result = NormalizeRelativePath(relative);
    if (result.ok()) {
      normalized = *std::move(result);
    } else if (!(allow_root &&
                 (relative.empty() || result.error().code() == StatusCode::kInvalidArgument) &&
                 relative.find_first_not_of("./") == std::string::npos)) {
      return std::move(result).error().WithResource(std::string(path.substr(0, 200)));
    }
    std::string key = prefix_;
    if (!normalized.empty()) {
      if (!key.empty()) key += '/';
      key += normalized;
    }
    if (key.size() > kMaxKeyBytes) {
      return Status::InvalidArgument("object key for '{}...' is {} bytes, over S3's {}",
                                     path.substr(0, 100), key.size(), kMaxKeyBytes)
          .WithResource(std::string(path.substr(0, 200)))
          .WithHint("use a shorter path");
    }
    return key;
  }

  std::string Uri(std::string_view key) const { return fmt::format("s3://{}/{}", bucket_, key); }

  std::string Relative(std::string_view key) const {
    if (prefix_.empty()) return std::string(key);
    return std::string(key.substr(std::min(key.size(), prefix_.size() + 1)));
  }

  /// One request, retried on transient failures. A returned response may still be an S3 error
  /// (any status); a returned Status means no usable answer came (network, retries exhausted).
  Result<HttpResponse> Perform(const HttpRequest& request, std::string_view what) {
    GlobalInit();
    const std::string payload_hash = sigv4::Sha256Hex(request.body);
    std::string last_error;
    const int attempts = std::max(1, config_.max_attempts);
    for (int attempt = 1; attempt <= attempts; ++attempt) {
      if (attempt > 1) Backoff(attempt - 1);
      CURLcode code = CURLE_OK;
      HttpResponse response = Once(request, payload_hash, &code, &last_error);
      response.attempts = attempt;
      if (code != CURLE_OK) {
        if (IsPermanentCurlError(code)) break;
        logging::Debug("S3 {} failed (attempt {}/{}): {}", what, attempt, attempts, last_error);
        continue;
      }
      if (!IsRetryable(response)) return response;
      last_error = fmt::format("HTTP {} {}", response.status, ErrorSummary(response));
      logging::Debug("S3 {} answered {} (attempt {}/{})", what, last_error, attempt, attempts);
      if (attempt == attempts) return response;
    }
    return Status::Unavailable("{}: no answer from {} after {} attempt(s): {}", what, Describe(),
                               attempts, last_error)
        .WithHint(
            "check that the S3 endpoint is reachable and up (network, DNS, TLS), then retry; "
            "raise the attempt count or timeouts for a slow store");
  }

  /// The S3 error in a response as a Status naming the operation, object, S3's code and message.
  Status ErrorStatus(const HttpResponse& response, std::string_view what,
                     std::string_view key) const {
    const std::string code = XmlText(response.body, "Code");
    const std::string message = XmlText(response.body, "Message");
    const std::string request_id = response.Header("x-amz-request-id");
    std::string text = fmt::format(
        "{}: S3 answered HTTP {}{}{}{}{} (bucket {}, key {}{}{})", what, response.status,
        code.empty() ? "" : " ", code, message.empty() ? "" : ": ", message, bucket_,
        key.empty() ? "-" : key, request_id.empty() ? "" : ", request id ", request_id);
    if (response.attempts > 1) text += fmt::format(" after {} attempts", response.attempts);
    StatusCode status = StatusCode::kIOError;
    std::string hint = "see S3's message; retry if the store was having trouble";
    if (code == "NoSuchKey" || (response.status == 404 && code.empty())) {
      status = StatusCode::kNotFound;
      hint = "check the path; it is relative to the warehouse root";
    } else if (code == "NoSuchBucket") {
      status = StatusCode::kNotFound;
      hint = fmt::format("create bucket '{}' or fix the warehouse URI", bucket_);
    } else if (code == "NoSuchUpload") {
      status = StatusCode::kNotFound;
      hint = "the multipart upload was aborted or expired; write the file again";
    } else if (code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" ||
               code == "ExpiredToken" || code == "InvalidToken" || code == "TokenRefreshRequired" ||
               code == "RequestTimeTooSkewed" || code == "AuthorizationHeaderMalformed") {
      // Not kUnauthenticated: the store refuses meshwork's own keys, and a REST client told 401
      // would take it for its token and log in again; this is a refusal to act (403).
      status = StatusCode::kPermissionDenied;
      hint = code == "RequestTimeTooSkewed" ? "this machine's clock is off; synchronize it (NTP)"
             : code == "AuthorizationHeaderMalformed"
                 ? "the region is probably wrong; set it to the bucket's region"
                 : "check the access key id, secret key and session token (AWS_* variables or "
                   "~/.aws/credentials)";
    } else if (code == "AccessDenied" || code == "AllAccessDisabled" || response.status == 403) {
      status = StatusCode::kPermissionDenied;
      hint = fmt::format("grant these credentials access to s3://{}/{} (bucket policy or IAM)",
                         bucket_, key);
    } else if (code == "PreconditionFailed" || response.status == 412) {
      status = StatusCode::kAlreadyExists;
      hint = "the object exists; choose another name or delete it first";
    } else if (response.status == 409) {
      status = StatusCode::kConflict;
      hint = "a concurrent request changed the object; retry";
    } else if (code == "PermanentRedirect" || code == "IllegalLocationConstraintException" ||
               response.status == 301 || response.status == 307) {
      status = StatusCode::kFailedPrecondition;
      const std::string region = response.Header("x-amz-bucket-region");
      hint = region.empty() ? std::string("set the region (or endpoint) of the bucket")
                            : fmt::format("the bucket is in region {}; set that region", region);
    } else if (code == "NotImplemented" || response.status == 501 || response.status == 405) {
      status = StatusCode::kNotImplemented;
      hint = "this S3-compatible store does not support the operation";
    } else if (code == "EntityTooSmall") {
      status = StatusCode::kInvalidArgument;
      hint = "raise the multipart part size to at least 5 MiB";
    } else if (response.status == 429 || response.status >= 500 || code == "SlowDown") {
      status = StatusCode::kUnavailable;
      hint = "the store is overloaded or failing; retry later, or raise the attempt count";
    } else if (response.status == 400) {
      status = StatusCode::kInvalidArgument;
    }
    return Status(status, std::move(text)).WithResource(Uri(key)).WithHint(std::move(hint));
  }

  std::string RootUri() const {
    return prefix_.empty() ? "s3://" + bucket_ : "s3://" + bucket_ + "/" + prefix_;
  }

  Result<S3FileIO::ExternalSignature> SignExternal(
      std::string_view method, std::string_view url,
      const std::vector<std::pair<std::string, std::string>>& headers) const {
    const std::string shown(url.substr(0, 300));
    auto malformed = [&](std::string_view why) {
      return Status::InvalidArgument("cannot sign '{}': {}", shown, why)
          .WithHint(fmt::format("sign only requests to this catalog's store {}", Describe()));
    };
    const std::string upper = [&] {
      std::string text(method);
      for (char& c : text)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return text;
    }();
    if (upper != "GET" && upper != "HEAD" && upper != "PUT" && upper != "POST" &&
        upper != "DELETE") {
      return malformed(fmt::format("method '{}' is not one S3 data access uses", method));
    }
    const size_t question = url.find('?');
    const std::string_view base = url.substr(0, question);
    MW_ASSIGN_OR_RETURN(ParsedLocation location, ParseLocation(base));
    if (location.scheme != endpoint_.scheme) {
      return malformed(fmt::format("the store is reached over {}", endpoint_.scheme));
    }
    std::string host = Lower(location.authority), port;
    if (const size_t colon = host.rfind(':');
        colon != std::string::npos && host.find(']') == std::string::npos) {
      port = host.substr(colon + 1);
      host = host.substr(0, colon);
    }
    if (port != endpoint_.port) return malformed("the port is not the store's");
    S3FileIO::ExternalSignature result;
    std::string path = location.path;
    if (host == Lower(endpoint_.host)) {
      // Path-style: /bucket/key.
      const std::string_view rest = std::string_view(path).substr(path.starts_with('/') ? 1 : 0);
      const size_t slash = rest.find('/');
      result.bucket = std::string(rest.substr(0, slash));
      result.key = slash == std::string_view::npos ? "" : std::string(rest.substr(slash + 1));
    } else if (host.ends_with("." + Lower(endpoint_.host))) {
      result.bucket = host.substr(0, host.size() - endpoint_.host.size() - 1);
      result.key = path.starts_with('/') ? path.substr(1) : path;
    } else {
      return malformed(fmt::format("host {} is not the store's ({})", host, endpoint_.host));
    }
    std::vector<std::pair<std::string, std::string>> query;
    if (question != std::string_view::npos) {
      std::string_view rest = url.substr(question + 1);
      while (!rest.empty()) {
        const size_t amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
        if (pair.empty()) continue;
        const size_t equals = pair.find('=');
        // ParseLocation decodes a path; '+' in a query means a space only in forms, not here.
        MW_ASSIGN_OR_RETURN(ParsedLocation name,
                            ParseLocation("x://h/" + std::string(pair.substr(0, equals))));
        std::string value;
        if (equals != std::string_view::npos) {
          MW_ASSIGN_OR_RETURN(ParsedLocation decoded,
                              ParseLocation("x://h/" + std::string(pair.substr(equals + 1))));
          value = decoded.path.substr(1);
        }
        if (name.path.substr(1).starts_with("X-Amz-")) {
          return malformed("it is already presigned");
        }
        query.emplace_back(name.path.substr(1), value);
      }
    }
    std::string payload_hash(sigv4::kUnsignedPayload);
    sigv4::Request signing{upper, path.empty() ? "/" : path, query, {}, ""};
    signing.headers.emplace_back("Host", Lower(location.authority));
    for (const auto& [name, value] : headers) {
      const std::string lower = Lower(name);
      // What the client sends unchanged; headers proxies and SDKs rewrite are left unsigned.
      if (lower == "x-amz-content-sha256") {
        payload_hash = value;
      } else if (lower == "authorization" || lower == "x-amz-date" || lower == "host" ||
                 lower == "x-amz-security-token") {
        continue;
      } else if (!lower.starts_with("x-amz-") && lower != "content-md5" &&
                 lower != "content-type" && lower != "range" && !lower.starts_with("if-")) {
        continue;
      }
      signing.headers.emplace_back(lower, value);
    }
    signing.headers.emplace_back("x-amz-content-sha256", payload_hash);
    signing.payload_hash = payload_hash;
    const sigv4::Signed signed_request = sigv4::SignRequest(signing, credentials_, Scope());
    result.query = std::move(signing.query);
    for (auto& [name, value] : signing.headers) {
      if (Lower(name) == "host") continue;
      result.headers.emplace_back(name, value);
    }
    result.headers.emplace_back("Authorization", signed_request.authorization);
    return result;
  }

  std::string PresignUrl(std::string_view method, std::string_view key, int64_t expires) const {
    sigv4::Request request{std::string(method), SignedPath(key), {}, {{"Host", Host()}}, ""};
    const sigv4::Signed result = sigv4::PresignRequest(request, credentials_, Scope(), expires);
    return fmt::format("{}?{}&X-Amz-Signature={}", Url(key, {}),
                       sigv4::CanonicalQueryString(request.query), result.signature);
  }

 private:
  std::string HostOnly() const {
    return virtual_hosted_ ? bucket_ + "." + endpoint_.host : endpoint_.host;
  }
  std::string Host() const {
    return endpoint_.port.empty() ? HostOnly() : HostOnly() + ":" + endpoint_.port;
  }
  // The decoded path the server sees, which is what SigV4 signs.
  std::string SignedPath(std::string_view key) const {
    if (virtual_hosted_) return "/" + std::string(key);
    return key.empty() ? "/" + bucket_ : "/" + bucket_ + "/" + std::string(key);
  }
  std::string Url(std::string_view key,
                  const std::vector<std::pair<std::string, std::string>>& query) const {
    std::string url = fmt::format("{}://{}{}", endpoint_.scheme, Host(),
                                  sigv4::UriEncode(SignedPath(key), false));
    if (!query.empty()) url += "?" + sigv4::CanonicalQueryString(query);
    return url;
  }
  sigv4::Scope Scope() const {
    return sigv4::Scope{sigv4::AmzDate(std::chrono::system_clock::now()), config_.region, "s3"};
  }

  static bool IsRetryable(const HttpResponse& response) {
    if (response.status == 429 || response.status == 500 || response.status == 502 ||
        response.status == 503 || response.status == 504) {
      return true;
    }
    if (response.status == 400 || response.status == 409) {
      const std::string code = XmlText(response.body, "Code");
      return code == "RequestTimeout" || code == "SlowDown" || code == "ConditionalRequestConflict";
    }
    return false;
  }

  static std::string ErrorSummary(const HttpResponse& response) {
    const std::string code = XmlText(response.body, "Code");
    const std::string message = XmlText(response.body, "Message");
    return message.empty() ? code : code + ": " + message;
  }

  void Backoff(int retry) {
    const auto ceiling =
        std::min<int64_t>(config_.max_backoff.count(), config_.initial_backoff.count() *
                                                           (int64_t{1} << std::min(retry - 1, 20)));
    thread_local std::mt19937_64 random(std::random_device{}());
    std::uniform_int_distribution<int64_t> draw(ceiling / 2, std::max<int64_t>(ceiling, 0));
    std::this_thread::sleep_for(std::chrono::milliseconds(draw(random)));
  }

  HttpResponse Once(const HttpRequest& request, const std::string& payload_hash, CURLcode* code,
                    std::string* error) {
    HttpResponse response;
    sigv4::Request signing{request.method,
                           SignedPath(request.key),
                           request.query,
                           {{"Host", Host()}, {"x-amz-content-sha256", payload_hash}},
                           payload_hash};
    signing.headers.insert(signing.headers.end(), request.headers.begin(), request.headers.end());
    const sigv4::Signed signed_request = sigv4::SignRequest(signing, credentials_, Scope());

    CURL* handle = pool_.Acquire();
    if (handle == nullptr) {
      *code = CURLE_OUT_OF_MEMORY;
      *error = "cannot start a libcurl handle";
      return response;
    }
    curl_slist* headers = nullptr;
    for (const auto& [name, value] : signing.headers) {
      headers = curl_slist_append(headers, (name + ": " + value).c_str());
    }
    headers =
        curl_slist_append(headers, ("Authorization: " + signed_request.authorization).c_str());
    // No "Expect: 100-continue" round trip, and no form content type on bodies.
    headers = curl_slist_append(headers, "Expect:");
    if (request.method == "PUT" || request.method == "POST") {
      bool has_type = false;
      for (const auto& [name, value] : request.headers)
        has_type = has_type || Lower(name) == "content-type";
      if (!has_type) headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
    }
    const std::string url = Url(request.key, request.query);
    ResponseHeaders response_headers;
    char error_buffer[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
    curl_easy_setopt(handle, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(config_.connect_timeout.count()));
    curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(config_.request_timeout.count()));
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, WriteBody);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, &response.body);
    curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, WriteHeader);
    curl_easy_setopt(handle, CURLOPT_HEADERDATA, &response_headers);
    curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
    if (request.method == "GET") {
      curl_easy_setopt(handle, CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
      curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      if (request.method == "PUT" || request.method == "POST") {
        curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.body.size()));
        // Never a null pointer: libcurl would then read the body from its read callback (stdin).
        curl_easy_setopt(handle, CURLOPT_POSTFIELDS,
                         request.body.empty() ? "" : request.body.data());
      }
    }
    *code = curl_easy_perform(handle);
    if (*code == CURLE_OK) {
      curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response.status);
    } else {
      *error = fmt::format("{} ({})", error_buffer[0] ? error_buffer : curl_easy_strerror(*code),
                           curl_easy_strerror(*code));
    }
    curl_slist_free_all(headers);
    pool_.Release(handle);
    response.headers = std::move(response_headers.values);
    return response;
  }

  S3Config config_;
  Endpoint endpoint_;
  std::string bucket_;
  std::string prefix_;
  sigv4::Credentials credentials_;
  bool virtual_hosted_;
  HandlePool pool_;
};

namespace {

bool IsSuccess(const HttpResponse& response) {
  return response.status >= 200 && response.status < 300;
}

}  // namespace

Result<std::unique_ptr<S3FileIO>> S3FileIO::Make(S3Config config) {
  MW_ASSIGN_OR_RETURN(ParsedLocation warehouse, ParseLocation(config.warehouse));
  if (warehouse.scheme != "s3" && warehouse.scheme != "s3a" && warehouse.scheme != "s3n") {
    return Status::InvalidArgument("S3 warehouse '{}' is not an s3:// URI", config.warehouse)
        .WithHint("write the warehouse as s3://bucket or s3://bucket/prefix");
  }
  const std::string& bucket = warehouse.authority;
  // Bucket naming rules: 3-63 characters of lower-case letters, digits, '.' and '-'.
  if (bucket.size() < 3 || bucket.size() > 63 ||
      bucket.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") != std::string::npos) {
    return Status::InvalidArgument("'{}' is not a valid S3 bucket name", bucket)
        .WithHint("bucket names are 3 to 63 lower-case letters, digits, '.' and '-'");
  }
  std::string prefix;
  if (!warehouse.path.empty() && warehouse.path.find_first_not_of('/') != std::string::npos) {
    MW_ASSIGN_OR_RETURN(prefix, NormalizeRelativePath(warehouse.path));
  }
  if (config.region.empty()) config.region = Env("AWS_REGION");
  if (config.region.empty()) config.region = Env("AWS_DEFAULT_REGION");
  if (config.region.empty()) config.region = "us-east-1";
  if (config.endpoint.empty()) config.endpoint = Env("AWS_ENDPOINT_URL_S3");
  if (config.endpoint.empty()) config.endpoint = Env("AWS_ENDPOINT_URL");
  if (config.endpoint.empty()) {
    config.endpoint = fmt::format("https://s3.{}.amazonaws.com", config.region);
  }
  MW_ASSIGN_OR_RETURN(Endpoint endpoint, ParseEndpoint(config.endpoint));
  if (config.part_size < (uint64_t{5} << 20) && endpoint.aws) {
    return Status::InvalidArgument("multipart part size {} is below S3's minimum of 5 MiB",
                                   config.part_size)
        .WithHint("set the part size to at least 5 MiB");
  }
  if (config.part_size == 0 || config.multipart_threshold == 0 || config.upload_concurrency < 1) {
    return Status::InvalidArgument(
               "multipart threshold, part size and upload concurrency must be positive")
        .WithHint("fix the S3 upload settings");
  }
  bool virtual_hosted = false;
  switch (config.addressing) {
    case S3Config::Addressing::kPath:
      break;
    case S3Config::Addressing::kVirtualHosted:
      virtual_hosted = true;
      break;
    case S3Config::Addressing::kAuto:
      virtual_hosted =
          endpoint.aws && !(endpoint.scheme == "https" && bucket.find('.') != std::string::npos);
      break;
  }
  MW_ASSIGN_OR_RETURN(sigv4::Credentials credentials, ResolveS3Credentials(config));
  return std::unique_ptr<S3FileIO>(new S3FileIO(
      std::make_unique<Impl>(std::move(config), std::move(endpoint), bucket, std::move(prefix),
                             std::move(credentials), virtual_hosted)));
}

S3FileIO::S3FileIO(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
S3FileIO::~S3FileIO() = default;

std::string S3FileIO::Describe() const {
  return impl_->Describe();
}

Result<std::string> S3FileIO::Key(std::string_view path) const {
  return impl_->KeyFor(path, false);
}

Result<std::string> S3FileIO::Relative(std::string_view path) const {
  MW_ASSIGN_OR_RETURN(std::string key, impl_->KeyFor(path, true));
  return impl_->Relative(key);
}

std::string S3FileIO::RootUri() const {
  return impl_->RootUri();
}

const S3Config& S3FileIO::config() const {
  return impl_->config();
}

Result<S3FileIO::ExternalSignature> S3FileIO::SignExternal(
    std::string_view method, std::string_view url,
    const std::vector<std::pair<std::string, std::string>>& headers) const {
  return impl_->SignExternal(method, url, headers);
}

Result<std::string> S3FileIO::ReadFile(std::string_view path) {
  MW_ASSIGN_OR_RETURN(std::string key, Key(path));
  const std::string what = fmt::format("cannot read '{}' in {}", path, Describe());
  MW_ASSIGN_OR_RETURN(HttpResponse response, impl_->Perform({"GET", key, {}, {}, {}}, what));
  if (!IsSuccess(response)) return impl_->ErrorStatus(response, what, key);
  return std::move(response.body);
}

Result<std::string> S3FileIO::ReadRange(std::string_view path, uint64_t offset, uint64_t length) {
  MW_ASSIGN_OR_RETURN(std::string key, Key(path));
  if (length == 0) {
    // No byte range can be empty; still report a missing object as such.
    MW_RETURN_IF_ERROR(Head(path));
    return std::string();
  }
  const std::string what =
      fmt::format("cannot read {} bytes at {} of '{}' in {}", length, offset, path, Describe());
  const uint64_t last = length > UINT64_MAX - offset ? UINT64_MAX - 1 : offset + length - 1;
  MW_ASSIGN_OR_RETURN(
      HttpResponse response,
      impl_->Perform({"GET", key, {}, {{"Range", fmt::format("bytes={}-{}", offset, last)}}, {}},
                     what));
  if (response.status == 416) return std::string();  // the range starts at or past the end
  if (response.status == 206) return std::move(response.body);
  if (response.status == 200) {
    // A store that ignores Range sends the whole object.
    if (offset >= response.body.size()) return std::string();
    return response.body.substr(offset, length);
  }
  return impl_->ErrorStatus(response, what, key);
}

Result<S3FileIO::ObjectInfo> S3FileIO::Head(std::string_view path) {
  MW_ASSIGN_OR_RETURN(std::string key, Key(path));
  const std::string what = fmt::format("cannot look up '{}' in {}", path, Describe());
  MW_ASSIGN_OR_RETURN(HttpResponse response, impl_->Perform({"HEAD", key, {}, {}, {}}, what));
  if (!IsSuccess(response)) {
    if ((response.status == 400 || response.status == 403) &&
        XmlText(response.body, "Code").empty()) {
      // A HEAD answer has no body, so a refusal does not say why (unknown key, wrong secret, no
      // permission). The same request as a one-byte GET carries S3's error document.
      auto explained = impl_->Perform({"GET", key, {}, {{"Range", "bytes=0-0"}}, {}}, what);
      if (explained.ok() && explained->status == response.status &&
          !XmlText(explained->body, "Code").empty()) {
        return impl_->ErrorStatus(*explained, what, key);
      }
    }
    return impl_->ErrorStatus(response, what, key);
  }
  ObjectInfo info;
  const std::string length = response.Header("content-length");
  info.size = std::strtoull(length.c_str(), nullptr, 10);
  info.etag = StripQuotes(response.Header("etag"));
  const std::string modified = response.Header("last-modified");
  const time_t seconds = curl_getdate(modified.c_str(), nullptr);
  info.modified_micros = seconds > 0 ? static_cast<int64_t>(seconds) * 1000000 : 0;
  return info;
}

Result<bool> S3FileIO::Exists(std::string_view path) {
  auto info = Head(path);
  if (info.ok()) return true;
  if (info.error().code() == StatusCode::kNotFound) return false;
  return info.error();
}

Result<uint64_t> S3FileIO::Size(std::string_view path) {
  MW_ASSIGN_OR_RETURN(ObjectInfo info, Head(path));
  return info.size;
}

Result<FileVersion> S3FileIO::Version(std::string_view path) {
  MW_ASSIGN_OR_RETURN(ObjectInfo info, Head(path));
  return FileVersion{info.size, std::move(info.etag)};
}

Result<std::string> S3FileIO::LocalPath(std::string_view path) {
  MW_RETURN_IF_ERROR(Key(path));
  return Status::FailedPrecondition("'{}' in {} has no local path: it is an S3 object", path,
                                    Describe())
      .WithResource(std::string(path.substr(0, 200)))
      .WithHint(
          "read it through FileIO (ReadFile/ReadRange), or wrap the S3 warehouse in the local "
          "read-through cache, which gives cached files a local path");
}

Status S3FileIO::WriteFileAtomic(std::string_view path, std::string_view contents,
                                 WriteOptions options) {
  MW_ASSIGN_OR_RETURN(std::string key, Key(path));
  const std::string what = fmt::format("cannot write '{}' in {}", path, Describe());
  const bool conditional =
      options.create_only && impl_->config().create_only == S3Config::CreateOnly::kConditionalPut;
  if (options.create_only && !conditional) {
    // Best effort: a creator racing between this HEAD and the PUT below is not detected.
    MW_ASSIGN_OR_RETURN(bool exists, Exists(path));
    if (exists) {
      return Status::AlreadyExists("{}: the object already exists (create only)", what)
          .WithResource(impl_->Uri(key))
          .WithHint("choose another name or delete the existing file first");
    }
  }
  std::vector<std::pair<std::string, std::string>> headers;
  if (conditional) headers.emplace_back("If-None-Match", "*");
  if (contents.size() < impl_->config().multipart_threshold) {
    MW_ASSIGN_OR_RETURN(HttpResponse response,
                        impl_->Perform({"PUT", key, {}, headers, contents}, what));
    if (!IsSuccess(response)) return impl_->ErrorStatus(response, what, key);
    return Status::OK();
  }
  return WriteMultipart(key, contents, headers, what);
}

Status S3FileIO::WriteMultipart(const std::string& key, std::string_view contents,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                const std::string& what) {
  const S3Config& config = impl_->config();
  uint64_t part_size = config.part_size;
  // Keep within S3's 10,000 parts by growing the parts of very large files.
  if ((contents.size() + part_size - 1) / part_size > kMaxParts) {
    part_size = (contents.size() + kMaxParts - 1) / kMaxParts;
  }
  const size_t parts = static_cast<size_t>((contents.size() + part_size - 1) / part_size);

  MW_ASSIGN_OR_RETURN(HttpResponse created,
                      impl_->Perform({"POST", key, {{"uploads", ""}}, {}, {}}, what));
  if (!IsSuccess(created)) return impl_->ErrorStatus(created, what, key);
  const std::string upload_id = XmlText(created.body, "UploadId");
  if (upload_id.empty()) {
    return Status::IOError("{}: CreateMultipartUpload answered without an UploadId", what)
        .WithResource(impl_->Uri(key))
        .WithHint("the S3-compatible store answered unexpectedly; check its logs");
  }

  std::vector<std::string> etags(parts);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  Status first_error;
  auto worker = [&] {
    while (!failed.load()) {
      const size_t index = next.fetch_add(1);
      if (index >= parts) return;
      const std::string_view part = contents.substr(
          index * part_size, std::min<uint64_t>(part_size, contents.size() - index * part_size));
      const std::string part_what = fmt::format("{}: part {} of {}", what, index + 1, parts);
      auto response =
          impl_->Perform({"PUT",
                          key,
                          {{"partNumber", std::to_string(index + 1)}, {"uploadId", upload_id}},
                          {},
                          part},
                         part_what);
      Status status;
      if (!response.ok()) {
        status = response.error();
      } else if (!IsSuccess(*response)) {
        status = impl_->ErrorStatus(*response, part_what, key);
      } else if (response->Header("etag").empty()) {
        status = Status::IOError("{}: UploadPart answered without an ETag", part_what)
                     .WithResource(impl_->Uri(key));
      } else {
        etags[index] = response->Header("etag");
        continue;
      }
      std::lock_guard lock(error_mutex);
      if (first_error.ok()) first_error = std::move(status);
      failed.store(true);
      return;
    }
  };
  const int threads = static_cast<int>(std::min<size_t>(config.upload_concurrency, parts));
  std::vector<std::thread> pool;
  for (int thread = 1; thread < threads; ++thread)
    pool.emplace_back(worker);
  worker();
  for (std::thread& thread : pool)
    thread.join();

  Status result = first_error;
  if (result.ok()) {
    std::string body = "<CompleteMultipartUpload>";
    for (size_t index = 0; index < parts; ++index) {
      body += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", index + 1,
                          XmlEscape(etags[index]));
    }
    body += "</CompleteMultipartUpload>";
    std::vector<std::pair<std::string, std::string>> complete_headers = headers;
    complete_headers.emplace_back("Content-Type", "application/xml");
    auto completed =
        impl_->Perform({"POST", key, {{"uploadId", upload_id}}, complete_headers, body}, what);
    if (!completed.ok()) {
      result = completed.error();
    } else if (!IsSuccess(*completed) || completed->body.find("<Error>") != std::string::npos) {
      // CompleteMultipartUpload can fail after a 200 status, with an <Error> body.
      result = impl_->ErrorStatus(*completed, what, key);
    }
  }
  if (result.ok()) return result;
  // Abort so the parts stop costing storage; if that fails too, say so (a bucket lifecycle rule
  // for incomplete uploads cleans them eventually).
  auto aborted =
      impl_->Perform({"DELETE", key, {{"uploadId", upload_id}}, {}, {}}, what + " (abort)");
  if (!aborted.ok() || !IsSuccess(*aborted)) {
    const std::string reason =
        aborted.ok() ? fmt::format("HTTP {}", aborted->status) : aborted.error().message();
    return std::move(result).WithContext(fmt::format(
        "and aborting multipart upload {} failed too ({}); its parts stay until a lifecycle "
        "rule removes incomplete uploads",
        upload_id, reason));
  }
  return result;
}

Result<std::vector<FileInfo>> S3FileIO::List(std::string_view prefix) {
  std::string key_prefix;
  if (!prefix.empty()) {
    MW_ASSIGN_OR_RETURN(key_prefix, impl_->KeyFor(prefix, /*allow_root=*/true));
    // "data/" names a directory; keep the slash so "data-old/..." is not listed.
    if (prefix.back() == '/' && !key_prefix.empty() && key_prefix != impl_->prefix()) {
      key_prefix += '/';
    }
  } else {
    key_prefix = impl_->prefix();
  }
  if (key_prefix == impl_->prefix() && !key_prefix.empty()) key_prefix += '/';
  const std::string what = fmt::format("cannot list '{}' in {}", prefix.substr(0, 200), Describe());
  std::vector<FileInfo> files;
  std::string token;
  while (true) {
    std::vector<std::pair<std::string, std::string>> query = {{"list-type", "2"},
                                                              {"prefix", key_prefix}};
    if (!token.empty()) query.emplace_back("continuation-token", token);
    MW_ASSIGN_OR_RETURN(HttpResponse response, impl_->Perform({"GET", "", query, {}, {}}, what));
    if (!IsSuccess(response)) return impl_->ErrorStatus(response, what, key_prefix);
    for (std::string_view contents : XmlElements(response.body, "Contents")) {
      const std::string key = XmlText(contents, "Key");
      if (!key.starts_with(key_prefix) || key.empty() || key.back() == '/') continue;
      FileInfo info;
      info.path = impl_->Relative(key);
      info.size = std::strtoull(XmlText(contents, "Size").c_str(), nullptr, 10);
      info.modified_micros = ParseIsoTime(XmlText(contents, "LastModified"));
      files.push_back(std::move(info));
    }
    const bool truncated = XmlText(response.body, "IsTruncated") == "true";
    if (!truncated) break;
    std::string next = XmlText(response.body, "NextContinuationToken");
    if (next.empty() || next == token) {
      // Never return a silently partial list (a purge must see everything).
      return Status::IOError("{}: the listing is truncated but has no new continuation token", what)
          .WithResource(impl_->Uri(key_prefix))
          .WithHint("the S3-compatible store answered unexpectedly; check its logs");
    }
    token = std::move(next);
  }
  std::sort(files.begin(), files.end(),
            [](const FileInfo& a, const FileInfo& b) { return a.path < b.path; });
  return files;
}

Status S3FileIO::Delete(std::string_view path) {
  MW_ASSIGN_OR_RETURN(std::string key, Key(path));
  const std::string what = fmt::format("cannot delete '{}' in {}", path, Describe());
  // S3 deletes missing keys without complaint; FileIO promises not_found.
  MW_RETURN_IF_ERROR(Head(path));
  MW_ASSIGN_OR_RETURN(HttpResponse response, impl_->Perform({"DELETE", key, {}, {}, {}}, what));
  if (!IsSuccess(response)) return impl_->ErrorStatus(response, what, key);
  return Status::OK();
}

Status S3FileIO::DeleteMany(const std::vector<std::string>& paths) {
  std::vector<std::string> keys;
  keys.reserve(paths.size());
  for (const std::string& path : paths) {
    MW_ASSIGN_OR_RETURN(std::string key, Key(path));
    keys.push_back(std::move(key));
  }
  for (size_t start = 0; start < keys.size(); start += kDeleteBatch) {
    const size_t end = std::min(keys.size(), start + kDeleteBatch);
    const std::string what = fmt::format("cannot delete {} objects ({} of {} done) in {}",
                                         end - start, start, keys.size(), Describe());
    std::string body = "<Delete><Quiet>true</Quiet>";
    for (size_t index = start; index < end; ++index)
      body += "<Object><Key>" + XmlEscape(keys[index]) + "</Key></Object>";
    body += "</Delete>";
    MW_ASSIGN_OR_RETURN(HttpResponse response,
                        impl_->Perform({"POST",
                                        "",
                                        {{"delete", ""}},
                                        {{"Content-MD5", sigv4::Md5Base64(body)},
                                         {"Content-Type", "application/xml"}},
                                        body},
                                       what));
    if (!IsSuccess(response)) return impl_->ErrorStatus(response, what, "");
    // Quiet mode lists only the keys that failed.
    for (std::string_view error : XmlElements(response.body, "Error")) {
      const std::string key = XmlText(error, "Key");
      const std::string code = XmlText(error, "Code");
      if (code == "NoSuchKey") continue;
      HttpResponse failed{403, "<Error>" + std::string(error) + "</Error>", {}, 1};
      if (code != "AccessDenied") failed.status = 500;
      return impl_->ErrorStatus(failed, what, key);
    }
  }
  return Status::OK();
}

Result<std::string> S3FileIO::PresignUrl(std::string_view method, std::string_view path,
                                         int64_t expires_seconds) {
  MW_ASSIGN_OR_RETURN(std::string key, Key(path));
  if (expires_seconds < 1 || expires_seconds > 604800) {
    return Status::InvalidArgument("presigned URL lifetime {}s is outside 1..604800 seconds",
                                   expires_seconds)
        .WithHint("S3 accepts presigned URLs valid for at most seven days");
  }
  return impl_->PresignUrl(method, key, expires_seconds);
}

}  // namespace meshwork::storage
