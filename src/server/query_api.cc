#include "server/query_api.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>

#include "common/uuid.h"
#include "iceberg/json_reader.h"
#include "server/json_http.h"
#include "server/mesh_api.h"
#include "server/rest_catalog.h"

namespace meshwork::server {
namespace {

using catalog::Caller;
using nlohmann::json;

// Running queries by id, for the cancel endpoint. A cancel is remembered for the query it names
// (the handler checks it once the statement is planned, for a cancel that came before the
// session began it); the session keeps interrupting a statement it cancelled until it ends.
class RunningQueries {
 public:
  using Flag = std::shared_ptr<std::atomic<bool>>;
  Flag Add(const std::string& id, const std::string& principal,
           std::shared_ptr<query::Session> session) {
    std::lock_guard<std::mutex> lock(mutex_);
    Flag cancelled = std::make_shared<std::atomic<bool>>(false);
    running_[id] = {principal, std::move(session), cancelled};
    return cancelled;
  }
  void Remove(const std::string& id) {
    std::lock_guard<std::mutex> lock(mutex_);
    running_.erase(id);
  }
  Status Cancel(const std::string& id, const Caller& caller) {
    std::shared_ptr<query::Session> session;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto found = running_.find(id);
      if (found == running_.end() ||
          (found->second.principal != caller.principal && !caller.is_root)) {
        return Status::NotFound("no running query {} of yours", id)
            .WithHint("it may have finished already");
      }
      *found->second.cancelled = true;
      session = found->second.session;
    }
    session->Cancel();
    return Status::OK();
  }

