#include "cli/server_client.h"

#include <curl/curl.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

namespace meshwork::cli {
namespace {

size_t Collect(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

std::string FormEscape(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

Status StatusFromReply(const ServerReply& reply) {
  const auto body = nlohmann::json::parse(reply.body, nullptr, false);
  std::string message = "the server answered " + std::to_string(reply.status);
  if (body.is_object() && body.contains("error")) {
    if (body["error"].is_object() && body["error"].contains("message") &&
        body["error"]["message"].is_string()) {
      message = body["error"]["message"].get<std::string>();
    } else if (body.contains("error_description") && body["error_description"].is_string()) {
      message = body["error_description"].get<std::string>();
    }
  }
  switch (reply.status) {
    case 400:
    case 422:
      return Status::InvalidArgument("{}", message);
    case 401:
      return Status::Unauthenticated("{}", message)
          .WithHint("set MESHWORK_CLIENT_ID and MESHWORK_CLIENT_SECRET");
    case 403:
      return Status::PermissionDenied("{}", message);
    case 404:
      return Status::NotFound("{}", message);
    case 409:
      return Status::Conflict("{}", message);
    case 503:
      return Status::Unavailable("{}", message);
    default:
      return Status::Internal("{}", message);
  }
}

}  // namespace

Result<ServerClient> ServerClient::FromEnvironment(const std::string& server) {
  const char* id = std::getenv("MESHWORK_CLIENT_ID");
  const char* secret = std::getenv("MESHWORK_CLIENT_SECRET");
  if (id == nullptr || *id == '\0' || secret == nullptr || *secret == '\0') {
    return Status::Unauthenticated("no client credentials")
        .WithHint(
            "export MESHWORK_CLIENT_ID and MESHWORK_CLIENT_SECRET (the root's are printed "
            "once by the first `meshwork serve`)");
  }
  std::string base = server;
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  return ServerClient(base, id, secret);
}

Result<ServerReply> ServerClient::Raw(const std::string& method, const std::string& path,
                                      const std::string& body, const std::string& content_type,
                                      const std::string& authorization) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Status::Internal("cannot initialize libcurl");
  ServerReply reply;
  const std::string url = server_ + path;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
  if (!authorization.empty()) {
    headers = curl_slist_append(headers, ("Authorization: " + authorization).c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (!body.empty() || method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  const CURLcode code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (code != CURLE_OK) {
    return Status::Unavailable("cannot reach {}: {}", server_, curl_easy_strerror(code))
        .WithHint("start it with `meshwork serve`, or pass --server URL");
  }
  return reply;
}

Result<ServerReply> ServerClient::Send(const std::string& method, const std::string& path,
                                       const std::string& body) {
  MW_ASSIGN_OR_RETURN(ServerReply reply, SendKeepingErrors(method, path, body));
  if (reply.status >= 400) return StatusFromReply(reply);
  return reply;
}

Result<ServerReply> ServerClient::SendKeepingErrors(const std::string& method,
                                                    const std::string& path,
                                                    const std::string& body) {
  if (token_.empty()) {
    MW_ASSIGN_OR_RETURN(ServerReply reply,
                        Raw("POST", "/catalog/v1/oauth/tokens",
                            "grant_type=client_credentials&client_id=" + FormEscape(client_id_) +
                                "&client_secret=" + FormEscape(client_secret_),
                            "application/x-www-form-urlencoded", ""));
    if (reply.status != 200) return StatusFromReply(reply);
    const auto json = nlohmann::json::parse(reply.body, nullptr, false);
    if (!json.is_object() || !json.contains("access_token") || !json["access_token"].is_string()) {
      return Status::Internal("the token endpoint of {} answered without a token", server_);
    }
    token_ = json["access_token"].get<std::string>();
  }
  return Raw(method, path, body, "application/json", "Bearer " + token_);
}

}  // namespace meshwork::cli
