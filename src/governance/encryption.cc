#include "governance/encryption.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/time.h"
#include "governance/policy.h"
#include "iceberg/sql_text.h"

namespace meshwork::governance {
namespace {

using nlohmann::json;

constexpr std::string_view kCiphertextPrefix = "me1:";
constexpr std::string_view kCollection = "governance";
constexpr std::string_view kKeyPrefix = "keys/";
constexpr size_t kMasterKeyBytes = 32;
constexpr size_t kGcmKeyBytes = 32;
constexpr size_t kSivKeyBytes = 64;
constexpr int kGcmNonceBytes = 12;
constexpr int kTagBytes = 16;
// How long a server trusts the current version of a key it read: a rotation by another process
// reaches new writes within this time (older versions stay readable either way).
constexpr int64_t kCurrentKeyMillis = 5000;

struct CipherContext {
  CipherContext() : handle(EVP_CIPHER_CTX_new()) {}
  ~CipherContext() { EVP_CIPHER_CTX_free(handle); }
  CipherContext(const CipherContext&) = delete;
  CipherContext& operator=(const CipherContext&) = delete;
  EVP_CIPHER_CTX* handle;
};

const unsigned char* Bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

std::string RandomBytes(size_t size) {
  std::string out(size, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(size)) != 1) {
    // Without randomness no key or nonce may be made; an empty result fails every caller.
    return {};
  }
  return out;
}

// AES-256-SIV comes from OpenSSL 3's default provider; fetched once.
const EVP_CIPHER* Siv() {
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-SIV", nullptr);
  return cipher;
}

// GCM contexts keyed once per thread and key: the key schedule is most of the cost of a short
// value, and DuckDB calls the SQL functions from its worker threads. Each value then only sets
// its nonce, which resets the context's state.
class GcmContexts {
 public:
  GcmContexts() = default;
  GcmContexts(const GcmContexts&) = delete;
  GcmContexts& operator=(const GcmContexts&) = delete;
  ~GcmContexts() {
    EVP_CIPHER_CTX_free(sealing_.context);
    EVP_CIPHER_CTX_free(opening_.context);
  }
  // Null when OpenSSL fails.
  EVP_CIPHER_CTX* For(bool seal, std::string_view key) {
    Slot& slot = seal ? sealing_ : opening_;
    if (slot.context != nullptr && slot.key == key) return slot.context;
    if (slot.context == nullptr) slot.context = EVP_CIPHER_CTX_new();
    slot.key.clear();
    auto* const init = seal ? EVP_EncryptInit_ex : EVP_DecryptInit_ex;
    if (slot.context == nullptr ||
        init(slot.context, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(slot.context, EVP_CTRL_GCM_SET_IVLEN, kGcmNonceBytes, nullptr) != 1 ||
        init(slot.context, nullptr, nullptr, Bytes(key), nullptr) != 1) {
      return nullptr;
    }
    slot.key = std::string(key);
    return slot.context;
  }

 private:
  struct Slot {
    EVP_CIPHER_CTX* context = nullptr;
    std::string key;
  };
  Slot sealing_, opening_;
};

GcmContexts& ThreadGcmContexts() {
  thread_local GcmContexts contexts;
  return contexts;
}

// AES-256-GCM: nonce ‖ ciphertext ‖ tag.
Result<std::string> GcmSeal(std::string_view key, std::string_view aad, std::string_view clear) {
  std::string out(kGcmNonceBytes + clear.size() + kTagBytes, '\0');
  auto* buffer = reinterpret_cast<unsigned char*>(out.data());
  if (RAND_bytes(buffer, kGcmNonceBytes) != 1) {
    return Status::Internal("OpenSSL could not generate a nonce");
  }
  EVP_CIPHER_CTX* context = ThreadGcmContexts().For(/*seal=*/true, key);
  int length = 0, final_length = 0;
  if (context == nullptr || EVP_EncryptInit_ex(context, nullptr, nullptr, nullptr, buffer) != 1 ||
      EVP_EncryptUpdate(context, nullptr, &length, Bytes(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(context, buffer + kGcmNonceBytes, &length, Bytes(clear),
                        static_cast<int>(clear.size())) != 1 ||
      EVP_EncryptFinal_ex(context, buffer + kGcmNonceBytes + length, &final_length) != 1 ||
      EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, kTagBytes,
                          buffer + kGcmNonceBytes + clear.size()) != 1) {
    return Status::Internal("OpenSSL AES-256-GCM encryption failed");
  }
  return out;
}

// False when the tag does not verify (altered data, wrong key or wrong associated data).
bool GcmOpen(std::string_view key, std::string_view aad, std::string_view sealed,
             std::string& clear) {
  if (sealed.size() < static_cast<size_t>(kGcmNonceBytes + kTagBytes)) return false;
  const size_t size = sealed.size() - kGcmNonceBytes - kTagBytes;
  clear.assign(size, '\0');
  auto* out = reinterpret_cast<unsigned char*>(clear.data());
  std::string tag(sealed.substr(kGcmNonceBytes + size));
  EVP_CIPHER_CTX* context = ThreadGcmContexts().For(/*seal=*/false, key);
  int length = 0, final_length = 0;
  unsigned char scratch[1];
  return context != nullptr &&
         EVP_DecryptInit_ex(context, nullptr, nullptr, nullptr, Bytes(sealed)) == 1 &&
         EVP_DecryptUpdate(context, nullptr, &length, Bytes(aad), static_cast<int>(aad.size())) ==
             1 &&
         EVP_DecryptUpdate(context, size == 0 ? scratch : out, &length,
                           Bytes(sealed) + kGcmNonceBytes, static_cast<int>(size)) == 1 &&
         EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) == 1 &&
         EVP_DecryptFinal_ex(context, (size == 0 ? scratch : out) + length, &final_length) == 1;
}

// AES-256-SIV (RFC 5297): synthetic IV (the tag) ‖ ciphertext; the same input gives the same
// output under one key. The plaintext is a zero byte followed by the value: OpenSSL's SIV
// computes no tag for an empty plaintext, and empty strings must encrypt too.
Result<std::string> SivSeal(std::string_view key, std::string_view aad, std::string_view value) {
  if (Siv() == nullptr) return Status::Internal("OpenSSL has no AES-256-SIV");
  std::string framed(1, '\0');
  framed.append(value);
  const std::string_view clear = framed;
  CipherContext context;
  std::string out(kTagBytes + clear.size(), '\0');
  auto* buffer = reinterpret_cast<unsigned char*>(out.data());
  unsigned char scratch[1];
  int length = 0, final_length = 0;
  if (context.handle == nullptr ||
      EVP_EncryptInit_ex2(context.handle, Siv(), Bytes(key), nullptr, nullptr) != 1 ||
      EVP_EncryptUpdate(context.handle, nullptr, &length, Bytes(aad),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(context.handle, clear.empty() ? scratch : buffer + kTagBytes, &length,
                        Bytes(clear), static_cast<int>(clear.size())) != 1 ||
      EVP_EncryptFinal_ex(context.handle, scratch, &final_length) != 1 ||
      EVP_CIPHER_CTX_ctrl(context.handle, EVP_CTRL_AEAD_GET_TAG, kTagBytes, buffer) != 1) {
    return Status::Internal("OpenSSL AES-256-SIV encryption failed");
  }
  return out;
}

bool StripFrame(std::string& clear) {
  if (clear.empty() || clear[0] != '\0') return false;
  clear.erase(0, 1);
  return true;
}

bool SivOpen(std::string_view key, std::string_view aad, std::string_view sealed,
             std::string& clear) {
  if (Siv() == nullptr || sealed.size() < static_cast<size_t>(kTagBytes)) return false;
  const size_t size = sealed.size() - kTagBytes;
  clear.assign(size, '\0');
  std::string tag(sealed.substr(0, kTagBytes));
  CipherContext context;
  unsigned char scratch[1];
  int length = 0, final_length = 0;
  return context.handle != nullptr &&
         EVP_DecryptInit_ex2(context.handle, Siv(), Bytes(key), nullptr, nullptr) == 1 &&
         EVP_CIPHER_CTX_ctrl(context.handle, EVP_CTRL_AEAD_SET_TAG, kTagBytes, tag.data()) == 1 &&
         EVP_DecryptUpdate(context.handle, nullptr, &length, Bytes(aad),
                           static_cast<int>(aad.size())) == 1 &&
         EVP_DecryptUpdate(context.handle,
                           size == 0 ? scratch : reinterpret_cast<unsigned char*>(clear.data()),
                           &length, Bytes(sealed) + kTagBytes, static_cast<int>(size)) == 1 &&
         EVP_DecryptFinal_ex(context.handle, scratch, &final_length) == 1 && StripFrame(clear);
}

bool IsKeyIdCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

// dom.customers.v3 → {dom.customers, 3}
bool SplitKeyId(std::string_view id, std::string& scope, int64_t& version) {
  const size_t at = id.rfind(".v");
  if (at == std::string_view::npos || at == 0 || at + 2 >= id.size()) return false;
  const std::string_view digits = id.substr(at + 2);
  if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string_view::npos) {
    return false;
  }
  scope = std::string(id.substr(0, at));
  version = std::strtoll(std::string(digits).c_str(), nullptr, 10);
  return version > 0;
}

std::string KeyId(const std::string& scope, int64_t version) {
  return fmt::format("{}.v{}", scope, version);
}

EncryptionMode ModeOfScope(std::string_view scope) {
  return scope.starts_with("det.") ? EncryptionMode::kDeterministic : EncryptionMode::kRandomized;
}

std::string ReadWholeFile(const std::string& path, bool& ok) {
  std::ifstream in(path, std::ios::binary);
  ok = static_cast<bool>(in);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

KeyInfo InfoOf(const json& document) {
  KeyInfo info;
  info.scope = document.value("scope", "");
  info.mode = ModeOfScope(info.scope);
  info.current_version = document.value("current", int64_t{0});
  for (const auto& version : document.value("versions", json::array())) {
    info.versions.push_back({KeyId(info.scope, version.value("version", int64_t{0})),
                             version.value("created_at_ms", int64_t{0}),
                             version.value("master", "")});
  }
  return info;
}

Status MissingMasterKey() {
  return Status::FailedPrecondition(
             "a policy encrypts columns, but no master key is configured to protect their keys")
      .WithHint(
          "set MESHWORK_MASTER_KEY to 32 random bytes as 64 hex digits or base64 (e.g. "
          "`export MESHWORK_MASTER_KEY=$(openssl rand -hex 32)`), or MESHWORK_MASTER_KEY_FILE "
          "(setting master_key_file) to a file holding them; keep it outside the data folder, "
          "and keep it: without it no encrypted value can be read again");
}

}  // namespace

std::string_view EncryptionModeName(EncryptionMode mode) {
  return mode == EncryptionMode::kDeterministic ? "deterministic" : "randomized";
}

std::optional<EncryptionMode> ParseEncryptionMode(std::string_view name) {
  if (name == "randomized") return EncryptionMode::kRandomized;
  if (name == "deterministic") return EncryptionMode::kDeterministic;
  return std::nullopt;
}

std::map<std::string, EncryptionMode> EncryptedColumns(
    const std::map<std::string, std::string>& table_properties) {
  std::map<std::string, EncryptionMode> out;
  for (auto it = table_properties.lower_bound(std::string(kEncryptedPropertyPrefix));
       it != table_properties.end() && it->first.starts_with(kEncryptedPropertyPrefix); ++it) {
    // An unknown mode still marks the column: it is read through mesh_decrypt, which fails
    // closed on anything it cannot open.
    out[it->first.substr(kEncryptedPropertyPrefix.size())] =
        ParseEncryptionMode(it->second).value_or(EncryptionMode::kRandomized);
  }
  return out;
}

std::string EncryptedSummary(const std::map<std::string, std::string>& marks) {
  nlohmann::json columns = nlohmann::json::object();
  for (const auto& [key, mode] : marks)
    if (key.starts_with(kEncryptedPropertyPrefix))
      columns[key.substr(kEncryptedPropertyPrefix.size())] = mode;
  return columns.dump();
}

std::optional<std::map<std::string, EncryptionMode>> EncryptedColumnsOfSnapshot(
    const std::map<std::string, std::string>& summary) {
  const auto found = summary.find(std::string(kEncryptedSummaryKey));
  if (found == summary.end()) return std::nullopt;
  const nlohmann::json columns = nlohmann::json::parse(found->second, nullptr, false);
  if (!columns.is_object()) return std::nullopt;  // unreadable: the table properties decide
  std::map<std::string, EncryptionMode> out;
  for (const auto& [column, mode] : columns.items()) {
    out[column] = ParseEncryptionMode(mode.is_string() ? mode.get<std::string>() : "")
                      .value_or(EncryptionMode::kRandomized);
  }
  return out;
}

std::string DecryptingSelect(const std::string& sql,
                             const std::map<std::string, EncryptionMode>& encrypted,
                             const std::string& table) {
  if (encrypted.empty()) return sql;
  std::string replaced;
  for (const auto& [column, mode] : encrypted) {
    const std::string quoted = iceberg::QuoteIdentifier(column);
    replaced += fmt::format("{}mesh_decrypt({}, {}) AS {}", replaced.empty() ? "" : ", ", quoted,
                            iceberg::QuoteString("column " + column + " of " + table), quoted);
  }
  return "SELECT * REPLACE (" + replaced + ") FROM (" + sql + ") AS encrypted";
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), Bytes(bytes),
                                      static_cast<int>(bytes.size()));
  out.resize(written < 0 ? 0 : static_cast<size_t>(written));
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  size_t padding = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (c == '=') {
      // Padding only at the end, at most two.
      if (i + 2 < text.size()) return std::nullopt;
      ++padding;
    } else if (!alphabet || padding > 0) {
      return std::nullopt;
    }
  }
  std::string out(3 * (text.size() / 4), '\0');
  const int decoded = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), Bytes(text),
                                      static_cast<int>(text.size()));
  if (decoded < 0 || static_cast<size_t>(decoded) < padding) return std::nullopt;
  out.resize(static_cast<size_t>(decoded) - padding);
  return out;
}

