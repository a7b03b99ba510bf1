#include "iceberg/ddl_parser.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>

namespace meshwork::iceberg {
namespace {

// A hand-written scanner over the text: identifiers, numbers and punctuation, with positions.
class Scanner {
 public:
  Scanner(std::string_view text, std::string_view what) : text_(text), what_(what) {}

  void SkipSpaces() {
    while (offset_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[offset_])))
      ++offset_;
  }
  bool AtEnd() {
    SkipSpaces();
    return offset_ >= text_.size();
  }
  bool Peek(char c) {
    SkipSpaces();
    return offset_ < text_.size() && text_[offset_] == c;
  }
  bool Accept(char c) {
    if (!Peek(c)) return false;
    ++offset_;
    return true;
  }
  Status Expect(char c, std::string_view context) {
    if (Accept(c)) return Status::OK();
    return Error(fmt::format("expected '{}' {}", c, context));
  }
  /// Letters, digits, '_' (and '-' inside).
  std::string Identifier() {
    SkipSpaces();
    const size_t start = offset_;
    while (offset_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[offset_])) || text_[offset_] == '_')) {
      ++offset_;
    }
    return std::string(text_.substr(start, offset_ - start));
  }
  bool AcceptWord(std::string_view word) {
    SkipSpaces();
    const size_t start = offset_;
    std::string next = Identifier();
    for (char& c : next)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (next == word) return true;
    offset_ = start;
    return false;
  }
  Result<int32_t> Number(std::string_view context) {
    SkipSpaces();
    const size_t start = offset_;
    while (offset_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[offset_])))
      ++offset_;
    int32_t value = 0;
    auto [end, error] = std::from_chars(text_.data() + start, text_.data() + offset_, value);
    if (start == offset_ || error != std::errc()) {
      offset_ = start;
      return Error(fmt::format("expected a number {}", context));
    }
    (void)end;
    return value;
  }
  Status Error(std::string_view message) const {
    const std::string near = offset_ < text_.size()
                                 ? fmt::format(" near '{}'", text_.substr(offset_, 20))
                                 : " at the end";
    return Status::InvalidArgument("{} at position {}{}: {}", what_, offset_ + 1, near, message);
  }
  size_t offset() const { return offset_; }

 private:
  std::string_view text_;
  std::string_view what_;
  size_t offset_ = 0;
};

constexpr int kMaxTypeDepth = 32;

