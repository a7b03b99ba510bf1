#include "query/firewall.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>
#include <span>

#include "common/text.h"
#include "iceberg/json_reader.h"
#include "iceberg/sql_text.h"

namespace meshwork::query {
namespace {

using iceberg::json::StringOr;
using nlohmann::json;

constexpr size_t kMaxQueryBytes = size_t{1} << 20;
// Brackets nested deeper than this are no analyst's query; DuckDB's parser and our walk of its
// tree recurse, so the limit is checked on the text, before either runs.
constexpr int kMaxNesting = 200;

// Table functions a query may use in FROM: they compute rows, they read nothing.
constexpr std::array kAllowedTableFunctions = {"range", "generate_series", "unnest"};

// Scalar functions that reach outside the query: files, the environment, the engine's state and
// settings, other databases. Prefixes cover families (read_csv, read_json_auto, ...).
// json_serialize_plan binds its argument (so read_csv in it would sniff the file); write_log
// writes to the engine's log; getvariable reads the engine's session variables. mesh_ covers
// meshwork's own (mesh_decrypt would open ciphertext a raw reader copied out of the files).
// clang-format off
constexpr std::array kDeniedFunctionPrefixes = {
    "read_", "parquet_", "iceberg_", "delta_", "sniff_", "glob", "sqlite_", "postgres_", "mysql_",
    "http", "s3_", "attach", "detach", "export_", "import_", "copy_", "install_", "load_",
    "getenv", "current_setting", "set_config", "getvariable", "which_secret", "duckdb_", "pragma_",
    "query", "json_execute", "json_serialize_plan", "write_log", "add_parquet_key", "icu_",
    "enable_", "disable_", "checkpoint", "force_checkpoint", "mesh_"};
// clang-format on

// Schemas a function may be qualified with. DuckDB's parser itself writes `main.` in front of
// the functions behind syntax ([1, 2] is main.list_value, EXTRACT is main.date_part, TRIM(BOTH
// ...) is main.trim), and psql's catalog queries call pg_catalog.format_type and friends; the
// deny list applies to the unqualified name either way.
constexpr std::array kFunctionSchemas = {"main", "pg_catalog"};

// Schemas of the metadata tables (DuckDB's and the mesh's own); their tables are served from a
// metadata database, where an unknown name would be tried as a file (`information_schema.csv`
// is read as the file "information_schema.csv"), so file extensions are refused as their names.
constexpr std::array kMetadataSchemas = {"pg_catalog", "information_schema", "catalog"};
// clang-format off
constexpr std::array kFileExtensions = {
    "csv", "tsv", "parquet", "json", "jsonl", "ndjson", "txt", "text", "gz", "zst",
    "xlsx", "avro", "arrow", "db", "duckdb", "sqlite"};
// clang-format on

// Syntax tree nodes a read-only query over the mesh may not contain. DESCRIBE, SHOW and
// SUMMARIZE inside a query describe or read whatever they name (SHOW TABLES lists the engine's
// catalog, not the mesh's); the bound forms are never produced by the parser. PIVOT and UNPIVOT
// (type PIVOT) are fine: their source is walked like any FROM.
constexpr std::array kRefusedTableRefs = {"SHOW_REF", "COLUMN_DATA", "DELIM_GET",
                                          "BOUND_TABLE_REF"};

std::string Upper(std::string word) {
  for (char& c : word)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return word;
}

template <typename Container>
bool Contains(const Container& container, std::string_view value) {
  return std::find(container.begin(), container.end(), value) != container.end();
}

SourceLocation LocationOf(std::string_view sql, int64_t offset) {
  SourceLocation where{"query", 1, 1};
  if (offset < 0 || static_cast<size_t>(offset) > sql.size()) return where;
  for (int64_t i = 0; i < offset; ++i) {
    if (sql[i] == '\n') {
      ++where.line, where.column = 1;
    } else if ((static_cast<unsigned char>(sql[i]) & 0xC0) != 0x80) {
      ++where.column;  // columns count characters, not the continuation bytes of UTF-8
    }
  }
  return where;
}

template <typename... Args>
Status RefuseAt(std::string_view sql, int64_t position, fmt::format_string<Args...> format,
                Args&&... args) {
  Status status = Status::InvalidArgument(format, std::forward<Args>(args)...);
  if (position >= 0) status = std::move(status).WithLocation(LocationOf(sql, position));
  return status;
}

int64_t Position(const json& node) {
  if (!node.contains("query_location") || !node["query_location"].is_number_unsigned()) return -1;
  const uint64_t value = node["query_location"].get<uint64_t>();
  return value > (uint64_t{1} << 40) ? -1 : static_cast<int64_t>(value);
}

// Names of the mesh's catalog: the characters the catalog allows (catalog.cc), so they never
// spell a path or a file name.
bool IsCatalogName(std::string_view name) {
  return !name.empty() && name.size() <= 255 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

// What the SQL text itself must be, before anything parses it: bounded, valid UTF-8, no control
// characters (a NUL would cut the text short for DuckDB's C API, but not for us).
Status CheckText(std::string_view sql) {
  if (sql.size() > kMaxQueryBytes) {
    return Status::InvalidArgument("the query is {} bytes; at most {} are accepted", sql.size(),
                                   kMaxQueryBytes)
        .WithHint("large inputs belong in a data product, not in the SQL text");
  }
  for (size_t i = 0; i < sql.size();) {
    const auto c = static_cast<unsigned char>(sql[i]);
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') {
        return RefuseAt(sql, static_cast<int64_t>(i),
                        "the query contains the control character 0x{:02x}; SQL text is "
                        "printable characters, tabs and line breaks",
                        c);
      }
      ++i;
      continue;
    }
    // Lengths and ranges of RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF.
    size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      if (c == 0xE0) low = 0xA0;
      if (c == 0xED) high = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      if (c == 0xF0) low = 0x90;
      if (c == 0xF4) high = 0x8F;
    }
    bool valid = length > 0 && i + length <= sql.size();
    for (size_t k = 1; valid && k < length; ++k) {
      const auto next = static_cast<unsigned char>(sql[i + k]);
      valid = k == 1 ? (next >= low && next <= high) : (next >= 0x80 && next <= 0xBF);
    }
    if (!valid) {
      return RefuseAt(sql, static_cast<int64_t>(i),
                      "the query is not valid UTF-8 (byte 0x{:02x} at offset {})", c, i)
          .WithHint("send the SQL text encoded as UTF-8");
    }
    i += length;
  }
  return Status::OK();
}

