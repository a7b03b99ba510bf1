#include "iceberg/rest_scan.h"

#include <algorithm>
#include <cctype>

#include "iceberg/json_reader.h"
#include "iceberg/literal_text.h"
#include "iceberg/value_codec.h"

namespace meshwork::iceberg {
namespace {

ExpressionPtr True() {
  return std::make_shared<Expression>();
}

// A term is a column name or {"type": "reference", "term": name}; transform terms cannot prune.
Result<const NestedField*> ResolveTerm(const nlohmann::json& term, const Schema& schema,
                                       bool case_sensitive, const std::string& path,
                                       bool& prunable) {
  prunable = true;
  std::string name;
  if (term.is_string()) {
    name = term.get<std::string>();
  } else if (term.is_object() && json::StringOr(term, "type", "") == "reference") {
    name = json::StringOr(term, "term", "");
  } else if (term.is_object() && json::StringOr(term, "type", "") == "transform") {
    prunable = false;
    return nullptr;
  } else {
    return Status::InvalidArgument("{}: expected a column name or a reference", path);
  }
  const NestedField* field = schema.FindField(name);
  if (field == nullptr && !case_sensitive) {
    auto lower = [](std::string text) {
      for (char& c : text)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return text;
    };
    for (int32_t id = 1; id <= schema.HighestFieldId() && field == nullptr; ++id) {
      const NestedField* candidate = schema.FindField(id);
      if (candidate != nullptr && lower(schema.FullName(id)) == lower(name)) field = candidate;
    }
  }
  if (field == nullptr) {
    return Status::InvalidArgument("{}: the table has no column '{}'", path, name);
  }
  if (!field->type->is_primitive()) {
    return Status::InvalidArgument("{}: column '{}' is not a primitive", path, name);
  }
  return field;
}

Result<Literal> ValueFor(const NestedField& field, const nlohmann::json& value,
                         const std::string& path) {
  std::string text;
  if (value.is_string()) {
    text = value.get<std::string>();
  } else if (value.is_number() || value.is_boolean()) {
    text = value.dump();
  } else {
    return Status::InvalidArgument("{}: expected a primitive value", path);
  }
  auto literal = ParseLiteralText(field.type, text);
  if (!literal.ok()) {
    return std::move(literal).error().WithContext("{}: value for column '{}'", path, field.name);
  }
  return literal;
}

Result<ExpressionPtr> Convert(const nlohmann::json& value, const Schema& schema,
                              bool case_sensitive, bool negate, const std::string& path,
                              int depth) {
  if (depth > 100) return Status::InvalidArgument("{}: the filter is nested too deeply", path);
  if (value.is_boolean()) {
    return (value.get<bool>() != negate) ? True() : ExpressionPtr(nullptr);
  }
  if (!value.is_object()) return Status::InvalidArgument("{}: expected an expression object", path);
  const std::string type = json::StringOr(value, "type", "");
  auto child = [&](const char* key, bool flip) -> Result<ExpressionPtr> {
    if (!value.contains(key)) return Status::InvalidArgument("{}.{}: required, missing", path, key);
    return Convert(value[key], schema, case_sensitive, flip, path + "." + key, depth + 1);
  };
  if (type == "true" || type == "false") {
    return ((type == "true") != negate) ? True() : ExpressionPtr(nullptr);
  }
  if (type == "and" || type == "or") {
    MW_ASSIGN_OR_RETURN(ExpressionPtr left, child("left", negate));
    MW_ASSIGN_OR_RETURN(ExpressionPtr right, child("right", negate));
    // De Morgan when negated: NOT (a AND b) = NOT a OR NOT b.
    const bool conjunction = (type == "and") != negate;
    // nullptr stands for "false".
    if (conjunction) {
      if (left == nullptr || right == nullptr) return ExpressionPtr(nullptr);
    } else {
      if (left == nullptr) return right;
      if (right == nullptr) return left;
    }
    auto combined = std::make_shared<Expression>();
    combined->kind = conjunction ? Expression::Kind::kAnd : Expression::Kind::kOr;
    combined->left = left;
    combined->right = right;
    return ExpressionPtr(combined);
  }
  if (type == "not") return child("child", !negate);

  static const std::map<std::string, CompareOp, std::less<>> kCompare = {
      {"eq", CompareOp::kEq},      {"not-eq", CompareOp::kNotEq}, {"lt", CompareOp::kLt},
      {"lt-eq", CompareOp::kLtEq}, {"gt", CompareOp::kGt},        {"gt-eq", CompareOp::kGtEq}};
  static const std::map<std::string, std::string, std::less<>> kKnownOther = {
      {"in", ""},     {"not-in", ""},  {"is-null", ""},     {"not-null", ""},
      {"is-nan", ""}, {"not-nan", ""}, {"starts-with", ""}, {"not-starts-with", ""}};
  const bool compare = kCompare.contains(type);
  if (!compare && !kKnownOther.contains(type)) {
    return Status::InvalidArgument("{}.type: unknown expression '{}'", path, type);
  }
  if (!value.contains("term")) return Status::InvalidArgument("{}.term: required, missing", path);
  bool prunable = true;
  MW_ASSIGN_OR_RETURN(const NestedField* field,
                      ResolveTerm(value["term"], schema, case_sensitive, path + ".term", prunable));
  if (!prunable) return True();
  auto result = std::make_shared<Expression>();
  result->field_id = field->id;
  result->column = schema.FullName(field->id);
  if (compare) {
    if (!value.contains("value"))
      return Status::InvalidArgument("{}.value: required, missing", path);
    MW_ASSIGN_OR_RETURN(Literal literal, ValueFor(*field, value["value"], path + ".value"));
    static const std::map<CompareOp, CompareOp> kInverse = {
        {CompareOp::kEq, CompareOp::kNotEq}, {CompareOp::kNotEq, CompareOp::kEq},
        {CompareOp::kLt, CompareOp::kGtEq},  {CompareOp::kLtEq, CompareOp::kGt},
        {CompareOp::kGt, CompareOp::kLtEq},  {CompareOp::kGtEq, CompareOp::kLt}};
    const CompareOp op = kCompare.at(type);
    result->kind = Expression::Kind::kCompare;
    result->op = negate ? kInverse.at(op) : op;
    result->values.push_back(std::move(literal));
    return ExpressionPtr(result);
  }
  if (type == "is-null" || type == "not-null") {
    result->kind =
        (type == "is-null") != negate ? Expression::Kind::kIsNull : Expression::Kind::kNotNull;
    return ExpressionPtr(result);
  }
  if (type == "in" || type == "not-in") {
    if (!value.contains("values") || !value["values"].is_array()) {
      return Status::InvalidArgument("{}.values: expected an array", path);
    }
    for (size_t i = 0; i < value["values"].size(); ++i) {
      MW_ASSIGN_OR_RETURN(Literal literal, ValueFor(*field, value["values"][i],
                                                    json::IndexPath(path + ".values", i)));
      result->values.push_back(std::move(literal));
    }
    if ((type == "in") == negate) return True();  // NOT IN prunes nothing here
    if (result->values.empty()) return ExpressionPtr(nullptr);
    result->kind = Expression::Kind::kIn;
    return ExpressionPtr(result);
  }
  return True();  // NaN checks and prefixes: the client filters
}

std::string UpperHex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

nlohmann::json CountMap(const std::map<int32_t, int64_t>& counts) {
  nlohmann::json keys = nlohmann::json::array(), values = nlohmann::json::array();
  for (const auto& [id, count] : counts) {
    keys.push_back(id);
    values.push_back(count);
  }
  return {{"keys", keys}, {"values", values}};
}

nlohmann::json ValueMap(const std::map<int32_t, std::string>& bounds, const Schema& schema) {
  nlohmann::json keys = nlohmann::json::array(), values = nlohmann::json::array();
  for (const auto& [id, bytes] : bounds) {
    const NestedField* field = schema.FindField(id);
    if (field == nullptr || !field->type->is_primitive()) continue;
    auto literal = DeserializeValue(field->type, bytes);
    if (!literal.ok()) continue;
    keys.push_back(id);
    values.push_back(LiteralToJson(*literal));
  }
  return {{"keys", keys}, {"values", values}};
}

bool SamePartition(const DataFile& a, const DataFile& b) {
  return a.partition_spec_id == b.partition_spec_id && a.partition == b.partition;
}

// Whether a delete file applies to a data file (spec "Scan Planning").
bool Applies(const DataFile& deletes, const DataFile& data) {
  if (deletes.content == FileContent::kPositionDeletes) {
    if (deletes.referenced_data_file && *deletes.referenced_data_file != data.file_path) {
      return false;
    }
    return deletes.data_sequence_number >= data.data_sequence_number &&
           (deletes.partition.empty() || SamePartition(deletes, data));
  }
  return deletes.data_sequence_number > data.data_sequence_number &&
         (deletes.partition.empty() || SamePartition(deletes, data));
}

}  // namespace

Result<ExpressionPtr> ExpressionFromJson(const nlohmann::json& value, const Schema& schema,
                                         bool case_sensitive) {
  MW_ASSIGN_OR_RETURN(ExpressionPtr expression,
                      Convert(value, schema, case_sensitive, false, "filter", 0));
  if (expression != nullptr) return expression;
  // "false": nothing matches. An IN over no values on any column says so to the planner.
  auto none = std::make_shared<Expression>();
  none->kind = Expression::Kind::kIn;
  if (!schema.fields().empty()) {
    none->field_id = schema.fields().front().id;
    none->column = schema.fields().front().name;
  }
  return ExpressionPtr(none);
}

nlohmann::json LiteralToJson(const Literal& literal) {
  switch (literal.type()->kind()) {
    case TypeKind::kBoolean:
      return literal.as<bool>();
    case TypeKind::kInt:
      return literal.as<int32_t>();
    case TypeKind::kLong:
      return literal.as<int64_t>();
    case TypeKind::kFloat:
    case TypeKind::kDouble: {
      const double number = literal.type()->kind() == TypeKind::kFloat
                                ? static_cast<double>(literal.as<float>())
                                : literal.as<double>();
      if (std::isnan(number) || std::isinf(number)) return literal.ToString();
      return number;
    }
    case TypeKind::kFixed:
    case TypeKind::kBinary:
      return UpperHex(literal.as<Bytes>().data);
    default:
      return literal.ToString();
  }
}

nlohmann::json ContentFileToJson(const DataFile& file, const Schema& schema) {
  std::string format = file.file_format;
  for (char& c : format)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  nlohmann::json partition = nlohmann::json::array();
  for (const auto& value : file.partition) {
    partition.push_back(value ? LiteralToJson(*value) : nlohmann::json(nullptr));
  }
  nlohmann::json json = {
      {"content", file.content == FileContent::kData              ? "data"
                  : file.content == FileContent::kPositionDeletes ? "position-deletes"
                                                                  : "equality-deletes"},
      {"file-path", file.file_path},
      {"file-format", format},
      {"spec-id", file.partition_spec_id},
      {"partition", partition},
      {"file-size-in-bytes", file.file_size_in_bytes},
      {"record-count", file.record_count}};
  if (!file.split_offsets.empty()) json["split-offsets"] = file.split_offsets;
  if (file.sort_order_id) json["sort-order-id"] = *file.sort_order_id;
  if (file.content == FileContent::kData) {
    json["column-sizes"] = CountMap(file.column_sizes);
    json["value-counts"] = CountMap(file.value_counts);
    json["null-value-counts"] = CountMap(file.null_value_counts);
    json["nan-value-counts"] = CountMap(file.nan_value_counts);
    json["lower-bounds"] = ValueMap(file.lower_bounds, schema);
    json["upper-bounds"] = ValueMap(file.upper_bounds, schema);
  } else if (file.content == FileContent::kEqualityDeletes) {
    json["equality-ids"] = file.equality_ids;
  }
  return json;
}

nlohmann::json ScanTasksToJson(const ScanPlan& plan, const Schema& schema, size_t begin, size_t end,
                               const nlohmann::json& residual_filter) {
  nlohmann::json tasks = nlohmann::json::array();
  nlohmann::json delete_files = nlohmann::json::array();
  std::map<size_t, size_t> delete_index;  // position in plan.delete_files → in delete_files
  end = std::min(end, plan.files.size());
  for (size_t i = begin; i < end; ++i) {
    const DataFile& data = plan.files[i];
    nlohmann::json task = {{"data-file", ContentFileToJson(data, schema)}};
    nlohmann::json references = nlohmann::json::array();
    for (size_t d = 0; d < plan.delete_files.size(); ++d) {
      if (!Applies(plan.delete_files[d], data)) continue;
      auto [found, inserted] = delete_index.emplace(d, delete_files.size());
      if (inserted) delete_files.push_back(ContentFileToJson(plan.delete_files[d], schema));
      references.push_back(found->second);
    }
    if (!references.empty()) task["delete-file-references"] = references;
    if (!residual_filter.is_null()) task["residual-filter"] = residual_filter;
    tasks.push_back(std::move(task));
  }
  nlohmann::json result = {{"file-scan-tasks", tasks}};
  if (!delete_files.empty()) result["delete-files"] = delete_files;
  return result;
}

}  // namespace meshwork::iceberg
