#pragma once
// Value-by-value encryption of sensitive columns (policy check kind `encrypt`): the primitives
// (AES-256-GCM, AES-256-SIV through OpenSSL 3), the ciphertext format and the key store.
//
// Key hierarchy:
//   master key   32 bytes from MESHWORK_MASTER_KEY (base64 or hex), MESHWORK_MASTER_KEY_FILE or
//                the master_key / master_key_file settings; never stored by meshwork
//   data keys    random, per scope and version; stored in the metastore only wrapped by the
//                master key (AES-256-GCM, the key id as associated data)
//                  dom.<domain>.vN   randomized (AES-256-GCM, 32 bytes): one per domain
//                  det.<rule>.vN     deterministic (AES-256-SIV, 64 bytes): one per encrypt rule,
//                                    mesh-wide, so equal values of every domain in its scope
//                                    encrypt equally and still join
// A value is stored as `me1:<key id>:<base64>`: the key id says which key (and version) opens
// it, so rotation adds a version for new writes while every older one stays readable, and
// re-wrapping under a new master key changes no data file.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "metastore/metastore.h"

namespace meshwork::governance {

enum class EncryptionMode { kRandomized, kDeterministic };
std::string_view EncryptionModeName(EncryptionMode mode);
std::optional<EncryptionMode> ParseEncryptionMode(std::string_view name);

/// Iceberg table property marking an encrypted column: meshwork.encrypted.<column> = <mode>.
/// Written by the deploy before the data it describes is committed, so a reader never takes
/// ciphertext for data (a column marked but not encrypted fails closed instead).
inline constexpr std::string_view kEncryptedPropertyPrefix = "meshwork.encrypted.";
/// column → mode, from a table's properties.
std::map<std::string, EncryptionMode> EncryptedColumns(
    const std::map<std::string, std::string>& table_properties);
/// Snapshot summary key recording which columns that snapshot's files hold encrypted (a JSON
/// object column → mode; {} for none), so that time travel reads each snapshot as written even
/// after the council's encrypt rules changed.
inline constexpr std::string_view kEncryptedSummaryKey = "meshwork.encrypted-columns";
/// The summary value for `marks` (table properties meshwork.encrypted.<column> → mode).
std::string EncryptedSummary(const std::map<std::string, std::string>& marks);
/// column → mode from a snapshot's summary; nullopt when the snapshot does not say (written
/// before snapshots recorded it, or by another engine): then the table properties apply.
std::optional<std::map<std::string, EncryptionMode>> EncryptedColumnsOfSnapshot(
    const std::map<std::string, std::string>& summary);
/// `sql` with every column of `encrypted` decrypted by mesh_decrypt (the same column names);
/// `sql` itself when nothing is encrypted. `table` names the values in errors.
std::string DecryptingSelect(const std::string& sql,
                             const std::map<std::string, EncryptionMode>& encrypted,
                             const std::string& table);

std::string Base64Encode(std::string_view bytes);
/// Standard alphabet with padding; nullopt for anything else.
std::optional<std::string> Base64Decode(std::string_view text);

/// 32 bytes written as 64 hex digits or base64; `origin` names where the text came from.
Result<std::string> ParseMasterKey(std::string_view text, std::string_view origin);
/// A short public fingerprint of a master key (to tell which key wrapped what).
std::string MasterKeyFingerprint(std::string_view master_key);

/// AES-256-GCM key wrap: base64(nonce ‖ ciphertext ‖ tag), `key_id` bound as associated data.
std::string WrapKey(std::string_view master_key, std::string_view key_id, std::string_view secret);
Result<std::string> UnwrapKey(std::string_view master_key, std::string_view key_id,
                              std::string_view wrapped);

struct DataKey {
  std::string id;  // dom.customers.v1
  EncryptionMode mode = EncryptionMode::kRandomized;
  std::string secret;  // 32 bytes (randomized) or 64 (deterministic)
};

/// `me1:<id>:<base64>`; randomized: a fresh nonce per value, deterministic: equal in, equal out.
Result<std::string> EncryptValue(const DataKey& key, std::string_view clear);

struct Ciphertext {
  std::string key_id;
  std::string payload;  // the decoded bytes after the key id
};
/// Splits a stored value; InvalidArgument (never the value itself) when it is no ciphertext.
Result<Ciphertext> ParseCiphertext(std::string_view text);
/// FailedPrecondition when the value was altered or `key` is not the one that encrypted it.
Result<std::string> DecryptValue(const DataKey& key, const Ciphertext& ciphertext);

struct KeyVersionInfo {
  std::string id;
  int64_t created_at_ms = 0;
  std::string master_fingerprint;
};
struct KeyInfo {
  std::string scope;  // dom.customers | det.email-join
  EncryptionMode mode = EncryptionMode::kRandomized;
  int64_t current_version = 0;
  std::vector<KeyVersionInfo> versions;
};

/// The mesh's data keys, in the metastore (collection `governance`, keys `keys/<scope>`), only
/// ever wrapped. Thread-safe; unwrapped keys are cached in memory.
class KeyStore {
 public:
  explicit KeyStore(metastore::Metastore& metastore);

  /// The master key to use instead of the environment's (the master_key settings).
  void SetMasterKey(std::string key, std::string origin);
  /// Where the master key comes from ("MESHWORK_MASTER_KEY"), empty when none is configured.
  std::string MasterKeyOrigin();
  /// OK when a valid master key is configured; otherwise the error saying how to set one.
  Status CheckMasterKey() { return MasterKey().status(); }

  /// The key new values of `scope` are written with; its first version is created on demand.
  Result<std::shared_ptr<const DataKey>> CurrentKey(const std::string& scope, EncryptionMode mode);
  /// The key (any version) a ciphertext names.
  Result<std::shared_ptr<const DataKey>> KeyById(const std::string& id);
  /// Decrypts one stored value; the error says why without showing the value.
  Result<std::string> Decrypt(std::string_view text);

  Result<std::vector<KeyInfo>> List();
  /// A new version for every scope matching `scope_pattern` (glob; empty: all); new writes use
  /// it, older versions stay readable.
  Result<std::vector<KeyInfo>> Rotate(const metastore::Actor& actor,
                                      const std::string& scope_pattern);
  /// Every version of every key re-wrapped under `new_master_key` (which this store then uses);
  /// the data stays as it is. Returns how many versions were re-wrapped.
  Result<int64_t> Rewrap(const metastore::Actor& actor, const std::string& new_master_key);

 private:
  Result<std::string> MasterKey();
  Result<std::shared_ptr<const DataKey>> Unwrap(const std::string& scope, EncryptionMode mode,
                                                int64_t version, const std::string& wrapped,
                                                const std::string& fingerprint);

  metastore::Metastore& metastore_;
  std::mutex mutex_;
  std::string master_key_;
  std::string master_origin_;
  bool master_resolved_ = false;
  std::map<std::string, std::shared_ptr<const DataKey>> by_id_;
  struct Current {
    std::shared_ptr<const DataKey> key;
    int64_t read_at_ms = 0;
  };
  std::map<std::string, Current> current_;
};

/// The key scope of an encrypt rule's values in a domain.
std::string KeyScope(EncryptionMode mode, const std::string& domain, const std::string& rule_id);

}  // namespace meshwork::governance
