#include "server/query_api.h"

#include <fmt/format.h>

#include <algorithm>
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

// Running queries by id, for the cancel endpoint.
class RunningQueries {
 public:
  void Add(const std::string& id, const std::string& principal,
           std::shared_ptr<query::Session> session) {
    std::lock_guard<std::mutex> lock(mutex_);
    running_[id] = {principal, std::move(session)};
  }
  void Remove(const std::string& id) {
    std::lock_guard<std::mutex> lock(mutex_);
    running_.erase(id);
  }
  Status Cancel(const std::string& id, const Caller& caller) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = running_.find(id);
    if (found == running_.end() ||
        (found->second.principal != caller.principal && !caller.is_root)) {
      return Status::NotFound("no running query {} of yours", id)
          .WithHint("it may have finished already");
    }
    found->second.session->Cancel();
    return Status::OK();
  }

 private:
  struct Entry {
    std::string principal;
    std::shared_ptr<query::Session> session;
  };
  std::mutex mutex_;
  std::map<std::string, Entry> running_;
};

json JsonValue(const engine::Vector& vector, uint64_t row) {
  if (vector.IsNull(row)) return nullptr;
  using engine::TypeId;
  switch (vector.type().id) {
    case TypeId::kBoolean:
      return vector.Get<bool>(row);
    case TypeId::kTinyInt:
      return vector.Get<int8_t>(row);
    case TypeId::kSmallInt:
      return vector.Get<int16_t>(row);
    case TypeId::kInteger:
      return vector.Get<int32_t>(row);
    case TypeId::kBigInt:
      return vector.Get<int64_t>(row);
    case TypeId::kUTinyInt:
      return vector.Get<uint8_t>(row);
    case TypeId::kUSmallInt:
      return vector.Get<uint16_t>(row);
    case TypeId::kUInteger:
      return vector.Get<uint32_t>(row);
    case TypeId::kUBigInt:
      return vector.Get<uint64_t>(row);
    case TypeId::kFloat: {
      const float value = vector.Get<float>(row);
      if (std::isfinite(value)) return value;
      break;
    }
    case TypeId::kDouble: {
      const double value = vector.Get<double>(row);
      if (std::isfinite(value)) return value;
      break;
    }
    default:
      break;
  }
  // Decimals, huge integers, temporal and nested values: their text, exactly.
  auto text = vector.ToText(row);
  return text.ok() ? json(*text) : json(nullptr);
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
    response.body = error.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return response;
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
        running->Add(id, caller.principal, session);
        auto cursor = session->Execute(sql, parameters);
        if (!cursor.ok()) {
          running->Remove(id);
          return QueryError(cursor.error());
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
          response.stream = [streamed, running, id, max_rows,
                             elapsed](const HttpResponse::Writer& write) {
            query::Cursor* shared = &streamed->cursor;
            if (!write(json({{"query-id", id}, {"columns", ColumnsJson(*shared)}}).dump() + "\n"))
              return running->Remove(id);
            uint64_t rows = 0;
            bool truncated = false;
            std::string lines;
            while (true) {
              auto chunk = shared->Fetch();
              if (!chunk.ok()) {
                write(json({{"error",
                             {{"message", chunk.error().message()},
                              {"type", std::string(StatusCodeName(chunk.error().code()))}}}})
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
                json values = json::array();
                for (size_t c = 0; c < chunk->column_count(); ++c)
                  values.push_back(JsonValue(chunk->column(c), row));
                lines += values.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
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
        json rows = json::array();
        uint64_t count = 0;
        bool truncated = false;
        while (!truncated) {
          auto chunk = cursor->Fetch();
          if (!chunk.ok()) {
            running->Remove(id);
            return QueryError(chunk.error());
          }
          if (!*chunk) break;
          for (uint64_t row = 0; row < chunk->size(); ++row) {
            if (count >= max_rows) {
              truncated = true;
              break;
            }
            json values = json::array();
            for (size_t c = 0; c < chunk->column_count(); ++c)
              values.push_back(JsonValue(chunk->column(c), row));
            rows.push_back(std::move(values));
            ++count;
          }
        }
        running->Remove(id);
        json out = {{"query-id", id},
                    {"columns", ColumnsJson(*cursor)},
                    {"rows", std::move(rows)},
                    {"stats", StatsJson(*cursor, count, truncated, elapsed())}};
        // Kept for clients of the first version of this API.
        out["tables"] = out["stats"]["tables"];
        if (cursor->command() == "EXPLAIN") {
          std::string plan;
          for (const auto& line : out["rows"])
            plan += line[0].get<std::string>() + "\n";
          out["explain"] = plan;
        }
        return Json(200, out);
      }));
  router.Add("POST", "/api/v1/query/{id}/cancel", "cancelQuery",
             RequireCaller(catalog, [running](HttpRequest& request, const Caller& caller) {
               Status cancelled = running->Cancel(request.Capture("id"), caller);
               if (!cancelled.ok()) return ErrorResponse(cancelled);
               return HttpResponse{.status = 204, .content_type = "", .body = ""};
             }));
}

}  // namespace meshwork::server
