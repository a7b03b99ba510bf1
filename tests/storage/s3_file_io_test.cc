#include "storage/s3_file_io.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>

#include "storage/cached_file_io.h"
#include "storage/s3_server.h"
#include "storage/sigv4.h"
#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Sets environment variables for one test and restores them afterwards.
class ScopedEnv {
 public:
  void Set(const char* name, const std::string& value) {
    Remember(name);
    ::setenv(name, value.c_str(), 1);
  }
  void Unset(const char* name) {
    Remember(name);
    ::unsetenv(name);
  }
  ~ScopedEnv() {
    for (const auto& [name, value] : saved_) {
      if (value.has_value()) {
        ::setenv(name.c_str(), value->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }

 private:
  void Remember(const char* name) {
    for (const auto& [saved, value] : saved_)
      if (saved == name) return;
    const char* value = std::getenv(name);
    saved_.emplace_back(name, value ? std::optional<std::string>(value) : std::nullopt);
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

S3Config StubConfig(const std::string& endpoint) {
  S3Config config;
  config.warehouse = "s3://bucket/wh";
  config.endpoint = endpoint;
  config.credentials = {"AKIDEXAMPLE", "secret", ""};
  config.initial_backoff = std::chrono::milliseconds(5);
  config.max_backoff = std::chrono::milliseconds(20);
  config.connect_timeout = std::chrono::milliseconds(2000);
  config.request_timeout = std::chrono::milliseconds(5000);
  return config;
}

std::string S3ErrorXml(const std::string& code, const std::string& message) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code + "</Code><Message>" +
         message + "</Message><RequestId>req-1</RequestId></Error>";
}

std::vector<std::string> Paths(const std::vector<FileInfo>& files) {
  std::vector<std::string> paths;
  for (const FileInfo& file : files)
    paths.push_back(file.path);
  return paths;
}

// ---- Configuration, paths and credentials (no server) ----

TEST(S3FileIOConfigTest, MakeRefusesMalformedSettings) {
  S3Config config = StubConfig("http://127.0.0.1:1");
  config.warehouse = "file:///tmp/w";
  EXPECT_THAT(S3FileIO::Make(config), IsError(StatusCode::kInvalidArgument, "not an s3:// URI"));
  config.warehouse = "s3://Bad_Bucket/x";
  EXPECT_THAT(S3FileIO::Make(config), IsError(StatusCode::kInvalidArgument, "bucket name"));
  config.warehouse = "s3://bucket/../x";
  EXPECT_THAT(S3FileIO::Make(config), IsError(StatusCode::kPermissionDenied));
  config.warehouse = "s3://bucket/wh";
  config.endpoint = "ftp://host";
  EXPECT_THAT(S3FileIO::Make(config), IsError(StatusCode::kInvalidArgument, "http:// or https://"));
  config.endpoint = "http://host:9000/path";
  EXPECT_THAT(S3FileIO::Make(config), IsError(StatusCode::kInvalidArgument, "scheme://host"));
  config.endpoint = "https://s3.eu-west-1.amazonaws.com";
  config.part_size = 1 << 20;
  EXPECT_THAT(S3FileIO::Make(config), IsError(StatusCode::kInvalidArgument, "5 MiB"));
}

TEST(S3FileIOConfigTest, KeysStayInsideTheWarehouse) {
  ASSERT_OK_AND_ASSIGN(auto io, S3FileIO::Make(StubConfig("http://127.0.0.1:1")));
  EXPECT_THAT(io->Key("a//b/./c.parquet"), IsOkAndHolds(std::string("wh/a/b/c.parquet")));
  EXPECT_THAT(io->Key("s3://bucket/wh/t/m.json"), IsOkAndHolds(std::string("wh/t/m.json")));
  EXPECT_THAT(io->Key("s3a://bucket/wh/t/m.json"), IsOkAndHolds(std::string("wh/t/m.json")));
  // Keys in s3:// URIs are taken as written, as Iceberg's S3 readers take them ('%' included).
  EXPECT_THAT(io->Key("s3://bucket/wh/a%20b"), IsOkAndHolds(std::string("wh/a%20b")));
  EXPECT_THAT(io->Key("s3://bucket/wh/h=05%3A00/f"), IsOkAndHolds(std::string("wh/h=05%3A00/f")));
  // Hostile or foreign paths are refused as LocalFileIO refuses them.
  EXPECT_THAT(io->Key("../x"), IsError(StatusCode::kPermissionDenied, "'..'"));
  EXPECT_THAT(io->Key("a/../../x"), IsError(StatusCode::kPermissionDenied));
  EXPECT_THAT(io->Key("s3://bucket/wh/../x"), IsError(StatusCode::kPermissionDenied));
  EXPECT_THAT(io->Key("s3://bucket/wh/%2E%2E/x"), IsOkAndHolds(std::string("wh/%2E%2E/x")));
  EXPECT_THAT(io->Key("/etc/passwd"), IsError(StatusCode::kPermissionDenied, "absolute"));
  EXPECT_THAT(io->Key("s3://other-bucket/wh/x"), IsError(StatusCode::kPermissionDenied));
  EXPECT_THAT(io->Key("s3://bucket/wh-other/x"), IsError(StatusCode::kPermissionDenied));
  EXPECT_THAT(io->Key("s3://bucket/wh"), IsError(StatusCode::kPermissionDenied));
  EXPECT_THAT(io->Key("file:///tmp/x"), IsError(StatusCode::kInvalidArgument, "file location"));
  EXPECT_THAT(io->Key(std::string("a\0b", 3)), IsError(StatusCode::kInvalidArgument, "NUL"));
  EXPECT_THAT(io->Key(std::string("s3://bucket/wh/a\0b", 18)),
              IsError(StatusCode::kInvalidArgument, "NUL"));
  EXPECT_THAT(io->Key(""), IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(io->Key("./"), IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(io->Key(std::string(1100, 'k')), IsError(StatusCode::kInvalidArgument));
}

TEST(S3FileIOConfigTest, LocalPathIsAFailedPreconditionWithAHint) {
  ASSERT_OK_AND_ASSIGN(auto io, S3FileIO::Make(StubConfig("http://127.0.0.1:1")));
  EXPECT_THAT(io->LocalPath("t/data/a.parquet"),
              IsError(StatusCode::kFailedPrecondition, "read-through cache"));
  EXPECT_THAT(io->LocalPath("../x"), IsError(StatusCode::kPermissionDenied));
  EXPECT_EQ(io->Scheme(), "s3");
  EXPECT_EQ(io->Describe(), "S3 warehouse s3://bucket/wh at http://127.0.0.1:1 (region us-east-1)");
}

TEST(S3FileIOConfigTest, AddressingIsVirtualHostedOnAwsAndPathStyleElsewhere) {
  S3Config config = StubConfig("");
  config.region = "eu-west-1";
  config.part_size = 8 << 20;
  ScopedEnv env;
  env.Unset("AWS_ENDPOINT_URL");
  env.Unset("AWS_ENDPOINT_URL_S3");
  ASSERT_OK_AND_ASSIGN(auto aws, S3FileIO::Make(config));
  EXPECT_THAT(aws->Describe(), HasSubstr("at https://bucket.s3.eu-west-1.amazonaws.com"));
  ASSERT_OK_AND_ASSIGN(std::string url, aws->PresignUrl("GET", "t/a b.json", 600));
  EXPECT_THAT(url, StartsWith("https://bucket.s3.eu-west-1.amazonaws.com/wh/t/a%20b.json?"
                              "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F"));
  EXPECT_THAT(url, HasSubstr("%2Feu-west-1%2Fs3%2Faws4_request&"));
  EXPECT_THAT(url, HasSubstr("&X-Amz-Expires=600&X-Amz-SignedHeaders=host&X-Amz-Signature="));

  config.addressing = S3Config::Addressing::kPath;
  ASSERT_OK_AND_ASSIGN(auto path_style, S3FileIO::Make(config));
  ASSERT_OK_AND_ASSIGN(url, path_style->PresignUrl("GET", "t/x", 600));
  EXPECT_THAT(url, StartsWith("https://s3.eu-west-1.amazonaws.com/bucket/wh/t/x?"));
  EXPECT_THAT(path_style->PresignUrl("GET", "t/x", 0), IsError(StatusCode::kInvalidArgument));

  env.Set("AWS_ENDPOINT_URL", "http://127.0.0.1:9000");
  config.endpoint.clear();
  config.addressing = S3Config::Addressing::kAuto;
  ASSERT_OK_AND_ASSIGN(auto custom, S3FileIO::Make(config));
  EXPECT_THAT(custom->Describe(), HasSubstr("at http://127.0.0.1:9000 (region eu-west-1)"));
}

TEST(S3FileIOConfigTest, CredentialsComeFromConfigThenEnvironmentThenProfile) {
  testing::ScratchDir scratch("s3-credentials");
  const std::string file = (scratch.path() / "credentials").string();
  std::ofstream(file) << "# a comment\n[default]\naws_access_key_id = FILEKEY\n"
                         "aws_secret_access_key = FILESECRET\n\n[dev]\n"
                         "aws_access_key_id=DEVKEY\naws_secret_access_key=DEVSECRET\n"
                         "aws_session_token=DEVTOKEN\n[broken]\naws_access_key_id=ONLY\n";
  ScopedEnv env;
  env.Unset("AWS_ACCESS_KEY_ID");
  env.Unset("AWS_SECRET_ACCESS_KEY");
  env.Unset("AWS_SESSION_TOKEN");
  env.Unset("AWS_PROFILE");
  env.Set("AWS_SHARED_CREDENTIALS_FILE", file);

  S3Config config;
  config.credentials = {"EXPLICIT", "S", ""};
  EXPECT_EQ(ResolveS3Credentials(config)->access_key_id, "EXPLICIT");
  config.credentials = {"EXPLICIT", "", ""};
  EXPECT_THAT(ResolveS3Credentials(config), IsError(StatusCode::kInvalidArgument));

  config.credentials = {};
  EXPECT_EQ(ResolveS3Credentials(config)->access_key_id, "FILEKEY");
  env.Set("AWS_PROFILE", "dev");
  ASSERT_OK_AND_ASSIGN(sigv4::Credentials dev, ResolveS3Credentials(config));
  EXPECT_EQ(dev.access_key_id, "DEVKEY");
  EXPECT_EQ(dev.secret_access_key, "DEVSECRET");
  EXPECT_EQ(dev.session_token, "DEVTOKEN");
  config.profile = "broken";
  EXPECT_THAT(ResolveS3Credentials(config),
              IsError(StatusCode::kInvalidArgument, "lacks aws_access_key_id or"));
  config.profile = "absent";
  EXPECT_THAT(ResolveS3Credentials(config), IsError(StatusCode::kUnauthenticated, "'absent'"));

  env.Set("AWS_ACCESS_KEY_ID", "ENVKEY");
  env.Set("AWS_SECRET_ACCESS_KEY", "ENVSECRET");
  env.Set("AWS_SESSION_TOKEN", "ENVTOKEN");
  ASSERT_OK_AND_ASSIGN(sigv4::Credentials from_env, ResolveS3Credentials(config));
  EXPECT_EQ(from_env.access_key_id, "ENVKEY");
  EXPECT_EQ(from_env.session_token, "ENVTOKEN");
}

// ---- Against a scripted HTTP stub: signing on the wire, retries, error mapping ----

TEST(S3FileIOStubTest, RequestsAreSignedWithThePayloadHash) {
  testing::HttpStub stub([](const testing::StubRequest&) { return testing::StubResponse{}; });
  ASSERT_OK_AND_ASSIGN(auto io, S3FileIO::Make(StubConfig(stub.endpoint())));
  ASSERT_OK(io->WriteFileAtomic("t/a b+c.json", "{}"));
  const auto requests = stub.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].target, "/bucket/wh/t/a%20b%2Bc.json");
  EXPECT_EQ(requests[0].body, "{}");
  EXPECT_EQ(requests[0].Header("x-amz-content-sha256"), sigv4::Sha256Hex("{}"));
  EXPECT_THAT(requests[0].Header("authorization"),
              StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
  EXPECT_THAT(requests[0].Header("authorization"),
              HasSubstr("/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;"
                        "x-amz-date, Signature="));
  EXPECT_EQ(requests[0].Header("host"), stub.endpoint().substr(7));
  EXPECT_EQ(requests[0].Header("expect"), "");
}

TEST(S3FileIOStubTest, RetriesTwo503sThenSucceeds) {
  std::atomic<int> calls{0};
  testing::HttpStub stub([&](const testing::StubRequest&) {
    if (calls.fetch_add(1) < 2) {
      return testing::StubResponse{503, {}, S3ErrorXml("SlowDown", "Please reduce your rate")};
    }
    return testing::StubResponse{200, {}, "payload"};
  });
  ASSERT_OK_AND_ASSIGN(auto io, S3FileIO::Make(StubConfig(stub.endpoint())));
  EXPECT_THAT(io->ReadFile("t/x"), IsOkAndHolds(std::string("payload")));
  EXPECT_EQ(stub.requests().size(), 3u);
}

TEST(S3FileIOStubTest, Always500GivesAClearErrorAfterTheConfiguredAttempts) {
  testing::HttpStub stub([](const testing::StubRequest&) {
    return testing::StubResponse{500, {}, S3ErrorXml("InternalError", "We encountered an error")};
  });
  S3Config config = StubConfig(stub.endpoint());
  config.max_attempts = 3;
  ASSERT_OK_AND_ASSIGN(auto io, S3FileIO::Make(config));
  const auto result = io->ReadFile("t/x");
  EXPECT_THAT(result, IsError(StatusCode::kUnavailable, "HTTP 500 InternalError"));
  EXPECT_THAT(result, IsError(StatusCode::kUnavailable, "after 3 attempts"));
  EXPECT_THAT(result, IsError(StatusCode::kUnavailable, "key wh/t/x"));
  EXPECT_THAT(result, IsError(StatusCode::kUnavailable, "We encountered an error"));
  EXPECT_FALSE(result.error().hint().empty());
  EXPECT_EQ(stub.requests().size(), 3u);
}

TEST(S3FileIOStubTest, ConnectionRefusedIsRetriedThenUnavailable) {
  // A port with nothing listening: bind one, then close it.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  const int port = ntohs(address.sin_port);
  ::close(fd);
  S3Config config = StubConfig("http://127.0.0.1:" + std::to_string(port));
  config.max_attempts = 2;
  ASSERT_OK_AND_ASSIGN(auto io, S3FileIO::Make(config));
  EXPECT_THAT(io->Exists("t/x"), IsError(StatusCode::kUnavailable, "after 2 attempt(s)"));
}

TEST(S3FileIOStubTest, MapsS3ErrorsToStatusCodes) {
  testing::HttpStub stub([](const testing::StubRequest& request) {
    if (request.target.find("/denied") != std::string::npos) {
      return testing::StubResponse{403, {}, S3ErrorXml("AccessDenied", "Access Denied")};
    }
    if (request.target.find("/badkey") != std::string::npos) {
      return testing::StubResponse{
          403, {}, S3ErrorXml("InvalidAccessKeyId", "The AWS Access Key Id does not exist")};
    }
    if (request.target.find("/exists") != std::string::npos) {
      return testing::StubResponse{
          412, {}, S3ErrorXml("PreconditionFailed", "At least one precondition failed")};
    }
    return testing::StubResponse{404, {}, S3ErrorXml("NoSuchKey", "The key does not exist.")};
  });
  ASSERT_OK_AND_ASSIGN(auto io, S3FileIO::Make(StubConfig(stub.endpoint())));
  EXPECT_THAT(io->ReadFile("t/missing"), IsError(StatusCode::kNotFound, "NoSuchKey"));
  EXPECT_THAT(io->ReadFile("t/denied"),
              IsError(StatusCode::kPermissionDenied, "AccessDenied: Access Denied"));
  EXPECT_THAT(io->ReadFile("t/denied"), IsError(StatusCode::kPermissionDenied, "bucket bucket"));
  EXPECT_THAT(io->ReadFile("t/badkey"),
              IsError(StatusCode::kPermissionDenied, "InvalidAccessKeyId"));
  EXPECT_THAT(io->Exists("t/missing"), IsOkAndHolds(false));
  EXPECT_THAT(io->Delete("t/missing"), IsError(StatusCode::kNotFound));
  // create_only as a conditional PUT: If-None-Match: *, and 412 means the object exists.
  EXPECT_THAT(io->WriteFileAtomic("t/exists", "x", {.create_only = true}),
              IsError(StatusCode::kAlreadyExists, "PreconditionFailed"));
  EXPECT_EQ(stub.requests().back().Header("if-none-match"), "*");
}

TEST(S3FileIOStubTest, AFailedMultipartUploadIsAborted) {
  testing::HttpStub stub([](const testing::StubRequest& request) {
    if (request.method == "POST" && request.target.find("?uploads") != std::string::npos) {
      return testing::StubResponse{200,
                                   {},
                                   "<InitiateMultipartUploadResult><UploadId>up-1</UploadId></"
                                   "InitiateMultipartUploadResult>"};
    }
    if (request.method == "PUT" && request.target.find("partNumber=2&") != std::string::npos) {
      return testing::StubResponse{500, {}, S3ErrorXml("InternalError", "disk on fire")};
    }
    if (request.method == "PUT") return testing::StubResponse{200, {{"ETag", "\"e\""}}, ""};
    if (request.method == "DELETE") return testing::StubResponse{204, {}, ""};
    return testing::StubResponse{400, {}, S3ErrorXml("Unexpected", request.target)};
  });
  S3Config config = StubConfig(stub.endpoint());
  config.max_attempts = 2;
  config.multipart_threshold = 1000;
  config.part_size = 400;
  config.upload_concurrency = 2;
  ASSERT_OK_AND_ASSIGN(auto io, S3FileIO::Make(config));
  EXPECT_THAT(io->WriteFileAtomic("t/big", std::string(2000, 'x')),
              IsError(StatusCode::kUnavailable, "part 2 of 5"));
  const auto requests = stub.requests();
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests.back().method, "DELETE");
  EXPECT_EQ(requests.back().target, "/bucket/wh/t/big?uploadId=up-1");
  for (const auto& request : requests) {
    EXPECT_EQ(
        request.target.find("?uploadId=up-1") != std::string::npos && request.method == "POST",
        false)
        << "a failed upload must not be completed";
  }
}

TEST(S3FileIOStubTest, AFailedPartIsRetriedAndTheUploadCompletes) {
  std::atomic<int> part_two_attempts{0};
  testing::HttpStub stub([&](const testing::StubRequest& request) {
    if (request.method == "POST" && request.target.find("?uploads") != std::string::npos) {
      return testing::StubResponse{200,
                                   {},
                                   "<InitiateMultipartUploadResult><UploadId>up-7</UploadId></"
                                   "InitiateMultipartUploadResult>"};
    }
    if (request.method == "PUT" && request.target.find("partNumber=2&") != std::string::npos &&
        part_two_attempts.fetch_add(1) == 0) {
      return testing::StubResponse{503, {}, S3ErrorXml("SlowDown", "reduce your request rate")};
    }
    if (request.method == "PUT") {
      const size_t at = request.target.find("partNumber=");
      return testing::StubResponse{
          200, {{"ETag", "\"etag-" + request.target.substr(at + 11, 1) + "\""}}, ""};
    }
    if (request.method == "POST")
      return testing::StubResponse{200, {}, "<CompleteMultipartUploadResult/>"};
    return testing::StubResponse{400, {}, S3ErrorXml("Unexpected", request.target)};
  });
  S3Config config = StubConfig(stub.endpoint());
  config.multipart_threshold = 1000;
  config.part_size = 400;
  config.upload_concurrency = 2;
  ASSERT_OK_AND_ASSIGN(auto io, S3FileIO::Make(config));
  ASSERT_OK(io->WriteFileAtomic("t/big", std::string(2000, 'x')));
  EXPECT_EQ(part_two_attempts.load(), 2) << "the failed part is sent again";
  const auto requests = stub.requests();
  ASSERT_FALSE(requests.empty());
  const testing::StubRequest& complete = requests.back();
  EXPECT_EQ(complete.method, "POST");
  EXPECT_EQ(complete.target, "/bucket/wh/t/big?uploadId=up-7");
  for (int part = 1; part <= 5; ++part) {
    EXPECT_THAT(complete.body,
                HasSubstr(fmt::format("<Part><PartNumber>{}</PartNumber><ETag>&quot;etag-{}&quot;",
                                      part, part)));
  }
  for (const auto& request : requests)
    EXPECT_NE(request.method, "DELETE") << "nothing aborted";
}

TEST(S3FileIOStubTest, ACompletionRefusedWithin200IsAnErrorAndAborted) {
  // CompleteMultipartUpload may answer 200 and put the failure in the body.
  testing::HttpStub stub([](const testing::StubRequest& request) {
    if (request.method == "POST" && request.target.find("?uploads") != std::string::npos) {
      return testing::StubResponse{200,
                                   {},
                                   "<InitiateMultipartUploadResult><UploadId>up-8</UploadId></"
                                   "InitiateMultipartUploadResult>"};
    }
    if (request.method == "PUT") return testing::StubResponse{200, {{"ETag", "\"e\""}}, ""};
    if (request.method == "POST") {
      return testing::StubResponse{200, {}, S3ErrorXml("InvalidPart", "one part is missing")};
    }
    if (request.method == "DELETE") return testing::StubResponse{204, {}, ""};
    return testing::StubResponse{400, {}, S3ErrorXml("Unexpected", request.target)};
  });
  S3Config config = StubConfig(stub.endpoint());
  config.multipart_threshold = 1000;
  config.part_size = 500;
  ASSERT_OK_AND_ASSIGN(auto io, S3FileIO::Make(config));
  EXPECT_THAT(io->WriteFileAtomic("t/big", std::string(1500, 'y')),
              IsError(StatusCode::kIOError, "HTTP 200 InvalidPart: one part is missing"));
  const auto requests = stub.requests();
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests.back().method, "DELETE");
  EXPECT_EQ(requests.back().target, "/bucket/wh/t/big?uploadId=up-8");
}

// What a server does with a request: decode the path and query from the wire, then compute the
// signature from the decoded form. Keys with spaces, '+', '%', '=', '&' and non-ASCII bytes must
// survive the round trip, or S3 answers SignatureDoesNotMatch (s3rver does not check V4).
std::string PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string VerifySignature(const testing::StubRequest& request, const std::string& secret) {
  const std::string authorization = request.Header("authorization");
  const auto field = [&](const std::string& name) {
    const size_t at = authorization.find(name + "=");
    if (at == std::string::npos) return std::string();
    const size_t end = authorization.find(',', at);
    return authorization.substr(at + name.size() + 1, end == std::string::npos
                                                          ? std::string::npos
                                                          : end - at - name.size() - 1);
  };
  const std::string credential = field("Credential");
  const std::vector<std::string> scope = [&] {
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t slash; (slash = credential.find('/', start)) != std::string::npos;
         start = slash + 1)
      parts.push_back(credential.substr(start, slash - start));
    parts.push_back(credential.substr(start));
    return parts;
  }();
  if (scope.size() != 5) return "malformed credential " + credential;
  const size_t question = request.target.find('?');
  sigv4::Request decoded;
  decoded.method = request.method;
  decoded.path = PercentDecode(request.target.substr(0, question));
  if (question != std::string::npos) {
    std::string_view query = std::string_view(request.target).substr(question + 1);
    while (!query.empty()) {
      const size_t amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      const size_t equals = pair.find('=');
      decoded.query.emplace_back(
          PercentDecode(pair.substr(0, equals)),
          equals == std::string_view::npos ? "" : PercentDecode(pair.substr(equals + 1)));
      query = amp == std::string_view::npos ? "" : query.substr(amp + 1);
    }
  }
  std::string signed_headers = field("SignedHeaders");
  for (size_t start = 0; start <= signed_headers.size();) {
    const size_t semicolon = std::min(signed_headers.find(';', start), signed_headers.size());
    const std::string name = signed_headers.substr(start, semicolon - start);
    if (name != "x-amz-date") decoded.headers.emplace_back(name, request.Header(name));
    start = semicolon + 1;
  }
  decoded.payload_hash = request.Header("x-amz-content-sha256");
  const sigv4::Signed expected = sigv4::SignRequest(decoded, {scope[0], secret, ""},
                                                    {request.Header("x-amz-date"), scope[2], "s3"});
  return expected.signature == field("Signature") ? "" : "SignatureDoesNotMatch";
}

TEST(S3FileIOStubTest, KeysWithSpecialCharactersAreEncodedAndSignedAsS3Expects) {
  std::vector<std::string> problems;
  std::mutex problems_mutex;
  testing::HttpStub stub([&](const testing::StubRequest& request) {
    const std::string problem = VerifySignature(request, "secret");
    if (!problem.empty()) {
      std::lock_guard lock(problems_mutex);
      problems.push_back(request.method + " " + request.target + ": " + problem);
      return testing::StubResponse{403, {}, S3ErrorXml("SignatureDoesNotMatch", problem)};
    }
    if (request.method == "GET" && request.target.find("list-type=2") != std::string::npos) {
      return testing::StubResponse{200, {}, "<ListBucketResult></ListBucketResult>"};
    }
    return testing::StubResponse{200, {{"ETag", "\"e\""}}, "body"};
  });
  ASSERT_OK_AND_ASSIGN(auto io, S3FileIO::Make(StubConfig(stub.endpoint())));
  const std::string key = "odd/a b+c=d&e$%f\xc3\xa9~x_y-z,(1);'!*@:.txt";
  ASSERT_OK(io->WriteFileAtomic(key, "odd"));
  ASSERT_OK(io->ReadFile(key));
  ASSERT_OK(io->ReadRange(key, 1, 2));
  ASSERT_OK(io->List("odd/a b+c=d"));
  EXPECT_THAT(problems, ::testing::IsEmpty());
  const auto requests = stub.requests();
  ASSERT_GE(requests.size(), 4u);
  // RFC 3986 encoding of everything but unreserved characters and '/', as S3's canonical URI.
  const std::string wire =
      "/bucket/wh/odd/a%20b%2Bc%3Dd%26e%24%25f%C3%A9~x_y-z%2C%281%29%3B%27%21%2A%40%3A.txt";
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].target, wire);
  EXPECT_EQ(requests[1].target, wire);
  EXPECT_THAT(requests.back().target, HasSubstr("prefix=wh%2Fodd%2Fa%20b%2Bc%3Dd"));
  // A presigned URL carries the same encoding.
  ASSERT_OK_AND_ASSIGN(std::string url, io->PresignUrl("GET", key, 60));
  EXPECT_THAT(url, HasSubstr(wire + "?X-Amz-Algorithm=AWS4-HMAC-SHA256"));
}