// Parses a type; nested field ids are placeholders (0) that AssignIds fills in.
Result<TypePtr> ParseType(Scanner& scanner, int depth) {
  if (depth > kMaxTypeDepth) return scanner.Error("types nest too deeply");
  const std::string name = scanner.Identifier();
  std::string lower = name;
  for (char& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.empty()) {
    return scanner.Error(
        "expected a type (boolean, int, long, float, double, decimal(P,S), date, time, "
        "timestamp, timestamptz, string, uuid, fixed(L), binary, list<...>, map<...>, "
        "struct<...>)");
  }
  if (lower == "list" || lower == "array") {
    MW_RETURN_IF_ERROR(scanner.Expect('<', "after list"));
    MW_ASSIGN_OR_RETURN(TypePtr element, ParseType(scanner, depth + 1));
    const bool required = scanner.AcceptWord("not") ? scanner.AcceptWord("null") : false;
    MW_RETURN_IF_ERROR(scanner.Expect('>', "to close list<...>"));
    return Type::List(0, std::move(element), required);
  }
  if (lower == "map") {
    MW_RETURN_IF_ERROR(scanner.Expect('<', "after map"));
    MW_ASSIGN_OR_RETURN(TypePtr key, ParseType(scanner, depth + 1));
    MW_RETURN_IF_ERROR(scanner.Expect(',', "between the key and value types of map<K, V>"));
    MW_ASSIGN_OR_RETURN(TypePtr value, ParseType(scanner, depth + 1));
    const bool required = scanner.AcceptWord("not") ? scanner.AcceptWord("null") : false;
    MW_RETURN_IF_ERROR(scanner.Expect('>', "to close map<...>"));
    return Type::Map(0, std::move(key), 0, std::move(value), required);
  }
  if (lower == "struct") {
    MW_RETURN_IF_ERROR(scanner.Expect('<', "after struct"));
    std::vector<NestedField> fields;
    do {
      NestedField field;
      field.name = scanner.Identifier();
      if (field.name.empty()) return scanner.Error("expected a field name in struct<...>");
      MW_RETURN_IF_ERROR(scanner.Expect(':', "after the struct field name '" + field.name + "'"));
      MW_ASSIGN_OR_RETURN(field.type, ParseType(scanner, depth + 1));
      field.required = scanner.AcceptWord("not") && scanner.AcceptWord("null");
      fields.push_back(std::move(field));
    } while (scanner.Accept(','));
    MW_RETURN_IF_ERROR(scanner.Expect('>', "to close struct<...>"));
    return Type::Struct(std::move(fields));
  }
  if (lower == "decimal" || lower == "numeric") {
    MW_RETURN_IF_ERROR(scanner.Expect('(', "after decimal: write decimal(P, S)"));
    MW_ASSIGN_OR_RETURN(int32_t precision, scanner.Number("for the decimal precision"));
    MW_RETURN_IF_ERROR(scanner.Expect(',', "between decimal precision and scale"));
    MW_ASSIGN_OR_RETURN(int32_t scale, scanner.Number("for the decimal scale"));
    MW_RETURN_IF_ERROR(scanner.Expect(')', "to close decimal(P, S)"));
    return Type::ParsePrimitive(fmt::format("decimal({}, {})", precision, scale));
  }
  if (lower == "fixed") {
    // fixed(L), or fixed[L] as Iceberg writes it.
    const bool bracket = scanner.Accept('[');
    if (!bracket) MW_RETURN_IF_ERROR(scanner.Expect('(', "after fixed: write fixed(L)"));
    MW_ASSIGN_OR_RETURN(int32_t length, scanner.Number("for the fixed length"));
    MW_RETURN_IF_ERROR(scanner.Expect(bracket ? ']' : ')', "to close fixed(L)"));
    return Type::ParsePrimitive(fmt::format("fixed[{}]", length));
  }
  static const std::vector<std::pair<std::string_view, std::string_view>> kAliases = {
      {"bool", "boolean"}, {"integer", "int"},    {"bigint", "long"},
      {"real", "float"},   {"varchar", "string"}, {"text", "string"},
      {"bytes", "binary"}, {"blob", "binary"},    {"timestamp_tz", "timestamptz"},
  };
  for (const auto& [alias, canonical] : kAliases) {
    if (lower == alias) lower = canonical;
  }
  auto type = Type::ParsePrimitive(lower);
  if (!type.ok()) {
    return scanner.Error(type.error().message()).WithHint(type.error().hint());
  }
  return type;
}

// Gives every nested field an id: the fields of one struct/list/map first, then their children.
TypePtr AssignIds(const TypePtr& type, int32_t& next_id) {
  if (type->is_primitive()) return type;
  std::vector<NestedField> fields = type->fields();
  for (NestedField& field : fields)
    field.id = next_id++;
  for (NestedField& field : fields)
    field.type = AssignIds(field.type, next_id);
  switch (type->kind()) {
    case TypeKind::kList:
      return Type::List(fields[0].id, fields[0].type, fields[0].required);
    case TypeKind::kMap:
      return Type::Map(fields[0].id, fields[0].type, fields[1].id, fields[1].type,
                       fields[1].required);
    default:
      return Type::Struct(std::move(fields));
  }
}

std::string TypeToDdl(const Type& type) {
  switch (type.kind()) {
    case TypeKind::kDecimal:
      return fmt::format("decimal({},{})", type.precision(), type.scale());
    case TypeKind::kFixed:
      return fmt::format("fixed({})", type.length());
    case TypeKind::kList:
      return fmt::format("list<{}{}>", TypeToDdl(*type.fields()[0].type),
                         type.fields()[0].required ? " not null" : "");
    case TypeKind::kMap:
      return fmt::format("map<{}, {}{}>", TypeToDdl(*type.fields()[0].type),
                         TypeToDdl(*type.fields()[1].type),
                         type.fields()[1].required ? " not null" : "");
    case TypeKind::kStruct: {
      std::string text = "struct<";
      for (size_t index = 0; index < type.fields().size(); ++index) {
        const NestedField& field = type.fields()[index];
        text += fmt::format("{}{}: {}{}", index > 0 ? ", " : "", field.name, TypeToDdl(*field.type),
                            field.required ? " not null" : "");
      }
      return text + ">";
    }
    default:
      return type.ToString();
  }
}

}  // namespace

