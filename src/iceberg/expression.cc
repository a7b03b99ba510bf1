#include "iceberg/expression.h"

#include <fmt/format.h>

#include <cctype>

#include "iceberg/literal_text.h"
#include "iceberg/sql_text.h"

namespace meshwork::iceberg {
namespace {

class FilterParser {
 public:
  FilterParser(std::string_view text, const Schema& schema) : text_(text), schema_(schema) {}

  Result<ExpressionPtr> Parse() {
    MW_ASSIGN_OR_RETURN(ExpressionPtr expression, Or(false, 0));
    SkipSpaces();
    if (offset_ < text_.size()) return Error("expected 'and', 'or' or the end of the filter");
    return expression;
  }

 private:
  static constexpr int kMaxDepth = 64;

  void SkipSpaces() {
    while (offset_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[offset_])))
      ++offset_;
  }
  Status Error(std::string_view message) const {
    const std::string near = offset_ < text_.size()
                                 ? fmt::format(" near '{}'", text_.substr(offset_, 20))
                                 : " at the end";
    return Status::InvalidArgument("filter at position {}{}: {}", offset_ + 1, near, message);
  }
  bool AcceptWord(std::string_view word) {
    SkipSpaces();
    if (offset_ + word.size() > text_.size()) return false;
    for (size_t index = 0; index < word.size(); ++index) {
      if (std::tolower(static_cast<unsigned char>(text_[offset_ + index])) != word[index]) {
        return false;
      }
    }
    const size_t end = offset_ + word.size();
    if (end < text_.size() &&
        (std::isalnum(static_cast<unsigned char>(text_[end])) || text_[end] == '_')) {
      return false;
    }
    offset_ = end;
    return true;
  }
  bool Accept(std::string_view symbol) {
    SkipSpaces();
    if (text_.substr(offset_, symbol.size()) != symbol) return false;
    offset_ += symbol.size();
    return true;
  }

  static ExpressionPtr Combine(Expression::Kind kind, ExpressionPtr left, ExpressionPtr right) {
    auto node = std::make_shared<Expression>();
    node->kind = kind;
    node->left = std::move(left);
    node->right = std::move(right);
    return node;
  }

  // `negate` pushes a pending NOT down: De Morgan for and/or, inverse operators below.
  Result<ExpressionPtr> Or(bool negate, int depth) {
    MW_ASSIGN_OR_RETURN(ExpressionPtr left, And(negate, depth));
    while (AcceptWord("or")) {
      MW_ASSIGN_OR_RETURN(ExpressionPtr right, And(negate, depth));
      left = Combine(negate ? Expression::Kind::kAnd : Expression::Kind::kOr, left, right);
    }
    return left;
  }
  Result<ExpressionPtr> And(bool negate, int depth) {
    MW_ASSIGN_OR_RETURN(ExpressionPtr left, Not(negate, depth));
    while (AcceptWord("and")) {
      MW_ASSIGN_OR_RETURN(ExpressionPtr right, Not(negate, depth));
      left = Combine(negate ? Expression::Kind::kOr : Expression::Kind::kAnd, left, right);
    }
    return left;
  }
  Result<ExpressionPtr> Not(bool negate, int depth) {
    if (depth > kMaxDepth) return Error("the filter nests too deeply");
    if (AcceptWord("not")) return Not(!negate, depth + 1);
    if (Accept("(")) {
      MW_ASSIGN_OR_RETURN(ExpressionPtr inner, Or(negate, depth + 1));
      if (!Accept(")")) return Error("expected ')'");
      return inner;
    }
    return Predicate(negate);
  }