// ---- Conformance against a real S3-compatible server (s3rver) ----

class S3FileIOServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = testing::S3rver::Start({"meshwork-test", "meshwork-root"}, why_).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (server_ == nullptr) GTEST_SKIP() << "S3 server tests skipped: " << why_;
    io_ = Make([](S3Config&) {});
  }

  // A warehouse of its own per test (a prefix named after it), s3rver's fixed credentials.
  std::unique_ptr<S3FileIO> Make(const std::function<void(S3Config&)>& adjust) {
    S3Config config;
    config.warehouse = std::string("s3://meshwork-test/") +
                       ::testing::UnitTest::GetInstance()->current_test_info()->name();
    config.endpoint = server_->endpoint();
    config.credentials = {"S3RVER", "S3RVER", ""};
    // s3rver ignores If-None-Match on PUT.
    config.create_only = S3Config::CreateOnly::kHeadThenPut;
    config.max_attempts = 2;
    adjust(config);
    auto io = S3FileIO::Make(config);
    EXPECT_OK(io);
    return io.ok() ? *std::move(io) : nullptr;
  }

  static testing::S3rver* server_;
  static std::string why_;
  std::unique_ptr<S3FileIO> io_;
};
testing::S3rver* S3FileIOServerTest::server_ = nullptr;
std::string S3FileIOServerTest::why_;

