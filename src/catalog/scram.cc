#include "catalog/scram.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <charconv>
#include <optional>

namespace meshwork::catalog {
namespace {

constexpr int kIterations = 4096;
constexpr std::string_view kPrefix = "SCRAM-SHA-256$";
constexpr int kMaxIterations = 1 << 20;  // a tampered row must not become a CPU bomb

std::string Random(size_t count) {
  std::string bytes(count, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(count));
  return bytes;
}

std::string Hmac(std::string_view key, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &length);
  return std::string(reinterpret_cast<char*>(out), length);
}

std::string Sha256(std::string_view bytes) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), out, &length, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(out), length);
}

std::string SaltedPassword(std::string_view password, std::string_view salt, int iterations) {
  std::string out(32, '\0');
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(), 32,
                    reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string Xor(std::string_view a, std::string_view b) {
  std::string out(a.size(), '\0');
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    out[i] = static_cast<char>(a[i] ^ b[i]);
  return out;
}

Status Refused() {
  return Status::Unauthenticated("SCRAM authentication failed")
      .WithHint("the user is the client id and the password its secret");
}

// The value of attribute `name` ("r", "s", …) in a comma-separated SCRAM message.
std::optional<std::string_view> Attribute(std::string_view message, char name) {
  size_t start = 0;
  while (start <= message.size()) {
    size_t end = message.find(',', start);
    if (end == std::string_view::npos) end = message.size();
    const std::string_view part = message.substr(start, end - start);
    if (part.size() >= 2 && part[0] == name && part[1] == '=') return part.substr(2);
    start = end + 1;
  }
  return std::nullopt;
}

// Printable ASCII without ',' (RFC 5802's nonce alphabet).
bool ValidNonce(std::string_view nonce) {
  if (nonce.empty() || nonce.size() > 1024) return false;
  for (const char c : nonce)
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  return true;
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(bytes.data()),
                                     static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(length));
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0 || text.size() > (1u << 20)) {
    return Status::InvalidArgument("not base64: {} characters", text.size());
  }
  std::string out(3 * text.size() / 4, '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(text.data()),
                                     static_cast<int>(text.size()));
  if (length < 0) return Status::InvalidArgument("not base64");
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++padding;
  out.resize(static_cast<size_t>(length) - padding);
  return out;
}

std::string MakeScramVerifier(std::string_view secret) {
  const std::string salt = Random(16);
  const std::string salted = SaltedPassword(secret, salt, kIterations);
  const std::string stored_key = Sha256(Hmac(salted, "Client Key"));
  const std::string server_key = Hmac(salted, "Server Key");
  return fmt::format("{}{}:{}${}:{}", kPrefix, kIterations, Base64Encode(salt),
                     Base64Encode(stored_key), Base64Encode(server_key));
}

std::string_view ScramVerifierOf(std::string_view secret_hash) {
  const size_t at = secret_hash.find(';');
  if (at == std::string_view::npos) return {};
  const std::string_view verifier = secret_hash.substr(at + 1);
  return verifier.starts_with(kPrefix) ? verifier : std::string_view();
}

ScramServerExchange::ScramServerExchange(std::string verifier) : verifier_(std::move(verifier)) {
  std::string_view rest(verifier_);
  if (!rest.starts_with(kPrefix)) return;
  rest.remove_prefix(kPrefix.size());
  const size_t colon = rest.find(':'), dollar = rest.find('$'), colon2 = rest.rfind(':');
  if (colon == std::string_view::npos || dollar == std::string_view::npos || colon2 <= dollar) {
    return;
  }
  const std::string_view iterations = rest.substr(0, colon);
  if (std::from_chars(iterations.data(), iterations.data() + iterations.size(), iterations_).ec !=
          std::errc() ||
      iterations_ < 1 || iterations_ > kMaxIterations) {
    return;
  }
  auto salt = Base64Decode(rest.substr(colon + 1, dollar - colon - 1));
  auto stored = Base64Decode(rest.substr(dollar + 1, colon2 - dollar - 1));
  auto server = Base64Decode(rest.substr(colon2 + 1));
  if (!salt.ok() || !stored.ok() || !server.ok() || stored->size() != 32 || server->size() != 32) {
    return;
  }
  salt_ = *salt, stored_key_ = *stored, server_key_ = *server;
  usable_ = true;
}

