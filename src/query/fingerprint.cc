#include "query/fingerprint.h"

#include <fmt/format.h>

#include <cctype>
#include <cstdint>

namespace meshwork::query {
namespace {

constexpr size_t kMaxNormalized = 2000;

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

}  // namespace

std::string NormalizeStatement(std::string_view sql) {
  std::string out;
  // Whitespace matters only between two words (or literals): "a = 1" and "a=1" are one shape.
  bool gap = false;
  const auto emit = [&](std::string_view token) {
    const auto wordy = [](char c) { return IsWordChar(c) || c == '?' || c == '"'; };
    if (gap && !out.empty() && wordy(out.back()) && wordy(token.front())) out += ' ';
    gap = false;
    out.append(token);
  };
  size_t i = 0;
  while (i < sql.size() && out.size() < kMaxNormalized) {
    const char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      gap = true;
      ++i;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      while (i < sql.size() && sql[i] != '\n')
        ++i;
      gap = true;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      const size_t end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
      gap = true;
    } else if (c == '\'') {  // a string literal, '' inside it escaping a quote
      ++i;
      while (i < sql.size()) {
        if (sql[i] == '\'') {
          if (i + 1 < sql.size() && sql[i + 1] == '\'') {
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        ++i;
      }
      emit("?");
    } else if (c == '"') {  // a quoted name: kept as written
      const size_t end = sql.find('"', i + 1);
      const size_t stop = end == std::string_view::npos ? sql.size() : end + 1;
      emit(sql.substr(i, stop - i));
      i = stop;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {  // a number (words start otherwise)
      while (i < sql.size() &&
             (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '.' || sql[i] == '_')) {
        ++i;
      }
      emit("?");
    } else if (IsWordChar(c)) {
      std::string word;
      while (i < sql.size() && IsWordChar(sql[i])) {
        word += static_cast<char>(std::tolower(static_cast<unsigned char>(sql[i])));
        ++i;
      }
      emit(word);
    } else {
      emit(std::string_view(&sql[i], 1));
      ++i;
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';'))
    out.pop_back();
  return out.substr(0, kMaxNormalized);
}

std::string StatementFingerprint(std::string_view sql) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : NormalizeStatement(sql)) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return fmt::format("{:016x}", hash);
}

}  // namespace meshwork::query
