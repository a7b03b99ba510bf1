#include "common/logging.h"

#include <spdlog/formatter.h>
#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <memory>
#include <mutex>

#include "common/time.h"

namespace meshwork::logging {
namespace {

spdlog::level::level_enum ToSpdlog(Level level) {
  switch (level) {
    case Level::kTrace:
      return spdlog::level::trace;
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
    case Level::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

// One JSON object per line: {"ts":"…Z","level":"info","thread":123,"msg":"…"}.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch()).count();
    const auto level = spdlog::level::to_string_view(msg.level);
    const std::string text = fmt::format(
        R"({{"ts":"{}","level":"{}","thread":{},"msg":"{}"}})", time::FormatRfc3339Micros(micros),
        std::string_view(level.data(), level.size()), msg.thread_id,
        JsonEscape(std::string_view(msg.payload.data(), msg.payload.size())));
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

std::mutex logger_mutex;
std::shared_ptr<spdlog::logger> logger;  // guarded by logger_mutex for replacement
std::atomic<int> enabled_level{static_cast<int>(Level::kInfo)};

std::shared_ptr<spdlog::logger> CurrentLogger() {
  std::lock_guard lock(logger_mutex);
  if (!logger) {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    logger = std::make_shared<spdlog::logger>("meshwork", sink);
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-5l %v", spdlog::pattern_time_type::utc);
    logger->set_level(ToSpdlog(static_cast<Level>(enabled_level.load())));
  }
  return logger;
}

}  // namespace

Result<Level> ParseLevel(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "trace") return Level::kTrace;
  if (lower == "debug") return Level::kDebug;
  if (lower == "info") return Level::kInfo;
  if (lower == "warn" || lower == "warning") return Level::kWarn;
  if (lower == "error") return Level::kError;
  if (lower == "off") return Level::kOff;
  return Status::InvalidArgument("unknown log level '{}'", name)
      .WithHint("use one of trace, debug, info, warn, error, off");
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kTrace:
      return "trace";
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
    case Level::kOff:
      return "off";
  }
  return "info";
}

Result<Format> ParseFormat(std::string_view name) {
  if (name == "text") return Format::kText;
  if (name == "json") return Format::kJson;
  return Status::InvalidArgument("unknown log format '{}'", name).WithHint("use text or json");
}

Status Init(const Options& options) {
  spdlog::sink_ptr sink;
  if (options.file.empty()) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    try {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file, /*truncate=*/false);
    } catch (const std::exception& error) {
      return Status::IOError("cannot open log file '{}': {}", options.file, error.what())
          .WithHint("check that its directory exists and is writable, or log to stderr");
    }
  }
  auto fresh = std::make_shared<spdlog::logger>("meshwork", sink);
  if (options.format == Format::kJson) {
    fresh->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    fresh->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-5l %v", spdlog::pattern_time_type::utc);
  }
  fresh->set_level(ToSpdlog(options.level));
  fresh->flush_on(spdlog::level::warn);
  {
    std::lock_guard lock(logger_mutex);
    logger = std::move(fresh);
  }
  enabled_level.store(static_cast<int>(options.level));
  return Status::OK();
}

bool Enabled(Level level) {
  return level != Level::kOff &&
         static_cast<int>(level) >= enabled_level.load(std::memory_order_relaxed);
}

void Write(Level level, std::string_view message) {
  if (!Enabled(level)) return;
  auto current = CurrentLogger();
  current->log(ToSpdlog(level), spdlog::string_view_t(message.data(), message.size()));
  if (level >= Level::kWarn) current->flush();
}

std::string JsonEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

}  // namespace meshwork::logging