  Result<std::string> Identifier() {
    SkipSpaces();
    if (offset_ < text_.size() && text_[offset_] == '"') {
      std::string name;
      for (++offset_; offset_ < text_.size(); ++offset_) {
        if (text_[offset_] == '"') {
          if (offset_ + 1 < text_.size() && text_[offset_ + 1] == '"') {
            name += '"';
            ++offset_;
            continue;
          }
          ++offset_;
          return name;
        }
        name += text_[offset_];
      }
      return Error("unterminated quoted column name");
    }
    const size_t start = offset_;
    while (offset_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[offset_])) ||
                                      text_[offset_] == '_' || text_[offset_] == '.')) {
      ++offset_;
    }
    if (start == offset_) return Error("expected a column name");
    return std::string(text_.substr(start, offset_ - start));
  }

  Result<Literal> Value(const NestedField& field) {
    SkipSpaces();
    std::string raw;
    if (offset_ < text_.size() && text_[offset_] == '\'') {
      for (++offset_;; ++offset_) {
        if (offset_ >= text_.size()) return Error("unterminated string literal");
        if (text_[offset_] == '\'') {
          if (offset_ + 1 < text_.size() && text_[offset_ + 1] == '\'') {
            raw += '\'';
            ++offset_;
            continue;
          }
          ++offset_;
          break;
        }
        raw += text_[offset_];
      }
    } else {
      const size_t start = offset_;
      while (offset_ < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[offset_])) || text_[offset_] == '.' ||
              text_[offset_] == '-' || text_[offset_] == '+')) {
        ++offset_;
      }
      if (start == offset_) return Error("expected a value");
      raw = std::string(text_.substr(start, offset_ - start));
    }
    auto literal = ParseLiteralText(field.type, raw);
    if (!literal.ok()) {
      const std::string& hint = literal.error().hint();
      return Error(fmt::format("{} (column '{}' is {}){}", literal.error().message(), field.name,
                               field.type->ToString(), hint.empty() ? "" : "; " + hint));
    }
    return literal;
  }

  static CompareOp Invert(CompareOp op) {
    switch (op) {
      case CompareOp::kEq:
        return CompareOp::kNotEq;
      case CompareOp::kNotEq:
        return CompareOp::kEq;
      case CompareOp::kLt:
        return CompareOp::kGtEq;
      case CompareOp::kLtEq:
        return CompareOp::kGt;
      case CompareOp::kGt:
        return CompareOp::kLtEq;
      case CompareOp::kGtEq:
        return CompareOp::kLt;
    }
    return op;
  }

  Result<ExpressionPtr> Predicate(bool negate) {
    const size_t start = offset_;
    MW_ASSIGN_OR_RETURN(std::string name, Identifier());
    const NestedField* field = schema_.FindField(name);
    if (field == nullptr) {
      offset_ = start;
      return Error(fmt::format("the table has no column '{}'", name));
    }
    if (!field->type->is_primitive()) {
      offset_ = start;
      return Error(fmt::format("column '{}' is {}; filters compare primitive columns", name,
                               field->type->ToString()));
    }
    auto node = std::make_shared<Expression>();
    node->field_id = field->id;
    node->column = name;
    if (AcceptWord("is")) {
      const bool not_null = AcceptWord("not");
      if (!AcceptWord("null")) return Error("expected 'null' after 'is'");
      node->kind = (not_null != negate) ? Expression::Kind::kNotNull : Expression::Kind::kIsNull;
      return ExpressionPtr(node);
    }
    const bool not_in = AcceptWord("not");
    if (AcceptWord("in")) {
      if (!Accept("(")) return Error("expected '(' after 'in'");
      do {
        MW_ASSIGN_OR_RETURN(Literal value, Value(*field));
        node->values.push_back(std::move(value));
      } while (Accept(","));
      if (!Accept(")")) return Error("expected ',' or ')' in the value list");
      if (not_in != negate) {
        // NOT IN (a, b) = (x != a AND x != b).
        ExpressionPtr result;
        for (const Literal& value : node->values) {
          auto compare = std::make_shared<Expression>(*node);
          compare->kind = Expression::Kind::kCompare;
          compare->op = CompareOp::kNotEq;
          compare->values = {value};
          result = result ? Combine(Expression::Kind::kAnd, result, compare) : compare;
        }
        return result;
      }
      node->kind = Expression::Kind::kIn;
      return ExpressionPtr(node);
    }
    if (not_in) return Error("expected 'in' after 'not'");
    if (AcceptWord("between")) {
      MW_ASSIGN_OR_RETURN(Literal low, Value(*field));
      if (!AcceptWord("and")) return Error("expected 'and' in 'between ... and ...'");
      MW_ASSIGN_OR_RETURN(Literal high, Value(*field));
      auto lower = std::make_shared<Expression>(*node);
      lower->kind = Expression::Kind::kCompare;
      lower->op = negate ? CompareOp::kLt : CompareOp::kGtEq;
      lower->values = {low};
      auto upper = std::make_shared<Expression>(*node);
      upper->kind = Expression::Kind::kCompare;
      upper->op = negate ? CompareOp::kGt : CompareOp::kLtEq;
      upper->values = {high};
      return Combine(negate ? Expression::Kind::kOr : Expression::Kind::kAnd, lower, upper);
    }
    node->kind = Expression::Kind::kCompare;
    if (Accept("<=")) {
      node->op = CompareOp::kLtEq;
    } else if (Accept(">=")) {
      node->op = CompareOp::kGtEq;
    } else if (Accept("<>") || Accept("!=")) {
      node->op = CompareOp::kNotEq;
    } else if (Accept("<")) {
      node->op = CompareOp::kLt;
    } else if (Accept(">")) {
      node->op = CompareOp::kGt;
    } else if (Accept("=")) {
      node->op = CompareOp::kEq;
    } else {
      return Error("expected a comparison (=, !=, <, <=, >, >=), in, between or is [not] null");
    }
    if (negate) node->op = Invert(node->op);
    MW_ASSIGN_OR_RETURN(Literal value, Value(*field));
    node->values.push_back(std::move(value));
    return ExpressionPtr(node);
  }

  std::string_view text_;
  const Schema& schema_;
  size_t offset_ = 0;
};