Result<std::string> ParseMasterKey(std::string_view text, std::string_view origin) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  if (text.size() == 2 * kMasterKeyBytes &&
      text.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos) {
    std::string out;
    for (size_t i = 0; i < text.size(); i += 2)
      out += static_cast<char>(std::stoi(std::string(text.substr(i, 2)), nullptr, 16));
    return out;
  }
  if (auto decoded = Base64Decode(text); decoded && decoded->size() == kMasterKeyBytes) {
    return *decoded;
  }
  return Status::InvalidArgument(
             "the master key from {} is not 32 bytes written as 64 hex digits or base64 ({} "
             "characters given)",
             origin, text.size())
      .WithHint("generate one with `openssl rand -hex 32`");
}

std::string MasterKeyFingerprint(std::string_view master_key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  constexpr std::string_view kLabel = "meshwork master key fingerprint";
  HMAC(EVP_sha256(), master_key.data(), static_cast<int>(master_key.size()), Bytes(kLabel),
       kLabel.size(), digest, &length);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < 6 && i < length; ++i) {
    out += kDigits[digest[i] >> 4];
    out += kDigits[digest[i] & 0xf];
  }
  return out;
}

std::string WrapKey(std::string_view master_key, std::string_view key_id, std::string_view secret) {
  auto sealed = GcmSeal(master_key, key_id, secret);
  return sealed.ok() ? Base64Encode(*sealed) : std::string();
}

