#pragma once
// A small HTTP client (libcurl) for CLI commands that talk to `meshwork serve`: it gets a token
// with the client credentials from MESHWORK_CLIENT_ID / MESHWORK_CLIENT_SECRET and sends JSON.

#include <string>

#include "common/result.h"

namespace meshwork::cli {

struct ServerReply {
  long status = 0;
  std::string body;
};

class ServerClient {
 public:
  /// `server` like http://127.0.0.1:8181; credentials from the environment.
  static Result<ServerClient> FromEnvironment(const std::string& server);

  /// Sends a request with the bearer token (fetched once). A reply with an error status is a
  /// Status carrying the server's message, mapped back to its code.
  Result<ServerReply> Send(const std::string& method, const std::string& path,
                           const std::string& body = "");
  /// The same, but a reply with an error status is returned as it is (its body is a report).
  Result<ServerReply> SendKeepingErrors(const std::string& method, const std::string& path,
                                        const std::string& body);

 private:
  ServerClient(std::string server, std::string client_id, std::string client_secret)
      : server_(std::move(server)),
        client_id_(std::move(client_id)),
        client_secret_(std::move(client_secret)) {}
  Result<ServerReply> Raw(const std::string& method, const std::string& path,
                          const std::string& body, const std::string& content_type,
                          const std::string& authorization);
  std::string server_, client_id_, client_secret_, token_;
};

}  // namespace meshwork::cli
