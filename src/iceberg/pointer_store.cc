#include "iceberg/pointer_store.h"

#include <fmt/format.h>

namespace meshwork::iceberg {
namespace {

Status CheckName(std::string_view name, std::string_view what, std::string_view text,
                 bool allow_dash) {
  if (name.empty() || name.size() > 255) {
    return Status::InvalidArgument("{} name in '{}' must be 1 to 255 characters", what, text)
        .WithHint("table names look like namespace.table, e.g. sales.orders");
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || (allow_dash && c == '-');
    if (!ok) {
      return Status::InvalidArgument("{} name '{}' in '{}' contains '{}'", what, name, text,
                                     std::string(1, c))
          .WithHint("use letters, digits and '_' (namespaces may also use '-')");
    }
  }
  return Status::OK();
}

}  // namespace

Result<TableIdentifier> TableIdentifier::Parse(std::string_view text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t dot = text.find('.', start);
    parts.emplace_back(text.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (parts.size() < 2) {
    return Status::InvalidArgument("table name '{}' has no namespace", text)
        .WithHint("write namespace.table, e.g. sales.orders");
  }
  TableIdentifier identifier;
  identifier.name = parts.back();
  parts.pop_back();
  for (const std::string& level : parts)
    MW_RETURN_IF_ERROR(CheckName(level, "namespace", text, true));
  MW_RETURN_IF_ERROR(CheckName(identifier.name, "table", text, false));
  identifier.namespace_levels = std::move(parts);
  return identifier;
}

std::string TableIdentifier::ToString() const {
  std::string text;
  for (const std::string& level : namespace_levels)
    text += level + ".";
  return text + name;
}

std::string TableIdentifier::RelativeLocation() const {
  std::string path;
  for (const std::string& level : namespace_levels)
    path += level + "/";
  return path + name;
}

}  // namespace meshwork::iceberg
