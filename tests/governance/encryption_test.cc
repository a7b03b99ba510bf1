// Encryption of sensitive columns: the primitives (round trips, tampering, wrong keys, garbage),
// the key store (wrapping, rotation, re-wrapping, missing or wrong master keys) and the SQL
// functions the deploy and the query engine use.
#include "governance/encryption.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>

#include "engine/database.h"
#include "governance/governance.h"
#include "governance/policy.h"
#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork::governance {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const std::string kMaster(32, '\x11');
const std::string kOtherMaster(32, '\x22');

DataKey Randomized() {
  return {"dom.customers.v1", EncryptionMode::kRandomized, std::string(32, 'k')};
}
DataKey Deterministic() {
  return {"det.email-join.v1", EncryptionMode::kDeterministic, std::string(64, 's')};
}

// Flips one bit of the decoded payload and encodes it again.
std::string Tampered(const std::string& ciphertext, size_t byte) {
  auto parts = *ParseCiphertext(ciphertext);
  parts.payload[byte % parts.payload.size()] ^= 0x01;
  return "me1:" + parts.key_id + ":" + Base64Encode(parts.payload);
}

TEST(EncryptionTest, RoundTripsEveryModeIncludingEmptyAndBinaryValues) {
  for (const DataKey& key : {Randomized(), Deterministic()}) {
    for (const std::string& clear :
         {std::string(), std::string("a"), std::string("anna.meyer.1@example.com"),
          std::string("Chloé Dubois"), std::string("nul\0byte", 8), std::string(100000, 'x')}) {
      ASSERT_OK_AND_ASSIGN(std::string sealed, EncryptValue(key, clear));
      EXPECT_THAT(sealed, StartsWith("me1:" + key.id + ":"));
      if (clear.size() > 8) {  // short strings may occur in base64 by chance
        EXPECT_EQ(sealed.find(clear), std::string::npos);
      }
      ASSERT_OK_AND_ASSIGN(auto parsed, ParseCiphertext(sealed));
      EXPECT_EQ(parsed.key_id, key.id);
      ASSERT_OK_AND_ASSIGN(std::string opened, DecryptValue(key, parsed));
      EXPECT_EQ(opened, clear);
    }
  }
}

TEST(EncryptionTest, RandomizedDiffersEveryTimeDeterministicNever) {
  const auto a1 = *EncryptValue(Randomized(), "anna@example.com");
  const auto a2 = *EncryptValue(Randomized(), "anna@example.com");
  EXPECT_NE(a1, a2);
  const auto d1 = *EncryptValue(Deterministic(), "anna@example.com");
  const auto d2 = *EncryptValue(Deterministic(), "anna@example.com");
  const auto other = *EncryptValue(Deterministic(), "ben@example.com");
  EXPECT_EQ(d1, d2);
  EXPECT_NE(d1, other);
}

TEST(EncryptionTest, TamperingAndWrongKeysAreDetected) {
  for (const DataKey& key : {Randomized(), Deterministic()}) {
    const std::string sealed = *EncryptValue(key, "anna@example.com");
    const size_t payload = ParseCiphertext(sealed)->payload.size();
    for (size_t byte : {size_t{0}, size_t{5}, size_t{13}, payload - 1}) {
      EXPECT_THAT(DecryptValue(key, *ParseCiphertext(Tampered(sealed, byte))),
                  IsError(StatusCode::kFailedPrecondition, "does not authenticate"))
          << byte;
    }
    DataKey wrong = key;
    wrong.secret[0] ^= 0x40;
    EXPECT_THAT(DecryptValue(wrong, *ParseCiphertext(sealed)),
                IsError(StatusCode::kFailedPrecondition, "another key"));
    // The key id is bound to the value: moving it under another id does not open.
    DataKey renamed = key;
    renamed.id = key.id.substr(0, key.id.size() - 1) + "2";
    auto parsed = *ParseCiphertext(sealed);
    parsed.key_id = renamed.id;
    EXPECT_THAT(DecryptValue(renamed, parsed), IsError(StatusCode::kFailedPrecondition));
    // Truncated payloads.
    auto truncated = *ParseCiphertext(sealed);
    truncated.payload.resize(truncated.payload.size() / 2);
    EXPECT_THAT(DecryptValue(key, truncated), IsError(StatusCode::kFailedPrecondition));
    truncated.payload.clear();
    EXPECT_THAT(DecryptValue(key, truncated), IsError(StatusCode::kFailedPrecondition));
  }
}

