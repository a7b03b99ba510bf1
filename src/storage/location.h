#pragma once
// Parsing of storage locations ("file:///w/a.parquet", "s3://bucket/key", "a/b.parquet") and
// normalization of relative paths. Pure functions: fuzzed by fuzz/location_fuzz.cc.

#include <string>
#include <string_view>

#include "common/result.h"

namespace meshwork::storage {

struct ParsedLocation {
  /// "file", "s3", ...; empty for a plain path.
  std::string scheme;
  /// The bucket of s3://bucket/key; empty for file:// and plain paths.
  std::string authority;
  /// Absolute and percent-decoded for file:// URIs; the key exactly as written for s3:// (S3
  /// keys are not URI-encoded in Iceberg metadata); decoded for other schemes; as given for plain
  /// paths.
  std::string path;
};

/// Splits a location into scheme, authority and path. Accepts "file:///abs", "file:/abs",
/// "file://localhost/abs", "<scheme>://authority/path" and plain paths. Percent escapes are
/// decoded in URIs other than s3:// (not in plain paths); a (decoded) NUL byte is refused.
Result<ParsedLocation> ParseLocation(std::string_view location);

/// "a//b/./c/" → "a/b/c". Refuses (permission_denied) any ".." component, since warehouse paths
/// never need one and it is how paths escape; refuses (invalid_argument) empty paths, NUL bytes,
/// paths over 4096 bytes and components over 255 bytes. The result never starts with '/'.
Result<std::string> NormalizeRelativePath(std::string_view path);

}  // namespace meshwork::storage