TEST_F(S3FileIOServerTest, WritesReadsAndOverwrites) {
  ASSERT_OK(io_->WriteFileAtomic("db/t/metadata/v1.metadata.json", "{\"a\":1}"));
  EXPECT_THAT(io_->ReadFile("db/t/metadata/v1.metadata.json"),
              IsOkAndHolds(std::string("{\"a\":1}")));
  EXPECT_THAT(io_->Size("db/t/metadata/v1.metadata.json"), IsOkAndHolds(7u));
  EXPECT_THAT(io_->Exists("db/t/metadata/v1.metadata.json"), IsOkAndHolds(true));
  EXPECT_THAT(io_->Exists("db/t/metadata/v2.metadata.json"), IsOkAndHolds(false));
  EXPECT_THAT(io_->ReadFile("db/t/metadata/v2.metadata.json"),
              IsError(StatusCode::kNotFound, "NoSuchKey"));
  std::string binary;
  for (int byte = 0; byte < 256; ++byte)
    binary += static_cast<char>(byte);
  ASSERT_OK(io_->WriteFileAtomic("bin", binary));
  EXPECT_THAT(io_->ReadFile("bin"), IsOkAndHolds(binary));
  ASSERT_OK(io_->WriteFileAtomic("bin", ""));
  EXPECT_THAT(io_->ReadFile("bin"), IsOkAndHolds(std::string()));
  EXPECT_THAT(io_->Size("bin"), IsOkAndHolds(0u));
  // Keys with characters that need encoding, and an s3:// URI inside the warehouse.
  ASSERT_OK(io_->WriteFileAtomic("odd/a b+c=d&e$%f\xc3\xa9.txt", "odd"));
  EXPECT_THAT(io_->ReadFile("odd/a b+c=d&e$%f\xc3\xa9.txt"), IsOkAndHolds(std::string("odd")));
  EXPECT_THAT(io_->ReadFile("s3://meshwork-test/WritesReadsAndOverwrites/bin"),
              IsOkAndHolds(std::string()));
  ASSERT_OK_AND_ASSIGN(S3FileIO::ObjectInfo info, io_->Head("db/t/metadata/v1.metadata.json"));
  EXPECT_EQ(info.size, 7u);
  EXPECT_FALSE(info.etag.empty());
  EXPECT_GT(info.modified_micros, 0);
}