Result<std::string> UnwrapKey(std::string_view master_key, std::string_view key_id,
                              std::string_view wrapped) {
  auto sealed = Base64Decode(wrapped);
  std::string secret;
  if (!sealed || !GcmOpen(master_key, key_id, *sealed, secret)) {
    return Status::FailedPrecondition(
        "data key {} cannot be unwrapped with the configured master key", key_id);
  }
  return secret;
}

Result<std::string> EncryptValue(const DataKey& key, std::string_view clear) {
  if (clear.size() > (1u << 30)) {
    return Status::InvalidArgument("a value of {} bytes is too large to encrypt", clear.size());
  }
  auto sealed = key.mode == EncryptionMode::kDeterministic ? SivSeal(key.secret, key.id, clear)
                                                           : GcmSeal(key.secret, key.id, clear);
  if (!sealed.ok()) return sealed.error();
  return std::string(kCiphertextPrefix) + key.id + ":" + Base64Encode(*sealed);
}

Result<Ciphertext> ParseCiphertext(std::string_view text) {
  const auto refuse = [](std::string_view why) {
    return Status::InvalidArgument("the stored value is not a meshwork ciphertext: {}", why);
  };
  if (!text.starts_with(kCiphertextPrefix)) return refuse("it does not start with me1:");
  text.remove_prefix(kCiphertextPrefix.size());
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 200) {
    return refuse("it names no key");
  }
  Ciphertext out;
  out.key_id = std::string(text.substr(0, colon));
  for (const char c : out.key_id)
    if (!IsKeyIdCharacter(c)) return refuse("its key id holds characters no key id has");
  auto payload = Base64Decode(text.substr(colon + 1));
  if (!payload) return refuse("its payload is not base64");
  out.payload = std::move(*payload);
  return out;
}