Result<Schema> ParseColumnList(std::string_view text) {
  Scanner scanner(text, "schema");
  std::vector<NestedField> columns;
  do {
    NestedField column;
    column.name = scanner.Identifier();
    if (column.name.empty()) return scanner.Error("expected a column name");
    MW_ASSIGN_OR_RETURN(column.type, ParseType(scanner, 0));
    if (scanner.AcceptWord("not")) {
      if (!scanner.AcceptWord("null")) return scanner.Error("expected 'null' after 'not'");
      column.required = true;
    } else if (scanner.AcceptWord("required")) {
      column.required = true;
    }
    columns.push_back(std::move(column));
  } while (scanner.Accept(','));
  if (!scanner.AtEnd()) return scanner.Error("expected ',' or the end of the column list");
  int32_t next_id = 1;
  for (NestedField& column : columns)
    column.id = next_id++;
  for (NestedField& column : columns)
    column.type = AssignIds(column.type, next_id);
  auto schema = Schema::Make(0, std::move(columns));
  if (!schema.ok()) return std::move(schema).error().WithContext("schema");
  return schema;
}

std::string ToColumnList(const Schema& schema) {
  std::string text;
  for (const NestedField& field : schema.fields()) {
    if (!text.empty()) text += ", ";
    text += fmt::format("{} {}{}", field.name, TypeToDdl(*field.type),
                        field.required ? " not null" : "");
  }
  return text;
}

Result<PartitionSpec> ParsePartitionExpression(std::string_view text, const Schema& schema) {
  std::vector<PartitionField> fields;
  Scanner scanner(text, "partition");
  if (scanner.AtEnd()) return PartitionSpec::Unpartitioned();
  int32_t next_id = PartitionSpec::kFirstFieldId;
  do {
    const size_t start = scanner.offset();
    std::string name = scanner.Identifier();
    if (name.empty()) return scanner.Error("expected a column or a transform such as day(ts)");
    std::string column;
    Transform transform = Transform::Identity();
    std::string suffix;
    if (scanner.Accept('(')) {
      std::string function = name;
      for (char& c : function)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (function == "bucket" || function == "truncate") {
        MW_ASSIGN_OR_RETURN(
            int32_t parameter,
            scanner.Number(fmt::format("as the first argument of {}(N, column)", function)));
        if (parameter <= 0) return scanner.Error(function + " needs a positive number");
        MW_RETURN_IF_ERROR(scanner.Expect(',', "after the number in " + function + "(N, column)"));
        transform =
            function == "bucket" ? Transform::Bucket(parameter) : Transform::Truncate(parameter);
        suffix = function == "bucket" ? "_bucket" : "_trunc";
      } else if (function == "year" || function == "years") {
        transform = Transform::Year(), suffix = "_year";
      } else if (function == "month" || function == "months") {
        transform = Transform::Month(), suffix = "_month";
      } else if (function == "day" || function == "days") {
        transform = Transform::Day(), suffix = "_day";
      } else if (function == "hour" || function == "hours") {
        transform = Transform::Hour(), suffix = "_hour";
      } else if (function == "identity") {
        transform = Transform::Identity();
      } else if (function == "void") {
        transform = Transform::Void(), suffix = "_null";
      } else {
        return Status::InvalidArgument("partition at position {}: unknown transform '{}'",
                                       start + 1, name)
            .WithHint(
                "use identity, bucket(N, col), truncate(W, col), year, month, day, hour "
                "or void");
      }
      column = scanner.Identifier();
      if (column.empty()) return scanner.Error("expected a column name");
      MW_RETURN_IF_ERROR(scanner.Expect(')', "to close " + name + "(...)"));
    } else {
      column = name;
    }
    const NestedField* source = schema.FindField(column);
    if (source == nullptr) {
      return Status::InvalidArgument("partition at position {}: the schema has no column '{}'",
                                     start + 1, column)
          .WithHint("columns: " + ToColumnList(schema));
    }
    if (!transform.CanTransform(*source->type)) {
      return Status::InvalidArgument(
                 "partition at position {}: {} cannot be applied to column '{}' of type {}",
                 start + 1, transform.ToString(), column, source->type->ToString())
          .WithHint(
              "bucket needs int, long, decimal, date, time, timestamp, string, uuid, "
              "fixed or binary; truncate int, long, decimal, string or binary; "
              "year/month/day a date or timestamp; hour a timestamp");
    }
    fields.push_back({source->id, next_id++, column + suffix, transform});
  } while (scanner.Accept(','));
  if (!scanner.AtEnd()) return scanner.Error("expected ',' or the end of the partition list");
  PartitionSpec spec(0, std::move(fields));
  MW_RETURN_IF_ERROR(spec.Validate(schema));
  return spec;
}

