// Layered configuration: defaults, then a YAML file, then MESHWORK_* environment variables, then
// command-line flags; the last layer that sets a key wins. The set of keys is declared up front
// (the composition root in src/cli declares meshwork's), so a typo in any layer is an error that
// says where it is, instead of a silently ignored setting.
//
//   # meshwork.yaml                       environment                     flag
//   http:                                 MESHWORK_HTTP_ADDRESS=…         --http …
//     address: 127.0.0.1:8181
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace meshwork::config {

enum class SettingType { kString, kInt, kBool };

struct SettingSpec {
  std::string key;  // dotted, lower snake_case: "http.address", "engine.memory_limit"
  SettingType type = SettingType::kString;
  std::string default_value;  // empty = unset
  std::string description;
  bool secret = false;  // redacted when settings are printed
};

enum class Source { kDefault, kFile, kEnvironment, kFlag };
std::string_view SourceName(Source source);

struct SettingValue {
  std::string value;
  Source source = Source::kDefault;
  std::string origin;  // "meshwork.yaml:3:12", "MESHWORK_HTTP_ADDRESS", "--http"
};

/// The environment variable of a key: "http.address" → "MESHWORK_HTTP_ADDRESS".
std::string EnvironmentName(std::string_view key);

struct LoadOptions {
  /// A YAML file; empty = none. A missing file is an error (the user named it).
  std::string file;
  /// When set, this YAML text is parsed instead of reading `file` (which then only names it in
  /// messages); for tests, fuzzing and settings that arrive over an API.
  std::optional<std::string> file_text;
  /// The environment to read; nullopt = the process environment.
  std::optional<std::map<std::string, std::string>> environment;
  /// Flag values by key, with the flag's spelling for messages: key → {value, "--http"}.
  std::map<std::string, std::pair<std::string, std::string>> flags;
};

class Config {
 public:
  /// Loads and validates every layer. InvalidArgument for unknown keys in the file (with
  /// file:line:col and the closest known key), values of the wrong type (naming the layer they came
  /// from), YAML syntax errors (with line and column); IOError if the file cannot be read.
  static Result<Config> Load(std::vector<SettingSpec> specs, const LoadOptions& options);

  /// Typed getters. NotFound if the key is unset (no default, not given); InvalidArgument if the
  /// key was not declared.
  Result<std::string> GetString(std::string_view key) const;
  Result<int64_t> GetInt(std::string_view key) const;
  Result<bool> GetBool(std::string_view key) const;
  /// The value with its provenance, or nullptr if unset.
  const SettingValue* Find(std::string_view key) const;
  const std::vector<SettingSpec>& specs() const { return specs_; }

  /// "key = value  (source origin)" lines, secrets redacted; for `meshwork doctor`.
  std::vector<std::string> Describe() const;

 private:
  const SettingSpec* Spec(std::string_view key) const;
  Status Set(const SettingSpec& spec, std::string value, Source source, std::string origin);

  std::vector<SettingSpec> specs_;
  std::map<std::string, SettingValue, std::less<>> values_;
};

/// Parses an integer (decimal, optional sign) strictly; InvalidArgument otherwise.
Result<int64_t> ParseInt(std::string_view text);
/// Parses true/false/yes/no/on/off/1/0 (any case); InvalidArgument otherwise.
Result<bool> ParseBool(std::string_view text);

}  // namespace meshwork::config