Result<std::string> ScramServerExchange::Start(std::string_view client_first) {
  // gs2-header: "n,," (no channel binding) or "y,," (client could but thinks we cannot);
  // "p=…" asks for channel binding, which we do not offer.
  if (client_first.size() > 4096) return Refused();
  if (!(client_first.starts_with("n,") || client_first.starts_with("y,"))) return Refused();
  const size_t header_end = client_first.find(',', 2);
  if (header_end == std::string_view::npos) return Refused();
  gs2_header_ = std::string(client_first.substr(0, header_end + 1));
  client_first_bare_ = std::string(client_first.substr(header_end + 1));
  const auto client_nonce = Attribute(client_first_bare_, 'r');
  if (!client_nonce || !ValidNonce(*client_nonce)) return Refused();
  std::string salt = usable_ ? salt_ : Random(16);  // a decoy for unknown users
  nonce_ = std::string(*client_nonce) + Base64Encode(Random(18));
  server_first_ = fmt::format("r={},s={},i={}", nonce_, Base64Encode(salt),
                              usable_ ? iterations_ : kIterations);
  return server_first_;
}

Result<std::string> ScramServerExchange::Finish(std::string_view client_final) {
  if (server_first_.empty() || client_final.size() > 4096) return Refused();
  const size_t proof_at = client_final.rfind(",p=");
  if (proof_at == std::string_view::npos) return Refused();
  const std::string_view without_proof = client_final.substr(0, proof_at);
  const auto binding = Attribute(without_proof, 'c');
  const auto nonce = Attribute(without_proof, 'r');
  if (!binding || !nonce || *nonce != nonce_ || *binding != Base64Encode(gs2_header_)) {
    return Refused();
  }
  auto proof = Base64Decode(client_final.substr(proof_at + 3));
  if (!proof.ok() || proof->size() != 32 || !usable_) return Refused();
  const std::string auth_message =
      client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
  const std::string client_key = Xor(*proof, Hmac(stored_key_, auth_message));
  const std::string computed = Sha256(client_key);
  if (CRYPTO_memcmp(computed.data(), stored_key_.data(), 32) != 0) return Refused();
  return "v=" + Base64Encode(Hmac(server_key_, auth_message));
}

ScramClientExchange::ScramClientExchange(std::string user, std::string password)
    : user_(std::move(user)), password_(std::move(password)) {}

std::string ScramClientExchange::First() {
  nonce_ = Base64Encode(Random(18));
  client_first_bare_ = "n=,r=" + nonce_;
  return "n,," + client_first_bare_;
}

Result<std::string> ScramClientExchange::Final(std::string_view server_first) {
  const auto nonce = Attribute(server_first, 'r');
  const auto salt = Attribute(server_first, 's');
  const auto iterations = Attribute(server_first, 'i');
  if (!nonce || !salt || !iterations || !nonce->starts_with(nonce_)) return Refused();
  int count = 0;
  if (std::from_chars(iterations->data(), iterations->data() + iterations->size(), count).ec !=
          std::errc() ||
      count < 1 || count > kMaxIterations) {
    return Refused();
  }
  MW_ASSIGN_OR_RETURN(std::string salt_bytes, Base64Decode(*salt));
  const std::string salted = SaltedPassword(password_, salt_bytes, count);
  const std::string client_key = Hmac(salted, "Client Key");
  const std::string without_proof = "c=biws,r=" + std::string(*nonce);
  const std::string auth_message =
      client_first_bare_ + "," + std::string(server_first) + "," + without_proof;
  const std::string proof = Xor(client_key, Hmac(Sha256(client_key), auth_message));
  server_signature_ = Hmac(Hmac(salted, "Server Key"), auth_message);
  return without_proof + ",p=" + Base64Encode(proof);
}

Status ScramClientExchange::Verify(std::string_view server_final) const {
  const auto signature = Attribute(server_final, 'v');
  if (!signature || *signature != Base64Encode(server_signature_)) {
    return Status::Unauthenticated("the server's SCRAM signature does not match");
  }
  return Status::OK();
}

}  // namespace meshwork::catalog