Result<std::string> DecryptValue(const DataKey& key, const Ciphertext& ciphertext) {
  std::string clear;
  const bool opened = key.mode == EncryptionMode::kDeterministic
                          ? SivOpen(key.secret, key.id, ciphertext.payload, clear)
                          : GcmOpen(key.secret, key.id, ciphertext.payload, clear);
  if (!opened || ciphertext.key_id != key.id) {
    return Status::FailedPrecondition(
        "a value encrypted under key {} does not authenticate: it was altered, truncated or "
        "encrypted under another key",
        ciphertext.key_id);
  }
  return clear;
}

std::string KeyScope(EncryptionMode mode, const std::string& domain, const std::string& rule_id) {
  return mode == EncryptionMode::kDeterministic ? "det." + rule_id : "dom." + domain;
}

KeyStore::KeyStore(metastore::Metastore& metastore) : metastore_(metastore) {}

void KeyStore::SetMasterKey(std::string key, std::string origin) {
  std::lock_guard<std::mutex> lock(mutex_);
  master_key_ = std::move(key);
  master_origin_ = std::move(origin);
  master_resolved_ = true;
}

Result<std::string> KeyStore::MasterKey() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!master_resolved_) {
    if (const char* text = std::getenv("MESHWORK_MASTER_KEY"); text != nullptr && *text) {
      MW_ASSIGN_OR_RETURN(master_key_, ParseMasterKey(text, "MESHWORK_MASTER_KEY"));
      master_origin_ = "MESHWORK_MASTER_KEY";
    } else if (const char* file = std::getenv("MESHWORK_MASTER_KEY_FILE"); file && *file) {
      bool read = false;
      const std::string content = ReadWholeFile(file, read);
      if (!read) {
        return Status::IOError("cannot read the master key file {} (MESHWORK_MASTER_KEY_FILE)",
                               file)
            .WithHint("check the path and that meshwork may read it");
      }
      MW_ASSIGN_OR_RETURN(master_key_, ParseMasterKey(content, file));
      master_origin_ = file;
    }
    master_resolved_ = true;
  }
  if (master_key_.empty()) return MissingMasterKey();
  return master_key_;
}

