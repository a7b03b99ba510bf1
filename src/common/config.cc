#include "common/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/text.h"

extern char** environ;

namespace meshwork::config {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string TypeName(SettingType type) {
  switch (type) {
    case SettingType::kString:
      return "a string";
    case SettingType::kInt:
      return "an integer";
    case SettingType::kBool:
      return "a boolean (true/false)";
  }
  return "a value";
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    const size_t equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    out.emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
  }
  return out;
}

SourceLocation LocationOf(const std::string& file, const YAML::Mark& mark) {
  return SourceLocation{file, mark.line + 1, mark.column + 1};
}

}  // namespace

std::string_view SourceName(Source source) {
  switch (source) {
    case Source::kDefault:
      return "default";
    case Source::kFile:
      return "file";
    case Source::kEnvironment:
      return "environment";
    case Source::kFlag:
      return "flag";
  }
  return "unknown";
}

std::string EnvironmentName(std::string_view key) {
  std::string out = "MESHWORK_";
  for (const char c : key) {
    out.push_back(c == '.' || c == '-'
                      ? '_'
                      : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

Result<int64_t> ParseInt(std::string_view text) {
  int64_t value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (!text.empty() && text.front() == '+') ++begin;
  const auto [ptr, error] = std::from_chars(begin, end, value);
  if (text.empty() || error != std::errc() || ptr != end) {
    return Status::InvalidArgument("'{}' is not an integer", text);
  }
  return value;
}

Result<bool> ParseBool(std::string_view text) {
  const std::string lower = Lower(text);
  if (lower == "true" || lower == "yes" || lower == "on" || lower == "1") return true;
  if (lower == "false" || lower == "no" || lower == "off" || lower == "0") return false;
  return Status::InvalidArgument("'{}' is not a boolean", text).WithHint("use true or false");
}

const SettingSpec* Config::Spec(std::string_view key) const {
  for (const auto& spec : specs_) {
    if (spec.key == key) return &spec;
  }
  return nullptr;
}

Status Config::Set(const SettingSpec& spec, std::string value, Source source, std::string origin) {
  Status valid;
  if (spec.type == SettingType::kInt) valid = ParseInt(value).status();
  if (spec.type == SettingType::kBool) valid = ParseBool(value).status();
  if (!valid.ok()) {
    return Status::InvalidArgument("setting '{}' from {} ({}) must be {}, got '{}'", spec.key,
                                   SourceName(source), origin, TypeName(spec.type),
                                   spec.secret ? "<redacted>" : value);
  }
  values_[spec.key] = SettingValue{std::move(value), source, std::move(origin)};
  return Status::OK();
}

Result<Config> Config::Load(std::vector<SettingSpec> specs, const LoadOptions& options) {
  Config config;
  config.specs_ = std::move(specs);
  for (const auto& spec : config.specs_) {
    if (!spec.default_value.empty()) {
      MW_RETURN_IF_ERROR(config.Set(spec, spec.default_value, Source::kDefault, "built-in default")
                             .WithContext("invalid built-in default"));
    }
  }

  if (!options.file.empty() || options.file_text) {
    std::string text;
    if (options.file_text) {
      text = *options.file_text;
    } else {
      std::ifstream input(options.file);
      if (!input) {
        return Status::FromErrno(errno, fmt::format("cannot read config file '{}'", options.file))
            .WithHint("check the --config path or MESHWORK_CONFIG");
      }
      std::stringstream buffer;
      buffer << input.rdbuf();
      text = buffer.str();
    }
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& error) {
      return Status::InvalidArgument("invalid YAML in config file: {}", error.msg)
          .WithLocation(LocationOf(options.file, error.mark));
    }
    if (root.IsDefined() && !root.IsNull() && !root.IsMap()) {
      return Status::InvalidArgument("a config file must be a mapping of settings")
          .WithLocation(LocationOf(options.file, root.Mark()));
    }
    // Walk nested maps, joining keys with '.', with an explicit stack (no recursion on hostile
    // depth).
    std::vector<std::pair<std::string, YAML::Node>> pending;
    if (root.IsMap()) pending.emplace_back("", root);
    while (!pending.empty()) {
      auto [prefix, node] = std::move(pending.back());
      pending.pop_back();
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) {
          return Status::InvalidArgument("config keys must be plain names")
              .WithLocation(LocationOf(options.file, entry.first.Mark()));
        }
        const std::string key =
            prefix.empty() ? entry.first.Scalar() : prefix + "." + entry.first.Scalar();
        const YAML::Node& value = entry.second;
        const SettingSpec* spec = config.Spec(key);
        if (value.IsMap() && spec == nullptr) {
          pending.emplace_back(key, value);
          continue;
        }
        if (spec == nullptr) {
          const SettingSpec* closest = nullptr;
          size_t best = 4;  // suggest only near misses
          for (const auto& candidate : config.specs_) {
            const size_t distance = text::EditDistance(key, candidate.key);
            if (distance < best) best = distance, closest = &candidate;
          }
          auto status = Status::InvalidArgument("unknown setting '{}'", key)
                            .WithLocation(LocationOf(options.file, entry.first.Mark()));
          return closest
                     ? std::move(status).WithHint(fmt::format("did you mean '{}'?", closest->key))
                     : std::move(status).WithHint("see `meshwork doctor` for the known settings");
        }
        if (!value.IsScalar()) {
          return Status::InvalidArgument("setting '{}' must be a single value, not a list or map",
                                         key)
              .WithLocation(LocationOf(options.file, value.Mark()));
        }
        const SourceLocation where = LocationOf(options.file, value.Mark());
        MW_RETURN_IF_ERROR(
            config.Set(*spec, value.Scalar(), Source::kFile, where.ToString()).WithLocation(where));
      }
    }
  }

  const auto environment = options.environment ? *options.environment : ProcessEnvironment();
  for (const auto& spec : config.specs_) {
    const std::string name = EnvironmentName(spec.key);
    if (auto it = environment.find(name); it != environment.end()) {
      MW_RETURN_IF_ERROR(config.Set(spec, it->second, Source::kEnvironment, name));
    }
  }

  for (const auto& [key, flag] : options.flags) {
    const SettingSpec* spec = config.Spec(key);
    if (spec == nullptr)
      return Status::Internal("flag {} maps to undeclared setting '{}'", flag.second, key);
    MW_RETURN_IF_ERROR(config.Set(*spec, flag.first, Source::kFlag, flag.second));
  }
  return config;
}