 private:
  struct Entry {
    std::string principal;
    std::shared_ptr<query::Session> session;
    Flag cancelled;
  };
  std::mutex mutex_;
  std::map<std::string, Entry> running_;
};

// One row as a JSON array.
Status AppendRow(const engine::DataChunk& chunk, uint64_t row, std::string& out) {
  out += '[';
  for (size_t c = 0; c < chunk.column_count(); ++c) {
    if (c > 0) out += ',';
    MW_RETURN_IF_ERROR(query::AppendJsonValue(chunk.column(c), row, out));
  }
  out += ']';
  return Status::OK();
}

json ColumnsJson(const query::Cursor& cursor) {
  json columns = json::array();
  for (const auto& column : cursor.columns())
    columns.push_back({{"name", column.name}, {"type", column.type.ToString()}});
  return columns;
}

json StatsJson(const query::Cursor& cursor, uint64_t rows, bool truncated, double elapsed_ms) {
  json tables = json::array();
  for (const auto& table : cursor.tables()) {
    tables.push_back({{"name", table.name},
                      {"snapshot-id", table.snapshot_id},
                      {"files", table.files},
                      {"files-total", table.files_total},
                      {"pushed-filter", table.pushed_filter},
                      {"masks", table.masks},
                      {"decrypted", table.decrypted},
                      {"row-filters", table.row_filters}});
  }
  return {{"rows", rows}, {"truncated", truncated}, {"elapsed-ms", elapsed_ms}, {"tables", tables}};
}

HttpResponse QueryError(const Status& status) {
  HttpResponse response = ErrorResponse(status);
  json error = json::parse(response.body, nullptr, false);
  if (error.is_object() && error.contains("error")) {
    if (const auto* where = status.location()) {
      error["error"]["line"] = where->line;
      error["error"]["column"] = where->column;
    }
    if (!status.sqlstate().empty()) error["error"]["sqlstate"] = status.sqlstate();
    // Cancelled by the cancel endpoint or a statement timeout: PostgreSQL's query_canceled.
    if (status.sqlstate().empty() && status.code() == StatusCode::kCancelled) {
      error["error"]["sqlstate"] = "57014";
    }
    response.body = error.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return response;
}

// The error of a statement cancelled through the cancel endpoint (the session's own words).
Status CancelledByUser() {
  return Status::Cancelled("canceling statement due to user request");
}

}  // namespace

void AddQueryApiRoutes(Router& router, catalog::Catalog& catalog, query::QueryService& queries) {
  auto running = std::make_shared<RunningQueries>();
  router.Add(
      "POST", "/api/v1/query", "query",
      RequireCaller(catalog, [&queries, running](HttpRequest& request, const Caller& caller) {
        const auto started = std::chrono::steady_clock::now();
        auto body = Body(request);
        if (!body.ok()) return ErrorResponse(body.error());
        const std::string sql = iceberg::json::StringOr(*body, "sql", "");
        if (sql.empty()) {
          return ErrorResponse(Status::InvalidArgument("sql: required string is missing")
                                   .WithHint("send {\"sql\": \"SELECT …\"}"));
        }
        std::vector<std::optional<std::string>> parameters;
        if (body->contains("parameters")) {
          const json& given = (*body)["parameters"];
          if (!given.is_array()) {
            return ErrorResponse(Status::InvalidArgument("parameters: must be an array"));
          }
          for (const json& value : given) {
            if (value.is_null()) {
              parameters.emplace_back();
            } else if (value.is_string()) {
              parameters.emplace_back(value.get<std::string>());
            } else if (value.is_primitive()) {
              parameters.emplace_back(value.dump());
            } else {
              return ErrorResponse(
                  Status::InvalidArgument("parameters: values must be strings, numbers, "
                                          "booleans or null"));
            }
          }
        }
        const auto max_rows = static_cast<uint64_t>(
            std::clamp<int64_t>(iceberg::json::IntOr(*body, "max-rows", 10000), 0, 10000000));
        const int64_t timeout_ms = iceberg::json::IntOr(*body, "timeout-ms", 0);
        std::string id = iceberg::json::StringOr(*body, "query-id", "");
        if (id.empty() || id.size() > 64) id = Uuid::V4().ToString();

        auto opened = queries.OpenSession(caller);
        if (!opened.ok()) return ErrorResponse(opened.error());
        std::shared_ptr<query::Session> session = std::move(*opened);
        if (timeout_ms > 0) {
          auto set = session->Execute(fmt::format("SET statement_timeout = {}", timeout_ms));
          if (!set.ok()) return QueryError(set.error());
        }
        const RunningQueries::Flag cancelled = running->Add(id, caller.principal, session);
        auto cursor = session->Execute(sql, parameters);
        if (!cursor.ok() || *cancelled) {
          running->Remove(id);
          return QueryError(cursor.ok() ? CancelledByUser() : cursor.error());
        }
        const auto elapsed = [started] {
          return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                           started)
              .count();
        };
        const std::string accept = request.Header("accept").value_or("");
        if (accept.find("application/x-ndjson") != std::string::npos) {
          // The cursor goes before its session (members are destroyed in reverse order).
          struct Streamed {
            std::shared_ptr<query::Session> session;
            query::Cursor cursor;
          };
          auto streamed = std::make_shared<Streamed>(Streamed{session, std::move(*cursor)});
          session.reset();
          HttpResponse response{.status = 200, .content_type = "application/x-ndjson"};
          response.headers["X-Query-Id"] = id;
          response.stream = [streamed, running, id, max_rows, elapsed,
                             cancelled](const HttpResponse::Writer& write) {
            query::Cursor* shared = &streamed->cursor;
            if (!write(json({{"query-id", id}, {"columns", ColumnsJson(*shared)}}).dump() + "\n"))
              return running->Remove(id);
            uint64_t rows = 0;
            bool truncated = false;
            std::string lines;
            while (true) {
              auto chunk = shared->Fetch();
              if (!chunk.ok() || *cancelled) {
                const Status error = chunk.ok() ? CancelledByUser() : chunk.error();
                write(json({{"error",
                             {{"message", error.message()},
                              {"type", std::string(StatusCodeName(error.code()))}}}})
                          .dump() +
                      "\n");
                return running->Remove(id);
              }
              if (!*chunk) break;
              for (uint64_t row = 0; row < chunk->size(); ++row) {
                if (rows >= max_rows && max_rows > 0) {
                  truncated = true;
                  break;
                }
                if (Status appended = AppendRow(*chunk, row, lines); !appended.ok()) {
                  write(json({{"error", {{"message", appended.message()}}}}).dump() + "\n");
                  return running->Remove(id);
                }
                lines += '\n';
                ++rows;
              }
              if (!write(lines)) {  // the client left: stop the query
                streamed->session->Cancel();
                return running->Remove(id);
              }
              lines.clear();
              if (truncated) break;
            }
            write(json({{"stats", StatsJson(*shared, rows, truncated, elapsed())}}).dump() + "\n");
            running->Remove(id);
          };
          return response;
        }
        std::string rows;
        std::vector<std::string> first_cells;  // EXPLAIN's lines
        uint64_t count = 0;
        bool truncated = false;
        while (!truncated) {
          auto chunk = cursor->Fetch();
          if (!chunk.ok() || *cancelled) {
            running->Remove(id);
            return QueryError(chunk.ok() ? CancelledByUser() : chunk.error());
          }
          if (!*chunk) break;
          for (uint64_t row = 0; row < chunk->size(); ++row) {
            if (count >= max_rows) {
              truncated = true;
              break;
            }
            if (count > 0) rows += ',';
            if (Status appended = AppendRow(*chunk, row, rows); !appended.ok()) {
              running->Remove(id);
              return QueryError(appended);
            }
            if (cursor->command() == "EXPLAIN") {
              first_cells.push_back(chunk->column(0).ToText(row).value_or(""));
            }
            ++count;
          }
        }
        running->Remove(id);
        json head = {{"query-id", id},
                     {"columns", ColumnsJson(*cursor)},
                     {"stats", StatsJson(*cursor, count, truncated, elapsed())}};
        // Kept for clients of the first version of this API.
        head["tables"] = head["stats"]["tables"];
        if (cursor->command() == "EXPLAIN") {
          std::string plan;
          for (const auto& line : first_cells)
            plan += line + "\n";
          head["explain"] = plan;
        }
        // The rows are already JSON: spliced in, not parsed again.
        std::string answer = head.dump(-1, ' ', false, json::error_handler_t::replace);
        answer.pop_back();
        answer += ",\"rows\":[" + rows + "]}";
        return HttpResponse{.status = 200, .body = std::move(answer)};
      }));
  router.Add("POST", "/api/v1/query/{id}/cancel", "cancelQuery",
             RequireCaller(catalog, [running](HttpRequest& request, const Caller& caller) {
               Status cancelled = running->Cancel(request.Capture("id"), caller);
               if (!cancelled.ok()) return ErrorResponse(cancelled);
               return HttpResponse{.status = 204, .content_type = "", .body = ""};
             }));
}

}  // namespace meshwork::server