std::string KeyStore::MasterKeyOrigin() {
  auto key = MasterKey();
  std::lock_guard<std::mutex> lock(mutex_);
  return key.ok() ? master_origin_ : std::string();
}

Result<std::shared_ptr<const DataKey>> KeyStore::Unwrap(const std::string& scope,
                                                        EncryptionMode mode, int64_t version,
                                                        const std::string& wrapped,
                                                        const std::string& fingerprint) {
  const std::string id = KeyId(scope, version);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto found = by_id_.find(id); found != by_id_.end()) return found->second;
  }
  MW_ASSIGN_OR_RETURN(std::string master, MasterKey());
  auto secret = UnwrapKey(master, id, wrapped);
  if (!secret.ok()) {
    const std::string ours = MasterKeyFingerprint(master);
    std::string origin;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      origin = master_origin_;
    }
    if (!fingerprint.empty() && fingerprint != ours) {
      return Status::FailedPrecondition(
                 "data key {} was wrapped by the master key with fingerprint {}, but the "
                 "configured one (from {}) has fingerprint {}",
                 id, fingerprint, origin, ours)
          .WithHint(
              "configure the master key this mesh's keys are wrapped with (after `meshwork key "
              "rewrap`, the new one)");
    }
    return Status::FailedPrecondition(
               "the stored data key {} is damaged: its wrapping does not verify", id)
        .WithHint("restore the metastore's governance/keys documents from a backup");
  }
  const size_t expected = mode == EncryptionMode::kDeterministic ? kSivKeyBytes : kGcmKeyBytes;
  if (secret->size() != expected) {
    return Status::FailedPrecondition("the stored data key {} has {} bytes instead of {}", id,
                                      secret->size(), expected);
  }
  auto key = std::make_shared<const DataKey>(DataKey{id, mode, std::move(*secret)});
  std::lock_guard<std::mutex> lock(mutex_);
  by_id_[id] = key;
  return key;
}

