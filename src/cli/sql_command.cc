#include "cli/sql_command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/exit_codes.h"
#include "cli/server_client.h"
#include "query/governance_access.h"
#include "query/session.h"

namespace meshwork::cli {
namespace {

std::atomic<bool> interrupted{false};

extern "C" void OnInterrupt(int) {
  interrupted = true;
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text)
    quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

// Writes rows as they arrive (csv, json, ndjson) or collects them for the table.
class Printer {
 public:
  Printer(const SqlOptions& options, std::vector<std::string> columns)
      : options_(options), columns_(std::move(columns)) {
    if (options_.format == "csv") {
      std::string line;
      for (size_t i = 0; i < columns_.size(); ++i)
        line += (i ? "," : "") + CsvField(columns_[i]);
      std::printf("%s\n", line.c_str());
    } else if (options_.format == "json") {
      std::printf("[");
    }
  }

  /// `cells` as text (for table and csv) and as JSON values (for json and ndjson).
  void Row(const std::vector<std::string>& cells, const std::vector<std::string>& json_cells) {
    ++rows_;
    if (options_.format == "table") {
      if (table_.size() < options_.max_rows) {
        table_.push_back(cells);
      } else {
        truncated_ = true;
      }
      return;
    }
    std::string line;
    if (options_.format == "csv") {
      for (size_t i = 0; i < cells.size(); ++i)
        line += (i ? "," : "") + CsvField(cells[i]);
    } else {
      line = "{";
      for (size_t i = 0; i < json_cells.size() && i < columns_.size(); ++i) {
        line += (i ? "," : "") + nlohmann::json(columns_[i]).dump() + ":" + json_cells[i];
      }
      line += "}";
      if (options_.format == "json") line = (rows_ > 1 ? ",\n " : "\n ") + line;
    }
    if (options_.format != "json") line += "\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
  }

  void Finish() {
    if (options_.format == "table") {
      PrintTable(columns_, table_);
      std::printf("(%zu row%s%s)\n", static_cast<size_t>(rows_), rows_ == 1 ? "" : "s",
                  truncated_ ? fmt::format(", {} shown", table_.size()).c_str() : "");
    } else if (options_.format == "json") {
      std::printf("%s]\n", rows_ > 0 ? "\n" : "");
    }
    std::fflush(stdout);
  }

 private:
  const SqlOptions& options_;
  std::vector<std::string> columns_;
  std::vector<std::vector<std::string>> table_;
  uint64_t rows_ = 0;
  bool truncated_ = false;
};

}  // namespace

void PrintTable(const std::vector<std::string>& columns,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& column : columns)
    widths.push_back(column.size());
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], std::min<size_t>(row[i].size(), 40));
  const auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t i = 0; i < cells.size() && i < widths.size(); ++i)
      out += fmt::format("{}{:<{}}", i ? " | " : " ", cells[i].substr(0, 40), widths[i]);
    std::printf("%s\n", out.c_str());
  };
  line(columns);
  std::string rule;
  for (size_t i = 0; i < widths.size(); ++i)
    rule += (i ? "-+-" : "-") + std::string(widths[i], '-');
  std::printf("%s\n", rule.c_str());
  for (const auto& row : rows)
    line(row);
}

