#pragma once
// A statement's fingerprint for the audit log: the same query with other literals gets the same
// one, so "who ran this report" is one filter, and the log never keeps the literals (which may
// be the personal data the query looked for).

#include <string>
#include <string_view>

namespace meshwork::query {

/// `sql` with string and number literals replaced by ?, comments removed, whitespace collapsed
/// and words outside quotes lowercased; at most 2000 characters.
std::string NormalizeStatement(std::string_view sql);
/// 16 hex digits (64-bit FNV-1a) of NormalizeStatement(sql): stable across builds and servers.
std::string StatementFingerprint(std::string_view sql);

}  // namespace meshwork::query