TEST_F(S3FileIOServerTest, ReadsRanges) {
  ASSERT_OK(io_->WriteFileAtomic("r", "0123456789"));
  EXPECT_THAT(io_->ReadRange("r", 2, 3), IsOkAndHolds(std::string("234")));
  EXPECT_THAT(io_->ReadRange("r", 0, 10), IsOkAndHolds(std::string("0123456789")));
  EXPECT_THAT(io_->ReadRange("r", 7, 100), IsOkAndHolds(std::string("789")));
  EXPECT_THAT(io_->ReadRange("r", 10, 5), IsOkAndHolds(std::string()));
  EXPECT_THAT(io_->ReadRange("r", 50, 5), IsOkAndHolds(std::string()));
  EXPECT_THAT(io_->ReadRange("r", 3, 0), IsOkAndHolds(std::string()));
  EXPECT_THAT(io_->ReadRange("missing", 0, 5), IsError(StatusCode::kNotFound));
  EXPECT_THAT(io_->ReadRange("missing", 0, 0), IsError(StatusCode::kNotFound));
}

TEST_F(S3FileIOServerTest, DeletesAndReportsMissingFiles) {
  ASSERT_OK(io_->WriteFileAtomic("d/x", "x"));
  ASSERT_OK(io_->Delete("d/x"));
  EXPECT_THAT(io_->Exists("d/x"), IsOkAndHolds(false));
  EXPECT_THAT(io_->Delete("d/x"), IsError(StatusCode::kNotFound));
  EXPECT_THAT(io_->Size("d/x"), IsError(StatusCode::kNotFound));
}

