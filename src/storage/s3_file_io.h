#pragma once
// FileIO over S3 or an S3-compatible object store (MinIO, Ceph RGW, s3rver), speaking the S3 REST
// API over libcurl with Signature Version 4. The warehouse root is s3://bucket[/prefix]; callers
// name objects relative to it (or by s3:// URIs inside it), exactly as with LocalFileIO.
//
// Object-store semantics (DESIGN §7): there is no rename and no directory. A PUT (or a completed
// multipart upload) is atomic: readers see the whole old object or the whole new one. create_only
// is a conditional PUT (If-None-Match: *) where the store supports it; elsewhere a HEAD then a
// PUT, which is best effort only (two racing creators can both "win"). Either way the commit
// point of a table is the metastore's compare-and-swap, never a file operation.
//
// libcurl and OpenSSL stay out of this header.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/file_io.h"
#include "storage/sigv4.h"

namespace meshwork::storage {

struct S3Config {
  /// "s3://bucket" or "s3://bucket/prefix" (s3a:// and s3n:// are accepted as aliases).
  std::string warehouse;
  /// "http://127.0.0.1:9000" for MinIO and the like; empty: AWS_ENDPOINT_URL_S3 or
  /// AWS_ENDPOINT_URL from the environment, else https://s3.<region>.amazonaws.com.
  std::string endpoint;
  /// Empty: AWS_REGION, then AWS_DEFAULT_REGION, then "us-east-1".
  std::string region;

  enum class Addressing {
    /// Virtual-hosted on AWS endpoints (bucket.s3.region.amazonaws.com), path-style on custom
    /// endpoints (most self-hosted stores have no wildcard DNS), and path-style for bucket
    /// names with dots over https (their certificates do not match).
    kAuto,
    /// https://endpoint/bucket/key
    kPath,
    /// https://bucket.endpoint/key
    kVirtualHosted,
  };
  Addressing addressing = Addressing::kAuto;

  /// Explicit credentials win; when access_key_id is empty they come from the environment
  /// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), then from the profile file.
  sigv4::Credentials credentials;
  /// Empty: AWS_PROFILE, else "default".
  std::string profile;
  /// Empty: AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials.
  std::string credentials_file;

  /// How create_only is enforced. kConditionalPut sends If-None-Match: * (AWS since 2024, MinIO,
  /// recent Ceph); kHeadThenPut is for stores that ignore that header (s3rver), and is racy.
  enum class CreateOnly { kConditionalPut, kHeadThenPut };
  CreateOnly create_only = CreateOnly::kConditionalPut;

  /// Attempts per request (1 = no retry) on connection errors, timeouts, 5xx, 429 and S3's
  /// SlowDown/RequestTimeout; the wait doubles from initial_backoff up to max_backoff, each wait
  /// drawn at random from its upper half (jitter, so that clients do not retry in step).
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{10000};
  std::chrono::milliseconds connect_timeout{10000};
  /// For one request attempt, transfer included.
  std::chrono::milliseconds request_timeout{300000};

  /// Contents of at least this many bytes are uploaded in parts (S3 needs parts of 5 MiB or
  /// more, except the last; at most 10,000 parts).
  uint64_t multipart_threshold = uint64_t{64} << 20;
  uint64_t part_size = uint64_t{16} << 20;
  /// Parts uploaded at once.
  int upload_concurrency = 4;
};

/// The credentials `config` resolves to: explicit, environment or profile file, in that order.
/// unauthenticated when none is found (the message lists where it looked); invalid_argument for
/// a profile file that names the profile but lacks a key.
Result<sigv4::Credentials> ResolveS3Credentials(const S3Config& config);

class S3FileIO final : public FileIO {
 public:
  /// Validates the configuration and resolves credentials; does not contact the store.
  /// invalid_argument for a malformed warehouse URI, endpoint or sizes; unauthenticated when no
  /// credentials are found.
  static Result<std::unique_ptr<S3FileIO>> Make(S3Config config);
  ~S3FileIO() override;