TEST(EncryptionTest, GarbageIsNoCiphertextAndTheErrorNeverEchoesIt) {
  for (const std::string& garbage :
       {std::string(), std::string("anna@example.com"), std::string("me1:"),
        std::string("me1::AAAA"), std::string("me1:dom.x.v1"), std::string("me1:dom.x.v1:%%%"),
        std::string("me1:DOM X:AAAA"), std::string("me1:dom.x.v1:AAA"),
        std::string("me1:dom.x.v1:A===")}) {
    auto parsed = ParseCiphertext(garbage);
    ASSERT_FALSE(parsed.ok()) << garbage;
    EXPECT_EQ(parsed.error().code(), StatusCode::kInvalidArgument);
    if (garbage.size() > 5) {
      EXPECT_THAT(parsed.error().message(), Not(HasSubstr(garbage)));
    }
  }
}

TEST(EncryptionTest, Base64AndMasterKeyParsing) {
  for (const std::string& bytes :
       {std::string(), std::string("f"), std::string("fo"), std::string("foo"), std::string("foob"),
        std::string(64, '\xff')}) {
    EXPECT_EQ(Base64Decode(Base64Encode(bytes)), bytes);
  }
  EXPECT_FALSE(Base64Decode("Zm9v=").has_value());
  EXPECT_FALSE(Base64Decode("Zm=v").has_value());
  EXPECT_FALSE(Base64Decode("Zm9v\n").has_value());
  ASSERT_OK_AND_ASSIGN(auto hex, ParseMasterKey(std::string(64, 'a') + "\n", "test"));
  EXPECT_EQ(hex, std::string(32, '\xaa'));
  ASSERT_OK_AND_ASSIGN(auto base64, ParseMasterKey(Base64Encode(kMaster), "test"));
  EXPECT_EQ(base64, kMaster);
  EXPECT_THAT(ParseMasterKey("short", "MESHWORK_MASTER_KEY"),
              IsError(StatusCode::kInvalidArgument, "MESHWORK_MASTER_KEY"));
  EXPECT_THAT(ParseMasterKey(std::string(63, 'a'), "x"), IsError(StatusCode::kInvalidArgument));
  EXPECT_NE(MasterKeyFingerprint(kMaster), MasterKeyFingerprint(kOtherMaster));
}

TEST(EncryptionTest, KeyWrapBindsTheKeyId) {
  const std::string wrapped = WrapKey(kMaster, "dom.a.v1", std::string(32, 'k'));
  ASSERT_OK_AND_ASSIGN(auto secret, UnwrapKey(kMaster, "dom.a.v1", wrapped));
  EXPECT_EQ(secret, std::string(32, 'k'));
  EXPECT_THAT(UnwrapKey(kMaster, "dom.b.v1", wrapped), IsError(StatusCode::kFailedPrecondition));
  EXPECT_THAT(UnwrapKey(kOtherMaster, "dom.a.v1", wrapped),
              IsError(StatusCode::kFailedPrecondition));
  EXPECT_THAT(UnwrapKey(kMaster, "dom.a.v1", "garbage"), IsError(StatusCode::kFailedPrecondition));
}

TEST(EncryptionTest, TablePropertiesAndTheDecryptingSelect) {
  const auto columns = EncryptedColumns({{"meshwork.encrypted.email", "deterministic"},
                                         {"meshwork.encrypted.name", "randomized"},
                                         {"meshwork.product", "customers.customers"},
                                         {"owner", "x"}});
  ASSERT_EQ(columns.size(), 2u);
  EXPECT_EQ(columns.at("email"), EncryptionMode::kDeterministic);
  EXPECT_EQ(DecryptingSelect("SELECT 1", {}, "t"), "SELECT 1");
  EXPECT_THAT(DecryptingSelect("SELECT * FROM x", columns, "customers.customers"),
              HasSubstr("mesh_decrypt(\"email\", 'column email of customers.customers') AS "
                        "\"email\""));
}

class KeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("MESHWORK_MASTER_KEY");
    ::unsetenv("MESHWORK_MASTER_KEY_FILE");
    ASSERT_OK_AND_ASSIGN(metastore_, metastore::Metastore::Open(
                                         {.url = (scratch_.path() / "meshwork.db").string()}));
  }
  testing::ScratchDir scratch_{"keys"};
  std::unique_ptr<metastore::Metastore> metastore_;
  const metastore::Actor actor_{"root", "test"};
};

TEST_F(KeyStoreTest, KeysAreStoredOnlyWrappedAndSurviveARestart) {
  std::string sealed;
  {
    KeyStore keys(*metastore_);
    keys.SetMasterKey(kMaster, "test");
    ASSERT_OK_AND_ASSIGN(auto key, keys.CurrentKey("dom.customers", EncryptionMode::kRandomized));
    EXPECT_EQ(key->id, "dom.customers.v1");
    ASSERT_OK_AND_ASSIGN(sealed, EncryptValue(*key, "anna@example.com"));
    ASSERT_OK_AND_ASSIGN(auto stored, metastore_->LoadDocument("governance", "keys/dom.customers"));
    ASSERT_TRUE(stored.has_value());
    EXPECT_EQ(stored->body.find(Base64Encode(key->secret)), std::string::npos);
    EXPECT_THAT(stored->body, HasSubstr(MasterKeyFingerprint(kMaster)));
  }
  KeyStore restarted(*metastore_);
  restarted.SetMasterKey(kMaster, "test");
  ASSERT_OK_AND_ASSIGN(auto opened, restarted.Decrypt(sealed));
  EXPECT_EQ(opened, "anna@example.com");
}

TEST_F(KeyStoreTest, MissingOrWrongMasterKeysSayWhatToDo) {
  KeyStore without(*metastore_);
  EXPECT_THAT(without.CurrentKey("dom.customers", EncryptionMode::kRandomized),
              IsError(StatusCode::kFailedPrecondition, "no master key is configured"));
  EXPECT_THAT(without.CheckMasterKey().hint(), HasSubstr("MESHWORK_MASTER_KEY"));

  KeyStore right(*metastore_);
  right.SetMasterKey(kMaster, "test");
  const std::string sealed = *EncryptValue(
      **right.CurrentKey("dom.customers", EncryptionMode::kRandomized), "anna@example.com");

  KeyStore wrong(*metastore_);
  wrong.SetMasterKey(kOtherMaster, "MESHWORK_MASTER_KEY");
  auto refused = wrong.Decrypt(sealed);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.error().message(), HasSubstr(MasterKeyFingerprint(kMaster)));
  EXPECT_THAT(refused.error().message(), HasSubstr("MESHWORK_MASTER_KEY"));

  // From the environment, as servers get it; a malformed one is named.
  ::setenv("MESHWORK_MASTER_KEY", "not-a-key", 1);
  KeyStore malformed(*metastore_);
  EXPECT_THAT(malformed.Decrypt(sealed),
              IsError(StatusCode::kInvalidArgument, "MESHWORK_MASTER_KEY"));
  ::setenv("MESHWORK_MASTER_KEY", Base64Encode(kMaster).c_str(), 1);
  KeyStore from_environment(*metastore_);
  EXPECT_THAT(from_environment.Decrypt(sealed), IsOkAndHolds(std::string("anna@example.com")));
  ::unsetenv("MESHWORK_MASTER_KEY");

  // Values of keys that do not exist, or whose version does not.
  EXPECT_THAT(right.Decrypt("me1:dom.nowhere.v1:AAAA"), IsError(StatusCode::kNotFound));
  EXPECT_THAT(right.Decrypt("me1:dom.customers.v7:AAAA"), IsError(StatusCode::kNotFound));
  EXPECT_THAT(right.Decrypt("me1:nonsense:AAAA"), IsError(StatusCode::kInvalidArgument));
}