TEST_F(S3FileIOServerTest, CreateOnlyRefusesAnExistingObject) {
  ASSERT_OK(io_->WriteFileAtomic("m/v1.json", "first", {.create_only = true}));
  EXPECT_THAT(io_->WriteFileAtomic("m/v1.json", "second", {.create_only = true}),
              IsError(StatusCode::kAlreadyExists, "already exists"));
  EXPECT_THAT(io_->ReadFile("m/v1.json"), IsOkAndHolds(std::string("first")));
  ASSERT_OK(io_->WriteFileAtomic("m/v1.json", "replaced"));
  EXPECT_THAT(io_->ReadFile("m/v1.json"), IsOkAndHolds(std::string("replaced")));
}

TEST_F(S3FileIOServerTest, ListsByDirectoryOrNamePrefixSorted) {
  for (const char* path : {"t/data/part-1.parquet", "t/data/part-0.parquet", "t/data/x/deep",
                           "t/data-old/part-9.parquet", "t/metadata/v1.json", "u/other"}) {
    ASSERT_OK(io_->WriteFileAtomic(path, path));
  }
  ASSERT_OK_AND_ASSIGN(auto files, io_->List("t/data/"));
  EXPECT_THAT(Paths(files),
              ElementsAre("t/data/part-0.parquet", "t/data/part-1.parquet", "t/data/x/deep"));
  EXPECT_EQ(files[0].size, std::string("t/data/part-0.parquet").size());
  EXPECT_GT(files[0].modified_micros, 0);
  ASSERT_OK_AND_ASSIGN(files, io_->List("t/data/part-"));
  EXPECT_THAT(Paths(files), ElementsAre("t/data/part-0.parquet", "t/data/part-1.parquet"));
  ASSERT_OK_AND_ASSIGN(files, io_->List("t/data"));
  EXPECT_EQ(files.size(), 4u);  // a name prefix: data-old too
  ASSERT_OK_AND_ASSIGN(files, io_->List(""));
  EXPECT_EQ(files.size(), 6u);
  ASSERT_OK_AND_ASSIGN(files, io_->List("./"));
  EXPECT_EQ(files.size(), 6u);
  ASSERT_OK_AND_ASSIGN(files,
                       io_->List("s3://meshwork-test/ListsByDirectoryOrNamePrefixSorted/u/"));
  EXPECT_THAT(Paths(files), ElementsAre("u/other"));
  ASSERT_OK_AND_ASSIGN(files, io_->List("nothing/here/"));
  EXPECT_TRUE(files.empty());
  EXPECT_THAT(io_->List("../"), IsError(StatusCode::kPermissionDenied));
  // Another test's warehouse (a sibling prefix) is not listed.
  auto sibling = Make([](S3Config& config) {
    config.warehouse = "s3://meshwork-test/ListsByDirectoryOrNamePrefix";
  });
  ASSERT_OK_AND_ASSIGN(files, sibling->List(""));
  EXPECT_TRUE(files.empty());
}

