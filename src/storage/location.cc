#include "storage/location.h"

#include <fmt/format.h>

namespace meshwork::storage {
namespace {

constexpr size_t kMaxPathBytes = 4096;
constexpr size_t kMaxComponentBytes = 255;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecode(std::string_view text, std::string_view location) {
  std::string decoded;
  decoded.reserve(text.size());
  for (size_t index = 0; index < text.size(); ++index) {
    if (text[index] != '%') {
      decoded += text[index];
      continue;
    }
    const int high = index + 1 < text.size() ? HexValue(text[index + 1]) : -1;
    const int low = index + 2 < text.size() ? HexValue(text[index + 2]) : -1;
    if (high < 0 || low < 0) {
      return Status::InvalidArgument("bad percent escape at byte {} of location '{}'", index,
                                     location.substr(0, 200))
          .WithHint("write '%' as %25 in URIs");
    }
    decoded += static_cast<char>(high * 16 + low);
    index += 2;
  }
  if (decoded.find('\0') != std::string::npos) {
    return Status::InvalidArgument("location '{}' decodes to a NUL byte", location.substr(0, 200));
  }
  return decoded;
}

bool IsSchemeChar(char c, bool first) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  if (first) return alpha;
  return alpha || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

}  // namespace

Result<ParsedLocation> ParseLocation(std::string_view location) {
  if (location.empty()) return Status::InvalidArgument("empty storage location");
  if (location.size() > kMaxPathBytes) {
    return Status::InvalidArgument("storage location of {} bytes is longer than {} bytes",
                                   location.size(), kMaxPathBytes);
  }
  if (location.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("storage location contains a NUL byte");
  }
  // A scheme is letters/digits/+-. before ':' — but only if followed by '/', so that a plain
  // file named "a:b" is not mistaken for a URI.
  size_t colon = location.find(':');
  bool has_scheme = colon != std::string_view::npos && colon > 0 && colon + 1 < location.size() &&
                    location[colon + 1] == '/';
  for (size_t index = 0; has_scheme && index < colon; ++index) {
    has_scheme = IsSchemeChar(location[index], index == 0);
  }
  ParsedLocation parsed;
  if (!has_scheme) {
    parsed.path = std::string(location);
    return parsed;
  }
  parsed.scheme = std::string(location.substr(0, colon));
  for (char& c : parsed.scheme)
    c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  std::string_view rest = location.substr(colon + 1);
  if (rest.starts_with("//")) {
    rest.remove_prefix(2);
    const size_t slash = rest.find('/');
    parsed.authority = std::string(rest.substr(0, slash));
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  }
  if (parsed.scheme == "file") {
    if (!parsed.authority.empty() && parsed.authority != "localhost") {
      return Status::InvalidArgument(
                 "file URI '{}' names host '{}'; only local files are supported",
                 location.substr(0, 200), parsed.authority)
          .WithHint("use file:///absolute/path");
    }
    parsed.authority.clear();
    if (rest.empty() || rest[0] != '/') {
      return Status::InvalidArgument("file URI '{}' has no absolute path", location.substr(0, 200))
          .WithHint("use file:///absolute/path");
    }
    MW_ASSIGN_OR_RETURN(parsed.path, PercentDecode(rest, location));
    return parsed;
  }
  if (!rest.empty() && rest[0] == '/') rest.remove_prefix(1);
  if (parsed.scheme == "s3" || parsed.scheme == "s3a" || parsed.scheme == "s3n") {
    // An s3:// URI carries the object key as it is: Iceberg's S3 readers (Java's S3URI, pyiceberg)
    // do not decode it, and writers put '%' in keys literally (Hive-escaped partition values
    // such as hour=05%3A00). Decoding would name another object.
    if (rest.find('\0') != std::string_view::npos) {
      return Status::InvalidArgument("location '{}' contains a NUL byte", location.substr(0, 200));
    }
    parsed.path = std::string(rest);
    return parsed;
  }
  MW_ASSIGN_OR_RETURN(parsed.path, PercentDecode(rest, location));
  return parsed;
}

Result<std::string> NormalizeRelativePath(std::string_view path) {
  if (path.empty()) return Status::InvalidArgument("empty path");
  if (path.size() > kMaxPathBytes) {
    return Status::InvalidArgument("path of {} bytes is longer than {} bytes", path.size(),
                                   kMaxPathBytes);
  }
  if (path.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("path contains a NUL byte");
  }
  std::string normalized;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view component = path.substr(start, end - start);
    start = end + 1;
    if (component.empty() || component == ".") continue;
    if (component == "..") {
      return Status::PermissionDenied("path '{}' contains '..'", path.substr(0, 200))
          .WithHint(
              "paths must stay inside the warehouse root; name files relative to it "
              "without '..'");
    }
    if (component.size() > kMaxComponentBytes) {
      return Status::InvalidArgument("path component '{}...' is longer than {} bytes",
                                     component.substr(0, 40), kMaxComponentBytes);
    }
    if (!normalized.empty()) normalized += '/';
    normalized += component;
  }
  if (normalized.empty()) {
    return Status::InvalidArgument("path '{}' names no file", path.substr(0, 200));
  }
  return normalized;
}

}  // namespace meshwork::storage
