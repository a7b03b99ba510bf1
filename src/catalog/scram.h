#pragma once
// SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL clients speak it: the server side of the
// exchange and the verifier it checks against. The verifier is stored next to the scrypt hash
// of a principal's secret ("…;SCRAM-SHA-256$4096:<salt>$<StoredKey>:<ServerKey>", PostgreSQL's
// format): it lets the server check a proof without holding the secret or anything a client
// could log in with.

#include <string>
#include <string_view>

#include "common/result.h"

namespace meshwork::catalog {

/// A fresh verifier for `secret` (random salt, 4096 iterations).
std::string MakeScramVerifier(std::string_view secret);

/// The SCRAM verifier part of a stored secret hash; empty when the hash predates it.
std::string_view ScramVerifierOf(std::string_view secret_hash);

/// One server-side exchange. Start() answers the client-first-message; Finish() checks the
/// client-final-message's proof and answers the server-final-message. A malformed message or
/// a wrong proof is unauthenticated (without saying which).
class ScramServerExchange {
 public:
  /// `verifier` as MakeScramVerifier writes it; an unusable one fails every proof (so that
  /// unknown users take the same path as known ones).
  explicit ScramServerExchange(std::string verifier);
  Result<std::string> Start(std::string_view client_first_message);
  Result<std::string> Finish(std::string_view client_final_message);

 private:
  std::string verifier_;
  std::string salt_, stored_key_, server_key_;
  int iterations_ = 0;
  bool usable_ = false;
  std::string client_first_bare_, server_first_, nonce_, gs2_header_;
};

/// The client side, for tests and for meshwork's own clients.
class ScramClientExchange {
 public:
  ScramClientExchange(std::string user, std::string password);
  std::string First();
  Result<std::string> Final(std::string_view server_first_message);
  /// Checks the server's signature (the server knew the verifier).
  Status Verify(std::string_view server_final_message) const;

 private:
  std::string user_, password_, nonce_, client_first_bare_, server_signature_;
};

std::string Base64Encode(std::string_view bytes);
Result<std::string> Base64Decode(std::string_view text);

}  // namespace meshwork::catalog