TEST_F(S3FileIOServerTest, ListsMoreThanOnePageAndDeletesInBatches) {
  constexpr int kFiles = 1100;  // more than ListObjectsV2's 1000 keys per page
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int thread = 0; thread < 4; ++thread) {
    writers.emplace_back([&] {
      for (int index = next++; index < kFiles; index = next++) {
        if (!io_->WriteFileAtomic(fmt::format("many/f-{:05d}", index), "x").ok()) ++failures;
      }
    });
  }
  for (auto& writer : writers)
    writer.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_OK_AND_ASSIGN(auto files, io_->List("many/"));
  ASSERT_EQ(files.size(), static_cast<size_t>(kFiles));
  EXPECT_EQ(files.front().path, "many/f-00000");
  EXPECT_EQ(files.back().path, fmt::format("many/f-{:05d}", kFiles - 1));
  std::vector<std::string> paths = Paths(files);
  paths.push_back("many/never-written");  // missing keys are not errors
  ASSERT_OK(io_->DeleteMany(paths));
  ASSERT_OK_AND_ASSIGN(files, io_->List("many/"));
  EXPECT_TRUE(files.empty());
  EXPECT_THAT(io_->DeleteMany({"../escape"}), IsError(StatusCode::kPermissionDenied));
}

TEST_F(S3FileIOServerTest, MultipartUploadsInParallelParts) {
  auto io = Make([](S3Config& config) {
    config.multipart_threshold = 512 << 10;
    config.part_size = 256 << 10;
    config.upload_concurrency = 4;
  });
  std::mt19937 random(42);
  std::string contents(3500000, '\0');
  for (char& c : contents)
    c = static_cast<char>(random());
  ASSERT_OK(io->WriteFileAtomic("big/file.parquet", contents));
  EXPECT_THAT(io->Size("big/file.parquet"), IsOkAndHolds(contents.size()));
  ASSERT_OK_AND_ASSIGN(std::string back, io->ReadFile("big/file.parquet"));
  EXPECT_TRUE(back == contents) << "multipart object differs from what was written";
  EXPECT_THAT(io->ReadRange("big/file.parquet", 300000, 10),
              IsOkAndHolds(contents.substr(300000, 10)));
  // create_only applies to multipart writes too.
  EXPECT_THAT(io->WriteFileAtomic("big/file.parquet", contents, {.create_only = true}),
              IsError(StatusCode::kAlreadyExists));
}