  std::string_view Scheme() const override { return "s3"; }
  /// "S3 warehouse s3://bucket/prefix at http://127.0.0.1:9000 (region us-east-1)".
  std::string Describe() const override;

  /// GetObject. not_found (NoSuchKey), permission_denied (AccessDenied, 403), unauthenticated
  /// (bad keys or signature), unavailable (retries exhausted), io_error.
  Result<std::string> ReadFile(std::string_view path) override;
  /// GetObject with Range; a range at or past the end gives an empty string.
  Result<std::string> ReadRange(std::string_view path, uint64_t offset, uint64_t length) override;
  /// PutObject, or a multipart upload (parts in parallel, aborted on failure) from
  /// multipart_threshold on. Atomic for readers. already_exists when create_only finds the
  /// object (see S3Config::CreateOnly for how strong that is).
  Status WriteFileAtomic(std::string_view path, std::string_view contents,
                         WriteOptions options = {}) override;
  /// ListObjectsV2 under the prefix, following continuation tokens; sorted by path.
  Result<std::vector<FileInfo>> List(std::string_view prefix) override;
  /// DeleteObject. not_found when the object does not exist (a HEAD first: S3's DELETE succeeds
  /// for missing keys).
  Status Delete(std::string_view path) override;
  /// HeadObject.
  Result<bool> Exists(std::string_view path) override;
  Result<uint64_t> Size(std::string_view path) override;
  /// HeadObject: size and ETag.
  Result<FileVersion> Version(std::string_view path) override;
  /// failed_precondition: S3 objects have no local path (the read-through cache provides one).
  Result<std::string> LocalPath(std::string_view path) override;

  /// DeleteObjects in batches of up to 1000 keys; missing keys are not errors. Stops at the
  /// first batch that fails, or reports the first key S3 refused.
  Status DeleteMany(const std::vector<std::string>& paths);

  struct ObjectInfo {
    uint64_t size = 0;
    /// As S3 returns it, quotes removed; for a multipart object "<md5 of md5s>-<parts>".
    std::string etag;
    int64_t modified_micros = 0;
  };
  /// HeadObject with the ETag (for caches that verify what they hold).
  Result<ObjectInfo> Head(std::string_view path);

  /// A presigned GET (or other method) URL for `path`, valid `expires_seconds` (1..604800).
  Result<std::string> PresignUrl(std::string_view method, std::string_view path,
                                 int64_t expires_seconds);

  /// The object key `path` names (warehouse prefix included); refuses paths that leave the
  /// warehouse like LocalFileIO does.
  Result<std::string> Key(std::string_view path) const;
  /// The path relative to the warehouse root that `path` names ("" for the root itself);
  /// refuses what Key refuses.
  Result<std::string> Relative(std::string_view path) const;
  /// "s3://bucket" or "s3://bucket/prefix".
  std::string RootUri() const;
  const S3Config& config() const;

  /// A request another engine will send to this store, signed with the warehouse's credentials
  /// (the Iceberg REST catalog's remote signing). `url` must address this store's endpoint
  /// (path-style or virtual-hosted); the bucket and decoded key it names are returned so that
  /// the caller can check them before handing out `headers` (the signed ones plus
  /// Authorization, to send with the request). The payload hash is the request's
  /// x-amz-content-sha256 header, else UNSIGNED-PAYLOAD. invalid_argument for a malformed URL
  /// or one for another host.
  struct ExternalSignature {
    std::string bucket;
    std::string key;
    /// The URL's query parameters, decoded.
    std::vector<std::pair<std::string, std::string>> query;
    std::vector<std::pair<std::string, std::string>> headers;
  };
  Result<ExternalSignature> SignExternal(
      std::string_view method, std::string_view url,
      const std::vector<std::pair<std::string, std::string>>& headers) const;

  class Impl;

 private:
  explicit S3FileIO(std::unique_ptr<Impl> impl);
  Status WriteMultipart(const std::string& key, std::string_view contents,
                        const std::vector<std::pair<std::string, std::string>>& headers,
                        const std::string& what);
  std::unique_ptr<Impl> impl_;
};

}  // namespace meshwork::storage