std::string_view OpSql(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "=";
    case CompareOp::kNotEq:
      return "<>";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLtEq:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGtEq:
      return ">=";
  }
  return "=";
}

bool Less(const Literal& a, const Literal& b) {
  return a.Compare(b) == std::partial_ordering::less;
}

}  // namespace

Result<ExpressionPtr> ParseFilter(std::string_view text, const Schema& schema) {
  if (text.find_first_not_of(" \t\n") == std::string_view::npos) {
    return ExpressionPtr(std::make_shared<Expression>());
  }
  if (text.size() > 100000)
    return Status::InvalidArgument("the filter is longer than 100000 bytes");
  FilterParser parser(text, schema);
  return parser.Parse();
}

std::string FilterToSql(const Expression& expression) {
  switch (expression.kind) {
    case Expression::Kind::kTrue:
      return "true";
    case Expression::Kind::kAnd:
      return fmt::format("({} AND {})", FilterToSql(*expression.left),
                         FilterToSql(*expression.right));
    case Expression::Kind::kOr:
      return fmt::format("({} OR {})", FilterToSql(*expression.left),
                         FilterToSql(*expression.right));
    case Expression::Kind::kIsNull:
      return QuoteIdentifier(expression.column) + " IS NULL";
    case Expression::Kind::kNotNull:
      return QuoteIdentifier(expression.column) + " IS NOT NULL";
    case Expression::Kind::kCompare:
      return fmt::format("{} {} {}", QuoteIdentifier(expression.column), OpSql(expression.op),
                         LiteralSql(expression.values[0]));
    case Expression::Kind::kIn: {
      std::string list;
      for (const Literal& value : expression.values)
        list += (list.empty() ? "" : ", ") + LiteralSql(value);
      return fmt::format("{} IN ({})", QuoteIdentifier(expression.column), list);
    }
  }
  return "true";
}

bool MightMatch(const Expression& expression, const RangeLookup& range_of) {
  switch (expression.kind) {
    case Expression::Kind::kTrue:
      return true;
    case Expression::Kind::kAnd:
      return MightMatch(*expression.left, range_of) && MightMatch(*expression.right, range_of);
    case Expression::Kind::kOr:
      return MightMatch(*expression.left, range_of) || MightMatch(*expression.right, range_of);
    default:
      break;
  }
  const std::optional<ColumnRange> range = range_of(expression.field_id);
  if (!range) return true;
  switch (expression.kind) {
    case Expression::Kind::kIsNull:
      return range->may_have_null;
    case Expression::Kind::kNotNull:
      return range->may_have_value;
    default:
      break;
  }
  if (!range->may_have_value) return false;  // only NULLs: no comparison is true
  const auto& lower = range->lower;
  const auto& upper = range->upper;
  auto in_range = [&](const Literal& value) {
    return !(lower && Less(value, *lower)) && !(upper && Less(*upper, value));
  };
  if (expression.kind == Expression::Kind::kIn) {
    for (const Literal& value : expression.values) {
      if (in_range(value)) return true;
    }
    return false;
  }
  const Literal& value = expression.values[0];
  switch (expression.op) {
    case CompareOp::kEq:
      return in_range(value);
    case CompareOp::kNotEq:
      return !(lower && upper && *lower == value && *upper == value);
    case CompareOp::kLt:
      return !lower || Less(*lower, value);
    case CompareOp::kLtEq:
      return !lower || !Less(value, *lower);
    case CompareOp::kGt:
      return !upper || Less(value, *upper);
    case CompareOp::kGtEq:
      return !upper || !Less(*upper, value);
  }
  return true;
}

}  // namespace meshwork::iceberg