Result<std::shared_ptr<const DataKey>> KeyStore::CurrentKey(const std::string& scope,
                                                            EncryptionMode mode) {
  if (ModeOfScope(scope) != mode) {
    return Status::Internal("key scope {} does not hold {} keys", scope, EncryptionModeName(mode));
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = current_.find(scope);
    if (found != current_.end() && time::NowMillis() - found->second.read_at_ms < kCurrentKeyMillis)
      return found->second.key;
  }
  const std::string document_key = std::string(kKeyPrefix) + scope;
  for (int attempt = 0; attempt < 3; ++attempt) {
    MW_ASSIGN_OR_RETURN(auto stored,
                        metastore_.LoadDocument(std::string(kCollection), document_key));
    if (!stored) {
      // The first write of a scope creates its key.
      MW_ASSIGN_OR_RETURN(std::string master, MasterKey());
      const std::string secret =
          RandomBytes(mode == EncryptionMode::kDeterministic ? kSivKeyBytes : kGcmKeyBytes);
      if (secret.empty()) return Status::Internal("OpenSSL could not generate a data key");
      const std::string wrapped = WrapKey(master, KeyId(scope, 1), secret);
      if (wrapped.empty()) return Status::Internal("OpenSSL could not wrap a data key");
      const json document = {{"scope", scope},
                             {"mode", EncryptionModeName(mode)},
                             {"current", 1},
                             {"versions",
                              {{{"version", 1},
                                {"wrapped", wrapped},
                                {"master", MasterKeyFingerprint(master)},
                                {"created_at_ms", time::NowMillis()}}}}};
      Status written =
          metastore_.WriteDocuments({"meshwork", "governance"},
                                    {{std::string(kCollection), document_key, document.dump(), 0}},
                                    "create", "data_key", KeyId(scope, 1));
      // Another writer may have created it first: read the winner.
      if (!written.ok() && written.code() != StatusCode::kConflict &&
          written.code() != StatusCode::kAlreadyExists) {
        return written;
      }
      continue;
    }
    const json document = json::parse(stored->body, nullptr, false);
    if (!document.is_object()) {
      return Status::FailedPrecondition("the stored data key document of {} is not JSON", scope);
    }
    const int64_t current = document.value("current", int64_t{0});
    for (const auto& version : document.value("versions", json::array())) {
      if (version.value("version", int64_t{0}) != current) continue;
      MW_ASSIGN_OR_RETURN(auto key, Unwrap(scope, mode, current, version.value("wrapped", ""),
                                           version.value("master", "")));
      std::lock_guard<std::mutex> lock(mutex_);
      current_[scope] = {key, time::NowMillis()};
      return key;
    }
    return Status::FailedPrecondition("the data key document of {} has no version {}", scope,
                                      current);
  }
  return Status::Conflict("the data key of {} could not be created (concurrent writers)", scope)
      .WithHint("retry");
}

Result<std::shared_ptr<const DataKey>> KeyStore::KeyById(const std::string& id) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto found = by_id_.find(id); found != by_id_.end()) return found->second;
  }
  std::string scope;
  int64_t version = 0;
  if (!SplitKeyId(id, scope, version)) {
    return Status::InvalidArgument("'{}' is not a meshwork key id", id);
  }
  MW_ASSIGN_OR_RETURN(auto stored, metastore_.LoadDocument(std::string(kCollection),
                                                           std::string(kKeyPrefix) + scope));
  if (!stored) {
    return Status::NotFound("no data key {} in this mesh's key store", id)
        .WithHint(
            "the value was encrypted by another mesh, or the metastore lost its "
            "governance/keys documents");
  }
  const json document = json::parse(stored->body, nullptr, false);
  if (!document.is_object()) {
    return Status::FailedPrecondition("the stored data key document of {} is not JSON", scope);
  }
  for (const auto& entry : document.value("versions", json::array())) {
    if (entry.value("version", int64_t{0}) != version) continue;
    return Unwrap(scope, ModeOfScope(scope), version, entry.value("wrapped", ""),
                  entry.value("master", ""));
  }
  return Status::NotFound("the key store holds no version {} of key {}", version, scope);
}

