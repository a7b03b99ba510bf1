#include "product/quality.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "iceberg/sql_text.h"
#include "iceberg/value_codec.h"

namespace meshwork::product {
namespace {

using iceberg::QuoteIdentifier;
using iceberg::QuoteString;

constexpr int kSamples = 5;

std::string Number(double value) {
  return fmt::format("{}", value);
}

// Counts the rows of `failing_sql` and keeps a few of them.
// Keeps up to kSamples rows of `failing_sql` as JSON objects of their values.
Status Sample(engine::Connection& connection, const std::string& failing_sql,
              QualityResult& result) {
  MW_ASSIGN_OR_RETURN(
      engine::QueryResult sample,
      connection.Query(fmt::format("SELECT * FROM ({}) LIMIT {}", failing_sql, kSamples)));
  const std::vector<std::string> names = sample.column_names();
  MW_ASSIGN_OR_RETURN(auto rows, sample.FetchAllText());
  for (const auto& row : rows) {
    nlohmann::json object = nlohmann::json::object();
    for (size_t i = 0; i < row.size() && i < names.size(); ++i)
      object[names[i]] = row[i];
    result.samples.push_back(object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  return Status::OK();
}

// Counts the rows of `failing_sql` and keeps a few of them.
Status CountFailing(engine::Connection& connection, const std::string& failing_sql,
                    QualityResult& result) {
  MW_ASSIGN_OR_RETURN(auto counted,
                      connection.QueryText(fmt::format("SELECT count(*) FROM ({})", failing_sql)));
  result.failing_rows = counted.empty() ? 0 : std::stoll(counted[0][0]);
  result.passed = result.failing_rows == 0;
  if (result.passed) return Status::OK();
  return Sample(connection, failing_sql, result);
}

std::string AnyNull(const std::vector<std::string>& columns) {
  std::string condition;
  for (const std::string& column : columns)
    condition += (condition.empty() ? "" : " OR ") + QuoteIdentifier(column) + " IS NULL";
  return condition;
}

std::string ColumnList(const std::vector<std::string>& columns) {
  std::string list;
  for (const std::string& column : columns)
    list += (list.empty() ? "" : ", ") + QuoteIdentifier(column);
  return list;
}

// The rows a rule fails on, as a condition over one row, for the rules one scan can check
// together (the others need joins, groups or their own query).
std::optional<std::string> FailingCondition(const QualityRule& rule) {
  const std::string column = rule.columns.empty() ? "" : QuoteIdentifier(rule.columns[0]);
  if (rule.rule == "not_null") return AnyNull(rule.columns);
  if (rule.rule == "accepted_values") {
    std::string values;
    for (const std::string& value : rule.values)
      values += (values.empty() ? "" : ", ") + QuoteString(value);
    return fmt::format("{} IS NOT NULL AND CAST({} AS VARCHAR) NOT IN ({})", column, column,
                       values);
  }
  if (rule.rule == "range") {
    std::string condition;
    if (rule.min) condition = fmt::format("{} < {}", column, Number(*rule.min));
    if (rule.max) {
      condition +=
          (condition.empty() ? "" : " OR ") + fmt::format("{} > {}", column, Number(*rule.max));
    }
    return condition;
  }
  if (rule.rule == "regex") {
    return fmt::format("{} IS NOT NULL AND NOT regexp_full_match(CAST({} AS VARCHAR), {})", column,
                       column, QuoteString(rule.pattern));
  }
  return std::nullopt;
}

std::string DescribeRowRule(const QualityRule& rule, int64_t failing) {
  if (rule.rule == "not_null") {
    return fmt::format("{} rows with a NULL in {}", failing, fmt::join(rule.columns, ", "));
  }
  if (rule.rule == "accepted_values") {
    return fmt::format("{} rows with a value outside [{}]", failing, fmt::join(rule.values, ", "));
  }
  if (rule.rule == "range") {
    return fmt::format("{} rows outside [{}, {}]", failing, rule.min ? Number(*rule.min) : "-inf",
                       rule.max ? Number(*rule.max) : "inf");
  }
  return fmt::format("{} rows not matching /{}/", failing, rule.pattern);
}

// Whether the files' statistics prove the rule passes (never that it fails: a failure is run
// for its rows). Null counts and record counts are exact; bounds are exact for the numeric
// types (Iceberg truncates only strings and binary).
bool ProvenByStatistics(const QualityRule& rule, const FileStatistics& statistics,
                        QualityResult& result) {
  if (statistics.files == nullptr || statistics.schema == nullptr) return false;
  const auto& files = *statistics.files;
  if (rule.rule == "row_count") {
    int64_t rows = 0;
    for (const auto& file : files)
      rows += file.record_count;
    if ((rule.min && rows < *rule.min) || (rule.max && rows > *rule.max)) return false;
    result.detail =
        fmt::format("{} rows (expected {} to {}; from the files' record counts)", rows,
                    rule.min ? Number(*rule.min) : "0", rule.max ? Number(*rule.max) : "any");
    return true;
  }
  if (rule.rule == "not_null") {
    for (const std::string& column : rule.columns) {
      const auto* field = statistics.schema->FindField(std::string_view(column));
      if (field == nullptr) return false;
      for (const auto& file : files) {
        auto nulls = file.null_value_counts.find(field->id);
        if (nulls == file.null_value_counts.end() || nulls->second != 0) return false;
      }
    }
    result.detail = fmt::format("0 rows with a NULL in {} (from the files' null counts)",
                                fmt::join(rule.columns, ", "));
    return true;
  }
  if (rule.rule == "range") {
    const auto* field = statistics.schema->FindField(std::string_view(rule.columns.at(0)));
    if (field == nullptr) return false;
    using iceberg::TypeKind;
    const TypeKind kind = field->type->kind();
    if (kind != TypeKind::kInt && kind != TypeKind::kLong && kind != TypeKind::kFloat &&
        kind != TypeKind::kDouble && kind != TypeKind::kDecimal) {
      return false;
    }
    const auto as_double = [&](const std::string& bytes) -> std::optional<double> {
      auto literal = iceberg::DeserializeValue(field->type, bytes);
      if (!literal.ok()) return std::nullopt;
      const std::string text = literal->ToString();
      char* end = nullptr;
      const double value = std::strtod(text.c_str(), &end);
      return end != text.c_str() ? std::optional<double>(value) : std::nullopt;
    };
    for (const auto& file : files) {
      if (file.record_count == 0) continue;
      auto nulls = file.null_value_counts.find(field->id);
      // A file of only NULLs has no bounds and no value out of range.
      if (nulls != file.null_value_counts.end() && nulls->second == file.record_count) continue;
      auto lower = file.lower_bounds.find(field->id);
      auto upper = file.upper_bounds.find(field->id);
      if (rule.min) {
        if (lower == file.lower_bounds.end()) return false;
        const auto value = as_double(lower->second);
        if (!value || *value < *rule.min) return false;
      }
      if (rule.max) {
        if (upper == file.upper_bounds.end()) return false;
        const auto value = as_double(upper->second);
        if (!value || *value > *rule.max) return false;
      }
    }
    result.detail =
        fmt::format("0 rows outside [{}, {}] (from the files' bounds)",
                    rule.min ? Number(*rule.min) : "-inf", rule.max ? Number(*rule.max) : "inf");
    return true;
  }
  return false;
}

Status RunRule(engine::Connection& connection, const QualityRule& rule, const std::string& relation,
               const ReferenceResolver& references, int64_t now_micros, QualityResult& result) {
  const std::string column = rule.columns.empty() ? "" : QuoteIdentifier(rule.columns[0]);
  if (rule.rule == "unique") {
    const std::string list = ColumnList(rule.columns);
    MW_RETURN_IF_ERROR(CountFailing(
        connection,
        fmt::format("SELECT {0}, count(*) AS occurrences FROM {1} WHERE NOT ({2}) GROUP BY {0} "
                    "HAVING count(*) > 1",
                    list, relation, AnyNull(rule.columns)),
        result));
    result.detail = fmt::format("{} values of ({}) occur more than once", result.failing_rows,
                                fmt::join(rule.columns, ", "));
  } else if (rule.rule == "freshness") {
    MW_ASSIGN_OR_RETURN(const int64_t max_age, ParseDurationSeconds(rule.max_age));
    // Seconds between the newest value and now; NULL when the column is empty.
    MW_ASSIGN_OR_RETURN(
        auto age, connection.QueryText(fmt::format(
                      "SELECT ({} - epoch_us(CAST(max({}) AS TIMESTAMPTZ))) // 1000000 FROM {}",
                      now_micros, column, relation)));
    const std::string& seconds = age.at(0).at(0);
    if (seconds.empty() || seconds == "NULL") {
      result.passed = false;
      result.detail = fmt::format("no values in {}", rule.columns[0]);
    } else {
      const int64_t value = std::stoll(seconds);
      result.passed = value <= max_age;
      result.detail = fmt::format("newest {} is {} s old (max age {} = {} s)", rule.columns[0],
                                  value, rule.max_age, max_age);
    }
  } else if (rule.rule == "references") {
    MW_ASSIGN_OR_RETURN(const std::string target, references(rule));
    const std::string target_column =
        QuoteIdentifier(rule.reference.substr(rule.reference.rfind('.') + 1));
    MW_RETURN_IF_ERROR(CountFailing(
        connection,
        fmt::format("SELECT s.* FROM {0} s WHERE s.{1} IS NOT NULL AND NOT EXISTS (SELECT 1 "
                    "FROM ({2}) r WHERE r.{3} = s.{1})",
                    relation, column, target, target_column),
        result));
    result.detail = fmt::format("{} rows whose {} is not in {}", result.failing_rows,
                                rule.columns[0], rule.reference);
  } else if (rule.rule == "sql") {
    MW_RETURN_IF_ERROR(CountFailing(connection, rule.sql, result));
    result.detail = fmt::format("the query returned {} failing rows", result.failing_rows);
  } else {
    return Status::Internal("unknown rule kind {}", rule.rule);
  }
  return Status::OK();
}

}  // namespace

Result<std::vector<QualityResult>> RunQualityChecks(engine::Connection& connection,
                                                    const DataProductSpec& spec, const Port& port,
                                                    const std::string& relation,
                                                    const ReferenceResolver& references,
                                                    int64_t now_micros,
                                                    const FileStatistics& statistics) {
  // The contract's own rules come first: required columns hold no NULLs, keys are unique.
  std::vector<QualityRule> rules;
  std::vector<std::string> required;
  for (const Column& column : port.columns)
    if (!column.nullable) required.push_back(column.name);
  if (!required.empty()) {
    QualityRule rule;
    rule.rule = "not_null", rule.name = "contract: required columns", rule.port = port.name;
    rule.columns = required, rule.where = port.where;
    rules.push_back(rule);
  }
  if (!port.PrimaryKey().empty()) {
    QualityRule rule;
    rule.rule = "unique", rule.name = "contract: primary key", rule.port = port.name;
    rule.columns = port.PrimaryKey(), rule.where = port.where;
    rules.push_back(rule);
  }
  const size_t implicit = rules.size();
  for (const QualityRule& rule : spec.quality)
    if (rule.port == port.name) rules.push_back(rule);

  std::vector<QualityResult> results(rules.size());
  std::vector<bool> proven(rules.size(), false);
  for (size_t i = 0; i < rules.size(); ++i)
    proven[i] = ProvenByStatistics(rules[i], statistics, results[i]);
  // One scan counts the failing rows of every row-wise rule (and the rows, for row_count).
  std::string counts;
  std::vector<size_t> scanned;
  bool need_rows = false;
  for (size_t i = 0; i < rules.size(); ++i) {
    if (proven[i]) continue;
    need_rows |= rules[i].rule == "row_count";
    if (auto condition = FailingCondition(rules[i])) {
      counts += fmt::format("count(*) FILTER (WHERE {}), ", *condition);
      scanned.push_back(i);
    }
  }
  std::vector<std::string> scan;
  if (!scanned.empty() || need_rows) {
    auto counted = connection.QueryText(fmt::format("SELECT {}count(*) FROM {}", counts, relation));
    if (!counted.ok()) {
      // Say which rule cannot run: try them one by one.
      for (size_t i : scanned) {
        auto alone = connection.QueryText(
            fmt::format("SELECT count(*) FROM {} WHERE {}", relation, *FailingCondition(rules[i])));
        if (!alone.ok()) {
          return std::move(alone)
              .error()
              .WithLocation(rules[i].where)
              .WithContext("quality rule '{}' cannot run", rules[i].name);
        }
      }
      return counted.error();
    }
    scan = counted->at(0);
  }
  for (size_t i = 0; i < rules.size(); ++i) {
    const QualityRule& rule = rules[i];
    QualityResult& result = results[i];
    result.rule = rule.name;
    result.kind = rule.rule;
    result.port = port.name;
    result.columns = rule.columns;
    result.severity = rule.severity;
    result.implicit = i < implicit;
    result.where = rule.where;
    const auto at = std::find(scanned.begin(), scanned.end(), i);
    Status ran;
    if (proven[i]) {
      result.passed = true;
    } else if (at != scanned.end()) {
      result.failing_rows = std::stoll(scan[at - scanned.begin()]);
      result.passed = result.failing_rows == 0;
      result.detail = DescribeRowRule(rule, result.failing_rows);
      if (!result.passed) {
        ran = Sample(connection,
                     fmt::format("SELECT * FROM {} WHERE {}", relation, *FailingCondition(rule)),
                     result);
      }
    } else if (rule.rule == "row_count") {
      const int64_t rows = std::stoll(scan.back());
      result.passed = !((rule.min && rows < *rule.min) || (rule.max && rows > *rule.max));
      result.detail =
          fmt::format("{} rows (expected {} to {})", rows, rule.min ? Number(*rule.min) : "0",
                      rule.max ? Number(*rule.max) : "any");
    } else {
      ran = RunRule(connection, rule, relation, references, now_micros, result);
    }
    if (!ran.ok()) {
      return std::move(ran)
          .WithLocation(rule.where)
          .WithContext("quality rule '{}' cannot run", rule.name);
    }
  }
  return results;
}

}  // namespace meshwork::product