// ---- A small SQL tokenizer: enough to find statement boundaries, the leading keyword and the
// ---- nesting depth, and to read the session statements DuckDB cannot serialize. It knows
// ---- PostgreSQL's (and DuckDB's) lexical forms, so a ';' or keyword inside a string, a quoted
// ---- name or a comment is never taken for one outside.

enum class TokenKind { kWord, kQuotedName, kString, kNumber, kParameter, kSymbol };

struct Token {
  TokenKind kind;
  std::string text;  // words as written; quoted names and strings decoded
  size_t begin = 0;  // byte offsets in the SQL
  size_t end = 0;
  bool escape_string = false;  // E'...': backslash escapes, never accepted as a SET value

  bool Is(std::string_view word) const {
    return kind == TokenKind::kWord && text::ToLower(text) == word;
  }
  bool IsSymbol(char c) const {
    return kind == TokenKind::kSymbol && text.size() == 1 && text[0] == c;
  }
};

bool IsWordStart(unsigned char c) {
  return std::isalpha(c) || c == '_' || c >= 0x80;
}
bool IsWordPart(unsigned char c) {
  return std::isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

Result<std::vector<Token>> Tokenize(std::string_view sql) {
  std::vector<Token> tokens;
  int depth = 0;
  size_t i = 0;
  const auto at = [&](size_t k) -> unsigned char {
    return k < sql.size() ? static_cast<unsigned char>(sql[k]) : 0;
  };
  while (i < sql.size()) {
    const unsigned char c = at(i);
    const size_t begin = i;
    if (std::isspace(c)) {
      ++i;
    } else if (c == '-' && at(i + 1) == '-') {
      while (i < sql.size() && sql[i] != '\n')
        ++i;
    } else if (c == '/' && at(i + 1) == '*') {
      // Block comments nest, as in PostgreSQL and DuckDB.
      int open = 0;
      while (i < sql.size()) {
        if (at(i) == '/' && at(i + 1) == '*') {
          ++open, i += 2;
        } else if (at(i) == '*' && at(i + 1) == '/') {
          i += 2;
          if (--open == 0) break;
        } else {
          ++i;
        }
      }
      if (open != 0) {
        return RefuseAt(sql, static_cast<int64_t>(begin), "this /* comment is never closed")
            .WithHint("close it with */");
      }
    } else if ((c == 'u' || c == 'U') && at(i + 1) == '&' &&
               (at(i + 2) == '\'' || at(i + 2) == '"')) {
      // Names and strings spelt with escapes hide what they say from every reader but the
      // parser's last stage; DuckDB does not implement them either.
      return RefuseAt(sql, static_cast<int64_t>(begin),
                      "unicode escapes (U&'...' and U&\"...\") are not accepted")
          .WithHint("write the characters themselves; the query is UTF-8");
    } else if (c == '\'' || ((c == 'e' || c == 'E') && at(i + 1) == '\'')) {
      const bool escapes = c != '\'';
      i += escapes ? 2 : 1;
      std::string value;
      bool closed = false;
      while (i < sql.size()) {
        if (escapes && at(i) == '\\' && i + 1 < sql.size()) {
          value += sql[i + 1];
          i += 2;
        } else if (at(i) == '\'') {
          if (at(i + 1) == '\'') {
            value += '\'';
            i += 2;
          } else {
            ++i, closed = true;
            break;
          }
        } else {
          value += sql[i++];
        }
      }
      if (!closed) {
        return RefuseAt(sql, static_cast<int64_t>(begin), "this string is never closed")
            .WithHint("end it with ' (write '' for a quote inside it)");
      }
      tokens.push_back({TokenKind::kString, std::move(value), begin, i, escapes});
    } else if (c == '"') {
      ++i;
      std::string value;
      bool closed = false;
      while (i < sql.size()) {
        if (at(i) == '"') {
          if (at(i + 1) == '"') {
            value += '"';
            i += 2;
          } else {
            ++i, closed = true;
            break;
          }
        } else {
          value += sql[i++];
        }
      }
      if (!closed) {
        return RefuseAt(sql, static_cast<int64_t>(begin), "this quoted name is never closed")
            .WithHint("end it with \" (write \"\" for a quote inside it)");
      }
      tokens.push_back({TokenKind::kQuotedName, std::move(value), begin, i});
    } else if (c == '$' && std::isdigit(at(i + 1))) {
      ++i;
      while (std::isdigit(at(i)))
        ++i;
      tokens.push_back(
          {TokenKind::kParameter, std::string(sql.substr(begin, i - begin)), begin, i});
    } else if (c == '$' && (at(i + 1) == '$' || IsWordStart(at(i + 1)))) {
      // $tag$ ... $tag$ is a string; anything else starting with '$' is a symbol.
      size_t j = i + 1;
      while (j < sql.size() && at(j) != '$' && (std::isalnum(at(j)) || at(j) == '_'))
        ++j;
      if (at(j) != '$') {
        tokens.push_back({TokenKind::kSymbol, "$", begin, ++i});
        continue;
      }
      const std::string_view tag = sql.substr(i, j + 1 - i);
      const size_t close = sql.find(tag, j + 1);
      if (close == std::string_view::npos) {
        return RefuseAt(sql, static_cast<int64_t>(begin), "this {} string is never closed", tag)
            .WithHint(fmt::format("end it with {}", tag));
      }
      tokens.push_back({TokenKind::kString, std::string(sql.substr(j + 1, close - j - 1)), begin,
                        close + tag.size()});
      i = close + tag.size();
    } else if (std::isdigit(c) || (c == '.' && std::isdigit(at(i + 1)))) {
      ++i;
      while (i < sql.size()) {
        if ((at(i) == 'e' || at(i) == 'E') && (at(i + 1) == '+' || at(i + 1) == '-')) {
          i += 2;
        } else if (std::isalnum(at(i)) || at(i) == '_' || at(i) == '.') {
          ++i;
        } else {
          break;
        }
      }
      tokens.push_back({TokenKind::kNumber, std::string(sql.substr(begin, i - begin)), begin, i});
    } else if (IsWordStart(c)) {
      while (i < sql.size() && IsWordPart(at(i)))
        ++i;
      tokens.push_back({TokenKind::kWord, std::string(sql.substr(begin, i - begin)), begin, i});
    } else {
      if (c == '(' || c == '[' || c == '{') {
        if (++depth > kMaxNesting) {
          return RefuseAt(sql, static_cast<int64_t>(begin),
                          "the query nests brackets deeper than {} levels", kMaxNesting)
              .WithHint("flatten it with WITH clauses");
        }
      } else if (c == ')' || c == ']' || c == '}') {
        --depth;
      }
      tokens.push_back({TokenKind::kSymbol, std::string(1, static_cast<char>(c)), begin, ++i});
    }
  }
  return tokens;
}

// ---- Session statements.

enum class ValueRule {
  kNameList,       // search_path
  kTimeZone,       // timezone
  kText,           // application_name
  kFloatDigits,    // extra_float_digits
  kEncoding,       // client_encoding
  kDateStyle,      // datestyle
  kIntervalStyle,  // intervalstyle
  kDuration,       // statement_timeout
  kMessageLevel,   // client_min_messages
  kOn,             // standard_conforming_strings
  kByteaOutput,    // bytea_output
};

struct SessionOption {
  std::string_view name;
  ValueRule rule;
};

// What PostgreSQL drivers (pgjdbc, node pg, psql, Npgsql) set on connect, and nothing that
// touches files, memory, threads, extensions or the lock-down itself. The allowed values are the
// ones the front ends serve: a session asking for another output style must hear no, not get
// text it cannot read.
constexpr std::array kSessionOptions = {
    SessionOption{"search_path", ValueRule::kNameList},
    SessionOption{"timezone", ValueRule::kTimeZone},
    SessionOption{"application_name", ValueRule::kText},
    SessionOption{"extra_float_digits", ValueRule::kFloatDigits},
    SessionOption{"client_encoding", ValueRule::kEncoding},
    SessionOption{"datestyle", ValueRule::kDateStyle},
    SessionOption{"intervalstyle", ValueRule::kIntervalStyle},
    SessionOption{"statement_timeout", ValueRule::kDuration},
    SessionOption{"client_min_messages", ValueRule::kMessageLevel},
    SessionOption{"standard_conforming_strings", ValueRule::kOn},
    SessionOption{"bytea_output", ValueRule::kByteaOutput},
};

// Read-only server parameters SHOW may report besides the session options (what drivers ask).
// clang-format off
constexpr std::array kShowOnlyOptions = {
    "server_version", "server_version_num", "server_encoding", "integer_datetimes",
    "max_identifier_length", "transaction_isolation", "transaction_read_only",
    "default_transaction_read_only", "is_superuser", "lc_collate", "lc_ctype"};
// clang-format on

const SessionOption* FindOption(std::string_view name) {
  for (const SessionOption& option : kSessionOptions)
    if (option.name == name) return &option;
  return nullptr;
}

std::string OptionList() {
  std::string list;
  for (const SessionOption& option : kSessionOptions)
    list += (list.empty() ? "" : ", ") + std::string(option.name);
  return list;
}

class SessionParser {
 public:
  SessionParser(std::string_view sql, std::span<const Token> tokens, CheckedQuery& out)
      : sql_(sql), tokens_(tokens), out_(out) {}

  Status Set() {
    out_.kind = StatementKind::kSet;
    next_ = 1;
    if (Peek().Is("global")) {
      return Refuse(Peek(),
                    "SET GLOBAL is refused: server-wide settings are not a session's to change");
    }
    if (Peek().Is("variable")) {
      return Refuse(Peek(), "SET VARIABLE is refused: sessions keep no engine variables");
    }
    // SESSION and LOCAL scope the change (to the session or the transaction); both are one
    // session's own. `SET local = ...` would be an option named local: refused below.
    if ((Peek().Is("session") || Peek().Is("local")) && !After(1).IsSymbol('=') &&
        !After(1).Is("to")) {
      ++next_;
    }
    if (Peek().Is("time") && After(1).Is("zone")) {
      next_ += 2;
      out_.setting = "timezone";
      return TimeZoneValue();
    }
    MW_ASSIGN_OR_RETURN(out_.setting, OptionName(/*for_set=*/true));
    if (Peek().IsSymbol('=') || Peek().Is("to")) {
      ++next_;
    } else {
      return Refuse(Peek(), "SET {} needs '=' or TO before its value", out_.setting);
    }
    return Value(*FindOption(out_.setting));
  }

  Status Reset() {
    out_.kind = StatementKind::kReset;
    next_ = 1;
    if (Peek().Is("all") && At(next_ + 1) == nullptr) {
      ++next_;
      out_.setting = "all";
      return Status::OK();
    }
    if (Peek().Is("time") && After(1).Is("zone")) {
      next_ += 2;
      out_.setting = "timezone";
      return End();
    }
    MW_ASSIGN_OR_RETURN(out_.setting, OptionName(/*for_set=*/true));
    return End();
  }

  Status Show() {
    out_.kind = StatementKind::kShow;
    next_ = 1;
    const Token& first = Peek();
    if (first.Is("tables") || first.Is("databases") || first.Is("schemas") ||
        (first.Is("all") && After(1).Is("tables"))) {
      return Refuse(first, "SHOW {} is not accepted", Upper(first.text))
          .WithHint(
              "list what you can read with SELECT table_schema, table_name FROM "
              "information_schema.tables (or mesh.catalog.ports)");
    }
    if (first.Is("all") && At(next_ + 1) == nullptr) {
      ++next_;
      out_.setting = "all";
      return Status::OK();
    }
    if (first.Is("time") && After(1).Is("zone")) {
      next_ += 2;
      out_.setting = "timezone";
      return End();
    }
    if (first.Is("transaction") && After(1).Is("isolation") && After(2).Is("level")) {
      next_ += 3;
      out_.setting = "transaction_isolation";
      return End();
    }
    if (After(1).IsSymbol('.')) {
      return Refuse(first,
                    "SHOW takes a session option; to see a table's columns write DESCRIBE "
                    "domain.port");
    }
    MW_ASSIGN_OR_RETURN(out_.setting, OptionName(/*for_set=*/false));
    return End();
  }

  Status Describe() {
    out_.kind = StatementKind::kDescribe;
    next_ = 1;
    const Token& first = Peek();
    if (first.Is("select") || first.Is("with") || first.Is("values") || first.Is("from") ||
        first.IsSymbol('(')) {
      return Refuse(first, "DESCRIBE takes a table name (domain.port), not a query")
          .WithHint("to see a query's columns, run it with LIMIT 0");
    }
    std::vector<const Token*> parts;
    while (true) {
      const Token& part = Peek();
      if (part.kind == TokenKind::kString) {
        return Refuse(part,
                      "DESCRIBE '{}' names a file; DESCRIBE takes a data product port "
                      "(domain.port)",
                      part.text.substr(0, 64));
      }
      if (part.kind != TokenKind::kWord && part.kind != TokenKind::kQuotedName) {
        return Refuse(part, "DESCRIBE takes a table name (domain.port), found '{}'", Shown(part));
      }
      if (!IsCatalogName(part.text)) {
        return Refuse(part,
                      "'{}' is not a name of the mesh: names use letters, digits, '_' and '-'",
                      part.text.substr(0, 64));
      }
      parts.push_back(&part);
      ++next_;
      if (!Peek().IsSymbol('.')) break;
      ++next_;
    }
    if (parts.size() > 3) return Refuse(*parts[0], "DESCRIBE takes [mesh.]domain.port");
    if (parts.size() == 3 && text::ToLower(parts[0]->text) != "mesh") {
      return Refuse(*parts[0], "catalog '{}' is not the mesh: tables are domain.port",
                    parts[0]->text);
    }
    out_.described.table = parts.back()->text;
    if (parts.size() >= 2) out_.described.schema = parts[parts.size() - 2]->text;
    out_.described.position = static_cast<int64_t>(parts[0]->begin);
    return End();
  }

 private:
  const Token* At(size_t index) const { return index < tokens_.size() ? &tokens_[index] : nullptr; }
  // The token `offset` after the next one, or the end marker.
  const Token& After(size_t offset) const {
    const Token* token = At(next_ + offset);
    return token != nullptr ? *token : end_;
  }
  const Token& Peek() const { return After(0); }
  bool AtEnd() const { return &Peek() == &end_; }

  template <typename... Args>
  Status Refuse(const Token& token, fmt::format_string<Args...> format, Args&&... args) const {
    const size_t position =
        &token == &end_ ? (tokens_.empty() ? sql_.size() : tokens_.back().end) : token.begin;
    return RefuseAt(sql_, static_cast<int64_t>(position), format, std::forward<Args>(args)...);
  }

  Status End() const {
    if (AtEnd()) return Status::OK();
    return Refuse(Peek(), "unexpected '{}' after the statement", Shown(Peek()));
  }

  std::string Shown(const Token& token) const {
    if (&token == &end_) return "the end of the statement";
    return token.text.size() > 40 ? token.text.substr(0, 40) + "..." : token.text;
  }

  // The option's name (a word or quoted name; a dotted name is a custom option), checked against
  // the session options (for SHOW also the read-only server parameters).
  Result<std::string> OptionName(bool for_set) {
    const Token& first = Peek();
    if (first.kind != TokenKind::kWord && first.kind != TokenKind::kQuotedName) {
      return Refuse(first, "expected the name of a session option, found '{}'", Shown(first));
    }
    std::string name = text::ToLower(first.text);
    ++next_;
    while (Peek().IsSymbol('.') &&
           (After(1).kind == TokenKind::kWord || After(1).kind == TokenKind::kQuotedName)) {
      name += "." + text::ToLower(After(1).text);
      next_ += 2;
    }
    if (FindOption(name) != nullptr) return name;
    if (!for_set && Contains(kShowOnlyOptions, name)) return name;
    std::vector<std::string_view> known;
    for (const SessionOption& option : kSessionOptions)
      known.push_back(option.name);
    if (!for_set) known.insert(known.end(), kShowOnlyOptions.begin(), kShowOnlyOptions.end());
    const std::string near = text::ClosestMatch(name, known, 3);
    const std::string shown = name.substr(0, 64);
    Status refusal =
        for_set
            ? Refuse(first, "option {} is locked: a session may not set or reset it (settable: {})",
                     shown, OptionList())
            : Refuse(first,
                     "option {} is not shown to sessions (shown: {} and the server's "
                     "version, encoding and transaction state)",
                     shown, OptionList());
    return std::move(refusal).WithHint(
        near.empty() ? std::string("the engine's own settings (files, memory, threads, "
                                   "extensions) belong to the server's configuration")
                     : fmt::format("did you mean {}?", near));
  }

  struct Element {
    const Token* token;
    std::string text;
  };

  // value[, value...] up to the end of the statement.
  Result<std::vector<Element>> Elements() {
    std::vector<Element> elements;
    while (true) {
      const Token& token = Peek();
      std::string value;
      if (token.kind == TokenKind::kString) {
        if (token.escape_string) {
          return Refuse(token, "E'...' strings are not accepted as option values; write '...'");
        }
        value = token.text;
      } else if (token.kind == TokenKind::kWord || token.kind == TokenKind::kQuotedName ||
                 token.kind == TokenKind::kNumber) {
        value = token.text;
      } else if ((token.IsSymbol('-') || token.IsSymbol('+')) &&
                 After(1).kind == TokenKind::kNumber && After(1).begin == token.end) {
        value = token.text + After(1).text;
        ++next_;
      } else {
        return Refuse(token, "expected a value for {}, found '{}'", out_.setting, Shown(token));
      }
      elements.push_back({&token, std::move(value)});
      ++next_;
      if (!Peek().IsSymbol(',')) break;
      ++next_;
    }
    MW_RETURN_IF_ERROR(End());
    return elements;
  }

  static bool IsDefault(const std::vector<Element>& elements) {
    return elements.size() == 1 && elements[0].token->Is("default");
  }

  Status TimeZoneValue() {
    if (Peek().Is("interval")) {
      return Refuse(Peek(),
                    "SET TIME ZONE INTERVAL is not accepted; name the zone ('UTC', "
                    "'Europe/Berlin') or give an offset ('+02:00')");
    }
    MW_ASSIGN_OR_RETURN(auto elements, Elements());
    if (elements.size() != 1) return Refuse(*elements[1].token, "timezone takes one value");
    if (IsDefault(elements) || elements[0].token->Is("local")) {
      out_.setting_value = "default";
      return Status::OK();
    }
    const std::string& value = elements[0].text;
    const bool plain = !value.empty() && value.size() <= 64 &&
                       value.find("..") == std::string::npos &&
                       std::all_of(value.begin(), value.end(), [](char c) {
                         return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                                c == '+' || c == '-' || c == '/' || c == ':' || c == '.';
                       });
    if (!plain) {
      return Refuse(*elements[0].token,
                    "'{}' is not a time zone: write a zone name ('UTC', 'Europe/Berlin') or an "
                    "offset ('+02:00')",
                    value.substr(0, 64));
    }
    out_.setting_value = value;
    return Status::OK();
  }

  Status Value(const SessionOption& option) {
    if (option.rule == ValueRule::kTimeZone) return TimeZoneValue();
    MW_ASSIGN_OR_RETURN(auto elements, Elements());
    if (IsDefault(elements)) {
      out_.setting_value = "default";
      return Status::OK();
    }
    if (option.rule != ValueRule::kNameList && option.rule != ValueRule::kDateStyle &&
        elements.size() != 1) {
      return Refuse(*elements[1].token, "{} takes one value", out_.setting);
    }
    const auto lower = [](std::string text) { return text::ToLower(std::move(text)); };
    const Token& first = *elements[0].token;
    const std::string value = elements[0].text;
    const std::string shown = value.substr(0, 64);
    switch (option.rule) {
      case ValueRule::kNameList: {
        // A string may carry several names ('marketing, finance'); catalog names hold no comma,
        // so splitting it cannot change what a name means.
        std::string joined;
        for (const Element& element : elements) {
          const bool folded = element.token->kind == TokenKind::kWord;  // unquoted: lower case
          const bool split = element.token->kind == TokenKind::kString;
          std::string_view rest = element.text;
          if (rest.empty() && elements.size() == 1) break;  // SET search_path = '': no schemas
          while (true) {
            const size_t comma = split ? rest.find(',') : std::string_view::npos;
            std::string name(rest.substr(0, comma));
            name.erase(0, name.find_first_not_of(' '));
            name.erase(name.find_last_not_of(' ') + 1);
            if (name != "$user" && !IsCatalogName(name)) {
              return Refuse(*element.token,
                            "'{}' is not a schema name: search_path lists domains (letters, "
                            "digits, '_' and '-'), separated by commas",
                            name.substr(0, 64));
            }
            joined += (joined.empty() ? "" : ",") + (folded ? lower(name) : name);
            if (comma == std::string_view::npos) break;
            rest = rest.substr(comma + 1);
          }
        }
        out_.setting_value = std::move(joined);
        return Status::OK();
      }
      case ValueRule::kTimeZone:
        break;  // above
      case ValueRule::kText:
        if (value.size() > 64) {
          return Refuse(first, "application_name is {} bytes; at most 64 are accepted",
                        value.size());
        }
        out_.setting_value = value;
        return Status::OK();
      case ValueRule::kFloatDigits: {
        char* end = nullptr;
        const long digits = std::strtol(value.c_str(), &end, 10);
        if (value.empty() || *end != '\0' || value.size() > 4 || digits < -15 || digits > 3) {
          return Refuse(first, "extra_float_digits is a whole number from -15 to 3, not '{}'",
                        shown);
        }
        out_.setting_value = value;
        return Status::OK();
      }
      case ValueRule::kEncoding: {
        const std::string spelled = lower(value);
        if (spelled != "utf8" && spelled != "utf-8" && spelled != "unicode") {
          return Refuse(first, "client_encoding '{}' is not served: meshwork speaks UTF8 only",
                        shown);
        }
        out_.setting_value = "UTF8";
        return Status::OK();
      }
      case ValueRule::kDateStyle: {
        // Output style ISO only (what the front ends write); any field order, which ISO output
        // does not depend on.
        static constexpr std::array kAccepted = {"iso",      "mdy",     "dmy",         "ymd", "us",
                                                 "european", "noneuro", "noneuropean", "euro"};
        std::string joined;
        for (const Element& element : elements) {
          std::string word;
          for (const char c : lower(element.text) + ",") {
            if (c != ',' && c != ' ') {
              word += c;
              continue;
            }
            if (!word.empty() && !Contains(kAccepted, word)) {
              return Refuse(*element.token,
                            "datestyle '{}' is not served: meshwork writes ISO dates (write "
                            "'ISO, MDY')",
                            element.text.substr(0, 64));
            }
            word.clear();
          }
          joined += (joined.empty() ? "" : ",") + element.text;
        }
        out_.setting_value = std::move(joined);
        return Status::OK();
      }
      case ValueRule::kIntervalStyle:
        if (lower(value) != "postgres") {
          return Refuse(first,
                        "intervalstyle '{}' is not served: meshwork writes intervals in the "
                        "postgres style",
                        shown);
        }
        out_.setting_value = "postgres";
        return Status::OK();
      case ValueRule::kDuration: {
        // Milliseconds, or a whole number with one of PostgreSQL's time units.
        size_t digits = 0;
        while (digits < value.size() && std::isdigit(static_cast<unsigned char>(value[digits])))
          ++digits;
        std::string unit = lower(value.substr(digits));
        unit.erase(0, unit.find_first_not_of(' '));
        static constexpr std::array kUnits = {"", "us", "ms", "s", "min", "h", "d"};
        if (digits == 0 || digits > 10 || !Contains(kUnits, unit)) {
          return Refuse(first,
                        "statement_timeout is a duration (milliseconds, or '30s', '5min'), not "
                        "'{}'",
                        shown);
        }
        out_.setting_value = value;
        return Status::OK();
      }
      case ValueRule::kMessageLevel: {
        static constexpr std::array kLevels = {"debug5", "debug4", "debug3", "debug2",  "debug1",
                                               "debug",  "log",    "notice", "warning", "error"};
        if (!Contains(kLevels, lower(value))) {
          return Refuse(first,
                        "client_min_messages is one of debug5..debug1, log, notice, warning, "
                        "error; not '{}'",
                        shown);
        }
        out_.setting_value = lower(value);
        return Status::OK();
      }
      case ValueRule::kOn: {
        static constexpr std::array kOn = {"on", "true", "yes", "1"};
        if (!Contains(kOn, lower(value))) {
          return Refuse(first,
                        "standard_conforming_strings can only be on: backslashes in '...' are "
                        "literal characters here");
        }
        out_.setting_value = "on";
        return Status::OK();
      }
      case ValueRule::kByteaOutput:
        if (lower(value) != "hex") {
          return Refuse(first, "bytea_output '{}' is not served: meshwork writes bytea as hex",
                        shown);
        }
        out_.setting_value = "hex";
        return Status::OK();
    }
    return Status::Internal("unhandled session option {}", option.name);
  }

  std::string_view sql_;
  std::span<const Token> tokens_;
  CheckedQuery& out_;
  size_t next_ = 0;
  const Token end_{TokenKind::kSymbol, "", 0, 0};
};

// ---- The walk of DuckDB's syntax tree.

class Checker {
 public:
  Checker(std::string_view sql, CheckedQuery& out) : sql_(sql), out_(out) {}

  Status Walk(const json& value, int depth) {
    if (depth > 3000) return Refuse(-1, "the query is nested too deeply");
    if (value.is_array()) {
      for (const auto& item : value)
        MW_RETURN_IF_ERROR(Walk(item, depth + 1));
      return Status::OK();
    }
    if (!value.is_object()) return Status::OK();
    const std::string type = StringOr(value, "type", "");
    const std::string kind = StringOr(value, "class", "");
    if (kind.empty() && Contains(kRefusedTableRefs, type)) {
      if (type == "SHOW_REF") {
        return Refuse(Position(value),
                      "DESCRIBE, SHOW and SUMMARIZE are not accepted inside a query")
            .WithHint("DESCRIBE domain.port on its own shows a port's columns");
      }
      return Refuse(Position(value), "{} is not accepted in a query", type);
    }
    if (type == "BASE_TABLE") {
      MW_RETURN_IF_ERROR(Table(value));
    } else if (type == "TABLE_FUNCTION") {
      const json& function = value.value("function", json::object());
      const std::string name = text::ToLower(StringOr(function, "function_name", ""));
      const int64_t position = Position(value) >= 0 ? Position(value) : Position(function);
      // pg_catalog.generate_series(...) is PostgreSQL's spelling of the same function.
      const std::string schema = text::ToLower(StringOr(function, "schema", ""));
      if ((!schema.empty() && schema != "pg_catalog") ||
          !StringOr(function, "catalog", "").empty()) {
        return Refuse(position,
                      "table function {}.{}() names a schema; call range, generate_series and "
                      "unnest by name",
                      StringOr(function, "schema", ""), name);
      }
      if (!Contains(kAllowedTableFunctions, name)) {
        return Refuse(position,
                      "table function {}() is not allowed: a query reads the mesh's data "
                      "products by name, never files or other sources",
                      name)
            .WithHint(
                "FROM domain.port reads a data product; range, generate_series and unnest "
                "compute rows");
      }
    } else if (kind == "FUNCTION" || kind == "AGGREGATE" || kind == "WINDOW") {
      MW_RETURN_IF_ERROR(Function(value));
    }
    // CTE names shadow tables only inside the node that defines them (and in their own bodies,
    // for WITH RECURSIVE): a name of the same spelling outside is a table again.
    const size_t scope = ctes_.size();
    if (value.contains("cte_map") && value["cte_map"].is_object() &&
        value["cte_map"].contains("map") && value["cte_map"]["map"].is_array()) {
      for (const auto& entry : value["cte_map"]["map"])
        ctes_.push_back(text::ToLower(StringOr(entry, "key", "")));
    }
    for (const auto& [key, child] : value.items()) {
      if (child.is_structured()) MW_RETURN_IF_ERROR(Walk(child, depth + 1));
    }
    ctes_.resize(scope);
    return Status::OK();
  }

 private:
  template <typename... Args>
  Status Refuse(int64_t position, fmt::format_string<Args...> format, Args&&... args) {
    return RefuseAt(sql_, position, format, std::forward<Args>(args)...);
  }

  Status Function(const json& node) {
    const std::string name = text::ToLower(StringOr(node, "function_name", ""));
    const std::string schema = text::ToLower(StringOr(node, "schema", ""));
    const std::string catalog = StringOr(node, "catalog", "");
    if (!catalog.empty()) {
      return Refuse(Position(node), "function {}.{}.{}() names a catalog; call functions by name",
                    catalog, schema, name);
    }
    if (!schema.empty() && !Contains(kFunctionSchemas, schema)) {
      return Refuse(Position(node),
                    "function {}.{}() names a schema; call functions by name (or as "
                    "pg_catalog.name)",
                    schema, name);
    }
    for (const std::string_view prefix : kDeniedFunctionPrefixes) {
      if (name.starts_with(prefix)) {
        return Refuse(Position(node),
                      "function {}() is not allowed: it reaches outside the query (files, the "
                      "environment or the engine's settings)",
                      name);
      }
    }
    return Status::OK();
  }

  Status Table(const json& node) {
    TableReference table;
    const std::string catalog = StringOr(node, "catalog_name", "");
    table.schema = StringOr(node, "schema_name", "");
    table.table = StringOr(node, "table_name", "");
    table.alias = StringOr(node, "alias", "");
    table.position = Position(node);
    // DuckDB reads an unknown table name as a file when it looks like one, joining the parts
    // ("x.csv", "/etc/passwd", even schema "x" and table "csv"): only catalog names pass.
    const std::array<const std::string*, 3> parts = {&catalog, &table.schema, &table.table};
    for (const std::string* part : parts) {
      if (part != &table.table && part->empty()) continue;  // a table's name is never empty
      if (!IsCatalogName(*part)) {
        std::string shown;
        for (const char c : part->substr(0, 64))
          shown += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
        return Refuse(table.position,
                      "'{}' is not a table of the mesh: names use letters, digits, '_' and '-'; "
                      "files are never read by name",
                      shown)
            .WithHint("tables are domain.port; data files are published as data products");
      }
    }
    if (!catalog.empty() && text::ToLower(catalog) != "mesh") {
      // mesh.domain.port is the mesh's own catalog; nothing else is reachable.
      return Refuse(table.position, "catalog '{}' is not the mesh: tables are domain.port",
                    text::ToLower(catalog));
    }
    if (Contains(kMetadataSchemas, text::ToLower(table.schema)) &&
        Contains(kFileExtensions, text::ToLower(table.table))) {
      return Refuse(table.position, "{}.{} names a file, not a metadata table", table.schema,
                    table.table);
    }
    if (table.schema.empty() && catalog.empty() && Contains(ctes_, text::ToLower(table.table))) {
      return Status::OK();  // a CTE of an enclosing WITH
    }
    if (node.contains("at_clause") && node["at_clause"].is_object()) {
      const json& at = node["at_clause"];
      table.at_unit = StringOr(at, "unit", "");
      const json& expression = at.value("expr", json::object());
      if (StringOr(expression, "class", "") != "CONSTANT" || !expression.contains("value")) {
        return Refuse(table.position, "AT ({} => ...) takes a literal", table.at_unit);
      }
      const json& literal = expression["value"];
      table.at_value = literal.contains("value")
                           ? (literal["value"].is_string() ? literal["value"].get<std::string>()
                                                           : literal["value"].dump())
                           : "";
    }
    out_.tables.push_back(std::move(table));
    return Status::OK();
  }

  std::string_view sql_;
  CheckedQuery& out_;
  std::vector<std::string> ctes_;
};

// Why a statement kind is refused, as a hint the user can act on.
std::string HintFor(const std::string& keyword) {
  static const std::set<std::string> kFiles = {"copy", "export", "import"};
  static const std::set<std::string> kCatalogs = {"attach", "detach", "use"};
  static const std::set<std::string> kEngine = {"pragma",     "install", "load", "call",
                                                "checkpoint", "vacuum",  "force"};
  static const std::set<std::string> kPrepared = {"prepare", "execute", "deallocate"};
  static const std::set<std::string> kTransactions = {"begin",    "start", "commit",
                                                      "rollback", "end",   "abort"};
  if (kFiles.contains(keyword)) {
    return "queries never read or write files; publish data as a data product";
  }
  if (kCatalogs.contains(keyword)) return "the mesh is the only catalog: tables are domain.port";
  if (kEngine.contains(keyword)) return "the engine is configured by the server, not by SQL";
  if (kPrepared.contains(keyword)) {
    return "use the PostgreSQL extended protocol (Parse/Bind/Execute) or the HTTP API's "
           "\"parameters\"";
  }
  if (kTransactions.contains(keyword)) return "every query runs on its own consistent snapshot";
  if (keyword == "summarize") {
    return "aggregate with SELECT min(x), max(x), count(*) ... FROM domain.port";
  }
  if (keyword == "pivot" || keyword == "unpivot") {
    return "pivot with conditional aggregates: sum(x) FILTER (WHERE k = 'a')";
  }
  return "data products are changed by deploying them, not by SQL";
}

// Statements of SQL (DuckDB's and PostgreSQL's dialects): refused by name. Any other first word
// is a typo.
// clang-format off
constexpr std::array kStatementKeywords = {
    "alter", "analyze", "attach", "call", "checkpoint", "comment", "copy", "create", "delete",
    "detach", "drop", "export", "force", "grant", "import", "insert", "install", "load", "merge",
    "pragma", "revoke", "summarize", "table", "truncate", "update", "upsert",
    "use", "vacuum", "abort", "begin", "commit", "end", "rollback", "savepoint", "release",
    "start", "lock", "prepare", "execute", "deallocate", "declare", "fetch", "move", "close",
    "discard", "do", "listen", "notify", "unlisten", "refresh", "reindex", "cluster",
    "security", "replace", "describe", "desc", "show", "set", "reset", "explain"};
// clang-format on

}  // namespace