TEST_F(KeyStoreTest, RotationKeepsOldValuesReadableAndRewrapChangesNoData) {
  KeyStore keys(*metastore_);
  keys.SetMasterKey(kMaster, "test");
  const std::string old_value = *EncryptValue(
      **keys.CurrentKey("dom.customers", EncryptionMode::kRandomized), "anna@example.com");
  const std::string old_det = *EncryptValue(
      **keys.CurrentKey("det.email-join", EncryptionMode::kDeterministic), "anna@example.com");
  ASSERT_OK_AND_ASSIGN(auto rotated, keys.Rotate(actor_, "dom.*"));
  ASSERT_EQ(rotated.size(), 1u);
  EXPECT_EQ(rotated[0].current_version, 2);
  ASSERT_OK_AND_ASSIGN(auto current, keys.CurrentKey("dom.customers", EncryptionMode::kRandomized));
  EXPECT_EQ(current->id, "dom.customers.v2");
  const std::string new_value = *EncryptValue(*current, "ben@example.com");
  // The deterministic key was not rotated.
  EXPECT_EQ((*keys.CurrentKey("det.email-join", EncryptionMode::kDeterministic))->id,
            "det.email-join.v1");

  // Re-wrap under a new master key: the data keys (and so every value) stay the same.
  ASSERT_OK_AND_ASSIGN(int64_t rewrapped, keys.Rewrap(actor_, kOtherMaster));
  EXPECT_EQ(rewrapped, 3);
  KeyStore after(*metastore_);
  after.SetMasterKey(kOtherMaster, "test");
  EXPECT_THAT(after.Decrypt(old_value), IsOkAndHolds(std::string("anna@example.com")));
  EXPECT_THAT(after.Decrypt(new_value), IsOkAndHolds(std::string("ben@example.com")));
  EXPECT_THAT(after.Decrypt(old_det), IsOkAndHolds(std::string("anna@example.com")));
  KeyStore stale(*metastore_);
  stale.SetMasterKey(kMaster, "the old key");
  EXPECT_THAT(stale.Decrypt(old_value), IsError(StatusCode::kFailedPrecondition, "fingerprint"));
  EXPECT_THAT(stale.Rewrap(actor_, kMaster), IsError(StatusCode::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(auto listed, after.List());
  EXPECT_EQ(listed.size(), 2u);
}

TEST(EncryptPolicyTest, ParsesModesAndRefusesWhatCannotWork) {
  ASSERT_OK_AND_ASSIGN(auto policy, ParsePolicy(R"yaml(
kind: Policy
name: crypt
rules:
  - id: emails
    description: E-mails join across domains
    scope: {classifications: [pii.email]}
    check: {kind: encrypt, mode: deterministic}
  - id: pii
    description: The rest of personal data
    scope: {classifications: ["pii.*"]}
    check: {kind: encrypt}
)yaml",
                                                "crypt.yaml"));
  ASSERT_EQ(policy.rules.size(), 2u);
  EXPECT_EQ(policy.rules[0].kind, CheckKind::kEncrypt);
  EXPECT_TRUE(policy.rules[0].deterministic);
  EXPECT_FALSE(policy.rules[1].deterministic);
  EXPECT_THAT(ParsePolicy("kind: Policy\nname: x\nrules:\n  - id: a\n    description: d\n"
                          "    scope: {classifications: [pii.*]}\n"
                          "    check: {kind: encrypt, mode: rot13}\n",
                          "bad.yaml"),
              IsError(StatusCode::kInvalidArgument, "bad.yaml:7:34"));
  EXPECT_THAT(ParsePolicy("kind: Policy\nname: x\nrules:\n  - id: a\n    description: d\n"
                          "    check: {kind: encrypt}\n",
                          "bad.yaml"),
              IsError(StatusCode::kInvalidArgument, "selects no columns"));
  EXPECT_THAT(ParsePolicy("kind: Policy\nname: x\nrules:\n  - id: a\n    description: d\n"
                          "    scope: {classifications: [pii.*]}\n"
                          "    check: {kind: mask, mask: redact, mode: deterministic}\n",
                          "bad.yaml"),
              IsError(StatusCode::kInvalidArgument, "belongs to encrypt checks"));
}

TEST(EncryptSqlTest, FunctionsRoundTripInSqlAndFailClosed) {
  testing::ScratchDir scratch("crypt_sql");
  ::setenv("MESHWORK_MASTER_KEY", std::string(64, '7').c_str(), 1);
  auto metastore = *metastore::Metastore::Open({.url = (scratch.path() / "meshwork.db").string()});
  auto catalog = std::move(*catalog::Catalog::Open(
      *metastore, {.warehouse_root = (scratch.path() / "warehouse").string()}));
  Governance governance(*catalog);
  auto database = *engine::Database::Open({.threads = 2});
  auto connection = *database.Connect();
  ASSERT_OK(governance.RegisterFunctions(connection));
  ASSERT_OK_AND_ASSIGN(
      auto rows,
      connection.QueryText(
          "WITH clear AS (SELECT 'user' || (i % 50) || '@example.com' AS email FROM range(5000) "
          "t(i)), sealed AS (SELECT email, mesh_encrypt(email, 'dom.crm') AS r, "
          "mesh_encrypt(email, 'det.join') AS d FROM clear) SELECT "
          "count(*) FILTER (WHERE mesh_decrypt(r, 'r') = email AND mesh_decrypt(d, 'd') = email), "
          "count(DISTINCT r), count(DISTINCT d), count(*) FILTER (WHERE r LIKE "
          "'me1:dom.crm.v1:%'), "
          "count(mesh_encrypt(NULL, 'dom.crm')) FROM sealed"));
  EXPECT_EQ(rows.at(0), (std::vector<std::string>{"5000", "5000", "50", "5000", "0"}));
  // A value that is no ciphertext stops the query; the message names where, not the value.
  ASSERT_OK(connection.Execute("CREATE TABLE stolen AS SELECT 'anna@example.com' AS email"));
  auto refused = connection.QueryText(
      "SELECT mesh_decrypt(email, 'column email of customers.customers') FROM stolen");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message(), HasSubstr("column email of customers.customers"));
  EXPECT_THAT(refused.error().message(), Not(HasSubstr("anna@example.com")));
  ::unsetenv("MESHWORK_MASTER_KEY");
}