int RunLocalSql(catalog::Catalog& catalog, product::ProductService& products,
                governance::Governance& governance, const catalog::Caller& caller,
                const SqlOptions& options) {
  auto access = query::MakeGovernanceAccess(governance, products);
  auto service = query::QueryService::Open(catalog, {.statement_timeout_ms = options.timeout_ms,
                                                     .products = &products,
                                                     .access_policy = access.get()});
  if (!service.ok()) return ReportError(service.error());
  auto session = (*service)->OpenSession(caller);
  if (!session.ok()) return ReportError(session.error());

  // Ctrl-C cancels the query (a second one ends the process as usual).
  interrupted = false;
  struct sigaction action {};
  action.sa_handler = OnInterrupt;
  action.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &action, nullptr);
  std::atomic<bool> finished{false};
  const bool terminal = isatty(STDERR_FILENO) == 1;
  query::Session* running = session->get();
  std::thread watcher([&] {
    const auto started = std::chrono::steady_clock::now();
    bool shown = false;
    while (!finished) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (interrupted.exchange(false)) running->Cancel();
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      if (terminal && seconds > 1.0) {
        std::fprintf(stderr, "\r  running %.1f s (Ctrl-C cancels) ", seconds);
        shown = true;
      }
    }
    if (shown) std::fprintf(stderr, "\r%*s\r", 40, "");
  });
  const auto stop_watcher = [&] {
    finished = true;
    watcher.join();
    signal(SIGINT, SIG_DFL);
  };

  auto cursor = (*session)->Execute(options.sql);
  if (!cursor.ok()) {
    stop_watcher();
    return ReportError(cursor.error());
  }
  if (cursor->command() == "EXPLAIN") {
    auto all = query::ReadAll(*cursor, SIZE_MAX);
    stop_watcher();
    if (!all.ok()) return ReportError(all.error());
    std::printf("%s", all->explain.c_str());
    return kExitOk;
  }
  if (!cursor->returns_rows()) {
    stop_watcher();
    std::printf("%s\n", cursor->command().c_str());
    return kExitOk;
  }
  std::vector<std::string> names;
  for (const auto& column : cursor->columns())
    names.push_back(column.name);
  Printer printer(options, names);
  const bool want_json = options.format == "json" || options.format == "ndjson";
  std::vector<std::string> cells, json_cells;
  while (true) {
    auto chunk = cursor->Fetch();
    if (!chunk.ok()) {
      stop_watcher();
      std::fflush(stdout);
      return ReportError(chunk.error());
    }
    if (!*chunk) break;
    for (uint64_t row = 0; row < chunk->size(); ++row) {
      cells.assign(chunk->column_count(), "");
      json_cells.assign(want_json ? chunk->column_count() : 0, "");
      for (size_t c = 0; c < chunk->column_count(); ++c) {
        if (want_json) {
          (void)query::AppendJsonValue(chunk->column(c), row, json_cells[c]);
        } else {
          (void)chunk->column(c).AppendText(row, cells[c]);
        }
      }
      printer.Row(cells, json_cells);
    }
  }
  stop_watcher();
  printer.Finish();
  return kExitOk;
}

int RunRemoteSql(const std::string& server, const SqlOptions& options) {
  auto client = ServerClient::FromEnvironment(server);
  if (!client.ok()) return ReportError(client.error(), kExitUsage);
  nlohmann::json request = {{"sql", options.sql}, {"max-rows", 10000000}};
  if (options.timeout_ms > 0) request["timeout-ms"] = options.timeout_ms;
  auto reply = client->Send("POST", "/api/v1/query", request.dump());
  if (!reply.ok()) return ReportError(reply.error());
  const nlohmann::json answer = nlohmann::json::parse(reply->body, nullptr, false);
  if (!answer.is_object() || !answer.contains("columns") || !answer.contains("rows")) {
    return ReportError(Status::Internal("the server's answer is not a query result"));
  }
  if (answer.contains("explain")) {
    std::printf("%s", answer["explain"].get<std::string>().c_str());
    return kExitOk;
  }
  std::vector<std::string> names;
  for (const auto& column : answer["columns"])
    names.push_back(column.value("name", ""));
  Printer printer(options, names);
  std::vector<std::string> cells, json_cells;
  for (const auto& row : answer["rows"]) {
    cells.clear();
    json_cells.clear();
    for (const auto& value : row) {
      cells.push_back(value.is_null()     ? "NULL"
                      : value.is_string() ? value.get<std::string>()
                                          : value.dump());
      json_cells.push_back(value.dump());
    }
    printer.Row(cells, json_cells);
  }
  printer.Finish();
  return kExitOk;
}

}  // namespace meshwork::cli