const std::vector<std::string>& SettableOptions() {
  static const std::vector<std::string> options = [] {
    std::vector<std::string> names;
    for (const SessionOption& option : kSessionOptions)
      names.emplace_back(option.name);
    return names;
  }();
  return options;
}

Result<CheckedQuery> CheckQuery(engine::Connection& connection, std::string_view text) {
  MW_RETURN_IF_ERROR(CheckText(text));
  MW_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(text));

  // One statement: the tokens up to the first ';', and nothing but ';' after it.
  const auto semicolon = std::find_if(tokens.begin(), tokens.end(),
                                      [](const Token& token) { return token.IsSymbol(';'); });
  const auto second = std::find_if(semicolon, tokens.end(),
                                   [](const Token& token) { return !token.IsSymbol(';'); });
  if (second != tokens.end()) {
    return RefuseAt(text, static_cast<int64_t>(second->begin),
                    "one statement at a time: a second statement starts here")
        .WithHint("send each statement on its own");
  }
  const std::span<const Token> statement(tokens.data(),
                                         static_cast<size_t>(semicolon - tokens.begin()));
  if (statement.empty()) {
    return Status::InvalidArgument("the query is empty").WithHint("write a SELECT");
  }

  CheckedQuery out;
  out.sql = std::string(text);
  const Token& lead = statement[0];
  const std::string keyword =
      lead.kind == TokenKind::kWord ? text::ToLower(lead.text) : std::string(lead.text);
  if (keyword == "set" || keyword == "reset" || keyword == "show" || keyword == "describe" ||
      keyword == "desc") {
    SessionParser parser(text, statement, out);
    if (keyword == "set") {
      MW_RETURN_IF_ERROR(parser.Set());
    } else if (keyword == "reset") {
      MW_RETURN_IF_ERROR(parser.Reset());
    } else if (keyword == "show") {
      MW_RETURN_IF_ERROR(parser.Show());
    } else {
      MW_RETURN_IF_ERROR(parser.Describe());
    }
    return out;
  }

  size_t query_start = 0;  // the token the query begins with
  if (keyword == "explain") {
    out.explain = true;
    out.kind = StatementKind::kExplain;
    query_start = 1;
    if (statement.size() > 1 && (statement[1].Is("analyze") || statement[1].Is("analyse"))) {
      return RefuseAt(text, static_cast<int64_t>(statement[1].begin),
                      "EXPLAIN ANALYZE is not supported; use EXPLAIN")
          .WithHint("EXPLAIN shows the snapshots, files kept and DuckDB's plan without running");
    }
    if (statement.size() > 1 && statement[1].IsSymbol('(')) {
      return RefuseAt(text, static_cast<int64_t>(statement[1].begin),
                      "EXPLAIN takes no options; write EXPLAIN SELECT ...");
    }
    // Blank the keyword out rather than cutting it off, so that every position DuckDB reports
    // is a position in what the user wrote.
    std::fill(out.sql.begin() + static_cast<std::ptrdiff_t>(lead.begin),
              out.sql.begin() + static_cast<std::ptrdiff_t>(lead.end), ' ');
  }
  const Token* first = query_start < statement.size() ? &statement[query_start] : nullptr;
  const bool is_query =
      first != nullptr &&
      (first->Is("select") || first->Is("with") || first->Is("values") || first->Is("from") ||
       first->Is("pivot") || first->Is("unpivot") || first->IsSymbol('('));
  if (!is_query) {
    if (first == nullptr) {
      return RefuseAt(text, static_cast<int64_t>(lead.end), "EXPLAIN needs a query after it");
    }
    const std::string refused =
        first->kind == TokenKind::kWord ? text::ToLower(first->text) : first->text;
    if (first->kind != TokenKind::kWord || !Contains(kStatementKeywords, refused)) {
      const std::string near = text::ClosestMatch(
          refused, {"select", "with", "values", "from", "explain", "describe", "show", "set"}, 3);
      return RefuseAt(text, static_cast<int64_t>(first->begin),
                      "syntax error at '{}': a query starts with SELECT, WITH, VALUES or FROM",
                      first->text.substr(0, 40))
          .WithHint(near.empty() ? std::string("check the start of the statement")
                                 : fmt::format("did you mean {}?", Upper(near)));
    }
    return RefuseAt(text, static_cast<int64_t>(first->begin),
                    "'{}' statements are refused: only one read-only query is accepted "
                    "(SELECT, WITH, VALUES, FROM, EXPLAIN, DESCRIBE, SHOW, or SET of a session "
                    "option)",
                    refused)
        .WithHint(HintFor(refused));
  }

  MW_ASSIGN_OR_RETURN(auto rows, connection.QueryText("SELECT json_serialize_sql(" +
                                                      iceberg::QuoteString(out.sql) + ")"));
  json tree = json::parse(rows.at(0).at(0), nullptr, /*allow_exceptions=*/false);
  if (!tree.is_object()) return Status::Internal("the parser answered no syntax tree");
  if (tree.value("error", false)) {
    const std::string type = StringOr(tree, "error_type", "");
    const std::string message = StringOr(tree, "error_message", "");
    if (type == "not implemented") {
      // A query that DuckDB cannot serialize holds a statement or a construct the tree cannot
      // show us (WITH ... INSERT, PIVOT): what we cannot check, we refuse.
      return RefuseAt(
                 text, static_cast<int64_t>(first->begin),
                 "only a plain read-only query is accepted: this one holds a statement or "
                 "construct that is not a query (such as INSERT after WITH, or PIVOT without an "
                 "IN list)")
          .WithHint(HintFor("pivot"));
    }
    if (message.find("expression depth") != std::string::npos) {
      // DuckDB's own advice (SET max_expression_depth) names a locked option.
      return Status::InvalidArgument(
                 "the query's expressions nest deeper than DuckDB's 1000 levels")
          .WithHint("split long chains of operators with WITH clauses or IN lists");
    }
    Status status = Status::InvalidArgument("SQL {} error: {}", type, message);
    if (tree.contains("position")) {
      const std::string position = tree["position"].is_string()
                                       ? tree["position"].get<std::string>()
                                       : tree["position"].dump();
      status = std::move(status).WithLocation(
          LocationOf(text, static_cast<int64_t>(std::strtoll(position.c_str(), nullptr, 10))));
    }
    return status;
  }
  if (!tree.contains("statements") || !tree["statements"].is_array() ||
      tree["statements"].size() != 1) {
    return Status::InvalidArgument("one statement at a time: {} were given",
                                   tree.contains("statements") ? tree["statements"].size() : 0);
  }
  Checker checker(text, out);
  MW_RETURN_IF_ERROR(checker.Walk(tree["statements"][0], 0));
  out.tree_json = tree.dump();
  return out;
}

Result<std::string> RenderQuery(engine::Connection& connection, const std::string& tree_json) {
  MW_ASSIGN_OR_RETURN(auto rows, connection.QueryText("SELECT json_deserialize_sql(" +
                                                      iceberg::QuoteString(tree_json) + ")"));
  return rows.at(0).at(0);
}

}  // namespace meshwork::query