std::string ToPartitionExpression(const PartitionSpec& spec, const Schema& schema) {
  std::string text;
  for (const PartitionField& field : spec.fields()) {
    if (!text.empty()) text += ", ";
    const std::string column = schema.FullName(field.source_id);
    switch (field.transform.kind()) {
      case Transform::Kind::kIdentity:
        text += column;
        break;
      case Transform::Kind::kBucket:
      case Transform::Kind::kTruncate:
        text +=
            fmt::format("{}({}, {})",
                        field.transform.kind() == Transform::Kind::kBucket ? "bucket" : "truncate",
                        field.transform.parameter(), column);
        break;
      default:
        text += fmt::format("{}({})", field.transform.ToString(), column);
    }
  }
  return text.empty() ? "(unpartitioned)" : text;
}

Result<SortOrder> ParseSortOrder(std::string_view text, const Schema& schema) {
  SortOrder order;
  Scanner scanner(text, "sort order");
  if (scanner.AtEnd()) return order;
  order.order_id = 1;
  do {
    const size_t start = scanner.offset();
    const std::string column = scanner.Identifier();
    if (column.empty()) return scanner.Error("expected a column name");
    if (scanner.Peek('(')) {
      return Status::NotImplemented(
                 "sort order at position {}: sorting by a transform ({}(...)) "
                 "is not supported yet",
                 start + 1, column)
          .WithHint("sort by columns: 'ts desc, id'");
    }
    const NestedField* source = schema.FindField(column);
    if (source == nullptr) {
      return Status::InvalidArgument("sort order at position {}: the schema has no column '{}'",
                                     start + 1, column)
          .WithHint("columns: " + ToColumnList(schema));
    }
    if (!source->type->is_primitive()) {
      return Status::InvalidArgument(
                 "sort order at position {}: column '{}' is a {}, which cannot be sorted by",
                 start + 1, column, source->type->ToString())
          .WithHint("sort by primitive columns");
    }
    SortField field;
    field.source_id = source->id;
    if (scanner.AcceptWord("desc")) {
      field.ascending = false;
    } else {
      (void)scanner.AcceptWord("asc");
    }
    field.nulls_first = field.ascending;
    if (scanner.AcceptWord("nulls")) {
      if (scanner.AcceptWord("first")) {
        field.nulls_first = true;
      } else if (scanner.AcceptWord("last")) {
        field.nulls_first = false;
      } else {
        return scanner.Error("expected FIRST or LAST after NULLS");
      }
    }
    for (const SortField& existing : order.fields) {
      if (existing.source_id == field.source_id) {
        return scanner.Error(fmt::format("column '{}' appears twice", column));
      }
    }
    order.fields.push_back(field);
  } while (scanner.Accept(','));
  if (!scanner.AtEnd()) {
    return scanner.Error("expected ',', ASC, DESC, NULLS FIRST/LAST or the end of the sort order");
  }
  return order;
}

std::string ToSortExpression(const SortOrder& order, const Schema& schema) {
  std::string text;
  for (const SortField& field : order.fields) {
    text +=
        fmt::format("{}{} {} nulls {}", text.empty() ? "" : ", ", schema.FullName(field.source_id),
                    field.ascending ? "asc" : "desc", field.nulls_first ? "first" : "last");
  }
  return text.empty() ? "(unsorted)" : text;
}

}  // namespace meshwork::iceberg