Result<std::string> KeyStore::Decrypt(std::string_view text) {
  MW_ASSIGN_OR_RETURN(Ciphertext ciphertext, ParseCiphertext(text));
  MW_ASSIGN_OR_RETURN(auto key, KeyById(ciphertext.key_id));
  return DecryptValue(*key, ciphertext);
}

Result<std::vector<KeyInfo>> KeyStore::List() {
  MW_ASSIGN_OR_RETURN(auto documents,
                      metastore_.ListDocuments(std::string(kCollection), std::string(kKeyPrefix)));
  std::vector<KeyInfo> out;
  for (const auto& document : documents) {
    const json body = json::parse(document.body, nullptr, false);
    if (body.is_object()) out.push_back(InfoOf(body));
  }
  return out;
}

Result<std::vector<KeyInfo>> KeyStore::Rotate(const metastore::Actor& actor,
                                              const std::string& scope_pattern) {
  MW_ASSIGN_OR_RETURN(std::string master, MasterKey());
  MW_ASSIGN_OR_RETURN(auto documents,
                      metastore_.ListDocuments(std::string(kCollection), std::string(kKeyPrefix)));
  std::vector<KeyInfo> out;
  for (const auto& stored : documents) {
    json document = json::parse(stored.body, nullptr, false);
    if (!document.is_object()) continue;
    const std::string scope = document.value("scope", "");
    if (!scope_pattern.empty() && !GlobMatch(scope_pattern, scope)) continue;
    const EncryptionMode mode = ModeOfScope(scope);
    const int64_t next = document.value("current", int64_t{0}) + 1;
    const std::string secret =
        RandomBytes(mode == EncryptionMode::kDeterministic ? kSivKeyBytes : kGcmKeyBytes);
    const std::string wrapped = secret.empty() ? "" : WrapKey(master, KeyId(scope, next), secret);
    if (wrapped.empty()) return Status::Internal("OpenSSL could not generate a data key");
    document["versions"].push_back({{"version", next},
                                    {"wrapped", wrapped},
                                    {"master", MasterKeyFingerprint(master)},
                                    {"created_at_ms", time::NowMillis()}});
    document["current"] = next;
    MW_RETURN_IF_ERROR(metastore_.WriteDocuments(
        actor, {{std::string(kCollection), stored.key, document.dump(), stored.version}}, "rotate",
        "data_key", KeyId(scope, next)));
    out.push_back(InfoOf(document));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  current_.clear();
  return out;
}

Result<int64_t> KeyStore::Rewrap(const metastore::Actor& actor, const std::string& new_master_key) {
  MW_ASSIGN_OR_RETURN(std::string master, MasterKey());
  MW_ASSIGN_OR_RETURN(auto documents,
                      metastore_.ListDocuments(std::string(kCollection), std::string(kKeyPrefix)));
  std::vector<metastore::DocumentWrite> writes;
  int64_t rewrapped = 0;
  const std::string fingerprint = MasterKeyFingerprint(new_master_key);
  for (const auto& stored : documents) {
    json document = json::parse(stored.body, nullptr, false);
    if (!document.is_object()) continue;
    const std::string scope = document.value("scope", "");
    for (auto& version : document["versions"]) {
      const std::string id = KeyId(scope, version.value("version", int64_t{0}));
      // Every key must open under the old master key before any is replaced: all or nothing.
      auto secret = UnwrapKey(master, id, version.value("wrapped", ""));
      if (!secret.ok()) {
        return Status::FailedPrecondition(
                   "cannot re-wrap: data key {} does not open with the configured master key", id)
            .WithHint("configure the master key the keys are wrapped with now, then re-wrap");
      }
      version["wrapped"] = WrapKey(new_master_key, id, *secret);
      version["master"] = fingerprint;
      ++rewrapped;
    }
    writes.push_back({std::string(kCollection), stored.key, document.dump(), stored.version});
  }
  if (!writes.empty()) {
    MW_RETURN_IF_ERROR(metastore_.WriteDocuments(actor, writes, "rewrap", "data_keys",
                                                 fmt::format("{} keys", writes.size())));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  master_key_ = new_master_key;
  master_origin_ = "the new master key";
  master_resolved_ = true;
  return rewrapped;
}

}  // namespace meshwork::governance