TEST_F(S3FileIOServerTest, MultipartThroughput) {
  // A figure, not a pass/fail check: 64 MiB in 8 MiB parts, 4 at a time, against s3rver on
  // this machine (s3rver, a node process writing to disk, is the bottleneck).
  auto io = Make([](S3Config& config) {
    config.multipart_threshold = 8 << 20;
    config.part_size = 8 << 20;
    config.upload_concurrency = 4;
  });
  const std::string contents(64 << 20, 'm');
  const auto start = std::chrono::steady_clock::now();
  ASSERT_OK(io->WriteFileAtomic("throughput/blob", contents));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto read_start = std::chrono::steady_clock::now();
  ASSERT_OK_AND_ASSIGN(std::string back, io->ReadFile("throughput/blob"));
  const double read_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - read_start).count();
  EXPECT_EQ(back.size(), contents.size());
  std::cout << fmt::format(
      "multipart upload of 64 MiB: {:.2f} s, {:.1f} MiB/s; read back: {:.2f} "
      "s, {:.1f} MiB/s\n",
      seconds, 64 / seconds, read_seconds, 64 / read_seconds);
  ::testing::Test::RecordProperty("upload_mib_per_s", static_cast<int>(64 / seconds));
}

TEST_F(S3FileIOServerTest, AWarehouseAtTheBucketRoot) {
  auto io = Make([](S3Config& config) { config.warehouse = "s3://meshwork-root"; });
  ASSERT_OK(io->WriteFileAtomic("a/b", "root"));
  EXPECT_THAT(io->ReadFile("s3://meshwork-root/a/b"), IsOkAndHolds(std::string("root")));
  ASSERT_OK_AND_ASSIGN(auto files, io->List(""));
  EXPECT_THAT(Paths(files), ElementsAre("a/b"));
  ASSERT_OK(io->Delete("a/b"));
}

