#pragma once
// Reading YAML documents written by people (data product specs, policies): a guarded load
// (size, nesting depth, syntax errors with line and column) and a reader whose accessors check
// each node's shape and name its position in every error. Include only where YAML is read:
// yaml-cpp is a heavy header.

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "common/text.h"

namespace meshwork::yaml {

/// Parses `text` (named `file` in errors) after refusing more than 1 MiB and documents nested
/// deeper than `max_nesting` (yaml-cpp recurses per level). An empty document is a Null node.
Result<YAML::Node> LoadDocument(std::string_view text, const std::string& file,
                                int max_nesting = 64, size_t max_bytes = 1 << 20);

/// "a mapping", "a list", "a single value", "nothing".
const char* NodeKind(const YAML::Node& node);

// Reads one document: every accessor checks the node's shape and reports errors at its
// position (file:line:column).
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  SourceLocation At(const YAML::Node& node) const {
    const YAML::Mark mark = node.Mark();
    return {file_, mark.line + 1, mark.column + 1};
  }

  template <typename... Args>
  Status Error(const YAML::Node& node, fmt::format_string<Args...> format, Args&&... args) const {
    return Status::InvalidArgument(format, std::forward<Args>(args)...).WithLocation(At(node));
  }

  // A mapping whose keys must all be in `allowed`; keys starting with "x-" are extensions that
  // we keep in the source text and otherwise ignore (ODCS and OpenAPI do the same).
  Status CheckMap(const YAML::Node& node, std::string_view what,
                  const std::vector<std::string_view>& allowed) const {
    if (!node.IsMap()) return Error(node, "{} must be a mapping, not {}", what, NodeKind(node));
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!it->first.IsScalar()) return Error(it->first, "keys of {} must be names", what);
      const std::string& key = it->first.Scalar();
      if (key.starts_with("x-")) continue;
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      auto status = Error(it->first, "unknown key '{}' in {}", key, what);
      const std::string closest = text::ClosestMatch(key, allowed);
      std::string expected;
      for (const auto name : allowed)
        expected += (expected.empty() ? "" : ", ") + std::string(name);
      return closest.empty()
                 ? std::move(status).WithHint(fmt::format("expected one of: {}", expected))
                 : std::move(status).WithHint(fmt::format("did you mean '{}'?", closest));
    }
    return Status::OK();
  }

  Result<std::string> String(const YAML::Node& node, std::string_view what) const {
    if (!node.IsScalar()) return Error(node, "{} must be text, not {}", what, NodeKind(node));
    return node.Scalar();
  }

  Result<std::string> RequiredString(const YAML::Node& parent, const char* key,
                                     std::string_view what) const {
    const YAML::Node node = parent[key];
    if (!node.IsDefined() || node.IsNull()) {
      return Error(parent, "{} is missing '{}'", what, key);
    }
    MW_ASSIGN_OR_RETURN(std::string value, String(node, fmt::format("'{}'", key)));
    if (value.empty()) return Error(node, "'{}' of {} is empty", key, what);
    return value;
  }

  Result<std::string> OptionalString(const YAML::Node& parent, const char* key) const {
    const YAML::Node node = parent[key];
    if (!node.IsDefined() || node.IsNull()) return std::string();
    return String(node, fmt::format("'{}'", key));
  }

  Result<bool> OptionalBool(const YAML::Node& parent, const char* key, bool fallback) const {
    const YAML::Node node = parent[key];
    if (!node.IsDefined() || node.IsNull()) return fallback;
    if (node.IsScalar()) {
      const std::string& text = node.Scalar();
      // YAML 1.1 spellings too, as editors and other YAML tools read them.
      for (const char* yes : {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"})
        if (text == yes) return true;
      for (const char* no : {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"})
        if (text == no) return false;
    }
    return Error(node, "'{}' must be true or false", key);
  }

  Result<std::optional<double>> OptionalNumber(const YAML::Node& parent, const char* key) const {
    const YAML::Node node = parent[key];
    if (!node.IsDefined() || node.IsNull()) return std::optional<double>();
    if (node.IsScalar()) {
      const std::string& text = node.Scalar();
      double value = 0;
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (error == std::errc() && end == text.data() + text.size()) {
        return std::optional<double>(value);
      }
    }
    return Error(node, "'{}' must be a number", key);
  }

  Result<std::vector<std::string>> StringList(const YAML::Node& parent, const char* key) const {
    std::vector<std::string> values;
    const YAML::Node node = parent[key];
    if (!node.IsDefined() || node.IsNull()) return values;
    if (!node.IsSequence()) {
      return Error(node, "'{}' must be a list, not {}", key, NodeKind(node));
    }
    for (const YAML::Node& item : node) {
      MW_ASSIGN_OR_RETURN(std::string value, String(item, fmt::format("each item of '{}'", key)));
      values.push_back(std::move(value));
    }
    return values;
  }

  Result<YAML::Node> OptionalSequence(const YAML::Node& parent, const char* key) const {
    const YAML::Node node = parent[key];
    if (!node.IsDefined() || node.IsNull()) return YAML::Node(YAML::NodeType::Sequence);
    if (!node.IsSequence()) {
      return Error(node, "'{}' must be a list, not {}", key, NodeKind(node));
    }
    return node;
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

}  // namespace meshwork::yaml