const SettingValue* Config::Find(std::string_view key) const {
  auto it = values_.find(key);
  return it == values_.end() ? nullptr : &it->second;
}

Result<std::string> Config::GetString(std::string_view key) const {
  if (Spec(key) == nullptr) return Status::InvalidArgument("'{}' is not a known setting", key);
  const SettingValue* value = Find(key);
  if (value == nullptr) {
    return Status::NotFound("setting '{}' is not set", key)
        .WithHint(fmt::format("set it in the config file, with {} or with its flag",
                              EnvironmentName(key)));
  }
  return value->value;
}

Result<int64_t> Config::GetInt(std::string_view key) const {
  MW_ASSIGN_OR_RETURN(std::string text, GetString(key));
  return ParseInt(text);
}

Result<bool> Config::GetBool(std::string_view key) const {
  MW_ASSIGN_OR_RETURN(std::string text, GetString(key));
  return ParseBool(text);
}

std::vector<std::string> Config::Describe() const {
  std::vector<std::string> lines;
  for (const auto& spec : specs_) {
    const SettingValue* value = Find(spec.key);
    if (value == nullptr) {
      lines.push_back(fmt::format("{} = (unset)", spec.key));
    } else {
      lines.push_back(fmt::format("{} = {}  ({}: {})", spec.key,
                                  spec.secret ? "<redacted>" : value->value,
                                  SourceName(value->source), value->origin));
    }
  }
  return lines;
}

}  // namespace meshwork::config