TEST_F(S3FileIOServerTest, AMissingBucketIsNotFoundWithAHint) {
  auto io = Make([](S3Config& config) { config.warehouse = "s3://no-such-bucket/x"; });
  EXPECT_THAT(io->ReadFile("a"), IsError(StatusCode::kNotFound, "NoSuchBucket"));
  EXPECT_THAT(io->List(""), IsError(StatusCode::kNotFound, "NoSuchBucket"));
}

// A HEAD refusal has no body; the error still says which credential problem it is.
TEST_F(S3FileIOServerTest, WrongKeysAreNamedEvenForHead) {
  ASSERT_OK(io_->WriteFileAtomic("probe", "x"));
  auto unknown = Make([](S3Config& config) { config.credentials = {"NOBODY", "S3RVER", ""}; });
  EXPECT_THAT(unknown->Exists("probe"),
              IsError(StatusCode::kPermissionDenied, "InvalidAccessKeyId"));
  EXPECT_THAT(unknown->Size("probe"), IsError(StatusCode::kPermissionDenied, "access key id"));
}

TEST_F(S3FileIOServerTest, APresignedUrlReadsTheObjectWithoutCredentials) {
  ASSERT_OK(io_->WriteFileAtomic("shared/report.csv", "a,b\n1,2\n"));
  ASSERT_OK_AND_ASSIGN(std::string url, io_->PresignUrl("GET", "shared/report.csv", 300));
  // curl here is a client that holds no credentials: the URL alone must do.
  FILE* pipe = ::popen(("curl -sf '" + url + "'").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string body;
  char buffer[256];
  while (size_t size = std::fread(buffer, 1, sizeof buffer, pipe))
    body.append(buffer, size);
  EXPECT_EQ(::pclose(pipe), 0);
  EXPECT_EQ(body, "a,b\n1,2\n");
}

TEST_F(S3FileIOServerTest, TheReadThroughCacheVerifiesTheETag) {
  auto io = Make([](S3Config&) {});
  S3FileIO* s3 = io.get();
  testing::ScratchDir scratch("s3-cache");
  ASSERT_OK_AND_ASSIGN(
      auto cached, CachedFileIO::Make(std::move(io), {(scratch.path() / "c").string(), 1 << 20}));
  ASSERT_OK(s3->WriteFileAtomic("t/data/a.parquet", "first"));
  ASSERT_OK_AND_ASSIGN(std::string first, cached->LocalPath("t/data/a.parquet"));
  // Same size, new contents, written behind the cache's back: only the ETag tells them apart.
  ASSERT_OK(s3->WriteFileAtomic("t/data/a.parquet", "other"));
  ASSERT_OK_AND_ASSIGN(std::string second, cached->LocalPath("t/data/a.parquet"));
  EXPECT_NE(first, second);
  std::ifstream input(second);
  std::string contents;
  input >> contents;
  EXPECT_EQ(contents, "other");
  EXPECT_THAT(cached->LocalPath("t/data/missing.parquet"), IsError(StatusCode::kNotFound));
}

}  // namespace
}  // namespace meshwork::storage
