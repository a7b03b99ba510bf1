// Logging for meshwork: one process-wide logger (spdlog underneath, kept out of this header)
// writing human-readable text or one JSON object per line to stderr or a file.
//
//   logging::Info("serving the catalog on {}", address);
//
// Messages are formatted only when their level is enabled.
#pragma once

#include <fmt/core.h>

#include <string>
#include <string_view>

#include "common/result.h"

namespace meshwork::logging {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kOff };

/// Parses "trace", "debug", "info", "warn"/"warning", "error", "off" (any case).
Result<Level> ParseLevel(std::string_view name);
std::string_view LevelName(Level level);

enum class Format { kText, kJson };
/// Parses "text" or "json".
Result<Format> ParseFormat(std::string_view name);

struct Options {
  Level level = Level::kInfo;
  Format format = Format::kText;
  /// Empty: stderr. Otherwise a file appended to (created if missing).
  std::string file;
};

/// (Re)configures the process logger. IOError if the log file cannot be opened. Safe to call again.
Status Init(const Options& options);

bool Enabled(Level level);
/// Writes one record; `message` is logged as is (JSON-escaped in JSON format).
void Write(Level level, std::string_view message);

template <typename... Args>
void Log(Level level, fmt::format_string<Args...> format, Args&&... args) {
  if (Enabled(level)) Write(level, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void Debug(fmt::format_string<Args...> format, Args&&... args) {
  Log(Level::kDebug, format, std::forward<Args>(args)...);
}
template <typename... Args>
void Info(fmt::format_string<Args...> format, Args&&... args) {
  Log(Level::kInfo, format, std::forward<Args>(args)...);
}
template <typename... Args>
void Warn(fmt::format_string<Args...> format, Args&&... args) {
  Log(Level::kWarn, format, std::forward<Args>(args)...);
}
template <typename... Args>
void Error(fmt::format_string<Args...> format, Args&&... args) {
  Log(Level::kError, format, std::forward<Args>(args)...);
}

/// Escapes a string for inclusion inside a JSON string literal (quotes not added).
std::string JsonEscape(std::string_view text);

}  // namespace meshwork::logging
