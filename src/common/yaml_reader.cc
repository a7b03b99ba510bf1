#include "common/yaml_reader.h"

#include <algorithm>

namespace meshwork::yaml {
namespace {

// The deepest nesting of flow collections and block sequences on one line, without parsing:
// enough to keep a hostile file from exhausting yaml-cpp's recursion.
int RoughNesting(std::string_view text) {
  int deepest = 0;
  int flow = 0;
  int dashes_on_line = 0;
  bool quoted = false;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == quote) quoted = false;
      if (c == '\n') quoted = false;  // an unterminated quote is yaml-cpp's error to report
      continue;
    }
    if (c == '"' || c == '\'') {
      quoted = true, quote = c;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++flow);
    } else if (c == ']' || c == '}') {
      flow = std::max(0, flow - 1);
    } else if (c == '-' && i + 1 < text.size() && text[i + 1] == ' ') {
      deepest = std::max(deepest, flow + ++dashes_on_line);
    } else if (c == '\n') {
      dashes_on_line = 0;
    } else if (c == '#') {
      while (i + 1 < text.size() && text[i + 1] != '\n')
        ++i;
    }
  }
  return deepest;
}

}  // namespace

const char* NodeKind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a single value";
    case YAML::NodeType::Null:
      return "nothing";
    default:
      return "an undefined value";
  }
}

Result<YAML::Node> LoadDocument(std::string_view text, const std::string& file, int max_nesting,
                                size_t max_bytes) {
  if (text.size() > max_bytes) {
    return Status::InvalidArgument("{} is {} bytes; at most {} are accepted", file, text.size(),
                                   max_bytes);
  }
  if (RoughNesting(text) > max_nesting) {
    return Status::InvalidArgument("{} is nested more than {} levels deep", file, max_nesting);
  }
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (!root.IsDefined()) return YAML::Node(YAML::NodeType::Null);
    return root;
  } catch (const YAML::Exception& error) {
    return Status::InvalidArgument("YAML syntax error: {}", error.msg)
        .WithLocation({file, error.mark.line + 1, error.mark.column + 1});
  }
}

}  // namespace meshwork::yaml