// Not run by default: how fast the SQL functions are (run with
// --gtest_also_run_disabled_tests --gtest_filter='*Throughput*').
TEST(EncryptSqlTest, DISABLED_Throughput) {
  testing::ScratchDir scratch("crypt_speed");
  ::setenv("MESHWORK_MASTER_KEY", std::string(64, '7').c_str(), 1);
  auto metastore = *metastore::Metastore::Open({.url = (scratch.path() / "meshwork.db").string()});
  auto catalog = std::move(*catalog::Catalog::Open(
      *metastore, {.warehouse_root = (scratch.path() / "warehouse").string()}));
  Governance governance(*catalog);
  auto database = *engine::Database::Open({.threads = 2});
  auto connection = *database.Connect();
  ASSERT_OK(governance.RegisterFunctions(connection));
  constexpr int kRows = 1000000;
  ASSERT_OK(connection.Execute(fmt::format(
      "CREATE TABLE clear AS SELECT 'user' || i || '@example.com' AS email FROM range({}) t(i)",
      kRows)));
  const auto timed = [&](const std::string& sql) {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_OK(connection.Execute(sql));
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const double baseline = timed("CREATE TABLE copied AS SELECT upper(email) AS e FROM clear");
  for (const std::string scope : {"dom.crm", "det.join"}) {
    const double encrypt =
        timed(fmt::format("CREATE OR REPLACE TABLE sealed AS SELECT mesh_encrypt(email, '{}') AS e "
                          "FROM clear",
                          scope));
    const double decrypt =
        timed("CREATE OR REPLACE TABLE opened AS SELECT mesh_decrypt(e, 'x') AS e FROM sealed");
    std::printf(
        "%s: %d values, encrypt %.2f s (%.0f k/s), decrypt %.2f s (%.0f k/s); "
        "upper() baseline %.2f s\n",
        scope.c_str(), kRows, encrypt, kRows / encrypt / 1000, decrypt, kRows / decrypt / 1000,
        baseline);
  }
  ::unsetenv("MESHWORK_MASTER_KEY");
}

}  // namespace
}  // namespace meshwork::governance
